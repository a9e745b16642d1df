//! The semantics docs/scenario-format.md states, pinned by constructed scenarios whose
//! latencies are constants, so that each outcome is exact: where a timeout's clock
//! starts and what it covers, what a deadline cuts, how many hedges a call gets, what a
//! queue timeout holds, when a fault acts on a request, which replicas a balancer keeps.
//! The tests marked `#[ignore]` show where the code disagrees with its documentation or
//! with the real system it follows; each says why and where the fix goes.

use crate::common::*;
use faultline::model::{EdgeFigures, EndpointFigures, RunOutput};
use faultline::scenario::LoadOptions;
use faultline::spec::{Cause, Spec};
use serde_json::{Value, json};

const MS: f64 = 1.0;

fn edge<'a>(spec: &Spec, out: &'a RunOutput, name: &str) -> &'a EdgeFigures {
    let names: Vec<&str> = spec.edges.iter().map(|e| e.name.as_str()).collect();
    let i = spec
        .edges
        .iter()
        .position(|e| e.name == name)
        .unwrap_or_else(|| panic!("no edge {name} in {names:?}"));
    &out.edges[i]
}

fn endpoint<'a>(spec: &Spec, out: &'a RunOutput, name: &str) -> &'a EndpointFigures {
    let i =
        spec.endpoints.iter().position(|e| e.name == name).unwrap_or_else(|| panic!("no endpoint {name}"));
    &out.endpoints[i]
}

/// HDR histograms keep 3 significant digits: a constant reads back within 0.1%.
fn close(got: Option<f64>, want_ms: f64) -> bool {
    got.is_some_and(|g| (g - want_ms).abs() <= want_ms * 1e-3 + 1e-6)
}

fn failed(o: &faultline::metrics::Outcomes, c: Cause) -> u64 {
    o.failed[c as usize]
}

// ---- where a per-try timeout starts and what it covers -------------------------------

/// `api.x` calls `b.y` twice in parallel under policy `p`; `b` has one worker and a
/// 3 ms service time, the link api->b 2 ms each way. Both requests reach `b` at 2 ms:
/// the first is served 2-5 ms and answered at 7 ms, the second waits 2-5, is served 5-8
/// and answered at 10 ms. Requests come every 10 ms, so no cycle overlaps the next.
fn two_in_parallel(timeout: &str) -> Value {
    json!({
        "name": "timeout-start", "duration": "2s", "warmup": "0s",
        "services": {
            "api": {"concurrency": 100, "endpoints": {"x": {"steps": [{"parallel": [
                {"call": "b.y", "policy": "p"}, {"call": "b.y", "policy": "p"}
            ]}]}}},
            "b": {"concurrency": 1, "endpoints": {"y": {"latency": {"constant": "3ms"}}}}
        },
        "network": {"links": [{"from": "api", "to": "b", "latency": {"constant": "2ms"}}]},
        "policies": {"p": {"timeout": timeout}},
        "workload": [{"name": "w", "target": "api.x", "arrival": {"constant": {"rate": 100}}}]
    })
}

#[test]
fn a_per_try_timeout_covers_both_network_hops_and_the_callees_queue() {
    // 10.001 ms: both answers (7 ms and 10 ms after the call) come in time.
    let s = spec(&two_in_parallel("10001us"));
    let out = run(&s);
    let w = &out.workloads[0];
    let done = w.offered - w.in_flight;
    assert!(done >= 190 && w.in_flight <= 1, "{w:?}");
    assert_eq!(w.outcomes.ok, done, "{:?}", w.outcomes);
    // The workload's client has no network hop: its latency is api's execution, 10 ms.
    assert!(close(w.latency.quantile_ms(0.0), 10.0 * MS) && close(w.latency.max_ms(), 10.0 * MS));
    // The callee's latency runs from the request's arrival at the replica: the second
    // request's 3 ms in the queue are in it (3 ms and 6 ms).
    let b = endpoint(&s, &out, "b.y");
    assert!(
        close(b.latency.quantile_ms(0.5), 3.0) && close(b.latency.max_ms(), 6.0),
        "{:?}",
        b.latency.max_ms()
    );
    // The call edge's latency runs from the call to its answer: both hops are in it.
    let e = edge(&s, &out, "api->b.y");
    assert!(close(e.latency.quantile_ms(0.5), 7.0) && close(e.latency.max_ms(), 10.0));

    // 9.999 ms: the queued request's answer (10 ms) is late; the first one's is not.
    let s = spec(&two_in_parallel("9999us"));
    let out = run(&s);
    let e = edge(&s, &out, "api->b.y");
    let (ok, late) = (e.outcomes.ok, failed(&e.outcomes, Cause::Timeout));
    // One of each per request (the last request's pair may be cut by the run's end).
    assert!(ok >= 190 && ok.abs_diff(late) <= 1 && ok + late == e.outcomes.ended(), "{:?}", e.outcomes);
    // A failed required step fails the execution at once: the workload sees `error`.
    let w = &out.workloads[0];
    assert_eq!(failed(&w.outcomes, Cause::Error), w.offered - w.in_flight);
    // The timed-out request was still served (no `cancel_on_timeout`): wasted work.
    let b = endpoint(&s, &out, "b.y");
    assert_eq!(b.outcomes.ok, b.outcomes.ended());
}

