//! A comparison's tables as text cells: per figure, "mean ± ci" per variant and the
//! paired "Δ mean ± ci" to the first. The text, Markdown and HTML tables lay these out.

use super::stats::{diff, mean_ci};
use super::{Comparison, Figure, PerVariant, figures, group_figures, saga_figures};

/// One table of a comparison, as text cells: its heading, its header (`figure`, then
/// per variant its name and, after the first, `Δ NAME`), and one row per figure.
#[derive(Clone, Debug)]
pub struct Cells {
    pub heading: String,
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// Every table of a comparison, in order: `(heading, figures per variant)`, the
/// workloads first, then the sagas (`saga NAME`), then the consumer groups
/// (`consumer group TOPIC/GROUP`).
pub(super) fn tables(c: &Comparison) -> Vec<(String, &PerVariant)> {
    let mut out: Vec<(String, &PerVariant)> =
        figures(c).iter().map(|(wl, f)| (format!("workload {wl}"), f)).collect();
    out.extend(saga_figures(c).iter().map(|(n, f)| (format!("saga {n}"), f)));
    out.extend(group_figures(c).iter().map(|((t, g), f)| (format!("consumer group {t}/{g}"), f)));
    out
}

fn fmt_val(x: f64, unit: &str) -> String {
    if x.is_nan() {
        return "-".into();
    }
    let digits = if unit == "%" {
        2
    } else if x.abs() >= 100.0 {
        0
    } else if x.abs() >= 10.0 {
        1
    } else {
        2
    };
    format!("{x:.digits$}")
}

fn fmt_ci(m: f64, hw: f64, unit: &str) -> String {
    if hw.is_nan() { fmt_val(m, unit) } else { format!("{} ± {}", fmt_val(m, unit), fmt_val(hw, unit)) }
}

/// Rows of the table for one workload: figure, then per variant "mean ± ci" and, after
/// the first, "Δ mean ± ci".
pub fn table_rows(c: &Comparison, per_variant: &[Vec<Figure>]) -> (Vec<String>, Vec<Vec<String>>) {
    let mut header = vec!["figure".to_string()];
    for (i, v) in c.variants.iter().enumerate() {
        header.push(v.clone());
        if i > 0 {
            header.push(format!("Δ {v}"));
        }
    }
    let mut rows = Vec::new();
    for (k, fig) in per_variant[0].iter().enumerate() {
        let label =
            if fig.unit.is_empty() { fig.name.to_string() } else { format!("{} ({})", fig.name, fig.unit) };
        let mut row = vec![label];
        for (v, figs) in per_variant.iter().enumerate() {
            let (m, hw) = mean_ci(&figs[k].per_seed);
            row.push(fmt_ci(m, hw, fig.unit));
            if v > 0 {
                let d = diff(&per_variant[0][k].per_seed, &figs[k].per_seed);
                let (dm, dhw) = mean_ci(&d);
                let sign = if dm > 0.0 { "+" } else { "" };
                row.push(if dm.is_nan() {
                    "-".into()
                } else if dhw.is_nan() {
                    format!("{sign}{}", fmt_val(dm, fig.unit))
                } else {
                    format!("{sign}{} ± {}", fmt_val(dm, fig.unit), fmt_val(dhw, fig.unit))
                });
            }
        }
        rows.push(row);
    }
    (header, rows)
}
