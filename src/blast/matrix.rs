//! The matrix: per row (a service or a broker down) and per column (a workload, a saga,
//! a consumer group), each figure's mean over the seeds with its 95% interval, its
//! paired difference to the healthy run on the same seeds, and the cell's class.
//!
//! **Classification.** Each kind of column has a *level* figure: a workload's success
//! (ok ÷ finished, %), a saga's completed share (%), a group's messages delivered as a
//! share of the healthy run's on the same seed (%). A cell is
//! - **down** when its mean level is at most [`DOWN_LEVEL`] (10%) and at least one
//!   point below the healthy level (a column already down when healthy is not "taken
//!   down"), or when nothing finished at all (no level measured where the healthy run
//!   had one);
//! - **degraded** when it is not down and some figure moved the worse way by at least
//!   its materiality bound (the figure's `min` below: one percentage point of success,
//!   of degraded responses or of completed sagas, one orphan per 1000 sagas, one lost
//!   message, 20% of the healthy p99 or max lag), and, with more than one seed, the
//!   paired 95% interval of that move excludes zero (the seeds show it is not noise);
//! - **unaffected** otherwise. A row that changes nothing a column's requests touch gives
//!   runs identical to the healthy ones (the random streams are named by purpose), so
//!   its cells are exactly unaffected.

use super::figures::RunFigures;
use crate::compare::{Paired, Verdict, mean_ci, paired};

/// A level at or below this (percent) is down.
pub const DOWN_LEVEL: f64 = 10.0;

/// How a figure's move is judged.
#[derive(Clone, Copy, Debug)]
pub enum Worse {
    Higher,
    Lower,
    /// Reported, never a reason (e.g. compensated sagas: a mechanism working).
    Neither,
}

/// The smallest move the worse way that counts.
#[derive(Clone, Copy, Debug)]
pub enum Min {
    /// In the figure's unit.
    Abs(f64),
    /// A share of the healthy mean, and at least this much in the unit.
    Rel(f64, f64),
}

/// One figure of a column kind.
#[derive(Debug)]
pub struct FigDef {
    /// Its key in blast.json.
    pub key: &'static str,
    /// Its name in the page.
    pub label: &'static str,
    /// `%`, `ms`, `per 1000`, or empty.
    pub unit: &'static str,
    pub worse: Worse,
    pub min: Min,
}

const fn fig(key: &'static str, label: &'static str, unit: &'static str, worse: Worse, min: Min) -> FigDef {
    FigDef { key, label, unit, worse, min }
}

pub static WORKLOAD_FIGS: [FigDef; 3] = [
    fig("success", "success", "%", Worse::Lower, Min::Abs(1.0)),
    fig("degraded", "degraded", "%", Worse::Higher, Min::Abs(1.0)),
    fig("p99_ms", "p99", "ms", Worse::Higher, Min::Rel(0.2, 1.0)),
];
pub static SAGA_FIGS: [FigDef; 5] = [
    fig("completed", "completed", "%", Worse::Lower, Min::Abs(1.0)),
    fig("compensated", "compensated", "%", Worse::Neither, Min::Abs(1.0)),
    fig("compensation_failed", "compensation failed", "%", Worse::Higher, Min::Abs(1.0)),
    fig("abandoned", "abandoned", "%", Worse::Higher, Min::Abs(1.0)),
    fig("orphaned_per_1000", "orphaned", "per 1000", Worse::Higher, Min::Abs(1.0)),
];
pub static GROUP_FIGS: [FigDef; 4] = [
    fig("delivered", "delivered (of healthy)", "%", Worse::Lower, Min::Abs(1.0)),
    fig("lost", "dead-lettered or dropped", "", Worse::Higher, Min::Abs(1.0)),
    fig("max_lag", "max lag", "", Worse::Higher, Min::Rel(0.2, 10.0)),
    fig("p99_ms", "p99 publish to handled", "ms", Worse::Higher, Min::Rel(0.2, 1.0)),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Class {
    Unaffected,
    Degraded,
    Down,
}

impl Class {
    pub fn word(self) -> &'static str {
        match self {
            Class::Unaffected => "unaffected",
            Class::Degraded => "degraded",
            Class::Down => "down",
        }
    }
}

