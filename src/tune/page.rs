//! `tune.html` and `tune.md`: the question (params, objectives, constraints), the answer
//! first (the best candidate with its intervals, those tied with it, the `variants`
//! entry to paste, the command that reproduces it), then the trade-off scatter, the race
//! as a chart and as a table of rungs, and every candidate with why it lost.
//! Self-contained HTML (the sweep page's CSS, inline SVG, no script).

use super::report::{RULE, Report, answer_text, design_text, goal_kind, value};
use crate::charts::{Chart, tune_race, tune_scatter};
use crate::compare::seeds_label;
use crate::html::escape;
use crate::sweep::page::{CSS, md};
use std::fmt::Write as _;

/// The scatter (when there is a second figure to plot against) and the race.
pub fn charts(r: &Report) -> Vec<Chart> {
    let mut out = Vec::new();
    let objs: Vec<usize> = (0..r.goals.len()).filter(|&g| r.goals[g].sense.is_some()).collect();
    let y = objs.get(1).copied().or_else(|| (0..r.goals.len()).find(|&g| r.goals[g].sense.is_none()));
    if let (Some(&x), Some(y)) = (objs.first(), y) {
        let pts: Vec<(f64, f64, _)> =
            (0..r.points.len()).map(|p| (r.stat(p, x).0, r.stat(p, y).0, r.class(p))).collect();
        let what = if objs.len() > 1 { "the Pareto front of the two objectives" } else { "the trade-off" };
        let bound = r.goals[y].sense.is_none().then_some(r.goals[y].probe.bound);
        out.push(tune_scatter(
            "tune-tradeoff.svg",
            &format!("{} against {}", axis_name(r, x), axis_name(r, y)),
            &format!(
                "Each candidate at its means over the seeds it ran, coloured by how it ended: {what}. A candidate \
                 stopped early sits at the mean of its few seeds."
            ),
            &axis_desc(r, x),
            &axis_desc(r, y),
            &pts,
            bound,
        ));
    }
    let labels: Vec<String> = (0..r.points.len()).map(|p| r.label(p)).collect();
    let seeds: Vec<usize> = (0..r.points.len()).map(|p| r.race.seeds_run(p)).collect();
    let classes: Vec<_> = (0..r.points.len()).map(|p| r.class(p)).collect();
    let rungs: Vec<usize> = r.race.rungs.iter().map(|g| g.seeds).collect();
    out.push(tune_race(
        "tune-race.svg",
        "The race: seeds run by each candidate",
        "One bar per candidate: the seeds it ran before it stopped (the colour says why) or all of them. The \
         vertical lines are the rungs, where the race judged.",
        &labels,
        &seeds,
        &classes,
        &rungs,
    ));
    out
}

/// `p99(users)` (and its phase), without the goal's sense or bound.
fn axis_name(r: &Report, g: usize) -> String {
    let t = &r.goals[g].probe;
    let during = t.phase.as_ref().map(|p| format!(" during {p}")).unwrap_or_default();
    format!("{}({}){during}", t.metric.name(), t.scope_name)
}

fn axis_desc(r: &Report, g: usize) -> String {
    let unit = match r.goals[g].unit() {
        crate::spec::MetricUnit::Ms => " (ms)",
        crate::spec::MetricUnit::Percent => " (%)",
        crate::spec::MetricUnit::PerSecond => " (/s)",
        crate::spec::MetricUnit::Number => "",
    };
    format!("{}{unit}", axis_name(r, g))
}

fn meta(r: &Report) -> String {
    format!(
        "{} · {} · {} runs of a budget of {} (every candidate on every seed: {})",
        design_text(r),
        seeds_label(&r.seeds),
        r.race.runs,
        r.budget,
        r.full()
    )
}

/// The candidates' table: header and rows of text.
fn table(r: &Report) -> (Vec<String>, Vec<Vec<String>>) {
    let mut header = vec!["#".to_string()];
    header.extend(r.pointers.iter().cloned());
    header.extend(["seeds".to_string(), "fate".to_string()]);
    header.extend(r.goals.iter().map(|g| g.text.clone()));
    header.push("why".into());
    let rows = (0..r.points.len())
        .map(|p| {
            let mut row = vec![p.to_string()];
            row.extend(r.points[p].iter().cloned());
            row.push(r.race.seeds_run(p).to_string());
            row.push(r.race.fates[p].word().to_string());
            for (g, goal) in r.goals.iter().enumerate() {
                let (m, h) = r.stat(p, g);
                row.push(if h.is_finite() {
                    format!("{} ± {}", value(m, goal.unit()), value(h, goal.unit()))
                } else {
                    value(m, goal.unit())
                });
            }
            row.push(r.why(p));
            row
        })
        .collect();
    (header, rows)
}

fn goals_lines(r: &Report) -> Vec<String> {
    r.goals
        .iter()
        .map(|g| {
            let (kind, from) = goal_kind(g);
            match kind {
                "constraint" => format!("constraint `{}` (from {from})", g.text),
                _ => format!("objective `{}`", g.text),
            }
        })
        .collect()
}

