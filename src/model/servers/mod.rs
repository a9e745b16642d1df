//! The servers room: replicas, their workers and queues, and the executions on them.
//! An execution waits in its replica's queue for a worker, holds it for the
//! endpoint's own latency, then runs the endpoint's steps (`steps.rs`), still holding
//! the worker while it waits on its synchronous calls (a thread blocked on a
//! downstream call is busy: this is what makes a slow leaf fill the pools above it).
//! It answers its `Origin`: an attempt (back over the network, by the calls room) or
//! a consumer (the topics room).
//!
//! *Invariants*: no replica has more busy workers than `concurrency` nor more live
//! executions queued than `capacity` (checked as they change and at the end); the
//! executions alive are bounded by `limits.max_executions`; a queue's stale ids
//! (cancelled executions) are counted in `stale` and never outnumber the live ones
//! by much (compacted).

mod adaptive;
mod cache;
mod ratelimit;
mod shed;
mod steps;

pub(super) use shed::ReqClass;

use super::World;
use super::clients::Clients;
use super::event::{Ev, ExecId, Origin};
use super::network::Network;
use super::output::RunError;
use crate::arena::Arena;
use crate::dist::Dist;
use crate::metrics::Outcome;
use crate::rng::{Rng, rng_stream};
use crate::spec::{Cause, Discipline, EndpointId, Nanos, ReplicaId, ServiceId, Spec};
use std::collections::VecDeque;

use steps::{MStep, Site};

/// Where an execution is in its endpoint's program: its own latency first.
const STEP_OWN: u16 = u16::MAX;

pub(in crate::model) struct Exec {
    endpoint: EndpointId,
    replica: ReplicaId,
    origin: Origin,
    /// The entity (message key) of the request this execution serves.
    entity: u32,
    arrived: Nanos,
    step: u16,
    pending: u16,
    degraded: bool,
    running: bool,
    counted: bool,
    /// Its request's workload and priority (`shed.rs`).
    class: ReqClass,
    /// The adaptive concurrency filter's outstanding count when it admitted this
    /// request, itself included (0 if no filter saw it; `adaptive.rs`).
    inflight: u32,
}

struct ReplicaState {
    service: ServiceId,
    busy: u32,
    /// Executions waiting for a worker. Cancelled ones stay in place (their id is stale)
    /// until they reach the head or the queue is compacted: removing from the middle
    /// would cost the queue's length per cancellation.
    queue: VecDeque<ExecId>,
    /// Stale ids in `queue`; the live length is `queue.len() - stale`.
    stale: u32,
    /// Live executions in `queue` per priority (critical, default, sheddable): where
    /// `queue_delay` shedding's scan for the highest class waiting may stop (`shed.rs`).
    waiting: [u32; 3],
    /// Crashed (or killed by its liveness probe) and not yet restarted.
    down: bool,
    /// Counts downtimes: a restart scheduled for an earlier one does not end a later one.
    epoch: u32,
}

/// Per endpoint: its compiled program and its random streams.
struct EpState {
    latency_rng: Rng,
    outcome_rng: Rng,
    work_rng: Rng,
    route_rng: Rng,
    steps: Vec<MStep>,
    work: Vec<Dist>,
}

pub(super) struct Servers {
    replicas: Vec<ReplicaState>,
    execs: Arena<Exec>,
    eps: Vec<EpState>,
    /// Call sites of every endpoint's steps, flattened.
    sites: Vec<Site>,
    limits: ratelimit::ServerLimits,
    /// Adaptive concurrency, per replica (`adaptive.rs`).
    filters: adaptive::Filters,
}

impl Servers {
    /// Compiles every endpoint's steps; their call sites take client blocks and network
    /// paths in scenario order.
    pub(super) fn new(spec: &Spec, clients: &mut Clients, net: &mut Network) -> Servers {
        let seed = spec.seed;
        let replicas = spec
            .replicas
            .iter()
            .map(|r| ReplicaState {
                service: r.service,
                busy: 0,
                queue: VecDeque::new(),
                stale: 0,
                waiting: [0; 3],
                down: false,
                epoch: 0,
            })
            .collect();
        let mut sites = Vec::new();
        let eps = spec
            .endpoints
            .iter()
            .map(|ep| {
                let (steps, work) = steps::compile(spec, ep, &mut sites, clients, net);
                EpState {
                    latency_rng: rng_stream(seed, &format!("latency/{}", ep.name)),
                    outcome_rng: rng_stream(seed, &format!("outcome/{}", ep.name)),
                    work_rng: rng_stream(seed, &format!("work/{}", ep.name)),
                    route_rng: rng_stream(seed, &format!("route/{}", ep.name)),
                    steps,
                    work,
                }
            })
            .collect();
        Servers {
            replicas,
            execs: Arena::default(),
            eps,
            sites,
            limits: ratelimit::ServerLimits::new(spec),
            filters: adaptive::Filters::new(spec),
        }
    }

