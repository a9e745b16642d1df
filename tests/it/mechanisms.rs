//! Each resilience mechanism's effect in numbers. Where the mechanism is exact (constant
//! arrivals, constant service times, no randomness on the path) the counts are derived
//! by hand and checked exactly; where it is statistical the tolerance is a few standard
//! errors computed from the sample size in the test. Never widen these to make a test
//! pass: a failure is a bug in the model (or a derivation to fix, with the reason).

use crate::common::*;
use faultline::metrics::Scope;
use faultline::model::RunOutput;
use faultline::scenario::LoadOptions;
use faultline::spec::{Cause, Spec};
use serde_json::{Value, json};

const MS: u64 = 1_000_000;

// ---- helpers -----------------------------------------------------------------------

fn edge_ix(spec: &Spec, name: &str) -> usize {
    spec.edges.iter().position(|e| e.name == name).unwrap_or_else(|| panic!("no call edge {name}"))
}

fn ep_ix(spec: &Spec, name: &str) -> usize {
    spec.endpoints.iter().position(|e| e.name == name).unwrap_or_else(|| panic!("no endpoint {name}"))
}

fn wl_ix(spec: &Spec, name: &str) -> usize {
    spec.workloads.iter().position(|w| w.name == name).unwrap_or_else(|| panic!("no workload {name}"))
}

/// `(interval end in s, value)` of one time series.
fn series(out: &RunOutput, scope: Scope, name: &str, metric: &str) -> Vec<(f64, f64)> {
    let col = out
        .series
        .column(scope, name, metric)
        .unwrap_or_else(|| panic!("no series {}/{name}/{metric}", scope.name()));
    out.series.ends.iter().map(|&e| e as f64 / 1e9).zip(col.values.iter().copied()).collect()
}

/// Sum of a series over the intervals that end in `(from_s, to_s]`, i.e. the intervals
/// that lie in `[from_s, to_s)` (the series is on 1 s intervals labelled by their end).
fn series_sum(out: &RunOutput, scope: Scope, name: &str, metric: &str, from_s: f64, to_s: f64) -> f64 {
    series(out, scope, name, metric).iter().filter(|(t, _)| *t > from_s && *t <= to_s).map(|(_, v)| v).sum()
}

fn scenario_file(name: &str) -> Value {
    let path = format!("{}/scenarios/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn load_variant(base: &Value, variant: &str) -> Spec {
    spec_with(base, &LoadOptions { variant: Some(variant.to_string()), ..Default::default() })
}

/// Failures of one cause.
fn failed(o: &faultline::metrics::Outcomes, c: Cause) -> u64 {
    o.failed[c as usize]
}

/// Binomial standard error of a share `p` estimated from `n` trials.
fn binomial_se(p: f64, n: f64) -> f64 {
    (p * (1.0 - p) / n).sqrt()
}

/// Standard normal upper tail, through erfc (Abramowitz and Stegun 7.1.26, absolute
/// error below 1.5e-7, far below the tolerances it feeds).
fn normal_sf(z: f64) -> f64 {
    let x = z / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.3275911 * x.abs());
    let poly =
        t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
    let erfc = poly * (-x * x).exp();
    let erfc = if x >= 0.0 { erfc } else { 2.0 - erfc };
    0.5 * erfc
}

/// Reads a `timeseries.csv` into `(time_s, scope, name, metric, value)` rows.
fn read_csv(path: &std::path::Path) -> Vec<(f64, String, String, String, f64)> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("time_s,scope,name,metric,value"));
    lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            assert_eq!(f.len(), 5, "bad CSV line {l}");
            (f[0].parse().unwrap(), f[1].into(), f[2].into(), f[3].into(), f[4].parse().unwrap())
        })
        .collect()
}

fn csv_sum(
    rows: &[(f64, String, String, String, f64)],
    scope: &str,
    name: &str,
    metric: &str,
    from_s: f64,
    to_s: f64,
) -> f64 {
    rows.iter()
        .filter(|r| r.1 == scope && r.2 == name && r.3 == metric && r.0 > from_s && r.0 <= to_s)
        .map(|r| r.4)
        .sum()
}

// ---- 1. amplification across layers ------------------------------------------------

/// A chain client → a → b → c; every call under `r3` (3 attempts, retry on error, no
/// backoff); the leaf always fails. Constant arrivals, 10/s for 10 s: 99 requests at
/// 0.1 s, 0.2 s, ..., 9.9 s, each over in well under 100 ms (at most 39 executions of
/// 1 ms in a row), so none is in flight at the end and none overlaps another.
fn chain(client_retries: bool, budget: Option<Value>, rate: f64, duration: &str) -> Value {
    let mut retry = json!({"max_attempts": 3, "backoff": {"constant": "0ms"}, "retry_on": ["error"]});
    if let Some(b) = budget {
        retry["budget"] = b;
    }
    let mut wl = json!({"name": "users", "target": "a.x", "arrival": {"constant": {"rate": rate}}});
    if client_retries {
        wl["policy"] = json!("r3");
    }
    json!({
        "name": "amplification", "duration": duration, "warmup": "0s", "seed": 1,
        "services": {
            "a": {"concurrency": 64, "endpoints": {"x": {"latency": {"constant": "1ms"},
                  "steps": [{"call": "b.x", "policy": "r3"}]}}},
            "b": {"concurrency": 64, "endpoints": {"x": {"latency": {"constant": "1ms"},
                  "steps": [{"call": "c.x", "policy": "r3"}]}}},
            "c": {"concurrency": 64, "endpoints": {"x": {"latency": {"constant": "1ms"},
                  "errors": {"percent": 100}}}}
        },
        "policies": {"r3": {"retry": retry}},
        "workload": [wl]
    })
}

