//! Long backlogs in the messaging rooms: a consumer group that falls a million messages
//! behind, a work queue of a quarter of a million with redeliveries and a dead-letter
//! queue beside it. The backlog is state the real broker holds too (32 bytes per
//! message and group in a partition, 40 in a queue's slab: asserted at compile time in
//! the rooms), never a record per message handled; the lag, depth and age follow their
//! closed forms; the limit stops a run at the instant its closed form says, naming
//! itself; and the runs take linear time.
//!
//! Tolerances are 4 standard errors from the sample size (Poisson counts, binomial
//! shares), plus the few service times the consumers may idle at the start.

use crate::common::*;
use faultline::metrics::Scope;
use faultline::model::RunOutput;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

fn series(out: &RunOutput, scope: Scope, name: &str, metric: &str) -> Vec<(f64, f64)> {
    let col = out
        .series
        .columns
        .iter()
        .find(|c| c.scope == scope && c.name.contains(name) && c.metric == metric)
        .unwrap_or_else(|| panic!("no {metric} series for {name}"));
    out.series.ends.iter().map(|&e| e as f64 / 1e9).zip(col.values.iter().copied()).collect()
}

fn close(what: &str, got: f64, expected: f64, tol: f64) {
    eprintln!(
        "{what}: simulated {got:.4}, expected {expected:.4}, error {:+.4} (tolerance {tol:.4})",
        got - expected
    );
    assert!((got - expected).abs() <= tol, "{what}: {got} vs {expected} ± {tol}");
}

/// Publishes at λ (Poisson) to one partition consumed by one consumer whose handler
/// takes a constant `d`: μ = 1/d < λ, so the lag grows as (λ − μ)t.
fn topic_behind(lambda: f64, d_us: u64, duration_s: u64) -> Value {
    json!({
        "name": "behind", "duration": format!("{duration_s}s"), "warmup": "0s", "seed": 17,
        "services": {
            "pub": {"concurrency": 256, "endpoints": {"send": {"steps": [{"publish": "t"}]}}},
            "c": {"concurrency": 1, "endpoints": {"handle": {"latency": {"constant": format!("{d_us}us")}}}}
        },
        "topics": {"t": {"partitions": 1, "subscribers": [{"group": "g", "endpoint": "c.handle", "consumers": 1}]}},
        "workload": [{"name": "load", "target": "pub.send", "arrival": {"poisson": {"rate": lambda}}}]
    })
}

/// 25,000/s published against a handler of 100 µs (10,000/s) for 80 s: 2 million
/// published, 800,000 handled back to back, 1.2 million of lag. The lag at every tenth
/// second is (λ − μ)t within 4√(λt) (the arrivals' Poisson spread; the handler is
/// deterministic); the end's lag is exactly published − delivered, the series' last
/// value and the group's in-flight; `max_lag` is the end's (the lag only grows, but for
/// the Poisson jitter).
#[test]
fn a_group_a_million_behind_lags_by_the_rate_difference() {
    let (lambda, d_us, t_end) = (25_000.0, 100, 80);
    let mu = 1e6 / d_us as f64;
    let spec = spec(&topic_behind(lambda, d_us, t_end));
    let start = Instant::now();
    let out = run(&spec);
    let took = start.elapsed();
    eprintln!("80 s of a group 1.2 million behind: {took:?}");
    assert!(took < Duration::from_secs(30), "{took:?}");
    let t = &out.topics[0];
    let g = &t.groups[0];
    // The handler runs back to back from the first message on: 800,000 less the few
    // service times it may idle before the backlog builds (and the one in hand).
    let full = t_end * 1_000_000 / d_us;
    assert!((full - 20..=full).contains(&g.delivered), "delivered {} of {full}", g.delivered);
    let lag = series(&out, Scope::Topic, "t", "lag");
    let end_lag = lag.last().unwrap().1;
    assert_eq!(end_lag as u64, t.published - g.delivered);
    assert_eq!(g.in_flight, t.published - g.delivered);
    assert_eq!((g.dead_lettered, g.dropped, g.redelivered), (0, 0, 0));
    assert!(end_lag > 1_100_000.0, "lag {end_lag}");
    for &(at, l) in lag.iter().filter(|(at, _)| (*at as u64).is_multiple_of(10)) {
        close(&format!("lag at {at} s"), l, (lambda - mu) * at, 4.0 * (lambda * at).sqrt() + 20.0);
    }
    assert!(g.max_lag as f64 >= end_lag && g.max_lag as f64 <= end_lag + 100.0, "max_lag {}", g.max_lag);
}

/// The same group with `max_backlog` at 150,000: the run stops when the lag (one
/// partition, one group, committed per message: the backlog) first passes it, at
/// 150,000 / (λ − μ) = 10 s within 4√(λ·10 s) / (λ − μ), and the error names the limit.
#[test]
fn the_backlog_limit_stops_the_run_when_the_lag_reaches_it() {
    let (lambda, d_us) = (25_000.0, 100);
    let mu = 1e6 / d_us as f64;
    let mut v = topic_behind(lambda, d_us, 80);
    v["limits"] = json!({"max_backlog": 150_000});
    let spec = spec(&v);
    let err = faultline::model::run(&spec).unwrap_err().to_string();
    assert!(err.contains("150001 messages") && err.contains("/limits/max_backlog"), "{err}");
    let at: f64 =
        err.split("outboxes at ").nth(1).and_then(|s| s.split(" s of").next()).unwrap().parse().unwrap();
    let tau = 150_000.0 / (lambda - mu);
    close(
        "instant the backlog limit is reached (s)",
        at,
        tau,
        (4.0 * (lambda * tau).sqrt() + 20.0) / (lambda - mu),
    );
}

