//! `faultline tune`: search a scenario's parameters for the configuration that best
//! meets objectives under constraints, with a race over seeds that stops the clearly
//! infeasible and the clearly worse early (see [`race`] for the rule).
//!
//! One concern per module: [`goal`] parses objectives and constraints in the
//! thresholds' language and measures them on a run's summary; [`space`] the candidates
//! (the sweep's grid, or a Latin hypercube over continuous ranges); [`race`] the
//! racing rule, a pure function of the runs' figures; [`report`] the answer in words;
//! [`json`] `tune.json`; [`page`] `tune.html` and `tune.md`; [`command`] the CLI's arguments,
//! the checks before anything runs, and the runs on the rayon pool (the sweep's
//! [`crate::sweep::runs::map_pairs`]).
//!
//! Determinism: the candidates come from the scenario's seed, every run's figures come
//! back in (candidate, seed) order whatever the threads, and the race reads only them,
//! so the outputs are the same bytes for any `--jobs`.

pub mod command;
pub mod goal;
pub mod json;
pub mod page;
pub mod race;
pub mod report;
pub mod space;

pub use command::{TuneArgs, main};
