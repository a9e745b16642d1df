//! Retry budget after Finagle's `RetryBudget` (`RetryBudget(ttl = 10.seconds,
//! minRetriesPerSec, percentCanRetry)`, a `TokenRetryBudget` over a `LeakyTokenBucket`).
//!
//! Each first attempt deposits; each retry withdraws. Over a sliding 10 s window (the
//! `ttl`) a retry is allowed while `retries + 1 <= ratio × first_attempts +
//! min_per_second × 10`, where both counts are those of the window: deposits and
//! withdrawals both expire, and `min_per_second × 10` is the bucket's constant reserve.
//! As in Finagle's `WindowedAdder` (`range = ttl`, 10 slices), the window is 10 slices of
//! 1 s keyed by `now / 1 s`: the current second and the 9 before it, so an entry leaves
//! the window between 9 and 10 s after it was made.
//!
//! Finagle keeps the counts as scaled integers (1,000 per deposit, `1000 / percent` per
//! withdrawal, truncated); here they are exact counts compared in `f64` with a tolerance
//! of a millionth of a retry (plus 1e-12 relative), far below one retry, so a ratio such
//! as 0.29, whose product with 100 rounds to 28.999999999999996, still allows its 29.

use crate::spec::{NS_PER_S, Nanos, RetryBudget};

const SLICES: usize = 10;
const SLICE_NS: Nanos = NS_PER_S;

#[derive(Clone, Copy, Debug, Default)]
struct Slice {
    first_attempts: u64,
    retries: u64,
}

/// One policy's retry budget (per caller replica, or per caller service).
#[derive(Clone, Debug)]
pub struct RetryBudgetState {
    ratio: f64,
    /// `min_per_second × 10`.
    reserve: f64,
    slices: [Slice; SLICES],
    /// The latest slice epoch (`now / 1 s`) seen.
    head: u64,
    first_attempts: u64,
    retries: u64,
}

impl RetryBudgetState {
    pub fn new(spec: &RetryBudget) -> Self {
        let clean = |x: f64| if x.is_finite() && x > 0.0 { x } else { 0.0 };
        RetryBudgetState {
            ratio: clean(spec.ratio),
            reserve: clean(spec.min_per_second) * (SLICES as f64 * SLICE_NS as f64 / NS_PER_S as f64),
            slices: [Slice::default(); SLICES],
            head: 0,
            first_attempts: 0,
            retries: 0,
        }
    }

    /// A first attempt was made at `now` (a deposit).
    pub fn on_first_attempt(&mut self, now: Nanos) {
        let i = self.advance(now);
        self.slices[i].first_attempts += 1;
        self.first_attempts += 1;
    }

    /// Asks for one retry at `now`; true and recorded if allowed.
    pub fn try_retry(&mut self, now: Nanos) -> bool {
        let i = self.advance(now);
        let allowed_total = self.ratio * self.first_attempts as f64 + self.reserve;
        let wanted = (self.retries + 1) as f64;
        if wanted <= allowed_total + 1e-6 + 1e-12 * allowed_total {
            self.slices[i].retries += 1;
            self.retries += 1;
            true
        } else {
            false
        }
    }

    /// First attempts and retries now in the window (for reports and tests).
    pub fn window_counts(&mut self, now: Nanos) -> (u64, u64) {
        self.advance(now);
        (self.first_attempts, self.retries)
    }

