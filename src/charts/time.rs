//! The time charts of one run: per interval, with the warm-up and the faults shaded.

use super::axis::Axis;
use super::data::{
    SAGA_OUTCOME_SERIES, column_values, interval_words, lag_points, latency_points, rate_values, saga_points,
    times_s, total, total_max,
};
use super::panel::{Layer, Panel, Window, legend_area, legend_line};
use super::render::{render, single_row_h};
use super::style::{BLUE, DARK_RED, GREEN, GREY, INK, ORANGE, PURPLE, VERMILLION, cause_color};
use super::{Chart, Names};
use crate::metrics::{Scope, Series};
use crate::spec::{Cause, Spec};
use plotters::prelude::{Color, RGBColor};

pub(super) fn latency_chart(
    names: &mut Names,
    wl: &str,
    series: &Series,
    dur_s: f64,
    windows: &[Window],
) -> Chart {
    let pts = latency_points(series, wl);
    let y = Axis::latency(pts.p50.iter().chain(&pts.p99).map(|p| p.1));
    let mut panel = Panel::new(Axis::time(dur_s), y, windows.to_vec());
    panel.layers.push(Layer::Line { pts: pts.p99, color: VERMILLION, width: 2 });
    panel.layers.push(Layer::Line { pts: pts.p50, color: BLUE, width: 2 });
    if series.ends.is_empty() {
        panel.note = Some("no intervals recorded".into());
    }
    let title = format!("Latency over time: {wl}");
    let every = interval_words(series);
    let legend = [legend_line("p50 per interval", BLUE), legend_line("p99 per interval", VERMILLION)];
    Chart {
        file: names.file("latency", wl),
        svg: render(&title, &legend, &[panel], 1, single_row_h(&legend)),
        title,
        caption: format!(
            "How did the median and 99th-percentile latency of {wl} move over time, and did they recover after each fault? \
             Each point: the p50 and p99 of the successful responses that finished in that {every} interval (failed \
             ones are not in it; an interval with none is a gap), the warm-up (shaded) included; the tables' \
             percentiles are over the whole measured window instead, by the time each request started."
        ),
    }
}

pub(super) fn throughput_chart(
    names: &mut Names,
    wl: &str,
    series: &Series,
    dur_s: f64,
    windows: &[Window],
) -> Chart {
    let xs = times_s(series);
    let offered = rate_values(series, Scope::Workload, wl, "offered");
    let ok = rate_values(series, Scope::Workload, wl, "ok");
    let mut layers = Vec::new();
    let mut legend = vec![legend_line("offered", INK), legend_area("ok", GREEN.mix(0.45))];
    let zero = vec![0.0; xs.len()];
    layers.push(Layer::Band { xs: xs.clone(), lower: zero, upper: ok.clone(), color: GREEN.mix(0.45) });
    let mut base = ok;
    let mut max = total_max(&offered).max(total_max(&base));
    for c in Cause::ALL {
        let v = rate_values(series, Scope::Workload, wl, &format!("failed_{}", c.name()));
        if total(&v) <= 0.0 {
            continue;
        }
        let upper: Vec<f64> = base.iter().zip(&v).map(|(a, b)| a + b).collect();
        let color = cause_color(c).mix(0.8);
        layers.push(Layer::Band { xs: xs.clone(), lower: base, upper: upper.clone(), color });
        legend.push(legend_area(format!("failed: {}", c.name()), color));
        max = max.max(total_max(&upper));
        base = upper;
    }
    layers.push(Layer::Line { pts: xs.iter().copied().zip(offered).collect(), color: INK, width: 2 });
    let mut panel =
        Panel::new(Axis::time(dur_s), Axis::linear(max * 1.05, 1.0, "requests/s"), windows.to_vec());
    panel.layers = layers;
    if series.ends.is_empty() {
        panel.note = Some("no intervals recorded".into());
    }
    let title = format!("Throughput over time: {wl}");
    let every = interval_words(series);
    Chart {
        file: names.file("throughput", wl),
        svg: render(&title, &legend, &[panel], 1, single_row_h(&legend)),
        title,
        caption: format!(
            "How much of the load offered by {wl} completed successfully each second, and why did the rest fail? \
             Requests per second in each {every} interval: offered (line) counts the requests sent in it, ok and \
             failed by cause (stacked areas) the requests that finished in it, so the areas can top the line while \
             a backlog drains. The warm-up (shaded) is drawn but left out of the tables."
        ),
    }
}

pub(super) const BREAKER_STATES: [&str; 3] = ["closed", "half-open", "open"];

