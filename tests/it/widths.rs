//! Counters at their width and long backlogs, each driven: the widths the input can
//! reach are refused at load with a located error (exit 2); what a run reaches (a long
//! queue, heavy cancellation, a decade-long latency) runs to correct figures in bounded
//! time. The arena's generations are driven to their wrap in `src/arena.rs`'s tests;
//! the topics' epochs, the queues' receipts and receive counts and the autoscaler's tags
//! in the `widths_tests.rs` of their rooms (a test-only start near `u32::MAX`); long
//! backlogs of messages in `backlogs.rs`.

use crate::common::*;
use faultline::metrics::Scope;
use faultline::spec::{Cause, Priority};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

fn cause(f: &faultline::model::WorkloadFigures, c: Cause) -> u64 {
    f.outcomes.failed[c as usize]
}

/// A replica queue of a million requests under `queue_delay` shedding: each take used
/// to scan the whole queue for a higher priority (quadratic: 7 minutes for 20 s of
/// this), now it stops at the first of the highest class waiting.
#[test]
fn queue_delay_takes_from_a_million_long_queue_without_scanning_it() {
    let v = json!({
        "name": "long-backlog", "duration": "8s",
        "limits": {"max_in_flight": 3000000, "max_executions": 3000000},
        "services": {"s": {"concurrency": 100, "shed": {"queue_delay": "5s"},
                           "endpoints": {"e": {"latency": {"constant": "10ms"}}}}},
        "workload": [{"name": "w", "target": "s.e", "arrival": {"poisson": {"rate": 200000}}}]
    });
    let spec = spec(&v);
    let start = Instant::now();
    let out = run(&spec);
    let took = start.elapsed();
    assert!(took < Duration::from_secs(30), "8 s of a 1e6-long queue took {took:?}");
    let w = &out.workloads[0];
    // 100 workers busy throughout on 10 ms each: 80,000 served, less the ≤ 100 in hand
    // at the end.
    assert!((79_900..=80_000).contains(&w.outcomes.ok), "ok {}", w.outcomes.ok);
    // Nobody taken waited more than the target: latency ≤ 5 s + 10 ms (3 digits).
    let max = w.latency.max_ms().unwrap();
    assert!(max <= 5_010.0 * 1.001, "max {max} ms");
    // The backlog was really there: everything that arrived after the first 3 s and
    // was not served is still waiting (about 5 s of arrivals).
    assert!(w.in_flight > 900_000, "in flight {}", w.in_flight);
}

/// The per-priority counts the scan stops on follow every way out of a queue:
/// taken, dropped late, cancelled by its caller (`cancel_on_timeout`), lost in a
/// crash; FIFO and LIFO. Wrong counts would stop the scan at a default request while a
/// critical one waits, and the critical requests would time out.
#[test]
fn priority_counts_follow_cancellation_drops_and_crashes() {
    for discipline in ["fifo", "lifo"] {
        let v = json!({
            "name": "counts", "duration": "20s", "seed": 7,
            "services": {"s": {"replicas": 2, "concurrency": 10, "queue": {"discipline": discipline},
                               "shed": {"queue_delay": "200ms"},
                               "endpoints": {"e": {"latency": {"exponential": {"mean": "10ms"}}}}}},
            "policies": {"p": {"timeout": "100ms", "cancel_on_timeout": true, "retry": {"max_attempts": 1}}},
            "faults": [{"crash": {"target": "s#0", "start": "5s", "restart_after": "1s"}},
                       {"crash": {"target": "s#1", "start": "12s", "restart_after": "500ms"}}],
            "workload": [
                {"name": "crit", "target": "s.e", "policy": "p", "priority": "critical",
                 "arrival": {"poisson": {"rate": 300}}},
                {"name": "dflt", "target": "s.e", "policy": "p", "arrival": {"poisson": {"rate": 2500}}},
                {"name": "shed", "target": "s.e", "priority": "sheddable",
                 "arrival": {"poisson": {"rate": 1500}}}
            ]
        });
        let spec = spec(&v);
        assert_eq!(spec.workloads[0].priority, Some(Priority::Critical));
        let out = run(&spec); // invariants: per replica, the counts add up to the live queue
        let (crit, dflt, shed) = (&out.workloads[0], &out.workloads[1], &out.workloads[2]);
        // Every path was driven: cancellations (timeouts of queued default work),
        // drops (sheddable work), crashes (unavailable).
        assert!(cause(dflt, Cause::Timeout) > 1000, "{discipline}: {:?}", dflt.outcomes);
        assert!(shed.shed > 1000, "{discipline}: shed {}", shed.shed);
        assert!(cause(crit, Cause::Unavailable) + cause(dflt, Cause::Unavailable) > 0);
        // Critical work (15% of the capacity) always goes first: it never waits for
        // the 100 ms timeout (its service time alone exceeds it once in e^10), and is
        // never shed: it ends ok, or unavailable in a crash, or is in flight at the end.
        let (late, lost) = (cause(crit, Cause::Timeout), cause(crit, Cause::Unavailable));
        assert!(late <= 3, "{discipline}: {late} of {} critical timed out", crit.offered);
        assert_eq!(crit.shed, 0, "{discipline}");
        assert_eq!(crit.offered, crit.outcomes.ok + late + lost + crit.in_flight, "{discipline}");
    }
}