#[test]
fn retries_multiply_across_layers_27_calls_at_the_leaf() {
    // Three retrying call edges (client→a, a→b, b→c), 3 attempts each: per workload
    // request a serves 3, b 9 and c 27 executions. Without the client's policy there
    // are two retrying layers: 1, 3 and 9.
    for (client_retries, per_layer) in [(true, [3u64, 9, 27]), (false, [1, 3, 9])] {
        let s = spec(&chain(client_retries, None, 10.0, "10s"));
        let out = run(&s);
        let w = &out.workloads[0];
        let n = w.offered;
        assert_eq!(n, 99, "constant 10/s over 10 s arrives at 0.1 s, ..., 9.9 s");
        assert_eq!(w.in_flight, 0);
        assert_eq!(failed(&w.outcomes, Cause::Error), n, "every request fails");
        let edges = ["client:users->a.x", "a->b.x", "b->c.x"];
        let eps = ["a.x", "b.x", "c.x"];
        let mut calls_per_req = 1;
        for (k, (edge, ep)) in edges.iter().zip(eps).enumerate() {
            let e = &out.edges[edge_ix(&s, edge)];
            let attempts_per_call = if k == 0 && !client_retries { 1 } else { 3 };
            eprintln!(
                "client retries {client_retries}: {edge}: calls {} attempts {} retries {}; {ep} requests {}",
                e.calls,
                e.attempts,
                e.retries,
                out.endpoints[ep_ix(&s, ep)].requests
            );
            assert_eq!(e.calls, calls_per_req * n, "{edge} calls");
            assert_eq!(e.attempts, attempts_per_call * calls_per_req * n, "{edge} attempts");
            assert_eq!(e.retries, (attempts_per_call - 1) * calls_per_req * n, "{edge} retries");
            assert_eq!(failed(&e.outcomes, Cause::Error), e.calls, "{edge}: every call fails with error");
            let f = &out.endpoints[ep_ix(&s, ep)];
            assert_eq!(f.requests, per_layer[k] * n, "{ep} requests");
            assert_eq!(failed(&f.outcomes, Cause::Error), f.requests, "{ep} fails every execution");
            calls_per_req *= attempts_per_call;
        }
    }
}

// ---- 2. a retry budget caps it -------------------------------------------------------

#[test]
fn a_retry_budget_caps_amplification_at_each_layer() {
    // Same chain with a budget of 20% and no reserve (`min_per_second: 0` is accepted by
    // the resolver). Finagle's rule: a retry is allowed while retries + 1 ≤ 0.2 ×
    // first attempts, both counted over the budget's 10 one-second slices (`now / 1 s`).
    // The time series are on the same 1 s intervals, so for every interval i in which a
    // retry was made, the last retry of i saw all of i−9..=i's retries (itself included)
    // and at most their first attempts: retries(i−9..=i) ≤ 0.2 × calls(i−9..=i), exactly.
    // Over the run, blocks of 10 disjoint slices each end in a slice with a retry (the
    // demand never stops: every call fails), so in total retries ≤ 0.2 × calls on each
    // edge and the leaf sees at most 1.2 × the first attempts of b→c, and at most
    // 1.2³ = 1.728 executions per workload request (27 without the budget).
    let s = spec(&chain(true, Some(json!({"percent": 20, "min_per_second": 0})), 50.0, "20s"));
    let out = run(&s);
    let n = out.workloads[0].offered;
    assert_eq!(n, 999);
    assert_eq!(out.workloads[0].in_flight, 0);
    for edge in ["client:users->a.x", "a->b.x", "b->c.x"] {
        let e = &out.edges[edge_ix(&s, edge)];
        let ratio = e.retries as f64 / e.calls as f64;
        eprintln!(
            "{edge}: calls {} retries {} ({ratio:.4} of calls) attempts {}",
            e.calls, e.retries, e.attempts
        );
        assert_eq!(e.attempts, e.calls + e.retries);
        assert!(e.retries as f64 <= 0.2 * e.calls as f64 + 1e-9, "{edge}: budget exceeded over the run");
        // And the budget is used up: every attempt fails and asks for a retry at once,
        // so room is taken within milliseconds of appearing; what can stay unused is the
        // fractional room at the end of each of the two 10 s blocks plus one ask that
        // was not made yet (at most 2 per block).
        assert!(e.retries as f64 >= 0.2 * e.calls as f64 - 4.0, "{edge}: budget not used up");
        let calls = series(&out, Scope::Call, edge, "calls");
        let retries = series(&out, Scope::Call, edge, "retries");
        for i in 0..calls.len() {
            if retries[i].1 == 0.0 {
                continue;
            }
            let lo = i.saturating_sub(9);
            let c: f64 = calls[lo..=i].iter().map(|x| x.1).sum();
            let r: f64 = retries[lo..=i].iter().map(|x| x.1).sum();
            assert!(
                r <= 0.2 * c + 1e-9,
                "{edge}: {r} retries in the 10 s to {} s, {c} first attempts",
                calls[i].0
            );
        }
    }
    let leaf = out.endpoints[ep_ix(&s, "c.x")].requests as f64;
    let bc_calls = out.edges[edge_ix(&s, "b->c.x")].calls as f64;
    eprintln!(
        "leaf requests {leaf} = {:.4} × first attempts, {:.4} per request",
        leaf / bc_calls,
        leaf / n as f64
    );
    assert!(leaf <= 1.2 * bc_calls + 1e-9);
    assert!(leaf <= 1.2f64.powi(3) * n as f64 + 1e-9);
}

// ---- 3. the retry storm ------------------------------------------------------------

