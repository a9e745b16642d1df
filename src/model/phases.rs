//! The phase cut: the measured window (after warm-up) cut at every instant a fault
//! starts or ends and every instant a workload's schedule changes its rate.
//!
//! Phases are the elementary intervals between the sorted, distinct boundaries that lie
//! strictly inside the window. Each is named after what holds in it:
//!
//! - the faults active in it, in scenario order, then the rate changes that start it
//!   (`buyers rate 300/s at 60s`), joined with ` + `;
//! - otherwise `before` when it is the first phase, `after` when it is the last, and
//!   `after NAME` for a quiet gap between two faults (NAME: the faults that ended where
//!   it starts).
//!
//! A fault's window is `[start, start + duration)`; a fault without a duration, and a
//! `crash` without `restart_after`, last until the end of the run (no `after`); a
//! `crash` with `restart_after` counts as active until its restart. A window with no
//! boundary and no active fault is not cut at all (no phases). The same name can recur
//! when a fault's window is cut by another fault's start or end.
//!
//! *Invariant*: the phases tile the window: the first starts at warm-up's end, each
//! starts where the previous ended, the last ends at the run's end.

use crate::spec::{Fault, NS_PER_S};
use crate::spec::{FaultKind, Nanos, Spec};

/// One phase of the measured window: `[from_ns, to_ns)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PhaseSpan {
    pub name: String,
    pub from_ns: Nanos,
    pub to_ns: Nanos,
}

/// When a fault acts: `[start, end)`; `end` is `Nanos::MAX` when it lasts until the end.
pub fn fault_window(f: &Fault) -> (Nanos, Nanos) {
    match f.kind {
        FaultKind::Crash { restart_after_ns: Some(r), .. } => (f.start_ns, f.start_ns.saturating_add(r)),
        _ => (f.start_ns, f.end_ns),
    }
}

/// A number with at most 3 decimals, trailing zeros left out (`300`, `0.5`).
fn short(v: f64) -> String {
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

/// The phases of `spec`'s measured window, in time order (empty: not cut).
pub fn phase_cut(spec: &Spec) -> Vec<PhaseSpan> {
    let (w0, w1) = (spec.warmup_ns, spec.duration_ns);
    if w0 >= w1 {
        return Vec::new();
    }
    let windows: Vec<(Nanos, Nanos)> = spec.faults.iter().map(fault_window).collect();
    let inside = |t: Nanos| t > w0 && t < w1;
    let mut bounds: Vec<Nanos> = Vec::new();
    for &(a, b) in &windows {
        bounds.extend([a, b].into_iter().filter(|t| inside(*t)));
    }
    for w in &spec.workloads {
        bounds.extend(w.schedule.iter().map(|c| c.at_ns).filter(|t| inside(*t)));
    }
    bounds.push(w0);
    bounds.push(w1);
    bounds.sort_unstable();
    bounds.dedup();
    let n = bounds.len() - 1;
    let mut out: Vec<PhaseSpan> = Vec::with_capacity(n);
    for i in 0..n {
        let (a, b) = (bounds[i], bounds[i + 1]);
        let mut parts: Vec<String> = spec
            .faults
            .iter()
            .zip(&windows)
            .filter(|(_, (s, e))| *s <= a && a < *e)
            .map(|(f, _)| f.name.clone())
            .collect();
        if a > w0 {
            for w in &spec.workloads {
                for c in w.schedule.iter().filter(|c| c.at_ns == a) {
                    parts.push(format!(
                        "{} rate {}/s at {}s",
                        w.name,
                        short(c.rate_per_s),
                        short(a as f64 / NS_PER_S as f64)
                    ));
                }
            }
        }
        let name = if !parts.is_empty() {
            parts.join(" + ")
        } else if i == 0 {
            if n == 1 {
                // Nothing happens in the window: no phases.
                return Vec::new();
            }
            "before".to_string()
        } else if i == n - 1 {
            "after".to_string()
        } else {
            let ended: Vec<&str> = spec
                .faults
                .iter()
                .zip(&windows)
                .filter(|(_, (_, e))| *e == a)
                .map(|(f, _)| f.name.as_str())
                .collect();
            if ended.is_empty() {
                format!("after {}", out[i - 1].name)
            } else {
                format!("after {}", ended.join(" + "))
            }
        };
        out.push(PhaseSpan { name, from_ns: a, to_ns: b });
    }
    out
}

/// The index of the phase in which `t` lies (`starts`: each phase's `from_ns`, sorted;
/// `t` at or after the first).
#[inline]
pub(super) fn phase_index(starts: &[Nanos], t: Nanos) -> usize {
    starts.partition_point(|s| *s <= t).saturating_sub(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_numbers() {
        assert_eq!(short(300.0), "300");
        assert_eq!(short(0.5), "0.5");
        assert_eq!(short(1.2345), "1.234");
        assert_eq!(short(0.0), "0");
    }

    #[test]
    fn index_of_a_time() {
        let s = [10, 20, 30];
        assert_eq!(phase_index(&s, 10), 0);
        assert_eq!(phase_index(&s, 19), 0);
        assert_eq!(phase_index(&s, 20), 1);
        assert_eq!(phase_index(&s, 99), 2);
    }
}