/// `tune.md`.
pub fn markdown(r: &Report, charts: &[Chart]) -> String {
    let mut m = format!("# faultline: {} · tune\n\n{}\n\n", md(&r.scenario), md(&meta(r)));
    if !r.description.is_empty() {
        let _ = write!(m, "{}\n\n", md(&r.description));
    }
    m.push_str("## Answer\n\n```text\n");
    m.push_str(&answer_text(r));
    m.push_str("```\n\nReproduce:\n\n```sh\n");
    let _ = writeln!(m, "{}", r.command);
    m.push_str("```\n\n## Question\n\n");
    for (k, v) in r.pointers.iter().zip(&r.param_values) {
        let _ = writeln!(m, "- param `{k}` ∈ {{{v}}}");
    }
    for l in goals_lines(r) {
        let _ = writeln!(m, "- {l}");
    }
    let _ = write!(
        m,
        "\n## The race\n\n{RULE}\n\n| seeds | candidates | runs | stopped |\n| ---: | ---: | ---: | ---: |\n"
    );
    for g in &r.race.rungs {
        let _ = writeln!(m, "| {} | {} | {} | {} |", g.seeds, g.alive, g.runs, g.stopped);
    }
    for c in charts {
        let _ =
            write!(m, "\n### {}\n\n{}\n\n![{}]({})\n", md(&c.title), md(&c.caption), md(&c.title), c.file);
    }
    let (header, rows) = table(r);
    m.push_str(
        "\n## Candidates\n\nMean ± half-width of the 95% confidence interval over the seeds each ran.\n\n|",
    );
    for h in &header {
        let _ = write!(m, " {} |", md(h));
    }
    m.push_str("\n|");
    for _ in &header {
        m.push_str(" --- |");
    }
    m.push('\n');
    for row in &rows {
        m.push('|');
        for c in row {
            let _ = write!(m, " {} |", md(c));
        }
        m.push('\n');
    }
    m
}

/// `tune.html`.
pub fn html(r: &Report, charts: &[Chart]) -> String {
    let title = format!("faultline: {} · tune", r.scenario);
    let mut b = format!(
        "<h1>{} <span class=\"v\">· tune</span></h1>\n<p class=\"meta\">{}</p>\n",
        escape(&r.scenario),
        escape(&meta(r))
    );
    if !r.description.is_empty() {
        let _ = writeln!(b, "<p class=\"desc\">{}</p>", escape(&r.description));
    }
    let _ = write!(
        b,
        "<h2>Answer</h2>\n<pre>{}</pre>\n<p>Reproduce:</p>\n<pre>{}</pre>\n<h2>Question</h2>\n<ul>\n",
        escape(&answer_text(r)),
        escape(&r.command)
    );
    for (k, v) in r.pointers.iter().zip(&r.param_values) {
        let _ = writeln!(b, "<li>param <code>{}</code> ∈ {{{}}}</li>", escape(k), escape(v));
    }
    for l in goals_lines(r) {
        let _ = writeln!(b, "<li>{}</li>", escape(&l).replace('`', ""));
    }
    let _ = write!(
        b,
        "</ul>\n<h2>The race</h2>\n<p class=\"desc\">{}</p>\n<div class=\"scroll\">\n<table>\n<thead><tr><th \
         class=\"n\">seeds</th><th class=\"n\">candidates</th><th class=\"n\">runs</th><th \
         class=\"n\">stopped</th></tr></thead>\n<tbody>\n",
        escape(RULE)
    );
    for g in &r.race.rungs {
        let _ = writeln!(
            b,
            "<tr><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            g.seeds, g.alive, g.runs, g.stopped
        );
    }
    b.push_str("</tbody>\n</table>\n</div>\n");
    for c in charts {
        let _ = write!(
            b,
            "<figure>\n{}\n<figcaption>{}</figcaption>\n</figure>\n",
            c.svg.trim_end(),
            escape(&c.caption)
        );
    }
    let (header, rows) = table(r);
    b.push_str("<h2>Candidates</h2>\n<p>Mean ± half-width of the 95% confidence interval over the seeds each ran.</p>\n<div class=\"scroll\">\n<table>\n<thead><tr>");
    for h in &header {
        let _ = write!(b, "<th>{}</th>", escape(h));
    }
    b.push_str("</tr></thead>\n<tbody>\n");
    for row in &rows {
        b.push_str("<tr>");
        for c in row {
            let _ = write!(b, "<td>{}</td>", escape(c));
        }
        b.push_str("</tr>\n");
    }
    b.push_str("</tbody>\n</table>\n</div>\n");
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{CSS}pre{{background:#f6f6f6;padding:.6em .8em;white-space:pre-wrap;overflow-wrap:anywhere}}.scroll td:last-child{{min-width:24em}}</style>\n</head>\n<body>\n{b}</body>\n</html>\n",
        escape(&title)
    )
}
