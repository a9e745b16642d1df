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
///
/// Recording is the hot path (several records per simulated request), so it does not go
/// through `hdrhistogram`: the value's bucket is computed here, with HdrHistogram's
/// exact bucketing (the same counts array, index for index), into a flat array of counts,
/// plus the count and the largest value. Reading (`quantile_ms`, `mean_ms`, `max_ms`,
/// `inner`) materialises an `hdrhistogram::Histogram` from those counts once, and keeps
/// it until the next change, so every figure is computed by `hdrhistogram` on the same
/// state as if each value had been recorded into it: the same counts, total, smallest
/// non-zero value and largest value (checked against plain `hdrhistogram` on random
/// values in the tests).
///
/// The counts are kept in two parts: a `u16` per count, which recording touches, and
/// the multiples of 65,536 carried out of it, in a `u64` per count allocated at the
/// first carry. A histogram of 3 significant digits has 23,552 counts: as `u64` they
/// took 184 KiB, and three such histograms recorded per request of an M/M/c run spread
/// over some 300 KiB, ten times the L1 cache; each record then waited on the L2 cache
/// (the three increments held 6% of the run's `perf` samples) and evicted the tables
/// the next random draw reads. As `u16` the hot part is a quarter of that.
#[derive(Clone, Debug)]
pub struct LatencyHist {
    /// HdrHistogram's counts array modulo 65,536: bucket `b`, sub-bucket `s` at
    /// `(b << half_mag) + s`.
    counts: Vec<u16>,
    /// The rest of each count, a multiple of 65,536 (empty until a count first passes
    /// 65,535; then as long as `counts`).
    carried: Vec<u64>,
    total: u64,
    /// The largest value recorded (0 when none, 511 after a reset), for HdrHistogram's
    /// `max`, which keeps a value below 512 ns apart from 0 though both share the first
    /// count.
    max: u64,
    sigfig: u8,
    /// `log2` of half the sub-bucket count.
    half_mag: u32,
    /// `floor(log2(HIST_LOW_NS))`.
    unit_mag: u32,
    /// HdrHistogram's `leading_zero_count_base`.
    lz_base: u32,
    /// HdrHistogram's `sub_bucket_mask`.
    sub_mask: u64,
    /// The materialised histogram, until the next change.
    cache: std::sync::OnceLock<Histogram<u64>>,
}

impl Default for LatencyHist {
    fn default() -> Self {
        Self::with_sigfig(3)
    }
}

impl LatencyHist {
    pub fn with_sigfig(sigfig: u8) -> Self {
        let h = Self::empty_hdr(sigfig);
        // HdrHistogram's parameters (`Histogram::new_with_bounds`).
        let largest = 2 * 10_u32.pow(u32::from(sigfig));
        let unit_mag = (HIST_LOW_NS as f64).log2().floor() as u32;
        let sub_count_mag = f64::from(largest).log2().ceil() as u32;
        let half_mag = sub_count_mag - 1;
        let sub_mask = ((1u64 << sub_count_mag) - 1) << unit_mag;
        let counts = vec![0; h.distinct_values()];
        LatencyHist {
            counts,
            carried: Vec::new(),
            total: 0,
            max: 0,
            sigfig,
            half_mag,
            unit_mag,
            lz_base: 64 - unit_mag - sub_count_mag,
            sub_mask,
            cache: std::sync::OnceLock::new(),
        }
    }

    fn empty_hdr(sigfig: u8) -> Histogram<u64> {
        let mut h = Histogram::new_with_bounds(HIST_LOW_NS, HIST_HIGH_NS, sigfig).expect("valid bounds");
        h.auto(true);
        h
    }

    /// HdrHistogram's `index_for`.
    #[inline(always)]
    fn index(&self, ns: Nanos) -> usize {
        let bucket = self.lz_base - (ns | self.sub_mask).leading_zeros();
        ((bucket << self.half_mag) as usize) + (ns >> (bucket + self.unit_mag)) as usize
    }

