//! Waits between retries: the backoff schedules and the four jitter formulas of the AWS
//! Architecture Blog article "Exponential Backoff And Jitter" (Marc Brooker, 2015),
//! with tenacity's `wait_exponential(multiplier, min, max)` floor and cap.
//!
//! The un-jittered wait `w` of retry `n` (1 for the first retry) is `c` for
//! `constant(c)`, and `initial × multiplier^(n−1)` for `exponential`, capped at `max` and
//! then floored at `min` (tenacity applies the floor last, so `{"initial": "1s",
//! "multiplier": 2, "min": "2s", "max": "10s"}` waits 2, 2, 4, 8, 10 s). Jitter, with
//! the article's names:
//!
//! - `none`: `w`;
//! - `full`: uniform in `[0, w]`;
//! - `equal`: `w/2 + uniform in [0, w/2]`;
//! - `decorrelated`: `min(cap, uniform in [base, prev × 3])`, `prev` starting at `base`.
//!   It ignores `n` and the multiplier: each wait grows from the previous one.
//!   For `exponential`, `base = initial` (raised to `min` if `min` is larger, so no
//!   wait falls below the floor) and `cap = max`. A `constant(c)` backoff has no cap of
//!   its own; taking `cap = c` would make the jitter do nothing, so here `base = c` and
//!   `cap = 3c`, the article's growth factor: waits wander in `[c, 3c]`.
//!
//! Uniform draws are over whole nanoseconds, both ends included. All arithmetic
//! saturates; the power is taken in `f64` and clamped to `max` before it is converted,
//! so no multiplier or retry number can overflow.

use crate::rng::Rng;
use crate::spec::{Backoff, Jitter, Nanos};
use rand::RngExt;

/// Wait before retry number `retry` (1 for the first retry), per the AWS "Exponential
/// Backoff And Jitter" article.
///
/// `prev` holds the previous wait (for decorrelated jitter); start it at 0 for a new
/// call. The function sets it to the wait it returns, whatever the jitter. A `retry` of
/// 0 is taken as 1.
pub fn retry_wait(backoff: &Backoff, jitter: Jitter, retry: u32, prev: &mut Nanos, rng: &mut Rng) -> Nanos {
    let wait = match jitter {
        Jitter::None => base_wait(backoff, retry),
        Jitter::Full => {
            let w = base_wait(backoff, retry);
            rng.random_range(0..=w)
        }
        Jitter::Equal => {
            let w = base_wait(backoff, retry);
            let half = w / 2;
            // `w - half` is `w/2` rounded up, so the largest wait is exactly `w`.
            half + rng.random_range(0..=w - half)
        }
        Jitter::Decorrelated => {
            let (base, cap) = decorrelated_bounds(backoff);
            // 0 marks a new call: the article starts `sleep` at `base`.
            let last = if *prev == 0 { base } else { *prev };
            let hi = last.saturating_mul(3).max(base);
            rng.random_range(base..=hi).min(cap)
        }
    };
    *prev = wait;
    wait
}

/// The un-jittered wait of retry `retry` (1-based; 0 is taken as 1).
pub fn base_wait(backoff: &Backoff, retry: u32) -> Nanos {
    match *backoff {
        Backoff::Constant(c) => c,
        Backoff::Exponential { initial_ns, multiplier, max_ns, min_ns } => {
            let capped = if initial_ns == 0 {
                // 0 × multiplier^k is 0 even when the power overflows to infinity.
                0
            } else {
                let k = retry.max(1) - 1;
                let x = initial_ns as f64 * multiplier.powf(k as f64);
                // `x < max` is false for NaN and infinity too, which then give `max`; a
                // negative x (impossible with a multiplier of at least 1) converts to 0.
                if x < max_ns as f64 { (x.round() as Nanos).min(max_ns) } else { max_ns }
            };
            capped.max(min_ns)
        }
    }
}

