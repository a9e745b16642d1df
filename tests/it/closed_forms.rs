//! The simulator against queueing theory. Each check runs independent replications on
//! fixed seeds and compares the mean of the replications' estimates with the closed
//! form, allowing t(99.9%) standard errors computed from the replications themselves.
//! Never widen these: a failure here is a bug in the model.

use crate::common::*;
use serde_json::{Value, json};

fn single_service(concurrency: u32, latency: Value, rate: f64, duration: &str) -> Value {
    json!({
        "name": "closed-form",
        "duration": duration,
        "warmup": "5s",
        "services": {"server": {"concurrency": concurrency, "endpoints": {"serve": {"latency": latency}}}},
        "workload": [{"name": "load", "target": "server.serve", "arrival": {"poisson": {"rate": rate}}}]
    })
}

/// Asserts that the replications' estimates agree with `expected`.
fn assert_agrees(what: &str, estimates: &[f64], expected: f64) {
    let (m, se) = mean_se(estimates);
    let tol = t999(estimates.len() - 1) * se;
    eprintln!(
        "{what}: simulated {m:.5} ± {se:.5} (se), expected {expected:.5}, error {:+.3}%",
        100.0 * (m / expected - 1.0)
    );
    assert!(
        (m - expected).abs() <= tol,
        "{what}: simulated {m} vs closed form {expected}; tolerance {tol} (se {se})"
    );
}

/// Erlang C: probability that an arrival waits, for `c` servers and offered load `a = λ/μ`.
fn erlang_c(c: u32, a: f64) -> f64 {
    let rho = a / c as f64;
    let mut term = 1.0;
    let mut sum = 1.0;
    for k in 1..c {
        term *= a / k as f64;
        sum += term;
    }
    let last = term * a / c as f64 / (1.0 - rho);
    last / (sum + last)
}

#[test]
fn mm1_mean_and_p99_of_time_in_system() {
    // λ = 0.8/ms, μ = 1/ms: T ~ Exp(μ − λ), mean 5 ms, p99 = ln(100)/0.2 ms.
    let base = single_service(1, json!({"exponential": {"mean": "1ms"}}), 800.0, "105s");
    let reps = replicate(&base, 12);
    let means: Vec<f64> = reps.iter().map(|(_, o)| o.workloads[0].latency.mean_ms().unwrap()).collect();
    let p99s: Vec<f64> =
        reps.iter().map(|(_, o)| o.workloads[0].latency.quantile_ms(0.99).unwrap()).collect();
    assert_agrees("M/M/1 mean (ms)", &means, 5.0);
    assert_agrees("M/M/1 p99 (ms)", &p99s, 100f64.ln() / 0.2);
}

#[test]
fn mmc_mean_follows_erlang_c_with_one_shared_queue() {
    // M/M/4, λ = 3.2/ms, μ = 1/ms (ρ = 0.8): W = 1/μ + C(c, a)/(cμ − λ).
    let base = single_service(4, json!({"exponential": {"mean": "1ms"}}), 3200.0, "65s");
    let reps = replicate(&base, 12);
    let means: Vec<f64> = reps.iter().map(|(_, o)| o.workloads[0].latency.mean_ms().unwrap()).collect();
    let expected = 1.0 + erlang_c(4, 3.2) / (4.0 - 3.2);
    assert!((expected - 1.745541).abs() < 1e-5, "Erlang C itself: {expected}");
    assert_agrees("M/M/4 mean (ms)", &means, expected);
}

#[test]
fn md1_mean_follows_pollaczek_khinchine() {
    // M/D/1, D = 1 ms, ρ = 0.8: W = D + ρD/(2(1 − ρ)) = 3 ms.
    let base = single_service(1, json!({"constant": "1ms"}), 800.0, "105s");
    let reps = replicate(&base, 12);
    let means: Vec<f64> = reps.iter().map(|(_, o)| o.workloads[0].latency.mean_ms().unwrap()).collect();
    assert_agrees("M/D/1 mean (ms)", &means, 3.0);
}

#[test]
fn a_worker_blocked_on_a_downstream_call_is_busy() {
    // One worker whose service time is its own Exp(0.5 ms) plus a call to a leaf that
    // takes a constant 0.5 ms (the leaf has ample workers, there is no network): an
    // M/G/1 with E[S] = 1 ms and E[S²] = 0.25 + 1 = 1.25 ms². At λ = 0.7/ms,
    // W = E[S] + λE[S²]/(2(1 − ρ)) = 1 + 0.875/0.6 ms. If the worker were freed while it
    // waits on the call, the mean would be far lower.
    let base = json!({
        "name": "blocked-worker",
        "duration": "105s",
        "warmup": "5s",
        "services": {
            "front": {"concurrency": 1, "endpoints": {"serve": {
                "latency": {"exponential": {"mean": "0.5ms"}},
                "steps": [{"call": "leaf.get"}]
            }}},
            "leaf": {"concurrency": 64, "endpoints": {"get": {"latency": {"constant": "0.5ms"}}}}
        },
        "workload": [{"name": "load", "target": "front.serve", "arrival": {"poisson": {"rate": 700}}}]
    });
    let reps = replicate(&base, 12);
    let means: Vec<f64> = reps.iter().map(|(_, o)| o.workloads[0].latency.mean_ms().unwrap()).collect();
    assert_agrees("blocked worker M/G/1 mean (ms)", &means, 1.0 + 0.875 / 0.6);
    // The front's worker is busy for the whole service time, call included: ρ = 0.7.
    let utils: Vec<f64> = reps.iter().map(|(_, o)| o.endpoints[0].utilization).collect();
    assert_agrees("blocked worker utilization", &utils, 0.7);
}

