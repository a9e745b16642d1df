//! Resolved probability distributions of durations, and their sampling.
//!
//! Parameters are in nanoseconds (as `f64`, so that a mean of 0.5 µs is exact); a draw
//! is rounded to whole nanoseconds. Normal and exponential draws use `rand_distr`'s
//! ziggurat samplers, which are both fast and exactly reproducible for a given seed on a
//! given platform.

use crate::rng::Rng;
use crate::spec::Nanos;
use rand::RngExt;
use rand_distr::{Distribution, Exp1, StandardNormal};

/// z such that Φ(z) = 0.99: used to fit a lognormal through its p50 and p99.
pub const Z99: f64 = 2.326_347_874_040_841;

#[derive(Clone, Debug)]
pub enum Dist {
    Constant(f64),
    Exponential {
        mean: f64,
    },
    Uniform {
        min: f64,
        max: f64,
    },
    /// Truncated at zero (redrawn while negative).
    Normal {
        mean: f64,
        sd: f64,
    },
    /// `exp(mu + sigma·Z)`, `mu` and `sigma` of the logarithm of nanoseconds.
    LogNormal {
        mu: f64,
        sigma: f64,
    },
    Gamma(Box<rand_distr::Gamma<f64>>, f64),
    /// Pareto with `scale` and `shape`, truncated at `max` (drawn by the inverse CDF of
    /// the truncated distribution, so no mass piles up at `max`).
    Pareto {
        scale: f64,
        shape: f64,
        max: f64,
    },
    /// Piecewise-linear inverse CDF through `(p, value)` points, `p` rising from 0 to 1.
    Percentiles(Vec<(f64, f64)>),
    /// Components with cumulative weights rising to exactly 1.
    Mixture(Vec<(f64, Dist)>),
}

impl Dist {
    pub fn constant_ns(ns: f64) -> Dist {
        Dist::Constant(ns)
    }

    /// Lognormal fitted through its median and 99th percentile (`p99 > p50 > 0`).
    pub fn lognormal_p50_p99(p50: f64, p99: f64) -> Dist {
        Dist::LogNormal { mu: p50.ln(), sigma: (p99 / p50).ln() / Z99 }
    }

    /// Gamma with the given mean and coefficient of variation (both > 0).
    pub fn gamma_mean_cv(mean: f64, cv: f64) -> Dist {
        let shape = 1.0 / (cv * cv);
        let scale = mean / shape;
        let g = rand_distr::Gamma::new(shape, scale).expect("shape and scale are positive");
        Dist::Gamma(Box::new(g), mean)
    }

    /// Draws one duration.
    #[inline]
    pub fn sample(&self, rng: &mut Rng) -> Nanos {
        let x = self.sample_f64(rng);
        if x <= 0.0 {
            0
        } else if x < 9.0e18 {
            // Below 2^63 the signed conversion is the same truncation, in one
            // instruction where the unsigned one takes a range check and two paths.
            (x + 0.5) as i64 as Nanos
        } else if x >= 1.8e19 {
            u64::MAX / 2
        } else {
            (x + 0.5) as Nanos
        }
    }

    /// (A constant and an exponential are drawn inline; the other shapes out of line.)
    #[inline(always)]
    fn sample_f64(&self, rng: &mut Rng) -> f64 {
        match self {
            Dist::Constant(v) => *v,
            Dist::Exponential { mean } => {
                let e: f64 = Exp1.sample(rng);
                e * mean
            }
            _ => self.sample_shaped(rng),
        }
    }

    #[inline(never)]
    fn sample_shaped(&self, rng: &mut Rng) -> f64 {
        match self {
            Dist::Constant(_) | Dist::Exponential { .. } => self.sample_f64(rng),
            Dist::Uniform { min, max } => min + (max - min) * rng.random::<f64>(),
            Dist::Normal { mean, sd } => {
                // Truncation at zero by rejection; the resolver requires mean > 0, so
                // each draw is accepted with probability at least one half.
                for _ in 0..64 {
                    let z: f64 = StandardNormal.sample(rng);
                    let x = mean + sd * z;
                    if x >= 0.0 {
                        return x;
                    }
                }
                0.0
            }
            Dist::LogNormal { mu, sigma } => {
                let z: f64 = StandardNormal.sample(rng);
                (mu + sigma * z).exp()
            }
            Dist::Gamma(g, _) => g.sample(rng),
            Dist::Pareto { scale, shape, max } => {
                let u: f64 = rng.random();
                let tail = (scale / max).powf(*shape);
                scale * (1.0 - u * (1.0 - tail)).powf(-1.0 / shape)
            }
            Dist::Percentiles(points) => {
                let u: f64 = rng.random();
                inverse_piecewise(points, u)
            }
            Dist::Mixture(parts) => {
                let u: f64 = rng.random();
                for (cum, d) in parts {
                    if u < *cum {
                        return d.sample_f64(rng);
                    }
                }
                parts.last().map(|(_, d)| d.sample_f64(rng)).unwrap_or(0.0)
            }
        }
    }

