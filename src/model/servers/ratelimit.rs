//! Envoy's local rate limit on a service: one token bucket per replica (Envoy's local
//! limit is per Envoy instance, and each replica has its own sidecar). A request that
//! finds its replica's bucket empty is answered `rate_limited` (429) at once, without
//! taking a worker or a queue place. Messages the replica's own consumers pull do not
//! pass it (as they do not pass adaptive concurrency's filter).
//!
//! *Invariant* (checked at the end of every run): no bucket admitted more than
//! `max_tokens + tokens_per_fill × (fills up to its last request)` requests.

use super::super::World;
use crate::metrics::Outcome;
use crate::model::event::Origin;
use crate::policy::ratelimit::TokenBucket;
use crate::spec::{Cause, EndpointId, Nanos, RateLimit, ReplicaId, Spec};

/// The buckets of every replica whose service has a rate limit.
pub(super) struct ServerLimits(Vec<Option<TokenBucket>>);

impl ServerLimits {
    pub(super) fn new(spec: &Spec) -> ServerLimits {
        ServerLimits(
            spec.replicas
                .iter()
                .map(|r| match spec.services[r.service as usize].rate_limit {
                    Some(RateLimit::TokenBucket { max_tokens, tokens_per_fill, fill_interval_ns }) => {
                        Some(TokenBucket::new(max_tokens, tokens_per_fill, fill_interval_ns))
                    }
                    _ => None,
                })
                .collect(),
        )
    }

    /// Whether the replica's bucket (if any) admits a request at `now`.
    fn admit(&mut self, replica: ReplicaId, now: Nanos) -> bool {
        match self.0.get_mut(replica as usize).and_then(Option::as_mut) {
            Some(b) => b.try_acquire(now),
            None => true,
        }
    }

    pub(super) fn check(&self, violations: &mut Vec<String>) {
        for (i, b) in self.0.iter().enumerate() {
            if let Some((n, bound)) = b.as_ref().and_then(TokenBucket::over_bound) {
                violations.push(format!("rate limit of replica {i} admitted {n}, over its bucket's {bound}"));
            }
        }
    }
}

impl World<'_> {
    /// The replica's rate limit: `true` when the request was refused (and answered).
    pub(super) fn server_rate_limited(
        &mut self,
        origin: Origin,
        endpoint: EndpointId,
        replica: ReplicaId,
        counted: bool,
    ) -> bool {
        // Only requests pass the inbound filter: a message the replica's own consumer
        // pulled (a topic's or a work queue's) never goes through its sidecar's listener.
        if !matches!(origin, Origin::Attempt(_) | Origin::Call(_)) {
            return false;
        }
        let now = self.sched.now();
        if self.servers.limits.admit(replica, now) {
            return false;
        }
        let outcome = Outcome::Failed(Cause::RateLimited);
        self.rec.exec_end(endpoint, counted, 0, outcome);
        self.answer(origin, outcome, endpoint, counted);
        true
    }
}
