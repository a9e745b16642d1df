//! Tests of the whole pipeline: a scenario using every supported feature, a table of
//! broken inputs (each asserting the path of its problem), overrides, and the schema.

use super::*;
use crate::dist::Dist;
use crate::spec::*;

const MS: u64 = 1_000_000;
const S: u64 = 1_000_000_000;

/// Every supported feature of the format page, plus the `interval` and `limits` extensions.
const FULL: &str = r##"{
  "$schema": "./faultline.schema.json",
  "name": "checkout",
  "description": "Gateway fans out; payment browns out at 2m.",
  "duration": "5m",
  "warmup": "10s",
  "seed": 7,
  "interval": "500ms",
  "limits": {"max_events": 1000000, "max_in_flight": 5000},
  "services": {
    "gateway": {
      "replicas": 2,
      "concurrency": 8,
      "queue": {"capacity": 64, "discipline": "lifo", "timeout": "2s"},
      "health_check": {"interval": "5s", "timeout": "1s", "unhealthy_after": 4, "healthy_after": 1,
                       "probe": "liveness", "restart_after": "20s", "depends_on": ["orders-db"]},
      "endpoints": {
        "checkout": {
          "latency": {"constant": "1ms"},
          "steps": [
            {"call": "orders.create", "policy": "internal"},
            {"parallel": [
              {"call": "payment.charge", "policy": "internal"},
              {"route": [{"to": "inventory.reserve", "weight": 90}, {"to": "inventory.reserve_v2", "weight": 10}],
               "policy": "best-effort", "optional": true}
            ]},
            {"work": {"normal": {"mean": "10ms", "stddev": "2ms"}}}
          ]
        },
        "browse": {"latency": {"percentiles": {"p50": "12ms", "p90": "40ms", "p99": "180ms"}}}
      }
    },
    "orders": {
      "endpoints": {
        "create": {"latency": {"lognormal": {"p50": "20ms", "sigma": 0.5}},
                   "steps": [{"call": "orders-db.query"}, {"publish": "order-created", "outbox": true}, {"publish": "events"}]}
      }
    },
    "orders-db": {
      "kind": "database",
      "concurrency": 20,
      "endpoints": {"query": {"latency": {"gamma": {"mean": "2ms", "cv": 0.5}}}}
    },
    "payment": {
      "replicas": 3,
      "concurrency": 16,
      "endpoints": {
        "charge": {
          "latency": {"lognormal": {"p50": "40ms", "p99": "300ms"}},
          "errors": {"percent": 0.1},
          "declines": {"percent": 2}
        },
        "refund": {"latency": {"exponential": {"mean": "30ms"}}}
      }
    },
    "inventory": {
      "kind": "cache",
      "endpoints": {
        "reserve": {"latency": {"pareto": {"scale": "5ms", "shape": 1.8, "max": "10s"}}},
        "reserve_v2": {"latency": {"mixture": [
          {"weight": 99, "dist": {"uniform": {"min": "1ms", "max": "9ms"}}},
          {"weight": 1, "dist": {"percentiles": {"p0": "1ms", "p50": "12ms", "p100": "2s"}}}
        ]}}
      }
    }
  },
  "policies": {
    "internal": {
      "timeout": "800ms",
      "deadline": "2s",
      "retry": {
        "max_attempts": 3,
        "backoff": {"exponential": {"initial": "50ms", "multiplier": 2, "max": "1s", "min": "10ms"}},
        "jitter": "full",
        "retry_on": ["timeout", "unavailable", "error", "rejected"],
        "budget": {"percent": 20, "min_per_second": 10}
      },
      "circuit_breaker": {
        "window": {"count": 50},
        "minimum_calls": 20,
        "failure_rate_threshold": 50,
        "slow_call": {"duration": "500ms", "rate_threshold": 80},
        "open_for": "10s",
        "half_open_calls": 5
      },
      "bulkhead": {"max_concurrent": 32, "max_wait": "0ms"},
      "hedge": {"after": "50ms", "max_extra": 1},
      "load_balancer": "least_outstanding",
      "cancel_on_timeout": true,
      "scope": "service",
      "outlier_detection": {"consecutive_errors": 5, "ejection": "30s", "max_ejection_percent": 50}
    },
    "best-effort": {
      "timeout": "200ms",
      "retry": {"max_attempts": 2, "backoff": {"constant": "100ms"}, "retry_on": ["declined"]},
      "circuit_breaker": {"consecutive_failures": 5, "open_for": "30s", "success_threshold": 2},
      "bulkhead": {"max_concurrent": 10},
      "load_balancer": "p2c"
    }
  },
  "network": {
    "latency": {"lognormal": {"p50": "400us", "p99": "2ms"}},
    "links": [
      {"from": "gateway", "to": "payment", "latency": {"constant": "5ms"}, "loss": {"percent": 0.5}},
      {"from": "payment", "to": "gateway"}
    ]
  },
  "topics": {
    "order-created": {
      "partitions": 6,
      "key": {"entities": 10000},
      "latency": {"constant": "2ms"},
      "relay_interval": "50ms",
      "subscribers": [
        {"group": "shipping", "endpoint": "inventory.reserve", "consumers": 3, "max_attempts": 5,
         "backoff": {"constant": "1s"}, "on_exhausted": "dead_letter", "commit_interval": "5s",
         "session_timeout": "20s", "idempotent": true},
        {"group": "audit", "endpoint": "payment.refund"}
      ]
    },
    "events": {}
  },
  "sagas": {
    "fulfillment": {
      "orchestrator": "orders",
      "policy": "internal",
      "steps": [
        {"name": "reserve", "action": "inventory.reserve", "compensation": "inventory.reserve_v2"},
        {"name": "charge",  "action": "payment.charge", "compensation": "payment.refund", "pivot": true},
        {"name": "confirm", "action": "orders-db.query", "retriable": true}
      ],
      "compensation_policy": "persistent",
      "compensate_unknown": true,
      "durable": true
    }
  },
  "workload": [
    {"name": "shoppers", "target": "gateway.checkout", "policy": "best-effort",
     "arrival": {"poisson": {"rate": 400}},
     "schedule": [{"at": "60s", "rate": 1200}, {"at": "90s", "rate": 400, "ramp": "10s"}]},
    {"name": "browsers", "target": "gateway.browse",
     "arrival": {"closed": {"users": 200, "think": {"exponential": {"mean": "1s"}}}}},
    {"name": "steady", "target": "gateway.checkout", "arrival": {"constant": {"rate": 50}}},
    {"name": "orderers", "target": "saga:fulfillment", "arrival": {"poisson": {"rate": 5}}}
  ],
  "faults": [
    {"delay":     {"name": "brownout", "target": "payment", "start": "2m", "duration": "60s", "latency": {"constant": "700ms"}, "percent": 100}},
    {"abort":     {"target": "inventory.reserve", "start": "200s", "duration": "20s", "percent": 50}},
    {"crash":     {"target": "payment#1", "start": "240s", "restart_after": "30s"}},
    {"partition": {"between": [["gateway"], ["orders", "payment"]], "start": "280s", "duration": "10s"}},
    {"loss":      {"from": "gateway", "to": "inventory", "percent": 5, "start": "0s"}},
    {"slowdown":  {"target": "orders#0", "factor": 3, "start": "150s", "duration": "30s"}},
    {"outage":    {"target": "topic:order-created", "start": "30s", "duration": "15s"}}
  ],
  "variants": {
    "baseline":   {},
    "no-breaker": {"/policies/internal/circuit_breaker": null},
    "tight":      {"/policies/internal/circuit_breaker/failure_rate_threshold": 25,
                   "/policies/internal/timeout": "300ms"}
  }
}"##;

fn load(text: &str) -> Result<Spec, ScenarioError> {
    load_str(text, "checkout.json", &LoadOptions::default())
}

fn load_with(sets: &[&str]) -> Result<Spec, ScenarioError> {
    let opts = LoadOptions { sets: sets.iter().map(|s| s.to_string()).collect(), ..LoadOptions::default() };
    load_str(FULL, "checkout.json", &opts)
}