pub(super) const BREAKER_COLORS: [RGBColor; 3] = [GREEN, ORANGE, VERMILLION];

pub(super) fn breaker_chart(
    names: &mut Names,
    edge: &str,
    series: &Series,
    dur_s: f64,
    windows: &[Window],
) -> Chart {
    let states = column_values(series, Scope::Call, edge, "breaker_state");
    let mut rects = Vec::new();
    let mut start = 0.0;
    for (end, s) in times_s(series).into_iter().zip(states) {
        if s.is_finite() {
            let k = (s.round().clamp(0.0, 2.0)) as usize;
            rects.push((start, end, k as f64 - 0.32, k as f64 + 0.32, BREAKER_COLORS[k]));
        }
        start = end;
    }
    let mut panel = Panel::new(Axis::time(dur_s), Axis::categories(&BREAKER_STATES, ""), windows.to_vec());
    panel.layers.push(Layer::Rects(rects));
    if series.ends.is_empty() {
        panel.note = Some("no intervals recorded".into());
    }
    let title = format!("Circuit breaker state: {edge}");
    Chart {
        file: names.file("breaker", edge),
        svg: render(&title, &[], &[panel], 1, 300),
        title,
        caption: format!(
            "When did the circuit breaker on {edge} open, probe (half-open) and close again? \
             Each interval shows the most open state among the caller's replicas at its end."
        ),
    }
}

/// Two panels: the calls per second above, for scale, and the retries and hedges per
/// second below on their own axis (they are often a hundredth of the calls, and would
/// lie flat on the calls' axis).
pub(super) fn retries_chart(
    names: &mut Names,
    edge: &str,
    series: &Series,
    dur_s: f64,
    windows: &[Window],
    retries: bool,
    hedges: bool,
) -> Chart {
    let xs = times_s(series);
    let calls = rate_values(series, Scope::Call, edge, "calls");
    let mut extra = Vec::new();
    if retries {
        extra.push(("retries", rate_values(series, Scope::Call, edge, "retries"), VERMILLION));
    }
    if hedges {
        extra.push(("hedges", rate_values(series, Scope::Call, edge, "hedges"), BLUE));
    }
    let mut top =
        Panel::new(Axis::time(dur_s), Axis::linear(total_max(&calls), 1.0, "calls/s"), windows.to_vec());
    top.heading = Some("calls per second".into());
    top.x_desc = false;
    top.layers.push(Layer::Line { pts: xs.iter().copied().zip(calls).collect(), color: GREY, width: 2 });
    let max = extra.iter().map(|l| total_max(&l.1)).fold(0.0, f64::max);
    let (what, unit) = match (retries, hedges) {
        (true, true) => ("retries and hedged requests", "attempts/s"),
        (true, false) => ("retries", "retries/s"),
        _ => ("hedged requests", "hedges/s"),
    };
    let mut bottom = Panel::new(Axis::time(dur_s), Axis::linear(max, 1.0, unit), windows.to_vec());
    bottom.window_labels = false;
    let mut legend = vec![legend_line("calls", GREY)];
    bottom.heading = Some(format!("{what} per second"));
    for (label, v, color) in extra {
        legend.push(legend_line(label, color));
        bottom.layers.push(Layer::Line { pts: xs.iter().copied().zip(v).collect(), color, width: 2 });
    }
    let title = format!("Retries and hedges over time: {edge}");
    Chart {
        file: names.file("retries", edge),
        svg: render(&title, &legend, &[top, bottom], 1, 205),
        title,
        caption: format!(
            "How many {what} did {edge} send on top of its calls, and when? Per second in each {} interval: \
             calls (the caller's logical calls) when made, retries when the caller decides to retry (before \
             any backoff), hedges when sent; retries and hedges are the extra attempts beyond each call's first.",
            interval_words(series)
        ),
    }
}