    /// Every count, whole, by index.
    fn all_counts(&self) -> impl Iterator<Item = (usize, u64)> + '_ {
        (0..self.counts.len()).map(|i| (i, self.count_at(i)))
    }

    /// HdrHistogram's `value_for`: the lowest value of count `i`.
    fn value_for(&self, i: usize) -> Nanos {
        let half = 1usize << self.half_mag;
        let bucket = (i >> self.half_mag) as i64 - 1;
        let sub = (i & (half - 1)) + half;
        if bucket < 0 {
            ((sub - half) as u64) << self.unit_mag
        } else {
            (sub as u64) << (bucket as u32 + self.unit_mag)
        }
    }

    #[inline]
    fn changed(&mut self) {
        if self.cache.get_mut().is_some() {
            self.cache = std::sync::OnceLock::new();
        }
    }

    #[inline]
    pub fn record(&mut self, ns: Nanos) {
        let i = self.index(ns);
        match self.counts.get_mut(i) {
            Some(c) if *c < u16::MAX => *c += 1,
            _ => self.add(i, 1),
        }
        self.total = self.total.saturating_add(1);
        self.max = self.max.max(ns);
        self.changed();
    }

    /// Count `i` (0 beyond the array).
    #[inline]
    fn count_at(&self, i: usize) -> u64 {
        let low = self.counts.get(i).map_or(0, |&c| u64::from(c));
        self.carried.get(i).map_or(low, |&h| h.saturating_add(low))
    }

    /// Adds `n` to count `i`: past the hour the array covers it grows (HdrHistogram's
    /// auto-resize: no value is ever clamped); past 65,535 the count carries.
    #[cold]
    #[inline(never)]
    fn add(&mut self, i: usize, n: u64) {
        if i >= self.counts.len() {
            let half = 1usize << self.half_mag;
            let buckets = (i >> self.half_mag) + 1;
            self.counts.resize((buckets + 1) * half, 0);
            if !self.carried.is_empty() {
                self.carried.resize(self.counts.len(), 0);
            }
        }
        let c = self.count_at(i).saturating_add(n);
        self.counts[i] = (c & 0xFFFF) as u16;
        if c > 0xFFFF {
            if self.carried.is_empty() {
                self.carried = vec![0; self.counts.len()];
            }
            self.carried[i] = c & !0xFFFF;
        } else if let Some(h) = self.carried.get_mut(i) {
            *h = 0;
        }
    }

    /// Bytes a histogram of this precision takes at most before any value above an
    /// hour is recorded (for the memory estimate a run makes before it allocates
    /// anything): 2 per count, and 8 more once a count carries.
    pub fn footprint_bytes(sigfig: u8) -> u64 {
        let h = Histogram::<u64>::new_with_bounds(HIST_LOW_NS, HIST_HIGH_NS, sigfig).expect("valid bounds");
        h.distinct_values() as u64 * 10 + 256
    }

    pub fn count(&self) -> u64 {
        self.total
    }

    pub fn reset(&mut self) {
        self.counts.fill(0);
        self.carried.fill(0);
        self.total = 0;
        // HdrHistogram's `reset` leaves its largest value at the unit mask (511 ns), not
        // at 0: after a reset, values below 512 ns have a maximum of 511 ns.
        self.max = (1 << self.unit_mag) - 1;
        self.changed();
    }

    /// The figures as an `hdrhistogram::Histogram` (materialised on the first call after
    /// a change; the same state as if every value had been recorded into it).
    pub fn inner(&self) -> &Histogram<u64> {
        self.cache.get_or_init(|| {
            let mut h = Self::empty_hdr(self.sigfig);
            for (i, c) in self.all_counts() {
                if c != 0 {
                    // The lowest value of the count: the same count, the same smallest
                    // non-zero value (HdrHistogram keeps its lowest equivalent).
                    h.record_n(self.value_for(i), c).expect("auto-resize");
                }
            }
            if self.max != 0 {
                // Counted above; this sets HdrHistogram's largest value as recording
                // `max` did.
                h.record_n(self.max, 0).expect("auto-resize");
            }
            h
        })
    }

    /// The width of the values count `i` stands for (HdrHistogram's `equivalent_range`).
    #[inline]
    fn range_of(&self, i: usize) -> u64 {
        let bucket = ((i >> self.half_mag) as u32).saturating_sub(1);
        1u64 << (self.unit_mag + bucket)
    }

    /// HdrHistogram's `highest_equivalent` of the values of count `i`.
    #[inline]
    fn highest_of(&self, i: usize) -> u64 {
        self.value_for(i).saturating_add(self.range_of(i)) - 1
    }

    /// HdrHistogram's `value_at_quantile`, on the counts (no histogram materialised).
    fn value_at_quantile(&self, q: f64) -> u64 {
        let q = if q > 1.0 { 1.0 } else { q };
        let want = ((q * self.total as f64).ceil() as u64).max(1);
        let mut seen = 0u64;
        for (i, c) in self.all_counts() {
            seen += c;
            if seen >= want {
                return if q == 0.0 { self.value_for(i) } else { self.highest_of(i) };
            }
        }
        0
    }

    /// Value at quantile `q` in `[0, 1]`, in milliseconds; `None` when empty. The same
    /// figure as HdrHistogram's `value_at_quantile`.
    pub fn quantile_ms(&self, q: f64) -> Option<f64> {
        if self.total == 0 { None } else { Some(self.value_at_quantile(q) as f64 / 1e6) }
    }

    /// The same figure as HdrHistogram's `mean` (the same sum, in the same order).
    pub fn mean_ms(&self) -> Option<f64> {
        if self.total == 0 {
            return None;
        }
        let total = self.total as f64;
        let mean = self.all_counts().filter(|&(_, c)| c != 0).fold(0.0_f64, |acc, (i, c)| {
            let median = self.value_for(i) + (self.range_of(i) >> 1);
            acc + median as f64 * c as f64 / total
        });
        Some(mean / 1e6)
    }

    /// The same figure as HdrHistogram's `max`.
    pub fn max_ms(&self) -> Option<f64> {
        if self.total == 0 {
            return None;
        }
        let max = if self.max == 0 { 0 } else { self.highest_of(self.index(self.max)) };
        Some(max as f64 / 1e6)
    }

    pub fn merge(&mut self, other: &LatencyHist) {
        // As `Histogram::add`: an empty histogram adds nothing (not even its maximum).
        if other.total == 0 {
            return;
        }
        if other.sigfig == self.sigfig {
            for (i, c) in other.all_counts() {
                if c != 0 {
                    self.add(i, c);
                }
            }
            self.max = self.max.max(other.max);
        } else {
            // Another precision: each count at its lowest value, as `Histogram::add` does
            // when the layouts differ (its largest value included).
            for (i, c) in other.all_counts() {
                if c != 0 {
                    let v = other.value_for(i);
                    self.add(self.index(v), c);
                    self.max = self.max.max(v);
                }
            }
        }
        self.total = self.total.saturating_add(other.total);
        self.changed();
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
    Cache,
    Queue,
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
            Scope::Cache => "cache",
            Scope::Queue => "queue",
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::rng_stream;
    use rand::RngExt;

    /// The same values into plain `hdrhistogram`, as `LatencyHist` did before.
    fn plain(sigfig: u8) -> Histogram<u64> {
        let mut h = Histogram::new_with_bounds(HIST_LOW_NS, HIST_HIGH_NS, sigfig).unwrap();
        h.auto(true);
        h
    }

    fn random_value(rng: &mut crate::rng::Rng) -> u64 {
        match rng.random_range(0..10) {
            0 => 0,
            1 => rng.random_range(1..1_000),
            2 => rng.random_range(HIST_HIGH_NS..HIST_HIGH_NS * 50),
            3 => rng.random_range(0..1u64 << 62),
            _ => {
                // Log-uniform from 1 µs to an hour.
                let e: f64 = rng.random_range(3.0..12.556);
                10f64.powf(e) as u64
            }
        }
    }

    /// Every figure the reports read, and the state behind `inner()`, are the same.
    fn assert_same(ours: &LatencyHist, hdr: &Histogram<u64>, what: &str) {
        assert_eq!(ours.count(), hdr.len(), "{what}: count");
        let empty = hdr.is_empty();
        for q in [0.0, 1e-9, 0.001, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 0.9999, 1.0, 1.5] {
            let want = if empty { None } else { Some(hdr.value_at_quantile(q) as f64 / 1e6) };
            assert_eq!(ours.quantile_ms(q).map(f64::to_bits), want.map(f64::to_bits), "{what}: q {q}");
            assert_eq!(ours.inner().value_at_quantile(q), hdr.value_at_quantile(q), "{what}: inner q {q}");
        }
        let mean = if empty { None } else { Some(hdr.mean() / 1e6) };
        assert_eq!(ours.mean_ms().map(f64::to_bits), mean.map(f64::to_bits), "{what}: mean");
        let max = if empty { None } else { Some(hdr.max() as f64 / 1e6) };
        assert_eq!(ours.max_ms().map(f64::to_bits), max.map(f64::to_bits), "{what}: max");
        let inner = ours.inner();
        assert_eq!(inner.len(), hdr.len(), "{what}: inner len");
        assert_eq!(inner.max(), hdr.max(), "{what}: inner max");
        assert_eq!(inner.min(), hdr.min(), "{what}: inner min");
        assert_eq!(inner.min_nz(), hdr.min_nz(), "{what}: inner min_nz");
        assert_eq!(inner.mean().to_bits(), hdr.mean().to_bits(), "{what}: inner mean");
        assert_eq!(inner.stdev().to_bits(), hdr.stdev().to_bits(), "{what}: inner stdev");
        let a: Vec<(u64, u64)> =
            inner.iter_recorded().map(|v| (v.value_iterated_to(), v.count_at_value())).collect();
        let b: Vec<(u64, u64)> =
            hdr.iter_recorded().map(|v| (v.value_iterated_to(), v.count_at_value())).collect();
        assert_eq!(a, b, "{what}: counts");
    }

    #[test]
    fn records_give_the_figures_of_plain_hdrhistogram() {
        let mut rng = rng_stream(11, "test/hist");
        for round in 0..60 {
            let sigfig = [2, 3][round % 2];
            let mut ours = LatencyHist::with_sigfig(sigfig);
            let mut hdr = plain(sigfig);
            assert_same(&ours, &hdr, "empty");
            let n = [1, 2, 10, 1000, 20_000][round % 5];
            // Some rounds only below 1 µs, or only zeros (the edge cases of `max`).
            let only_small = round % 7 == 3;
            let only_zero = round % 11 == 5;
            for _ in 0..n {
                let v = if only_zero {
                    0
                } else if only_small {
                    rng.random_range(0..600)
                } else {
                    random_value(&mut rng)
                };
                ours.record(v);
                hdr.record(v).unwrap();
            }
            assert_same(&ours, &hdr, &format!("round {round}"));
            // Reset and reuse, as the interval histograms are.
            ours.reset();
            hdr.reset();
            assert_same(&ours, &hdr, "reset");
            for _ in 0..n / 3 + 1 {
                let v = random_value(&mut rng) % (HIST_HIGH_NS / 2);
                ours.record(v);
                hdr.record(v).unwrap();
            }
            assert_same(&ours, &hdr, &format!("round {round} after reset"));
        }
    }

    #[test]
    fn merges_give_the_figures_of_plain_hdrhistogram() {
        let mut rng = rng_stream(12, "test/hist-merge");
        for round in 0..80 {
            let mut ours = LatencyHist::default();
            let mut hdr = plain(3);
            for part in 0..4 {
                let mut o = LatencyHist::default();
                let mut h = plain(3);
                let kind = (round + part) % 5;
                let n = if kind == 0 { 0 } else { rng.random_range(1..300) };
                if round % 3 == 0 {
                    // A reset histogram (its largest value is 511 ns, not 0, when empty).
                    o.reset();
                    h.reset();
                }
                for _ in 0..n {
                    let v = match kind {
                        1 => 0,
                        2 => rng.random_range(0..512),
                        3 => random_value(&mut rng) % HIST_HIGH_NS,
                        _ => random_value(&mut rng),
                    };
                    o.record(v);
                    h.record(v).unwrap();
                }
                assert_same(&o, &h, "part");
                ours.merge(&o);
                hdr.add(&h).unwrap();
                assert_same(&ours, &hdr, &format!("round {round} part {part}"));
            }
        }
    }

    /// A count across its `u16` part's width: 65,535, 65,536 and past several carries,
    /// alone, beside others, after a reset, through merges and past the hour's range.
    #[test]
    fn counts_carry_past_their_hot_width() {
        let mut rng = rng_stream(13, "test/hist-carry");
        for (round, n) in [65_535u64, 65_536, 65_537, 131_072, 300_001].into_iter().enumerate() {
            let mut ours = LatencyHist::default();
            let mut hdr = plain(3);
            let hot = [1_234_567, HIST_HIGH_NS * 3][round % 2];
            for k in 0..n {
                ours.record(hot);
                hdr.record(hot).unwrap();
                if k % 1000 == 0 {
                    let v = random_value(&mut rng);
                    ours.record(v);
                    hdr.record(v).unwrap();
                }
            }
            assert_same(&ours, &hdr, &format!("{n} of one value"));
            let (mut m, mut h) = (LatencyHist::default(), plain(3));
            for _ in 0..3 {
                m.merge(&ours);
                h.add(&hdr).unwrap();
            }
            assert_same(&m, &h, &format!("three merges of {n}"));
            let mut coarse = LatencyHist::with_sigfig(2);
            let mut hc = plain(2);
            coarse.merge(&ours);
            hc.add(&hdr).unwrap();
            assert_same(&coarse, &hc, &format!("{n} into another precision"));
            ours.reset();
            hdr.reset();
            assert_same(&ours, &hdr, "reset after a carry");
            for _ in 0..70_000 {
                ours.record(hot);
                hdr.record(hot).unwrap();
            }
            assert_same(&ours, &hdr, &format!("{n}: a carry after a reset"));
        }
    }

    #[test]
    fn a_clone_reads_the_same() {
        let mut a = LatencyHist::default();
        for v in [5_000, 1_000_000, 7] {
            a.record(v);
        }
        let _ = a.inner();
        let mut b = a.clone();
        b.record(10_000_000_000_000);
        a.record(10_000_000_000_000);
        assert_eq!(a.inner().max(), b.inner().max());
        assert_eq!(a.quantile_ms(0.5), b.quantile_ms(0.5));
    }
}
