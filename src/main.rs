//! The command line: parses arguments, calls the library, maps errors to exit codes
//! (0 success, 2 invalid scenario or arguments, 1 any other failure, 3 a run whose
//! scenario's thresholds did not all hold, once every output is written). The only
//! place that reads a wall clock, and it reports what it reads on standard error alone.

use clap::{Parser, Subcommand};
use faultline::report::{OutError, check_out_dir, write_out_dir};
use faultline::scenario::{self, LoadOptions};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

#[derive(Parser)]
#[command(
    name = "faultline",
    version,
    about = "Deterministic discrete-event simulator of service topologies"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Simulate a scenario and print its summary; exit status 3 when one of the
    /// scenario's thresholds fails (after every output is written).
    #[command(after_help = "Examples:\n  faultline run scenarios/mmc.json\n  \
        faultline run scenarios/checkout.json --variant payment-x4 --seed 7 --out out/\n  \
        faultline run scenarios/checkout.json --set /warmup=30s --json")]
    Run {
        /// The scenario file (JSON).
        scenario: PathBuf,
        /// Seed of every random stream (default: the scenario's `seed`).
        #[arg(long)]
        seed: Option<u64>,
        /// Apply the overrides of this variant (from the scenario's `variants`).
        #[arg(long)]
        variant: Option<String>,
        /// Override one value by JSON Pointer, e.g. `/policies/internal/timeout=300ms`;
        /// the value is parsed as JSON, or taken as a string if it is not JSON.
        #[arg(long = "set", value_name = "PTR=VALUE")]
        sets: Vec<String>,
        /// Write summary.json, timeseries.csv and the report (HTML, Markdown, SVG charts) to
        /// this folder: a new or empty one, or one faultline wrote before (it first removes
        /// the files its manifest `.faultline-out` lists); any other folder is refused.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Print the summary JSON instead of the table.
        #[arg(long)]
        json: bool,
    },
    /// Run every variant on the same seeds and compare their key figures (mean and 95%
    /// confidence interval across seeds, and the paired difference to the first variant).
    #[command(after_help = "Examples:\n  faultline compare scenarios/cascade.json --seeds 10\n  \
        faultline compare scenarios/retry-storm.json --variants baseline,retry-budget --seeds 5 --out out/")]
    Compare {
        /// The scenario file (JSON).
        scenario: PathBuf,
        /// Comma-separated variant names (default: every variant, in file order).
        #[arg(long, value_delimiter = ',')]
        variants: Vec<String>,
        /// Number of seeds: the scenario's seed and the ones after it (1 to 10000).
        #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=MAX_SEEDS))]
        seeds: u64,
        /// Override one value by JSON Pointer in every variant (as for `run`).
        #[arg(long = "set", value_name = "PTR=VALUE")]
        sets: Vec<String>,
        /// Threads to run on (default: all cores). The result does not depend on it.
        #[arg(long)]
        jobs: Option<usize>,
        /// Write compare.json, compare.md, compare.html and the overlay charts to this folder
        /// (under the same rule as `run --out`).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Run the scenario over a grid of parameter values, every point on the same seeds,
    /// into a folder: one summary per run, then sweep.csv, sweep.json, sweep.md and
    /// sweep.html (mean and 95% interval per point, the thresholds' verdicts, charts).
    #[command(after_help = "Examples:\n  \
        faultline sweep scenarios/checkout.json --param /policies/internal/timeout=200ms,400ms,800ms --set /duration=20s --out sweep/\n  \
        faultline sweep scenarios/mmc.json --param /services/pool/concurrency=4..6:1 --seeds 3 --set /duration=20s --shard 0/2 --out shard-0/\n  \
        faultline sweep scenarios/mmc.json --param /services/pool/concurrency=4..6:1 --seeds 3 --set /duration=20s --shard 1/2 --out shard-1/\n\n\
        A value list is `a,b,c`; a range `FROM..TO:STEP` of integers, decimals or durations (TO is included when\n\
        it lands on the step); a log range `FROM..TO:xFACTOR`. The grid is the product of the params, the first\n\
        slowest. A folder that holds part of the same sweep is resumed: runs already there are not run again.")]
    Sweep {
        /// The scenario file (JSON).
        scenario: PathBuf,
        /// A swept value by JSON Pointer: `PTR=a,b,c`, `PTR=FROM..TO:STEP` or `PTR=FROM..TO:xFACTOR`.
        #[arg(long = "param", value_name = "PTR=VALUES", required = true)]
        params: Vec<String>,
        /// Number of seeds per point: the scenario's seed and the ones after it (1 to 10000).
        #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=MAX_SEEDS))]
        seeds: u64,
        /// Threads to run on (default: all cores). The result does not depend on it.
        #[arg(long)]
        jobs: Option<usize>,
        /// Apply the overrides of this variant (from the scenario's `variants`) at every point.
        #[arg(long)]
        variant: Option<String>,
        /// Override one value by JSON Pointer at every point (as for `run`).
        #[arg(long = "set", value_name = "PTR=VALUE")]
        sets: Vec<String>,
        /// The sweep's folder: new, empty, or holding part of the same sweep (resumed).
        #[arg(long)]
        out: PathBuf,
        /// Run only shard K of N (0-based): the (point, seed) pairs whose number is K modulo N.
        /// `auto` reads a Kubernetes Indexed Job (JOB_COMPLETION_INDEX, with --shards N) or a
        /// Slurm job array (SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_MIN, SLURM_ARRAY_TASK_COUNT).
        /// A shard writes only its runs; `faultline merge` builds the final files.
        #[arg(long, value_name = "K/N|auto")]
        shard: Option<String>,
        /// The number of shards, for `--shard auto` on Kubernetes (the Job's `completions`).
        #[arg(long, value_name = "N")]
        shards: Option<u64>,
    },
    /// Merge the folders of a sharded sweep into one, with the final files of the whole
    /// sweep (byte for byte those of the sweep run unsharded).
    #[command(
        after_help = "Example (after the sharded examples of `sweep --help`):\n  faultline merge shard-0/ shard-1/ --out merged/"
    )]
    Merge {
        /// The shards' folders (or one folder they all wrote into).
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// The merged folder (new, empty, the same sweep's, or one of the inputs).
        #[arg(long)]
        out: PathBuf,
    },
    /// Search parameters for the configuration that best meets objectives under
    /// constraints, racing candidates over seeds (successive halving with F-race
    /// eliminations): tune.json, tune.md, tune.html and the winning `variants` entry.
    #[command(after_help = "Example:\n  \
        faultline tune scenarios/retry-storm.json --variant cancel-on-timeout --param /policies/client/timeout=100ms..400ms:100ms \
        --objective 'min p99(users)' --constraint 'success(users) >= 93%' --seeds 4 --out tune/\n\n\
        A param is a list, FROM..TO:STEP or FROM..TO:xFACTOR (the grid, as `sweep`), or FROM..TO (continuous: a Latin\n\
        hypercube of --samples points). Objectives and constraints are the thresholds' language with the scope as a\n\
        call; the scenario's thresholds are constraints too unless --no-thresholds. Candidates race over seeds: the\n\
        clearly infeasible and the clearly worse stop early (README, Tuning). Exit 3: no candidate meets the constraints.")]
    Tune(faultline::tune::TuneArgs),
    /// The blast-radius matrix: the scenario with each service (and each topic's broker)
    /// down in turn, every workload, saga and consumer group against the healthy run.
    #[command(after_help = "Examples:\n  faultline blast scenarios/cascade.json --seeds 3\n  \
        faultline blast scenarios/checkout-saga.json --seeds 2 --set /duration=60s --out blast/")]
    Blast(faultline::blast::BlastArgs),
    /// The topology as Graphviz DOT or a Mermaid flowchart, policies on the edges.
    #[command(
        after_help = "Examples:\n  faultline graph scenarios/checkout.json --format dot | dot -Tsvg > checkout.svg\n  \
        faultline graph scenarios/checkout-saga.json --format mermaid"
    )]
    Graph(faultline::graph::GraphArgs),
    /// Validate a scenario and all its variants without running it.
    #[command(after_help = "Example:\n  faultline check scenarios/checkout.json")]
    Check {
        /// The scenario file (JSON).
        scenario: PathBuf,
    },
    /// Check the design against the microservices guides' anti-patterns, without
    /// running it; exit status 1 when a finding is at or above `--deny` (docs/lint.md).
    #[command(after_help = "Examples:\n  faultline lint scenarios/checkout.json\n  \
        faultline lint scenarios/retry-storm.json --deny warning\n  \
        faultline lint scenarios/checkout.json --format sarif")]
    Lint(faultline::lint::cli::LintArgs),
    /// Print the JSON Schema of the scenario format (for editors: `"$schema"`).
    #[command(after_help = "Example:\n  faultline schema > faultline.schema.json")]
    Schema,
}

