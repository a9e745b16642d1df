//! The report of a comparison: `compare.html` and `compare.md`. The page leads with
//! its answer: the verdict (per headline figure the best variant, its paired difference
//! to the baseline and to the runner-up, significant or "no difference"), what each
//! variant changes, and the threshold verdicts per variant; then the topology, the
//! tables (one row per variant, the best marked, each difference marked) and the overlay
//! charts with their confidence bands.

use super::{CSS, charts_md, escape, md, topology::topology_svg};
use crate::charts::{Chart, comparison_charts};
use crate::compare::reach::{reachable_edges, shared_edges};
use crate::compare::{
    ATTRIBUTION, Comparison, Headline, Paired, Verdict, fmt_pm, fmt_signed, fmt_val, headlines, mean_ci,
    paired, seeds_label, table_list, winner_of,
};
use crate::report::{OutError, write_out_dir};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The comparison page's own styles, on top of the shared ones: marks, the verdict,
/// and tables that scroll inside their box on a narrow screen and wrap in print.
const COMPARE_CSS: &str = "\
.scroll{overflow-x:auto;max-width:100%;margin:0 0 1.6em}.scroll table{margin:0}\
table.cmp td{white-space:nowrap}table.cmp td .d{display:block;font-size:.82em;color:#555}\
table.cmp th small,table.verdict th small{display:block;font-weight:normal;color:#666}\
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

/// The comparison's tables in Markdown (compare.md and pull requests).
pub fn compare_tables_md(c: &Comparison) -> String {
    let mut s = String::new();
    for t in c.tables() {
        let _ = writeln!(
            s,
            "\n**{}** (mean ± 95% CI over n = {} seeds, {}; ★ best; Δ paired with {}: * significant, \
             \"no difference\" when its 95% interval contains zero)\n",
            t.heading,
            c.seeds.len(),
            seeds_label(&c.seeds),
            c.baseline()
        );
        let _ = writeln!(s, "| {} |", t.header.join(" | "));
        let _ = writeln!(s, "|{}|", t.header.iter().map(|_| "---").collect::<Vec<_>>().join("|"));
        for r in t.rows {
            let _ = writeln!(s, "| {} |", r.join(" | "));
        }
    }
    s
}

fn unit_label(name: &str, unit: &str) -> String {
    if unit.is_empty() { name.to_string() } else { format!("{name} ({unit})") }
}

/// An interval's bound, signed, with as many more digits as it takes not to read as
/// zero when it is not (a bound of +0.0004 must not look like one that touches zero).
fn fmt_bound(x: f64, unit: &str) -> String {
    let s = fmt_signed(x, unit);
    if x == 0.0 || x.is_nan() || s.chars().any(|c| c.is_ascii_digit() && c != '0') {
        return s;
    }
    let digits = (1..=9).find(|d| (x.abs() * 10f64.powi(*d)).round() >= 1.0).unwrap_or(9) as usize;
    let v = format!("{:.digits$}", x.abs());
    if x > 0.0 { format!("+{v}") } else { format!("−{v}") }
}

/// `+1.2 (95% CI +0.8 to +1.6)`; past 10 000 ms, all three in seconds.
fn interval_text(p: &Paired, unit: &str) -> String {
    let (k, u, suffix) =
        if unit == "ms" && p.mean.abs() >= 10_000.0 { (1e-3, "s", " s") } else { (1.0, unit, "") };
    if p.lo.is_nan() {
        return format!("{}{suffix}", fmt_signed(p.mean * k, u));
    }
    format!(
        "{}{suffix} (95% CI {} to {}{suffix})",
        fmt_signed(p.mean * k, u),
        fmt_bound(p.lo * k, u),
        fmt_bound(p.hi * k, u)
    )
}

fn verdict_html(p: &Paired, unit: &str) -> String {
    let (cls, word) = match p.verdict {
        Verdict::Significant => ("sig", "significant"),
        Verdict::NoDifference => ("nodiff", "no difference"),
        Verdict::Identical => ("nodiff", "identical on every seed"),
        Verdict::Unknown => ("nodiff", "one seed: no interval"),
    };
    if p.verdict == Verdict::Identical {
        return format!("<span class=\"{cls}\">{word}</span>");
    }
    format!("{} <span class=\"{cls}\">{word}</span>", esc(&interval_text(p, unit)))
}

