//! Client-side mechanisms and arrivals against closed forms (see the parent module).

use super::*;

#[test]
fn per_try_timeouts_on_exponential_service_make_geometric_attempts() {
    // Service Exp(10 ms) with ample workers (nothing queues, no network), a per-try
    // timeout T = 10 ms, up to 3 attempts on timeout. An attempt times out with
    // p = P(S > T) = e⁻¹, independently: attempts per call 1 + p + p², calls that fail
    // p³, and a success's latency E[S | S < T] + (T·E[failed tries] + E[waits before it])
    // given success, with E[S | S < T] = m − T p/(1 − p); a success on try j follows
    // j − 1 timeouts and j − 1 waits, with weights 1, p, p² over 1 + p + p².
    // The waits' means (docs: backoff and the AWS jitters): none, 0; `full` of
    // exponential(2 ms, ×2), uniform on [0, 2] then [0, 4] ms: 1 and 2 ms;
    // `decorrelated` from 1 ms (cap 1 s), uniform on [1, 3] then on [1, 3·w₁]: 2 and
    // (1 + 6)/2 = 3.5 ms.
    let (m, t) = (10.0f64, 10.0f64);
    let p = (-t / m).exp();
    let variants = [
        ("no backoff", json!({"constant": "0ms"}), "none", (0.0, 0.0)),
        (
            "full jitter",
            json!({"exponential": {"initial": "2ms", "multiplier": 2, "max": "1s"}}),
            "full",
            (1.0, 2.0),
        ),
        (
            "decorrelated jitter",
            json!({"exponential": {"initial": "1ms", "multiplier": 2, "max": "1s"}}),
            "decorrelated",
            (2.0, 3.5),
        ),
    ];
    for (name, backoff, jitter, (w1, w2)) in variants {
        let base = json!({
            "name": "timeouts", "duration": "35s", "warmup": "5s",
            "services": {"server": {"concurrency": 1000, "endpoints": {"serve": {"latency": exp_ms(m)}}}},
            "policies": {"p": {"timeout": format!("{t}ms"),
                               "retry": {"max_attempts": 3, "backoff": backoff, "jitter": jitter, "retry_on": ["timeout"]}}},
            "workload": [{"name": "load", "target": "server.serve", "policy": "p", "arrival": poisson(1000.0)}]
        });
        let reps = replicate(&base, 12);
        assert_eq!(reps[0].0.edges.len(), 1);
        let attempts = per_rep(&reps, |o| o.edges[0].attempts as f64 / o.edges[0].calls as f64);
        agrees(&format!("timeout attempts per call, {name}"), &attempts, 1.0 + p + p * p);
        agrees(
            &format!("timeout calls failed, {name}"),
            &per_rep(&reps, |o| share(o, 0, Cause::Timeout)),
            p.powi(3),
        );
        let before = (p * (t + w1) + p * p * (2.0 * t + w1 + w2)) / (1.0 + p + p * p);
        let ok_latency = m - t * p / (1.0 - p) + before;
        agrees(
            &format!("timeout success latency (ms), {name}"),
            &per_rep(&reps, |o| mean_ms(o, 0)),
            ok_latency,
        );
    }
}

#[test]
fn a_per_try_timeout_on_mm1_times_out_the_sojourn_tail_and_cancelling_frees_the_worker() {
    // M/M/1 (λ = 0.8/ms, μ = 1/ms, θ = μ − λ) behind a per-try timeout T = 10 ms, no
    // retries, no network. Without `cancel_on_timeout` the callee finishes the work
    // anyway: the queue is a plain M/M/1 and a call times out when its sojourn exceeds
    // T, e^(−θT); the worker stays busy ρ = 0.8. With it, the work leaves at T, queued
    // or running: the offered wait V stays below T, each arrival adds min(S, T − V),
    // and below T the level-crossing equation is the M/M/1's, so V has an atom
    // P₀ = 1/(1 + λ(1 − e^(−θT))/θ) and density λP₀e^(−θx) on (0, T); a call times out
    // iff S > T − V: E[e^(−μ(T − V))] = P₀e^(−θT); the worker is busy 1 − P₀.
    let (lambda, mu, t) = (0.8f64, 1.0f64, 10.0f64);
    let theta = mu - lambda;
    let p0 = 1.0 / (1.0 + lambda * (1.0 - (-theta * t).exp()) / theta);
    for (cancel, timed_out, busy) in
        [(false, (-theta * t).exp(), lambda / mu), (true, p0 * (-theta * t).exp(), 1.0 - p0)]
    {
        let base = json!({
            "name": "timeout-mm1", "duration": "45s", "warmup": "5s",
            "services": {"server": {"concurrency": 1, "endpoints": {"serve": {"latency": exp_ms(1.0 / mu)}}}},
            "policies": {"p": {"timeout": format!("{t}ms"), "cancel_on_timeout": cancel}},
            "workload": [{"name": "load", "target": "server.serve", "policy": "p", "arrival": poisson(lambda * 1e3)}]
        });
        let reps = replicate(&base, 12);
        agrees(
            &format!("M/M/1 timeout share, cancel {cancel}"),
            &per_rep(&reps, |o| share(o, 0, Cause::Timeout)),
            timed_out,
        );
        agrees(
            &format!("M/M/1 timeout utilization, cancel {cancel}"),
            &per_rep(&reps, |o| o.endpoints[0].utilization),
            busy,
        );
    }
}

