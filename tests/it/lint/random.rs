//! Random topologies through the linter: no panic, real pointers, stable output.

use faultline::lint::report;
use faultline::scenario::{LoadOptions, load_str};
use serde_json::{Value, json};

/// Random topologies (a seeded generator: layers of services calling lower layers,
/// with every policy feature, routes, parallel and optional branches, databases,
/// publishes and sagas): lint never panics, every finding's pointer is in the file (or
/// its parent is, for a `replicas` left at its default), and the output is the same
/// twice.
#[test]
fn random_topologies_lint_without_panics_and_with_real_pointers() {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = |n: u64| {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (x >> 33) % n
    };
    let mut seen: Vec<&str> = Vec::new();
    for case in 0..200 {
        let n = 2 + next(7) as usize;
        let mut services = serde_json::Map::new();
        let mut policies = serde_json::Map::new();
        for p in 0..4 {
            let mut pol = serde_json::Map::new();
            if next(3) > 0 {
                pol.insert("timeout".into(), json!(format!("{}ms", 10 + next(900))));
            }
            if next(3) == 0 {
                pol.insert("deadline".into(), json!(format!("{}ms", 10 + next(3000))));
            }
            if next(2) == 0 {
                let jitter = ["none", "full", "equal", "decorrelated"][next(4) as usize];
                let mut r = json!({"max_attempts": 1 + next(5), "jitter": jitter});
                if next(2) == 0 {
                    r["backoff"] = json!({"exponential": {"initial": format!("{}ms", next(50)), "multiplier": 2, "max": "1s"}});
                }
                if next(2) == 0 {
                    r["budget"] = json!({"percent": 20});
                }
                pol.insert("retry".into(), r);
            }
            if next(4) == 0 {
                pol.insert("hedge".into(), json!({"after": "5ms", "max_extra": 1 + next(3)}));
            }
            if next(3) == 0 {
                pol.insert("circuit_breaker".into(), json!({"consecutive_failures": 5, "open_for": "1s"}));
            }
            policies.insert(format!("p{p}"), Value::Object(pol));
        }
        for i in 0..n {
            let mut steps = Vec::new();
            for _ in 0..next(4) {
                let lower = |t: u64| format!("s{}.e", i + 1 + t as usize);
                if i + 1 >= n {
                    break;
                }
                let span = (n - i - 1) as u64;
                let call = |t: u64, pol: u64, opt: bool| {
                    let mut c = json!({"call": lower(t)});
                    if pol < 4 {
                        c["policy"] = json!(format!("p{pol}"));
                    }
                    if opt {
                        c["optional"] = json!(true);
                    }
                    c
                };
                steps.push(match next(4) {
                    0 => json!({"parallel": (0..1 + next(3)).map(|_| call(next(span), next(5), next(2) == 0)).collect::<Vec<_>>()}),
                    1 => json!({"route": [{"to": lower(next(span)), "weight": 1 + next(5)}, {"to": lower(next(span)), "weight": 1}], "policy": "p0"}),
                    2 => json!({"publish": "t", "outbox": next(2) == 0}),
                    _ => call(next(span), next(5), false),
                });
            }
            let kind = if next(4) == 0 { "database" } else { "service" };
            let mut s =
                json!({"kind": kind, "endpoints": {"e": {"steps": steps, "errors": {"percent": next(30)}}}});
            if next(2) == 0 {
                s["replicas"] = json!(1 + next(3));
            }
            services.insert(format!("s{i}"), s);
        }
        let mut v = json!({
            "duration": "10s",
            "services": services,
            "policies": policies,
            "topics": {"t": {"subscribers": [{"group": "g", "endpoint": format!("s{}.e", n - 1), "max_attempts": 1 + next(4)}]}},
            "workload": [{"name": "w0", "target": "s0.e", "arrival": {"poisson": {"rate": 1}}},
                         {"name": "w1", "target": format!("s{}.e", next(n as u64)), "policy": "p1", "arrival": {"poisson": {"rate": 1}}}]
        });
        if next(2) == 0 {
            v["sagas"] = json!({"sg": {"orchestrator": "s0", "policy": "p2", "steps": [
                {"name": "a", "action": format!("s{}.e", next(n as u64))},
                {"name": "b", "action": "s0.e", "pivot": true}]}});
            v["workload"]
                .as_array_mut()
                .unwrap()
                .push(json!({"name": "w2", "target": "saga:sg", "arrival": {"poisson": {"rate": 1}}}));
        }
        let text = serde_json::to_string_pretty(&v).unwrap();
        let spec = load_str(&text, "t.json", &LoadOptions::default())
            .unwrap_or_else(|e| panic!("case {case}: {e}\n{text}"));
        let r = report(&spec, &text, "t.json", &[]);
        let r2 = report(&spec, &text, "t.json", &[]);
        assert_eq!(format!("{:?}", r.findings), format!("{:?}", r2.findings));
        for l in &r.findings {
            let f = &l.finding;
            if !seen.contains(&f.rule.id) {
                seen.push(f.rule.id);
            }
            let there = v.pointer(&f.path).is_some()
                || (f.path.ends_with("/replicas")
                    && v.pointer(f.path.trim_end_matches("/replicas")).is_some());
            assert!(there, "case {case}: {} points at {} which is not in the file", f.rule.id, f.path);
            assert!(l.place.line >= 1, "case {case}: {f:?}");
            for rel in &f.related {
                assert!(v.pointer(&rel.path).is_some(), "case {case}: related {}", rel.path);
            }
            if f.rule.id == "retry-amplification" {
                let factors = f.facts["factors"].as_array().unwrap();
                let product: u64 = factors.iter().map(|x| x.as_u64().unwrap()).product();
                assert_eq!(f.facts["factor"].as_u64().unwrap(), product);
                assert!(factors.len() >= 2 && factors.iter().all(|x| x.as_u64().unwrap() > 1));
            }
        }
    }
    // The generator reaches every rule (a fixed seed: not a vacuous pass).
    assert_eq!(seen.len(), faultline::lint::RULES.len(), "{seen:?}");
}
