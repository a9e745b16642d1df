//! SVG charts of a run and of a comparison of variants, drawn with plotters' SVG backend
//! into strings (no file I/O here, no system fonts).
//!
//! Every time chart shades the warm-up and each fault's active window, so a reader sees
//! cause and effect on one axis. The layout (title, a legend strip above the plot, the
//! fault labels above the plot area) is computed here rather than left to plotters'
//! in-plot legend, so that no legend or label ever covers data.
//!
//! Determinism: the output is a pure function of the spec and the run's figures. Tick
//! positions are computed here (never from floating-point accumulation that could
//! differ), maps are never iterated in hash order, and plotters' SVG backend writes
//! integer pixel coordinates, so the same input gives the same bytes.

use crate::metrics::{LatencyHist, Scope, Series};
use crate::model::RunOutput;
use crate::spec::{Cause, FaultKind, NS_PER_S, Nanos, Spec};
use plotters::coord::Shift;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::collections::BTreeSet;

/// One chart, ready to be written as `file` or inlined in HTML.
#[derive(Clone, Debug)]
pub struct Chart {
    /// File name, e.g. `latency-searchers.svg` (unique within one report).
    pub file: String,
    pub title: String,
    /// The SVG document.
    pub svg: String,
    /// One sentence: the question the chart answers.
    pub caption: String,
}

/// What the comparison charts need of one variant's runs, folded in one run at a time
/// (in seed order, so that the sums are always added in the same order): per workload
/// of the variant, its latency histogram merged over the seeds and, per interval, the
/// sum and the count of the seeds' finite goodput and p99 values. Its size does not
/// grow with the number of seeds.
#[derive(Debug)]
pub struct VariantRuns {
    pub name: String,
    pub spec: Spec,
    /// Runs folded in so far.
    pub runs: usize,
    /// Interval ends (s) of the first run.
    xs: Vec<f64>,
    /// The fewest intervals of any run folded in.
    n: usize,
    /// Per workload of `spec`, in its order.
    workloads: Vec<WorkloadFold>,
}

#[derive(Debug, Default)]
struct WorkloadFold {
    latency: LatencyHist,
    goodput: Vec<(f64, usize)>,
    p99: Vec<(f64, usize)>,
}

/// What the comparison charts need of one run (see [`VariantRuns`]), taken from it as
/// soon as it finishes so that the run itself can be dropped.
#[derive(Debug)]
pub struct RunCharts {
    xs: Vec<f64>,
    /// Per workload of the spec: latency, goodput and p99 per interval.
    workloads: Vec<(LatencyHist, Vec<f64>, Vec<f64>)>,
}

impl RunCharts {
    /// Takes the chart data of `out`, a run of `spec`.
    pub fn of(spec: &Spec, out: &RunOutput) -> RunCharts {
        let workloads = spec
            .workloads
            .iter()
            .enumerate()
            .map(|(i, w)| {
                let latency = out.workloads.get(i).map(|f| f.latency.clone()).unwrap_or_default();
                (
                    latency,
                    rate_values(&out.series, Scope::Workload, &w.name, "ok"),
                    column_values(&out.series, Scope::Workload, &w.name, "p99_ms"),
                )
            })
            .collect();
        RunCharts { xs: times_s(&out.series), workloads }
    }
}

/// Adds the finite values of `vals` to the running `(sum, count)` of each interval.
fn fold_values(acc: &mut [(f64, usize)], vals: &[f64]) {
    for (a, v) in acc.iter_mut().zip(vals) {
        if v.is_finite() {
            a.0 += v;
            a.1 += 1;
        }
    }
}

impl VariantRuns {
    /// No runs yet.
    pub fn new(name: String, spec: Spec) -> VariantRuns {
        let workloads = spec.workloads.iter().map(|_| WorkloadFold::default()).collect();
        VariantRuns { name, spec, runs: 0, xs: Vec::new(), n: 0, workloads }
    }

    /// Folds in one more run of this variant; call it in seed order.
    pub fn add(&mut self, run: RunCharts) {
        if self.runs == 0 {
            self.n = run.xs.len();
            // Sums start at -0.0, as `Iterator::sum` of floats does.
            for w in &mut self.workloads {
                w.goodput = vec![(-0.0, 0); run.xs.len()];
                w.p99 = vec![(-0.0, 0); run.xs.len()];
            }
            self.xs = run.xs;
        } else {
            self.n = self.n.min(run.xs.len());
        }
        self.runs += 1;
        for (w, (latency, goodput, p99)) in self.workloads.iter_mut().zip(run.workloads) {
            w.latency.merge(&latency);
            fold_values(&mut w.goodput, &goodput);
            fold_values(&mut w.p99, &p99);
        }
    }

    /// Folds in one more run of this variant (its chart data); call it in seed order.
    pub fn add_run(&mut self, out: &RunOutput) {
        let r = RunCharts::of(&self.spec, out);
        self.add(r);
    }
}

// ---- palette -------------------------------------------------------------------------

/// Okabe–Ito colours (readable by colour-blind readers) plus a few neutrals.
const BLUE: RGBColor = RGBColor(0, 114, 178);
const VERMILLION: RGBColor = RGBColor(213, 94, 0);
const GREEN: RGBColor = RGBColor(0, 158, 115);
const PINK: RGBColor = RGBColor(204, 121, 167);
const ORANGE: RGBColor = RGBColor(230, 159, 0);
const SKY: RGBColor = RGBColor(86, 180, 233);
const PURPLE: RGBColor = RGBColor(117, 112, 179);
const BROWN: RGBColor = RGBColor(140, 86, 75);
const DARK_RED: RGBColor = RGBColor(178, 24, 43);
const INK: RGBColor = RGBColor(40, 40, 40);
const GREY: RGBColor = RGBColor(120, 120, 120);
const GRID: RGBColor = RGBColor(225, 225, 225);

/// Lines of a comparison, one per variant, in variant order (cycled beyond ten).
const SERIES_PALETTE: [RGBColor; 10] =
    [BLUE, VERMILLION, GREEN, PINK, ORANGE, SKY, BROWN, PURPLE, RGBColor(80, 80, 80), RGBColor(150, 150, 30)];

fn cause_color(c: Cause) -> RGBColor {
    match c {
        Cause::Timeout => VERMILLION,
        Cause::Rejected => ORANGE,
        Cause::Unavailable => PINK,
        Cause::CircuitOpen => PURPLE,
        Cause::BulkheadFull => BROWN,
        Cause::Error => DARK_RED,
        Cause::Declined => GREY,
    }
}

/// Light fills of fault windows and the darker ink of their labels.
const WINDOW_COLORS: [(RGBColor, RGBColor); 4] = [
    (RGBColor(255, 205, 150), RGBColor(160, 80, 0)),
    (RGBColor(205, 190, 240), RGBColor(90, 60, 150)),
    (RGBColor(175, 220, 245), RGBColor(20, 95, 145)),
    (RGBColor(245, 190, 210), RGBColor(155, 35, 85)),
];
const WARMUP_COLORS: (RGBColor, RGBColor) = (RGBColor(215, 215, 215), RGBColor(105, 105, 105));

// ---- layout constants (pixels) -------------------------------------------------------

const WIDTH: u32 = 900;
const HEIGHT: u32 = 450;
const FONT: &str = "sans-serif";
/// plotters writes `font-size = size / 1.24`; these give 16, 12 and 11 px text.
const TITLE_SIZE: f64 = 19.84;
const LABEL_SIZE: f64 = 14.88;
const SMALL_SIZE: f64 = 13.64;
/// Estimated width of one character of 12 px text (sans-serif runs 5.5 to 7 px).
const CHAR_W: f64 = 6.8;
const SMALL_CHAR_W: f64 = 6.3;
const TITLE_H: i32 = 34;
const LEGEND_ROW_H: i32 = 20;
const WINDOW_ROW_H: i32 = 15;

// ---- data extracted from a run (shared with the tests) -------------------------------

/// The points the latency chart of one workload draws: `(interval end in s, ms)`, with
/// `NaN` where the interval had no completion (drawn as a gap).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LatencyPoints {
    pub p50: Vec<(f64, f64)>,
    pub p99: Vec<(f64, f64)>,
}

