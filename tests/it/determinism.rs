//! Same seed, same bytes; common random numbers across variants and topologies.

use crate::common::*;
use faultline::report::{summary_json, timeseries_csv};
use faultline::scenario::LoadOptions;
use serde_json::{Value, json};

fn shop() -> Value {
    json!({
        "name": "shop", "duration": "30s", "warmup": "2s", "seed": 3,
        "services": {
            "gateway": {"replicas": 2, "concurrency": 8, "queue": {"capacity": 20},
                "endpoints": {"get": {"latency": {"exponential": {"mean": "2ms"}},
                    "steps": [{"parallel": [
                        {"call": "catalog.list", "policy": "p"},
                        {"call": "reviews.top", "policy": "p", "optional": true}
                    ]}]}}},
            "catalog": {"replicas": 3, "concurrency": 4,
                "endpoints": {"list": {"latency": {"lognormal": {"p50": "5ms", "p99": "40ms"}}, "errors": {"percent": 1}}}},
            "reviews": {"replicas": 2, "concurrency": 2, "queue": {"capacity": 5, "timeout": "50ms"},
                "endpoints": {"top": {"latency": {"gamma": {"mean": "8ms", "cv": 2}}}}}
        },
        "policies": {"p": {"timeout": "60ms", "load_balancer": "p2c"}},
        "network": {"latency": {"uniform": {"min": "100us", "max": "900us"}}},
        "workload": [{"name": "users", "target": "gateway.get", "arrival": {"poisson": {"rate": 900}}}],
        "variants": {"fast-timeout": {"/policies/p/timeout": "20ms"}}
    })
}

fn outputs(v: &Value, opts: &LoadOptions) -> (String, String) {
    let spec = spec_with(v, opts);
    let out = run(&spec);
    (serde_json::to_string_pretty(&summary_json(&spec, &out)).unwrap(), timeseries_csv(&out.series))
}

#[test]
fn same_seed_same_bytes() {
    let a = outputs(&shop(), &LoadOptions::default());
    let b = outputs(&shop(), &LoadOptions::default());
    assert_eq!(a.0, b.0);
    assert_eq!(a.1, b.1);
}

#[test]
fn a_different_seed_gives_different_numbers() {
    let a = outputs(&shop(), &LoadOptions::default());
    let b = outputs(&shop(), &LoadOptions { seed: Some(4), ..Default::default() });
    assert_ne!(a.0, b.0);
}

#[test]
fn variants_on_one_seed_see_the_same_arrivals() {
    let base = run(&spec(&shop()));
    let var =
        run(&spec_with(&shop(), &LoadOptions { variant: Some("fast-timeout".into()), ..Default::default() }));
    // Same arrival stream: the same requests are offered...
    assert_eq!(base.workloads[0].offered, var.workloads[0].offered);
    // ...and the policy change shows in what happens to them.
    assert_ne!(base.workloads[0].outcomes.degraded, var.workloads[0].outcomes.degraded);
}

#[test]
fn an_unrelated_service_leaves_the_others_figures_unchanged() {
    let a = run(&spec(&shop()));
    let mut v = shop();
    v["services"]["audit"] = json!({"replicas": 2, "concurrency": 1,
        "endpoints": {"log": {"latency": {"exponential": {"mean": "3ms"}}}}});
    v["workload"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "auditors", "target": "audit.log", "arrival": {"poisson": {"rate": 200}}}));
    let b = run(&spec(&v));
    let fig = |o: &faultline::model::RunOutput, i: usize| {
        let w = &o.workloads[i];
        (w.offered, w.outcomes.ok, w.outcomes.failed, w.latency.quantile_ms(0.99))
    };
    assert_eq!(fig(&a, 0), fig(&b, 0));
    for i in 0..a.endpoints.len() {
        assert_eq!(a.endpoints[i].requests, b.endpoints[i].requests);
        assert_eq!(a.endpoints[i].latency.quantile_ms(0.999), b.endpoints[i].latency.quantile_ms(0.999));
    }
}
