//! A comparison's tables as text cells: per figure, which way is better, "mean ± ci"
//! per variant (the best marked ★) and the paired "Δ mean ± ci" to the baseline (marked
//! `*` when its 95% interval excludes zero, written "no difference" when it contains
//! zero). The text, Markdown and HTML tables lay these out.

use super::stats::{Verdict, mean_ci, paired};
use super::verdict::winner_of;
use super::{Comparison, Figure, PerVariant, figures, group_figures, saga_figures};

/// How a cell is marked, for the HTML to style it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mark {
    Plain,
    /// The best variant at this figure.
    Best,
    /// A paired difference whose 95% interval excludes zero.
    Significant,
    /// A paired difference whose 95% interval contains zero (or identical values).
    NoDifference,
}

/// One table of a comparison, as text cells: its heading, its header (`figure`,
/// `better`, then per variant its name and, after the baseline, `Δ NAME`), one row per
/// figure, and the mark of each cell.
#[derive(Clone, Debug)]
pub struct Cells {
    pub heading: String,
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
    pub marks: Vec<Vec<Mark>>,
}

/// Every table of a comparison, in order: `(heading, figures per variant)`, the
/// workloads first, then the sagas (`saga NAME`), then the consumer groups
/// (`consumer group TOPIC/GROUP`).
pub fn table_list(c: &Comparison) -> Vec<(String, &PerVariant)> {
    let mut out: Vec<(String, &PerVariant)> =
        figures(c).iter().map(|(wl, f)| (format!("workload {wl}"), f)).collect();
    out.extend(saga_figures(c).iter().map(|(n, f)| (format!("saga {n}"), f)));
    out.extend(group_figures(c).iter().map(|((t, g), f)| (format!("consumer group {t}/{g}"), f)));
    out
}