/// `(base, cap)` of decorrelated jitter, with `base <= cap`.
fn decorrelated_bounds(backoff: &Backoff) -> (Nanos, Nanos) {
    match *backoff {
        Backoff::Constant(c) => (c, c.saturating_mul(3)),
        Backoff::Exponential { initial_ns, max_ns, min_ns, .. } => {
            (initial_ns.max(min_ns).min(max_ns), max_ns)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::rng_stream;
    use crate::spec::NS_PER_S;

    const MS: Nanos = 1_000_000;

    fn tenacity() -> Backoff {
        Backoff::Exponential {
            initial_ns: NS_PER_S,
            multiplier: 2.0,
            max_ns: 10 * NS_PER_S,
            min_ns: 2 * NS_PER_S,
        }
    }

    #[test]
    fn none_exponential_follows_tenacity_sequence() {
        let mut rng = rng_stream(1, "test/backoff");
        let mut prev = 0;
        let waits: Vec<Nanos> = (1..=6)
            .map(|n| retry_wait(&tenacity(), Jitter::None, n, &mut prev, &mut rng) / NS_PER_S)
            .collect();
        assert_eq!(waits, vec![2, 2, 4, 8, 10, 10]);
    }

    #[test]
    fn none_exponential_without_floor() {
        let b = Backoff::Exponential { initial_ns: 50 * MS, multiplier: 2.0, max_ns: NS_PER_S, min_ns: 0 };
        let w: Vec<Nanos> = (1..=7).map(|n| base_wait(&b, n) / MS).collect();
        assert_eq!(w, vec![50, 100, 200, 400, 800, 1000, 1000]);
        // Fractional multiplier: 10 ms × 1.5^3 = 33.75 ms exactly.
        let b = Backoff::Exponential { initial_ns: 10 * MS, multiplier: 1.5, max_ns: NS_PER_S, min_ns: 0 };
        assert_eq!(base_wait(&b, 4), 33_750_000);
    }

    #[test]
    fn constant_and_none() {
        let mut rng = rng_stream(1, "test/backoff");
        let mut prev = 0;
        for n in [0, 1, 2, 50, u32::MAX] {
            assert_eq!(retry_wait(&Backoff::Constant(7 * MS), Jitter::None, n, &mut prev, &mut rng), 7 * MS);
        }
    }

    #[test]
    fn extreme_inputs_do_not_overflow() {
        let mut rng = rng_stream(1, "test/backoff");
        let huge =
            Backoff::Exponential { initial_ns: u64::MAX, multiplier: 1e300, max_ns: u64::MAX, min_ns: 0 };
        let zero = Backoff::Exponential { initial_ns: 0, multiplier: 1e300, max_ns: u64::MAX, min_ns: 0 };
        for jitter in [Jitter::None, Jitter::Full, Jitter::Equal, Jitter::Decorrelated] {
            let mut prev = 0;
            for n in [0, 1, 2, 64, 1000, u32::MAX] {
                let w = retry_wait(&huge, jitter, n, &mut prev, &mut rng);
                if matches!(jitter, Jitter::None | Jitter::Decorrelated) {
                    assert_eq!(w, u64::MAX, "{jitter:?}");
                }
                let mut p0 = 0;
                assert_eq!(retry_wait(&zero, jitter, n, &mut p0, &mut rng), 0);
            }
            let mut prev = u64::MAX;
            retry_wait(&Backoff::Constant(u64::MAX), jitter, 3, &mut prev, &mut rng);
            retry_wait(&Backoff::Constant(0), jitter, 3, &mut prev, &mut rng);
        }
        assert_eq!(base_wait(&huge, u32::MAX), u64::MAX);
    }

    /// Mean of `draws` waits, checked against an analytic mean and standard deviation of
    /// one draw: within 4 standard errors (a fixed seed; never retried or widened).
    fn check_mean(draws: &[Nanos], mean: f64, sd: f64) {
        let n = draws.len() as f64;
        let m = draws.iter().map(|&x| x as f64).sum::<f64>() / n;
        let se = sd / n.sqrt();
        assert!((m - mean).abs() <= 4.0 * se, "mean {m} vs {mean} (4 se = {})", 4.0 * se);
    }

    /// Discrete uniform on `lo..=hi`: mean and standard deviation.
    fn uniform(lo: u64, hi: u64) -> (f64, f64) {
        let k = (hi - lo + 1) as f64;
        ((lo + hi) as f64 / 2.0, ((k * k - 1.0) / 12.0).sqrt())
    }

    const N: usize = 20_000;

    #[test]
    fn full_jitter_bounds_and_mean() {
        let b =
            Backoff::Exponential { initial_ns: 100 * MS, multiplier: 2.0, max_ns: 10 * NS_PER_S, min_ns: 0 };
        let mut rng = rng_stream(7, "test/full");
        let w = base_wait(&b, 3); // 400 ms
        assert_eq!(w, 400 * MS);
        let draws: Vec<Nanos> = (0..N)
            .map(|_| {
                let mut prev = 0;
                retry_wait(&b, Jitter::Full, 3, &mut prev, &mut rng)
            })
            .collect();
        assert!(draws.iter().all(|&x| x <= w));
        let (mean, sd) = uniform(0, w);
        check_mean(&draws, mean, sd);
    }

    #[test]
    fn equal_jitter_bounds_and_mean() {
        let b = Backoff::Constant(301 * MS + 1); // odd, to check the rounding of w/2
        let w = 301 * MS + 1;
        let mut rng = rng_stream(7, "test/equal");
        let draws: Vec<Nanos> = (0..N)
            .map(|_| {
                let mut prev = 0;
                retry_wait(&b, Jitter::Equal, 1, &mut prev, &mut rng)
            })
            .collect();
        assert!(draws.iter().all(|&x| x >= w / 2 && x <= w));
        let (mean, sd) = uniform(w / 2, w);
        check_mean(&draws, mean, sd);
    }

    #[test]
    fn decorrelated_jitter_first_draw_mean_and_chain_bounds() {
        // First wait of a call: uniform in [base, 3 base] (the cap is not reached).
        let base = 100 * MS;
        let b = Backoff::Exponential { initial_ns: base, multiplier: 2.0, max_ns: 20 * NS_PER_S, min_ns: 0 };
        let mut rng = rng_stream(7, "test/decorrelated");
        let first: Vec<Nanos> = (0..N)
            .map(|_| {
                let mut prev = 0;
                retry_wait(&b, Jitter::Decorrelated, 1, &mut prev, &mut rng)
            })
            .collect();
        assert!(first.iter().all(|&x| (base..=3 * base).contains(&x)));
        let (mean, sd) = uniform(base, 3 * base);
        check_mean(&first, mean, sd);

        // Second wait given the first: uniform in [base, 3 prev], so its conditional
        // mean is (base + 3 prev) / 2; check the average of that residual.
        let cap = 2 * NS_PER_S;
        let b = Backoff::Exponential { initial_ns: base, multiplier: 2.0, max_ns: cap, min_ns: 0 };
        let mut prev = 0;
        let mut in_chain = Vec::new();
        for i in 0..N {
            if i % 10 == 0 {
                prev = 0; // a new call
            }
            let before = if prev == 0 { base } else { prev };
            let w = retry_wait(&b, Jitter::Decorrelated, 1 + (i % 10) as u32, &mut prev, &mut rng);
            assert!(w >= base && w <= cap && w <= 3 * before, "{w} after {before}");
            assert_eq!(prev, w);
            in_chain.push(w);
        }
        // Chains do reach the cap.
        assert!(in_chain.contains(&cap));
    }

    #[test]
    fn decorrelated_respects_min_and_constant_cap() {
        let mut rng = rng_stream(3, "test/decorrelated");
        let mut prev = 0;
        for n in 1..2000 {
            let w = retry_wait(&tenacity(), Jitter::Decorrelated, n, &mut prev, &mut rng);
            assert!((2 * NS_PER_S..=10 * NS_PER_S).contains(&w));
        }
        let c = 10 * MS;
        let mut prev = 0;
        let draws: Vec<Nanos> = (1..2000)
            .map(|n| retry_wait(&Backoff::Constant(c), Jitter::Decorrelated, n, &mut prev, &mut rng))
            .collect();
        assert!(draws.iter().all(|&w| (c..=3 * c).contains(&w)));
        assert!(draws.iter().any(|&w| w != c), "decorrelated jitter on a constant backoff must vary");
    }

    #[test]
    fn same_seed_same_waits() {
        let run = || {
            let mut rng = rng_stream(42, "test/det");
            let mut prev = 0;
            (1..50)
                .map(|n| retry_wait(&tenacity(), Jitter::Decorrelated, n, &mut prev, &mut rng))
                .collect::<Vec<_>>()
        };
        assert_eq!(run(), run());
    }
}