/// Stacked areas of the sagas that ended per second by outcome (completed at the
/// bottom; an outcome that never happened is left out), the sagas started per second,
/// and the sagas in flight at each interval's end, on one axis.
pub(super) fn saga_chart(
    names: &mut Names,
    saga: &str,
    series: &Series,
    dur_s: f64,
    windows: &[Window],
) -> Chart {
    let xs = times_s(series);
    let p = saga_points(series, saga);
    let mut layers = Vec::new();
    let mut legend = Vec::new();
    let mut base = vec![0.0; xs.len()];
    let mut max = 0.0f64;
    for (k, (_, pts)) in p.outcomes.iter().enumerate() {
        let (_, label, color) = SAGA_OUTCOME_SERIES[k];
        let v: Vec<f64> = pts.iter().map(|q| q.1).collect();
        // Completed is always in the legend, so that a chart of nothing but failures
        // still says what is missing.
        if k > 0 && total(&v) <= 0.0 {
            continue;
        }
        let upper: Vec<f64> = base.iter().zip(&v).map(|(a, b)| a + b).collect();
        let fill = color.mix(if k == 0 { 0.45 } else { 0.8 });
        layers.push(Layer::Band { xs: xs.clone(), lower: base, upper: upper.clone(), color: fill });
        legend.push(legend_area(label, fill));
        max = max.max(total_max(&upper));
        base = upper;
    }
    let started: Vec<f64> = p.started.iter().map(|q| q.1).collect();
    let in_flight: Vec<f64> = p.in_flight.iter().map(|q| q.1).collect();
    max = max.max(total_max(&started)).max(total_max(&in_flight));
    layers.push(Layer::Line { pts: p.started, color: INK, width: 2 });
    layers.push(Layer::Line { pts: p.in_flight, color: BLUE, width: 2 });
    legend.insert(0, legend_line("started/s", INK));
    legend.push(legend_line("in flight (at interval end)", BLUE));
    let mut panel = Panel::new(
        Axis::time(dur_s),
        Axis::linear(max * 1.05, 1.0, "sagas/s · sagas in flight"),
        windows.to_vec(),
    );
    panel.layers = layers;
    if series.ends.is_empty() {
        panel.note = Some("no intervals recorded".into());
    }
    let title = format!("Saga outcomes over time: {saga}");
    Chart {
        file: names.file("saga", saga),
        svg: render(&title, &legend, &[panel], 1, single_row_h(&legend)),
        title,
        caption: format!(
            "How many {saga} sagas ended each second by outcome (completed, compensated, compensation failed, \
             abandoned), and how many were still in flight? Per {} interval: started counts the sagas that began \
             in it, the areas the sagas that ended in it, in flight those running at its end.",
            interval_words(series)
        ),
    }
}

/// Two panels: the group's lag (messages published and not yet handled, summed over
/// partitions) above; the topic's publishes and the group's deliveries per second below
/// (redeliveries and dead letters too, when there were any), so that a growing lag can
/// be read against its cause.
pub(super) fn lag_chart(
    names: &mut Names,
    topic: &str,
    group: &str,
    series: &Series,
    dur_s: f64,
    windows: &[Window],
) -> Chart {
    let p = lag_points(series, topic, group);
    let lag_max = p.lag.iter().map(|q| q.1).filter(|v| v.is_finite()).fold(0.0, f64::max);
    let mut top = Panel::new(Axis::time(dur_s), Axis::count(lag_max, "messages"), windows.to_vec());
    top.heading = Some("lag (messages not yet handled, at each interval's end)".into());
    top.x_desc = false;
    top.layers.push(Layer::Line { pts: p.lag, color: PURPLE, width: 2 });
    let mut lines = vec![("published/s", p.published, GREY), ("delivered/s", p.delivered, GREEN)];
    for (label, pts, color) in
        [("redelivered/s", p.redelivered, ORANGE), ("dead-lettered/s", p.dead_lettered, DARK_RED)]
    {
        if pts.iter().any(|q| q.1 > 0.0) {
            lines.push((label, pts, color));
        }
    }
    let max =
        lines.iter().flat_map(|l| l.1.iter().map(|q| q.1)).filter(|v| v.is_finite()).fold(0.0, f64::max);
    let mut bottom = Panel::new(Axis::time(dur_s), Axis::linear(max, 1.0, "messages/s"), windows.to_vec());
    bottom.heading = Some("messages per second".into());
    bottom.window_labels = false;
    let mut legend = vec![legend_line("lag", PURPLE)];
    for (label, pts, color) in lines {
        legend.push(legend_line(label, color));
        bottom.layers.push(Layer::Line { pts, color, width: 2 });
    }
    if series.ends.is_empty() {
        top.note = Some("no intervals recorded".into());
    }
    let title = format!("Consumer lag over time: {topic}/{group}");
    let every = interval_words(series);
    Chart {
        file: names.file("lag", &format!("{topic}/{group}")),
        svg: render(&title, &legend, &[top, bottom], 1, 205),
        title,
        caption: format!(
            "How far behind the messages published on {topic} did consumer group {group} fall, and how fast did it \
             deliver them? The lag is read at the end of each {every} interval, so it can peak higher between two \
             readings: the tables' max lag is the most at any instant of the measured window. Rates: messages \
             per second in each interval."
        ),
    }
}

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
