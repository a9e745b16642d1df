//! faultline: a deterministic discrete-event simulator of service topologies.
//!
//! Layers, one direction: `scenario` (parse, validate, resolve names to ids) → `spec`
//! (the resolved scenario) → `model` (the simulated world and its event handlers, with
//! the `policy` state machines) → `engine` (clock, queue), `arena`, `rng` (random streams), `time` → `metrics` →
//! `report` → the CLI in `main.rs`. See ARCHITECTURE.md.

pub mod arena;
pub mod blast;
pub mod charts;
pub mod compare;
pub mod dist;
pub mod engine;
pub mod graph;
pub mod html;
pub mod lint;
pub mod metrics;
pub mod model;
pub mod policy;
pub mod report;
pub mod rng;
pub mod scenario;
pub mod spec;
pub mod sweep;
pub mod time;
pub mod tune;
