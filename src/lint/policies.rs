//! Rules about the policies of calls: `no-timeout`, `no-circuit-breaker`,
//! `timeout-inversion`, `retry-without-backoff`, `retry-without-budget`.

use serde_json::json;

use super::budget::{attempt_wait, call_budget, ms, no_backoff, tries};
use super::graph::{Graph, Owner, SiteId};
use super::{Finding, Related};
use crate::scenario::duration::format_ns;
use crate::scenario::pointer::escape;
use crate::spec::{EndpointId, Policy, PolicyId};

fn policy<'s>(g: &'s Graph, s: SiteId) -> Option<&'s Policy> {
    g.sites[s].policy.map(|p| &g.spec.policies[p as usize])
}

/// The service-to-service sites (endpoints' steps and sagas' actions), each with the
/// number of sites it stands for: identical calls (same caller, same targets, same
/// policy) are reported once; with `per_saga`, a saga's actions are one call.
fn distinct_sites(g: &Graph, per_saga: bool) -> Vec<(SiteId, usize)> {
    let mut out: Vec<(SiteId, usize)> = Vec::new();
    for (s, site) in g.sites.iter().enumerate() {
        if matches!(site.owner, Owner::Workload(_)) {
            continue;
        }
        let same = |o: &SiteId| {
            let x = &g.sites[*o];
            let whole_saga = per_saga && matches!(site.owner, Owner::Saga(_));
            let targets = whole_saga || x.targets.iter().map(|t| t.0).eq(site.targets.iter().map(|t| t.0));
            x.owner == site.owner && x.policy == site.policy && targets
        };
        match out.iter_mut().find(|(o, _)| same(o)) {
            Some((_, n)) => *n += 1,
            None => out.push((s, 1)),
        }
    }
    out
}

fn targets_text(g: &Graph, s: SiteId) -> String {
    let names: Vec<String> = g.sites[s].targets.iter().map(|(t, _)| format!("`{}`", g.ep_name(*t))).collect();
    names.join(", ")
}

fn saga_policy_path(g: &Graph, s: SiteId) -> Option<String> {
    let Owner::Saga(k) = g.sites[s].owner else { return None };
    let saga = &g.spec.sagas[k as usize];
    let base = format!("/sagas/{}", escape(&saga.name));
    Some(if saga.policy.is_some() { format!("{base}/policy") } else { base })
}

/// A synchronous call with no timeout and no deadline (a saga's actions: once per saga).
pub fn no_timeout(g: &Graph, out: &mut Vec<Finding>) {
    for (s, n) in distinct_sites(g, true) {
        let p = policy(g, s);
        if attempt_wait(p).is_some() {
            continue;
        }
        let why = match g.policy_name(s) {
            Some(name) => format!("policy `{name}` sets neither `timeout` nor `deadline`"),
            None => "the call has no policy: one attempt that waits as long as the callee takes".to_string(),
        };
        let (path, message) = match saga_policy_path(g, s) {
            Some(path) => {
                (path, format!("the actions of {} have no timeout and no deadline", g.caller_name(s)))
            }
            None => {
                let mut m = format!(
                    "call from `{}` to {} has no timeout and no deadline",
                    g.caller_name(s),
                    targets_text(g, s)
                );
                if n > 1 {
                    m.push_str(&format!(" ({n} such calls)"));
                }
                (g.sites[s].path.clone(), m)
            }
        };
        out.push(Finding {
            rule: super::rules::rule("no-timeout").expect("rule"),
            path,
            message,
            notes: vec![why],
            related: Vec::new(),
            facts: json!({"caller": g.caller_name(s), "policy": g.policy_name(s), "calls": n}),
        });
    }
}

