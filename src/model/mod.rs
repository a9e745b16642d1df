//! The simulated world, in rooms.
//!
//! A workload's client sends a request (a *call*) to an endpoint; each call is carried
//! by one or more *attempts*; an attempt that reaches a replica becomes an *execution*
//! there. An execution waits in the replica's queue for a worker, holds it for the
//! endpoint's own latency, then runs the endpoint's steps in order, still holding the
//! worker while it waits on its synchronous calls.
//!
//! A caller that times out stops waiting; the callee does not know and keeps working,
//! and its late answer is dropped on arrival (wasted work, counted per endpoint as
//! `abandoned`). That is the mechanism behind retry storms, so it is never short-cut.
//!
//! Each concern is a room: a module owning its state and invariants (ARCHITECTURE.md
//! lists them). `world` holds the rooms and routes events; `event` is the vocabulary
//! they share.
//!
//! Invariants the handlers keep (checked at the end of every run and by the tests):
//! every call ends exactly once; no replica has more busy workers than `concurrency`;
//! no queue holds more than `capacity`; offered = ok + failed + in flight per workload;
//! saga outcomes add up to the sagas started; per consumer group, every message ends
//! once.

mod arrivals;
mod autoscale;
mod caches;
mod calls;
mod clients;
mod event;
mod faults;
mod health;
mod network;
mod output;
mod phases;
mod queues;
mod record;
mod sagas;
mod servers;
mod tags;
mod topics;
mod workloads;
mod world;

pub use clients::edge_bulkhead_policy;
pub use output::{
    AutoscaleFigures, BreakerFigures, BulkheadFigures, CacheFigures, EdgeFigures, EndpointFigures,
    GroupFigures, PhaseFigures, PhaseWorkloadFigures, QueueFigures, RunError, RunOutput, SagaFigures,
    ServiceFigures, TopicFigures, WorkloadFigures,
};
pub use phases::{PhaseSpan, fault_window, phase_cut};
use world::World;
pub use world::{run, run_with_progress};
