//! `sweep.html` and `sweep.md`: the sweep's parameters, its key figures per point in a
//! table (mean ± 95% interval, thresholds held, feasible), and charts of each
//! workload's p99 latency and goodput: a line with its confidence band over one
//! parameter, a heatmap over two (hollow cells are infeasible), small multiples beyond
//! (one panel per value of the other parameters, the last parameter on the x axis).
//! Self-contained HTML (CSS and SVG inline, no script), tables in scrolling boxes, as
//! the reports of `run` and `compare`.

use super::Plan;
use super::aggregate::{Aggregate, PointStats};
use crate::charts::{Chart, MAX_PANELS, SweepLine, sweep_heatmap, sweep_line_chart};
use crate::compare::seeds_label;
use crate::html::escape;
use std::fmt::Write as _;

/// The figures charted and tabled, per workload: (metric, label, unit).
const KEY: [(&str, &str, &str); 2] = [("latency_ms.p99", "p99", "ms"), ("goodput_rps", "goodput", "req/s")];

/// What a key figure of one run covers, for the charts' captions.
fn covers(label: &str) -> &'static str {
    if label == "p99" {
        "each run's p99 is of its successful responses over its measured window (after the warm-up)"
    } else {
        "each run's goodput is its successful responses per second over its measured window (after the warm-up)"
    }
}