/// A call with retries or a timeout but no breaker, where another workload shares the
/// callee's service or the caller's.
pub fn no_circuit_breaker(g: &Graph, out: &mut Vec<Finding>) {
    for (s, n) in distinct_sites(g, false) {
        let Some(p) = policy(g, s) else { continue };
        let guarded = tries(Some(p)) > 1 || p.timeout_ns.is_some() || p.deadline_ns.is_some();
        if !guarded || p.breaker.is_some() {
            continue;
        }
        let Some(caller) = g.caller_service(s) else { continue };
        let mut callee_shared: Vec<&str> = Vec::new();
        let mut caller_shared: Vec<&str> = Vec::new();
        for (i, root) in g.roots.iter().enumerate() {
            if g.reaches_site[i][s] {
                continue;
            }
            let name = g.workload_name(root.workload);
            let callee = g.sites[s]
                .targets
                .iter()
                .any(|(t, _)| g.reaches_service[i][g.spec.endpoints[*t as usize].service as usize]);
            if callee {
                callee_shared.push(name);
            }
            // A saga's orchestrator holds no worker while it waits (the model's rule).
            let holds_worker = matches!(g.sites[s].owner, Owner::Endpoint(_));
            if holds_worker && g.reaches_service[i][caller as usize] {
                caller_shared.push(name);
            }
        }
        if callee_shared.is_empty() && caller_shared.is_empty() {
            continue;
        }
        let q = |v: &[&str]| v.iter().map(|w| format!("`{w}`")).collect::<Vec<_>>().join(", ");
        let mut notes = Vec::new();
        let callees: Vec<&str> = g.sites[s]
            .targets
            .iter()
            .map(|(t, _)| g.svc_name(g.spec.endpoints[*t as usize].service))
            .collect();
        if !callee_shared.is_empty() {
            notes.push(format!(
                "`{}` also serves {}: while it fails, these calls keep hitting it",
                callees.join("`, `"),
                q(&callee_shared)
            ));
        }
        let callee_is_caller = callees.iter().all(|c| *c == g.svc_name(caller));
        let same_note = callee_is_caller && caller_shared == callee_shared;
        if !caller_shared.is_empty() && !same_note {
            notes.push(format!(
                "`{}` also serves {}: while the callee is slow, these calls hold its workers for {}",
                g.svc_name(caller),
                q(&caller_shared),
                call_budget(Some(p)).map_or("ever".to_string(), |b| b.words)
            ));
        }
        let pname = g.policy_name(s).unwrap_or("?");
        let mut message = format!(
            "call from `{}` to {} has {} but no circuit breaker (policy `{pname}`)",
            g.caller_name(s),
            targets_text(g, s),
            if tries(Some(p)) > 1 { "retries" } else { "a timeout" }
        );
        if n > 1 {
            message.push_str(&format!(" ({n} such calls)"));
        }
        out.push(Finding {
            rule: super::rules::rule("no-circuit-breaker").expect("rule"),
            path: g.sites[s].path.clone(),
            message,
            notes,
            related: vec![Related {
                path: format!("/policies/{}", escape(pname)),
                message: format!("policy `{pname}`"),
            }],
            facts: json!({
                "caller": g.caller_name(s),
                "policy": pname,
                "callee_shared_with": callee_shared,
                "caller_shared_with": caller_shared,
            }),
        });
    }
}