#[test]
fn an_answer_due_at_the_instant_the_timeout_runs_out_is_a_timeout() {
    // 10 ms exactly: the timer was set when the attempt left (0 ms), the answer's
    // arrival was scheduled later (at 8 ms); at the same instant the earlier-scheduled
    // event goes first, so the answer is late.
    let s = spec(&two_in_parallel("10ms"));
    let out = run(&s);
    let e = edge(&s, &out, "api->b.y");
    let (ok, late) = (e.outcomes.ok, failed(&e.outcomes, Cause::Timeout));
    assert!(ok >= 190 && ok.abs_diff(late) <= 1 && ok + late == e.outcomes.ended(), "{:?}", e.outcomes);
}

// ---- deadline, backoff and what `retries` counts --------------------------------------

/// Every attempt times out after 5 ms (`b` takes 10 ms); two retries, 20 ms apart.
fn slow_with_retries(deadline: Option<&str>) -> Value {
    let mut p = json!({"timeout": "5ms",
        "retry": {"max_attempts": 3, "backoff": {"constant": "20ms"}, "jitter": "none"}});
    if let Some(d) = deadline {
        p["deadline"] = json!(d);
    }
    json!({
        "name": "deadline", "duration": "5s", "warmup": "0s",
        "services": {
            "api": {"concurrency": 100, "endpoints": {"x": {"steps": [{"call": "b.y", "policy": "p"}]}}},
            "b": {"concurrency": 100, "endpoints": {"y": {"latency": {"constant": "10ms"}}}}
        },
        "policies": {"p": p},
        "workload": [{"name": "w", "target": "api.x", "arrival": {"constant": {"rate": 10}}}]
    })
}

#[test]
fn a_deadline_counts_the_backoff_and_cuts_the_retry_it_was_waiting_for() {
    // Without a deadline: tries at 0, 25 and 50 ms, each timing out after 5 ms: the
    // call fails `timeout` at 55 ms after 3 attempts and 2 retries. The per-try timeout
    // does not run during the backoff.
    let s = spec(&slow_with_retries(None));
    let out = run(&s);
    let e = edge(&s, &out, "api->b.y");
    let n = e.outcomes.ended();
    assert!(n >= 49, "{e:?}");
    assert_eq!((failed(&e.outcomes, Cause::Timeout), e.attempts, e.retries), (n, 3 * n, 2 * n));
    assert!(close(e.failed_latency.max_ms(), 55.0) && close(e.failed_latency.quantile_ms(0.0), 55.0));

    // A 40 ms deadline from the call's start: the second retry, due at 50 ms, is never
    // sent; the call fails `timeout` at 40 ms after 2 attempts. The retry was decided
    // (and counted in `retries`, and drawn from a budget if any) when the second
    // attempt failed at 30 ms, before its backoff.
    let s = spec(&slow_with_retries(Some("40ms")));
    let out = run(&s);
    let e = edge(&s, &out, "api->b.y");
    let n = e.outcomes.ended();
    assert_eq!((failed(&e.outcomes, Cause::Timeout), e.attempts, e.retries), (n, 2 * n, 2 * n));
    assert!(close(e.failed_latency.max_ms(), 40.0) && close(e.failed_latency.quantile_ms(0.0), 40.0));
}

// ---- hedging --------------------------------------------------------------------------

