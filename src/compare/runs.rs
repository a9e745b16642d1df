//! Running a comparison: every (variant, seed) pair on the rayon pool, in chunks folded
//! in run order, and what a failed run reports.

use super::{Comparison, RunDigest};
use crate::model::RunError;
use crate::spec::Spec;
use rayon::prelude::*;

/// A run of a comparison that failed.
#[derive(Debug)]
pub struct RunFailure {
    pub variant: String,
    pub seed: u64,
    pub error: Failure,
}

/// Why a run failed.
#[derive(Debug)]
pub enum Failure {
    /// It hit one of its limits.
    Limit(RunError),
    /// The model panicked: a bug in faultline (the panic message is on standard error).
    Panic,
}

impl std::fmt::Display for RunFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.error {
            Failure::Limit(e) => write!(f, "variant {}, seed {}: {e}", self.variant, self.seed),
            Failure::Panic => write!(
                f,
                "variant {}, seed {}: internal error: the simulation panicked (a bug in faultline; please \
                 report it with the replay command)",
                self.variant, self.seed
            ),
        }
    }
}

impl std::error::Error for RunFailure {}

/// Runs of one chunk in flight per thread, about: enough to keep every thread busy
/// while the slowest run of a chunk finishes, few enough that memory stays bounded.
const RUNS_PER_THREAD: usize = 4;

/// Runs every variant on every seed and folds the runs into a comparison;
/// `specs[v]` is variant `v`'s spec, and its run on seed `s` is that spec with its seed
/// replaced (the seed is applied last when a scenario loads, so this is the spec
/// loading with `--seed s` gives). `tick` is called once per finished run (for a
/// progress bar), from any thread. Call it inside the rayon pool to run on; the result
/// does not depend on its number of threads. The first run that fails, in run order,
/// is the error.
pub fn run_all(
    specs: Vec<Spec>,
    variants: Vec<String>,
    seeds: Vec<u64>,
    tick: &(dyn Fn() + Sync),
) -> Result<Comparison, RunFailure> {
    let mut c = Comparison::new(variants, specs, seeds);
    let pairs: Vec<(usize, u64)> =
        (0..c.variants.len()).flat_map(|v| c.seeds.iter().map(move |&s| (v, s))).collect();
    let chunk = (RUNS_PER_THREAD * rayon::current_num_threads()).max(1);
    for part in pairs.chunks(chunk) {
        let digests: Vec<Result<RunDigest, RunFailure>> = part
            .par_iter()
            .map(|&(v, seed)| {
                let mut spec = c.specs[v].clone();
                spec.seed = seed;
                // A panic in one run fails that run, named, rather than the process.
                let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    crate::model::run(&spec).map(|out| c.digest(v, &out))
                }));
                tick();
                let failed = |error| RunFailure { variant: c.variants[v].clone(), seed, error };
                match r {
                    Ok(Ok(d)) => Ok(d),
                    Ok(Err(e)) => Err(failed(Failure::Limit(e))),
                    Err(_) => Err(failed(Failure::Panic)),
                }
            })
            .collect();
        for (d, &(v, _)) in digests.into_iter().zip(part) {
            c.fold(v, d?);
        }
    }
    Ok(c)
}
