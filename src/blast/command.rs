//! The command between the CLI's arguments and the modules: validate, plan the rows,
//! run every (row, seed) pair on the rayon pool through the sweep's runner, read the
//! runs back in order, build the matrix, print it and write the files.

use super::figures::{self, RunFigures};
use super::matrix::{self, cell};
use super::needs::Needs;
use super::{Blast, plan, report};
use crate::report::{OutError, check_out_dir, write_out_dir};
use crate::scenario::{self, LoadOptions};
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Mutex;

/// Largest `--seeds` and `--jobs`, as for `compare`.
const MAX_SEEDS: u64 = 10_000;
const MAX_JOBS: usize = 1024;

/// `faultline blast`'s arguments.
#[derive(clap::Args, Debug)]
pub struct BlastArgs {
    /// The scenario file (JSON).
    pub scenario: PathBuf,
    /// Number of seeds: the scenario's seed and the ones after it (1 to 10000). Every row
    /// runs on the same seeds as the healthy run.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=MAX_SEEDS))]
    pub seeds: u64,
    /// Threads to run on (default: all cores). The result does not depend on it.
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Apply the overrides of this variant (from the scenario's `variants`) to every run.
    #[arg(long)]
    pub variant: Option<String>,
    /// Override one value by JSON Pointer in every run (as for `run`).
    #[arg(long = "set", value_name = "PTR=VALUE")]
    pub sets: Vec<String>,
    /// Keep the scenario's own faults in every run (the healthy run included) and add
    /// each row's; by default they are removed, with the thresholds.
    #[arg(long)]
    pub keep_faults: bool,
    /// Write blast.json, blast.md and blast.html to this folder (under the same rule as
    /// `run --out`).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

fn note(msg: &str) {
    let _ = writeln!(std::io::stderr(), "{msg}");
}

fn bad(msg: impl std::fmt::Display) -> ExitCode {
    note(&msg.to_string());
    ExitCode::from(2)
}

fn out_error(e: &OutError) -> ExitCode {
    note(&format!("error: {e}"));
    match e {
        OutError::Refused(_) => ExitCode::from(2),
        OutError::Io(..) => ExitCode::from(1),
    }
}

/// The command that reproduces this blast.
fn command_line(args: &BlastArgs) -> String {
    let mut s = format!(
        "faultline blast {} --seeds {}",
        super::shell_quote(&args.scenario.display().to_string()),
        args.seeds
    );
    if let Some(v) = &args.variant {
        s += &format!(" --variant {}", super::shell_quote(v));
    }
    for set in &args.sets {
        s += &format!(" --set {}", super::shell_quote(set));
    }
    if args.keep_faults {
        s += " --keep-faults";
    }
    s
}

/// Everything before the runs: the healthy spec, the rows and every run's spec (the
/// healthy one first), the seeds. Bad input is a located message.
pub fn prepare(args: &BlastArgs) -> Result<Blast, String> {
    let label = args.scenario.display().to_string();
    let bytes =
        std::fs::read(&args.scenario).map_err(|e| format!("{label}: cannot read the scenario file: {e}"))?;
    let text = scenario::text_of(bytes, &label).map_err(|e| e.to_string())?;
    scenario::check_str(&text, &label).map_err(|e| e.to_string())?;
    let sets = args.sets.clone();
    let base_sets = plan::base_sets(args.keep_faults);
    let opts = |extra: &[String]| LoadOptions {
        variant: args.variant.clone(),
        sets: sets.iter().chain(extra).cloned().collect(),
        seed: None,
    };
    let spec = scenario::load_str(&text, &label, &opts(&base_sets)).map_err(|e| e.to_string())?;
    let Some(last) = spec.seed.checked_add(args.seeds - 1) else {
        return Err(format!(
            "--seeds {} from seed {} would go past the largest seed; lower the scenario's seed (`--set /seed=N`) or --seeds",
            args.seeds, spec.seed
        ));
    };
    let rows = plan::rows(&spec, args.keep_faults);
    for row in &rows {
        // Each row's own scenario must load; a name the pointers cannot carry is said so.
        scenario::load_str(&text, &label, &opts(&row.sets)).map_err(|e| {
            format!("{e}\n(while taking down {}: --set {})", row.label, row.sets.join(" --set "))
        })?;
    }
    Ok(Blast {
        file: label,
        command: command_line(args),
        variant: args.variant.clone(),
        sets,
        base_sets,
        keep_faults: args.keep_faults,
        seeds: (spec.seed..=last).collect(),
        rows,
        healthy_w: Vec::new(),
        healthy_s: Vec::new(),
        healthy_g: Vec::new(),
        cells_w: Vec::new(),
        cells_s: Vec::new(),
        cells_g: Vec::new(),
        needs: Vec::new(),
        spec,
    })
}

/// The specs of every run: the healthy one, then one per row.
fn specs(args: &BlastArgs, b: &Blast) -> Result<Vec<crate::spec::Spec>, String> {
    let label = &b.file;
    let bytes =
        std::fs::read(&args.scenario).map_err(|e| format!("{label}: cannot read the scenario file: {e}"))?;
    let text = scenario::text_of(bytes, label).map_err(|e| e.to_string())?;
    let load = |r: Option<usize>| {
        let opts = LoadOptions { variant: b.variant.clone(), sets: b.run_sets(r), seed: None };
        scenario::load_str(&text, label, &opts).map_err(|e| e.to_string())
    };
    let mut out = vec![load(None)?];
    for r in 0..b.rows.len() {
        out.push(load(Some(r))?);
    }
    Ok(out)
}

/// Builds the matrix from every run's figures, `runs[point][seed]` (point 0 healthy).
pub fn build(mut b: Blast, runs: Vec<Vec<RunFigures>>) -> Blast {
    let (hw, hs, hg) = matrix::series(&runs[0], None);
    let delivered: Vec<Vec<f64>> = (0..runs[0].first().map_or(0, |r| r.groups.len()))
        .map(|c| runs[0].iter().map(|r| r.groups[c].delivered).collect())
        .collect();
    let needs = Needs::of(&b.spec);
    for (r, row) in b.rows.iter().enumerate() {
        let (w, s, g) = matrix::series(&runs[r + 1], Some(&delivered));
        b.cells_w.push(w.iter().zip(&hw).map(|(x, h)| cell(&matrix::WORKLOAD_FIGS, h, x)).collect());
        b.cells_s.push(s.iter().zip(&hs).map(|(x, h)| cell(&matrix::SAGA_FIGS, h, x)).collect());
        b.cells_g.push(g.iter().zip(&hg).map(|(x, h)| cell(&matrix::GROUP_FIGS, h, x)).collect());
        b.needs.push((0..b.spec.workloads.len()).map(|w| needs.of_workload(&b.spec, w, row.down)).collect());
    }
    (b.healthy_w, b.healthy_s, b.healthy_g) = (hw, hs, hg);
    b
}

/// Why a run failed, in words (the sweep's runner names a point; the blast names its row).
fn failure_text(f: &crate::sweep::runs::Failure) -> String {
    use crate::sweep::runs::Failure;
    match f {
        Failure::Limit(e) => e.to_string(),
        Failure::Panic => {
            "internal error: the simulation panicked (a bug in faultline; please report it with the \
                           replay command)"
                .into()
        }
        Failure::Violations(v) => {
            format!("internal error: the model broke its invariants (please report): {}", v.join("; "))
        }
        Failure::Write(e) => e.clone(),
    }
}

/// Runs every (row, seed) pair on the current rayon pool; `tick` after each run.
pub fn run(args: &BlastArgs, b: Blast, tick: &(dyn Fn() + Sync)) -> Result<(Blast, u64), String> {
    let specs = specs(args, &b)?;
    let n_seeds = b.seeds.len();
    let pairs: Vec<(usize, usize)> =
        (0..specs.len()).flat_map(|p| (0..n_seeds).map(move |s| (p, s))).collect();
    let slots: Mutex<Vec<Option<RunFigures>>> = Mutex::new(vec![None; pairs.len()]);
    let spec0 = &b.spec;
    let sink = |p: usize, s: usize, text: String| -> Result<(), String> {
        let figs = figures::read(spec0, &text)?;
        let mut g = slots.lock().map_err(|_| "a run's thread panicked".to_string())?;
        g[p * n_seeds + s] = Some(figs);
        Ok(())
    };
    let events =
        crate::sweep::runs::run_pairs(&specs, &b.seeds, &pairs, &sink, &|_| tick()).map_err(|e| {
            let r = e.point.checked_sub(1);
            let what = r
                .and_then(|r| b.rows.get(r))
                .map_or("the healthy run".to_string(), |row| format!("{} down", row.label));
            format!(
                "error: {what}, seed {}: {}\nreplay: {}",
                e.seed,
                failure_text(&e.error),
                b.replay(r, e.seed)
            )
        })?;
    let all = slots.into_inner().map_err(|_| "a run's thread panicked".to_string())?;
    let mut runs: Vec<Vec<RunFigures>> = Vec::with_capacity(specs.len());
    for p in 0..specs.len() {
        let mut per = Vec::with_capacity(n_seeds);
        for s in 0..n_seeds {
            per.push(all[p * n_seeds + s].clone().ok_or("internal error: a run left no figures")?);
        }
        runs.push(per);
    }
    Ok((build(b, runs), events))
}

/// `faultline blast`: exit 0 with the matrix printed (and written with `--out`), 2 on
/// bad input or a refused folder, 1 when a run fails.
pub fn main(args: BlastArgs) -> ExitCode {
    if let Some(j) = args.jobs.filter(|j| !(1..=MAX_JOBS).contains(j)) {
        return bad(format!("--jobs {j}: give between 1 and {MAX_JOBS} threads"));
    }
    let b = match prepare(&args) {
        Ok(b) => b,
        Err(e) => return bad(e),
    };
    if let Some(dir) = &args.out
        && let Err(e) = check_out_dir(dir, &[&args.scenario])
    {
        return out_error(&e);
    }
    let pool = match rayon::ThreadPoolBuilder::new().num_threads(args.jobs.unwrap_or(0)).build() {
        Ok(p) => p,
        Err(e) => {
            note(&format!("error: cannot start the worker threads: {e}"));
            return ExitCode::from(1);
        }
    };
    let total = ((b.rows.len() + 1) * b.seeds.len()) as u64;
    let bar = indicatif::ProgressBar::with_draw_target(Some(total), indicatif::ProgressDrawTarget::stderr());
    if let Ok(style) = indicatif::ProgressStyle::with_template("{msg} [{bar:40}] {percent}% ({eta} left)") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message("blast");
    let result = pool.install(|| run(&args, b, &|| bar.inc(1)));
    bar.finish_and_clear();
    let (b, events) = match result {
        Ok(x) => x,
        Err(e) => {
            note(&e);
            return ExitCode::from(1);
        }
    };
    if let Some(dir) = &args.out {
        let mut files = vec![("blast.json".to_string(), report::json_text(&b))];
        files.extend(super::page::files(&b));
        if let Err(e) = write_out_dir(dir, &files, &[&args.scenario]) {
            return out_error(&e);
        }
    }
    if let Err(e) = std::io::stdout().lock().write_all(report::text(&b).as_bytes()) {
        note(&format!("error: cannot write to standard output: {e}"));
        return ExitCode::from(1);
    }
    note(&format!("{total} runs, {events} events on {} threads", pool.current_num_threads()));
    ExitCode::SUCCESS
}
