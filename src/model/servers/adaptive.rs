//! The servers' side of adaptive concurrency (`policy::adaptive`, Envoy's gradient
//! controller): one controller per replica, as Envoy runs one filter per instance in
//! front of it. Only requests (executions answering an attempt) pass the filter;
//! messages a consumer pulls do not (they never cross an HTTP filter chain).
//!
//! A request is outstanding from its admission until its execution ends: a response
//! (any outcome, a queue timeout's `rejected` included) is a latency sample from its
//! arrival; a cancellation (`cancel_on_timeout`) frees the slot without a sample. A
//! crash restarts the filter with its replica: a fresh controller from the crash
//! instant, which measures the minRTT again.

use super::{Exec, Servers};
use crate::model::World;
use crate::model::event::Origin;
use crate::policy::adaptive::{Adaptive, Gradient};
use crate::rng::{Rng, rng_stream};
use crate::spec::{Nanos, ReplicaId, Spec};

/// Per replica, its controller (none without `adaptive_concurrency`) and the random
/// stream of its jitter, `adaptive/<replica>`.
pub(super) struct Filters {
    ctl: Vec<Option<(Gradient, Rng)>>,
}

fn controller(spec: &Spec, replica: usize, now: Nanos) -> Option<(Gradient, Rng)> {
    let r = &spec.replicas[replica];
    let svc = &spec.services[r.service as usize];
    let Adaptive::Gradient(p) = svc.adaptive.as_ref()?;
    let name = format!("adaptive/{}#{}", svc.name, r.index);
    Some((Gradient::new(p.clone(), now), rng_stream(spec.seed, &name)))
}

impl Filters {
    pub(super) fn new(spec: &Spec) -> Filters {
        Filters { ctl: (0..spec.replicas.len()).map(|i| controller(spec, i, 0)).collect() }
    }

    /// Whether an execution from `origin` on `replica` went through a filter.
    fn filtered(&self, origin: Origin, replica: ReplicaId) -> bool {
        matches!(origin, Origin::Attempt(_)) && self.ctl[replica as usize].is_some()
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
    /// The filter's decision on a request arriving at `replica`: `false` blocks it.
    pub(super) fn adaptive_admit(&mut self, origin: Origin, replica: ReplicaId) -> bool {
        if !self.servers.filters.filtered(origin, replica) {
            return true;
        }
        let now = self.sched.now();
        let Some((g, _)) = &mut self.servers.filters.ctl[replica as usize] else { return true };
        if !g.admit(now) {
            return false;
        }
        if g.outstanding() > g.limit_at(now) {
            self.violations.push(format!("replica {replica} admitted above its adaptive concurrency limit"));
        }
        true
    }

    /// An execution admitted by the filter ends: with a response (`sampled`) or not.
    pub(super) fn adaptive_done(&mut self, e: &Exec, sampled: bool) {
        self.adaptive_end(e.origin, e.replica, e.arrived, sampled);
    }

    /// A request the filter admitted is answered by the service at once, without an
    /// execution (shed at arrival, or its queue full): the 503 goes back through the
    /// filter, which takes it as a sample as any response.
    pub(super) fn adaptive_answered(&mut self, origin: Origin, replica: ReplicaId) {
        let now = self.sched.now();
        self.adaptive_end(origin, replica, now, true);
    }

    fn adaptive_end(&mut self, origin: Origin, replica: ReplicaId, arrived: Nanos, sampled: bool) {
        if !self.servers.filters.filtered(origin, replica) {
            return;
        }
        let now = self.sched.now();
        let Some((g, rng)) = &mut self.servers.filters.ctl[replica as usize] else { return };
        if sampled {
            g.sample(now, arrived, rng);
        } else {
            g.failure(now);
        }
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
