//! Edges of the model an outside reviewer would try: many replicas behind many callers,
//! tables that grow with the product of two replica counts, counters near their width,
//! values at the clock's resolution. Each case once broke (a wrong number, a silent
//! gigabyte, a panic) and now gives the real system's answer or stops with a named error.

use crate::common::*;
use serde_json::{Value, json};

/// 100 caller replicas, each sending 100 calls/s through its own balancer (`lb`) to 1000
/// replicas of one worker each (10 ms exponential): 10% busy.
fn fan_in(lb: &str) -> Value {
    json!({
        "name": "fan-in",
        "duration": "6s",
        "warmup": "1s",
        "services": {
            "front": {"replicas": 100, "concurrency": 100, "endpoints": {"e": {
                "steps": [{"call": "back.e", "policy": "p"}]}}},
            "back": {"replicas": 1000, "concurrency": 1, "endpoints": {"e": {
                "latency": {"exponential": {"mean": "10ms"}}}}}
        },
        "policies": {"p": {"load_balancer": lb}},
        "workload": [{"name": "w", "target": "front.e", "arrival": {"poisson": {"rate": 10000}}}]
    })
}

/// Every caller replica's round robin started at replica 0, so 100 callers fed the same
/// way moved in lockstep: their i-th calls all went to replica i at once, and a service
/// 10% busy queued ~99 deep (p50 485 ms for a 10 ms job). gRPC's round_robin picker
/// starts at a random index for this reason; each caller replica now does. With 100
/// starts among 1000 replicas a few callers share one (about C(100,2)/1000 ≈ 5 pairs)
/// and wait for each other, so the median stays near the job's own 6.9 ms and p99 near
/// its 46 ms plus one job.
#[test]
fn caller_replicas_do_not_round_robin_in_lockstep() {
    for lb in ["round_robin", "least_outstanding"] {
        let s = spec(&fan_in(lb));
        let out = run(&s);
        let back = &out.endpoints[1];
        assert!(back.requests > 40_000, "{lb}: {} requests", back.requests);
        let p50 = back.latency.quantile_ms(0.5).unwrap();
        let p99 = back.latency.quantile_ms(0.99).unwrap();
        let queue = back.queue_max;
        assert!(p50 < 12.0 && p99 < 100.0, "{lb}: p50 {p50} ms, p99 {p99} ms, queue max {queue}");
    }
}

/// A p2c balancer and an outlier detector keep, per caller replica, a count and a state
/// per target replica: 3000 callers × 3000 targets are 9 million entries (250 MiB). The
/// estimate made before the run counted 4 bytes × replicas × min(replicas, 4096) (94 MiB)
/// and let it run past a 150 MiB limit; it now counts each client table.
#[test]
fn client_tables_count_against_the_memory_limit() {
    let v = json!({
        "name": "mesh",
        "duration": "1s",
        "limits": {"max_memory_mib": 150},
        "services": {
            "front": {"replicas": 3000, "endpoints": {"e": {"steps": [{"call": "back.e", "policy": "p"}]}}},
            "back": {"replicas": 3000, "endpoints": {"e": {}}}
        },
        "policies": {"p": {"load_balancer": "p2c", "outlier_detection": {}}},
        "workload": [{"name": "w", "target": "front.e", "arrival": {"poisson": {"rate": 10}}}]
    });
    let s = spec(&v);
    match faultline::model::run(&s) {
        Err(e) => {
            let m = e.to_string();
            assert!(m.contains("/limits/max_memory_mib") && m.contains("client tables"), "{m}");
        }
        Ok(_) => panic!("3000 × 3000 client tables ran under a 150 MiB limit"),
    }
}

/// A breaker with a time window keeps one bucket per second (up to 3600) in each of its
/// state machines, one per caller replica: 2000 callers with a one-hour window hold 173
/// MiB before the first call. That ran under a 100 MiB limit; it is now counted.
#[test]
fn breaker_time_windows_count_against_the_memory_limit() {
    let v = json!({
        "name": "breakers",
        "duration": "1s",
        "limits": {"max_memory_mib": 100},
        "services": {
            "front": {"replicas": 2000, "endpoints": {"e": {"steps": [{"call": "back.e", "policy": "p"}]}}},
            "back": {"endpoints": {"e": {}}}
        },
        "policies": {"p": {"circuit_breaker": {"window": {"time": "1h"}, "per": "endpoint"}}},
        "workload": [{"name": "w", "target": "front.e", "arrival": {"poisson": {"rate": 10}}}]
    });
    match faultline::model::run(&spec(&v)) {
        Err(e) => assert!(e.to_string().contains("/limits/max_memory_mib"), "{e}"),
        Ok(_) => panic!("2000 one-hour breaker windows ran under a 100 MiB limit"),
    }
}