/// One figure of one cell.
#[derive(Clone, Debug)]
pub struct FigCell {
    pub def: &'static FigDef,
    /// Mean over the seeds and the half-width of its 95% interval (NaN with one seed).
    pub mean: f64,
    pub ci95: f64,
    /// The paired difference to the healthy run (this row − healthy).
    pub diff: Paired,
    /// Whether it moved the worse way by at least its bound (and, over several seeds,
    /// significantly): a reason the cell is degraded.
    pub moved: bool,
}

/// One cell: its figures (the level first) and class.
#[derive(Clone, Debug)]
pub struct Cell {
    pub figs: Vec<FigCell>,
    pub class: Class,
}

impl Cell {
    pub fn level(&self) -> &FigCell {
        &self.figs[0]
    }

    /// The fall of the level from the healthy run, in points (≥ 0 when worse; NaN when
    /// not measured).
    pub fn drop(&self) -> f64 {
        -self.level().diff.mean
    }

    /// The figures that made it degraded, in words: `success −3.2 points`.
    pub fn reasons(&self) -> Vec<String> {
        self.figs.iter().filter(|f| f.moved).map(|f| f.def.label.to_string()).collect()
    }
}

/// Per-seed series of one column's figures: `[figure][seed]`.
pub type Series = Vec<Vec<f64>>;

/// A cell from the healthy series and this row's, both `[figure][seed]`.
pub fn cell(defs: &'static [FigDef], healthy: &Series, row: &Series) -> Cell {
    let n_seeds = row.first().map_or(0, |s| s.len());
    let mut figs = Vec::with_capacity(defs.len());
    for (k, def) in defs.iter().enumerate() {
        let (mean, ci95) = mean_ci(&row[k]);
        let (h_mean, _) = mean_ci(&healthy[k]);
        let diff = paired(&healthy[k], &row[k]);
        let worse_by = match def.worse {
            Worse::Higher => diff.mean,
            Worse::Lower => -diff.mean,
            Worse::Neither => f64::NAN,
        };
        let bound = match def.min {
            Min::Abs(a) => a,
            Min::Rel(r, floor) => (r * h_mean.abs()).max(floor),
        };
        let significant = n_seeds <= 1 || diff.verdict == Verdict::Significant;
        let moved = worse_by >= bound && significant && diff.verdict != Verdict::Identical;
        figs.push(FigCell { def, mean, ci95, diff, moved });
    }
    let (h_level, _) = mean_ci(&healthy[0]);
    let level = figs[0].mean;
    let class = if (level <= DOWN_LEVEL && h_level - level >= 1.0) || (level.is_nan() && !h_level.is_nan()) {
        Class::Down
    } else if figs.iter().any(|f| f.moved) {
        Class::Degraded
    } else {
        Class::Unaffected
    };
    Cell { figs, class }
}