#[test]
fn a_bulkheads_wait_is_mmc_plus_d() {
    // A bulkhead of 3 permits with max_wait τ = 1 ms, in front of ample exponential
    // workers (1 ms) with no network: a permit is held for exactly the service time, and
    // waiters are served in arrival order and leave at τ, so it is M/M/3+D at λ = 3.3/ms
    // (a waiter that leaves delays no one behind it, as at dequeue). Lost: bulkhead_full.
    let (loss, wait, _) = super::mmc_plus_d(3, 3.3, 1.0, 1.0);
    let base = json!({
        "name": "bulkhead", "duration": "45s", "warmup": "5s",
        "services": {"server": {"concurrency": 1000, "endpoints": {"serve": {"latency": exp_ms(1.0)}}}},
        "policies": {"p": {"bulkhead": {"max_concurrent": 3, "max_wait": "1ms"}}},
        "workload": [{"name": "load", "target": "server.serve", "policy": "p", "arrival": poisson(3300.0)}]
    });
    let reps = replicate(&base, 12);
    agrees("bulkhead M/M/3+D full", &per_rep(&reps, |o| share(o, 0, Cause::BulkheadFull)), loss);
    agrees("bulkhead M/M/3+D admitted mean (ms)", &per_rep(&reps, |o| mean_ms(o, 0)), wait + 1.0);
}

#[test]
fn a_consecutive_failures_breaker_refuses_its_renewal_share() {
    // Poisson calls (λ = 1/ms) to an endpoint that answers at once, failing with p = 0.3
    // independently; a breaker that opens after k = 3 failures in a row, stays open
    // D = 50 ms, and closes after s = 2 successes in a row in half-open (a failure there
    // reopens it). Each call ends before the next: one trial at a time. A cycle from
    // closed: C = (1 − pᵏ)/((1 − p)pᵏ) calls until k failures in a row; then episodes of
    // open (λD refused in expectation) and half-open (trials until s successes in a row
    // or a failure: (1 − q)/p on average), each closing with probability q = (1 − p)ˢ, so
    // 1/q episodes.
    // Renewal-reward: refused share = (λD/q) / (C + (λD + trials)/q).
    let (p, k, s, lambda_d) = (0.3f64, 3, 2, 50.0);
    let c = (1.0 - p.powi(k)) / ((1.0 - p) * p.powi(k));
    let q = (1.0 - p).powi(s);
    let trials = (1.0 - q) / p;
    let refused = (lambda_d / q) / (c + (lambda_d + trials) / q);
    let base = json!({
        "name": "breaker", "duration": "65s", "warmup": "5s",
        "services": {"server": {"concurrency": 1000,
                                "endpoints": {"serve": {"latency": {"constant": "0ms"}, "errors": {"percent": 30}}}}},
        "policies": {"p": {"circuit_breaker": {"consecutive_failures": k, "open_for": "50ms", "success_threshold": s}}},
        "workload": [{"name": "load", "target": "server.serve", "policy": "p", "arrival": poisson(1000.0)}]
    });
    let reps = replicate(&base, 12);
    agrees(
        "consecutive breaker refused share",
        &per_rep(&reps, |o| share(o, 0, Cause::CircuitOpen)),
        refused,
    );
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
