//! Running a sweep's (point, seed) pairs on the rayon pool. Each run is reduced, as
//! soon as it finishes, to its summary JSON (the bytes `faultline run` writes as
//! `summary.json`) and handed to a sink (the folder writes it to its own file), so
//! memory does not grow with the runs and the order the threads finish in reaches
//! nothing: the final files are built afterwards, in pair order, from the files.

use crate::model::RunError;
use crate::report::Summary;
use crate::spec::Spec;
use rayon::prelude::*;

/// Why one run of a sweep failed.
#[derive(Debug)]
pub enum Failure {
    /// It hit one of its limits.
    Limit(RunError),
    /// The model panicked: a bug in faultline (the panic message is on standard error).
    Panic,
    /// The model broke its invariants: a bug in faultline.
    Violations(Vec<String>),
    /// Its result could not be stored.
    Write(String),
}

/// A run of a sweep that failed: its point, its seed and why.
#[derive(Debug)]
pub struct RunFailure {
    pub point: usize,
    pub seed: u64,
    pub error: Failure,
}

impl std::fmt::Display for RunFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "point {}, seed {}: ", self.point, self.seed)?;
        match &self.error {
            Failure::Limit(e) => write!(f, "{e}"),
            Failure::Panic => write!(
                f,
                "internal error: the simulation panicked (a bug in faultline; please report it with the replay command)"
            ),
            Failure::Violations(v) => {
                write!(f, "internal error: the model broke its invariants (please report): {}", v.join("; "))
            }
            Failure::Write(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for RunFailure {}

/// One run: `spec` on `seed`, as its summary JSON text (pretty, newline-terminated, as
/// `run --out` writes `summary.json`) and its number of events.
pub fn summary_text(spec: &Spec, seed: u64) -> Result<(String, u64), Failure> {
    let (_, summary, events) = summary_of(spec, seed)?;
    Ok((serde_json::to_string_pretty(&summary).unwrap_or_default() + "\n", events))
}

/// One run: `spec` on `seed`, as the spec it ran (its seed replaced), its [`Summary`]
/// and its number of events.
pub fn summary_of(spec: &Spec, seed: u64) -> Result<(Spec, Summary, u64), Failure> {
    let mut spec = spec.clone();
    spec.seed = seed;
    // A panic in one run fails that run, named, rather than the process.
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| crate::model::run(&spec)));
    let out = match r {
        Ok(Ok(out)) => out,
        Ok(Err(e)) => return Err(Failure::Limit(e)),
        Err(_) => return Err(Failure::Panic),
    };
    if !out.violations.is_empty() {
        return Err(Failure::Violations(out.violations));
    }
    let summary = Summary::of(&spec, &out);
    Ok((spec, summary, out.events))
}

/// Runs `pairs` as [`run_pairs`] does, and reduces each run at once with `f(point,
/// spec as run, summary)` (`tune` keeps a few figures, not the summary). The results
/// come back in pair order, whatever the threads; the error is the first failure in
/// pair order.
pub fn map_pairs<T: Send>(
    specs: &[Spec],
    seeds: &[u64],
    pairs: &[(usize, usize)],
    f: &(dyn Fn(usize, &Spec, &Summary) -> T + Sync),
) -> Result<Vec<T>, RunFailure> {
    let results: Vec<Result<T, RunFailure>> = pairs
        .par_iter()
        .with_max_len(1)
        .map(|&(p, s)| {
            let (spec, summary, _) = summary_of(&specs[p], seeds[s]).map_err(|error| RunFailure {
                point: p,
                seed: seeds[s],
                error,
            })?;
            Ok(f(p, &spec, &summary))
        })
        .collect();
    results.into_iter().collect()
}

/// Runs `pairs` (`(point, seed index)`; point `p` runs `specs[p]`, with its seed
/// replaced by `seeds[s]`) on the current rayon pool, hands each summary to `sink`
/// (from any thread) and calls `tick(point)` after each. Returns the events simulated.
/// Every pair runs even when one fails; the error is the first failure in pair order.
pub fn run_pairs(
    specs: &[Spec],
    seeds: &[u64],
    pairs: &[(usize, usize)],
    sink: &(dyn Fn(usize, usize, String) -> Result<(), String> + Sync),
    tick: &(dyn Fn(usize) + Sync),
) -> Result<u64, RunFailure> {
    let results: Vec<Result<u64, RunFailure>> = pairs
        .par_iter()
        .with_max_len(1)
        .map(|&(p, s)| {
            let failed = |error| RunFailure { point: p, seed: seeds[s], error };
            let r = summary_text(&specs[p], seeds[s]).map_err(failed).and_then(|(text, events)| {
                sink(p, s, text).map_err(|e| failed(Failure::Write(e)))?;
                Ok(events)
            });
            tick(p);
            r
        })
        .collect();
    let mut events = 0u64;
    for r in results {
        events = events.saturating_add(r?);
    }
    Ok(events)
}
