//! One integration-test binary (link time stays low); each module is a family of checks.

mod adaptive;
mod bad_input;
mod blast;
mod caches;
mod cli;
mod closed_forms;
mod common;
mod compare_verdicts;
mod determinism;
mod golden;
mod graph;
mod lint;
mod mechanisms;
mod messaging;
mod mutation;
mod page;
mod phases;
mod policies;
mod props;
mod queues;
mod real;
mod reports;
mod robustness;
mod sweep;
mod thresholds;
mod tune;
