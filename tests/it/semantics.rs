//! The semantics docs/scenario-format.md states, pinned by constructed scenarios whose
//! latencies are constants, so that each outcome is exact: where a timeout's clock
//! starts and what it covers, what a deadline cuts, how many hedges a call gets, what a
//! queue timeout holds, when a fault acts on a request, which replicas a balancer keeps.
//! A test marked `#[ignore]` (none today) shows where the code disagrees with its documentation or
//! with the real system it follows; each says why and where the fix goes. `rooms` has
//! the balancers' replicas, sagas, a service's rate limit and its consumers, and an
//! endpoint's own errors.

mod rooms;

use crate::common::*;
use faultline::model::{EdgeFigures, EndpointFigures, RunOutput};
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
fn cancel_on_timeout_reaches_the_callees_own_calls() {
    // gRPC's server context: the dropped `a.x` cancels its call to `c.z` (a direct call,
    // no policy of its own), and `c.z` drops its work at the same instant, 10 ms in.
    let s = spec(&cancelled_chain());
    let out = run(&s);
    let c = endpoint(&s, &out, "c.z");
    assert_eq!(c.outcomes.ok, 0, "{:?}", c.outcomes);
    assert_eq!(failed(&c.outcomes, Cause::Timeout), c.outcomes.ended());
    assert!(c.outcomes.ended() >= 49, "{:?}", c.outcomes);
    assert!(c.failed_latency.max_ms().unwrap() <= 10.0 * 1.001, "{:?}", c.failed_latency.max_ms());
    // Its worker was held at most 10 ms of every 100, as the caller's.
    assert!(c.utilization <= 0.1 / 100.0 * 1.001, "{}", c.utilization);
    // The call ends failed `timeout` (DEADLINE_EXCEEDED), and nothing answers late.
    let e = edge(&s, &out, "a->c.z");
    assert_eq!(failed(&e.outcomes, Cause::Timeout), e.outcomes.ended());
    assert_eq!(e.outcomes.ended(), c.outcomes.ended());
    assert_eq!(c.abandoned, 0);
}

#[test]
fn a_request_cancelled_on_the_wire_never_runs() {
    // The cancellation follows the request on its connection: a request still on the
    // wire when its caller gives up is dropped on arrival, one hop (the attempt's own
    // policy) or more (the tree). `a -> c` takes 20 ms each way; the timeout is 10 ms.
    for inner in [true, false] {
        let (call, workload_policy) = if inner {
            (json!({"call": "c.z", "policy": "p"}), Value::Null)
        } else {
            (json!({"call": "c.z"}), json!("p"))
        };
        let mut v = json!({
            "name": "cancel-wire", "duration": "5s", "warmup": "0s",
            "services": {
                "a": {"concurrency": 100, "endpoints": {"x": {"steps": [call]}}},
                "c": {"concurrency": 100, "endpoints": {"z": {"latency": {"constant": "100ms"}}}}
            },
            "network": {"latency": {"constant": "0ms"},
                        "links": [{"from": "a", "to": "c", "latency": {"constant": "20ms"}}]},
            "policies": {"p": {"timeout": "10ms", "cancel_on_timeout": true}},
            "workload": [{"name": "w", "target": "a.x", "arrival": {"constant": {"rate": 10}}}]
        });
        if !workload_policy.is_null() {
            v["workload"][0]["policy"] = workload_policy;
        }
        let s = spec(&v);
        let out = run(&s);
        let c = endpoint(&s, &out, "c.z");
        assert_eq!(c.requests, 0, "inner {inner}: {:?}", c.outcomes);
        assert_eq!(c.abandoned, 0, "inner {inner}");
        let e = edge(&s, &out, "a->c.z");
        assert!(e.calls >= 49, "inner {inner}: {}", e.calls);
        assert_eq!(failed(&e.outcomes, Cause::Timeout), e.outcomes.ended(), "inner {inner}");
        assert!(out.violations.is_empty(), "{:?}", out.violations);
    }
}

/// Three hops under the outer 10 ms timeout with `cancel_on_timeout`: `a.x` calls
/// `b.y` without a policy, and `b.y` calls `c.z` (100 ms) under `inner`, a 30 ms per-try
/// timeout with 3 attempts and no cancellation of its own, then does 1 ms of work.
fn cancelled_tree(parallel: bool) -> Value {
    let b_steps = if parallel {
        json!([{"parallel": [{"call": "c.z", "policy": "inner"}, {"call": "d.w"}]}, {"work": {"constant": "1ms"}}])
    } else {
        json!([{"call": "c.z", "policy": "inner"}, {"work": {"constant": "1ms"}}])
    };
    json!({
        "name": "cancel-tree", "duration": "5s", "warmup": "0s",
        "services": {
            "a": {"concurrency": 100, "endpoints": {"x": {"steps": [{"call": "b.y"}]}}},
            "b": {"concurrency": 100, "endpoints": {"y": {"steps": b_steps}}},
            "c": {"concurrency": 100, "endpoints": {"z": {"latency": {"constant": "100ms"}}}},
            "d": {"concurrency": 100, "endpoints": {"w": {"latency": {"constant": "100ms"}}}}
        },
        "policies": {
            "p": {"timeout": "10ms", "cancel_on_timeout": true},
            "inner": {"timeout": "30ms", "retry": {"max_attempts": 3}}
        },
        "workload": [{"name": "w", "target": "a.x", "policy": "p", "arrival": {"constant": {"rate": 10}}}]
    })
}

#[test]
fn cancel_on_timeout_reaches_every_hop_below_whatever_their_policies() {
    for parallel in [false, true] {
        let s = spec(&cancelled_tree(parallel));
        let out = run(&s);
        let w = &out.workloads[0];
        let ended = w.offered - w.in_flight;
        assert_eq!(failed(&w.outcomes, Cause::Timeout), ended);
        // Every execution below is dropped at 10 ms: none succeeds, none answers late,
        // and the inner call's retries never start (one attempt per call).
        let mut leaves = vec!["c.z"];
        if parallel {
            leaves.push("d.w");
        }
        for name in ["b.y"].iter().chain(&leaves) {
            let ep = endpoint(&s, &out, name);
            assert_eq!(ep.outcomes.ok, 0, "{name} {parallel}: {:?}", ep.outcomes);
            assert_eq!(failed(&ep.outcomes, Cause::Timeout), ep.outcomes.ended(), "{name}");
            assert_eq!(ep.outcomes.ended(), ended, "{name} {parallel}");
            assert_eq!(ep.abandoned, 0, "{name}");
            assert!(ep.failed_latency.max_ms().unwrap() <= 10.0 * 1.001, "{name}");
        }
        let bc = edge(&s, &out, "b->c.z");
        assert_eq!(bc.calls, ended, "{parallel}");
        assert_eq!(bc.attempts, bc.calls, "no retry after the cancellation ({parallel})");
        assert_eq!(failed(&bc.outcomes, Cause::Timeout), bc.calls);
        assert!(out.violations.is_empty(), "{:?}", out.violations);
    }
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
