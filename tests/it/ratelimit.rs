//! Issue 14, item 1: rate limiters (docs/scenario-format.md, Rate limits). Envoy's
//! local rate limit token bucket on a service (per replica) and in a policy, against a
//! hand replay of the same arrival times and against the binomial closed form of Poisson
//! arrivals; resilience4j's RateLimiter; the bad input they add.

use crate::common::*;
use faultline::model::RunOutput;
use faultline::spec::Cause;
use serde_json::{Value, json};

const MS: u64 = 1_000_000;

fn rate_limited(out: &RunOutput) -> u64 {
    out.workloads[0].outcomes.failed[Cause::RateLimited as usize]
}

/// One workload at `arrival` onto `api.get` (1 ms, ample workers). `server` puts the
/// limit on the service, else in the workload's policy.
fn system(limit: Value, server: bool, arrival: Value, duration: &str) -> Value {
    let mut v = json!({
        "name": "rl", "duration": duration, "warmup": "0s",
        "services": {"api": {"concurrency": 1000, "endpoints": {"get": {"latency": {"constant": "1ms"}}}}},
        "workload": [{"name": "load", "target": "api.get", "arrival": arrival}]
    });
    if server {
        v["services"]["api"]["rate_limit"] = limit;
    } else {
        v["policies"] = json!({"p": {"rate_limit": limit}});
        v["workload"][0]["policy"] = json!("p");
    }
    v
}

/// Envoy's timer replayed literally: a fill event at every multiple of `fill` (before
/// an arrival at the same instant), then each arrival of `times` (ascending) takes a
/// token or is refused. Returns (admitted, refused).
fn hand_replay(max: u64, per: u64, fill: u64, times: impl Iterator<Item = u64>) -> (u64, u64) {
    let (mut tokens, mut next_fill, mut ok, mut refused) = (max, fill, 0, 0);
    for t in times {
        while next_fill <= t {
            tokens = (tokens + per).min(max);
            next_fill += fill;
        }
        if tokens > 0 {
            tokens -= 1;
            ok += 1;
        } else {
            refused += 1;
        }
    }
    (ok, refused)
}

/// `first`, `first + gap`, ... below `end`.
fn every(first: u64, gap: u64, end: u64) -> impl Iterator<Item = u64> {
    (0..).map(move |k| first + k * gap).take_while(move |&t| t < end)
}

#[test]
fn a_token_bucket_refuses_exactly_what_a_hand_replay_refuses() {
    // Arrivals every 25 ms for 10 s (400 of them), against buckets that fill slower than
    // that, on the server (per replica, one replica) and in the caller's policy.
    for (max, per, fill_ms) in [(3u64, 2u64, 70u64), (1, 1, 40), (10, 3, 100), (5, 1, 25)] {
        let want = hand_replay(max, per, fill_ms * MS, every(25 * MS, 25 * MS, 10_010 * MS));
        for server in [true, false] {
            let limit = json!({"token_bucket": {"max_tokens": max, "tokens_per_fill": per,
                                                "fill_interval": format!("{fill_ms}ms")}});
            let s = spec(&system(limit, server, json!({"constant": {"rate": 40}}), "10010ms"));
            let out = run(&s);
            let w = &out.workloads[0];
            assert_eq!(w.offered, 400);
            assert_eq!(
                (w.outcomes.ok, rate_limited(&out)),
                want,
                "max {max} per {per} fill {fill_ms} ms server {server}"
            );
        }
    }
}

/// With `max_tokens` 1 and Poisson arrivals at λ, each fill interval `f` starts with one
/// token (the fill tops the bucket up to 1), so it admits exactly one request iff at
/// least one arrives in it: admitted ~ Binomial(n = T/f, p = 1 − e^(−λf)), and the
/// admitted rate tends to the fill rate 1/f as λ grows.
#[test]
fn poisson_far_above_the_fill_rate_is_admitted_at_the_fill_rate() {
    let (t_s, f_ms) = (60.0, 10.0);
    let n = t_s * 1000.0 / f_ms;
    for (lambda, server) in [(200.0, true), (2000.0, true), (200.0, false)] {
        let limit = json!({"token_bucket": {"max_tokens": 1, "fill_interval": "10ms"}});
        let s = spec(&system(limit, server, json!({"poisson": {"rate": lambda}}), "60s"));
        let out = run(&s);
        let p = 1.0 - (-lambda * f_ms / 1000.0_f64).exp();
        let (mean, sd) = (n * p, (n * p * (1.0 - p)).sqrt());
        let ok = out.workloads[0].outcomes.ok as f64;
        // 4 standard deviations, and at least 1 for the one interval the end may cut.
        let tol = (4.0 * sd).max(1.0);
        eprintln!(
            "λ {lambda}/s server {server}: admitted {ok}, binomial mean {mean:.1}, sd {sd:.2}, error {:.2} sd",
            (ok - mean) / sd.max(1e-9)
        );
        assert!((ok - mean).abs() <= tol, "λ {lambda}: admitted {ok}, expected {mean:.1} ± {tol:.1}");
        assert!(ok <= n, "more admitted than fills: {ok} > {n}");
        let offered = out.workloads[0].offered as f64;
        assert_eq!(ok as u64 + rate_limited(&out), offered as u64);
        if lambda >= 2000.0 {
            // e^(−20): the admitted rate is the fill rate, 100/s.
            assert!((ok / t_s - 100.0).abs() <= 1.0 / t_s, "admitted rate {}", ok / t_s);
        }
    }
}