#[test]
fn retry_storm_stays_failed_after_its_trigger_unless_a_protection_is_on() {
    let scenario = scenario_file("retry-storm.json");
    // The trigger: a threefold slowdown from 60 s for 10 s, so over at 70 s.
    let slow = &scenario["faults"][0]["slowdown"];
    assert_eq!((slow["start"].as_str(), slow["duration"].as_str()), (Some("60s"), Some("10s")));
    let trigger_end = 70.0;
    let dir = std::env::temp_dir().join(format!("faultline-mech-storm-{}", std::process::id()));
    let ok_share = |variant: &str| -> (f64, f64, f64, f64) {
        let out = dir.join(variant);
        let o = bin()
            .args(["run", "scenarios/retry-storm.json", "--variant", variant, "--out"])
            .arg(&out)
            .output()
            .unwrap();
        // Exit 3: the scenario's thresholds failed, every output written.
        assert!(matches!(o.status.code(), Some(0 | 3)), "{variant}: {}", stderr(&o));
        let rows = read_csv(&out.join("timeseries.csv"));
        let share = |from, to| {
            csv_sum(&rows, "workload", "users", "ok", from, to)
                / csv_sum(&rows, "workload", "users", "offered", from, to)
        };
        // Mean utilization of the backend over the last 60 s.
        let busy = csv_sum(&rows, "endpoint", "backend.work", "utilization", 120.0, 180.0) / 60.0;
        // Before the trigger (after warm-up), just after it, and the last 60 s.
        (share(20.0, 60.0), share(trigger_end + 10.0, 120.0), share(120.0, 180.0), busy)
    };
    let (before, _, last, busy) = ok_share("baseline");
    eprintln!(
        "baseline: ok share {before:.4} before 60 s, {last:.4} in the last 60 s, backend busy {busy:.4}"
    );
    assert!(before > 0.95, "healthy before the trigger");
    assert!(last < 0.10, "the storm outlives its trigger by 50 s and more");
    assert!(busy > 0.95, "the backend stays saturated, with work nobody waits for");
    for v in ["retry-budget", "cancel-on-timeout", "queue-timeout", "no-retries"] {
        let (before, after, last, busy) = ok_share(v);
        eprintln!(
            "{v}: ok share {before:.4} before, {after:.4} in 80-120 s, {last:.4} in the last 60 s, backend busy {busy:.4}"
        );
        assert!(before > 0.95, "{v} before the trigger");
        assert!(last > 0.95, "{v} recovers");
        if v == "no-retries" {
            // Nothing amplifies the load: the system is back within 10 s of the trigger's
            // end, which shows the trigger is over by then.
            assert!(after > 0.95, "no-retries back by 80 s");
        }
    }
}

// ---- 4. the cascade ------------------------------------------------------------------

/// Searchers' ok share while recs is slow (60-120 s), by completions over arrivals.
fn searchers_ok_during_the_fault(variant: &str) -> f64 {
    let s = load_variant(&scenario_file("cascade.json"), variant);
    let out = run(&s);
    let ok = series_sum(&out, Scope::Workload, "searchers", "ok", 60.0, 120.0);
    let offered = series_sum(&out, Scope::Workload, "searchers", "offered", 60.0, 120.0);
    eprintln!(
        "cascade {variant}: searchers ok {ok} of {offered} offered during the fault = {:.4}",
        ok / offered
    );
    ok / offered
}

#[test]
fn a_slow_dependency_takes_an_unrelated_endpoint_down() {
    // Recs at 2 s holds the storefront's workers (64 in all) for 2 s per
    // recommendation: 50/s × 2 s = 100 blocked workers wanted, so search queues too.
    assert!(searchers_ok_during_the_fault("baseline") < 0.80, "the slow recs take search down");
}

#[test]
fn a_cascade_is_contained_by_a_breaker_and_by_a_bulkhead() {
    for variant in ["breaker", "bulkhead"] {
        assert!(searchers_ok_during_the_fault(variant) > 0.99, "{variant} contains the cascade");
    }
}

// ---- 5. hedging ----------------------------------------------------------------------

#[test]
fn hedging_cuts_the_tail_for_about_one_percent_more_calls() {
    let base = scenario_file("tail-at-scale.json");
    let sb = load_variant(&base, "baseline");
    let sh = load_variant(&base, "hedged");
    let (ob, oh) = std::thread::scope(|t| {
        let b = t.spawn(|| run(&sb));
        let h = t.spawn(|| run(&sh));
        (b.join().unwrap(), h.join().unwrap())
    });
    let q = |o: &RunOutput, p: f64| o.workloads[0].latency.quantile_ms(p).unwrap();
    eprintln!(
        "tail at scale: p99 {:.1} → {:.1} ms, p99.9 {:.1} → {:.1} ms",
        q(&ob, 0.99),
        q(&oh, 0.99),
        q(&ob, 0.999),
        q(&oh, 0.999)
    );
    assert!(q(&oh, 0.99) < 0.5 * q(&ob, 0.99), "p99 cut by more than half");
    // The requests slower than 100 ms: without hedging those with a slow shard,
    // 1 − 0.99^20 = 18.2%; with it, those whose shard was slow twice (first attempt and
    // hedge, 0.01² per shard), 1 − (1 − 10⁻⁴)^20 = 0.2%. That 0.2% is above 0.1%, so the
    // p99.9 stays among the twice-slow ones (min of two slow answers, about 170 ms),
    // above 100 ms: hedging once does not halve the p99.9 here, and should not.
    let over_100ms = |o: &RunOutput| {
        let h = o.workloads[0].latency.inner();
        (h.len() - h.count_between(0, 100 * MS)) as f64
    };
    for (o, p, what) in
        [(&ob, 1.0 - 0.99f64.powi(20), "baseline"), (&oh, 1.0 - (1.0 - 1e-4f64).powi(20), "hedged")]
    {
        let n = o.workloads[0].latency.count() as f64;
        let tol = 4.0 * binomial_se(p, n);
        let share = over_100ms(o) / n;
        eprintln!("{what}: {} of {n} over 100 ms = {share:.5} ({p:.5} ± {tol:.5}, 4 se)", over_100ms(o));
        assert!((share - p).abs() <= tol, "{what}: share over 100 ms");
    }
    assert!(q(&oh, 0.999) > 100.0, "the p99.9 is a twice-slow shard's");

    let e = &oh.edges[edge_ix(&sh, "root->shard.lookup")];
    let extra = (e.attempts - e.calls) as f64 / e.calls as f64;
    eprintln!("hedged: {} calls, {} attempts, {} hedges: extra {:.5}", e.calls, e.attempts, e.hedges, extra);
    assert_eq!(e.attempts - e.calls, e.hedges, "no retries: every extra attempt is a hedge");
    assert!((0.005..=0.05).contains(&extra));
    // A hedge fires when the first answer is not back 20 ms after the send: the slow
    // 1% (100-300 ms, always) plus the lognormal part's tail. That lognormal has
    // σ = ln(12/5)/z(0.99) and median 5 ms; the two network legs take 0.4 ms typically,
    // so the threshold on the service time lies between 19 and 20 ms.
    let sigma = (12.0f64 / 5.0).ln() / 2.326_347_874;
    let tail = |ms: f64| normal_sf((ms / 5.0f64).ln() / sigma);
    let p_lo = 0.01 + 0.99 * tail(20.0);
    let p_hi = 0.01 + 0.99 * tail(19.0);
    let n = e.calls as f64;
    let tol = 4.0 * binomial_se(p_hi, n);
    eprintln!("expected hedge share in [{p_lo:.5}, {p_hi:.5}] ± {tol:.5} (4 se)");
    assert!(extra >= p_lo - tol && extra <= p_hi + tol, "hedge share {extra}");
}

