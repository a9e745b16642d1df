//! Issue 13's policies: breaker scope (`circuit_breaker.per`), per-step saga policies,
//! and the bulkhead made visible (`timeout_covers_wait`, its figures, Erlang B and
//! M/M/c against the bulkhead's own figures), with the bad input they add.

use crate::common::*;
use faultline::model::RunOutput;
use faultline::report::summary::Summary;
use faultline::spec::{Cause, Spec};
use serde_json::{Value, json};

fn edge<'a>(spec: &Spec, out: &'a RunOutput, name: &str) -> &'a faultline::model::EdgeFigures {
    let i = spec.edges.iter().position(|e| e.name == name).unwrap_or_else(|| panic!("no edge {name}"));
    &out.edges[i]
}

fn breaker<'a>(out: &'a RunOutput, name: &str) -> &'a faultline::model::BreakerFigures {
    let names: Vec<&str> = out.breakers.iter().map(|b| b.name.as_str()).collect();
    out.breakers.iter().find(|b| b.name == name).unwrap_or_else(|| panic!("no breaker {name} in {names:?}"))
}

// ---- breaker scope -------------------------------------------------------------------

/// `api.x` calls `b.x` (always fails), `api.y` calls `b.y` (always succeeds), both under
/// policy `p` with a 5-in-a-row breaker shared by api's replica; the two workloads
/// alternate exactly (constant arrivals at the same rate).
fn two_endpoints(per: &str, y_rate: f64) -> Value {
    json!({
        "name": "per", "duration": "20s", "warmup": "0s",
        "services": {
            "api": {"concurrency": 50, "endpoints": {
                "x": {"steps": [{"call": "b.x", "policy": "p"}]},
                "y": {"steps": [{"call": "b.y", "policy": "p"}]}
            }},
            "b": {"concurrency": 50, "endpoints": {
                "x": {"latency": {"constant": "1ms"}, "errors": {"percent": 100}},
                "y": {"latency": {"constant": "1ms"}}
            }}
        },
        "policies": {"p": {"circuit_breaker": {"consecutive_failures": 5, "open_for": "1s", "per": per}}},
        "workload": [
            {"name": "wx", "target": "api.x", "arrival": {"constant": {"rate": 10}}},
            {"name": "wy", "target": "api.y", "arrival": {"constant": {"rate": y_rate}}}
        ]
    })
}

#[test]
fn per_endpoint_a_healthy_endpoint_no_longer_resets_a_failing_ones_breaker() {
    // per service (today's behaviour): x and y alternate, so every failure of b.x is
    // followed by a success of b.y on the same breaker: it never reaches 5 in a row.
    let s = spec(&two_endpoints("service", 10.0));
    let out = run(&s);
    let br = breaker(&out, "api->b/p");
    assert_eq!((br.per, br.opened), ("service", 0), "{br:?}");
    let x = edge(&s, &out, "api->b.x");
    assert_eq!(x.outcomes.failed[Cause::Error as usize], x.calls);
    assert_eq!(x.outcomes.failed[Cause::CircuitOpen as usize], 0);
    assert_eq!(out.breakers.len(), 1, "one instance for the whole service");

    // per endpoint: b.x's breaker sees only b.x's failures and opens; b.y's never does.
    let s = spec(&two_endpoints("endpoint", 10.0));
    let out = run(&s);
    let (bx, by) = (breaker(&out, "api->b.x/p"), breaker(&out, "api->b.y/p"));
    assert!(bx.opened >= 10, "b.x's breaker opens every time it may: {bx:?}");
    assert_eq!((by.opened, by.refused), (0, 0), "{by:?}");
    let x = edge(&s, &out, "api->b.x");
    assert!(x.outcomes.failed[Cause::CircuitOpen as usize] > x.calls / 2, "{:?}", x.outcomes);
    let y = edge(&s, &out, "api->b.y");
    assert_eq!(y.outcomes.ok, y.calls);
}

