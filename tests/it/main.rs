//! One integration-test binary (link time stays low); each module is a family of checks.

mod bad_input;
mod cli;
mod closed_forms;
mod common;
mod compare_verdicts;
mod determinism;
mod golden;
mod mechanisms;
mod messaging;
mod mutation;
mod page;
mod phases;
mod props;
mod queues;
mod reports;
mod robustness;
mod sweep;
mod thresholds;
