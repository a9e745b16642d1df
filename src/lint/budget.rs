//! What a call's policy allows in the worst case: how many attempts it makes, how long
//! its caller waits for one attempt, and how long for the whole call (attempts × timeout
//! plus the longest backoff waits, at most the deadline). Exact integer nanoseconds,
//! computed from the same backoff formulas the model draws from (`policy::backoff`).

use crate::policy::backoff::base_wait;
use crate::scenario::duration::format_ns;
use crate::spec::{Backoff, Jitter, Nanos, Policy, Retry};

/// Tries of one call (the first and the retries; hedges are not tries).
pub fn tries(p: Option<&Policy>) -> u32 {
    p.and_then(|p| p.retry.as_ref()).map_or(1, |r| r.max_attempts.max(1))
}

/// Attempts one call may send in the worst case: its tries and its hedges (the model
/// sends at most `max_extra` hedges per call).
pub fn attempts(p: Option<&Policy>) -> u64 {
    tries(p) as u64 + p.and_then(|p| p.hedge.as_ref()).map_or(0, |h| h.max_extra as u64)
}

/// How long the caller waits for one attempt: the per-try timeout, at most the
/// deadline. `None`: it waits as long as the callee takes.
pub fn attempt_wait(p: Option<&Policy>) -> Option<Nanos> {
    let p = p?;
    match (p.timeout_ns, p.deadline_ns) {
        (Some(t), Some(d)) => Some(t.min(d)),
        (t, d) => t.or(d),
    }
}

/// The longest wait before retry `n` (1 for the first retry) under `jitter`: every
/// jitter but `decorrelated` stays at or below the un-jittered wait; decorrelated
/// jitter may triple the previous wait (`prev`, the previous retry's longest wait, or 0
/// before the first), up to its cap.
pub fn longest_wait(backoff: &Backoff, jitter: Jitter, n: u32, prev: Nanos) -> Nanos {
    match jitter {
        Jitter::None | Jitter::Full | Jitter::Equal => base_wait(backoff, n),
        Jitter::Decorrelated => {
            let (base, cap) = match *backoff {
                Backoff::Constant(c) => (c, c.saturating_mul(3)),
                Backoff::Exponential { initial_ns, max_ns, min_ns, .. } => {
                    (initial_ns.max(min_ns).min(max_ns), max_ns)
                }
            };
            let last = if prev == 0 { base } else { prev };
            last.saturating_mul(3).max(base).min(cap)
        }
    }
}

/// The longest waits between the tries of one call, in order (one fewer than its tries).
pub fn backoff_waits(r: &Retry) -> Vec<Nanos> {
    let mut out = Vec::with_capacity(r.max_attempts.saturating_sub(1) as usize);
    let mut prev = 0;
    for n in 1..r.max_attempts {
        prev = longest_wait(&r.backoff, r.jitter, n, prev);
        out.push(prev);
    }
    out
}

/// Whether a retry policy never waits between tries.
pub fn no_backoff(r: &Retry) -> bool {
    backoff_waits(r).iter().all(|w| *w == 0)
}

/// The worst-case time the caller waits for a whole call, and how it is made up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallBudget {
    pub ns: u128,
    /// In words: `3 × 800ms + backoff 50ms + 100ms = 2.55s`, or `deadline 2s`.
    pub words: String,
}

/// The worst-case time the caller waits for one call: tries × timeout plus the longest
/// backoff waits, at most the deadline. `None` when nothing bounds it (no timeout and no
/// deadline).
pub fn call_budget(p: Option<&Policy>) -> Option<CallBudget> {
    let p = p?;
    let tries = tries(Some(p)) as u128;
    let by_timeout = p.timeout_ns.map(|t| {
        let waits = p.retry.as_ref().map(backoff_waits).unwrap_or_default();
        let backoff: u128 = waits.iter().map(|w| *w as u128).sum();
        let ns = tries * t as u128 + backoff;
        let mut words = if tries == 1 { format_ns(t) } else { format!("{tries} × {}", format_ns(t)) };
        if backoff > 0 {
            let parts: Vec<String> = if waits.len() <= 4 {
                waits.iter().map(|w| format_ns(*w)).collect()
            } else {
                vec![format_ns(clamp(backoff))]
            };
            words.push_str(&format!(" + backoff {}", parts.join(" + ")));
        }
        if tries > 1 || backoff > 0 {
            words.push_str(&format!(" = {}", fmt_u128(ns)));
        }
        CallBudget { ns, words }
    });
    match (by_timeout, p.deadline_ns) {
        (Some(b), Some(d)) if (d as u128) < b.ns => {
            Some(CallBudget { ns: d as u128, words: format!("deadline {} (< {})", format_ns(d), b.words) })
        }
        (Some(b), _) => Some(b),
        (None, Some(d)) => Some(CallBudget { ns: d as u128, words: format!("deadline {}", format_ns(d)) }),
        (None, None) => None,
    }
}

fn clamp(ns: u128) -> Nanos {
    ns.min(Nanos::MAX as u128) as Nanos
}

/// A duration of up to 128 bits in words (sums of budgets may pass 64 bits).
pub fn fmt_u128(ns: u128) -> String {
    if ns <= Nanos::MAX as u128 { format_ns(ns as Nanos) } else { format!("{}s", ns / 1_000_000_000) }
}

/// Milliseconds as a JSON number (for the `facts` of the JSON output).
pub fn ms(ns: u128) -> f64 {
    ns as f64 / 1e6
}
