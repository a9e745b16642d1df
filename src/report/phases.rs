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
//!   less 1 percentage point (less the interval's sampling allowance) and its p99 is at
//!   most 1.2 × the reference's (the reference's quantile that an interval of that many
//!   successes would reach by chance, see [`recovered_after`]), or at most 1 µs above
//!   it, the histograms' resolution, so a p99 of 0 can be matched; when the reference
//!   had no success, only the success condition applies. Better than before is back.
//! - `recovery_s` is the end of the first interval of the first run of 5 consecutive
//!   back intervals, less the fault's end: a figure with the resolution of one
//!   interval, never below the time to the first interval's end. `null` when no such
//!   run is complete by the end of the run.

use super::summary::{Latency, Named, Phase, PhaseWorkload, Recovery, r6};
use crate::metrics::LatencyHist;
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

/// What a workload recovers to: its `before` phase.
pub struct Reference<'a> {
    /// ok over finished, in percent.
    pub success: f64,
    /// Its successes' latencies (`None` or empty: no success to compare with).
    pub latency: Option<&'a LatencyHist>,
}

/// Per fault that ends inside the measured window, per workload: `recovery_s`.
pub(super) fn recovery(spec: &Spec, out: &RunOutput) -> Vec<Recovery> {
    let before = out.phases.first().filter(|p| p.name == "before");
    let mut list = Vec::new();
    for f in &spec.faults {
        let (_, end) = crate::model::fault_window(f);
        if end <= spec.warmup_ns || end >= spec.duration_ns {
            continue;
        }
        let workloads = spec
            .workloads
            .iter()
            .enumerate()
            .map(|(i, w)| {
                let reference = before.and_then(|p| p.workloads.get(i)).and_then(|r| {
                    let finished = r.outcomes.ended();
                    (finished > 0).then(|| Reference {
                        success: 100.0 * r.outcomes.ok as f64 / finished as f64,
                        latency: Some(&r.latency),
                    })
                });
                let v = reference.and_then(|r| recovered_after(&out.series, &w.name, end, &r));
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

/// One-sided 99% normal quantile: the sampling allowance of one interval.
const Z99: f64 = 2.326;
/// The chance an interval of an unchanged system is taken for not back, at most.
const FALSE_ALARM: f64 = 0.01;

/// Standard normal upper tail (Abramowitz and Stegun 7.1.26, error below 1.5e-7).
fn normal_sf(z: f64) -> f64 {
    let x = z / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.3275911 * x.abs());
    let poly =
        t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
    let erfc = poly * (-x * x).exp();
    0.5 * if x >= 0.0 { erfc } else { 2.0 - erfc }
}

/// P(Binomial(n, a) >= m): exact for small `m`, normal with continuity correction above.
fn binomial_tail(n: u64, a: f64, m: u64) -> f64 {
    if m == 0 {
        return 1.0;
    }
    let nf = n as f64;
    if m > 30 {
        let sd = (nf * a * (1.0 - a)).sqrt();
        return if sd > 0.0 { normal_sf((m as f64 - 0.5 - nf * a) / sd) } else { 0.0 };
    }
    let mut pmf = (nf * (-a).ln_1p()).exp();
    let mut cdf = 0.0;
    for j in 0..m.min(n + 1) {
        cdf += pmf;
        pmf *= (nf - j as f64) / (j as f64 + 1.0) * a / (1.0 - a);
    }
    (1.0 - cdf).max(0.0)
}

/// The quantile level `q >= 0.99` of the reference that the p99 of `n` values drawn
/// from the reference's distribution stays at or under with probability 99%: HDR's p99
/// of `n` values is their `k = ceil(0.99 n)`-th smallest, which exceeds the reference's
/// quantile `1 - a` when at least `n - k + 1` values lie above it, a binomial event.
/// With 50 values a p99 is their largest (q about 0.9998); with 10^5, q is about 0.9907.
pub fn p99_reference_level(n: u64) -> f64 {
    if n == 0 {
        return 0.99;
    }
    let k = ((0.99 * n as f64).ceil() as u64).max(1);
    let m = n - k + 1;
    let (mut lo, mut hi) = (0.0_f64, 0.01_f64);
    if binomial_tail(n, hi, m) <= FALSE_ALARM {
        return 1.0 - hi;
    }
    for _ in 0..60 {
        let mid = 0.5 * (lo + hi);
        if binomial_tail(n, mid, m) <= FALSE_ALARM {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    1.0 - lo
}

/// Seconds from `end` until workload `wl`'s intervals are back to `reference` for
/// [`RECOVERY_RUN`] intervals in a row; `None` when they never are. An interval of `n`
/// finished requests, `s` of them successful, is back when
///
/// - its success is at least the reference's less 1 percentage point less the
///   interval's sampling allowance, `2.326 × sqrt(p (1 - p) / n)` (one-sided 99%; 0 when
///   the reference is 100% or 0%), and
/// - its p99 is at most 1.2 × the reference's quantile at [`p99_reference_level`]`(s)`
///   (the reference's p99 itself for large intervals), or within 1 µs of it.
pub fn recovered_after(series: &Series, wl: &str, end: Nanos, reference: &Reference<'_>) -> Option<f64> {
    let col = |m: &str| series.column(Scope::Workload, wl, m).map(|c| &c.values);
    let ok = col("ok")?;
    let p99 = col("p99_ms")?;
    let failed: Vec<&Vec<f64>> =
        Cause::ALL.iter().filter_map(|c| col(&format!("failed_{}", c.name()))).collect();
    let lat = reference.latency.filter(|h| h.count() > 0);
    let p = (reference.success / 100.0).clamp(0.0, 1.0);
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
        let allowance = 100.0 * Z99 * (p * (1.0 - p) / finished).sqrt();
        let success_back = success >= reference.success - RECOVERY_SUCCESS_PP - allowance;
        let p99_back = match lat {
            None => true,
            Some(h) => {
                let v = p99.get(i).copied().unwrap_or(f64::NAN);
                let r = h.quantile_ms(p99_reference_level(ok_i as u64)).unwrap_or(0.0);
                !v.is_nan() && v <= (RECOVERY_P99_FACTOR * r).max(r + P99_SLACK_MS)
            }
        };
        if success_back && p99_back {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_p99_reference_level_follows_the_sample_size() {
        // 50 values: the p99 is the largest; it stays under the quantile 1 - a with
        // probability (1 - a)^50 = 0.99, a = 1 - 0.99^(1/50).
        let want = 0.99_f64.powf(1.0 / 50.0);
        assert!((p99_reference_level(50) - want).abs() < 1e-9, "{}", p99_reference_level(50));
        // Large samples: the level tends to 0.99 from above.
        // 10^4 and 10^5 values (normal approximation): about 0.9920 and 0.9907.
        assert!((p99_reference_level(10_000) - 0.9920).abs() < 2e-4, "{}", p99_reference_level(10_000));
        assert!((p99_reference_level(100_000) - 0.9907).abs() < 1e-4, "{}", p99_reference_level(100_000));
        let big = p99_reference_level(1_000_000);
        assert!(big > 0.99 && big < 0.9903, "{big}");
        assert!(p99_reference_level(10_000) > big);
        assert_eq!(p99_reference_level(0), 0.99);
    }

    #[test]
    fn binomial_tails() {
        assert!((binomial_tail(10, 0.5, 1) - (1.0 - 0.5f64.powi(10))).abs() < 1e-12);
        assert!((binomial_tail(3, 0.5, 2) - 0.5).abs() < 1e-12);
        assert_eq!(binomial_tail(5, 0.3, 0), 1.0);
    }
}
