//! Thresholds evaluated on summaries whose figures are set by hand: each at its
//! boundary (`<` against `<=`), with no data, and in a phase.

use super::*;
use crate::report::summary::{Named, Phase};
use crate::scenario::{LoadOptions, load_str};
use serde_json::json;

/// A scenario with a plain workload, a saga workload, a saga, a consumer group and a
/// named fault, declaring `thresholds`.
fn spec(thresholds: serde_json::Value) -> Spec {
    let v = json!({
        "duration": "3s",
        "services": {
            "api": {"concurrency": 4, "endpoints": {
                "get": {"latency": {"constant": "1ms"}, "steps": [{"publish": "events"}]},
                "undo": {"latency": {"constant": "1ms"}},
                "on_event": {"latency": {"constant": "1ms"}}
            }}
        },
        "policies": {"client": {"timeout": "1s", "retry": {"max_attempts": 2}}},
        "topics": {"events": {"subscribers": [{"group": "audit", "endpoint": "api.on_event"}]}},
        "sagas": {"order": {"orchestrator": "api", "steps": [
            {"name": "get", "action": "api.get", "compensation": "api.undo"}
        ]}},
        "workload": [
            {"name": "buyers", "target": "api.get", "policy": "client", "arrival": {"constant": {"rate": 10}}},
            {"name": "orders", "target": "saga:order", "arrival": {"constant": {"rate": 5}}}
        ],
        "faults": [{"delay": {"name": "brownout", "target": "api", "start": "1s", "duration": "1s",
                              "latency": {"constant": "1ms"}, "percent": 100}}],
        "thresholds": thresholds
    });
    load_str(&v.to_string(), "t.json", &LoadOptions::default()).unwrap_or_else(|e| panic!("{e}"))
}

/// The summary of a short real run, with the figures the tests set by hand.
fn summary(spec: &Spec) -> Summary {
    let out = crate::model::run(spec).unwrap();
    let mut s = Summary::of(spec, &out);
    let w = &mut s.workloads.0[0].1;
    (w.offered, w.ok, w.degraded, w.in_flight) = (205, 199, 3, 5);
    w.failed.0 = [0; crate::spec::Cause::COUNT];
    w.failed.0[0] = 1; // one timeout: 199 of 200 finished succeeded
    w.goodput_rps = 120.0;
    w.latency_ms =
        Latency(Some(Quantiles { mean: 20.0, p50: 10.0, p90: 100.0, p99: 500.0, p999: 900.0, max: 1000.0 }));
    let client = spec.edges[spec.workloads[0].edge as usize].name.clone();
    s.calls.0.iter_mut().find(|(n, _)| *n == client).unwrap().1.retries = 41; // 41 / 205 = 0.2
    let g = &mut s.sagas.0[0].1;
    (g.started, g.completed, g.compensated, g.compensation_failed, g.abandoned, g.orphaned) =
        (1000, 900, 95, 5, 0, 1);
    let q = &mut s.topics.0[0].1.groups.0[0].1;
    (q.max_lag, q.duplicates, q.dead_lettered) = (1000, 0, 2);
    q.latency_ms = Latency(None);
    s.phases = vec![Phase {
        name: "brownout".into(),
        from_s: 1.0,
        to_s: 2.0,
        workloads: Named(vec![(
            "buyers".into(),
            PhaseWorkload {
                offered: 100,
                ok: 90,
                degraded: 9,
                failed: 10,
                in_flight: 0,
                success: Some(90.0),
                goodput_rps: 90.0,
                latency_ms: Latency(Some(Quantiles {
                    mean: 700.0,
                    p50: 600.0,
                    p90: 1500.0,
                    p99: 2000.0,
                    p999: 2500.0,
                    max: 3000.0,
                })),
            },
        )]),
    }];
    s
}

/// `(expression, value, pass)` of every verdict.
fn verdicts(thresholds: serde_json::Value) -> Vec<(String, Option<f64>, bool)> {
    let spec = spec(thresholds);
    let s = summary(&spec);
    evaluate(&spec, &s).into_iter().map(|v| (v.expression, v.value, v.pass)).collect()
}

fn check(scope: &str, cases: &[(&str, Option<f64>, bool)]) {
    let exprs: Vec<&str> = cases.iter().map(|c| c.0).collect();
    let got = verdicts(json!({ scope: exprs }));
    let want: Vec<(String, Option<f64>, bool)> =
        cases.iter().map(|(e, v, p)| (e.to_string(), *v, *p)).collect();
    assert_eq!(got, want);
}

#[test]
fn workload_figures_at_their_boundaries() {
    check(
        "buyers",
        &[
            ("p99 < 500ms", Some(500.0), false),
            ("p99 <= 500ms", Some(500.0), true),
            ("p99 <= 0.5s", Some(500.0), true),
            ("mean > 20ms", Some(20.0), false),
            ("mean >= 20ms", Some(20.0), true),
            ("p50 < 10001us", Some(10.0), true),
            ("p90 < 100ms", Some(100.0), false),
            ("p999 <= 900ms", Some(900.0), true),
            ("max < 1s", Some(1000.0), false),
            // 199 of the 200 finished (the 5 in flight are in no share).
            ("success >= 99.5%", Some(99.5), true),
            ("success > 99.5%", Some(99.5), false),
            ("failed <= 0.5%", Some(0.5), true),
            ("failed < 0.5%", Some(0.5), false),
            ("degraded < 1.5%", Some(1.5), false),
            ("degraded <= 1.5%", Some(1.5), true),
            ("goodput >= 120/s", Some(120.0), true),
            ("goodput > 120", Some(120.0), false),
            // The client edge's 41 retries over the 205 requests offered.
            ("retries_per_request <= 0.2", Some(0.2), true),
            ("retries_per_request < 0.2", Some(0.2), false),
        ],
    );
}

