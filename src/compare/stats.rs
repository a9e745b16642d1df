//! Statistics across seeds: the mean, its 95% confidence interval (Student's t), and
//! paired differences.

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

/// Paired differences to the first variant, seed by seed.
pub(super) fn diff(a: &[f64], b: &[f64]) -> Vec<f64> {
    a.iter().zip(b).map(|(x, y)| y - x).collect()
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
}
