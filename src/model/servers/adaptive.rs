//! The servers' side of adaptive concurrency (`policy::adaptive`: Envoy's gradient
//! controller or Netflix's AIMD limit): one controller per replica, as Envoy runs one
//! filter per instance in front of it (and a Netflix limiter lives in each server). Only requests (executions answering an attempt) pass the filter;
//! messages a consumer pulls do not (they never cross an HTTP filter chain).
//!
//! A request is outstanding from its admission until its execution ends: a response
//! (any outcome, a queue timeout's `rejected` included) is a latency sample from its
//! arrival; a cancellation (`cancel_on_timeout`) frees the slot without a sample for
//! the gradient controller (Envoy's `recordFailure`) and is a drop for AIMD (Netflix's
//! gRPC server interceptor calls `onDropped` when the call is cancelled). An
//! execution keeps the outstanding count at its admission (`Exec::inflight`, Netflix's
//! `inflight`). A crash restarts the filter with its replica: a fresh controller from
//! the crash instant (the gradient controller measures its minRTT again, AIMD starts
//! from its initial limit).

use super::{Exec, Servers};
use crate::model::World;
use crate::model::event::Origin;
use crate::policy::adaptive::Controller;
use crate::rng::{Rng, rng_stream};
use crate::spec::{Nanos, ReplicaId, Spec};

/// Per replica, its controller (none without `adaptive_concurrency`) and the random
/// stream of its jitter, `adaptive/<replica>`.
pub(super) struct Filters {
    ctl: Vec<Option<(Controller, Rng)>>,
    /// Some service has the filter: without one, every request skips it on one flag,
    /// not a read of its replica's (large) slot.
    any: bool,
}

fn controller(spec: &Spec, replica: usize, now: Nanos) -> Option<(Controller, Rng)> {
    let r = &spec.replicas[replica];
    let svc = &spec.services[r.service as usize];
    let a = svc.adaptive.as_ref()?;
    let name = format!("adaptive/{}#{}", svc.name, r.index);
    Some((Controller::new(a, now), rng_stream(spec.seed, &name)))
}

impl Filters {
    pub(super) fn new(spec: &Spec) -> Filters {
        Filters {
            ctl: (0..spec.replicas.len()).map(|i| controller(spec, i, 0)).collect(),
            any: spec.services.iter().any(|s| s.adaptive.is_some()),
        }
    }

    /// Whether an execution from `origin` on `replica` went through a filter.
    fn filtered(&self, origin: Origin, replica: ReplicaId) -> bool {
        self.any
            && matches!(origin, Origin::Attempt(_) | Origin::Call(_))
            && self.ctl[replica as usize].is_some()
    }

    /// The sum of service `svc`'s replicas' limits at `now`, if it has the filter.
    pub(super) fn service_limit(&mut self, spec: &Spec, svc: u32, now: Nanos) -> Option<f64> {
        let s = &spec.services[svc as usize];
        s.adaptive.as_ref()?;
        let first = s.first_replica as usize;
        let ctl = &mut self.ctl[first..first + s.replicas as usize];
        Some(ctl.iter_mut().flatten().map(|(g, _)| g.limit_at(now) as f64).sum())
    }

    /// Each controller's outstanding count equals the live executions it admitted.
    pub(super) fn check(&self, servers: &Servers, violations: &mut Vec<String>) {
        let mut live = vec![0u32; self.ctl.len()];
        for (_, e) in servers.execs.iter() {
            if self.filtered(e.origin, e.replica) {
                live[e.replica as usize] += 1;
            }
        }
        for (i, c) in self.ctl.iter().enumerate() {
            if let Some((g, _)) = c
                && g.outstanding() != live[i]
            {
                violations.push(format!(
                    "adaptive concurrency of replica {i}: {} outstanding, {} executions alive",
                    g.outstanding(),
                    live[i]
                ));
            }
        }
    }
}

impl World<'_> {
    /// The filter's decision on a request arriving at `replica`: `None` blocks it; else
    /// the outstanding count with it (0 when no filter sees it).
    pub(super) fn adaptive_admit(&mut self, origin: Origin, replica: ReplicaId) -> Option<u32> {
        if !self.servers.filters.filtered(origin, replica) {
            return Some(0);
        }
        let now = self.sched.now();
        let Some((g, _)) = &mut self.servers.filters.ctl[replica as usize] else { return Some(0) };
        let inflight = g.admit(now)?;
        if g.outstanding() > g.limit_at(now) {
            self.violations.push(format!("replica {replica} admitted above its adaptive concurrency limit"));
        }
        Some(inflight)
    }

    /// An execution admitted by the filter ends: with a response (`sampled`) or not.
    pub(super) fn adaptive_done(&mut self, e: &Exec, sampled: bool) {
        self.adaptive_end(e.origin, e.replica, e.arrived, e.inflight, sampled);
    }

    /// A request the filter admitted is answered by the service at once, without an
    /// execution (shed at arrival, or its queue full): the 503 goes back through the
    /// filter, which takes it as a sample as any response.
    pub(super) fn adaptive_answered(&mut self, origin: Origin, replica: ReplicaId, inflight: u32) {
        let now = self.sched.now();
        self.adaptive_end(origin, replica, now, inflight, true);
    }

    fn adaptive_end(
        &mut self,
        origin: Origin,
        replica: ReplicaId,
        arrived: Nanos,
        inflight: u32,
        sampled: bool,
    ) {
        if !self.servers.filters.filtered(origin, replica) {
            return;
        }
        let now = self.sched.now();
        let Some((g, rng)) = &mut self.servers.filters.ctl[replica as usize] else { return };
        g.end(now, arrived, inflight, sampled, rng);
    }

    /// A crash restarts the replica's filter (after its executions were failed).
    pub(super) fn adaptive_restart(&mut self, replica: ReplicaId) {
        let now = self.sched.now();
        let slot = &mut self.servers.filters.ctl[replica as usize];
        if slot.is_some() {
            let rng = slot.take().map(|(_, r)| r);
            *slot = controller(self.spec, replica as usize, now).map(|(g, fresh)| (g, rng.unwrap_or(fresh)));
        }
    }
}
