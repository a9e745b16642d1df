//! Streaming metrics: HDR histograms, counters per failure cause, and fixed-interval
//! time series. Memory is proportional to the topology and the number of intervals,
//! never to the number of requests: every figure is recorded in O(1) when it happens.

use crate::spec::{Cause, Nanos};
use hdrhistogram::Histogram;

/// Lowest value told apart by the histograms (1 µs; below it all values share a bucket).
const HIST_LOW_NS: u64 = 1_000;
/// The range the histograms are allocated for (one hour). A longer latency grows the
/// histogram to cover it (HdrHistogram's auto-resize), so no value is ever clamped; a
/// run whose latencies stay under an hour pays for an hour's range only.
const HIST_HIGH_NS: u64 = 3_600 * 1_000_000_000;

/// A latency histogram in nanoseconds with 3 significant digits (summary figures).
#[derive(Clone, Debug)]
pub struct LatencyHist(Histogram<u64>);

impl Default for LatencyHist {
    fn default() -> Self {
        Self::with_sigfig(3)
    }
}

impl LatencyHist {
    pub fn with_sigfig(sigfig: u8) -> Self {
        let mut h = Histogram::new_with_bounds(HIST_LOW_NS, HIST_HIGH_NS, sigfig).expect("valid bounds");
        h.auto(true);
        LatencyHist(h)
    }

    #[inline]
    pub fn record(&mut self, ns: Nanos) {
        // With auto-resize on, only a value beyond what 64-bit counts can index fails,
        // which no run reaches; saturating is the fallback, never the rule.
        if self.0.record(ns).is_err() {
            self.0.saturating_record(ns);
        }
    }

    /// Bytes a histogram of this precision takes before any value above an hour is
    /// recorded (for the memory estimate a run makes before it allocates anything).
    pub fn footprint_bytes(sigfig: u8) -> u64 {
        let h = Histogram::<u64>::new_with_bounds(HIST_LOW_NS, HIST_HIGH_NS, sigfig).expect("valid bounds");
        h.distinct_values() as u64 * 8 + 256
    }

    pub fn count(&self) -> u64 {
        self.0.len()
    }

    pub fn reset(&mut self) {
        self.0.reset();
    }

    pub fn inner(&self) -> &Histogram<u64> {
        &self.0
    }

    /// Value at quantile `q` in `[0, 1]`, in milliseconds; `None` when empty.
    pub fn quantile_ms(&self, q: f64) -> Option<f64> {
        if self.0.is_empty() { None } else { Some(self.0.value_at_quantile(q) as f64 / 1e6) }
    }

    pub fn mean_ms(&self) -> Option<f64> {
        if self.0.is_empty() { None } else { Some(self.0.mean() / 1e6) }
    }

    pub fn max_ms(&self) -> Option<f64> {
        if self.0.is_empty() { None } else { Some(self.0.max() as f64 / 1e6) }
    }

    pub fn merge(&mut self, other: &LatencyHist) {
        // Auto-resize makes room for the other's range, so adding cannot fail.
        let _ = self.0.add(&other.0);
    }
}

/// Counts of outcomes: successes, degraded successes (a subset of `ok`), failures by
/// cause.
#[derive(Clone, Debug, Default)]
pub struct Outcomes {
    pub ok: u64,
    pub degraded: u64,
    pub failed: [u64; Cause::COUNT],
}

impl Outcomes {
    #[inline]
    pub fn record(&mut self, r: Outcome) {
        match r {
            Outcome::Ok { degraded } => {
                self.ok += 1;
                self.degraded += degraded as u64;
            }
            Outcome::Failed(c) => self.failed[c as usize] += 1,
        }
    }

    pub fn failed_total(&self) -> u64 {
        self.failed.iter().sum()
    }

    pub fn ended(&self) -> u64 {
        self.ok + self.failed_total()
    }
}

/// How one request, attempt or call ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Success; `degraded` when an optional part of it failed.
    Ok {
        degraded: bool,
    },
    Failed(Cause),
}

impl Outcome {
    pub const OK: Outcome = Outcome::Ok { degraded: false };

    pub fn is_ok(self) -> bool {
        matches!(self, Outcome::Ok { .. })
    }
}

/// The scope of a time series, as in the CSV contract.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    Workload,
    Endpoint,
    Call,
    Service,
    Saga,
    Topic,
}

impl Scope {
    pub fn name(self) -> &'static str {
        match self {
            Scope::Workload => "workload",
            Scope::Endpoint => "endpoint",
            Scope::Call => "call",
            Scope::Service => "service",
            Scope::Saga => "saga",
            Scope::Topic => "topic",
        }
    }
}

/// One time series: a value per interval (`NaN` where there was nothing to measure,
/// e.g. a percentile of an interval with no completions; such points are left out of
/// the CSV).
#[derive(Clone, Debug)]
pub struct Column {
    pub scope: Scope,
    pub name: String,
    pub metric: String,
    /// Stored as `f64`, 8 bytes a point (the series is the one part of a run's memory
    /// that grows with its duration, bounded by `limits.max_series_points`): counts stay
    /// exact to 2^53 per interval, where `f32` rounded them past 16.7 million (a rate
    /// above 1.7e7/s in a 1 s interval).
    pub values: Vec<f64>,
}

/// Fixed-interval time series. `ends[i]` is the end of interval `i` (its start is the
/// previous end, or 0); the last interval may be shorter when the duration is not a
/// multiple of the interval.
#[derive(Clone, Debug, Default)]
pub struct Series {
    pub interval_ns: Nanos,
    pub ends: Vec<Nanos>,
    pub columns: Vec<Column>,
}

impl Series {
    pub fn add_column(&mut self, scope: Scope, name: &str, metric: &str) -> usize {
        self.columns.push(Column {
            scope,
            name: name.to_string(),
            metric: metric.to_string(),
            values: Vec::new(),
        });
        self.columns.len() - 1
    }

    pub fn column(&self, scope: Scope, name: &str, metric: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.scope == scope && c.name == name && c.metric == metric)
    }
}