/// The three kinds of columns' series of a set of runs (one per seed, in seed order):
/// `(workloads, sagas, groups)`, each `[column][figure][seed]`. `healthy_delivered`
/// (per group, per seed) turns a group's deliveries into a share of the healthy run's;
/// `None` for the healthy run itself (its share is 100%).
pub fn series(
    runs: &[RunFigures],
    healthy_delivered: Option<&[Vec<f64>]>,
) -> (Vec<Series>, Vec<Series>, Vec<Series>) {
    let Some(first) = runs.first() else { return (Vec::new(), Vec::new(), Vec::new()) };
    let col = |n: usize, f: &dyn Fn(&RunFigures, usize) -> Vec<f64>| -> Vec<Series> {
        (0..n)
            .map(|c| {
                let per_run: Vec<Vec<f64>> = runs.iter().map(|r| f(r, c)).collect();
                let k = per_run.first().map_or(0, |v| v.len());
                (0..k).map(|i| per_run.iter().map(|v| v[i]).collect()).collect()
            })
            .collect()
    };
    let w = col(first.workloads.len(), &|r, c| {
        let x = r.workloads[c];
        vec![x.success, x.degraded, x.p99_ms]
    });
    let s = col(first.sagas.len(), &|r, c| {
        let x = r.sagas[c];
        vec![x.completed, x.compensated, x.compensation_failed, x.abandoned, x.orphaned_per_1000]
    });
    let g: Vec<Series> = (0..first.groups.len())
        .map(|c| {
            let delivered: Vec<f64> = runs
                .iter()
                .enumerate()
                .map(|(i, r)| match healthy_delivered {
                    None => {
                        if r.groups[c].delivered > 0.0 {
                            100.0
                        } else {
                            f64::NAN
                        }
                    }
                    Some(h) => {
                        let base = h[c][i];
                        if base > 0.0 { r.groups[c].delivered / base * 100.0 } else { f64::NAN }
                    }
                })
                .collect();
            vec![
                delivered,
                runs.iter().map(|r| r.groups[c].lost).collect(),
                runs.iter().map(|r| r.groups[c].max_lag).collect(),
                runs.iter().map(|r| r.groups[c].p99_ms).collect(),
            ]
        })
        .collect();
    (w, s, g)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&[f64]]) -> Series {
        v.iter().map(|x| x.to_vec()).collect()
    }

    #[test]
    fn the_class_follows_the_documented_rule() {
        let healthy = s(&[&[99.0, 99.5, 99.2], &[0.0, 0.0, 0.0], &[100.0, 110.0, 105.0]]);
        // Identical runs: unaffected, whatever the figures.
        assert_eq!(cell(&WORKLOAD_FIGS, &healthy, &healthy).class, Class::Unaffected);
        // Success to 5%: down.
        let down = s(&[&[5.0, 4.0, 6.0], &[0.0, 0.0, 0.0], &[100.0, 110.0, 105.0]]);
        assert_eq!(cell(&WORKLOAD_FIGS, &healthy, &down).class, Class::Down);
        // Degraded responses up 30 points, success unchanged: degraded, for that reason.
        let deg = s(&[&[99.0, 99.5, 99.2], &[30.0, 31.0, 29.0], &[100.0, 110.0, 105.0]]);
        let c = cell(&WORKLOAD_FIGS, &healthy, &deg);
        assert_eq!((c.class, c.reasons()), (Class::Degraded, vec!["degraded".to_string()]));
        // p99 up 10% only: under the 20% bound.
        let slow = s(&[&[99.0, 99.5, 99.2], &[0.0, 0.0, 0.0], &[110.0, 121.0, 115.5]]);
        assert_eq!(cell(&WORKLOAD_FIGS, &healthy, &slow).class, Class::Unaffected);
        // A large but noisy move (the interval contains zero) is not a reason.
        let noisy = s(&[&[80.0, 99.9, 99.9], &[0.0, 0.0, 0.0], &[100.0, 110.0, 105.0]]);
        assert_eq!(cell(&WORKLOAD_FIGS, &healthy, &noisy).class, Class::Unaffected);
        // Nothing finished where the healthy run finished requests: down.
        let none = s(&[&[f64::NAN; 3], &[f64::NAN; 3], &[f64::NAN; 3]]);
        assert_eq!(cell(&WORKLOAD_FIGS, &healthy, &none).class, Class::Down);
        // One seed: the bound alone decides.
        let one_h = s(&[&[99.0], &[0.0], &[100.0]]);
        let one = s(&[&[97.5], &[0.0], &[100.0]]);
        assert_eq!(cell(&WORKLOAD_FIGS, &one_h, &one).class, Class::Degraded);
    }
}