#[test]
fn littles_law_holds_on_the_time_series() {
    // L = λW: the mean of the in-flight samples taken at each interval's end equals the
    // throughput times the mean time in system.
    let base = single_service(2, json!({"lognormal": {"p50": "20ms", "p99": "200ms"}}), 60.0, "305s");
    let reps = replicate(&base, 10);
    let mut ratios = Vec::new();
    for (spec, out) in &reps {
        let col = out.series.column(faultline::metrics::Scope::Workload, "load", "in_flight").unwrap();
        let warm_intervals = (spec.warmup_ns / spec.interval_ns) as usize;
        let samples = &col.values[warm_intervals..];
        let l = samples.iter().copied().sum::<f64>() / samples.len() as f64;
        let w = &out.workloads[0];
        let lambda = w.offered as f64 / out.window_s;
        let wait_s = w.latency.mean_ms().unwrap() / 1e3;
        ratios.push(l / (lambda * wait_s));
    }
    assert_agrees("Little's law L/(λW)", &ratios, 1.0);
}

#[test]
fn fan_out_amplifies_a_rare_slow_leaf() {
    // A root that calls n = 10 leaves at once, each slow (100 ms) 1% of the time, is
    // slow whenever any leaf is: 1 − 0.99^10 of the root requests. Ample workers, so
    // nothing queues.
    let n = 10;
    let branches: Vec<Value> = (0..n).map(|i| json!({"call": format!("leaf{i}.get")})).collect();
    let mut services = serde_json::Map::new();
    services.insert(
        "root".into(),
        json!({"concurrency": 1000, "endpoints": {"fan": {"latency": {"constant": "0ms"}, "steps": [{"parallel": branches}]}}}),
    );
    for i in 0..n {
        services.insert(
            format!("leaf{i}"),
            json!({"concurrency": 1000, "endpoints": {"get": {"latency": {"mixture": [
                {"weight": 99, "dist": {"constant": "1ms"}},
                {"weight": 1, "dist": {"constant": "100ms"}}
            ]}}}}),
        );
    }
    let base = json!({
        "name": "fan-out", "duration": "60s", "warmup": "1s",
        "services": services,
        "workload": [{"name": "load", "target": "root.fan", "arrival": {"poisson": {"rate": 2000}}}]
    });
    let spec = spec(&base);
    let out = run(&spec);
    let h = &out.workloads[0].latency;
    let total = h.count() as f64;
    let slow = h.inner().count_between(50_000_000, u64::MAX / 4) as f64;
    let p = 1.0 - 0.99f64.powi(n);
    let share = slow / total;
    // Binomial standard error of the share over `total` independent requests.
    let se = (p * (1.0 - p) / total).sqrt();
    eprintln!("fan-out slow share {share:.5} vs {p:.5} (se {se:.5}, n {total})");
    assert!((share - p).abs() < 4.0 * se, "slow share {share} vs 1 − 0.99^10 = {p} (se {se})");
}

#[test]
fn a_jackson_tandem_through_a_topic_adds_two_mm1_sojourns() {
    // Poisson arrivals (λ = 0.5/ms) at an M/M/1 station (μ1 = 1/ms) whose endpoint
    // publishes each request, when done, to a one-partition topic consumed by one
    // consumer (an M/M/1 station with μ2 = 0.8/ms). By Burke's theorem the first
    // station's departures are Poisson, so the two stations are independent M/M/1
    // queues (a Jackson tandem): W1 = 1/(μ1 − λ) = 2 ms, W2 = 1/(μ2 − λ) = 3.33 ms.
    let base = json!({
        "name": "tandem", "duration": "105s", "warmup": "5s",
        "services": {
            "first": {"concurrency": 1, "endpoints": {"serve": {
                "latency": {"exponential": {"mean": "1ms"}}, "steps": [{"publish": "handoff"}]}}},
            "second": {"concurrency": 1, "endpoints": {"handle": {"latency": {"exponential": {"mean": "1.25ms"}}}}}
        },
        "topics": {"handoff": {"partitions": 1,
            "subscribers": [{"group": "g", "endpoint": "second.handle", "consumers": 1}]}},
        "workload": [{"name": "load", "target": "first.serve", "arrival": {"poisson": {"rate": 500}}}]
    });
    let reps = replicate(&base, 12);
    let w1: Vec<f64> = reps.iter().map(|(_, o)| o.workloads[0].latency.mean_ms().unwrap()).collect();
    let w2: Vec<f64> = reps.iter().map(|(_, o)| o.topics[0].groups[0].latency.mean_ms().unwrap()).collect();
    assert_agrees("tandem station 1 mean (ms)", &w1, 2.0);
    assert_agrees("tandem station 2 mean (ms)", &w2, 1.0 / 0.3);
}