fn hedged(policy: Value, latency: &str) -> Value {
    json!({
        "name": "hedge", "duration": "5s", "warmup": "0s",
        "services": {"b": {"concurrency": 1000, "endpoints": {"y": {"latency": {"constant": latency}}}}},
        "policies": {"p": policy},
        "workload": [{"name": "w", "target": "b.y", "policy": "p", "arrival": {"constant": {"rate": 10}}}]
    })
}

#[test]
fn max_extra_counts_the_hedges_of_the_whole_call_not_of_each_try() {
    // Try 1 at 0 (times out at 20), its hedge at 5 (times out at 25): the retry waits for
    // the hedge, then goes at 25 and times out at 45. No hedge follows the retry: the
    // call's one extra attempt is spent. 3 attempts, 1 hedge, 1 retry, 45 ms.
    let p =
        json!({"timeout": "20ms", "hedge": {"after": "5ms", "max_extra": 1}, "retry": {"max_attempts": 2}});
    let s = spec(&hedged(p, "100ms"));
    let out = run(&s);
    let e = edge(&s, &out, "client:w->b.y");
    let n = e.outcomes.ended();
    assert!(n >= 48, "{e:?}");
    assert_eq!(failed(&e.outcomes, Cause::Timeout), n);
    assert_eq!((e.attempts, e.hedges, e.retries), (3 * n, n, n));
    assert!(close(e.failed_latency.max_ms(), 45.0) && close(e.failed_latency.quantile_ms(0.0), 45.0));
}

#[test]
#[ignore = "bug: a hedge refused on the caller's side (bulkhead_full here; circuit_open and a \
            client rate limiter's rate_limited alike) is not in the default retry_on, so \
            `attempt_result` (src/model/calls/mod.rs, a hot-path file) abandons the attempt \
            still out and ends the call with the hedge's refusal"]
fn a_hedge_the_bulkhead_refuses_does_not_end_the_call() {
    // One call at a time (every 100 ms, served in 50 ms); the bulkhead holds one permit
    // and does not wait. The hedge at 10 ms finds it full: gRPC (throttled hedges are
    // not sent) and Envoy (a hedge over the retry circuit breaker is not sent) keep the
    // first attempt, which answers at 50 ms.
    let p = json!({"hedge": {"after": "10ms"}, "bulkhead": {"max_concurrent": 1, "max_wait": "0ms"}});
    let s = spec(&hedged(p, "50ms"));
    let out = run(&s);
    let e = edge(&s, &out, "client:w->b.y");
    assert_eq!(e.outcomes.ok, e.outcomes.ended(), "{:?}", e.outcomes);
}

// ---- cancellation ---------------------------------------------------------------------

/// `a.x` (called under a 10 ms timeout with `cancel_on_timeout`) calls `c.z`, which
/// takes 100 ms.
fn cancelled_chain() -> Value {
    json!({
        "name": "cancel", "duration": "5s", "warmup": "0s",
        "services": {
            "a": {"concurrency": 100, "endpoints": {"x": {"steps": [{"call": "c.z"}]}}},
            "c": {"concurrency": 100, "endpoints": {"z": {"latency": {"constant": "100ms"}}}}
        },
        "policies": {"p": {"timeout": "10ms", "cancel_on_timeout": true}},
        "workload": [{"name": "w", "target": "a.x", "policy": "p", "arrival": {"constant": {"rate": 10}}}]
    })
}

#[test]
fn cancel_on_timeout_drops_the_callees_execution_and_frees_its_worker() {
    let s = spec(&cancelled_chain());
    let out = run(&s);
    let w = &out.workloads[0];
    assert_eq!(failed(&w.outcomes, Cause::Timeout), w.offered - w.in_flight);
    // The callee records the cancelled execution as failed `timeout`, at the instant
    // the caller gave up (10 ms: the cancellation takes no network time).
    let a = endpoint(&s, &out, "a.x");
    assert_eq!(failed(&a.outcomes, Cause::Timeout), a.outcomes.ended());
    assert!(close(a.failed_latency.max_ms(), 10.0));
    // Its worker was held 10 ms of every 100: 10% of one worker in 100.
    assert!((a.utilization - 0.1 / 100.0).abs() < 1e-4, "{}", a.utilization);
}

#[test]
#[ignore = "doc/code disagreement: the docs say the deadline is propagated, but a cancelled \
            execution's own calls are not cancelled (one hop only; gRPC propagates \
            cancellation through the server's context to its outgoing calls). Fix: \
            `cancel_exec` (src/model/servers/mod.rs) abandons the calls the execution has \
            out, with the same `cancel_on_timeout` rule, which needs the execution to know \
            its live calls (src/model/calls/)"]