#[test]
fn per_service_a_failing_endpoint_trips_the_breaker_for_its_healthy_neighbour() {
    // y ten times rarer: five b.x failures in a row open the shared breaker, and b.y's
    // calls are refused `circuit_open` while it is open; with per endpoint they never are.
    let s = spec(&two_endpoints("service", 1.0));
    let out = run(&s);
    let y = edge(&s, &out, "api->b.y");
    assert!(y.outcomes.failed[Cause::CircuitOpen as usize] > 0, "{:?}", y.outcomes);
    let s = spec(&two_endpoints("endpoint", 1.0));
    let out = run(&s);
    let y = edge(&s, &out, "api->b.y");
    assert_eq!(y.outcomes.ok, y.calls, "{:?}", y.outcomes);
}

/// The guide's gateway: one `forward()` breaker for every service (`per: caller`).
fn gateway(per: &str) -> Value {
    json!({
        "name": "gateway", "duration": "20s", "warmup": "0s",
        "services": {
            "gateway": {"concurrency": 100, "endpoints": {
                "orders": {"steps": [{"call": "order.get", "policy": "forward"}]},
                "pay": {"steps": [{"call": "payment.charge", "policy": "forward"}]}
            }},
            "order": {"concurrency": 100, "endpoints": {"get": {"latency": {"constant": "2ms"}}}},
            "payment": {"concurrency": 100, "endpoints": {
                "charge": {"latency": {"constant": "2ms"}, "errors": {"percent": 100}}
            }}
        },
        "policies": {"forward": {"circuit_breaker": {
            "window": {"count": 20}, "minimum_calls": 10, "failure_rate_threshold": 50,
            "open_for": "2s", "half_open_calls": 2, "per": per
        }}},
        "workload": [
            {"name": "readers", "target": "gateway.orders", "arrival": {"constant": {"rate": 20}}},
            {"name": "payers", "target": "gateway.pay", "arrival": {"constant": {"rate": 20}}}
        ]
    })
}

#[test]
fn per_caller_one_failing_service_opens_the_breaker_for_all() {
    let s = spec(&gateway("caller"));
    let out = run(&s);
    assert_eq!(out.breakers.len(), 1);
    let br = breaker(&out, "gateway->*/forward");
    assert_eq!((br.per, br.scope, br.state_machines), ("caller", "replica", 1));
    assert!(br.opened > 0);
    let o = edge(&s, &out, "gateway->order.get");
    assert!(
        o.outcomes.failed[Cause::CircuitOpen as usize] > o.calls / 2,
        "a healthy service is cut off by another's failures: {:?}",
        o.outcomes
    );
    // Each edge reports the one shared instance.
    assert_eq!(o.breaker_opened, br.opened);

    // Per service, the healthy one is never refused.
    let s = spec(&gateway("service"));
    let out = run(&s);
    assert_eq!(out.breakers.len(), 2);
    assert_eq!(breaker(&out, "gateway->order/forward").opened, 0);
    let o = edge(&s, &out, "gateway->order.get");
    assert_eq!(o.outcomes.ok, o.calls);
}

// ---- per-step saga policies ------------------------------------------------------------

fn saga(step_policy: Value) -> Value {
    json!({
        "name": "steps", "duration": "20s", "warmup": "0s",
        "services": {
            "orders": {"concurrency": 100, "endpoints": {
                "create": {"latency": {"constant": "300ms"}},
                "cancel": {"latency": {"constant": "1ms"}}
            }},
            "payment": {"concurrency": 100, "endpoints": {"charge": {"latency": {"constant": "300ms"}}}}
        },
        "policies": {
            "internal": {"timeout": "1s", "retry": {"max_attempts": 1},
                         "circuit_breaker": {"consecutive_failures": 1000}},
            "payment-client": {"timeout": "100ms", "retry": {"max_attempts": 1},
                               "circuit_breaker": {"consecutive_failures": 1000}}
        },
        "sagas": {"fulfil": {"orchestrator": "orders", "policy": "internal", "steps": [
            {"name": "create", "action": "orders.create", "compensation": "orders.cancel"},
            {"name": "charge", "action": step_policy}
        ]}},
        "workload": [{"name": "buyers", "target": "saga:fulfil", "arrival": {"constant": {"rate": 5}}}]
    })
}

