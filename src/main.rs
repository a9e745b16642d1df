//! The command line: parses arguments, calls the library, maps errors to exit codes
//! (0 success, 2 invalid scenario or arguments, 1 any other failure). The only place
//! that reads a wall clock, and it reports what it reads on standard error alone.

use clap::{Parser, Subcommand};
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
    /// Simulate a scenario and print its summary.
    #[command(after_help = "Examples:\n  faultline run scenarios/mmc.json\n  \
        faultline run scenarios/checkout.json --variant tight --seed 7 --out out/\n  \
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
        /// Write summary.json and timeseries.csv to this folder.
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
        /// Number of seeds: the scenario's seed and the ones after it (default 5).
        #[arg(long, default_value_t = 5)]
        seeds: u64,
        /// Override one value by JSON Pointer in every variant (as for `run`).
        #[arg(long = "set", value_name = "PTR=VALUE")]
        sets: Vec<String>,
        /// Threads to run on (default: all cores). The result does not depend on it.
        #[arg(long)]
        jobs: Option<usize>,
        /// Write compare.json, compare.md, compare.html and the overlay charts here.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Validate a scenario and all its variants without running it.
    #[command(after_help = "Example:\n  faultline check scenarios/checkout.json")]
    Check {
        /// The scenario file (JSON).
        scenario: PathBuf,
    },
    /// Print the JSON Schema of the scenario format (for editors: `"$schema"`).
    #[command(after_help = "Example:\n  faultline schema > faultline.schema.json")]
    Schema,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::Run { scenario, seed, variant, sets, out, json } => {
            let opts = LoadOptions { variant, sets, seed };
            run(&scenario, &opts, out.as_deref(), json)
        }
        Cmd::Compare { scenario, variants, seeds, sets, jobs, out } => {
            compare(&scenario, variants, seeds, sets, jobs, out.as_deref())
        }
        Cmd::Check { scenario } => check(&scenario),
        Cmd::Schema => {
            println!("{}", serde_json::to_string_pretty(&scenario::schema()).unwrap_or_default());
            ExitCode::SUCCESS
        }
    }
}

