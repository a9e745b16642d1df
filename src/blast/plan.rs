//! What a blast runs: the healthy scenario and, per service and per topic broker, the
//! same scenario with that one down from the end of warm-up. Each row is written as
//! `--set` overrides of the raw scenario (the injected faults), so that every run of
//! the matrix is a `faultline run … --set … --seed S` a reader can replay.

use crate::scenario::pointer::escape as ptr_escape;
use crate::spec::{Probe, Spec};

/// What one row of the matrix takes down.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Down {
    /// Every replica of this service, crashed at the end of warm-up, never restarted.
    Service(u32),
    /// This topic's broker, in an outage from the end of warm-up to the end of the run.
    Topic(u32),
    /// This work queue's broker, in an outage over the same window.
    Queue(u32),
}

/// One row of the matrix: its label, what is down and the overrides that do it.
#[derive(Clone, Debug)]
pub struct Row {
    /// The service's name, or `topic:NAME` / `queue:NAME` for a broker.
    pub label: String,
    pub down: Down,
    /// The `--set` overrides of this row, after the user's own: in place of the healthy
    /// run's ([`base_sets`]) by default, after them with `--keep-faults`.
    pub sets: Vec<String>,
}

/// A duration as the scenario format writes it, exact to the nanosecond.
fn ns_text(ns: u64) -> String {
    format!("{ns}ns")
}

/// The overrides every run of the blast shares: without `keep_faults`, the scenario's
/// own faults are removed (the healthy run has none) and with them its thresholds (a
/// threshold may name a fault's phase; the blast reports no verdicts).
pub fn base_sets(keep_faults: bool) -> Vec<String> {
    if keep_faults { Vec::new() } else { vec!["/faults=[]".into(), "/thresholds={}".into()] }
}

/// One fault as the JSON the scenario format reads.
fn fault_json(kind: &str, target: &str, start: &str) -> serde_json::Value {
    let mut inner = serde_json::Map::new();
    inner.insert("target".into(), target.into());
    inner.insert("start".into(), start.into());
    let mut outer = serde_json::Map::new();
    outer.insert(kind.into(), serde_json::Value::Object(inner));
    serde_json::Value::Object(outer)
}

/// The rows of `spec` (the healthy scenario, resolved): every service in file order,
/// then every topic's broker, then every work queue's.
///
/// A service row crashes each of its replicas at the end of warm-up with no restart.
/// A liveness probe would restart a crashed replica (Kubernetes kills and restarts a
/// container that fails it), so a service that has one also loses its `health_check`
/// in its row: the row is the service down for the whole window (a crash loop, a lost
/// node pool), not a crash and a restart. A topic row is an `outage` of its broker
/// over the same window.
pub fn rows(spec: &Spec, keep_faults: bool) -> Vec<Row> {
    let start = ns_text(spec.warmup_ns);
    let append = |faults: Vec<serde_json::Value>| -> Vec<String> {
        if keep_faults {
            faults.into_iter().map(|f| format!("/faults/-={f}")).collect()
        } else {
            vec![format!("/faults={}", serde_json::Value::Array(faults)), "/thresholds={}".into()]
        }
    };
    let mut out = Vec::new();
    for (i, s) in spec.services.iter().enumerate() {
        let faults =
            (0..s.replicas).map(|r| fault_json("crash", &format!("{}#{r}", s.name), &start)).collect();
        let mut sets = append(faults);
        if s.health_check.as_ref().is_some_and(|h| h.probe == Probe::Liveness) {
            sets.push(format!("/services/{}/health_check=null", ptr_escape(&s.name)));
        }
        out.push(Row { label: s.name.clone(), down: Down::Service(i as u32), sets });
    }
    for (i, t) in spec.topics.iter().enumerate() {
        let target = format!("topic:{}", t.name);
        let sets = append(vec![fault_json("outage", &target, &start)]);
        out.push(Row { label: target, down: Down::Topic(i as u32), sets });
    }
    for (i, q) in spec.queues.iter().enumerate() {
        let target = format!("queue:{}", q.name);
        let sets = append(vec![fault_json("outage", &target, &start)]);
        out.push(Row { label: target, down: Down::Queue(i as u32), sets });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_service_row_crashes_every_replica_at_the_end_of_warm_up() {
        let text = r#"{"name": "t", "duration": "10s", "warmup": "2s",
            "services": {"a": {"replicas": 2, "endpoints": {"e": {"latency": {"constant": "1ms"}}}}},
            "workload": [{"name": "w", "target": "a.e", "arrival": {"poisson": {"rate": 10}}}]}"#;
        let spec = crate::scenario::load_str(text, "t", &Default::default()).unwrap();
        let r = rows(&spec, false);
        assert_eq!(r.len(), 1);
        assert_eq!(
            r[0].sets,
            vec![
                r#"/faults=[{"crash":{"target":"a#0","start":"2000000000ns"}},{"crash":{"target":"a#1","start":"2000000000ns"}}]"#,
                "/thresholds={}"
            ]
        );
        let kept = rows(&spec, true);
        assert_eq!(kept[0].sets.len(), 2);
        assert!(kept[0].sets[0].starts_with("/faults/-={\"crash\""));
    }
}
