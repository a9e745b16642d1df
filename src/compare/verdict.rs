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
    /// For a latency figure of a workload (successful responses only): set when a
    /// variant best at it also succeeds less, by more than `SUCCESS_GAP` points, than
    /// another variant. Its requests that failed are not in its latency, so a variant
    /// that fails its slow requests looks fast.
    pub caveat: Option<SuccessGap>,
}

/// A latency winner that succeeds less than another variant (see `Headline::caveat`).
#[derive(Clone, Debug, PartialEq)]
pub struct SuccessGap {
    /// The best variant at the latency figure (the first of a tie) and its mean success.
    pub variant: usize,
    pub success: f64,
    /// The variant with the highest mean success, and that success.
    pub most: usize,
    pub most_success: f64,
}

/// Success points (percent) under the most successful variant from which a latency
/// winner is flagged: one request in a hundred more failing is enough to take its
/// slowest responses out of the latency.
pub const SUCCESS_GAP: f64 = 1.0;

impl SuccessGap {
    /// "success 20.14% against 37.80% for static-bulkhead: latency counts successful
    /// responses only, so failing the slow requests makes a variant look fast".
    pub fn words(&self, variants: &[String]) -> String {
        format!(
            "{} succeeds {:.2}% against {:.2}% for {}: latency counts successful responses only, so failing the \
             slow requests makes a variant look fast",
            variants[self.variant], self.success, self.most_success, variants[self.most]
        )
    }
}

/// The caveat of a latency headline of a workload table: the winner against the
/// variant with the highest mean success in the same table.
fn success_gap(per_variant: &[Vec<Figure>], figure: &Figure, winner: &Winner) -> Option<SuccessGap> {
    if figure.unit != "ms" {
        return None;
    }
    let &w = winner.best.first()?;
    let k = per_variant.first()?.iter().position(|f| f.name == "success")?;
    let success: Vec<f64> =
        per_variant.iter().map(|f| f.get(k).map_or(f64::NAN, |f| mean_ci(&f.per_seed).0)).collect();
    let (most, &most_success) =
        success.iter().enumerate().filter(|(_, s)| s.is_finite()).max_by(|a, b| a.1.total_cmp(b.1))?;
    let gap = most_success - success[w];
    (gap > SUCCESS_GAP).then_some(SuccessGap { variant: w, success: success[w], most, most_success })
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
                let winner = winner_of(per_variant, k);
                let caveat =
                    if table.starts_with("workload ") { success_gap(per_variant, f, &winner) } else { None };
                out.push(Headline {
                    table: table.clone(),
                    figure: f.name,
                    unit: f.unit,
                    better: f.better,
                    winner,
                    caveat,
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

    fn figs(success: [f64; 2], p99: [f64; 2]) -> Vec<Figure> {
        vec![
            Figure { name: "success", unit: "%", better: Better::Higher, per_seed: success.to_vec() },
            Figure { name: "p99", unit: "ms", better: Better::Lower, per_seed: p99.to_vec() },
        ]
    }

    #[test]
    fn a_fast_variant_that_fails_more_is_flagged() {
        // Variant 1 is fastest but succeeds 20% against the baseline's 38%.
        let per_variant = vec![figs([37.0, 39.0], [500.0, 510.0]), figs([19.0, 21.0], [300.0, 310.0])];
        let w = winner_of(&per_variant, 1);
        assert_eq!(w.best, [1]);
        let g = success_gap(&per_variant, &per_variant[0][1], &w).expect("flagged");
        assert_eq!((g.variant, g.most), (1, 0));
        assert_eq!((g.success, g.most_success), (20.0, 38.0));
        let names = ["bulkhead".to_string(), "none".to_string()];
        assert!(
            g.words(&names).starts_with("none succeeds 20.00% against 38.00% for bulkhead"),
            "{}",
            g.words(&names)
        );
        // Success is not a latency: never flagged; nor a winner within a point.
        assert_eq!(success_gap(&per_variant, &per_variant[0][0], &winner_of(&per_variant, 0)), None);
        let close = vec![figs([99.0, 99.0], [500.0, 510.0]), figs([98.5, 98.5], [300.0, 310.0])];
        assert_eq!(success_gap(&close, &close[0][1], &winner_of(&close, 1)), None);
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
