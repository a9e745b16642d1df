//! Server-side adaptive concurrency: a filter in front of each replica that admits a
//! request while fewer than its current limit are outstanding and answers the rest
//! `unavailable` at once; the limit follows the latencies (and drops) it observes.
//! Two algorithms: Envoy's gradient controller (`gradient.rs`) and Netflix
//! concurrency-limits' AIMD (`aimd.rs`). [`Controller`] gives the model one interface
//! to both.
//!
//! *Invariant*: after `admit` returns `Some`, outstanding ≤ limit; no clock, no random
//! stream of its own (the caller passes `now` and its `Rng`).

mod aimd;
mod gradient;

pub use aimd::{Aimd, AimdParams};
pub use gradient::{Gradient, GradientParams};

use crate::rng::Rng;
use crate::time::Nanos;

/// A service's adaptive concurrency filter (one controller per replica).
#[derive(Clone, Debug, PartialEq)]
pub enum Adaptive {
    Gradient(GradientParams),
    Aimd(AimdParams),
}

/// One replica's controller, of either algorithm.
#[derive(Clone, Debug)]
pub enum Controller {
    Gradient(Gradient),
    Aimd(Aimd),
}

impl Controller {
    /// A controller created at `now` (a gradient controller starts measuring its minRTT).
    pub fn new(a: &Adaptive, now: Nanos) -> Controller {
        match a {
            Adaptive::Gradient(p) => Controller::Gradient(Gradient::new(p.clone(), now)),
            Adaptive::Aimd(p) => Controller::Aimd(Aimd::new(p.clone())),
        }
    }

    /// The limit in force at `now`.
    pub fn limit_at(&mut self, now: Nanos) -> u32 {
        match self {
            Controller::Gradient(g) => g.limit_at(now),
            Controller::Aimd(a) => a.limit(),
        }
    }

    pub fn outstanding(&self) -> u32 {
        match self {
            Controller::Gradient(g) => g.outstanding(),
            Controller::Aimd(a) => a.outstanding(),
        }
    }

    /// Admits a request at `now` below the limit: the outstanding count with it (the
    /// `inflight` Netflix's limiter records at acquisition), or `None` when blocked.
    pub fn admit(&mut self, now: Nanos) -> Option<u32> {
        match self {
            Controller::Gradient(g) => g.admit(now).then(|| g.outstanding()),
            Controller::Aimd(a) => a.admit(),
        }
    }

    /// An admitted request that arrived at `sent`, with `inflight` outstanding at its
    /// admission, ends at `now`: with a response (`responded`), or cancelled by its
    /// caller. Envoy's filter takes a response as a latency sample and a cancellation
    /// as `recordFailure` (no sample); Netflix's gRPC server interceptor calls
    /// `onSuccess` for a response and `onDropped` for a cancellation.
    pub fn end(&mut self, now: Nanos, sent: Nanos, inflight: u32, responded: bool, rng: &mut Rng) {
        match self {
            Controller::Gradient(g) if responded => g.sample(now, sent, rng),
            Controller::Gradient(g) => g.failure(now),
            Controller::Aimd(a) => a.sample(now - sent, inflight, !responded),
        }
    }
}