fn run(path: &Path, opts: &LoadOptions, out: Option<&Path>, json: bool) -> ExitCode {
    // The whole file is validated, every variant included, so that a broken variant is
    // found the first time the file runs rather than the day someone picks it.
    if let Ok(text) = std::fs::read_to_string(path)
        && let Err(e) = scenario::check_str(&text, &path.display().to_string())
    {
        eprintln!("{e}");
        return ExitCode::from(2);
    }
    let spec = match scenario::load_file(path, opts) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let replay = replay_command(path, &spec, opts);
    let wall = Instant::now();
    let bar = progress_bar(1000, "simulating");
    let result = faultline::model::run_with_progress(&spec, &|f| {
        // Shown only once a run has taken a second, and only on a terminal.
        if wall.elapsed().as_secs_f64() > 1.0 {
            bar.set_position((f * 1000.0) as u64);
        }
    });
    bar.finish_and_clear();
    let elapsed = wall.elapsed().as_secs_f64();
    let output = match result {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}\nreplay: {replay}");
            return ExitCode::from(1);
        }
    };
    let requests: u64 = output.workloads.iter().map(|w| w.offered).sum();
    eprintln!(
        "seed {} · {} events in {:.3} s wall ({:.2} M events/s, {:.2} M requests/s) · peak memory {} · replay: {replay}",
        spec.seed,
        output.events,
        elapsed,
        output.events as f64 / elapsed.max(1e-9) / 1e6,
        requests as f64 / elapsed.max(1e-9) / 1e6,
        peak_memory()
            .map(|kib| format!("{:.1} MiB", kib as f64 / 1024.0))
            .unwrap_or_else(|| "unknown".into()),
    );
    if !output.violations.is_empty() {
        eprintln!("internal error: the model broke its invariants (please report with the replay command):");
        for v in &output.violations {
            eprintln!("  {v}");
        }
        return ExitCode::from(1);
    }
    let summary = faultline::report::summary_json(&spec, &output);
    let summary_text = serde_json::to_string_pretty(&summary).unwrap_or_default() + "\n";
    if let Some(dir) = out {
        let written = std::fs::create_dir_all(dir)
            .and_then(|_| std::fs::write(dir.join("summary.json"), &summary_text))
            .and_then(|_| {
                std::fs::write(dir.join("timeseries.csv"), faultline::report::timeseries_csv(&output.series))
            })
            .and_then(|_| faultline::html::write_run_report(dir, &spec, &output, &summary).map(|_| ()));
        if let Err(e) = written {
            eprintln!("error: cannot write to {}: {e}", dir.display());
            return ExitCode::from(1);
        }
    }
    if json {
        print!("{summary_text}");
    } else {
        print!("{}", faultline::report::summary_table(&spec, &output));
    }
    ExitCode::SUCCESS
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
) -> ExitCode {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{}: cannot read the scenario file: {e}", path.display());
            return ExitCode::from(2);
        }
    };
    let label = path.display().to_string();
    let all = match scenario::check_str(&text, &label) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let chosen = if variants.is_empty() { all.clone() } else { variants };
    if chosen.is_empty() {
        eprintln!("{label}: the scenario has no variants to compare; add some under `variants`");
        return ExitCode::from(2);
    }
    if let Some(unknown) = chosen.iter().find(|v| !all.contains(v)) {
        eprintln!("{label}: no variant `{unknown}`; the scenario has: {}", all.join(", "));
        return ExitCode::from(2);
    }
    if n_seeds == 0 {
        eprintln!("--seeds must be at least 1");
        return ExitCode::from(2);
    }
    // The base seed is the scenario's own (after --set), then the ones after it.
    let base =
        match scenario::load_str(&text, &label, &LoadOptions { sets: sets.clone(), ..Default::default() }) {
            Ok(s) => s.seed,
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::from(2);
            }
        };
    let seeds: Vec<u64> = (0..n_seeds).map(|i| base.wrapping_add(i)).collect();
    let mut specs = Vec::new();
    for v in &chosen {
        let mut row = Vec::new();
        for &seed in &seeds {
            let opts = LoadOptions { variant: Some(v.clone()), sets: sets.clone(), seed: Some(seed) };
            match scenario::load_str(&text, &label, &opts) {
                Ok(s) => row.push(s),
                Err(e) => {
                    eprintln!("{e}");
                    return ExitCode::from(2);
                }
            }
        }
        specs.push(row);
    }
    let pool = match rayon::ThreadPoolBuilder::new().num_threads(jobs.unwrap_or(0)).build() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: cannot start the worker threads: {e}");
            return ExitCode::from(1);
        }
    };
    let total = (chosen.len() as u64) * n_seeds;
    let bar = progress_bar(total, "comparing");
    let wall = Instant::now();
    let result = pool.install(|| faultline::compare::run_all(specs, chosen, seeds, &|| bar.inc(1)));
    bar.finish_and_clear();
    let c = match result {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    let events: u64 = c.runs.iter().flatten().map(|r| r.events).sum();
    eprintln!(
        "{total} runs, {events} events in {:.2} s wall on {} threads",
        wall.elapsed().as_secs_f64(),
        pool.current_num_threads()
    );
    let violations: Vec<&String> = c.runs.iter().flatten().flat_map(|r| &r.violations).collect();
    if !violations.is_empty() {
        eprintln!("internal error: the model broke its invariants: {violations:?}");
        return ExitCode::from(1);
    }
    print!("{}", faultline::compare::render_text(&c));
    if let Some(dir) = out {
        let md = faultline::compare::render_markdown(&c);
        let html = faultline::compare::render_html(&c);
        let json = serde_json::to_string_pretty(&faultline::compare::to_json(&c)).unwrap_or_default() + "\n";
        let (name, description) = (c.scenario.clone(), c.description.clone());
        let variants = c.into_variant_runs();
        let written = std::fs::create_dir_all(dir)
            .and_then(|_| std::fs::write(dir.join("compare.json"), json))
            .and_then(|_| {
                faultline::html::write_compare_report(dir, &name, &description, &variants, &md, &html)
            });
        if let Err(e) = written {
            eprintln!("error: cannot write to {}: {e}", dir.display());
            return ExitCode::from(1);
        }
    }
    ExitCode::SUCCESS
}

/// Peak resident memory of this process in KiB (Linux `VmHWM`), for the stderr report.
fn peak_memory() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The one command that replays this run.
fn replay_command(path: &Path, spec: &faultline::spec::Spec, opts: &LoadOptions) -> String {
    let mut s = format!("faultline run {} --seed {}", path.display(), spec.seed);
    if let Some(v) = &opts.variant {
        s += &format!(" --variant {v}");
    }
    for set in &opts.sets {
        s += &format!(" --set '{set}'");
    }
    s
}

fn check(path: &Path) -> ExitCode {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{}: cannot read: {e}", path.display());
            return ExitCode::from(2);
        }
    };
    match scenario::check_str(&text, &path.display().to_string()) {
        Ok(variants) => {
            if variants.is_empty() {
                println!("{}: ok", path.display());
            } else {
                println!("{}: ok (variants: {})", path.display(), variants.join(", "));
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(2)
        }
    }
}
