//! Netflix concurrency-limits' AIMD limit as the adaptive concurrency filter (issue 14,
//! item 3): the sawtooth it draws against a service whose latency is known, its
//! invariants under crashes and cancellations, and bad input located.

use crate::common::*;
use faultline::metrics::Scope;
use faultline::spec::Cause;
use serde_json::{Value, json};

/// One service of `c` workers (constant service time `s_ms`) and an unbounded queue
/// behind an AIMD filter, offered `rate` requests per second at a constant rate; the
/// series every 5 ms so that each cycle of the limit is seen.
fn scenario(c: u32, s_ms: u32, rate: f64, aimd: Value) -> Value {
    json!({
        "name": "aimd",
        "duration": "20s",
        "warmup": "5s",
        "interval": "5ms",
        "services": {
            "server": {
                "concurrency": c,
                "adaptive_concurrency": {"aimd": aimd},
                "endpoints": {"work": {"latency": {"constant": format!("{s_ms}ms")}}}
            }
        },
        "workload": [{"name": "load", "target": "server.work", "arrival": {"constant": {"rate": rate}}}]
    })
}

/// A deterministic service time S, c workers and an offered load ten times the
/// capacity, so that every slot the limit opens is taken at once (outstanding = L).
/// A request admitted as the n-th outstanding waits for the n − c ahead of it to
/// start, then runs: its latency is about n·S/c, above the timeout T exactly when
/// n > n* = T·c/S (here 40 ms × 20 / 10 ms = 80). While samples are fast each
/// completion adds at most 1, and nothing cuts the limit, so it grows until a request
/// is admitted above n*: the peak is above n*. That request is admitted when the limit
/// first passes n* (by at most c, as completions come in bursts of up to c when the
/// workers are in phase), and its slow sample, the first, comes back once the fewer
/// than n* + c requests ahead of it completed, each adding at most 1: the peak is at
/// most 2n* + c. Every later sample was admitted above n* and is slow: ×0.9 each, down
/// to min_limit, until the backlog drains and the cycle starts again. So the limit saws
/// between min_limit and a peak in (n*, 2n* + c], crossing the knee twice per cycle; a
/// request is admitted with at most 2n* + c outstanding, so no response takes longer
/// than (2n* + c)·S/c + S = 2T + 2S; and with min_limit ≥ c the workers never idle.
/// Measured (series every 1 ms): peaks 149 to 153 (mean 151), a cycle every 160 ms,
/// mean limit 58.3, max latency 79.1 ms. The peak stays under 2n* because a response
/// adds 1 only if its inflight was at least half the limit: those admitted in the
/// trough, with an inflight near min_limit, add nothing once the limit passed twice it.
#[test]
fn the_aimd_limit_saws_between_its_minimum_and_twice_the_knee() {
    let (c, s_ms, t_ms) = (20u32, 10u32, 40u32);
    let knee = (t_ms * c / s_ms) as f64;
    let spec = spec(&scenario(c, s_ms, 20_000.0, json!({"timeout": format!("{t_ms}ms")})));
    let out = run(&spec);
    let col = out.series.column(Scope::Service, "server", "concurrency_limit").expect("the limit's column");
    // After warm-up (5 s = 1000 intervals of 5 ms).
    let l: Vec<f64> = col.values.iter().skip(1000).copied().collect();
    let mean = l.iter().sum::<f64>() / l.len() as f64;
    let (lo, hi) = l.iter().fold((f64::MAX, f64::MIN), |(a, b), &v| (a.min(v), b.max(v)));
    // Cycles: each time the limit rises through the knee.
    let crossings = l.windows(2).filter(|w| w[0] <= knee && w[1] > knee).count();
    let ep = &out.endpoints[0];
    let max_ms = ep.latency.quantile_ms(1.0).unwrap();
    let blocked = ep.outcomes.failed[Cause::Unavailable as usize];
    eprintln!(
        "AIMD, knee n* = {knee}: limit over 5..20 s mean {mean:.1}, min {lo}, max {hi}, {crossings} cycles; \
         ok {} ({:.0}/s), blocked {blocked}, utilization {:.4}, p50 {:?} ms, max {max_ms} ms",
        ep.outcomes.ok,
        ep.outcomes.ok as f64 / 15.0,
        ep.utilization,
        ep.latency.quantile_ms(0.5),
    );
    assert_eq!(lo, 20.0, "the troughs reach min_limit");
    let peak = (knee + 1.0)..=(2.0 * knee + c as f64);
    assert!(peak.contains(&hi), "peak {hi} outside {peak:?}");
    assert!(crossings >= 10, "the limit should cycle through the knee, crossed {crossings} times");
    // No response slower than 2T + 2S (the histogram's 0.1 % resolution aside).
    let bound = 2.0 * t_ms as f64 + 2.0 * s_ms as f64;
    assert!(max_ms <= bound * 1.001, "max latency {max_ms} ms above {bound} ms");
    assert!(ep.utilization > 0.99, "utilization {}", ep.utilization);
    assert!(blocked > 0);
}

