//! The report of one run: `report.html` and `report.md`. The page reads as a review:
//! the verdict and tiles ([`super::first`]), phases, how to reproduce it, the topology
//! with its sagas and topics, what was simulated in words, the summary tables
//! ([`super::run_tables`], read from the run's [`Summary`]), a glossary, the charts.

use super::num::{self, int};
use super::run_tables::summary_tables;
use super::{
    Table, charts_html, charts_md, escape, first, flow, md, page, seconds, topology::topology_svg, words,
};
use crate::charts::run_charts;
use crate::model::RunOutput;
use crate::report::{OutError, Summary, write_out_dir};
use crate::spec::Spec;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

// ---- the page ------------------------------------------------------------------------

/// Where the run came from, for the page's "Reproduce" section: what the CLI knows and
/// the spec does not.
#[derive(Clone, Debug, Default)]
pub struct RunContext {
    /// The scenario file as given on the command line.
    pub scenario_file: Option<String>,
    /// The command that replays the run exactly (`faultline run FILE --seed N ...`).
    pub replay: Option<String>,
    /// The data files written beside the page (`summary.json`, `timeseries.csv`).
    pub data_files: Vec<String>,
    /// The variants the scenario file defines, in file order.
    pub variants: Vec<String>,
}

impl RunContext {
    /// What the CLI's `run --out` knows: the file, the replay command, and the two data
    /// files it writes beside the page.
    pub fn cli(scenario_file: &str, replay: &str) -> RunContext {
        RunContext {
            scenario_file: Some(scenario_file.to_string()),
            replay: Some(replay.to_string()),
            data_files: vec!["summary.json".into(), "timeseries.csv".into()],
            variants: Vec::new(),
        }
    }

    fn replay_or_default(&self, spec: &Spec) -> String {
        self.replay.clone().unwrap_or_else(|| {
            let file = self.scenario_file.as_deref().unwrap_or("SCENARIO.json");
            let mut s = format!("faultline run {file} --seed {}", spec.seed);
            if let Some(v) = &spec.variant {
                s += &format!(" --variant {v}");
            }
            s
        })
    }
}

/// The glossary: what each figure covers, `(term, meaning)`.
const GLOSSARY: [(&str, &str); 12] = [
    (
        "measured window",
        "the run after its warm-up; every figure of the tables and tiles counts the requests, calls and sagas \
         that started in it; the charts draw the whole run, per interval, the warm-up and the faults shaded, \
         each step of a workload's schedule a thin vertical rule",
    ),
    ("ok", "responses that succeeded, degraded ones included"),
    (
        "degraded",
        "a successful response that lacks an optional part (an optional branch of a parallel step failed); \
         counted in ok",
    ),
    ("failed", "responses that failed, by cause (timeout, rejected, unavailable, circuit open, …)"),
    (
        "in flight",
        "started in the measured window and not finished when the run ended; neither ok nor failed",
    ),
    (
        "success",
        "ok ÷ (ok + failed): of the requests that finished, the share that succeeded; the one denominator of \
         every success in the tables, tiles and phases (a saga's completed % is over the sagas started instead)",
    ),
    ("goodput", "successful responses per second of the measured window (or of the phase)"),
    (
        "p50, p90, p99, p99.9, max",
        "percentiles of the latency of successful responses only, from the client's send to its answer, \
         retries and backoff included, over the measured window (or the phase); the latency of failed ones is \
         in summary.json (failed_latency_ms)",
    ),
    (
        "utilisation",
        "busy worker time over worker time available, all replicas of the service together, over the measured \
         window (the charts: over each interval)",
    ),
    (
        "queue max",
        "the longest queue of any one replica at any instant (the charts show the mean per replica at each \
         interval's end)",
    ),
    (
        "phase, recovery",
        "phases cut the window at each fault and schedule step; recovery counts seconds from a fault's end until \
         the workload's success and p99 are back near their values before the first fault",
    ),
    (
        "orphaned, lag",
        "orphaned: saga effects nothing undid; lag: messages published and not yet handled (max lag: the most at \
         any instant of the measured window; the charts read it at each interval's end)",
    ),
];