/// Prints a line to standard error; a standard error that cannot be written to is
/// ignored rather than a panic.
macro_rules! note {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($t)*);
    }};
}

/// Writes `text` to standard output; a failure (a closed pipe, a full disk) is an error
/// message and exit status 1, not a panic.
fn emit(text: &str) -> Result<(), ExitCode> {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes()).and_then(|_| out.flush()).map_err(|e| {
        note!("error: cannot write to standard output: {e}");
        ExitCode::from(1)
    })
}

/// The exit status of an output folder that could not be written: 2 when the folder
/// was refused (the user must choose another), 1 when the file system failed.
fn out_error(e: &OutError) -> ExitCode {
    note!("error: {e}");
    match e {
        OutError::Refused(_) => ExitCode::from(2),
        OutError::Io(..) => ExitCode::from(1),
    }
}

/// Largest `--seeds`: beyond it a comparison would run for days, and its per-seed
/// figures would no longer be small.
const MAX_SEEDS: u64 = 10_000;
/// Largest `--jobs`.
const MAX_JOBS: usize = 1024;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match cli.cmd {
        Cmd::Run { scenario, seed, variant, sets, out, json } => {
            let opts = LoadOptions { variant, sets, seed };
            run(&scenario, &opts, out.as_deref(), json)
        }
        Cmd::Compare { scenario, variants, seeds, sets, jobs, out } => {
            compare(&scenario, variants, seeds, sets, jobs, out.as_deref())
        }
        Cmd::Sweep { scenario, params, seeds, jobs, variant, sets, out, shard, shards } => sweep(
            faultline::sweep::command::SweepArgs {
                scenario,
                params,
                seeds,
                variant,
                sets,
                out,
                shard: faultline::sweep::Shard::ALL,
            },
            shard,
            shards,
            jobs,
        ),
        Cmd::Merge { dirs, out } => merge(&dirs, &out),
        Cmd::Tune(args) => Ok(faultline::tune::main(args)),
        Cmd::Blast(args) => Ok(faultline::blast::main(args)),
        Cmd::Graph(args) => Ok(faultline::graph::main(args)),
        Cmd::Check { scenario } => check(&scenario),
        Cmd::Lint(args) => Ok(faultline::lint::cli::main(&args)),
        Cmd::Schema => {
            let text = serde_json::to_string_pretty(&scenario::schema()).unwrap_or_default() + "\n";
            emit(&text).map(|_| ExitCode::SUCCESS)
        }
    };
    code.unwrap_or_else(|c| c)
}

