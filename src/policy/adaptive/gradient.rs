//! Adaptive concurrency, after Envoy's `adaptive_concurrency` HTTP filter and its
//! gradient controller (`source/extensions/filters/http/adaptive_concurrency/controller/
//! gradient_controller.cc`).
//!
//! The controller admits a request while fewer than `limit` are outstanding, and blocks
//! it otherwise (the filter answers 503 at once). It measures an ideal round-trip time
//! (minRTT) by pinning the limit to `min_concurrency` until `request_count` latency
//! samples came back, and then, every `update_interval`, compares the window's sampled
//! latency (the `percentile` of its samples) with it:
//!
//! ```text
//! gradient  = max(0.5, min(2.0, (minRTT + minRTT × buffer) / sampleRTT))
//! limit'    = gradient × limit
//! headroom  = sqrt(limit')
//! new limit = max(min_concurrency, min(max_limit, ⌊limit' + headroom⌋))
//! ```
//!
//! (Envoy's `calculateNewLimit`: the documented `limit_new = gradient × limit_old +
//! headroom`, the headroom being the square root of the scaled limit, the sum truncated
//! to an integer.) The minRTT is measured again `interval` (plus a jitter drawn from
//! `[0, ⌈interval × jitter⌉)` ms) after the previous measurement ended, and at once when
//! five consecutive sample windows set the limit to `min_concurrency` again. While it is
//! measured, samples of requests sent before the measurement began are discarded and no
//! sample window closes. A request that ends without a response (reset, cancelled)
//! frees its slot without a sample.
//!
//! Envoy's timers are kept as instants and fired lazily, in time order, by whichever
//! call comes first at or after them (`admit`, `sample`, `failure`, `limit_at`): a
//! timer due at `t` fires before an input at `t`. Between inputs nothing but timers
//! happens, and a sample window with no samples changes nothing (Envoy's
//! `resetSampleWindow` returns early), so the lazy order is the timers' own.
//!
//! Differences from Envoy, all below its own resolution: latencies are integer
//! nanoseconds (Envoy truncates them to microseconds), and the percentile is the exact
//! nearest-rank one of the window's samples (Envoy reads it from a log-linear
//! histogram, whose bins are about 1 % wide).
//!
//! *Invariant*: after `admit` returns `true`, `outstanding <= limit`; no clock, no random
//! stream of its own (the caller passes `now` and its `Rng`).

use crate::rng::Rng;
use crate::time::Nanos;
use rand::RngExt;

/// Envoy's `GradientControllerConfig`, resolved (shares as fractions).
#[derive(Clone, Debug, PartialEq)]
pub struct GradientParams {
    /// `concurrency_limit_params.max_concurrency_limit` (Envoy's default 1000).
    pub max_limit: u32,
    /// `concurrency_limit_params.concurrency_update_interval` (default 100 ms).
    pub update_interval_ns: Nanos,
    /// `min_rtt_calc_params.interval` (default 60 s).
    pub min_rtt_interval_ns: Nanos,
    /// `min_rtt_calc_params.request_count` (default 50).
    pub request_count: u32,
    /// `min_rtt_calc_params.jitter` as a fraction (default 0.10).
    pub jitter: f64,
    /// `min_rtt_calc_params.min_concurrency` (default 3).
    pub min_concurrency: u32,
    /// `min_rtt_calc_params.buffer` as a fraction (default 0.25).
    pub buffer: f64,
    /// `sample_aggregate_percentile` as a fraction (default 0.50).
    pub percentile: f64,
}

impl Default for GradientParams {
    fn default() -> Self {
        GradientParams {
            max_limit: 1000,
            update_interval_ns: 100_000_000,
            min_rtt_interval_ns: 60_000_000_000,
            request_count: 50,
            jitter: 0.10,
            min_concurrency: 3,
            buffer: 0.25,
            percentile: 0.50,
        }
    }
}

