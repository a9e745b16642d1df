//! `faultline sweep` and `faultline merge`: a scenario run over a grid of parameter
//! values, every point on the same seeds (common random numbers, as `compare`), and the
//! figures of every run aggregated per point (mean and 95% interval over seeds, the
//! thresholds' verdicts).
//!
//! One concern per module: [`grid`] parses `--param` and builds the cartesian product;
//! [`shard`] picks a shard's (point, seed) pairs and reads the batch systems'
//! environment; [`runs`] runs pairs on the rayon pool; [`figures`] flattens a summary
//! JSON into tidy rows; [`aggregate`] builds `sweep.csv` and `sweep.json`; [`page`]
//! `sweep.html`, `sweep.md` and their charts; [`folder`] the output folder (the plan,
//! one file per run, written atomically, and the final files); [`command`] the two
//! commands over them.
//!
//! The unit of work, of resumption and of sharding is one (point, seed) pair, whose
//! result is the run's summary JSON, byte for byte what `faultline run --set … --seed S
//! --out` writes as `summary.json`, stored as `runs/pPPPP-sSSSS.json`. The final files
//! are a pure function of the plan and those files, read in (point, seed) order, so
//! they do not depend on the number of threads, on the shards, nor on which runs a
//! resumed sweep found already done.

pub mod aggregate;
pub mod command;
pub mod figures;
pub mod folder;
pub mod grid;
pub mod page;
pub mod runs;
pub mod shard;

pub use grid::{Param, parse_param};
pub use shard::Shard;

use serde::{Deserialize, Serialize};

/// Version of the plan and the folder layout.
pub const FORMAT: u32 = 1;

/// What identifies a sweep: written as `plan.json` into its folder, so that a resumed
/// sweep, a shard and a merge can tell whether the runs they find belong to it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    pub faultline_sweep: u32,
    /// The scenario's name and description (as resolved).
    pub scenario: String,
    pub description: String,
    /// FNV-1a 64 of the scenario file's bytes, in hex: a changed file is a new sweep.
    pub scenario_hash: String,
    pub variant: Option<String>,
    /// The `--set`s applied to every point, before the point's own.
    pub sets: Vec<String>,
    pub params: Vec<PlanParam>,
    pub seeds: Vec<u64>,
}

/// A parameter as the plan records it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanParam {
    pub pointer: String,
    pub values: Vec<String>,
}

impl Plan {
    pub fn params(&self) -> Vec<Param> {
        self.params.iter().map(|p| Param { pointer: p.pointer.clone(), values: p.values.clone() }).collect()
    }

    /// Per point, its value index in each param (the first param slowest).
    pub fn points(&self) -> Vec<Vec<usize>> {
        grid::points(&self.params()).unwrap_or_default()
    }

    /// The plan as `plan.json` writes it.
    pub fn to_text(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }
}

/// FNV-1a 64 of `bytes`, in hex.
pub fn fnv1a64_hex(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= *b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// The file of one run, relative to the sweep's folder.
pub fn run_file(point: usize, seed_index: usize) -> String {
    format!("runs/p{point:04}-s{seed_index:04}.json")
}
