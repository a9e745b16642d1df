//! Statistics across seeds: the mean, its 95% confidence interval (Student's t), paired
//! differences and their verdict, and which variant is best at a figure.
//!
//! Every variant runs on the same seeds (common random numbers), so two variants are
//! compared seed by seed: the differences `d_i = b_i − a_i` are one sample of n values,
//! and their mean has the interval `d̄ ± t(0.975, n−1) · s_d / √n`. An interval that
//! excludes zero is a significant difference at the 5% level (the paired t-test); one
//! that contains zero is "no difference" (the seeds cannot tell the two apart).

/// Student's t quantile at 0.975 for `dof` degrees of freedom (95% two-sided).
pub fn t975(dof: usize) -> f64 {
    const T: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145,
        2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048,
        2.045, 2.042,
    ];
    match dof {
        0 => f64::NAN,
        d if d <= 30 => T[d - 1],
        d if d <= 60 => 2.000 + 0.042 * (60 - d) as f64 / 30.0,
        _ => 1.96,
    }
}

/// Mean and the half-width of its 95% confidence interval (NaN half-width with one
/// seed). NaN values (a figure a seed could not measure) are left out.
pub fn mean_ci(xs: &[f64]) -> (f64, f64) {
    let v: Vec<f64> = xs.iter().copied().filter(|x| !x.is_nan()).collect();
    let n = v.len();
    if n == 0 {
        return (f64::NAN, f64::NAN);
    }
    let m = v.iter().sum::<f64>() / n as f64;
    if n == 1 {
        return (m, f64::NAN);
    }
    let var = v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1) as f64;
    (m, t975(n - 1) * (var / n as f64).sqrt())
}

/// Paired differences `b − a`, seed by seed.
pub(super) fn diff(a: &[f64], b: &[f64]) -> Vec<f64> {
    a.iter().zip(b).map(|(x, y)| y - x).collect()
}

/// Which way a figure is better.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Better {
    Higher,
    Lower,
    /// Neither: a mechanism's activity (breaker open time, compensations), not an
    /// outcome; no variant is named best at it.
    Neither,
}

impl Better {
    pub fn word(self) -> Option<&'static str> {
        match self {
            Better::Higher => Some("higher"),
            Better::Lower => Some("lower"),
            Better::Neither => None,
        }
    }
}

/// What the seeds say about a paired difference.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The 95% interval excludes zero.
    Significant,
    /// The 95% interval contains zero.
    NoDifference,
    /// Every seed gave the same difference, zero: the two are identical on these seeds.
    Identical,
    /// Fewer than two seeds measured it: no interval.
    Unknown,
}

impl Verdict {
    pub fn word(self) -> &'static str {
        match self {
            Verdict::Significant => "significant",
            Verdict::NoDifference => "no difference",
            Verdict::Identical => "identical",
            Verdict::Unknown => "n < 2",
        }
    }
}

/// A paired difference `b − a` over the seeds both measured: its mean, the 95% interval
/// `[lo, hi]` and the verdict.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Paired {
    /// Seeds with a value in both.
    pub n: usize,
    pub mean: f64,
    pub lo: f64,
    pub hi: f64,
    pub verdict: Verdict,
}

impl Paired {
    /// Half-width of the interval.
    pub fn half_width(&self) -> f64 {
        (self.hi - self.lo) / 2.0
    }
}

/// The paired difference `b − a` (seed `i` of one against seed `i` of the other).
/// Seeds where either is NaN are left out.
pub fn paired(a: &[f64], b: &[f64]) -> Paired {
    let d: Vec<f64> = diff(a, b).into_iter().filter(|x| !x.is_nan()).collect();
    let (mean, hw) = mean_ci(&d);
    let n = d.len();
    let verdict = if n == 0 {
        Verdict::Unknown
    } else if d.iter().all(|x| *x == 0.0) {
        Verdict::Identical
    } else if hw.is_nan() {
        Verdict::Unknown
    } else if mean - hw > 0.0 || mean + hw < 0.0 {
        Verdict::Significant
    } else {
        Verdict::NoDifference
    };
    Paired { n, mean, lo: mean - hw, hi: mean + hw, verdict }
}

/// The variants best at a figure, given each variant's mean: the index of every variant
/// whose mean equals the best (ties within a relative 1e-9 share the place). Empty when
/// the figure has no direction, when no mean is finite, or when all variants tie (there
/// is nothing to choose between them).
pub fn best(means: &[f64], better: Better) -> Vec<usize> {
    let key = |m: f64| match better {
        Better::Higher => m,
        Better::Lower => -m,
        Better::Neither => f64::NAN,
    };
    let finite: Vec<(usize, f64)> =
        means.iter().enumerate().map(|(i, m)| (i, key(*m))).filter(|(_, k)| k.is_finite()).collect();
    let Some(top) = finite.iter().map(|(_, k)| *k).reduce(f64::max) else { return Vec::new() };
    let tie = |k: f64| (k - top).abs() <= 1e-9 * top.abs().max(1e-12);
    let winners: Vec<usize> = finite.iter().filter(|(_, k)| tie(*k)).map(|(i, _)| *i).collect();
    if winners.len() == means.len() && means.len() > 1 { Vec::new() } else { winners }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ci_of_a_known_sample() {
        // 1..=5: mean 3, sd sqrt(2.5), se sqrt(0.5), t(4) = 2.776.
        let (m, hw) = mean_ci(&[1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!(m, 3.0);
        assert!((hw - 2.776 * 0.5f64.sqrt()).abs() < 1e-9);
        assert!(mean_ci(&[7.0]).1.is_nan());
        assert_eq!(mean_ci(&[f64::NAN, 2.0, 4.0]).0, 3.0);
    }

    #[test]
    fn t_quantiles_match_the_table() {
        // Published two-sided 95% values.
        assert_eq!(t975(1), 12.706);
        assert_eq!(t975(4), 2.776);
        assert_eq!(t975(9), 2.262);
        assert_eq!(t975(30), 2.042);
        assert!((t975(45) - 2.021).abs() < 0.005);
        assert_eq!(t975(1000), 1.96);
        assert!(t975(0).is_nan());
    }

    #[test]
    fn best_follows_the_direction_and_ties() {
        assert_eq!(best(&[1.0, 3.0, 2.0], Better::Higher), [1]);
        assert_eq!(best(&[1.0, 3.0, 2.0], Better::Lower), [0]);
        assert!(best(&[1.0, 3.0], Better::Neither).is_empty());
        assert!(best(&[0.0, 0.0, 0.0], Better::Lower).is_empty());
        assert_eq!(best(&[0.0, 0.0, 1.0], Better::Lower), [0, 1]);
        assert_eq!(best(&[f64::NAN, 2.0], Better::Lower), [1]);
    }
}