// ---- 6. the crashed replica ----------------------------------------------------------

#[test]
fn a_crashed_replica_fails_a_quarter_until_detection_stops_it() {
    let base = scenario_file("crashed-replica.json");
    let run_v = |v: &str| {
        let s = load_variant(&base, v);
        let out = run(&s);
        (s, out)
    };
    let failed_in = |out: &RunOutput, from, to| {
        series_sum(out, Scope::Workload, "users", "failed_error", from, to)
            + series_sum(out, Scope::Workload, "users", "failed_unavailable", from, to)
    };

    // Baseline: round robin sends one call in four to orders#1, down from 30 s to 90 s.
    let (_, out) = run_v("baseline");
    let offered = series_sum(&out, Scope::Workload, "users", "offered", 30.0, 90.0);
    let fails = failed_in(&out, 30.0, 90.0);
    let share = fails / offered;
    let tol = 3.0 * binomial_se(0.25, offered);
    eprintln!("baseline: {fails} of {offered} failed during the crash = {share:.5} (0.25 ± {tol:.5})");
    assert!((share - 0.25).abs() <= tol);
    assert_eq!(
        failed_in(&out, 0.0, 30.0) + failed_in(&out, 91.0, 120.0),
        0.0,
        "no failures outside the crash"
    );

    // Outlier detection (5 consecutive errors, ejections of 10 s × n): to cover the
    // 60 s outage the detector needs 3 ejections (10 + 20 < 60 ≤ 10 + 20 + 30), each
    // earned by 5 errors, so at least 15 failures; the third ejection starts after
    // 60 s and lasts 30 s, past the restart, so there is no fourth. Beyond those 15 only
    // answers the detector ignores can fail: those of calls sent before an ejection and
    // answered during it (at most one per ejection: #1 gets a call every 8 ms on
    // average, the round trip is a few ms), and those of the executions #1 held at the
    // crash (at most its 16 workers plus its queue, which stays empty at this load;
    // they may count toward the first 5). Bound: 15 + 3 + 16 = 34.
    let (s, out) = run_v("outlier-detection");
    let w = &out.workloads[wl_ix(&s, "users")];
    let f = w.outcomes.failed_total();
    eprintln!("outlier detection: {f} failures");
    assert!((15..=34).contains(&f), "{f} failures");
    assert_eq!(out.services[1].queue_max, 0, "orders never queued");

    // Readiness health check every 2 s, unhealthy after 2 failed probes: the replica
    // leaves the balancer at most interval × unhealthy_after + interval = 6 s after the
    // crash (the first failing probe comes within one interval).
    let (_, out) = run_v("health-check");
    let during = failed_in(&out, 30.0, 36.0);
    let after = failed_in(&out, 36.0, 120.0);
    eprintln!("health check: {during} failures in 30-36 s, {after} after");
    for (t, v) in series(&out, Scope::Workload, "users", "failed_error") {
        if v > 0.0 {
            eprintln!("  failures {v} in the interval ending {t} s");
        }
    }
    assert!(during > 0.0);
    assert_eq!(after, 0.0, "failures go on after detection");
    // Exactly: probes fall on even seconds and the crash is scheduled before the probe
    // of 30 s, so the probes of 30 s and 32 s fail and the replica is out at 32 s.
    assert_eq!(failed_in(&out, 32.0, 120.0), 0.0);
}

// ---- 7. a partition surfaces as timeouts ---------------------------------------------

#[test]
fn a_partition_surfaces_as_timeouts_and_the_callee_sees_nothing() {
    // a calls b with a 100 ms timeout and no retries; constant 100/s; network 1 ms each
    // way; b serves in 5 ms. A partition cuts a from b in [10 s, 20 s): the requests
    // arriving at 10.00 s, ..., 19.99 s (1,000) are lost on the way out, time out at
    // +100 ms, and b receives nothing in those ten intervals. Nothing is on the wire at
    // 10 s (the call of 9.99 s is answered at 9.998 s).
    let v = json!({
        "name": "partition", "duration": "30s", "warmup": "0s", "seed": 1,
        "services": {
            "a": {"concurrency": 64, "endpoints": {"x": {"latency": {"constant": "1ms"},
                  "steps": [{"call": "b.y", "policy": "p"}]}}},
            "b": {"concurrency": 64, "endpoints": {"y": {"latency": {"constant": "5ms"}}}}
        },
        "policies": {"p": {"timeout": "100ms"}},
        "network": {"latency": {"constant": "1ms"}},
        "workload": [{"name": "users", "target": "a.x", "arrival": {"constant": {"rate": 100}}}],
        "faults": [{"partition": {"between": [["a"], ["b"]], "start": "10s", "duration": "10s"}}]
    });
    let s = spec(&v);
    let out = run(&s);
    let e = &out.edges[edge_ix(&s, "a->b.y")];
    eprintln!("a->b.y: calls {} ok {} failed {:?}", e.calls, e.outcomes.ok, e.outcomes.failed);
    assert_eq!(e.calls, 2999);
    assert_eq!(failed(&e.outcomes, Cause::Timeout), 1000);
    assert_eq!(failed(&e.outcomes, Cause::Unavailable), 0);
    assert_eq!(e.outcomes.ok, 1999);
    let w = &out.workloads[0];
    assert_eq!(failed(&w.outcomes, Cause::Error), 1000, "a answers error when its call fails");
    assert_eq!(out.endpoints[ep_ix(&s, "b.y")].requests, 1999);
    for (t, r) in series(&out, Scope::Endpoint, "b.y", "requests") {
        let expected = if t <= 1.0 {
            99.0
        } else if t > 10.0 && t <= 20.0 {
            0.0
        } else {
            100.0
        };
        assert_eq!(r, expected, "b.y requests in the interval ending {t} s");
    }
    // The timeouts land 100 ms after the sends: in [10.101 s, 20.091 s).
    let timeouts = series(&out, Scope::Workload, "users", "failed_error");
    assert_eq!(timeouts.iter().filter(|(t, _)| *t == 11.0).map(|x| x.1).sum::<f64>(), 90.0);
    assert_eq!(timeouts.iter().filter(|(t, _)| *t == 21.0).map(|x| x.1).sum::<f64>(), 10.0);
}