/// The filter's invariants (outstanding never above the limit at admission, and at the
/// end equal to the live executions it admitted) under crashes, queue timeouts and
/// cancellations, which AIMD takes as drops (Netflix's gRPC interceptor: a cancelled
/// call is `onDropped`); the limit stays within [min_limit, max_limit] per replica.
#[test]
fn the_aimd_filter_keeps_its_invariants_under_crashes_and_cancellations() {
    let v = json!({
        "name": "aimd-faults",
        "duration": "20s",
        "services": {
            "api": {"concurrency": 1000, "endpoints": {"get": {"steps": [{"call": "server.work", "policy": "p"}]}}},
            "server": {
                "replicas": 3,
                "concurrency": 8,
                "queue": {"timeout": "40ms"},
                "adaptive_concurrency": {"aimd": {"initial_limit": 10, "min_limit": 4, "max_limit": 40, "timeout": "25ms"}},
                "endpoints": {"work": {"latency": {"exponential": {"mean": "10ms"}}}}
            }
        },
        "policies": {"p": {"timeout": "30ms", "cancel_on_timeout": true, "retry": {"max_attempts": 2}}},
        "faults": [{"crash": {"target": "server#1", "start": "10s", "restart_after": "2s"}}],
        "workload": [{"name": "load", "target": "api.get", "arrival": {"poisson": {"rate": 3000}}}]
    });
    let spec = spec(&v);
    let out = run(&spec);
    let col = out.series.column(Scope::Service, "server", "concurrency_limit").unwrap();
    // Three replicas, each within [4, 40].
    assert!(col.values.iter().all(|&v| (12.0..=120.0).contains(&v)), "{:?}", col.values);
    let charts = faultline::charts::run_charts(&spec, &out);
    let services = charts.iter().find(|c| c.file == "services.svg").expect("services chart");
    assert!(services.svg.contains("server: adaptive limit at interval ends (grey: 24 workers)"));
    let again = run(&spec);
    assert_eq!(
        col.values,
        again.series.column(Scope::Service, "server", "concurrency_limit").unwrap().values
    );
}

