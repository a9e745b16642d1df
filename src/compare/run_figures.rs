//! The key figures of one run, read from its [`Summary`]: per workload, saga and
//! consumer group, `(name, unit, which way is better, value)` in the order of the
//! comparison's tables.
//!
//! A workload's retries, hedges and breaker time count only the call edges its requests
//! traverse ([`super::reach::reachable_edges`]): a workload that passes through no
//! breaker shows no breaker time, whatever the other workloads' edges did.

use super::Value1;
use super::reach::reachable_edges;
use super::stats::Better::{Higher, Lower, Neither};
use crate::report::Summary;
use crate::spec::Spec;

/// The workload figures' names, units and directions, in table order.
pub(super) const WORKLOAD_FIGURES: [(&str, &str, super::Better); 8] = [
    ("success", "%", Higher),
    ("goodput", "req/s", Higher),
    ("p50", "ms", Lower),
    ("p99", "ms", Lower),
    ("p99.9", "ms", Lower),
    ("retries/request", "", Lower),
    ("hedges/request", "", Lower),
    ("breaker open", "replica-s", Neither),
];

/// The key figures of workload `name` in one run of `spec`; `NaN` when the variant has
/// no such workload or the run no figures for it.
pub(super) fn workload_figures(spec: &Spec, s: &Summary, name: &str) -> Vec<Value1> {
    let idx = spec.workloads.iter().position(|w| w.name == name);
    let (Some(f), Some(w)) = (s.workloads.get(name), idx) else {
        return WORKLOAD_FIGURES.into_iter().map(|(n, u, b)| (n, u, b, f64::NAN)).collect();
    };
    let ended = f.ok + f.failed.total();
    let q = |p: fn(&crate::report::summary::Quantiles) -> f64| f.latency_ms.get(p).unwrap_or(f64::NAN);
    // Only the edges this workload's requests traverse, per request it offered.
    let edges = reachable_edges(spec, w);
    let on_path =
        || s.calls.0.iter().enumerate().filter(|(i, _)| edges.contains(&(*i as u32))).map(|(_, e)| &e.1);
    let retries: u64 = on_path().map(|e| e.retries).sum();
    let hedges: u64 = on_path().map(|e| e.hedges).sum();
    let breaker_open: f64 = on_path().map(|e| e.breaker.open_s).sum();
    let per_request = |n: u64| if f.offered > 0 { n as f64 / f.offered as f64 } else { 0.0 };
    let values = [
        if ended > 0 { 100.0 * f.ok as f64 / ended as f64 } else { f64::NAN },
        f.ok as f64 / s.window_s.max(1e-9),
        q(|l| l.p50),
        q(|l| l.p99),
        q(|l| l.p999),
        per_request(retries),
        per_request(hedges),
        breaker_open,
    ];
    WORKLOAD_FIGURES.into_iter().zip(values).map(|((n, u, b), v)| (n, u, b, v)).collect()
}

/// The key figures of the saga `name` in one run: each outcome as a share of the sagas
/// started, and the orphaned effects per 1000 sagas started. `NaN` when the variant has
/// no such saga or no saga started.
pub(super) fn saga_figures_of(s: &Summary, name: &str) -> Vec<Value1> {
    let f = s.sagas.get(name).filter(|f| f.started > 0);
    let share = |n: Option<u64>, per: f64| match (n, f) {
        (Some(n), Some(f)) => per * n as f64 / f.started as f64,
        _ => f64::NAN,
    };
    vec![
        ("completed", "%", Higher, share(f.map(|f| f.completed), 100.0)),
        ("compensated", "%", Neither, share(f.map(|f| f.compensated), 100.0)),
        ("compensation failed", "%", Lower, share(f.map(|f| f.compensation_failed), 100.0)),
        ("abandoned", "%", Lower, share(f.map(|f| f.abandoned), 100.0)),
        ("orphaned", "per 1000 sagas", Lower, share(f.map(|f| f.orphaned), 1000.0)),
    ]
}

/// The key figures of consumer group `group` of `topic` in one run; `NaN` when the
/// variant has no such group (a run without figures for it reads as zeros, as in its
/// summary).
pub(super) fn group_figures_of(s: &Summary, topic: &str, group: &str) -> Vec<Value1> {
    let f = s.topics.get(topic).and_then(|t| t.groups.get(group));
    let count = |n: Option<u64>| n.map_or(f64::NAN, |n| n as f64);
    vec![
        ("delivered", "messages", Neither, count(f.map(|f| f.delivered))),
        ("duplicates", "messages", Lower, count(f.map(|f| f.duplicates))),
        ("dead-lettered", "messages", Lower, count(f.map(|f| f.dead_lettered))),
        ("max lag", "messages", Lower, count(f.map(|f| f.max_lag))),
        ("p99", "ms", Lower, f.and_then(|f| f.latency_ms.get(|l| l.p99)).unwrap_or(f64::NAN)),
    ]
}