/// One gradient controller (one Envoy instance in front of one replica).
#[derive(Clone, Debug)]
pub struct Gradient {
    p: GradientParams,
    limit: u32,
    outstanding: u32,
    /// 0 until the first measurement ends.
    min_rtt: Nanos,
    /// The last window's sampled latency (0 before the first).
    sample_rtt: Nanos,
    samples: Vec<Nanos>,
    /// Envoy's `deferred_limit_value_`: the limit to restore once the minRTT is measured;
    /// non-zero exactly while it is measured.
    deferred: u32,
    min_rtt_epoch: Nanos,
    /// `min_rtt_calc_timer_` and `sample_reset_timer_`, when armed.
    next_min_rtt: Option<Nanos>,
    next_sample: Option<Nanos>,
    consecutive_min: u32,
    blocked: u64,
}

impl Gradient {
    /// A controller created at `now`: it starts measuring the minRTT at once (Envoy's
    /// constructor calls `enterMinRTTSamplingWindow`), its limit `min_concurrency`.
    pub fn new(p: GradientParams, now: Nanos) -> Gradient {
        let mut g = Gradient {
            limit: p.min_concurrency,
            p,
            outstanding: 0,
            min_rtt: 0,
            sample_rtt: 0,
            samples: Vec::new(),
            deferred: 0,
            min_rtt_epoch: now,
            next_min_rtt: None,
            next_sample: None,
            consecutive_min: 0,
            blocked: 0,
        };
        // Envoy then arms the sample timer, which gives up at its first tick since
        // the window is open: `enter_min_rtt` leaves it disarmed.
        g.enter_min_rtt(now);
        g
    }

    pub fn in_min_rtt_window(&self) -> bool {
        self.deferred > 0
    }
    pub fn outstanding(&self) -> u32 {
        self.outstanding
    }
    pub fn min_rtt(&self) -> Nanos {
        self.min_rtt
    }
    pub fn sample_rtt(&self) -> Nanos {
        self.sample_rtt
    }
    /// Requests blocked so far (Envoy's `rq_blocked`).
    pub fn blocked(&self) -> u64 {
        self.blocked
    }

    /// The limit in force at `now` (fires the timers due).
    pub fn limit_at(&mut self, now: Nanos) -> u32 {
        self.advance(now);
        self.limit
    }

    /// Envoy's `forwardingDecision`: forwards (and counts outstanding) below the limit.
    pub fn admit(&mut self, now: Nanos) -> bool {
        self.advance(now);
        if self.outstanding < self.limit {
            self.outstanding += 1;
            true
        } else {
            self.blocked += 1;
            false
        }
    }

    /// Envoy's `recordLatencySample`: a forwarded request sent at `sent` got its whole
    /// response at `now`. `rng` draws the jitter of the next minRTT measurement when
    /// this sample ends one.
    pub fn sample(&mut self, now: Nanos, sent: Nanos, rng: &mut Rng) {
        self.advance(now);
        self.outstanding = self.outstanding.saturating_sub(1);
        if sent < self.min_rtt_epoch {
            // Sent before the current minRTT measurement began.
            return;
        }
        self.samples.push(now - sent);
        if self.in_min_rtt_window() && self.samples.len() >= self.p.request_count as usize {
            self.update_min_rtt(now, rng);
        }
    }

    /// Envoy's `recordFailure`: a forwarded request ended without a response.
    pub fn failure(&mut self, now: Nanos) {
        self.advance(now);
        self.outstanding = self.outstanding.saturating_sub(1);
    }

    /// Fires the timers due at or before `now`, in time order (a window's close before
    /// a minRTT start at the same instant).
    fn advance(&mut self, now: Nanos) {
        loop {
            let s = self.next_sample.filter(|&t| t <= now);
            let m = self.next_min_rtt.filter(|&t| t <= now);
            match (s, m) {
                (Some(ts), Some(tm)) if tm < ts => self.fire_min_rtt(tm),
                (Some(ts), _) => self.fire_sample(ts, now),
                (None, Some(tm)) => self.fire_min_rtt(tm),
                (None, None) => return,
            }
        }
    }

    fn fire_min_rtt(&mut self, t: Nanos) {
        self.next_min_rtt = None;
        self.enter_min_rtt(t);
    }

