//! Work queues (issue 13): closed forms, mechanisms in numbers, invariants, broken input.
//!
//! Statistical checks allow 4 standard errors computed from the sample size in the test
//! (a correct model fails such a check about once in 16 000 seeds), or Student's t at
//! 99.9% over independent replications. Never widen them: a failure is a bug in the
//! model, or a derivation to fix with its reason written down.

use crate::common::*;
use faultline::metrics::Scope;
use faultline::model::RunOutput;
use faultline::spec::{Cause, Spec};
use serde_json::{Value, json};

/// A producer `api.send` (instant, its only step an enqueue to each queue in `queues`)
/// under constant or Poisson arrivals, and a handler service `worker` with one endpoint.
fn scenario(rate: f64, poisson: bool, duration: &str, worker: Value, handler: Value, queues: Value) -> Value {
    let names: Vec<Value> = queues.as_object().unwrap().keys().map(|k| json!({"enqueue": k})).collect();
    let arrival =
        if poisson { json!({"poisson": {"rate": rate}}) } else { json!({"constant": {"rate": rate}}) };
    let mut worker = worker;
    worker["endpoints"] = json!({"handle": handler});
    json!({
        "name": "queues",
        "duration": duration,
        "warmup": "5s",
        "services": {
            "api": {"concurrency": 1000000, "endpoints": {"send": {"steps": names}}},
            "worker": worker
        },
        "queues": queues,
        "workload": [{"name": "load", "target": "api.send", "arrival": arrival}]
    })
}

/// `common::run` plus the queues' own invariants: each message ends once (sent =
/// deleted + dead-lettered + dropped + in flight), duplicates only among receives.
fn run_q(spec: &Spec) -> RunOutput {
    let out = run(spec);
    for (q, f) in spec.queues.iter().zip(&out.queues) {
        assert_eq!(f.sent, f.deleted + f.dead_lettered + f.dropped + f.in_flight, "queue {}", q.name);
        assert!(f.received >= f.deleted + f.duplicates, "queue {}", q.name);
        assert!(f.inconsistent <= f.duplicates, "queue {}", q.name);
        assert_eq!(f.latency.count(), f.deleted, "queue {}", q.name);
    }
    out
}

fn within(what: &str, got: f64, expected: f64, se: f64) {
    eprintln!(
        "{what}: simulated {got:.5}, expected {expected:.5} ± {se:.5} (se), error {:+.3}%",
        100.0 * (got / expected - 1.0)
    );
    assert!((got - expected).abs() <= 4.0 * se, "{what}: {got} vs {expected}, 4 se = {}", 4.0 * se);
}

// ---- closed forms ---------------------------------------------------------------------

/// A handler that fails with probability p, each receive independently: a message is
/// dead-lettered when its k receives all fail, p^k. Without a visibility timeout
/// (RabbitMQ: nack, requeued at once) and with one (SQS: back after 50 ms), to a
/// dead-letter queue and dropped: the same share.
#[test]
fn dead_lettered_share_is_p_to_the_k() {
    let (p, k) = (0.5f64, 3u32);
    let pool = json!([{"endpoint": "worker.handle", "consumers": 200, "prefetch": 1}]);
    let queues = json!({
        "rabbit": {"max_receive_count": k, "consumers": pool},
        "sqs": {"visibility_timeout": "50ms", "max_receive_count": k, "dead_letter": false, "consumers": pool}
    });
    let v = scenario(
        1000.0,
        false,
        "65s",
        json!({"concurrency": 1000}),
        json!({"latency": {"constant": "1ms"}, "errors": {"percent": p * 100.0}}),
        queues,
    );
    let spec = spec(&v);
    let out = run_q(&spec);
    let expected = p.powi(k as i32);
    for (q, f) in spec.queues.iter().zip(&out.queues) {
        let exhausted = f.dead_lettered + f.dropped;
        let n = (f.deleted + exhausted) as f64;
        assert!(n > 55_000.0, "{}: {n} messages ended", q.name);
        let se = (expected * (1.0 - expected) / n).sqrt();
        within(&format!("{} dead-lettered share", q.name), exhausted as f64 / n, expected, se);
        if q.dead_letter {
            assert_eq!(f.dropped, 0);
        } else {
            assert_eq!(f.dead_lettered, 0);
        }
        // Every receive is one handling: 1 + p + p² receives per message.
        let receives = (0..k).map(|i| p.powi(i as i32)).sum::<f64>();
        assert!((f.received as f64 / n - receives).abs() < 0.02, "{}: {} receives", q.name, f.received);
        assert_eq!(f.duplicates, 0);
    }
}

