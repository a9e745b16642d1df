//! What a panel draws: its axes, layers (lines, bands, rectangles), legend items, the
//! shaded windows of the warm-up and each fault, and the rules of the load steps.

use super::axis::Axis;
use super::style::{STEP_INK, WARMUP_COLORS, WINDOW_COLORS};
use crate::spec::{FaultKind, NS_PER_S, Nanos, RateChange, Spec};
use plotters::prelude::{Color, RGBAColor, RGBColor};

#[derive(Clone, Copy, Debug)]
pub(super) enum Swatch {
    Line,
    Area,
    /// A thin vertical rule (a load step).
    Rule,
}

#[derive(Clone, Debug)]
pub(super) struct LegendItem {
    pub(super) label: String,
    pub(super) color: RGBAColor,
    pub(super) swatch: Swatch,
}

pub(super) fn legend_line(label: impl Into<String>, color: RGBColor) -> LegendItem {
    LegendItem { label: label.into(), color: color.to_rgba(), swatch: Swatch::Line }
}

pub(super) fn legend_area(label: impl Into<String>, color: RGBAColor) -> LegendItem {
    LegendItem { label: label.into(), color, swatch: Swatch::Area }
}

/// Something drawn in data units (before the axis mapping).
#[derive(Clone, Debug)]
pub(super) enum Layer {
    /// A polyline broken at `NaN` values; isolated points are drawn as dots.
    Line { pts: Vec<(f64, f64)>, color: RGBColor, width: u32 },
    /// The region between two curves over the same x values.
    Band { xs: Vec<f64>, lower: Vec<f64>, upper: Vec<f64>, color: RGBAColor },
    /// Rectangles `(x0, x1, y0, y1, colour)`.
    Rects(Vec<(f64, f64, f64, f64, RGBColor)>),
    /// Text centred at `(x, y)` in a cell `width` wide (data units), drawn only where it
    /// fits that cell with room to spare (a heatmap's values).
    Labels { width: f64, items: Vec<(f64, f64, String, RGBColor)> },
}

/// A shaded time window (a fault, or the warm-up), or, when `rule`, an instant drawn
/// as a thin vertical rule (a workload's load step: `x1 == x0`, no fill).
#[derive(Clone, Debug)]
pub(super) struct Window {
    pub(super) x0: f64,
    pub(super) x1: f64,
    pub(super) label: String,
    pub(super) fill: RGBAColor,
    pub(super) ink: RGBColor,
    pub(super) rule: bool,
}

#[derive(Clone, Debug)]
pub(super) struct Panel {
    /// Small heading inside the panel (small multiples).
    pub(super) heading: Option<String>,
    pub(super) x: Axis,
    pub(super) y: Axis,
    pub(super) layers: Vec<Layer>,
    pub(super) windows: Vec<Window>,
    /// Whether this panel prints the windows' labels above its plot area.
    pub(super) window_labels: bool,
    /// Whether this panel writes its x axis description.
    pub(super) x_desc: bool,
    /// A message drawn in the middle of the plot (e.g. "no completed requests").
    pub(super) note: Option<String>,
}

impl Panel {
    pub(super) fn new(x: Axis, y: Axis, windows: Vec<Window>) -> Panel {
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

/// The shaded windows of a run: the warm-up, then each fault clipped to the run (a
/// crash lasts from its start to its restart if the replica restarts, else to the
/// end), then a rule at each load step `(at, label)` inside the run.
pub(super) fn windows_of(
    faults: &[(Nanos, Nanos, String)],
    steps: &[(Nanos, String)],
    warmup_ns: Nanos,
    duration_ns: Nanos,
) -> Vec<Window> {
    let mut out = Vec::new();
    if warmup_ns > 0 && duration_ns > 0 {
        let (RGBColor(r, g, b), ink) = WARMUP_COLORS;
        out.push(Window {
            x0: 0.0,
            x1: warmup_ns.min(duration_ns) as f64 / NS_PER_S as f64,
            label: "warm-up".into(),
            fill: RGBAColor(r, g, b, 0.45),
            ink,
            rule: false,
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
            rule: false,
        });
    }
    for (at, label) in steps {
        // A step at 0 sets the rate the run starts with: nothing changes there.
        if *at == 0 || *at >= duration_ns {
            continue;
        }
        let x = *at as f64 / NS_PER_S as f64;
        let RGBColor(r, g, b) = STEP_INK;
        out.push(Window {
            x0: x,
            x1: x,
            label: label.clone(),
            fill: RGBAColor(r, g, b, 1.0),
            ink: STEP_INK,
            rule: true,
        });
    }
    out
}

/// Each workload's load steps (its `schedule`), `(at, label)` in file order: `buyers →
/// 180/s` at the step's `at`, `buyers → 180/s over 5 s` for a ramp (which starts there).
pub(super) fn step_marks(spec: &Spec) -> Vec<(Nanos, String)> {
    spec.workloads.iter().flat_map(|w| w.schedule.iter().map(|c| (c.at_ns, step_label(&w.name, c)))).collect()
}

pub(super) fn step_label(workload: &str, c: &RateChange) -> String {
    let ramp = if c.ramp_ns > 0 { format!(" over {}", short_secs(c.ramp_ns)) } else { String::new() };
    format!("{workload} → {}/s{ramp}", short_num(c.rate_per_s))
}

/// At most three decimals, no trailing zeros: `525`, `0.5`, `33.333`.
fn short_num(x: f64) -> String {
    let s = format!("{x:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.to_string() }
}

/// `5 s`, `1.5 s`, `250 ms`.
fn short_secs(ns: Nanos) -> String {
    if ns >= NS_PER_S {
        format!("{} s", short_num(ns as f64 / NS_PER_S as f64))
    } else {
        format!("{} ms", short_num(ns as f64 / 1e6))
    }
}

/// Each fault's `(start, end, label)` in nanoseconds, end unclipped.
pub(super) fn fault_spans(spec: &Spec) -> Vec<(Nanos, Nanos, String)> {
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

pub(super) fn run_windows(spec: &Spec) -> Vec<Window> {
    windows_of(&fault_spans(spec), &step_marks(spec), spec.warmup_ns, spec.duration_ns)
}