fn approx(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

#[test]
fn full_scenario_resolves() {
    let spec = load(FULL).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(spec.name, "checkout");
    assert_eq!(spec.variant, None);
    assert_eq!(spec.seed, 7);
    assert_eq!(spec.duration_ns, 300 * S);
    assert_eq!(spec.warmup_ns, 10 * S);
    assert_eq!(spec.interval_ns, 500 * MS);
    assert_eq!(spec.limits.max_events, 1_000_000);
    assert_eq!(spec.limits.max_in_flight, 5000);

    // Services and replicas in file order.
    let names: Vec<&str> = spec.services.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["gateway", "orders", "orders-db", "payment", "inventory"]);
    let firsts: Vec<u32> = spec.services.iter().map(|s| s.first_replica).collect();
    assert_eq!(firsts, [0, 2, 3, 4, 7]);
    assert_eq!(spec.replicas.len(), 8);
    assert_eq!((spec.replicas[5].service, spec.replicas[5].index), (3, 1));
    let gw = &spec.services[0];
    assert_eq!((gw.replicas, gw.concurrency), (2, 8));
    assert_eq!(gw.queue.capacity, 64);
    assert_eq!(gw.queue.discipline, Discipline::Lifo);
    assert_eq!(gw.queue.timeout_ns, Some(2 * S));
    let hc = gw.health_check.as_ref().unwrap();
    assert_eq!((hc.interval_ns, hc.timeout_ns, hc.unhealthy_after, hc.healthy_after), (5 * S, S, 4, 1));
    assert_eq!((hc.probe, hc.restart_after_ns, hc.depends_on.clone()), (Probe::Liveness, 20 * S, vec![2]));
    assert_eq!(spec.services[1].queue.capacity, u32::MAX);
    assert_eq!(spec.services[2].kind, ServiceKind::Database);
    assert_eq!(spec.services[4].kind, ServiceKind::Cache);
    assert_eq!(spec.services[3].endpoints, vec![4, 5]);

    // Endpoints in file order, service by service.
    let eps: Vec<&str> = spec.endpoints.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        eps,
        [
            "gateway.checkout",
            "gateway.browse",
            "orders.create",
            "orders-db.query",
            "payment.charge",
            "payment.refund",
            "inventory.reserve",
            "inventory.reserve_v2"
        ]
    );
    let charge = &spec.endpoints[4];
    assert!(approx(charge.error_p, 0.001) && approx(charge.decline_p, 0.02));
    match charge.latency {
        Dist::LogNormal { mu, sigma } => {
            assert!(approx(mu, (40e6f64).ln()));
            assert!(approx(sigma, (300.0f64 / 40.0).ln() / crate::dist::Z99));
        }
        ref d => panic!("{d:?}"),
    }
    match spec.endpoints[2].latency {
        Dist::LogNormal { mu, sigma } => assert!(approx(mu, (20e6f64).ln()) && approx(sigma, 0.5)),
        ref d => panic!("{d:?}"),
    }
    match &spec.endpoints[1].latency {
        Dist::Percentiles(p) => {
            assert_eq!(p.len(), 5);
            assert_eq!(p[0], (0.0, 0.0));
            assert!(approx(p[1].0, 0.5) && approx(p[1].1, 12e6));
            assert!(approx(p[3].0, 0.99) && approx(p[3].1, 180e6));
            // Extended with the p90-p99 slope: 140 ms per 0.09, over 0.01 more.
            assert!(approx(p[4].0, 1.0) && approx(p[4].1, 180e6 + 140e6 / 0.09 * 0.01), "{p:?}");
        }
        d => panic!("{d:?}"),
    }
    match &spec.endpoints[7].latency {
        Dist::Mixture(parts) => {
            assert_eq!(parts.len(), 2);
            assert!(approx(parts[0].0, 0.99));
            assert_eq!(parts[1].0, 1.0);
            assert!(matches!(parts[0].1, Dist::Uniform { min, max } if min == 1e6 && max == 9e6));
            match &parts[1].1 {
                Dist::Percentiles(p) => assert_eq!(p, &vec![(0.0, 1e6), (0.5, 12e6), (1.0, 2e9)]),
                d => panic!("{d:?}"),
            }
        }
        d => panic!("{d:?}"),
    }
    assert!(
        matches!(spec.endpoints[6].latency, Dist::Pareto { scale, shape, max } if scale == 5e6 && shape == 1.8 && max == 1e10)
    );
    assert!(matches!(spec.endpoints[3].latency, Dist::Gamma(_, m) if m == 2e6));
    assert!(matches!(spec.endpoints[5].latency, Dist::Exponential { mean } if mean == 30e6));

    // Edges: steps in file order, then sagas (new pairs only), then workloads (not the
    // saga workload, whose orchestrator makes the calls).
    let edges: Vec<&str> = spec.edges.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        edges,
        [
            "gateway->orders.create",
            "gateway->payment.charge",
            "gateway->inventory.reserve",
            "gateway->inventory.reserve_v2",
            "orders->orders-db.query",
            "orders->inventory.reserve",
            "orders->inventory.reserve_v2",
            "orders->payment.charge",
            "orders->payment.refund",
            "client:shoppers->gateway.checkout",
            "client:browsers->gateway.browse",
            "client:steady->gateway.checkout"
        ]
    );
    assert_eq!(spec.edges[0].caller, Some(0));
    assert_eq!((spec.edges[7].caller, spec.edges[7].target), (Some(1), 4));
    assert_eq!(spec.edges[9].caller, None);
    assert_eq!(spec.edges[9].target, 0);

    // Steps.
    let steps = &spec.endpoints[0].steps;
    assert_eq!(steps.len(), 3);
    match &steps[0] {
        Step::Call(c) => {
            assert_eq!(c.policy, Some(0));
            assert_eq!(c.targets.len(), 1);
            assert_eq!((c.targets[0].endpoint, c.targets[0].edge, c.targets[0].cum_weight), (2, 0, 1.0));
            assert!(!c.optional);
        }
        s => panic!("{s:?}"),
    }
    match &steps[1] {
        Step::Parallel(b) => {
            assert_eq!(b.len(), 2);
            assert!(!b[0].optional && b[1].optional);
            assert_eq!(b[1].policy, Some(1));
            assert!(approx(b[1].targets[0].cum_weight, 0.9));
            assert_eq!(b[1].targets[1].cum_weight, 1.0);
            assert_eq!((b[1].targets[1].endpoint, b[1].targets[1].edge), (7, 3));
        }
        s => panic!("{s:?}"),
    }
    assert!(matches!(&steps[2], Step::Work(Dist::Normal { mean, sd }) if *mean == 10e6 && *sd == 2e6));
    let steps = &spec.endpoints[2].steps;
    assert_eq!(steps.len(), 3);
    match &steps[0] {
        Step::Call(c) => assert_eq!((c.policy, c.targets[0].edge), (None, 4)),
        s => panic!("{s:?}"),
    }
    assert!(matches!(steps[1], Step::Publish { topic: 0, outbox: true }), "{:?}", steps[1]);
    assert!(matches!(steps[2], Step::Publish { topic: 1, outbox: false }), "{:?}", steps[2]);

    // Policies.
    let p = &spec.policies[0];
    assert_eq!((p.name.as_str(), p.timeout_ns, p.deadline_ns), ("internal", Some(800 * MS), Some(2 * S)));
    let r = p.retry.as_ref().unwrap();
    assert_eq!(r.max_attempts, 3);
    assert!(matches!(r.backoff, Backoff::Exponential { initial_ns, multiplier, max_ns, min_ns }
        if initial_ns == 50 * MS && multiplier == 2.0 && max_ns == S && min_ns == 10 * MS));
    assert_eq!(r.jitter, Jitter::Full);
    assert_eq!(r.retry_on, CauseSet::default_retry_on());
    let b = r.budget.unwrap();
    assert!(approx(b.ratio, 0.2) && b.min_per_second == 10.0);
    match p.breaker.unwrap() {
        Breaker::Window {
            window,
            minimum_calls,
            failure_rate_threshold,
            slow_call,
            open_for_ns,
            half_open_calls,
        } => {
            assert!(matches!(window, BreakerWindow::Count(50)));
            assert_eq!((minimum_calls, open_for_ns, half_open_calls), (20, 10 * S, 5));
            assert!(approx(failure_rate_threshold, 0.5));
            let (d, rate) = slow_call.unwrap();
            assert!(d == 500 * MS && approx(rate, 0.8));
        }
        b => panic!("{b:?}"),
    }
    let bh = p.bulkhead.unwrap();
    assert_eq!((bh.max_concurrent, bh.max_wait_ns), (32, Some(0)));
    let h = p.hedge.unwrap();
    assert_eq!((h.after_ns, h.max_extra), (50 * MS, 1));
    assert_eq!(p.load_balancer, LoadBalancer::LeastOutstanding);
    assert!(p.cancel_on_timeout);
    assert_eq!(p.scope, Scope::Service);
    let o = p.outlier.unwrap();
    assert_eq!((o.consecutive_errors, o.ejection_ns), (5, 30 * S));
    assert!(approx(o.max_ejection, 0.5));
    let q = &spec.policies[1];
    assert!(
        matches!(q.breaker, Some(Breaker::Consecutive { failures: 5, open_for_ns, success_threshold: 2 }) if open_for_ns == 30 * S)
    );
    let qr = q.retry.as_ref().unwrap();
    assert!(matches!(qr.backoff, Backoff::Constant(ns) if ns == 100 * MS));
    assert!(qr.retry_on.contains(Cause::Declined) && !qr.retry_on.contains(Cause::Timeout));
    assert_eq!(q.bulkhead.unwrap().max_wait_ns, None);
    assert_eq!((q.load_balancer, q.scope, q.cancel_on_timeout), (LoadBalancer::P2c, Scope::Replica, false));

    // Network.
    assert!(matches!(spec.network.default_latency, Some(Dist::LogNormal { .. })));
    assert_eq!(spec.network.links.len(), 2);
    let l = &spec.network.links[0];
    assert_eq!((l.from, l.to), (0, 3));
    assert!(approx(l.loss_p, 0.005));
    assert!(matches!(l.latency, Some(Dist::Constant(v)) if v == 5e6));
    assert!(spec.network.links[1].latency.is_none());

    // Workloads.
    let w = &spec.workloads;
    assert_eq!(w.len(), 4);
    assert_eq!((w[0].target, w[0].edge, w[0].policy, w[0].saga), (0, 9, Some(1), None));
    assert_eq!((w[2].edge, w[2].saga), (11, None));
    // A saga workload: the saga's first action and its orchestrator edge, no policy.
    assert_eq!(
        (w[3].name.as_str(), w[3].saga, w[3].target, w[3].edge, w[3].policy),
        ("orderers", Some(0), 6, 5, None)
    );
    assert!(matches!(w[3].arrival, Arrival::Poisson { rate_per_s } if rate_per_s == 5.0));
    assert!(matches!(w[0].arrival, Arrival::Poisson { rate_per_s } if rate_per_s == 400.0));
    assert_eq!(w[0].schedule.len(), 2);
    assert_eq!((w[0].schedule[1].at_ns, w[0].schedule[1].ramp_ns), (90 * S, 10 * S));
    assert_eq!(w[0].schedule[1].rate_per_s, 400.0);
    assert!(
        matches!(&w[1].arrival, Arrival::Closed { users: 200, think: Dist::Exponential { mean } } if *mean == 1e9)
    );
    assert!(w[1].schedule.is_empty());
    assert!(matches!(w[2].arrival, Arrival::Constant { rate_per_s } if rate_per_s == 50.0));

    // Faults.
    let f = &spec.faults;
    assert_eq!(f.len(), 7);
    assert_eq!((f[0].start_ns, f[0].end_ns), (120 * S, 180 * S));
    assert_eq!(f[0].label, "delay payment 2m+60s");
    assert_eq!((f[0].name.as_str(), f[1].name.as_str()), ("brownout", "abort inventory.reserve 200s+20s"));
    assert!(matches!(&f[0].kind, FaultKind::Delay { target: FaultTarget::Service(3), p, .. } if *p == 1.0));
    assert!(matches!(f[1].kind, FaultKind::Abort { target: FaultTarget::Endpoint(6), p } if p == 0.5));
    assert!(matches!(f[2].kind, FaultKind::Crash { replica: 5, restart_after_ns: Some(ns) } if ns == 30 * S));
    assert_eq!((f[2].start_ns, f[2].end_ns), (240 * S, Nanos::MAX));
    match &f[3].kind {
        FaultKind::Partition { a, b } => assert_eq!((a.clone(), b.clone()), (vec![0], vec![1, 3])),
        k => panic!("{k:?}"),
    }
    assert_eq!(f[3].label, "partition gateway|orders,payment 280s+10s");
    assert!(matches!(f[4].kind, FaultKind::Loss { from: 0, to: 4, p } if approx(p, 0.05)));
    assert_eq!(f[4].end_ns, Nanos::MAX);
    assert!(
        matches!(f[5].kind, FaultKind::Slowdown { target: FaultTarget::Replica(2), factor } if factor == 3.0)
    );
    assert!(matches!(f[6].kind, FaultKind::Outage { topic: 0 }), "{:?}", f[6].kind);
    assert_eq!((f[6].start_ns, f[6].end_ns), (30 * S, 45 * S));
    assert_eq!(f[6].label, "outage topic:order-created 30s+15s");

    // Topics in file order, groups in file order.
    let t = &spec.topics;
    assert_eq!(t.len(), 2);
    let oc = &t[0];
    assert_eq!((oc.name.as_str(), oc.partitions, oc.key), ("order-created", 6, KeyMode::Entities(10000)));
    assert!(matches!(oc.latency, Some(Dist::Constant(v)) if v == 2e6));
    assert_eq!(oc.relay_interval_ns, 50 * MS);
    assert_eq!(oc.groups.len(), 2);
    let g = &oc.groups[0];
    assert_eq!((g.name.as_str(), g.endpoint, g.consumers, g.max_attempts), ("shipping", 6, 3, 5));
    assert!(matches!(g.backoff, Some(Backoff::Constant(ns)) if ns == S));
    assert_eq!(g.on_exhausted, OnExhausted::DeadLetter);
    assert_eq!((g.commit_interval_ns, g.session_timeout_ns, g.idempotent), (Some(5 * S), 20 * S, true));
    // Defaults: consumers = the handler service's replicas (payment has 3).
    let g = &oc.groups[1];
    assert_eq!((g.name.as_str(), g.endpoint, g.consumers, g.max_attempts), ("audit", 5, 3, 10));
    assert!(g.backoff.is_none());
    assert_eq!(g.on_exhausted, OnExhausted::Drop);
    assert_eq!((g.commit_interval_ns, g.session_timeout_ns, g.idempotent), (None, 10 * S, false));
    let ev = &t[1];
    assert_eq!((ev.name.as_str(), ev.partitions, ev.key), ("events", 1, KeyMode::Random));
    assert!(ev.latency.is_none() && ev.groups.is_empty());
    assert_eq!(ev.relay_interval_ns, 100 * MS);

    // Sagas.
    assert_eq!(spec.sagas.len(), 1);
    let sg = &spec.sagas[0];
    assert_eq!((sg.name.as_str(), sg.orchestrator, sg.policy), ("fulfillment", 1, Some(0)));
    assert_eq!(sg.compensation_policy, CompensationPolicy::Persistent);
    assert!(sg.compensate_unknown && sg.durable);
    let st: Vec<_> = sg
        .steps
        .iter()
        .map(|s| {
            (
                s.name.as_str(),
                s.action,
                s.action_edge,
                s.compensation,
                s.compensation_edge,
                s.pivot,
                s.retriable,
            )
        })
        .collect();
    assert_eq!(
        st,
        [
            ("reserve", 6, 5, Some(7), Some(6), false, false),
            ("charge", 4, 7, Some(5), Some(8), true, false),
            // orders->orders-db.query already existed (a step of orders.create).
            ("confirm", 3, 4, None, None, false, true),
        ]
    );
}

