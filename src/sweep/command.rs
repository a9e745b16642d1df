//! The two commands, between the CLI's arguments and the modules: `sweep` (validate
//! every point, prepare the folder, run what is missing of this shard, build the final
//! files when the sweep is whole) and `merge` (gather the shards' runs, say what is
//! missing, build the final files).

use super::aggregate::{build, to_json};
use super::folder::{self, has_run, prepare, read_plan, read_run, store_run};
use super::grid::{Param, parse_param, point_sets, points};
use super::page::page_files;
use super::runs::run_pairs;
use super::{FORMAT, Plan, PlanParam, Shard, fnv1a64_hex, run_file};
use crate::report::OutError;
use crate::scenario::{self, LoadOptions};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// What `faultline sweep` was asked.
#[derive(Clone, Debug)]
pub struct SweepArgs {
    pub scenario: PathBuf,
    pub params: Vec<String>,
    pub seeds: u64,
    pub variant: Option<String>,
    pub sets: Vec<String>,
    pub out: PathBuf,
    pub shard: Shard,
}

/// Why a command failed: bad input (exit 2: the scenario, the arguments, a refused or
/// incomplete folder) or a failure (exit 1: a run, the file system).
#[derive(Debug)]
pub enum CmdError {
    Bad(String),
    Fail(String),
}

impl From<OutError> for CmdError {
    fn from(e: OutError) -> CmdError {
        match e {
            OutError::Refused(m) => CmdError::Bad(m),
            e @ OutError::Io(..) => CmdError::Fail(e.to_string()),
        }
    }
}

/// What a command did, for its report on standard error.
#[derive(Clone, Debug, Default)]
pub struct Done {
    pub points: usize,
    pub seeds: usize,
    /// Runs this invocation simulated, and those it found already done.
    pub ran: usize,
    pub found: usize,
    pub events: u64,
    /// The final files, when they were written (not by a shard).
    pub files: Vec<PathBuf>,
}

/// Progress callbacks: `start(points to run)`, then `point_done()` as each point's
/// last run of this invocation finishes (from any thread).
pub struct Progress<'a> {
    pub start: &'a (dyn Fn(u64) + Sync),
    pub point_done: &'a (dyn Fn() + Sync),
}

fn bad(e: impl ToString) -> CmdError {
    CmdError::Bad(e.to_string())
}

/// The one command that replays a run of the sweep.
fn replay(args: &SweepArgs, seed: u64, point: &[String]) -> String {
    let mut s = format!("faultline run {} --seed {seed}", args.scenario.display());
    if let Some(v) = &args.variant {
        s += &format!(" --variant {v}");
    }
    for set in args.sets.iter().chain(point) {
        s += &format!(" --set '{set}'");
    }
    s
}

/// Most runs (points × seeds) of one sweep.
pub const MAX_RUNS: usize = 1_000_000;

/// Validates everything and returns the plan and, per point, its spec.
fn plan_of(args: &SweepArgs) -> Result<(Plan, Vec<crate::spec::Spec>), CmdError> {
    let label = args.scenario.display().to_string();
    let bytes = std::fs::read(&args.scenario)
        .map_err(|e| bad(format!("{label}: cannot read the scenario file: {e}")))?;
    let hash = fnv1a64_hex(&bytes);
    let text = scenario::text_of(bytes, &label).map_err(bad)?;
    // The whole file, every variant included, as `run` checks it.
    scenario::check_str(&text, &label).map_err(bad)?;
    let mut params: Vec<Param> = Vec::new();
    for a in &args.params {
        let p = parse_param(a).map_err(bad)?;
        if params.iter().any(|q| q.pointer == p.pointer) {
            return Err(bad(format!("--param {}: given twice", p.pointer)));
        }
        params.push(p);
    }
    let grid = points(&params).map_err(bad)?;
    let opts = |point: Vec<String>| LoadOptions {
        variant: args.variant.clone(),
        sets: args.sets.iter().cloned().chain(point).collect(),
        seed: None,
    };
    let base = scenario::load_str(&text, &label, &opts(Vec::new())).map_err(bad)?;
    let Some(last) = base.seed.checked_add(args.seeds.saturating_sub(1)) else {
        return Err(bad(format!(
            "--seeds {} from seed {} would go past the largest seed; lower the scenario's seed or --seeds",
            args.seeds, base.seed
        )));
    };
    let seeds: Vec<u64> = (base.seed..=last).collect();
    if grid.len().saturating_mul(seeds.len()) > MAX_RUNS {
        return Err(bad(format!(
            "{} points × {} seeds is more than {MAX_RUNS} runs; sweep fewer values or seeds, or split the grid",
            grid.len(),
            seeds.len()
        )));
    }
    // Every point resolved before anything runs: the first bad one is the error.
    let mut specs = Vec::with_capacity(grid.len());
    for (i, idx) in grid.iter().enumerate() {
        let sets = point_sets(&params, idx);
        match scenario::load_str(&text, &label, &opts(sets.clone())) {
            Ok(s) => specs.push(s),
            Err(e) => return Err(bad(format!("{e}\n(at point {i}: --set {})", sets.join(" --set ")))),
        }
    }
    let plan = Plan {
        faultline_sweep: FORMAT,
        scenario: base.name.clone(),
        description: base.description.clone(),
        scenario_hash: hash,
        variant: args.variant.clone(),
        sets: args.sets.clone(),
        params: params.into_iter().map(|p| PlanParam { pointer: p.pointer, values: p.values }).collect(),
        seeds,
    };
    Ok((plan, specs))
}