/// Loads and validates the scenario, as `run` does: the whole file, every variant
/// included, so that a broken variant is found the first time the file runs rather than
/// the day someone picks it.
fn load(path: &Path, opts: &LoadOptions) -> Result<faultline::spec::Spec, ExitCode> {
    if let Ok(text) = read_text(path)
        && let Err(e) = scenario::check_str(&text, &path.display().to_string())
    {
        note!("{e}");
        return Err(ExitCode::from(2));
    }
    scenario::load_file(path, opts).map_err(|e| {
        note!("{e}");
        ExitCode::from(2)
    })
}

fn run(path: &Path, opts: &LoadOptions, out: Option<&Path>, json: bool) -> Result<ExitCode, ExitCode> {
    let spec = load(path, opts)?;
    // A folder that will be refused is refused before the run, not after it.
    if let Some(dir) = out {
        check_out_dir(dir, &[path]).map_err(|e| out_error(&e))?;
    }
    let replay = replay_command(path, spec.seed, opts);
    let wall = Instant::now();
    let bar = progress_bar(1000, "simulating");
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        faultline::model::run_with_progress(&spec, &|f| {
            // Shown only once a run has taken a second, and only on a terminal.
            if wall.elapsed().as_secs_f64() > 1.0 {
                bar.set_position((f * 1000.0) as u64);
            }
        })
    }));
    bar.finish_and_clear();
    let elapsed = wall.elapsed().as_secs_f64();
    let output = match result {
        Ok(Ok(output)) => output,
        Ok(Err(e)) => {
            note!("error: {e}\nreplay: {replay}");
            return Err(ExitCode::from(1));
        }
        // The panic's message is already on standard error; exit 1 like any failure.
        Err(_) => {
            note!(
                "internal error: the simulation panicked (a bug in faultline; please report it with the replay \
                 command)\nreplay: {replay}"
            );
            return Err(ExitCode::from(1));
        }
    };
    let requests = output.workloads.iter().fold(0u64, |a, w| a.saturating_add(w.offered));
    // Read when called: after every output is written, so the peak includes writing them.
    let stats = || {
        format!(
            "seed {} · {} events in {:.3} s wall ({:.2} M events/s, {:.2} M requests/s) · peak memory {} · replay: {replay}",
            spec.seed,
            output.events,
            elapsed,
            output.events as f64 / elapsed.max(1e-9) / 1e6,
            requests as f64 / elapsed.max(1e-9) / 1e6,
            peak_memory_text(),
        )
    };
    if !output.violations.is_empty() {
        note!("{}", stats());
        note!("internal error: the model broke its invariants (please report with the replay command):");
        for v in &output.violations {
            note!("  {v}");
        }
        return Err(ExitCode::from(1));
    }
    let summary = faultline::report::Summary::of(&spec, &output);
    let summary_text = serde_json::to_string_pretty(&summary).unwrap_or_default() + "\n";
    if let Some(dir) = out {
        let mut files = vec![
            ("summary.json".to_string(), summary_text.clone()),
            ("timeseries.csv".to_string(), faultline::report::timeseries_csv(&output.series)),
        ];
        let mut ctx = faultline::html::RunContext::cli(&path.display().to_string(), &replay);
        ctx.variants =
            read_text(path).ok().and_then(|t| scenario::variant_names(&t, "").ok()).unwrap_or_default();
        files.extend(faultline::html::run_report_files_in(&spec, &output, &summary, &ctx));
        write_out_dir(dir, &files, &[path]).map_err(|e| out_error(&e))?;
    }
    if json {
        emit(&summary_text)?;
    } else {
        emit(&faultline::report::summary_table(&summary))?;
    }
    note!("{}", stats());
    Ok(threshold_status(&summary))
}

