//! Priorities and load shedding (docs/scenario-format.md, Load shedding).
//!
//! A request's class (`ReqClass`: the workload it serves and its gRPC criticality)
//! is set by its workload and inherited by every call made while serving it: a call
//! takes its parent's class (a workload request's, an execution's, a saga's workload's)
//! and an execution takes its attempt's. Work that no workload request started (a topic
//! consumer's or a work queue's handling, and the calls it makes) is `default` and
//! belongs to no workload.
//!
//! Two rules, each per replica:
//! - `queue_delay` (CoDel's target, without CoDel's interval and drop schedule): when a
//!   worker is free, every queued request that has waited longer than the target is
//!   dropped, oldest first, and the worker takes the next one by priority (critical,
//!   then default, then sheddable; the queue's discipline within a class). Lower
//!   priorities wait longer, so they are the ones that outlive the target: sheddable is
//!   shed first, and critical only when critical work alone keeps the queue late. A
//!   request taken has waited at most the target.
//! - `utilization` (at arrival): `sheddable` is refused when busy workers ≥ the
//!   percentage of workers; `default` when every worker is busy and requests already
//!   wait (it could only queue behind them); `critical` never.
//!
//! A shed request is answered `unavailable` (503, as Envoy's admission control and
//! gRPC's UNAVAILABLE) once, like any refusal; the workload's `shed` counts it.
//!
//! *Invariants*: a shed execution is removed from the arena and answered exactly once;
//! the queue's stale count follows it (as a cancellation's does).

use super::super::World;
use super::super::event::{Origin, Parent};
use crate::metrics::Outcome;
use crate::spec::{Cause, Discipline, Priority, ReplicaId, Shed};

/// The class a request's work carries down its call tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(in crate::model) struct ReqClass {
    /// The workload whose request this work serves, `u32::MAX` for none.
    pub(in crate::model) wl: u32,
    pub(in crate::model) priority: Priority,
}

impl ReqClass {
    /// Work no workload request started (a consumer's handling).
    pub(in crate::model) const NONE: ReqClass = ReqClass { wl: u32::MAX, priority: Priority::Default };
}

impl World<'_> {
    /// The class of a call made by `parent`.
    pub(in crate::model) fn class_of_parent(&self, parent: Parent) -> ReqClass {
        let of_wl = |wl: u32| ReqClass {
            wl,
            priority: self.spec.workloads[wl as usize].priority.unwrap_or_default(),
        };
        match parent {
            Parent::Root { wl, .. } => of_wl(wl),
            Parent::Exec { exec } => self.servers.execs.get(exec).map_or(ReqClass::NONE, |e| e.class),
            Parent::Saga { saga, .. } => self.saga_workload(saga).map_or(ReqClass::NONE, of_wl),
        }
    }

    /// The class of an execution for `origin`.
    pub(super) fn class_of_origin(&self, origin: Origin) -> ReqClass {
        match origin {
            Origin::Attempt(att) => self.calls.attempt_class(att),
            Origin::Call(call) => self.direct_class(call),
            Origin::Consumer { .. } | Origin::Queue { .. } => ReqClass::NONE,
        }
    }

    /// `utilization` shedding: whether a request of `class` arriving at `replica` is
    /// refused.
    pub(super) fn shed_on_arrival(&self, replica: ReplicaId, class: ReqClass) -> bool {
        let r = &self.servers.replicas[replica as usize];
        let svc = &self.spec.services[r.service as usize];
        let Some(Shed::Utilization { percent }) = svc.shed else { return false };
        match class.priority {
            Priority::Critical => false,
            Priority::Default => r.busy >= svc.concurrency && r.queue.len() > r.stale as usize,
            Priority::Sheddable => r.busy as f64 * 100.0 >= percent * svc.concurrency as f64,
        }
    }

    /// Records a shed request of `class` (counted if its execution is).
    pub(super) fn record_shed(&mut self, class: ReqClass, counted: bool) {
        if class.wl != u32::MAX {
            self.rec.shed(class.wl, counted);
        }
    }

    /// `queue_delay` shedding, when a worker is free: drops one request that waited
    /// longer than the target (the oldest: CoDel drops at the head while the sojourn
    /// time is above target), or takes the next one in priority order (critical, then
    /// default, then sheddable; within a class, the queue's discipline). One drop per
    /// call: its answer may set off anything, so the caller reads the replica afresh.
    pub(super) fn shed_take(&mut self, replica: ReplicaId) -> Take {
        let service = self.servers.replicas[replica as usize].service;
        let svc = &self.spec.services[service as usize];
        let Some(Shed::QueueDelay { target_ns }) = svc.shed else { return Take::Off };
        let discipline = svc.queue.discipline;
        let now = self.sched.now();
        let servers = &mut self.servers;
        let r = &mut servers.replicas[replica as usize];
        // The queue is in arrival order: the late ones are at its front.
        loop {
            let Some(&id) = r.queue.front() else { return Take::Empty };
            let Some(e) = servers.execs.get(id) else {
                r.queue.pop_front();
                r.stale -= 1;
                continue;
            };
            if now - e.arrived <= target_ns {
                break;
            }
            r.queue.pop_front();
            let Some(e) = servers.execs.remove(id) else { return Take::Empty };
            r.waiting[e.class.priority as usize] -= 1;
            // Its 503 goes back through the adaptive concurrency filter, if any.
            self.adaptive_done(&e, true);
            self.rec.dequeued(service, 1);
            let outcome = Outcome::Failed(Cause::Unavailable);
            self.rec.exec_end(e.endpoint, e.counted, now - e.arrived, outcome);
            self.record_shed(e.class, e.counted);
            self.answer(e.origin, outcome, e.endpoint, e.counted);
            return Take::Dropped;
        }
        // Every one left is on time: the first of the highest priority, scanning from
        // the end the discipline takes from (stops at the first of the highest class
        // waiting: a queue of one class is not scanned past its first live entry).
        let top = r.waiting.iter().position(|&n| n > 0);
        let n = r.queue.len();
        let mut best: Option<(usize, Priority)> = None;
        for k in 0..n {
            let i = match discipline {
                Discipline::Fifo => k,
                Discipline::Lifo => n - 1 - k,
            };
            let Some(e) = servers.execs.get(r.queue[i]) else { continue };
            if best.is_none_or(|(_, p)| e.class.priority < p) {
                best = Some((i, e.class.priority));
                if Some(e.class.priority as usize) == top {
                    break;
                }
            }
        }
        match best.and_then(|(i, p)| r.queue.remove(i).map(|id| (id, p))) {
            Some((id, p)) => {
                r.waiting[p as usize] -= 1;
                Take::Next(id)
            }
            None => Take::Empty,
        }
    }
}

/// What `shed_take` did.
pub(super) enum Take {
    /// The service does not shed by queue delay: take as the discipline says.
    Off,
    /// One late request was dropped (and answered).
    Dropped,
    /// Nothing is queued.
    Empty,
    /// The next request to start.
    Next(super::ExecId),
}
