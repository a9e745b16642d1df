//! Overlay charts of a comparison, one line per variant.

use super::axis::Axis;
use super::fold::{Metric, VariantRuns, mean_over_seeds};
use super::panel::{Layer, LegendItem, Panel, fault_spans, legend_line, windows_of};
use super::render::{render, single_row_h};
use super::spectrum::spectrum_chart;
use super::style::SERIES_PALETTE;
use super::{Chart, Names};
use crate::metrics::LatencyHist;
use crate::spec::{NS_PER_S, Nanos};

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