#[test]
fn defaults_apply() {
    let text = r#"{"duration": "1m", "services": {"a": {"endpoints": {"x": {}}}},
        "policies": {"p": {"retry": {}, "circuit_breaker": {}, "outlier_detection": {}, "hedge": {"after": "1s"},
                           "retry_on_dummy": null}}}"#;
    // `retry_on_dummy` is an unknown key: removing it with --set exercises removal too.
    let opts = LoadOptions { sets: vec!["/policies/p/retry_on_dummy=null".into()], ..LoadOptions::default() };
    let spec = load_str(text, "dir/my-scenario.json", &opts).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(spec.name, "my-scenario");
    assert_eq!((spec.seed, spec.warmup_ns, spec.interval_ns), (1, 0, S));
    assert_eq!(spec.limits.max_events, 2_000_000_000);
    let s = &spec.services[0];
    assert_eq!((s.replicas, s.concurrency, s.queue.capacity, s.queue.timeout_ns), (1, 1, u32::MAX, None));
    assert_eq!((s.kind, s.queue.discipline), (ServiceKind::Service, Discipline::Fifo));
    let e = &spec.endpoints[0];
    assert!(matches!(e.latency, Dist::Constant(v) if v == 0.0));
    assert_eq!((e.error_p, e.decline_p, e.steps.len()), (0.0, 0.0, 0));
    let p = &spec.policies[0];
    let r = p.retry.as_ref().unwrap();
    assert_eq!((r.max_attempts, r.jitter, r.retry_on), (3, Jitter::None, CauseSet::default_retry_on()));
    assert!(matches!(r.backoff, Backoff::Constant(0)));
    assert!(
        matches!(p.breaker, Some(Breaker::Window { window: BreakerWindow::Count(100), minimum_calls: 100, half_open_calls: 10, open_for_ns, .. }) if open_for_ns == 60 * S)
    );
    let o = p.outlier.unwrap();
    assert_eq!((o.consecutive_errors, o.ejection_ns), (5, 30 * S));
    assert!(approx(o.max_ejection, 0.1));
    assert_eq!(p.hedge.unwrap().max_extra, 1);
    assert_eq!(
        (p.timeout_ns, p.deadline_ns, p.load_balancer, p.scope),
        (None, None, LoadBalancer::RoundRobin, Scope::Replica)
    );
    assert!(spec.workloads.is_empty() && spec.faults.is_empty() && spec.edges.is_empty());
    assert!(spec.topics.is_empty() && spec.sagas.is_empty());
}

#[test]
fn variants_and_sets_apply() {
    let opts =
        LoadOptions { variant: Some("tight".into()), sets: vec!["/warmup=20s".into()], seed: Some(99) };
    let spec = load_str(FULL, "checkout.json", &opts).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(spec.variant.as_deref(), Some("tight"));
    assert_eq!((spec.seed, spec.warmup_ns), (99, 20 * S));
    assert_eq!(spec.policies[0].timeout_ns, Some(300 * MS));
    assert!(
        matches!(spec.policies[0].breaker, Some(Breaker::Window { failure_rate_threshold, .. }) if approx(failure_rate_threshold, 0.25))
    );
    let opts = LoadOptions { variant: Some("no-breaker".into()), ..LoadOptions::default() };
    let spec = load_str(FULL, "checkout.json", &opts).unwrap();
    assert!(spec.policies[0].breaker.is_none());
    // A --set value that is valid JSON is taken as JSON.
    let spec = load_with(&["/services/payment/replicas=5", "/workload/0/policy=\"internal\""]).unwrap();
    assert_eq!(spec.services[3].replicas, 5);
    assert_eq!(spec.workloads[0].policy, Some(0));
    assert_eq!(variant_names(FULL, "x").unwrap(), ["baseline", "no-breaker", "tight"]);
    assert_eq!(check_str(FULL, "x").unwrap(), ["baseline", "no-breaker", "tight"]);
}

/// One broken input: what to change, the path of the expected problem, a piece of its
/// message.
struct Broken {
    sets: &'static [&'static str],
    path: &'static str,
    message: &'static str,
}

const fn b(sets: &'static [&'static str], path: &'static str, message: &'static str) -> Broken {
    Broken { sets, path, message }
}

