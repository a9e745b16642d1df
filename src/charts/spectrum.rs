//! The percentile spectrum: latency against `1/(1−p)` on log axes, of one run or of
//! each variant's merged histogram.

use super::axis::Axis;
use super::panel::{Layer, Panel, legend_line};
use super::render::{render, single_row_h};
use super::style::{BLUE, SERIES_PALETTE};
use super::{Chart, Names};
use crate::metrics::LatencyHist;

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
pub(super) fn spectrum_decades(count: u64) -> u32 {
    if count >= 100_000 { 5 } else { 4 }
}

/// One line per `(label, histogram)`; no legend when there is a single unlabelled line.
pub(super) fn spectrum_chart(
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
