//! The data the charts draw, taken from a run's series (shared with the tests, which
//! check it against the series and the summary).

use super::style::{GREEN, PURPLE, SKY, VERMILLION};
use crate::metrics::{Scope, Series};
use crate::spec::NS_PER_S;
use plotters::prelude::RGBColor;

/// The points the latency chart of one workload draws: `(interval end in s, ms)`, with
/// `NaN` where the interval had no completion (drawn as a gap).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LatencyPoints {
    pub p50: Vec<(f64, f64)>,
    pub p99: Vec<(f64, f64)>,
}

/// Median and 99th percentile per interval of `workload`, as the latency chart draws
/// them. The per-interval 99.9th percentile is not in the series (an interval rarely
/// holds enough completions for it to mean anything), so the chart leaves it out; the
/// percentile spectrum shows the far tail of the whole run instead.
pub fn latency_points(series: &Series, workload: &str) -> LatencyPoints {
    LatencyPoints {
        p50: column_points(series, Scope::Workload, workload, "p50_ms", 1.0),
        p99: column_points(series, Scope::Workload, workload, "p99_ms", 1.0),
    }
}

/// The outcome columns of a saga's series, as the saga chart stacks them (bottom up),
/// with their legend labels and colours.
pub(super) const SAGA_OUTCOME_SERIES: [(&str, &str, RGBColor); 4] = [
    ("completed", "completed", GREEN),
    ("compensated", "compensated", SKY),
    ("compensation_failed", "compensation failed", VERMILLION),
    ("abandoned", "abandoned", PURPLE),
];

/// The points the saga chart of `saga` draws, per interval `(end in s, value)`: each
/// outcome's sagas per second (stacked in the chart, in `SAGA_OUTCOME_SERIES` order),
/// the sagas started per second, and the sagas in flight at the interval's end (`NaN`
/// where missing, drawn as a gap).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SagaPoints {
    /// Per outcome: `completed`, `compensated`, `compensation_failed`, `abandoned`.
    pub outcomes: Vec<(String, Vec<(f64, f64)>)>,
    pub started: Vec<(f64, f64)>,
    pub in_flight: Vec<(f64, f64)>,
}

pub fn saga_points(series: &Series, saga: &str) -> SagaPoints {
    let xs = times_s(series);
    let pts = |v: Vec<f64>| xs.iter().copied().zip(v).collect::<Vec<_>>();
    SagaPoints {
        outcomes: SAGA_OUTCOME_SERIES
            .iter()
            .map(|(m, _, _)| (m.to_string(), pts(rate_values(series, Scope::Saga, saga, m))))
            .collect(),
        started: pts(rate_values(series, Scope::Saga, saga, "started")),
        in_flight: column_points(series, Scope::Saga, saga, "in_flight", 1.0),
    }
}

/// The points the lag chart of a consumer group draws, per interval `(end in s, value)`:
/// the lag at the interval's end (`NaN` where missing), then messages per second.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LagPoints {
    pub lag: Vec<(f64, f64)>,
    pub published: Vec<(f64, f64)>,
    pub delivered: Vec<(f64, f64)>,
    pub redelivered: Vec<(f64, f64)>,
    pub dead_lettered: Vec<(f64, f64)>,
}

/// `group` is the group's name alone; its series are named `TOPIC/GROUP`.
pub fn lag_points(series: &Series, topic: &str, group: &str) -> LagPoints {
    let xs = times_s(series);
    let name = format!("{topic}/{group}");
    let pts = |v: Vec<f64>| xs.iter().copied().zip(v).collect::<Vec<_>>();
    LagPoints {
        lag: column_points(series, Scope::Topic, &name, "lag", 1.0),
        published: pts(rate_values(series, Scope::Topic, topic, "published")),
        delivered: pts(rate_values(series, Scope::Topic, &name, "delivered")),
        redelivered: pts(rate_values(series, Scope::Topic, &name, "redelivered")),
        dead_lettered: pts(rate_values(series, Scope::Topic, &name, "dead_lettered")),
    }
}

/// Interval ends in seconds.
pub(super) fn times_s(series: &Series) -> Vec<f64> {
    series.ends.iter().map(|e| *e as f64 / NS_PER_S as f64).collect()
}

/// Interval widths in seconds (the last may be shorter).
pub(super) fn widths_s(series: &Series) -> Vec<f64> {
    let mut prev = 0;
    series
        .ends
        .iter()
        .map(|e| {
            let w = e.saturating_sub(prev);
            prev = *e;
            w as f64 / NS_PER_S as f64
        })
        .collect()
}

pub(super) fn column_values(series: &Series, scope: Scope, name: &str, metric: &str) -> Vec<f64> {
    let n = series.ends.len();
    match series.column(scope, name, metric) {
        Some(c) => (0..n).map(|i| c.values.get(i).map_or(f64::NAN, |v| *v)).collect(),
        None => vec![f64::NAN; n],
    }
}

pub(super) fn column_points(
    series: &Series,
    scope: Scope,
    name: &str,
    metric: &str,
    scale: f64,
) -> Vec<(f64, f64)> {
    times_s(series)
        .into_iter()
        .zip(column_values(series, scope, name, metric))
        .map(|(t, v)| (t, v * scale))
        .collect()
}

/// A count column as a rate per second (counts are never missing: `NaN` reads as 0).
pub(super) fn rate_values(series: &Series, scope: Scope, name: &str, metric: &str) -> Vec<f64> {
    column_values(series, scope, name, metric)
        .into_iter()
        .zip(widths_s(series))
        .map(|(v, w)| if v.is_finite() && w > 0.0 { v / w } else { 0.0 })
        .collect()
}

pub(super) fn total(v: &[f64]) -> f64 {
    v.iter().filter(|x| x.is_finite()).sum()
}

pub(super) fn total_max(v: &[f64]) -> f64 {
    v.iter().copied().filter(|x| x.is_finite()).fold(0.0, f64::max)
}

/// The series' interval in words ("1 s", "0.5 s"), for the captions that say what each
/// point covers.
pub(super) fn interval_words(series: &Series) -> String {
    let s = series.interval_ns as f64 / NS_PER_S as f64;
    if s.fract() == 0.0 { format!("{s:.0} s") } else { format!("{s} s") }
}