fn cancel_on_timeout_reaches_the_callees_own_calls() {
    let s = spec(&cancelled_chain());
    let out = run(&s);
    let c = endpoint(&s, &out, "c.z");
    assert_eq!(c.outcomes.ok, 0, "{:?}", c.outcomes);
}

// ---- queue timeout --------------------------------------------------------------------

#[test]
fn a_request_past_its_queue_timeout_keeps_its_slot_until_a_worker_reaches_it() {
    // One worker (10 ms a request), a queue of 1 with a 1 ms timeout, a request every
    // 3 ms: at 0 served; 3 queued (its timeout runs out at 4 ms, but it stays in the
    // slot); 6 and 9 rejected, the queue being full; at 10 the worker reaches the 3 ms
    // request, 7 ms old: rejected unserved; 12 served... A cycle of 12 ms, 4 requests:
    // 1 served, 1 dropped at dequeue after 7 ms, 2 refused at once.
    let v = json!({
        "name": "queue-timeout", "duration": "1200ms", "warmup": "0s",
        "services": {"b": {"concurrency": 1, "queue": {"capacity": 1, "timeout": "1ms"},
                           "endpoints": {"y": {"latency": {"constant": "10ms"}}}}},
        "workload": [{"name": "w", "target": "b.y", "arrival": {"constant": {"rate": 333.3333333333333}}}]
    });
    let s = spec(&v);
    let out = run(&s);
    let b = endpoint(&s, &out, "b.y");
    let n = b.outcomes.ended();
    assert!(n >= 396, "{:?}", b.outcomes);
    let (ok, rejected) = (b.outcomes.ok, failed(&b.outcomes, Cause::Rejected));
    assert_eq!(ok + rejected, n);
    assert!(ok.abs_diff(n / 4) <= 1, "ok {ok} of {n}");
    // Those refused at the door took 0 ms; those dropped at dequeue waited 7 ms.
    assert!(
        b.failed_latency.quantile_ms(0.5).is_some_and(|q| q < 0.002),
        "{:?}",
        b.failed_latency.quantile_ms(0.5)
    );
    assert!(close(b.failed_latency.max_ms(), 7.0), "{:?}", b.failed_latency.max_ms());
    assert!(close(b.latency.max_ms(), 10.0));
}

// ---- faults and requests in flight ----------------------------------------------------

#[test]
fn a_delay_fault_acts_on_the_requests_whose_service_starts_inside_its_window() {
    // 150 ms of service, a request every 100 ms, 100 ms added from 1 s to 2 s. The
    // request sent at 0.9 s runs across the start and keeps 150 ms; those sent in
    // [1 s, 2 s) take 250 ms, the one at 1.9 s too although it ends after the fault.
    let v = json!({
        "name": "fault-window", "duration": "4s", "warmup": "0s",
        "services": {"b": {"concurrency": 100, "endpoints": {"y": {"latency": {"constant": "150ms"}}}}},
        "workload": [{"name": "w", "target": "b.y", "arrival": {"constant": {"rate": 10}}}],
        "faults": [{"delay": {"name": "slow", "target": "b", "start": "1s", "duration": "1s",
                              "latency": {"constant": "100ms"}}}]
    });
    let s = spec(&v);
    let out = run(&s);
    let phase = |name: &str| {
        let p = out.phases.iter().find(|p| p.name == name).unwrap_or_else(|| panic!("no phase {name}"));
        &p.workloads[0]
    };
    let (before, slow, after) = (phase("before"), phase("slow"), phase("after"));
    assert_eq!(slow.offered, 10);
    // A phase's histogram keeps 2 significant digits: a constant reads back within 1%.
    let near = |got: Option<f64>, want: f64| got.is_some_and(|g| (g - want).abs() <= want * 0.01);
    assert!(near(slow.latency.quantile_ms(0.0), 250.0) && near(slow.latency.max_ms(), 250.0));
    assert!(near(before.latency.max_ms(), 150.0) && near(after.latency.quantile_ms(0.0), 150.0));
    assert!(near(after.latency.max_ms(), 150.0));
    // The whole run's histogram (3 digits) holds exactly two values.
    let w = &out.workloads[0];
    assert!(close(w.latency.quantile_ms(0.0), 150.0) && close(w.latency.max_ms(), 250.0));
}

// ---- which replicas a balancer keeps --------------------------------------------------

