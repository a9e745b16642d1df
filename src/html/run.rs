//! The report of one run: `report.html` and `report.md`, their summary tables read from
//! the run's [`Summary`] (the figures of `summary.json`), the topology and the charts.

use super::{Table, charts_html, charts_md, escape, md, page, seconds, topology::topology_svg};
use crate::charts::run_charts;
use crate::model::RunOutput;
use crate::report::summary::{Failed, Latency, Quantiles};
use crate::report::{OutError, Summary, r3, r6, write_out_dir};
use crate::spec::Spec;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

// ---- cells ---------------------------------------------------------------------------

fn finite(v: f64) -> Option<f64> {
    Some(v).filter(|v| v.is_finite())
}

fn ms(v: Option<f64>) -> String {
    v.and_then(finite).map(crate::report::ms_text).unwrap_or_else(|| "–".into())
}

/// One latency figure, `–` when nothing was measured. Rounded to the JSON's 3 decimals
/// first, as the report has always shown it.
fn lat(l: &Latency, f: fn(&Quantiles) -> f64) -> String {
    ms(l.get(f).map(r3))
}

fn fixed(v: f64, d: usize) -> String {
    finite(v).map(|v| format!("{v:.d$}")).unwrap_or_else(|| "–".into())
}

fn percent_of(n: u64, d: u64) -> String {
    if d > 0 { format!("{:.2}%", 100.0 * n as f64 / d as f64) } else { "–".into() }
}

fn util(v: f64) -> String {
    finite(r6(v)).map(|u| format!("{:.1}%", 100.0 * u)).unwrap_or_else(|| "–".into())
}

/// Non-zero failure counts, `timeout 410, unavailable 289`, in the contract's order.
fn failures(f: &Failed) -> String {
    // A no-break space keeps a cause and its count on one line.
    let parts: Vec<String> = f.nonzero().map(|(c, n)| format!("{}\u{a0}{n}", c.name())).collect();
    if parts.is_empty() { "–".into() } else { parts.join(", ") }
}

// ---- tables --------------------------------------------------------------------------

/// The summary tables of one run; empty sections are left out.
fn summary_tables(s: &Summary) -> Vec<Table> {
    let mut tables = Vec::new();
    let rows: Vec<Vec<String>> = s
        .workloads
        .iter()
        .map(|(name, w)| {
            let l = &w.latency_ms;
            vec![
                name.to_string(),
                w.offered.to_string(),
                w.ok.to_string(),
                percent_of(w.ok, w.offered),
                w.degraded.to_string(),
                failures(&w.failed),
                fixed(r3(w.goodput_rps), 1),
                lat(l, |q| q.mean),
                lat(l, |q| q.p50),
                lat(l, |q| q.p90),
                lat(l, |q| q.p99),
                lat(l, |q| q.p999),
                lat(l, |q| q.max),
            ]
        })
        .collect();
    if !rows.is_empty() {
        tables.push(Table {
            caption: "Workloads (latency in ms, measured window)",
            header: vec![
                "workload",
                "offered",
                "ok",
                "ok %",
                "degraded",
                "failed",
                "goodput/s",
                "mean",
                "p50",
                "p90",
                "p99",
                "p99.9",
                "max",
            ],
            rows,
            text_cols: vec![5],
        });
    }
    let rows: Vec<Vec<String>> = s
        .endpoints
        .iter()
        .map(|(name, e)| {
            vec![
                name.to_string(),
                e.requests.to_string(),
                percent_of(e.ok, e.requests),
                failures(&e.failed),
                util(e.utilization),
                e.queue_max.to_string(),
                e.abandoned.to_string(),
                lat(&e.latency_ms, |q| q.p50),
                lat(&e.latency_ms, |q| q.p99),
            ]
        })
        .collect();
    if !rows.is_empty() {
        tables.push(Table {
            caption: "Endpoints (latency in ms; abandoned: finished after the caller gave up)",
            header: vec![
                "endpoint",
                "requests",
                "ok %",
                "failed",
                "utilisation",
                "queue max",
                "abandoned",
                "p50",
                "p99",
            ],
            rows,
            text_cols: vec![3],
        });
    }
    let rows: Vec<Vec<String>> = s
        .calls
        .iter()
        .map(|(name, c)| {
            vec![
                name.to_string(),
                c.calls.to_string(),
                c.attempts.to_string(),
                c.retries.to_string(),
                c.hedges.to_string(),
                percent_of(c.ok, c.calls),
                failures(&c.failed),
                lat(&c.latency_ms, |q| q.p50),
                lat(&c.latency_ms, |q| q.p99),
                c.breaker.opened.to_string(),
                fixed(r3(c.breaker.open_s), 1),
            ]
        })
        .collect();
    if !rows.is_empty() {
        tables.push(Table {
            caption: "Calls (latency in ms; breaker open time summed over the caller's replicas)",
            header: vec![
                "call",
                "calls",
                "attempts",
                "retries",
                "hedges",
                "ok %",
                "failed",
                "p50",
                "p99",
                "breaker opened",
                "open s",
            ],
            rows,
            text_cols: vec![6],
        });
    }
    let rows: Vec<Vec<String>> = s
        .services
        .iter()
        .map(|(name, v)| {
            vec![name.to_string(), v.replicas.to_string(), util(v.utilization), v.queue_max.to_string()]
        })
        .collect();
    if !rows.is_empty() {
        tables.push(Table {
            caption: "Services",
            header: vec!["service", "replicas", "utilisation", "queue max"],
            rows,
            text_cols: vec![],
        });
    }
    let rows: Vec<Vec<String>> = s
        .sagas
        .iter()
        .map(|(name, g)| {
            vec![
                name.to_string(),
                g.started.to_string(),
                g.completed.to_string(),
                percent_of(g.completed, g.started),
                g.compensated.to_string(),
                g.compensation_failed.to_string(),
                g.abandoned.to_string(),
                g.in_flight.to_string(),
                g.orphaned.to_string(),
                g.duplicate_effects.to_string(),
                lat(&g.latency_ms, |q| q.p50),
                lat(&g.latency_ms, |q| q.p99),
            ]
        })
        .collect();
    if !rows.is_empty() {
        tables.push(Table {
            caption: "Sagas (latency from start to outcome, in ms; orphaned: effects nothing undid in sagas \
                      that did not complete)",
            header: vec![
                "saga",
                "started",
                "completed",
                "completed %",
                "compensated",
                "compensation failed",
                "abandoned",
                "in flight",
                "orphaned",
                "duplicate effects",
                "p50",
                "p99",
            ],
            rows,
            text_cols: vec![],
        });
    }
    let mut rows: Vec<Vec<String>> = Vec::new();
    for (topic, t) in s.topics.iter() {
        let published = t.published.to_string();
        let failed = t.publish_failed.to_string();
        if t.groups.is_empty() {
            let mut row = vec![topic.to_string(), published.clone(), failed.clone()];
            row.extend(std::iter::repeat_n("–".to_string(), 10));
            rows.push(row);
        }
        for (group, g) in t.groups.iter() {
            rows.push(vec![
                format!("{topic}/{group}"),
                published.clone(),
                failed.clone(),
                g.delivered.to_string(),
                g.redelivered.to_string(),
                g.duplicates.to_string(),
                g.inconsistent.to_string(),
                g.dead_lettered.to_string(),
                g.dropped.to_string(),
                g.in_flight.to_string(),
                g.max_lag.to_string(),
                lat(&g.latency_ms, |q| q.p50),
                lat(&g.latency_ms, |q| q.p99),
            ]);
        }
    }
    if !rows.is_empty() {
        tables.push(Table {
            caption: "Topics, per consumer group (latency from publish to first successful handling, in ms; \
                      inconsistent: duplicates on a handler that is not idempotent)",
            header: vec![
                "topic/group",
                "published",
                "publish failed",
                "delivered",
                "redelivered",
                "duplicates",
                "inconsistent",
                "dead-lettered",
                "dropped",
                "in flight",
                "max lag",
                "p50",
                "p99",
            ],
            rows,
            text_cols: vec![],
        });
    }
    tables
}