fn li(items: &[String]) -> String {
    let mut s = String::from("<ul class=\"words\">\n");
    for i in items {
        let _ = writeln!(s, "<li>{i}</li>");
    }
    s.push_str("</ul>\n");
    s
}

/// What was simulated, in words, as list items of HTML (names escaped).
fn simulated_items(spec: &Spec, s: &Summary, ctx: &RunContext) -> Vec<(&'static str, Vec<String>)> {
    let mut out = Vec::new();
    let edges = words::policy_edges(spec);
    let policies: Vec<String> = spec
        .policies
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let on = edges.get(i).filter(|e| !e.is_empty()).map(|e| {
                let names: Vec<String> = e.iter().map(|n| escape(&words::arrow(n))).collect();
                format!(" <span class=\"on\">on {}</span>", names.join(", "))
            });
            format!(
                "<b>{}</b>{}: {}",
                escape(&p.name),
                on.unwrap_or_else(|| " <span class=\"on\">(unused)</span>".into()),
                escape(&words::policy(p))
            )
        })
        .collect();
    out.push((
        "Policies",
        if policies.is_empty() {
            vec!["none: every call is one attempt with no timeout".into()]
        } else {
            policies
        },
    ));
    let faults: Vec<String> = spec
        .faults
        .iter()
        .map(|f| format!("<b>{}</b>: {}", escape(&f.name), escape(&words::fault(spec, f))))
        .collect();
    out.push(("Faults", if faults.is_empty() { vec!["none".into()] } else { faults }));
    let guards: Vec<String> = super::guards::service_lines(spec)
        .into_iter()
        .map(|(svc, what)| format!("<b>{}</b>: {}", escape(&svc), escape(&what)))
        .collect();
    if !guards.is_empty() {
        out.push(("Overload controls", guards));
    }
    let workloads: Vec<String> = spec
        .workloads
        .iter()
        .map(|w| {
            let arrival = match &w.arrival {
                crate::spec::Arrival::Poisson { rate_per_s } => {
                    format!("Poisson arrivals at {}/s", num::rate(*rate_per_s))
                }
                crate::spec::Arrival::Constant { rate_per_s } => {
                    format!("evenly spaced arrivals at {}/s", num::rate(*rate_per_s))
                }
                crate::spec::Arrival::Closed { users, think } => {
                    format!("{} users in a closed loop, thinking {}", int(*users as u64), words::dist(think))
                }
            };
            let target = match w.saga.and_then(|g| spec.sagas.get(g as usize)) {
                Some(g) => format!("saga {}", g.name),
                None => spec.endpoints.get(w.target as usize).map(|e| e.name.clone()).unwrap_or_default(),
            };
            let mut t = format!("<b>{}</b> → {}: {}", escape(&w.name), escape(&target), escape(&arrival));
            if let Some(p) = w.priority {
                let _ = write!(t, ", priority {}", p.name());
            }
            for c in &w.schedule {
                let ramp =
                    if c.ramp_ns > 0 { format!(" (ramp {})", words::dur(c.ramp_ns)) } else { String::new() };
                let _ = write!(
                    t,
                    "; from {} {}/s{}",
                    escape(&words::dur(c.at_ns)),
                    num::rate(c.rate_per_s),
                    escape(&ramp)
                );
            }
            t
        })
        .collect();
    out.push(("Workloads", workloads));
    let thresholds: Vec<String> = s
        .thresholds
        .iter()
        .map(|t| format!("<b>{}</b>: {}", escape(&t.scope), escape(&t.expression)))
        .collect();
    out.push((
        "Thresholds",
        if thresholds.is_empty() {
            vec!["none declared: add \"thresholds\" to the scenario to get a verdict".into()]
        } else {
            thresholds
        },
    ));
    let mut variant = vec![match &spec.variant {
        Some(v) => format!("<b>{}</b> applied over the base scenario", escape(v)),
        None => "the base scenario, no variant applied".into(),
    }];
    let others: Vec<String> =
        ctx.variants.iter().filter(|v| spec.variant.as_ref() != Some(*v)).map(|v| escape(v)).collect();
    if !others.is_empty() {
        let file = escape(ctx.scenario_file.as_deref().unwrap_or("SCENARIO.json"));
        variant.push(format!(
            "the scenario also defines {}: run one with <code>--variant NAME</code>, or weigh them against each \
             other with <code>faultline compare {file} --variants {}</code>",
            others.join(", "),
            ctx.variants.iter().map(|v| escape(v)).collect::<Vec<_>>().join(",")
        ));
    }
    out.push(("Variant", variant));
    out
}

