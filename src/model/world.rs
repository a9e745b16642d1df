//! The world: the rooms of the model side by side, and the dispatcher that routes each
//! event to the room that handles it. It also keeps the run's guards: the event limits,
//! the zero-time-loop detector, and the compaction of stale timers.
//!
//! Each room is a module with its own state struct (private fields) and the handlers of
//! its events, written as `impl World` methods in the room's file: a handler may call
//! another room's methods, but only the room's own file touches its fields.

use super::autoscale::Autoscaler;
use super::caches::Caches;
use super::calls::Calls;
use super::clients::Clients;
use super::event::Ev;
use super::faults::Faults;
use super::health::Health;
use super::network::Network;
use super::output::{RunError, RunOutput};
use super::queues::Queues;
use super::record::{Recorder, preflight};
use super::sagas::Sagas;
use super::servers::Servers;
use super::topics::Topics;
use super::workloads::Workloads;
use crate::engine::{Event, Scheduler, Words};
use crate::spec::{Nanos, Spec};

pub(super) struct World<'s> {
    pub(super) spec: &'s Spec,
    pub(super) sched: Scheduler<Ev>,
    pub(super) work: Workloads,
    pub(super) calls: Calls,
    pub(super) clients: Clients,
    pub(super) servers: Servers,
    pub(super) net: Network,
    pub(super) faults: Faults,
    pub(super) health: Health,
    pub(super) topics: Topics,
    pub(super) queues: Queues,
    pub(super) sagas: Sagas,
    pub(super) caches: Caches,
    pub(super) autoscale: Autoscaler,
    pub(super) rec: Recorder,
    /// Why the run stopped early (a limit), if it did.
    pub(super) failure: Option<RunError>,
    /// Broken invariants (always empty unless the model has a bug).
    pub(super) violations: Vec<String>,
    /// The simulated instant of the last event, and how many events ran at it (to tell
    /// a zero-time loop from progress).
    instant: Nanos,
    instant_events: u64,
    /// Pending events at which stale timers are next dropped from the queue.
    compact_at: usize,
}

/// Pending events below which the queue is never compacted.
const COMPACT_MIN: usize = 1 << 16;

/// Runs the scenario to its end.
pub fn run(spec: &Spec) -> Result<RunOutput, RunError> {
    run_with_progress(spec, &|_| {})
}

/// Runs the scenario, calling `progress` with the share of simulated time done (0 to 1)
/// every million events or so: for a progress bar, never for the model's own use.
pub fn run_with_progress(spec: &Spec, progress: &dyn Fn(f64)) -> Result<RunOutput, RunError> {
    preflight(spec)?;
    let mut w = World::new(spec);
    w.start();
    w.main_loop(progress);
    if let Some(e) = w.failure.take() {
        return Err(e);
    }
    Ok(w.finish())
}

/// Starts fetching the records that event `ev` will read, when the scheduler shows it
/// ahead of time (`Scheduler::pop_before_ahead`): with a million requests in flight
/// each is a cache miss, which then overlaps with handling the events before it.
#[inline(always)]
fn prefetch(servers: &Servers, calls: &Calls, ev: &Ev) {
    match *ev {
        Ev::ExecWake { exec } => servers.prefetch_exec(exec),
        Ev::CallExecWake { exec, call } => {
            servers.prefetch_exec(exec);
            calls.prefetch_call(call);
        }
        Ev::CallArrive { call } | Ev::CallResponse { call, .. } => calls.prefetch_call(call.index),
        Ev::AttemptArrive { att } | Ev::Response { att, .. } | Ev::AttemptTimeout { att } => {
            calls.prefetch_attempt(att.index)
        }
        _ => {}
    }
}