    /// The mean, in nanoseconds (used by reports and the lint, never by the model).
    pub fn mean(&self) -> f64 {
        match self {
            Dist::Constant(v) => *v,
            Dist::Exponential { mean } => *mean,
            Dist::Uniform { min, max } => (min + max) / 2.0,
            Dist::Normal { mean, .. } => *mean,
            Dist::LogNormal { mu, sigma } => (mu + sigma * sigma / 2.0).exp(),
            Dist::Gamma(_, mean) => *mean,
            Dist::Pareto { scale, shape, max } => {
                // Mean of the Pareto truncated at `max`.
                let (l, h, a) = (*scale, *max, *shape);
                if (a - 1.0).abs() < 1e-12 {
                    l * h / (h - l) * (h / l).ln()
                } else {
                    let la = l.powf(a);
                    la / (1.0 - (l / h).powf(a)) * a / (a - 1.0)
                        * (1.0 / l.powf(a - 1.0) - 1.0 / h.powf(a - 1.0))
                }
            }
            Dist::Percentiles(points) => {
                points.windows(2).map(|w| (w[1].0 - w[0].0) * (w[0].1 + w[1].1) / 2.0).sum()
            }
            Dist::Mixture(parts) => {
                let mut prev = 0.0;
                let mut m = 0.0;
                for (cum, d) in parts {
                    m += (cum - prev) * d.mean();
                    prev = *cum;
                }
                m
            }
        }
    }
}

fn inverse_piecewise(points: &[(f64, f64)], u: f64) -> f64 {
    // Points are few (a handful of percentiles): a linear scan is fastest.
    for w in points.windows(2) {
        let ((p0, v0), (p1, v1)) = (w[0], w[1]);
        if u <= p1 {
            if p1 <= p0 {
                return v1;
            }
            return v0 + (v1 - v0) * (u - p0) / (p1 - p0);
        }
    }
    points.last().map(|p| p.1).unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::rng_stream;

    fn mean_of(d: &Dist, n: usize) -> f64 {
        let mut rng = rng_stream(7, "test/dist");
        (0..n).map(|_| d.sample(&mut rng) as f64).sum::<f64>() / n as f64
    }

    #[test]
    fn sample_means_match_analytic_means() {
        let n = 200_000;
        let cases = vec![
            (Dist::Exponential { mean: 1e6 }, 1.0),
            (Dist::Uniform { min: 1e6, max: 9e6 }, 8e6 / 12f64.sqrt() / 5e6),
            (Dist::lognormal_p50_p99(20e6, 250e6), 2.0),
            (Dist::gamma_mean_cv(20e6, 1.5), 1.5),
            (Dist::Pareto { scale: 5e6, shape: 1.8, max: 10e9 }, 5.0),
            (Dist::Percentiles(vec![(0.0, 1e6), (0.5, 12e6), (0.9, 40e6), (0.99, 180e6), (1.0, 2e9)]), 3.0),
        ];
        for (d, cv) in cases {
            let m = d.mean();
            let got = mean_of(&d, n);
            // Four standard errors of the sample mean, from the coefficient of variation.
            let tol = 4.0 * cv * m / (n as f64).sqrt();
            assert!((got - m).abs() < tol, "{d:?}: mean {got} vs {m} (tol {tol})");
        }
    }

    #[test]
    fn lognormal_fit_hits_its_percentiles() {
        let d = Dist::lognormal_p50_p99(40e6, 300e6);
        let mut rng = rng_stream(3, "test/lognormal");
        let mut v: Vec<u64> = (0..100_000).map(|_| d.sample(&mut rng)).collect();
        v.sort_unstable();
        let p50 = v[50_000] as f64;
        let p99 = v[99_000] as f64;
        assert!((p50 / 40e6 - 1.0).abs() < 0.02, "p50 {p50}");
        assert!((p99 / 300e6 - 1.0).abs() < 0.05, "p99 {p99}");
    }

    #[test]
    fn truncated_normal_is_never_negative() {
        let d = Dist::Normal { mean: 1e6, sd: 2e6 };
        let mut rng = rng_stream(1, "test/normal");
        assert!((0..10_000).all(|_| d.sample(&mut rng) < u64::MAX / 2));
    }
}