    /// Moves the window to `now` and returns the index of the current slice.
    fn advance(&mut self, now: Nanos) -> usize {
        let epoch = now / SLICE_NS;
        if epoch > self.head {
            let steps = (epoch - self.head).min(SLICES as u64);
            for k in 1..=steps {
                let s = &mut self.slices[((self.head + k) % SLICES as u64) as usize];
                self.first_attempts -= s.first_attempts;
                self.retries -= s.retries;
                *s = Slice::default();
            }
            self.head = epoch;
        }
        // Time does not go backwards; if it did, the entry joins the latest slice.
        (self.head % SLICES as u64) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Nanos = 1_000_000;

    fn budget(ratio: f64, min_per_second: f64) -> RetryBudgetState {
        RetryBudgetState::new(&RetryBudget { ratio, min_per_second })
    }

    fn retries_allowed(b: &mut RetryBudgetState, now: Nanos) -> u32 {
        let mut n = 0;
        while b.try_retry(now) {
            n += 1;
            assert!(n < 1_000_000);
        }
        n
    }

    #[test]
    fn ratio_alone_allows_that_share_of_first_attempts() {
        let mut b = budget(0.2, 0.0);
        assert!(!b.try_retry(0), "no deposits, no reserve: no retry");
        for i in 0..100 {
            b.on_first_attempt(i * MS);
        }
        assert_eq!(retries_allowed(&mut b, 100 * MS), 20);
        // Five more first attempts earn exactly one more retry.
        for _ in 0..4 {
            b.on_first_attempt(200 * MS);
            assert!(!b.try_retry(200 * MS));
        }
        b.on_first_attempt(200 * MS);
        assert!(b.try_retry(200 * MS));
        assert!(!b.try_retry(200 * MS));
    }

    #[test]
    fn awkward_ratios_round_the_right_way() {
        for pct in 1..=100u32 {
            let ratio = f64::from(pct) / 100.0;
            let mut b = budget(ratio, 0.0);
            for _ in 0..100 {
                b.on_first_attempt(0);
            }
            assert_eq!(retries_allowed(&mut b, 0), pct, "percent {pct}");
        }
    }

    #[test]
    fn min_per_second_alone_allows_ten_seconds_worth() {
        let mut b = budget(0.0, 10.0);
        assert_eq!(retries_allowed(&mut b, 0), 100);
        // The withdrawals expire with the window too: 10 s later the reserve is whole.
        assert_eq!(retries_allowed(&mut b, 5 * NS_PER_S), 0);
        assert_eq!(retries_allowed(&mut b, 10 * NS_PER_S), 100);
    }

    #[test]
    fn reserve_and_ratio_add_up() {
        let mut b = budget(0.2, 1.0);
        for _ in 0..50 {
            b.on_first_attempt(0);
        }
        assert_eq!(retries_allowed(&mut b, 0), 10 + 10);
    }

    #[test]
    fn deposits_older_than_ten_seconds_expire() {
        let mut b = budget(0.5, 0.0);
        for _ in 0..10 {
            b.on_first_attempt(500 * MS); // slice 0
        }
        for _ in 0..10 {
            b.on_first_attempt(3 * NS_PER_S); // slice 3
        }
        assert_eq!(b.window_counts(9 * NS_PER_S + 999 * MS), (20, 0));
        // At 10 s slice 0 (epoch 0) leaves the window: 9.5 s after its deposits.
        assert_eq!(b.window_counts(10 * NS_PER_S), (10, 0));
        assert_eq!(retries_allowed(&mut b, 10 * NS_PER_S), 5);
        assert_eq!(b.window_counts(12 * NS_PER_S + 999 * MS), (10, 5));
        assert_eq!(b.window_counts(13 * NS_PER_S), (0, 5));
        assert_eq!(b.window_counts(20 * NS_PER_S), (0, 0));
        // A long silence empties everything at once.
        b.on_first_attempt(21 * NS_PER_S);
        assert_eq!(b.window_counts(1_000_000 * NS_PER_S), (0, 0));
        assert!(!b.try_retry(1_000_000 * NS_PER_S));
    }

    #[test]
    fn odd_specs_do_not_panic() {
        for (r, m) in [(f64::NAN, f64::INFINITY), (-1.0, -1.0), (1.0, 1e300), (0.0, 0.0)] {
            let mut b = budget(r, m);
            b.on_first_attempt(0);
            b.try_retry(u64::MAX);
            b.on_first_attempt(u64::MAX);
        }
    }
}