impl<'s> World<'s> {
    fn new(spec: &'s Spec) -> World<'s> {
        let mut sched = Scheduler::new();
        // Client blocks and network paths are made in this order (endpoints' call
        // sites, workloads, sagas): their random streams are named, their indices not.
        let mut clients = Clients::new(spec);
        let mut net = Network::default();
        let servers = Servers::new(spec, &mut clients, &mut net);
        for (i, wl) in spec.workloads.iter().enumerate() {
            let tsvc = spec.endpoints[wl.target as usize].service;
            let client = clients.client_for(spec, None, i as u32, tsvc, wl.policy, wl.edge);
            clients.set_workload_client(i as u32, client);
        }
        let sagas = Sagas::new(spec, &mut clients, &mut net);
        World {
            spec,
            calls: Calls::new(spec, &mut sched),
            sched,
            work: Workloads::new(spec),
            clients,
            servers,
            net,
            faults: Faults::new(spec),
            health: Health::new(spec),
            topics: Topics::new(spec),
            queues: Queues::new(spec),
            sagas,
            caches: Caches::new(spec),
            autoscale: Autoscaler::new(spec),
            rec: Recorder::new(spec),
            failure: None,
            violations: Vec::new(),
            instant: 0,
            instant_events: 0,
            compact_at: COMPACT_MIN,
        }
    }

    fn start(&mut self) {
        self.start_workloads();
        self.schedule_faults();
        self.start_autoscale();
        self.start_groups();
        self.schedule_probes();
    }

    fn main_loop(&mut self, progress: &dyn Fn(f64)) {
        let end = self.spec.duration_ns;
        // The interval and warm-up bookkeeping reads no clock and schedules nothing, so
        // it runs once the event is taken, before it is handled.
        while let Some((t, ev)) = {
            let (servers, calls) = (&self.servers, &self.calls);
            self.sched.pop_before_ahead(end, &|ev: &Ev| prefetch(servers, calls, ev))
        } {
            if self.rec.due(t) {
                self.advance_to(t);
            }
            if self.sched.processed() & 0xF_FFFF == 0 {
                progress(t as f64 / end as f64);
            }
            if !self.guard(t, ev) {
                return;
            }
            self.handle(ev);
            if self.failure.is_some() {
                return;
            }
        }
        self.advance_to(end);
    }

    /// Routes an event, as the queue kept it, to the room that handles it.
    #[inline]
    fn handle(&mut self, ev: Words) {
        match Ev::unpack(ev) {
            Ev::Arrival { wl } => self.on_arrival(wl),
            Ev::UserSend { wl, user } => self.start_root(wl, user),
            Ev::AttemptArrive { att } => self.attempt_arrive(att),
            Ev::CallArrive { call } => self.on_call_arrive(call),
            Ev::ExecWake { exec } | Ev::CallExecWake { exec, .. } => self.exec_wake(exec),
            Ev::Response { att, outcome } => self.on_response(att, outcome),
            Ev::CallResponse { call, outcome } => self.on_call_response(call, outcome),
            Ev::AttemptTimeout { att } => self.on_timeout(att),
            Ev::BulkheadExpire { att } => self.on_bulkhead_expire(att),
            Ev::Admit { att } => self.dispatch(att),
            Ev::RateLimitPass { att } => self.on_rate_limit_pass(att),
            Ev::RetryFire { call } => self.on_retry_fire(call),
            Ev::HedgeFire { call, try_no } => self.on_hedge_fire(call, try_no),
            Ev::CallDeadline { call } => self.on_deadline(call),
            Ev::FaultStart { fault } => self.fault_start(fault),
            Ev::FaultEnd { fault } => self.fault_end(fault),
            Ev::Restart { replica, epoch } => self.restart(replica, epoch),
            Ev::Probe { replica } => self.probe(replica),
            Ev::RelayTick { topic } => self.relay_tick(topic),
            Ev::ConsumerRetry { group, part, epoch } => self.consumer_retry(group, part, epoch),
            Ev::Rebalance { group } => self.rebalance(group),
            Ev::CommitTick { group, consumer, epoch } => self.commit_tick(group, consumer, epoch),
            Ev::SagaRetry { saga, epoch } => self.saga_retry(saga, epoch),
            Ev::ConsumerAnswer { group, part, epoch, outcome } => {
                self.consumer_done(group, part, epoch, outcome)
            }
            Ev::QueueAnswer { queue, consumer, slot, outcome } => {
                self.queue_answer(queue, consumer, slot, outcome)
            }
            Ev::VisibilityExpire { queue, slot, receipt } => self.visibility_expire(queue, slot, receipt),
            Ev::QueueRelayTick { queue } => self.queue_relay_tick(queue),
            Ev::HpaSync { scaler } => self.hpa_sync(scaler),
            Ev::ScaleReady { replica, tag } => self.scale_ready(replica, tag),
            Ev::DrainCheck { replica, tag } => self.drain_check(replica, tag),
        }
    }

    /// The run's guards, before event `ev` at `t` is handled: the limit on events at
    /// one instant (a zero-time loop), the compaction of stale timers, the event limit.
    /// Returns false (with `failure` set) if the run must stop.
    #[inline]
    fn guard(&mut self, t: Nanos, ev: Words) -> bool {
        if t != self.instant {
            self.instant = t;
            self.instant_events = 0;
        }
        self.instant_events += 1;
        if self.instant_events > self.spec.limits.max_events_per_instant {
            self.failure = Some(RunError::Limit(format!(
                "the run made no progress: {} events at the one instant {:.9} s, the last of them \
                 {}; a loop that takes no simulated time (zero latency and zero think time, \
                 or zero backoff against an instant failure) never ends. Give it a latency, a \
                 think time or a backoff, or raise /limits/max_events_per_instant",
                self.instant_events,
                t as f64 / 1e9,
                self.describe(Ev::unpack(ev))
            )));
            return false;
        }
        if self.sched.pending() > self.compact_at {
            self.compact_queue();
        }
        let max_events = self.spec.limits.max_events;
        if self.sched.processed() > max_events {
            // A zero-time loop that reaches the event limit before the per-instant one
            // is named as such.
            let stuck = if self.instant_events >= 100_000 {
                format!(
                    " (the last {} events all happened at this instant, the last of them {}: \
                     a loop that takes no simulated time?)",
                    self.instant_events,
                    self.describe(Ev::unpack(ev))
                )
            } else {
                String::new()
            };
            self.failure = Some(RunError::Limit(format!(
                "the run reached its event limit ({max_events} events) at {:.3} s of simulated time{stuck}; \
                 raise /limits/max_events or shorten /duration",
                self.sched.now() as f64 / 1e9
            )));
            return false;
        }
        true
    }

    /// Drops timers that can no longer act (the timeout of an attempt that was
    /// answered, the deadline of a call that ended), so that the queue's memory follows
    /// live work; then waits until the queue has doubled again (amortised O(1) per
    /// event). Dropping them changes nothing but the count of events processed.
    fn compact_queue(&mut self) {
        let (calls, queues) = (&self.calls, &self.queues);
        self.sched.compact(|ev| match *ev {
            Ev::VisibilityExpire { queue, slot, receipt } => queues.timer_live(queue, slot, receipt),
            _ => calls.timer_live(ev),
        });
        self.compact_at = (self.sched.pending() * 2).max(COMPACT_MIN);
    }

    /// An event in words, for the message of a run that stopped on it.
    fn describe(&self, ev: Ev) -> String {
        let spec = self.spec;
        let ep_name = |ep: Option<u32>| ep.map(|e| spec.endpoints[e as usize].name.as_str());
        let call_target = |call| {
            ep_name(self.calls.call_target(call)).map(|n| format!("on the call to {n}")).unwrap_or_default()
        };
        let att_target =
            |att| ep_name(self.calls.attempt_target(att)).map(|n| format!("of {n}")).unwrap_or_default();
        match ev {
            Ev::Arrival { wl } => format!("an arrival of workload `{}`", spec.workloads[wl as usize].name),
            Ev::UserSend { wl, .. } => {
                format!("a user of workload `{}` sending its next request", spec.workloads[wl as usize].name)
            }
            Ev::AttemptArrive { att } => format!("a request {} arriving", att_target(att)),
            Ev::CallArrive { call } => format!("a request {} arriving", call_target(call)),
            Ev::ExecWake { exec } | Ev::CallExecWake { exec, .. } => {
                ep_name(self.servers.exec_endpoint(exec))
                    .map(|n| format!("an execution of {n} going on"))
                    .unwrap_or_else(|| "an execution going on".into())
            }
            Ev::Response { att, .. } => format!("an answer {}", att_target(att)),
            Ev::CallResponse { call, .. } => format!("an answer {}", call_target(call)),
            Ev::AttemptTimeout { att } => format!("a timeout {}", att_target(att)),
            Ev::BulkheadExpire { att } | Ev::Admit { att } => format!("a bulkhead wait {}", att_target(att)),
            Ev::RateLimitPass { att } => format!("a rate-limit wait {}", att_target(att)),
            Ev::RetryFire { call } => format!("a retry {}", call_target(call)),
            Ev::HedgeFire { call, .. } => format!("a hedge {}", call_target(call)),
            Ev::CallDeadline { call } => format!("a deadline {}", call_target(call)),
            Ev::FaultStart { fault } | Ev::FaultEnd { fault } => format!("fault {fault} starting or ending"),
            Ev::HpaSync { .. } => "an autoscaler's sync".into(),
            Ev::Restart { replica, .. }
            | Ev::Probe { replica }
            | Ev::ScaleReady { replica, .. }
            | Ev::DrainCheck { replica, .. } => format!(
                "a restart, probe or scaling of a replica of service `{}`",
                spec.services[spec.replicas[replica as usize].service as usize].name
            ),
            Ev::RelayTick { topic } => {
                format!("the outbox relay of topic `{}`", spec.topics[topic as usize].name)
            }
            Ev::ConsumerRetry { group, .. }
            | Ev::Rebalance { group }
            | Ev::CommitTick { group, .. }
            | Ev::ConsumerAnswer { group, .. } => {
                format!("consumer group {}", self.topics.group_name(spec, group))
            }
            Ev::QueueAnswer { queue, .. }
            | Ev::VisibilityExpire { queue, .. }
            | Ev::QueueRelayTick { queue } => Queues::name(spec, queue),
            Ev::SagaRetry { saga, .. } => self
                .sagas
                .def_of(saga)
                .map(|d| format!("a retry of saga `{}`", spec.sagas[d as usize].name))
                .unwrap_or_else(|| "a saga retry".into()),
        }
    }

    /// The invariants checked at the end of every run (each room checks its own).
    pub(super) fn check_invariants(&mut self) {
        self.check_figures();
        self.servers.check(self.spec, &mut self.violations);
        self.topics.check_backlog(&mut self.violations);
        self.clients.check_bulkheads(&mut self.violations);
        self.clients.check_rate_limits(&mut self.violations);
        self.calls.check_tree(&mut self.violations);
        let servers = &self.servers;
        self.queues.check(|r| servers.is_down(r), &mut self.violations);
        let roots = self.calls.live_roots() + self.sagas.running();
        if roots != self.work.roots_in_flight() {
            self.violations.push(format!(
                "{} root calls live but {} counted in flight",
                roots,
                self.work.roots_in_flight()
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::run;
    use crate::dist::Dist;
    use crate::spec::*;

    /// M/M/c with one shared queue, built by hand (the scenario parser has its own tests).
    fn mmc_spec(c: u32, rate_per_ms: f64, mean_ms: f64, duration_s: u64) -> Spec {
        Spec {
            name: "mmc".into(),
            description: String::new(),
            variant: None,
            seed: 42,
            duration_ns: duration_s * NS_PER_S,
            warmup_ns: NS_PER_S,
            interval_ns: NS_PER_S,
            limits: Limits::default(),
            services: vec![Service {
                name: "server".into(),
                kind: ServiceKind::Service,
                replicas: 1,
                first_replica: 0,
                concurrency: c,
                queue: QueueSpec::default(),
                endpoints: vec![0],
                health_check: None,
                shed: None,
                rate_limit: None,
                retry_after_ns: None,
                adaptive: None,
                autoscale: None,
            }],
            endpoints: vec![Endpoint {
                name: "server.serve".into(),
                service: 0,
                latency: Dist::Exponential { mean: mean_ms * 1e6 },
                error_p: 0.0,
                decline_p: 0.0,
                steps: vec![],
            }],
            replicas: vec![Replica { service: 0, index: 0 }],
            policies: vec![],
            edges: vec![Edge { caller: None, target: 0, name: "client:customers->server.serve".into() }],
            network: Network::default(),
            workloads: vec![Workload {
                name: "customers".into(),
                target: 0,
                edge: 0,
                saga: None,
                arrival: Arrival::Poisson { rate_per_s: rate_per_ms * 1000.0 },
                schedule: vec![],
                policy: None,
                priority: None,
            }],
            faults: vec![],
            topics: vec![],
            sagas: vec![],
            caches: vec![],
            thresholds: vec![],
            queues: vec![],
        }
    }

    /// A smoke test of a hand-built spec: the run keeps its invariants and conserves
    /// requests. (The Erlang C check, with a tolerance from the sample, is in
    /// `tests/it/closed_forms.rs`.)
    #[test]
    fn a_hand_built_mm4_runs_and_conserves_requests() {
        let spec = mmc_spec(4, 3.2, 1.0, 20);
        let out = run(&spec).unwrap();
        assert!(out.violations.is_empty(), "{:?}", out.violations);
        let w = &out.workloads[0];
        assert!(w.offered > 50_000);
        assert_eq!(w.offered, w.outcomes.ended() + w.in_flight);
        assert_eq!(out.events, run(&spec).unwrap().events, "same spec, same events");
    }
}