// ---- a deadline ----------------------------------------------------------------------

#[test]
fn a_deadline_ends_the_call_before_its_attempts_run_out() {
    // 3 attempts of 100 ms each against a callee that takes 1 s: without a deadline the
    // call would end at 300 ms; the 250 ms deadline ends it then, with `timeout`,
    // during its third attempt.
    let v = json!({
        "name": "deadline", "duration": "10s", "warmup": "0s", "seed": 1,
        "services": {"b": {"concurrency": 100, "endpoints": {"y": {"latency": {"constant": "1s"}}}}},
        "policies": {"p": {"timeout": "100ms", "deadline": "250ms",
                           "retry": {"max_attempts": 3, "backoff": {"constant": "0ms"}, "retry_on": ["timeout"]}}},
        "workload": [{"name": "users", "target": "b.y", "policy": "p", "arrival": {"constant": {"rate": 10}},
                      "schedule": [{"at": "9s", "rate": 0}]}]
    });
    let s = spec(&v);
    let out = run(&s);
    let w = &out.workloads[0];
    let e = &out.edges[0];
    let n = w.offered;
    eprintln!(
        "deadline: {n} calls, {} attempts, failed {:?}, latency min {:?} max {:?} ms",
        e.attempts,
        e.outcomes.failed,
        e.failed_latency.inner().min() as f64 / 1e6,
        e.failed_latency.max_ms()
    );
    assert!(n >= 89);
    assert_eq!(w.in_flight, 0);
    assert_eq!(failed(&w.outcomes, Cause::Timeout), n);
    assert_eq!(e.attempts, 3 * n, "the third attempt was sent at 200 ms");
    assert_eq!(e.retries, 2 * n);
    // HDR histogram with 3 significant digits: 250 ms is recorded within 0.1%.
    // Every call timed out: their latencies are the failures' (issue 11).
    assert_eq!(e.latency.count(), 0);
    let (lo, hi) = (e.failed_latency.inner().min() as f64 / 1e6, e.failed_latency.max_ms().unwrap());
    assert!((lo - 250.0).abs() <= 0.25 && (hi - 250.0).abs() <= 0.25, "latency {lo}..{hi} ms");
}

// ---- a bulkhead ----------------------------------------------------------------------

#[test]
fn a_bulkhead_refuses_exactly_the_calls_that_find_it_full() {
    // At most 2 calls in flight, no waiting; calls every 10 ms (at 10 ms, 20 ms, ...,
    // 9.99 s); each holds its permit 35 ms. Permits end at odd multiples of 5 ms, never
    // at an arrival, so the by-hand replay below is the exact answer: two admitted, two
    // refused, in a 40 ms cycle.
    let v = json!({
        "name": "bulkhead", "duration": "10s", "warmup": "0s", "seed": 1,
        "services": {"b": {"concurrency": 10, "endpoints": {"y": {"latency": {"constant": "35ms"}}}}},
        "policies": {"p": {"bulkhead": {"max_concurrent": 2, "max_wait": "0ms"}}},
        "workload": [{"name": "users", "target": "b.y", "policy": "p", "arrival": {"constant": {"rate": 100}}}]
    });
    let s = spec(&v);
    let out = run(&s);
    let (mut held, mut admitted, mut refused, mut ok): (Vec<u64>, u64, u64, u64) = (vec![], 0, 0, 0);
    for k in 1..=999u64 {
        let t = k * 10 * MS;
        held.retain(|&end| end > t);
        if held.len() < 2 {
            held.push(t + 35 * MS);
            admitted += 1;
            ok += u64::from(t + 35 * MS < 10_000 * MS);
        } else {
            refused += 1;
        }
    }
    assert_eq!((admitted, refused, ok), (500, 499, 498));
    let w = &out.workloads[0];
    let e = &out.edges[0];
    eprintln!(
        "bulkhead: offered {} ok {} failed {:?} in flight {}",
        w.offered, w.outcomes.ok, w.outcomes.failed, w.in_flight
    );
    assert_eq!(w.offered, 999);
    assert_eq!(failed(&w.outcomes, Cause::BulkheadFull), refused);
    assert_eq!(failed(&e.outcomes, Cause::BulkheadFull), refused);
    assert_eq!(w.outcomes.ok, ok);
    assert_eq!(w.in_flight, admitted - ok);
    // Attempts count the tries that went out (common.rs: a call refused on the
    // caller's side makes none), so only the admitted ones, and they reach the callee.
    assert_eq!(e.attempts, admitted);
    assert_eq!(out.endpoints[0].requests, admitted);
}

// ---- cancel_on_timeout ---------------------------------------------------------------