    #[inline]
    pub(super) fn is_down(&self, replica: ReplicaId) -> bool {
        self.replicas[replica as usize].down
    }

    /// Replicas of service `svc` that are up.
    pub(super) fn replicas_up(&self, spec: &Spec, svc: u32) -> usize {
        let s = &spec.services[svc as usize];
        let first = s.first_replica as usize;
        self.replicas[first..first + s.replicas as usize].iter().filter(|r| !r.down).count()
    }

    /// Whether any replica of service `svc` is up.
    pub(super) fn any_up(&self, spec: &Spec, svc: ServiceId) -> bool {
        self.replicas_up(spec, svc) > 0
    }

    /// Starts fetching execution `exec`'s slot into the cache (`Arena::prefetch`).
    #[inline(always)]
    pub(super) fn prefetch_exec(&self, exec: ExecId) {
        self.execs.prefetch(exec.index);
    }

    #[inline]
    pub(super) fn exec_alive(&self, exec: ExecId) -> bool {
        self.execs.contains(exec)
    }

    /// The endpoint an execution serves, if it is still alive (for messages).
    pub(super) fn exec_endpoint(&self, exec: ExecId) -> Option<EndpointId> {
        self.execs.get(exec).map(|e| e.endpoint)
    }

    /// The entity (message key) of the request an execution serves.
    pub(super) fn exec_entity(&self, exec: ExecId) -> Option<u32> {
        self.execs.get(exec).map(|e| e.entity)
    }

    /// The replica's downtime epoch (the current one if it is down).
    pub(super) fn down_epoch(&self, replica: ReplicaId) -> u32 {
        self.replicas[replica as usize].epoch
    }

    /// Whether the replica holds no execution (no busy worker, nothing queued).
    pub(super) fn idle(&self, replica: ReplicaId) -> bool {
        let r = &self.replicas[replica as usize];
        r.busy == 0 && r.queue.len() == r.stale as usize
    }

    /// A replica comes back up, if it is still in downtime `epoch`.
    pub(super) fn restart(&mut self, replica: ReplicaId, epoch: u32) -> bool {
        let r = &mut self.replicas[replica as usize];
        if r.epoch == epoch && r.down {
            r.down = false;
            true
        } else {
            false
        }
    }

    /// The replicas' bounds at the end of the run.
    pub(super) fn check(&self, spec: &Spec, violations: &mut Vec<String>) {
        for (i, r) in self.replicas.iter().enumerate() {
            let svc = &spec.services[r.service as usize];
            let queued = (r.queue.len() - r.stale as usize) as u64;
            let waiting = r.waiting.iter().map(|&n| n as u64).sum::<u64>();
            if r.busy > svc.concurrency || queued > svc.queue.capacity as u64 || waiting != queued {
                violations.push(format!("replica {i} over its bounds at the end"));
            }
        }
        self.limits.check(violations);
        self.filters.check(self, violations);
    }

    /// Service `svc`'s adaptive concurrency limit at `now` (its replicas' sum), if it
    /// has one.
    pub(super) fn adaptive_limit(&mut self, spec: &Spec, svc: u32, now: Nanos) -> Option<f64> {
        self.filters.service_limit(spec, svc, now)
    }
}

/// The event that wakes execution `id` (it names a direct call's slot too, to be
/// fetched at once: `Ev::CallExecWake`).
#[inline]
fn wake(id: ExecId, origin: Origin) -> Ev {
    match origin {
        Origin::Call(call) => Ev::CallExecWake { exec: id, call: call.index },
        _ => Ev::ExecWake { exec: id },
    }
}