/// An exponential handler of mean m against a visibility timeout V, with ample
/// consumers and workers: each receive outlives its timeout with probability
/// q = e^(−V/m), and the message is then received again at once. With no failures,
/// every receive ends in a success, the first deletes and the others are duplicates.
/// The n-th extra receive happens when the n earlier handlers all still run at nV;
/// by memorylessness P(X ≥ n) = q^(1+2+…+n) = q^(n(n+1)/2), so
/// E[X] = Σ q^(n(n+1)/2) (its first term e^(−V/m) per receive), E[X²] = Σ (2n−1) P(X ≥ n).
#[test]
fn duplicates_follow_the_visibility_timeout_against_an_exponential_handler() {
    let (m_ms, v_ms) = (10.0f64, 10.0f64);
    let queues = json!({"jobs": {"visibility_timeout": format!("{v_ms}ms"),
        "consumers": [{"endpoint": "worker.handle", "consumers": 500, "prefetch": 1}]}});
    let v = scenario(
        1000.0,
        false,
        "65s",
        json!({"concurrency": 100000}),
        json!({"latency": {"exponential": {"mean": format!("{m_ms}ms")}}}),
        queues,
    );
    let spec = spec(&v);
    let out = run_q(&spec);
    let f = &out.queues[0];
    let q = (-v_ms / m_ms).exp();
    let tail = |n: u32| q.powf((n * (n + 1) / 2) as f64);
    let ex: f64 = (1..40).map(tail).sum();
    let ex2: f64 = (1..40).map(|n| (2 * n - 1) as f64 * tail(n)).sum();
    let n = f.deleted as f64;
    assert!(n > 59_000.0);
    let se = ((ex2 - ex * ex) / n).sqrt();
    within("duplicates per message", f.duplicates as f64 / n, ex, se);
    assert_eq!(f.inconsistent, f.duplicates, "the handler is not idempotent");
    assert_eq!(f.dead_lettered + f.dropped, 0);
}

/// Erlang C: probability that an arrival waits, for `c` servers and offered load `a`.
fn erlang_c(c: u32, a: f64) -> f64 {
    let rho = a / c as f64;
    let (mut term, mut sum) = (1.0, 1.0);
    for k in 1..c {
        term *= a / k as f64;
        sum += term;
    }
    let last = term * a / c as f64 / (1.0 - rho);
    last / (sum + last)
}

/// c consumers with a prefetch of 1 and exponential handling are the c servers of an
/// M/M/c queue whose waiting room is the queue itself: the time-average depth (visible
/// messages) is Lq = C(c, a)·ρ/(1 − ρ), and send to deletion is W = 1/μ + C/(cμ − λ).
#[test]
fn depth_of_c_consumers_is_the_mmc_queue() {
    let (c, lambda_per_ms) = (4u32, 3.2f64);
    let queues =
        json!({"work": {"consumers": [{"endpoint": "worker.handle", "consumers": c, "prefetch": 1}]}});
    let base = scenario(
        lambda_per_ms * 1000.0,
        true,
        "65s",
        json!({"concurrency": c}),
        json!({"latency": {"exponential": {"mean": "1ms"}}}),
        queues,
    );
    let reps = replicate(&base, 12);
    let depth: Vec<f64> = reps.iter().map(|(_, o)| o.queues[0].mean_depth).collect();
    let wait: Vec<f64> = reps.iter().map(|(_, o)| o.queues[0].latency.mean_ms().unwrap()).collect();
    for (s, o) in &reps {
        let f = &o.queues[0];
        assert_eq!(f.sent, f.deleted + f.in_flight, "seed {}", s.seed);
    }
    let cc = erlang_c(c, lambda_per_ms);
    let rho = lambda_per_ms / c as f64;
    let check = |what: &str, xs: &[f64], expected: f64| {
        let (m, se) = mean_se(xs);
        let tol = t999(xs.len() - 1) * se;
        eprintln!(
            "{what}: simulated {m:.5} ± {se:.5} (se), expected {expected:.5}, error {:+.3}%",
            100.0 * (m / expected - 1.0)
        );
        assert!((m - expected).abs() <= tol, "{what}: {m} vs {expected}, tolerance {tol}");
    };
    check("M/M/4 queue depth Lq", &depth, cc * rho / (1.0 - rho));
    check("M/M/4 send to deletion W (ms)", &wait, 1.0 + cc / (c as f64 - lambda_per_ms));
}

