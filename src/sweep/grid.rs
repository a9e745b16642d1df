//! The grid of a sweep: each `--param PTR=SPEC` parsed into its values, and the
//! cartesian product of the params in the order they are given (the first param varies
//! slowest). A value is kept as the text `--set` would be given, so a point is exactly
//! the `--set PTR=TEXT` overrides that `faultline run` takes.
//!
//! `SPEC` is one of:
//! - a list, `200ms,400ms,800ms` or `1,2,3` (each item as `--set` reads it: JSON, or a
//!   string when it is not JSON; commas inside brackets or quotes do not split);
//! - a linear range `A..B:STEP` of integers, decimals (`0.1..0.5:0.1`) or durations
//!   (`100ms..1s:100ms`): `A`, `A+STEP`, … up to `B`, which is included when it lands on
//!   the step; computed in integers (decimals scaled, durations in nanoseconds), so no
//!   rounding drifts;
//! - a log range `A..B:xF` (`1ms..1s:x2`): `A`, `A·F`, `A·F²`, … up to `B` (included when
//!   it lands on it); durations are rounded to the nanosecond.

use crate::scenario::{duration::parse_duration, pointer};

/// Most values one param may take.
pub const MAX_VALUES: usize = 10_000;
/// Most points of a grid.
pub const MAX_POINTS: usize = 10_000;

/// One swept parameter: its JSON Pointer and its values, as `--set` texts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Param {
    pub pointer: String,
    pub values: Vec<String>,
}

/// Parses `PTR=SPEC`. The error names the argument.
pub fn parse_param(arg: &str) -> Result<Param, String> {
    let bad = |why: String| format!("--param {arg}: {why}");
    let Some((ptr, spec)) = arg.split_once('=') else {
        return Err(bad("expected POINTER=VALUES, e.g. /policies/internal/timeout=200ms,400ms".into()));
    };
    if ptr.is_empty() || !ptr.starts_with('/') {
        return Err(bad(format!("`{ptr}` is not a JSON Pointer (it starts with `/`)")));
    }
    pointer::parse(ptr).map_err(|e| bad(e.to_string()))?;
    if ptr == "/seed" {
        return Err(bad(
            "the seed is not a parameter: give --seeds N (every point runs on the same seeds)".into()
        ));
    }
    let values = parse_spec(spec).map_err(bad)?;
    if values.is_empty() {
        return Err(bad("no values: the range is empty".into()));
    }
    if values.len() > MAX_VALUES {
        return Err(bad(format!("{} values, more than {MAX_VALUES}", values.len())));
    }
    Ok(Param { pointer: ptr.to_string(), values })
}

/// The values of one `SPEC`.
fn parse_spec(spec: &str) -> Result<Vec<String>, String> {
    let items = split_top(spec);
    if items.len() == 1 && !starts_json(spec) && spec.contains("..") {
        return parse_range(spec);
    }
    if items.iter().any(|s| s.trim().is_empty()) {
        return Err("an empty value in the list".into());
    }
    Ok(items.into_iter().map(|s| s.trim().to_string()).collect())
}

fn starts_json(s: &str) -> bool {
    s.starts_with(['"', '[', '{'])
}

