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

/// Gives every policy-less call (steps, cache reads, workloads not aimed at a saga) an
/// empty policy, which sends it down the general path (a `Call` and an `Attempt`)
/// instead of the direct one (`model/calls/direct.rs`).
fn with_empty_policies(v: &Value) -> Value {
    fn walk(x: &mut Value) {
        match x {
            Value::Object(m) => {
                if (m.contains_key("call") || m.contains_key("route")) && !m.contains_key("policy") {
                    m.insert("policy".into(), json!("general-path"));
                }
                if let Some(Value::Object(c)) = m.get_mut("cache")
                    && !c.contains_key("policy")
                {
                    c.insert("policy".into(), json!("general-path"));
                }
                m.values_mut().for_each(walk);
            }
            Value::Array(a) => a.iter_mut().for_each(walk),
            _ => {}
        }
    }
    let mut v = v.clone();
    walk(&mut v["services"]);
    let sagas: Vec<String> = v["sagas"].as_object().map(|m| m.keys().cloned().collect()).unwrap_or_default();
    for w in v["workload"].as_array_mut().unwrap() {
        let to_saga = w["target"].as_str().is_some_and(|t| sagas.iter().any(|s| s == t));
        if !to_saga && w.get("policy").is_none() {
            w["policy"] = json!("general-path");
        }
    }
    if v.get("policies").is_none() {
        v["policies"] = json!({});
    }
    v["policies"]["general-path"] = json!({});
    v
}

/// A topology whose calls have no policy, over every mechanism a direct call meets on
/// its way: network latency and loss, a crash (its executions answer `unavailable`),
/// server rate limits (429), shedding, adaptive concurrency, queue timeouts, errors,
/// a cache step, parallel optional branches, open and closed workloads.
fn policy_less() -> Value {
    json!({
        "name": "direct", "duration": "20s", "warmup": "2s", "seed": 11,
        "services": {
            "gateway": {"replicas": 2, "concurrency": 400,
                "endpoints": {"get": {"latency": {"exponential": {"mean": "1ms"}},
                    "steps": [
                        {"call": "a.x"},
                        {"cache": {"service": "redis", "endpoint": "get", "hit_ratio": 80,
                                   "on_miss": [{"call": "c.z"}], "populate": "set"}},
                        {"parallel": [{"call": "b.y"}, {"call": "c.z", "optional": true}]}
                    ]}}},
            "a": {"replicas": 3, "concurrency": 4, "queue": {"capacity": 30, "timeout": "20ms"},
                "shed": {"utilization": 95},
                "endpoints": {"x": {"latency": {"lognormal": {"p50": "2ms", "p99": "15ms"}},
                                    "errors": {"percent": 2}}}},
            "b": {"replicas": 2, "concurrency": 6,
                "adaptive_concurrency": {"aimd": {}},
                "endpoints": {"y": {"latency": {"gamma": {"mean": "3ms", "cv": 1.5}}}}},
            "c": {"replicas": 2, "concurrency": 8,
                "rate_limit": {"token_bucket": {"max_tokens": 20, "tokens_per_fill": 5, "fill_interval": "10ms"}},
                "endpoints": {"z": {"latency": {"exponential": {"mean": "1ms"}}}}},
            "redis": {"kind": "cache", "replicas": 1, "concurrency": 16,
                "endpoints": {"get": {"latency": {"constant": "200us"}},
                              "set": {"latency": {"constant": "300us"}}}}
        },
        "network": {"latency": {"uniform": {"min": "100us", "max": "600us"}},
            "links": [{"from": "gateway", "to": "b", "latency": {"constant": "0ms"}, "loss": {"percent": 0.2}}]},
        "faults": [{"crash": {"target": "a#1", "start": "8s", "restart_after": "3s"}}],
        "workload": [
            {"name": "open", "target": "gateway.get", "arrival": {"poisson": {"rate": 600}}},
            {"name": "closed", "target": "gateway.get",
             "arrival": {"closed": {"users": 20, "think": {"exponential": {"mean": "50ms"}}}}}
        ]
    })
}

#[test]
fn a_call_without_policy_gives_what_the_general_path_gives() {
    let cases = [
        ("policy-less topology", policy_less()),
        ("shop", shop()),
        ("cache-restart", scenario_value("cache-restart")),
        ("checkout", scenario_value("checkout")),
        ("critical-checkout", scenario_value("critical-checkout")),
    ];
    for (name, v) in cases {
        let direct = outputs(&v, &LoadOptions::default());
        let general = outputs(&with_empty_policies(&v), &LoadOptions::default());
        assert!(direct.0 == general.0, "{name}: the summaries differ");
        assert!(direct.1 == general.1, "{name}: the series differ");
    }
}

fn scenario_value(name: &str) -> Value {
    let path = format!("{}/scenarios/{name}.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}
