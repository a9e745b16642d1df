//! `tune.html` and `tune.md`: the question (params, objectives, constraints), the answer
//! first (the best candidate with its intervals, those tied with it, the `variants`
//! entry to paste, the command that reproduces it), then the trade-off scatter, the race
//! as a chart and as a table of rungs, and every candidate with why it lost.
//! Self-contained HTML (the sweep page's CSS, inline SVG, no script).

use super::goal::{cost, holds};
use super::race::Fate;
use super::report::{RULE, Report, answer_text, design_text, goal_kind, value_pm};
use crate::charts::{Chart, tune_race, tune_scatter};
use crate::compare::seeds_label;
use crate::html::escape;
use crate::spec::MetricUnit;
use crate::sweep::page::{CSS, md, short_names};
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
    let schedule = super::race::schedule(r.seeds.len());
    out.push(tune_race(
        "tune-race.svg",
        "The race: seeds run by each candidate",
        &format!(
            "One bar per candidate: the seeds it ran before it stopped (the colour says why) or all {} of them. \
             The vertical lines are the rungs, where the race judged; the axis is marked at every rung of the \
             schedule, up to the {} seeds a candidate that stays in the race runs.",
            r.seeds.len(),
            r.seeds.len()
        ),
        &labels,
        &seeds,
        &classes,
        &rungs,
        &schedule,
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
        MetricUnit::Ms => " (ms)",
        MetricUnit::Percent => " (%)",
        MetricUnit::PerSecond => " (/s)",
        MetricUnit::Number => "",
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

/// The candidates' table: its columns and its rows, best first.
struct Candidates {
    /// Column headings, and the full pointer of a parameter's (its `title`).
    header: Vec<(String, Option<String>)>,
    /// Whether a column holds figures (right-aligned, kept on one line).
    figure: Vec<bool>,
    /// Per row: the row's class (`best`, `tied`, `out` for stopped, or empty) and cells.
    rows: Vec<(&'static str, Vec<String>)>,
    /// The rows that ran every seed, before those the race stopped.
    ran: usize,
}

/// What became of a candidate, in words a reader needs no glossary for.
fn fate_words(f: &Fate) -> &'static str {
    match f {
        Fate::Best => "best",
        Fate::Tied(_) => "tied with the best",
        Fate::Front(_) => "on the Pareto front",
        Fate::Behind(_) => "behind the best",
        Fate::Unmet { .. } => "misses a constraint on its mean",
        Fate::Worse { .. } => "stopped: clearly worse",
        Fate::Budget { .. } => "stopped: out of budget",
        Fate::Infeasible { .. } => "stopped: clearly infeasible",
        Fate::NoData { .. } => "stopped: measured nothing",
    }
}

/// The order of the table: the answer first, then how close each came.
fn fate_rank(f: &Fate) -> u8 {
    match f {
        Fate::Best => 0,
        Fate::Tied(_) => 1,
        Fate::Front(_) => 2,
        Fate::Behind(_) => 3,
        Fate::Unmet { .. } => 4,
        Fate::Worse { .. } => 5,
        Fate::Budget { .. } => 6,
        Fate::Infeasible { .. } => 7,
        Fate::NoData { .. } => 8,
    }
}

/// A goal's figure over the seeds a candidate ran, `134.1 ± 1.5 ms`, with `✗` when the
/// mean misses a constraint.
fn figure(r: &Report, p: usize, g: usize) -> String {
    let goal = &r.goals[g];
    let (m, h) = r.stat(p, g);
    let text = value_pm(m, h, goal.unit());
    if m.is_finite() && !holds(goal, m) { format!("{text} ✗") } else { text }
}

fn table(r: &Report) -> Candidates {
    let fates = &r.race.fates;
    let g0 = (0..r.goals.len()).find(|&g| r.goals[g].sense.is_some()).unwrap_or(0);
    let key = |p: usize| {
        let c = cost(&r.goals[g0], r.stat(p, g0).0);
        if c.is_nan() { f64::INFINITY } else { c }
    };
    let mut order: Vec<usize> = (0..r.points.len()).collect();
    order.sort_by(|&a, &b| {
        fate_rank(&fates[a])
            .cmp(&fate_rank(&fates[b]))
            .then(r.race.seeds_run(b).cmp(&r.race.seeds_run(a)))
            .then(key(a).total_cmp(&key(b)))
            .then(a.cmp(&b))
    });
    let mut header = vec![("#".to_string(), None)];
    header.extend(short_names(&r.pointers).into_iter().zip(&r.pointers).map(|(s, p)| (s, Some(p.clone()))));
    header.extend([("fate".to_string(), None), ("seeds".to_string(), None)]);
    header.extend(r.goals.iter().map(|g| (g.text.clone(), None)));
    header.push(("why".into(), None));
    let np = r.pointers.len();
    let figure_col = |i: usize| i == 0 || i == np + 2 || (i > np + 2 && i < header.len() - 1);
    let figure_cols = (0..header.len()).map(figure_col).collect();
    let rows = order
        .iter()
        .map(|&p| {
            let mut row = vec![p.to_string()];
            row.extend(r.points[p].iter().cloned());
            let words = fate_words(&fates[p]);
            // Stopped at the last rung, after every seed: ruled out, not stopped early.
            let words = match fates[p].stopped_at() {
                Some(n) if n == r.seeds.len() => words.replacen("stopped:", "ruled out:", 1),
                _ => words.to_string(),
            };
            row.push(words);
            row.push(r.race.seeds_run(p).to_string());
            row.extend((0..r.goals.len()).map(|g| figure(r, p, g)));
            row.push(r.why(p));
            let class = match (&fates[p], fates[p].stopped_at()) {
                (Fate::Best, _) => "best",
                (Fate::Tied(_) | Fate::Front(_), _) => "tied",
                (_, Some(_)) => "out",
                _ => "",
            };
            (class, row)
        })
        .collect();
    let ran = fates.iter().filter(|f| f.stopped_at().is_none()).count();
    Candidates { header, figure: figure_cols, rows, ran }
}

/// The heading over the candidates the race stopped: early (fewer seeds, wider
/// intervals), at its last rung after every seed, or some of each.
fn stopped_heading(r: &Report) -> String {
    let n = r.seeds.len();
    let at: Vec<usize> = r.race.fates.iter().filter_map(Fate::stopped_at).collect();
    if at.iter().all(|&s| s == n) {
        format!("Ruled out by the race at its last rung, after all {n} seeds")
    } else if at.iter().all(|&s| s < n) {
        "Stopped early by the race: fewer seeds, wider intervals".into()
    } else {
        format!("Ruled out by the race: after all {n} seeds, or stopped early (fewer seeds, wider intervals)")
    }
}

/// What the candidates' table shows, above it.
const CANDIDATES: &str = "Every candidate, best first: those still in the race at the end, then those it \
stopped or ruled out (those stopped at an earlier rung ran fewer seeds and so have wider intervals). Each figure: the mean over the seeds the \
candidate ran ± the half-width of its 95% confidence interval (Student's t), rounded to two significant digits \
and the mean to the same place; each seed's figure covers the run's measured window (after the warm-up), or \
the phase named after `during`; ✗: the mean misses the constraint. # is the candidate's number in the race \
chart and tune.json; the parameters' columns are named by the end of their pointers (the Question lists them \
in full); why each candidate ended where it did is said in words with its figures.";

/// The candidates' table: each candidate's figures on one row and why it ended on the
/// row under it; the answer green and those tied with it blue, as in the charts; the
/// candidates the race stopped in grey; the goals' headings may wrap, their cells not.
const TABLE_CSS: &str = "table.cands th{white-space:normal;vertical-align:bottom}\
table.cands tbody tr{background:none}table.cands tr:not(.why) td{border-bottom:none}\
table.cands td{white-space:nowrap}table.cands tr.why td{color:#555;font-size:.92em;padding-top:0;white-space:normal}\
tr.best td{background:#e3f3ec}tr.best:not(.why) td{font-weight:600}tr.tied td{background:#e6f0f8}tr.out td{color:#555}\
tr.grp th{background:#fff;color:#555;font-weight:600;text-align:left;padding-top:1em;border-bottom:1px solid #ccc}";

/// What the table of rungs shows, above it.
const RUNGS: &str = "One row per rung, where the race judged: the seeds every candidate still racing had \
run by then, how many candidates ran them, the runs the rung took, and how many candidates it stopped.";

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
        "\n## The race\n\n{RULE}\n\n{RUNGS}\n\n| seeds run | candidates | runs | stopped here |\n| ---: | ---: | ---: | ---: |\n"
    );
    for g in &r.race.rungs {
        let _ = writeln!(m, "| {} | {} | {} | {} |", g.seeds, g.alive, g.runs, g.stopped);
    }
    for c in charts {
        let _ =
            write!(m, "\n### {}\n\n{}\n\n![{}]({})\n", md(&c.title), md(&c.caption), md(&c.title), c.file);
    }
    let t = table(r);
    let _ = write!(m, "\n## Candidates\n\n{}\n\n|", md(CANDIDATES));
    for (h, _) in &t.header {
        let _ = write!(m, " {} |", md(h));
    }
    m.push_str("\n|");
    for &f in &t.figure {
        m.push_str(if f { " ---: |" } else { " --- |" });
    }
    m.push('\n');
    for (_, row) in &t.rows {
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
        "</ul>\n<h2>The race</h2>\n<p class=\"desc\">{}</p>\n<p class=\"desc\">{}</p>\n<div class=\"scroll\">\n<table>\n<thead><tr><th \
         class=\"n\">seeds run</th><th class=\"n\">candidates</th><th class=\"n\">runs</th><th \
         class=\"n\">stopped here</th></tr></thead>\n<tbody>\n",
        escape(RULE),
        escape(RUNGS)
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
    let t = table(r);
    let _ = write!(
        b,
        "<h2>Candidates</h2>\n<p class=\"desc\">{}</p>\n<div class=\"scroll\">\n<table class=\"cands\">\n<thead><tr>",
        escape(CANDIDATES).replace('`', "")
    );
    for (i, (h, full)) in t.header.iter().enumerate().take(t.header.len() - 1) {
        let class = if t.figure[i] { " class=\"n\"" } else { "" };
        let title = full.as_ref().map(|f| format!(" title=\"{}\"", escape(f))).unwrap_or_default();
        // A parameter's name may break after each `/`, so that two long ones do not push
        // the figures out of the page.
        let _ = write!(b, "<th{class}{title}>{}</th>", escape(h).replace('/', "/<wbr>"));
    }
    b.push_str("</tr></thead>\n<tbody>\n");
    // Why each ended where it did goes on a line of its own under its figures, across
    // the table, so the table keeps to the page's width.
    let cols = t.header.len() - 1;
    for (k, (class, row)) in t.rows.iter().enumerate() {
        if k == t.ran && k > 0 {
            let _ = writeln!(b, "<tr class=\"grp\"><th colspan=\"{cols}\">{}</th></tr>", stopped_heading(r));
        }
        if class.is_empty() {
            b.push_str("<tr>");
        } else {
            let _ = write!(b, "<tr class=\"{class}\">");
        }
        for (i, c) in row[..cols].iter().enumerate() {
            let _ = write!(b, "<td{}>{}</td>", if t.figure[i] { " class=\"n\"" } else { "" }, escape(c));
        }
        let why = if class.is_empty() { "why".to_string() } else { format!("{class} why") };
        let _ = writeln!(
            b,
            "</tr>\n<tr class=\"{why}\"><td></td><td colspan=\"{}\">{}</td></tr>",
            cols - 1,
            escape(&row[cols])
        );
    }
    b.push_str("</tbody>\n</table>\n</div>\n");
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{CSS}pre{{background:#f6f6f6;padding:.6em .8em;white-space:pre-wrap;overflow-wrap:anywhere}}{TABLE_CSS}</style>\n</head>\n<body>\n{b}</body>\n</html>\n",
        escape(&title)
    )
}
