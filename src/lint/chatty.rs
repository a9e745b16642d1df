//! `chatty-endpoint`: the expected number of calls (attempts) that one request to an
//! endpoint sets off below it, through routes' weights, parallel branches and retries.
//!
//! Expected over the scenario's declared outcomes only: a callee fails an attempt with
//! its `errors` share (and `declines`), or when a required step of its own fails, and a
//! failed attempt is retried when the policy's `retry_on` names the cause. Timeouts,
//! faults, load, hedges and budgets are left out (they are what `run` measures). A step
//! is reached only when the steps before it succeeded; the branches of a `parallel`
//! step are all sent (a failed required branch does not cut its siblings short here).

use serde_json::json;

use super::budget::tries;
use super::graph::{Graph, SiteId};
use super::rules::CHATTY_THRESHOLD;
use super::{Finding, Related};
use crate::spec::{Cause, CauseSet, EndpointId};

/// One execution of an endpoint, in expectation.
#[derive(Clone, Copy, Default)]
struct Exec {
    ok: f64,
    declined: f64,
    /// Calls (attempts) made below it, at every depth.
    calls: f64,
}

/// One call of a site to one target, in expectation.
struct CallExp {
    /// Expected attempts.
    attempts: f64,
    ok: f64,
    declined: f64,
}

fn call_exp(g: &Graph, s: SiteId, t: &Exec) -> CallExp {
    let p = g.sites[s].policy.map(|p| &g.spec.policies[p as usize]);
    let n = tries(p);
    let on = p.and_then(|p| p.retry.as_ref()).map_or(CauseSet::default(), |r| r.retry_on);
    let err = (1.0 - t.ok - t.declined).max(0.0);
    let (err_r, dec_r) = (on.contains(Cause::Error), on.contains(Cause::Declined));
    let q =
        if n > 1 { err * f64::from(u8::from(err_r)) + t.declined * f64::from(u8::from(dec_r)) } else { 0.0 };
    // 1 + q + ... + q^(n-1) attempts; all but the last failed retryably: q^(n-1).
    let (sum, last) = if n == 1 || q == 0.0 {
        (1.0, if n == 1 { 1.0 } else { 0.0 })
    } else if q >= 1.0 {
        (f64::from(n), 1.0)
    } else {
        let last = q.powi(n as i32 - 1);
        ((1.0 - q * last) / (1.0 - q), last)
    };
    let declined = if dec_r { t.declined * last } else { t.declined * sum };
    CallExp { attempts: sum, ok: t.ok * sum, declined }
}

fn exec_of(g: &Graph, e: EndpointId, execs: &[Exec]) -> (Exec, Vec<f64>) {
    let ep = &g.spec.endpoints[e as usize];
    let mut reach = (1.0 - ep.error_p - ep.decline_p).max(0.0);
    let mut declined = ep.decline_p;
    let mut calls = 0.0;
    let mut reach_of_step = Vec::with_capacity(g.steps[e as usize].len());
    for sites in &g.steps[e as usize] {
        reach_of_step.push(reach);
        let (mut ok, mut fail, mut dec, mut step_calls) = (1.0, 0.0, 0.0, 0.0);
        for &s in sites {
            let (mut s_ok, mut s_dec) = (0.0, 0.0);
            for &(t, share) in &g.sites[s].targets {
                let c = call_exp(g, s, &execs[t as usize]);
                step_calls += share * c.attempts * (1.0 + execs[t as usize].calls);
                s_ok += share * c.ok;
                s_dec += share * c.declined;
            }
            if !g.sites[s].optional {
                ok *= s_ok;
                fail += 1.0 - s_ok;
                dec += s_dec;
            }
        }
        calls += reach * step_calls;
        // The step's failures are declines in the share its branches' are.
        let step_dec = if fail > 0.0 { (1.0 - ok) * dec / fail } else { 0.0 };
        declined += reach * step_dec;
        reach *= ok;
    }
    (Exec { ok: reach, declined, calls }, reach_of_step)
}

pub fn chatty_endpoint(g: &Graph, out: &mut Vec<Finding>) {
    let n = g.spec.endpoints.len();
    let mut execs = vec![Exec::default(); n];
    let mut reached: Vec<Vec<f64>> = vec![Vec::new(); n];
    for &e in &g.bottom_up {
        let (x, r) = exec_of(g, e, &execs);
        execs[e as usize] = x;
        reached[e as usize] = r;
    }
    // Callees first, so that the calls below an endpoint already reported are left out
    // of its callers' count: the finding is where the calls are made.
    let mut fired = vec![false; n];
    for &e in &g.bottom_up {
        let mut own = execs[e as usize].calls;
        let mut direct: Vec<(String, f64, SiteId)> = Vec::new();
        for (k, sites) in g.steps[e as usize].iter().enumerate() {
            let reach = reached[e as usize][k];
            for &s in sites {
                for &(t, share) in &g.sites[s].targets {
                    let c = call_exp(g, s, &execs[t as usize]);
                    let below = reach * share * c.attempts * execs[t as usize].calls;
                    if fired[t as usize] {
                        own -= below;
                    }
                    let mine = reach * share * c.attempts * (1.0 + execs[t as usize].calls);
                    match direct.iter_mut().find(|(name, _, _)| name == g.ep_name(t)) {
                        Some(d) => d.1 += mine,
                        None => direct.push((g.ep_name(t).to_string(), mine, s)),
                    }
                }
            }
        }
        if own <= CHATTY_THRESHOLD {
            continue;
        }
        fired[e as usize] = true;
        let total = execs[e as usize].calls;
        direct.sort_by(|a, b| b.1.total_cmp(&a.1));
        let parts: Vec<String> =
            direct.iter().take(6).map(|(name, c, _)| format!("{} via `{name}`", round(*c))).collect();
        let mut notes = vec![format!(
            "expected calls per request: {} (threshold {CHATTY_THRESHOLD}): {}{}",
            round(total),
            parts.join(", "),
            if direct.len() > 6 { ", ..." } else { "" }
        )];
        if own < total {
            notes.push(format!("{} of them are below endpoints reported on their own", round(total - own)));
        }
        let first = direct.first().map(|d| d.2);
        out.push(Finding {
            rule: super::rules::rule("chatty-endpoint").expect("rule"),
            path: super::graph::endpoint_path(g.spec, e),
            message: format!("`{}` makes {} calls per request (expected)", g.ep_name(e), round(total)),
            notes,
            related: first
                .map(|s| Related { path: g.sites[s].path.clone(), message: "the largest share of the calls".to_string() })
                .into_iter()
                .collect(),
            facts: json!({
                "endpoint": g.ep_name(e),
                "calls_per_request": total,
                "threshold": CHATTY_THRESHOLD,
                "by_callee": direct.iter().map(|(n, c, _)| json!({"endpoint": n, "calls": c})).collect::<Vec<_>>(),
            }),
        });
    }
}

/// A count for a message: at most 2 decimals, no trailing zeros.
fn round(x: f64) -> String {
    let s = format!("{x:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}
