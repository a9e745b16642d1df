//! Self-contained reports: one HTML file (CSS and SVG inline, no script, no network
//! reference) and a Markdown twin for pull requests, plus the topology drawing.
//!
//! Tables are built from the summary JSON (the contract in the README), not from the
//! run's internals, so the report shows exactly the figures a script would read. Every
//! name comes from the user's scenario and is escaped. No wall-clock time appears.

use crate::charts::{Chart, VariantRuns, compare_charts, run_charts};
use crate::model::RunOutput;
use crate::report::{OutError, write_out_dir};
use crate::spec::{Arrival, Cause, NS_PER_S, ServiceKind, Spec, Step};
use serde_json::Value;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

// ---- escaping ------------------------------------------------------------------------

/// Escapes text for HTML and SVG (element content and attribute values).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' && c != '\t' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Escapes text for a Markdown table cell or paragraph: the characters that could start
/// markup, and `|`, which would split the cell.
fn md(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' | '!' | '~' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' | '\u{a0}' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

// ---- number formatting ---------------------------------------------------------------

fn int(v: Option<&Value>) -> String {
    match v {
        Some(Value::Number(n)) => match n.as_u64() {
            Some(u) => u.to_string(),
            None => n.as_f64().map(|f| format!("{f:.0}")).unwrap_or_else(|| "–".into()),
        },
        _ => "–".into(),
    }
}

fn num(v: Option<&Value>) -> Option<f64> {
    v.and_then(Value::as_f64).filter(|f| f.is_finite())
}

/// Milliseconds with three significant figures or so, as the CLI's table prints them.
fn ms(v: Option<&Value>) -> String {
    match num(v) {
        Some(v) if v >= 100.0 => format!("{v:.0}"),
        Some(v) if v >= 10.0 => format!("{v:.1}"),
        Some(v) => format!("{v:.2}"),
        None => "–".into(),
    }
}

fn fixed(v: Option<&Value>, d: usize) -> String {
    num(v).map(|v| format!("{v:.d$}")).unwrap_or_else(|| "–".into())
}

fn percent_of(n: Option<&Value>, d: Option<&Value>) -> String {
    match (num(n), num(d)) {
        (Some(n), Some(d)) if d > 0.0 => format!("{:.2}%", 100.0 * n / d),
        _ => "–".into(),
    }
}

fn util(v: Option<&Value>) -> String {
    num(v).map(|u| format!("{:.1}%", 100.0 * u)).unwrap_or_else(|| "–".into())
}

/// Non-zero failure counts, `timeout 410, unavailable 289`, in the contract's order.
fn failures(v: Option<&Value>) -> String {
    let Some(Value::Object(m)) = v else { return "–".into() };
    let mut parts = Vec::new();
    for c in Cause::ALL {
        if let Some(n) = m.get(c.name()).and_then(Value::as_u64)
            && n > 0
        {
            // A no-break space keeps a cause and its count on one line.
            parts.push(format!("{}\u{a0}{n}", c.name()));
        }
    }
    if parts.is_empty() { "–".into() } else { parts.join(", ") }
}

/// A name that may wrap only before an arrow (`client:shoppers->gateway.checkout`),
/// never inside one of its parts.
fn name_html(s: &str) -> String {
    s.split("->")
        .enumerate()
        .map(|(i, part)| {
            let arrow = if i == 0 { "" } else { "-&gt;" };
            format!("<span class=\"nw\">{arrow}{}</span>", escape(part))
        })
        .collect::<Vec<_>>()
        .join("<wbr>")
}

// ---- tables --------------------------------------------------------------------------

/// A table: header cells, then rows; the first column is a name (left-aligned), the
/// others numbers (right-aligned), except those listed in `text_cols`.
struct Table {
    caption: &'static str,
    header: Vec<&'static str>,
    rows: Vec<Vec<String>>,
    text_cols: Vec<usize>,
}

impl Table {
    fn html(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "<table>\n<caption>{}</caption>\n<thead><tr>", escape(self.caption));
        for (i, h) in self.header.iter().enumerate() {
            let cls = if i == 0 || self.text_cols.contains(&i) { "" } else { " class=\"n\"" };
            let _ = write!(s, "<th{cls}>{}</th>", escape(h));
        }
        s.push_str("</tr></thead>\n<tbody>\n");
        for r in &self.rows {
            s.push_str("<tr>");
            for (i, c) in r.iter().enumerate() {
                let cls = if i == 0 || self.text_cols.contains(&i) { "" } else { " class=\"n\"" };
                let cell = if i == 0 { name_html(c) } else { escape(c) };
                let _ = write!(s, "<td{cls}>{cell}</td>");
            }
            s.push_str("</tr>\n");
        }
        s.push_str("</tbody>\n</table>\n");
        s
    }

    fn markdown(&self) -> String {
        let mut s = format!("**{}**\n\n|", md(self.caption));
        for h in &self.header {
            let _ = write!(s, " {} |", md(h));
        }
        s.push_str("\n|");
        for i in 0..self.header.len() {
            s.push_str(if i == 0 || self.text_cols.contains(&i) { " --- |" } else { " ---: |" });
        }
        s.push('\n');
        for r in &self.rows {
            s.push('|');
            for c in r {
                let _ = write!(s, " {} |", md(c));
            }
            s.push('\n');
        }
        s
    }
}

fn entries(summary: &Value, key: &str) -> Vec<(String, Value)> {
    match summary.get(key) {
        Some(Value::Object(m)) => m.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        _ => Vec::new(),
    }
}