#[test]
fn a_per_step_policy_governs_only_its_step() {
    let s = spec(&saga(json!({"call": "payment.charge", "policy": "payment-client"})));
    let out = run(&s);
    let create = edge(&s, &out, "orders->orders.create");
    let charge = edge(&s, &out, "orders->payment.charge");
    // 300 ms actions: the saga's 1 s timeout lets create through, payment-client's
    // 100 ms times out every charge, and the compensation runs under the saga's.
    // (A call still out at the end of the run is in flight: at most one per edge here.)
    assert!(create.calls > 90);
    assert_eq!(create.outcomes.failed_total(), 0);
    assert!(create.outcomes.ok + 1 >= create.calls);
    let timeouts = charge.outcomes.failed[Cause::Timeout as usize];
    assert_eq!((charge.outcomes.ok, charge.outcomes.failed_total()), (0, timeouts));
    assert!(timeouts + 1 >= charge.calls && timeouts > 90);
    let cancel = edge(&s, &out, "orders->orders.cancel");
    // (The last charge times out at the very end of the run: its cancel may not start.)
    assert_eq!(cancel.outcomes.failed_total(), 0);
    assert!(cancel.outcomes.ok + 1 >= cancel.calls);
    assert!(cancel.calls + 1 >= timeouts && cancel.calls <= timeouts);
    // Each policy has its own breaker instance.
    let names: Vec<&str> = out.breakers.iter().map(|b| b.name.as_str()).collect();
    assert_eq!(names, ["orders->orders/internal", "orders->payment/payment-client"]);

    // The same step written as a plain endpoint takes the saga's policy: no timeouts.
    let s = spec(&saga(json!("payment.charge")));
    let out = run(&s);
    let charge = edge(&s, &out, "orders->payment.charge");
    assert_eq!(charge.outcomes.failed_total(), 0);
    assert!(charge.outcomes.ok + 2 >= charge.calls && charge.outcomes.ok > 90);
    // So does `{"call": ...}` without a policy.
    let s = spec(&saga(json!({"call": "payment.charge"})));
    let out = run(&s);
    assert_eq!(edge(&s, &out, "orders->payment.charge").outcomes.failed_total(), 0);
}

// ---- bulkhead: where the timeout starts --------------------------------------------------

/// 20 users send at once (t = 10 s, their first think) through a bulkhead of 1 to a
/// 100 ms constant endpoint, with a 550 ms per-try timeout and no retry.
fn burst(covers: bool) -> Value {
    json!({
        "name": "burst", "duration": "15s", "warmup": "0s",
        "services": {"api": {"concurrency": 100, "endpoints": {"get": {"latency": {"constant": "100ms"}}}}},
        "policies": {"p": {"timeout": "550ms", "retry": {"max_attempts": 1},
                           "bulkhead": {"max_concurrent": 1, "timeout_covers_wait": covers}}},
        "workload": [{"name": "users", "target": "api.get", "policy": "p",
                      "arrival": {"closed": {"users": 20, "think": {"constant": "10s"}}}}]
    })
}

