//! Issue 9's cases, each through the binary: a scenario that once crashed, hung, wrapped,
//! grew without bound or printed a wrong number now runs to a correct result or stops
//! with a named error, in bounded time and memory.

use crate::common::*;
use serde_json::{Value, json};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

/// Runs the binary with `args`, killing it after `limit` (a hang fails the test).
fn run_bounded(args: &[&str], limit: Duration) -> Output {
    let mut child = bin().args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let o = child.wait_with_output().unwrap();
            panic!("faultline {args:?} did not end within {limit:?} (a hang):\n{}", stderr(&o));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Writes `v` as a scenario and runs `faultline run FILE --json` plus `extra`.
fn run_json(name: &str, v: &Value, extra: &[&str]) -> Output {
    let path = temp_scenario(name, &serde_json::to_string_pretty(v).unwrap());
    let p = path.to_str().unwrap().to_string();
    let mut args = vec!["run", p.as_str(), "--json"];
    args.extend_from_slice(extra);
    run_bounded(&args, Duration::from_secs(120))
}

/// The run ended well: exit 0, no internal error, a summary on standard output.
fn ok_summary(o: &Output) -> Value {
    let err = stderr(o);
    assert!(o.status.code() == Some(0), "exit {:?}:\n{err}", o.status.code());
    assert!(!err.contains("internal error"), "{err}");
    serde_json::from_slice(&o.stdout).unwrap()
}

/// The run stopped on a limit: exit 1, the message names the limit's JSON path.
fn stopped_on(o: &Output, limit: &str) -> String {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(1), "expected exit 1 naming {limit}:\n{err}");
    assert!(err.contains(limit), "message does not name {limit}:\n{err}");
    assert!(!err.contains("panicked") && !err.contains("internal error"), "{err}");
    err
}

/// Peak resident memory in KiB, as the binary reports it on standard error.
fn peak_kib(o: &Output) -> u64 {
    let err = stderr(o);
    let after = err.split("peak memory ").nth(1).unwrap_or_else(|| panic!("no peak memory in:\n{err}"));
    let word = after.split_whitespace().next().unwrap();
    let unit = after.split_whitespace().nth(1).unwrap_or("");
    let x: f64 = word.parse().unwrap_or_else(|_| panic!("cannot read peak memory from {after}"));
    match unit {
        u if u.starts_with("GiB") => (x * 1024.0 * 1024.0) as u64,
        u if u.starts_with("MiB") => (x * 1024.0) as u64,
        u if u.starts_with("KiB") => x as u64,
        _ => x as u64,
    }
}

/// A topic whose only consumer's handler fails at once, fed a backlog of `n` messages
/// in one go: the outbox holds them through a broker outage, then the relay appends them
/// all at the same instant.
fn failing_backlog(n_per_s: f64) -> Value {
    json!({
        "name": "backlog",
        "duration": "12s",
        "services": {
            "orders": {"concurrency": 64, "endpoints": {"create": {
                "latency": {"constant": "1ms"},
                "steps": [{"publish": "events", "outbox": true}]}}},
            "sink": {"concurrency": 1, "endpoints": {"handle": {"latency": {"constant": "1ms"}}}}
        },
        "topics": {"events": {"subscribers": [
            {"group": "g", "endpoint": "sink.handle", "max_attempts": 1, "on_exhausted": "dead_letter"}
        ]}},
        "workload": [{"name": "w", "target": "orders.create", "arrival": {"constant": {"rate": n_per_s}}}],
        "faults": [
            {"outage": {"target": "topic:events", "start": "0s", "duration": "10s"}},
            {"abort": {"target": "sink.handle", "start": "0s", "duration": "12s"}}
        ]
    })
}

/// Case 1: draining a backlog whose handler fails at once recursed once per message
/// (kick → arrive → answer → consumer_done → advance → kick) and overflowed the stack.
#[test]
fn a_failing_handler_drains_a_long_backlog_without_recursing() {
    let o = run_json("backlog", &failing_backlog(20_000.0), &[]);
    let s = ok_summary(&o);
    let g = &s["topics"]["events"]["groups"]["g"];
    let published = s["topics"]["events"]["published"].as_u64().unwrap();
    assert!(published >= 199_000, "{published} published");
    // Every message is dead-lettered after its one attempt, none is lost.
    assert_eq!(g["dead_lettered"].as_u64().unwrap() + g["in_flight"].as_u64().unwrap(), published);
    assert!(g["dead_lettered"].as_u64().unwrap() >= 199_000);
}