/// Median and 99th percentile per interval of `workload`, as the latency chart draws
/// them. The per-interval 99.9th percentile is not in the series (an interval rarely
/// holds enough completions for it to mean anything), so the chart leaves it out; the
/// percentile spectrum shows the far tail of the whole run instead.
pub fn latency_points(series: &Series, workload: &str) -> LatencyPoints {
    LatencyPoints {
        p50: column_points(series, Scope::Workload, workload, "p50_ms", 1.0),
        p99: column_points(series, Scope::Workload, workload, "p99_ms", 1.0),
    }
}

/// The percentile spectrum of a histogram as the spectrum chart draws it: points
/// `(1/(1−p), latency in ms)` for `p` from 0 to `1 − 10^−max_log10`, twenty per decade of
/// `1/(1−p)`. Empty when the histogram is.
pub fn spectrum_points(h: &LatencyHist, max_log10: u32) -> Vec<(f64, f64)> {
    if h.count() == 0 {
        return Vec::new();
    }
    const PER_DECADE: u32 = 20;
    (0..=max_log10 * PER_DECADE)
        .map(|k| {
            let x = 10f64.powf(k as f64 / PER_DECADE as f64);
            // Exact decades keep their exact quantile (0.99, not 0.9899999…).
            let p = if k % PER_DECADE == 0 {
                1.0 - 1.0 / 10f64.powi((k / PER_DECADE) as i32)
            } else {
                1.0 - 1.0 / x
            };
            (x, h.inner().value_at_quantile(p) as f64 / 1e6)
        })
        .collect()
}

/// Decades of `1/(1−p)` the spectrum shows: to 99.99%, or to 99.999% when there are
/// enough samples for it to mean something.
fn spectrum_decades(count: u64) -> u32 {
    if count >= 100_000 { 5 } else { 4 }
}

/// Interval ends in seconds.
fn times_s(series: &Series) -> Vec<f64> {
    series.ends.iter().map(|e| *e as f64 / NS_PER_S as f64).collect()
}

/// Interval widths in seconds (the last may be shorter).
fn widths_s(series: &Series) -> Vec<f64> {
    let mut prev = 0;
    series
        .ends
        .iter()
        .map(|e| {
            let w = e.saturating_sub(prev);
            prev = *e;
            w as f64 / NS_PER_S as f64
        })
        .collect()
}

fn column_values(series: &Series, scope: Scope, name: &str, metric: &str) -> Vec<f64> {
    let n = series.ends.len();
    match series.column(scope, name, metric) {
        Some(c) => (0..n).map(|i| c.values.get(i).map_or(f64::NAN, |v| *v)).collect(),
        None => vec![f64::NAN; n],
    }
}

fn column_points(series: &Series, scope: Scope, name: &str, metric: &str, scale: f64) -> Vec<(f64, f64)> {
    times_s(series)
        .into_iter()
        .zip(column_values(series, scope, name, metric))
        .map(|(t, v)| (t, v * scale))
        .collect()
}

/// A count column as a rate per second (counts are never missing: `NaN` reads as 0).
fn rate_values(series: &Series, scope: Scope, name: &str, metric: &str) -> Vec<f64> {
    column_values(series, scope, name, metric)
        .into_iter()
        .zip(widths_s(series))
        .map(|(v, w)| if v.is_finite() && w > 0.0 { v / w } else { 0.0 })
        .collect()
}

fn total(v: &[f64]) -> f64 {
    v.iter().filter(|x| x.is_finite()).sum()
}

// ---- axes ----------------------------------------------------------------------------

#[derive(Clone, Debug)]
enum AxisKind {
    Linear {
        decimals: usize,
    },
    /// Coordinates are `log10` of the value.
    Log10,
    /// Coordinates are `log10(1/(1−p))`.
    Percentile,
    /// Ticks at 0, 1, 2… named.
    Categories(Vec<String>),
}

#[derive(Clone, Debug)]
struct Axis {
    lo: f64,
    hi: f64,
    ticks: Vec<f64>,
    kind: AxisKind,
    desc: String,
}

impl Axis {
    /// Data value to coordinate.
    fn map(&self, v: f64) -> f64 {
        match self.kind {
            AxisKind::Log10 | AxisKind::Percentile => {
                if v.is_nan() {
                    v
                } else {
                    v.max(10f64.powf(self.lo)).log10()
                }
            }
            _ => v,
        }
    }

    fn label(&self, c: f64) -> String {
        match &self.kind {
            AxisKind::Linear { decimals } => fmt_fixed(c, *decimals),
            AxisKind::Log10 => {
                let v = 10f64.powf(c);
                let d = if v >= 1.0 { 0 } else { (-v.log10()).ceil() as usize };
                fmt_fixed(v, d)
            }
            AxisKind::Percentile => percentile_label(c),
            AxisKind::Categories(names) => {
                let i = c.round();
                if i >= 0.0 && (i as usize) < names.len() { names[i as usize].clone() } else { String::new() }
            }
        }
    }

    fn max_label_chars(&self) -> usize {
        self.ticks.iter().map(|t| self.label(*t).chars().count()).max().unwrap_or(1)
    }

    /// A time axis over `0..duration_s`.
    fn time(duration_s: f64) -> Axis {
        let hi = if duration_s > 0.0 { duration_s } else { 1.0 };
        let step = [
            0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 20.0, 30.0,
            60.0, 120.0, 300.0, 600.0, 900.0, 1200.0, 1800.0, 3600.0, 7200.0, 14400.0, 28800.0, 86400.0,
        ]
        .into_iter()
        .find(|s| hi / s <= 10.0)
        .unwrap_or_else(|| nice_step(hi / 8.0));
        let ticks = ticks_between(0.0, hi, step);
        Axis {
            lo: 0.0,
            hi,
            ticks,
            kind: AxisKind::Linear { decimals: decimals_of(step) },
            desc: "time (s)".into(),
        }
    }

    /// A linear axis from 0 to a round number at or above `max` (at least `min_hi`), with
    /// a little headroom so that a line at the maximum stays clear of the frame.
    fn linear(max: f64, min_hi: f64, desc: &str) -> Axis {
        Axis::linear_step(max, min_hi, 0.0, desc)
    }

    /// A linear axis for counts: ticks at whole numbers.
    fn count(max: f64, desc: &str) -> Axis {
        Axis::linear_step(max, 5.0, 1.0, desc)
    }

    fn linear_step(max: f64, min_hi: f64, min_step: f64, desc: &str) -> Axis {
        let max = if max.is_finite() { max.max(min_hi) } else { min_hi };
        let max = if max > 0.0 { max } else { 1.0 };
        let step = nice_step(max / 5.0).max(min_step);
        let top = (max / step - 1e-9).ceil().max(1.0) * step;
        let ticks = ticks_between(0.0, top, step);
        let kind = AxisKind::Linear { decimals: decimals_of(step) };
        Axis { lo: 0.0, hi: top * 1.04, ticks, kind, desc: desc.into() }
    }

    /// A base-10 log axis covering `[min, max]` (both positive), ticks at 1, 2, 5 × 10^k
    /// (only at powers of ten when the range spans more than two decades, so that the
    /// labels keep their distance).
    fn log(min: f64, max: f64, desc: &str) -> Axis {
        let lo_dec = min.log10().floor();
        let hi_dec = (max.log10() - 1e-9).ceil().max(lo_dec + 1.0);
        let mut candidates = Vec::new();
        let mut d = lo_dec;
        while d <= hi_dec {
            for m in [1.0, 2.0, 5.0] {
                candidates.push((m, d));
            }
            d += 1.0;
        }
        let val = |(m, d): (f64, f64)| m * 10f64.powf(d);
        // Tightest 1-2-5 bounds around the data.
        let lo = candidates
            .iter()
            .rev()
            .map(|c| val(*c))
            .find(|v| *v <= min * (1.0 + 1e-9))
            .unwrap_or(val((1.0, lo_dec)));
        let hi = candidates
            .iter()
            .map(|c| val(*c))
            .find(|v| *v >= max * (1.0 - 1e-9))
            .unwrap_or(val((1.0, hi_dec)));
        let span = (hi / lo).log10();
        // Beyond two decades, ticks only at powers of ten, and the axis ends on them.
        let (lo, hi) = if span <= 2.2 { (lo, hi) } else { (10f64.powf(lo_dec), 10f64.powf(hi_dec)) };
        let ticks: Vec<f64> = candidates
            .iter()
            .filter(|(m, _)| span <= 2.2 || *m == 1.0)
            .map(|c| val(*c))
            .filter(|v| *v >= lo * (1.0 - 1e-9) && *v <= hi * (1.0 + 1e-9))
            .map(|v| v.log10())
            .collect();
        let (lo, hi) = (lo.log10(), hi.log10());
        Axis { lo, hi: hi + 0.03 * (hi - lo), ticks, kind: AxisKind::Log10, desc: desc.into() }
    }

