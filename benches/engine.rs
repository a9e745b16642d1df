//! Simulation speed: simulated requests per second on one core.
//!
//! `cargo bench --bench engine` prints, for each model, criterion's time per run and
//! its throughput in simulated requests (elements) per second; events per second are
//! printed once per model before the measurement. Each run's event count is asserted
//! so that a "faster" run that does less work is caught.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use faultline::scenario::{LoadOptions, load_str};
use std::hint::black_box;
use std::time::Instant;

/// M/M/c, c = 4, ρ = 0.8, one shared queue: the peers' model (20 simulated seconds,
/// about 64,000 requests).
const MMC: &str = r#"{
  "name": "bench-mmc", "duration": "20s", "seed": 42,
  "services": {"pool": {"concurrency": 4, "endpoints": {"serve": {"latency": {"exponential": {"mean": "1ms"}}}}}},
  "workload": [{"name": "load", "target": "pool.serve", "arrival": {"poisson": {"rate": 3200}}}]
}"#;

/// A 3-stage synchronous chain with network delays: a → b → c, each with its own
/// service time and a worker pool, every hop drawing a network latency both ways.
const CHAIN: &str = r#"{
  "name": "bench-chain", "duration": "20s", "seed": 42,
  "services": {
    "a": {"replicas": 2, "concurrency": 8, "endpoints": {"e": {"latency": {"exponential": {"mean": "0.2ms"}}, "steps": [{"call": "b.e", "policy": "p"}]}}},
    "b": {"replicas": 2, "concurrency": 8, "endpoints": {"e": {"latency": {"exponential": {"mean": "0.3ms"}}, "steps": [{"call": "c.e", "policy": "p"}]}}},
    "c": {"replicas": 2, "concurrency": 8, "endpoints": {"e": {"latency": {"exponential": {"mean": "0.5ms"}}}}}
  },
  "policies": {"p": {"timeout": "1s"}},
  "network": {"latency": {"exponential": {"mean": "100us"}}},
  "workload": [{"name": "load", "target": "a.e", "arrival": {"poisson": {"rate": 5000}}}]
}"#;

/// The same chain with every client policy switched on: retries with jittered backoff
/// and a budget, a deadline, a breaker, a bulkhead, outlier detection and p2c.
const CHAIN_POLICIES: &str = r#"{
  "name": "bench-chain-policies", "duration": "20s", "seed": 42,
  "services": {
    "a": {"replicas": 2, "concurrency": 8, "endpoints": {"e": {"latency": {"exponential": {"mean": "0.2ms"}}, "steps": [{"call": "b.e", "policy": "p"}]}}},
    "b": {"replicas": 2, "concurrency": 8, "endpoints": {"e": {"latency": {"exponential": {"mean": "0.3ms"}}, "errors": {"percent": 1}, "steps": [{"call": "c.e", "policy": "p"}]}}},
    "c": {"replicas": 2, "concurrency": 8, "endpoints": {"e": {"latency": {"exponential": {"mean": "0.5ms"}}, "errors": {"percent": 1}}}}
  },
  "policies": {"p": {"timeout": "1s", "deadline": "3s",
    "retry": {"max_attempts": 3, "backoff": {"exponential": {"initial": "1ms", "multiplier": 2, "max": "10ms"}}, "jitter": "full",
              "budget": {"percent": 20, "min_per_second": 10}},
    "circuit_breaker": {"window": {"count": 100}, "minimum_calls": 20, "failure_rate_threshold": 50, "open_for": "5s", "half_open_calls": 5},
    "bulkhead": {"max_concurrent": 64},
    "outlier_detection": {"consecutive_errors": 5, "ejection": "1s", "max_ejection_percent": 50},
    "load_balancer": "p2c"}},
  "network": {"latency": {"exponential": {"mean": "100us"}}},
  "workload": [{"name": "load", "target": "a.e", "arrival": {"poisson": {"rate": 5000}}}]
}"#;