const BROKEN: &[Broken] = &[
    b(
        &["/services/payment/replica=3"],
        "/services/payment/replica",
        "unknown key `replica` (did you mean `replicas`?)",
    ),
    b(&["/warmup=5"], "/warmup", "found the number 5"),
    b(&["/duration=\"10\""], "/duration", "needs a unit"),
    b(&["/duration=-5s"], "/duration", "negative"),
    b(&["/duration=0s"], "/duration", "greater than 0"),
    b(&["/duration=99999999999h"], "/duration", "too long"),
    b(&["/warmup=5m"], "/warmup", "shorter than duration"),
    b(
        &[r#"/services/gateway/endpoints/browse/latency={"percentiles": {"p50": "100ms", "p99": "50ms"}}"#],
        "/services/gateway/endpoints/browse/latency/percentiles/p99",
        "p99 (50ms) is below p50 (100ms)",
    ),
    b(
        &[r#"/services/gateway/endpoints/browse/latency={"percentiles": {"p50": "1ms", "p101": "2ms"}}"#],
        "/services/gateway/endpoints/browse/latency/percentiles/p101",
        "percentile key",
    ),
    b(
        &[r#"/services/gateway/endpoints/browse/latency={"percentiles": {"p50": "1ms"}}"#],
        "/services/gateway/endpoints/browse/latency/percentiles",
        "at least two",
    ),
    b(
        &["/services/payment/endpoints/charge/errors/percent=120"],
        "/services/payment/endpoints/charge/errors/percent",
        "from 0 to 100, found 120",
    ),
    b(
        &["/services/payment/endpoints/charge/errors/percent=99"],
        "/services/payment/endpoints/charge/declines/percent",
        "more than 100%",
    ),
    b(&["/services/payment/replicas=0"], "/services/payment/replicas", "at least 1 replica"),
    b(&["/services/payment/replicas=20000"], "/services/payment/replicas", "too many replicas"),
    b(&["/services/payment/concurrency=0"], "/services/payment/concurrency", "at least 1"),
    b(
        &["/services/gateway/endpoints/checkout/steps/0/call=payment.chrage"],
        "/services/gateway/endpoints/checkout/steps/0/call",
        "unknown endpoint `payment.chrage` (did you mean `payment.charge`?); payment has: charge, refund",
    ),
    b(
        &["/services/gateway/endpoints/checkout/steps/0/call=paymnt.charge"],
        "/services/gateway/endpoints/checkout/steps/0/call",
        "unknown service `paymnt`",
    ),
    b(
        &["/services/gateway/endpoints/checkout/steps/0/call=payment"],
        "/services/gateway/endpoints/checkout/steps/0/call",
        "`service.endpoint`, found `payment`; payment has: charge, refund",
    ),
    b(
        &["/services/gateway/endpoints/checkout/steps/0/policy=internl"],
        "/services/gateway/endpoints/checkout/steps/0/policy",
        "unknown policy `internl` (did you mean `internal`?)",
    ),
    b(
        &["/faults/2/crash/target=payment#7"],
        "/faults/2/crash/target",
        "unknown replica `payment#7`; payment has 3 replicas (payment#0 to payment#2)",
    ),
    b(&["/faults/2/crash/target=payment"], "/faults/2/crash/target", "service#index"),
    b(
        &["/faults/1/abort/name=brownout"],
        "/faults/1/abort/name",
        "another fault is already named `brownout`",
    ),
    b(&["/faults/1/abort/name=after"], "/faults/1/abort/name", "names a phase of its own"),
    b(&["/faults/1/abort/name= "], "/faults/1/abort/name", "non-empty name"),
    b(&["/faults/5/slowdown/target=orders#x"], "/faults/5/slowdown/target", "unknown replica `orders#x`"),
    b(
        &["/workload/0/arrival/poisson/rate=-5"],
        "/workload/0/arrival/poisson/rate",
        "greater than 0, found -5",
    ),
    b(&["/workload/0/schedule/1/at=30s"], "/workload/0/schedule/1/at", "out of order"),
    b(&["/workload/0/schedule/0/rate=-1"], "/workload/0/schedule/0/rate", "at least 0"),
    b(&["/workload/0/schedule/0/ramp=40s"], "/workload/0/schedule/1/at", "previous ramp"),
    b(
        &[r#"/workload/1/schedule=[{"at": "1s", "rate": 5}]"#],
        "/workload/1/schedule",
        "only to open arrivals",
    ),
    b(&["/workload/1/arrival/closed/users=0"], "/workload/1/arrival/closed/users", "at least 1"),
    b(&["/workload/2/name=shoppers"], "/workload/2/name", "used twice"),
    b(&["/workload/2/target=saga:nope"], "/workload/2/target", "unknown saga `nope`"),
    b(
        &["/services/orders-db/endpoints/query/steps=[{\"call\": \"gateway.checkout\"}]"],
        "/services/orders-db/endpoints/query/steps/0/call",
        "call cycle: gateway.checkout -> orders.create -> orders-db.query -> gateway.checkout",
    ),
    b(
        &["/services/orders/endpoints/create/steps/0/call=orders.create"],
        "/services/orders/endpoints/create/steps/0/call",
        "orders.create calls itself",
    ),
    b(
        &["/services/orders/endpoints/create/steps/0/optional=true"],
        "/services/orders/endpoints/create/steps/0/optional",
        "only allowed on a branch of a `parallel`",
    ),
    b(
        &["/services/orders/endpoints/create/steps/0/work={\"constant\": \"1ms\"}"],
        "/services/orders/endpoints/create/steps/0",
        "exactly one of",
    ),
    b(
        &["/services/orders/endpoints/create/steps/0={}"],
        "/services/orders/endpoints/create/steps/0",
        "found: none",
    ),
    b(
        &["/services/gateway/endpoints/checkout/steps/1/parallel=[]"],
        "/services/gateway/endpoints/checkout/steps/1/parallel",
        "at least one branch",
    ),
    b(
        &["/services/gateway/endpoints/checkout/steps/1/parallel/0={\"work\": {\"constant\": \"1ms\"}}"],
        "/services/gateway/endpoints/checkout/steps/1/parallel/0",
        "must be a `call` or a `route`",
    ),
    b(
        &["/services/gateway/endpoints/checkout/steps/1/parallel/1/route/0/weight=0"],
        "/services/gateway/endpoints/checkout/steps/1/parallel/1/route/0/weight",
        "greater than 0",
    ),
    b(
        &["/policies/best-effort/circuit_breaker/window={\"count\": 10}"],
        "/policies/best-effort/circuit_breaker",
        "cannot be mixed",
    ),
    b(
        &["/policies/internal/circuit_breaker/success_threshold=2"],
        "/policies/internal/circuit_breaker/success_threshold",
        "consecutive style",
    ),
    b(
        &["/policies/internal/circuit_breaker/minimum_calls=60"],
        "/policies/internal/circuit_breaker/minimum_calls",
        "exceeds the window of 50 calls",
    ),
    b(
        &["/policies/internal/circuit_breaker/failure_rate_threshold=101"],
        "/policies/internal/circuit_breaker/failure_rate_threshold",
        "from 0 to 100",
    ),
    b(&["/policies/internal/retry/max_attempts=0"], "/policies/internal/retry/max_attempts", "at least 1"),
    b(
        &["/policies/internal/retry/backoff/exponential/multiplier=0.5"],
        "/policies/internal/retry/backoff/exponential/multiplier",
        "at least 1",
    ),
    b(
        &["/policies/internal/retry/backoff/exponential/min=2s"],
        "/policies/internal/retry/backoff/exponential/min",
        "above max",
    ),
    b(&["/policies/internal/retry/jitter=fuzzy"], "/policies/internal/retry/jitter", "unknown value `fuzzy`"),
    b(
        &["/policies/internal/bulkhead/max_concurrent=0"],
        "/policies/internal/bulkhead/max_concurrent",
        "at least 1",
    ),
    b(&["/policies/internal/hedge/max_extra=0"], "/policies/internal/hedge/max_extra", "at least 1"),
    b(
        &["/policies/internal/load_balancer=fastest"],
        "/policies/internal/load_balancer",
        "unknown value `fastest`",
    ),
    b(&["/policies/Internal={}"], "/policies/Internal", "bad policy name `Internal`"),
    b(&["/services/Pay.ment={}"], "/services/Pay.ment", "bad service name"),
    b(
        &["/services/gateway/endpoints/checkout/latency={\"constnt\": \"1ms\"}"],
        "/services/gateway/endpoints/checkout/latency/constnt",
        "unknown kind `constnt` (did you mean `constant`?)",
    ),
    b(
        &["/services/gateway/endpoints/checkout/latency={\"uniform\": {\"min\": \"5ms\", \"max\": \"1ms\"}}"],
        "/services/gateway/endpoints/checkout/latency/uniform/max",
        "below min",
    ),
    b(
        &["/services/gateway/endpoints/checkout/latency={\"lognormal\": {\"p50\": \"5ms\"}}"],
        "/services/gateway/endpoints/checkout/latency/lognormal",
        "missing `p99` or `sigma`",
    ),
    b(
        &[
            "/services/gateway/endpoints/checkout/latency={\"lognormal\": {\"p50\": \"5ms\", \"p99\": \"5ms\"}}",
        ],
        "/services/gateway/endpoints/checkout/latency/lognormal/p99",
        "greater than p50",
    ),
    b(
        &["/services/gateway/endpoints/checkout/latency={\"gamma\": {\"mean\": \"5ms\", \"cv\": 0}}"],
        "/services/gateway/endpoints/checkout/latency/gamma/cv",
        "greater than 0",
    ),
    b(
        &[
            "/services/gateway/endpoints/checkout/latency={\"pareto\": {\"scale\": \"5ms\", \"shape\": 1, \"max\": \"1ms\"}}",
        ],
        "/services/gateway/endpoints/checkout/latency/pareto/max",
        "greater than scale",
    ),
    b(
        &["/services/gateway/endpoints/checkout/latency={\"mixture\": []}"],
        "/services/gateway/endpoints/checkout/latency/mixture",
        "at least one component",
    ),
    b(
        &["/services/gateway/endpoints/checkout/latency={\"exponential\": {\"mean\": \"0s\"}}"],
        "/services/gateway/endpoints/checkout/latency/exponential/mean",
        "greater than 0",
    ),
    b(
        &["/services/gateway/endpoints/checkout/latency={\"constant\": \"1ms\", \"normal\": {}}"],
        "/services/gateway/endpoints/checkout/latency",
        "exactly one key",
    ),
    b(
        &["/services/gateway/health_check/depends_on/0=gateway"],
        "/services/gateway/health_check/depends_on/0",
        "itself",
    ),
    b(
        &["/services/gateway/health_check/depends_on/0=nope"],
        "/services/gateway/health_check/depends_on/0",
        "unknown service `nope`",
    ),
    b(
        &["/network/links/1/from=gateway", "/network/links/1/to=payment"],
        "/network/links/1",
        "duplicate link gateway->payment",
    ),
    b(&["/network/links/0/loss/percent=-1"], "/network/links/0/loss/percent", "from 0 to 100"),
    b(&["/faults/0/delay/target=payment.nope"], "/faults/0/delay/target", "unknown endpoint `payment.nope`"),
    b(&["/faults/3/partition/between/1/0=gateway"], "/faults/3/partition/between/1/0", "in both groups"),
    b(&["/faults/3/partition/between/1=null"], "/faults/3/partition/between", "exactly two groups"),
    b(&["/faults/5/slowdown/factor=0"], "/faults/5/slowdown/factor", "greater than 0"),
    b(&["/faults/0/delay/duration=0s"], "/faults/0/delay/duration", "greater than 0"),
    b(&["/faults/2/crash/duration=5s"], "/faults/2/crash/duration", "unknown key `duration`"),
    // Async messaging.
    b(
        &["/faults/-={\"outage\": {\"target\": \"topic:orders\", \"start\": \"1s\"}}"],
        "/faults/7/outage/target",
        "unknown topic `orders`; the topics are: order-created, events",
    ),
    b(&["/faults/6/outage/target=topic:nope"], "/faults/6/outage/target", "unknown topic `nope`"),
    b(
        &["/faults/6/outage/target=order-created"],
        "/faults/6/outage/target",
        "expected a topic as `topic:NAME`",
    ),
    b(&["/faults/6/outage/duration=0s"], "/faults/6/outage/duration", "greater than 0"),
    b(&["/topics/order-created/partitions=0"], "/topics/order-created/partitions", "at least 1, found 0"),
    b(&["/topics/order-created/partitions=10001"], "/topics/order-created/partitions", "too many partitions"),
    b(&["/topics/order-created/key/entities=0"], "/topics/order-created/key/entities", "at least 1, found 0"),
    b(&["/topics/order-created/key=sticky"], "/topics/order-created/key", "sticky"),
    b(&["/topics/order-created/relay_interval=0s"], "/topics/order-created/relay_interval", "greater than 0"),
    b(
        &["/topics/order-created/latency={\"constant\": 2}"],
        "/topics/order-created/latency/constant",
        "number 2",
    ),
    b(&["/topics/Orders={}"], "/topics/Orders", "bad topic name `Orders`"),
    b(
        &["/topics/order-created/subscribers/0/endpoint=inventory.nope"],
        "/topics/order-created/subscribers/0/endpoint",
        "unknown endpoint `inventory.nope`",
    ),
    b(
        &["/topics/order-created/subscribers/1/group=shipping"],
        "/topics/order-created/subscribers/1/group",
        "group name `shipping` is used twice in topic `order-created`",
    ),
    b(
        &["/topics/order-created/subscribers/1/group=Audit"],
        "/topics/order-created/subscribers/1/group",
        "bad group name",
    ),
    b(
        &["/topics/order-created/subscribers/0/consumers=0"],
        "/topics/order-created/subscribers/0/consumers",
        "at least 1",
    ),
    b(
        &["/topics/order-created/subscribers/0/consumers=20000"],
        "/topics/order-created/subscribers/0/consumers",
        "too many consumers",
    ),
    b(
        &["/topics/order-created/subscribers/0/max_attempts=0"],
        "/topics/order-created/subscribers/0/max_attempts",
        "at least 1",
    ),
    b(
        &[
            "/topics/order-created/subscribers/0/backoff={\"exponential\": {\"initial\": \"1s\", \"multiplier\": 0.5}}",
        ],
        "/topics/order-created/subscribers/0/backoff/exponential/multiplier",
        "at least 1",
    ),
    b(
        &["/topics/order-created/subscribers/0/on_exhausted=retry"],
        "/topics/order-created/subscribers/0/on_exhausted",
        "unknown value `retry`",
    ),
    b(
        &["/topics/order-created/subscribers/0/commit_interval=0s"],
        "/topics/order-created/subscribers/0/commit_interval",
        "greater than 0",
    ),
    b(
        &["/topics/order-created/subscribers/0/session_timeout=0s"],
        "/topics/order-created/subscribers/0/session_timeout",
        "greater than 0",
    ),
    b(
        &["/services/orders/endpoints/create/steps/1/publish=order-creatd"],
        "/services/orders/endpoints/create/steps/1/publish",
        "unknown topic `order-creatd` (did you mean `order-created`?); the topics are: order-created, events",
    ),
    b(
        &["/services/orders/endpoints/create/steps/0/outbox=true"],
        "/services/orders/endpoints/create/steps/0/outbox",
        "only allowed with `publish`",
    ),
    b(
        &["/services/orders/endpoints/create/steps/1/policy=internal"],
        "/services/orders/endpoints/create/steps/1/policy",
        "only allowed with `call` or `route`",
    ),
    // Sagas.
    b(
        &["/sagas/fulfillment/steps/0/pivot=true"],
        "/sagas/fulfillment/steps/1/pivot",
        "a saga has at most one pivot, and step `reserve` (steps/0) is already it",
    ),
    b(
        &["/sagas/fulfillment/steps/0/retriable=true"],
        "/sagas/fulfillment/steps/0/retriable",
        "must come after the pivot, and this one comes before the pivot `charge`",
    ),
    b(
        &["/sagas/fulfillment/steps/1/pivot=false"],
        "/sagas/fulfillment/steps/2/retriable",
        "this saga has no pivot",
    ),
    b(
        &["/sagas/fulfillment/steps/1/retriable=true"],
        "/sagas/fulfillment/steps/1/retriable",
        "the pivot cannot be retriable",
    ),
    b(
        &["/sagas/fulfillment/steps/2/retriable=false"],
        "/sagas/fulfillment/steps/2",
        "steps after the pivot are retriable: step `confirm` comes after the pivot `charge`",
    ),
    b(
        &["/sagas/fulfillment/steps/2/compensation=orders.create"],
        "/sagas/fulfillment/steps/2/compensation",
        "never compensated",
    ),
    b(
        &["/sagas/fulfillment/steps/1/name=reserve"],
        "/sagas/fulfillment/steps/1/name",
        "step name `reserve` is used twice (first at steps/0)",
    ),
    b(&["/sagas/fulfillment/steps/1/name=Charge"], "/sagas/fulfillment/steps/1/name", "bad step name"),
    b(&["/sagas/fulfillment/steps=[]"], "/sagas/fulfillment/steps", "at least one step"),
    b(
        &["/sagas/fulfillment/orchestrator=order"],
        "/sagas/fulfillment/orchestrator",
        "unknown service `order`",
    ),
    b(&["/sagas/fulfillment/policy=internl"], "/sagas/fulfillment/policy", "unknown policy `internl`"),
    b(
        &["/sagas/fulfillment/steps/0/compensation=inventory.release"],
        "/sagas/fulfillment/steps/0/compensation",
        "unknown endpoint `inventory.release`",
    ),
    b(
        &["/sagas/fulfillment/compensation_policy=retry"],
        "/sagas/fulfillment/compensation_policy",
        "unknown value `retry`",
    ),
    b(
        &[
            "/sagas/Fulfillment={\"orchestrator\": \"orders\", \"steps\": [{\"name\": \"a\", \"action\": \"orders.create\"}]}",
        ],
        "/sagas/Fulfillment",
        "bad saga name",
    ),
    b(
        &["/workload/3/target=saga:fulfilment"],
        "/workload/3/target",
        "unknown saga `fulfilment` (did you mean `fulfillment`?); the sagas are: fulfillment",
    ),
    b(&["/workload/3/policy=internal"], "/workload/3/policy", "the saga's own policy governs its calls"),
    b(
        &[
            "/sagas/s={\"orchestrator\": \"orders\", \"steps\": [{\"name\": \"a\", \"action\": \"orders.nope\"}]}",
        ],
        "/sagas/s/steps/0/action",
        "unknown endpoint `orders.nope`",
    ),
    b(
        &["/services/orders/endpoints/create/steps/0={\"publish\": \"nope\"}"],
        "/services/orders/endpoints/create/steps/0/publish",
        "unknown topic `nope`",
    ),
    b(
        &[
            "/services/orders/endpoints/create/steps/0={\"work\": {\"constant\": \"1ms\"}, \"policy\": \"internal\"}",
        ],
        "/services/orders/endpoints/create/steps/0/policy",
        "only allowed with `call` or `route`",
    ),
    b(&["/services/payment/queue=[64]"], "/services/payment/queue", "expected an object, found an array"),
    b(&["/services/payment/queue=[]"], "/services/payment/queue", "expected an object, found an array"),
    b(&["/interval=1ns"], "/interval", "buckets"),
    b(&["/limits/max_in_flight=0"], "/limits/max_in_flight", "at least 1"),
    b(&["/seed=-1"], "/seed", "expected a whole number"),
    b(&["/services={}"], "/services", "at least one service"),
    b(
        &["/workload/0/arrival=\"poisson\""],
        "/workload/0/arrival",
        "expected an object such as {\"poisson\": ...}",
    ),
    b(
        &["/services/payment/queue={\"discipline\": \"lifu\"}"],
        "/services/payment/queue/discipline",
        "did you mean `lifo`?",
    ),
    // Bounds that match the model's counters and clock.
    b(
        &["/policies/internal/retry/max_attempts=65536"],
        "/policies/internal/retry/max_attempts",
        "expected at most 10000, found 65536 (no client retries more than that; the simulator counts a call's tries in 32 bits)",
    ),
    b(
        &["/topics/order-created/subscribers/0/max_attempts=4294967295"],
        "/topics/order-created/subscribers/0/max_attempts",
        "expected at most 10000, found 4294967295",
    ),
    b(
        &["/duration=87601h"],
        "/duration",
        "at most 10 years, \"87600h\" (the simulated clock is 64-bit nanoseconds)",
    ),
    b(&["/faults/0/delay/start=100000h"], "/faults/0/delay/start", "at most 10 years"),
    b(
        &["/policies/internal/timeout=18446744073709551615ns"],
        "/policies/internal/timeout",
        "at most 10 years",
    ),
    b(
        &["/services/payment/endpoints/refund/latency={\"exponential\": {\"mean\": \"1000000000h\"}}"],
        "/services/payment/endpoints/refund/latency/exponential/mean",
        "at most 10 years",
    ),
    b(
        &["/services/orders/endpoints/create/latency/lognormal/sigma=1e300"],
        "/services/orders/endpoints/create/latency/lognormal/sigma",
        "expected a sigma greater than 0 and at most 10, found 1e300",
    ),
    b(
        &["/services/inventory/endpoints/reserve/latency/pareto/shape=1e-300"],
        "/services/inventory/endpoints/reserve/latency/pareto/shape",
        "expected a shape at least 0.01 and at most 100",
    ),
    b(
        &["/policies/internal/retry/backoff/exponential/multiplier=1e300"],
        "/policies/internal/retry/backoff/exponential/multiplier",
        "at most 1000",
    ),
    b(
        &["/faults/5/slowdown/factor=1e9"],
        "/faults/5/slowdown/factor",
        "expected a factor greater than 0 and at most 1000",
    ),
    b(
        &["/workload/0/arrival/poisson/rate=2e9"],
        "/workload/0/arrival/poisson/rate",
        "expected a rate of at most 1000000000 per second, found 2000000000 (the simulated clock ticks in nanoseconds",
    ),
    b(
        &["/workload/2/arrival/constant/rate=1e300"],
        "/workload/2/arrival/constant/rate",
        "at most 1000000000 per second",
    ),
    b(&["/workload/0/schedule/0/rate=1e10"], "/workload/0/schedule/0/rate", "at most 1000000000 per second"),
    b(&["/workload/0/schedule/0/rate=-1"], "/workload/0/schedule/0/rate", "expected a rate of at least 0"),
    b(
        &["/policies/internal/retry/budget/min_per_second=1e12"],
        "/policies/internal/retry/budget/min_per_second",
        "at most 1000000000 per second",
    ),
    // Percentages say what they are.
    b(
        &["/faults/1/abort/percent=150"],
        "/faults/1/abort/percent",
        "expected a percentage from 0 to 100, found 150 (shares are percentages from 0 to 100: 100 means all of them",
    ),
    b(&["/network/links/0/loss/percent=-2"], "/network/links/0/loss/percent", "a share cannot be negative"),
    b(
        &["/services/payment/endpoints/charge/declines=0.02"],
        "/services/payment/endpoints/charge/declines",
        "expected a share as an object such as {\"percent\": 0.02}, found the number 0.02; shares are percentages, so {\"percent\": 0.02} means 0.02 %; if you meant 2 %, write {\"percent\": 2}",
    ),
    b(
        &["/services/payment/endpoints/charge/errors=\"5%\""],
        "/services/payment/endpoints/charge/errors",
        "expected a share as an object such as {\"percent\": 5}, found the string \"5%\"",
    ),
    b(&["/network/links/0/loss=0.07"], "/network/links/0/loss", "if you meant 7 %, write {\"percent\": 7}"),
    b(&["/network/links/0/loss=true"], "/network/links/0/loss", "such as {\"percent\": 5} (0 to 100)"),
];

#[test]
fn broken_inputs_name_their_path() {
    for (i, case) in BROKEN.iter().enumerate() {
        let err = match load_with(case.sets) {
            Ok(_) => panic!("case {i} {:?}: loaded without a problem", case.sets),
            Err(e) => e,
        };
        let hit = err.problems.iter().any(|p| p.path == case.path && p.message.contains(case.message));
        assert!(hit, "case {i} {:?}: wanted {} `{}`, got:\n{err}", case.sets, case.path, case.message);
    }
}

#[test]
fn collects_many_problems_at_once() {
    let err = load_with(&[
        "/services/payment/replicas=0",
        "/warmup=6m",
        "/services/gateway/endpoints/checkout/steps/0/call=payment.chrage",
        "/faults/2/crash/target=payment#7",
        "/policies/internal/retry/max_attempts=0",
    ])
    .unwrap_err();
    let paths: Vec<&str> = err.problems.iter().map(|p| p.path.as_str()).collect();
    for want in [
        "/services/payment/replicas",
        "/warmup",
        "/services/gateway/endpoints/checkout/steps/0/call",
        "/faults/2/crash/target",
        "/policies/internal/retry/max_attempts",
    ] {
        assert!(paths.contains(&want), "{want} missing from {paths:?}");
    }
    // Every problem names the override that set the value.
    assert!(err.problems.iter().all(|p| p.message.contains("(set by --set ")), "{err}");
}

#[test]
fn problems_are_located_in_the_text() {
    let text =
        FULL.replace("\"replicas\": 3,", "\"replica\": 3,").replace("\"percent\": 0.1", "\"percent\": 120");
    let err = load(&text).unwrap_err();
    // The unknown key and the resolver's problem, in one pass; `replica` is read as the
    // `replicas` it misses, so `payment#1` of the faults is still a replica.
    assert_eq!(err.problems.len(), 2, "{err}");
    assert_eq!(err.problems[1].path, "/services/payment/endpoints/charge/errors/percent");
    let p = &err.problems[0];
    assert_eq!(p.path, "/services/payment/replica");
    assert_eq!((p.line, p.column), (Some(45), Some(7)), "{err}");
    assert!(
        err.to_string().starts_with("checkout.json:45:7: /services/payment/replica: unknown key `replica`"),
        "{err}"
    );

    let text = FULL.replace("\"percent\": 0.1", "\"percent\": 120").replace("\"rate\": 1200", "\"rate\": -3");
    let err = load(&text).unwrap_err();
    assert_eq!(err.problems.len(), 2, "{err}");
    assert_eq!(err.problems[0].path, "/services/payment/endpoints/charge/errors/percent");
    assert_eq!((err.problems[0].line, err.problems[0].column), (Some(50), Some(33)));
    assert_eq!(err.problems[1].path, "/workload/0/schedule/0/rate");
    assert_eq!((err.problems[1].line, err.problems[1].column), (Some(140), Some(41)));

    // A syntax error carries serde_json's position.
    let err = load("{\n  \"duration\": \"1s\",\n  \"services\": {,}\n}").unwrap_err();
    assert_eq!((err.problems[0].line, err.problems[0].column), (Some(3), Some(16)), "{err}");
    assert!(err.problems[0].message.starts_with("invalid JSON"));
}

#[test]
fn variant_problems_point_at_the_override() {
    let text =
        FULL.replace("\"/policies/internal/timeout\": \"300ms\"", "\"/policies/internal/timeout\": 300");
    let opts = LoadOptions { variant: Some("tight".into()), ..LoadOptions::default() };
    let err = load_str(&text, "checkout.json", &opts).unwrap_err();
    let p = &err.problems[0];
    assert_eq!(p.path, "/policies/internal/timeout");
    assert!(
        p.message.contains("found the number 300") && p.message.ends_with("(set by variant tight)"),
        "{err}"
    );
    // Line of the override in the variants section, column of its value.
    assert_eq!((p.line, p.column), (Some(159), Some(50)), "{err}");

    // An override that points nowhere names the pointer and the variant.
    let text = FULL.replace("\"/policies/internal/timeout\"", "\"/policies/internl/timeout\"");
    let err = load_str(&text, "checkout.json", &opts).unwrap_err();
    let p = &err.problems[0];
    assert_eq!(p.path, "/variants/tight/~1policies~1internl~1timeout");
    assert!(p.message.contains("variant `tight`") && p.message.contains("points nowhere"), "{err}");
    assert!(p.message.contains("`/policies/internl` does not exist"), "{err}");
    assert_eq!((p.line, p.column), (Some(159), Some(20)), "{err}");

    // check_str reports it under the variant's name, and the base is fine.
    let err = check_str(&text, "checkout.json").unwrap_err();
    assert_eq!(err.problems.len(), 1, "{err}");
    assert!(err.problems[0].message.starts_with("in variant tight: "), "{err}");

    // Unknown variant.
    let opts = LoadOptions { variant: Some("tigth".into()), ..LoadOptions::default() };
    let err = load_str(FULL, "checkout.json", &opts).unwrap_err();
    assert_eq!(err.problems[0].path, "/variants");
    assert!(err.problems[0].message.contains("did you mean `tight`?"), "{err}");
    assert!(err.problems[0].message.contains("baseline, no-breaker, tight"), "{err}");
}

#[test]
fn set_errors() {
    let err = load_with(&["/nope/x=1"]).unwrap_err();
    let p = &err.problems[0];
    assert!(p.message.starts_with("--set /nope/x=1: points nowhere: `/nope` does not exist"), "{err}");
    // Named by its pointer, placed at the nearest part of it that the file has (here the
    // whole document).
    assert_eq!((p.path.as_str(), p.line, p.column), ("/nope/x", Some(1), Some(1)));
    assert!(err.to_string().starts_with("checkout.json:1:1: /nope/x: --set"), "{err}");
    let err = load_with(&["/services/nope/replicas=2"]).unwrap_err();
    let p = &err.problems[0];
    assert_eq!((p.path.as_str(), p.line), ("/services/nope/replicas", Some(10)), "{err}");
    let err = load_with(&["/seed"]).unwrap_err();
    assert!(err.problems[0].message.contains("POINTER=VALUE"));
    let err = load_with(&["/services/payment/kind=null"]).unwrap_err();
    assert!(err.problems[0].message.contains("cannot be removed"), "{err}");
    // Strings that are not JSON are taken as strings.
    assert_eq!(load_with(&["/warmup=120s"]).unwrap().warmup_ns, 120 * S);
}

#[test]
fn duplicate_keys_are_errors() {
    let text = FULL.replace("\"seed\": 7,", "\"seed\": 7, \"seed\": 8,");
    let err = load(&text).unwrap_err();
    assert_eq!(err.problems[0].path, "/seed");
    assert!(err.problems[0].message.contains("duplicate key `seed`"));
    assert_eq!((err.problems[0].line, err.problems[0].column), (Some(7), Some(14)));
}

#[test]
fn async_messaging_and_sagas_resolve() {
    // What once was reported as "not supported yet" now resolves.
    let spec = load_with(&[
        "/topics/orders={\"partitions\": 3, \"key\": \"round_robin\", \"subscribers\": [{\"group\": \"g\", \"endpoint\": \"gateway.browse\"}]}",
        "/sagas/s={\"orchestrator\": \"gateway\", \"steps\": [{\"name\": \"a\", \"action\": \"orders.create\"}]}",
        "/workload/2/target=saga:s",
        "/services/orders/endpoints/create/steps/0={\"publish\": \"orders\", \"outbox\": true}",
    ])
    .unwrap_or_else(|e| panic!("{e}"));
    let t = &spec.topics[2];
    assert_eq!((t.name.as_str(), t.partitions, t.key), ("orders", 3, KeyMode::RoundRobin));
    // The default consumer count is the handler service's replica count (gateway: 2).
    assert_eq!((t.groups[0].endpoint, t.groups[0].consumers), (1, 2));
    assert!(matches!(spec.endpoints[2].steps[0], Step::Publish { topic: 2, outbox: true }));
    // The orders->orders-db.query step is gone, so is its edge; the saga's single step
    // reuses the gateway->orders.create edge of gateway.checkout.
    let s = &spec.sagas[1];
    assert_eq!((s.name.as_str(), s.orchestrator, s.policy), ("s", 0, None));
    assert_eq!(
        (s.compensation_policy, s.compensate_unknown, s.durable),
        (CompensationPolicy::BestEffort, false, false)
    );
    assert_eq!((s.steps[0].action, s.steps[0].action_edge, s.steps[0].compensation), (2, 0, None));
    assert!(!s.steps[0].pivot && !s.steps[0].retriable);
    let w = &spec.workloads[2];
    assert_eq!((w.saga, w.target, w.edge), (Some(1), 2, 0));
    assert!(!spec.edges.iter().any(|e| e.name.starts_with("client:steady")));
    // A publish step is not a call: an endpoint may publish to a topic whose handler
    // publishes back to it (no call cycle).
    let spec = load_with(&[
        "/topics/loop={\"subscribers\": [{\"group\": \"g\", \"endpoint\": \"orders.create\"}]}",
        "/services/orders/endpoints/create/steps/0={\"publish\": \"loop\"}",
    ])
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(spec.topics[2].groups[0].endpoint, 2);
}

#[test]
fn saga_problems_are_all_collected() {
    let err = load_with(&[
        "/sagas/fulfillment/steps/0/retriable=true",
        "/sagas/fulfillment/steps/0/pivot=true",
        "/sagas/fulfillment/steps/2/retriable=false",
        "/sagas/fulfillment/steps/2/name=reserve",
        "/sagas/fulfillment/steps/2/action=orders-db.nope",
        "/workload/3/policy=internal",
    ])
    .unwrap_err();
    let got: Vec<(&str, &str)> = err.problems.iter().map(|p| (p.path.as_str(), p.message.as_str())).collect();
    for (path, msg) in [
        ("/sagas/fulfillment/steps/0/retriable", "the pivot cannot be retriable"),
        ("/sagas/fulfillment/steps/0/compensation", "never compensated"),
        ("/sagas/fulfillment/steps/1/pivot", "at most one pivot"),
        ("/sagas/fulfillment/steps/2", "steps after the pivot are retriable"),
        ("/sagas/fulfillment/steps/2/name", "used twice"),
        ("/sagas/fulfillment/steps/2/action", "unknown endpoint `orders-db.nope`"),
        ("/workload/3/policy", "the saga's own policy"),
    ] {
        assert!(got.iter().any(|(p, m)| *p == path && m.contains(msg)), "{path} {msg}: {err}");
    }
    // The second pivot is reported once, as a pivot, not again as a non-retriable step.
    assert!(!got.iter().any(|(p, _)| *p == "/sagas/fulfillment/steps/1"), "{err}");
}

#[test]
fn hostile_inputs_do_not_panic() {
    let inputs = [
        "",
        "null",
        "[]",
        "5",
        "{",
        "{\"duration\": \"1s\"}",
        "{\"duration\": \"1s\", \"services\": []}",
        "{\"duration\": \"1s\", \"services\": {\"a\": {\"replicas\": 4294967295, \"endpoints\": {\"x\": {}}}}}",
        "{\"duration\": \"18446744073709551615ns\", \"interval\": \"1ns\", \"services\": {\"a\": {}}}",
        "{\"duration\": \"1s\", \"services\": {\"a\": {\"endpoints\": {\"x\": {\"latency\": {\"gamma\": {\"mean\": \"1ns\", \"cv\": 1e-300}}}}}}}",
        "{\"duration\": \"1s\", \"services\": {\"a\": {\"endpoints\": {\"x\": {\"latency\": {\"mixture\": [{\"weight\": 1e308, \"dist\": {\"constant\": \"1s\"}}, {\"weight\": 1e308, \"dist\": {\"constant\": \"1s\"}}]}}}}}}",
        "{\"duration\": \"1s\", \"services\": {\"\u{e9}\": {}}, \"variants\": {\"v\": {\"/a~\": 1}}}",
        "{\"duration\": \"1s\", \"services\": {\"a\": {}}, \"faults\": [{\"crash\": {\"target\": \"a#99999999999999999999\", \"start\": \"0s\"}}]}",
    ];
    for text in inputs {
        let _ = load(text);
        let _ = check_str(text, "x");
        let _ = variant_names(text, "x");
    }
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    assert!(load(&deep).is_err());
}

#[test]
fn unreadable_file_is_a_scenario_error() {
    let err = load_file(std::path::Path::new("/nonexistent/faultline/x.json"), &LoadOptions::default())
        .unwrap_err();
    assert_eq!(err.file, "/nonexistent/faultline/x.json");
    assert!(err.problems[0].message.contains("cannot read"));
}

#[test]
fn bytes_that_are_not_utf8_are_placed() {
    let err = text_of(b"{\"duration\": \"1s\",\n \"name\": \"caf\xe9\"}".to_vec(), "x.json").unwrap_err();
    let p = &err.problems[0];
    assert_eq!((p.line, p.column), (Some(2), Some(14)), "{err}");
    assert!(p.message.contains("byte 0xe9") && p.message.contains("UTF-8"), "{err}");
    assert_eq!(text_of(b"{}".to_vec(), "x").unwrap(), "{}");
}

#[test]
fn schema_is_draft07_and_complete() {
    let s = schema();
    let text = serde_json::to_string_pretty(&s).unwrap();
    let back: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(back["$schema"], "http://json-schema.org/draft-07/schema#");
    assert!(back["properties"]["services"].is_object());
    for word in [
        "services",
        "outlier_detection",
        "health_check",
        "subscribers",
        "compensation_policy",
        "outage",
        "publish",
        "outbox",
        "max_in_flight",
        "interval",
        "percentiles",
    ] {
        assert!(text.contains(word), "schema lacks {word}");
    }
    assert_eq!(back["additionalProperties"], false);
    assert!(!text.contains("not simulated"), "the schema still says something is not simulated");
    // Doc comments reach the schema.
    assert!(text.contains("Default \\\"1s\\\""), "interval's default is documented");
}

/// Every value of the full scenario replaced by each of a few hostile values: never a
/// panic, and every problem has a message and a well-formed path.
#[test]
fn every_mutation_is_handled() {
    fn paths(v: &serde_json::Value, at: String, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, x) in m {
                    paths(x, format!("{at}/{}", pointer::escape(k)), out);
                }
            }
            serde_json::Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    paths(x, format!("{at}/{i}"), out);
                }
            }
            _ => {}
        }
        out.push(at);
    }
    let doc: serde_json::Value = serde_json::from_str(FULL).unwrap();
    let mut all = Vec::new();
    paths(&doc, String::new(), &mut all);
    all.retain(|p| !p.is_empty());
    let values = ["null", "0", "-1", "1e300", "\"\"", "\"x\"", "{}", "[]", "true", "\"1ms\"", "4294967296"];
    let mut failures = 0;
    for p in &all {
        for v in values {
            let set = format!("{p}={v}");
            if let Err(e) = load_with(&[set.as_str()]) {
                failures += 1;
                for pr in &e.problems {
                    assert!(!pr.message.is_empty(), "{set}: {e}");
                    assert!(pr.path.is_empty() || pr.path.starts_with('/'), "{set}: {e}");
                    assert!(pointer::parse(&pr.path).is_ok(), "{set}: {e}");
                }
            }
        }
    }
    assert!(failures > all.len(), "most mutations are errors");
}

