//! The race: which candidates get more seeds, and which stop.
//!
//! The rule (README, Tuning), after successive halving (Jamieson and Talwalkar, 2016)
//! for the schedule and F-race / irace (Birattari et al., 2002; López-Ibáñez et al.,
//! 2016) for the eliminations:
//!
//! - **Rungs.** Every candidate runs the first 2 seeds; the survivors then run up to 4,
//!   8, … seeds, doubling, and the last rung is all N. Every candidate alive at a rung
//!   has run the same seeds (the scenario's seed and the ones after it), so two
//!   candidates are compared seed by seed: common random numbers.
//! - **Clearly infeasible.** After each rung, a candidate whose 95% confidence interval
//!   (Student's t over its seeds) of a constraint's figure lies wholly on the failing
//!   side of the bound stops; so does one where a constraint or an objective measured
//!   nothing on some seed (a figure with no data fails, as a threshold does).
//! - **Clearly worse.** The *incumbents* are the candidates whose means meet every
//!   constraint and that no other such candidate beats on every objective's mean (with
//!   one objective: the best mean). A candidate stops when, against some incumbent, the
//!   95% interval of the paired difference (seed by seed) excludes zero on the worse
//!   side for every objective. This is F-race's post-test against the best, with
//!   paired t-intervals in place of Friedman's ranks, because the figures are means of
//!   many requests (near normal) and the pairing removes the seed's share of the noise.
//! - **Budget.** A run is one (candidate, seed) pair. When the budget cannot give every
//!   survivor the next rung, the best-ranked survivors that it can afford go on
//!   (ranked by the number of constraints their means fail, then the first objective's
//!   mean), as successive halving keeps its best; the others stop, "out of budget".
//!   When it cannot afford even one more rung for one candidate, the race ends.
//!
//! At the end, among the candidates still in the race: the best is the one with the
//! best first objective among those whose means meet every constraint; *tied* are the
//! others meeting them whose paired interval on the first objective against the best
//! contains zero; the Pareto front (two objectives) holds those no other beats on both
//! means. The race is a pure function of the figures of the runs, taken in (candidate,
//! seed) order, so it does not depend on the threads.

use super::goal::{Goal, cost, holds, shortfall};
use crate::compare::{Paired, Verdict, mean_ci, paired};
use crate::spec::Op;

/// Seeds of the first rung.
pub const FIRST: usize = 2;

/// Why a candidate stopped, or where it stands at the end.
#[derive(Clone, Debug, PartialEq)]
pub enum Fate {
    /// The answer.
    Best,
    /// Its interval against the best on the first objective contains zero.
    Tied(Paired),
    /// On the Pareto front of the two objectives (by means), not tied with the best.
    Front(Paired),
    /// Ran to the end, meets the constraints, neither tied nor on the front, and not
    /// clearly worse than an incumbent either.
    Behind(Paired),
    /// Ran to the end; its mean fails constraint `goal` (not clearly: the interval
    /// straddles the bound).
    Unmet { goal: usize, mean: f64, half: f64, short: f64 },
    /// Stopped: the whole interval of constraint `goal` fails it.
    Infeasible { goal: usize, mean: f64, half: f64, short: f64, seeds: usize },
    /// Stopped: goal `goal` measured nothing on some seed.
    NoData { goal: usize, seeds: usize },
    /// Stopped: clearly worse than candidate `by` on every objective (differences,
    /// this minus `by`, in each objective's cost direction).
    Worse { by: usize, diffs: Vec<Paired>, seeds: usize },
    /// Stopped: the budget could not give it the next rung (ranked `rank` of `of`).
    Budget { rank: usize, of: usize, seeds: usize },
}

impl Fate {
    /// The seeds after which it stopped, when it did.
    pub fn stopped_at(&self) -> Option<usize> {
        match self {
            Fate::Infeasible { seeds, .. }
            | Fate::NoData { seeds, .. }
            | Fate::Worse { seeds, .. }
            | Fate::Budget { seeds, .. } => Some(*seeds),
            _ => None,
        }
    }

    /// One word for tables and JSON.
    pub fn word(&self) -> &'static str {
        match self {
            Fate::Best => "best",
            Fate::Tied(_) => "tied",
            Fate::Front(_) => "pareto",
            Fate::Behind(_) => "behind",
            Fate::Unmet { .. } => "infeasible",
            Fate::Infeasible { .. } => "stopped: infeasible",
            Fate::NoData { .. } => "stopped: no data",
            Fate::Worse { .. } => "stopped: worse",
            Fate::Budget { .. } => "stopped: budget",
        }
    }
}

/// One rung: its seeds, the candidates that ran it, the runs it took, how many stopped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rung {
    pub seeds: usize,
    pub alive: usize,
    pub runs: usize,
    pub stopped: usize,
}

/// What the race did.
#[derive(Clone, Debug)]
pub struct Race {
    /// `values[point][seed index][goal]`; NaN: not measured.
    pub values: Vec<Vec<Vec<f64>>>,
    pub fates: Vec<Fate>,
    pub rungs: Vec<Rung>,
    pub runs: usize,
    pub best: Option<usize>,
}