    /// A latency axis: linear from 0 when the values are within a factor 20 of each
    /// other, otherwise logarithmic, so that a median of 20 ms stays readable under a
    /// tail of seconds.
    fn latency(values: impl Iterator<Item = f64>) -> Axis {
        let (mut min, mut max) = (f64::INFINITY, 0.0f64);
        for v in values.filter(|v| v.is_finite() && *v > 0.0) {
            min = min.min(v);
            max = max.max(v);
        }
        if !min.is_finite() || max / min <= 20.0 {
            Axis::linear(max, 1.0, "latency (ms)")
        } else {
            Axis::log(min.max(1e-3), max, "latency (ms, log scale)")
        }
    }

    fn percentile(decades: u32) -> Axis {
        let mut ticks = vec![0.0, 2f64.log10()];
        ticks.extend((1..=decades).map(|d| d as f64));
        Axis {
            lo: 0.0,
            hi: decades as f64,
            ticks,
            kind: AxisKind::Percentile,
            desc: "percentile (log scale of 1/(1−p))".into(),
        }
    }

    fn categories(names: &[&str], desc: &str) -> Axis {
        Axis {
            lo: -0.5,
            hi: names.len() as f64 - 0.5,
            ticks: (0..names.len()).map(|i| i as f64).collect(),
            kind: AxisKind::Categories(names.iter().map(|s| s.to_string()).collect()),
            desc: desc.into(),
        }
    }
}

fn percentile_label(c: f64) -> String {
    if c <= 1e-9 {
        return "0%".into();
    }
    let p = 100.0 * (1.0 - 10f64.powf(-c));
    let d = if c > 2.0 + 1e-9 { (c - 2.0).ceil() as usize } else { 0 };
    format!("{}%", fmt_fixed(p, d))
}

/// 1, 2, 2.5 or 5 × 10^k, the smallest at least `raw`.
fn nice_step(raw: f64) -> f64 {
    if !(raw.is_finite() && raw > 0.0) {
        return 1.0;
    }
    let mag = 10f64.powf(raw.log10().floor());
    let norm = raw / mag;
    let m = [1.0, 2.0, 2.5, 5.0, 10.0].into_iter().find(|m| *m >= norm - 1e-9).unwrap_or(10.0);
    m * mag
}

/// Fewest decimals that show `step` exactly.
fn decimals_of(step: f64) -> usize {
    (0..=6)
        .find(|d| {
            let s = step * 10f64.powi(*d as i32);
            (s - s.round()).abs() < 1e-6
        })
        .unwrap_or(6)
}

/// Multiples of `step` in `[lo, hi]`, computed by index (never by accumulation).
fn ticks_between(lo: f64, hi: f64, step: f64) -> Vec<f64> {
    let first = (lo / step - 1e-9).ceil() as i64;
    let last = (hi / step + 1e-9).floor() as i64;
    (first..=last.max(first)).take(100).map(|k| k as f64 * step).collect()
}

fn fmt_fixed(v: f64, decimals: usize) -> String {
    let s = format!("{v:.decimals$}");
    if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') { s[1..].to_string() } else { s }
}

// ---- what a panel draws --------------------------------------------------------------

#[derive(Clone, Copy, Debug)]
enum Swatch {
    Line,
    Area,
}

#[derive(Clone, Debug)]
struct LegendItem {
    label: String,
    color: RGBAColor,
    swatch: Swatch,
}

fn legend_line(label: impl Into<String>, color: RGBColor) -> LegendItem {
    LegendItem { label: label.into(), color: color.to_rgba(), swatch: Swatch::Line }
}

fn legend_area(label: impl Into<String>, color: RGBAColor) -> LegendItem {
    LegendItem { label: label.into(), color, swatch: Swatch::Area }
}

/// Something drawn in data units (before the axis mapping).
#[derive(Clone, Debug)]
enum Layer {
    /// A polyline broken at `NaN` values; isolated points are drawn as dots.
    Line { pts: Vec<(f64, f64)>, color: RGBColor, width: u32 },
    /// The region between two curves over the same x values.
    Band { xs: Vec<f64>, lower: Vec<f64>, upper: Vec<f64>, color: RGBAColor },
    /// Rectangles `(x0, x1, y0, y1, colour)`.
    Rects(Vec<(f64, f64, f64, f64, RGBColor)>),
}

/// A shaded time window (a fault, or the warm-up).
#[derive(Clone, Debug)]
struct Window {
    x0: f64,
    x1: f64,
    label: String,
    fill: RGBAColor,
    ink: RGBColor,
}

#[derive(Clone, Debug)]
struct Panel {
    /// Small heading inside the panel (small multiples).
    heading: Option<String>,
    x: Axis,
    y: Axis,
    layers: Vec<Layer>,
    windows: Vec<Window>,
    /// Whether this panel prints the windows' labels above its plot area.
    window_labels: bool,
    /// Whether this panel writes its x axis description.
    x_desc: bool,
    /// A message drawn in the middle of the plot (e.g. "no completed requests").
    note: Option<String>,
}

impl Panel {
    fn new(x: Axis, y: Axis, windows: Vec<Window>) -> Panel {
        Panel {
            heading: None,
            x,
            y,
            layers: Vec::new(),
            windows,
            window_labels: true,
            x_desc: true,
            note: None,
        }
    }
}

/// The shaded windows of a run: the warm-up, then each fault clipped to the run. A
/// crash lasts from its start to its restart if the replica restarts, else to the end.
fn windows_of(faults: &[(Nanos, Nanos, String)], warmup_ns: Nanos, duration_ns: Nanos) -> Vec<Window> {
    let mut out = Vec::new();
    if warmup_ns > 0 && duration_ns > 0 {
        let (RGBColor(r, g, b), ink) = WARMUP_COLORS;
        out.push(Window {
            x0: 0.0,
            x1: warmup_ns.min(duration_ns) as f64 / NS_PER_S as f64,
            label: "warm-up".into(),
            fill: RGBAColor(r, g, b, 0.45),
            ink,
        });
    }
    for (i, (start, end, label)) in faults.iter().enumerate() {
        if *start >= duration_ns {
            continue;
        }
        let end = (*end).min(duration_ns).max(*start);
        let (RGBColor(r, g, b), ink) = WINDOW_COLORS[i % WINDOW_COLORS.len()];
        out.push(Window {
            x0: *start as f64 / NS_PER_S as f64,
            x1: end as f64 / NS_PER_S as f64,
            label: label.clone(),
            fill: RGBAColor(r, g, b, 0.55),
            ink,
        });
    }
    out
}

/// Each fault's `(start, end, label)` in nanoseconds, end unclipped.
fn fault_spans(spec: &Spec) -> Vec<(Nanos, Nanos, String)> {
    spec.faults
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let end = match f.kind {
                FaultKind::Crash { restart_after_ns: Some(r), .. } => f.start_ns.saturating_add(r),
                FaultKind::Crash { restart_after_ns: None, .. } => Nanos::MAX,
                _ => f.end_ns,
            };
            let label = if f.label.trim().is_empty() { format!("fault {}", i + 1) } else { f.label.clone() };
            (f.start_ns, end, label)
        })
        .collect()
}

fn run_windows(spec: &Spec) -> Vec<Window> {
    windows_of(&fault_spans(spec), spec.warmup_ns, spec.duration_ns)
}

