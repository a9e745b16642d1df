//! `blast.html` (self-contained: the run pages' CSS, inline styles, no script) and
//! `blast.md`. The page opens with the answer (which losses take workloads down, and the
//! distributed monolith if there is one), then one matrix per kind of column, each cell
//! coloured by how far its level fell from the healthy run, with a legend, then the
//! rules and the commands that replay every run.

use super::matrix::{Cell, Class, DOWN_LEVEL, Series};
use super::needs::Need;
use super::{Blast, kinds};
use crate::html::num::{fixed, ms, percent};
use crate::html::{escape, md, name_html, page};
use std::fmt::Write as _;

const RED: (f64, f64, f64) = (179.0, 38.0, 30.0);

/// The background of a cell that lost `lost` percent of its healthy level (0 white,
/// 100 dark red) and the text colour that reads on it.
fn colour(lost: f64) -> (String, &'static str) {
    let t = if lost.is_finite() { (lost / 100.0).clamp(0.0, 1.0) } else { 1.0 };
    let mix = |c: f64| (255.0 + (c - 255.0) * t).round() as u8;
    let bg = format!("#{:02x}{:02x}{:02x}", mix(RED.0), mix(RED.1), mix(RED.2));
    (bg, if t > 0.55 { "#fff" } else { "#222" })
}

/// `+3.2` / `−96.0` points, or `±0` for an identical run.
fn signed(v: f64, unit: &str) -> String {
    if !v.is_finite() {
        return "–".into();
    }
    let t = fixed(v, 1);
    if v > 0.0 && t != "0.0" { format!("+{t}{unit}") } else { format!("{t}{unit}") }
}

fn with_ci(mean: f64, ci: f64, f: &dyn Fn(f64) -> String) -> String {
    if !(ci.is_finite() && mean.is_finite() && ci > 0.0) {
        return f(mean);
    }
    // An interval that rounds to nothing is said to be under the last digit shown.
    let c = f(ci);
    if c == f(0.0) { format!("{} ± <{}", f(mean), f(0.01)) } else { format!("{} ± {c}", f(mean)) }
}

fn level_text(v: f64) -> String {
    percent(v)
}

/// The detail lines under a cell's level: every other figure that is not zero or that
/// moved, the moved ones marked.
fn details(c: &Cell) -> Vec<(String, bool)> {
    c.figs[1..]
        .iter()
        .filter(|f| f.moved || (f.mean.is_finite() && f.mean != 0.0))
        .map(|f| {
            let v = match f.def.unit {
                "ms" => format!("{} ms", ms(Some(f.mean))),
                "%" => percent(f.mean),
                "per 1000" => format!("{} per 1,000", fixed(f.mean, 1)),
                _ => fixed(f.mean, 0),
            };
            (format!("{} {v}", f.def.label), f.moved)
        })
        .collect()
}

fn class_tag(c: Class) -> &'static str {
    match c {
        Class::Unaffected => "unaffected",
        Class::Degraded => "degraded",
        Class::Down => "DOWN",
    }
}

const KIND_TITLES: [(&str, &str, &str); 3] = [
    (
        "Workloads",
        "success",
        "each workload's success (ok ÷ finished) when the row's service or broker is down",
    ),
    ("Sagas", "completed", "each saga's completed share of the sagas started"),
    (
        "Consumer groups",
        "delivered",
        "each group's messages delivered, as a share of the healthy run's on the same seed",
    ),
];

/// A level not measured, per kind of column.
const NONE: [&str; 3] = ["nothing finished", "none started", "nothing to deliver"];

