//! What a panel draws: its axes, layers (lines, bands, rectangles), legend items and
//! the shaded windows of the warm-up and each fault.

use super::axis::Axis;
use super::style::{WARMUP_COLORS, WINDOW_COLORS};
use crate::spec::{FaultKind, NS_PER_S, Nanos, Spec};
use plotters::prelude::{Color, RGBAColor, RGBColor};

#[derive(Clone, Copy, Debug)]
pub(super) enum Swatch {
    Line,
    Area,
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

/// A shaded time window (a fault, or the warm-up).
#[derive(Clone, Debug)]
pub(super) struct Window {
    pub(super) x0: f64,
    pub(super) x1: f64,
    pub(super) label: String,
    pub(super) fill: RGBAColor,
    pub(super) ink: RGBColor,
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

/// The shaded windows of a run: the warm-up, then each fault clipped to the run. A
/// crash lasts from its start to its restart if the replica restarts, else to the end.
pub(super) fn windows_of(
    faults: &[(Nanos, Nanos, String)],
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
    windows_of(&fault_spans(spec), spec.warmup_ns, spec.duration_ns)
}
