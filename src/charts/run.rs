//! Every chart of one run, in a stable order.

use super::data::{column_values, rate_values, total};
use super::panel::run_windows;
use super::services::services_chart;
use super::spectrum::spectrum_chart;
use super::time::{breaker_chart, lag_chart, latency_chart, retries_chart, saga_chart, throughput_chart};
use super::{Chart, Names};
use crate::metrics::Scope;
use crate::model::RunOutput;
use crate::spec::{NS_PER_S, Spec};

/// Every chart of one run, in a stable order: per workload its latency over time,
/// throughput over time and percentile spectrum; then the breaker state of each call
/// edge with a breaker; the retries and hedges of each edge that made any; the outcomes
/// of each saga; the lag of each topic's consumer groups; the hit ratio of each cache
/// step; the depth, oldest age and flows of each work queue; and the queue length and
/// utilisation of every service.
pub fn run_charts(spec: &Spec, out: &RunOutput) -> Vec<Chart> {
    let mut names = Names::default();
    let mut charts = Vec::new();
    let windows = run_windows(spec);
    let dur_s = spec.duration_ns as f64 / NS_PER_S as f64;
    let series = &out.series;
    for (i, wl) in spec.workloads.iter().enumerate() {
        charts.push(latency_chart(&mut names, &wl.name, series, dur_s, &windows));
        charts.push(throughput_chart(&mut names, &wl.name, series, dur_s, &windows));
        if let Some(f) = out.workloads.get(i) {
            let c = spectrum_chart(
                &mut names,
                "spectrum",
                &wl.name,
                &format!("Latency by percentile: {}", wl.name),
                &format!(
                    "How long do the requests of {} take at each percentile, from the median to the far tail, over the \
                     measured window after warm-up? Successful responses only, the same histogram as the tables' \
                     percentiles (the curve ends at their max).",
                    wl.name
                ),
                &[(String::new(), &f.latency)],
            );
            charts.push(c);
        }
    }
    for (i, e) in spec.edges.iter().enumerate() {
        if edge_has_breaker(spec, i)
            || column_values(series, Scope::Call, &e.name, "breaker_state").iter().any(|v| v.is_finite())
        {
            charts.push(breaker_chart(&mut names, &e.name, series, dur_s, &windows));
        }
    }
    for e in &spec.edges {
        let retries = rate_values(series, Scope::Call, &e.name, "retries");
        let hedges = rate_values(series, Scope::Call, &e.name, "hedges");
        let (r, h) = (total(&retries) > 0.0, total(&hedges) > 0.0);
        if r || h {
            charts.push(retries_chart(&mut names, &e.name, series, dur_s, &windows, r, h));
        }
    }
    for sg in &spec.sagas {
        charts.push(saga_chart(&mut names, &sg.name, series, dur_s, &windows));
    }
    for t in &spec.topics {
        for g in &t.groups {
            charts.push(lag_chart(&mut names, &t.name, &g.name, series, dur_s, &windows));
        }
    }
    for c in &spec.caches {
        charts.push(super::cache::cache_chart(&mut names, &c.name, series, dur_s, &windows));
    }
    for q in &spec.queues {
        charts.push(super::queue::queue_chart(&mut names, &q.name, series, dur_s, &windows));
    }
    charts.extend(super::shed::shed_chart(&mut names, spec, series, dur_s, &windows));
    if !spec.services.is_empty() {
        charts.push(services_chart(&mut names, spec, series, dur_s, &windows));
    }
    charts
}

/// Whether some call site or workload on edge `edge` uses a policy with a breaker.
pub(super) fn edge_has_breaker(spec: &Spec, edge: usize) -> bool {
    let has =
        |p: Option<u32>| p.and_then(|p| spec.policies.get(p as usize)).is_some_and(|p| p.breaker.is_some());
    let sites = spec.endpoints.iter().flat_map(|e| e.steps.iter()).flat_map(|s| spec.step_sites(s));
    for site in sites {
        if site.targets.iter().any(|t| t.edge as usize == edge) && has(site.policy) {
            return true;
        }
    }
    spec.workloads.iter().any(|w| w.edge as usize == edge && has(w.policy))
}
