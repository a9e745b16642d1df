//! The services chart of one run: per service its queue per replica and its worker
//! utilisation, then the autoscaling, adaptive concurrency and bulkhead panels, with the
//! warm-up and the faults shaded.

use super::Chart;
use super::Names;
use super::axis::Axis;
use super::data::{column_values, interval_words, times_s, total_max};
use super::panel::{Layer, Panel, Window};
use super::render::render;
use super::style::{GREEN, PURPLE};
use crate::metrics::{Scope, Series};
use crate::spec::Spec;

pub(super) fn services_chart(
    names: &mut Names,
    spec: &Spec,
    series: &Series,
    dur_s: f64,
    windows: &[Window],
) -> Chart {
    let xs = times_s(series);
    let n = spec.services.len();
    let mut panels = Vec::new();
    for (i, s) in spec.services.iter().enumerate() {
        // The series holds the queues of all replicas together; the tables' `queue max`
        // is one replica's. Divided by the replicas, the chart is per replica too.
        // An autoscaled service's replicas change: each interval is divided by the
        // replicas serving at its end (its `replicas` column).
        let per: Vec<f64> = match &s.autoscale {
            Some(_) => column_values(series, Scope::Service, &s.name, "replicas")
                .into_iter()
                .map(|r| r.max(1.0))
                .collect(),
            None => vec![f64::from(s.replicas.max(1)); series.ends.len()],
        };
        let q: Vec<f64> = column_values(series, Scope::Service, &s.name, "queue_len")
            .into_iter()
            .zip(per.iter().chain(std::iter::repeat(&1.0)))
            .map(|(v, p)| v / p)
            .collect();
        let u: Vec<f64> = column_values(series, Scope::Service, &s.name, "utilization")
            .into_iter()
            .map(|v| v * 100.0)
            .collect();
        let last = i + 1 == n;
        let q_desc = if s.replicas > 1 { "queued per replica" } else { "queued" };
        let mut qp = Panel::new(Axis::time(dur_s), Axis::count(total_max(&q), q_desc), windows.to_vec());
        qp.heading = Some(if s.autoscale.is_some() {
            format!("{}: queue per replica (÷ the replicas serving at the time)", s.name)
        } else if s.replicas > 1 {
            format!("{}: queue per replica (all {} queues ÷ {})", s.name, s.replicas, s.replicas)
        } else {
            format!("{}: queue length (requests)", s.name)
        });
        qp.layers.push(Layer::Line { pts: xs.iter().copied().zip(q).collect(), color: PURPLE, width: 2 });
        let mut up =
            Panel::new(Axis::time(dur_s), Axis::linear(total_max(&u), 100.0, "busy (%)"), windows.to_vec());
        up.heading = Some(match &s.autoscale {
            Some(_) => format!("{}: busy workers (% of all {} slots' workers)", s.name, s.replicas),
            None => format!("{}: worker utilisation (%)", s.name),
        });
        up.layers.push(Layer::Line { pts: xs.iter().copied().zip(u).collect(), color: GREEN, width: 2 });
        for p in [&mut qp, &mut up] {
            p.window_labels = i == 0;
            p.x_desc = last;
        }
        panels.push(qp);
        panels.push(up);
    }
    let mut bulkheads = super::bulkhead::bulkhead_panels(spec, series, dur_s, windows);
    let adaptive = super::adaptive::adaptive_panels(spec, series, dur_s, windows);
    let has_adaptive = !adaptive.is_empty();
    let has_real_bulkheads = !bulkheads.is_empty();
    bulkheads.splice(0..0, adaptive);
    let autoscale = super::autoscale::autoscale_panels(spec, series, dur_s, windows);
    let has_autoscale = !autoscale.is_empty();
    bulkheads.splice(0..0, autoscale);
    let has_bulkheads = !bulkheads.is_empty();
    if let Some(last) = panels.len().checked_sub(2) {
        for p in &mut panels[last..] {
            p.x_desc = !has_bulkheads;
        }
    }
    let n_b = bulkheads.len();
    for (k, mut p) in bulkheads.into_iter().enumerate() {
        p.x_desc = k + 2 >= n_b;
        panels.push(p);
    }
    let mut title = if has_real_bulkheads {
        "Queue length and utilisation per service; bulkheads per call".to_string()
    } else {
        "Queue length and utilisation per service".to_string()
    };
    if has_adaptive {
        title.push_str("; adaptive concurrency limits");
    }
    if has_autoscale {
        title.push_str("; autoscaled replicas");
    }
    // The first row carries the window labels and the last the axis title: give them
    // room by making every row as tall as the tallest needs.
    let row_h = 190;
    Chart {
        file: names.file("services", ""),
        svg: render(&title, &[], &panels, 2, row_h),
        title,
        caption: autoscale_caption(
            has_autoscale,
            services_caption(&interval_words(series), has_adaptive, has_real_bulkheads),
        ),
    }
}

/// The services chart's caption: what each panel draws and how it is sampled.
fn services_caption(every: &str, has_adaptive: bool, has_real_bulkheads: bool) -> String {
    let mut c = format!(
        "Which services queued requests or ran out of workers, and when? Queue: requests waiting per replica \
         (all replicas' queues divided by their number) at the end of each {every} interval, so a burst between \
         two readings may not show; the tables' queue max is the longest queue of any one replica at any instant. \
         Utilisation: busy worker time over worker time available, averaged over each interval."
    );
    if has_adaptive {
        c.push_str(
            " Adaptive concurrency (Envoy's gradient controller): the limit summed over the service's replicas, read \
             at the end of each interval only, against its workers (grey), and the requests inside its replicas \
             (busy + queued) at the same instants. A dip shorter than an interval does not show: while it \
             re-measures the minRTT the controller pins the limit to its min_concurrency until it has sampled its request_count \
             requests, often for less than an interval; the requests beyond the limit were answered unavailable (503), which the throughput chart \
             shows per interval.",
        );
    }
    if has_real_bulkheads {
        c.push_str(
            " Bulkheads: the caller's permits in use (grey: the limit per caller replica × its replicas) and its \
             attempts waiting for one, at the end of each interval; a wait counts against the per-try timeout when \
             the policy's timeout_covers_wait is true (the bulkheads table says which).",
        );
    }
    c
}

/// The services chart's caption, with the autoscaling panels' sentence when it has them.
fn autoscale_caption(has_autoscale: bool, caption: String) -> String {
    if !has_autoscale {
        return caption;
    }
    format!(
        "{caption} Autoscaling (Kubernetes' HPA): the replicas in service and the scale the autoscaler asked \
         for (starting replicas included) at the end of each interval, between its minimum and maximum, and \
         the utilisation of the workers in service against its target."
    )
}
