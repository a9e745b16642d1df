//! The health room: Kubernetes-style probes of each replica. A readiness probe takes a
//! replica out of the balancers' choice while it fails; a liveness probe kills it and
//! starts it again. Probes are served outside the worker pool, as health endpoints
//! usually are. (Outlier ejection, Envoy's passive health check, is per caller: it
//! lives with the balancer in the clients room.)
//!
//! *Invariant*: a replica is `ready` exactly when its probe last decided so (or it has
//! no probe); one liveness restart at a time.

use super::World;
use super::event::Ev;
use crate::policy::health::HealthState;
use crate::spec::{Probe, ReplicaId, ServiceId, Spec};

struct ReplicaHealth {
    service: ServiceId,
    /// Health as its readiness probe last decided (balancers skip unhealthy replicas).
    ready: bool,
    /// A liveness restart is scheduled; probes take no further action until it happens.
    liveness_restarting: bool,
    /// Out of service: an autoscaled slot that is off, starting or draining.
    out: bool,
    state: Option<HealthState>,
}

pub(super) struct Health {
    replicas: Vec<ReplicaHealth>,
    /// Per service, the changes of `ready` of its replicas: a balancer towards the
    /// service that sees its count move rebuilds its turn (gRPC rebuilds a channel's
    /// picker when one of its own subchannels changes state, not another channel's).
    changes: Vec<u64>,
}

impl Health {
    pub(super) fn new(spec: &Spec) -> Health {
        let replicas = spec
            .replicas
            .iter()
            .map(|r| {
                let hc = spec.services[r.service as usize].health_check.as_ref();
                ReplicaHealth {
                    service: r.service,
                    ready: true,
                    liveness_restarting: false,
                    out: false,
                    state: hc.map(|h| HealthState::new(h.unhealthy_after, h.healthy_after)),
                }
            })
            .collect();
        Health { replicas, changes: vec![0; spec.services.len()] }
    }

    /// Whether balancers may pick the replica.
    #[inline]
    pub(super) fn ready(&self, replica: ReplicaId) -> bool {
        let r = &self.replicas[replica as usize];
        r.ready && !r.out
    }

    /// How many times the `ready` of a replica of service `svc` changed so far.
    #[inline]
    pub(super) fn changes(&self, svc: ServiceId) -> u64 {
        self.changes[svc as usize]
    }

    /// Counts a change of `ready` if `before` differs from what it is now.
    fn note(&mut self, replica: ReplicaId, before: bool) {
        if self.ready(replica) != before {
            self.changes[self.replicas[replica as usize].service as usize] += 1;
        }
    }

    /// Takes an autoscaled slot out of service, or puts it back.
    pub(super) fn set_out(&mut self, replica: ReplicaId, out: bool) {
        let before = self.ready(replica);
        self.replicas[replica as usize].out = out;
        self.note(replica, before);
    }

    /// A scaled-up replica enters service: unready until its readiness probe passed
    /// `healthy_after` times (Kubernetes starts a new pod unready), ready at once
    /// without one.
    pub(super) fn provision(&mut self, spec: &Spec, replica: ReplicaId) {
        let hc = spec.services[spec.replicas[replica as usize].service as usize].health_check.as_ref();
        let before = self.ready(replica);
        let r = &mut self.replicas[replica as usize];
        r.out = false;
        r.liveness_restarting = false;
        r.ready = true;
        if let Some(h) = hc {
            let mut state = HealthState::new(h.unhealthy_after, h.healthy_after);
            if h.probe == Probe::Readiness {
                // Start from unhealthy: `unhealthy_after` failures turn it.
                for _ in 0..h.unhealthy_after.max(1) {
                    state.on_probe(false);
                }
                r.ready = false;
            }
            r.state = Some(state);
        }
        self.note(replica, before);
    }

    pub(super) fn on_restart(&mut self, replica: ReplicaId) {
        self.replicas[replica as usize].liveness_restarting = false;
    }
}

impl World<'_> {
    /// The first probe of every replica with a health check.
    pub(super) fn schedule_probes(&mut self) {
        for (r, spec_r) in self.spec.replicas.iter().enumerate() {
            if let Some(hc) = &self.spec.services[spec_r.service as usize].health_check {
                self.sched.at(hc.interval_ns, Ev::Probe { replica: r as u32 });
            }
        }
    }

    /// A health probe: it fails when the replica is down, or (with `depends_on`) when a
    /// dependency has no live replica or is cut off by a partition.
    pub(super) fn probe(&mut self, replica: ReplicaId) {
        let svc_id = self.spec.replicas[replica as usize].service;
        let Some(hc) = &self.spec.services[svc_id as usize].health_check else { return };
        let mut ok = !self.servers.is_down(replica);
        for &dep in &hc.depends_on {
            if !self.servers.any_up(self.spec, dep) || self.faults.partitioned(self.spec, svc_id, dep) {
                ok = false;
            }
        }
        let (probe, restart_after, interval) = (hc.probe, hc.restart_after_ns, hc.interval_ns);
        let r = &mut self.health.replicas[replica as usize];
        if let Some(h) = &mut r.state
            && let Some(healthy) = h.on_probe(ok)
        {
            match probe {
                Probe::Readiness => {
                    if r.ready != healthy {
                        self.health.changes[svc_id as usize] += 1;
                    }
                    r.ready = healthy;
                }
                Probe::Liveness => {
                    if !healthy && !r.liveness_restarting {
                        // Kubernetes kills the container and starts it again.
                        r.liveness_restarting = true;
                        r.state = Some(HealthState::new(hc.unhealthy_after, hc.healthy_after));
                        let epoch = self.kill(replica);
                        self.sched.after(restart_after, Ev::Restart { replica, epoch });
                    }
                }
            }
        }
        self.sched.after(interval, Ev::Probe { replica });
    }
}