#[test]
fn the_server_bucket_is_per_replica() {
    // Two replicas, round robin from one client: replica 0 sees the arrivals at 25, 75,
    // 125 ms, ..., replica 1 those at 50, 100, ...; each has its own bucket.
    let (max, fill) = (2u64, 70 * MS);
    let limit = json!({"token_bucket": {"max_tokens": max, "fill_interval": "70ms"}});
    let mut v = system(limit, true, json!({"constant": {"rate": 40}}), "10010ms");
    v["services"]["api"]["replicas"] = json!(2);
    let out = run(&spec(&v));
    let end = 10_010 * MS;
    let (a0, r0) = hand_replay(max, 1, fill, every(25 * MS, 50 * MS, end));
    let (a1, r1) = hand_replay(max, 1, fill, every(50 * MS, 50 * MS, end));
    assert_eq!((out.workloads[0].outcomes.ok, rate_limited(&out)), (a0 + a1, r0 + r1));
    // One shared bucket would have admitted fewer.
    let (shared, _) = hand_replay(max, 1, fill, every(25 * MS, 25 * MS, end));
    assert!(shared < a0 + a1);
}

fn r4j(limit: u32, period: &str, timeout: &str) -> Value {
    json!({"limit_for_period": limit, "limit_refresh_period": period, "timeout": timeout})
}

#[test]
fn resilience4j_without_timeout_admits_limit_for_period_per_cycle() {
    // 10 arrivals a second (at 100 ms, 200 ms, ...), 3 permissions per second, no wait:
    // cycle k (k ≥ 1) holds arrivals 10k .. 10k + 9 and admits the first three; cycle
    // 0 holds 9 arrivals (100 .. 900 ms) and admits three. 20 cycles (the last arrival
    // is at 19.9 s).
    let s = spec(&system(r4j(3, "1s", "0s"), false, json!({"constant": {"rate": 10}}), "19950ms"));
    let out = run(&s);
    assert_eq!(out.workloads[0].offered, 199);
    assert_eq!((out.workloads[0].outcomes.ok, rate_limited(&out)), (60, 139));
}

#[test]
fn resilience4j_callers_wait_for_reserved_permissions_up_to_the_timeout() {
    // 10 arrivals a second against 5 permissions a second and a 2 s timeout: the backlog
    // of reservations grows until a caller would wait more than 2 s; from then on about
    // 5 a second are admitted (after waits close to 2 s) and 5 refused after waiting 2 s.
    let s = spec(&system(r4j(5, "1s", "2s"), false, json!({"constant": {"rate": 10}}), "60s"));
    let out = run(&s);
    let w = &out.workloads[0];
    // Demand exceeds the permissions, so every permission of cycles 0 .. 59 is used by
    // a caller that proceeds within the run: 300 admitted and done. Reservations reach
    // at most two cycles ahead (a third would wait beyond 2 s), so at most 10 callers
    // still wait for theirs at the end, with the refused ones still parked.
    assert_eq!(w.outcomes.ok, 300);
    assert_eq!(w.offered, 599);
    assert!(w.in_flight <= 10 + 20, "in flight {}", w.in_flight);
    assert_eq!(w.offered, w.outcomes.ok + rate_limited(&out) + w.in_flight);
    // Refused callers waited the whole timeout (resilience4j parks them for it).
    let fl = w.failed_latency.mean_ms().unwrap();
    assert!((fl - 2000.0).abs() < 2.0, "refused after {fl} ms");
    // Admitted callers' waits never exceed the timeout (plus the 1 ms service).
    assert!(w.latency.max_ms().unwrap() <= 2001.0 + 2.0);
    assert!(w.latency.mean_ms().unwrap() > 1000.0);
}

#[test]
fn rate_limited_is_retried_only_when_retry_on_names_it() {
    let limit = json!({"token_bucket": {"max_tokens": 1, "fill_interval": "1s"}});
    let mut v = system(limit, true, json!({"constant": {"rate": 10}}), "10s");
    v["policies"] = json!({"p": {"retry": {"max_attempts": 3}}});
    v["workload"][0]["policy"] = json!("p");
    let out = run(&spec(&v));
    let e = &out.edges[0];
    assert_eq!(e.attempts, e.calls, "rate_limited is not retried by default");
    v["policies"]["p"]["retry"]["retry_on"] = json!(["rate_limited"]);
    let out = run(&spec(&v));
    let e = &out.edges[0];
    assert!(e.attempts > e.calls + e.calls / 2, "retried: {} attempts for {} calls", e.attempts, e.calls);
    assert!(out.edges[0].outcomes.failed[Cause::RateLimited as usize] > 0);
}