/// A call whose whole budget is at least what the caller of its endpoint waits for one
/// attempt.
pub fn timeout_inversion(g: &Graph, out: &mut Vec<Finding>) {
    // The tightest caller of each endpoint: (wait, site).
    let mut tightest: Vec<Option<(u64, SiteId)>> = vec![None; g.spec.endpoints.len()];
    let mut callers: Vec<usize> = vec![0; g.spec.endpoints.len()];
    for (s, site) in g.sites.iter().enumerate() {
        let Some(w) = attempt_wait(policy(g, s)) else { continue };
        for &(t, _) in &site.targets {
            callers[t as usize] += 1;
            let slot = &mut tightest[t as usize];
            if slot.is_none_or(|(x, _)| w < x) {
                *slot = Some((w, s));
            }
        }
    }
    for e in 0..g.spec.endpoints.len() as EndpointId {
        let Some((wait, caller)) = tightest[e as usize] else { continue };
        let cp = g.policy_name(caller).unwrap_or("?");
        let mut caller_notes = vec![format!(
            "{} gives up after {} per attempt (policy `{cp}`), and the work below goes on for nobody",
            g.call_name(caller, e),
            format_ns(wait)
        )];
        if callers[e as usize] > 1 {
            caller_notes.push(format!(
                "{} calls reach `{}` with a timeout; this is the tightest",
                callers[e as usize],
                g.ep_name(e)
            ));
        }
        let caller_related = Related {
            path: g.sites[caller].path.clone(),
            message: format!("the caller waits {}", format_ns(wait)),
        };
        let mut any = false;
        for s in g.endpoint_sites(e) {
            let Some(b) = call_budget(policy(g, s)) else { continue };
            if b.ns < wait as u128 {
                continue;
            }
            any = true;
            let mut notes = vec![format!("`{}` → {}: {}", g.ep_name(e), targets_text(g, s), b.words)];
            notes.extend(caller_notes.iter().cloned());
            out.push(Finding {
                rule: super::rules::rule("timeout-inversion").expect("rule"),
                path: g.sites[s].path.clone(),
                message: format!(
                    "`{}` may wait {} on {}, but its caller gives up after {}",
                    g.ep_name(e),
                    super::budget::fmt_u128(b.ns),
                    targets_text(g, s),
                    format_ns(wait)
                ),
                notes,
                related: vec![caller_related.clone()],
                facts: json!({
                    "endpoint": g.ep_name(e),
                    "callee_budget_ms": ms(b.ns),
                    "caller_wait_ms": ms(wait as u128),
                    "caller": g.caller_name(caller),
                }),
            });
        }
        // No call alone, but the steps one after another: a parallel step takes as long
        // as its slowest branch.
        if any {
            continue;
        }
        let mut total: u128 = 0;
        let mut parts = Vec::new();
        let mut bounded = true;
        for sites in g.steps[e as usize].iter().filter(|s| !s.is_empty()) {
            let step =
                sites.iter().map(|&s| call_budget(policy(g, s)).map(|b| b.ns)).collect::<Option<Vec<_>>>();
            let Some(longest) = step.and_then(|v| v.into_iter().max()) else {
                bounded = false;
                break;
            };
            total += longest;
            parts.push(super::budget::fmt_u128(longest));
        }
        if !bounded || parts.len() < 2 || total < wait as u128 {
            continue;
        }
        let mut notes = vec![format!(
            "the calls of `{}`, one step after another: {} = {}",
            g.ep_name(e),
            parts.join(" + "),
            super::budget::fmt_u128(total)
        )];
        notes.extend(caller_notes);
        out.push(Finding {
            rule: super::rules::rule("timeout-inversion").expect("rule"),
            path: super::graph::endpoint_path(g.spec, e),
            message: format!(
                "the calls of `{}` may take {} together, but its caller gives up after {}",
                g.ep_name(e),
                super::budget::fmt_u128(total),
                format_ns(wait)
            ),
            notes,
            related: vec![caller_related],
            facts: json!({
                "endpoint": g.ep_name(e),
                "callee_budget_ms": ms(total),
                "caller_wait_ms": ms(wait as u128),
                "caller": g.caller_name(caller),
            }),
        });
    }
}

/// Policies that retry (and are used): without a wait between tries, without a budget.
pub fn retry_policies(g: &Graph, out: &mut Vec<Finding>) {
    for (pid, p) in g.spec.policies.iter().enumerate() {
        let Some(r) = p.retry.as_ref().filter(|r| r.max_attempts > 1) else { continue };
        let uses: Vec<String> = g
            .sites
            .iter()
            .enumerate()
            .filter(|(_, site)| site.policy == Some(pid as PolicyId))
            .flat_map(|(s, site)| site.targets.iter().map(move |(t, _)| (s, *t)))
            .map(|(s, t)| g.call_name(s, t))
            .fold(Vec::new(), |mut v, x| {
                if !v.contains(&x) {
                    v.push(x);
                }
                v
            });
        if uses.is_empty() {
            continue;
        }
        let shown = if uses.len() > 4 {
            format!("{}, and {} more", uses[..4].join("; "), uses.len() - 4)
        } else {
            uses.join("; ")
        };
        let used = format!("used on: {shown}");
        let path = format!("/policies/{}/retry", escape(&p.name));
        let facts = json!({"policy": p.name, "max_attempts": r.max_attempts, "uses": uses});
        if no_backoff(r) {
            out.push(Finding {
                rule: super::rules::rule("retry-without-backoff").expect("rule"),
                path: path.clone(),
                message: format!(
                    "policy `{}` retries up to {} times with no wait between tries",
                    p.name,
                    r.max_attempts - 1
                ),
                notes: vec![used.clone()],
                related: Vec::new(),
                facts: facts.clone(),
            });
        }
        if r.budget.is_none() {
            out.push(Finding {
                rule: super::rules::rule("retry-without-budget").expect("rule"),
                path,
                message: format!(
                    "policy `{}` retries with no budget: a failing callee gets {} attempts per call",
                    p.name, r.max_attempts
                ),
                notes: vec![used],
                related: Vec::new(),
                facts,
            });
        }
    }
}
