//! The bulkheads' figures per call edge: the most permits out, the attempts that
//! waited and how long, the refusals; and their levels for the time series (permits out
//! and live waiters at an interval's end, summed over the bulkhead instances the edge's
//! calls go through). Memory: one histogram per edge with a bulkhead.
//!
//! *Invariant* (checked at the end of every run): no bulkhead instance ever had more
//! than its `max_concurrent` permits out.

use super::Clients;
use crate::model::calls::Calls;
use crate::model::output::BulkheadFigures;
use crate::spec::{EdgeId, Nanos, PolicyId, Spec, Step};

pub(super) type EdgeBulkhead = BulkheadFigures;

/// Per call edge, the first policy with a bulkhead that some call on it goes through
/// (call sites, workloads' clients, saga actions and compensations under their own
/// policy), in the order calls are compiled.
pub fn edge_bulkhead_policy(spec: &Spec) -> Vec<Option<PolicyId>> {
    let mut out = vec![None; spec.edges.len()];
    let mut mark = |e: EdgeId, p: Option<PolicyId>| {
        let has = p.is_some_and(|p| spec.policies[p as usize].bulkhead.is_some());
        if has && out[e as usize].is_none() {
            out[e as usize] = p;
        }
    };
    for ep in &spec.endpoints {
        for step in &ep.steps {
            let sites = match step {
                Step::Call(c) => std::slice::from_ref(c),
                Step::Parallel(cs) => cs.as_slice(),
                _ => &[],
            };
            for site in sites {
                site.targets.iter().for_each(|t| mark(t.edge, site.policy));
            }
        }
    }
    for w in spec.workloads.iter().filter(|w| w.saga.is_none()) {
        mark(w.edge, w.policy);
    }
    for st in spec.sagas.iter().flat_map(|s| s.steps.iter()) {
        mark(st.action_edge, st.action_policy);
        if let Some(e) = st.compensation_edge {
            mark(e, st.comp_policy);
        }
    }
    out
}

/// Per call edge, whether some call on it goes through a bulkhead.
pub(in crate::model) fn edges_with_bulkhead(spec: &Spec) -> Vec<bool> {
    edge_bulkhead_policy(spec).iter().map(Option::is_some).collect()
}

impl Clients {
    /// An attempt on `edge` took a permit (after `waited_ns` in the queue, if it
    /// queued), leaving `in_use` permits out in its instance.
    pub(in crate::model) fn bulkhead_admitted(
        &mut self,
        edge: EdgeId,
        counted: bool,
        in_use: u32,
        waited_ns: Option<Nanos>,
    ) {
        if !counted {
            return;
        }
        if let Some(f) = self.bulk_figs[edge as usize].as_mut() {
            f.max_in_use = f.max_in_use.max(in_use);
            if let Some(w) = waited_ns {
                f.wait.record(w);
            }
        }
    }

    /// An attempt on `edge` queued for a permit.
    pub(in crate::model) fn bulkhead_queued(&mut self, edge: EdgeId, counted: bool) {
        if counted && let Some(f) = self.bulk_figs[edge as usize].as_mut() {
            f.waited += 1;
        }
    }

    /// An attempt on `edge` was refused `bulkhead_full`.
    pub(in crate::model) fn bulkhead_refused(&mut self, edge: EdgeId, counted: bool) {
        if counted && let Some(f) = self.bulk_figs[edge as usize].as_mut() {
            f.full += 1;
        }
    }

    /// The edge's bulkhead figures, taken for the run's output.
    pub(in crate::model) fn take_bulkhead_figures(&mut self, edge: usize) -> Option<BulkheadFigures> {
        self.bulk_figs[edge].take()
    }

    /// Every bulkhead instance that ever had more permits out than its limit.
    pub(in crate::model) fn check_bulkheads(&self, violations: &mut Vec<String>) {
        for (i, b) in self.blocks.iter().enumerate() {
            for s in &b.slots {
                if let Some(bh) = &s.bulkhead
                    && bh.max_in_use() > bh.max()
                {
                    violations.push(format!(
                        "bulkhead of client block {i}: {} permits out, over its limit {}",
                        bh.max_in_use(),
                        bh.max()
                    ));
                }
            }
        }
    }
}

impl Clients {
    /// Permits out and attempts still waiting, summed over the bulkhead instances the
    /// edge's calls go through, now.
    pub(in crate::model) fn edge_bulkhead_levels(&self, edge: usize, calls: &Calls) -> (f64, f64) {
        let (mut in_use, mut waiting) = (0u64, 0u64);
        for &c in &self.edge_clients[edge] {
            for s in &self.blocks[c as usize].slots {
                if let Some(b) = &s.bulkhead {
                    in_use += u64::from(b.in_use());
                    waiting += u64::from(b.waiting(|a| calls.still_waiting(a)));
                }
            }
        }
        (in_use as f64, waiting as f64)
    }
}