// ---- rendering -----------------------------------------------------------------------

type Res = Result<(), Box<dyn std::error::Error>>;
type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

fn text_style(size: f64, color: RGBColor, h: HPos, v: VPos) -> TextStyle<'static> {
    TextStyle { font: (FONT, size).into_font(), color: color.to_backend_color(), pos: Pos::new(h, v) }
}

fn text_w(s: &str, char_w: f64) -> i32 {
    (s.chars().count() as f64 * char_w).ceil() as i32
}

/// Lays the legend out in rows that fit `width`; returns each item's `(x, row)`.
fn legend_layout(items: &[LegendItem], width: i32) -> (Vec<(i32, i32)>, i32) {
    let mut pos = Vec::new();
    let (mut x, mut row) = (0, 0);
    for it in items {
        let w = 28 + text_w(&it.label, CHAR_W) + 22;
        if x > 0 && x + w > width {
            x = 0;
            row += 1;
        }
        pos.push((x, row));
        x += w;
    }
    (pos, if items.is_empty() { 0 } else { row + 1 })
}

/// Renders a whole chart: a title, a legend strip, and a grid of panels (`rows` of
/// `cols`), each row `row_h` pixels high.
fn render(title: &str, legend: &[LegendItem], panels: &[Panel], cols: usize, row_h: u32) -> String {
    let cols = cols.max(1);
    let rows = panels.len().div_ceil(cols).max(1);
    let (legend_pos, legend_rows) = legend_layout(legend, WIDTH as i32 - 32);
    let top = TITLE_H + legend_rows * LEGEND_ROW_H + if legend_rows > 0 { 4 } else { 0 };
    let height = top as u32 + rows as u32 * row_h;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        // A failure to draw leaves a partial SVG; it cannot happen with a string backend
        // short of a plotters bug, and a chart is not worth a panic.
        let _ = draw_all(&root, title, legend, &legend_pos, top, panels, cols, rows, row_h);
        let _ = root.present();
    }
    svg
}

#[allow(clippy::too_many_arguments)]
fn draw_all(
    root: &Area,
    title: &str,
    legend: &[LegendItem],
    legend_pos: &[(i32, i32)],
    top: i32,
    panels: &[Panel],
    cols: usize,
    rows: usize,
    row_h: u32,
) -> Res {
    root.fill(&WHITE)?;
    root.draw(&Text::new(title.to_string(), (16, 9), text_style(TITLE_SIZE, INK, HPos::Left, VPos::Top)))?;
    for (it, (x, row)) in legend.iter().zip(legend_pos) {
        let x0 = 16 + x;
        let yc = TITLE_H + row * LEGEND_ROW_H + LEGEND_ROW_H / 2;
        match it.swatch {
            Swatch::Line => {
                root.draw(&PathElement::new(vec![(x0, yc), (x0 + 22, yc)], it.color.stroke_width(3)))?;
            }
            Swatch::Area => {
                root.draw(&Rectangle::new([(x0 + 3, yc - 6), (x0 + 19, yc + 6)], it.color.filled()))?;
            }
        }
        root.draw(&Text::new(
            it.label.clone(),
            (x0 + 28, yc),
            text_style(LABEL_SIZE, INK, HPos::Left, VPos::Center),
        ))?;
    }
    let body = root.clone().shrink((0, top), (WIDTH, rows as u32 * row_h));
    let ys: Vec<i32> = (1..rows).map(|r| (r as u32 * row_h) as i32).collect();
    let xs: Vec<i32> = (1..cols).map(|c| (c as u32 * WIDTH / cols as u32) as i32).collect();
    let areas = body.split_by_breakpoints(xs, ys);
    // Panels of one column share the width of their y labels, so that their time axes
    // line up.
    let col_y_area: Vec<i32> =
        (0..cols).map(|c| panels.iter().skip(c).step_by(cols).map(y_label_area).max().unwrap_or(0)).collect();
    for (i, (panel, area)) in panels.iter().zip(areas.iter()).enumerate() {
        draw_panel(root, area, panel, col_y_area[i % cols])?;
    }
    Ok(())
}

/// Width of the y tick labels and the y axis title.
fn y_label_area(p: &Panel) -> i32 {
    (p.y.max_label_chars() as f64 * CHAR_W) as i32 + 12 + if p.y.desc.is_empty() { 0 } else { 22 }
}

fn draw_panel(root: &Area, area: &Area, p: &Panel, y_area: i32) -> Res {
    let (xr, yr) = area.get_pixel_range();
    let heading_h = if p.heading.is_some() { 18 } else { 0 };
    let x_area = if p.x_desc { 48 } else { 26 };
    let (m_left, m_right) = (8, 20);
    let plot_l = xr.start + m_left + y_area;
    let plot_r = xr.end - m_right;
    let (xlo, xhi) = (p.x.lo, if p.x.hi > p.x.lo { p.x.hi } else { p.x.lo + 1.0 });
    let px = |x: f64| plot_l + ((x - xlo) / (xhi - xlo) * (plot_r - plot_l) as f64).round() as i32;

    // Window labels, in as many rows as they need not to overlap.
    let mut labels: Vec<(i32, usize, &Window)> = Vec::new();
    let mut row_ends: Vec<i32> = Vec::new();
    if p.window_labels {
        let mut order: Vec<&Window> = p.windows.iter().collect();
        order.sort_by(|a, b| a.x0.total_cmp(&b.x0));
        for w in order {
            let tw = text_w(&w.label, SMALL_CHAR_W);
            let mut x = px(w.x0.max(xlo)) + 3;
            if x + tw > plot_r {
                x = (plot_r - tw).max(plot_l);
            }
            let row = match row_ends.iter().position(|e| *e + 8 <= x) {
                Some(r) => r,
                None if row_ends.len() < 3 => {
                    row_ends.push(i32::MIN);
                    row_ends.len() - 1
                }
                None => row_ends.len() - 1,
            };
            row_ends[row] = x + tw;
            labels.push((x, row, w));
        }
    }
    let label_h = row_ends.len() as i32 * WINDOW_ROW_H;
    let m_top = 6 + heading_h + label_h + if label_h > 0 { 3 } else { 0 };

    if let Some(h) = &p.heading {
        root.draw(&Text::new(
            h.clone(),
            (plot_l, yr.start + 5),
            text_style(LABEL_SIZE, INK, HPos::Left, VPos::Top),
        ))?;
    }

    let (ylo, yhi) = (p.y.lo, if p.y.hi > p.y.lo { p.y.hi } else { p.y.lo + 1.0 });
    let xcoord = TickRange { lo: xlo, hi: xhi, ticks: p.x.ticks.clone() };
    let ycoord = TickRange { lo: ylo, hi: yhi, ticks: p.y.ticks.clone() };
    let mut chart = ChartBuilder::on(area)
        .margin_top(m_top)
        .margin_bottom(6)
        .margin_left(m_left)
        .margin_right(m_right)
        .x_label_area_size(x_area)
        .y_label_area_size(y_area)
        .build_cartesian_2d(xcoord, ycoord)?;

    // Windows first, under everything else.
    let min_w = (xhi - xlo) / 450.0;
    for w in &p.windows {
        let x0 = w.x0.max(xlo);
        let x1 = w.x1.min(xhi).max(x0 + min_w);
        chart.draw_series(std::iter::once(Rectangle::new([(x0, ylo), (x1, yhi)], w.fill.filled())))?;
    }

    let xfmt = |v: &f64| p.x.label(*v);
    let yfmt = |v: &f64| p.y.label(*v);
    let mut mesh = chart.configure_mesh();
    mesh.bold_line_style(GRID.stroke_width(1))
        .light_line_style(TRANSPARENT)
        .axis_style(GREY.stroke_width(1))
        .label_style(text_style(LABEL_SIZE, INK, HPos::Center, VPos::Top))
        .axis_desc_style(text_style(LABEL_SIZE, INK, HPos::Center, VPos::Top))
        .x_label_formatter(&xfmt)
        .y_label_formatter(&yfmt)
        .x_labels(p.x.ticks.len())
        .y_labels(p.y.ticks.len());
    if p.x_desc {
        mesh.x_desc(p.x.desc.clone());
    }
    if !p.y.desc.is_empty() {
        mesh.y_desc(p.y.desc.clone());
    }
    mesh.draw()?;

    for layer in &p.layers {
        match layer {
            Layer::Line { pts, color, width } => {
                let style = color.stroke_width(*width);
                for run in finite_runs(pts, &p.x, &p.y) {
                    if run.len() == 1 {
                        chart.draw_series(std::iter::once(Circle::new(
                            run[0],
                            2 + *width / 2,
                            color.filled(),
                        )))?;
                    } else {
                        chart.draw_series(std::iter::once(PathElement::new(run, style)))?;
                    }
                }
            }
            Layer::Band { xs, lower, upper, color } => {
                let n = xs.len().min(lower.len()).min(upper.len());
                if n >= 2 {
                    let mut poly: Vec<(f64, f64)> =
                        (0..n).map(|i| (p.x.map(xs[i]), p.y.map(clean(upper[i])))).collect();
                    poly.extend((0..n).rev().map(|i| (p.x.map(xs[i]), p.y.map(clean(lower[i])))));
                    chart.draw_series(std::iter::once(Polygon::new(poly, color.filled())))?;
                }
            }
            Layer::Rects(rects) => {
                chart.draw_series(rects.iter().map(|(x0, x1, y0, y1, c)| {
                    Rectangle::new([(p.x.map(*x0), p.y.map(*y0)), (p.x.map(*x1), p.y.map(*y1))], c.filled())
                }))?;
            }
        }
    }

    // The plot's frame on top of the windows and the data.
    let (tl, br) = (chart.backend_coord(&(xlo, yhi)), chart.backend_coord(&(xhi, ylo)));
    root.draw(&Rectangle::new([tl, br], GREY.stroke_width(1)))?;

    let label_top = yr.start + 6 + heading_h;
    for (x, row, w) in &labels {
        let y = label_top + *row as i32 * WINDOW_ROW_H;
        root.draw(&Text::new(
            w.label.clone(),
            (*x, y),
            text_style(SMALL_SIZE, w.ink, HPos::Left, VPos::Top),
        ))?;
    }
    if let Some(note) = &p.note {
        let c = ((tl.0 + br.0) / 2, (tl.1 + br.1) / 2);
        root.draw(&Text::new(note.clone(), c, text_style(LABEL_SIZE, GREY, HPos::Center, VPos::Center)))?;
    }
    Ok(())
}

