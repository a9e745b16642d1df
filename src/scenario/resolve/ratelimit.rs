//! Rate limits (docs/scenario-format.md, Rate limits): a service's `rate_limit` (Envoy's
//! local rate limit token bucket, per replica) and a policy's (a token bucket, or
//! resilience4j's RateLimiter).

use super::{P, R};
use crate::scenario::raw::RawRateLimit;
use crate::spec::{NS_PER_S, Nanos, RateLimit};

impl R<'_> {
    /// A service's `retry_after`; in a policy it is refused (the client's own limiter
    /// answers no Retry-After: it is a server's header).
    pub(super) fn retry_after(&mut self, r: &RawRateLimit, path: &P, server: bool) -> Option<Nanos> {
        let d = r.retry_after.as_ref()?;
        if !server {
            self.err(
                &path.k("retry_after"),
                "`retry_after` belongs in a service's rate limit (the server's Retry-After header), not in a policy",
            );
            return None;
        }
        self.dur(d, &path.k("retry_after"))
    }

    /// Resolves a `rate_limit` object; `server` refuses resilience4j's keys (a server
    /// refuses at once, it does not hold a request waiting for a permission).
    pub(super) fn rate_limit(&mut self, r: &RawRateLimit, path: &P, server: bool) -> Option<RateLimit> {
        let r4j = r.limit_for_period.is_some() || r.limit_refresh_period.is_some() || r.timeout.is_some();
        match (&r.token_bucket, r4j) {
            (Some(_), true) => {
                self.err(
                    path,
                    "a rate limit is either a `token_bucket` (Envoy) or `limit_for_period`, \
                     `limit_refresh_period`, `timeout` (resilience4j), not both",
                );
                None
            }
            (Some(tb), false) => {
                let tp = path.k("token_bucket");
                Some(RateLimit::TokenBucket {
                    max_tokens: self.at_least(tb.max_tokens, 1, &tp.k("max_tokens")),
                    tokens_per_fill: self.at_least(
                        tb.tokens_per_fill.unwrap_or(1),
                        1,
                        &tp.k("tokens_per_fill"),
                    ),
                    fill_interval_ns: self.dur_pos(&tb.fill_interval, &tp.k("fill_interval")),
                })
            }
            (None, true) if server => {
                self.err(
                    path,
                    "a service's rate limit is Envoy's local rate limit: expected `token_bucket` \
                     (resilience4j's `limit_for_period`, `limit_refresh_period`, `timeout` belong in a policy)",
                );
                None
            }
            (None, true) => Some(RateLimit::Resilience4j {
                limit_for_period: self.at_least(
                    r.limit_for_period.unwrap_or(50),
                    1,
                    &path.k("limit_for_period"),
                ),
                refresh_ns: match &r.limit_refresh_period {
                    Some(d) => self.dur_pos(d, &path.k("limit_refresh_period")),
                    None => 500,
                },
                timeout_ns: self.dur_opt(r.timeout.as_ref(), &path.k("timeout"), 5 * NS_PER_S),
            }),
            (None, false) => {
                self.err(
                    path,
                    "expected `token_bucket` (Envoy's local rate limit) or `limit_for_period` \
                     (resilience4j's RateLimiter)",
                );
                None
            }
        }
    }
}