/// Exit status 3 when a threshold failed (every output is written by then), with the
/// failed ones on standard error; 0 otherwise.
fn threshold_status(summary: &faultline::report::Summary) -> ExitCode {
    let failed = faultline::report::thresholds::failure_lines(summary);
    if failed.is_empty() {
        return ExitCode::SUCCESS;
    }
    for line in &failed {
        note!("{line}");
    }
    note!("{} of {} thresholds failed (exit status 3)", failed.len(), summary.thresholds.len());
    ExitCode::from(3)
}

/// A progress bar on standard error; indicatif draws nothing when it is not a terminal.
fn progress_bar(len: u64, what: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::with_draw_target(Some(len), indicatif::ProgressDrawTarget::stderr());
    if let Ok(style) = indicatif::ProgressStyle::with_template("{msg} [{bar:40}] {percent}% ({eta} left)") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what.to_string());
    bar
}

fn compare(
    path: &Path,
    variants: Vec<String>,
    n_seeds: u64,
    sets: Vec<String>,
    jobs: Option<usize>,
    out: Option<&Path>,
) -> Result<ExitCode, ExitCode> {
    let bad = |msg: String| {
        note!("{msg}");
        ExitCode::from(2)
    };
    let text = read_text(path).map_err(bad)?;
    let label = path.display().to_string();
    let all = scenario::check_str(&text, &label).map_err(|e| bad(e.to_string()))?;
    let chosen = if variants.is_empty() { all.clone() } else { variants };
    if chosen.is_empty() {
        return Err(bad(format!(
            "{label}: the scenario has no variants to compare; add some under `variants`"
        )));
    }
    if let Some(unknown) = chosen.iter().find(|v| !all.contains(v)) {
        return Err(bad(format!("{label}: no variant `{unknown}`; the scenario has: {}", all.join(", "))));
    }
    if let Some(j) = jobs.filter(|j| !(1..=MAX_JOBS).contains(j)) {
        return Err(bad(format!("--jobs {j}: give between 1 and {MAX_JOBS} threads")));
    }
    // The base seed is the scenario's own (after --set), then the ones after it.
    let base = scenario::load_str(&text, &label, &LoadOptions { sets: sets.clone(), ..Default::default() })
        .map_err(|e| bad(e.to_string()))?
        .seed;
    let Some(last) = base.checked_add(n_seeds - 1) else {
        return Err(bad(format!(
            "--seeds {n_seeds} from seed {base} would go past the largest seed, {}; lower the scenario's seed \
             (`--set /seed=N`) or --seeds",
            u64::MAX
        )));
    };
    let seeds: Vec<u64> = (base..=last).collect();
    // One spec per variant; each run replaces its seed.
    let mut specs = Vec::new();
    for v in &chosen {
        let opts = LoadOptions { variant: Some(v.clone()), sets: sets.clone(), seed: Some(base) };
        specs.push(scenario::load_str(&text, &label, &opts).map_err(|e| bad(e.to_string()))?);
    }
    if let Some(dir) = out {
        check_out_dir(dir, &[path]).map_err(|e| out_error(&e))?;
    }
    let pool = rayon::ThreadPoolBuilder::new().num_threads(jobs.unwrap_or(0)).build().map_err(|e| {
        note!("error: cannot start the worker threads: {e}");
        ExitCode::from(1)
    })?;
    let total = (chosen.len() as u64).saturating_mul(n_seeds);
    let bar = progress_bar(total, "comparing");
    let wall = Instant::now();
    let result = pool.install(|| faultline::compare::run_all(specs, chosen, seeds, &|| bar.inc(1)));
    bar.finish_and_clear();
    let elapsed = wall.elapsed().as_secs_f64();
    let mut c = result.map_err(|e| {
        let opts = LoadOptions { variant: Some(e.variant.clone()), sets: sets.clone(), seed: None };
        note!("error: {e}\nreplay: {}", replay_command(path, e.seed, &opts));
        ExitCode::from(1)
    })?;
    c.set_changes(
        &faultline::compare::words::variant_overrides(&text, &c.variants),
        &faultline::compare::words::set_overrides(&sets),
    );
    c.command = Some(compare_command(path, &c.variants, &all, n_seeds, &sets));
    let events = c.events;
    let threads = pool.current_num_threads();
    if !c.violations.is_empty() {
        note!("internal error: the model broke its invariants: {:?}", c.violations);
        return Err(ExitCode::from(1));
    }
    let text_out = faultline::report::compare_table(&c);
    if let Some(dir) = out {
        let json = serde_json::to_string_pretty(&faultline::compare::to_json(&c)).unwrap_or_default() + "\n";
        let mut files = vec![("compare.json".to_string(), json)];
        files.extend(faultline::html::compare_report_files(&c));
        write_out_dir(dir, &files, &[path]).map_err(|e| out_error(&e))?;
    }
    emit(&text_out)?;
    note!(
        "{total} runs, {events} events in {elapsed:.2} s wall on {threads} threads · peak memory {}",
        peak_memory_text()
    );
    Ok(ExitCode::SUCCESS)
}