// ---- mechanisms -----------------------------------------------------------------------

/// Two replicas, one consumer each with a prefetch of 4, a 1 s handler, 3 messages a
/// second: each consumer holds about 1.5. The crash of worker#1 at 20.5 s (no restart)
/// fails its executions `unavailable`, and each such message comes back: at once
/// without a visibility timeout (RabbitMQ requeues a closed channel's unacked
/// messages), only when the 5 s timeout runs out with one (SQS). Nothing is lost.
#[test]
fn a_consumer_crash_returns_its_messages() {
    let mut max_latency = Vec::new();
    for vt in [None, Some("5s")] {
        let mut q = json!({"consumers": [{"endpoint": "worker.handle", "consumers": 1, "prefetch": 4}]});
        if let Some(vt) = vt {
            q["visibility_timeout"] = json!(vt);
        }
        let mut v = scenario(
            3.0,
            false,
            "40s",
            json!({"replicas": 2, "concurrency": 4}),
            json!({"latency": {"constant": "1s"}}),
            json!({"jobs": q}),
        );
        v["faults"] = json!([{"crash": {"target": "worker#1", "start": "20.5s"}}]);
        let spec = spec(&v);
        let out = run_q(&spec);
        let f = &out.queues[0];
        let ep = &out.endpoints[spec.endpoints.iter().position(|e| e.name == "worker.handle").unwrap()];
        let lost = ep.outcomes.failed[Cause::Unavailable as usize];
        assert!((1..=4).contains(&lost), "{vt:?}: {lost} handlings died with the replica");
        // Every receive ended in a deletion, died with the replica, or is still held at
        // the end (at most the survivor's prefetch, and only messages in flight).
        let held = f.received - f.deleted - lost;
        assert!(held <= f.in_flight.min(4), "{vt:?}: {held} held at the end");
        assert_eq!(f.dead_lettered + f.dropped + f.duplicates, 0, "{vt:?}");
        max_latency.push(f.latency.max_ms().unwrap());
    }
    // Without a timeout the survivor takes them at once; with one, they wait it out.
    assert!(max_latency[0] < 5000.0, "requeued at once: max latency {} ms", max_latency[0]);
    assert!(max_latency[1] >= 5000.0, "back after the visibility timeout: max {} ms", max_latency[1]);
}

/// A broker outage from 20 s to 25 s under 100 sends a second: the 500 enqueue steps in
/// it fail (the request fails), nothing is received meanwhile, and the queue drains
/// after. With `outbox: true` nothing fails: the relay sends the 500 when it is back.
/// (A handler that finishes during the outage cannot ack: see below.)
#[test]
fn an_outage_fails_sends_and_stops_receives() {
    for outbox in [false, true] {
        let mut v = scenario(
            100.0,
            false,
            "40s",
            json!({"concurrency": 8}),
            json!({"latency": {"constant": "10ms"}}),
            json!({"jobs": {"consumers": [{"endpoint": "worker.handle", "consumers": 2, "prefetch": 2}]}}),
        );
        v["services"]["api"]["endpoints"]["send"]["steps"][0]["outbox"] = json!(outbox);
        v["faults"] =
            json!([{"outage": {"name": "down", "target": "queue:jobs", "start": "20s", "duration": "5s"}}]);
        let spec = spec(&v);
        let out = run_q(&spec);
        let f = &out.queues[0];
        let wl = &out.workloads[0];
        if outbox {
            assert_eq!(f.send_failed, 0);
            assert_eq!(wl.outcomes.failed_total(), 0);
            // What the relay had not sent by the end (one 100 ms period at most).
            assert!(wl.offered - f.sent <= 10, "{} offered, {} sent", wl.offered, f.sent);
        } else {
            assert!((499..=501).contains(&f.send_failed), "{} sends failed", f.send_failed);
            assert_eq!(wl.outcomes.failed[Cause::Error as usize], f.send_failed);
            assert_eq!(f.sent + f.send_failed, wl.offered);
        }
        let received =
            out.series.columns.iter().find(|c| c.scope == Scope::Queue && c.metric == "received").unwrap();
        let during: f64 = received.values[21..25].iter().sum();
        assert_eq!(during, 0.0, "outbox {outbox}: receives during the outage");
        let depth =
            out.series.columns.iter().find(|c| c.scope == Scope::Queue && c.metric == "depth").unwrap();
        assert!(depth.values[38] < 5.0, "outbox {outbox}: drained after the outage");
        // A handler that finished during the outage could not ack: its message is
        // handed out again after it (RabbitMQ requeues a lost channel's unacked
        // messages), a duplicate; at most what the consumers held (2 × 2).
        assert!(f.duplicates <= 4, "outbox {outbox}: {} duplicates", f.duplicates);
    }
}

