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
use crate::spec::Cause;
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