    /// The sample window closes at `t` (Envoy's `sample_reset_timer_`), re-armed one
    /// interval later. A window with no sample changes nothing, and no sample can come
    /// before `now`, so the empty ticks up to `now` are passed over at once.
    fn fire_sample(&mut self, t: Nanos, now: Nanos) {
        let iv = self.p.update_interval_ns;
        if self.samples.is_empty() {
            let k = (now - t) / iv + 1;
            self.next_sample = Some(t.saturating_add(k.saturating_mul(iv)));
            return;
        }
        self.next_sample = Some(t.saturating_add(iv));
        self.sample_rtt = self.percentile_and_clear();
        let new = self.new_limit();
        self.update_limit(new, t);
    }

    /// Envoy's `calculateNewLimit`.
    pub fn new_limit(&self) -> u32 {
        let buffered = self.min_rtt as f64 + self.min_rtt as f64 * self.p.buffer;
        let raw = buffered / self.sample_rtt.max(1) as f64;
        let gradient = raw.clamp(0.5, 2.0);
        let limit = self.limit as f64 * gradient;
        let headroom = limit.sqrt();
        let new = (limit + headroom) as u32;
        new.min(self.p.max_limit).max(self.p.min_concurrency)
    }

    /// Envoy's `enterMinRTTSamplingWindow`. While the window is open Envoy's sample
    /// timer gives up at its next tick and only `update_min_rtt` arms it again, so it is
    /// disarmed here at once (the ticks it would have given up change nothing).
    fn enter_min_rtt(&mut self, t: Nanos) {
        if self.in_min_rtt_window() {
            return;
        }
        self.deferred = self.limit.max(1);
        self.update_limit(self.p.min_concurrency, t);
        self.samples.clear();
        self.min_rtt_epoch = t;
        self.next_sample = None;
    }

    /// Envoy's `updateMinRTT`, once `request_count` samples came back in the window.
    fn update_min_rtt(&mut self, now: Nanos, rng: &mut Rng) {
        self.min_rtt = self.percentile_and_clear();
        self.update_limit(self.deferred, now);
        self.deferred = 0;
        self.next_min_rtt = Some(now.saturating_add(self.jittered(rng)));
        self.next_sample = Some(now.saturating_add(self.p.update_interval_ns));
    }

    /// Envoy's `applyJitter`: `interval + random() % ⌈interval_ms × jitter⌉` ms.
    fn jittered(&self, rng: &mut Rng) -> Nanos {
        const MS: Nanos = 1_000_000;
        let iv_ms = self.p.min_rtt_interval_ns / MS;
        let range = (iv_ms as f64 * self.p.jitter).ceil() as u64;
        if self.p.jitter == 0.0 || range == 0 {
            return self.p.min_rtt_interval_ns;
        }
        self.p.min_rtt_interval_ns + rng.random_range(0..range) * MS
    }

    /// Envoy's `updateConcurrencyLimit` at `t`, with its count of consecutive windows
    /// that set the minimum: the fifth arms the minRTT timer for `t` (Envoy's
    /// `enableTimer(0ms)`).
    fn update_limit(&mut self, new: u32, t: Nanos) {
        let old = self.limit;
        self.limit = new;
        let min = self.p.min_concurrency;
        if !self.in_min_rtt_window() && old == min && new == min {
            self.consecutive_min += 1;
        } else {
            self.consecutive_min = 0;
        }
        if !self.in_min_rtt_window() && self.consecutive_min >= 5 {
            self.next_min_rtt = Some(t);
        }
    }

    /// The configured percentile of the samples (nearest rank), which are cleared.
    fn percentile_and_clear(&mut self) -> Nanos {
        self.samples.sort_unstable();
        let n = self.samples.len();
        let rank = ((self.p.percentile * n as f64).ceil() as usize).clamp(1, n);
        let v = self.samples[rank - 1];
        self.samples.clear();
        v
    }
}

#[cfg(test)]
#[path = "gradient_tests.rs"]
mod tests;