/// A workload calls `t.x` (3 replicas, round robin) every 1/300 s for 2 s.
fn three_replicas(policy: Option<Value>, health: Option<Value>, faults: Value) -> Value {
    let mut t =
        json!({"replicas": 3, "concurrency": 100, "endpoints": {"x": {"latency": {"constant": "1ms"}}}});
    if let Some(h) = health {
        t["health_check"] = h;
    }
    let mut w = json!({"name": "w", "target": "t.x", "arrival": {"constant": {"rate": 300}}});
    let mut v =
        json!({"name": "rr", "duration": "2s", "warmup": "0s", "services": {"t": t}, "faults": faults});
    if let Some(p) = policy {
        v["policies"] = json!({"p": p});
        w["policy"] = json!("p");
    }
    v["workload"] = json!([w]);
    v
}

#[test]
fn a_crashed_replica_stays_in_the_balancer_until_a_probe_or_an_ejection_takes_it_out() {
    let crash = json!([{"crash": {"target": "t#0", "start": "0s"}}]);
    // No health check: round robin keeps sending a third of the requests to the dead
    // replica for the whole crash; each is refused `unavailable`.
    let s = spec(&three_replicas(None, None, crash.clone()));
    let out = run(&s);
    let w = &out.workloads[0];
    let n = w.offered - w.in_flight;
    assert!(failed(&w.outcomes, Cause::Unavailable).abs_diff(n / 3) <= 1, "{:?} of {n}", w.outcomes);
    // A readiness probe every 100 ms, unready after one failure: only the requests of the
    // first 100 ms (a third of 29 or 30) reach it.
    let probe = json!({"interval": "100ms", "unhealthy_after": 1});
    let s = spec(&three_replicas(None, Some(probe), crash));
    let out = run(&s);
    let u = failed(&out.workloads[0].outcomes, Cause::Unavailable);
    assert!((9..=11).contains(&u), "{u}");
}

#[test]
fn outlier_detection_never_ejects_from_fewer_than_ten_replicas_at_its_default_cap() {
    let abort = json!([{"abort": {"target": "t#0", "start": "0s", "percent": 100}}]);
    // Default max_ejection_percent 10: ejecting one of 3 would make 33% > 10% (Envoy's
    // rule), so the failing replica keeps its third of the requests.
    let s = spec(&three_replicas(
        Some(json!({"outlier_detection": {"consecutive_errors": 1}})),
        None,
        abort.clone(),
    ));
    let out = run(&s);
    let w = &out.workloads[0];
    let n = w.offered - w.in_flight;
    assert!(failed(&w.outcomes, Cause::Error).abs_diff(n / 3) <= 1, "{:?} of {n}", w.outcomes);
    // At 34% one replica may go: the first error ejects it for 30 s, longer than the run.
    let od = json!({"outlier_detection": {"consecutive_errors": 1, "max_ejection_percent": 34}});
    let s = spec(&three_replicas(Some(od), None, abort));
    let out = run(&s);
    assert_eq!(failed(&out.workloads[0].outcomes, Cause::Error), 1);
}

/// `t` as above with replica 0 failing every request, and a service `u` that nobody
/// calls whose readiness flips 2×`flips` times (its probe checks `d`, which crashes and
/// restarts).
fn round_robin_beside_flapping(flips: u32) -> Value {
    let abort = json!({"abort": {"target": "t#0", "start": "0s", "percent": 100}});
    let mut faults = vec![abort];
    for k in 0..flips {
        let at = format!("{}ms", 20 + 37 * k);
        faults.push(json!({"crash": {"target": "d#0", "start": at, "restart_after": "17ms"}}));
    }
    let mut v = three_replicas(None, None, json!(faults));
    v["services"]["u"] = json!({"endpoints": {"e": {}},
        "health_check": {"interval": "7ms", "unhealthy_after": 1, "healthy_after": 1, "depends_on": ["d"]}});
    v["services"]["d"] = json!({"endpoints": {"e": {}}});
    v
}

#[test]
fn round_robin_takes_the_replicas_in_turn() {
    // Nothing changes in `t`: one request in three reaches replica 0.
    let s = spec(&round_robin_beside_flapping(0));
    let out = run(&s);
    let w = &out.workloads[0];
    let n = w.offered - w.in_flight;
    assert!(n >= 590);
    assert!(failed(&w.outcomes, Cause::Error).abs_diff(n / 3) <= 1, "{:?} of {n}", w.outcomes);
}

