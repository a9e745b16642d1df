//! The scenario's thresholds evaluated on a run's [`Summary`]: the verdicts that
//! `summary.json` lists, the lines `faultline run` prints, and the failures that make it
//! exit with status 3.
//!
//! Every value is read from the summary's own figures (whole run) or from its phase
//! table (`during NAME`), so a verdict never disagrees with the numbers beside it. A
//! figure with nothing behind it (no successful response for a percentile, no finished
//! request for a share, a phase the run never reached) is `null` and fails: an objective
//! nobody measured is not met.

use super::ms_text;
use super::summary::{Latency, PhaseWorkload, Quantiles, Summary, ThresholdVerdict, WorkloadSummary, r6};
use crate::spec::{Metric, MetricUnit, Spec, Threshold, ThresholdScope};
use std::fmt::Write as _;

/// Every threshold of `spec` on the run summarised in `s`, in file order.
pub fn evaluate(spec: &Spec, s: &Summary) -> Vec<ThresholdVerdict> {
    spec.thresholds.iter().map(|t| verdict(spec, s, t)).collect()
}

/// One threshold's verdict. The value is rounded to 6 decimals and the comparison is
/// made on the rounded value, so that a reader of `summary.json` can check `pass` from
/// `value` and the expression.
pub fn verdict(spec: &Spec, s: &Summary, t: &Threshold) -> ThresholdVerdict {
    let value = measure(spec, s, t).filter(|v| v.is_finite()).map(r6);
    ThresholdVerdict {
        scope: t.scope_name.clone(),
        expression: t.expression.clone(),
        value,
        pass: value.is_some_and(|v| t.op.holds(v, t.bound)),
    }
}

/// The figure a threshold bounds, in its metric's unit; `None` when nothing was measured.
pub fn measure(spec: &Spec, s: &Summary, t: &Threshold) -> Option<f64> {
    match t.scope {
        ThresholdScope::Workload(id) => {
            let w = spec.workloads.get(id as usize)?;
            match &t.phase {
                None => {
                    let f = s.workloads.get(&w.name)?;
                    if t.metric == Metric::RetriesPerRequest {
                        // The retries of the workload's own client (its `policy`), per
                        // request it offered.
                        let edge = spec.edges.get(w.edge as usize)?;
                        let retries = s.calls.get(&edge.name)?.retries;
                        return share(retries, f.offered, 1.0);
                    }
                    whole_run(f, t.metric)
                }
                Some(p) => {
                    let phase = s.phases.iter().find(|ph| ph.name == *p)?;
                    in_phase(phase.workloads.get(&w.name)?, t.metric)
                }
            }
        }
        ThresholdScope::Saga(id) => {
            let f = s.sagas.get(&spec.sagas.get(id as usize)?.name)?;
            let n = match t.metric {
                Metric::Completed => f.completed,
                Metric::Compensated => f.compensated,
                Metric::CompensationFailed => f.compensation_failed,
                Metric::Abandoned => f.abandoned,
                Metric::OrphanedPer1000 => return share(f.orphaned, f.started, 1000.0),
                _ => return None,
            };
            share(n, f.started, 100.0)
        }
        ThresholdScope::Group { topic, group } => {
            let t_spec = spec.topics.get(topic as usize)?;
            let g_spec = t_spec.groups.get(group as usize)?;
            let f = s.topics.get(&t_spec.name)?.groups.get(&g_spec.name)?;
            match t.metric {
                Metric::MaxLag => Some(f.max_lag as f64),
                Metric::Duplicates => Some(f.duplicates as f64),
                Metric::DeadLettered => Some(f.dead_lettered as f64),
                Metric::GroupP99 => f.latency_ms.get(|q| q.p99),
                _ => None,
            }
        }
        ThresholdScope::Queue(id) => {
            let f = s.queues.get(&spec.queues.get(id as usize)?.name)?;
            match t.metric {
                Metric::QueueMaxDepth => Some(f.max_depth as f64),
                Metric::QueueMaxAge => Some(f.max_age_s * 1000.0),
                Metric::QueueDuplicates => Some(f.duplicates as f64),
                Metric::QueueInconsistent => Some(f.inconsistent as f64),
                Metric::QueueDeadLettered => Some(f.dead_lettered as f64),
                Metric::QueueP99 => f.latency_ms.get(|q| q.p99),
                _ => None,
            }
        }
    }
}

