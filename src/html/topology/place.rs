//! Each member's `x` within its rank: packed and centred, then pulled towards its
//! neighbours' in sweeps down and up (weighted least squares under the rank's order and
//! spacing, solved exactly by pool-adjacent-violators), long arrows weighted most so
//! that they run straight, every member kept within the page.

use super::layout::{Ext, MARGIN};
use super::order::{VGraph, VKind};

/// Each member's `x`: packed and centred, then sweeps down and up pulling each towards
/// the weighted mean of its neighbours on the rank before, within the page.
pub(super) fn place_x(g: &VGraph, ext: &[Ext], budget: f64) -> Vec<f64> {
    let packed = |l: &[usize]| l.iter().map(|&v| ext[v].width()).sum::<f64>();
    let inner = g.layers.iter().map(|l| packed(l)).fold(budget, f64::max);
    let (lo, hi) = (MARGIN, MARGIN + inner);
    let mut x = vec![0f64; g.kind.len()];
    for l in &g.layers {
        let mut at = lo + (inner - packed(l)) / 2.0;
        for &v in l {
            x[v] = at + ext[v].pad + ext[v].left;
            at += ext[v].width();
        }
    }
    let virt = |v: usize| !matches!(g.kind[v], VKind::Box(_));
    // Long arrows are kept straightest, then the arrows through labels.
    let weight = |a: usize, b: usize| match (virt(a), virt(b)) {
        (true, true) => 8.0,
        (false, false) => 1.0,
        _ => 2.0,
    };
    let n = g.layers.len();
    for it in 0..14 {
        let (down, both) = (it % 2 == 0, it >= 12);
        let seq: Vec<usize> = if down { (0..n).collect() } else { (0..n).rev().collect() };
        for r in seq {
            let l = &g.layers[r];
            let want: Vec<(f64, f64)> = l
                .iter()
                .map(|&v| {
                    let nb: Vec<usize> = match (both, down) {
                        (true, _) => g.up[v].iter().chain(&g.down[v]).copied().collect(),
                        (false, true) => g.up[v].clone(),
                        (false, false) => g.down[v].clone(),
                    };
                    let w: f64 = nb.iter().map(|&u| weight(u, v)).sum();
                    if w == 0.0 {
                        (x[v], 1e-3)
                    } else {
                        (nb.iter().map(|&u| weight(u, v) * x[u]).sum::<f64>() / w, w)
                    }
                })
                .collect();
            let sep: Vec<f64> = l
                .windows(2)
                .map(|p| ext[p[0]].right + ext[p[0]].pad + ext[p[1]].pad + ext[p[1]].left)
                .collect();
            let first = l.first().map_or(0.0, |&v| ext[v].pad + ext[v].left);
            let last = l.last().map_or(0.0, |&v| ext[v].pad + ext[v].right);
            for (v, xv) in l.iter().zip(pav(&want, &sep, lo + first, hi - last)) {
                x[*v] = xv;
            }
        }
    }
    x
}

/// The positions `x` nearest `want` (each `(target, weight)`) in weighted least squares
/// with `x[i + 1] - x[i] >= sep[i]` and every `x` within `lo..=hi` (the first's least,
/// the last's most): pool-adjacent-violators on `x[i] - S[i]`, `S` the sums of `sep`.
fn pav(want: &[(f64, f64)], sep: &[f64], lo: f64, hi: f64) -> Vec<f64> {
    let mut s = vec![0f64; want.len()];
    for i in 1..want.len() {
        s[i] = s[i - 1] + sep[i - 1];
    }
    // Blocks of (total weight, weighted sum, count).
    let mut blocks: Vec<(f64, f64, usize)> = Vec::new();
    for (i, &(t, w)) in want.iter().enumerate() {
        blocks.push((w, w * (t - s[i]), 1));
        while blocks.len() >= 2 {
            let (b, a) = (blocks[blocks.len() - 1], blocks[blocks.len() - 2]);
            if a.1 / a.0 <= b.1 / b.0 {
                break;
            }
            blocks.pop();
            *blocks.last_mut().unwrap() = (a.0 + b.0, a.1 + b.1, a.2 + b.2);
        }
    }
    let total = s.last().copied().unwrap_or(0.0);
    let mut out = Vec::with_capacity(want.len());
    for (w, sum, count) in blocks {
        for _ in 0..count {
            let i = out.len();
            let y = (sum / w).max(lo).min(hi - total);
            out.push(y + s[i]);
        }
    }
    // When the row is wider than the page it keeps to the left edge.
    if hi - lo < total {
        for (i, v) in out.iter_mut().enumerate() {
            *v = lo + s[i];
        }
    }
    out
}