/// Prefetch bounds what a consumer holds: one consumer with a prefetch of 3 in front of
/// 10 workers runs at most 3 handlings at once, so a 100 ms handler serves 30/s.
#[test]
fn prefetch_bounds_what_a_consumer_holds() {
    let v = scenario(
        50.0,
        false,
        "65s",
        json!({"concurrency": 10}),
        json!({"latency": {"constant": "100ms"}}),
        json!({"jobs": {"consumers": [{"endpoint": "worker.handle", "consumers": 1, "prefetch": 3}]}}),
    );
    let spec = spec(&v);
    let out = run_q(&spec);
    let f = &out.queues[0];
    // Every deletion in the window (the figures count only messages sent after warm-up,
    // and 100 of the backlog were sent before).
    let deleted =
        out.series.columns.iter().find(|c| c.scope == Scope::Queue && c.metric == "deleted").unwrap();
    let rate = deleted.values[5..65].iter().sum::<f64>() / 60.0;
    assert!((rate - 30.0).abs() < 0.1, "deleted {rate}/s");
    let svc = &out.services[1];
    assert!((svc.utilization - 0.3).abs() < 0.001, "3 of 10 workers: {}", svc.utilization);
    assert!(f.max_depth > 1000, "the backlog grows by 20/s: {}", f.max_depth);
}

/// The same seed gives the same figures, and the example scenario keeps every
/// invariant under each variant.
#[test]
fn the_example_keeps_its_invariants_and_replays() {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/email-queue.json")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    let mut duplicates = Vec::new();
    for variant in ["baseline", "long-visibility", "idempotent"] {
        let opts = faultline::scenario::LoadOptions { variant: Some(variant.into()), ..Default::default() };
        let spec = spec_with(&v, &opts);
        let a = run_q(&spec);
        let b = run_q(&spec);
        assert_eq!(a.events, b.events);
        assert_eq!(a.queues[0].duplicates, b.queues[0].duplicates);
        let f = &a.queues[0];
        match variant {
            "idempotent" => assert_eq!(f.inconsistent, 0),
            _ => assert_eq!(f.inconsistent, f.duplicates),
        }
        duplicates.push(f.duplicates);
    }
    // The long timeout removes the duplicates of slow sends, not those of the acks lost
    // in the broker's outage.
    assert!(duplicates[1] < duplicates[0] && duplicates[0] > 0, "{duplicates:?}");
}

/// The run page draws each work queue: its depth at each interval's end never exceeds the
/// summary's `max_depth` (the most visible at any instant after warm-up), and the
/// example's broker outage, where nothing is received, shows as a climb.
#[test]
fn the_queue_chart_draws_the_depth_the_figures_bound() {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/email-queue.json")).unwrap();
    let spec = spec(&serde_json::from_str(&text).unwrap());
    let out = run_q(&spec);
    let depth = out.series.column(faultline::metrics::Scope::Queue, "emails", "depth").unwrap();
    let ends = &out.series.ends;
    let after_warmup: Vec<f64> =
        depth.values.iter().zip(ends).filter(|&(_, &e)| e > spec.warmup_ns).map(|(&v, _)| v).collect();
    let max = after_warmup.iter().copied().fold(0.0, f64::max);
    assert!(
        max > 0.0 && max <= out.queues[0].max_depth as f64,
        "series {max} vs max_depth {}",
        out.queues[0].max_depth
    );
    let charts = faultline::charts::run_charts(&spec, &out);
    let c = charts.iter().find(|c| c.file == "queue-emails.svg").expect("a chart for the queue");
    assert!(c.svg.contains("depth (visible messages") && c.svg.contains("deleted/s"), "{}", c.title);
}

