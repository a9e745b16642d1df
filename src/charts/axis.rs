//! Axes: linear, logarithmic, percentile and category scales, their ticks and labels,
//! computed here (never by floating-point accumulation) so the same input gives the
//! same ticks.

#[derive(Clone, Debug)]
pub(super) enum AxisKind {
    Linear {
        decimals: usize,
    },
    /// Coordinates are `log10` of the value.
    Log10,
    /// Coordinates are `log10(1/(1−p))`.
    Percentile,
    /// Ticks at 0, 1, 2… named.
    Categories(Vec<String>),
}

#[derive(Clone, Debug)]
pub(super) struct Axis {
    pub(super) lo: f64,
    pub(super) hi: f64,
    pub(super) ticks: Vec<f64>,
    pub(super) kind: AxisKind,
    pub(super) desc: String,
}

impl Axis {
    /// Data value to coordinate.
    pub(super) fn map(&self, v: f64) -> f64 {
        match self.kind {
            AxisKind::Log10 | AxisKind::Percentile => {
                if v.is_nan() {
                    v
                } else {
                    v.max(10f64.powf(self.lo)).log10()
                }
            }
            _ => v,
        }
    }

    pub(super) fn label(&self, c: f64) -> String {
        match &self.kind {
            AxisKind::Linear { decimals } => group(fmt_fixed(c, *decimals)),
            AxisKind::Log10 => {
                let v = 10f64.powf(c);
                let d = if v >= 1.0 { 0 } else { (-v.log10()).ceil() as usize };
                group(fmt_fixed(v, d))
            }
            AxisKind::Percentile => percentile_label(c),
            AxisKind::Categories(names) => {
                let i = c.round();
                if i >= 0.0 && (i as usize) < names.len() { names[i as usize].clone() } else { String::new() }
            }
        }
    }

    pub(super) fn max_label_chars(&self) -> usize {
        self.ticks.iter().map(|t| self.label(*t).chars().count()).max().unwrap_or(1)
    }

    /// A time axis over `0..duration_s`.
    pub(super) fn time(duration_s: f64) -> Axis {
        let hi = if duration_s > 0.0 { duration_s } else { 1.0 };
        let step = [
            0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 20.0, 30.0,
            60.0, 120.0, 300.0, 600.0, 900.0, 1200.0, 1800.0, 3600.0, 7200.0, 14400.0, 28800.0, 86400.0,
        ]
        .into_iter()
        .find(|s| hi / s <= 10.0)
        .unwrap_or_else(|| nice_step(hi / 8.0));
        let ticks = ticks_between(0.0, hi, step);
        Axis {
            lo: 0.0,
            hi,
            ticks,
            kind: AxisKind::Linear { decimals: decimals_of(step) },
            desc: "time (s)".into(),
        }
    }

    /// A linear axis from 0 to a round number at or above `max` (at least `min_hi`), with
    /// a little headroom so that a line at the maximum stays clear of the frame.
    pub(super) fn linear(max: f64, min_hi: f64, desc: &str) -> Axis {
        Axis::linear_step(max, min_hi, 0.0, desc)
    }

    /// A linear axis for counts: ticks at whole numbers (a step of 2.5 becomes 2).
    pub(super) fn count(max: f64, desc: &str) -> Axis {
        let m = if max.is_finite() { max.max(5.0) } else { 5.0 };
        let step = nice_step(m / 5.0);
        let whole = if step > 1.0 && step.fract() != 0.0 { step.floor() } else { step.max(1.0) };
        Axis::with_step(m, whole, desc)
    }

    pub(super) fn linear_step(max: f64, min_hi: f64, min_step: f64, desc: &str) -> Axis {
        let max = if max.is_finite() { max.max(min_hi) } else { min_hi };
        let max = if max > 0.0 { max } else { 1.0 };
        Axis::with_step(max, nice_step(max / 5.0).max(min_step), desc)
    }

    /// A linear axis from 0 past `max` (positive) with ticks every `step`.
    fn with_step(max: f64, step: f64, desc: &str) -> Axis {
        let top = (max / step - 1e-9).ceil().max(1.0) * step;
        let ticks = ticks_between(0.0, top, step);
        let kind = AxisKind::Linear { decimals: decimals_of(step) };
        Axis { lo: 0.0, hi: top * 1.04, ticks, kind, desc: desc.into() }
    }

