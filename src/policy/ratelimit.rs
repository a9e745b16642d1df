//! Rate limiters: Envoy's local rate limit token bucket and resilience4j's
//! `AtomicRateLimiter`.
//!
//! **Token bucket** (Envoy `envoy.filters.http.local_ratelimit`, `token_bucket:
//! {max_tokens, tokens_per_fill, fill_interval}`): the bucket starts full; a timer adds
//! `tokens_per_fill` tokens at every `fill_interval` boundary counted from the limiter's
//! creation (time 0 of the run), capped at `max_tokens`; a request takes one token or is
//! refused at once (HTTP 429). The timer is replayed lazily: on each request the fills
//! of every boundary passed since the last request are added at once, which gives the
//! same level as Envoy's timer would (the cap applies after each fill, and a bucket
//! never gains more than `max_tokens` in one step, so adding `k` fills at once and
//! capping is the same as adding them one by one and capping each time). A request at
//! exactly a boundary sees that boundary's fill.
//!
//! **resilience4j RateLimiter** (`limitForPeriod` permissions per `limitRefreshPeriod`,
//! `timeoutDuration`): time is cut into cycles of `limitRefreshPeriod` from the
//! limiter's creation; at the start of a cycle the permissions become
//! `min(permissions + elapsed_cycles × limitForPeriod, limitForPeriod)` (they may be
//! negative: permissions reserved ahead). A caller that finds none computes how long it
//! would wait for a permission of a future cycle; if that is within `timeoutDuration` it
//! reserves it (the count goes down) and waits that long, else it reserves nothing,
//! waits `timeoutDuration` and fails (`AtomicRateLimiter.waitForPermissionIfNecessary`).
//!
//! *Invariant*: a token bucket admits at most `max_tokens + tokens_per_fill × f` requests
//! in any window containing `f` fill boundaries (after its start); checked by the tests
//! below against every window of a replay.

use crate::spec::Nanos;

/// Envoy's local rate limit bucket.
#[derive(Clone, Debug)]
pub struct TokenBucket {
    max_tokens: u64,
    tokens_per_fill: u64,
    fill_interval: Nanos,
    tokens: u64,
    /// Fill boundaries already added (`⌊last request time / fill_interval⌋`).
    fills: u64,
    /// Requests admitted so far, for the run's invariant.
    admitted: u64,
}

impl TokenBucket {
    /// A full bucket. `max_tokens`, `tokens_per_fill` and `fill_interval` are at least 1
    /// (the resolver refuses 0).
    pub fn new(max_tokens: u32, tokens_per_fill: u32, fill_interval: Nanos) -> TokenBucket {
        TokenBucket {
            max_tokens: u64::from(max_tokens.max(1)),
            tokens_per_fill: u64::from(tokens_per_fill.max(1)),
            fill_interval: fill_interval.max(1),
            tokens: u64::from(max_tokens.max(1)),
            fills: 0,
            admitted: 0,
        }
    }

    fn refill(&mut self, now: Nanos) {
        let k = now / self.fill_interval;
        if k > self.fills {
            let add = (k - self.fills).saturating_mul(self.tokens_per_fill);
            self.tokens = self.tokens.saturating_add(add).min(self.max_tokens);
            self.fills = k;
        }
    }

    /// A request at `now` (times never go backwards): takes a token (`true`) or is
    /// refused (`false`).
    pub fn try_acquire(&mut self, now: Nanos) -> bool {
        self.refill(now);
        if self.tokens > 0 {
            self.tokens -= 1;
            self.admitted += 1;
            true
        } else {
            false
        }
    }

    /// `(admitted, bound)` when the bucket admitted more than `max_tokens +
    /// tokens_per_fill × fills so far` since its start (the invariant over the window from
    /// time 0 to the last request), else `None`.
    pub fn over_bound(&self) -> Option<(u64, u64)> {
        let bound = self.max_tokens.saturating_add(self.tokens_per_fill.saturating_mul(self.fills));
        (self.admitted > bound).then_some((self.admitted, bound))
    }

