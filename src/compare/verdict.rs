//! What a comparison concludes: per figure the best variant, how it differs from the
//! baseline and from the runner-up (paired, with a 95% interval), and, per variant, on
//! how many seeds each threshold held.

use super::stats::{Better, Paired, best, mean_ci, paired};
use super::{Comparison, Figure};
use crate::report::summary::ThresholdVerdict;

/// One threshold of the scenario, over the seeds of one variant.
#[derive(Clone, Debug, PartialEq)]
pub struct ThresholdTally {
    /// A workload's name, `saga:NAME` or `topic:TOPIC/GROUP`.
    pub scope: String,
    pub expression: String,
    /// Seeds on which it held.
    pub held: usize,
    /// Seeds evaluated.
    pub runs: usize,
    /// The measured value per seed (`None`: nothing measured).
    pub values: Vec<Option<f64>>,
}

impl ThresholdTally {
    /// Whether it held on every seed (and was evaluated at all).
    pub fn holds(&self) -> bool {
        self.runs > 0 && self.held == self.runs
    }

    /// "holds on every seed (5)", "holds on 3 of 5 seeds", "fails on every seed (5)".
    pub fn words(&self) -> String {
        if self.holds() {
            format!("holds on every seed ({})", self.runs)
        } else if self.held == 0 {
            format!("fails on every seed ({})", self.runs)
        } else {
            format!("holds on {} of {} seeds", self.held, self.runs)
        }
    }
}

/// Folds one run's threshold verdicts into a variant's tallies (matched by scope and
/// expression; a new one is appended in the order it first appears).
pub(super) fn tally(into: &mut Vec<ThresholdTally>, run: &[ThresholdVerdict]) {
    for t in run {
        let i = match into.iter().position(|x| x.scope == t.scope && x.expression == t.expression) {
            Some(i) => i,
            None => {
                into.push(ThresholdTally {
                    scope: t.scope.clone(),
                    expression: t.expression.clone(),
                    held: 0,
                    runs: 0,
                    values: Vec::new(),
                });
                into.len() - 1
            }
        };
        let x = &mut into[i];
        x.runs += 1;
        x.held += t.pass as usize;
        x.values.push(t.value);
    }
}

/// The best variant at one figure and how sure the seeds are of it.
#[derive(Clone, Debug)]
pub struct Winner {
    /// Each variant's mean over the seeds.
    pub means: Vec<f64>,
    /// The variants with the best mean (ties share it); empty when the figure has no
    /// direction or every variant has the same mean.
    pub best: Vec<usize>,
    /// The best (the first of a tie) against the baseline: `best − baseline`, paired.
    pub vs_baseline: Option<Paired>,
    /// The runner-up (the best of the others) and `best − runner-up`, paired.
    pub vs_runner_up: Option<(usize, Paired)>,
    /// Every variant against the baseline, paired (`variant − baseline`).
    pub each_vs_baseline: Vec<Paired>,
}

/// The winner at figure `k` of a table (`per_variant[v][k]`); the baseline is variant 0.
pub fn winner_of(per_variant: &[Vec<Figure>], k: usize) -> Winner {
    let means: Vec<f64> =
        per_variant.iter().map(|f| f.get(k).map_or(f64::NAN, |f| mean_ci(&f.per_seed).0)).collect();
    let better = per_variant.first().and_then(|f| f.get(k)).map_or(Better::Neither, |f| f.better);
    let winners = best(&means, better);
    let seeds = |v: usize| per_variant[v].get(k).map(|f| f.per_seed.as_slice()).unwrap_or(&[]);
    let (vs_baseline, vs_runner_up) = match winners.first() {
        Some(&w) => {
            let base = (w != 0).then(|| paired(seeds(0), seeds(w)));
            let others: Vec<f64> = means
                .iter()
                .enumerate()
                .map(|(i, m)| if winners.contains(&i) { f64::NAN } else { *m })
                .collect();
            let runner = best(&others, better).into_iter().find(|i| !winners.contains(i));
            (base, runner.map(|r| (r, paired(seeds(r), seeds(w)))))
        }
        None => (None, None),
    };
    let each_vs_baseline = (0..per_variant.len()).map(|v| paired(seeds(0), seeds(v))).collect();
    Winner { means, best: winners, vs_baseline, vs_runner_up, each_vs_baseline }
}

/// One line of the verdict: a headline figure of one table and its winner.
#[derive(Clone, Debug)]
pub struct Headline {
    /// The table: `workload searchers`, `saga fulfillment`, `consumer group t/g`.
    pub table: String,
    pub figure: &'static str,
    pub unit: &'static str,
    pub better: Better,
    pub winner: Winner,
}

/// The figures the verdict leads with, by the kind of table: a workload's success,
/// goodput and p99; a saga's completed share and orphans; a group's max lag and
/// duplicates.
fn is_headline(table: &str, figure: &str) -> bool {
    if table.starts_with("workload ") {
        ["success", "goodput", "p99"].contains(&figure)
    } else if table.starts_with("saga ") {
        ["completed", "orphaned"].contains(&figure)
    } else {
        ["max lag", "duplicates"].contains(&figure)
    }
}

/// The verdict's lines, table by table, in the tables' order.
pub fn headlines(c: &Comparison) -> Vec<Headline> {
    let mut out = Vec::new();
    for (table, per_variant) in super::cells::table_list(c) {
        let Some(first) = per_variant.first() else { continue };
        for (k, f) in first.iter().enumerate() {
            if is_headline(&table, f.name) && f.better != Better::Neither {
                out.push(Headline {
                    table: table.clone(),
                    figure: f.name,
                    unit: f.unit,
                    better: f.better,
                    winner: winner_of(per_variant, k),
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(scope: &str, pass: bool, value: f64) -> ThresholdVerdict {
        ThresholdVerdict { scope: scope.into(), expression: "p99 < 500ms".into(), value: Some(value), pass }
    }

    #[test]
    fn thresholds_are_tallied_over_the_seeds() {
        let mut t = Vec::new();
        tally(&mut t, &[v("buyers", true, 120.0), v("saga:f", true, 1.0)]);
        tally(&mut t, &[v("buyers", false, 640.0), v("saga:f", true, 2.0)]);
        tally(&mut t, &[v("buyers", true, 300.0), v("saga:f", true, 0.0)]);
        assert_eq!(t.len(), 2);
        assert_eq!((t[0].held, t[0].runs), (2, 3));
        assert!(!t[0].holds());
        assert_eq!(t[0].words(), "holds on 2 of 3 seeds");
        assert_eq!(t[0].values, [Some(120.0), Some(640.0), Some(300.0)]);
        assert!(t[1].holds());
        assert_eq!(t[1].words(), "holds on every seed (3)");
        let mut f = Vec::new();
        tally(&mut f, &[v("buyers", false, 900.0)]);
        assert_eq!(f[0].words(), "fails on every seed (1)");
    }
}