/// A value with the digits its size deserves: percentages to 2 decimals, then 0, 1 or
/// 2 decimals by magnitude; thousands separated by commas; milliseconds past 10 000 as
/// seconds (`50.0 s`); a real minus sign; `-` for nothing measured.
pub fn fmt_val(x: f64, unit: &str) -> String {
    if x.is_nan() {
        return "-".into();
    }
    if unit == "ms" && x.abs() >= 10_000.0 {
        return format!("{} s", fmt_val(x / 1000.0, "s"));
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
    fmt_fixed(x, digits)
}

/// The decimals a 95% half-width supports: its first two significant digits (at most
/// four decimals, none past the units); `None` when there is no interval (zero, or not
/// finite: fewer than two seeds). The one rule of every page that writes `mean ± half`.
pub fn ci_decimals(half: f64) -> Option<usize> {
    (half.is_finite() && half > 0.0).then(|| (1 - half.log10().floor() as i32).clamp(0, 4) as usize)
}

/// `x` to `digits` decimals, thousands separated by commas, a real minus sign, and no
/// sign on what rounds to zero.
fn fmt_fixed(x: f64, digits: usize) -> String {
    let s = format!("{:.digits$}", x.abs());
    let (int, frac) = s.split_once('.').map_or((s.as_str(), ""), |(i, f)| (i, f));
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    if !frac.is_empty() {
        grouped = format!("{grouped}.{frac}");
    }
    // −0.00 reads as zero.
    let zero = grouped.chars().all(|c| c == '0' || c == '.' || c == ',');
    if x < 0.0 && !zero { format!("−{grouped}") } else { grouped }
}

/// A half-width: as [`fmt_val`], but one too small for its digits reads `<0.01`
/// rather than a misleading `0.00` (only an exact zero is written as zero).
pub fn fmt_hw(hw: f64, unit: &str) -> String {
    let s = fmt_val(hw, unit);
    if hw > 0.0 && !s.chars().any(|c| c.is_ascii_digit() && c != '0') {
        let digits = s.split('.').nth(1).map_or(0, str::len);
        if digits == 0 { "<1".into() } else { format!("<0.{}1", "0".repeat(digits - 1)) }
    } else {
        s
    }
}

/// A value and its interval's half-width in one scale, joined by `sep` around `±`
/// (`" "` or a no-break space), both to the decimal place of the half-width's second
/// significant digit (`ci_decimals`), at most two decimals: `3,143 ± 137`, `100.2 ± 1.4`,
/// `53.02 ± <0.01`, and past 10 000 ms both in seconds, `51.1 ± 1.6 s`. Without an interval (one seed, or every seed alike)
/// the value has the digits of its size (`fmt_val`). `signed` writes the value with its
/// sign (a difference).
pub fn fmt_pm(m: f64, hw: f64, unit: &str, signed: bool, sep: &str) -> String {
    let (k, u, suffix) =
        if unit == "ms" && m.abs() >= 10_000.0 { (1e-3, "s", " s") } else { (1.0, unit, "") };
    // With an interval, both to the place it supports, so that no digit is shown that
    // the interval calls noise (`100 ± 1.39` read as more precise in its half-width than
    // in its value): the tune and sweep pages' rule, at most two decimals here (a
    // latency's quantiles have three significant digits; a share is read to 0.01%), and
    // a half-width below the last place written as such (`53.02 ± <0.01`).
    if m.is_finite()
        && let Some(d) = ci_decimals(hw * k)
    {
        let d = d.min(2);
        let v = fmt_fixed(m * k, d);
        let v = if signed && m > 0.0 && v.chars().any(|c| c.is_ascii_digit() && c != '0') {
            format!("+{v}")
        } else {
            v
        };
        let h = fmt_fixed(hw * k, d);
        let h = if h.chars().any(|c| c.is_ascii_digit() && c != '0') {
            h
        } else if d == 0 {
            "<1".into()
        } else {
            format!("<0.{}1", "0".repeat(d - 1))
        };
        return format!("{v}{sep}±{sep}{h}{suffix}");
    }
    let v = if signed { fmt_signed(m * k, u) } else { fmt_val(m * k, u) };
    if hw.is_nan() { format!("{v}{suffix}") } else { format!("{v}{sep}±{sep}{}{suffix}", fmt_hw(hw * k, u)) }
}

fn fmt_ci(m: f64, hw: f64, unit: &str) -> String {
    fmt_pm(m, hw, unit, false, " ")
}

/// A signed difference: `+1.2`, `−0.4`.
pub fn fmt_signed(x: f64, unit: &str) -> String {
    let v = fmt_val(x, unit);
    if x > 0.0 && v.chars().any(|c| c.is_ascii_digit() && c != '0') { format!("+{v}") } else { v }
}

/// The Δ cell of a paired difference, and its mark.
pub fn delta_cell(a: &[f64], b: &[f64], unit: &str) -> (String, Mark) {
    let p = paired(a, b);
    let body = || fmt_pm(p.mean, p.half_width(), unit, true, " ");
    match p.verdict {
        _ if p.mean.is_nan() => ("-".into(), Mark::Plain),
        Verdict::Significant => (format!("{} *", body()), Mark::Significant),
        Verdict::NoDifference => (format!("no difference ({})", body()), Mark::NoDifference),
        Verdict::Identical => ("identical".into(), Mark::NoDifference),
        Verdict::Unknown => (body(), Mark::Plain),
    }
}

/// Rows of the table for one workload: figure, which way is better, then per variant
/// "mean ± ci" (★ on the best) and, after the baseline, the paired Δ.
pub fn table_rows(c: &Comparison, per_variant: &[Vec<Figure>]) -> (Vec<String>, Vec<Vec<String>>) {
    let (header, rows, _) = table_cells(c, per_variant);
    (header, rows)
}

fn table_cells(
    c: &Comparison,
    per_variant: &[Vec<Figure>],
) -> (Vec<String>, Vec<Vec<String>>, Vec<Vec<Mark>>) {
    let mut header = vec!["figure".to_string(), "better".to_string()];
    for (i, v) in c.variants.iter().enumerate() {
        header.push(v.clone());
        if i > 0 {
            header.push(format!("Δ {v}"));
        }
    }
    let (mut rows, mut marks) = (Vec::new(), Vec::new());
    for (k, fig) in per_variant[0].iter().enumerate() {
        let label =
            if fig.unit.is_empty() { fig.name.to_string() } else { format!("{} ({})", fig.name, fig.unit) };
        let winner = winner_of(per_variant, k);
        let mut row = vec![label, fig.better.word().unwrap_or("—").to_string()];
        let mut mark = vec![Mark::Plain, Mark::Plain];
        for (v, figs) in per_variant.iter().enumerate() {
            let (m, hw) = mean_ci(&figs[k].per_seed);
            let is_best = winner.best.contains(&v);
            row.push(if is_best {
                format!("{} ★", fmt_ci(m, hw, fig.unit))
            } else {
                fmt_ci(m, hw, fig.unit)
            });
            mark.push(if is_best { Mark::Best } else { Mark::Plain });
            if v > 0 {
                let (cell, m) = delta_cell(&per_variant[0][k].per_seed, &figs[k].per_seed, fig.unit);
                row.push(cell);
                mark.push(m);
            }
        }
        rows.push(row);
        marks.push(mark);
    }
    (header, rows, marks)
}

/// Every table of `c` as cells.
pub(super) fn all_cells(c: &Comparison) -> Vec<Cells> {
    table_list(c)
        .into_iter()
        .map(|(heading, per_variant)| {
            let (header, rows, marks) = table_cells(c, per_variant);
            Cells { heading, header, rows, marks }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_read_as_people_write_them() {
        assert_eq!(fmt_val(3143.2, "ms"), "3,143");
        assert_eq!(fmt_val(-50041.0, "ms"), "−50.0 s");
        assert_eq!(fmt_val(1234567.0, "messages"), "1,234,567");
        assert_eq!(fmt_val(-0.001, "%"), "0.00");
        assert_eq!(fmt_val(-2.5, ""), "−2.50");
        assert_eq!(fmt_val(85.714, "%"), "85.71");
        assert_eq!(fmt_signed(0.24, "req/s"), "+0.24");
        assert_eq!(fmt_hw(0.004, "%"), "<0.01");
        assert_eq!(fmt_hw(0.0, "%"), "0.00");
        assert_eq!(fmt_hw(0.4, "ms"), "0.40");
        assert_eq!(fmt_pm(51_100.0, 1_640.0, "ms", false, " "), "51.1 ± 1.6 s");
        assert_eq!(fmt_pm(100.23, 1.39, "", false, " "), "100.2 ± 1.4");
        assert_eq!(fmt_pm(0.0213, 0.0043, "%", true, " "), "+0.02 ± <0.01");
        assert_eq!(fmt_pm(42.7183, 0.0661, "%", false, " "), "42.72 ± 0.07");
        assert_eq!(fmt_pm(53.01862, 0.00003, "ms", false, " "), "53.02 ± <0.01");
        assert_eq!(fmt_pm(-0.004, 0.31, "ms", true, " "), "0.00 ± 0.31");
        assert_eq!(fmt_pm(1.5, 0.0, "", false, " "), "1.50 ± 0.00");
        assert_eq!(fmt_pm(-5_704.0, 584.0, "ms", true, " "), "−5,704 ± 584");
        assert_eq!(fmt_pm(2.0, f64::NAN, "", true, " "), "+2.00");
    }
}