#[test]
fn cancel_on_timeout_stops_the_wasted_work() {
    // Calls every 50 ms with a 50 ms timeout to a callee that takes 100 ms; measured
    // from 1 s to 20 s: the calls of 1.00 s, ..., 19.95 s (380). Without cancellation
    // each execution runs its 100 ms for nobody: busy time in the window 0.05 (the
    // call of 0.95 s) + 379 × 0.1 + 0.05 (the last, cut by the end) = 38 s of 10
    // workers × 19 s, 0.2. With it each is dropped at its caller's timeout:
    // 380 × 0.05 = 19 s, 0.1.
    let mk = |cancel: bool| {
        json!({
            "name": "cancel", "duration": "20s", "warmup": "1s", "seed": 1,
            "services": {"b": {"concurrency": 10, "endpoints": {"y": {"latency": {"constant": "100ms"}}}}},
            "policies": {"p": {"timeout": "50ms", "cancel_on_timeout": cancel}},
            "workload": [{"name": "users", "target": "b.y", "policy": "p", "arrival": {"constant": {"rate": 20}}}]
        })
    };
    let mut util = [0.0; 2];
    for (i, cancel) in [false, true].into_iter().enumerate() {
        let s = spec(&mk(cancel));
        let out = run(&s);
        let ep = &out.endpoints[0];
        eprintln!(
            "cancel {cancel}: abandoned {} utilization {:.6} failed {:?}",
            ep.abandoned, ep.utilization, ep.outcomes.failed
        );
        assert_eq!(out.workloads[0].offered, 380);
        // The last call's timeout falls at 20 s, the end: 379 time out within the run.
        assert_eq!(failed(&out.workloads[0].outcomes, Cause::Timeout), 379);
        util[i] = ep.utilization;
        if cancel {
            assert_eq!(ep.abandoned, 0);
            assert!((ep.utilization - 0.1).abs() < 1e-9);
        } else {
            // Those of the counted calls that end before 20 s: 1.00 s, ..., 19.85 s.
            assert_eq!(ep.abandoned, 378);
            assert!((ep.utilization - 0.2).abs() < 1e-9);
        }
    }
    assert!(util[1] < util[0]);
}

// ---- a consecutive-failure breaker ---------------------------------------------------

#[test]
fn a_consecutive_failure_breaker_opens_each_time_its_trial_fails() {
    // Calls every 10 ms; the callee fails every request from 10 s to 20 s (an abort at
    // 100%). Breaker: open after 5 failures in a row, for 2 s, then half-open (any
    // failure reopens, 2 successes close). OPEN ends strictly after opened + 2 s.
    // 10.00-10.04 s fail → opens at 10.04; 10.05-12.04 refused (200); 12.05 fails →
    // reopens; likewise at 14.06, 16.07, 18.08; at 20.09 the fault is over, 20.09 and
    // 20.10 succeed and close it. Opened 5 times, 2.01 s each; 9 errors, 1,000 refusals.
    let v = json!({
        "name": "breaker", "duration": "30s", "warmup": "0s", "seed": 1,
        "services": {"b": {"concurrency": 10, "endpoints": {"y": {"latency": {"constant": "1ms"}}}}},
        "policies": {"p": {"circuit_breaker": {"consecutive_failures": 5, "open_for": "2s", "success_threshold": 2}}},
        "workload": [{"name": "users", "target": "b.y", "policy": "p", "arrival": {"constant": {"rate": 100}}}],
        "faults": [{"abort": {"target": "b.y", "start": "10s", "duration": "10s", "percent": 100}}]
    });
    let s = spec(&v);
    let out = run(&s);
    let e = &out.edges[0];
    eprintln!(
        "breaker: opened {} open {} s, failed {:?}, ok {}",
        e.breaker_opened, e.breaker_open_s, e.outcomes.failed, e.outcomes.ok
    );
    assert_eq!(e.breaker_opened, 5);
    assert!((e.breaker_open_s - 10.05).abs() < 1e-9);
    assert_eq!(failed(&e.outcomes, Cause::Error), 9);
    assert_eq!(failed(&e.outcomes, Cause::CircuitOpen), 1000);
    assert_eq!(out.endpoints[0].requests, 2999 - 1000);
    assert_eq!(e.attempts, 2999 - 1000, "a refused call sends no attempt");
    assert_eq!(e.outcomes.ok, 2999 - 1009);
    let state = series(&out, Scope::Call, "client:users->b.y", "breaker_state");
    assert!(state.iter().filter(|(t, _)| *t >= 21.0).all(|(_, v)| *v == 0.0), "closed after recovery");
}

// ---- faults --------------------------------------------------------------------------

#[test]
fn an_abort_fails_its_share_of_requests_during_its_window() {
    let v = json!({
        "name": "abort", "duration": "40s", "warmup": "0s", "seed": 3,
        "services": {"b": {"concurrency": 10, "endpoints": {"y": {"latency": {"constant": "1ms"}}}}},
        "workload": [{"name": "users", "target": "b.y", "arrival": {"poisson": {"rate": 200}}}],
        "faults": [{"abort": {"target": "b", "start": "10s", "duration": "20s", "percent": 30}}]
    });
    let s = spec(&v);
    let out = run(&s);
    // Aborts answer at arrival, so requests and their errors fall in the same interval.
    let n = series_sum(&out, Scope::Endpoint, "b.y", "requests", 10.0, 30.0);
    let errors = series_sum(&out, Scope::Workload, "users", "failed_error", 10.0, 30.0);
    let share = errors / n;
    let tol = 4.0 * binomial_se(0.3, n);
    eprintln!("abort: {errors} of {n} = {share:.4} (0.3 ± {tol:.4}, 4 se)");
    assert!((share - 0.3).abs() <= tol);
    let outside = series_sum(&out, Scope::Workload, "users", "failed_error", 0.0, 10.0)
        + series_sum(&out, Scope::Workload, "users", "failed_error", 30.0, 40.0);
    assert_eq!(outside, 0.0);
    assert_eq!(out.workloads[0].outcomes.failed_total() as f64, errors);
}

