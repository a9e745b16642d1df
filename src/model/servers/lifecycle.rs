//! An execution's life on a replica: it arrives (refused, rate-limited, aborted, shed,
//! queued or given a worker), holds its worker for the endpoint's latency and steps,
//! ends (recorded, answered) and frees its worker for the next one in the queue. A
//! caller that gives up cancels it (`cancel_exec`).

use super::{Exec, STEP_OWN, shed, wake};
use crate::engine::Words;
use crate::metrics::Outcome;
use crate::model::World;
use crate::model::event::{Ev, ExecId, Origin};
use crate::model::output::RunError;
use crate::spec::{Cause, Discipline, EndpointId, Nanos, ReplicaId};

impl World<'_> {
    /// A request (or a message to handle) reaches a replica: refused if it is down,
    /// failed by an active `abort`, else served, queued or rejected.
    ///
    /// The origin goes in as two words, in registers: as an enum it went through the
    /// caller's stack, written a field at a time and read back in wider loads the store
    /// buffer cannot forward (`perf`: 2.5% of an M/M/c run's samples on one such load).
    #[inline(always)]
    pub(in crate::model) fn arrive(
        &mut self,
        origin: Origin,
        endpoint: EndpointId,
        replica: ReplicaId,
        entity: u32,
    ) {
        self.arrive_words(origin.to_words(), endpoint, replica, entity)
    }

    fn arrive_words(&mut self, origin: Words, endpoint: EndpointId, replica: ReplicaId, entity: u32) {
        let origin = Origin::from_words(origin);
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
    pub(super) fn link_exec(&mut self, origin: Origin, exec: ExecId) {
        match origin {
            Origin::Attempt(att) => self.calls.set_exec(att, exec),
            Origin::Call(call) => self.calls.set_direct_exec(call, exec),
            Origin::Consumer { .. } | Origin::Queue { .. } => {}
        }
    }

    /// Gives a worker to an execution (it was just admitted or taken from the queue).
    pub(super) fn start_exec(&mut self, id: ExecId) {
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
        let mut d = ep.hot.latency.sample(&mut ep.latency_rng);
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
    pub(super) fn free_worker(&mut self, replica: ReplicaId, endpoint: EndpointId) {
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
    pub(in crate::model) fn finish_exec(&mut self, id: ExecId, outcome: Outcome) {
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
    pub(in crate::model) fn cancel_exec(&mut self, id: ExecId) {
        let Some(e) = self.servers.execs.remove(id) else { return };
        self.adaptive_done(&e, false);
        let now = self.sched.now();
        self.rec.exec_end(e.endpoint, e.counted, now - e.arrived, Outcome::Failed(Cause::Timeout));
        match e.origin {
            Origin::Attempt(att) => self.calls.forget(att),
            // Cancelled down the tree (`calls/tree.rs`), which ends the call itself.
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
        // Its own calls still out go with it (gRPC's server context).
        self.cancel_children(id);
    }

    /// Sends an execution's answer to whoever waits for it.
    #[inline(always)]
    pub(super) fn answer(&mut self, origin: Origin, outcome: Outcome, endpoint: EndpointId, counted: bool) {
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
}
