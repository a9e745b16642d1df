//! The report of a comparison: `compare.html` and `compare.md`. The page leads with
//! its answer: the verdict (per headline figure the best variant, its paired difference
//! to the baseline and to the runner-up, significant or "no difference"), what each
//! variant changes, and the threshold verdicts per variant; then the topology, the
//! tables (one row per variant, the best marked, each difference marked) and the overlay
//! charts with their confidence bands.

mod tables;
mod verdict;

pub use tables::{compare_tables_html, compare_tables_md};

use super::{CSS, charts_md, escape, md, topology::topology_svg};
use crate::charts::{Chart, comparison_charts};
use crate::compare::{ATTRIBUTION, Comparison, headlines, seeds_label};
use crate::report::{OutError, write_out_dir};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use verdict::{answer_html, changes_html, interval_text, thresholds_html, verdict_table};

/// The comparison page's own styles, on top of the shared ones: marks, the verdict,
/// and tables that scroll inside their box on a narrow screen and wrap in print.
const COMPARE_CSS: &str = "\
.scroll{overflow-x:auto;max-width:100%;margin:0 0 1.6em}.scroll table{margin:0}\
table.cmp td{white-space:nowrap}table.cmp td .d{display:block;font-size:.82em;color:#555}\
table.cmp th small,table.verdict th small{display:block;font-weight:normal;color:#666}\
small.caveat{display:block;font-weight:normal;color:#8a4b00;max-width:34em}\
.best{font-weight:700}.sig{color:#0b4f8a}.nodiff{color:#777}\
.pass{color:#1a7f37;font-weight:600}.fail{color:#b42318;font-weight:600}.partial{color:#9a6700;font-weight:600}\
.answer{font-size:1.08em;max-width:60em;margin:.4em 0 1em;padding:.6em .9em;background:#f6f8fa;border-left:4px solid #0b4f8a}\
.answer p{margin:.25em 0}\
.note{color:#555;font-size:.9em;max-width:60em}code.cmd{display:block;white-space:pre-wrap;word-break:break-all;\
background:#f4f4f4;padding:.4em .6em;font-size:.88em}\
ul.changes{margin:0;padding-left:1.1em}\
dl.gloss dt{font-weight:600}dl.gloss dd{margin:0 0 .4em 1.2em}\
@media (max-width:600px){body{padding:12px 12px 48px}h1{font-size:1.35em}\
table.verdict thead{display:none}table.verdict,table.verdict tbody,table.verdict tr,table.verdict td{display:block}\
table.verdict tr{border-bottom:1px solid #ccc;padding:.3em 0}table.verdict td{border:0;padding:.1em .3em}\
table.verdict td::before{content:attr(data-l);display:block;font-size:.8em;color:#666}}\
@media print{.scroll{overflow:visible}table{font-size:.72em}th,td,td.n,th.n,table.cmp td{white-space:normal}\
figure{break-inside:avoid}}\
";

/// Escapes the comparison's cells: `&`, `<`, `>` and `"` (its tables have always been
/// escaped this way, not by [`escape`]).
fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn unit_label(name: &str, unit: &str) -> String {
    if unit.is_empty() { name.to_string() } else { format!("{name} ({unit})") }
}

/// What the page's figures mean.
const GLOSSARY: &[(&str, &str)] = &[
    (
        "success",
        "responses that succeeded (ok, degraded included) over those that finished in the window, in percent; requests still in flight at the end are not counted",
    ),
    ("goodput", "successful responses per second of the measured window"),
    (
        "p50, p99, p99.9",
        "latency percentiles of successful responses only, in milliseconds, over the whole window (per run, then averaged over the seeds)",
    ),
    (
        "retries/request, hedges/request",
        "extra attempts on the call edges this workload's requests traverse, per request it sent",
    ),
    ("breaker open", "seconds a circuit breaker on those edges was open, summed over the caller's replicas"),
    (
        "mean ± x",
        "the mean over the seeds and the half-width of its 95% confidence interval (Student's t, n − 1 degrees of freedom)",
    ),
    (
        "Δ",
        "the paired difference to the baseline: per seed, variant minus baseline, then mean ± its 95% interval; marked significant (the interval excludes zero) or no difference (it contains zero)",
    ),
    ("★", "the variant with the best mean at that figure (for figures with a direction)"),
];

fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{CSS}{COMPARE_CSS}</style>\n</head>\n<body>\n{body}</body>\n</html>\n",
        escape(title)
    )
}

fn charts_html(charts: &[Chart]) -> String {
    super::charts_html(charts)
}

/// What a saga's figures mean, when the comparison has sagas.
const SAGA_GLOSSARY: &[(&str, &str)] = &[(
    "completed, compensated, compensation failed, abandoned, orphaned",
    "a saga's outcomes as a share of the sagas started in the measured window (in flight ones included); \
     orphaned: effects nothing undid, per 1000 sagas started",
)];

/// What a consumer group's figures mean, when the comparison has topics.
const GROUP_GLOSSARY: &[(&str, &str)] = &[(
    "delivered, duplicates, dead-lettered, max lag, a group's p99",
    "messages published in the measured window that the group handled, handled again after a success, or \
     dead-lettered; max lag: the most messages published and not yet handled at any instant of the \
     measured window; a group's p99: from publish to the first successful handling, in ms",
)];

/// The files of a comparison's report, `(name, contents)` in the order they are
/// written: the overlay SVGs, `topology.svg` (of the first variant), `compare.md`,
/// `compare.html`.
pub fn compare_report_files(c: &Comparison) -> Vec<(String, String)> {
    let (scenario, description, seeds) = (&c.scenario, &c.description, &c.seeds);
    let charts = comparison_charts(c);
    let variants = c.variant_runs();
    let topo = variants.first().map(|v| topology_svg(&v.spec));
    let n = seeds.len();
    let window = c.specs.first().map(|s| {
        let (w, d) = (s.warmup_ns as f64 / 1e9, s.duration_ns as f64 / 1e9);
        if w > 0.0 {
            format!("measured window {w:.0} s to {d:.0} s (after a {w:.0} s warm-up)")
        } else {
            format!("measured window 0 s to {d:.0} s")
        }
    });
    let meta = format!(
        "{} variant{} × n = {n} seed{} each ({}) · baseline: {} · {}",
        c.variants.len(),
        if c.variants.len() == 1 { "" } else { "s" },
        if n == 1 { "" } else { "s" },
        seeds_label(seeds),
        c.baseline(),
        window.unwrap_or_default()
    );
    let title = format!("faultline: {scenario} · comparison");
    let hs = headlines(c);
    let dof = if n >= 2 {
        format!("Student's t with {} degrees of freedom", n - 1)
    } else {
        "one seed: no interval".into()
    };

    let mut body = format!(
        "<h1>{} <span class=\"v\">· comparison</span></h1>\n<p class=\"meta\">{}</p>\n",
        escape(scenario),
        escape(&meta)
    );
    if !description.is_empty() {
        let _ = writeln!(body, "<p class=\"desc\">{}</p>", escape(description));
    }
    let _ = writeln!(body, "<h2 id=\"verdict\">Verdict</h2>");
    body.push_str(&answer_html(c, &hs));
    let _ = writeln!(
        body,
        "<p class=\"note\">Per figure, the variant with the best mean over n = {n} seeds. Every variant runs the \
         same seeds, so differences are paired seed by seed: the mean difference and its 95% interval ({dof}); \
         <span class=\"sig\">significant</span> when the interval excludes zero, <span class=\"nodiff\">no \
         difference</span> when it contains zero. Latencies are of successful responses only.</p>"
    );
    body.push_str(&verdict_table(c, &hs));
    let _ = writeln!(body, "<h2 id=\"changes\">What each variant changes</h2>");
    body.push_str(&changes_html(c));
    let _ = writeln!(body, "<h2 id=\"thresholds\">Thresholds by variant</h2>");
    body.push_str(&thresholds_html(c));
    if let Some(cmd) = &c.command {
        let _ = writeln!(
            body,
            "<p class=\"note\">Reproduce (faultline {}): <code class=\"cmd\">{}</code> Data: <a \
             href=\"compare.json\">compare.json</a>.</p>",
            env!("CARGO_PKG_VERSION"),
            escape(cmd)
        );
    }
    if let Some(t) = &topo {
        let _ = writeln!(body, "<h2>Topology</h2>\n<figure>\n{}\n</figure>", t.trim_end());
    }
    let _ = writeln!(
        body,
        "<h2 id=\"tables\">Figures by variant</h2>\n<p class=\"note\">Each cell: mean ± 95% interval over n = {n} \
         seeds ({}) of each seed's figure over the measured window; latencies of successful responses only; ★ best; \
         below it, Δ: the paired difference to {}. {}.</p>",
        escape(&seeds_label(seeds)),
        escape(c.baseline()),
        escape(&capitalise(ATTRIBUTION))
    );
    body.push_str(&compare_tables_html(c));
    body.push_str(&charts_html(&charts));
    body.push_str("<h2 id=\"glossary\">Glossary</h2>\n<dl class=\"gloss\">\n");
    let headings: Vec<String> = c.tables().into_iter().map(|t| t.heading).collect();
    let has = |prefix: &str| headings.iter().any(|h| h.starts_with(prefix));
    let extra = [(has("saga "), SAGA_GLOSSARY), (has("consumer group "), GROUP_GLOSSARY)];
    for (k, v) in GLOSSARY.iter().chain(extra.iter().filter(|e| e.0).flat_map(|e| e.1.iter())) {
        let _ = writeln!(body, "<dt>{}</dt><dd>{}</dd>", escape(k), escape(v));
    }
    body.push_str("</dl>\n");

    let mut m = format!("# {}\n\n{}\n\n", md(&title), md(&meta));
    if !description.is_empty() {
        let _ = write!(m, "{}\n\n", md(description));
    }
    m.push_str("## Verdict\n\n");
    for h in &hs {
        let w = &h.winner;
        let best = if w.best.is_empty() {
            "no winner (all equal)".to_string()
        } else {
            w.best.iter().map(|i| c.variants[*i].clone()).collect::<Vec<_>>().join(", ")
        };
        let mut vs = match &w.vs_baseline {
            Some(p) => format!("; vs {}: {} ({})", c.baseline(), interval_text(p, h.unit), p.verdict.word()),
            None => String::new(),
        };
        if let Some((r, p)) = &w.vs_runner_up {
            vs += &format!(
                "; vs runner-up {}: {} ({})",
                c.variants[*r],
                interval_text(p, h.unit),
                p.verdict.word()
            );
        }
        if let Some(g) = &h.caveat {
            vs += &format!("; but {}", g.words(&c.variants));
        }
        let _ = writeln!(
            m,
            "- {} · {} ({} is better): best {}{}",
            md(&h.table),
            md(&unit_label(h.figure, h.unit)),
            h.better.word().unwrap_or("neither"),
            md(&best),
            md(&vs)
        );
    }
    m.push_str("\n## What each variant changes\n\n");
    for (v, name) in c.variants.iter().enumerate() {
        let what = if c.changes[v].is_empty() {
            "nothing (the scenario as written)".to_string()
        } else {
            c.changes[v].join("; ")
        };
        let _ = writeln!(m, "- **{}**: {}", md(name), md(&what));
    }
    m.push('\n');
    if let Some(cmd) = &c.command {
        let _ = write!(m, "Reproduce: `{cmd}`\n\n");
    }
    if topo.is_some() {
        m.push_str("## Topology\n\n![topology](topology.svg)\n\n");
    }
    let _ = write!(m, "## Summary\n\n{}\n\n", compare_tables_md(c).trim_end());
    m.push_str(&charts_md(&charts));

    let mut files: Vec<(String, String)> = charts.into_iter().map(|c| (c.file, c.svg)).collect();
    if let Some(t) = topo {
        files.push(("topology.svg".into(), t));
    }
    files.push(("compare.md".into(), m));
    files.push(("compare.html".into(), page(&title, &body)));
    files
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// Writes the files of [`compare_report_files`] into `dir` under the rule of `--out`
/// ([`write_out_dir`]); returns the paths written, the manifest last.
pub fn write_compare_report(dir: &Path, c: &Comparison) -> Result<Vec<PathBuf>, OutError> {
    write_out_dir(dir, &compare_report_files(c), &[])
}
