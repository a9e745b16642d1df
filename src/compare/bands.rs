//! The over-time figures a comparison charts with a confidence band: per interval, the
//! mean across seeds and its 95% interval (Student's t with n − 1 degrees of freedom,
//! n the seeds with a value in that interval). Folded one run at a time with Welford's
//! update, in seed order, so the size does not grow with the seeds and the result does
//! not depend on the threads.
//!
//! Series per workload: `goodput` (ok responses per second), `p99` (ms, as the run's
//! series has it), `attempts` (call attempts on the edges the workload's requests
//! traverse, per request it offered in the interval); per consumer group (`TOPIC/GROUP`):
//! `lag` (messages at the interval's end).

use super::reach::reachable_edges;
use super::stats::t975;
use crate::metrics::{Scope, Series};
use crate::model::RunOutput;
use crate::spec::{NS_PER_S, Spec};

/// One run's over-time figures: interval ends (s) and `((kind, name), value per interval)`.
#[derive(Debug, Default)]
pub struct BandRun {
    xs: Vec<f64>,
    series: Vec<((&'static str, String), Vec<f64>)>,
}

fn values(series: &Series, scope: Scope, name: &str, metric: &str) -> Vec<f64> {
    let n = series.ends.len();
    match series.column(scope, name, metric) {
        Some(c) => (0..n).map(|i| c.values.get(i).copied().unwrap_or(f64::NAN)).collect(),
        None => vec![f64::NAN; n],
    }
}

fn widths_s(series: &Series) -> Vec<f64> {
    let mut prev = 0;
    series
        .ends
        .iter()
        .map(|e| {
            let w = e.saturating_sub(prev);
            prev = *e;
            w as f64 / NS_PER_S as f64
        })
        .collect()
}

impl BandRun {
    /// Takes the over-time figures of `out`, a run of `spec`.
    pub fn of(spec: &Spec, out: &RunOutput) -> BandRun {
        let s = &out.series;
        let xs: Vec<f64> = s.ends.iter().map(|e| *e as f64 / NS_PER_S as f64).collect();
        let widths = widths_s(s);
        let mut series = Vec::new();
        for (w, wl) in spec.workloads.iter().enumerate() {
            let ok = values(s, Scope::Workload, &wl.name, "ok");
            let goodput = ok
                .iter()
                .zip(&widths)
                .map(|(v, w)| if v.is_finite() && *w > 0.0 { v / w } else { 0.0 })
                .collect();
            series.push((("goodput", wl.name.clone()), goodput));
            series.push((("p99", wl.name.clone()), values(s, Scope::Workload, &wl.name, "p99_ms")));
            let offered = values(s, Scope::Workload, &wl.name, "offered");
            let mut attempts = vec![0.0; xs.len()];
            for e in reachable_edges(spec, w) {
                for (a, v) in
                    attempts.iter_mut().zip(values(s, Scope::Call, &spec.edges[e as usize].name, "attempts"))
                {
                    if v.is_finite() {
                        *a += v;
                    }
                }
            }
            let per_request =
                attempts.iter().zip(&offered).map(|(a, o)| if *o > 0.0 { a / o } else { f64::NAN }).collect();
            series.push((("attempts", wl.name.clone()), per_request));
        }
        for t in &spec.topics {
            for g in &t.groups {
                let name = format!("{}/{}", t.name, g.name);
                let lag = values(s, Scope::Topic, &name, "lag");
                series.push((("lag", name), lag));
            }
        }
        BandRun { xs, series }
    }
}

/// Welford's running mean and sum of squared deviations of one interval.
#[derive(Clone, Copy, Debug, Default)]
struct Acc {
    n: usize,
    mean: f64,
    m2: f64,
}

impl Acc {
    fn add(&mut self, x: f64) {
        self.n += 1;
        let d = x - self.mean;
        self.mean += d / self.n as f64;
        self.m2 += d * (x - self.mean);
    }
}

/// One point of a banded series: the interval's end, the mean across seeds and the 95%
/// interval's bounds (`NaN` bounds with fewer than two seeds; all `NaN` with none).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BandPoint {
    pub x: f64,
    pub mean: f64,
    pub lo: f64,
    pub hi: f64,
}

/// A variant's banded series, folded over its runs in seed order.
#[derive(Debug, Default)]
pub struct BandFold {
    xs: Vec<f64>,
    /// The fewest intervals of any run folded in.
    n: usize,
    runs: usize,
    series: Vec<((&'static str, String), Vec<Acc>)>,
}

impl BandFold {
    /// Folds in one more run; call it in seed order.
    pub fn add(&mut self, run: BandRun) {
        if self.runs == 0 {
            self.n = run.xs.len();
            self.xs = run.xs;
        } else {
            self.n = self.n.min(run.xs.len());
        }
        self.runs += 1;
        for (key, vals) in run.series {
            let i = match self.series.iter().position(|(k, _)| *k == key) {
                Some(i) => i,
                None => {
                    self.series.push((key, Vec::new()));
                    self.series.len() - 1
                }
            };
            let acc = &mut self.series[i].1;
            if acc.len() < vals.len() {
                acc.resize(vals.len(), Acc::default());
            }
            for (a, v) in acc.iter_mut().zip(vals) {
                if v.is_finite() {
                    a.add(v);
                }
            }
        }
    }

    /// Runs folded in.
    pub fn runs(&self) -> usize {
        self.runs
    }

    /// Whether the variant has series `kind` of `name`.
    pub fn has(&self, kind: &str, name: &str) -> bool {
        self.series.iter().any(|((k, n), _)| *k == kind && n == name)
    }

    /// Series `kind` (`goodput`, `p99`, `attempts`, `lag`) of `name`, per interval: the
    /// mean across seeds and its 95% interval. Empty when the variant has no such series.
    pub fn points(&self, kind: &str, name: &str) -> Vec<BandPoint> {
        let Some((_, acc)) = self.series.iter().find(|((k, n), _)| *k == kind && n == name) else {
            return Vec::new();
        };
        (0..self.n.min(acc.len()))
            .map(|i| {
                let a = acc[i];
                let x = self.xs[i];
                match a.n {
                    0 => BandPoint { x, mean: f64::NAN, lo: f64::NAN, hi: f64::NAN },
                    1 => BandPoint { x, mean: a.mean, lo: f64::NAN, hi: f64::NAN },
                    n => {
                        let hw = t975(n - 1) * (a.m2 / (n - 1) as f64 / n as f64).sqrt();
                        BandPoint { x, mean: a.mean, lo: a.mean - hw, hi: a.mean + hw }
                    }
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_band_is_the_t_interval_of_each_interval() {
        let mut f = BandFold::default();
        for run in [[1.0, 10.0], [2.0, f64::NAN], [3.0, 30.0], [4.0, f64::NAN], [5.0, f64::NAN]] {
            f.add(BandRun { xs: vec![1.0, 2.0], series: vec![(("lag", "t/g".into()), run.to_vec())] });
        }
        let p = f.points("lag", "t/g");
        assert_eq!(p.len(), 2);
        // 1..=5: mean 3, half-width t(4)·sqrt(2.5/5).
        assert!((p[0].mean - 3.0).abs() < 1e-12);
        assert!((p[0].hi - 3.0 - 2.776 * 0.5f64.sqrt()).abs() < 1e-9);
        // Two values, 10 and 30: mean 20, sd sqrt(200), t(1) = 12.706.
        assert!((p[1].mean - 20.0).abs() < 1e-12);
        assert!((p[1].lo - (20.0 - 12.706 * 10.0)).abs() < 1e-9);
        assert!(f.points("lag", "other").is_empty());
    }
}