#[test]
fn timeout_covers_wait_true_and_false_give_the_timeouts_each_predicts() {
    // Attempt j (0-based, FIFO) gets the permit at j × 100 ms and would answer at
    // (j + 1) × 100 ms. Timeout started before the wait: j answers iff (j + 1) × 100 <=
    // 550, so 5 succeed and 15 time out. Started at the permit: every attempt has its
    // 100 ms, so none times out, and the latencies are 100, 200, ..., 2000 ms.
    let s = spec(&burst(true));
    let out = run(&s);
    let w = &out.workloads[0];
    assert_eq!((w.offered, w.outcomes.ok, w.outcomes.failed[Cause::Timeout as usize]), (20, 5, 15));
    let b = edge(&s, &out, "client:users->api.get").bulkhead.as_ref().expect("bulkhead figures");
    assert_eq!((b.max_in_use, b.waited, b.full), (1, 19, 0));

    let s = spec(&burst(false));
    let out = run(&s);
    let w = &out.workloads[0];
    assert_eq!((w.offered, w.outcomes.ok, w.outcomes.failed_total()), (20, 20, 0));
    let mean = w.latency.mean_ms().unwrap();
    assert!((mean - 1050.0).abs() < 1.05, "mean latency {mean} ms, expected 1050");
    assert!((w.latency.max_ms().unwrap() - 2000.0).abs() < 2.0);
    let b = edge(&s, &out, "client:users->api.get").bulkhead.as_ref().unwrap();
    assert_eq!((b.max_in_use, b.waited, b.wait.count()), (1, 19, 19));
    // Waits 100 .. 1900 ms: mean 1000 ms (3 significant digits).
    let wm = b.wait.mean_ms().unwrap();
    assert!((wm - 1000.0).abs() < 1.0, "mean wait {wm} ms");
}

// ---- bulkhead against queueing theory ------------------------------------------------------

/// Poisson arrivals at `rate`/s through a workload policy's bulkhead of `c` onto an
/// endpoint with ample workers and exponential service of mean 1 ms: the bulkhead is
/// the only queue, an M/M/c/c loss system with `max_wait` 0, M/M/c without.
fn bulkhead_system(c: u32, rate: f64, max_wait: Option<&str>) -> Value {
    let mut bh = json!({"max_concurrent": c});
    if let Some(w) = max_wait {
        bh["max_wait"] = json!(w);
    }
    json!({
        "name": "bulkhead-closed-form", "duration": "25s", "warmup": "5s",
        "services": {"server": {"concurrency": 1000, "endpoints": {"serve": {"latency": {"exponential": {"mean": "1ms"}}}}}},
        "policies": {"p": {"bulkhead": bh}},
        "workload": [{"name": "load", "target": "server.serve", "policy": "p", "arrival": {"poisson": {"rate": rate}}}]
    })
}

/// Asserts the replications' mean agrees with `expected` within t(99.9%) standard
/// errors of the replications themselves.
fn agrees(what: &str, xs: &[f64], expected: f64) {
    let (m, se) = mean_se(xs);
    let tol = t999(xs.len() - 1) * se;
    eprintln!(
        "{what}: simulated {m:.5} ± {se:.5} (se), expected {expected:.5}, error {:+.3}%",
        100.0 * (m / expected - 1.0)
    );
    assert!((m - expected).abs() <= tol, "{what}: {m} vs {expected}, tolerance {tol}");
}

fn erlang_b(c: u32, a: f64) -> f64 {
    // The recurrence B(0) = 1, B(k) = a B(k−1) / (k + a B(k−1)).
    (1..=c).fold(1.0, |b, k| a * b / (k as f64 + a * b))
}

fn erlang_c(c: u32, a: f64) -> f64 {
    let b = erlang_b(c, a);
    let rho = a / c as f64;
    b / (1.0 - rho + rho * b)
}

#[test]
fn a_bulkhead_without_wait_blocks_as_erlang_b() {
    // c = 5, a = λ/μ = 4: B(5, 4) = 0.19907.
    let expected = erlang_b(5, 4.0);
    assert!((expected - 0.199067).abs() < 1e-5, "Erlang B itself: {expected}");
    let reps = replicate(&bulkhead_system(5, 4000.0, Some("0ms")), 12);
    let blocking: Vec<f64> = reps
        .iter()
        .map(|(s, o)| {
            let e = edge(s, o, "client:load->server.serve");
            let b = e.bulkhead.as_ref().unwrap();
            assert_eq!(b.full, e.outcomes.failed[Cause::BulkheadFull as usize]);
            assert_eq!((b.waited, b.max_in_use), (0, 5));
            b.full as f64 / e.calls as f64
        })
        .collect();
    agrees("Erlang B blocking, c = 5, a = 4", &blocking, expected);
    // The time series never shows more permits out than the limit.
    let (s, o) = &reps[0];
    let name = &s.edges[s.workloads[0].edge as usize].name;
    let col = o
        .series
        .columns
        .iter()
        .find(|c| c.name == *name && c.metric == "bulkhead_in_use")
        .expect("bulkhead_in_use column");
    assert!(col.values.iter().all(|v| *v <= 5.0) && col.values.iter().any(|v| *v > 0.0));
}