/// The autoscaler kept its recommendations and scale events in lists it scanned at every
/// sync, as Kubernetes does with its 15 s period; with a 1 ms `sync_period` (valid) and a
/// one-hour scale-down window, the list held up to 600,000 entries and a ten-minute run
/// took minutes (quadratic in simulated time). The same figures now come from a sliding
/// minimum and maximum and running totals: the run takes about a second.
#[test]
fn a_fast_autoscaler_sync_runs_in_linear_time() {
    let v = json!({
        "name": "hpa-fast",
        "duration": "600s",
        "services": {"s": {"replicas": 2, "concurrency": 4,
            "endpoints": {"e": {"latency": {"exponential": {"mean": "10ms"}}}},
            "autoscale": {"metric": "utilization", "target": 60, "min_replicas": 1, "max_replicas": 20,
                "sync_period": "1ms", "behavior": {"scale_down": {"stabilization_window": "3600s"}}}}},
        "workload": [{"name": "w", "target": "s.e", "arrival": {"poisson": {"rate": 300}},
            "schedule": [{"at": "200s", "rate": 1000}, {"at": "400s", "rate": 100}]}]
    });
    let o = run_within(&v, std::time::Duration::from_secs(60));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let s: Value = serde_json::from_slice(&o.stdout).unwrap();
    // Scaled up for the burst, and never down afterwards: the hour-long window holds
    // the burst's recommendation past the end of the run.
    let a = &s["services"]["s"]["autoscale"];
    assert!(a["max_seen"].as_u64().unwrap() > 2 && a["scale_downs"].as_u64() == Some(0), "{a}");
}

/// `faultline run FILE --json` on `v`, killed (and failed) after `limit`.
fn run_within(v: &Value, limit: std::time::Duration) -> std::process::Output {
    use std::process::Stdio;
    let path = temp_scenario("edges", &v.to_string());
    let mut child = bin()
        .args(["run", path.to_str().unwrap(), "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("faultline run did not end within {limit:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// An `interval` of 0 (or one that does not parse) was refused, then read as 1 ns and
/// refused again: "interval 1ns cuts the 5s run into 5000000000 buckets", a value the
/// user never wrote. One problem, one message.
#[test]
fn a_refused_interval_is_reported_once() {
    for interval in ["0s", "soon"] {
        let v = json!({
            "name": "i", "duration": "5s", "interval": interval,
            "services": {"s": {"endpoints": {"e": {}}}},
            "workload": [{"name": "w", "target": "s.e", "arrival": {"poisson": {"rate": 1}}}]
        });
        let text = serde_json::to_string_pretty(&v).unwrap();
        let e =
            faultline::scenario::load_str(&text, "i.json", &Default::default()).err().unwrap().to_string();
        assert_eq!(e.matches("/interval").count(), 1, "{interval}: {e}");
        assert!(!e.contains("buckets"), "{interval}: {e}");
    }
}

/// 90 of 100 replicas crashed and out of the balancer (a zone down), 50 caller
/// replicas: `random` took the next eligible replica after a draw that fell on a crashed
/// one, and `p2c` the first eligible replica when both draws did, so one replica got ~90%
/// (random) or ~81% (p2c) of the calls: p50 10 s where ten replicas at 50% answer in
/// ~10 ms. `round_robin` and `least_outstanding` went on from a crashed replica to the
/// next eligible one, so nine callers in ten entered the ten replicas left at the same
/// one and moved round them in lockstep (p50 153 and 319 ms). They now draw again, or go
/// on from a random eligible replica, as Envoy picks among its healthy hosts and gRPC
/// rebuilds its picker from a random ready subchannel.
#[test]
fn every_balancer_spreads_over_the_replicas_left() {
    for lb in ["random", "p2c", "round_robin", "least_outstanding"] {
        let faults: Vec<Value> =
            (0..90).map(|i| json!({"crash": {"target": format!("back#{i}"), "start": "0s"}})).collect();
        let v = json!({
            "name": "zone-down",
            "duration": "20s",
            "warmup": "5s",
            "services": {
                "front": {"replicas": 50, "concurrency": 1000,
                          "endpoints": {"e": {"steps": [{"call": "back.e", "policy": "p"}]}}},
                "back": {"replicas": 100, "concurrency": 1, "health_check": {"interval": "1s"},
                         "endpoints": {"e": {"latency": {"exponential": {"mean": "10ms"}}}}}
            },
            "policies": {"p": {"load_balancer": lb}},
            "workload": [{"name": "w", "target": "front.e", "arrival": {"poisson": {"rate": 500}}}],
            "faults": faults
        });
        let out = run(&spec(&v));
        let back = &out.endpoints[1];
        let p50 = back.latency.quantile_ms(0.5).unwrap();
        let p99 = back.latency.quantile_ms(0.99).unwrap();
        assert!(back.requests > 6000, "{lb}: {} requests", back.requests);
        // Fixed: p50 13 ms (random, p2c, least_outstanding) and 20 ms (round_robin: 50
        // callers fed in turn share 10 replicas, so about five enter each one together
        // every turn); broken: 153 ms to 10 s.
        assert!(p50 < 40.0 && p99 < 400.0, "{lb}: p50 {p50} ms, p99 {p99} ms, queue max {}", back.queue_max);
    }
}
