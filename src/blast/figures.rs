//! The figures of one run the matrix reads, taken from its summary (the bytes `faultline
//! run` writes as `summary.json`, as the sweep stores them), in the scenario's order:
//! per workload, per saga, per consumer group.

use crate::spec::Spec;
use serde_json::Value;

/// A workload's figures in one run. NaN: not measured (no request finished; no success
/// for the p99).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WorkloadRun {
    /// ok ÷ (ok + failed), in percent.
    pub success: f64,
    /// degraded ÷ (ok + failed), in percent.
    pub degraded: f64,
    /// p99 of the successful responses, ms.
    pub p99_ms: f64,
}

/// A saga's figures in one run, shares of the sagas started, in percent (orphans per
/// 1000 started).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SagaRun {
    pub completed: f64,
    pub compensated: f64,
    pub compensation_failed: f64,
    pub abandoned: f64,
    pub orphaned_per_1000: f64,
}

/// A consumer group's figures in one run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GroupRun {
    pub delivered: f64,
    /// Dead-lettered plus dropped: messages the group gave up on.
    pub lost: f64,
    pub max_lag: f64,
    /// p99 from publish to handled, ms.
    pub p99_ms: f64,
}

/// Everything the matrix reads of one run.
#[derive(Clone, Debug, PartialEq)]
pub struct RunFigures {
    pub workloads: Vec<WorkloadRun>,
    pub sagas: Vec<SagaRun>,
    pub groups: Vec<GroupRun>,
}

/// The consumer groups of `spec`, `(topic, group)` names in order.
pub fn group_names(spec: &Spec) -> Vec<(String, String)> {
    spec.topics.iter().flat_map(|t| t.groups.iter().map(|g| (t.name.clone(), g.name.clone()))).collect()
}

fn num(v: &Value, path: &[&str]) -> f64 {
    let mut cur = v;
    for k in path {
        match cur.get(k) {
            Some(x) => cur = x,
            None => return f64::NAN,
        }
    }
    cur.as_f64().unwrap_or(f64::NAN)
}

fn share(n: f64, d: f64, scale: f64) -> f64 {
    if d > 0.0 { n / d * scale } else { f64::NAN }
}

/// The figures of a summary JSON of a run of `spec` (any run of the blast: the rows
/// change faults only, never names).
pub fn read(spec: &Spec, summary: &str) -> Result<RunFigures, String> {
    let v: Value =
        serde_json::from_str(summary).map_err(|e| format!("a run's summary does not parse: {e}"))?;
    let workloads = spec
        .workloads
        .iter()
        .map(|w| {
            let o = &v["workloads"][&w.name];
            let ok = num(o, &["ok"]);
            let failed: f64 =
                o["failed"].as_object().map(|m| m.values().filter_map(Value::as_f64).sum()).unwrap_or(0.0);
            let done = ok + failed;
            WorkloadRun {
                success: share(ok, done, 100.0),
                degraded: share(num(o, &["degraded"]), done, 100.0),
                p99_ms: num(o, &["latency_ms", "p99"]),
            }
        })
        .collect();
    let sagas = spec
        .sagas
        .iter()
        .map(|s| {
            let o = &v["sagas"][&s.name];
            let started = num(o, &["started"]);
            let of = |k: &str| share(num(o, &[k]), started, 100.0);
            SagaRun {
                completed: of("completed"),
                compensated: of("compensated"),
                compensation_failed: of("compensation_failed"),
                abandoned: of("abandoned"),
                orphaned_per_1000: share(num(o, &["orphaned"]), started, 1000.0),
            }
        })
        .collect();
    let groups = group_names(spec)
        .iter()
        .map(|(t, g)| {
            let o = &v["topics"][t]["groups"][g];
            GroupRun {
                delivered: num(o, &["delivered"]),
                lost: num(o, &["dead_lettered"]) + num(o, &["dropped"]),
                max_lag: num(o, &["max_lag"]),
                p99_ms: num(o, &["latency_ms", "p99"]),
            }
        })
        .collect();
    Ok(RunFigures { workloads, sagas, groups })
}