/// `per × n / d`; `None` when `d` is 0.
fn share(n: u64, d: u64, per: f64) -> Option<f64> {
    (d > 0).then(|| per * n as f64 / d as f64)
}

fn latency(l: &Latency, m: Metric) -> Option<f64> {
    let pick: fn(&Quantiles) -> f64 = match m {
        Metric::Mean => |q| q.mean,
        Metric::P50 => |q| q.p50,
        Metric::P90 => |q| q.p90,
        Metric::P99 => |q| q.p99,
        Metric::P999 => |q| q.p999,
        Metric::Max => |q| q.max,
        _ => return None,
    };
    l.get(pick)
}

/// A workload's figure over the measured window. Shares are of the finished requests
/// (`ok`, degraded ones included, plus `failed`); requests still in flight at the end
/// are in no share.
fn whole_run(f: &WorkloadSummary, m: Metric) -> Option<f64> {
    let failed = f.failed.total();
    let finished = f.ok + failed;
    match m {
        Metric::Success => share(f.ok, finished, 100.0),
        Metric::Failed => share(failed, finished, 100.0),
        Metric::Degraded => share(f.degraded, finished, 100.0),
        Metric::Goodput => Some(f.goodput_rps),
        _ => latency(&f.latency_ms, m),
    }
}

/// A workload's figure within one phase. `success` is the phase's own; `failed` is its
/// complement (every finished request succeeded or failed), `degraded` a share of the
/// phase's finished requests as for the whole run.
fn in_phase(f: &PhaseWorkload, m: Metric) -> Option<f64> {
    match m {
        Metric::Success => f.success,
        Metric::Failed => f.success.map(|s| 100.0 - s),
        Metric::Degraded => share(f.degraded, f.ok + f.failed, 100.0),
        Metric::Goodput => Some(f.goodput_rps),
        _ => latency(&f.latency_ms, m),
    }
}

/// The unit of a verdict's value, read from its scope and the metric its expression
/// starts with (`None` for an expression that is not a threshold's).
pub fn unit_of(v: &ThresholdVerdict) -> Option<MetricUnit> {
    let kind = crate::scenario::thresholds::kind_of_key(&v.scope);
    let name = v.expression.split(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '=')).next()?;
    Metric::of(kind, name).map(Metric::unit)
}

/// A verdict's value with its unit, as the CLI prints it: `412 ms`, `97.12%`, `58.3/s`,
/// `0.25`, or `no data`.
pub fn value_text(v: &ThresholdVerdict) -> String {
    let Some(x) = v.value else { return "no data".to_string() };
    match unit_of(v) {
        Some(MetricUnit::Ms) => format!("{} ms", ms_text(x)),
        Some(MetricUnit::Percent) => format!("{}%", decimals(x, 3)),
        Some(MetricUnit::PerSecond) => format!("{}/s", decimals(x, 1)),
        Some(MetricUnit::Number) | None => decimals(x, 3),
    }
}

/// At most `n` decimals, without trailing zeros: `97.12`, `100`, `0.004`.
fn decimals(x: f64, n: usize) -> String {
    let s = format!("{x:.n$}");
    if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s }
}

/// The verdict lines under `faultline run`'s table (empty without thresholds).
pub fn verdict_lines(s: &Summary) -> String {
    let v = &s.thresholds;
    if v.is_empty() {
        return String::new();
    }
    let failed = v.iter().filter(|t| !t.pass).count();
    let mut out = String::new();
    if failed == 0 {
        let _ = writeln!(out, "\nthresholds: all {} hold", v.len());
    } else {
        let _ = writeln!(out, "\nthresholds: {failed} of {} failed", v.len());
    }
    let w_scope = v.iter().map(|t| t.scope.chars().count()).max().unwrap_or(0);
    let w_expr = v.iter().map(|t| t.expression.chars().count()).max().unwrap_or(0);
    for t in v {
        let _ = writeln!(
            out,
            "  {}  {:w_scope$}  {:w_expr$}  {}",
            if t.pass { "pass" } else { "FAIL" },
            t.scope,
            t.expression,
            value_text(t)
        );
    }
    out
}

/// The failed thresholds, one line each, for standard error; empty when all hold.
pub fn failure_lines(s: &Summary) -> Vec<String> {
    s.thresholds
        .iter()
        .filter(|t| !t.pass)
        .map(|t| format!("threshold failed: {}: {} (measured: {})", t.scope, t.expression, value_text(t)))
        .collect()
}

#[cfg(test)]
mod tests;