/// Whether variant `v`, best at headline `h`, is significantly so: against the
/// baseline, or, for the baseline itself, against the runner-up.
fn significantly_best(h: &Headline, v: usize) -> bool {
    let sig = |p: &Paired| p.verdict == Verdict::Significant;
    if v == 0 {
        h.winner.vs_runner_up.as_ref().is_some_and(|(_, p)| sig(p))
    } else {
        h.winner.each_vs_baseline.get(v).is_some_and(sig)
    }
}

/// The answer in a few sentences: per variant, the headline figures at which it is
/// best and the seeds say so (significantly better than the baseline; for the baseline,
/// than the runner-up), then those where its mean is best but within the noise.
fn answer_html(c: &Comparison, hs: &[Headline]) -> String {
    let mut s = String::from("<div class=\"answer\">");
    let what = |h: &Headline, v: usize| {
        let others: Vec<&str> =
            h.winner.best.iter().filter(|i| **i != v).map(|i| c.variants[*i].as_str()).collect();
        let tie =
            if others.is_empty() { String::new() } else { format!(" (tied with {})", others.join(", ")) };
        format!("{} of {}{tie}", h.figure, h.table.trim_start_matches("workload "))
    };
    for (v, name) in c.variants.iter().enumerate() {
        let best: Vec<&Headline> = hs.iter().filter(|h| h.winner.best.contains(&v)).collect();
        if best.is_empty() {
            continue;
        }
        let (sig, weak): (Vec<&Headline>, Vec<&Headline>) =
            best.iter().partition(|h| significantly_best(h, v));
        let mut parts = Vec::new();
        if !sig.is_empty() {
            let than = if v == 0 { "than the runner-up" } else { "than the baseline" };
            parts.push(format!(
                "best, and significantly better {than}, at {}",
                sig.iter().map(|h| what(h, v)).collect::<Vec<_>>().join("; ")
            ));
        }
        if !weak.is_empty() {
            parts.push(format!(
                "best mean, but within the seeds' noise, at {}",
                weak.iter().map(|h| what(h, v)).collect::<Vec<_>>().join("; ")
            ));
        }
        let _ = write!(s, "<p><b>{}</b>: {}.</p>", esc(name), esc(&parts.join(". It has the ")));
    }
    let flat = hs.iter().filter(|h| h.winner.best.is_empty()).count();
    if flat > 0 {
        let _ = write!(
            s,
            "<p>{flat} headline figure{} the same in every variant.</p>",
            if flat == 1 { " is" } else { "s are" }
        );
    }
    if hs.is_empty() {
        s.push_str("<p>No figure has a direction to rank.</p>");
    }
    s.push_str("</div>\n");
    s
}

fn verdict_table(c: &Comparison, hs: &[Headline]) -> String {
    let mut s = String::from(
        "<div class=\"scroll\"><table class=\"verdict\">\n<thead><tr><th>figure</th><th>better</th><th>best \
         (mean)</th><th>best − baseline<small>paired by seed</small></th><th>best − runner-up<small>paired by \
         seed</small></th></tr></thead>\n<tbody>\n",
    );
    for h in hs {
        let w = &h.winner;
        let label = format!("{} · {}", h.table, unit_label(h.figure, h.unit));
        let best = match w.best.as_slice() {
            [] => format!(
                "no winner: all {}",
                esc(&fmt_val(w.means.first().copied().unwrap_or(f64::NAN), h.unit))
            ),
            b => b
                .iter()
                .map(|i| {
                    format!(
                        "<span class=\"best\">{}</span> {}",
                        esc(&c.variants[*i]),
                        esc(&fmt_val(w.means[*i], h.unit))
                    )
                })
                .collect::<Vec<_>>()
                .join(", "),
        };
        let vs_base = match (&w.vs_baseline, w.best.first()) {
            (Some(p), _) => verdict_html(p, h.unit),
            (None, Some(0)) => "— (the baseline is best)".into(),
            _ => "—".into(),
        };
        let vs_runner = match &w.vs_runner_up {
            Some((r, p)) => format!("vs {}: {}", esc(&c.variants[*r]), verdict_html(p, h.unit)),
            None => "—".into(),
        };
        let _ = writeln!(
            s,
            "<tr><td><b>{}</b></td><td data-l=\"better\">{}</td><td data-l=\"best (mean)\">{best}</td><td \
             data-l=\"best − baseline, paired by seed\">{vs_base}</td><td data-l=\"best − runner-up, paired by \
             seed\">{vs_runner}</td></tr>",
            esc(&label),
            h.better.word().unwrap_or("—")
        );
    }
    s.push_str("</tbody>\n</table></div>\n");
    s
}