#[test]
fn a_bulkhead_with_unbounded_wait_queues_as_mmc() {
    // c = 4, λ = 3.2/ms, μ = 1/ms: an arrival waits with probability C(4, 3.2), a waiter
    // waits 1/(cμ − λ) = 1.25 ms on average, and the mean wait over all arrivals is their
    // product.
    let c = erlang_c(4, 3.2);
    let reps = replicate(&bulkhead_system(4, 3200.0, None), 12);
    let mut p_wait = Vec::new();
    let mut w_waiters = Vec::new();
    let mut w_all = Vec::new();
    for (s, o) in &reps {
        let e = edge(s, o, "client:load->server.serve");
        let b = e.bulkhead.as_ref().unwrap();
        assert_eq!((b.full, b.max_in_use), (0, 4));
        let p = b.waited as f64 / e.calls as f64;
        let m = b.wait.mean_ms().unwrap();
        p_wait.push(p);
        w_waiters.push(m);
        w_all.push(p * m);
    }
    agrees("M/M/4 bulkhead P(wait) (Erlang C)", &p_wait, c);
    agrees("M/M/4 bulkhead mean wait of a waiter (ms)", &w_waiters, 1.25);
    agrees("M/M/4 bulkhead mean wait (ms)", &w_all, c * 1.25);
}

// ---- the summary ------------------------------------------------------------------------------

#[test]
fn the_summary_names_each_breaker_once_and_shows_the_bulkhead() {
    let s = spec(&gateway("caller"));
    let out = run(&s);
    let v = serde_json::to_value(Summary::of(&s, &out)).unwrap();
    let b = &v["breakers"]["gateway->*/forward"];
    assert_eq!(b["per"], "caller");
    assert!(b["opened"].as_u64().unwrap() > 0 && b["refused"].as_u64().unwrap() > 0);
    assert!(v["calls"]["gateway->order.get"].get("bulkhead").is_none());

    let s = spec(&burst(false));
    let out = run(&s);
    let v = serde_json::to_value(Summary::of(&s, &out)).unwrap();
    let b = &v["calls"]["client:users->api.get"]["bulkhead"];
    assert_eq!(
        (b["max_in_use"].as_u64(), b["waited"].as_u64(), b["full"].as_u64()),
        (Some(1), Some(19), Some(0))
    );
    assert_eq!(b["wait_ms"]["max"].as_f64().map(|m| m.round()), Some(1900.0));
    assert!(v.get("breakers").is_none(), "no breaker, no map");
}

// ---- bad input ----------------------------------------------------------------------------

#[test]
fn unknown_per_and_missing_step_policy_are_located_errors() {
    let mut bad_per = gateway("caller");
    bad_per["policies"]["forward"]["circuit_breaker"]["per"] = json!("instance");
    let bad_step = saga(json!({"call": "payment.charge", "policy": "payment-clinet"}));
    for (v, path) in [
        (bad_per, "/policies/forward/circuit_breaker/per"),
        (bad_step, "/sagas/fulfil/steps/1/action/policy"),
    ] {
        let p = temp_scenario("policies-bad", &serde_json::to_string_pretty(&v).unwrap());
        let o = bin().arg("check").arg(&p).output().unwrap();
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(err.contains(path), "{path} not in: {err}");
        assert!(err.contains("line"), "not located by line: {err}");
    }
}