#[test]
fn limits_are_carried_and_zero_rejected() {
    let spec = load_with(&[
        r#"/limits={"max_events": 7, "max_in_flight": 8, "max_executions": 9, "max_backlog": 10,
            "max_events_per_instant": 11, "max_series_points": 12, "max_memory_mib": 13}"#,
    ])
    .unwrap_or_else(|e| panic!("{e}"));
    let l = spec.limits;
    assert_eq!(
        (
            l.max_events,
            l.max_in_flight,
            l.max_executions,
            l.max_backlog,
            l.max_events_per_instant,
            l.max_series_points,
            l.max_memory_mib
        ),
        (7, 8, 9, 10, 11, 12, 13)
    );
    // Omitted limits keep their defaults.
    let spec = load_with(&["/limits={}"]).unwrap();
    let d = Limits::default();
    assert_eq!((spec.limits.max_events, spec.limits.max_memory_mib), (d.max_events, d.max_memory_mib));
    assert_eq!((spec.limits.max_executions, spec.limits.max_backlog), (d.max_executions, d.max_backlog));
    for key in crate::spec::Limits::KEYS {
        let err = load_with(&[&format!("/limits/{key}=0")]).unwrap_err();
        assert_eq!(err.problems.len(), 1, "{err}");
        assert_eq!(err.problems[0].path, format!("/limits/{key}"));
        assert!(err.problems[0].message.contains("at least 1, found 0"), "{err}");
    }
}

