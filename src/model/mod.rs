//! The simulated world and its event handlers.
//!
//! A workload's client sends a request (a *call*) to an endpoint; each call is carried
//! by one or more *attempts*; an attempt that reaches a replica becomes an *execution*
//! there. An execution waits in the replica's queue for a worker, holds it for the
//! endpoint's own latency, then runs the endpoint's steps in order, still holding the
//! worker while it waits on its synchronous calls (a thread blocked on a downstream call
//! is busy: this is what makes a slow leaf fill the pools above it).
//!
//! A caller that times out stops waiting; the callee does not know and keeps working,
//! and its late answer is dropped on arrival (wasted work, counted per endpoint as
//! `abandoned`). That is the mechanism behind retry storms, so it is never short-cut.
//!
//! Invariants the handlers keep (checked in `check_invariants` and by the tests): every
//! call ends exactly once; no replica has more busy workers than `concurrency`; no queue
//! holds more than `capacity`; offered = ok + failed + in flight per workload; saga
//! outcomes add up to the sagas started; per consumer group, every message ends once.

mod arrivals;
mod world;

pub use world::{
    EdgeFigures, EndpointFigures, GroupFigures, RunError, RunOutput, SagaFigures, ServiceFigures,
    TopicFigures, WorkloadFigures, run, run_with_progress,
};