#[test]
#[ignore = "bug: `Health::changes` (src/model/health.rs) counts readiness changes of every \
            replica of every service, so a readiness flip of an unrelated service restarts \
            each caller's round robin at a random replica; gRPC rebuilds a channel's picker \
            only when one of its own subchannels changes. Fix: count changes per service and \
            pass the target's count to `pick` (its callers are in src/model/calls/)"]
fn round_robin_is_not_disturbed_by_another_services_readiness() {
    // `u` flips 100 times; `t` never changes: its caller's turn must go on in order,
    // whatever the seed. Today each flip restarts the turn at a random replica, and the
    // count of replica 0 walks: 197 of 599 on seed 2, 206 on seed 4.
    for seed in 1..=6 {
        let s = spec_with(
            &round_robin_beside_flapping(50),
            &LoadOptions { seed: Some(seed), ..Default::default() },
        );
        let out = run(&s);
        let w = &out.workloads[0];
        let n = w.offered - w.in_flight;
        let errors = failed(&w.outcomes, Cause::Error);
        assert!(errors.abs_diff(n / 3) <= 1, "seed {seed}: {errors} of {n}");
    }
}

// ---- sagas: the wait between runs of a retriable step ---------------------------------

#[test]
fn a_retriable_step_under_a_retry_policy_without_backoff_waits_one_second_between_runs() {
    // The pivot `a.ok` succeeds, the retriable `b.fail` always fails after 1 ms. Its
    // policy retries once with no backoff, so each run of the step is 2 attempts, 2 ms;
    // then the saga waits 1 s (the policy has no backoff) and runs it again. Sagas start
    // at 1, 2 and 3 s and the run ends at 3.5 s: 3 + 2 + 1 runs, 12 attempts. (The wait
    // was the policy's zero backoff raised to 1 ns: a run every 2 ms, hundreds of them.)
    let v = json!({
        "name": "saga-wait", "duration": "3500ms", "warmup": "0s",
        "services": {
            "o": {"concurrency": 10, "endpoints": {"ok": {}}},
            "b": {"concurrency": 10, "endpoints": {"fail": {"latency": {"constant": "1ms"}, "errors": {"percent": 100}}}}
        },
        "policies": {"p": {"retry": {"max_attempts": 2}}},
        "sagas": {"s": {"orchestrator": "o", "policy": "p", "steps": [
            {"name": "a", "action": "o.ok", "pivot": true},
            {"name": "b", "action": "b.fail", "retriable": true}
        ]}},
        "workload": [{"name": "w", "target": "saga:s", "arrival": {"constant": {"rate": 1}}}]
    });
    let s = spec(&v);
    let out = run(&s);
    let e = edge(&s, &out, "o->b.fail");
    assert_eq!((e.calls, e.attempts), (6, 12), "{e:?}");
    assert_eq!(out.sagas[0].in_flight, 3);
}

// ---- a service's rate limit and its own consumers -------------------------------------

#[test]
fn a_services_rate_limit_does_not_refuse_the_messages_its_consumers_pull() {
    // Envoy's local rate limit is an HTTP filter of the replica's inbound listener: a
    // message the service's own consumer pulls from a queue or a topic never passes it
    // (as adaptive concurrency's filter, which messages do not pass either). `worker`
    // admits one request per second; its consumers handle 20 messages in 2 s.
    let v = json!({
        "name": "limit-consumers", "duration": "3s", "warmup": "0s",
        "services": {
            "api": {"concurrency": 10, "endpoints": {"x": {"steps": [{"enqueue": "jobs"}, {"publish": "done"}]}}},
            "worker": {"concurrency": 10,
                       "rate_limit": {"token_bucket": {"max_tokens": 1, "fill_interval": "1s"}},
                       "endpoints": {"handle": {"latency": {"constant": "1ms"}}}}
        },
        "queues": {"jobs": {"consumers": [{"endpoint": "worker.handle"}]}},
        "topics": {"done": {"subscribers": [{"group": "g", "endpoint": "worker.handle"}]}},
        "workload": [{"name": "w", "target": "api.x", "arrival": {"constant": {"rate": 10}}}]
    });
    let s = spec(&v);
    let out = run(&s);
    let h = endpoint(&s, &out, "worker.handle");
    assert_eq!(failed(&h.outcomes, Cause::RateLimited), 0, "{:?}", h.outcomes);
    assert_eq!(h.outcomes.ok, h.outcomes.ended());
    // Each message received once, and deleted unless it was still in hand at the end.
    let q = &out.queues[0];
    assert!(q.sent >= 29 && q.in_flight <= 1, "{q:?}");
    assert_eq!((q.received, q.deleted + q.in_flight), (q.deleted + q.in_flight, q.sent), "{q:?}");
    let g = &out.topics[0].groups[0];
    assert!(out.topics[0].published >= 29 && g.in_flight <= 1 && g.redelivered == 0, "{g:?}");
}