impl Race {
    /// A goal's figures over the seeds a point ran.
    pub fn column(&self, p: usize, g: usize) -> Vec<f64> {
        self.values[p].iter().map(|v| v[g]).collect()
    }

    pub fn seeds_run(&self, p: usize) -> usize {
        self.values[p].len()
    }
}

/// The seeds of each rung: 2, 4, 8, …, `n` (fewer when `n` is small).
pub fn schedule(n: usize) -> Vec<usize> {
    let mut out = Vec::new();
    let mut k = FIRST.min(n).max(1);
    while k < n {
        out.push(k);
        k *= 2;
    }
    out.push(n);
    out
}

/// Runs `(point, seed index)` pairs and returns each one's figure per goal, in pair
/// order.
pub type Eval<'a, E> = dyn FnMut(&[(usize, usize)]) -> Result<Vec<Vec<f64>>, E> + 'a;

/// Runs the race over `n_points` candidates and `seeds` seeds within `budget` runs;
/// `eval(pairs)` runs `(point, seed index)` pairs and returns each one's figure per
/// goal, in pair order.
pub fn race<E>(
    n_points: usize,
    goals: &[Goal],
    seeds: usize,
    budget: usize,
    eval: &mut Eval<'_, E>,
) -> Result<Race, E> {
    let mut values: Vec<Vec<Vec<f64>>> = vec![Vec::new(); n_points];
    let mut fates: Vec<Option<Fate>> = vec![None; n_points];
    let mut rungs = Vec::new();
    let mut runs = 0usize;
    let mut cur = 0usize;
    for next in schedule(seeds) {
        let mut alive: Vec<usize> = (0..n_points).filter(|&p| fates[p].is_none()).collect();
        if alive.is_empty() {
            break;
        }
        let step = next - cur;
        let afford = budget.saturating_sub(runs) / step;
        if afford == 0 {
            break;
        }
        if afford < alive.len() {
            let ranked = rank(&values, goals, &alive);
            let of = ranked.len();
            for (r, &p) in ranked.iter().enumerate().skip(afford) {
                fates[p] = Some(Fate::Budget { rank: r + 1, of, seeds: cur });
            }
            alive = ranked[..afford].to_vec();
            alive.sort_unstable();
        }
        let pairs: Vec<(usize, usize)> =
            alive.iter().flat_map(|&p| (cur..next).map(move |s| (p, s))).collect();
        let got = eval(&pairs)?;
        for (&(p, _), v) in pairs.iter().zip(got) {
            values[p].push(v);
        }
        runs += pairs.len();
        cur = next;
        let stopped = eliminate(&values, goals, &alive, cur, &mut fates);
        rungs.push(Rung { seeds: cur, alive: alive.len(), runs: pairs.len(), stopped });
    }
    let best = finish(&values, goals, &mut fates);
    let fates = fates.into_iter().map(|f| f.unwrap_or(Fate::Behind(no_pair()))).collect();
    Ok(Race { values, fates, rungs, runs, best })
}

fn no_pair() -> Paired {
    Paired { n: 0, mean: f64::NAN, lo: f64::NAN, hi: f64::NAN, verdict: Verdict::Unknown }
}

fn col(values: &[Vec<Vec<f64>>], p: usize, g: usize) -> Vec<f64> {
    values[p].iter().map(|v| v[g]).collect()
}

fn costs(values: &[Vec<Vec<f64>>], goal: &Goal, g: usize, p: usize) -> Vec<f64> {
    col(values, p, g).into_iter().map(|v| cost(goal, v)).collect()
}

fn mean(xs: &[f64]) -> f64 {
    mean_ci(xs).0
}

/// Objectives' indices.
fn objectives(goals: &[Goal]) -> Vec<usize> {
    (0..goals.len()).filter(|&g| goals[g].sense.is_some()).collect()
}

/// Whether `p`'s means meet every constraint and every objective was measured.
fn meets(values: &[Vec<Vec<f64>>], goals: &[Goal], p: usize) -> bool {
    goals.iter().enumerate().all(|(g, goal)| {
        let m = mean(&col(values, p, g));
        m.is_finite() && holds(goal, m)
    })
}

/// The candidates meeting the constraints that no other such beats on every
/// objective's mean, ordered by the first objective's mean (then index).
fn incumbents(values: &[Vec<Vec<f64>>], goals: &[Goal], alive: &[usize]) -> Vec<usize> {
    let objs = objectives(goals);
    let ok: Vec<usize> = alive.iter().copied().filter(|&p| meets(values, goals, p)).collect();
    let m = |p: usize| -> Vec<f64> { objs.iter().map(|&g| mean(&costs(values, &goals[g], g, p))).collect() };
    let dominated = |p: usize| {
        ok.iter().any(|&q| {
            let (a, b) = (m(q), m(p));
            q != p && a.iter().zip(&b).all(|(x, y)| x <= y) && a.iter().zip(&b).any(|(x, y)| x < y)
        })
    };
    let mut inc: Vec<usize> = ok.iter().copied().filter(|&p| !dominated(p)).collect();
    inc.sort_by(|&a, &b| m(a)[0].total_cmp(&m(b)[0]).then(a.cmp(&b)));
    inc
}

