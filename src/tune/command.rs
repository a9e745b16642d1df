//! `faultline tune`: its arguments, the checks made before anything runs (the scenario,
//! every `--param`, every goal, every candidate resolved), the race on the rayon pool,
//! and the output.

use super::goal::{self, Goal};
use super::race::{FIRST, race};
use super::report::{Report, answer_text, files};
use super::space::{self, Axis, Design};
use crate::report::write_out_dir;
use crate::report::{OutError, thresholds::measure};
use crate::scenario::{self, LoadOptions};
use crate::spec::Spec;
use crate::sweep::runs::map_pairs;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

/// What `faultline tune` is asked.
#[derive(clap::Args, Clone, Debug)]
pub struct TuneArgs {
    /// The scenario file (JSON).
    pub scenario: PathBuf,
    /// A tuned value by JSON Pointer: `PTR=a,b,c`, `PTR=FROM..TO:STEP`, `PTR=FROM..TO:xFACTOR`
    /// (the grid, as `sweep`), or `PTR=FROM..TO` (a continuous range: Latin hypercube).
    #[arg(long = "param", value_name = "PTR=VALUES", required = true)]
    pub params: Vec<String>,
    /// `min METRIC(SCOPE)` or `max METRIC(SCOPE)` [during PHASE]; one or two (the second
    /// gives a Pareto front). The first decides the best.
    #[arg(long = "objective", value_name = "'min p99(buyers)'", required = true)]
    pub objectives: Vec<String>,
    /// `METRIC(SCOPE) OP VALUE` [during PHASE], in the thresholds' language.
    #[arg(long = "constraint", value_name = "'success(buyers) >= 99.5%'")]
    pub constraints: Vec<String>,
    /// Most runs (candidate × seed pairs); default: every candidate on every seed.
    #[arg(long, value_name = "RUNS")]
    pub budget: Option<usize>,
    /// Seeds a candidate that stays in the race runs: the scenario's seed and the ones after it.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub seeds: u64,
    /// Candidates drawn by Latin hypercube when a param is a continuous range.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub samples: u64,
    /// Threads to run on (default: all cores). The result does not depend on it.
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Apply this variant's overrides at every candidate.
    #[arg(long)]
    pub variant: Option<String>,
    /// Override one value by JSON Pointer at every candidate (as for `run`).
    #[arg(long = "set", value_name = "PTR=VALUE")]
    pub sets: Vec<String>,
    /// Do not take the scenario's `thresholds` as constraints.
    #[arg(long)]
    pub no_thresholds: bool,
    /// Write tune.json, tune.md, tune.html and the charts into this folder.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Why the command stopped: bad input (exit 2) or a failed run or write (exit 1).
#[derive(Debug)]
pub enum TuneError {
    Bad(String),
    Fail(String),
}

fn bad(e: impl ToString) -> TuneError {
    TuneError::Bad(e.to_string())
}

/// Everything checked, before anything runs.
pub struct Setup {
    pub args: TuneArgs,
    /// FNV-1a 64 of the scenario file, in hex.
    pub hash: String,
    pub base: Spec,
    pub axes: Vec<Axis>,
    pub design: Design,
    pub points: Vec<Vec<String>>,
    pub specs: Vec<Spec>,
    pub goals: Vec<Goal>,
    pub seeds: Vec<u64>,
    pub budget: usize,
}

/// Checks the arguments and resolves every candidate.
pub fn setup(args: &TuneArgs) -> Result<Setup, TuneError> {
    let label = args.scenario.display().to_string();
    let bytes = std::fs::read(&args.scenario)
        .map_err(|e| bad(format!("{label}: cannot read the scenario file: {e}")))?;
    let hash = crate::sweep::fnv1a64_hex(&bytes);
    let text = scenario::text_of(bytes, &label).map_err(bad)?;
    scenario::check_str(&text, &label).map_err(bad)?;
    let opts = |sets: Vec<String>| LoadOptions {
        variant: args.variant.clone(),
        sets: args.sets.iter().cloned().chain(sets).collect(),
        seed: None,
    };
    let base = scenario::load_str(&text, &label, &opts(Vec::new())).map_err(bad)?;
    let mut axes: Vec<Axis> = Vec::new();
    for a in &args.params {
        let axis = space::parse_axis(a).map_err(bad)?;
        if axes.iter().any(|b| b.pointer() == axis.pointer()) {
            return Err(bad(format!("--param {}: given twice", axis.pointer())));
        }
        axes.push(axis);
    }
    if args.objectives.len() > 2 {
        return Err(bad(format!(
            "{} objectives: give one or two (the first decides the best; two give a Pareto front); make the others \
             constraints",
            args.objectives.len()
        )));
    }
    let mut goals: Vec<Goal> = Vec::new();
    for o in &args.objectives {
        goals.push(goal::objective(o, &base).map_err(bad)?);
    }
    for c in &args.constraints {
        goals.push(goal::constraint(c, &base).map_err(bad)?);
    }
    if !args.no_thresholds {
        goals.extend(goal::from_thresholds(&base));
    }
    let (design, points) = space::candidates(&axes, args.samples as usize, base.seed).map_err(bad)?;
    let Some(last) = base.seed.checked_add(args.seeds.saturating_sub(1)) else {
        return Err(bad(format!(
            "--seeds {} from seed {} would go past the largest seed",
            args.seeds, base.seed
        )));
    };
    let seeds: Vec<u64> = (base.seed..=last).collect();
    let full = points.len().saturating_mul(seeds.len());
    let first = points.len().saturating_mul(FIRST.min(seeds.len()));
    let budget = args.budget.unwrap_or(full);
    if budget < first {
        return Err(bad(format!(
            "--budget {budget}: the first rung alone runs {} candidates × {} seeds = {first} runs; give at least \
             that, or fewer candidates",
            points.len(),
            FIRST.min(seeds.len())
        )));
    }
    if full > crate::sweep::command::MAX_RUNS {
        return Err(bad(format!(
            "{} candidates × {} seeds is more than {} runs; tune fewer values or seeds",
            points.len(),
            seeds.len(),
            crate::sweep::command::MAX_RUNS
        )));
    }
    let mut specs = Vec::with_capacity(points.len());
    for (i, pt) in points.iter().enumerate() {
        let sets = space::sets(&axes, pt);
        match scenario::load_str(&text, &label, &opts(sets.clone())) {
            Ok(s) => specs.push(s),
            Err(e) => return Err(bad(format!("{e}\n(at candidate {i}: --set {})", sets.join(" --set ")))),
        }
    }
    Ok(Setup {
        args: args.clone(),
        hash,
        base,
        axes,
        design,
        points,
        specs,
        goals,
        seeds,
        budget: budget.min(full),
    })
}

/// Runs the race; call it inside the rayon pool to run on.
pub fn tune(s: &Setup) -> Result<Report, TuneError> {
    let measure_all = |_: usize, spec: &Spec, summary: &crate::report::Summary| -> Vec<f64> {
        s.goals
            .iter()
            .map(|g| {
                measure(spec, summary, &g.probe)
                    .filter(|v| v.is_finite())
                    .map(crate::report::summary::r6)
                    .unwrap_or(f64::NAN)
            })
            .collect()
    };
    let mut eval = |pairs: &[(usize, usize)]| {
        map_pairs(&s.specs, &s.seeds, pairs, &measure_all).map_err(|e| {
            let sets = space::sets(&s.axes, &s.points[e.point]);
            let mut replay = format!("faultline run {} --seed {}", s.args.scenario.display(), e.seed);
            if let Some(v) = &s.args.variant {
                replay += &format!(" --variant {v}");
            }
            for set in s.args.sets.iter().chain(&sets) {
                replay += &format!(" --set '{set}'");
            }
            TuneError::Fail(format!(
                "error: {e}\n(candidate {}: --set {})\nreplay: {replay}",
                e.point,
                sets.join(" --set ")
            ))
        })
    };
    let r = race(s.points.len(), &s.goals, s.seeds.len(), s.budget, &mut eval)?;
    Ok(Report::new(s, r))
}

/// `faultline tune`, from the CLI: exit 0 with a best candidate, 3 when no candidate
/// meets the constraints, 2 on bad input, 1 when a run or a write failed.
pub fn main(args: TuneArgs) -> ExitCode {
    let note = |m: &str| {
        let _ = writeln!(std::io::stderr(), "{m}");
    };
    let fail = |e: TuneError| match e {
        TuneError::Bad(m) => {
            note(&m);
            ExitCode::from(2)
        }
        TuneError::Fail(m) => {
            note(&m);
            ExitCode::from(1)
        }
    };
    if let Some(j) = args.jobs.filter(|j| !(1..=1024).contains(j)) {
        return fail(bad(format!("--jobs {j}: give between 1 and 1024 threads")));
    }
    if let Some(out) = &args.out
        && let Err(e) = crate::report::check_out_dir(out, &[&args.scenario])
    {
        return fail(out_error(e));
    }
    let s = match setup(&args) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    let pool = match rayon::ThreadPoolBuilder::new().num_threads(args.jobs.unwrap_or(0)).build() {
        Ok(p) => p,
        Err(e) => return fail(TuneError::Fail(format!("error: cannot start the worker threads: {e}"))),
    };
    let report = match pool.install(|| tune(&s)) {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    note(&format!(
        "{} candidates × up to {} seeds · {} runs of a budget of {} (every candidate on every seed: {}) on {} \
         threads",
        s.points.len(),
        s.seeds.len(),
        report.race.runs,
        s.budget,
        s.points.len() * s.seeds.len(),
        pool.current_num_threads()
    ));
    let text = answer_text(&report);
    if let Some(out) = &args.out {
        match write_out_dir(out, &files(&report), &[&args.scenario]) {
            Ok(paths) => {
                for p in paths {
                    note(&format!("wrote {}", p.display()));
                }
            }
            Err(e) => return fail(out_error(e)),
        }
    }
    let mut stdout = std::io::stdout().lock();
    if stdout.write_all(text.as_bytes()).and_then(|_| stdout.flush()).is_err() {
        return ExitCode::from(1);
    }
    if report.race.best.is_some() { ExitCode::SUCCESS } else { ExitCode::from(3) }
}

fn out_error(e: OutError) -> TuneError {
    match e {
        OutError::Refused(m) => TuneError::Bad(m),
        e @ OutError::Io(..) => TuneError::Fail(e.to_string()),
    }
}