/// Callers that give up on a deep queue (`cancel_on_timeout`): 2.9 million
/// cancellations leave stale ids that are compacted (memory follows the live queue)
/// and skipped in O(1); FIFO serves almost only requests about to time out (goodput
/// collapses), LIFO serves fresh ones (full goodput).
#[test]
fn heavy_cancellation_of_queued_work_runs_in_linear_time() {
    for (discipline, min_ok) in [("fifo", 0), ("lifo", 1_990)] {
        let v = json!({
            "name": "cancel", "duration": "20s",
            "services": {"s": {"concurrency": 1, "queue": {"discipline": discipline},
                               "endpoints": {"e": {"latency": {"constant": "10ms"}}}}},
            "policies": {"p": {"timeout": "2s", "cancel_on_timeout": true, "retry": {"max_attempts": 1}}},
            "workload": [{"name": "w", "target": "s.e", "policy": "p", "arrival": {"poisson": {"rate": 50000}}}]
        });
        let spec = spec(&v);
        let start = Instant::now();
        let out = run(&spec);
        let took = start.elapsed();
        assert!(took < Duration::from_secs(30), "{discipline}: {took:?}");
        let w = &out.workloads[0];
        assert!(w.outcomes.ok >= min_ok && w.outcomes.ok <= 2_000, "{discipline}: ok {}", w.outcomes.ok);
        // All but the last 2 s of arrivals timed out (nearly a million).
        assert!(cause(w, Cause::Timeout) > 850_000, "{discipline}: {:?}", w.outcomes);
    }
}

/// A restart storm (liveness probes that check a dead dependency, every 20 ms on 100
/// replicas) beside a million requests queued on another service: each restart
/// scanned every execution alive (85 s for this run), an idle replica now skips it.
#[test]
fn a_restart_storm_beside_a_long_queue_runs_in_linear_time() {
    let v = json!({
        "name": "storm", "duration": "10s",
        "limits": {"max_in_flight": 3000000, "max_executions": 3000000},
        "services": {
            "big": {"concurrency": 1, "endpoints": {"e": {"latency": {"constant": "1s"}}}},
            "dead": {"endpoints": {"e": {}}},
            "flap": {"replicas": 100, "endpoints": {"e": {}},
                     "health_check": {"interval": "10ms", "timeout": "5ms", "unhealthy_after": 1,
                                      "probe": "liveness", "restart_after": "10ms", "depends_on": ["dead"]}}
        },
        "faults": [{"crash": {"target": "dead#0", "start": "0s"}}],
        "workload": [{"name": "w", "target": "big.e", "arrival": {"poisson": {"rate": 100000}}}]
    });
    let spec = spec(&v);
    let start = Instant::now();
    let out = run(&spec);
    let took = start.elapsed();
    assert!(took < Duration::from_secs(30), "{took:?}");
    let w = &out.workloads[0];
    assert_eq!(w.outcomes.ok, 9, "{:?}", w.outcomes);
    assert!(w.in_flight > 990_000, "{}", w.in_flight);
    // The storm happened: at each interval's end many of the 100 were down.
    let up = out.series.column(Scope::Service, "flap", "replicas_up").unwrap();
    assert!(up.values.iter().all(|&n| n < 90.0), "replicas up: {:?}", up.values);
}

