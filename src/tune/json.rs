//! `tune.json`: the question, the rule, the answer (best, tied, Pareto front, the
//! `variants` entry), the rungs, and every candidate with its figures per seed, its
//! fate and why; enough to audit the race and to replay it (`argv`).

use super::report::{FORMAT, RULE, Report, design_text, goal_kind};
use serde::Serialize;
use serde_json::{Map, Value};

/// A JSON number rounded to 6 decimals, `null` when not finite.
fn j(x: f64) -> Option<f64> {
    x.is_finite().then(|| crate::report::summary::r6(x))
}

#[derive(Serialize)]
struct JGoal<'a> {
    goal: &'a str,
    kind: &'static str,
    from: &'static str,
}

#[derive(Serialize)]
struct JFigure<'a> {
    goal: &'a str,
    mean: Option<f64>,
    ci95: Option<f64>,
}

#[derive(Serialize)]
struct JCandidate<'a> {
    candidate: usize,
    params: Map<String, Value>,
    seeds_run: usize,
    fate: &'static str,
    stopped_after_seeds: Option<usize>,
    why: String,
    figures: Vec<JFigure<'a>>,
    /// Per seed run, each goal's figure.
    values: Vec<Vec<Option<f64>>>,
}

#[derive(Serialize)]
struct JRung {
    seeds: usize,
    candidates: usize,
    runs: usize,
    stopped: usize,
}

#[derive(Serialize)]
struct Json<'a> {
    faultline_tune: u32,
    scenario: &'a str,
    scenario_hash: &'a str,
    command: &'a str,
    argv: &'a [String],
    design: String,
    params: Map<String, Value>,
    goals: Vec<JGoal<'a>>,
    seeds: &'a [u64],
    budget: usize,
    runs: usize,
    every_candidate_every_seed: usize,
    rule: &'static str,
    best: Option<usize>,
    tied: Vec<usize>,
    pareto: Vec<usize>,
    variant: Option<Value>,
    rungs: Vec<JRung>,
    candidates: Vec<JCandidate<'a>>,
}

/// `tune.json`.
pub fn to_json(r: &Report) -> String {
    let params =
        r.pointers.iter().zip(&r.param_values).map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
    let candidates = (0..r.points.len())
        .map(|p| JCandidate {
            candidate: p,
            params: r
                .pointers
                .iter()
                .zip(&r.points[p])
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect(),
            seeds_run: r.race.seeds_run(p),
            fate: r.race.fates[p].word(),
            stopped_after_seeds: r.race.fates[p].stopped_at(),
            why: r.why(p),
            figures: (0..r.goals.len())
                .map(|g| {
                    let (m, h) = r.stat(p, g);
                    JFigure { goal: &r.goals[g].text, mean: j(m), ci95: j(h) }
                })
                .collect(),
            values: r.race.values[p].iter().map(|v| v.iter().map(|x| j(*x)).collect()).collect(),
        })
        .collect();
    let json = Json {
        faultline_tune: FORMAT,
        scenario: &r.scenario,
        scenario_hash: &r.scenario_hash,
        command: &r.command,
        argv: &r.argv,
        design: design_text(r),
        params,
        goals: r
            .goals
            .iter()
            .map(|g| {
                let (kind, from) = goal_kind(g);
                JGoal { goal: &g.text, kind, from }
            })
            .collect(),
        seeds: &r.seeds,
        budget: r.budget,
        runs: r.race.runs,
        every_candidate_every_seed: r.full(),
        rule: RULE,
        best: r.race.best,
        tied: r.tied(),
        pareto: r.front(),
        variant: r.variant_entry(),
        rungs: r
            .race
            .rungs
            .iter()
            .map(|g| JRung { seeds: g.seeds, candidates: g.alive, runs: g.runs, stopped: g.stopped })
            .collect(),
        candidates,
    };
    serde_json::to_string_pretty(&json).unwrap_or_default() + "\n"
}