/// A topic with 6 partitions and one consumer group: a producer publishes every
/// request (broker ack 1 ms), three consumers handle them (0.2 ms each).
const TOPIC: &str = r#"{
  "name": "bench-topic", "duration": "20s", "seed": 42,
  "services": {
    "producer": {"replicas": 2, "concurrency": 64, "endpoints": {"emit": {"steps": [{"publish": "events"}]}}},
    "consumer": {"replicas": 3, "concurrency": 4, "endpoints": {"handle": {"latency": {"exponential": {"mean": "0.2ms"}}}}}
  },
  "topics": {"events": {"partitions": 6, "latency": {"constant": "1ms"},
    "subscribers": [{"group": "g", "endpoint": "consumer.handle", "consumers": 6}]}},
  "workload": [{"name": "load", "target": "producer.emit", "arrival": {"poisson": {"rate": 20000}}}]
}"#;

/// The 4-step order saga (create, reserve, charge as pivot, confirm), every action a
/// call from the orchestrator with a timeout.
const SAGA: &str = r#"{
  "name": "bench-saga", "duration": "20s", "seed": 42,
  "services": {
    "orders": {"replicas": 2, "concurrency": 64, "endpoints": {
      "create": {"latency": {"exponential": {"mean": "0.2ms"}}},
      "cancel": {"latency": {"exponential": {"mean": "0.2ms"}}},
      "confirm": {"latency": {"exponential": {"mean": "0.2ms"}}}}},
    "inventory": {"replicas": 2, "concurrency": 64, "endpoints": {
      "reserve": {"latency": {"exponential": {"mean": "0.2ms"}}, "declines": {"percent": 1}},
      "release": {"latency": {"exponential": {"mean": "0.2ms"}}}}},
    "payment": {"replicas": 2, "concurrency": 64, "endpoints": {
      "charge": {"latency": {"exponential": {"mean": "0.5ms"}}, "declines": {"percent": 2}}}}
  },
  "policies": {"saga": {"timeout": "1s"}},
  "sagas": {"fulfillment": {"orchestrator": "orders", "policy": "saga", "steps": [
    {"name": "create", "action": "orders.create", "compensation": "orders.cancel"},
    {"name": "reserve", "action": "inventory.reserve", "compensation": "inventory.release"},
    {"name": "charge", "action": "payment.charge", "pivot": true},
    {"name": "confirm", "action": "orders.confirm", "retriable": true}]}},
  "workload": [{"name": "orders", "target": "saga:fulfillment", "arrival": {"poisson": {"rate": 10000}}}]
}"#;

fn bench_model(c: &mut Criterion, name: &str, text: &str) {
    let spec = load_str(text, name, &LoadOptions::default()).expect("bench scenario loads");
    let first = faultline::model::run(&spec).expect("bench run");
    let requests: u64 = first.workloads.iter().map(|w| w.offered).sum();
    let events = first.events;
    let t = Instant::now();
    let reps = 5;
    for _ in 0..reps {
        let o = faultline::model::run(&spec).unwrap();
        assert_eq!(o.events, events);
    }
    let per = t.elapsed().as_secs_f64() / reps as f64;
    eprintln!(
        "{name}: {requests} requests, {events} events per run; {:.2} M requests/s, {:.2} M events/s",
        requests as f64 / per / 1e6,
        events as f64 / per / 1e6
    );
    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Elements(requests));
    g.sample_size(20);
    g.bench_function("run", |b| {
        b.iter(|| {
            let o = faultline::model::run(black_box(&spec)).unwrap();
            assert_eq!(o.events, events);
            o
        })
    });
    g.finish();
}

fn benches(c: &mut Criterion) {
    bench_model(c, "mmc", MMC);
    bench_model(c, "chain", CHAIN);
    bench_model(c, "chain-policies", CHAIN_POLICIES);
    bench_model(c, "topic", TOPIC);
    bench_model(c, "saga", SAGA);
}

criterion_group!(engine, benches);
criterion_main!(engine);
