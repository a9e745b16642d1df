//! The chart of a work queue: its depth (visible messages) and the age of its oldest
//! visible message at each interval's end, and the messages sent, received, deleted and
//! dead-lettered per second. A backlog shows as depth and age climbing together while
//! deletions stay below sends; redeliveries (a visibility timeout running out, a nack)
//! show as receives above deletions.

use super::axis::Axis;
use super::data::{column_points, rate_values, times_s};
use super::panel::{Layer, Panel, Window, legend_line};
use super::render::render;
use super::style::{DARK_RED, GREEN, GREY, ORANGE, PURPLE, SKY};
use super::{Chart, Names};
use crate::metrics::{Scope, Series};

pub(super) fn queue_chart(
    names: &mut Names,
    queue: &str,
    series: &Series,
    dur_s: f64,
    windows: &[Window],
) -> Chart {
    let finite_max =
        |pts: &[(f64, f64)]| pts.iter().map(|q| q.1).filter(|v| v.is_finite()).fold(0.0, f64::max);
    let depth = column_points(series, Scope::Queue, queue, "depth", 1.0);
    let mut top =
        Panel::new(Axis::time(dur_s), Axis::count(finite_max(&depth), "messages"), windows.to_vec());
    top.heading = Some("depth (visible messages, at each interval's end)".into());
    top.x_desc = false;
    top.layers.push(Layer::Line { pts: depth, color: PURPLE, width: 2 });
    let age = column_points(series, Scope::Queue, queue, "age_s", 1.0);
    let mut middle =
        Panel::new(Axis::time(dur_s), Axis::linear(finite_max(&age), 1.0, "seconds"), windows.to_vec());
    middle.heading = Some("age of the oldest visible message, at each interval's end".into());
    middle.x_desc = false;
    middle.window_labels = false;
    middle.layers.push(Layer::Line { pts: age, color: SKY, width: 2 });
    let times = times_s(series);
    let rate = |m: &str| -> Vec<(f64, f64)> {
        times.iter().copied().zip(rate_values(series, Scope::Queue, queue, m)).collect()
    };
    let mut lines = vec![("sent/s", rate("sent"), GREY), ("received/s", rate("received"), ORANGE)];
    lines.push(("deleted/s", rate("deleted"), GREEN));
    let dead = rate("dead_lettered");
    if dead.iter().any(|q| q.1 > 0.0) {
        lines.push(("dead-lettered/s", dead, DARK_RED));
    }
    let max = lines.iter().map(|l| finite_max(&l.1)).fold(0.0, f64::max);
    let mut bottom = Panel::new(Axis::time(dur_s), Axis::linear(max, 1.0, "messages/s"), windows.to_vec());
    bottom.heading = Some("messages per second".into());
    bottom.window_labels = false;
    let mut legend = vec![legend_line("depth", PURPLE), legend_line("oldest age", SKY)];
    for (label, pts, color) in lines {
        legend.push(legend_line(label, color));
        bottom.layers.push(Layer::Line { pts, color, width: 2 });
    }
    if series.ends.is_empty() {
        top.note = Some("no intervals recorded".into());
    }
    let title = format!("Work queue over time: {queue}");
    Chart {
        file: names.file("queue", queue),
        svg: render(&title, &legend, &[top, middle, bottom], 1, 185),
        title,
        caption: format!(
            "How deep did work queue {queue} get and how old was its oldest waiting message, and did its consumers \
             keep up (deleted against sent; received above deleted is a message handed out again)? Depth and age \
             are read at the end of each interval, so the tables' max depth and max age (the most at any instant) \
             can be higher than the chart's peaks; the rates are per second in each interval."
        ),
    }
}
