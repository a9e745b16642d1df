//! The chart of a cache step: its hit ratio per interval, and the reads per second that
//! found their value, missed or failed. Misses (and, under `on_cache_error: "miss"`,
//! errors) are what falls through to the database: after a restart, the ramp of the hit
//! ratio and the misses beside it are the thundering herd.

use super::axis::Axis;
use super::data::{column_points, rate_values, times_s};
use super::panel::{Layer, Panel, Window, legend_line};
use super::render::render;
use super::style::{BLUE, DARK_RED, GREEN, ORANGE};
use super::{Chart, Names};
use crate::metrics::{Scope, Series};

pub(super) fn cache_chart(
    names: &mut Names,
    step: &str,
    series: &Series,
    dur_s: f64,
    windows: &[Window],
) -> Chart {
    let mut top =
        Panel::new(Axis::time(dur_s), Axis::linear(100.0, 100.0, "hit ratio (%)"), windows.to_vec());
    top.heading = Some("hit ratio (% of the reads answered in each interval)".into());
    top.x_desc = false;
    top.layers.push(Layer::Line {
        pts: column_points(series, Scope::Cache, step, "hit_ratio", 1.0),
        color: BLUE,
        width: 2,
    });
    let times = times_s(series);
    let rate = |m: &str| -> Vec<(f64, f64)> {
        times.iter().copied().zip(rate_values(series, Scope::Cache, step, m)).collect()
    };
    let mut lines = vec![("hits/s", rate("hits"), GREEN), ("misses/s", rate("misses"), ORANGE)];
    let errors = rate("errors");
    if errors.iter().any(|q| q.1 > 0.0) {
        lines.push(("errors/s", errors, DARK_RED));
    }
    let max =
        lines.iter().flat_map(|l| l.1.iter().map(|q| q.1)).filter(|v| v.is_finite()).fold(0.0, f64::max);
    let mut bottom = Panel::new(Axis::time(dur_s), Axis::linear(max, 1.0, "reads/s"), windows.to_vec());
    bottom.heading = Some("reads per second".into());
    bottom.window_labels = false;
    let mut legend = vec![legend_line("hit ratio", BLUE)];
    for (label, pts, color) in lines {
        legend.push(legend_line(label, color));
        bottom.layers.push(Layer::Line { pts, color, width: 2 });
    }
    if series.ends.is_empty() {
        top.note = Some("no intervals recorded".into());
    }
    let title = format!("Cache hit ratio over time: {step}");
    Chart {
        file: names.file("cache", step),
        svg: render(&title, &legend, &[top, bottom], 1, 205),
        title,
        caption: format!(
            "What share of the reads of cache step {step} found their value, and how many fell through \
             (misses, and errors under on_cache_error \"miss\") to its on_miss steps, the database?"
        ),
    }
}