/// A linear coordinate whose ticks are the ones computed here (plotters' own choice of
/// key points cannot be told to put ticks at 50%, 90%, 99%… or at 1-2-5 on a log axis).
#[derive(Clone, Debug)]
struct TickRange {
    lo: f64,
    hi: f64,
    ticks: Vec<f64>,
}

impl Ranged for TickRange {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        let r = (v - self.lo) / (self.hi - self.lo);
        let px = limit.0 as f64 + r * (limit.1 - limit.0) as f64;
        // Far-off values (a clipped outlier) must not overflow the pixel type.
        px.clamp(-1e6, 1e6).round() as i32
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() { Vec::new() } else { self.ticks.clone() }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.lo..self.hi
    }
}

fn clean(v: f64) -> f64 {
    if v.is_finite() { v } else { 0.0 }
}

/// Maximal runs of finite points, mapped to coordinates.
fn finite_runs(pts: &[(f64, f64)], x: &Axis, y: &Axis) -> Vec<Vec<(f64, f64)>> {
    let mut runs = Vec::new();
    let mut cur = Vec::new();
    for (a, b) in pts {
        if a.is_finite() && b.is_finite() {
            cur.push((x.map(*a), y.map(*b)));
        } else if !cur.is_empty() {
            runs.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        runs.push(cur);
    }
    runs
}

// ---- file names ----------------------------------------------------------------------

fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let t = out.trim_matches('-');
    let t: String = t.chars().take(60).collect();
    if t.is_empty() { "x".into() } else { t }
}

/// Hands out unique file names in call order.
#[derive(Default)]
struct Names(BTreeSet<String>);

impl Names {
    fn file(&mut self, kind: &str, name: &str) -> String {
        let base = if name.is_empty() { kind.to_string() } else { format!("{kind}-{}", slug(name)) };
        let mut f = format!("{base}.svg");
        let mut k = 2;
        while self.0.contains(&f) {
            f = format!("{base}-{k}.svg");
            k += 1;
        }
        self.0.insert(f.clone());
        f
    }
}

// ---- charts of one run ---------------------------------------------------------------

/// Every chart of one run, in a stable order: per workload its latency over time,
/// throughput over time and percentile spectrum; then the breaker state of each call
/// edge with a breaker; the retries and hedges of each edge that made any; the outcomes
/// of each saga; the lag of each topic's consumer groups; and the queue length and
/// utilisation of every service.
pub fn run_charts(spec: &Spec, out: &RunOutput) -> Vec<Chart> {
    let mut names = Names::default();
    let mut charts = Vec::new();
    let windows = run_windows(spec);
    let dur_s = spec.duration_ns as f64 / NS_PER_S as f64;
    let series = &out.series;
    for (i, wl) in spec.workloads.iter().enumerate() {
        charts.push(latency_chart(&mut names, &wl.name, series, dur_s, &windows));
        charts.push(throughput_chart(&mut names, &wl.name, series, dur_s, &windows));
        if let Some(f) = out.workloads.get(i) {
            let c = spectrum_chart(
                &mut names,
                "spectrum",
                &wl.name,
                &format!("Latency by percentile: {}", wl.name),
                &format!(
                    "How long does {} take at each percentile, from the median to the far tail, over the measured window?",
                    wl.name
                ),
                &[(String::new(), &f.latency)],
            );
            charts.push(c);
        }
    }
    for (i, e) in spec.edges.iter().enumerate() {
        if edge_has_breaker(spec, i)
            || column_values(series, Scope::Call, &e.name, "breaker_state").iter().any(|v| v.is_finite())
        {
            charts.push(breaker_chart(&mut names, &e.name, series, dur_s, &windows));
        }
    }
    for e in &spec.edges {
        let retries = rate_values(series, Scope::Call, &e.name, "retries");
        let hedges = rate_values(series, Scope::Call, &e.name, "hedges");
        let (r, h) = (total(&retries) > 0.0, total(&hedges) > 0.0);
        if r || h {
            charts.push(retries_chart(&mut names, &e.name, series, dur_s, &windows, r, h));
        }
    }
    for sg in &spec.sagas {
        charts.push(saga_chart(&mut names, &sg.name, series, dur_s, &windows));
    }
    for t in &spec.topics {
        for g in &t.groups {
            charts.push(lag_chart(&mut names, &t.name, &g.name, series, dur_s, &windows));
        }
    }
    if !spec.services.is_empty() {
        charts.push(services_chart(&mut names, spec, series, dur_s, &windows));
    }
    charts
}

/// The outcome columns of a saga's series, as the saga chart stacks them (bottom up),
/// with their legend labels and colours.
const SAGA_OUTCOME_SERIES: [(&str, &str, RGBColor); 4] = [
    ("completed", "completed", GREEN),
    ("compensated", "compensated", SKY),
    ("compensation_failed", "compensation failed", VERMILLION),
    ("abandoned", "abandoned", PURPLE),
];

/// The points the saga chart of `saga` draws, per interval `(end in s, value)`: each
/// outcome's sagas per second (stacked in the chart, in `SAGA_OUTCOME_SERIES` order),
/// the sagas started per second, and the sagas in flight at the interval's end (`NaN`
/// where missing, drawn as a gap).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SagaPoints {
    /// Per outcome: `completed`, `compensated`, `compensation_failed`, `abandoned`.
    pub outcomes: Vec<(String, Vec<(f64, f64)>)>,
    pub started: Vec<(f64, f64)>,
    pub in_flight: Vec<(f64, f64)>,
}

