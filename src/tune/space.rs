//! The candidate points of a tune: the grid of the `--param`s (parsed by the sweep's
//! own [`crate::sweep::grid`]), or, when any param is a continuous range `FROM..TO`
//! (no step), a Latin hypercube of `--samples` points over all the params (McKay,
//! Beckman and Conover, 1979): each param's range is cut into as many equal strata as
//! there are samples, each stratum is used exactly once, and the strata are paired
//! across params by independent random permutations. A listed or stepped param takes
//! the value whose index falls in the stratum. The draws come from the stream
//! `tune-lhs` of the scenario's seed, so the sample is the same on every machine and
//! for any `--jobs`; points that coincide (a short list) are kept once.

use crate::sweep::grid::{self, Interval, Param, parse_interval, parse_param};
use rand::RngExt;

/// One `--param`: listed values, or a continuous interval.
#[derive(Clone, Debug, PartialEq)]
pub enum Axis {
    Values(Param),
    Range { pointer: String, interval: Interval, text: String },
}

impl Axis {
    pub fn pointer(&self) -> &str {
        match self {
            Axis::Values(p) => &p.pointer,
            Axis::Range { pointer, .. } => pointer,
        }
    }

    /// The values as the page lists them.
    pub fn describe(&self) -> String {
        match self {
            Axis::Values(p) => p.values.join(", "),
            Axis::Range { text, .. } => format!("{text} (continuous)"),
        }
    }
}

/// Parses one `--param`; the error names it.
pub fn parse_axis(arg: &str) -> Result<Axis, String> {
    match parse_interval(arg) {
        Some(r) => {
            let (pointer, interval) = r?;
            let text = arg.split_once('=').map(|(_, t)| t.to_string()).unwrap_or_default();
            Ok(Axis::Range { pointer, interval, text })
        }
        None => parse_param(arg).map(Axis::Values),
    }
}

/// How the candidates were chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Design {
    Grid,
    LatinHypercube { samples: usize },
}

/// The candidates: per point, its value text for each axis (in `--param` order).
pub fn candidates(axes: &[Axis], samples: usize, seed: u64) -> Result<(Design, Vec<Vec<String>>), String> {
    if axes.iter().all(|a| matches!(a, Axis::Values(_))) {
        let params: Vec<Param> = axes
            .iter()
            .filter_map(|a| if let Axis::Values(p) = a { Some(p.clone()) } else { None })
            .collect();
        let pts = grid::points(&params)?;
        let out = pts.iter().map(|idx| params.iter().zip(idx).map(|(p, &i)| p.values[i].clone()).collect());
        return Ok((Design::Grid, out.collect()));
    }
    if samples == 0 {
        return Err("--samples must be at least 1".into());
    }
    let mut rng = crate::rng::rng_stream(seed, "tune-lhs");
    // Per axis, a random permutation of the strata (Fisher–Yates) and a uniform offset
    // within each stratum.
    let mut cols: Vec<Vec<f64>> = Vec::with_capacity(axes.len());
    for _ in axes {
        let mut perm: Vec<usize> = (0..samples).collect();
        for i in (1..samples).rev() {
            let j = rng.random_range(0..=i);
            perm.swap(i, j);
        }
        cols.push(perm.iter().map(|&k| (k as f64 + rng.random::<f64>()) / samples as f64).collect());
    }
    let mut out: Vec<Vec<String>> = Vec::with_capacity(samples);
    for i in 0..samples {
        let pt: Vec<String> = axes
            .iter()
            .zip(&cols)
            .map(|(a, c)| match a {
                Axis::Values(p) => {
                    let k = ((c[i] * p.values.len() as f64).floor() as usize).min(p.values.len() - 1);
                    p.values[k].clone()
                }
                Axis::Range { interval, .. } => interval.value_at(c[i]),
            })
            .collect();
        if !out.contains(&pt) {
            out.push(pt);
        }
    }
    Ok((Design::LatinHypercube { samples }, out))
}

/// The `--set` texts of a point.
pub fn sets(axes: &[Axis], point: &[String]) -> Vec<String> {
    axes.iter().zip(point).map(|(a, v)| format!("{}={v}", a.pointer())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_is_the_sweep_grid() {
        let axes = [parse_axis("/a=1,2").unwrap(), parse_axis("/b=10ms..30ms:10ms").unwrap()];
        let (d, pts) = candidates(&axes, 0, 1).unwrap();
        assert_eq!(d, Design::Grid);
        assert_eq!(pts.len(), 6);
        assert_eq!(pts[1], ["1", "20ms"]);
    }

    #[test]
    fn latin_hypercube_uses_every_stratum_once_and_is_seeded() {
        let axes = [parse_axis("/a=0..99").unwrap(), parse_axis("/b=10ms..20ms").unwrap()];
        let (d, pts) = candidates(&axes, 10, 7).unwrap();
        assert_eq!(d, Design::LatinHypercube { samples: 10 });
        assert_eq!(pts.len(), 10);
        // Each tenth of /a's range holds exactly one sample.
        let mut strata: Vec<usize> = pts.iter().map(|p| p[0].parse::<usize>().unwrap() / 10).collect();
        strata.sort();
        assert_eq!(strata, (0..10).collect::<Vec<_>>());
        for p in &pts {
            let ms: f64 = p[1].trim_end_matches("ms").parse().unwrap();
            assert!((10.0..=20.0).contains(&ms), "{p:?}");
        }
        assert_eq!(candidates(&axes, 10, 7).unwrap().1, pts);
        assert_ne!(candidates(&axes, 10, 8).unwrap().1, pts);
    }
}