/// Escapes text for Markdown (also the tune page's).
pub(crate) fn md(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' | '!' | '~' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn fmt(x: f64) -> String {
    if !x.is_finite() {
        return "–".into();
    }
    let s = format!("{x:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// `mean ± half` as a measurement is written: the half-width to two significant digits
/// and the mean to the same decimal place (at most four decimals), so no digit is shown
/// that the interval says is noise (`191.3 ± 3.1`, not `191.278 ± 3.096`). `None` when
/// there is no positive, finite half-width (one seed, or every seed alike).
pub(crate) fn mean_pm(mean: f64, half: f64) -> Option<String> {
    if !mean.is_finite() {
        return None;
    }
    let d = crate::compare::ci_decimals(half)?;
    let m = format!("{mean:.d$}");
    // A mean that rounds to zero is written without its sign.
    let m =
        if m.trim_start_matches('-').chars().all(|c| c == '0' || c == '.') { m.replace('-', "") } else { m };
    Some(format!("{m} ± {half:.d$}"))
}

fn cell(p: &PointStats, wl: &str, metric: &str) -> String {
    match p.stat("workloads", wl, metric) {
        Some(s) if s.ci95.is_finite() => {
            mean_pm(s.mean, s.ci95).unwrap_or_else(|| format!("{} ± {}", fmt(s.mean), fmt(s.ci95)))
        }
        Some(s) => fmt(s.mean),
        None => "–".into(),
    }
}

/// Each pointer's shortest tail of at least two tokens that no other pointer ends with
/// (`/policies/client/timeout` → `client/timeout`), for column headings (also the tune
/// page's); the page gives the whole pointer on hover and in its list of parameters.
pub(crate) fn short_names(ptrs: &[String]) -> Vec<String> {
    let toks: Vec<Vec<&str>> = ptrs.iter().map(|p| p.trim_start_matches('/').split('/').collect()).collect();
    toks.iter()
        .zip(ptrs)
        .map(|(t, p)| {
            (2.min(t.len())..=t.len())
                .map(|k| &t[t.len() - k..])
                .find(|tail| toks.iter().filter(|u| u.ends_with(tail)).count() == 1)
                .map_or_else(|| p.clone(), |tail| tail.join("/"))
        })
        .collect()
}

/// What the table of points shows, above it on the page and in `sweep.md`.
const POINTS_CAPTION: &str = "Each run's figures cover its measured window (the run after its warm-up): p99 of \
successful responses only, goodput = successful responses per second. Each cell: the mean over the seeds ± the \
half-width of its 95% confidence interval (Student's t), the half-width rounded to two significant digits and the \
mean to the same place; a threshold's cell: the seeds it held on, of those run; feasible: every threshold held on \
every seed.";

fn mean_of(p: &PointStats, wl: &str, metric: &str) -> (f64, f64) {
    p.stat("workloads", wl, metric).map(|s| (s.mean, s.ci95)).unwrap_or((f64::NAN, f64::NAN))
}

/// Workload names in the order the first point lists them.
fn workloads(agg: &Aggregate) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for p in agg.points.iter().take(1) {
        for s in p.stats.iter().filter(|s| s.scope == "workloads") {
            if !out.contains(&s.name) {
                out.push(s.name.clone());
            }
        }
    }
    out
}

fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars().take(60) {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_string()
}

/// A pointer's last token, for the headings of small multiples (`/policies/internal/timeout`
/// → `timeout`); the table and sweep.json keep the whole pointer.
fn short(ptr: &str) -> &str {
    ptr.rsplit('/').next().filter(|s| !s.is_empty()).unwrap_or(ptr)
}

/// The charts, per workload per key figure.
fn charts(plan: &Plan, agg: &Aggregate) -> Vec<Chart> {
    let params = plan.params();
    let mut charts = Vec::new();
    let n = params.len();
    if n == 0 {
        return charts;
    }
    for (wi, wl) in workloads(agg).iter().enumerate() {
        for (metric, label, unit) in KEY {
            let file = format!("sweep-{}-{wi}-{}.svg", slug(label), slug(wl));
            let y_desc = format!("{label} ({unit})");
            if n == 2 {
                let (px, py) = (&params[1], &params[0]);
                let mut values = vec![vec![f64::NAN; px.values.len()]; py.values.len()];
                let mut feasible = vec![vec![None; px.values.len()]; py.values.len()];
                for p in &agg.points {
                    values[p.index[0]][p.index[1]] = mean_of(p, wl, metric).0;
                    feasible[p.index[0]][p.index[1]] = p.feasible();
                }
                let title = format!("{label} of {wl} over {} × {}", py.pointer, px.pointer);
                let caption = format!(
                    "Mean {label} over the seeds at each point, written in its cell where it fits; darker is larger; a \
                     hollow cell failed a threshold on at least one seed; {}.",
                    covers(label)
                );
                charts.push(sweep_heatmap(
                    &file,
                    &title,
                    &caption,
                    (&px.values, &px.pointer),
                    (&py.values, &py.pointer),
                    &values,
                    &feasible,
                ));
                continue;
            }
            // One panel per combination of the params before the last.
            let px = &params[n - 1];
            let mut lines: Vec<SweepLine> = Vec::new();
            for chunk in agg.points.chunks(px.values.len()) {
                let heading = (n > 1).then(|| {
                    params[..n - 1]
                        .iter()
                        .zip(&chunk[0].index)
                        .map(|(p, &i)| format!("{}={}", short(&p.pointer), p.values[i]))
                        .collect::<Vec<_>>()
                        .join(", ")
                });
                let (mean, ci95) = chunk.iter().map(|p| mean_of(p, wl, metric)).unzip();
                lines.push(SweepLine { heading, mean, ci95 });
            }
            let more = if lines.len() > MAX_PANELS {
                format!(
                    " The first {MAX_PANELS} of {} panels are drawn; sweep.json has them all.",
                    lines.len()
                )
            } else {
                String::new()
            };
            let title = format!("{label} of {wl} over {}", px.pointer);
            let caption = format!(
                "Mean {label} over the seeds at each value, with its 95% confidence interval; {}.{more}",
                covers(label)
            );
            charts.push(sweep_line_chart(
                &file,
                &title,
                &caption,
                (&px.values, &px.pointer),
                &y_desc,
                &lines,
            ));
        }
    }
    charts
}

/// The header and rows of the table of points.
fn table(plan: &Plan, agg: &Aggregate) -> (Vec<String>, Vec<Vec<String>>) {
    let params = plan.params();
    let wls = workloads(agg);
    let thresholds = agg.points.first().map(|p| p.thresholds.len()).unwrap_or(0);
    let mut header = vec!["point".to_string()];
    let pointers: Vec<String> = params.iter().map(|p| p.pointer.clone()).collect();
    header.extend(short_names(&pointers));
    for wl in &wls {
        for (_, label, unit) in KEY {
            header.push(format!("{wl} {label} ({unit})"));
        }
    }
    if let Some(p) = agg.points.first() {
        header.extend(p.thresholds.iter().map(|t| format!("{}: {}", t.scope, t.expression)));
    }
    if thresholds > 0 {
        header.push("feasible".into());
    }
    let rows = agg
        .points
        .iter()
        .enumerate()
        .map(|(pi, p)| {
            let mut r = vec![pi.to_string()];
            r.extend(params.iter().zip(&p.index).map(|(par, &i)| par.values[i].clone()));
            for wl in &wls {
                for (metric, _, _) in KEY {
                    r.push(cell(p, wl, metric));
                }
            }
            r.extend(p.thresholds.iter().map(|t| format!("{}/{}", t.held, t.of)));
            if let Some(f) = p.feasible() {
                r.push(if f { "yes" } else { "no" }.into());
            }
            r
        })
        .collect();
    (header, rows)
}

/// The page's style (also the tune page's).
pub(crate) const CSS: &str = "\
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;color:#222;\
margin:0 auto;max-width:1100px;padding:24px 32px 64px;line-height:1.45}\
h1{font-size:1.7em;margin:0 0 .2em}h1 .v{color:#666;font-weight:normal}\
h2{font-size:1.3em;margin:2em 0 .6em;border-bottom:1px solid #ddd;padding-bottom:.2em}\
.meta{color:#555;margin:0 0 1em}.desc{max-width:60em}\
table{border-collapse:collapse;margin:0 0 1.6em;font-size:.88em}\
th,td{padding:.3em .7em;border-bottom:1px solid #e4e4e4;text-align:left;vertical-align:top}\
th{background:#f4f4f4;border-bottom:1px solid #ccc;white-space:nowrap}\
td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}th.n{text-align:right}\
tbody tr:nth-child(even){background:#fafafa}\
.scroll{overflow-x:auto}\
figure{margin:0 0 2.2em}figure svg{max-width:100%;height:auto;display:block;border:1px solid #eee}\
figcaption{color:#444;margin-top:.4em;max-width:60em}\
";

/// The page files, `(name, contents)`: the chart SVGs (which `sweep.md` links),
/// `sweep.md`, `sweep.html`.
pub fn page_files(plan: &Plan, agg: &Aggregate) -> Vec<(String, String)> {
    let charts = charts(plan, agg);
    let (header, rows) = table(plan, agg);
    let np = plan.params.len();
    let mut meta = format!(
        "{} point{} × {} seed{} ({})",
        agg.points.len(),
        if agg.points.len() == 1 { "" } else { "s" },
        plan.seeds.len(),
        if plan.seeds.len() == 1 { "" } else { "s" },
        seeds_label(&plan.seeds)
    );
    if let Some(v) = &plan.variant {
        let _ = write!(meta, " · variant {v}");
    }
    for s in &plan.sets {
        let _ = write!(meta, " · --set {s}");
    }
    let title = format!("faultline: {} · sweep", plan.scenario);
    let params_line: Vec<String> =
        plan.params.iter().map(|p| format!("{} ∈ {{{}}}", p.pointer, p.values.join(", "))).collect();

    let mut body = format!(
        "<h1>{} <span class=\"v\">· sweep</span></h1>\n<p class=\"meta\">{}</p>\n",
        escape(&plan.scenario),
        escape(&meta)
    );
    if !plan.description.is_empty() {
        let _ = writeln!(body, "<p class=\"desc\">{}</p>", escape(&plan.description));
    }
    body.push_str("<h2>Parameters</h2>\n<ul>\n");
    for l in &params_line {
        let _ = writeln!(body, "<li><code>{}</code></li>", escape(l));
    }
    let _ = writeln!(body, "</ul>\n<h2>Points</h2>\n<p class=\"desc\">{}</p>", escape(POINTS_CAPTION));
    body.push_str("<div class=\"scroll\">\n<table>\n<thead><tr>");
    for (i, h) in header.iter().enumerate() {
        let class = if i > np { " class=\"n\"" } else { "" };
        let title = if (1..=np).contains(&i) {
            format!(" title=\"{}\"", escape(&plan.params[i - 1].pointer))
        } else {
            String::new()
        };
        let _ = write!(body, "<th{class}{title}>{}</th>", escape(h));
    }
    body.push_str("</tr></thead>\n<tbody>\n");
    for r in &rows {
        body.push_str("<tr>");
        for (i, c) in r.iter().enumerate() {
            let _ =
                write!(body, "<td{}>{}</td>", if i > np || i == 0 { " class=\"n\"" } else { "" }, escape(c));
        }
        body.push_str("</tr>\n");
    }
    body.push_str("</tbody>\n</table>\n</div>\n");
    if !charts.is_empty() {
        body.push_str("<h2>Charts</h2>\n");
        for c in &charts {
            let _ = write!(
                body,
                "<figure>\n{}\n<figcaption>{}</figcaption>\n</figure>\n",
                c.svg.trim_end(),
                escape(&c.caption)
            );
        }
    }
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n{body}</body>\n</html>\n",
        escape(&title)
    );

    let mut m = format!("# {}\n\n{}\n\n", md(&title), md(&meta));
    if !plan.description.is_empty() {
        let _ = write!(m, "{}\n\n", md(&plan.description));
    }
    m.push_str("## Parameters\n\n");
    for l in &params_line {
        let _ = writeln!(m, "- `{l}`");
    }
    let _ = write!(m, "\n## Points\n\n{}\n\n|", md(POINTS_CAPTION));
    for h in &header {
        let _ = write!(m, " {} |", md(h));
    }
    m.push_str("\n|");
    for i in 0..header.len() {
        m.push_str(if i > np || i == 0 { " ---: |" } else { " --- |" });
    }
    m.push('\n');
    for r in &rows {
        m.push('|');
        for c in r {
            let _ = write!(m, " {} |", md(c));
        }
        m.push('\n');
    }
    if !charts.is_empty() {
        m.push_str("\n## Charts\n\n");
        for c in &charts {
            let _ = writeln!(
                m,
                "### {}\n\n{}\n\n![{}]({})\n",
                md(&c.title),
                md(&c.caption),
                md(&c.title),
                c.file
            );
        }
    }
    let mut files: Vec<(String, String)> = charts.into_iter().map(|c| (c.file, c.svg)).collect();
    files.push(("sweep.md".into(), m));
    files.push(("sweep.html".into(), html));
    files
}
