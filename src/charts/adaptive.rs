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
        // A limit that swings over more than a factor of 20 (Envoy's gradient controller
        // between its floor of 3 and 1000) reads on a log scale; the requests beside it
        // stay linear.
        let low = limit.iter().copied().filter(|v| v.is_finite() && *v > 0.0).fold(f64::INFINITY, f64::min);
        let log = low.is_finite() && top / low.min(workers) >= 20.0;
        let axis = if log {
            Axis::log(low.min(workers).max(1.0), top, "requests (log)")
        } else {
            Axis::count(top, "requests")
        };
        let mut lp = Panel::new(Axis::time(dur_s), axis, windows.to_vec());
        lp.heading = Some(format!(
            "{}: adaptive limit at interval ends (grey: {} workers){}",
            s.name,
            workers,
            if log { ", log" } else { "" }
        ));
        lp.layers.push(Layer::Line {
            pts: vec![(ends.0, workers), (ends.1, workers)],
            color: GREY,
            width: 1,
        });
        lp.layers.push(Layer::Line { pts: xs.iter().copied().zip(limit).collect(), color: BLUE, width: 2 });
        // On a log-scaled limit the requests get their own linear scale (else the
        // limit's 1000 would flatten them).
        let ip_top = if log { total_max(&inside).max(workers) } else { top };
        let mut ip = Panel::new(Axis::time(dur_s), Axis::count(ip_top, "requests"), windows.to_vec());
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