/// Builds and writes the final files of a whole sweep folder.
fn finish(dir: &Path, plan: &Plan) -> Result<Vec<PathBuf>, CmdError> {
    let agg = build(plan, &|p, s| read_run(dir, p, s)).map_err(CmdError::Fail)?;
    let mut files =
        vec![("sweep.csv".to_string(), agg.csv.clone()), ("sweep.json".to_string(), to_json(plan, &agg))];
    files.extend(page_files(plan, &agg));
    Ok(folder::write_files(dir, &files)?)
}

/// `faultline sweep`: call it inside the rayon pool to run on.
pub fn sweep(args: &SweepArgs, progress: &Progress) -> Result<Done, CmdError> {
    let (plan, specs) = plan_of(args)?;
    let dir = prepare(&args.out, &plan, &[&args.scenario])?;
    let n_seeds = plan.seeds.len();
    let (mut todo, mut found) = (Vec::new(), 0);
    for i in (0..specs.len() * n_seeds).filter(|&i| args.shard.has(i)) {
        let (p, s) = (i / n_seeds, i % n_seeds);
        if has_run(&dir, p, s) {
            found += 1;
        } else {
            todo.push((p, s));
        }
    }
    let left: Vec<AtomicUsize> = (0..specs.len()).map(|_| AtomicUsize::new(0)).collect();
    for &(p, _) in &todo {
        left[p].fetch_add(1, Ordering::Relaxed);
    }
    (progress.start)(left.iter().filter(|l| l.load(Ordering::Relaxed) > 0).count() as u64);
    let sink = |p: usize, s: usize, text: String| store_run(&dir, p, s, &text).map_err(|e| e.to_string());
    let tick = |p: usize| {
        if left[p].fetch_sub(1, Ordering::AcqRel) == 1 {
            (progress.point_done)();
        }
    };
    let events = run_pairs(&specs, &plan.seeds, &todo, &sink, &tick).map_err(|e| {
        let idx = &plan.points()[e.point];
        let sets = point_sets(&plan.params(), idx);
        CmdError::Fail(format!(
            "error: {e}\n(point {}: --set {})\nreplay: {}",
            e.point,
            sets.join(" --set "),
            replay(args, e.seed, &sets)
        ))
    })?;
    let mut done =
        Done { points: specs.len(), seeds: n_seeds, ran: todo.len(), found, events, files: Vec::new() };
    if args.shard == Shard::ALL {
        done.files = finish(&dir, &plan)?;
    }
    Ok(done)
}

/// Most missing runs a merge names one by one.
const MISSING_SHOWN: usize = 10;

/// `faultline merge`: the runs of `dirs` (shards of one sweep: the same plan) into
/// `out` (which may be one of them), and the final files, byte for byte those of the
/// sweep run whole. Refused, naming what is missing, when a run is in none of them.
pub fn merge(dirs: &[PathBuf], out: &Path) -> Result<Done, CmdError> {
    let Some(first) = dirs.first() else { return Err(bad("merge: give the sweep folders to merge")) };
    let plan = read_plan(first)?;
    for d in &dirs[1..] {
        if read_plan(d)? != plan {
            return Err(bad(format!(
                "{} and {} hold different sweeps (their {} differ); merge only the shards of one sweep",
                first.display(),
                d.display(),
                folder::PLAN
            )));
        }
    }
    let (n_points, n_seeds) = (plan.points().len(), plan.seeds.len());
    let mut source: Vec<&Path> = Vec::with_capacity(n_points * n_seeds);
    let mut missing: Vec<(usize, usize)> = Vec::new();
    for i in 0..n_points * n_seeds {
        let (p, s) = (i / n_seeds, i % n_seeds);
        match dirs.iter().find(|d| has_run(d, p, s)) {
            Some(d) => source.push(d),
            None => missing.push((p, s)),
        }
    }
    if !missing.is_empty() {
        let params = plan.params();
        let grid = plan.points();
        let mut msg = format!(
            "merge: {} of the {} runs of this sweep ({} points × {} seeds) are in none of the folders given; run the \
             shards that have them (or `faultline sweep` with the same arguments into the merged folder, which \
             runs only what is missing). Missing:",
            missing.len(),
            n_points * n_seeds,
            n_points,
            n_seeds
        );
        for &(p, s) in missing.iter().take(MISSING_SHOWN) {
            msg += &format!(
                "\n  point {p} ({}), seed {} ({}: run number {} of the sweep)",
                point_sets(&params, &grid[p]).join(", "),
                plan.seeds[s],
                run_file(p, s),
                p * n_seeds + s
            );
        }
        if missing.len() > MISSING_SHOWN {
            msg += &format!("\n  … and {} more", missing.len() - MISSING_SHOWN);
        }
        return Err(CmdError::Bad(msg));
    }
    let dir = prepare(out, &plan, &[])?;
    let mut copied = 0;
    for (i, src) in source.iter().enumerate() {
        let (p, s) = (i / n_seeds, i % n_seeds);
        if !has_run(&dir, p, s) {
            let text = read_run(src, p, s).map_err(CmdError::Fail)?;
            store_run(&dir, p, s, &text)?;
            copied += 1;
        }
    }
    let files = finish(&dir, &plan)?;
    Ok(Done { points: n_points, seeds: n_seeds, ran: 0, found: copied, events: 0, files })
}
