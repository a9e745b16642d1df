//! Adaptive concurrency on the services chart: per service with the filter, its limit
//! (the series' `concurrency_limit`, summed over its replicas) against its workers
//! (grey: replicas × concurrency), and the requests in its replicas (busy + queued).

use super::axis::Axis;
use super::data::{column_values, times_s, total_max};
use super::panel::{Layer, Panel, Window};
use super::style::{BLUE, GREY, PURPLE};
use crate::metrics::{Scope, Series};
use crate::spec::Spec;

pub(super) fn adaptive_panels(spec: &Spec, series: &Series, dur_s: f64, windows: &[Window]) -> Vec<Panel> {
    let xs = times_s(series);
    let mut panels = Vec::new();
    for s in &spec.services {
        if series.column(Scope::Service, &s.name, "concurrency_limit").is_none() {
            continue;
        }
        let limit = column_values(series, Scope::Service, &s.name, "concurrency_limit");
        let busy = column_values(series, Scope::Service, &s.name, "busy");
        let queued = column_values(series, Scope::Service, &s.name, "queue_len");
        let inside: Vec<f64> = busy.iter().zip(&queued).map(|(b, q)| b + q).collect();
        let workers = f64::from(s.replicas) * f64::from(s.concurrency);
        let ends = (xs.first().copied().unwrap_or(0.0), xs.last().copied().unwrap_or(dur_s));
        let top = total_max(&limit).max(total_max(&inside)).max(workers);
        let mut lp = Panel::new(Axis::time(dur_s), Axis::count(top, "requests"), windows.to_vec());
        lp.heading = Some(format!("{}: adaptive concurrency limit (grey: {} workers)", s.name, workers));
        lp.layers.push(Layer::Line {
            pts: vec![(ends.0, workers), (ends.1, workers)],
            color: GREY,
            width: 1,
        });
        lp.layers.push(Layer::Line { pts: xs.iter().copied().zip(limit).collect(), color: BLUE, width: 2 });
        let mut ip = Panel::new(Axis::time(dur_s), Axis::count(top, "requests"), windows.to_vec());
        ip.heading = Some(format!("{}: requests in the replicas (busy + queued)", s.name));
        ip.layers.push(Layer::Line {
            pts: xs.iter().copied().zip(inside).collect(),
            color: PURPLE,
            width: 2,
        });
        for p in [&mut lp, &mut ip] {
            p.window_labels = false;
        }
        panels.push(lp);
        panels.push(ip);
    }
    panels
}
