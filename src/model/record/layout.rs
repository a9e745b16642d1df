//! The time series' columns (`layout`: their order, which `flush_interval` follows
//! exactly) and the check, before anything is allocated, that the run's series, tables
//! and histograms fit its limits (`preflight`).

use super::super::output::RunError;
use super::super::phases::phase_cut;
use crate::metrics::{LatencyHist, Scope, Series};
use crate::spec::{Cause, Spec};

/// Column order of the time series: workloads, endpoints, calls, services, sagas,
/// topics, groups, cache steps, queues, each in scenario order. `flush_interval` pushes values in exactly
/// this order.
pub(in crate::model) fn layout(spec: &Spec) -> Series {
    let mut s = Series { interval_ns: spec.interval_ns, ..Default::default() };
    for wl in &spec.workloads {
        for m in ["offered", "ok", "degraded"] {
            s.add_column(Scope::Workload, &wl.name, m);
        }
        for c in Cause::ALL {
            s.add_column(Scope::Workload, &wl.name, &format!("failed_{}", c.name()));
        }
        // Percentiles of the successes that finished in the interval (issue 11).
        for m in ["p50_ms", "p99_ms", "in_flight"] {
            s.add_column(Scope::Workload, &wl.name, m);
        }
        // Executions of its requests' call trees shed in the interval (issue 14).
        if spec.has_priorities() {
            s.add_column(Scope::Workload, &wl.name, "shed");
        }
    }
    for ep in &spec.endpoints {
        for m in ["requests", "ok", "failed", "utilization"] {
            s.add_column(Scope::Endpoint, &ep.name, m);
        }
    }
    let bulk = crate::model::clients::edges_with_bulkhead(spec);
    for (e, bulk) in spec.edges.iter().zip(bulk) {
        for m in ["calls", "attempts", "retries", "hedges", "failed", "breaker_state"] {
            s.add_column(Scope::Call, &e.name, m);
        }
        // Permits out and attempts waiting at the interval's end.
        if bulk {
            for m in ["bulkhead_in_use", "bulkhead_waiting"] {
                s.add_column(Scope::Call, &e.name, m);
            }
        }
    }
    for sv in &spec.services {
        for m in ["busy", "queue_len", "utilization", "replicas_up"] {
            s.add_column(Scope::Service, &sv.name, m);
        }
        // The sum of its replicas' adaptive concurrency limits at the interval's end.
        if sv.adaptive.is_some() {
            s.add_column(Scope::Service, &sv.name, "concurrency_limit");
        }
        // An autoscaled service's replicas in the balancers and its scale (the replicas
        // the autoscaler asked for, starting ones included), at the interval's end.
        if sv.autoscale.is_some() {
            s.add_column(Scope::Service, &sv.name, "replicas");
            s.add_column(Scope::Service, &sv.name, "desired_replicas");
        }
    }
    for sg in &spec.sagas {
        for m in ["started", "completed", "compensated", "compensation_failed", "abandoned", "in_flight"] {
            s.add_column(Scope::Saga, &sg.name, m);
        }
    }
    for t in &spec.topics {
        for m in ["published", "publish_failed"] {
            s.add_column(Scope::Topic, &t.name, m);
        }
    }
    for t in &spec.topics {
        for g in &t.groups {
            let name = format!("{}/{}", t.name, g.name);
            for m in ["delivered", "redelivered", "dead_lettered", "lag"] {
                s.add_column(Scope::Topic, &name, m);
            }
        }
    }
    for c in &spec.caches {
        for m in ["hits", "misses", "errors", "hit_ratio"] {
            s.add_column(Scope::Cache, &c.name, m);
        }
    }
    for q in &spec.queues {
        for m in ["sent", "received", "deleted", "dead_lettered", "depth", "age_s"] {
            s.add_column(Scope::Queue, &q.name, m);
        }
    }
    s
}

/// Checks, before anything is allocated, that the run's histograms and time series fit
/// the `limits` on series cells and on memory.
pub(in crate::model) fn preflight(spec: &Spec) -> Result<(), RunError> {
    let columns = layout(spec).columns.len() as u64;
    let intervals = spec.duration_ns.div_ceil(spec.interval_ns.max(1));
    let cells = columns.saturating_mul(intervals);
    let max_cells = spec.limits.max_series_points;
    if cells > max_cells {
        return Err(RunError::Limit(format!(
            "the time series would hold {cells} values ({columns} columns × {intervals} intervals of {} s), \
             over /limits/max_series_points = {max_cells}; lengthen /interval, shorten /duration, \
             or raise the limit",
            spec.interval_ns as f64 / 1e9
        )));
    }
    // Two summary histograms (successes, failures) per workload, endpoint, call edge and
    // saga (and one per saga outcome), one per consumer group; coarse ones: one per
    // workload for the series and one per workload and phase.
    let fine = LatencyHist::footprint_bytes(3);
    let coarse = LatencyHist::footprint_bytes(2);
    let groups: u64 = spec.topics.iter().map(|t| t.groups.len() as u64).sum();
    let bulkheads = crate::model::clients::edges_with_bulkhead(spec).iter().filter(|b| **b).count() as u64;
    let n_fine = 2 * spec.workloads.len() as u64
        + 2 * spec.endpoints.len() as u64
        + 2 * spec.edges.len() as u64
        + bulkheads
        + 6 * spec.sagas.len() as u64
        + groups
        + spec.queues.len() as u64;
    let phases = phase_cut(spec).len() as u64;
    let hist_bytes = n_fine * fine + spec.workloads.len() as u64 * (1 + phases) * coarse;
    // Each client slot keeps an outstanding count and an outlier state per target replica.
    let client_bytes = crate::model::clients::client_table_bytes(spec);
    let series_bytes = cells * 8 + intervals * 8;
    let total = hist_bytes.saturating_add(series_bytes).saturating_add(client_bytes);
    let mib = total.div_ceil(1 << 20);
    let max_mib = spec.limits.max_memory_mib;
    if mib > max_mib {
        return Err(RunError::Limit(format!(
            "the run would need about {mib} MiB for its figures before it starts ({n_fine} latency \
             histograms of {} KiB each for {} workloads, {} endpoints, {} call edges, {} sagas and \
             {groups} consumer groups; {} MiB of time series; {} MiB of client tables per target replica), \
             over /limits/max_memory_mib = {max_mib}; simulate fewer of them in one scenario, or raise the limit",
            fine / 1024,
            spec.workloads.len(),
            spec.endpoints.len(),
            spec.edges.len(),
            spec.sagas.len(),
            series_bytes >> 20,
            client_bytes >> 20
        )));
    }
    Ok(())
}
