//! `faultline blast`: the blast-radius matrix. The scenario runs healthy and then once
//! per service (every replica crashed from the end of warm-up, never restarted) and per
//! topic broker (an outage over the same window), all on the same seeds (common random
//! numbers: the rows differ by what is down, not by their noise), and each workload's,
//! saga's and consumer group's figures are set against the healthy run's.
//!
//! One concern per module: [`plan`] the rows and the faults they inject (as `--set`
//! overrides, so every run is a replayable `faultline run`); [`figures`] what the
//! matrix reads of a run's summary; [`matrix`] the statistics and the class of each
//! cell; [`needs`] what each workload needs by the scenario's structure (the monolith
//! rule); [`report`] the text table and `blast.json`; [`page`] `blast.html` and
//! `blast.md`; [`command`] the command over them. Runs go through the sweep's runner
//! ([`crate::sweep::runs::run_pairs`]) on the rayon pool; the result is read back in
//! (row, seed) order, so it does not depend on the number of threads.

pub mod command;
pub mod figures;
pub mod matrix;
pub mod needs;
pub mod page;
pub mod plan;
pub mod report;

pub use command::{BlastArgs, main};

use matrix::{Cell, Class, FigDef, Series};
use needs::Need;
use plan::Row;

/// A finished blast: the healthy scenario, the rows and every cell.
pub struct Blast {
    /// The healthy scenario as resolved (its names label every column).
    pub spec: crate::spec::Spec,
    /// The scenario file as given on the command line, and the command that reproduces
    /// the blast.
    pub file: String,
    pub command: String,
    pub variant: Option<String>,
    /// The user's `--set`s (every run's first overrides).
    pub sets: Vec<String>,
    /// The healthy run's own overrides after them ([`plan::base_sets`]); a row's
    /// overrides stand in their place.
    pub base_sets: Vec<String>,
    pub keep_faults: bool,
    pub seeds: Vec<u64>,
    pub rows: Vec<Row>,
    /// The healthy run's series, `[column][figure][seed]`.
    pub healthy_w: Vec<Series>,
    pub healthy_s: Vec<Series>,
    pub healthy_g: Vec<Series>,
    /// `[row][column]`.
    pub cells_w: Vec<Vec<Cell>>,
    pub cells_s: Vec<Vec<Cell>>,
    pub cells_g: Vec<Vec<Cell>>,
    /// `[row][workload]`: what the workload needs of the row's service or broker.
    pub needs: Vec<Vec<Need>>,
}

/// One distributed-monolith finding: a row that takes down a workload that does not
/// need it.
pub struct Monolith<'a> {
    pub row: &'a Row,
    pub workload: &'a str,
    pub need: &'a Need,
}

impl Blast {
    /// Whether cell (row `r`, workload `w`) is the monolith coupling: down, although
    /// the workload does not need the row's service or broker (see [`needs`]).
    pub fn monolith(&self, r: usize, w: usize) -> bool {
        self.cells_w[r][w].class == Class::Down && !self.needs[r][w].needed()
    }

    /// Every monolith cell, rows in order, workloads in order.
    pub fn monoliths(&self) -> Vec<Monolith<'_>> {
        let mut out = Vec::new();
        for (r, row) in self.rows.iter().enumerate() {
            for (w, wl) in self.spec.workloads.iter().enumerate() {
                if self.monolith(r, w) {
                    out.push(Monolith { row, workload: &wl.name, need: &self.needs[r][w] });
                }
            }
        }
        out
    }

    /// The consumer groups' names, `topic/group`.
    pub fn group_labels(&self) -> Vec<String> {
        figures::group_names(&self.spec).into_iter().map(|(t, g)| format!("{t}/{g}")).collect()
    }

    /// The healthy mean and 95% half-width of figure `k` of a column.
    pub fn healthy_stat(series: &Series, k: usize) -> (f64, f64) {
        crate::compare::mean_ci(&series[k])
    }

    /// The overrides of one run: row `r`, or the healthy run (`None`).
    pub fn run_sets(&self, r: Option<usize>) -> Vec<String> {
        let own = match r.and_then(|r| self.rows.get(r)) {
            Some(row) => &row.sets,
            None => &self.base_sets,
        };
        self.sets.iter().chain(own).cloned().collect()
    }

    /// The replay command of one run: row `r` (`None`: the healthy run) on `seed`.
    pub fn replay(&self, r: Option<usize>, seed: u64) -> String {
        let mut s = format!("faultline run {} --seed {seed}", shell_quote(&self.file));
        if let Some(v) = &self.variant {
            s += &format!(" --variant {}", shell_quote(v));
        }
        for set in self.run_sets(r) {
            s += &format!(" --set {}", shell_quote(&set));
        }
        s
    }
}

/// The figure definitions of each kind of column, in the order of [`Blast`]'s cells.
pub fn kinds() -> [(&'static str, &'static [FigDef]); 3] {
    [("workloads", &matrix::WORKLOAD_FIGS), ("sagas", &matrix::SAGA_FIGS), ("groups", &matrix::GROUP_FIGS)]
}

/// Quotes a word for a POSIX shell when it needs it.
pub fn shell_quote(s: &str) -> String {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:=#@%+,".contains(c)) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}
