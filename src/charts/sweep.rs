//! The charts of a sweep (`faultline sweep`): a figure against one parameter as a line
//! with its 95% confidence band, in one panel or as small multiples (one panel per
//! value of the other parameters), and a heatmap over two parameters whose cells are
//! filled when the point is feasible (every threshold held on every seed) and hollow
//! when not. Takes plain numbers; knows nothing of runs or summaries.

use super::Chart;
use super::axis::Axis;
use super::panel::{Layer, Panel, legend_area, legend_line};
use super::render::render;
use super::style::{BLUE, GREY, INK};
use plotters::prelude::{Color, RGBColor};

/// One panel of a line chart: its heading (small multiples) and, per x category, the
/// mean and the half-width of its 95% interval (NaN: not measured).
#[derive(Clone, Debug)]
pub struct SweepLine {
    pub heading: Option<String>,
    pub mean: Vec<f64>,
    pub ci95: Vec<f64>,
}

/// Most panels of one chart of small multiples.
pub const MAX_PANELS: usize = 24;

fn axis_for(values: impl Iterator<Item = f64>, desc: &str) -> Axis {
    let max = values.filter(|v| v.is_finite()).fold(0.0f64, f64::max);
    Axis::linear(max, 1e-9, desc)
}

/// A line chart of a figure over the categories `x` (a parameter's values, evenly
/// spaced, so a log range reads on a log scale), one panel per [`SweepLine`] (at most
/// [`MAX_PANELS`]), with the 95% band.
pub fn sweep_line_chart(
    file: &str,
    title: &str,
    caption: &str,
    x: (&[String], &str),
    y_desc: &str,
    lines: &[SweepLine],
) -> Chart {
    let names: Vec<&str> = x.0.iter().map(String::as_str).collect();
    let lines = &lines[..lines.len().min(MAX_PANELS)];
    let y =
        axis_for(lines.iter().flat_map(|l| l.mean.iter().zip(&l.ci95).map(|(m, h)| m + h.max(0.0))), y_desc);
    let xs: Vec<f64> = (0..names.len()).map(|i| i as f64).collect();
    let band = BLUE.mix(0.2);
    let panels: Vec<Panel> = lines
        .iter()
        .map(|l| {
            let mut p = Panel::new(Axis::categories(&names, x.1), y.clone(), Vec::new());
            p.heading = l.heading.clone();
            let ci = |i: usize| if l.ci95[i].is_finite() { l.ci95[i] } else { 0.0 };
            let lower: Vec<f64> = (0..xs.len()).map(|i| (l.mean[i] - ci(i)).max(0.0)).collect();
            let upper: Vec<f64> = (0..xs.len()).map(|i| l.mean[i] + ci(i)).collect();
            p.layers.push(Layer::Band { xs: xs.clone(), lower, upper, color: band });
            let pts: Vec<(f64, f64)> = xs.iter().zip(&l.mean).map(|(x, m)| (*x, *m)).collect();
            p.layers.push(Layer::Line { pts, color: BLUE, width: 2 });
            if l.mean.iter().all(|m| m.is_nan()) {
                p.note = Some("nothing measured".into());
            }
            p
        })
        .collect();
    let legend = vec![legend_line("mean over seeds", BLUE), legend_area("95% confidence interval", band)];
    let cols = if panels.len() <= 1 { 1 } else { 2 };
    let row_h = if panels.len() <= 1 { 360 } else { 240 };
    Chart {
        file: file.into(),
        title: title.into(),
        svg: render(title, &legend, &panels, cols, row_h),
        caption: caption.into(),
    }
}

/// Light to dark blue as `t` goes from 0 to 1.
fn shade(t: f64) -> RGBColor {
    let t = if t.is_finite() { t.clamp(0.0, 1.0) } else { 0.0 };
    let mix = |a: u8, b: u8| (a as f64 + (b as f64 - a as f64) * t).round() as u8;
    RGBColor(mix(222, 8), mix(235, 48), mix(247, 107))
}

/// A heatmap of a figure over two parameters: `values[j][i]` at `x.0[i]`, `y.0[j]`;
/// `feasible[j][i]`: `Some(false)` draws the cell hollow (a threshold failed on some
/// seed), `Some(true)` or `None` (no thresholds) filled. Darker is larger.
pub fn sweep_heatmap(
    file: &str,
    title: &str,
    caption: &str,
    x: (&[String], &str),
    y: (&[String], &str),
    values: &[Vec<f64>],
    feasible: &[Vec<Option<bool>>],
) -> Chart {
    let xn: Vec<&str> = x.0.iter().map(String::as_str).collect();
    let yn: Vec<&str> = y.0.iter().map(String::as_str).collect();
    let finite = values.iter().flatten().copied().filter(|v| v.is_finite());
    let (lo, hi) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
    let mut rects = Vec::new();
    for (j, row) in values.iter().enumerate() {
        for (i, v) in row.iter().enumerate() {
            let (x0, x1, y0, y1) = (i as f64 - 0.48, i as f64 + 0.48, j as f64 - 0.48, j as f64 + 0.48);
            let t = if hi > lo { (v - lo) / (hi - lo) } else { 0.5 };
            let fill = if v.is_finite() { shade(t) } else { RGBColor(235, 235, 235) };
            rects.push((x0, x1, y0, y1, fill));
            if feasible.get(j).and_then(|r| r.get(i)).copied().flatten() == Some(false) {
                rects.push((x0 + 0.16, x1 - 0.16, y0 + 0.16, y1 - 0.16, RGBColor(255, 255, 255)));
            }
        }
    }
    // Each cell's mean written in it, dark on light and light on dark (on a hollow
    // cell's white centre, dark), where it fits.
    let mut labels = Vec::new();
    for (j, row) in values.iter().enumerate() {
        for (i, v) in row.iter().enumerate() {
            let hollow = feasible.get(j).and_then(|r| r.get(i)).copied().flatten() == Some(false);
            let t = if hi > lo { (v - lo) / (hi - lo) } else { 0.5 };
            let ink = if v.is_finite() && !hollow && t > 0.45 { RGBColor(255, 255, 255) } else { INK };
            labels.push((i as f64, j as f64, if v.is_finite() { sig4(*v) } else { "–".into() }, ink));
        }
    }
    let mut p = Panel::new(Axis::categories(&xn, x.1), Axis::categories(&yn, y.1), Vec::new());
    p.layers.push(Layer::Rects(rects));
    p.layers.push(Layer::Labels { width: 0.96 - 0.32, items: labels });
    let judged = feasible.iter().flatten().any(Option::is_some);
    let mut legend = vec![legend_area(
        format!(
            "{}darker is larger ({} to {})",
            if judged { "filled: feasible · " } else { "" },
            sig4(lo),
            sig4(hi)
        ),
        shade(0.7).to_rgba(),
    )];
    if judged {
        legend.push(legend_area("hollow: a threshold failed on some seed", GREY.mix(0.3)));
    }
    let row_h = (120 + 36 * yn.len() as u32).clamp(240, 720);
    Chart {
        file: file.into(),
        title: title.into(),
        svg: render(title, &legend, &[p], 1, row_h),
        caption: caption.into(),
    }
}

/// Four significant digits at most, no trailing zeros (`191.3`, `57.07`, `1234`).
fn sig4(v: f64) -> String {
    if !v.is_finite() {
        return "-".into();
    }
    if v == 0.0 {
        return "0".into();
    }
    let d = (3 - v.abs().log10().floor() as i32).clamp(0, 3) as usize;
    let s = format!("{v:.d$}");
    if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s }
}