pub fn saga_points(series: &Series, saga: &str) -> SagaPoints {
    let xs = times_s(series);
    let pts = |v: Vec<f64>| xs.iter().copied().zip(v).collect::<Vec<_>>();
    SagaPoints {
        outcomes: SAGA_OUTCOME_SERIES
            .iter()
            .map(|(m, _, _)| (m.to_string(), pts(rate_values(series, Scope::Saga, saga, m))))
            .collect(),
        started: pts(rate_values(series, Scope::Saga, saga, "started")),
        in_flight: column_points(series, Scope::Saga, saga, "in_flight", 1.0),
    }
}

/// Stacked areas of the sagas that ended per second by outcome (completed at the
/// bottom; an outcome that never happened is left out), the sagas started per second,
/// and the sagas in flight at each interval's end, on one axis.
fn saga_chart(names: &mut Names, saga: &str, series: &Series, dur_s: f64, windows: &[Window]) -> Chart {
    let xs = times_s(series);
    let p = saga_points(series, saga);
    let mut layers = Vec::new();
    let mut legend = Vec::new();
    let mut base = vec![0.0; xs.len()];
    let mut max = 0.0f64;
    for (k, (_, pts)) in p.outcomes.iter().enumerate() {
        let (_, label, color) = SAGA_OUTCOME_SERIES[k];
        let v: Vec<f64> = pts.iter().map(|q| q.1).collect();
        // Completed is always in the legend, so that a chart of nothing but failures
        // still says what is missing.
        if k > 0 && total(&v) <= 0.0 {
            continue;
        }
        let upper: Vec<f64> = base.iter().zip(&v).map(|(a, b)| a + b).collect();
        let fill = color.mix(if k == 0 { 0.45 } else { 0.8 });
        layers.push(Layer::Band { xs: xs.clone(), lower: base, upper: upper.clone(), color: fill });
        legend.push(legend_area(label, fill));
        max = max.max(total_max(&upper));
        base = upper;
    }
    let started: Vec<f64> = p.started.iter().map(|q| q.1).collect();
    let in_flight: Vec<f64> = p.in_flight.iter().map(|q| q.1).collect();
    max = max.max(total_max(&started)).max(total_max(&in_flight));
    layers.push(Layer::Line { pts: p.started, color: INK, width: 2 });
    layers.push(Layer::Line { pts: p.in_flight, color: BLUE, width: 2 });
    legend.insert(0, legend_line("started/s", INK));
    legend.push(legend_line("in flight (at interval end)", BLUE));
    let mut panel = Panel::new(
        Axis::time(dur_s),
        Axis::linear(max * 1.05, 1.0, "sagas/s · sagas in flight"),
        windows.to_vec(),
    );
    panel.layers = layers;
    if series.ends.is_empty() {
        panel.note = Some("no intervals recorded".into());
    }
    let title = format!("Saga outcomes over time: {saga}");
    Chart {
        file: names.file("saga", saga),
        svg: render(&title, &legend, &[panel], 1, single_row_h(&legend)),
        title,
        caption: format!(
            "How many {saga} sagas ended each second by outcome (completed, compensated, compensation failed, \
             abandoned), and how many were still in flight?"
        ),
    }
}

/// The points the lag chart of a consumer group draws, per interval `(end in s, value)`:
/// the lag at the interval's end (`NaN` where missing), then messages per second.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LagPoints {
    pub lag: Vec<(f64, f64)>,
    pub published: Vec<(f64, f64)>,
    pub delivered: Vec<(f64, f64)>,
    pub redelivered: Vec<(f64, f64)>,
    pub dead_lettered: Vec<(f64, f64)>,
}

/// `group` is the group's name alone; its series are named `TOPIC/GROUP`.
pub fn lag_points(series: &Series, topic: &str, group: &str) -> LagPoints {
    let xs = times_s(series);
    let name = format!("{topic}/{group}");
    let pts = |v: Vec<f64>| xs.iter().copied().zip(v).collect::<Vec<_>>();
    LagPoints {
        lag: column_points(series, Scope::Topic, &name, "lag", 1.0),
        published: pts(rate_values(series, Scope::Topic, topic, "published")),
        delivered: pts(rate_values(series, Scope::Topic, &name, "delivered")),
        redelivered: pts(rate_values(series, Scope::Topic, &name, "redelivered")),
        dead_lettered: pts(rate_values(series, Scope::Topic, &name, "dead_lettered")),
    }
}

/// Two panels: the group's lag (messages published and not yet handled, summed over
/// partitions) above; the topic's publishes and the group's deliveries per second below
/// (redeliveries and dead letters too, when there were any), so that a growing lag can
/// be read against its cause.
fn lag_chart(
    names: &mut Names,
    topic: &str,
    group: &str,
    series: &Series,
    dur_s: f64,
    windows: &[Window],
) -> Chart {
    let p = lag_points(series, topic, group);
    let lag_max = p.lag.iter().map(|q| q.1).filter(|v| v.is_finite()).fold(0.0, f64::max);
    let mut top = Panel::new(Axis::time(dur_s), Axis::count(lag_max, "messages"), windows.to_vec());
    top.heading = Some("lag (messages not yet handled, at each interval's end)".into());
    top.x_desc = false;
    top.layers.push(Layer::Line { pts: p.lag, color: PURPLE, width: 2 });
    let mut lines = vec![("published/s", p.published, GREY), ("delivered/s", p.delivered, GREEN)];
    for (label, pts, color) in
        [("redelivered/s", p.redelivered, ORANGE), ("dead-lettered/s", p.dead_lettered, DARK_RED)]
    {
        if pts.iter().any(|q| q.1 > 0.0) {
            lines.push((label, pts, color));
        }
    }
    let max =
        lines.iter().flat_map(|l| l.1.iter().map(|q| q.1)).filter(|v| v.is_finite()).fold(0.0, f64::max);
    let mut bottom = Panel::new(Axis::time(dur_s), Axis::linear(max, 1.0, "messages/s"), windows.to_vec());
    bottom.heading = Some("messages per second".into());
    bottom.window_labels = false;
    let mut legend = vec![legend_line("lag", PURPLE)];
    for (label, pts, color) in lines {
        legend.push(legend_line(label, color));
        bottom.layers.push(Layer::Line { pts, color, width: 2 });
    }
    if series.ends.is_empty() {
        top.note = Some("no intervals recorded".into());
    }
    let title = format!("Consumer lag over time: {topic}/{group}");
    Chart {
        file: names.file("lag", &format!("{topic}/{group}")),
        svg: render(&title, &legend, &[top, bottom], 1, 205),
        title,
        caption: format!(
            "How far behind the messages published on {topic} did consumer group {group} fall, and how fast did it \
             deliver them?"
        ),
    }
}

/// Whether some call site or workload on edge `edge` uses a policy with a breaker.
fn edge_has_breaker(spec: &Spec, edge: usize) -> bool {
    let has =
        |p: Option<u32>| p.and_then(|p| spec.policies.get(p as usize)).is_some_and(|p| p.breaker.is_some());
    let sites = spec.endpoints.iter().flat_map(|e| e.steps.iter()).flat_map(|s| match s {
        crate::spec::Step::Call(c) => std::slice::from_ref(c),
        crate::spec::Step::Parallel(cs) => cs.as_slice(),
        crate::spec::Step::Work(_) | crate::spec::Step::Publish { .. } => &[],
    });
    for site in sites {
        if site.targets.iter().any(|t| t.edge as usize == edge) && has(site.policy) {
            return true;
        }
    }
    spec.workloads.iter().any(|w| w.edge as usize == edge && has(w.policy))
}

fn latency_chart(names: &mut Names, wl: &str, series: &Series, dur_s: f64, windows: &[Window]) -> Chart {
    let pts = latency_points(series, wl);
    let y = Axis::latency(pts.p50.iter().chain(&pts.p99).map(|p| p.1));
    let mut panel = Panel::new(Axis::time(dur_s), y, windows.to_vec());
    panel.layers.push(Layer::Line { pts: pts.p99, color: VERMILLION, width: 2 });
    panel.layers.push(Layer::Line { pts: pts.p50, color: BLUE, width: 2 });
    if series.ends.is_empty() {
        panel.note = Some("no intervals recorded".into());
    }
    let title = format!("Latency over time: {wl}");
    let legend = [legend_line("p50 per interval", BLUE), legend_line("p99 per interval", VERMILLION)];
    Chart {
        file: names.file("latency", wl),
        svg: render(&title, &legend, &[panel], 1, single_row_h(&legend)),
        title,
        caption: format!(
            "How did the median and 99th-percentile latency of {wl} move over time, and did they recover after each fault?"
        ),
    }
}