#[test]
fn every_unknown_key_and_type_problem_in_one_pass() {
    let text = FULL
        .replace("\"seed\": 7,", "\"seed\": 7, \"sede\": 1, \"zzz\": 2,")
        .replace("\"concurrency\": 8,", "\"concurrency\": \"eight\", \"concurency\": 8,")
        .replace("\"load_balancer\": \"p2c\"", "\"load_balancer\": \"p3c\", \"scop\": \"service\"")
        .replace("\"max_ejection_percent\": 50", "\"max_ejection_percent\": \"50%\"")
        .replace("\"rate\": 1200", "\"rate\": -3");
    let err = load(&text).unwrap_err();
    let got: Vec<(&str, &str)> = err.problems.iter().map(|p| (p.path.as_str(), p.message.as_str())).collect();
    for (path, msg) in [
        ("/sede", "unknown key `sede` (did you mean `seed`?)"),
        ("/zzz", "unknown key `zzz`; expected one of: $schema, name"),
        ("/services/gateway/concurency", "did you mean `concurrency`?"),
        ("/services/gateway/concurrency", "expected a whole number"),
        ("/policies/best-effort/scop", "did you mean `scope`?"),
        ("/policies/best-effort/load_balancer", "did you mean `p2c`?"),
        ("/policies/internal/outlier_detection/max_ejection_percent", "found the string \"50%\""),
        ("/workload/0/schedule/0/rate", "expected a rate of at least 0"),
    ] {
        assert!(got.iter().any(|(p, m)| *p == path && m.contains(msg)), "{path} {msg}:\n{err}");
    }
    assert_eq!(got.len(), 8, "{err}");
    // Every one is placed in the text.
    assert!(err.problems.iter().all(|p| p.line.is_some() && p.column.is_some()), "{err}");
}

