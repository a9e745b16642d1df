//! A comparison's tables of figures: in HTML one per workload, saga and consumer group,
//! one row per variant (the best marked, the paired Δ under each cell); in Markdown the
//! cells of [`Comparison::tables`].

use super::{esc, unit_label};
use crate::compare::reach::{reachable_edges, shared_edges};
use crate::compare::{Comparison, Verdict, fmt_pm, mean_ci, paired, seeds_label, table_list, winner_of};
use std::fmt::Write as _;

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