fn throughput_chart(names: &mut Names, wl: &str, series: &Series, dur_s: f64, windows: &[Window]) -> Chart {
    let xs = times_s(series);
    let offered = rate_values(series, Scope::Workload, wl, "offered");
    let ok = rate_values(series, Scope::Workload, wl, "ok");
    let mut layers = Vec::new();
    let mut legend = vec![legend_line("offered", INK), legend_area("ok", GREEN.mix(0.45))];
    let zero = vec![0.0; xs.len()];
    layers.push(Layer::Band { xs: xs.clone(), lower: zero, upper: ok.clone(), color: GREEN.mix(0.45) });
    let mut base = ok;
    let mut max = total_max(&offered).max(total_max(&base));
    for c in Cause::ALL {
        let v = rate_values(series, Scope::Workload, wl, &format!("failed_{}", c.name()));
        if total(&v) <= 0.0 {
            continue;
        }
        let upper: Vec<f64> = base.iter().zip(&v).map(|(a, b)| a + b).collect();
        let color = cause_color(c).mix(0.8);
        layers.push(Layer::Band { xs: xs.clone(), lower: base, upper: upper.clone(), color });
        legend.push(legend_area(format!("failed: {}", c.name()), color));
        max = max.max(total_max(&upper));
        base = upper;
    }
    layers.push(Layer::Line { pts: xs.iter().copied().zip(offered).collect(), color: INK, width: 2 });
    let mut panel =
        Panel::new(Axis::time(dur_s), Axis::linear(max * 1.05, 1.0, "requests/s"), windows.to_vec());
    panel.layers = layers;
    if series.ends.is_empty() {
        panel.note = Some("no intervals recorded".into());
    }
    let title = format!("Throughput over time: {wl}");
    Chart {
        file: names.file("throughput", wl),
        svg: render(&title, &legend, &[panel], 1, single_row_h(&legend)),
        title,
        caption: format!(
            "How much of the load offered by {wl} completed successfully each second, and why did the rest fail?"
        ),
    }
}

fn total_max(v: &[f64]) -> f64 {
    v.iter().copied().filter(|x| x.is_finite()).fold(0.0, f64::max)
}

/// One line per `(label, histogram)`; no legend when there is a single unlabelled line.
fn spectrum_chart(
    names: &mut Names,
    kind: &str,
    name: &str,
    title: &str,
    caption: &str,
    hists: &[(String, &LatencyHist)],
) -> Chart {
    let decades = spectrum_decades(hists.iter().map(|(_, h)| h.count()).max().unwrap_or(0));
    let lines: Vec<Vec<(f64, f64)>> = hists.iter().map(|(_, h)| spectrum_points(h, decades)).collect();
    let max = lines.iter().flatten().map(|p| p.1).fold(0.0, f64::max);
    let y = Axis::linear(max * 1.05, 1.0, "latency (ms)");
    let mut panel = Panel::new(Axis::percentile(decades), y, Vec::new());
    let mut legend = Vec::new();
    for (i, ((label, _), pts)) in hists.iter().zip(lines).enumerate() {
        let color = if hists.len() == 1 { BLUE } else { SERIES_PALETTE[i % SERIES_PALETTE.len()] };
        if !label.is_empty() {
            legend.push(legend_line(label.clone(), color));
        }
        panel.layers.push(Layer::Line { pts, color, width: 2 });
    }
    if hists.iter().all(|(_, h)| h.count() == 0) {
        panel.note = Some("no completed requests".into());
    }
    Chart {
        file: names.file(kind, name),
        svg: render(title, &legend, &[panel], 1, single_row_h(&legend)),
        title: title.to_string(),
        caption: caption.to_string(),
    }
}

const BREAKER_STATES: [&str; 3] = ["closed", "half-open", "open"];
const BREAKER_COLORS: [RGBColor; 3] = [GREEN, ORANGE, VERMILLION];

fn breaker_chart(names: &mut Names, edge: &str, series: &Series, dur_s: f64, windows: &[Window]) -> Chart {
    let states = column_values(series, Scope::Call, edge, "breaker_state");
    let mut rects = Vec::new();
    let mut start = 0.0;
    for (end, s) in times_s(series).into_iter().zip(states) {
        if s.is_finite() {
            let k = (s.round().clamp(0.0, 2.0)) as usize;
            rects.push((start, end, k as f64 - 0.32, k as f64 + 0.32, BREAKER_COLORS[k]));
        }
        start = end;
    }
    let mut panel = Panel::new(Axis::time(dur_s), Axis::categories(&BREAKER_STATES, ""), windows.to_vec());
    panel.layers.push(Layer::Rects(rects));
    if series.ends.is_empty() {
        panel.note = Some("no intervals recorded".into());
    }
    let title = format!("Circuit breaker state: {edge}");
    Chart {
        file: names.file("breaker", edge),
        svg: render(&title, &[], &[panel], 1, 300),
        title,
        caption: format!(
            "When did the circuit breaker on {edge} open, probe (half-open) and close again? \
             Each interval shows the most open state among the caller's replicas at its end."
        ),
    }
}

/// Two panels: the calls per second above, for scale, and the retries and hedges per
/// second below on their own axis (they are often a hundredth of the calls, and would
/// lie flat on the calls' axis).
fn retries_chart(
    names: &mut Names,
    edge: &str,
    series: &Series,
    dur_s: f64,
    windows: &[Window],
    retries: bool,
    hedges: bool,
) -> Chart {
    let xs = times_s(series);
    let calls = rate_values(series, Scope::Call, edge, "calls");
    let mut extra = Vec::new();
    if retries {
        extra.push(("retries", rate_values(series, Scope::Call, edge, "retries"), VERMILLION));
    }
    if hedges {
        extra.push(("hedges", rate_values(series, Scope::Call, edge, "hedges"), BLUE));
    }
    let mut top =
        Panel::new(Axis::time(dur_s), Axis::linear(total_max(&calls), 1.0, "calls/s"), windows.to_vec());
    top.heading = Some("calls per second".into());
    top.x_desc = false;
    top.layers.push(Layer::Line { pts: xs.iter().copied().zip(calls).collect(), color: GREY, width: 2 });
    let max = extra.iter().map(|l| total_max(&l.1)).fold(0.0, f64::max);
    let mut bottom = Panel::new(Axis::time(dur_s), Axis::linear(max, 1.0, "requests/s"), windows.to_vec());
    bottom.window_labels = false;
    let mut legend = vec![legend_line("calls", GREY)];
    let what = match (retries, hedges) {
        (true, true) => "retries and hedged requests",
        (true, false) => "retries",
        _ => "hedged requests",
    };
    bottom.heading = Some(format!("{what} per second"));
    for (label, v, color) in extra {
        legend.push(legend_line(label, color));
        bottom.layers.push(Layer::Line { pts: xs.iter().copied().zip(v).collect(), color, width: 2 });
    }
    let title = format!("Retries and hedges over time: {edge}");
    Chart {
        file: names.file("retries", edge),
        svg: render(&title, &legend, &[top, bottom], 1, 205),
        title,
        caption: format!("How many {what} did {edge} send on top of its calls, and when?"),
    }
}