#[test]
fn a_delay_adds_its_latency_during_its_window() {
    // Constant 10 ms service, constant arrivals every 10 ms; 50 ms more for the
    // requests that start in [10 s, 20 s): 1,000 of them at exactly 60 ms, the other
    // 1,998 that complete at 10 ms. With percent 50 the delayed count is
    // Binomial(1000, 0.5).
    for (percent, seed) in [(100.0, 1u64), (50.0, 2)] {
        let v = json!({
            "name": "delay", "duration": "30s", "warmup": "0s", "seed": seed,
            "services": {"b": {"concurrency": 10, "endpoints": {"y": {"latency": {"constant": "10ms"}}}}},
            "workload": [{"name": "users", "target": "b.y", "arrival": {"constant": {"rate": 100}}}],
            "faults": [{"delay": {"target": "b", "start": "10s", "duration": "10s",
                                  "latency": {"constant": "50ms"}, "percent": percent}}]
        });
        let s = spec(&v);
        let out = run(&s);
        let h = out.workloads[0].latency.inner();
        let slow = h.count_between(60 * MS - 60_000, 60 * MS + 60_000);
        let fast = h.count_between(10 * MS - 10_000, 10 * MS + 10_000);
        eprintln!("delay {percent}%: {slow} at 60 ms, {fast} at 10 ms of {}", h.len());
        // The request of 29.99 s ends at 30 s, the end: 2,998 complete.
        assert_eq!(out.workloads[0].in_flight, 1);
        assert_eq!((slow + fast, h.len()), (2998, 2998), "every latency is 10 ms or 60 ms");
        if percent == 100.0 {
            assert_eq!(slow, 1000);
        } else {
            let tol = 4.0 * binomial_se(0.5, 1000.0) * 1000.0;
            assert!((slow as f64 - 500.0).abs() <= tol, "{slow} delayed, 500 ± {tol}");
        }
    }
}

#[test]
fn loss_on_a_link_times_out_one_minus_the_square_of_delivery() {
    // 10% loss on a→b, applied to the request and to the answer (both travel the a→b
    // path): a call is answered with probability 0.9², so 19% time out.
    let v = json!({
        "name": "loss", "duration": "41s", "warmup": "1s", "seed": 1,
        "services": {
            "a": {"concurrency": 64, "endpoints": {"x": {"latency": {"constant": "1ms"},
                  "steps": [{"call": "b.y", "policy": "p"}]}}},
            "b": {"concurrency": 64, "endpoints": {"y": {"latency": {"constant": "1ms"}}}}
        },
        "policies": {"p": {"timeout": "100ms"}},
        "network": {"latency": {"constant": "1ms"}},
        "workload": [{"name": "users", "target": "a.x", "arrival": {"poisson": {"rate": 200}},
                      "schedule": [{"at": "40s", "rate": 0}]}],
        "faults": [{"loss": {"from": "a", "to": "b", "percent": 10, "start": "0s"}}]
    });
    let s = spec(&v);
    let out = run(&s);
    let e = &out.edges[edge_ix(&s, "a->b.y")];
    assert_eq!(out.workloads[0].in_flight, 0);
    let n = e.outcomes.ended() as f64;
    let timeouts = failed(&e.outcomes, Cause::Timeout) as f64;
    let p = 1.0 - 0.9f64.powi(2);
    let tol = 4.0 * binomial_se(p, n);
    eprintln!("loss: {timeouts} timeouts of {n} calls = {:.4} ({p:.4} ± {tol:.4})", timeouts / n);
    assert!((timeouts / n - p).abs() <= tol);
    assert_eq!(e.outcomes.failed_total() as f64, timeouts, "a lost message is only ever a timeout");
    // Requests that reached b: those not lost on the way out (90%).
    let reached = out.endpoints[ep_ix(&s, "b.y")].requests as f64;
    assert!((reached / n - 0.9).abs() <= 4.0 * binomial_se(0.9, n));
}

// ---- health checks and load balancing ------------------------------------------------

#[test]
fn a_liveness_probe_restarts_a_crashed_replica_before_its_own_restart() {
    // Two replicas, round robin (the even-numbered arrivals go to b#1), constant 100/s.
    // b#1 crashes at 10 s and would restart at 70 s. Liveness probes every 1 s, 2
    // failures to restart, restart after 3 s: probes at 10 s and 11 s fail (the crash
    // is scheduled before the probe of the same instant), the kubelet restarts it at
    // 14 s. The arrivals at 10.00 s, ..., 13.99 s to b#1 fail: 200 (1,000 without the
    // probe, to the end at 30 s).
    let mk = |liveness: bool| {
        let mut v = json!({
            "name": "liveness", "duration": "30s", "warmup": "0s", "seed": 1,
            "services": {"b": {"replicas": 2, "concurrency": 10,
                               "endpoints": {"y": {"latency": {"constant": "1ms"}}}}},
            "workload": [{"name": "users", "target": "b.y", "arrival": {"constant": {"rate": 100}}}],
            "faults": [{"crash": {"target": "b#1", "start": "10s", "restart_after": "60s"}}]
        });
        if liveness {
            v["services"]["b"]["health_check"] = json!({"interval": "1s", "timeout": "500ms",
                "unhealthy_after": 2, "healthy_after": 1, "probe": "liveness", "restart_after": "3s"});
        }
        v
    };
    for (liveness, failures, back_at) in [(true, 200u64, 14.0), (false, 1000, f64::INFINITY)] {
        let s = spec(&mk(liveness));
        let out = run(&s);
        let f = failed(&out.workloads[0].outcomes, Cause::Unavailable);
        eprintln!("liveness {liveness}: {f} unavailable");
        assert_eq!(f, failures);
        assert_eq!(out.workloads[0].outcomes.failed_total(), f);
        for (t, up) in series(&out, Scope::Service, "b", "replicas_up") {
            // The value stands at the interval's end, before the events of that instant.
            let expected = if t <= 10.0 || t > back_at { 2.0 } else { 1.0 };
            assert_eq!(up, expected, "replicas up at {t} s");
        }
    }
}

#[test]
fn a_liveness_restart_does_not_revive_a_replica_that_crashed_again() {
    // As above, and b#1 crashes again at 15.5 s. First outage: probes at 10 s and 11 s
    // fail, restart at 14 s (200 failures, as above). Second: probes at 16 s and 17 s
    // fail, the kubelet restarts it at 20 s; the arrivals to b#1 in [15.5 s, 20 s) fail:
    // 225. Nothing else may bring it back earlier (its own restart is at 75.5 s).
    let v = json!({
        "name": "liveness-twice", "duration": "30s", "warmup": "0s", "seed": 1,
        "services": {"b": {"replicas": 2, "concurrency": 10,
                           "endpoints": {"y": {"latency": {"constant": "1ms"}}},
                           "health_check": {"interval": "1s", "unhealthy_after": 2, "healthy_after": 1,
                                            "probe": "liveness", "restart_after": "3s"}}},
        "workload": [{"name": "users", "target": "b.y", "arrival": {"constant": {"rate": 100}}}],
        "faults": [{"crash": {"target": "b#1", "start": "10s", "restart_after": "60s"}},
                   {"crash": {"target": "b#1", "start": "15.5s", "restart_after": "60s"}}]
    });
    let s = spec(&v);
    let out = run(&s);
    let up = series(&out, Scope::Service, "b", "replicas_up");
    eprintln!("liveness twice: replicas up {:?}", up.iter().map(|x| x.1).collect::<Vec<_>>());
    for (t, n) in up {
        let down = (t > 10.0 && t <= 14.0) || (t > 15.0 && t <= 20.0);
        assert_eq!(n, if down { 1.0 } else { 2.0 }, "replicas up at {t} s");
    }
    assert_eq!(failed(&out.workloads[0].outcomes, Cause::Unavailable), 200 + 225);
}