/// The exit status of a sweep or merge that failed, its message on standard error.
fn cmd_error(e: faultline::sweep::command::CmdError) -> ExitCode {
    use faultline::sweep::command::CmdError;
    match e {
        CmdError::Bad(m) => {
            note!("{m}");
            ExitCode::from(2)
        }
        CmdError::Fail(m) => {
            note!("{m}");
            ExitCode::from(1)
        }
    }
}

fn sweep(
    mut args: faultline::sweep::command::SweepArgs,
    shard: Option<String>,
    shards: Option<u64>,
    jobs: Option<usize>,
) -> Result<ExitCode, ExitCode> {
    use faultline::sweep::{command, shard as sh};
    let bad = |msg: String| {
        note!("{msg}");
        ExitCode::from(2)
    };
    if let Some(j) = jobs.filter(|j| !(1..=MAX_JOBS).contains(j)) {
        return Err(bad(format!("--jobs {j}: give between 1 and {MAX_JOBS} threads")));
    }
    args.shard = match shard.as_deref() {
        None if shards.is_some() => return Err(bad("--shards N goes with --shard auto".into())),
        None => faultline::sweep::Shard::ALL,
        Some("auto") => sh::shard_from_env(&|k| std::env::var(k).ok(), shards).map_err(bad)?,
        Some(k) if shards.is_some() => {
            return Err(bad(format!("--shards N goes with --shard auto, not --shard {k}")));
        }
        Some(k) => sh::parse_shard(k).map_err(bad)?,
    };
    let pool = rayon::ThreadPoolBuilder::new().num_threads(jobs.unwrap_or(0)).build().map_err(|e| {
        note!("error: cannot start the worker threads: {e}");
        ExitCode::from(1)
    })?;
    let bar = progress_bar(0, "points");
    let wall = Instant::now();
    let start = |n: u64| bar.set_length(n);
    let point_done = || bar.inc(1);
    let progress = command::Progress { start: &start, point_done: &point_done };
    let result = pool.install(|| command::sweep(&args, &progress));
    bar.finish_and_clear();
    let done = result.map_err(cmd_error)?;
    let s = args.shard;
    let part = if s.count > 1 { format!("shard {}/{} · ", s.index, s.count) } else { String::new() };
    note!(
        "{part}{} points × {} seeds · {} runs simulated, {} found done in {} · {} events in {:.2} s wall on {} \
         threads · peak memory {}",
        done.points,
        done.seeds,
        done.ran,
        done.found,
        args.out.display(),
        done.events,
        wall.elapsed().as_secs_f64(),
        pool.current_num_threads(),
        peak_memory_text()
    );
    if s.count > 1 {
        note!(
            "a shard writes only its runs: when every shard is done, `faultline merge` builds the final files"
        );
    }
    emit_paths(&done.files)?;
    Ok(ExitCode::SUCCESS)
}

