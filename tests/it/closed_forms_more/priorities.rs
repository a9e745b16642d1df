//! Priorities and shedding against closed forms (see the parent module).

use super::*;

#[test]
fn priorities_under_queue_delay_follow_cobhams_formula() {
    // One exponential worker (μ = 1/ms) serving three classes by priority, non-preemptive
    // (`shed: queue_delay` takes the next request by priority; a target of an hour drops
    // nothing). λ = 0.2, 0.3, 0.3 per ms for critical, default, sheddable. Cobham:
    // W_k = 1/μ + W₀ / ((1 − σ_{k−1})(1 − σ_k)), W₀ = Σλᵢ E[S²]/2 = 0.8 ms, σ_k the load
    // of the classes at or above k: 2, 3 and 9 ms (weighted mean 5 ms, the M/M/1's).
    // The same with the queue's `discipline` LIFO, which orders each class (docs): the
    // order within a class does not look at service times, so each class's counts, and
    // by Little's law its mean, are unchanged (with one draw per start, the counts are
    // the same path, so the means agree to within edge effects); the spread is not: the
    // sheddable requests' standard deviation must grow.
    let classes = [("critical", 200.0), ("default", 300.0), ("sheddable", 300.0)];
    let workload: Vec<Value> = classes
        .iter()
        .map(|(p, rate)| json!({"name": p, "target": "server.serve", "priority": p, "arrival": poisson(*rate)}))
        .collect();
    let mut spread = Vec::new();
    for discipline in ["fifo", "lifo"] {
        let base = json!({
            "name": "cobham", "duration": "85s", "warmup": "5s",
            "services": {"server": {"concurrency": 1, "shed": {"queue_delay": "1h"},
                                    "queue": {"discipline": discipline},
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
            let means = per_rep(&reps, |o| mean_ms(o, k));
            agrees(&format!("Cobham {name} mean (ms), {discipline} within a class"), &means, expected);
            assert!(reps.iter().all(|(_, o)| o.workloads[k].shed == 0), "nothing is shed at a target of 1 h");
        }
        spread.push(mean_se(&per_rep(&reps, |o| o.workloads[2].latency.inner().stdev() / 1e6)).0);
    }
    eprintln!("Cobham sheddable standard deviation (ms): fifo {:.3}, lifo {:.3}", spread[0], spread[1]);
    assert!(spread[1] > 1.5 * spread[0], "LIFO within a class spreads the sheddable latencies: {spread:?}");
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
