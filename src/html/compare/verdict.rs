//! The first screen of a comparison's page: the answer in sentences, the verdict table
//! (per headline figure the best variant and its paired differences), what each
//! variant changes, and the thresholds by variant.

use super::{esc, unit_label};
use crate::compare::{Comparison, Headline, Paired, Verdict, fmt_signed, fmt_val};
use std::fmt::Write as _;

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
pub(super) fn interval_text(p: &Paired, unit: &str) -> String {
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
pub(super) fn answer_html(c: &Comparison, hs: &[Headline]) -> String {
    let mut s = String::from("<div class=\"answer\">");
    let what = |h: &Headline, v: usize| {
        let others: Vec<&str> =
            h.winner.best.iter().filter(|i| **i != v).map(|i| c.variants[*i].as_str()).collect();
        let tie =
            if others.is_empty() { String::new() } else { format!(" (tied with {})", others.join(", ")) };
        let caveat = match &h.caveat {
            Some(g) if g.variant == v => format!(" (but {})", g.words(&c.variants)),
            _ => String::new(),
        };
        format!("{} of {}{tie}{caveat}", h.figure, h.table.trim_start_matches("workload "))
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

pub(super) fn verdict_table(c: &Comparison, hs: &[Headline]) -> String {
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
        let best = match &h.caveat {
            Some(g) => format!("{best}<small class=\"caveat\">{}</small>", esc(&g.words(&c.variants))),
            None => best,
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

pub(super) fn changes_html(c: &Comparison) -> String {
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

pub(super) fn thresholds_html(c: &Comparison) -> String {
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