// ---- an endpoint's own errors --------------------------------------------------------

#[test]
fn an_endpoints_own_errors_are_drawn_before_its_steps_which_then_do_not_run() {
    // Half of `api.x`'s executions fail (30% `error`, 20% `declined`) after their own
    // 1 ms, before the call to `b.y`: `b.y` sees exactly the executions that did not.
    let v = json!({
        "name": "errors-first", "duration": "10s", "warmup": "0s",
        "services": {
            "api": {"concurrency": 100, "endpoints": {"x": {"latency": {"constant": "1ms"},
                "errors": {"percent": 30}, "declines": {"percent": 20},
                "steps": [{"call": "b.y"}]}}},
            "b": {"concurrency": 100, "endpoints": {"y": {"latency": {"constant": "1ms"}}}}
        },
        "workload": [{"name": "w", "target": "api.x", "arrival": {"poisson": {"rate": 200}}}]
    });
    let s = spec(&v);
    let out = run(&s);
    let (api, b) = (endpoint(&s, &out, "api.x"), endpoint(&s, &out, "b.y"));
    let (err, dec) = (failed(&api.outcomes, Cause::Error), failed(&api.outcomes, Cause::Declined));
    // (A request or two may still be between the two at the end of the run.)
    assert!(b.requests.abs_diff(api.outcomes.ok) <= 2, "{} calls for {} ok", b.requests, api.outcomes.ok);
    assert_eq!(api.outcomes.ok + err + dec, api.outcomes.ended());
    // 2000 executions, errors 30% and declines 20% of all of them: within 4 standard errors.
    let n = api.outcomes.ended() as f64;
    for (k, p) in [(err, 0.3), (dec, 0.2)] {
        assert!((k as f64 / n - p).abs() < 4.0 * (p * (1.0 - p) / n).sqrt(), "{k} of {n}");
    }
}

// ---- what a breaker records ------------------------------------------------------------

#[test]
fn a_breaker_records_a_declined_answer_as_a_success() {
    // `api` calls `b.x` (always `error`) and `b.y` (always `declined`) alternately, every
    // 100 ms each, through one breaker (per service) that opens at 2 failures in a row.
    // A decline is a success to the breaker: it resets the count, and the breaker never
    // opens. Were it ignored (not recorded), the errors would meet in a row and open it.
    let v = |y: Value| {
        json!({
            "name": "declined-success", "duration": "10s", "warmup": "0s",
            "services": {
                "api": {"concurrency": 10, "endpoints": {
                    "x": {"steps": [{"call": "b.x", "policy": "p"}]},
                    "y": {"steps": [{"call": "b.y", "policy": "p"}]}
                }},
                "b": {"concurrency": 10, "endpoints": {
                    "x": {"latency": {"constant": "1ms"}, "errors": {"percent": 100}},
                    "y": y
                }}
            },
            "policies": {"p": {"circuit_breaker": {"consecutive_failures": 2, "open_for": "1s"}}},
            "workload": [
                {"name": "wx", "target": "api.x", "arrival": {"constant": {"rate": 10}}},
                {"name": "wy", "target": "api.y", "arrival": {"constant": {"rate": 10}}}
            ]
        })
    };
    let s = spec(&v(json!({"latency": {"constant": "1ms"}, "declines": {"percent": 100}})));
    let out = run(&s);
    assert_eq!((out.breakers[0].opened, out.breakers[0].refused), (0, 0), "{:?}", out.breakers[0]);
    let y = edge(&s, &out, "api->b.y");
    assert_eq!(failed(&y.outcomes, Cause::Declined), y.outcomes.ended());
    // The same with `b.y` erring: the breaker opens.
    let s = spec(&v(json!({"latency": {"constant": "1ms"}, "errors": {"percent": 100}})));
    assert!(run(&s).breakers[0].opened > 0);
}
