//! Netflix concurrency-limits' `AIMDLimit` behind its `SimpleLimiter`
//! (`concurrency-limits-core/.../limit/AIMDLimit.java`, `AbstractLimit.java`,
//! `limiter/AbstractLimiter.java`, `limiter/SimpleLimiter.java`).
//!
//! The limiter admits a request while fewer than `limit` are outstanding (a semaphore
//! holding `limit − outstanding` permits, resized when the limit changes) and records
//! at admission `inflight`, the outstanding count with the request itself. When the
//! request ends, the limit takes one sample (`AbstractLimit.onSample`, one update per
//! request, no window): its round-trip time `rtt`, that `inflight`, and `didDrop`:
//!
//! ```text
//! if didDrop or rtt > timeout:   limit = (int)(limit × backoffRatio)
//! else if inflight × 2 ≥ limit:  limit = limit + 1
//! limit = min(maxLimit, max(minLimit, limit))
//! ```
//!
//! (`(int)` truncates toward zero, as Rust's `as u32` does for positive values; the
//! initial limit is not clamped until the first sample, as in Netflix's builder, which
//! only logs a warning when it lies outside `[minLimit, maxLimit]`.)
//!
//! *Invariant*: after `admit` returns `Some`, `outstanding <= limit`.

use crate::time::Nanos;

/// `AIMDLimit.Builder`, resolved; its defaults are Netflix's.
#[derive(Clone, Debug, PartialEq)]
pub struct AimdParams {
    /// `initialLimit` (default 20).
    pub initial_limit: u32,
    /// `minLimit` (default 20).
    pub min_limit: u32,
    /// `maxLimit` (default 200).
    pub max_limit: u32,
    /// `backoffRatio`, in [0.5, 1) (default 0.9).
    pub backoff_ratio: f64,
    /// `timeout`: a sample slower than this counts as a drop (default 5 s).
    pub timeout_ns: Nanos,
}

impl Default for AimdParams {
    fn default() -> Self {
        AimdParams {
            initial_limit: 20,
            min_limit: 20,
            max_limit: 200,
            backoff_ratio: 0.9,
            timeout_ns: 5_000_000_000,
        }
    }
}

/// One AIMD limiter (one in front of one replica).
#[derive(Clone, Debug)]
pub struct Aimd {
    p: AimdParams,
    limit: u32,
    outstanding: u32,
    blocked: u64,
}

impl Aimd {
    pub fn new(p: AimdParams) -> Aimd {
        Aimd { limit: p.initial_limit, p, outstanding: 0, blocked: 0 }
    }

    pub fn limit(&self) -> u32 {
        self.limit
    }
    pub fn outstanding(&self) -> u32 {
        self.outstanding
    }
    /// Requests refused so far (the limiter's `rejected` counter).
    pub fn blocked(&self) -> u64 {
        self.blocked
    }

    /// `SimpleLimiter.acquire`: below the limit the request is admitted and its
    /// `inflight` (the outstanding count with it) returned; else `None`.
    pub fn admit(&mut self) -> Option<u32> {
        if self.outstanding < self.limit {
            self.outstanding += 1;
            Some(self.outstanding)
        } else {
            self.blocked += 1;
            None
        }
    }

    /// The listener's `onSuccess` (`did_drop` false) or `onDropped` (true): the request
    /// admitted with `inflight` outstanding ends after `rtt`.
    pub fn sample(&mut self, rtt: Nanos, inflight: u32, did_drop: bool) {
        self.outstanding = self.outstanding.saturating_sub(1);
        self.limit = self.update(rtt, inflight, did_drop);
    }

    /// `AIMDLimit._update`: the new limit after one sample.
    pub fn update(&self, rtt: Nanos, inflight: u32, did_drop: bool) -> u32 {
        let mut limit = self.limit;
        if did_drop || rtt > self.p.timeout_ns {
            limit = (limit as f64 * self.p.backoff_ratio) as u32;
        } else if inflight as u64 * 2 >= limit as u64 {
            limit = limit.saturating_add(1);
        }
        limit.max(self.p.min_limit).min(self.p.max_limit)
    }
}

#[cfg(test)]
#[path = "aimd_tests.rs"]
mod tests;