#[test]
fn overrides_create_missing_objects_but_never_names() {
    let text = FULL.replace("\"limits\": {\"max_events\": 1000000, \"max_in_flight\": 5000},", "");
    let opts = |sets: &[&str]| LoadOptions {
        sets: sets.iter().map(|s| s.to_string()).collect(),
        ..LoadOptions::default()
    };
    let spec = load_str(
        &text,
        "x.json",
        &opts(&[
            "/limits/max_events=5000",
            "/services/payment/queue/capacity=7",
            "/policies/best-effort/retry/budget/percent=5",
            "/policies/best-effort/hedge/after=10ms",
            "/services/orders/health_check/interval=3s",
        ]),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(spec.limits.max_events, 5000);
    assert_eq!(spec.services[3].queue.capacity, 7);
    assert!(spec.policies[1].retry.as_ref().unwrap().budget.is_some_and(|b| approx(b.ratio, 0.05)));
    assert_eq!(spec.services[1].health_check.as_ref().unwrap().interval_ns, 3 * S);
    // The breaker of best-effort is the consecutive style: a window makes it mixed.
    let err = load_str(&text, "x.json", &opts(&["/policies/best-effort/circuit_breaker/window/count=9"]));
    assert!(err.is_err());
    assert_eq!(spec.policies[1].hedge.map(|h| (h.after_ns, h.max_extra)), Some((10 * MS, 1)));
    // A scenario without `network`.
    let text = text.replace("\"network\": {", "\"network_\": {");
    let text = text.replace("\"network_\": {\n    \"latency\": {\"lognormal\": {\"p50\": \"400us\", \"p99\": \"2ms\"}},\n    \"links\": [\n      {\"from\": \"gateway\", \"to\": \"payment\", \"latency\": {\"constant\": \"5ms\"}, \"loss\": {\"percent\": 0.5}},\n      {\"from\": \"payment\", \"to\": \"gateway\"}\n    ]\n  },", "");
    assert!(!text.contains("network"), "bad test");
    let spec = load_str(&text, "x.json", &opts(&["/network/latency/constant=3ms"]))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(matches!(spec.network.default_latency, Some(Dist::Constant(c)) if c == 3e6));
    // Never a key of a name-keyed map, never an array item, never for a removal.
    for set in
        ["/services/nope/replicas=2", "/topics/nope/partitions=2", "/workload/9/name=x", "/limits/x=null"]
    {
        let err = load_str(&text, "x.json", &opts(&[set])).unwrap_err();
        assert!(err.problems[0].message.contains("points nowhere"), "{set}: {err}");
    }
}

/// Every value of the full scenario replaced, in the file itself, by each of a few values
/// of the wrong shape: every problem is placed on a line of the file.
#[test]
fn every_problem_of_a_file_has_a_line() {
    fn paths(v: &serde_json::Value, at: String, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, x) in m {
                    paths(x, format!("{at}/{}", pointer::escape(k)), out);
                }
            }
            serde_json::Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    paths(x, format!("{at}/{i}"), out);
                }
            }
            _ => {}
        }
        out.push(at);
    }
    let doc: serde_json::Value = serde_json::from_str(FULL).unwrap();
    let mut all = Vec::new();
    paths(&doc, String::new(), &mut all);
    all.retain(|p| !p.is_empty());
    let values = ["null", "-1", "\"x\"", "{}", "[{}]", "{\"a\": 1}", "{\"constant\": 5}"];
    let mut unlocated = Vec::new();
    for p in &all {
        for v in values {
            // Through the text, as a file would have it.
            let mut d = doc.clone();
            if pointer::apply(&mut d, p, serde_json::from_str(v).unwrap()).is_err() {
                continue;
            }
            let text = serde_json::to_string_pretty(&d).unwrap();
            if let Err(e) = load(&text) {
                for pr in &e.problems {
                    if pr.line.is_none() || pr.column.is_none() {
                        unlocated.push(format!("{p}={v}: {pr:?}"));
                    }
                }
            }
        }
    }
    assert!(unlocated.is_empty(), "{}", unlocated.join("\n"));
}

