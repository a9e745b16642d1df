//! Self-contained reports: one HTML file (CSS and SVG inline, no script, no network
//! reference) and a Markdown twin for pull requests, for a run ([`run`]) and for a
//! comparison ([`compare`]), and the topology drawing ([`topology`]). This module holds
//! what they share: escaping, the table layout, the page and the charts section.
//!
//! Renders file contents from typed figures (a run's [`crate::report::Summary`], a
//! [`crate::compare::Comparison`]) and the charts; writing goes through
//! [`crate::report::write_out_dir`]. Every name comes from the user's scenario and is
//! escaped. No wall-clock time appears.

mod compare;
mod first;
mod flow;
pub(crate) mod guards;
pub(crate) mod num;
mod priorities;
mod run;
mod run_tables;
mod topology;
pub(crate) mod words;

pub use compare::{compare_report_files, compare_tables_html, compare_tables_md, write_compare_report};
pub use run::{RunContext, run_report_files, run_report_files_in, write_run_report};
pub use topology::topology_svg;

use crate::charts::Chart;
use crate::spec::NS_PER_S;
use std::fmt::Write as _;

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
pub(crate) fn md(s: &str) -> String {
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

/// A name that may wrap only before an arrow (`client:shoppers->gateway.checkout`) or
/// after a slash (`order-confirmed/shipping`), never inside one of its parts; a part with spaces in it (a phase named after its
/// faults, `brownout + orders-crash + buyers rate 60/s at 120s`) wraps at them, or it
/// would push the table's numbers out of sight.
pub(crate) fn name_html(s: &str) -> String {
    s.split("->")
        .enumerate()
        .map(|(i, part)| {
            let arrow = if i == 0 { "" } else { "-&gt;" };
            if part.contains(' ') {
                format!("{arrow}{}", escape(part))
            } else {
                // A topic/group or a TARGET/POLICY may wrap after its slash.
                let pieces: Vec<String> = part.split('/').map(escape).collect();
                format!(
                    "<span class=\"nw\">{arrow}{}</span>",
                    pieces.join("/</span><wbr><span class=\"nw\">")
                )
            }
        })
        .collect::<Vec<_>>()
        .join("<wbr>")
}

// ---- tables --------------------------------------------------------------------------

/// The longest text cell kept to one line.
const SHORT_TEXT: usize = 12;

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
                // A short text cell (a span `120 s–140 s`, a workload) keeps to one line.
                let cls = if i == 0 {
                    ""
                } else if self.text_cols.contains(&i) {
                    if c.chars().count() <= SHORT_TEXT { " class=\"nw\"" } else { "" }
                } else {
                    " class=\"n\""
                };
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

// ---- pages ---------------------------------------------------------------------------

// Tables never clip: each sits in a `.scroll` box that scrolls sideways inside the page
// when it cannot fit, headers wrap, and in print everything wraps to the paper's width.
const CSS: &str = "\
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;color:#222;\
margin:0 auto;max-width:1240px;padding:24px 32px 64px;line-height:1.45}\
h1{font-size:1.7em;margin:0 0 .2em;overflow-wrap:anywhere}h1 .v,h3 .v{color:#666;font-weight:normal}\
h2{font-size:1.3em;margin:2em 0 .6em;border-bottom:1px solid #ddd;padding-bottom:.2em}\
h3{font-size:1.05em;margin:1.4em 0 .3em}\
.meta{color:#555;margin:0 0 1em}.desc{max-width:60em}.note{color:#555;margin:.2em 0 .6em;max-width:60em}\
table{border-collapse:collapse;margin:0 0 1.6em;font-size:.88em}\
caption{text-align:left;font-weight:600;padding:0 0 .4em;max-width:60em}\
th,td{padding:.3em .7em;border-bottom:1px solid #e4e4e4;text-align:left;vertical-align:top}\
th{background:#f4f4f4;border-bottom:1px solid #ccc;vertical-align:bottom;min-width:3.5em}\
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}td.n{white-space:nowrap}\
tbody tr:nth-child(even){background:#fafafa}\
.scroll{overflow-x:auto;max-width:100%}.nw{white-space:nowrap}\
figure{margin:0 0 2.2em}figure svg{max-width:100%;height:auto;display:block;border:1px solid #eee}\
.topo svg{max-width:none;border:1px solid #eee}\
figcaption{color:#444;margin-top:.4em;max-width:60em}\
ul.toc{columns:2;font-size:.92em;padding-left:1.2em}\
.verdict{border-radius:6px;padding:.7em 1em;margin:1em 0;font-size:1.15em;font-weight:600}\
.verdict p{margin:0}.verdict.pass{background:#e6f4ea;border-left:6px solid #1e7b34}\
.verdict.fail{background:#fdecea;border-left:6px solid #b3261e}.verdict.none{background:#f4f4f4;border-left:6px solid #888}\
.tiles{display:grid;grid-template-columns:repeat(auto-fill,minmax(11.5em,1fr));gap:.6em;margin:.4em 0 1em}\
.tile{border:1px solid #ddd;border-radius:6px;padding:.5em .7em;background:#fff;break-inside:avoid}\
.tile.pass{border-left:5px solid #1e7b34}.tile.fail{border-left:5px solid #b3261e}.tile.plain{border-left:5px solid #888}\
.tk{color:#555;font-size:.85em;overflow-wrap:anywhere}.tv{font-size:1.25em;font-weight:600;overflow-wrap:anywhere}\
.tn{color:#444;font-size:.85em}\
.repro{background:#f7f7f7;border:1px solid #e2e2e2;border-radius:6px;padding:.2em 1em}\
code.cmd{display:block;white-space:pre-wrap;overflow-wrap:anywhere;font-size:.95em}\
ul.words li{margin:.2em 0}ul.words .on{color:#555}\
ol.saga{list-style:none;padding:0 0 0 1.3em;display:flex;flex-wrap:wrap;gap:.4em 1.6em;margin:.4em 0 1em}\
ol.saga li{position:relative;border:1px solid #3a6ea5;background:#eaf2fb;border-radius:6px;padding:.3em .6em;\
display:flex;flex-direction:column;min-width:9em}\
ol.saga li+li::before{content:'\\2192';position:absolute;left:-1.25em;top:.5em;color:#555}\
ol.saga li.pivot{border:2px solid #b3261e;background:#fff4f2}\
ol.saga .sn{font-weight:600}ol.saga .undo{color:#a66300}ol.saga .noundo{color:#777}ol.saga .mark{color:#b3261e;font-size:.85em}\
ul.groups li{margin:.2em 0}\
.legend{font-size:.88em;color:#444}.lg{display:inline-block;padding:0 .5em;margin:0 .2em 0 .8em;border-radius:4px}\
.lg.client{border:1px dashed #888;background:#f3f3f3}.lg.svc{border:1px solid #3a6ea5;background:#eaf2fb}\
.lg.topic{border:1px solid #a66300;background:#fdf1dc;border-radius:1em}\
.lg.call{border-bottom:2px solid #555}.lg.opt{border-bottom:2px dashed #555}.lg.msg{border-bottom:2px dotted #a66300}\
dl.glossary{display:grid;grid-template-columns:minmax(8em,max-content) 1fr;gap:.3em 1em}\
dl.glossary dt{font-weight:600}dl.glossary dd{margin:0}\
@media (max-width:700px){body{padding:12px 12px 48px}ul.toc{columns:1}\
dl.glossary{grid-template-columns:1fr}dl.glossary dd{margin:0 0 .5em}}\
@media print{body{max-width:none;padding:0;font-size:10pt}.scroll{overflow:visible}\
table{font-size:7.5pt;width:100%;table-layout:auto}th,td{padding:2px 3px}td.n{white-space:normal}\
.nw{white-space:normal}.topo svg{max-width:100%;height:auto}figure,tr,.tile{break-inside:avoid}\
h2,h3{break-after:avoid}}\
";

pub(crate) fn page(title: &str, body: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(escape("a<b & \"c\" 'd'"), "a&lt;b &amp; &quot;c&quot; &#39;d&#39;");
        assert_eq!(md("a|b *c* <x>"), "a\\|b \\*c\\* \\<x\\>");
    }
}
