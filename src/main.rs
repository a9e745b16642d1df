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
    let result = faultline::model::run(&spec);
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
            });
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
