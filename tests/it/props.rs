//! Property tests over small random valid topologies: the loader accepts them, the run
//! never panics, and every invariant holds.

use crate::common::*;
use proptest::prelude::*;
use serde_json::{Value, json};

fn dist() -> impl Strategy<Value = Value> {
    prop_oneof![
        (1u32..20).prop_map(|m| json!({"constant": format!("{m}ms")})),
        (1u32..20).prop_map(|m| json!({"exponential": {"mean": format!("{m}ms")}})),
        (1u32..10, 2u32..5).prop_map(
            |(p50, k)| json!({"lognormal": {"p50": format!("{p50}ms"), "p99": format!("{}ms", p50 * k)}})
        ),
        (1u32..10, 1u32..30)
            .prop_map(|(m, cv)| json!({"gamma": {"mean": format!("{m}ms"), "cv": cv as f64 / 10.0}})),
    ]
}

/// A step of service `i` calls a service with a larger index, so there is no cycle.
#[derive(Debug, Clone)]
struct Svc {
    replicas: u32,
    concurrency: u32,
    capacity: Option<u32>,
    queue_timeout_ms: Option<u32>,
    latency: Value,
    errors: u32,
    declines: u32,
    calls: Vec<(usize, bool, bool)>, // (target offset, in parallel, optional)
}

fn svc() -> impl Strategy<Value = Svc> {
    (
        1u32..4,
        1u32..6,
        proptest::option::of(0u32..20),
        proptest::option::of(1u32..100),
        dist(),
        0u32..5,
        0u32..5,
        proptest::collection::vec((1usize..4, any::<bool>(), any::<bool>()), 0..3),
    )
        .prop_map(
            |(replicas, concurrency, capacity, queue_timeout_ms, latency, errors, declines, calls)| Svc {
                replicas,
                concurrency,
                capacity,
                queue_timeout_ms,
                latency,
                errors,
                declines,
                calls,
            },
        )
}

fn scenario(svcs: &[Svc], timeout_ms: Option<u32>, lb: usize, rate: u32, closed: bool) -> Value {
    let n = svcs.len();
    let mut services = serde_json::Map::new();
    for (i, s) in svcs.iter().enumerate() {
        let mut steps = Vec::new();
        let mut parallel = Vec::new();
        for (off, par, opt) in &s.calls {
            let t = i + off;
            if t >= n {
                continue;
            }
            let call = json!({"call": format!("s{t}.e"), "policy": "p"});
            if *par {
                let mut c = call;
                c["optional"] = json!(opt);
                parallel.push(c);
            } else {
                steps.push(call);
            }
        }
        if !parallel.is_empty() {
            steps.push(json!({"parallel": parallel}));
        }
        steps.push(json!({"work": {"constant": "100us"}}));
        let mut queue = serde_json::Map::new();
        if let Some(c) = s.capacity {
            queue.insert("capacity".into(), json!(c));
        }
        if let Some(t) = s.queue_timeout_ms {
            queue.insert("timeout".into(), json!(format!("{t}ms")));
        }
        services.insert(
            format!("s{i}"),
            json!({
                "replicas": s.replicas, "concurrency": s.concurrency, "queue": queue,
                "endpoints": {"e": {"latency": s.latency, "errors": {"percent": s.errors},
                                    "declines": {"percent": s.declines}, "steps": steps}}
            }),
        );
    }
    let balancer = ["round_robin", "random", "least_outstanding", "p2c"][lb];
    let mut policy = json!({ "load_balancer": balancer });
    if let Some(t) = timeout_ms {
        policy["timeout"] = json!(format!("{t}ms"));
    }
    let arrival = if closed {
        json!({"closed": {"users": rate / 10 + 1, "think": {"exponential": {"mean": "20ms"}}}})
    } else {
        json!({"poisson": {"rate": rate}})
    };
    json!({
        "name": "prop", "duration": "3s", "warmup": "500ms",
        "services": services,
        "policies": {"p": policy},
        "network": {"latency": {"exponential": {"mean": "200us"}}},
        "workload": [{"name": "w", "target": "s0.e", "arrival": arrival, "policy": "p"}]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn random_topologies_run_and_keep_every_invariant(
        svcs in proptest::collection::vec(svc(), 1..6),
        timeout_ms in proptest::option::of(1u32..200),
        lb in 0usize..4,
        rate in 10u32..800,
        closed in any::<bool>(),
    ) {
        let v = scenario(&svcs, timeout_ms, lb, rate, closed);
        let spec = spec(&v);
        let out = run(&spec);
        prop_assert!(out.workloads[0].offered > 0);
    }
}
