//! More of the simulator against queueing theory: closed forms the first set
//! (closed_forms.rs) does not cover, chosen as an outside reviewer would: finite
//! queues (M/M/c/K, Erlang B), non-exponential service (M/G/1 with the lognormal,
//! gamma and truncated Pareto as src/dist.rs parameterises them), closed workloads
//! (exact mean-value analysis, the machine-repairman chain), non-preemptive priorities
//! (Cobham), LIFO, a queue timeout (M/M/1+D), per-try timeouts with retries and a random
//! balancer.
//!
//! As in closed_forms.rs, each check runs independent replications on fixed seeds
//! (1..=n) and compares the mean of the replications' estimates with the closed form,
//! allowing t(99.9%, n − 1) standard errors computed from the replications' own spread:
//! the tolerance follows the sample size, and a correct simulator fails one check in a
//! thousand seeds. Never widen these: a failure here is a bug in the model.

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
    let z99 = 2.326_347_874_040_841;
    let sigma = 5f64.ln() / z99;
    let mu = 0.5f64.ln();
    let logn = ((mu + sigma * sigma / 2.0).exp(), (2.0 * mu + 2.0 * sigma * sigma).exp());
    let gamma = (1.0, 1.0 + 1.5 * 1.5);
    let (l, h, a) = (0.4f64, 20.0f64, 2.5f64);
    let pareto_moment =
        |k: f64| a * l.powf(a) / (1.0 - (l / h).powf(a)) * (h.powf(k - a) - l.powf(k - a)) / (k - a);
    let pareto = (pareto_moment(1.0), pareto_moment(2.0));
    let cases = [
        ("lognormal", json!({"lognormal": {"p50": "0.5ms", "p99": "2.5ms"}}), logn),
        ("gamma", json!({"gamma": {"mean": "1ms", "cv": 1.5}}), gamma),
        ("pareto", json!({"pareto": {"scale": "0.4ms", "shape": 2.5, "max": "20ms"}}), pareto),
    ];
    for (name, dist, (m1, m2)) in cases {
        // ρ = 0.7 for each.
        let lambda = 0.7 / m1;
        let w = m1 + lambda * m2 / (2.0 * (1.0 - 0.7));
        let svc = json!({"concurrency": 1, "endpoints": {"serve": {"latency": dist}}});
        let reps = replicate(&station(svc, poisson(lambda * 1e3), "65s"), 12);
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
fn priorities_under_queue_delay_follow_cobhams_formula() {
    // One exponential worker (μ = 1/ms) serving three classes by priority, non-preemptive
    // (`shed: queue_delay` takes the next request by priority; a target of an hour drops
    // nothing). λ = 0.2, 0.3, 0.3 per ms for critical, default, sheddable. Cobham:
    // W_k = 1/μ + W₀ / ((1 − σ_{k−1})(1 − σ_k)), W₀ = Σλᵢ E[S²]/2 = 0.8 ms, σ_k the load
    // of the classes at or above k: 2, 3 and 9 ms (weighted mean 5 ms, the M/M/1's).
    let classes = [("critical", 200.0), ("default", 300.0), ("sheddable", 300.0)];
    let workload: Vec<Value> = classes
        .iter()
        .map(|(p, rate)| json!({"name": p, "target": "server.serve", "priority": p, "arrival": poisson(*rate)}))
        .collect();
    let base = json!({
        "name": "cobham", "duration": "85s", "warmup": "5s",
        "services": {"server": {"concurrency": 1, "shed": {"queue_delay": "1h"},
                                "endpoints": {"serve": {"latency": exp_ms(1.0)}}}},
        "workload": workload
    });
    let reps = replicate(&base, 12);
    let w0 = 0.8 * 2.0 / 2.0;
    let mut above = 0.0;
    for (k, (name, rate)) in classes.iter().enumerate() {
        let sigma = above + rate / 1e3;
        let expected = 1.0 + w0 / ((1.0 - above) * (1.0 - sigma));
        above = sigma;
        agrees(&format!("Cobham {name} mean (ms)"), &per_rep(&reps, |o| mean_ms(o, k)), expected);
        assert!(reps.iter().all(|(_, o)| o.workloads[k].shed == 0), "nothing is shed at a target of 1 h");
    }
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

#[test]
fn a_queue_timeout_loses_what_mm1_plus_d_says() {
    // One exponential worker (μ = 1/ms) at λ = 1.2/ms (overloaded), queue timeout
    // τ = 2 ms checked at dequeue: a request whose wait would exceed τ is dropped
    // unserved when a worker reaches it, so it adds no work: M/M/1+D (deterministic
    // patience). The virtual wait V has an atom π₀ at 0 and density π₀λe^(−θx) on
    // (0, τ], π₀λe^(−θτ)e^(−μ(x − τ)) beyond, θ = μ − λ; an arrival is dropped iff
    // V > τ: P = π₀λe^(−θτ)/μ. The served stay E[V | V ≤ τ] + 1/μ; the worker is busy
    // 1 − π₀ of the time.
    let (lambda, mu, tau) = (1.2f64, 1.0f64, 2.0f64);
    let theta = mu - lambda;
    let e = (-theta * tau).exp();
    let pi0 = 1.0 / (1.0 + lambda * (1.0 - e) / theta + lambda * e / mu);
    let p_loss = pi0 * lambda * e / mu;
    // ∫₀^τ x e^(−θx) dx = (1 − e^(−θτ)(1 + θτ)) / θ².
    let v_served = pi0 * lambda * (1.0 - e * (1.0 + theta * tau)) / (theta * theta) / (1.0 - p_loss);
    assert!(((1.0 - p_loss) * lambda - (1.0 - pi0) * mu).abs() < 1e-12, "flow balance");
    let svc = json!({"concurrency": 1, "queue": {"timeout": format!("{tau}ms")},
                     "endpoints": {"serve": {"latency": exp_ms(1.0 / mu)}}});
    let reps = replicate(&station(svc, poisson(lambda * 1e3), "45s"), 12);
    agrees("M/M/1+D loss", &per_rep(&reps, |o| share(o, 0, Cause::Rejected)), p_loss);
    agrees("M/M/1+D served mean (ms)", &per_rep(&reps, |o| mean_ms(o, 0)), v_served + 1.0 / mu);
    agrees("M/M/1+D utilization", &per_rep(&reps, |o| o.endpoints[0].utilization), 1.0 - pi0);
}

#[test]
fn per_try_timeouts_on_exponential_service_make_geometric_attempts() {
    // Service Exp(10 ms) with ample workers (nothing queues, no network), a per-try
    // timeout T = 10 ms, up to 3 attempts on timeout, no backoff. An attempt times out
    // with p = P(S > T) = e⁻¹, independently: attempts per call 1 + p + p², calls that
    // fail p³, and a success's latency E[S | S < T] + T·E[failed tries | success] with
    // E[S | S < T] = m − T p/(1 − p) and E[failed tries | success] = (p + 2p²)/(1 + p + p²).
    let (m, t) = (10.0f64, 10.0f64);
    let p = (-t / m).exp();
    let base = json!({
        "name": "timeouts", "duration": "35s", "warmup": "5s",
        "services": {"server": {"concurrency": 1000, "endpoints": {"serve": {"latency": exp_ms(m)}}}},
        "policies": {"p": {"timeout": format!("{t}ms"),
                           "retry": {"max_attempts": 3, "backoff": {"constant": "0ms"}, "retry_on": ["timeout"]}}},
        "workload": [{"name": "load", "target": "server.serve", "policy": "p", "arrival": poisson(1000.0)}]
    });
    let reps = replicate(&base, 12);
    assert_eq!(reps[0].0.edges.len(), 1);
    let attempts = per_rep(&reps, |o| o.edges[0].attempts as f64 / o.edges[0].calls as f64);
    agrees("timeout attempts per call", &attempts, 1.0 + p + p * p);
    agrees("timeout calls failed", &per_rep(&reps, |o| share(o, 0, Cause::Timeout)), p.powi(3));
    let ok_latency = m - t * p / (1.0 - p) + t * (p + 2.0 * p * p) / (1.0 + p + p * p);
    agrees("timeout success latency (ms)", &per_rep(&reps, |o| mean_ms(o, 0)), ok_latency);
}

#[test]
fn a_random_balancer_splits_poisson_into_independent_mm1s() {
    // λ = 2.4/ms split uniformly at random over 3 single-worker replicas (μ = 1/ms):
    // each sees Poisson λ/3 (thinning), so each is an M/M/1 at ρ = 0.8: T = 5 ms. (Round
    // robin would give each an Erlang-3 arrival stream and a lower mean.)
    let base = json!({
        "name": "random-split", "duration": "65s", "warmup": "5s",
        "services": {"server": {"replicas": 3, "concurrency": 1, "endpoints": {"serve": {"latency": exp_ms(1.0)}}}},
        "policies": {"p": {"load_balancer": "random"}},
        "workload": [{"name": "load", "target": "server.serve", "policy": "p", "arrival": poisson(2400.0)}]
    });
    let reps = replicate(&base, 12);
    agrees("random split over 3 M/M/1 mean (ms)", &per_rep(&reps, |o| mean_ms(o, 0)), 5.0);
    agrees("random split utilization", &per_rep(&reps, |o| o.endpoints[0].utilization), 0.8);
}

/// Erlang C: probability that an arrival waits, for `c` servers and offered load `a = λ/μ`.
fn erlang_c(c: u32, a: f64) -> f64 {
    let b = erlang_b(c, a);
    let rho = a / c as f64;
    b / (1.0 - rho * (1.0 - b))
}

#[test]
fn priorities_on_two_workers_follow_cobhams_formula_for_mmc() {
    // As above on M/M/2 (μ = 1/ms each), λ = 0.4, 0.6, 0.6 per ms (ρ = 0.8). With one
    // service rate for every class, the M/M/c form of Cobham's formula:
    // W_k = 1/μ + (C(c, a)/(cμ)) / ((1 − σ_{k−1})(1 − σ_k)), σ_k = Σ_{i ≤ k} λᵢ/(cμ).
    let classes = [("critical", 400.0), ("default", 600.0), ("sheddable", 600.0)];
    let workload: Vec<Value> = classes
        .iter()
        .map(|(p, rate)| json!({"name": p, "target": "server.serve", "priority": p, "arrival": poisson(*rate)}))
        .collect();
    let base = json!({
        "name": "cobham-mmc", "duration": "65s", "warmup": "5s",
        "services": {"server": {"concurrency": 2, "shed": {"queue_delay": "1h"},
                                "endpoints": {"serve": {"latency": exp_ms(1.0)}}}},
        "workload": workload
    });
    let reps = replicate(&base, 12);
    let c = erlang_c(2, 1.6);
    // (a²/2)·c/(c − a) = 6.4 over 1 + a + 6.4.
    assert!((c - 6.4 / 9.0).abs() < 1e-12, "Erlang C itself: {c}");
    let w0 = c / 2.0;
    let mut above = 0.0;
    for (k, (name, rate)) in classes.iter().enumerate() {
        let sigma = above + rate / 2e3;
        let expected = 1.0 + w0 / ((1.0 - above) * (1.0 - sigma));
        above = sigma;
        agrees(&format!("Cobham M/M/2 {name} mean (ms)"), &per_rep(&reps, |o| mean_ms(o, k)), expected);
    }
}

#[test]
fn utilization_shedding_follows_its_birth_death_chain() {
    // `shed: {"utilization": 50}` on 4 exponential workers (μ = 1/ms), FIFO queue without
    // bound. As documented, at arrival a sheddable request is refused when busy ≥ 2, a
    // default one when all 4 are busy and one already waits (n ≥ 5 in the system), a
    // critical one never. Every class has the same service, so n is a birth-death
    // chain: birth λc + λd·[n ≤ 4] + λs·[n < 2], death min(n, 4)μ. By PASTA a class is
    // refused with the chain's mass where it is, and one admitted at n waits, FIFO,
    // (n − 3)/(4μ) when n ≥ 4. λ = 1, 1.5, 2 per ms for critical, default, sheddable.
    let (c, lc, ld, ls) = (4usize, 1.0, 1.5, 2.0);
    let n_max = 200; // the tail above 4 falls by λc/(4μ) = 1/4 a step
    let admits = [|_: usize| true, |n: usize| n <= 4, |n: usize| n < 2];
    let rates = [lc, ld, ls];
    let p =
        birth_death(n_max, |n| (0..3).filter(|&k| admits[k](n)).map(|k| rates[k]).sum(), |n| n.min(c) as f64);
    let t_at = |n: usize| 1.0 + if n >= c { (n - c + 1) as f64 / c as f64 } else { 0.0 };
    let workload: Vec<Value> = ["critical", "default", "sheddable"]
        .iter()
        .zip(rates)
        .map(|(name, r)| json!({"name": name, "target": "server.serve", "priority": name, "arrival": poisson(r * 1e3)}))
        .collect();
    let base = json!({
        "name": "shed-utilization", "duration": "45s", "warmup": "5s",
        "services": {"server": {"concurrency": c, "shed": {"utilization": 50},
                                "endpoints": {"serve": {"latency": exp_ms(1.0)}}}},
        "workload": workload
    });
    let reps = replicate(&base, 12);
    for (k, name) in ["critical", "default", "sheddable"].iter().enumerate() {
        let admitted: f64 = (0..=n_max).filter(|&n| admits[k](n)).map(|n| p[n]).sum();
        let t: f64 = (0..=n_max).filter(|&n| admits[k](n)).map(|n| p[n] * t_at(n)).sum::<f64>() / admitted;
        if k > 0 {
            let shed =
                per_rep(&reps, |o| o.workloads[k].shed as f64 / o.workloads[k].outcomes.ended() as f64);
            agrees(&format!("utilization shed {name} share"), &shed, 1.0 - admitted);
        } else {
            assert!(reps.iter().all(|(_, o)| o.workloads[0].shed == 0), "critical is never shed");
        }
        agrees(&format!("utilization shed {name} admitted mean (ms)"), &per_rep(&reps, |o| mean_ms(o, k)), t);
    }
}

#[test]
fn a_hedge_takes_the_first_of_two_exponential_answers() {
    // Service Exp(m = 10 ms) with ample workers, no network; a hedge after d = 5 ms if no
    // answer came. It is sent with probability P(S₁ > d) = e^(−d/m), and the call
    // ends at min(S₁, d + S₂): E = ∫₀^d e^(−t/m) dt + ∫_d^∞ e^(−t/m) e^(−(t−d)/m) dt
    // = m(1 − e^(−d/m)) + e^(−d/m) m/2.
    let (m, d) = (10.0f64, 5.0f64);
    let q = (-d / m).exp();
    let base = json!({
        "name": "hedge", "duration": "35s", "warmup": "5s",
        "services": {"server": {"concurrency": 1000, "endpoints": {"serve": {"latency": exp_ms(m)}}}},
        "policies": {"p": {"hedge": {"after": format!("{d}ms"), "max_extra": 1}}},
        "workload": [{"name": "load", "target": "server.serve", "policy": "p", "arrival": poisson(1000.0)}]
    });
    let reps = replicate(&base, 12);
    agrees("hedges per call", &per_rep(&reps, |o| o.edges[0].hedges as f64 / o.edges[0].calls as f64), q);
    agrees("hedged mean (ms)", &per_rep(&reps, |o| mean_ms(o, 0)), m * (1.0 - q) + q * m / 2.0);
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

/// P(N = k) for N ~ Poisson(m), k = 0..n.
fn poisson_pmf(m: f64, n: usize) -> Vec<f64> {
    let mut p = vec![(-m).exp()];
    for k in 1..=n {
        p.push(p[k - 1] * m / k as f64);
    }
    p
}

#[test]
fn rate_limits_under_poisson_refuse_what_their_token_chains_say() {
    // Poisson λ = 0.9/ms (ample workers behind, constant 1 ms, no network).
    // (a) A server token bucket (Envoy's: max 6, 2 tokens every 2 ms from the start,
    // one token per request): the tokens b just after a fill form a Markov chain,
    // b' = min(6, b − min(N, b) + 2) with N ~ Poisson(1.8) the arrivals between fills;
    // a window admits min(N, b). Refused share 1 − E_π[min(N, b)]/1.8.
    // (b) resilience4j's limiter, 2 permissions per 2 ms cycle, timeout 0: nothing is
    // reserved, so each cycle starts with 2 and admits min(N, 2): refused share
    // 1 − E[min(N, 2)]/1.8.
    let (lambda_per_ms, period_ms, max, per_fill) = (0.9, 2.0, 6usize, 2usize);
    let m = lambda_per_ms * period_ms;
    let pmf = poisson_pmf(m, 80);
    let mut pi = vec![0.0; max + 1];
    pi[max] = 1.0;
    for _ in 0..10_000 {
        let mut next = vec![0.0; max + 1];
        for (b, &pb) in pi.iter().enumerate() {
            for (n, &pn) in pmf.iter().enumerate() {
                next[(b - n.min(b) + per_fill).min(max)] += pb * pn;
            }
        }
        pi = next;
    }
    let admitted_bucket: f64 = pi
        .iter()
        .enumerate()
        .map(|(b, pb)| pb * pmf.iter().enumerate().map(|(n, pn)| pn * n.min(b) as f64).sum::<f64>())
        .sum();
    let admitted_r4j: f64 = pmf.iter().enumerate().map(|(n, pn)| pn * n.min(2) as f64).sum();
    let limits = [
        (
            "token bucket",
            json!({"token_bucket": {"max_tokens": max, "tokens_per_fill": per_fill, "fill_interval": "2ms"}}),
            true,
            admitted_bucket,
        ),
        (
            "resilience4j",
            json!({"limit_for_period": 2, "limit_refresh_period": "2ms", "timeout": "0s"}),
            false,
            admitted_r4j,
        ),
    ];
    for (name, limit, server, admitted) in limits {
        let mut svc = json!({"concurrency": 1000, "endpoints": {"serve": {"latency": {"constant": "1ms"}}}});
        let mut base = station(svc.clone(), poisson(lambda_per_ms * 1e3), "35s");
        if server {
            svc["rate_limit"] = limit;
            base["services"]["server"] = svc;
        } else {
            base["policies"] = json!({"p": {"rate_limit": limit}});
            base["workload"][0]["policy"] = json!("p");
        }
        let reps = replicate(&base, 12);
        agrees(
            &format!("{name} refused share"),
            &per_rep(&reps, |o| share(o, 0, Cause::RateLimited)),
            1.0 - admitted / m,
        );
    }
}

#[test]
fn a_ramped_poisson_schedule_offers_the_integral_of_its_rate() {
    // 200/s, ramping from 10 s to 2000/s at 30 s, stepping to 500/s at 40 s: a
    // non-homogeneous Poisson process, whose count over an interval is Poisson with the
    // integral of the rate as mean. Over the ramp, [10 s, 30 s): 20 × 1100 = 22,000;
    // over the measured window [5 s, 60 s): 1,000 + 22,000 + 20,000 + 10,000 = 53,000.
    let svc = json!({"concurrency": 1000, "endpoints": {"serve": {"latency": {"constant": "1ms"}}}});
    let mut base = station(svc, poisson(200.0), "60s");
    base["workload"][0]["schedule"] =
        json!([{"at": "10s", "rate": 2000, "ramp": "20s"}, {"at": "40s", "rate": 500}]);
    let reps = replicate(&base, 12);
    agrees("ramped schedule offered in window", &per_rep(&reps, |o| o.workloads[0].offered as f64), 53_000.0);
    let ramp = |o: &RunOutput| {
        let col = o.series.column(faultline::metrics::Scope::Workload, "load", "offered").unwrap();
        o.series
            .ends
            .iter()
            .zip(&col.values)
            .filter(|(e, _)| **e > 10_000_000_000 && **e <= 30_000_000_000)
            .map(|(_, v)| v)
            .sum::<f64>()
    };
    agrees("ramped schedule offered during the ramp", &per_rep(&reps, ramp), 22_000.0);
}