/// A 2 MB scenario of 20,000 workloads checks in linear time and memory: locating keeps
/// no position per value, and no check searches a list per workload.
#[test]
fn a_large_scenario_checks_quickly() {
    let mut text = String::from(
        "{\"duration\": \"10s\", \"services\": {\"api\": {\"endpoints\": {\"get\": {}}}},\n \"workload\": [\n",
    );
    let n = 20_000;
    for i in 0..n {
        let sep = if i + 1 < n { "," } else { "" };
        text.push_str(&format!(
            "  {{\"name\": \"client-{i}\", \"target\": \"api.get\", \"arrival\": {{\"poisson\": {{\"rate\": 1.5}}}}, \"policy\": null}}{sep}\n"
        ));
    }
    text.push_str("]}\n");
    assert!(text.len() > 2_000_000);
    let spec = load(&text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(spec.workloads.len(), n);
    assert_eq!(check_str(&text, "big.json").unwrap(), Vec::<String>::new());
    // Broken at both ends: both found and placed.
    let bad = text.replacen("\"client-0\"", "\"client-1\"", 1).replace(
        &format!("\"client-{}\", \"target\": \"api.get\"", n - 1),
        &format!("\"client-{}\", \"target\": \"api.gett\"", n - 1),
    );
    let err = load(&bad).unwrap_err();
    let got: Vec<(&str, Option<usize>)> = err.problems.iter().map(|p| (p.path.as_str(), p.line)).collect();
    assert_eq!(
        got,
        [("/workload/1/name", Some(4)), (format!("/workload/{}/target", n - 1).as_str(), Some(n + 2))],
        "{err}"
    );
}

/// A 200 KB file whose every value is wrong, under a very long name: the problems are
/// capped and the memory stays proportional to the file.
#[test]
fn a_file_wrong_everywhere_is_capped() {
    let long = "s".repeat(50_000);
    let mut text = format!("{{\"duration\": \"1s\", \"services\": {{\"{long}\": {{");
    for i in 0..20_000 {
        text.push_str(&format!("\"k{i}\": {i},"));
    }
    text.push_str("\"replicas\": 1}}}");
    assert!(text.len() > 200_000);
    let err = load(&text).unwrap_err();
    assert_eq!(err.problems.len(), resolve::MAX_PROBLEMS + 1, "{}", err.problems.len());
    let last = err.problems.last().unwrap();
    assert!(last.message.contains("and 19000 more problems"), "{}", last.message);
    assert!(err.problems[0].line.is_some());
}
