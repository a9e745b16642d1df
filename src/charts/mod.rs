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

mod adaptive;
mod autoscale;
mod axis;
mod bulkhead;
mod cache;
mod compare;
mod data;
mod fold;
mod panel;
mod queue;
mod render;
mod run;
mod services;
mod shed;
mod spectrum;
mod style;
mod sweep;
mod time;
mod tune;

pub use compare::{compare_charts, comparison_charts};
pub use data::{LagPoints, LatencyPoints, SagaPoints, lag_points, latency_points, saga_points};
pub use fold::{RunCharts, VariantRuns};
pub use run::run_charts;
pub use spectrum::spectrum_points;
pub use sweep::{MAX_PANELS, SweepLine, sweep_heatmap, sweep_line_chart};
pub use tune::{TuneClass, tune_race, tune_scatter};

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

#[cfg(test)]
mod tests {
    use super::axis::Axis;
    use super::*;

    #[test]
    fn count_axes_tick_at_whole_numbers() {
        for (max, ticks) in
            [(12.0, vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0, 12.0]), (3.0, vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0])]
        {
            assert_eq!(Axis::count(max, "replicas").ticks, ticks, "{max}");
        }
        for max in [7.0, 11.0, 23.0, 120.0, 1234.0] {
            let a = Axis::count(max, "n");
            assert!(
                a.ticks.iter().all(|t| t.fract() == 0.0) && *a.ticks.last().unwrap() >= max,
                "{max}: {:?}",
                a.ticks
            );
        }
    }

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
        assert_eq!(labels, ["1", "10", "100", "1000", "10,000"]);
        let l = Axis::log(90.0, 150_000.0, "x");
        let labels: Vec<String> = l.ticks.iter().map(|t| l.label(*t)).collect();
        assert_eq!(labels, ["10", "100", "1000", "10,000", "100,000", "1,000,000"]);
        let a = Axis::linear(123_456.0, 1.0, "");
        assert_eq!(a.label(*a.ticks.last().unwrap()), "125,000");
        assert_eq!(Axis::linear(4973.0, 1.0, "").label(5000.0), "5000");
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