#[test]
fn bad_aimd_input_is_located() {
    let base = |a: Value| serde_json::to_string_pretty(&scenario(4, 1, 10.0, a)).unwrap();
    let p = "/services/server/adaptive_concurrency/aimd";
    let cases = [
        (json!({"backoff_ratio": 0.3}), format!("{p}/backoff_ratio")),
        (json!({"backoff_ratio": 1.0}), format!("{p}/backoff_ratio")),
        (json!({"timeout": "0s"}), format!("{p}/timeout")),
        (json!({"min_limit": 0}), format!("{p}/min_limit")),
        (json!({"min_limit": 50, "max_limit": 10, "initial_limit": 10}), format!("{p}/min_limit")),
        (json!({"initial_limit": 300}), format!("{p}/initial_limit")),
        (json!({"initial_limit": 5, "min_limit": 10}), format!("{p}/initial_limit")),
        (json!({"backof_ratio": 0.8}), "backof_ratio".to_string()),
    ];
    for (i, (a, needle)) in cases.into_iter().enumerate() {
        let path = temp_scenario(&format!("bad-aimd-{i}"), &base(a.clone()));
        let o = bin().arg("check").arg(&path).output().unwrap();
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{a}: {err}");
        assert!(err.contains(&needle) && !err.contains("panicked"), "{a}: {err}");
    }
    // The defaults and the bounds themselves are accepted.
    for a in
        [json!({}), json!({"backoff_ratio": 0.5, "initial_limit": 200, "min_limit": 1, "timeout": "1ms"})]
    {
        let path = temp_scenario("good-aimd", &base(a.clone()));
        let o = bin().arg("check").arg(&path).output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{a}: {}", stderr(&o));
    }
}

/// A cancelled call is a drop (Netflix's gRPC server interceptor: `onCancel` →
/// `onDropped`). A gateway calls the AIMD-limited service (defaults: timeout 5 s, limit
/// 20 to 200) with a 30 ms timeout, at ten times its capacity (20 workers of 10 ms, so
/// every slot the limit opens is taken at once, as above). Without
/// `cancel_on_timeout` the service never sees the caller give up: an admitted request
/// takes at most 200 × 10 ms / 20 = 100 ms, far below 5 s, so every sample is fast and
/// the limit climbs to max_limit and stays. With it, every request admitted above
/// n* = 30 ms × 20 / 10 ms = 60 outstanding is cancelled at 30 ms (no network latency
/// here, so the caller's 30 ms are the server's), a drop: the limit saws as under its
/// own timeout, its peak in (n*, 2n* + c] = (60, 140] and down to min_limit (measured
/// at 1 ms: peaks 91 to 102, mean limit 50).
#[test]
fn a_cancelled_call_is_a_drop_for_aimd() {
    let run_with = |cancel: bool| {
        let v = json!({
            "name": "aimd-cancel",
            "duration": "10s",
            "warmup": "2s",
            "interval": "5ms",
            "network": {"latency": {"constant": "0s"}},
            "services": {
                "gateway": {"concurrency": 100000,
                    "endpoints": {"in": {"steps": [{"call": "server.work", "policy": "p"}]}}},
                "server": {
                    "concurrency": 20,
                    "adaptive_concurrency": {"aimd": {}},
                    "endpoints": {"work": {"latency": {"constant": "10ms"}}}
                }
            },
            "policies": {"p": {"timeout": "30ms", "cancel_on_timeout": cancel}},
            "workload": [{"name": "load", "target": "gateway.in", "arrival": {"constant": {"rate": 20000}}}]
        });
        let spec = spec(&v);
        let out = run(&spec);
        let col = out.series.column(Scope::Service, "server", "concurrency_limit").unwrap();
        let l: Vec<f64> = col.values.iter().skip(400).copied().collect();
        let (lo, hi) = l.iter().fold((f64::MAX, f64::MIN), |(a, b), &v| (a.min(v), b.max(v)));
        let mean = l.iter().sum::<f64>() / l.len() as f64;
        eprintln!("cancel_on_timeout {cancel}: limit after warm-up min {lo}, max {hi}, mean {mean:.1}");
        (lo, hi)
    };
    let (lo, hi) = run_with(false);
    assert_eq!((lo, hi), (200.0, 200.0), "no drop without cancellations: the limit sits at max_limit");
    let (lo, hi) = run_with(true);
    assert_eq!(lo, 20.0, "the drops take the limit down to min_limit");
    assert!(hi > 60.0 && hi <= 140.0, "peak {hi} outside (n*, 2n* + c] = (60, 140]");
}