/// Splits on commas outside brackets, braces and double quotes.
fn split_top(s: &str) -> Vec<&str> {
    let (mut out, mut depth, mut quoted, mut escaped, mut start) = (Vec::new(), 0i32, false, false, 0);
    for (i, c) in s.char_indices() {
        if quoted {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => quoted = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => quoted = true,
            '[' | '{' => depth += 1,
            ']' | '}' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

/// A number or a duration, as a range endpoint or step.
#[derive(Clone, Copy, Debug)]
enum Num {
    /// An integer scaled by `10^decimals`.
    Dec {
        scaled: i128,
        decimals: u32,
    },
    Dur(u64),
}

fn parse_num(s: &str) -> Result<Num, String> {
    let s = s.trim();
    let plain = !s.is_empty()
        && s.chars().all(|c| c.is_ascii_digit() || c == '.' || c == '-')
        && s.chars().any(|c| c.is_ascii_digit());
    if plain {
        let neg = s.starts_with('-');
        let body = s.strip_prefix('-').unwrap_or(s);
        let (int, frac) = body.split_once('.').unwrap_or((body, ""));
        // At most 18 digits, so that every sum and product of the range fits an i128.
        let too_long = int.len() + frac.len() > 18 || frac.len() > 9;
        if int.is_empty() && frac.is_empty() || body.contains('-') || frac.contains('.') || too_long {
            return Err(format!("`{s}` is not a number or a duration"));
        }
        let digits = format!("{int}{frac}");
        let v: i128 = digits.parse().map_err(|_| format!("`{s}` is not a number or a duration"))?;
        return Ok(Num::Dec { scaled: if neg { -v } else { v }, decimals: frac.len() as u32 });
    }
    parse_duration(s)
        .map(Num::Dur)
        .map_err(|_| format!("`{s}` is not a number or a duration (such as 10, 0.5 or 200ms)"))
}

fn parse_range(spec: &str) -> Result<Vec<String>, String> {
    let form = "a range is FROM..TO:STEP (10..50:10, 100ms..1s:100ms) or FROM..TO:xFACTOR (1ms..1s:x2)";
    let (ends, step) = spec.rsplit_once(':').ok_or_else(|| format!("`{spec}`: no step; {form}"))?;
    let (a, b) = ends.split_once("..").ok_or_else(|| format!("`{spec}`: {form}"))?;
    let (a, b) = (parse_num(a)?, parse_num(b)?);
    if let Some(f) = step.trim().strip_prefix('x') {
        let f: f64 = f
            .trim()
            .parse()
            .map_err(|_| format!("`{step}`: the factor of a log range is a number, e.g. x2"))?;
        if !(f > 1.0 && f.is_finite()) {
            return Err(format!("`{step}`: the factor of a log range must be greater than 1"));
        }
        return log_range(a, b, f);
    }
    let s = parse_num(step)?;
    match (a, b, s) {
        (Num::Dur(a), Num::Dur(b), Num::Dur(s)) => {
            let v = linear(a as i128, b as i128, s as i128)?;
            Ok(v.into_iter().map(|n| exact_duration(n as u64)).collect())
        }
        (Num::Dec { .. }, Num::Dec { .. }, Num::Dec { .. }) => {
            let d =
                [a, b, s].iter().map(|n| if let Num::Dec { decimals, .. } = n { *decimals } else { 0 }).max();
            let d = d.unwrap_or(0);
            let sc = |n: Num| {
                if let Num::Dec { scaled, decimals } = n { scaled * 10i128.pow(d - decimals) } else { 0 }
            };
            let v = linear(sc(a), sc(b), sc(s))?;
            Ok(v.into_iter().map(|n| decimal(n, d)).collect())
        }
        _ => Err(format!(
            "`{spec}`: the ends and the step must all be numbers or all durations (a duration has a unit, e.g. 200ms)"
        )),
    }
}

fn linear(a: i128, b: i128, s: i128) -> Result<Vec<i128>, String> {
    if s <= 0 {
        return Err("the step must be greater than 0".into());
    }
    if b < a {
        return Err("the range is empty: its end is below its start".into());
    }
    let n = (b - a) / s + 1;
    if n > MAX_VALUES as i128 {
        return Err(format!("{n} values, more than {MAX_VALUES}"));
    }
    Ok((0..n).map(|i| a + i * s).collect())
}

fn log_range(a: Num, b: Num, f: f64) -> Result<Vec<String>, String> {
    let (lo, hi, dur, d) = match (a, b) {
        (Num::Dur(a), Num::Dur(b)) => (a as f64, b as f64, true, 0),
        (Num::Dec { scaled: x, decimals: dx }, Num::Dec { scaled: y, decimals: dy }) => {
            (x as f64 / 10f64.powi(dx as i32), y as f64 / 10f64.powi(dy as i32), false, dx.max(dy))
        }
        _ => return Err("the ends of a range must both be numbers or both durations".into()),
    };
    if lo <= 0.0 {
        return Err("a log range starts above 0".into());
    }
    if hi < lo {
        return Err("the range is empty: its end is below its start".into());
    }
    let integer_factor = f.fract() == 0.0;
    let mut out = Vec::new();
    let mut k = 0i32;
    loop {
        let v = lo * f.powi(k);
        if v > hi * (1.0 + 1e-9) {
            break;
        }
        if out.len() >= MAX_VALUES {
            return Err(format!("more than {MAX_VALUES} values"));
        }
        out.push(if dur {
            exact_duration(v.round() as u64)
        } else if d == 0 && integer_factor {
            format!("{}", v.round() as i128)
        } else {
            // Six significant digits, no trailing zeros.
            let s = format!("{:.*}", (5 - v.abs().log10().floor() as i32).max(0) as usize, v);
            trim_zeros(&s)
        });
        k += 1;
    }
    Ok(out)
}

fn trim_zeros(s: &str) -> String {
    if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s.to_string() }
}

fn decimal(n: i128, d: u32) -> String {
    if d == 0 {
        return n.to_string();
    }
    let p = 10i128.pow(d);
    let sign = if n < 0 { "-" } else { "" };
    trim_zeros(&format!("{sign}{}.{:0w$}", n.abs() / p, n.abs() % p, w = d as usize))
}

/// A duration in the largest unit that writes it exactly with at most three decimals
/// (`1s`, `250ms`, `1.5ms`, `1250us`), which the scenario's parser reads back exactly.
pub fn exact_duration(ns: u64) -> String {
    for (unit, size) in [("s", 1_000_000_000u64), ("ms", 1_000_000), ("us", 1_000)] {
        if ns >= size && ns.is_multiple_of(size / 1000) {
            return format!("{}{unit}", decimal((ns / (size / 1000)) as i128, 3));
        }
    }
    format!("{ns}ns")
}

/// A continuous range `FROM..TO` (no step), which `tune` samples by Latin hypercube
/// rather than stepping through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interval {
    /// Integers (both ends written without a decimal point), both ends included.
    Int(i128, i128),
    /// Decimals, in millionths.
    Micro(i128, i128),
    /// Durations, in nanoseconds.
    Dur(u64, u64),
}

/// `PTR=FROM..TO` with no step: `None` when `arg` is not of that form (a list, a
/// stepped range: [`parse_param`] reads it), else the pointer and the interval, or
/// why it is not one (named by the argument).
pub fn parse_interval(arg: &str) -> Option<Result<(String, Interval), String>> {
    let (ptr, spec) = arg.split_once('=')?;
    if split_top(spec).len() != 1 || starts_json(spec) || !spec.contains("..") || spec.contains(':') {
        return None;
    }
    let bad = |why: String| format!("--param {arg}: {why}");
    Some((|| {
        parse_param(&format!("{ptr}=0"))?;
        let (a, b) = spec.split_once("..").unwrap_or((spec, ""));
        let iv = match (parse_num(a).map_err(bad)?, parse_num(b).map_err(bad)?) {
            (Num::Dur(a), Num::Dur(b)) => Interval::Dur(a, b),
            (Num::Dec { scaled: x, decimals: 0 }, Num::Dec { scaled: y, decimals: 0 }) => Interval::Int(x, y),
            (Num::Dec { scaled: x, decimals: dx }, Num::Dec { scaled: y, decimals: dy }) => {
                Interval::Micro(x * 10i128.pow(6 - dx.min(6)), y * 10i128.pow(6 - dy.min(6)))
            }
            _ => return Err(bad("the ends of a range must both be numbers or both durations".into())),
        };
        let empty = match iv {
            Interval::Int(a, b) | Interval::Micro(a, b) => b <= a,
            Interval::Dur(a, b) => b <= a,
        };
        if empty {
            return Err(bad("the range is empty: its end is not above its start".into()));
        }
        Ok((ptr.to_string(), iv))
    })())
}

impl Interval {
    /// The value at `u` in `[0, 1]` of the way from start to end, as `--set` text:
    /// integers floor into `width + 1` equal cells; decimals and durations are rounded to
    /// a power of ten near a thousandth of the width (so `10ms..500ms` gives `123.4ms`,
    /// not nine digits), and kept within the ends.
    pub fn value_at(self, u: f64) -> String {
        let u = if u.is_finite() { u.clamp(0.0, 1.0) } else { 0.0 };
        let pick = |a: i128, b: i128| -> i128 {
            let w = (b - a) as f64;
            let grain = 10f64.powf((w / 1000.0).log10().floor()).max(1.0);
            let v = ((a as f64 + u * w) / grain).round() * grain;
            (v as i128).clamp(a, b)
        };
        match self {
            Interval::Int(a, b) => (a + ((u * (b - a + 1) as f64).floor() as i128)).clamp(a, b).to_string(),
            Interval::Micro(a, b) => decimal(pick(a, b), 6),
            Interval::Dur(a, b) => exact_duration(pick(a as i128, b as i128) as u64),
        }
    }
}

/// The cartesian product of the params: per point, the index of its value in each
/// param, the first param slowest.
pub fn points(params: &[Param]) -> Result<Vec<Vec<usize>>, String> {
    let n = params.iter().try_fold(1usize, |n, p| n.checked_mul(p.values.len()).filter(|&n| n <= MAX_POINTS));
    let Some(n) = n else { return Err(format!("the grid has more than {MAX_POINTS} points")) };
    Ok((0..n)
        .map(|mut i| {
            let mut idx = vec![0; params.len()];
            for (k, p) in params.iter().enumerate().rev() {
                idx[k] = i % p.values.len();
                i /= p.values.len();
            }
            idx
        })
        .collect())
}

/// The `--set` texts of one point.
pub fn point_sets(params: &[Param], point: &[usize]) -> Vec<String> {
    params.iter().zip(point).map(|(p, &i)| format!("{}={}", p.pointer, p.values[i])).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vals(spec: &str) -> Vec<String> {
        parse_param(&format!("/x={spec}")).unwrap().values
    }

    #[test]
    fn specs() {
        assert_eq!(vals("200ms,400ms,800ms"), ["200ms", "400ms", "800ms"]);
        assert_eq!(vals("10..50:10"), ["10", "20", "30", "40", "50"]);
        assert_eq!(vals("10..45:10"), ["10", "20", "30", "40"]);
        assert_eq!(vals("0.1..0.5:0.1"), ["0.1", "0.2", "0.3", "0.4", "0.5"]);
        assert_eq!(vals("100ms..1s:300ms"), ["100ms", "400ms", "700ms", "1s"]);
        assert_eq!(vals("1ms..1s:x2").len(), 10);
        assert_eq!(vals("0.6ms..1.1ms:0.1ms"), ["600us", "700us", "800us", "900us", "1ms", "1.1ms"]);
        assert_eq!(vals("1ns..3ns:1ns"), ["1ns", "2ns", "3ns"]);
        assert_eq!(vals("1250us,1.5s"), ["1250us", "1.5s"]);
        assert_eq!(vals("1ms..1s:x10"), ["1ms", "10ms", "100ms", "1s"]);
        assert_eq!(vals("1..8:x2"), ["1", "2", "4", "8"]);
        assert_eq!(vals("[1,2],{\"a\":3}"), ["[1,2]", "{\"a\":3}"]);
        let huge = "1..99999999999999999999999999999999999999:1";
        for bad in
            ["50..10:10", "1..5:0", "a..b:1", "1..5", "1ms..5:1", "1..5:x1", "", "1,,2", huge, "-..1:1"]
        {
            assert!(parse_param(&format!("/x={bad}")).is_err(), "{bad}");
        }
        assert!(parse_param("/seed=1,2").is_err());
        let iv = |s: &str| parse_interval(&format!("/x={s}"));
        assert_eq!(iv("10ms..500ms"), Some(Ok(("/x".into(), Interval::Dur(10_000_000, 500_000_000)))));
        assert_eq!(iv("1..8"), Some(Ok(("/x".into(), Interval::Int(1, 8)))));
        assert_eq!(iv("0.1..0.5"), Some(Ok(("/x".into(), Interval::Micro(100_000, 500_000)))));
        assert_eq!(iv("1..8:1"), None);
        assert_eq!(iv("1,2"), None);
        for bad in ["5..1", "1..1", "1ms..5", "a..b"] {
            assert!(matches!(iv(bad), Some(Err(_))), "{bad}");
        }
        assert_eq!(Interval::Dur(10_000_000, 500_000_000).value_at(0.25), "132.5ms");
        assert_eq!(Interval::Int(1, 8).value_at(0.999), "8");
        assert_eq!(Interval::Int(1, 8).value_at(0.0), "1");
        assert_eq!(Interval::Micro(100_000, 500_000).value_at(0.5), "0.3");
        assert!(parse_param("x=1").is_err());
    }

    proptest::proptest! {
        /// No value text makes the parser panic (overflow checks are on under `ci`).
        #[test]
        fn never_panics(s in "[-0-9.,:x.a-z\\[\\]\"]{0,40}") {
            let _ = parse_param(&format!("/x={s}"));
        }

        #[test]
        fn ranges_never_panic(s in "-?[0-9]{1,22}(\\.[0-9]{0,12})?(ns|ms|s)?\\.\\.-?[0-9]{1,22}(\\.[0-9]{1,3})?(ns|ms|s)?:x?[0-9]{1,22}(\\.[0-9]{0,3})?(ns|us|s)?") {
            let _ = parse_param(&format!("/x={s}"));
        }
    }

    #[test]
    fn product_first_slowest() {
        let p =
            |v: &[&str]| Param { pointer: "/a".into(), values: v.iter().map(|s| s.to_string()).collect() };
        let pts = points(&[p(&["1", "2"]), p(&["a", "b", "c"])]).unwrap();
        assert_eq!(pts, [[0, 0], [0, 1], [0, 2], [1, 0], [1, 1], [1, 2]]);
    }
}