impl World<'_> {
    /// A request (or a message to handle) reaches a replica: refused if it is down,
    /// failed by an active `abort`, else served, queued or rejected.
    pub(super) fn arrive(&mut self, origin: Origin, endpoint: EndpointId, replica: ReplicaId, entity: u32) {
        let now = self.sched.now();
        let counted = self.rec.counted(now);
        self.rec.ep_request(endpoint, counted);
        if self.servers.replicas[replica as usize].down {
            // Connection refused.
            self.rec.exec_end(endpoint, counted, 0, Outcome::Failed(Cause::Unavailable));
            return self.answer(origin, Outcome::Failed(Cause::Unavailable), endpoint, counted);
        }
        if self.server_rate_limited(origin, endpoint, replica, counted) {
            return;
        }
        if self.faults.any_on_executions() && self.faults.aborted(self.spec, endpoint, replica) {
            self.rec.exec_end(endpoint, counted, 0, Outcome::Failed(Cause::Error));
            return self.answer(origin, Outcome::Failed(Cause::Error), endpoint, counted);
        }
        let Some(inflight) = self.adaptive_admit(origin, replica) else {
            // Above the adaptive concurrency limit: Envoy's local reply, 503.
            self.rec.exec_end(endpoint, counted, 0, Outcome::Failed(Cause::Unavailable));
            return self.answer(origin, Outcome::Failed(Cause::Unavailable), endpoint, counted);
        };
        let servers = &mut self.servers;
        if servers.execs.len() >= self.spec.limits.max_executions as usize {
            self.failure = Some(RunError::Limit(format!(
                "{} executions were alive at once on the replicas at {:.3} s of simulated time \
                 (queued, running, or still working for callers that gave up: the limit); \
                 the system is overloaded beyond recovery (bound the queues with a capacity or \
                 a timeout), or raise /limits/max_executions",
                servers.execs.len(),
                now as f64 / 1e9
            )));
            return;
        }
        let class = self.class_of_origin(origin);
        if self.shed_on_arrival(replica, class) {
            self.adaptive_answered(origin, replica, inflight);
            self.rec.exec_end(endpoint, counted, 0, Outcome::Failed(Cause::Unavailable));
            self.record_shed(class, counted);
            return self.answer(origin, Outcome::Failed(Cause::Unavailable), endpoint, counted);
        }
        let servers = &mut self.servers;
        let r = &mut servers.replicas[replica as usize];
        let svc = &self.spec.services[r.service as usize];
        let exec = Exec {
            endpoint,
            replica,
            origin,
            entity,
            arrived: now,
            step: STEP_OWN,
            pending: 0,
            degraded: false,
            running: false,
            counted,
            class,
            inflight,
        };
        if r.busy < svc.concurrency {
            let id = servers.execs.insert(exec);
            self.link_exec(origin, id);
            self.start_exec(id);
        } else if ((r.queue.len() - r.stale as usize) as u64) < svc.queue.capacity as u64 {
            let id = servers.execs.insert(exec);
            r.queue.push_back(id);
            r.waiting[class.priority as usize] += 1;
            let qlen = (r.queue.len() - r.stale as usize) as u64;
            self.rec.queued(endpoint, r.service, qlen, counted);
            if qlen > svc.queue.capacity as u64 {
                self.violations.push(format!("queue of replica {replica} beyond its capacity"));
            }
            self.link_exec(origin, id);
        } else {
            // Full queue: rejected without taking a worker.
            self.adaptive_answered(origin, replica, inflight);
            self.rec.exec_end(endpoint, counted, 0, Outcome::Failed(Cause::Rejected));
            self.answer(origin, Outcome::Failed(Cause::Rejected), endpoint, counted);
        }
    }

    #[inline]
    fn link_exec(&mut self, origin: Origin, exec: ExecId) {
        if let Origin::Attempt(att) = origin {
            self.calls.set_exec(att, exec);
        }
    }

    /// Gives a worker to an execution (it was just admitted or taken from the queue).
    fn start_exec(&mut self, id: ExecId) {
        let now = self.sched.now();
        let Some(e) = self.servers.execs.get_mut(id) else { return };
        let r = &mut self.servers.replicas[e.replica as usize];
        let svc = &self.spec.services[r.service as usize];
        if let Some(qt) = svc.queue.timeout_ns
            && now - e.arrived > qt
        {
            // Stale work is dropped unserved, as servers that check a deadline before
            // starting do; the worker stays free for the next one.
            let (endpoint, counted, arrived, origin) = (e.endpoint, e.counted, e.arrived, e.origin);
            if let Some(gone) = self.servers.execs.remove(id) {
                self.adaptive_done(&gone, true);
            }
            self.rec.exec_end(endpoint, counted, now - arrived, Outcome::Failed(Cause::Rejected));
            self.answer(origin, Outcome::Failed(Cause::Rejected), endpoint, counted);
            return;
        }
        r.busy += 1;
        if r.busy > svc.concurrency {
            self.violations.push(format!("replica {} has more busy workers than its concurrency", e.replica));
        }
        e.running = true;
        let (service, endpoint, replica, origin) = (r.service, e.endpoint, e.replica, e.origin);
        self.rec.workers(now, endpoint, service, 1);
        let ep = &mut self.servers.eps[endpoint as usize];
        let mut d = self.spec.endpoints[endpoint as usize].latency.sample(&mut ep.latency_rng);
        if self.faults.any_on_executions() {
            d = self.faults.faulted_duration(self.spec, d, endpoint, replica, true);
        }
        if let Some(f) = self.autoscale.cold_factor(replica, now, self.spec) {
            d = (d as f64 * f).round().min(1.8e19) as Nanos;
        }
        self.sched.after(d, wake(id, origin));
    }

    /// Frees the worker an execution held and admits queued work until one gets a
    /// worker (stale ones are dropped in turn by `start_exec`).
    fn free_worker(&mut self, replica: ReplicaId, endpoint: EndpointId) {
        let now = self.sched.now();
        let r = &mut self.servers.replicas[replica as usize];
        r.busy -= 1;
        let service = r.service;
        self.rec.workers(now, endpoint, service, -1);
        let svc = &self.spec.services[service as usize];
        let (concurrency, discipline) = (svc.concurrency, svc.queue.discipline);
        // Admit until the workers are full or the queue is empty. The condition is read
        // afresh each time: whatever a dropped execution's answer set off may already
        // have taken the free worker (this loop must never count on being the only one
        // to fill it).
        loop {
            let r = &mut self.servers.replicas[replica as usize];
            if r.down || r.busy >= concurrency {
                return;
            }
            match self.shed_take(replica) {
                shed::Take::Off => {}
                shed::Take::Dropped => continue,
                shed::Take::Empty => return,
                shed::Take::Next(n) => {
                    self.rec.dequeued(service, 1);
                    self.start_exec(n);
                    continue;
                }
            }
            let r = &mut self.servers.replicas[replica as usize];
            let next = match discipline {
                Discipline::Fifo => r.queue.pop_front(),
                Discipline::Lifo => r.queue.pop_back(),
            };
            let Some(n) = next else { return };
            let Some(e) = self.servers.execs.get(n) else {
                // Cancelled while it waited.
                r.stale -= 1;
                continue;
            };
            r.waiting[e.class.priority as usize] -= 1;
            self.rec.dequeued(service, 1);
            self.start_exec(n);
        }
    }

    /// An execution ends with `outcome`: recorded, answered, its worker given back.
    pub(super) fn finish_exec(&mut self, id: ExecId, outcome: Outcome) {
        let Some(e) = self.servers.execs.remove(id) else { return };
        self.adaptive_done(&e, true);
        let now = self.sched.now();
        self.rec.exec_end(e.endpoint, e.counted, now - e.arrived, outcome);
        if outcome.is_ok()
            && self.sagas.any()
            && let Origin::Attempt(att) = e.origin
        {
            // The ground truth of a saga: the callee did the work, whether or not the
            // orchestrator is still waiting for it.
            match self.calls.effect_of(att) {
                (Some(tag), _) => self.saga_effect(tag),
                (None, Some(late)) => self.sagas.late_effect(late),
                (None, None) => {}
            }
        }
        match e.origin {
            // An execution that ran to its end answers its consumer at once, after giving
            // its worker back (so the partition's next message finds it free, as it would
            // in a real consumer): that answer can start the next message, which only
            // arrives and waits for an event of its own, so nothing recurses. Answers
            // that come straight out of an arrival go through `answer`, as events.
            Origin::Consumer { group, part, epoch } => {
                if e.running {
                    self.free_worker(e.replica, e.endpoint);
                }
                self.consumer_done(group, part, epoch, outcome);
            }
            Origin::Queue { queue, consumer, slot } => {
                if e.running {
                    self.free_worker(e.replica, e.endpoint);
                }
                self.queue_answer(queue, consumer, slot, outcome);
            }
            Origin::Attempt(_) | Origin::Call(_) => {
                self.answer(e.origin, outcome, e.endpoint, e.counted);
                if e.running {
                    self.free_worker(e.replica, e.endpoint);
                }
            }
        }
    }

    /// The callee drops an execution whose caller gave up (`cancel_on_timeout`).
    pub(super) fn cancel_exec(&mut self, id: ExecId) {
        let Some(e) = self.servers.execs.remove(id) else { return };
        self.adaptive_done(&e, false);
        let now = self.sched.now();
        self.rec.exec_end(e.endpoint, e.counted, now - e.arrived, Outcome::Failed(Cause::Timeout));
        match e.origin {
            Origin::Attempt(att) => self.calls.forget(att),
            // Not reached: only a policy's `cancel_on_timeout` cancels, and a direct call
            // has no policy.
            Origin::Call(_) => {}
            Origin::Consumer { group, part, epoch } => self.sched.after(
                0,
                Ev::ConsumerAnswer { group, part, epoch, outcome: Outcome::Failed(Cause::Timeout) },
            ),
            Origin::Queue { queue, consumer, slot } => self.sched.after(
                0,
                Ev::QueueAnswer { queue, consumer, slot, outcome: Outcome::Failed(Cause::Timeout) },
            ),
        }
        if e.running {
            self.free_worker(e.replica, e.endpoint);
        } else {
            // Left in the queue as a stale id (see `ReplicaState::queue`); compacted once
            // stale ids outnumber live ones, so memory follows live work.
            let servers = &mut self.servers;
            let r = &mut servers.replicas[e.replica as usize];
            r.stale += 1;
            r.waiting[e.class.priority as usize] -= 1;
            self.rec.dequeued(r.service, 1);
            if r.stale as usize > 64 && r.stale as usize * 2 > r.queue.len() {
                let execs = &servers.execs;
                r.queue.retain(|q| execs.contains(*q));
                r.stale = 0;
            }
        }
    }

    /// Sends an execution's answer to whoever waits for it.
    fn answer(&mut self, origin: Origin, outcome: Outcome, endpoint: EndpointId, counted: bool) {
        match origin {
            Origin::Attempt(att) => self.respond(att, outcome, endpoint, counted),
            Origin::Call(call) => self.respond_direct(call, outcome),
            Origin::Consumer { group, part, epoch } => {
                self.sched.after(0, Ev::ConsumerAnswer { group, part, epoch, outcome })
            }
            Origin::Queue { queue, consumer, slot } => {
                self.sched.after(0, Ev::QueueAnswer { queue, consumer, slot, outcome })
            }
        }
    }

    /// A replica dies: everything it held fails with `unavailable` (the callers see the
    /// connection reset), and new connections are refused until it restarts.
    /// Returns the downtime epoch (the current one if the replica was already down).
    pub(super) fn kill(&mut self, replica: ReplicaId) -> u32 {
        if self.servers.replicas[replica as usize].down {
            return self.servers.replicas[replica as usize].epoch;
        }
        let now = self.sched.now();
        self.servers.replicas[replica as usize].down = true;
        self.servers.replicas[replica as usize].epoch += 1;
        // First the consumers and orchestrators it hosted lose what they held, so that
        // the failures of its executions below reach nobody who still counts on them.
        // Only an orchestrator's replica has sagas to pause (no scan of every saga run).
        let svc = self.spec.replicas[replica as usize].service;
        if self.spec.sagas.iter().any(|sg| sg.orchestrator == svc) {
            self.sagas_on_crash(replica);
        }
        self.consumers_on_crash(replica);
        self.queue_consumers_down(replica);
        // An idle replica (the usual victim of a restart storm) holds nothing: no scan of
        // every execution alive (a long queue elsewhere made each restart cost its length).
        let victims: Vec<ExecId> = if self.servers.idle(replica) {
            Vec::new()
        } else {
            self.servers.execs.iter().filter(|(_, e)| e.replica == replica).map(|(id, _)| id).collect()
        };
        for id in victims {
            let Some(e) = self.servers.execs.remove(id) else { continue };
            if e.running {
                let r = &mut self.servers.replicas[replica as usize];
                r.busy -= 1;
                self.rec.workers(now, e.endpoint, r.service, -1);
            }
            self.rec.exec_end(e.endpoint, e.counted, now - e.arrived, Outcome::Failed(Cause::Unavailable));
            self.answer(e.origin, Outcome::Failed(Cause::Unavailable), e.endpoint, e.counted);
        }
        self.adaptive_restart(replica);
        let r = &mut self.servers.replicas[replica as usize];
        let n = (r.queue.len() - r.stale as usize) as u64;
        r.queue.clear();
        r.stale = 0;
        r.waiting = [0; 3];
        self.rec.dequeued(r.service, n);
        r.epoch
    }
}