    /// A base-10 log axis covering `[min, max]` (both positive), ticks at 1, 2, 5 × 10^k
    /// (only at powers of ten when the range spans more than two decades, so that the
    /// labels keep their distance).
    pub(super) fn log(min: f64, max: f64, desc: &str) -> Axis {
        let lo_dec = min.log10().floor();
        let hi_dec = (max.log10() - 1e-9).ceil().max(lo_dec + 1.0);
        let mut candidates = Vec::new();
        let mut d = lo_dec;
        while d <= hi_dec {
            for m in [1.0, 2.0, 5.0] {
                candidates.push((m, d));
            }
            d += 1.0;
        }
        let val = |(m, d): (f64, f64)| m * 10f64.powf(d);
        // Tightest 1-2-5 bounds around the data.
        let lo = candidates
            .iter()
            .rev()
            .map(|c| val(*c))
            .find(|v| *v <= min * (1.0 + 1e-9))
            .unwrap_or(val((1.0, lo_dec)));
        let hi = candidates
            .iter()
            .map(|c| val(*c))
            .find(|v| *v >= max * (1.0 - 1e-9))
            .unwrap_or(val((1.0, hi_dec)));
        let span = (hi / lo).log10();
        // Beyond two decades, ticks only at powers of ten, and the axis ends on them.
        let (lo, hi) = if span <= 2.2 { (lo, hi) } else { (10f64.powf(lo_dec), 10f64.powf(hi_dec)) };
        let ticks: Vec<f64> = candidates
            .iter()
            .filter(|(m, _)| span <= 2.2 || *m == 1.0)
            .map(|c| val(*c))
            .filter(|v| *v >= lo * (1.0 - 1e-9) && *v <= hi * (1.0 + 1e-9))
            .map(|v| v.log10())
            .collect();
        let (lo, hi) = (lo.log10(), hi.log10());
        Axis { lo, hi: hi + 0.03 * (hi - lo), ticks, kind: AxisKind::Log10, desc: desc.into() }
    }

    /// A latency axis: linear from 0 when the values are within a factor 20 of each
    /// other, otherwise logarithmic, so that a median of 20 ms stays readable under a
    /// tail of seconds.
    pub(super) fn latency(values: impl Iterator<Item = f64>) -> Axis {
        let (mut min, mut max) = (f64::INFINITY, 0.0f64);
        for v in values.filter(|v| v.is_finite() && *v > 0.0) {
            min = min.min(v);
            max = max.max(v);
        }
        if !min.is_finite() || max / min <= 20.0 {
            Axis::linear(max, 1.0, "latency (ms)")
        } else {
            Axis::log(min.max(1e-3), max, "latency (ms, log scale)")
        }
    }

    pub(super) fn percentile(decades: u32) -> Axis {
        let mut ticks = vec![0.0, 2f64.log10()];
        ticks.extend((1..=decades).map(|d| d as f64));
        Axis {
            lo: 0.0,
            hi: decades as f64,
            ticks,
            kind: AxisKind::Percentile,
            desc: "percentile (log scale of 1/(1−p))".into(),
        }
    }

    pub(super) fn categories(names: &[&str], desc: &str) -> Axis {
        Axis {
            lo: -0.5,
            hi: names.len() as f64 - 0.5,
            ticks: (0..names.len()).map(|i| i as f64).collect(),
            kind: AxisKind::Categories(names.iter().map(|s| s.to_string()).collect()),
            desc: desc.into(),
        }
    }
}

pub(super) fn percentile_label(c: f64) -> String {
    if c <= 1e-9 {
        return "0%".into();
    }
    let p = 100.0 * (1.0 - 10f64.powf(-c));
    let d = if c > 2.0 + 1e-9 { (c - 2.0).ceil() as usize } else { 0 };
    format!("{}%", fmt_fixed(p, d))
}

/// 1, 2, 2.5 or 5 × 10^k, the smallest at least `raw`.
pub(super) fn nice_step(raw: f64) -> f64 {
    if !(raw.is_finite() && raw > 0.0) {
        return 1.0;
    }
    let mag = 10f64.powf(raw.log10().floor());
    let norm = raw / mag;
    let m = [1.0, 2.0, 2.5, 5.0, 10.0].into_iter().find(|m| *m >= norm - 1e-9).unwrap_or(10.0);
    m * mag
}

/// Fewest decimals that show `step` exactly.
pub(super) fn decimals_of(step: f64) -> usize {
    (0..=6)
        .find(|d| {
            let s = step * 10f64.powi(*d as i32);
            (s - s.round()).abs() < 1e-6
        })
        .unwrap_or(6)
}

/// Multiples of `step` in `[lo, hi]`, computed by index (never by accumulation).
pub(super) fn ticks_between(lo: f64, hi: f64, step: f64) -> Vec<f64> {
    let first = (lo / step - 1e-9).ceil() as i64;
    let last = (hi / step + 1e-9).floor() as i64;
    (first..=last.max(first)).take(100).map(|k| k as f64 * step).collect()
}

/// Thousands separators in a tick label of five digits or more before the point
/// (`10,000`, `100,000`, as the page's tables write them), so a reader need not count
/// zeros; four digits (`2000`) stay as they are.
fn group(s: String) -> String {
    let (sign, rest) = s.strip_prefix('-').map_or(("", s.as_str()), |r| ("-", r));
    let (int, frac) = rest.split_once('.').map_or((rest, None), |(i, f)| (i, Some(f)));
    if int.len() < 5 || !int.chars().all(|c| c.is_ascii_digit()) {
        return s;
    }
    let mut out = String::from(sign);
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    if let Some(f) = frac {
        out.push('.');
        out.push_str(f);
    }
    out
}

pub(super) fn fmt_fixed(v: f64, decimals: usize) -> String {
    let s = format!("{v:.decimals$}");
    if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') { s[1..].to_string() } else { s }
}