#[test]
fn saga_and_group_figures_at_their_boundaries() {
    check(
        "saga:order",
        &[
            ("completed >= 90%", Some(90.0), true),
            ("completed > 90%", Some(90.0), false),
            ("compensated < 9.5%", Some(9.5), false),
            ("compensation_failed <= 0.5%", Some(0.5), true),
            ("abandoned <= 0%", Some(0.0), true),
            ("orphaned_per_1000 <= 1", Some(1.0), true),
            ("orphaned_per_1000 < 1", Some(1.0), false),
        ],
    );
    check(
        "topic:events/audit",
        &[
            ("max_lag < 1000", Some(1000.0), false),
            ("max_lag <= 1000", Some(1000.0), true),
            ("duplicates <= 0", Some(0.0), true),
            ("dead_lettered > 2", Some(2.0), false),
            // Nothing handled: no p99, and the threshold fails, whichever way it points.
            ("p99 < 1h", None, false),
            ("p99 > 0ms", None, false),
        ],
    );
}

#[test]
fn phase_figures_and_a_phase_the_run_lacks() {
    check(
        "buyers",
        &[
            ("p99 < 2s during brownout", Some(2000.0), false),
            ("p99 <= 2s during brownout", Some(2000.0), true),
            ("success >= 90% during brownout", Some(90.0), true),
            ("failed < 10% during brownout", Some(10.0), false),
            ("degraded <= 9% during brownout", Some(9.0), true),
            ("goodput > 90/s during brownout", Some(90.0), false),
            // The summary has no `after` phase (the run's phase table lacks it).
            ("success >= 0% during after", None, false),
        ],
    );
}

#[test]
fn nothing_measured_is_null_and_fails() {
    let spec = spec(json!({"buyers": ["p99 < 1h", "success >= 0%", "retries_per_request <= 5"],
                           "saga:order": ["orphaned_per_1000 <= 1000"]}));
    let mut s = summary(&spec);
    let w = &mut s.workloads.0[0].1;
    (w.offered, w.ok, w.degraded, w.in_flight) = (0, 0, 0, 0);
    w.failed.0 = [0; crate::spec::Cause::COUNT];
    w.latency_ms = Latency(None);
    s.sagas.0[0].1.started = 0;
    let v = evaluate(&spec, &s);
    assert!(v.iter().all(|v| v.value.is_none() && !v.pass), "{v:?}");
}

#[test]
fn verdicts_are_written_in_file_order_with_their_keys() {
    let spec =
        spec(json!({"saga:order": ["completed >= 90%"], "buyers": ["p99 < 500ms", "success >= 99.5%"]}));
    let mut s = summary(&spec);
    s.thresholds = evaluate(&spec, &s);
    let j = serde_json::to_value(&s).unwrap();
    assert_eq!(
        j["thresholds"],
        json!([
            {"scope": "saga:order", "expression": "completed >= 90%", "value": 90.0, "pass": true},
            {"scope": "buyers", "expression": "p99 < 500ms", "value": 500.0, "pass": false},
            {"scope": "buyers", "expression": "success >= 99.5%", "value": 99.5, "pass": true},
        ])
    );
    let keys: Vec<&str> = j["thresholds"][0].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["scope", "expression", "value", "pass"]);
    assert_eq!(failure_lines(&s), ["threshold failed: buyers: p99 < 500ms (measured: 500 ms)"]);
    let lines = verdict_lines(&s);
    assert!(lines.contains("thresholds: 1 of 3 failed"), "{lines}");
    assert!(lines.contains("  FAIL  buyers      p99 < 500ms       500 ms"), "{lines}");
}

#[test]
fn no_thresholds_no_key() {
    let spec = spec(json!({}));
    let j = serde_json::to_value(summary(&spec)).unwrap();
    assert!(j.get("thresholds").is_none());
}

#[test]
fn values_print_in_their_unit() {
    let v = |scope: &str, expression: &str, value: Option<f64>| {
        value_text(&ThresholdVerdict {
            scope: scope.into(),
            expression: expression.into(),
            value,
            pass: true,
        })
    };
    assert_eq!(v("buyers", "p99 < 1s", Some(412.345)), "412 ms");
    assert_eq!(v("buyers", "success >= 99%", Some(97.12)), "97.12%");
    assert_eq!(v("buyers", "success>=99%", Some(99.9951)), "99.995%");
    assert_eq!(v("buyers", "goodput > 1/s", Some(58.25)), "58.2/s");
    assert_eq!(v("saga:x", "orphaned_per_1000 <= 1", Some(0.25)), "0.25");
    assert_eq!(v("topic:a/b", "max_lag < 5", Some(346.0)), "346");
    assert_eq!(v("topic:a/b", "p99 < 5s", Some(5500.0)), "5500 ms");
    assert_eq!(v("buyers", "p99 < 1s", None), "no data");
}
