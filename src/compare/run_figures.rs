//! The key figures of one run, read from its [`Summary`]: per workload, saga and
//! consumer group, `(name, unit, value)` in the order of the comparison's tables.

use super::Value1;
use crate::report::Summary;

/// The key figures of workload `name` in one run; `NaN` when the variant has no such
/// workload or the run no figures for it.
pub(super) fn workload_figures(s: &Summary, name: &str) -> Vec<Value1> {
    let Some(f) = s.workloads.get(name) else {
        let names = [
            ("success", "%"),
            ("goodput", "req/s"),
            ("p50", "ms"),
            ("p99", "ms"),
            ("p99.9", "ms"),
            ("retries/request", ""),
            ("hedges/request", ""),
            ("breaker open", "replica-s"),
        ];
        return names.into_iter().map(|(n, u)| (n, u, f64::NAN)).collect();
    };
    let ended = f.ok + f.failed.total();
    let q = |p: fn(&crate::report::summary::Quantiles) -> f64| f.latency_ms.get(p).unwrap_or(f64::NAN);
    // Retries and hedges on every edge, per request this workload offered (the edges are
    // shared by all workloads; with one workload this is exact).
    let offered_all: u64 = s.workloads.all().map(|(_, w)| w.offered).sum();
    let retries: u64 = s.calls.all().map(|(_, e)| e.retries).sum();
    let hedges: u64 = s.calls.all().map(|(_, e)| e.hedges).sum();
    let breaker_open: f64 = s.calls.all().map(|(_, e)| e.breaker.open_s).sum();
    vec![
        ("success", "%", if ended > 0 { 100.0 * f.ok as f64 / ended as f64 } else { f64::NAN }),
        ("goodput", "req/s", f.ok as f64 / s.window_s.max(1e-9)),
        ("p50", "ms", q(|l| l.p50)),
        ("p99", "ms", q(|l| l.p99)),
        ("p99.9", "ms", q(|l| l.p999)),
        ("retries/request", "", if offered_all > 0 { retries as f64 / offered_all as f64 } else { 0.0 }),
        ("hedges/request", "", if offered_all > 0 { hedges as f64 / offered_all as f64 } else { 0.0 }),
        ("breaker open", "replica-s", breaker_open),
    ]
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
        ("completed", "%", share(f.map(|f| f.completed), 100.0)),
        ("compensated", "%", share(f.map(|f| f.compensated), 100.0)),
        ("compensation failed", "%", share(f.map(|f| f.compensation_failed), 100.0)),
        ("abandoned", "%", share(f.map(|f| f.abandoned), 100.0)),
        ("orphaned", "per 1000 sagas", share(f.map(|f| f.orphaned), 1000.0)),
    ]
}

/// The key figures of consumer group `group` of `topic` in one run; `NaN` when the
/// variant has no such group (a run without figures for it reads as zeros, as in its
/// summary).
pub(super) fn group_figures_of(s: &Summary, topic: &str, group: &str) -> Vec<Value1> {
    let f = s.topics.get(topic).and_then(|t| t.groups.get(group));
    let count = |n: Option<u64>| n.map_or(f64::NAN, |n| n as f64);
    vec![
        ("delivered", "messages", count(f.map(|f| f.delivered))),
        ("duplicates", "messages", count(f.map(|f| f.duplicates))),
        ("dead-lettered", "messages", count(f.map(|f| f.dead_lettered))),
        ("max lag", "messages", count(f.map(|f| f.max_lag))),
        ("p99", "ms", f.and_then(|f| f.latency_ms.get(|l| l.p99)).unwrap_or(f64::NAN)),
    ]
}
