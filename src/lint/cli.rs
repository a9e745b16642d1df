//! The `faultline lint` command: loads the scenario as `check` does (the whole file,
//! every variant; a problem is a located error and exit status 2), lints the base
//! scenario, prints the findings, and exits 1 when one is at or above `--deny`.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use super::{Severity, report};
use crate::scenario::{self, LoadOptions};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// rustc-style diagnostics.
    Text,
    /// One JSON object (its shape is documented in docs/lint.md).
    Json,
    /// SARIF 2.1.0, for code-scanning tools.
    Sarif,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Deny {
    /// Fail on any finding.
    Warning,
    /// Fail on errors only (the default).
    Error,
}

#[derive(Clone, Debug, clap::Args)]
pub struct LintArgs {
    /// The scenario file (JSON).
    pub scenario: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Exit with status 1 when a finding is at or above this severity.
    #[arg(long, value_enum, default_value_t = Deny::Error)]
    pub deny: Deny,
}

/// Runs the command; the exit status is 0 (nothing at or above `--deny`), 1 (findings
/// at or above it, or standard output could not be written) or 2 (invalid scenario).
pub fn main(args: &LintArgs) -> ExitCode {
    let label = args.scenario.display().to_string();
    let text = match std::fs::read(&args.scenario)
        .map_err(|e| format!("{label}: cannot read the scenario file: {e}"))
        .and_then(|b| scenario::text_of(b, &label).map_err(|e| e.to_string()))
    {
        Ok(t) => t,
        Err(e) => return fail(&e, 2),
    };
    if let Err(e) = scenario::check_str(&text, &label) {
        return fail(&e.to_string(), 2);
    }
    let spec = match scenario::load_str(&text, &label, &LoadOptions::default()) {
        Ok(s) => s,
        Err(e) => return fail(&e.to_string(), 2),
    };
    let allow = super::allowed_rules(&text);
    let r = report(&spec, &text, &label, &allow);
    let deny = match args.deny {
        Deny::Warning => Severity::Warning,
        Deny::Error => Severity::Error,
    };
    let fails = r.findings.iter().any(|f| f.finding.rule.severity >= deny);
    let out = match args.format {
        Format::Text => super::text::render(&r, &text),
        Format::Json => super::json::render(&r, deny, fails),
        Format::Sarif => super::sarif::render(&r),
    };
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout.write_all(out.as_bytes()).and_then(|_| stdout.flush()) {
        return fail(&format!("error: cannot write to standard output: {e}"), 1);
    }
    if fails { ExitCode::from(1) } else { ExitCode::SUCCESS }
}

fn fail(message: &str, code: u8) -> ExitCode {
    let _ = writeln!(std::io::stderr(), "{message}");
    ExitCode::from(code)
}