/// Case 1 again under `compare`, whose rayon threads have 2 MiB stacks.
#[test]
fn the_backlog_drains_on_compare_threads_too() {
    let mut v = failing_backlog(10_000.0);
    v["variants"] = json!({"a": {}, "b": {"/services/sink/concurrency": 2}});
    let path = temp_scenario("backlog-compare", &serde_json::to_string(&v).unwrap());
    let o = run_bounded(
        &["compare", path.to_str().unwrap(), "--seeds", "2", "--jobs", "2"],
        Duration::from_secs(120),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

/// Case 2: a handler on a service that direct traffic also reaches, with a queue
/// timeout (and LIFO, crashes, a short session timeout): consumer handling and the
/// worker pool disagreed about who held a worker ("more busy workers than its
/// concurrency").
#[test]
fn a_shared_handler_service_never_over_admits_its_workers() {
    for (discipline, crash) in [("fifo", false), ("lifo", false), ("fifo", true), ("lifo", true)] {
        let mut faults = vec![
            json!({"abort": {"target": "shared.handle", "start": "2s", "duration": "2s", "percent": 50}}),
        ];
        if crash {
            faults.push(json!({"crash": {"target": "shared#0", "start": "3s", "restart_after": "1s"}}));
        }
        let v = json!({
            "name": "shared",
            "duration": "8s",
            "services": {
                "front": {"concurrency": 64, "endpoints": {"order": {
                    "latency": {"constant": "100us"}, "steps": [{"publish": "t"}]}}},
                "shared": {"replicas": 2, "concurrency": 2,
                    "queue": {"capacity": 50, "timeout": "5ms", "discipline": discipline},
                    "endpoints": {
                        "handle": {"latency": {"exponential": {"mean": "2ms"}}},
                        "direct": {"latency": {"exponential": {"mean": "2ms"}}}}}
            },
            "topics": {"t": {"partitions": 4, "subscribers": [
                {"group": "g", "endpoint": "shared.handle", "consumers": 4, "max_attempts": 3,
                 "session_timeout": "200ms"}]}},
            "workload": [
                {"name": "orders", "target": "front.order", "arrival": {"poisson": {"rate": 1500}}},
                {"name": "direct", "target": "shared.direct", "arrival": {"poisson": {"rate": 1200}}}
            ],
            "faults": faults
        });
        for seed in ["1", "2", "3"] {
            let o = run_json("shared", &v, &["--seed", seed]);
            let s = ok_summary(&o);
            assert!(
                s["endpoints"]["shared.direct"]["failed"]["rejected"].as_u64().unwrap() > 0,
                "{discipline}"
            );
        }
    }
}

/// Case 3: `retry.max_attempts` above 65,535 wrapped a 16-bit counter and retried
/// forever. Now the resolver bounds it (exit 2, named) and the model counts in 32 bits.
#[test]
fn huge_max_attempts_is_refused_or_counted_exactly() {
    let v = json!({
        "name": "attempts",
        "duration": "2s",
        "services": {"s": {"endpoints": {"e": {"errors": {"percent": 100}}}}},
        "policies": {"p": {"retry": {"max_attempts": 70000}}},
        "workload": [{"name": "w", "target": "s.e", "policy": "p", "arrival": {"constant": {"rate": 1}}}]
    });
    let o = run_json("attempts", &v, &[]);
    let err = stderr(&o);
    match o.status.code() {
        Some(2) => assert!(err.contains("/policies/p/retry/max_attempts"), "{err}"),
        Some(0) => {
            let s = ok_summary(&o);
            let calls = s["calls"].as_object().unwrap().values().next().unwrap();
            assert_eq!(calls["attempts"].as_u64().unwrap(), calls["calls"].as_u64().unwrap() * 70000);
        }
        c => panic!("exit {c:?}: {err}"),
    }
}

/// Case 4: interval boundaries overflowed for runs of about 300 years; a run of
/// years keeps increasing `time_s`, and one beyond the clock's bound is refused.
#[test]
fn very_long_runs_keep_their_intervals_in_order() {
    let v = json!({
        "name": "years",
        "duration": "78000h",
        "interval": "1000h",
        "services": {"s": {"endpoints": {"e": {"latency": {"constant": "1ms"}}}}},
        "workload": [{"name": "w", "target": "s.e", "arrival": {"poisson": {"rate": 0.001}}}]
    });
    let dir = std::env::temp_dir().join(format!("faultline-years-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let path = temp_scenario("years", &v.to_string());
    let o = run_bounded(
        &["run", path.to_str().unwrap(), "--out", dir.to_str().unwrap()],
        Duration::from_secs(60),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let csv = std::fs::read_to_string(dir.join("timeseries.csv")).unwrap();
    let mut last = -1.0;
    let mut n = 0;
    for l in csv.lines().skip(1).filter(|l| l.contains(",workload,w,offered,")) {
        let t: f64 = l.split(',').next().unwrap().parse().unwrap();
        assert!(t > last, "time_s went from {last} to {t}");
        last = t;
        n += 1;
    }
    assert_eq!(n, 78);
    // 300 years is beyond what the resolver accepts: a located error.
    let mut v300 = v.clone();
    v300["duration"] = json!("2628000h");
    let o = run_json("centuries", &v300, &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("/duration"), "{}", stderr(&o));
}

/// Case 5: rates above about 1e8/s were silently wrong (gaps rounded to whole ns and
/// floored at 1 ns): 3e9/s delivered 1e9/s, a constant 1.5e8/s came out 4.8% low.
#[test]
fn rates_up_to_the_clock_resolution_are_delivered_exactly() {
    for (rate, dur, want) in [(1.5e8, "1ms", 150_000u64), (1e9, "100us", 100_000)] {
        let v = json!({
            "name": "fast",
            "duration": dur,
            "interval": dur,
            "services": {"s": {"concurrency": 1000000, "endpoints": {"e": {}}}},
            "workload": [{"name": "w", "target": "s.e", "arrival": {"constant": {"rate": rate}}}]
        });
        let s = ok_summary(&run_json("fast", &v, &[]));
        let offered = s["workloads"]["w"]["offered"].as_u64().unwrap();
        assert!(offered.abs_diff(want) <= 1, "rate {rate}: {offered} offered, want {want}");
    }
    // Beyond one per nanosecond: a named error, not a silent 1e9/s.
    let v = json!({
        "name": "too-fast", "duration": "1ms",
        "services": {"s": {"endpoints": {"e": {}}}},
        "workload": [{"name": "w", "target": "s.e", "arrival": {"constant": {"rate": 3e9}}}]
    });
    let o = run_json("too-fast", &v, &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("/workload/0/arrival"), "{}", stderr(&o));
}

/// Case 6: a closed workload with zero think time on a zero-latency endpoint spun at
/// t = 0 until the two-billion-event limit, six minutes later.
#[test]
fn a_zero_time_loop_is_stopped_and_named() {
    let v = json!({
        "name": "spin",
        "duration": "10s",
        "services": {"s": {"endpoints": {"e": {}}}},
        "workload": [{"name": "spinner", "target": "s.e",
                      "arrival": {"closed": {"users": 1, "think": {"constant": "0s"}}}}]
    });
    let start = Instant::now();
    let o = run_json("spin", &v, &[]);
    let err = stopped_on(&o, "/limits/max_events_per_instant");
    assert!(err.contains("`spinner`"), "the message should name the workload:\n{err}");
    assert!(start.elapsed() < Duration::from_secs(60));
    // With a smaller limit it stops sooner, with the same message.
    let o = run_json("spin", &v, &["--set", "/limits/max_events_per_instant=1000"]);
    stopped_on(&o, "/limits/max_events_per_instant");
}

/// Case 7: work for callers that timed out piled up in the default unbounded queue;
/// now the executions alive at once are bounded with a named error.
#[test]
fn abandoned_work_piling_up_stops_on_the_execution_limit() {
    let v = json!({
        "name": "pileup",
        "duration": "600s",
        "services": {"s": {"concurrency": 4, "endpoints": {"e": {"latency": {"constant": "10ms"}}}}},
        "policies": {"p": {"timeout": "100ms"}},
        "workload": [{"name": "w", "target": "s.e", "policy": "p", "arrival": {"poisson": {"rate": 2000}}}]
    });
    let o = run_json("pileup", &v, &["--set", "/limits/max_executions=50000"]);
    let err = stopped_on(&o, "/limits/max_executions");
    assert!(err.contains("50000 executions"), "{err}");
}

/// Case 7, messaging: a fast topic into one slow consumer grew its partition without
/// a limit; now the backlog is bounded with a named error.
#[test]
fn a_backlog_beyond_its_limit_stops_with_a_named_error() {
    let v = json!({
        "name": "flood",
        "duration": "60s",
        "services": {
            "p": {"concurrency": 1000, "endpoints": {"send": {"steps": [{"publish": "t"}]}}},
            "c": {"endpoints": {"handle": {"latency": {"constant": "10ms"}}}}
        },
        "topics": {"t": {"subscribers": [{"group": "g", "endpoint": "c.handle"}]}},
        "workload": [{"name": "w", "target": "p.send", "arrival": {"poisson": {"rate": 200000}}}]
    });
    let o = run_json("flood", &v, &["--set", "/limits/max_backlog=100000"]);
    stopped_on(&o, "/limits/max_backlog");
    // The outbox counts too.
    let mut ob = v.clone();
    ob["services"]["p"]["endpoints"]["send"]["steps"] = json!([{"publish": "t", "outbox": true}]);
    ob["faults"] = json!([{"outage": {"target": "topic:t", "start": "0s", "duration": "60s"}}]);
    let o = run_json("flood-outbox", &ob, &["--set", "/limits/max_backlog=100000"]);
    stopped_on(&o, "/limits/max_backlog");
}

/// Case 8: persistent compensation with `compensate_unknown` against hour-long actions
/// pruned a saga's attempt list on every call (quadratic in the attempts alive).
#[test]
fn persistent_compensation_against_hour_long_actions_runs_in_linear_time() {
    let v = json!({
        "name": "slow-saga",
        "duration": "7200s",
        "services": {
            "orch": {"endpoints": {"noop": {}}},
            "slow": {"concurrency": 100000, "endpoints": {
                "act": {"latency": {"constant": "3600s"}},
                "undo": {"latency": {"constant": "3600s"}}}}
        },
        "policies": {"p": {"timeout": "1s"}},
        "sagas": {"s": {"orchestrator": "orch", "policy": "p", "compensation_policy": "persistent",
                        "compensate_unknown": true,
                        "steps": [{"name": "a", "action": "slow.act", "compensation": "slow.undo"}]}},
        "workload": [{"name": "w", "target": "saga:s", "arrival": {"constant": {"rate": 0.01}}}]
    });
    let start = Instant::now();
    let s = ok_summary(&run_json("slow-saga", &v, &[]));
    assert!(start.elapsed() < Duration::from_secs(60));
    let sg = &s["sagas"]["s"];
    assert!(sg["started"].as_u64().unwrap() >= 71);
    assert_eq!(sg["completed"].as_u64().unwrap(), 0);
}

/// Case 9: latencies over one hour were clamped to one hour without a word.
#[test]
fn latencies_over_an_hour_are_recorded_as_they_are() {
    let v = json!({
        "name": "hours",
        "duration": "5h",
        "services": {"s": {"concurrency": 100, "endpoints": {"e": {"latency": {"constant": "2h"}}}}},
        "workload": [{"name": "w", "target": "s.e", "arrival": {"constant": {"rate": 0.01}}}]
    });
    let s = ok_summary(&run_json("hours", &v, &[]));
    let l = &s["workloads"]["w"]["latency_ms"];
    for k in ["p50", "p99", "max"] {
        let x = l[k].as_f64().unwrap();
        // Three significant digits: within 0.1% of 7,200,000 ms.
        assert!((x / 7_200_000.0 - 1.0).abs() < 1e-3, "{k} = {x} ms");
    }
}

/// Case 10: an attempt's timeout stayed queued until its due time after the request
/// ended, so one closed user with zero think time and a long timeout grew the queue
/// by one event per request (4 GiB and an abort). Memory now follows live work.
#[test]
fn timers_of_finished_work_do_not_accumulate() {
    let v = json!({
        "name": "timers",
        "duration": "20s",
        "services": {"s": {"endpoints": {"e": {"latency": {"constant": "1us"}}}}},
        "policies": {"p": {"timeout": "60s", "deadline": "60s"}},
        "workload": [{"name": "w", "target": "s.e", "policy": "p",
                      "arrival": {"closed": {"users": 1, "think": {"constant": "0s"}}}}]
    });
    let o = run_json("timers", &v, &[]);
    let s = ok_summary(&o);
    // 20 million requests, each with a 60 s timeout and deadline that outlive it.
    assert!(s["workloads"]["w"]["ok"].as_u64().unwrap() > 19_000_000);
    let kib = peak_kib(&o);
    assert!(kib < 100 * 1024, "peak memory {kib} KiB");
}

/// Case 10: figures that would not fit are refused before anything is allocated, and
/// nothing is written.
#[test]
fn oversized_series_and_topologies_are_refused_before_the_run() {
    let dir = std::env::temp_dir().join(format!("faultline-tiny-interval-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let o = run_bounded(
        &["run", "scenarios/checkout.json", "--set", "/interval=200us", "--out", dir.to_str().unwrap()],
        Duration::from_secs(60),
    );
    let err = stopped_on(&o, "/limits/max_series_points");
    assert!(err.contains("lengthen /interval"), "{err}");
    assert!(!dir.join("summary.json").exists(), "a refused run wrote its summary");

    let mut workloads = Vec::new();
    for i in 0..2000 {
        workloads
            .push(json!({"name": format!("w{i}"), "target": "s.e", "arrival": {"poisson": {"rate": 1}}}));
    }
    let v = json!({
        "name": "many", "duration": "1s",
        "services": {"s": {"endpoints": {"e": {}}}},
        "workload": workloads
    });
    let o = run_json("many", &v, &["--set", "/limits/max_memory_mib=64"]);
    let err = stopped_on(&o, "/limits/max_memory_mib");
    assert!(err.contains("2000 workloads"), "{err}");
}