/// The policies and faults in words, as Markdown lists.
fn simulated_md(spec: &Spec) -> String {
    let mut m = String::new();
    let edges = words::policy_edges(spec);
    if !spec.policies.is_empty() {
        m.push_str("**Policies**\n\n");
        for (i, p) in spec.policies.iter().enumerate() {
            let on: Vec<String> = edges.get(i).into_iter().flatten().map(|e| words::arrow(e)).collect();
            let on = if on.is_empty() { "unused".to_string() } else { format!("on {}", on.join(", ")) };
            let _ = writeln!(m, "- {} ({}): {}", md(&p.name), md(&on), md(&words::policy(p)));
        }
        m.push('\n');
    }
    if !spec.faults.is_empty() {
        m.push_str("**Faults**\n\n");
        for f in &spec.faults {
            let _ = writeln!(m, "- {}: {}", md(&f.name), md(&words::fault(spec, f)));
        }
        m.push('\n');
    }
    let guards = super::guards::service_lines(spec);
    if !guards.is_empty() {
        m.push_str("**Overload controls**\n\n");
        for (svc, what) in guards {
            let _ = writeln!(m, "- {}: {}", md(&svc), md(&what));
        }
        m.push('\n');
    }
    m
}

/// The files of a run's report, `(name, contents)` in the order they are written:
/// every chart's SVG, `topology.svg`, `report.md`, `report.html`. With no
/// [`RunContext`]: see [`run_report_files_in`].
pub fn run_report_files(spec: &Spec, out: &RunOutput, summary: &Summary) -> Vec<(String, String)> {
    run_report_files_in(spec, out, summary, &RunContext::default())
}