/// Every request enqueues to two queues at λ = 8,000/s for 60 s. `plain`: four
/// consumers of a 1 ms handler (μ = 4,000/s), always ok; `flaky`: the same, failing
/// one time in four, with SQS's visibility timeout (100 ms), a redrive after 3
/// receives and a dead-letter queue. Both keep a growing backlog (a quarter of a
/// million and more).
fn two_queues() -> Value {
    let pool = |ep: &str| json!([{"endpoint": ep, "consumers": 4, "prefetch": 1}]);
    json!({
        "name": "backlog", "duration": "60s", "warmup": "0s", "seed": 23,
        "services": {
            "api": {"concurrency": 256, "endpoints": {"send": {"steps": [{"enqueue": "plain"}, {"enqueue": "flaky"}]}}},
            "w": {"concurrency": 4, "endpoints": {"handle": {"latency": {"constant": "1ms"}}}},
            "f": {"concurrency": 4, "endpoints": {"handle": {"latency": {"constant": "1ms"}, "errors": {"percent": 25}}}}
        },
        "queues": {
            "plain": {"consumers": pool("w.handle")},
            "flaky": {"visibility_timeout": "100ms", "max_receive_count": 3, "dead_letter": true,
                      "consumers": pool("f.handle")}
        },
        "workload": [{"name": "load", "target": "api.send", "arrival": {"poisson": {"rate": 8000}}}]
    })
}

/// `plain`: the four consumers receive back to back (240,000 in 60 s), so at t the
/// depth is N(t) − 4t/d ≈ (λ − μ)t within 4√(λt), and the oldest visible message is
/// the (μt + 1)-th sent, at a Gamma time: its age is t(1 − μ/λ) within 4√(μt)/λ. The
/// time-averaged depth is (λ − μ)T/2 within 4√(λT/3) (the integral of a Poisson count).
/// `flaky`: as many receives; each fails with p = 1/4 on its own, so the failed share of
/// receives is p within 4√(p(1−p)/R); a message is dead-lettered when its three
/// receives fail, p³ = 1/64 of those that ended, within 4√(p³(1−p³)/M); no stale
/// visibility timer gives a deleted message back (no duplicates).
#[test]
fn a_quarter_million_queued_keeps_its_depth_age_and_dead_letters() {
    let (lambda, mu, t_end, p) = (8000.0f64, 4000.0f64, 60.0f64, 0.25f64);
    let spec = spec(&two_queues());
    let start = Instant::now();
    let out = run(&spec);
    let took = start.elapsed();
    eprintln!("60 s of two queues a quarter million deep: {took:?}");
    assert!(took < Duration::from_secs(30), "{took:?}");
    let (plain, flaky) = (&out.queues[0], &out.queues[1]);
    for q in [plain, flaky] {
        assert_eq!(q.sent, q.deleted + q.dead_lettered + q.dropped + q.in_flight, "{q:?}");
        assert_eq!((q.duplicates, q.dropped), (0, 0), "{q:?}");
    }
    let full = (mu * t_end) as u64;
    assert!((full - 40..=full).contains(&plain.received), "plain received {}", plain.received);
    assert!((full - 40..=full).contains(&flaky.received), "flaky received {}", flaky.received);
    assert!(plain.received - plain.deleted <= 4, "{plain:?}");

    let depth = series(&out, Scope::Queue, "plain", "depth");
    let age = series(&out, Scope::Queue, "plain", "age_s");
    for (&(at, d), &(_, a)) in depth.iter().zip(&age).filter(|((at, _), _)| (*at as u64).is_multiple_of(10)) {
        close(&format!("plain depth at {at} s"), d, (lambda - mu) * at, 4.0 * (lambda * at).sqrt() + 10.0);
        close(
            &format!("plain age at {at} s"),
            a,
            at * (1.0 - mu / lambda),
            4.0 * (mu * at).sqrt() / lambda + 0.01,
        );
    }
    assert!(plain.max_depth as f64 >= depth.last().unwrap().1, "{plain:?}");
    close(
        "plain mean depth",
        plain.mean_depth,
        (lambda - mu) * t_end / 2.0,
        4.0 * (lambda * t_end / 3.0).sqrt() + 10.0,
    );
    close(
        "plain max age (s)",
        plain.max_age_s,
        t_end * (1.0 - mu / lambda),
        4.0 * (mu * t_end).sqrt() / lambda + 0.01,
    );

    // Failed receives: every receive not ended by a deletion, less the ≤ 4 in hand.
    let r = flaky.received as f64;
    let failed = (flaky.received - flaky.deleted) as f64;
    close("flaky failed share of receives", failed / r, p, 4.0 * (p * (1.0 - p) / r).sqrt() + 4.0 / r);
    let ended = (flaky.deleted + flaky.dead_lettered) as f64;
    let p3 = p.powi(3);
    close(
        "flaky dead-lettered share",
        flaky.dead_lettered as f64 / ended,
        p3,
        4.0 * (p3 * (1.0 - p3) / ended).sqrt(),
    );
    // A message takes X = 1, 2 or 3 receives (1 − p, p(1 − p), p²): the messages ended
    // are R / E[X] within 4√(R Var[X] / E[X]³) (renewal), less those still between
    // receives at the end (a failure in the last two timeouts: at most 2 × 0.1 s × μp).
    let ex = 1.0 + p + p * p;
    let var = (1.0 - p) + 4.0 * p * (1.0 - p) + 9.0 * p * p - ex * ex;
    let pending = 2.0 * 0.1 * mu * p;
    close(
        "flaky messages ended",
        ended,
        r / ex - pending / 2.0,
        4.0 * (r * var / ex.powi(3)).sqrt() + pending / 2.0,
    );
}
