//! Rules about whole call paths from a workload (or a consumer group) down:
//! `sync-chain-depth` (the deepest synchronous path and the sum of its timeouts) and
//! `retry-amplification` (the worst-case product of attempts at the leaf). Both are
//! dynamic programmes over the endpoints, callees first, so they stay linear in the
//! size of the topology however many paths it has.

use serde_json::json;

use super::budget::{CallBudget, attempts, call_budget, fmt_u128, ms};
use super::graph::{Graph, SiteId};
use super::rules::CHAIN_DEPTH;
use super::{Finding, Related};
use crate::scenario::pointer::escape;
use crate::spec::EndpointId;

/// One hop of a path: the site that makes the call and the endpoint it calls.
type Hop = (SiteId, EndpointId);

/// The deepest chain below an endpoint.
#[derive(Clone, Copy, Default)]
struct Deep {
    /// Calls below the endpoint on the chain.
    depth: usize,
    /// Whether a hop of the chain has no timeout and no deadline.
    unbounded: bool,
    /// The sum of the bounded hops' budgets, in nanoseconds.
    ns: u128,
    next: Option<Hop>,
}

impl Deep {
    fn key(&self) -> (usize, bool, u128) {
        (self.depth, self.unbounded, self.ns)
    }
}

fn hop_budget(g: &Graph, s: SiteId) -> Option<CallBudget> {
    call_budget(g.sites[s].policy.map(|p| &g.spec.policies[p as usize]))
}

/// A hop on top of the deepest chain below its target.
fn extend(g: &Graph, below: &[Deep], s: SiteId, t: EndpointId) -> Deep {
    let b = below[t as usize];
    let hb = hop_budget(g, s);
    Deep {
        depth: b.depth + 1,
        unbounded: b.unbounded || hb.is_none(),
        ns: b.ns + hb.map_or(0, |h| h.ns),
        next: Some((s, t)),
    }
}

/// The deepest chain from each root: `sync-chain-depth` when it reaches
/// [`CHAIN_DEPTH`] calls.
pub fn sync_chain_depth(g: &Graph, out: &mut Vec<Finding>) {
    let mut below = vec![Deep::default(); g.spec.endpoints.len()];
    for &e in &g.bottom_up {
        let mut best = Deep::default();
        for s in g.endpoint_sites(e) {
            for &(t, _) in &g.sites[s].targets {
                let d = extend(g, &below, s, t);
                if d.key() > best.key() {
                    best = d;
                }
            }
        }
        below[e as usize] = best;
    }
    for root in &g.roots {
        let mut best = Deep::default();
        for &s in &root.sites {
            for &(t, _) in &g.sites[s].targets {
                let d = extend(g, &below, s, t);
                if d.key() > best.key() {
                    best = d;
                }
            }
        }
        // A saga workload's request goes to the orchestrator first.
        let depth = best.depth + usize::from(root.orchestrator.is_some());
        if depth < CHAIN_DEPTH {
            continue;
        }
        let wl = &g.spec.workloads[root.workload as usize];
        let mut names = vec![wl.name.clone()];
        if let Some(o) = root.orchestrator {
            names.push(format!("{} (orchestrator)", g.svc_name(o)));
        }
        let mut hops: Vec<Hop> = Vec::new();
        let mut cur = best.next;
        while let Some((s, t)) = cur {
            hops.push((s, t));
            names.push(g.ep_name(t).to_string());
            cur = below[t as usize].next;
        }
        let mut notes = Vec::new();
        let mut hop_facts = Vec::new();
        for &(s, t) in &hops {
            let b = hop_budget(g, s);
            let words = match &b {
                Some(b) => b.words.clone(),
                None => "no timeout and no deadline: unbounded".to_string(),
            };
            notes.push(format!("{}: {words}", g.call_name(s, t)));
            hop_facts.push(json!({
                "from": g.caller_name(s),
                "to": g.ep_name(t),
                "budget_ms": b.map(|b| ms(b.ns)),
            }));
        }
        let budget = if best.unbounded {
            format!("unbounded (a hop has no timeout; the bounded hops add up to {})", fmt_u128(best.ns))
        } else {
            fmt_u128(best.ns)
        };
        let mut all = vec![format!("path: {}", names.join(" → "))];
        all.push(format!(
            "worst-case latency budget: {budget}, the sum of its hops' timeouts (each: tries × timeout + backoff, at most the deadline)"
        ));
        if root.orchestrator.is_some() {
            all.push("the request to the saga's orchestrator has no timeout of its own; its actions are bounded by the saga's policy".to_string());
        }
        all.extend(notes);
        out.push(Finding {
            rule: super::rules::rule("sync-chain-depth").expect("rule"),
            path: format!("/workload/{}", root.workload),
            message: format!("`{}` makes a synchronous chain {depth} calls deep", wl.name),
            notes: all,
            related: hops
                .iter()
                .filter(|(s, _)| !matches!(g.sites[*s].owner, super::graph::Owner::Workload(_)))
                .map(|&(s, t)| Related {
                    path: g.sites[s].path.clone(),
                    message: format!("calls `{}`", g.ep_name(t)),
                })
                .collect(),
            facts: json!({
                "workload": wl.name,
                "depth": depth,
                "path": names,
                "budget_ms": if best.unbounded { None } else { Some(ms(best.ns)) },
                "bounded_budget_ms": ms(best.ns),
                "hops": hop_facts,
            }),
        });
    }
}