// ---- bad input ------------------------------------------------------------------------

#[test]
fn broken_queues_exit_2_naming_the_path() {
    let base = json!({
        "duration": "5s",
        "services": {"a": {"endpoints": {"e": {"steps": [{"enqueue": "emails"}]}}}},
        "queues": {"emails": {"consumers": [{"endpoint": "a.e", "prefetch": 2}]}},
        "workload": [{"name": "w", "target": "a.e", "arrival": {"poisson": {"rate": 1}}}]
    });
    let cases: Vec<(&str, &str, Value, &str)> = vec![
        (
            "no consumers",
            "/queues/emails/consumers",
            json!([]),
            "/queues/emails/consumers: queue `emails` has no consumers",
        ),
        (
            "prefetch 0",
            "/queues/emails/consumers/0/prefetch",
            json!(0),
            "/queues/emails/consumers/0/prefetch: expected a prefetch of at least 1",
        ),
        (
            "unknown queue",
            "/services/a/endpoints/e/steps/0/enqueue",
            json!("mails"),
            "/services/a/endpoints/e/steps/0/enqueue: unknown queue `mails` (did you mean `emails`?)",
        ),
        (
            "unknown consumer endpoint",
            "/queues/emails/consumers/0/endpoint",
            json!("a.x"),
            "/queues/emails/consumers/0/endpoint: unknown endpoint",
        ),
        (
            "zero visibility timeout",
            "/queues/emails/visibility_timeout",
            json!("0s"),
            "/queues/emails/visibility_timeout",
        ),
        ("receive count 0", "/queues/emails/max_receive_count", json!(0), "/queues/emails/max_receive_count"),
        (
            "dead_letter alone",
            "/queues/emails/dead_letter",
            json!(true),
            "`dead_letter` needs `max_receive_count`",
        ),
        ("unknown key", "/queues/emails/visibility", json!("1s"), "visibility"),
        (
            "outage of an unknown queue",
            "/faults",
            json!([{"outage": {"target": "queue:email", "start": "1s"}}]),
            "/faults/0/outage/target: unknown queue `email`",
        ),
    ];
    let mut failures = Vec::new();
    for (i, (what, ptr, val, needle)) in cases.into_iter().enumerate() {
        let mut v = base.clone();
        let (parent, key) = ptr.rsplit_once('/').unwrap();
        v.pointer_mut(parent).unwrap().as_object_mut().unwrap().insert(key.into(), val);
        let text = serde_json::to_string_pretty(&v).unwrap();
        let p = temp_scenario(&format!("bad-queue-{i}"), &text);
        let o = bin().arg("run").arg(&p).output().unwrap();
        let err = stderr(&o);
        // Located: the file, a line and a column before the path.
        let located =
            err.lines().any(|l| l.contains(".json:") && l.contains(needle.split(':').next().unwrap()));
        if o.status.code() != Some(2) || !err.contains(needle) || !located || err.contains("panicked") {
            failures.push(format!("{what}: exit {:?}, stderr:\n{err}", o.status.code()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n---\n"));
}

/// Memory follows the messages in the queue, never those delivered: 100 000 messages
/// through a queue held to 50 at once run to the end; a consumer that cannot keep up
/// stops the run with the named limit.
#[test]
fn the_queue_holds_only_its_messages() {
    let mut v = scenario(
        200.0,
        false,
        "505s",
        json!({"concurrency": 4}),
        json!({"latency": {"constant": "5ms"}, "errors": {"percent": 10}}),
        json!({"jobs": {"visibility_timeout": "20ms", "max_receive_count": 3,
                        "consumers": [{"endpoint": "worker.handle", "consumers": 4, "prefetch": 2}]}}),
    );
    v["limits"] = json!({"max_queued": 50});
    let spec = spec(&v);
    let out = run_q(&spec);
    assert!(out.queues[0].sent > 99_000);
    // Slower than the arrivals: the backlog grows until the limit stops the run.
    v["services"]["worker"]["endpoints"]["handle"]["latency"] = json!({"constant": "50ms"});
    let err = faultline::model::run(&spec_with(&v, &Default::default())).unwrap_err();
    assert!(err.to_string().contains("/limits/max_queued"), "{err}");
}
