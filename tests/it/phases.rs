//! Honest latencies, the phase cut and `recovery_s` (issue 11) on scenarios built so
//! that the answer is known: closed forms where the path is deterministic, tolerances
//! from the Poisson sample size where it is not.

use crate::common::*;
use faultline::metrics::Scope;
use faultline::model::{PhaseSpan, phase_cut};
use faultline::report::{Summary, summary_table};
use faultline::scenario::LoadOptions;
use serde_json::{Value, json};

fn scenario_file(name: &str) -> Value {
    let path = format!("{}/scenarios/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// One service `svc` (2 replicas, plenty of workers) with `svc.ep` at a constant
/// `latency`, one Poisson workload `users` at `rate`/s, and `faults`.
fn one_service(latency: &str, rate: f64, duration: &str, warmup: &str, faults: Value) -> Value {
    json!({
        "name": "phases-test",
        "duration": duration,
        "warmup": warmup,
        "seed": 7,
        "services": {
            "svc": {"replicas": 2, "concurrency": 1000,
                     "endpoints": {"ep": {"latency": {"constant": latency}}}}
        },
        "workload": [{"name": "users", "target": "svc.ep", "arrival": {"poisson": {"rate": rate}}}],
        "faults": faults
    })
}

// ---- honest latencies ----------------------------------------------------------------

/// Half the requests fail at once (abort 50% of a 10 ms constant endpoint): the
/// successes' latency is exactly the constant (every percentile, the mean and the max,
/// to the histogram's 3 significant digits); the failures' is zero (below 1 µs). Mixed,
/// as before issue 11, the mean would be 5 ms and the p50 either 0 or 10.
#[test]
fn latency_ms_covers_the_successes_and_failed_latency_ms_the_failures() {
    let faults = json!([{"abort": {"target": "svc.ep", "start": "0s", "percent": 50}}]);
    let spec = spec(&one_service("10ms", 400.0, "30s", "5s", faults));
    let out = run(&spec);
    let f = &out.workloads[0];
    let n = f.outcomes.ended() as f64;
    // The share that succeeded: 1/2 within 5 binomial standard errors.
    let share = f.outcomes.ok as f64 / n;
    assert!((share - 0.5).abs() < 5.0 * (0.25 / n).sqrt(), "ok share {share} of {n}");
    assert_eq!(f.latency.count(), f.outcomes.ok);
    assert_eq!(f.failed_latency.count(), f.outcomes.failed_total());
    let s = Summary::of(&spec, &out);
    let w = s.workloads.get("users").unwrap();
    let l = w.latency_ms.0.expect("successes measured");
    // 3 significant digits: within 0.1% of 10 ms.
    for (what, v) in [("mean", l.mean), ("p50", l.p50), ("p90", l.p90), ("p99", l.p99), ("max", l.max)] {
        assert!((v - 10.0).abs() <= 0.011, "{what} of successes: {v} ms");
    }
    let fl = w.failed_latency_ms.0.expect("failures measured");
    assert!(fl.max < 0.001, "failures fail at once: max {} ms", fl.max);
    // The endpoint and the client's call edge say the same.
    let e = s.endpoints.get("svc.ep").unwrap();
    assert!((e.latency_ms.0.unwrap().p50 - 10.0).abs() <= 0.011);
    assert!(e.failed_latency_ms.0.unwrap().max < 0.001);
    // The series' percentiles follow latency_ms: every interval's p50 and p99 of
    // successes is the constant (2 significant digits: within 1%).
    for m in ["p50_ms", "p99_ms"] {
        let col = out.series.column(Scope::Workload, "users", m).unwrap();
        for v in col.values.iter().filter(|v| !v.is_nan()) {
            assert!((v - 10.0).abs() <= 0.1, "{m} of an interval: {v}");
        }
    }
}

// ---- the phase cut ---------------------------------------------------------------------

/// Overlapping faults, a crash with a restart and a rate change, at known times.
fn cut_scenario() -> Value {
    let mut v = one_service(
        "2ms",
        200.0,
        "100s",
        "10s",
        json!([
            {"delay": {"name": "brownout", "target": "svc", "start": "30s", "duration": "10s",
                       "latency": {"constant": "1ms"}, "percent": 100}},
            {"slowdown": {"name": "slow", "target": "svc", "factor": 2, "start": "35s", "duration": "20s"}},
            {"crash": {"name": "crash", "target": "svc#1", "start": "70s", "restart_after": "5s"}}
        ]),
    );
    v["workload"][0]["schedule"] = json!([{"at": "50s", "rate": 400}]);
    v
}

fn span(name: &str, from_s: u64, to_s: u64) -> PhaseSpan {
    PhaseSpan { name: name.to_string(), from_ns: from_s * 1_000_000_000, to_ns: to_s * 1_000_000_000 }
}

#[test]
fn the_window_is_cut_at_every_fault_boundary_and_rate_change() {
    let spec = spec(&cut_scenario());
    assert_eq!(
        phase_cut(&spec),
        [
            span("before", 10, 30),
            span("brownout", 30, 35),
            span("brownout + slow", 35, 40),
            span("slow", 40, 50),
            span("slow + users rate 400/s at 50s", 50, 55),
            span("after slow", 55, 70),
            span("crash", 70, 75),
            span("after", 75, 100),
        ]
    );
}

/// Offered per phase is the arrival rate × the phase's length, within 5 Poisson
/// standard deviations; the phases add up to the workload's figures.
#[test]
fn phases_count_what_started_in_them_and_add_up() {
    let spec = spec(&cut_scenario());
    let out = run(&spec);
    let s = Summary::of(&spec, &out);
    assert_eq!(s.phases.len(), 8);
    let w = s.workloads.get("users").unwrap();
    let (mut offered, mut ok, mut failed, mut in_flight) = (0, 0, 0, 0);
    for p in &s.phases {
        let rate = if p.from_s >= 50.0 { 400.0 } else { 200.0 };
        let want = rate * (p.to_s - p.from_s);
        let f = p.workloads.get("users").unwrap();
        assert!(
            (f.offered as f64 - want).abs() < 5.0 * want.sqrt(),
            "{}: offered {} vs {want}",
            p.name,
            f.offered
        );
        assert_eq!(f.ok + f.failed + f.in_flight, f.offered, "{}", p.name);
        offered += f.offered;
        ok += f.ok;
        failed += f.failed;
        in_flight += f.in_flight;
        if p.name == "after slow" {
            // A request it sent in the last 2 ms may still run on svc#1 when it crashes
            // at 70 s (0.4 expected, by where the balancer's turn stands).
            assert!(f.failed <= 3, "{}: {} failed; only those running at the crash may", p.name, f.failed);
        } else if p.name != "crash" {
            assert_eq!(f.success, Some(100.0), "{}: nothing fails outside the crash", p.name);
        }
    }
    assert_eq!((offered, ok, failed, in_flight), (w.offered, w.ok, w.failed.total(), w.in_flight));
    // The latency of each phase is its own: 2 ms before, 3 ms under the delay, 2 × 2 +
    // 1 ms under both (the delay adds to the slowed-down service time), 4 ms slowed.
    let p50 = |name: &str| {
        let p = s.phases.iter().find(|p| p.name == name).unwrap();
        p.workloads.get("users").unwrap().latency_ms.0.unwrap().p50
    };
    for (name, want) in [("before", 2.0), ("brownout", 3.0), ("brownout + slow", 5.0), ("slow", 4.0)] {
        assert!((p50(name) - want).abs() <= want * 0.01, "{name}: p50 {} vs {want}", p50(name));
    }
    // The crash fails what reached the dead replica (about half the crash's arrivals).
    let crash = s.phases.iter().find(|p| p.name == "crash").unwrap().workloads.get("users").unwrap();
    assert!(crash.failed > 0 && crash.failed < crash.offered);
    // The run's table prints the phases and the recovery lines.
    let table = summary_table(&s);
    assert!(table.contains("brownout + slow") && table.contains("recovery after crash"), "{table}");
}

#[test]
fn a_quiet_window_is_not_cut_and_a_fault_from_the_start_has_no_before() {
    let quiet = spec(&one_service("2ms", 50.0, "20s", "2s", json!([])));
    assert!(phase_cut(&quiet).is_empty());
    assert!(Summary::of(&quiet, &run(&quiet)).phases.is_empty());
    // Active when warm-up ends, no end: one phase named after it, no after, and no
    // recovery entry (it never ends).
    let faults = json!([{"abort": {"name": "half", "target": "svc.ep", "start": "1s", "percent": 50}}]);
    let always = spec(&one_service("2ms", 50.0, "20s", "2s", faults));
    assert_eq!(phase_cut(&always), [span("half", 2, 20)]);
    assert!(Summary::of(&always, &run(&always)).recovery.is_empty());
    // Active when warm-up ends, ends inside the window: no before to recover to.
    let faults = json!([{"abort": {"name": "early", "target": "svc.ep", "start": "1s", "duration": "4s", "percent": 50}}]);
    let early = spec(&one_service("2ms", 50.0, "20s", "2s", faults));
    assert_eq!(phase_cut(&early), [span("early", 2, 5), span("after", 5, 20)]);
    let s = Summary::of(&early, &run(&early));
    assert_eq!(s.recovery.len(), 1);
    assert_eq!(s.recovery[0].workloads.get("users"), Some(&None));
}

// ---- recovery ----------------------------------------------------------------------

/// Everything fails for 10 s (abort 100%, no retries, nothing queued): the first whole
/// interval after the fault is back, so the workload recovers within 1 to 2 intervals.
#[test]
fn a_total_outage_without_retries_recovers_within_two_intervals() {
    let faults = json!([{"abort": {"name": "outage", "target": "svc.ep", "start": "40s", "duration": "10s", "percent": 100}}]);
    let spec = spec(&one_service("5ms", 200.0, "80s", "10s", faults));
    let s = Summary::of(&spec, &run(&spec));
    let during = s.phases.iter().find(|p| p.name == "outage").unwrap().workloads.get("users").unwrap();
    assert_eq!(during.success, Some(0.0));
    assert_eq!(s.recovery.len(), 1);
    let r = &s.recovery[0];
    assert_eq!((r.fault.as_str(), r.end_s), ("outage", 50.0));
    let v = r.workloads.get("users").unwrap().expect("recovered");
    assert!((1.0..=2.0).contains(&v), "recovery_s {v}");
}

/// A fault that changes nothing (a slowdown by a factor of 1) on a low-rate workload
/// with exponential service times: every interval is a sample of the `before`
/// distribution, so the workload is back at once. A p99 of 50 values is their largest,
/// which exceeds 1.2 × the reference's p99 in about a third of the intervals; the
/// rule's sampling allowance is what keeps this from reading as a slow recovery.
#[test]
fn a_fault_that_changes_nothing_recovers_at_once_despite_sampling_noise() {
    for seed in 1..=8 {
        let faults = json!([{"slowdown": {"name": "nothing", "target": "svc", "factor": 1, "start": "40s", "duration": "10s"}}]);
        let mut v = one_service("1ms", 50.0, "90s", "10s", faults);
        v["services"]["svc"]["endpoints"]["ep"]["latency"] = json!({"exponential": {"mean": "10ms"}});
        v["seed"] = json!(seed);
        let spec = spec(&v);
        let s = Summary::of(&spec, &run(&spec));
        let r = s.recovery[0].workloads.get("users").unwrap().expect("recovered");
        assert!(r <= 3.0, "seed {seed}: recovery_s {r}");
    }
}

/// The retry storm of scenarios/retry-storm.json never recovers (`null`); the same
/// scenario without retries does, so the rule tells the two apart.
#[test]
fn a_retry_storm_never_recovers() {
    let base = scenario_file("retry-storm.json");
    let storm = spec(&base);
    let s = Summary::of(&storm, &run(&storm));
    assert_eq!(s.recovery.len(), 1);
    assert_eq!(s.recovery[0].workloads.get("users"), Some(&None), "{:?}", s.recovery);
    let calm = spec_with(&base, &LoadOptions { variant: Some("no-retries".into()), ..Default::default() });
    let s = Summary::of(&calm, &run(&calm));
    let v = s.recovery[0].workloads.get("users").unwrap().expect("recovers without retries");
    assert!(v > 0.0 && v < 60.0, "recovery_s {v}");
}

/// The JSON shapes: `phases` and `recovery` after the maps, rounded as written.
#[test]
fn phases_and_recovery_in_the_summary_json() {
    let spec = spec(&cut_scenario());
    let j = faultline::report::summary_json(&spec, &run(&spec));
    let p = &j["phases"][4];
    assert_eq!(p["name"], "slow + users rate 400/s at 50s");
    assert_eq!((p["from_s"].as_f64(), p["to_s"].as_f64()), (Some(50.0), Some(55.0)));
    let w = &p["workloads"]["users"];
    assert!(w["success"].as_f64().is_some() && w["latency_ms"]["p99"].as_f64().is_some(), "{w}");
    let names: Vec<&str> =
        j["recovery"].as_array().unwrap().iter().map(|r| r["fault"].as_str().unwrap()).collect();
    assert_eq!(names, ["brownout", "slow", "crash"]);
}
