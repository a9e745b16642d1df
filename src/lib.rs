//! faultline: a deterministic discrete-event simulator of service topologies.
//!
//! Layers, one direction: `scenario` (parse, validate, resolve names to ids) → `spec`
//! (the resolved scenario) → `model` (the simulated world and its event handlers) →
//! `engine` (clock, queue, random streams) → `metrics` → `report` → the CLI in `main.rs`.

pub mod dist;
pub mod engine;
pub mod spec;