#[test]
fn round_robin_spreads_requests_evenly_over_replicas() {
    // Three replicas told apart by their latency: b#0 1 ms, b#1 11 ms, b#2 21 ms (delay
    // faults on the replicas, for the whole run). 999 evenly spaced requests: round
    // robin gives each replica exactly 333; the last (9.99 s, to b#2) is still running
    // at the end.
    let v = json!({
        "name": "rr", "duration": "10s", "warmup": "0s", "seed": 1,
        "services": {"b": {"replicas": 3, "concurrency": 10,
                           "endpoints": {"y": {"latency": {"constant": "1ms"}}}}},
        "workload": [{"name": "users", "target": "b.y", "arrival": {"constant": {"rate": 100}}}],
        "faults": [
            {"delay": {"target": "b#1", "start": "0s", "latency": {"constant": "10ms"}}},
            {"delay": {"target": "b#2", "start": "0s", "latency": {"constant": "20ms"}}}
        ]
    });
    let s = spec(&v);
    let out = run(&s);
    let h = out.workloads[0].latency.inner();
    let counts: Vec<u64> =
        [1u64, 11, 21].iter().map(|&ms| h.count_between(ms * MS - ms * 1000, ms * MS + ms * 1000)).collect();
    eprintln!("round robin: {counts:?} of {}", h.len());
    assert_eq!(out.workloads[0].offered, 999);
    assert_eq!(out.workloads[0].in_flight, 1);
    assert_eq!(counts, vec![333, 333, 332]);
}

// ---- figures over the measured window --------------------------------------------------

#[test]
fn utilization_covers_the_whole_window_when_warmup_is_not_on_an_interval_boundary() {
    // Regression: the warm-up snapshot used to be taken at the first interval boundary
    // after the warm-up, once later busy time had been folded in (0.45 for 0.49 here).
    // One worker, 100 ms per request, a request every 200 ms (0.2 s, ..., 9.8 s): 49
    // requests busy 0.1 s each, 4.9 s of 10 s. From a warm-up of 0.5 s: 47 of them,
    // 4.7 s of 9.5 s. From 1 s (a boundary), 45: 4.5 s of 9 s.
    for (warmup, expected) in [("0s", 0.49), ("0.5s", 4.7 / 9.5), ("1s", 0.5)] {
        let v = json!({
            "name": "util", "duration": "10s", "warmup": warmup, "seed": 1,
            "services": {"b": {"concurrency": 1, "endpoints": {"y": {"latency": {"constant": "100ms"}}}}},
            "workload": [{"name": "users", "target": "b.y", "arrival": {"constant": {"rate": 5}}}]
        });
        let s = spec(&v);
        let out = run(&s);
        let u = out.endpoints[0].utilization;
        eprintln!("warm-up {warmup}: utilization {u:.6}, expected {expected:.6}");
        assert!((u - expected).abs() < 1e-9, "warm-up {warmup}: utilization {u}, expected {expected}");
        assert!((out.services[0].utilization - expected).abs() < 1e-9);
    }
    // Breaker figures too: a breaker that opens at 0.051 s (the 5th failure, calls every
    // 10 ms of 1 ms each) with a warm-up of 0 opened once and stays open to the end.
    let v = json!({
        "name": "open-early", "duration": "10s", "warmup": "0s", "seed": 1,
        "services": {"b": {"concurrency": 10, "endpoints": {"y": {"latency": {"constant": "1ms"},
                           "errors": {"percent": 100}}}}},
        "policies": {"p": {"circuit_breaker": {"consecutive_failures": 5, "open_for": "20s", "success_threshold": 2}}},
        "workload": [{"name": "users", "target": "b.y", "policy": "p", "arrival": {"constant": {"rate": 100}}}]
    });
    let s = spec(&v);
    let out = run(&s);
    let e = &out.edges[0];
    eprintln!("open early: opened {} for {} s", e.breaker_opened, e.breaker_open_s);
    assert_eq!(e.breaker_opened, 1);
    assert!((e.breaker_open_s - 9.949).abs() < 1e-9);
}

/// A hedged call with `cancel_on_timeout` whose first answer cancels its other
/// attempts: cancelling one frees a worker that starts a queued hedge of the same call,
/// already past its queue timeout, which answers at once (no network between a workload
/// and its target). That answer used to end the call a second time ("call ended
/// twice", found by `props::every_feature_at_once`); it must find its attempt done.
#[test]
fn a_cancelled_hedge_that_frees_a_worker_does_not_end_its_call_twice() {
    let s = spec(&json!({
        "name": "hedge-cancel", "duration": "2s", "seed": 472,
        "services": {"s": {"concurrency": 2, "queue": {"timeout": "1ms"},
            "endpoints": {"e": {"steps": [{"work": {"exponential": {"mean": "14ms"}}}]}}}},
        "policies": {"p": {"hedge": {"after": "4ms", "max_extra": 3}, "cancel_on_timeout": true}},
        "workload": [{"name": "w", "target": "s.e", "arrival": {"poisson": {"rate": 55}}, "policy": "p"}]
    }));
    let out = run(&s);
    assert!(out.violations.is_empty(), "{:?}", out.violations);
    let w = &out.workloads[0];
    assert!(w.offered > 50, "{} requests", w.offered);
}
