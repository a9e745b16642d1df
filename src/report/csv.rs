//! The tidy time series, `timeseries.csv`: one row per interval and series.

use crate::metrics::Series;
use std::fmt::Write as _;

/// A number as the CSV writes it: integers without a fraction, others to 6 decimals.
fn num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 { format!("{}", v as i64) } else { format!("{}", super::r6(v)) }
}

/// The tidy time series: `time_s,scope,name,metric,value`, one row per interval and
/// series; `time_s` is the end of the interval. An interval counts what *finished* in
/// it; a workload's `p50_ms`/`p99_ms` are of its successful responses only (as the
/// summary's `latency_ms`). Points with nothing to measure (a percentile of an interval
/// with no success) are left out.
pub fn timeseries_csv(series: &Series) -> String {
    let mut s = String::with_capacity(64 * series.ends.len() * series.columns.len().max(1));
    s.push_str("time_s,scope,name,metric,value\n");
    for (i, end) in series.ends.iter().enumerate() {
        let t = num(*end as f64 / 1e9);
        for c in &series.columns {
            let v = c.values[i];
            if v.is_nan() {
                continue;
            }
            let _ = writeln!(s, "{t},{},{},{},{}", c.scope.name(), csv_field(&c.name), c.metric, num(v));
        }
    }
    s
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() }
}