fn changes_html(c: &Comparison) -> String {
    let mut s = String::from(
        "<div class=\"scroll\"><table>\n<thead><tr><th>variant</th><th>what it changes</th></tr></thead>\n<tbody>\n",
    );
    for (v, name) in c.variants.iter().enumerate() {
        let what = if c.changes[v].is_empty() {
            "nothing: the scenario as written".to_string()
        } else {
            format!(
                "<ul class=\"changes\">{}</ul>",
                c.changes[v].iter().map(|w| format!("<li>{}</li>", esc(w))).collect::<String>()
            )
        };
        let base = if v == 0 { " <small>(baseline)</small>" } else { "" };
        let _ = writeln!(s, "<tr><td><b>{}</b>{base}</td><td>{what}</td></tr>", esc(name));
    }
    s.push_str("</tbody>\n</table></div>\n");
    if !c.common_changes.is_empty() {
        let _ = writeln!(
            s,
            "<p class=\"note\">Every variant also runs with: {}.</p>",
            esc(&c.common_changes.join("; "))
        );
    }
    s
}

fn thresholds_html(c: &Comparison) -> String {
    // Thresholds in the order any variant first lists them.
    let mut keys: Vec<(String, String)> = Vec::new();
    for t in c.thresholds.iter().flatten() {
        let k = (t.scope.clone(), t.expression.clone());
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    if keys.is_empty() {
        return "<p>The scenario declares no thresholds (objectives), so no variant passes or fails one: the \
                verdict above ranks the figures only.</p>\n"
            .into();
    }
    let mut s = String::from("<div class=\"scroll\"><table>\n<thead><tr><th>threshold</th>");
    for v in &c.variants {
        let _ = write!(s, "<th>{}</th>", esc(v));
    }
    s.push_str("</tr></thead>\n<tbody>\n");
    for (scope, expr) in &keys {
        let _ = write!(s, "<tr><td>{}: {}</td>", esc(scope), esc(expr));
        for v in 0..c.variants.len() {
            match c.thresholds[v].iter().find(|t| &t.scope == scope && &t.expression == expr) {
                Some(t) => {
                    let cls = if t.holds() {
                        "pass"
                    } else if t.held == 0 {
                        "fail"
                    } else {
                        "partial"
                    };
                    let _ = write!(s, "<td class=\"{cls}\">{}</td>", esc(&t.words()));
                }
                None => s.push_str("<td>not in this variant</td>"),
            }
        }
        s.push_str("</tr>\n");
    }
    s.push_str("</tbody>\n</table></div>\n");
    s
}

/// The paired difference to the baseline under a table cell: `Δ +1.2 ± 0.3` and, on
/// its own line, whether it is significant.
fn delta_html(base: &[f64], b: &[f64], unit: &str) -> String {
    let p = paired(base, b);
    if p.mean.is_nan() {
        return "<span class=\"d\">Δ -</span>".into();
    }
    let num = fmt_pm(p.mean, p.half_width(), unit, true, "\u{a0}");
    match p.verdict {
        Verdict::Significant => format!("<span class=\"d sig\">Δ\u{a0}{}<br>significant</span>", esc(&num)),
        Verdict::NoDifference => {
            format!("<span class=\"d nodiff\">Δ\u{a0}{}<br>no difference</span>", esc(&num))
        }
        Verdict::Identical => "<span class=\"d nodiff\">Δ identical</span>".into(),
        Verdict::Unknown => format!("<span class=\"d\">Δ {}</span>", esc(&num)),
    }
}

/// The edges a workload's requests traverse, and those it shares, as a note.
fn path_note(c: &Comparison, wl: &str) -> Option<String> {
    let spec = c.specs.first()?;
    let w = spec.workloads.iter().position(|x| x.name == wl)?;
    let path: Vec<String> =
        reachable_edges(spec, w).iter().map(|e| spec.edges[*e as usize].name.replace("->", "→")).collect();
    let shared: Vec<String> = shared_edges(spec, w)
        .into_iter()
        .map(|(e, others)| format!("{} (also {})", e.replace("->", "→"), others.join(", ")))
        .collect();
    let shared = if shared.is_empty() {
        String::new()
    } else {
        format!(" Shared with other workloads, so counted in each: {}.", shared.join(", "))
    };
    Some(format!(
        "<p class=\"note\">Edges its requests traverse (retries, hedges and breaker time count these only): {}.{}</p>",
        esc(&path.join(", ")),
        esc(&shared)
    ))
}

/// The comparison's tables in HTML (compare.html): one table per workload, saga and
/// consumer group, one row per variant, one column per figure; each cell the mean ± its
/// 95% interval (★ on the best) and, below, the paired difference to the baseline. A
/// figure that is zero on every seed of every variant is left out of the table and
/// named below it.
pub fn compare_tables_html(c: &Comparison) -> String {
    let mut s = String::new();
    for (heading, per_variant) in table_list(c) {
        let _ = write!(s, "<h3>{}</h3>", esc(&heading));
        if let Some(note) = heading.strip_prefix("workload ").and_then(|wl| path_note(c, wl)) {
            s.push_str(&note);
        }
        let Some(first) = per_variant.first() else { continue };
        let all_zero = |k: usize| per_variant.iter().all(|figs| figs[k].per_seed.iter().all(|x| *x == 0.0));
        let (shown, zero): (Vec<usize>, Vec<usize>) = (0..first.len()).partition(|k| !all_zero(*k));
        s.push_str("<div class=\"scroll\"><table class=\"cmp\">\n<thead><tr><th>variant</th>");
        for &k in &shown {
            let f = &first[k];
            let better = match f.better.word() {
                Some(w) => format!("{w} is better"),
                None => "not ranked".into(),
            };
            let _ =
                write!(s, "<th class=\"n\">{}<small>{better}</small></th>", esc(&unit_label(f.name, f.unit)));
        }
        s.push_str("</tr></thead>\n<tbody>\n");
        let winners: Vec<Vec<usize>> = (0..first.len()).map(|k| winner_of(per_variant, k).best).collect();
        for (v, figs) in per_variant.iter().enumerate() {
            let base = if v == 0 { " <small>(baseline)</small>" } else { "" };
            let _ = write!(s, "<tr><td><b>{}</b>{base}</td>", esc(&c.variants[v]));
            for &k in &shown {
                let f = &figs[k];
                let (m, hw) = mean_ci(&f.per_seed);
                let val = fmt_pm(m, hw, f.unit, false, "\u{a0}");
                let best = winners[k].contains(&v);
                let val = if best {
                    format!("<span class=\"best\">{}\u{a0}★</span>", esc(&val))
                } else {
                    esc(&val)
                };
                let delta = if v == 0 {
                    String::new()
                } else {
                    delta_html(&per_variant[0][k].per_seed, &f.per_seed, f.unit)
                };
                let _ = write!(s, "<td class=\"n\">{val}{delta}</td>");
            }
            s.push_str("</tr>\n");
        }
        s.push_str("</tbody>\n</table></div>\n");
        if !zero.is_empty() {
            let names: Vec<&str> = zero.iter().map(|k| first[*k].name).collect();
            let _ = writeln!(
                s,
                "<p class=\"note\">Zero on every seed of every variant, so not shown: {}.</p>",
                esc(&names.join(", "))
            );
        }
    }
    s
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
        "the paired difference to the baseline: per seed, variant minus baseline, then mean ± its 95% interval; * significant (the interval excludes zero), \"no difference\" (it contains zero)",
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
         seeds ({}); ★ best; below it, Δ: the paired difference to {}. {}.</p>",
        escape(&seeds_label(seeds)),
        escape(c.baseline()),
        escape(&capitalise(ATTRIBUTION))
    );
    body.push_str(&compare_tables_html(c));
    body.push_str(&charts_html(&charts));
    body.push_str("<h2 id=\"glossary\">Glossary</h2>\n<dl class=\"gloss\">\n");
    for (k, v) in GLOSSARY {
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