/// [`run_report_files`] with what the CLI knows of the run (file, replay command, the
/// data files beside the page).
pub fn run_report_files_in(
    spec: &Spec,
    out: &RunOutput,
    summary: &Summary,
    ctx: &RunContext,
) -> Vec<(String, String)> {
    let charts = run_charts(spec, out);
    let topo = topology_svg(spec);
    let version = env!("CARGO_PKG_VERSION");
    let replay = ctx.replay_or_default(spec);

    let variant = spec.variant.clone();
    let heading = match &variant {
        Some(v) => format!("{} <span class=\"v\">· {}</span>", escape(&spec.name), escape(v)),
        None => escape(&spec.name),
    };
    let meta = format!(
        "{} · seed {} · {} simulated, the first {} (warm-up) left out of every figure · {} events · time series every {}",
        variant.as_deref().map(|v| format!("variant {v}")).unwrap_or_else(|| "base scenario".into()),
        spec.seed,
        seconds(spec.duration_ns),
        seconds(spec.warmup_ns),
        int(summary.events),
        seconds(spec.interval_ns),
    );
    let tables = summary_tables(summary);
    let phase_table = Table {
        caption: "Phases: requests that started in each phase; in flight: still running when the run ended; \
                  success over those that finished; latency of successful responses, in ms unless marked s",
        header: vec![
            "phase",
            "span",
            "workload",
            "offered",
            "ok",
            "of which degraded",
            "failed",
            "in flight",
            "success",
            "goodput/s",
            "p50",
            "p99",
        ],
        rows: first::phase_rows(summary),
        text_cols: vec![1, 2],
    };

    // The first screen.
    let mut body = format!("<h1>{heading}</h1>\n<p class=\"meta\">{}</p>\n", escape(&meta));
    if !spec.description.is_empty() {
        let _ = writeln!(body, "<p class=\"desc\">{}</p>", escape(&spec.description));
    }
    body += &first::first_screen_html(summary);
    body.push_str("<h2 id=\"phases\">Phases</h2>\n");
    if phase_table.rows.is_empty() {
        let _ = writeln!(body, "<p class=\"note\">{}</p>", escape(first::NO_PHASES));
    } else {
        let _ = writeln!(body, "<div class=\"scroll\">\n{}</div>", phase_table.html());
    }

    // Reproduce.
    let file = ctx.scenario_file.as_deref().unwrap_or("(not known: the page was written by the library)");
    let _ = writeln!(
        body,
        "<h2 id=\"reproduce\">Reproduce</h2>\n<div class=\"repro\">\n<p><code class=\"cmd\">{}</code></p>\n\
         <p>faultline {} · seed {} · scenario file <code>{}</code>. Same command, same version: the same bytes.</p>",
        escape(&replay),
        escape(version),
        spec.seed,
        escape(file)
    );
    if ctx.data_files.is_empty() {
        body.push_str("<p>The data behind this page: <code>summary.json</code> and <code>timeseries.csv</code>, written by <code>faultline run --out</code>.</p>\n");
    } else {
        let links: Vec<String> =
            ctx.data_files.iter().map(|f| format!("<a href=\"{0}\">{0}</a>", escape(f))).collect();
        let _ = writeln!(body, "<p>The data behind this page, beside it: {}.</p>", links.join(" and "));
    }
    body.push_str("</div>\n");

    // Topology.
    let _ = writeln!(
        body,
        "<h2 id=\"topology\">Topology</h2>\n<div class=\"scroll topo\">\n{}\n</div>\n{}{}",
        topo.trim_end(),
        super::topology::legend(spec),
        flow::flows_html(spec)
    );

    // What was simulated.
    body.push_str("<h2 id=\"simulated\">What was simulated</h2>\n");
    for (title, items) in simulated_items(spec, summary, ctx) {
        let _ = write!(body, "<h3>{title}</h3>\n{}", li(&items));
    }

    body.push_str("<h2 id=\"tables\">Summary tables</h2>\n");
    for t in &tables {
        let _ = writeln!(body, "<div class=\"scroll\">\n{}</div>", t.html());
    }
    body.push_str("<h2 id=\"glossary\">What each figure covers</h2>\n<dl class=\"glossary\">\n");
    // Sagas' and topics' terms only on a page that has sagas or topics.
    let messaging = !summary.sagas.is_empty() || !summary.topics.is_empty();
    for (term, meaning) in GLOSSARY.iter().filter(|(t, _)| messaging || *t != "orphaned, lag") {
        let _ = writeln!(body, "<dt>{}</dt><dd>{}</dd>", escape(term), escape(meaning));
    }
    body.push_str("</dl>\n");
    body.push_str(&charts_html(&charts));
    let title = match &variant {
        Some(v) => format!("faultline: {} · {v}", spec.name),
        None => format!("faultline: {}", spec.name),
    };

    let mut m = format!("# {}\n\n{}\n\n", md(&title), md(&meta));
    if !spec.description.is_empty() {
        let _ = write!(m, "{}\n\n", md(&spec.description));
    }
    let _ = write!(m, "**{}**\n\n", md(&first::verdict_text(summary)));
    if !phase_table.rows.is_empty() {
        m.push_str(&phase_table.markdown());
        m.push('\n');
    }
    let _ = write!(m, "Reproduce: `{}` (faultline {version})\n\n", replay.replace('`', "'"));
    m.push_str("## Topology\n\n![topology](topology.svg)\n\n");
    m.push_str(&flow::flows_md(spec));
    m.push_str(&simulated_md(spec));
    m.push_str("## Summary\n\n");
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
