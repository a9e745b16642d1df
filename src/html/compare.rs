//! The report of a comparison: `compare.html` and `compare.md`, the comparison's tables
//! (the cells [`Comparison::tables`] computes) laid out in Markdown and HTML, the
//! topology of the first variant and the overlay charts.

use super::{charts_html, charts_md, escape, md, page, topology::topology_svg};
use crate::charts::compare_charts;
use crate::compare::{Comparison, seeds_label};
use crate::report::{OutError, write_out_dir};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The comparison's tables in Markdown (compare.md and pull requests).
pub fn compare_tables_md(c: &Comparison) -> String {
    let mut s = String::new();
    for t in c.tables() {
        let _ = writeln!(
            s,
            "\n**{}** (mean ± 95% CI over {}; Δ paired with {})\n",
            t.heading,
            seeds_label(&c.seeds),
            c.variants[0]
        );
        let _ = writeln!(s, "| {} |", t.header.join(" | "));
        let _ = writeln!(s, "|{}|", t.header.iter().map(|_| "---").collect::<Vec<_>>().join("|"));
        for r in t.rows {
            let _ = writeln!(s, "| {} |", r.join(" | "));
        }
    }
    s
}

/// Escapes the comparison's cells: `&`, `<`, `>` and `"` (its tables have always been
/// escaped this way, not by [`escape`]).
fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The comparison's tables in HTML (compare.html).
pub fn compare_tables_html(c: &Comparison) -> String {
    let mut s = String::new();
    for t in c.tables() {
        let _ = write!(
            s,
            "<h3>{}</h3><p class=\"note\">mean ± 95% CI over {}; Δ is the paired difference to {}</p><table><tr>",
            esc(&t.heading),
            esc(&seeds_label(&c.seeds)),
            esc(&c.variants[0])
        );
        for x in &t.header {
            let _ = write!(s, "<th>{}</th>", esc(x));
        }
        s.push_str("</tr>");
        for r in t.rows {
            s.push_str("<tr>");
            for (i, x) in r.iter().enumerate() {
                let tag = if i == 0 { "th" } else { "td" };
                let _ = write!(s, "<{tag}>{}</{tag}>", esc(x));
            }
            s.push_str("</tr>");
        }
        s.push_str("</table>");
    }
    s
}

/// The files of a comparison's report, `(name, contents)` in the order they are
/// written: the overlay SVGs, `topology.svg` (of the first variant), `compare.md`,
/// `compare.html`.
pub fn compare_report_files(c: &Comparison) -> Vec<(String, String)> {
    let (scenario, description, seeds) = (&c.scenario, &c.description, &c.seeds);
    let (table_md, table_html) = (compare_tables_md(c), compare_tables_html(c));
    let variants = c.variant_runs();
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
pub fn write_compare_report(dir: &Path, c: &Comparison) -> Result<Vec<PathBuf>, OutError> {
    write_out_dir(dir, &compare_report_files(c), &[])
}
