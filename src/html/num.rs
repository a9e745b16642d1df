//! How the pages write numbers, in one place so that every table, tile and sentence
//! agrees: counts with thousands separators (`45,645`), a real minus sign (U+2212) for
//! negatives, milliseconds with about three significant figures and in seconds from
//! 10 000 ms on (`51.2 s`), percentages with two decimals. Every figure is rounded
//! **once**, from the exact value the [`crate::report::Summary`] holds (the JSON rounds
//! its own copy to 3 decimals; rounding that copy again would turn an exact 1.7449 into
//! 1.745 and then 1.75 where the text table shows 1.74).

/// Between a number and its unit: a no-break space, so `778 ms` never wraps apart.
const NBSP: &str = "\u{a0}";

/// The mark of a figure that was not measured.
pub(super) const NONE: &str = "–";

/// The real minus sign.
const MINUS: char = '\u{2212}';

/// Replaces a leading ASCII hyphen-minus with the real minus sign.
fn minus(s: String) -> String {
    match s.strip_prefix('-') {
        Some(rest) => format!("{MINUS}{rest}"),
        None => s,
    }
}

/// Groups the digits of an unsigned integer in threes: `1234567` → `1,234,567`.
fn group(digits: &str) -> String {
    let n = digits.len();
    let mut out = String::with_capacity(n + n / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (n - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A count: `45,645`.
pub(super) fn int(n: u64) -> String {
    group(&n.to_string())
}

/// A number with `d` decimals, thousands grouped, real minus sign; `–` when not finite.
pub(crate) fn fixed(v: f64, d: usize) -> String {
    if !v.is_finite() {
        return NONE.into();
    }
    let s = format!("{:.d$}", v.abs());
    let (whole, frac) = match s.split_once('.') {
        Some((w, f)) => (w.to_string(), format!(".{f}")),
        None => (s, String::new()),
    };
    let neg = v < 0.0 && s_is_nonzero(&whole, &frac);
    let body = format!("{}{frac}", group(&whole));
    if neg { minus(format!("-{body}")) } else { body }
}

/// A rate as the scenario gives it (arrivals per second): at most three decimals, no
/// trailing zeros, thousands grouped: `150`, `9.569`, `3,200`. The words, the topology
/// and the charts' step labels write one rate alike.
pub(crate) fn rate(v: f64) -> String {
    let s = fixed(v, 3);
    if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s }
}

/// Whether a rounded magnitude is not all zeros (so `-0.00` is written `0.00`).
fn s_is_nonzero(whole: &str, frac: &str) -> bool {
    whole.chars().chain(frac.chars()).any(|c| c.is_ascii_digit() && c != '0')
}

/// Milliseconds, rounded once: below 10 ms two decimals, below 100 ms one, below
/// 10 000 ms none (`1,346`), from 10 000 ms on in seconds with one decimal and the unit
/// (`51.2 s`). `–` when nothing was measured.
pub(crate) fn ms(v: Option<f64>) -> String {
    let Some(v) = v.filter(|v| v.is_finite()) else { return NONE.into() };
    let a = v.abs();
    if a >= 10_000.0 {
        format!("{}{NBSP}s", fixed(v / 1000.0, 1))
    } else if a >= 100.0 {
        fixed(v, 0)
    } else if a >= 10.0 {
        fixed(v, 1)
    } else {
        fixed(v, 2)
    }
}

/// Milliseconds with the unit always written: `90.3 ms`, `51.2 s`.
pub(super) fn ms_unit(v: Option<f64>) -> String {
    let t = ms(v);
    if t == NONE || t.ends_with("\u{a0}s") { t } else { format!("{t}{NBSP}ms") }
}

/// Seconds: whole seconds without decimals (`60 s`), else up to three (`1.5 s`).
pub(super) fn secs(v: f64) -> String {
    if !v.is_finite() {
        return NONE.into();
    }
    if (v - v.round()).abs() < 1e-9 {
        format!("{}{NBSP}s", fixed(v.round(), 0))
    } else {
        let t = fixed(v, 3);
        let t = t.trim_end_matches('0').trim_end_matches('.').to_string();
        format!("{t}{NBSP}s")
    }
}

/// A share `n / d` in percent with two decimals; `–` when `d` is 0.
pub(super) fn percent_of(n: u64, d: u64) -> String {
    if d > 0 { percent(100.0 * n as f64 / d as f64) } else { NONE.into() }
}

/// A percentage already in percent: `99.50%`.
pub(crate) fn percent(v: f64) -> String {
    if v.is_finite() { format!("{}%", fixed(v, 2)) } else { NONE.into() }
}

/// A figure given with its threshold's unit, as evaluated (`value` of a
/// [`crate::report::summary::ThresholdVerdict`]): the metric decides the unit.
pub(super) fn metric_value(metric: &str, v: Option<f64>) -> String {
    let Some(v) = v.filter(|v| v.is_finite()) else { return "not measured".into() };
    match metric {
        "mean" | "p50" | "p90" | "p99" | "p999" | "max" | "max_age" => ms_unit(Some(v)),
        "success"
        | "failed"
        | "degraded"
        | "completed"
        | "compensated"
        | "compensation_failed"
        | "abandoned" => percent(v),
        "goodput" => format!("{}/s", fixed(v, 1)),
        "retries_per_request" => fixed(v, 3),
        "orphaned_per_1000" => format!("{} per 1,000 sagas started", fixed(v, 2)),
        // Counts of messages (a group's or a work queue's), said as such: a bare `55`
        // under `inconsistent <= 0` left the reader to guess what was counted.
        "max_lag" | "duplicates" | "dead_lettered" | "max_depth" | "inconsistent"
            if v.fract() == 0.0 && v >= 0.0 =>
        {
            let n = v as u64;
            format!("{} message{}", int(n), if n == 1 { "" } else { "s" })
        }
        _ => fixed(v, 3),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_grouped_in_threes() {
        assert_eq!(int(0), "0");
        assert_eq!(int(999), "999");
        assert_eq!(int(1000), "1,000");
        assert_eq!(int(45645), "45,645");
        assert_eq!(int(1_234_567), "1,234,567");
    }

    #[test]
    fn negatives_use_the_real_minus_sign() {
        assert_eq!(fixed(-1234.5, 1), "\u{2212}1,234.5");
        assert_eq!(fixed(-0.001, 2), "0.00");
        assert_eq!(ms(Some(-3.0)), "\u{2212}3.00");
    }

    #[test]
    fn milliseconds_round_once_and_turn_into_seconds_at_ten_thousand() {
        // 1.7449 must not pass through 1.745 on its way to two decimals.
        assert_eq!(ms(Some(1.7449)), "1.74");
        assert_eq!(ms(Some(1.7451)), "1.75");
        assert_eq!(ms(Some(90.34)), "90.3");
        assert_eq!(ms(Some(1346.4)), "1,346");
        assert_eq!(ms(Some(9_999.4)), "9,999");
        assert_eq!(ms(Some(51_238.0)), "51.2\u{a0}s");
        assert_eq!(ms(None), "–");
        assert_eq!(ms(Some(f64::NAN)), "–");
        assert_eq!(ms_unit(Some(2.0)), "2.00\u{a0}ms");
        assert_eq!(ms_unit(Some(20_000.0)), "20.0\u{a0}s");
    }

    #[test]
    fn seconds_and_percentages() {
        assert_eq!(secs(60.0), "60\u{a0}s");
        assert_eq!(secs(1.5), "1.5\u{a0}s");
        assert_eq!(secs(12_000.0), "12,000\u{a0}s");
        assert_eq!(percent_of(1, 3), "33.33%");
        assert_eq!(percent_of(1, 0), "–");
        assert_eq!(metric_value("p99", Some(512.0)), "512\u{a0}ms");
        assert_eq!(metric_value("success", Some(99.5)), "99.50%");
        // A count says what it counts; a rate, per what.
        assert_eq!(metric_value("max_lag", Some(1200.0)), "1,200 messages");
        assert_eq!(metric_value("duplicates", Some(3.0)), "3 messages");
        assert_eq!([rate(150.0), rate(9.569), rate(124.4), rate(3200.0)], ["150", "9.569", "124.4", "3,200"]);
        assert_eq!(metric_value("inconsistent", Some(55.0)), "55 messages");
        assert_eq!(metric_value("dead_lettered", Some(1.0)), "1 message");
        assert_eq!(metric_value("max_depth", Some(0.0)), "0 messages");
        assert_eq!(metric_value("orphaned_per_1000", Some(58.06)), "58.06 per 1,000 sagas started");
        assert_eq!(metric_value("p99", None), "not measured");
    }
}
