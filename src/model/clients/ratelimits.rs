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

    /// Every client token bucket that admitted more than its bound since the start.
    pub(in crate::model) fn check_rate_limits(&self, violations: &mut Vec<String>) {
        for (i, b) in self.blocks.iter().enumerate() {
            for s in &b.slots {
                if let Some(Limiter::Bucket(tb)) = &s.ratelimit
                    && let Some((n, bound)) = tb.over_bound()
                {
                    violations.push(format!(
                        "rate limit of client block {i} admitted {n}, over its bucket's {bound}"
                    ));
                }
            }
        }
    }
}