    /// Tokens left at `now`.
    pub fn tokens(&mut self, now: Nanos) -> u64 {
        self.refill(now);
        self.tokens
    }
}

/// What resilience4j's limiter answers a caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Permit {
    /// A permission now.
    Now,
    /// A permission reserved in a future cycle: proceed after this wait.
    After(Nanos),
    /// None within the timeout: fail after waiting the whole timeout (resilience4j parks
    /// the caller for `timeoutDuration` before it returns false).
    Refused(Nanos),
}

/// resilience4j's `AtomicRateLimiter`, one permission per call.
#[derive(Clone, Debug)]
pub struct AtomicRateLimiter {
    limit_for_period: i64,
    refresh: Nanos,
    timeout: Nanos,
    cycle: u64,
    permissions: i64,
}

impl AtomicRateLimiter {
    /// `limit_for_period` and `refresh` at least 1; starts in cycle 0 with a full period.
    pub fn new(limit_for_period: u32, refresh: Nanos, timeout: Nanos) -> AtomicRateLimiter {
        AtomicRateLimiter {
            limit_for_period: i64::from(limit_for_period.max(1)),
            refresh: refresh.max(1),
            timeout,
            cycle: 0,
            permissions: i64::from(limit_for_period.max(1)),
        }
    }

    /// A call at `now` asks for one permission.
    pub fn acquire(&mut self, now: Nanos) -> Permit {
        let current = now / self.refresh;
        if current != self.cycle {
            let elapsed = current.saturating_sub(self.cycle);
            let acc = (elapsed as i64).saturating_mul(self.limit_for_period);
            self.permissions = self.permissions.saturating_add(acc).min(self.limit_for_period);
            self.cycle = current;
        }
        let wait = if self.permissions >= 1 {
            0
        } else {
            let to_next = (current + 1) * self.refresh - now;
            let at_next = self.permissions + self.limit_for_period;
            // divCeil(-(at_next - 1), limit_for_period): whole cycles after the next.
            let missing = 1 - at_next;
            let full =
                if missing <= 0 { 0 } else { (missing + self.limit_for_period - 1) / self.limit_for_period };
            (full as u64).saturating_mul(self.refresh).saturating_add(to_next)
        };
        if wait == 0 {
            self.permissions -= 1;
            Permit::Now
        } else if self.timeout >= wait {
            self.permissions -= 1;
            Permit::After(wait)
        } else {
            Permit::Refused(self.timeout)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Nanos = 1_000_000;

    /// A hand replay: max 2, 1 token per 100 ms. Arrivals (ms) and the verdicts worked
    /// out on paper: full bucket of 2 at 0; the fill at 100 brings 1, at 200 one more,
    /// 300 and 400 refill to the cap 2 (only one is used between), ...
    #[test]
    fn token_bucket_matches_a_hand_replay() {
        let mut b = TokenBucket::new(2, 1, 100 * MS);
        let arrivals = [0, 10, 20, 99, 100, 150, 199, 200, 201, 450, 451, 452, 500, 500, 700];
        // 0:ok(1 left) 10:ok(0) 20:no 99:no 100:fill→1 ok(0) 150:no 199:no 200:fill→1 ok(0)
        // 201:no 450: fills at 300,400 → 2, ok(1) 451:ok(0) 452:no 500:fill→1 ok(0) 500:no
        // 700: fills at 600,700 → 2, ok(1).
        let want =
            [true, true, false, false, true, false, false, true, false, true, true, false, true, false, true];
        let got: Vec<bool> = arrivals.iter().map(|&t| b.try_acquire(t * MS)).collect();
        assert_eq!(got, want);
        assert_eq!(b.tokens(700 * MS), 1);
    }

    #[test]
    fn token_bucket_caps_at_max_and_fills_in_whole_steps() {
        let mut b = TokenBucket::new(5, 3, MS);
        for _ in 0..5 {
            assert!(b.try_acquire(0));
        }
        assert!(!b.try_acquire(MS - 1), "no partial fill before the boundary");
        assert_eq!(b.tokens(MS), 3);
        assert_eq!(b.tokens(2 * MS), 5, "capped: 3 + 3 > 5");
        assert_eq!(b.tokens(1000 * MS), 5);
    }

    /// Deterministic pseudo-random arrivals (an LCG: no rng stream needed), then every
    /// window [a, b] of admitted requests is checked against the bucket's bound.
    #[test]
    fn token_bucket_never_admits_more_than_the_bucket_allows_in_any_window() {
        for (max, per, fill) in [(1u32, 1u32, 7 * MS), (5, 2, 10 * MS), (10, 10, 3 * MS), (3, 5, MS)] {
            let mut b = TokenBucket::new(max, per, fill);
            let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
            let mut t: Nanos = 0;
            let mut admitted = Vec::new();
            for _ in 0..600 {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                t += (x >> 33) % (2 * MS);
                if b.try_acquire(t) {
                    admitted.push(t);
                }
            }
            for i in 0..admitted.len() {
                for j in i..admitted.len() {
                    let (a, z) = (admitted[i], admitted[j]);
                    let boundaries = z / fill - a / fill;
                    let bound = u64::from(max) + u64::from(per) * boundaries;
                    assert!((j - i + 1) as u64 <= bound, "{} admitted in [{a}, {z}] over {bound}", j - i + 1);
                }
            }
            assert!(!admitted.is_empty());
            assert_eq!(b.over_bound(), None);
            assert_eq!(b.admitted, admitted.len() as u64);
        }
    }

    /// resilience4j: 2 permissions per 100 ms, timeout 150 ms. Worked by hand from
    /// `AtomicRateLimiter.calculateNextState`.
    #[test]
    fn resilience4j_reserves_future_cycles_and_refuses_beyond_the_timeout() {
        let mut r = AtomicRateLimiter::new(2, 100 * MS, 150 * MS);
        assert_eq!(r.acquire(0), Permit::Now); // 1 left
        assert_eq!(r.acquire(10 * MS), Permit::Now); // 0
        // Next cycle starts at 100: wait 90 ms, permissions −1.
        assert_eq!(r.acquire(10 * MS), Permit::After(90 * MS));
        assert_eq!(r.acquire(20 * MS), Permit::After(80 * MS)); // −2
        // At −2 the next cycle brings 0: one more full cycle: 100 + 80 = 180 > 150.
        assert_eq!(r.acquire(20 * MS), Permit::Refused(150 * MS));
        assert_eq!(r.acquire(60 * MS), Permit::After(140 * MS)); // −3: 40 + 100
        // Cycle 1 at 100: min(−3 + 2, 2) = −1; wait to 200 (100) fits: −2.
        assert_eq!(r.acquire(100 * MS), Permit::After(100 * MS));
        // Cycle 5 at 500: min(−2 + 4×2, 2) = 2.
        assert_eq!(r.acquire(500 * MS), Permit::Now);
        assert_eq!(r.acquire(599 * MS), Permit::Now);
        assert_eq!(r.acquire(599 * MS), Permit::After(MS));
    }

    /// Permissions granted (now or reserved) for times in any cycle never exceed the
    /// period's limit: count them by the cycle in which the caller proceeds.
    #[test]
    fn resilience4j_never_lets_more_than_the_limit_proceed_in_a_cycle() {
        let (limit, period) = (3u32, 10 * MS);
        let mut r = AtomicRateLimiter::new(limit, period, 25 * MS);
        let mut per_cycle = std::collections::BTreeMap::new();
        let mut t = 0;
        for i in 0..2000u64 {
            t += (i * 7919) % (3 * MS);
            let go = match r.acquire(t) {
                Permit::Now => Some(t),
                Permit::After(w) => Some(t + w),
                Permit::Refused(w) => {
                    assert_eq!(w, 25 * MS);
                    None
                }
            };
            if let Some(g) = go {
                *per_cycle.entry(g / period).or_insert(0u32) += 1;
            }
        }
        assert!(per_cycle.values().all(|&n| n <= limit), "{per_cycle:?}");
    }
}
