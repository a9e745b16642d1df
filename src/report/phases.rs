//! The phases of a run and each workload's recovery after each fault, as the summary
//! shows them. The cut itself is the model's (`model/phases.rs`); this module turns its
//! figures into [`Phase`]s and computes `recovery_s` from the fixed-interval series.
//!
//! # Recovery rule (also in docs/scenario-format.md)
//!
//! For each fault whose window ends inside the measured window (after warm-up, before
//! the run's end), and each workload:
//!
//! - the *reference* is the workload's `before` phase: its success (ok over finished,
//!   requests counted by start) and its p99 of successes. No `before` phase (a fault
//!   active when warm-up ends), or no finished request in it: `null`.
//! - the intervals looked at are those of the time series that end after the fault's
//!   end (the first one may hold the fault's last instants). An interval's success and
//!   p99 are those of the requests that *finished* in it (the series' columns).
//! - an interval in which no request finished says nothing: it neither counts nor
//!   breaks a run. An interval is *back* when its success is at least the reference's
//!   less 1 percentage point and its p99 is at most 1.2 × the reference's (or at most
//!   1 µs above it, the histograms' resolution, so a p99 of 0 can be matched); when the
//!   reference had no success, only the success condition applies. Better than before
//!   is back.
//! - `recovery_s` is the end of the first interval of the first run of 5 consecutive
//!   back intervals, less the fault's end: a figure with the resolution of one
//!   interval, never below the time to the first interval's end. `null` when no such
//!   run is complete by the end of the run.

use super::summary::{Latency, Named, Phase, PhaseWorkload, Recovery, r6};
use crate::metrics::{Scope, Series};
use crate::model::RunOutput;
use crate::spec::{Cause, NS_PER_S, Nanos, Spec};

/// Back intervals in a row that make a recovery.
pub const RECOVERY_RUN: usize = 5;
/// How far below the reference's success an interval may be, in percentage points.
pub const RECOVERY_SUCCESS_PP: f64 = 1.0;
/// How far above the reference's p99 an interval's may be, as a factor.
pub const RECOVERY_P99_FACTOR: f64 = 1.2;
/// The histograms' resolution, in milliseconds.
const P99_SLACK_MS: f64 = 0.001;

/// The run's phases with each workload's figures.
pub(super) fn phases(spec: &Spec, out: &RunOutput) -> Vec<Phase> {
    out.phases
        .iter()
        .map(|p| {
            let secs = (p.to_ns - p.from_ns) as f64 / NS_PER_S as f64;
            let workloads = spec
                .workloads
                .iter()
                .zip(&p.workloads)
                .map(|(w, f)| {
                    let failed = f.outcomes.failed_total();
                    let finished = f.outcomes.ok + failed;
                    let v = PhaseWorkload {
                        offered: f.offered,
                        ok: f.outcomes.ok,
                        degraded: f.outcomes.degraded,
                        failed,
                        in_flight: f.offered.saturating_sub(finished),
                        success: (finished > 0).then(|| 100.0 * f.outcomes.ok as f64 / finished as f64),
                        goodput_rps: if secs > 0.0 { f.outcomes.ok as f64 / secs } else { 0.0 },
                        latency_ms: Latency::of(&f.latency),
                    };
                    (w.name.clone(), v)
                })
                .collect();
            Phase {
                name: p.name.clone(),
                from_s: p.from_ns as f64 / NS_PER_S as f64,
                to_s: p.to_ns as f64 / NS_PER_S as f64,
                workloads: Named(workloads),
            }
        })
        .collect()
}

/// Per fault that ends inside the measured window, per workload: `recovery_s`.
pub(super) fn recovery(spec: &Spec, out: &RunOutput, phases: &[Phase]) -> Vec<Recovery> {
    let before = phases.first().filter(|p| p.name == "before");
    let mut list = Vec::new();
    for f in &spec.faults {
        let (_, end) = crate::model::fault_window(f);
        if end <= spec.warmup_ns || end >= spec.duration_ns {
            continue;
        }
        let workloads = spec
            .workloads
            .iter()
            .map(|w| {
                let reference = before
                    .and_then(|p| p.workloads.get(&w.name))
                    .and_then(|r| r.success.map(|s| (s, r.latency_ms.get(|q| q.p99))));
                let v = reference.and_then(|(s0, p0)| recovered_after(&out.series, &w.name, end, s0, p0));
                (w.name.clone(), v.map(r6))
            })
            .collect();
        list.push(Recovery {
            fault: f.name.clone(),
            end_s: end as f64 / NS_PER_S as f64,
            workloads: Named(workloads),
        });
    }
    list
}

/// Seconds from `end` until workload `wl`'s intervals are back to success `s0` (percent)
/// and p99 `p0` (ms; `None`: no success to compare with) for [`RECOVERY_RUN`] intervals
/// in a row; `None` when they never are.
pub fn recovered_after(series: &Series, wl: &str, end: Nanos, s0: f64, p0: Option<f64>) -> Option<f64> {
    let col = |m: &str| series.column(Scope::Workload, wl, m).map(|c| &c.values);
    let ok = col("ok")?;
    let p99 = col("p99_ms")?;
    let failed: Vec<&Vec<f64>> =
        Cause::ALL.iter().filter_map(|c| col(&format!("failed_{}", c.name()))).collect();
    let mut first_of_run: Option<usize> = None;
    let mut run = 0;
    for (i, &t) in series.ends.iter().enumerate() {
        if t <= end {
            continue;
        }
        let ok_i = ok.get(i).copied().unwrap_or(0.0);
        let failed_i: f64 = failed.iter().map(|c| c.get(i).copied().unwrap_or(0.0)).sum();
        let finished = ok_i + failed_i;
        if finished <= 0.0 {
            continue;
        }
        let success = 100.0 * ok_i / finished;
        let p = p99.get(i).copied().unwrap_or(f64::NAN);
        let p99_back = match p0 {
            None => true,
            Some(p0) => !p.is_nan() && p <= (RECOVERY_P99_FACTOR * p0).max(p0 + P99_SLACK_MS),
        };
        if success >= s0 - RECOVERY_SUCCESS_PP && p99_back {
            if run == 0 {
                first_of_run = Some(i);
            }
            run += 1;
            if run == RECOVERY_RUN {
                let first = first_of_run?;
                return Some((series.ends[first] - end) as f64 / NS_PER_S as f64);
            }
        } else {
            run = 0;
        }
    }
    None
}
