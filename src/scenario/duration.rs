//! Durations as the scenario writes them: a decimal number and a unit, `"250us"`,
//! `"1.5ms"`, `"2m"`. A bare number is refused because it is ambiguous (seconds? ms?).
//!
//! The conversion to nanoseconds is exact integer arithmetic on the decimal digits
//! (rounded to the nearest nanosecond, halves up), so `"0.1s"` is exactly 100,000,000 ns
//! and no float rounding can make two spellings of one duration differ.

use crate::spec::Nanos;

/// The units a duration may carry, with their length in nanoseconds. `µ` is accepted both
/// as the micro sign (U+00B5) and the Greek letter mu (U+03BC), which look identical.
const UNITS: [(&str, u128); 8] = [
    ("ns", 1),
    ("us", 1_000),
    ("\u{b5}s", 1_000),
    ("\u{3bc}s", 1_000),
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60_000_000_000),
    ("h", 3_600_000_000_000),
];

/// The longest duration a scenario may give: 10 years of 365 days (87,600 h). The
/// simulated clock counts 64-bit nanoseconds (about 584 years), so the sum of a few dozen
/// such durations (a start plus a duration, a timeout plus a backoff, ...) still fits.
pub const MAX_DURATION_NS: Nanos = 87_600 * 3_600 * 1_000_000_000;

/// Most fractional digits that can still change the rounded result: an hour is
/// 3.6e12 ns, so digits beyond the 13th are below half a nanosecond. Extra digits are
/// read (they must still be digits) but ignored.
const MAX_FRACTION_DIGITS: usize = 20;

/// Parses a duration string such as `"1.5ms"` into whole nanoseconds.
///
/// The error says what was expected and what was found, ready to follow a JSON path.
pub fn parse_duration(s: &str) -> Result<Nanos, String> {
    const HINT: &str = "expected a duration with a unit such as \"250ms\" (units: ns, us, ms, s, m, h)";
    let text = s;
    if text.is_empty() {
        return Err(format!("{HINT}, found an empty string"));
    }
    if let Some(rest) = text.strip_prefix('-')
        && rest.starts_with(|c: char| c.is_ascii_digit() || c == '.')
    {
        return Err(format!("durations cannot be negative, found \"{text}\""));
    }
    let num_end = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
    let (number, unit) = text.split_at(num_end);
    if number.is_empty() {
        return Err(format!("{HINT}, found \"{text}\""));
    }
    if unit.is_empty() {
        return Err(format!(
            "a duration needs a unit: {HINT}, found \"{text}\" (did you mean \"{text}ms\" or \"{text}s\"?)"
        ));
    }
    let Some(&(_, unit_ns)) = UNITS.iter().find(|(name, _)| *name == unit) else {
        return Err(format!("unknown unit \"{unit}\" in \"{text}\": {HINT}"));
    };
    let (int_part, frac_part) = match number.split_once('.') {
        Some((i, f)) => (i, f),
        None => (number, ""),
    };
    if frac_part.contains('.') || (int_part.is_empty() && frac_part.is_empty()) {
        return Err(format!("{HINT}, found \"{text}\""));
    }
    if number.ends_with('.') || number.starts_with('.') {
        return Err(format!(
            "{HINT}, found \"{text}\" (write digits on both sides of the point, e.g. \"0.5s\")"
        ));
    }
    let too_long = || {
        format!(
            "duration \"{text}\" is too long: at most 10 years, \"87600h\" (the simulated clock is 64-bit nanoseconds)"
        )
    };
    let mut int_val: u128 = 0;
    for b in int_part.bytes() {
        int_val =
            int_val.checked_mul(10).and_then(|v| v.checked_add(u128::from(b - b'0'))).ok_or_else(too_long)?;
    }
    let mut total = int_val.checked_mul(unit_ns).ok_or_else(too_long)?;
    if !frac_part.is_empty() {
        let digits = &frac_part[..frac_part.len().min(MAX_FRACTION_DIGITS)];
        let mut frac_val: u128 = 0;
        let mut scale: u128 = 1;
        for b in digits.bytes() {
            frac_val = frac_val * 10 + u128::from(b - b'0');
            scale *= 10;
        }
        // frac_val < 10^20 and unit_ns <= 3.6e12, so the product fits in a u128.
        let frac_ns = (frac_val * unit_ns + scale / 2) / scale;
        total = total.checked_add(frac_ns).ok_or_else(too_long)?;
    }
    match Nanos::try_from(total) {
        Ok(ns) if ns <= MAX_DURATION_NS => Ok(ns),
        _ => Err(too_long()),
    }
}

/// Formats nanoseconds for messages: the largest unit that keeps the number short,
/// e.g. `1.5ms`, `2m`, `250us`.
pub fn format_ns(ns: Nanos) -> String {
    const STEPS: [(&str, u64); 6] = [
        ("h", 3_600_000_000_000),
        ("m", 60_000_000_000),
        ("s", 1_000_000_000),
        ("ms", 1_000_000),
        ("us", 1_000),
        ("ns", 1),
    ];
    for (unit, size) in STEPS {
        if ns >= size && (ns.is_multiple_of(size) || (unit != "h" && unit != "m")) {
            if ns.is_multiple_of(size) {
                return format!("{}{unit}", ns / size);
            }
            let v = ns as f64 / size as f64;
            let s = format!("{v:.3}");
            let s = s.trim_end_matches('0').trim_end_matches('.');
            return format!("{s}{unit}");
        }
    }
    "0s".to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_durations() {
        let cases: &[(&str, u64)] = &[
            ("0s", 0),
            ("0ms", 0),
            ("1ns", 1),
            ("250us", 250_000),
            ("250\u{b5}s", 250_000),
            ("250\u{3bc}s", 250_000),
            ("1.5ms", 1_500_000),
            ("2s", 2_000_000_000),
            ("0.1s", 100_000_000),
            ("5m", 300_000_000_000),
            ("1h", 3_600_000_000_000),
            ("315.625s", 315_625_000_000),
            ("0.5ns", 1),
            ("0.4ns", 0),
            ("1.0000000000000000000000001s", 1_000_000_000),
            ("87600h", MAX_DURATION_NS),
            ("315360000000000000ns", MAX_DURATION_NS),
        ];
        for (s, want) in cases {
            assert_eq!(parse_duration(s), Ok(*want), "{s}");
        }
    }

    #[test]
    fn bad_durations() {
        let cases: &[(&str, &str)] = &[
            ("5", "needs a unit"),
            ("", "empty"),
            ("-5ms", "negative"),
            ("5 ms", "unknown unit"),
            ("5sec", "unknown unit"),
            ("ms", "expected a duration"),
            ("1.2.3s", "expected a duration"),
            (".5s", "digits on both sides"),
            ("5.s", "digits on both sides"),
            ("18446744073709551616ns", "too long"),
            ("18446744073709551615ns", "at most 10 years"),
            ("87600.000000001h", "at most 10 years"),
            ("315360000000000001ns", "64-bit nanoseconds"),
            ("99999999999999999999999999999999999999999h", "too long"),
            ("1e3ms", "unknown unit"),
            ("+5s", "expected a duration"),
        ];
        for (s, want) in cases {
            let e = parse_duration(s).expect_err(s);
            assert!(e.contains(want), "{s}: {e}");
        }
    }

    #[test]
    fn formats_short() {
        assert_eq!(format_ns(1_500_000), "1.5ms");
        assert_eq!(format_ns(120_000_000_000), "2m");
        assert_eq!(format_ns(90_000_000_000), "90s");
        assert_eq!(format_ns(0), "0s");
        assert_eq!(format_ns(250_000), "250us");
    }
}