/// The same storm beside 200,000 sagas waiting on a slow action: each restart and
/// each crash scanned every saga run for those its replica orchestrates (150 s for this
/// run); a replica of a service that orchestrates no saga now skips it.
#[test]
fn a_restart_storm_beside_many_running_sagas_runs_in_linear_time() {
    let v = json!({
        "name": "saga-storm", "duration": "10s",
        "limits": {"max_in_flight": 3000000, "max_executions": 3000000},
        "services": {
            "orch": {"endpoints": {"noop": {}}},
            "big": {"concurrency": 1000000, "endpoints": {"e": {"latency": {"constant": "20s"}}}},
            "dead": {"endpoints": {"e": {}}},
            "flap": {"replicas": 100, "endpoints": {"e": {}},
                     "health_check": {"interval": "10ms", "timeout": "5ms", "unhealthy_after": 1,
                                      "probe": "liveness", "restart_after": "10ms", "depends_on": ["dead"]}}
        },
        "faults": [{"crash": {"target": "dead#0", "start": "0s"}}],
        "sagas": {"s": {"orchestrator": "orch", "steps": [{"name": "a", "action": "big.e"}]}},
        "workload": [{"name": "w", "target": "saga:s", "arrival": {"poisson": {"rate": 20000}}}]
    });
    let spec = spec(&v);
    let start = Instant::now();
    let out = run(&spec);
    let took = start.elapsed();
    assert!(took < Duration::from_secs(30), "{took:?}");
    let sg = &out.sagas[0];
    assert_eq!(sg.completed, 0);
    assert!(out.workloads[0].in_flight > 190_000, "{}", out.workloads[0].in_flight);
    let up = out.series.column(Scope::Service, "flap", "replicas_up").unwrap();
    assert!(up.values.iter().all(|&n| n < 90.0), "replicas up: {:?}", up.values);
}

/// A latency of nine years (the clock's range is 584 years; a duration is at most
/// ten): recorded as it is (the histogram grows past its first hour), never clamped;
/// work whose steps would end past the run is in flight at the end, no overflow.
#[test]
fn a_nine_year_latency_is_recorded_as_it_is() {
    let v = json!({
        "name": "decade", "duration": "87600h", "interval": "100h",
        "services": {"s": {"concurrency": 100, "endpoints": {
            "e": {"latency": {"constant": "80000h"}},
            "f": {"steps": [{"work": {"constant": "87600h"}}, {"work": {"constant": "87600h"}},
                            {"work": {"constant": "87600h"}}]}}}},
        "workload": [{"name": "w", "target": "s.e", "arrival": {"constant": {"rate": 0.0000001}}},
                     {"name": "v", "target": "s.f", "arrival": {"constant": {"rate": 0.0000001}}}]
    });
    let out = run(&spec(&v));
    let w = &out.workloads[0];
    assert!(w.outcomes.ok >= 2, "{:?}", w.outcomes);
    let want = 80_000.0 * 3_600_000.0;
    for x in [w.latency.max_ms().unwrap(), w.latency.quantile_ms(0.5).unwrap()] {
        assert!((x / want - 1.0).abs() < 1e-3, "{x} ms against {want} ms");
    }
    let f = &out.workloads[1];
    assert_eq!((f.outcomes.ok, f.in_flight), (0, f.offered));
}

