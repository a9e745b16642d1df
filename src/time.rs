//! Simulated time: the bottom of the module graph (the engine, the spec and the model
//! all speak it; it imports nothing).

/// Simulated time and durations, in nanoseconds.
pub type Nanos = u64;

pub const NS_PER_MS: Nanos = 1_000_000;
pub const NS_PER_S: Nanos = 1_000_000_000;

/// Nanoseconds as (fractional) milliseconds, for output.
#[inline]
pub fn ms(ns: Nanos) -> f64 {
    ns as f64 / NS_PER_MS as f64
}

/// Nanoseconds as (fractional) seconds, for output.
#[inline]
pub fn secs(ns: Nanos) -> f64 {
    ns as f64 / NS_PER_S as f64
}
