//! Shed requests per second by priority: per class (critical, default, sheddable), the
//! sum of the series' `shed` columns of the workloads of that priority, one line each.
//! Drawn when the series has the columns (a workload sets a priority or a service
//! sheds) and something was shed.

use super::axis::Axis;
use super::data::{rate_values, times_s, total, total_max};
use super::panel::{Layer, Panel, Window, legend_line};
use super::render::{render, single_row_h};
use super::style::{BLUE, ORANGE, VERMILLION};
use super::{Chart, Names};
use crate::metrics::{Scope, Series};
use crate::spec::{Priority, Spec};

/// The chart, or `None` when nothing was shed (or the series has no `shed` columns).
pub(super) fn shed_chart(
    names: &mut Names,
    spec: &Spec,
    series: &Series,
    dur_s: f64,
    windows: &[Window],
) -> Option<Chart> {
    let classes =
        [(Priority::Critical, BLUE), (Priority::Default, ORANGE), (Priority::Sheddable, VERMILLION)];
    let xs = times_s(series);
    let mut lines = Vec::new();
    for (p, color) in classes {
        let wls: Vec<&str> = spec
            .workloads
            .iter()
            .filter(|w| w.priority.unwrap_or_default() == p)
            .map(|w| w.name.as_str())
            .filter(|n| series.column(Scope::Workload, n, "shed").is_some())
            .collect();
        if wls.is_empty() {
            continue;
        }
        let mut sum = vec![0.0; xs.len()];
        for w in &wls {
            for (s, v) in sum.iter_mut().zip(rate_values(series, Scope::Workload, w, "shed")) {
                *s += v;
            }
        }
        lines.push((p, color, wls.len(), sum));
    }
    if lines.iter().all(|l| total(&l.3) <= 0.0) {
        return None;
    }
    let max = lines.iter().map(|l| total_max(&l.3)).fold(0.0, f64::max);
    let mut panel = Panel::new(Axis::time(dur_s), Axis::linear(max * 1.05, 1.0, "shed/s"), windows.to_vec());
    let mut legend = Vec::new();
    for (p, color, n, sum) in lines {
        let label = format!("{} ({n} workload{})", p.name(), if n == 1 { "" } else { "s" });
        legend.push(legend_line(label, color));
        panel.layers.push(Layer::Line { pts: xs.iter().copied().zip(sum).collect(), color, width: 2 });
    }
    let title = "Shed per second by priority".to_string();
    Some(Chart {
        file: names.file("shed", ""),
        svg: render(&title, &legend, &[panel], 1, single_row_h(&legend)),
        title,
        caption: "Which priorities did the shedders refuse or drop, and when? Executions of each class's call trees \
                  shed per second (under utilization at arrival, under queue_delay at dequeue; a request shed, \
                  retried and shed again counts twice), every interval of the run, warm-up included."
            .into(),
    })
}