/// Runs `faultline run` on `v` with `set`; the run must be refused with exit 2 and a
/// message that names `path` with a line and column and says `words`.
fn refused(name: &str, v: &Value, set: Option<&str>, path: &str, words: &str) {
    let file = temp_scenario(name, &serde_json::to_string_pretty(v).unwrap());
    let mut cmd = bin();
    cmd.args(["run", file.to_str().unwrap(), "--json"]);
    if let Some(s) = set {
        cmd.args(["--set", s]);
    }
    let o = cmd.output().unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{name}: expected exit 2:\n{err}");
    let located = err.lines().any(|l| {
        l.contains(&format!(": {path}: "))
            && l.split(':').nth(1).is_some_and(|n| n.parse::<u32>().is_ok())
            && l.split(':').nth(2).is_some_and(|n| n.parse::<u32>().is_ok())
    });
    assert!(located, "{name}: no FILE:LINE:COL: {path} line in:\n{err}");
    assert!(err.contains(words), "{name}: {words:?} not in:\n{err}");
    assert!(!err.contains("panicked"), "{err}");
}

/// Every width the input can reach is refused at load, located, with the bound.
#[test]
fn widths_the_input_could_reach_are_refused_at_load() {
    let base = json!({
        "name": "w", "duration": "10s",
        "services": {"s": {"endpoints": {"e": {}}}},
        "policies": {"p": {"retry": {"max_attempts": 3}}},
        "workload": [{"name": "w", "target": "s.e", "policy": "p", "arrival": {"poisson": {"rate": 10}}}]
    });
    let cases: [(&str, &str, &str); 9] = [
        ("/limits/max_executions=4294967296", "/limits/max_executions", "4294967295"),
        ("/limits/max_in_flight=4294967296", "/limits/max_in_flight", "4294967295"),
        ("/services/s/queue/capacity=4294967296", "/services/s/queue/capacity", "4294967295"),
        ("/policies/p/retry/max_attempts=65536", "/policies/p/retry/max_attempts", "32 bits"),
        ("/duration=87601h", "/duration", "at most 10 years"),
        ("/duration=200000h", "/duration", "at most 10 years"),
        (
            "/services/s/endpoints/e/latency/constant=87601h",
            "/services/s/endpoints/e/latency/constant",
            "10 years",
        ),
        ("/workload/0/arrival/poisson/rate=1e12", "/workload/0/arrival/poisson/rate", "1000000000"),
        ("/services/s/concurrency=1000001", "/services/s/concurrency", "at most 1000000"),
    ];
    for (i, (set, path, words)) in cases.iter().enumerate() {
        refused(&format!("width-{i}"), &base, Some(set), path, words);
    }
    // An execution's step index is 16 bits (u16::MAX marks its own latency): 1024
    // steps at most, 256 branches of a parallel step (its pending count).
    let mut v = base.clone();
    v["services"]["s"]["endpoints"]["e"]["steps"] =
        Value::Array(vec![json!({"work": {"constant": "1us"}}); 1025]);
    refused("steps-1025", &v, None, "/services/s/endpoints/e/steps", "at most 1024");
    let mut v = base.clone();
    v["services"]["t"] = json!({"endpoints": {"x": {}}});
    v["services"]["s"]["endpoints"]["e"]["steps"] = json!([{"parallel": vec![json!({"call": "t.x"}); 257]}]);
    refused("branches-257", &v, None, "/services/s/endpoints/e/steps/0/parallel", "at most 256");
    // At the bounds themselves, the scenario loads and runs.
    let mut v = base.clone();
    v["limits"] = json!({"max_executions": 4294967295u64, "max_in_flight": 4294967295u64,
                         "max_events": u64::MAX, "max_backlog": u64::MAX});
    v["services"]["s"]["queue"] = json!({"capacity": 4294967295u64});
    v["services"]["s"]["endpoints"]["e"]["steps"] =
        Value::Array(vec![json!({"work": {"constant": "1us"}}); 1024]);
    v["duration"] = json!("87600h");
    v["interval"] = json!("87600h");
    v["workload"][0]["arrival"] = json!({"constant": {"rate": 0.0000001}});
    let out = run(&spec(&v));
    assert!(out.workloads[0].outcomes.ok > 30, "{:?}", out.workloads[0].outcomes);
}