/// The largest product of attempts along a path down from an endpoint that has at least
/// `k` layers that retry (`k` is 0, 1 or 2); `None` when no path has that many.
#[derive(Clone, Copy)]
struct Amp {
    factor: u128,
    next: Option<Hop>,
}

fn layer(g: &Graph, s: SiteId) -> u128 {
    attempts(g.sites[s].policy.map(|p| &g.spec.policies[p as usize])) as u128
}

/// Over every hop of `sites`: the best product with at least `k` retrying layers.
fn best_over(g: &Graph, below: &[[Option<Amp>; 3]], sites: &[SiteId], k: usize) -> Option<Amp> {
    let mut best: Option<Amp> = None;
    for &s in sites {
        let a = layer(g, s);
        let need = k.saturating_sub(usize::from(a > 1));
        for &(t, _) in &g.sites[s].targets {
            if let Some(b) = below[t as usize][need] {
                let f = a.saturating_mul(b.factor);
                if best.is_none_or(|x| f > x.factor) {
                    best = Some(Amp { factor: f, next: Some((s, t)) });
                }
            }
        }
    }
    best
}

/// Retries at two or more layers of one path from a workload or a consumer group.
pub fn retry_amplification(g: &Graph, out: &mut Vec<Finding>) {
    let n = g.spec.endpoints.len();
    let mut below: Vec<[Option<Amp>; 3]> = vec![[None; 3]; n];
    for &e in &g.bottom_up {
        let sites: Vec<SiteId> = g.endpoint_sites(e).collect();
        let mut row = [None; 3];
        for (k, slot) in row.iter_mut().enumerate() {
            let go = best_over(g, &below, &sites, k);
            // Stopping here is a path of factor 1 with no layer.
            *slot = if k == 0 {
                Some(go.filter(|a| a.factor > 1).unwrap_or(Amp { factor: 1, next: None }))
            } else {
                go
            };
        }
        below[e as usize] = row;
    }
    // Workloads: their client (or their saga's actions) is the first layer.
    for root in &g.roots {
        let Some(best) = best_over(g, &below, &root.sites, 2) else { continue };
        let wl = &g.spec.workloads[root.workload as usize];
        let (start, first) = (wl.name.clone(), None);
        report(g, &below, best, 2, start, first, format!("/workload/{}", root.workload), out);
    }
    // Consumer groups: each message is handled up to `max_attempts` times.
    for topic in &g.spec.topics {
        for (gi, grp) in topic.groups.iter().enumerate() {
            let a = grp.max_attempts.max(1) as u128;
            let need = 2 - usize::from(a > 1);
            let Some(b) = below[grp.endpoint as usize][need] else { continue };
            let best = Amp { factor: a.saturating_mul(b.factor), next: b.next };
            let start = format!("topic {} group {}", topic.name, grp.name);
            let path = format!("/topics/{}/subscribers/{gi}", escape(&topic.name));
            let first = Some((a, g.ep_name(grp.endpoint).to_string()));
            report(g, &below, best, need, start, first, path, out);
        }
    }
}

/// Walks the chosen path and writes the finding.
#[allow(clippy::too_many_arguments)]
fn report(
    g: &Graph,
    below: &[[Option<Amp>; 3]],
    best: Amp,
    mut k: usize,
    start: String,
    first: Option<(u128, String)>,
    path: String,
    out: &mut Vec<Finding>,
) {
    let mut names = vec![start.clone()];
    let mut layers: Vec<String> = Vec::new();
    let mut factors: Vec<u128> = Vec::new();
    let mut related = Vec::new();
    if let Some((a, handler)) = &first {
        names.push(handler.clone());
        layers.push(format!("{a} (deliveries of a message to `{handler}`)"));
        factors.push(*a);
    }
    let mut cur = best.next;
    let mut leaf = names.last().cloned().unwrap_or_default();
    while let Some((s, t)) = cur {
        let a = layer(g, s);
        names.push(g.ep_name(t).to_string());
        leaf = g.ep_name(t).to_string();
        if a > 1 {
            let p = g.sites[s].policy.map(|p| &g.spec.policies[p as usize]);
            let tries = super::budget::tries(p);
            let hedges = a - tries as u128;
            let what = if hedges > 0 {
                format!("{tries} tries + {hedges} hedges")
            } else {
                format!("{tries} attempts")
            };
            let policy = g.policy_name(s).unwrap_or("?");
            layers.push(format!("{a} ({}: {what}, policy `{policy}`)", g.call_name(s, t)));
            factors.push(a);
            related.push(Related {
                path: g.sites[s].path.clone(),
                message: format!("{what} under policy `{policy}`"),
            });
        }
        k = k.saturating_sub(usize::from(a > 1));
        cur = below[t as usize][k].and_then(|b| b.next);
    }
    let factor = best.factor;
    out.push(Finding {
        rule: super::rules::rule("retry-amplification").expect("rule"),
        path,
        message: format!(
            "retries at {} layers: up to {factor} attempts reach `{leaf}` for one {}",
            factors.len(),
            if first.is_some() { format!("message of {start}") } else { format!("request of `{start}`") }
        ),
        notes: vec![
            format!("path: {}", names.join(" → ")),
            format!("worst-case factor at `{leaf}`: {} = {factor}", layers.join(" × ")),
        ],
        related,
        facts: json!({
            "from": start,
            "leaf": leaf,
            "factor": super::big(factor),
            "factors": factors.iter().map(|f| super::big(*f)).collect::<Vec<_>>(),
            "path": names,
        }),
    });
}