/// The survivors ranked for the budget: fewest constraints failed by their means, then
/// the first objective's mean, then index.
fn rank(values: &[Vec<Vec<f64>>], goals: &[Goal], alive: &[usize]) -> Vec<usize> {
    let g0 = objectives(goals)[0];
    let key = |p: usize| {
        let failed = (0..goals.len())
            .filter(|&g| {
                let m = mean(&col(values, p, g));
                !(m.is_finite() && holds(&goals[g], m))
            })
            .count();
        (failed, mean(&costs(values, &goals[g0], g0, p)))
    };
    let mut r = alive.to_vec();
    r.sort_by(|&a, &b| {
        let (ka, kb) = (key(a), key(b));
        ka.0.cmp(&kb.0).then(ka.1.total_cmp(&kb.1)).then(a.cmp(&b))
    });
    r
}

/// Stops the clearly infeasible and the clearly worse among `alive` (each has `n`
/// seeds); returns how many stopped.
fn eliminate(
    values: &[Vec<Vec<f64>>],
    goals: &[Goal],
    alive: &[usize],
    n: usize,
    fates: &mut [Option<Fate>],
) -> usize {
    let mut stopped = 0;
    let mut left = Vec::new();
    for &p in alive {
        // Constraints first: a candidate that fails one is infeasible, whatever its
        // objectives measured.
        let order = (0..goals.len()).filter(|&g| goals[g].sense.is_none()).chain(objectives(goals));
        let fate = order.map(|g| (g, &goals[g])).find_map(|(g, goal)| {
            let xs = col(values, p, g);
            if goal.sense.is_some() {
                return xs.iter().any(|x| !x.is_finite()).then_some(Fate::NoData { goal: g, seeds: n });
            }
            if xs.iter().any(|x| !x.is_finite()) {
                return Some(Fate::NoData { goal: g, seeds: n });
            }
            let (m, h) = mean_ci(&xs);
            // The end of the interval most favourable to the constraint.
            let end = match goal.probe.op {
                Op::Lt | Op::Le => m - h,
                Op::Gt | Op::Ge => m + h,
            };
            (h.is_finite() && !holds(goal, end)).then(|| Fate::Infeasible {
                goal: g,
                mean: m,
                half: h,
                short: shortfall(goal, m),
                seeds: n,
            })
        });
        match fate {
            Some(f) => {
                fates[p] = Some(f);
                stopped += 1;
            }
            None => left.push(p),
        }
    }
    let inc = incumbents(values, goals, &left);
    let objs = objectives(goals);
    for &p in &left {
        if inc.contains(&p) {
            continue;
        }
        for &q in &inc {
            let diffs: Vec<Paired> = objs
                .iter()
                .map(|&g| paired(&costs(values, &goals[g], g, q), &costs(values, &goals[g], g, p)))
                .collect();
            if diffs.iter().all(|d| d.verdict == Verdict::Significant && d.lo > 0.0) {
                fates[p] = Some(Fate::Worse { by: q, diffs, seeds: n });
                stopped += 1;
                break;
            }
        }
    }
    stopped
}

/// Names the best, the tied, the front and the others still in the race.
fn finish(values: &[Vec<Vec<f64>>], goals: &[Goal], fates: &mut [Option<Fate>]) -> Option<usize> {
    let alive: Vec<usize> = (0..fates.len()).filter(|&p| fates[p].is_none()).collect();
    let objs = objectives(goals);
    let g0 = objs[0];
    let inc = incumbents(values, goals, &alive);
    let best = inc.first().copied();
    for &p in &alive {
        if !meets(values, goals, p) {
            let fate = goals
                .iter()
                .enumerate()
                .find_map(|(g, goal)| {
                    let (m, h) = mean_ci(&col(values, p, g));
                    (goal.sense.is_none() && !holds(goal, m)).then(|| Fate::Unmet {
                        goal: g,
                        mean: m,
                        half: h,
                        short: shortfall(goal, m),
                    })
                })
                .unwrap_or(Fate::Behind(no_pair()));
            fates[p] = Some(fate);
            continue;
        }
        let Some(b) = best else { continue };
        if p == b {
            fates[p] = Some(Fate::Best);
            continue;
        }
        let d = paired(&costs(values, &goals[g0], g0, b), &costs(values, &goals[g0], g0, p));
        fates[p] = Some(if d.verdict != Verdict::Significant {
            Fate::Tied(d)
        } else if objs.len() > 1 && inc.contains(&p) {
            Fate::Front(d)
        } else {
            Fate::Behind(d)
        });
    }
    best
}

#[cfg(test)]
mod tests;