// ---- the page ------------------------------------------------------------------------

/// The files of a run's report, `(name, contents)` in the order they are written:
/// every chart's SVG, `topology.svg`, `report.md`, `report.html`.
pub fn run_report_files(spec: &Spec, out: &RunOutput, summary: &Summary) -> Vec<(String, String)> {
    let charts = run_charts(spec, out);
    let topo = topology_svg(spec);

    let variant = spec.variant.clone();
    let heading = match &variant {
        Some(v) => format!("{} <span class=\"v\">· {}</span>", escape(&spec.name), escape(v)),
        None => escape(&spec.name),
    };
    let meta = format!(
        "{} · seed {} · {} simulated, {} warm-up left out of the tables · {} events · time series every {}",
        variant
            .as_deref()
            .map(|v| format!("variant {}", escape(v)))
            .unwrap_or_else(|| "base scenario".into()),
        spec.seed,
        seconds(spec.duration_ns),
        seconds(spec.warmup_ns),
        summary.events,
        seconds(spec.interval_ns),
    );
    let tables = summary_tables(summary);

    let mut body = format!("<h1>{heading}</h1>\n<p class=\"meta\">{}</p>\n", escape(&meta));
    if !spec.description.is_empty() {
        let _ = writeln!(body, "<p class=\"desc\">{}</p>", escape(&spec.description));
    }
    let _ = writeln!(body, "<h2>Topology</h2>\n<figure>\n{}\n</figure>", topo.trim_end());
    body.push_str("<h2>Summary</h2>\n");
    for t in &tables {
        let _ = writeln!(body, "<div class=\"scroll\">\n{}</div>", t.html());
    }
    body.push_str(&charts_html(&charts));
    let title = match &variant {
        Some(v) => format!("faultline: {} · {v}", spec.name),
        None => format!("faultline: {}", spec.name),
    };

    let mut m = format!("# {}\n\n{}\n\n", md(&title), md(&meta));
    if !spec.description.is_empty() {
        let _ = write!(m, "{}\n\n", md(&spec.description));
    }
    m.push_str("## Topology\n\n![topology](topology.svg)\n\n## Summary\n\n");
    for t in &tables {
        m.push_str(&t.markdown());
        m.push('\n');
    }
    m.push_str(&charts_md(&charts));

    let mut files: Vec<(String, String)> = charts.into_iter().map(|c| (c.file, c.svg)).collect();
    files.push(("topology.svg".into(), topo));
    files.push(("report.md".into(), m));
    files.push(("report.html".into(), page(&title, &body)));
    files
}

/// Writes the files of [`run_report_files`] into `dir` under the rule of `--out`
/// ([`write_out_dir`]); returns the paths written, the manifest last.
pub fn write_run_report(
    dir: &Path,
    spec: &Spec,
    out: &RunOutput,
    summary: &Summary,
) -> Result<Vec<PathBuf>, OutError> {
    write_out_dir(dir, &run_report_files(spec, out, summary), &[])
}