fn matrix_html(b: &Blast, kind: usize, cols: &[String], healthy: &[Series], cells: &[Vec<Cell>]) -> String {
    let (title, level, what) = KIND_TITLES[kind];
    let mut h = String::new();
    let _ = writeln!(
        h,
        "<h2 id=\"{}\">{title}: {level} with one part down</h2>\n<p class=\"note\">Rows: what is down from the end \
         of warm-up; columns: {what}. Each cell: the mean over {} seed{} (± its 95% interval), the change from \
         the healthy run in percentage points, the class, and the other figures that are not zero (<b>bold</b>: a reason \
         for the class).</p>",
        title.to_lowercase().replace(' ', "-"),
        b.seeds.len(),
        if b.seeds.len() == 1 { "" } else { "s" }
    );
    h.push_str("<div class=\"scroll\">\n<table>\n<thead><tr><th>down ↓ · ");
    h.push_str(&escape(&title.to_lowercase()));
    h.push_str(" →</th>");
    for c in cols {
        let _ = write!(h, "<th>{}</th>", name_html(c));
    }
    h.push_str("</tr></thead>\n<tbody>\n<tr><td><i>healthy</i></td>");
    for s in healthy {
        let (m, ci) = Blast::healthy_stat(s, 0);
        let _ = write!(
            h,
            "<td class=\"n\" style=\"background:#f0f0f0\"><b>{}</b>",
            escape(&with_ci(m, ci, &level_text))
        );
        if kind == 0 {
            let (p, _) = Blast::healthy_stat(s, 2);
            let _ = write!(h, "<br><span class=\"tn\">p99 {} ms</span>", ms(Some(p)));
        }
        h.push_str("</td>");
    }
    h.push_str("</tr>\n");
    for (r, row) in b.rows.iter().enumerate() {
        let _ = write!(h, "<tr><td>{}</td>", name_html(&row.label));
        for (c, cell) in cells[r].iter().enumerate() {
            let (h_level, _) = Blast::healthy_stat(&healthy[c], 0);
            let lost = if h_level > 0.0 { cell.drop() / h_level * 100.0 } else { f64::NAN };
            let (bg, fg) = colour(if cell.level().mean.is_nan() { 100.0 } else { lost.max(0.0) });
            let mono = kind == 0 && b.monolith(r, c);
            let border = match (mono, cell.class) {
                (true, _) => "outline:3px solid #5b2a86;outline-offset:-3px;",
                (_, Class::Degraded) => "box-shadow:inset 4px 0 0 #d08a00;",
                (_, Class::Down) => "box-shadow:inset 4px 0 0 #5a0f0a;",
                _ => "",
            };
            let l = cell.level();
            let (level, change) = if l.mean.is_nan() {
                (NONE[kind].to_string(), String::new())
            } else {
                (escape(&with_ci(l.mean, l.ci95, &level_text)), format!("{} pts · ", signed(l.diff.mean, "")))
            };
            let _ = write!(
                h,
                "<td class=\"n\" style=\"background:{bg};color:{fg};{border}\"><b>{level}</b><br>{change}{}",
                class_tag(cell.class)
            );
            for (t, moved) in details(cell) {
                let t = escape(&t);
                let _ = write!(
                    h,
                    "<br><span class=\"tn\" style=\"color:inherit\">{}</span>",
                    if moved { format!("<b>{t}</b>") } else { t }
                );
            }
            if mono {
                h.push_str("<br><b>⚠ monolith</b>");
            }
            h.push_str("</td>");
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody>\n</table>\n</div>\n");
    h
}

fn legend_html() -> String {
    let mut h = String::from("<p class=\"legend\">Colour: the share of the healthy level lost, in percent:");
    for d in [0.0, 10.0, 25.0, 50.0, 75.0, 100.0] {
        let (bg, fg) = colour(d);
        let _ = write!(
            h,
            "<span class=\"lg\" style=\"background:{bg};color:{fg};border:1px solid #ccc\">{}</span>",
            fixed(d, 0)
        );
    }
    h.push_str(
        "<br>Class: <span class=\"lg\" style=\"box-shadow:inset 4px 0 0 #d08a00;border:1px solid #ccc\">degraded</span>\
         <span class=\"lg\" style=\"box-shadow:inset 4px 0 0 #5a0f0a;border:1px solid #ccc\">down</span>\
         <span class=\"lg\" style=\"outline:3px solid #5b2a86;outline-offset:-3px\">⚠ monolith</span> \
         (unaffected cells have no mark).</p>\n",
    );
    h
}

fn need_short(n: &Need) -> String {
    n.words()
}

/// The answer: how many losses take something down, and the monolith if any.
fn answer(b: &Blast) -> (String, bool) {
    let n = b.rows.len();
    let worst = |r: usize| {
        b.cells_w[r]
            .iter()
            .chain(&b.cells_s[r])
            .chain(&b.cells_g[r])
            .map(|c| c.class)
            .max()
            .unwrap_or(Class::Unaffected)
    };
    let count = |k: Class| (0..n).filter(|&r| worst(r) == k).count();
    let down: Vec<&str> =
        (0..n).filter(|&r| worst(r) == Class::Down).map(|r| b.rows[r].label.as_str()).collect();
    let verb = |k: usize, one: &'static str, many: &'static str| if k == 1 { one } else { many };
    let (deg, ok) = (count(Class::Degraded), count(Class::Unaffected));
    let mut s = format!(
        "{} of {n} losses {} something down{}; {deg} only {}; {ok} {} everything unaffected.",
        down.len(),
        verb(down.len(), "takes", "take"),
        if down.is_empty() { String::new() } else { format!(" ({})", down.join(", ")) },
        verb(deg, "degrades", "degrade"),
        verb(ok, "leaves", "leave"),
    );
    let mono = b.monoliths();
    if !mono.is_empty() {
        s += " Distributed monolith: ";
        s += &mono
            .iter()
            .map(|m| format!("losing {} takes down {}, which does not need it", m.row.label, m.workload))
            .collect::<Vec<_>>()
            .join("; ");
        s.push('.');
    }
    (s, !mono.is_empty())
}

const RULES: &str = "\
<h2 id=\"rules\">How to read it</h2>
<dl class=\"glossary\">
<dt>down (a row)</dt><dd>A service row crashes every replica of the service at the end of warm-up, never \
restarted (a service with a liveness probe also loses its health check in that row, else the probe would \
restart it); a broker row is an outage of the topic's broker over the same window. Every row runs on the \
same seeds as the healthy run, so differences are the loss's, not noise. By default the scenario's own faults \
(and its thresholds) are left out of every run; <code>--keep-faults</code> keeps them.</dd>
<dt>level</dt><dd>A workload's success (ok ÷ finished), a saga's completed share, a group's messages delivered \
as a share of the healthy run's.</dd>
<dt>down (a cell)</dt><dd>The mean level is at most 10% and at least one point below the healthy run's, or \
nothing finished at all.</dd>
<dt>degraded</dt><dd>Not down, and a figure moved the worse way by at least its bound: one point of success, of \
degraded (partial) responses or of completed sagas; one orphan per 1,000 sagas; one point of failed or abandoned \
compensations; one lost (dead-lettered or dropped) message; 20% of the healthy p99 or max lag (at least 1 ms, \
10 messages). With several seeds the move must also be significant: its paired 95% interval excludes zero.</dd>
<dt>unaffected</dt><dd>Neither. A row the column's requests never touch gives runs identical to the healthy ones.</dd>
<dt>needs</dt><dd>A workload needs the services it reaches through required synchronous calls from its target \
(a <code>call</code>, every target of a <code>route</code>, a <code>parallel</code> branch that is not \
<code>optional</code>; for a saga workload, the orchestrator and every action), and the broker of every topic \
it publishes to without the outbox. It does not need what it reaches only through an optional branch, the \
outbox, a topic's consumers (asynchronous), or a saga's compensations, nor what it does not reach at all.</dd>
<dt>⚠ monolith</dt><dd>A cell that is down although the workload does not need the row: the distributed \
monolith the microservice guides warn about, a service whose loss takes down a workload that should only \
have degraded (typically through a readiness probe that <code>depends_on</code> it, or a branch the design \
calls optional that the code treats as required).</dd>
</dl>
";

/// `blast.html` and `blast.md`.
pub fn files(b: &Blast) -> Vec<(String, String)> {
    vec![("blast.html".into(), html(b)), ("blast.md".into(), markdown(b))]
}

fn cols_of(b: &Blast) -> [Vec<String>; 3] {
    [
        b.spec.workloads.iter().map(|w| w.name.clone()).collect(),
        b.spec.sagas.iter().map(|s| s.name.clone()).collect(),
        b.group_labels(),
    ]
}

fn meta(b: &Blast) -> String {
    let seeds = match (b.seeds.first(), b.seeds.last()) {
        (Some(a), Some(z)) if a != z => format!("seeds {a} to {z}"),
        (Some(a), _) => format!("seed {a}"),
        _ => String::new(),
    };
    let v = b.variant.as_ref().map(|v| format!(" · variant {v}")).unwrap_or_default();
    let n = b.rows.len();
    let faults = if b.keep_faults {
        "the scenario's own faults kept in every run"
    } else {
        "the scenario's own faults left out of every run (--keep-faults keeps them)"
    };
    format!("{n} row{} · {seeds}{v} · {} · {faults}", if n == 1 { "" } else { "s" }, b.file)
}

pub fn html(b: &Blast) -> String {
    let cols = cols_of(b);
    let mut body = format!(
        "<h1>Blast radius <span class=\"v\">{}</span></h1>\n<p class=\"meta\">{}</p>\n<p class=\"desc\">{}</p>\n",
        escape(&b.spec.name),
        escape(&meta(b)),
        escape(&b.spec.description)
    );
    let (ans, mono) = answer(b);
    let _ = writeln!(
        body,
        "<div class=\"verdict {}\"><p>{}</p></div>",
        if mono { "fail" } else { "none" },
        escape(&ans)
    );
    let monos = b.monoliths();
    if !monos.is_empty() {
        body.push_str("<ul class=\"words\">\n");
        for m in &monos {
            let _ = writeln!(
                body,
                "<li><b>{}</b> down takes <b>{}</b> down; {}.</li>",
                escape(&m.row.label),
                escape(m.workload),
                escape(&need_short(m.need))
            );
        }
        body.push_str("</ul>\n");
    }
    body += &legend_html();
    let healthy = [&b.healthy_w, &b.healthy_s, &b.healthy_g];
    let cells = [&b.cells_w, &b.cells_s, &b.cells_g];
    for k in 0..kinds().len() {
        if !cols[k].is_empty() {
            body += &matrix_html(b, k, &cols[k], healthy[k], cells[k]);
        }
    }
    body += RULES;
    let _ = write!(
        body,
        "<h2 id=\"reproduce\">Reproduce</h2>\n<div class=\"repro\">\n<p><code class=\"cmd\">{}</code></p>\n\
         <p>Each run is a <code>faultline run</code>; on the first seed:</p>\n<ul class=\"words\">\n\
         <li>healthy: <code class=\"cmd\">{}</code></li>\n",
        escape(&b.command),
        escape(&b.replay(None, b.seeds[0]))
    );
    for (r, row) in b.rows.iter().enumerate() {
        let _ = writeln!(
            body,
            "<li>{} down: <code class=\"cmd\">{}</code></li>",
            escape(&row.label),
            escape(&b.replay(Some(r), b.seeds[0]))
        );
    }
    body.push_str("</ul>\n</div>\n");
    page(&format!("Blast radius · {}", b.spec.name), &body)
}

pub fn markdown(b: &Blast) -> String {
    let cols = cols_of(b);
    let mut s = format!(
        "# Blast radius: {}\n\n{}\n\n{}\n\n",
        md(&b.spec.name),
        md(&meta(b)),
        md(&b.spec.description)
    );
    let (ans, _) = answer(b);
    let _ = writeln!(s, "**{}**\n", md(&ans));
    for m in b.monoliths() {
        let _ = writeln!(
            s,
            "- {} down takes {} down; {}.",
            md(&m.row.label),
            md(m.workload),
            md(&m.need.words())
        );
    }
    let healthy = [&b.healthy_w, &b.healthy_s, &b.healthy_g];
    let cells = [&b.cells_w, &b.cells_s, &b.cells_g];
    for k in 0..3 {
        if cols[k].is_empty() {
            continue;
        }
        let (title, level, what) = KIND_TITLES[k];
        let _ = write!(
            s,
            "\n## {title}: {level} with one part down\n\nRows: what is down from the end of warm-up; columns: {} \
             (mean over the seeds ± 95% interval, change from healthy in points, class, and the figures that made it \
             degraded).\n\n| down |",
            md(what)
        );
        for c in &cols[k] {
            let _ = write!(s, " {} |", md(c));
        }
        s.push_str("\n| --- |");
        s.push_str(&" ---: |".repeat(cols[k].len()));
        s.push_str("\n| *healthy* |");
        for h in healthy[k].iter() {
            let (m, ci) = Blast::healthy_stat(h, 0);
            let _ = write!(s, " {} |", md(&with_ci(m, ci, &level_text)));
        }
        s.push('\n');
        for (r, row) in b.rows.iter().enumerate() {
            let _ = write!(s, "| {} |", md(&row.label));
            for (c, cell) in cells[k][r].iter().enumerate() {
                let l = cell.level();
                let mut t = if l.mean.is_nan() {
                    format!("{} {}", NONE[k], class_tag(cell.class))
                } else {
                    format!(
                        "{} ({} pts) {}",
                        with_ci(l.mean, l.ci95, &level_text),
                        signed(l.diff.mean, ""),
                        class_tag(cell.class)
                    )
                };
                let moved: Vec<String> =
                    details(cell).into_iter().filter(|(_, m)| *m).map(|(t, _)| t).collect();
                if !moved.is_empty() {
                    t += &format!(": {}", moved.join(", "));
                }
                if k == 0 && b.monolith(r, c) {
                    t += ", ⚠ monolith";
                }
                let _ = write!(s, " {} |", md(&t));
            }
            s.push('\n');
        }
    }
    let _ = write!(
        s,
        "\n## How to read it\n\n- **down** (cell): mean level at most {}% and at least one point below healthy, or nothing \
         finished.\n- **degraded**: a figure moved the worse way by at least its bound (1 point of success, degraded \
         responses or completed sagas; 1 orphan per 1,000; 1 lost message; 20% of the healthy p99 or max lag), \
         significantly over the seeds.\n- **monolith**: down although the workload does not need the row (not on a \
         required synchronous path of its requests).\n\nReproduce: `{}`\n",
        DOWN_LEVEL, b.command
    );
    s
}
