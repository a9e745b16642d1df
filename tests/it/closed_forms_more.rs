//! More of the simulator against queueing theory: closed forms the first set
//! (closed_forms.rs) does not cover, chosen as an outside reviewer would. Here the
//! stations: loss and finite queues (Erlang B and its insensitivity, M/M/c/K, Engset),
//! non-exponential service (M/G/1 with the lognormal, gamma and truncated Pareto as
//! src/dist.rs parameterises them), closed workloads (exact mean-value analysis, the
//! machine-repairman chain), LIFO, D/M/1, impatience (a queue timeout as M/M/c+D), and a
//! topic's partitions (M/M/1 under random keys, Erlang-3/M/1 under round robin).
//! `priorities` has Cobham's formula and the utilization shedder's chain; `clients` the
//! client side (timeouts and retries with jitter, hedging, a random balancer, a
//! bulkhead's wait as M/M/c+D, a consecutive-failures breaker by renewal, rate limiters'
//! token chains) and a ramped arrival schedule.
//!
//! As in closed_forms.rs, each check runs independent replications on fixed seeds
//! (1..=n) and compares the mean of the replications' estimates with the closed form,
//! allowing t(99.9%, n − 1) standard errors computed from the replications' own spread:
//! the tolerance follows the sample size, and a correct simulator fails one check in a
//! thousand seeds. Never widen these: a failure here is a bug in the model.

mod clients;
mod priorities;

use crate::common::*;
use faultline::model::RunOutput;
use faultline::spec::Cause;
use serde_json::{Value, json};

