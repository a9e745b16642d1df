//! Client-side rate limiters: one per client slot (caller replica, or the caller
//! service under `scope: "service"`, towards one target service under one policy), as
//! the bulkhead. The state machines are in `policy::ratelimit`.

use super::Clients;
use crate::policy::ratelimit::{AtomicRateLimiter, Permit, TokenBucket};
use crate::spec::{Nanos, RateLimit};

pub(super) enum Limiter {
    Bucket(TokenBucket),
    R4j(AtomicRateLimiter),
}

impl Limiter {
    pub(super) fn new(r: RateLimit) -> Limiter {
        match r {
            RateLimit::TokenBucket { max_tokens, tokens_per_fill, fill_interval_ns } => {
                Limiter::Bucket(TokenBucket::new(max_tokens, tokens_per_fill, fill_interval_ns))
            }
            RateLimit::Resilience4j { limit_for_period, refresh_ns, timeout_ns } => {
                Limiter::R4j(AtomicRateLimiter::new(limit_for_period, refresh_ns, timeout_ns))
            }
        }
    }
}

impl Clients {
    /// The rate limiter's answer to an attempt at `now`: `None` without a limiter; a
    /// token bucket refuses at once (`Refused(0)`).
    pub(in crate::model) fn rate_acquire(
        &mut self,
        client: u32,
        caller_slot: u32,
        now: Nanos,
    ) -> Option<Permit> {
        match self.slot(client, caller_slot).ratelimit.as_mut()? {
            Limiter::Bucket(b) => Some(if b.try_acquire(now) { Permit::Now } else { Permit::Refused(0) }),
            Limiter::R4j(r) => Some(r.acquire(now)),
        }
    }
}
