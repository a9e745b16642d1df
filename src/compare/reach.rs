//! Which call edges a workload's requests traverse, from the resolved spec: the
//! workload's own client edge, then every edge reachable from its target through the
//! endpoints' steps (`call`, `route`, `parallel`) and, for a saga workload, the saga's
//! action and compensation edges and what their endpoints call in turn.
//!
//! A `publish` step is not followed: the consumers handle the message after the request
//! has been answered, so their calls are not part of the request. The comparison counts
//! a workload's retries, hedges and breaker time over these edges only (an edge that two
//! workloads traverse counts in both: see [`shared_edges`]).

use crate::spec::{EdgeId, EndpointId, PolicyId, Spec, Step};

/// The edges workload `w`'s requests can traverse, in edge order (sorted, unique).
pub fn reachable_edges(spec: &Spec, w: usize) -> Vec<EdgeId> {
    let Some(wl) = spec.workloads.get(w) else { return Vec::new() };
    let mut edges = vec![false; spec.edges.len()];
    let mut seen = vec![false; spec.endpoints.len()];
    let mut stack: Vec<EndpointId> = Vec::new();
    let mark = |e: EdgeId, edges: &mut Vec<bool>| {
        if let Some(x) = edges.get_mut(e as usize) {
            *x = true;
        }
    };
    match wl.saga.and_then(|s| spec.sagas.get(s as usize)) {
        Some(saga) => {
            for st in &saga.steps {
                mark(st.action_edge, &mut edges);
                stack.push(st.action);
                if let (Some(c), Some(ce)) = (st.compensation, st.compensation_edge) {
                    mark(ce, &mut edges);
                    stack.push(c);
                }
            }
        }
        None => {
            mark(wl.edge, &mut edges);
            stack.push(wl.target);
        }
    }
    while let Some(ep) = stack.pop() {
        let Some(seen_ep) = seen.get_mut(ep as usize) else { continue };
        if *seen_ep {
            continue;
        }
        *seen_ep = true;
        for step in &spec.endpoints[ep as usize].steps {
            let sites = match step {
                Step::Call(c) => std::slice::from_ref(c),
                Step::Parallel(cs) => cs.as_slice(),
                Step::Work(_) | Step::Publish { .. } | Step::Enqueue { .. } => &[],
            };
            for site in sites {
                for t in &site.targets {
                    mark(t.edge, &mut edges);
                    stack.push(t.endpoint);
                }
            }
        }
    }
    edges.iter().enumerate().filter(|(_, r)| **r).map(|(i, _)| i as EdgeId).collect()
}

/// Per edge, the workloads (indices) whose requests traverse it.
pub fn workloads_per_edge(spec: &Spec) -> Vec<Vec<usize>> {
    let mut out = vec![Vec::new(); spec.edges.len()];
    for w in 0..spec.workloads.len() {
        for e in reachable_edges(spec, w) {
            out[e as usize].push(w);
        }
    }
    out
}

/// The edges workload `w` traverses that another workload traverses too, by name.
pub fn shared_edges(spec: &Spec, w: usize) -> Vec<(String, Vec<String>)> {
    let per_edge = workloads_per_edge(spec);
    reachable_edges(spec, w)
        .into_iter()
        .filter(|e| per_edge[*e as usize].len() > 1)
        .map(|e| {
            let others = per_edge[e as usize]
                .iter()
                .filter(|o| **o != w)
                .map(|o| spec.workloads[*o].name.clone())
                .collect();
            (spec.edges[e as usize].name.clone(), others)
        })
        .collect()
}

/// The edges whose calls use policy `p`, in edge order: call sites naming it, workloads
/// whose client uses it, and the action and compensation edges of sagas that use it.
pub fn edges_of_policy(spec: &Spec, p: PolicyId) -> Vec<EdgeId> {
    let mut edges = vec![false; spec.edges.len()];
    let mut mark = |e: EdgeId| {
        if let Some(x) = edges.get_mut(e as usize) {
            *x = true;
        }
    };
    for ep in &spec.endpoints {
        for step in &ep.steps {
            let sites = match step {
                Step::Call(c) => std::slice::from_ref(c),
                Step::Parallel(cs) => cs.as_slice(),
                Step::Work(_) | Step::Publish { .. } | Step::Enqueue { .. } => &[],
            };
            for site in sites.iter().filter(|s| s.policy == Some(p)) {
                site.targets.iter().for_each(|t| mark(t.edge));
            }
        }
    }
    for wl in spec.workloads.iter().filter(|w| w.policy == Some(p) && w.saga.is_none()) {
        mark(wl.edge);
    }
    for saga in spec.sagas.iter().filter(|s| s.policy == Some(p)) {
        for st in &saga.steps {
            mark(st.action_edge);
            if let Some(ce) = st.compensation_edge {
                mark(ce);
            }
        }
    }
    edges.iter().enumerate().filter(|(_, r)| **r).map(|(i, _)| i as EdgeId).collect()
}