fn services_chart(names: &mut Names, spec: &Spec, series: &Series, dur_s: f64, windows: &[Window]) -> Chart {
    let xs = times_s(series);
    let n = spec.services.len();
    let mut panels = Vec::new();
    for (i, s) in spec.services.iter().enumerate() {
        let q = column_values(series, Scope::Service, &s.name, "queue_len");
        let u: Vec<f64> = column_values(series, Scope::Service, &s.name, "utilization")
            .into_iter()
            .map(|v| v * 100.0)
            .collect();
        let last = i + 1 == n;
        let mut qp = Panel::new(Axis::time(dur_s), Axis::count(total_max(&q), "queued"), windows.to_vec());
        qp.heading = Some(format!("{}: queue length (requests)", s.name));
        qp.layers.push(Layer::Line { pts: xs.iter().copied().zip(q).collect(), color: PURPLE, width: 2 });
        let mut up =
            Panel::new(Axis::time(dur_s), Axis::linear(total_max(&u), 100.0, "busy (%)"), windows.to_vec());
        up.heading = Some(format!("{}: worker utilisation (%)", s.name));
        up.layers.push(Layer::Line { pts: xs.iter().copied().zip(u).collect(), color: GREEN, width: 2 });
        for p in [&mut qp, &mut up] {
            p.window_labels = i == 0;
            p.x_desc = last;
        }
        panels.push(qp);
        panels.push(up);
    }
    let title = "Queue length and utilisation per service".to_string();
    // The first row carries the window labels and the last the axis title: give them
    // room by making every row as tall as the tallest needs.
    let row_h = 190;
    Chart {
        file: names.file("services", ""),
        svg: render(&title, &[], &panels, 2, row_h),
        title,
        caption: "Which services queued requests or ran out of workers, and when?".into(),
    }
}

// ---- comparison charts ---------------------------------------------------------------

/// Overlay charts of a comparison, one line per variant: per workload its percentile
/// spectrum (histograms merged across seeds), its goodput over time and its p99 over
/// time (both the mean across seeds of each interval).
pub fn compare_charts(variants: &[VariantRuns]) -> Vec<Chart> {
    let mut names = Names::default();
    let mut charts = Vec::new();
    // Workloads by name, in the order the variants list them.
    let mut workloads: Vec<String> = Vec::new();
    for v in variants {
        for w in &v.spec.workloads {
            if !workloads.contains(&w.name) {
                workloads.push(w.name.clone());
            }
        }
    }
    let dur_ns = variants.iter().map(|v| v.spec.duration_ns).max().unwrap_or(0);
    let warmup_ns = variants.iter().map(|v| v.spec.warmup_ns).min().unwrap_or(0);
    let mut spans: Vec<(Nanos, Nanos, String)> = Vec::new();
    for v in variants {
        for s in fault_spans(&v.spec) {
            if !spans.contains(&s) {
                spans.push(s);
            }
        }
    }
    let windows = windows_of(&spans, warmup_ns, dur_ns);
    let dur_s = dur_ns as f64 / NS_PER_S as f64;
    let legend: Vec<LegendItem> = variants
        .iter()
        .enumerate()
        .map(|(i, v)| legend_line(v.name.clone(), SERIES_PALETTE[i % SERIES_PALETTE.len()]))
        .collect();

    for wl in &workloads {
        // Spectrum of the merged histograms.
        let empty = LatencyHist::default();
        let merged: Vec<(String, &LatencyHist)> = variants
            .iter()
            .map(|v| {
                let h = v.spec.workloads.iter().position(|w| &w.name == wl).map(|i| &v.workloads[i].latency);
                (v.name.clone(), h.unwrap_or(&empty))
            })
            .collect();
        charts.push(spectrum_chart(
            &mut names,
            "compare-spectrum",
            wl,
            &format!("Latency by percentile: {wl}, by variant"),
            &format!("Which variant gives {wl} the lowest latency at each percentile, tail included (all seeds merged)?"),
            &merged,
        ));

        let goodput: Vec<Vec<(f64, f64)>> =
            variants.iter().map(|v| mean_over_seeds(v, wl, Metric::Goodput)).collect();
        let max = goodput.iter().flatten().map(|p| p.1).filter(|v| v.is_finite()).fold(0.0, f64::max);
        let mut panel =
            Panel::new(Axis::time(dur_s), Axis::linear(max * 1.05, 1.0, "ok requests/s"), windows.clone());
        for (i, pts) in goodput.into_iter().enumerate() {
            panel.layers.push(Layer::Line { pts, color: SERIES_PALETTE[i % SERIES_PALETTE.len()], width: 2 });
        }
        let title = format!("Goodput over time: {wl}, by variant");
        charts.push(Chart {
            file: names.file("compare-goodput", wl),
            svg: render(&title, &legend, std::slice::from_ref(&panel), 1, single_row_h(&legend)),
            title,
            caption: format!(
                "Which variant keeps the most of {wl}'s requests succeeding through each fault (mean over seeds per interval)?"
            ),
        });

        let p99: Vec<Vec<(f64, f64)>> =
            variants.iter().map(|v| mean_over_seeds(v, wl, Metric::P99)).collect();
        let y = Axis::latency(p99.iter().flatten().map(|p| p.1));
        let mut panel = Panel::new(Axis::time(dur_s), y, windows.clone());
        for (i, pts) in p99.into_iter().enumerate() {
            panel.layers.push(Layer::Line { pts, color: SERIES_PALETTE[i % SERIES_PALETTE.len()], width: 2 });
        }
        let title = format!("p99 latency over time: {wl}, by variant");
        charts.push(Chart {
            file: names.file("compare-p99", wl),
            svg: render(&title, &legend, std::slice::from_ref(&panel), 1, single_row_h(&legend)),
            title,
            caption: format!(
                "Which variant keeps {wl}'s 99th-percentile latency lowest, and which recovers fastest after a fault \
                 (mean over seeds per interval)?"
            ),
        });
    }
    charts
}

/// Height of the single row of a chart with this legend, so that the whole chart is
/// `HEIGHT` pixels high (more when the legend needs several rows).
fn single_row_h(legend: &[LegendItem]) -> u32 {
    let rows = legend_layout(legend, WIDTH as i32 - 32).1;
    let top = TITLE_H + rows * LEGEND_ROW_H + if rows > 0 { 4 } else { 0 };
    (HEIGHT as i32 - top).max(330) as u32
}

#[derive(Clone, Copy)]
enum Metric {
    Goodput,
    P99,
}

/// `(interval end in s, mean over the seeds that have a value)`; `NaN` where none has.
/// A workload the variant does not have reads as no successes and no latency.
fn mean_over_seeds(v: &VariantRuns, wl: &str, m: Metric) -> Vec<(f64, f64)> {
    if v.runs == 0 {
        return Vec::new();
    }
    let fold = v.spec.workloads.iter().position(|w| w.name == wl).map(|i| &v.workloads[i]);
    (0..v.n)
        .map(|i| {
            let (sum, count) = match (fold, m) {
                (Some(f), Metric::Goodput) => f.goodput[i],
                (Some(f), Metric::P99) => f.p99[i],
                (None, Metric::Goodput) => (0.0, v.runs),
                (None, Metric::P99) => (0.0, 0),
            };
            (v.xs[i], if count == 0 { f64::NAN } else { sum / count as f64 })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_and_labels() {
        let a = Axis::time(180.0);
        assert_eq!(a.ticks.len(), 10);
        assert_eq!(a.label(a.ticks[9]), "180");
        let l = Axis::log(18.0, 900.0, "x");
        let labels: Vec<String> = l.ticks.iter().map(|t| l.label(*t)).collect();
        assert_eq!(labels, ["10", "20", "50", "100", "200", "500", "1000"]);
        let l = Axis::log(2.3, 2100.0, "x");
        let labels: Vec<String> = l.ticks.iter().map(|t| l.label(*t)).collect();
        assert_eq!(labels, ["1", "10", "100", "1000", "10000"]);
        let p = Axis::percentile(4);
        let labels: Vec<String> = p.ticks.iter().map(|t| p.label(*t)).collect();
        assert_eq!(labels, ["0%", "50%", "90%", "99%", "99.9%", "99.99%"]);
        assert_eq!(Axis::linear(0.0, 1.0, "").ticks.last(), Some(&1.0));
        assert_eq!(Axis::linear(f64::NAN, 1.0, "").ticks.last(), Some(&1.0));
        assert_eq!(Axis::count(0.0, "").ticks, [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!(Axis::linear(4973.0, 1.0, "").ticks.last(), Some(&5000.0));
        assert_eq!(slug("client:shoppers->gateway.checkout"), "client-shoppers-gateway-checkout");
    }
}