/// Asserts that the replications' estimates agree with `expected`.
fn agrees(what: &str, estimates: &[f64], expected: f64) {
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

/// One service `server.serve` under one workload.
fn station(service: Value, arrival: Value, duration: &str) -> Value {
    json!({
        "name": "closed-form-more",
        "duration": duration,
        "warmup": "5s",
        "services": {"server": service},
        "workload": [{"name": "load", "target": "server.serve", "arrival": arrival}]
    })
}

fn poisson(rate_per_s: f64) -> Value {
    json!({"poisson": {"rate": rate_per_s}})
}

fn exp_ms(mean_ms: f64) -> Value {
    json!({"exponential": {"mean": format!("{mean_ms}ms")}})
}

fn per_rep(reps: &[(faultline::spec::Spec, RunOutput)], f: impl Fn(&RunOutput) -> f64) -> Vec<f64> {
    reps.iter().map(|(_, o)| f(o)).collect()
}

/// Share of the workload's ended requests that failed with `cause`.
fn share(o: &RunOutput, wl: usize, cause: Cause) -> f64 {
    let w = &o.workloads[wl];
    w.outcomes.failed[cause as usize] as f64 / w.outcomes.ended() as f64
}

fn mean_ms(o: &RunOutput, wl: usize) -> f64 {
    o.workloads[wl].latency.mean_ms().unwrap()
}

/// Stationary distribution of a birth-death chain on 0..=n_max with birth rate
/// `birth(n)` from n to n + 1 and death rate `death(n)` from n to n − 1.
fn birth_death(n_max: usize, birth: impl Fn(usize) -> f64, death: impl Fn(usize) -> f64) -> Vec<f64> {
    let mut p = vec![1.0];
    for n in 1..=n_max {
        p.push(p[n - 1] * birth(n - 1) / death(n));
    }
    let sum: f64 = p.iter().sum();
    p.iter().map(|x| x / sum).collect()
}

/// Erlang B by its recursion: B(0) = 1, B(k) = a·B(k−1) / (k + a·B(k−1)).
fn erlang_b(c: u32, a: f64) -> f64 {
    (1..=c).fold(1.0, |b, k| a * b / (k as f64 + a * b))
}

#[test]
fn erlang_b_loses_its_share_without_a_queue() {
    // c = 3 workers, queue capacity 0, λ = 2/ms, E[S] = 1 ms: an arrival that finds
    // every worker busy is rejected, with probability B(3, 2) = 4/19, whatever the
    // service distribution (Erlang B is insensitive: exponential, then a lognormal of
    // mean 1 ms, p50 = e^(−σ²/2) ms with σ = 1). The admitted wait for nothing: T = E[S].
    let b = erlang_b(3, 2.0);
    assert!((b - 4.0 / 19.0).abs() < 1e-12, "Erlang B itself: {b}");
    let p50_ms = (-0.5f64).exp();
    let dists = [
        ("exponential", exp_ms(1.0)),
        ("lognormal", json!({"lognormal": {"p50": format!("{p50_ms}ms"), "sigma": 1.0}})),
    ];
    for (name, dist) in dists {
        let svc =
            json!({"concurrency": 3, "queue": {"capacity": 0}, "endpoints": {"serve": {"latency": dist}}});
        let reps = replicate(&station(svc, poisson(2000.0), "35s"), 12);
        agrees(&format!("Erlang B(3, 2) loss, {name}"), &per_rep(&reps, |o| share(o, 0, Cause::Rejected)), b);
        agrees(&format!("Erlang B admitted mean (ms), {name}"), &per_rep(&reps, |o| mean_ms(o, 0)), 1.0);
    }
}

#[test]
fn closed_users_without_a_queue_are_refused_as_engset_says() {
    // N = 6 users thinking Exp(Z = 2 ms) against 2 workers (Exp(1 ms)) with no queue: a
    // refused user thinks again (Engset's finite-source loss system). The busy workers
    // form a birth-death chain, birth (N − n)/Z below 2, death nμ; by the arrival
    // theorem a request sees the chain of N − 1 users, so it is refused with that
    // chain's mass at 2 (call congestion).
    let (users, z, c) = (6usize, 2.0, 2usize);
    let seen = birth_death(c, |n| (users - 1 - n) as f64 / z, |n| n as f64);
    let svc =
        json!({"concurrency": c, "queue": {"capacity": 0}, "endpoints": {"serve": {"latency": exp_ms(1.0)}}});
    let arrival = json!({"closed": {"users": users, "think": exp_ms(z)}});
    let reps = replicate(&station(svc, arrival, "35s"), 12);
    agrees("Engset N=6 c=2 refused share", &per_rep(&reps, |o| share(o, 0, Cause::Rejected)), seen[c]);
}

#[test]
fn mmck_blocking_and_time_in_system_follow_the_birth_death_chain() {
    // M/M/2/6: 2 workers and a queue of capacity 4 (K = 6 in the system), λ = 1.8/ms,
    // μ = 1/ms. Birth λ below K, death min(n, 2)μ. An arrival sees the stationary
    // distribution (PASTA): it is rejected with P_K; the admitted stay
    // W = L / (λ(1 − P_K)) by Little's law.
    let (c, cap, lambda) = (2usize, 4usize, 1.8);
    let k = c + cap;
    let p = birth_death(k, |_| lambda, |n| n.min(c) as f64);
    let p_k = p[k];
    let l: f64 = p.iter().enumerate().map(|(n, x)| n as f64 * x).sum();
    let w = l / (lambda * (1.0 - p_k));
    let svc = json!({"concurrency": c, "queue": {"capacity": cap}, "endpoints": {"serve": {"latency": exp_ms(1.0)}}});
    let reps = replicate(&station(svc, poisson(lambda * 1e3), "45s"), 12);
    agrees("M/M/2/6 blocking", &per_rep(&reps, |o| share(o, 0, Cause::Rejected)), p_k);
    agrees("M/M/2/6 admitted mean (ms)", &per_rep(&reps, |o| mean_ms(o, 0)), w);
}

#[test]
fn mg1_follows_pollaczek_khinchine_with_each_distributions_second_moment() {
    // M/G/1: W = E[S] + λE[S²] / (2(1 − λE[S])), with the moments of each distribution as
    // docs/scenario-format.md defines it (times in ms):
    // - lognormal through p50 = 0.5 and p99 = 2.5: σ = ln(5)/z₀.₉₉, μ = ln 0.5,
    //   E[S] = e^(μ + σ²/2), E[S²] = e^(2μ + 2σ²);
    // - gamma with mean 1 and cv 1.5: E[S²] = mean²(1 + cv²);
    // - Pareto with scale L = 0.4, shape α = 2.5, truncated at H = 20:
    //   E[Sᵏ] = αLᵅ/(1 − (L/H)ᵅ) · (Hᵏ⁻ᵅ − Lᵏ⁻ᵅ)/(k − α).
    // - percentiles (the piecewise-linear inverse CDF Q through the points): on a piece
    //   of width Δp from v₀ to v₁, ∫Q = Δp(v₀ + v₁)/2 and ∫Q² = Δp(v₀² + v₀v₁ + v₁²)/3.
    let z99 = 2.326_347_874_040_841;
    let sigma = 5f64.ln() / z99;
    let mu = 0.5f64.ln();
    let logn = ((mu + sigma * sigma / 2.0).exp(), (2.0 * mu + 2.0 * sigma * sigma).exp());
    let gamma = (1.0, 1.0 + 1.5 * 1.5);
    let (l, h, a) = (0.4f64, 20.0f64, 2.5f64);
    let pareto_moment =
        |k: f64| a * l.powf(a) / (1.0 - (l / h).powf(a)) * (h.powf(k - a) - l.powf(k - a)) / (k - a);
    let pareto = (pareto_moment(1.0), pareto_moment(2.0));
    let points = [(0.0, 0.1), (0.5, 0.6), (0.9, 1.5), (0.99, 4.0), (1.0, 8.0)];
    let piecewise = points.windows(2).fold((0.0, 0.0), |(m1, m2), w| {
        let (dp, v0, v1) = (w[1].0 - w[0].0, w[0].1, w[1].1);
        (m1 + dp * (v0 + v1) / 2.0, m2 + dp * (v0 * v0 + v0 * v1 + v1 * v1) / 3.0)
    });
    let cases = [
        ("lognormal", json!({"lognormal": {"p50": "0.5ms", "p99": "2.5ms"}}), logn),
        ("gamma", json!({"gamma": {"mean": "1ms", "cv": 1.5}}), gamma),
        ("pareto", json!({"pareto": {"scale": "0.4ms", "shape": 2.5, "max": "20ms"}}), pareto),
        (
            "percentiles",
            json!({"percentiles": {"p0": "0.1ms", "p50": "0.6ms", "p90": "1.5ms", "p99": "4ms", "p100": "8ms"}}),
            piecewise,
        ),
    ];
    for (name, dist, (m1, m2)) in cases {
        // ρ = 0.7 for each.
        let lambda = 0.7 / m1;
        let w = m1 + lambda * m2 / (2.0 * (1.0 - 0.7));
        let svc = json!({"concurrency": 1, "endpoints": {"serve": {"latency": dist}}});
        let reps = replicate(&station(svc, poisson(lambda * 1e3), "55s"), 12);
        agrees(&format!("M/G/1 {name} utilization"), &per_rep(&reps, |o| o.endpoints[0].utilization), 0.7);
        agrees(&format!("M/G/1 {name} mean (ms)"), &per_rep(&reps, |o| mean_ms(o, 0)), w);
    }
}

/// Throughput per ms of a workload's successes over the measured window.
fn throughput_per_ms(o: &RunOutput) -> f64 {
    o.workloads[0].outcomes.ok as f64 / (o.window_s * 1e3)
}

#[test]
fn closed_users_against_mm1_follow_exact_mean_value_analysis() {
    // N = 5 users with a constant think time Z = 3 ms against one exponential worker
    // (S = 1 ms). A closed product-form network (the think time is a delay station, at
    // which the distribution does not matter): exact MVA, R(n) = S(1 + Q(n − 1)),
    // X(n) = n / (R(n) + Z), Q(n) = X(n)R(n).
    let (users, z, s) = (5, 3.0, 1.0);
    let (mut q, mut r, mut x) = (0.0, 0.0, 0.0);
    for n in 1..=users {
        r = s * (1.0 + q);
        x = n as f64 / (r + z);
        q = x * r;
    }
    let svc = json!({"concurrency": 1, "endpoints": {"serve": {"latency": exp_ms(s)}}});
    let arrival = json!({"closed": {"users": users, "think": {"constant": format!("{z}ms")}}});
    let reps = replicate(&station(svc, arrival, "45s"), 12);
    agrees("closed MVA N=5 response (ms)", &per_rep(&reps, |o| mean_ms(o, 0)), r);
    agrees("closed MVA N=5 throughput (/ms)", &per_rep(&reps, throughput_per_ms), x);
}

#[test]
fn closed_users_against_mm2_follow_the_machine_repairman_chain() {
    // N = 6 users thinking Exp(Z = 4 ms) against 2 exponential workers (μ = 1/ms): a
    // birth-death chain on the users at the service, birth (N − n)/Z, death min(n, 2)μ.
    // X = Σ π_n min(n, 2)μ and R = L / X.
    let (users, z, c) = (6usize, 4.0, 2usize);
    let p = birth_death(users, |n| (users - n) as f64 / z, |n| n.min(c) as f64);
    let x: f64 = p.iter().enumerate().map(|(n, pi)| pi * n.min(c) as f64).sum();
    let l: f64 = p.iter().enumerate().map(|(n, pi)| pi * n as f64).sum();
    let svc = json!({"concurrency": c, "endpoints": {"serve": {"latency": exp_ms(1.0)}}});
    let arrival = json!({"closed": {"users": users, "think": exp_ms(z)}});
    let reps = replicate(&station(svc, arrival, "45s"), 12);
    agrees("machine repairman N=6 c=2 response (ms)", &per_rep(&reps, |o| mean_ms(o, 0)), l / x);
    agrees("machine repairman N=6 c=2 throughput (/ms)", &per_rep(&reps, throughput_per_ms), x);
}

#[test]
fn lifo_keeps_the_mm1_mean_and_multiplies_the_wait_second_moment_by_one_over_one_minus_rho() {
    // M/M/1 with a LIFO queue (non-preemptive), λ = 0.8/ms, μ = 1/ms. The order of
    // service does not depend on service times, so the mean is the FIFO one, 5 ms; the
    // wait's second moment is FIFO's divided by 1 − ρ (Kleinrock, vol. 2):
    // E[W²] = 2ρ/(μ − λ)² / (1 − ρ) = 200 ms², so E[T²] = E[W²] + 2E[W]E[S] + E[S²] =
    // 200 + 8 + 2 = 210 ms² (FIFO: 50).
    let svc = json!({"concurrency": 1, "queue": {"discipline": "lifo"}, "endpoints": {"serve": {"latency": exp_ms(1.0)}}});
    let reps = replicate(&station(svc, poisson(800.0), "85s"), 12);
    agrees("M/M/1 LIFO mean (ms)", &per_rep(&reps, |o| mean_ms(o, 0)), 5.0);
    let second = |o: &RunOutput| {
        let h = o.workloads[0].latency.inner();
        let (m, sd) = (h.mean() / 1e6, h.stdev() / 1e6);
        sd * sd + m * m
    };
    agrees("M/M/1 LIFO E[T²] (ms²)", &per_rep(&reps, second), 210.0);
}

/// M/M/c+D (deterministic patience τ on the wait, FIFO): the loss probability, the
/// mean wait of the served and the workers' utilisation. The offered wait V (the wait
/// an arrival would have) has atoms π_j ∝ a^j/j! at 0 for j < c busy workers and,
/// with θ = cμ − λ, the density λπ_{c−1}e^(−θx) on (0, τ] and λπ_{c−1}e^(−θτ)e^(−cμ(x−τ))
/// beyond (Baccelli and Hebuterne; Mandelbaum and Zeltyn's M/M/n+G with
/// v(x) = λπ_{n−1}exp(λ∫₀ˣḠ − nμx)). An arrival is lost iff V > τ. τ → ∞ gives Erlang C,
/// τ = 0 Erlang B (both checked below).
fn mmc_plus_d(c: u32, lambda: f64, mu: f64, tau: f64) -> (f64, f64, f64) {
    let a = lambda / mu;
    let mut atoms = vec![1.0];
    for j in 1..c as usize {
        atoms.push(atoms[j - 1] * a / j as f64);
    }
    let edge = lambda * atoms[c as usize - 1];
    let (theta, cmu) = (c as f64 * mu - lambda, c as f64 * mu);
    let e = (-theta * tau).exp();
    // ∫₀^τ e^(−θx) dx and ∫₀^τ x e^(−θx) dx, with their limits at θ = 0.
    let (m0, m1) = if theta.abs() < 1e-12 {
        (tau, tau * tau / 2.0)
    } else {
        ((1.0 - e) / theta, (1.0 - e * (1.0 + theta * tau)) / (theta * theta))
    };
    let z = atoms.iter().sum::<f64>() + edge * (m0 + e / cmu);
    let loss = edge * e / cmu / z;
    let served_wait = edge * m1 / z / (1.0 - loss);
    (loss, served_wait, lambda * (1.0 - loss) / cmu)
}

#[test]
fn the_mmc_plus_d_formula_meets_erlang_b_and_c_at_its_ends() {
    let (b, _, _) = mmc_plus_d(3, 2.0, 1.0, 0.0);
    assert!((b - erlang_b(3, 2.0)).abs() < 1e-12, "τ = 0: {b}");
    let (loss, wait, _) = mmc_plus_d(4, 3.2, 1.0, 1e6);
    assert!(loss < 1e-12 && (wait - erlang_c(4, 3.2) / 0.8).abs() < 1e-9, "τ → ∞: {wait}");
}

#[test]
fn a_queue_timeout_loses_what_mmc_plus_d_says() {
    // Exponential workers (μ = 1/ms), overloaded, with a queue timeout τ = 2 ms checked
    // at dequeue: a request whose wait would exceed τ is dropped unserved when a worker
    // reaches it, so it adds no work and delays nobody behind it. Under FIFO that is
    // M/M/c+D (deterministic patience): it is lost iff its offered wait exceeds τ.
    // c = 1 at λ = 1.2/ms, and c = 3 at λ = 3.3/ms.
    for (c, lambda) in [(1u32, 1.2f64), (3, 3.3)] {
        let (loss, wait, util) = mmc_plus_d(c, lambda, 1.0, 2.0);
        let svc = json!({"concurrency": c, "queue": {"timeout": "2ms"},
                         "endpoints": {"serve": {"latency": exp_ms(1.0)}}});
        let reps = replicate(&station(svc, poisson(lambda * 1e3), "45s"), 12);
        agrees(&format!("M/M/{c}+D loss"), &per_rep(&reps, |o| share(o, 0, Cause::Rejected)), loss);
        agrees(&format!("M/M/{c}+D served mean (ms)"), &per_rep(&reps, |o| mean_ms(o, 0)), wait + 1.0);
        agrees(&format!("M/M/{c}+D utilization"), &per_rep(&reps, |o| o.endpoints[0].utilization), util);
    }
}

#[test]
fn constant_arrivals_at_one_exponential_worker_follow_dm1() {
    // D/M/1: arrivals every D = 1.25 ms (`constant`), Exp(1 ms) service. An arrival
    // finds the worker busy with probability σ, the root in (0, 1) of
    // σ = e^(−μD(1 − σ)), and then waits Exp(μ(1 − σ)): T = 1/(μ(1 − σ)).
    let (mu, d) = (1.0f64, 1.25f64);
    let mut sigma = 0.5;
    for _ in 0..200 {
        sigma = (-mu * d * (1.0 - sigma)).exp();
    }
    let svc = json!({"concurrency": 1, "endpoints": {"serve": {"latency": exp_ms(1.0 / mu)}}});
    let reps = replicate(&station(svc, json!({"constant": {"rate": 1e3 / d}}), "65s"), 12);
    agrees("D/M/1 mean (ms)", &per_rep(&reps, |o| mean_ms(o, 0)), 1.0 / (mu * (1.0 - sigma)));
}

/// Erlang C: probability that an arrival waits, for `c` servers and offered load `a = λ/μ`.
fn erlang_c(c: u32, a: f64) -> f64 {
    let b = erlang_b(c, a);
    let rho = a / c as f64;
    b / (1.0 - rho * (1.0 - b))
}

#[test]
fn a_topics_partitions_are_m_m_1_under_random_keys_and_erlang_k_m_1_under_round_robin() {
    // Poisson λ = 2.4/ms through a producer that publishes at once (ample workers, no
    // latency, so the publishes are Poisson too) to 3 partitions, each consumed by its
    // own consumer holding one of the handler's 3 workers (Exp(1 ms)). `random` keys
    // thin the stream: each partition is an M/M/1 at ρ = 0.8, 5 ms from publish to
    // handled. `round_robin` gives each partition every third message: Erlang-3
    // interarrivals, a GI/M/1 whose arrivals find the consumer busy with probability σ,
    // the root in (0, 1) of σ = A*(μ(1 − σ)), A*(s) = (λ/(λ + s))³: W = 1/(μ(1 − σ)).
    let (lambda, mu) = (2.4f64, 1.0f64);
    let mut sigma = 0.5;
    for _ in 0..500 {
        sigma = (lambda / (lambda + mu * (1.0 - sigma))).powi(3);
    }
    for (key, expected) in
        [("random", 1.0 / (mu - lambda / 3.0)), ("round_robin", 1.0 / (mu * (1.0 - sigma)))]
    {
        let base = json!({
            "name": "partitions", "duration": "45s", "warmup": "5s",
            "services": {
                "producer": {"concurrency": 1000, "endpoints": {"serve": {
                    "latency": {"constant": "0ms"}, "steps": [{"publish": "events"}]}}},
                "handler": {"concurrency": 3, "endpoints": {"handle": {"latency": exp_ms(1.0 / mu)}}}
            },
            "topics": {"events": {"partitions": 3, "key": key,
                "subscribers": [{"group": "g", "endpoint": "handler.handle", "consumers": 3}]}},
            "workload": [{"name": "load", "target": "producer.serve", "arrival": poisson(lambda * 1e3)}]
        });
        let reps = replicate(&base, 12);
        let w = per_rep(&reps, |o| o.topics[0].groups[0].latency.mean_ms().unwrap());
        agrees(&format!("3 partitions, {key} keys, publish to handled (ms)"), &w, expected);
    }
}
