//! The answers of the two overload-control examples of issue 14 (README, "Overload
//! control"), checked through the binary as a user gets them: `faultline compare` on
//! the committed scenario, then each threshold's value per variant and seed read from
//! `compare.json`. Three seeds: every claim below must hold on each of them, not on
//! their mean.

use crate::common::*;
use serde_json::Value;

const SEEDS: usize = 3;

/// `compare SCENARIO --seeds 3 --out TMP`; returns `compare.json`'s `thresholds`.
fn thresholds(name: &str) -> Value {
    let dir = std::env::temp_dir().join(format!("faultline-overload-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let o = bin()
        .args(["compare", &format!("scenarios/{name}.json"), "--seeds", &SEEDS.to_string(), "--out"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(o.status.success(), "{name}: {}", stderr(&o));
    let v: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("compare.json")).unwrap()).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    v["thresholds"].clone()
}

/// The values, one per seed, of the threshold `scope · expression` in `variant`.
fn values(t: &Value, variant: &str, scope: &str, expression: &str) -> Vec<f64> {
    let e = t[variant]
        .as_array()
        .unwrap_or_else(|| panic!("no variant {variant}"))
        .iter()
        .find(|e| e["scope"] == scope && e["expression"] == expression)
        .unwrap_or_else(|| panic!("{variant}: no threshold {scope} · {expression}"));
    let v: Vec<f64> =
        e["values"].as_array().unwrap().iter().map(|x| x.as_f64().expect("a measured value")).collect();
    assert_eq!(v.len(), SEEDS);
    v
}

/// Whether every threshold of `variant` held on every seed.
fn all_hold(t: &Value, variant: &str) -> bool {
    t[variant].as_array().unwrap().iter().all(|e| e["held"] == SEEDS)
}

/// Retry storm (a 10 s threefold slowdown, 3 attempts, no budget): Envoy's gradient
/// controller with its defaults against a resilience4j semaphore bulkhead of 16 per api
/// replica. Both end the storm; during the slowdown the bulkhead serves more than twice
/// what adaptive concurrency does (the gradient reads the slower service as queueing and
/// drops the limit to its minimum of 3 until it measures the minRTT again), and neither
/// reaches the 40% the backend could serve.
#[test]
fn retry_storm_adaptive_answer() {
    let t = thresholds("retry-storm-adaptive");
    let during = |v| values(&t, v, "users", "success >= 40% during slowdown");
    let after = |v| values(&t, v, "users", "success >= 99% during after");
    // Without protection the storm never ends: nothing succeeds after the slowdown.
    assert!(after("none").iter().all(|&s| s < 1.0), "{:?}", after("none"));
    // Both protections end it: back near 100% after the slowdown.
    for v in ["static-bulkhead", "adaptive"] {
        assert!(after(v).iter().all(|&s| s > 98.0), "{v}: {:?}", after(v));
    }
    // During the slowdown the static bulkhead keeps more than twice adaptive's success,
    // on every seed.
    let (b, a) = (during("static-bulkhead"), during("adaptive"));
    for (b, a) in b.iter().zip(&a) {
        assert!(*b > 2.0 * a, "bulkhead {b}% vs adaptive {a}% during the slowdown");
        assert!(*a < 25.0 && *b > 30.0, "bulkhead {b}%, adaptive {a}%");
    }
    // The objective is met by neither.
    for v in ["none", "static-bulkhead", "adaptive"] {
        assert!(!all_hold(&t, v), "{v} meets every threshold");
    }
}

/// A catalog replica killed under 77% load: without shedding checkout loses its
/// objective; both shedders keep it; only CoDel's queue delay keeps recommendations
/// whole before the crash (utilization 90% of 16 workers sheds at 15 busy, a third of
/// recommendations at normal load).
#[test]
fn critical_checkout_answer() {
    let t = thresholds("critical-checkout");
    let success = |v| values(&t, v, "checkout", "success >= 99.5% during catalog-crash");
    let p99 = |v| values(&t, v, "checkout", "p99 < 250ms during catalog-crash");
    let recs_before = |v| values(&t, v, "recommendations", "success >= 99% during before");
    assert!(success("no-shedding").iter().all(|&s| s < 95.0), "{:?}", success("no-shedding"));
    assert!(p99("no-shedding").iter().all(|&p| p > 400.0), "{:?}", p99("no-shedding"));
    for v in ["utilization-90", "queue-delay-20ms"] {
        assert!(success(v).iter().all(|&s| s >= 99.5), "{v}: {:?}", success(v));
        assert!(p99(v).iter().all(|&p| p < 250.0), "{v}: {:?}", p99(v));
    }
    assert!(recs_before("utilization-90").iter().all(|&s| s < 80.0), "{:?}", recs_before("utilization-90"));
    assert!(!all_hold(&t, "no-shedding"));
    assert!(!all_hold(&t, "utilization-90"));
    assert!(all_hold(&t, "queue-delay-20ms"));
}