/// The summary tables of one run, from its summary JSON; empty sections are left out.
fn summary_tables(summary: &Value) -> Vec<Table> {
    let mut tables = Vec::new();
    let rows: Vec<Vec<String>> = entries(summary, "workloads")
        .into_iter()
        .map(|(name, w)| {
            let l = w.get("latency_ms");
            let q = |k: &str| ms(l.and_then(|l| l.get(k)));
            vec![
                name,
                int(w.get("offered")),
                int(w.get("ok")),
                percent_of(w.get("ok"), w.get("offered")),
                int(w.get("degraded")),
                failures(w.get("failed")),
                fixed(w.get("goodput_rps"), 1),
                q("mean"),
                q("p50"),
                q("p90"),
                q("p99"),
                q("p999"),
                q("max"),
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
    let rows: Vec<Vec<String>> = entries(summary, "endpoints")
        .into_iter()
        .map(|(name, e)| {
            let l = e.get("latency_ms");
            let q = |k: &str| ms(l.and_then(|l| l.get(k)));
            vec![
                name,
                int(e.get("requests")),
                percent_of(e.get("ok"), e.get("requests")),
                failures(e.get("failed")),
                util(e.get("utilization")),
                int(e.get("queue_max")),
                int(e.get("abandoned")),
                q("p50"),
                q("p99"),
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
    let rows: Vec<Vec<String>> = entries(summary, "calls")
        .into_iter()
        .map(|(name, c)| {
            let l = c.get("latency_ms");
            let q = |k: &str| ms(l.and_then(|l| l.get(k)));
            let b = c.get("breaker");
            vec![
                name,
                int(c.get("calls")),
                int(c.get("attempts")),
                int(c.get("retries")),
                int(c.get("hedges")),
                percent_of(c.get("ok"), c.get("calls")),
                failures(c.get("failed")),
                q("p50"),
                q("p99"),
                int(b.and_then(|b| b.get("opened"))),
                fixed(b.and_then(|b| b.get("open_s")), 1),
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
    let rows: Vec<Vec<String>> = entries(summary, "services")
        .into_iter()
        .map(|(name, s)| {
            vec![name, int(s.get("replicas")), util(s.get("utilization")), int(s.get("queue_max"))]
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
    let rows: Vec<Vec<String>> = entries(summary, "sagas")
        .into_iter()
        .map(|(name, g)| {
            let l = g.get("latency_ms");
            let q = |k: &str| ms(l.and_then(|l| l.get(k)));
            vec![
                name,
                int(g.get("started")),
                int(g.get("completed")),
                percent_of(g.get("completed"), g.get("started")),
                int(g.get("compensated")),
                int(g.get("compensation_failed")),
                int(g.get("abandoned")),
                int(g.get("in_flight")),
                int(g.get("orphaned")),
                int(g.get("duplicate_effects")),
                q("p50"),
                q("p99"),
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
    for (topic, t) in entries(summary, "topics") {
        let published = int(t.get("published"));
        let failed = int(t.get("publish_failed"));
        let groups = match t.get("groups") {
            Some(Value::Object(m)) => m.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            _ => Vec::new(),
        };
        if groups.is_empty() {
            let mut row = vec![topic.clone(), published.clone(), failed.clone()];
            row.extend(std::iter::repeat_n("–".to_string(), 10));
            rows.push(row);
        }
        for (group, g) in groups {
            let l = g.get("latency_ms");
            let q = |k: &str| ms(l.and_then(|l| l.get(k)));
            rows.push(vec![
                format!("{topic}/{group}"),
                published.clone(),
                failed.clone(),
                int(g.get("delivered")),
                int(g.get("redelivered")),
                int(g.get("duplicates")),
                int(g.get("inconsistent")),
                int(g.get("dead_lettered")),
                int(g.get("dropped")),
                int(g.get("in_flight")),
                int(g.get("max_lag")),
                q("p50"),
                q("p99"),
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

// ---- pages ---------------------------------------------------------------------------

const CSS: &str = "\
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;color:#222;\
margin:0 auto;max-width:1100px;padding:24px 32px 64px;line-height:1.45}\
h1{font-size:1.7em;margin:0 0 .2em}h1 .v{color:#666;font-weight:normal}\
h2{font-size:1.3em;margin:2em 0 .6em;border-bottom:1px solid #ddd;padding-bottom:.2em}\
.meta{color:#555;margin:0 0 1em}.desc{max-width:60em}\
table{border-collapse:collapse;margin:0 0 1.6em;font-size:.88em}\
caption{text-align:left;font-weight:600;padding:0 0 .4em}\
th,td{padding:.3em .7em;border-bottom:1px solid #e4e4e4;text-align:left;vertical-align:top}\
th{background:#f4f4f4;border-bottom:1px solid #ccc;white-space:nowrap}\
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\
tbody tr:nth-child(even){background:#fafafa}\
.scroll{overflow-x:auto}.nw{white-space:nowrap}\
figure{margin:0 0 2.2em}figure svg{max-width:100%;height:auto;display:block;border:1px solid #eee}\
figcaption{color:#444;margin-top:.4em;max-width:60em}\
ul.toc{columns:2;font-size:.92em;padding-left:1.2em}\
";

fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n{body}</body>\n</html>\n",
        escape(title)
    )
}

/// The charts section: a list of links, then each chart inline with its caption.
fn charts_html(charts: &[Chart]) -> String {
    let mut s = String::from("<h2 id=\"charts\">Charts</h2>\n<ul class=\"toc\">\n");
    for c in charts {
        let _ = writeln!(s, "<li><a href=\"#{}\">{}</a></li>", escape(&anchor(&c.file)), escape(&c.title));
    }
    s.push_str("</ul>\n");
    for c in charts {
        let _ = write!(
            s,
            "<figure id=\"{}\">\n{}\n<figcaption>{}</figcaption>\n</figure>\n",
            escape(&anchor(&c.file)),
            c.svg.trim_end(),
            escape(&c.caption)
        );
    }
    s
}

fn anchor(file: &str) -> String {
    format!("chart-{}", file.trim_end_matches(".svg"))
}

fn charts_md(charts: &[Chart]) -> String {
    let mut s = String::from("## Charts\n\n");
    for c in charts {
        let _ =
            writeln!(s, "### {}\n\n{}\n\n![{}]({})\n", md(&c.title), md(&c.caption), md(&c.title), c.file);
    }
    s
}

fn seconds(ns: u64) -> String {
    let s = ns as f64 / NS_PER_S as f64;
    if s.fract() == 0.0 { format!("{s:.0} s") } else { format!("{s:.3} s") }
}

/// The files of a run's report, `(name, contents)` in the order they are written:
/// every chart's SVG, `topology.svg`, `report.md`, `report.html`.
pub fn run_report_files(spec: &Spec, out: &RunOutput, summary: &serde_json::Value) -> Vec<(String, String)> {
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
        int(summary.get("events")),
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
    summary: &serde_json::Value,
) -> Result<Vec<PathBuf>, OutError> {
    write_out_dir(dir, &run_report_files(spec, out, summary), &[])
}

/// `seeds 1..5`, `seed 7`: the seeds a comparison ran, as its tables label them.
pub fn seeds_label(seeds: &[u64]) -> String {
    match (seeds.first(), seeds.last()) {
        (Some(a), Some(b)) if seeds.len() > 1 => format!("seeds {a}..{b}"),
        (Some(a), _) => format!("seed {a}"),
        _ => "no seeds".into(),
    }
}

/// The files of a comparison's report, `(name, contents)` in the order they are
/// written: the overlay SVGs, `topology.svg` (of the first variant), `compare.md`,
/// `compare.html`. `table_md` and `table_html` are the comparison tables rendered by
/// the caller and are inserted as they are; `seeds` are the seeds every variant ran.
pub fn compare_report_files(
    scenario: &str,
    description: &str,
    variants: &[VariantRuns],
    seeds: &[u64],
    table_md: &str,
    table_html: &str,
) -> Vec<(String, String)> {
    let charts = compare_charts(variants);
    let topo = variants.first().map(|v| topology_svg(&v.spec));
    let names: Vec<&str> = variants.iter().map(|v| v.name.as_str()).collect();
    let meta = format!(
        "{} variant{} ({}) · {} seed{} each ({}) · charts show every seed merged (spectra) or the mean over seeds per interval",
        names.len(),
        if names.len() == 1 { "" } else { "s" },
        names.join(", "),
        seeds.len(),
        if seeds.len() == 1 { "" } else { "s" },
        seeds_label(seeds)
    );
    let title = format!("faultline: {scenario} · comparison");

    let mut body = format!(
        "<h1>{} <span class=\"v\">· comparison</span></h1>\n<p class=\"meta\">{}</p>\n",
        escape(scenario),
        escape(&meta)
    );
    if !description.is_empty() {
        let _ = writeln!(body, "<p class=\"desc\">{}</p>", escape(description));
    }
    if let Some(t) = &topo {
        let _ = writeln!(body, "<h2>Topology</h2>\n<figure>\n{}\n</figure>", t.trim_end());
    }
    let _ = writeln!(body, "<h2>Summary</h2>\n<div class=\"scroll\">\n{}\n</div>", table_html.trim_end());
    body.push_str(&charts_html(&charts));

    let mut m = format!("# {}\n\n{}\n\n", md(&title), md(&meta));
    if !description.is_empty() {
        let _ = write!(m, "{}\n\n", md(description));
    }
    if topo.is_some() {
        m.push_str("## Topology\n\n![topology](topology.svg)\n\n");
    }
    let _ = write!(m, "## Summary\n\n{}\n\n", table_md.trim_end());
    m.push_str(&charts_md(&charts));

    let mut files: Vec<(String, String)> = charts.into_iter().map(|c| (c.file, c.svg)).collect();
    if let Some(t) = topo {
        files.push(("topology.svg".into(), t));
    }
    files.push(("compare.md".into(), m));
    files.push(("compare.html".into(), page(&title, &body)));
    files
}

/// Writes the files of [`compare_report_files`] into `dir` under the rule of `--out`
/// ([`write_out_dir`]); returns the paths written, the manifest last.
pub fn write_compare_report(
    dir: &Path,
    scenario: &str,
    description: &str,
    variants: &[VariantRuns],
    seeds: &[u64],
    table_md: &str,
    table_html: &str,
) -> Result<Vec<PathBuf>, OutError> {
    let files = compare_report_files(scenario, description, variants, seeds, table_md, table_html);
    write_out_dir(dir, &files, &[])
}

// ---- topology ------------------------------------------------------------------------

/// A box of the drawing: a workload's client or a service, or a bend point of an edge
/// that skips layers (a "dummy" in Sugiyama's method, so that long edges run between
/// boxes rather than through them).
#[derive(Clone, Debug)]
struct Node {
    lines: Vec<String>,
    kind: NodeKind,
    layer: usize,
    /// Position within its layer (after ordering) and pixel geometry.
    y: f64,
    h: f64,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum NodeKind {
    Client,
    Service,
    /// A topic: a pill rather than a box.
    Topic,
    Dummy,
}

#[derive(Clone, Debug)]
struct Arrow {
    /// Nodes from the source to the target, dummies between.
    path: Vec<usize>,
    label: String,
    optional: bool,
    /// A message (a publish, or a delivery to a consumer group) rather than a call:
    /// dashed, in the topics' colour.
    message: bool,
    /// Goes to the same or an earlier layer (a cycle): drawn as an arc under the boxes.
    back: bool,
}

const T_FONT: f64 = 13.0;
/// Colour of topics and of the arrows of messages.
const MSG: &str = "#a66300";
const T_SMALL: f64 = 11.5;
const T_CHAR: f64 = 7.4;
const T_SMALL_CHAR: f64 = 6.4;

fn kind_name(k: ServiceKind) -> &'static str {
    match k {
        ServiceKind::Service => "service",
        ServiceKind::Database => "database",
        ServiceKind::Cache => "cache",
        ServiceKind::Broker => "broker",
    }
}

fn rate(r: f64) -> String {
    if r.fract() == 0.0 { format!("{r:.0}") } else { format!("{r:.2}") }
}

/// The policy names used on each edge, and whether it is an optional branch.
fn edge_labels(spec: &Spec) -> Vec<(Vec<String>, bool)> {
    let mut out: Vec<(Vec<String>, bool)> = vec![(Vec::new(), false); spec.edges.len()];
    let mut add = |edge: u32, policy: Option<u32>, optional: bool| {
        if let Some(slot) = out.get_mut(edge as usize) {
            let name = match policy.and_then(|p| spec.policies.get(p as usize)) {
                Some(p) => p.name.clone(),
                None => "no policy".into(),
            };
            if !slot.0.contains(&name) {
                slot.0.push(name);
            }
            slot.1 |= optional;
        }
    };
    for e in &spec.endpoints {
        for step in &e.steps {
            let sites = match step {
                Step::Call(c) => std::slice::from_ref(c),
                Step::Parallel(cs) => cs.as_slice(),
                Step::Work(_) | Step::Publish { .. } => &[],
            };
            for site in sites {
                for t in &site.targets {
                    add(t.edge, site.policy, site.optional);
                }
            }
        }
    }
    for w in &spec.workloads {
        if w.saga.is_none() {
            add(w.edge, w.policy, false);
        }
    }
    out
}

/// The sagas whose orchestrator makes its calls on each edge: `saga NAME`, or
/// `saga NAME (compensation)` for an edge that only compensates.
fn saga_edge_tags(spec: &Spec) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = vec![Vec::new(); spec.edges.len()];
    for sg in &spec.sagas {
        let mut mark = |edge: u32, compensation: bool| {
            let Some(slot) = out.get_mut(edge as usize) else { return };
            let (plain, comp) = (format!("saga {}", sg.name), format!("saga {} (compensation)", sg.name));
            if compensation {
                if !slot.contains(&plain) && !slot.contains(&comp) {
                    slot.push(comp);
                }
            } else if let Some(k) = slot.iter().position(|t| *t == comp) {
                slot[k] = plain;
            } else if !slot.contains(&plain) {
                slot.push(plain);
            }
        };
        for st in &sg.steps {
            mark(st.action_edge, false);
        }
        for st in &sg.steps {
            if let Some(e) = st.compensation_edge {
                mark(e, true);
            }
        }
    }
    out
}

/// Per topic, the services with an endpoint that publishes to it, each with the arrow's
/// label: `publish`, `outbox`, or both.
fn publishers(spec: &Spec) -> Vec<Vec<(usize, String)>> {
    let mut out: Vec<Vec<(usize, [bool; 2])>> = vec![Vec::new(); spec.topics.len()];
    for e in &spec.endpoints {
        for step in &e.steps {
            let Step::Publish { topic, outbox } = step else { continue };
            let Some(list) = out.get_mut(*topic as usize) else { continue };
            let svc = e.service as usize;
            let k = match list.iter().position(|(s, _)| *s == svc) {
                Some(k) => k,
                None => {
                    list.push((svc, [false; 2]));
                    list.len() - 1
                }
            };
            list[k].1[*outbox as usize] = true;
        }
    }
    out.into_iter()
        .map(|list| {
            let mut list: Vec<(usize, String)> = list
                .into_iter()
                .map(|(s, [direct, outbox])| {
                    let label = match (direct, outbox) {
                        (true, true) => "publish, outbox",
                        (false, true) => "outbox",
                        _ => "publish",
                    };
                    (s, label.to_string())
                })
                .collect();
            list.sort_by_key(|(s, _)| *s);
            list
        })
        .collect()
}

/// The topology as an SVG: workload clients on the far left, services and topics
/// layered left to right by depth (the longest chain of calls, publishes and deliveries
/// that reaches them), one arrow per call edge labelled with the target endpoint and its
/// policy (and the saga, for a saga orchestrator's calls), a dashed arrow from each
/// publishing service to its topic (`publish` or `outbox`) and from each topic to the
/// handler of each consumer group (the group's name). A saga workload's client points
/// at the saga's orchestrator.
pub fn topology_svg(spec: &Spec) -> String {
    let n_wl = spec.workloads.len();
    let n_svc = spec.services.len();
    let n_topic = spec.topics.len();
    let svc_node = |s: usize| n_wl + s;
    let topic_node = |t: usize| n_wl + n_svc + t;
    let target_svc =
        |ep: u32| spec.endpoints.get(ep as usize).map(|e| e.service as usize).filter(|s| *s < n_svc);
    let pubs = publishers(spec);
    // Links of the layering, over services (`0..n_svc`) then topics (`n_svc..`): calls,
    // then publishes, then deliveries.
    let mut dep_links: Vec<(usize, usize)> = spec
        .edges
        .iter()
        .filter_map(|e| Some((e.caller.map(|c| c as usize).filter(|c| *c < n_svc)?, target_svc(e.target)?)))
        .collect();
    for (t, list) in pubs.iter().enumerate() {
        dep_links.extend(list.iter().filter(|(s, _)| *s < n_svc).map(|(s, _)| (*s, n_svc + t)));
    }
    for (t, topic) in spec.topics.iter().enumerate() {
        dep_links.extend(topic.groups.iter().filter_map(|g| Some((n_svc + t, target_svc(g.endpoint)?))));
    }
    // Depth of each service and topic: 1 + the longest chain from a client, by
    // relaxation bounded by their number (a cycle stops growing there).
    let n_dep = n_svc + n_topic;
    let mut depth = vec![1usize; n_dep];
    for _ in 0..n_dep {
        let mut changed = false;
        for &(c, t) in &dep_links {
            if c != t && depth[t] < depth[c] + 1 && depth[c] < n_dep {
                depth[t] = depth[c] + 1;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }

    let mut nodes: Vec<Node> = Vec::new();
    for w in &spec.workloads {
        let arrival = match &w.arrival {
            Arrival::Poisson { rate_per_s } => format!("Poisson {}/s", rate(*rate_per_s)),
            Arrival::Constant { rate_per_s } => format!("constant {}/s", rate(*rate_per_s)),
            Arrival::Closed { users, .. } => format!("closed loop, {users} users"),
        };
        let sched = if w.schedule.is_empty() { String::new() } else { " (scheduled)".into() };
        nodes.push(Node {
            lines: vec![format!("client: {}", w.name), format!("{arrival}{sched}")],
            kind: NodeKind::Client,
            layer: 0,
            y: 0.0,
            h: 0.0,
        });
    }
    for (i, s) in spec.services.iter().enumerate() {
        nodes.push(Node {
            lines: vec![
                s.name.clone(),
                format!("{} × {} workers · {}", s.replicas, s.concurrency, kind_name(s.kind)),
            ],
            kind: NodeKind::Service,
            layer: depth[i],
            y: 0.0,
            h: 0.0,
        });
    }
    for (t, topic) in spec.topics.iter().enumerate() {
        let p = topic.partitions;
        nodes.push(Node {
            lines: vec![
                topic.name.clone(),
                format!("topic · {p} partition{}", if p == 1 { "" } else { "s" }),
            ],
            kind: NodeKind::Topic,
            layer: depth[n_svc + t],
            y: 0.0,
            h: 0.0,
        });
    }

    let labels = edge_labels(spec);
    let saga_tags = saga_edge_tags(spec);
    let mut arrows: Vec<Arrow> = Vec::new();
    // Adds an arrow from node `from` to node `to`, with bend points across the layers
    // it skips.
    let mut connect = |nodes: &mut Vec<Node>, from: usize, to: usize, label: String, optional, message| {
        let (lf, lt) = (nodes[from].layer, nodes[to].layer);
        let mut path = vec![from];
        let back = lt <= lf;
        if !back {
            for l in lf + 1..lt {
                nodes.push(Node { lines: Vec::new(), kind: NodeKind::Dummy, layer: l, y: 0.0, h: 0.0 });
                path.push(nodes.len() - 1);
            }
        }
        path.push(to);
        arrows.push(Arrow { path, label, optional, message, back });
    };
    // A saga workload's client points at the orchestrator, whatever its edge names.
    let saga_start = |w: usize| {
        let sg = spec.workloads.get(w)?.saga.and_then(|s| spec.sagas.get(s as usize))?;
        let o = sg.orchestrator as usize;
        let policy = sg.policy.and_then(|p| spec.policies.get(p as usize)).map(|p| p.name.as_str());
        let label = format!("saga {} · {}", sg.name, policy.unwrap_or("no policy"));
        if o < n_svc { Some((svc_node(o), label)) } else { None }
    };
    let mut saga_drawn = vec![false; n_wl];
    for (i, e) in spec.edges.iter().enumerate() {
        let from = match e.caller {
            Some(c) if (c as usize) < n_svc => svc_node(c as usize),
            Some(_) => continue,
            None => match spec.workloads.iter().position(|w| w.edge as usize == i) {
                Some(w) if spec.workloads[w].saga.is_some() => {
                    if let Some((to, label)) = saga_start(w)
                        && !saga_drawn[w]
                    {
                        saga_drawn[w] = true;
                        connect(&mut nodes, w, to, label, false, false);
                    }
                    continue;
                }
                Some(w) => w,
                None => continue,
            },
        };
        let Some(t) = target_svc(e.target) else { continue };
        let to = svc_node(t);
        let ep = spec.endpoints[e.target as usize].name.as_str();
        let ep_short = ep.strip_prefix(&format!("{}.", spec.services[t].name)).unwrap_or(ep).to_string();
        let (policies, optional) = labels.get(i).cloned().unwrap_or_default();
        // A saga's calls name the saga (its policy is on the arrow that starts it).
        let tags = saga_tags.get(i).filter(|t| !t.is_empty());
        let mut label = match (policies.is_empty(), tags) {
            (true, Some(_)) => ep_short,
            (true, None) => format!("{ep_short} · no policy"),
            (false, _) => format!("{ep_short} · {}", policies.join(", ")),
        };
        if let Some(tags) = tags {
            let _ = write!(label, " · {}", tags.join(", "));
        }
        if optional {
            label.push_str(" · optional");
        }
        connect(&mut nodes, from, to, label, optional, false);
    }
    for (w, drawn) in saga_drawn.iter().enumerate() {
        if !drawn && let Some((to, label)) = saga_start(w) {
            connect(&mut nodes, w, to, label, false, false);
        }
    }
    for (t, list) in pubs.iter().enumerate() {
        for (svc, label) in list.iter().filter(|(s, _)| *s < n_svc) {
            connect(&mut nodes, svc_node(*svc), topic_node(t), label.clone(), false, true);
        }
    }
    for (t, topic) in spec.topics.iter().enumerate() {
        for g in &topic.groups {
            if let Some(h) = target_svc(g.endpoint) {
                connect(&mut nodes, topic_node(t), svc_node(h), g.name.clone(), false, true);
            }
        }
    }

    // Order each layer to keep arrows short and uncrossed: barycentre sweeps, ties kept
    // in file order.
    let n_layers = nodes.iter().map(|n| n.layer).max().unwrap_or(0) + 1;
    let mut layers: Vec<Vec<usize>> = vec![Vec::new(); n_layers];
    for (i, n) in nodes.iter().enumerate() {
        layers[n.layer].push(i);
    }
    let mut pos = vec![0f64; nodes.len()];
    let set_pos = |layers: &Vec<Vec<usize>>, pos: &mut Vec<f64>| {
        for l in layers {
            for (k, n) in l.iter().enumerate() {
                pos[*n] = k as f64;
            }
        }
    };
    set_pos(&layers, &mut pos);
    let links: Vec<(usize, usize)> =
        arrows.iter().filter(|a| !a.back).flat_map(|a| a.path.windows(2).map(|w| (w[0], w[1]))).collect();
    for sweep in 0..8 {
        let down = sweep % 2 == 0;
        let order: Vec<usize> =
            if down { (1..n_layers).collect() } else { (0..n_layers.saturating_sub(1)).rev().collect() };
        for l in order {
            let bary: Vec<(f64, usize)> = layers[l]
                .iter()
                .map(|&n| {
                    let nb: Vec<f64> = links
                        .iter()
                        .filter_map(|&(a, b)| {
                            if down && b == n {
                                Some(pos[a])
                            } else if !down && a == n {
                                Some(pos[b])
                            } else {
                                None
                            }
                        })
                        .collect();
                    let v = if nb.is_empty() { pos[n] } else { nb.iter().sum::<f64>() / nb.len() as f64 };
                    (v, n)
                })
                .collect();
            let mut sorted = bary.clone();
            sorted.sort_by(|a, b| a.0.total_cmp(&b.0).then(pos[a.1].total_cmp(&pos[b.1])));
            layers[l] = sorted.into_iter().map(|x| x.1).collect();
            set_pos(&layers, &mut pos);
        }
    }

    // Geometry.
    let mut out_deg = vec![0usize; nodes.len()];
    let mut in_deg = vec![0usize; nodes.len()];
    for (a, b) in &links {
        out_deg[*a] += 1;
        in_deg[*b] += 1;
    }
    let layer_w: Vec<f64> = layers
        .iter()
        .map(|l| {
            l.iter()
                .map(|&n| {
                    let nd = &nodes[n];
                    match nd.kind {
                        NodeKind::Dummy => 0.0,
                        _ => {
                            nd.lines
                                .iter()
                                .enumerate()
                                .map(|(i, s)| {
                                    s.chars().count() as f64 * if i == 0 { T_CHAR } else { T_SMALL_CHAR }
                                })
                                .fold(0.0, f64::max)
                                .max(110.0)
                                + 24.0
                        }
                    }
                })
                .fold(0.0, f64::max)
        })
        .collect();
    // Each gap is wide enough for the labels of the arrows that leave the layer before it.
    let mut gap_w = vec![90.0f64; n_layers];
    for a in arrows.iter().filter(|a| !a.back) {
        let l = nodes[a.path[0]].layer;
        gap_w[l] = gap_w[l].max(a.label.chars().count() as f64 * T_SMALL_CHAR + 36.0);
    }
    let mut layer_x = vec![0f64; n_layers];
    let mut x = 20.0;
    for l in 0..n_layers {
        layer_x[l] = x;
        x += layer_w[l] + gap_w[l];
    }
    let width = (x - gap_w[n_layers - 1] + 20.0).max(200.0);
    for (i, n) in nodes.iter_mut().enumerate() {
        n.h = match n.kind {
            NodeKind::Dummy => 18.0,
            _ => (20.0 * out_deg[i].max(in_deg[i]) as f64 + 12.0).max(50.0),
        };
    }
    let vgap = 26.0;
    let layer_h: Vec<f64> = layers
        .iter()
        .map(|l| l.iter().map(|&n| nodes[n].h).sum::<f64>() + vgap * l.len().saturating_sub(1) as f64)
        .collect();
    let max_h = layer_h.iter().copied().fold(0.0, f64::max);
    let has_back = arrows.iter().any(|a| a.back);
    // Back arrows between the same two boxes share one arc; their labels stack under it.
    let back_rank: Vec<usize> = (0..arrows.len())
        .map(|i| {
            let same = |a: &Arrow| a.back && a.path[..2] == arrows[i].path[..2];
            if arrows[i].back { arrows[..i].iter().filter(|a| same(a)).count() } else { 0 }
        })
        .collect();
    let extra_rows = back_rank.iter().copied().max().unwrap_or(0) as f64;
    let height = max_h + 40.0 + if has_back { 40.0 + 18.0 * extra_rows } else { 0.0 };
    for (l, members) in layers.iter().enumerate() {
        let mut y = 20.0 + (max_h - layer_h[l]) / 2.0;
        for &n in members {
            nodes[n].y = y;
            y += nodes[n].h + vgap;
        }
    }
    let node_x = |n: usize| layer_x[nodes[n].layer];
    let node_w = |n: usize| layer_w[nodes[n].layer];

    // Ports: the arrows leaving (entering) a box are spread along its right (left) side,
    // ordered by the height of the other end so that they do not cross at the box.
    let mut out_port = vec![0f64; links.len()];
    let mut in_port = vec![0f64; links.len()];
    for (n, node) in nodes.iter().enumerate() {
        let mut outs: Vec<usize> = (0..links.len()).filter(|&k| links[k].0 == n).collect();
        outs.sort_by(|&a, &b| pos[links[a].1].total_cmp(&pos[links[b].1]).then(a.cmp(&b)));
        for (j, &k) in outs.iter().enumerate() {
            out_port[k] = node.y + node.h * (j as f64 + 1.0) / (outs.len() as f64 + 1.0);
        }
        let mut ins: Vec<usize> = (0..links.len()).filter(|&k| links[k].1 == n).collect();
        ins.sort_by(|&a, &b| pos[links[a].0].total_cmp(&pos[links[b].0]).then(a.cmp(&b)));
        for (j, &k) in ins.iter().enumerate() {
            in_port[k] = node.y + node.h * (j as f64 + 1.0) / (ins.len() as f64 + 1.0);
        }
    }

    let mut s = String::new();
    let _ = write!(
        s,
        "<svg width=\"{w:.0}\" height=\"{h:.0}\" viewBox=\"0 0 {w:.0} {h:.0}\" xmlns=\"http://www.w3.org/2000/svg\" \
         font-family=\"sans-serif\" role=\"img\" aria-label=\"topology of {}\">\n\
         <defs><marker id=\"fl-arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"8\" markerHeight=\"8\" \
         orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#555\"/></marker>{}</defs>\n\
         <rect x=\"0\" y=\"0\" width=\"{w:.0}\" height=\"{h:.0}\" fill=\"#ffffff\"/>\n",
        escape(&spec.name),
        // Only drawings with messages define the second marker, so that the others keep
        // their bytes.
        if arrows.iter().any(|a| a.message) {
            format!(
                "<marker id=\"fl-arrow-msg\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"8\" \
                 markerHeight=\"8\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"{MSG}\"/></marker>"
            )
        } else {
            String::new()
        },
        w = width,
        h = height
    );
    if nodes.is_empty() {
        s.push_str("<text x=\"20\" y=\"30\" font-size=\"13\" fill=\"#666\">no services</text>\n");
    }

    // Arrows first, then boxes over them, then labels over everything.
    let mut label_svg = String::new();
    let mut placed: Vec<(f64, f64, f64, f64)> = Vec::new();
    let mut link_k = 0usize;
    for (ai, a) in arrows.iter().enumerate() {
        let dash = if a.message {
            " stroke-dasharray=\"3 3\""
        } else if a.optional {
            " stroke-dasharray=\"6 4\""
        } else {
            ""
        };
        let (stroke, marker) = if a.message { (MSG, "fl-arrow-msg") } else { ("#555", "fl-arrow") };
        if a.back {
            let (f, t) = (a.path[0], a.path[1]);
            let (x1, y1) = (node_x(f) + node_w(f) / 2.0, nodes[f].y + nodes[f].h);
            let (x2, y2) =
                (node_x(t) + node_w(t) / 2.0 + if f == t { 20.0 } else { 0.0 }, nodes[t].y + nodes[t].h);
            let low = max_h + 50.0;
            let _ = writeln!(
                s,
                "<path d=\"M{x1:.1},{y1:.1} C{x1:.1},{low:.1} {x2:.1},{low:.1} {x2:.1},{y2:.1}\" fill=\"none\" stroke=\"{stroke}\" \
                 stroke-width=\"1.4\"{dash} marker-end=\"url(#{marker})\"/>"
            );
            let ly = low - 8.0 + 18.0 * back_rank[ai] as f64;
            push_label(&mut label_svg, &a.label, (x1 + x2) / 2.0, ly);
            placed.push(label_rect(&a.label, (x1 + x2) / 2.0, ly));
            continue;
        }
        let mut pts: Vec<(f64, f64)> = Vec::new();
        let mut first_seg = ((0.0, 0.0), (0.0, 0.0));
        for (j, w) in a.path.windows(2).enumerate() {
            let k = link_k;
            link_k += 1;
            let (f, t) = (w[0], w[1]);
            let p1 = if nodes[f].kind == NodeKind::Dummy {
                (node_x(f) + node_w(f), nodes[f].y + nodes[f].h / 2.0)
            } else {
                (node_x(f) + node_w(f), out_port[k])
            };
            let p2 = if nodes[t].kind == NodeKind::Dummy {
                (node_x(t), nodes[t].y + nodes[t].h / 2.0)
            } else {
                (node_x(t), in_port[k])
            };
            if j == 0 {
                first_seg = (p1, p2);
            }
            if pts.last() != Some(&p1) {
                pts.push(p1);
            }
            pts.push(p2);
        }
        let mut d = format!("M{:.1},{:.1}", pts[0].0, pts[0].1);
        for w in pts.windows(2) {
            let ((x1, y1), (x2, y2)) = (w[0], w[1]);
            if (y1 - y2).abs() < 0.05 || (x2 - x1) < 1.0 {
                let _ = write!(d, " L{x2:.1},{y2:.1}");
            } else {
                let mx = (x1 + x2) / 2.0;
                let _ = write!(d, " C{mx:.1},{y1:.1} {mx:.1},{y2:.1} {x2:.1},{y2:.1}");
            }
        }
        let _ = writeln!(
            s,
            "<path d=\"{d}\" fill=\"none\" stroke=\"{stroke}\" stroke-width=\"1.4\"{dash} marker-end=\"url(#{marker})\"/>"
        );
        // The label sits on the first segment, at the first of a few places along it
        // where it overlaps no other label.
        let ((x1, y1), (x2, y2)) = first_seg;
        let at = |t: f64| {
            if (y1 - y2).abs() < 0.05 {
                (x1 + t * (x2 - x1), y1)
            } else {
                // The cubic of the path with both control points at the middle x.
                let u = 1.0 - t;
                let mx = (x1 + x2) / 2.0;
                let x = u * u * u * x1 + 3.0 * u * u * t * mx + 3.0 * u * t * t * mx + t * t * t * x2;
                let y = (u * u * u + 3.0 * u * u * t) * y1 + (3.0 * u * t * t + t * t * t) * y2;
                (x, y)
            }
        };
        let choice = [0.5, 0.35, 0.65, 0.25, 0.75]
            .into_iter()
            .map(at)
            .find(|(x, y)| {
                let r = label_rect(&a.label, *x, *y);
                // Within the gap between the boxes, over no other label.
                r.0 >= x1 && r.2 <= x2 && !placed.iter().any(|p| overlaps(p, &r))
            })
            .unwrap_or_else(|| at(0.5));
        push_label(&mut label_svg, &a.label, choice.0, choice.1);
        placed.push(label_rect(&a.label, choice.0, choice.1));
    }
    for (i, n) in nodes.iter().enumerate() {
        if n.kind == NodeKind::Dummy {
            continue;
        }
        let (x, w) = (node_x(i), node_w(i));
        let (fill, stroke, dash) = match n.kind {
            NodeKind::Client => ("#f3f3f3", "#888", " stroke-dasharray=\"4 3\""),
            NodeKind::Topic => ("#fdf1dc", MSG, ""),
            _ => ("#eaf2fb", "#3a6ea5", ""),
        };
        // A topic is a pill: its ends are half circles.
        let rx = if n.kind == NodeKind::Topic { format!("{:.1}", n.h / 2.0) } else { "6".into() };
        let _ = writeln!(
            s,
            "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{w:.1}\" height=\"{:.1}\" rx=\"{rx}\" fill=\"{fill}\" stroke=\"{stroke}\" \
             stroke-width=\"1.3\"{dash}/>",
            n.y, n.h
        );
        let cx = x + w / 2.0;
        let cy = n.y + n.h / 2.0;
        if let Some(l0) = n.lines.first() {
            let _ = writeln!(
                s,
                "<text x=\"{cx:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"{T_FONT}\" font-weight=\"bold\" \
                 fill=\"#1d1d1d\">{}</text>",
                cy - 3.0,
                escape(l0)
            );
        }
        if let Some(l1) = n.lines.get(1) {
            let _ = writeln!(
                s,
                "<text x=\"{cx:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"{T_SMALL}\" fill=\"#444\">{}</text>",
                cy + 13.0,
                escape(l1)
            );
        }
    }
    s.push_str(&label_svg);
    s.push_str("</svg>\n");
    s
}

/// The box `(x0, y0, x1, y1)` of a label centred at `(x, y)`, with a little margin.
fn label_rect(text: &str, x: f64, y: f64) -> (f64, f64, f64, f64) {
    let w = text.chars().count() as f64 * T_SMALL_CHAR + 8.0;
    (x - w / 2.0 - 2.0, y - 10.0, x + w / 2.0 + 2.0, y + 10.0)
}

fn overlaps(a: &(f64, f64, f64, f64), b: &(f64, f64, f64, f64)) -> bool {
    a.0 < b.2 && b.0 < a.2 && a.1 < b.3 && b.1 < a.3
}

/// An arrow's label, centred at `(x, y)` on a white halo so it stays legible where it
/// crosses a line.
fn push_label(s: &mut String, text: &str, x: f64, y: f64) {
    let w = text.chars().count() as f64 * T_SMALL_CHAR + 8.0;
    let _ = writeln!(
        s,
        "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{w:.1}\" height=\"16\" rx=\"3\" fill=\"#ffffff\" fill-opacity=\"0.9\"/>\n\
         <text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"{T_SMALL}\" fill=\"#333\">{}</text>",
        x - w / 2.0,
        y - 8.0,
        y + 4.0,
        escape(text)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(escape("a<b & \"c\" 'd'"), "a&lt;b &amp; &quot;c&quot; &#39;d&#39;");
        assert_eq!(md("a|b *c* <x>"), "a\\|b \\*c\\* \\<x\\>");
    }
}
