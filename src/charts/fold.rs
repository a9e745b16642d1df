//! What a comparison's overlay charts need of its runs, folded one run at a time in
//! seed order: [`RunCharts`] of one run, [`VariantRuns`] per variant (merged histograms,
//! per-interval sums). Its size does not grow with the number of seeds.

use super::data::{column_values, rate_values, times_s};
use crate::metrics::{LatencyHist, Scope};
use crate::model::RunOutput;
use crate::spec::Spec;

/// What the comparison charts need of one variant's runs, folded in one run at a time
/// (in seed order, so that the sums are always added in the same order): per workload
/// of the variant, its latency histogram merged over the seeds and, per interval, the
/// sum and the count of the seeds' finite goodput and p99 values. Its size does not
/// grow with the number of seeds.
#[derive(Debug)]
pub struct VariantRuns {
    pub name: String,
    pub spec: Spec,
    /// Runs folded in so far.
    pub runs: usize,
    /// Interval ends (s) of the first run.
    pub(super) xs: Vec<f64>,
    /// The fewest intervals of any run folded in.
    pub(super) n: usize,
    /// Per workload of `spec`, in its order.
    pub(super) workloads: Vec<WorkloadFold>,
}

#[derive(Debug, Default)]
pub(super) struct WorkloadFold {
    pub(super) latency: LatencyHist,
    pub(super) goodput: Vec<(f64, usize)>,
    pub(super) p99: Vec<(f64, usize)>,
}

/// What the comparison charts need of one run (see [`VariantRuns`]), taken from it as
/// soon as it finishes so that the run itself can be dropped.
#[derive(Debug)]
pub struct RunCharts {
    pub(super) xs: Vec<f64>,
    /// Per workload of the spec: latency, goodput and p99 per interval.
    pub(super) workloads: Vec<(LatencyHist, Vec<f64>, Vec<f64>)>,
}

impl RunCharts {
    /// Takes the chart data of `out`, a run of `spec`.
    pub fn of(spec: &Spec, out: &RunOutput) -> RunCharts {
        let workloads = spec
            .workloads
            .iter()
            .enumerate()
            .map(|(i, w)| {
                let latency = out.workloads.get(i).map(|f| f.latency.clone()).unwrap_or_default();
                (
                    latency,
                    rate_values(&out.series, Scope::Workload, &w.name, "ok"),
                    column_values(&out.series, Scope::Workload, &w.name, "p99_ms"),
                )
            })
            .collect();
        RunCharts { xs: times_s(&out.series), workloads }
    }
}

/// Adds the finite values of `vals` to the running `(sum, count)` of each interval.
pub(super) fn fold_values(acc: &mut [(f64, usize)], vals: &[f64]) {
    for (a, v) in acc.iter_mut().zip(vals) {
        if v.is_finite() {
            a.0 += v;
            a.1 += 1;
        }
    }
}

impl VariantRuns {
    /// No runs yet.
    pub fn new(name: String, spec: Spec) -> VariantRuns {
        let workloads = spec.workloads.iter().map(|_| WorkloadFold::default()).collect();
        VariantRuns { name, spec, runs: 0, xs: Vec::new(), n: 0, workloads }
    }

    /// Folds in one more run of this variant; call it in seed order.
    pub fn add(&mut self, run: RunCharts) {
        if self.runs == 0 {
            self.n = run.xs.len();
            // Sums start at -0.0, as `Iterator::sum` of floats does.
            for w in &mut self.workloads {
                w.goodput = vec![(-0.0, 0); run.xs.len()];
                w.p99 = vec![(-0.0, 0); run.xs.len()];
            }
            self.xs = run.xs;
        } else {
            self.n = self.n.min(run.xs.len());
        }
        self.runs += 1;
        for (w, (latency, goodput, p99)) in self.workloads.iter_mut().zip(run.workloads) {
            w.latency.merge(&latency);
            fold_values(&mut w.goodput, &goodput);
            fold_values(&mut w.p99, &p99);
        }
    }

    /// Folds in one more run of this variant (its chart data); call it in seed order.
    pub fn add_run(&mut self, out: &RunOutput) {
        let r = RunCharts::of(&self.spec, out);
        self.add(r);
    }
}

#[derive(Clone, Copy)]
pub(super) enum Metric {
    Goodput,
    P99,
}

/// `(interval end in s, mean over the seeds that have a value)`; `NaN` where none has.
/// A workload the variant does not have reads as no successes and no latency.
pub(super) fn mean_over_seeds(v: &VariantRuns, wl: &str, m: Metric) -> Vec<(f64, f64)> {
    if v.runs == 0 {
        return Vec::new();
    }
    let fold = v.spec.workloads.iter().position(|w| w.name == wl).map(|i| &v.workloads[i]);
    (0..v.n)
        .map(|i| {
            let (sum, count) = match (fold, m) {
                (Some(f), Metric::Goodput) => f.goodput[i],
                (Some(f), Metric::P99) => f.p99[i],
                (None, Metric::Goodput) => (0.0, v.runs),
                (None, Metric::P99) => (0.0, 0),
            };
            (v.xs[i], if count == 0 { f64::NAN } else { sum / count as f64 })
        })
        .collect()
}
