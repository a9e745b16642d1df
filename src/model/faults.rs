//! The faults room: the scenario's injected faults, started and ended on schedule.
//! Faults on executions (`delay`, `slowdown`, `abort`) are kept in a list the servers
//! room consults as work starts; `crash` kills a replica (and may restart it);
//! `partition` and `loss` act on the network room's paths; `outage` on a topic's
//! or a work queue's broker.
//!
//! *Invariant*: `active_exec` and `active_partitions` hold exactly the faults of those
//! kinds whose window contains now. Adding a fault kind touches this room, the resolver
//! (`scenario/`) and the docs.

use super::World;
use super::event::Ev;
use crate::rng::{Rng, rng_stream};
use crate::spec::{EndpointId, FaultKind, FaultTarget, Nanos, ReplicaId, ServiceId, Spec};
use rand::RngExt;

pub(super) struct Faults {
    /// Faults now active that act on executions (delay, slowdown, abort).
    active_exec: Vec<u32>,
    /// Partitions now active.
    active_partitions: Vec<u32>,
    rngs: Vec<Rng>,
}

impl Faults {
    pub(super) fn new(spec: &Spec) -> Faults {
        Faults {
            active_exec: Vec::new(),
            active_partitions: Vec::new(),
            rngs: (0..spec.faults.len()).map(|i| rng_stream(spec.seed, &format!("fault/{i}"))).collect(),
        }
    }

    /// Whether any fault on executions is active (the fast path asks this first).
    #[inline]
    pub(super) fn any_on_executions(&self) -> bool {
        !self.active_exec.is_empty()
    }

    /// Whether an active `abort` fault fails this request at once.
    pub(super) fn aborted(&mut self, spec: &Spec, endpoint: EndpointId, replica: ReplicaId) -> bool {
        for &i in &self.active_exec {
            if let FaultKind::Abort { target, p } = &spec.faults[i as usize].kind
                && hits(spec, *target, endpoint, replica)
                && self.rngs[i as usize].random::<f64>() < *p
            {
                return true;
            }
        }
        false
    }

    /// A service time under the active `slowdown` and `delay` faults (`own`: the
    /// endpoint's own latency, which `delay` lengthens; work steps only slow down).
    pub(super) fn faulted_duration(
        &mut self,
        spec: &Spec,
        base: Nanos,
        endpoint: EndpointId,
        replica: ReplicaId,
        own: bool,
    ) -> Nanos {
        let mut d = base as f64;
        let mut extra: Nanos = 0;
        for &i in &self.active_exec {
            match &spec.faults[i as usize].kind {
                FaultKind::Slowdown { target, factor } if hits(spec, *target, endpoint, replica) => {
                    d *= factor;
                }
                FaultKind::Delay { target, latency, p } if own && hits(spec, *target, endpoint, replica) => {
                    let rng = &mut self.rngs[i as usize];
                    if *p >= 1.0 || rng.random::<f64>() < *p {
                        extra = extra.saturating_add(latency.sample(rng));
                    }
                }
                _ => {}
            }
        }
        (d.round().min(1.8e19) as Nanos).saturating_add(extra)
    }

    /// Whether an active partition separates services `x` and `y`.
    pub(super) fn partitioned(&self, spec: &Spec, x: ServiceId, y: ServiceId) -> bool {
        self.active_partitions.iter().any(|&f| match &spec.faults[f as usize].kind {
            FaultKind::Partition { a, b } => {
                (a.contains(&x) && b.contains(&y)) || (b.contains(&x) && a.contains(&y))
            }
            _ => false,
        })
    }
}

fn hits(spec: &Spec, target: FaultTarget, endpoint: EndpointId, replica: ReplicaId) -> bool {
    match target {
        FaultTarget::Service(s) => spec.endpoints[endpoint as usize].service == s,
        FaultTarget::Replica(r) => r == replica,
        FaultTarget::Endpoint(e) => e == endpoint,
    }
}

impl World<'_> {
    /// Schedules every fault's start and end (a crash has no end: its replica restarts
    /// on its own clock, or never).
    pub(super) fn schedule_faults(&mut self) {
        let end = self.spec.duration_ns;
        for (i, f) in self.spec.faults.iter().enumerate() {
            if f.start_ns < end {
                self.sched.at(f.start_ns, Ev::FaultStart { fault: i as u32 });
            }
            if f.end_ns < end && !matches!(f.kind, FaultKind::Crash { .. }) {
                self.sched.at(f.end_ns, Ev::FaultEnd { fault: i as u32 });
            }
        }
    }

    pub(super) fn fault_start(&mut self, fault: u32) {
        let f = &self.spec.faults[fault as usize];
        match &f.kind {
            FaultKind::Delay { .. } | FaultKind::Slowdown { .. } | FaultKind::Abort { .. } => {
                self.faults.active_exec.push(fault);
            }
            FaultKind::Crash { replica, restart_after_ns } => {
                let epoch = self.kill(*replica);
                if let Some(d) = restart_after_ns {
                    self.sched.after(*d, Ev::Restart { replica: *replica, epoch });
                }
            }
            FaultKind::Partition { a, b } => {
                self.faults.active_partitions.push(fault);
                self.net.partition(a, b, 1);
            }
            FaultKind::Loss { from, to, p } => self.net.fault_loss(*from, *to, *p, 1.0),
            FaultKind::Outage { topic } => self.outage_start(*topic),
            FaultKind::QueueOutage { queue } => self.queue_outage_start(*queue),
        }
    }

    pub(super) fn fault_end(&mut self, fault: u32) {
        let f = &self.spec.faults[fault as usize];
        match &f.kind {
            FaultKind::Delay { .. } | FaultKind::Slowdown { .. } | FaultKind::Abort { .. } => {
                self.faults.active_exec.retain(|x| *x != fault);
            }
            FaultKind::Crash { .. } => {}
            FaultKind::Partition { a, b } => {
                self.faults.active_partitions.retain(|x| *x != fault);
                self.net.partition(a, b, -1);
            }
            FaultKind::Loss { from, to, p } => self.net.fault_loss(*from, *to, *p, -1.0),
            FaultKind::Outage { topic } => self.outage_end(*topic),
            FaultKind::QueueOutage { queue } => self.queue_outage_end(*queue),
        }
    }

    /// A crashed (or liveness-killed) replica comes back, if it is still in the
    /// downtime `epoch` the restart was scheduled for.
    pub(super) fn restart(&mut self, replica: ReplicaId, epoch: u32) {
        // A slot its autoscaler turned off (or is starting, or draining) stays down.
        if !self.autoscale.may_restart(replica) {
            return;
        }
        if self.servers.restart(replica, epoch) {
            self.health.on_restart(replica);
            self.caches.on_restart(replica, self.sched.now());
            let svc = self.spec.replicas[replica as usize].service;
            if self.spec.sagas.iter().any(|sg| sg.orchestrator == svc) {
                self.sagas_on_restart(replica);
            }
            self.consumers_on_restart(replica);
            self.queue_consumers_up(replica);
        }
    }
}