#[test]
fn bad_rate_limits_are_located_errors() {
    let tb = |k: &str, x: Value| {
        let mut l = json!({"token_bucket": {"max_tokens": 5, "fill_interval": "1s"}});
        l["token_bucket"][k] = x;
        l
    };
    let cases: Vec<(Value, &str, &str)> = vec![
        (
            system(tb("fill_interval", json!("0s")), true, json!({"constant": {"rate": 1}}), "1s"),
            "/services/api/rate_limit/token_bucket/fill_interval",
            "greater than 0",
        ),
        (
            system(tb("max_tokens", json!(0)), false, json!({"constant": {"rate": 1}}), "1s"),
            "/policies/p/rate_limit/token_bucket/max_tokens",
            "at least 1",
        ),
        (
            system(tb("tokens_per_fil", json!(2)), true, json!({"constant": {"rate": 1}}), "1s"),
            "/services/api/rate_limit/token_bucket",
            "tokens_per_fil",
        ),
        (
            system(r4j(5, "1s", "1s"), true, json!({"constant": {"rate": 1}}), "1s"),
            "/services/api/rate_limit",
            "token_bucket",
        ),
        (
            system(r4j(5, "0s", "1s"), false, json!({"constant": {"rate": 1}}), "1s"),
            "/policies/p/rate_limit/limit_refresh_period",
            "greater than 0",
        ),
    ];
    for (v, path, what) in cases {
        let p = temp_scenario("ratelimit-bad", &serde_json::to_string_pretty(&v).unwrap());
        let o = bin().arg("check").arg(&p).output().unwrap();
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(err.contains(path), "{path} not in: {err}");
        assert!(err.contains(what), "{what} not in: {err}");
        assert!(err.contains("line"), "not located by line: {err}");
    }
}

/// A 3 s spike (300/s over a 40/s base) against a server bucket of 50 per second whose
/// 429s carry `Retry-After: 2s`; the callers retry `rate_limited` 3 times, 20 ms apart.
fn spike(honor: bool) -> Value {
    json!({
        "name": "retry-after", "duration": "40s", "warmup": "0s",
        "services": {"api": {"concurrency": 1000,
            "rate_limit": {"token_bucket": {"max_tokens": 50, "tokens_per_fill": 50, "fill_interval": "1s"},
                           "retry_after": "2s"},
            "endpoints": {"get": {"latency": {"constant": "1ms"}}}}},
        "policies": {"p": {"retry": {"max_attempts": 4, "retry_on": ["rate_limited"],
                                     "backoff": {"constant": "20ms"}, "honor_retry_after": honor}}},
        "workload": [{"name": "load", "target": "api.get", "policy": "p",
                      "arrival": {"poisson": {"rate": 40}},
                      "schedule": [{"at": "20s", "rate": 300}, {"at": "23s", "rate": 40}]}]
    })
}

#[test]
fn honouring_retry_after_spreads_the_retries_of_an_overload() {
    use faultline::metrics::Scope;
    let mut per_s = Vec::new();
    for honor in [false, true] {
        let s = spec(&spike(honor));
        let out = run(&s);
        let col = out.series.column(Scope::Endpoint, "api.get", "requests").unwrap().values.clone();
        // Intervals of 1 s: index i covers [i, i + 1) s.
        let spike_rate = col[20..23].iter().sum::<f64>() / 3.0;
        let after_rate = col[23..27].iter().sum::<f64>() / 4.0;
        let w = &out.workloads[0];
        eprintln!(
            "honor_retry_after {honor}: attempts/s during the spike {spike_rate:.0}, in the 4 s after {after_rate:.0}; \
             ok {} of {} ({} rate_limited)",
            w.outcomes.ok,
            w.offered,
            rate_limited(&out)
        );
        per_s.push((spike_rate, after_rate, w.outcomes.ok));
    }
    let (without, with) = (per_s[0], per_s[1]);
    // Without: every refused call comes back 3 more times within 60 ms, inside the spike.
    assert!(without.0 > 900.0, "{without:?}");
    // With: retries wait 2 s, so the spike sees mostly first tries and its retries
    // land after it, where the bucket has room again.
    assert!(with.0 < 0.5 * without.0, "{with:?} vs {without:?}");
    assert!(with.1 > without.1, "{with:?} vs {without:?}");
    assert!(with.2 > without.2, "more calls succeed when the retries wait: {with:?} vs {without:?}");
}

#[test]
fn retry_after_belongs_to_a_service() {
    let mut v = system(r4j(5, "1s", "1s"), false, json!({"constant": {"rate": 1}}), "1s");
    v["policies"]["p"]["rate_limit"]["retry_after"] = json!("1s");
    let p = temp_scenario("ratelimit-bad", &serde_json::to_string_pretty(&v).unwrap());
    let o = bin().arg("check").arg(&p).output().unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("/policies/p/rate_limit/retry_after"), "{err}");
}