fn merge(dirs: &[PathBuf], out: &Path) -> Result<ExitCode, ExitCode> {
    let done = faultline::sweep::command::merge(dirs, out).map_err(cmd_error)?;
    note!(
        "merged {} points × {} seeds into {} ({} runs copied)",
        done.points,
        done.seeds,
        out.display(),
        done.found
    );
    emit_paths(&done.files)?;
    Ok(ExitCode::SUCCESS)
}

/// The final files of a sweep or merge, one path a line on standard output.
fn emit_paths(files: &[PathBuf]) -> Result<(), ExitCode> {
    let text: String = files.iter().map(|p| format!("{}\n", p.display())).collect();
    emit(&text)
}

/// Peak memory for the report on standard error, read when called.
fn peak_memory_text() -> String {
    peak_memory().map(|kib| format!("{:.1} MiB", kib as f64 / 1024.0)).unwrap_or_else(|| "unknown".into())
}

/// Peak resident memory of this process in KiB (Linux `VmHWM`), for the stderr report.
fn peak_memory() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The command that reproduces a comparison (`--variants` only when not every variant).
fn compare_command(path: &Path, chosen: &[String], all: &[String], n_seeds: u64, sets: &[String]) -> String {
    let mut s = format!("faultline compare {} --seeds {n_seeds}", path.display());
    if chosen != all {
        s += &format!(" --variants {}", chosen.join(","));
    }
    for set in sets {
        s += &format!(" --set '{set}'");
    }
    s
}

/// The one command that replays this run.
fn replay_command(path: &Path, seed: u64, opts: &LoadOptions) -> String {
    let mut s = format!("faultline run {} --seed {seed}", path.display());
    if let Some(v) = &opts.variant {
        s += &format!(" --variant {v}");
    }
    for set in &opts.sets {
        s += &format!(" --set '{set}'");
    }
    s
}

/// The scenario file as text; a file that is not UTF-8 is placed at its first bad byte.
fn read_text(path: &Path) -> Result<String, String> {
    let bytes =
        std::fs::read(path).map_err(|e| format!("{}: cannot read the scenario file: {e}", path.display()))?;
    scenario::text_of(bytes, &path.display().to_string()).map_err(|e| e.to_string())
}

fn check(path: &Path) -> Result<ExitCode, ExitCode> {
    let text = read_text(path).map_err(|e| {
        note!("{e}");
        ExitCode::from(2)
    })?;
    match scenario::check_str(&text, &path.display().to_string()) {
        Ok(variants) => {
            if variants.is_empty() {
                emit(&format!("{}: ok\n", path.display()))?;
            } else {
                emit(&format!("{}: ok (variants: {})\n", path.display(), variants.join(", ")))?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            note!("{e}");
            Err(ExitCode::from(2))
        }
    }
}
