//! The virtual graph (boxes, labels, and a bend point on each rank an arrow passes, so
//! that every link joins neighbouring ranks) and the order of each rank, as dot's
//! `mincross` finds it: barycentre sweeps down and up, each followed by transposing
//! neighbours that cross fewer links the other way round, keeping the order with the
//! fewest crossings. Ties keep the order they had, so the result is a function of the
//! file order alone.

use super::Arrow;
use super::rank::Ranks;

#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum VKind {
    /// A box (index into the nodes).
    Box(usize),
    /// An arrow's label (index into the arrows).
    Label(usize),
    /// A bend point of an arrow that passes a rank.
    Dummy(usize),
}

pub(super) struct VGraph {
    pub(super) kind: Vec<VKind>,
    pub(super) rank: Vec<usize>,
    /// Per arrow: its virtual nodes from its upper end to its lower end (empty for a
    /// self-loop).
    pub(super) paths: Vec<Vec<usize>>,
    /// Per virtual node: its neighbours on the rank above, and on the rank below.
    pub(super) up: Vec<Vec<usize>>,
    pub(super) down: Vec<Vec<usize>>,
    /// Each rank's members, left to right.
    pub(super) layers: Vec<Vec<usize>>,
}

impl VGraph {
    pub(super) fn build(ranks: &Ranks, arrows: &[Arrow]) -> VGraph {
        let n = ranks.node.len();
        let mut kind: Vec<VKind> = (0..n).map(VKind::Box).collect();
        let mut rank = ranks.node.clone();
        let mut paths = vec![Vec::new(); arrows.len()];
        for (i, a) in arrows.iter().enumerate() {
            let (Some((u, v)), Some(l)) = (ranks.ends(a, i), ranks.label[i]) else { continue };
            let mut p = vec![u];
            for r in ranks.node[u] + 1..ranks.node[v] {
                kind.push(if r == l { VKind::Label(i) } else { VKind::Dummy(i) });
                rank.push(r);
                p.push(kind.len() - 1);
            }
            p.push(v);
            paths[i] = p;
        }
        let mut up = vec![Vec::new(); kind.len()];
        let mut down = vec![Vec::new(); kind.len()];
        for p in &paths {
            for w in p.windows(2) {
                down[w[0]].push(w[1]);
                up[w[1]].push(w[0]);
            }
        }
        let mut layers = vec![Vec::new(); ranks.count()];
        for (v, &r) in rank.iter().enumerate() {
            layers[r].push(v);
        }
        let mut g = VGraph { kind, rank, paths, up, down, layers };
        g.order();
        g
    }

    /// The boxes and labels of rank `r`, left to right, as [`super::rank::split`] names
    /// them (boxes by index, labels after them by arrow).
    pub(super) fn members(&self, r: usize, n_nodes: usize) -> Vec<usize> {
        self.layers[r]
            .iter()
            .filter_map(|&v| match self.kind[v] {
                VKind::Box(n) => Some(n),
                VKind::Label(a) => Some(n_nodes + a),
                VKind::Dummy(_) => None,
            })
            .collect()
    }

    fn order(&mut self) {
        let mut pos = vec![0usize; self.kind.len()];
        let set = |layers: &[Vec<usize>], pos: &mut [usize]| {
            for l in layers {
                for (k, &v) in l.iter().enumerate() {
                    pos[v] = k;
                }
            }
        };
        set(&self.layers, &mut pos);
        let mut best = self.layers.clone();
        let mut best_c = self.crossings(&pos);
        let n = self.layers.len();
        for it in 0..24 {
            if best_c == 0 {
                break;
            }
            let down = it % 2 == 0;
            let seq: Vec<usize> =
                if down { (1..n).collect() } else { (0..n.saturating_sub(1)).rev().collect() };
            for l in seq {
                let side = if down { &self.up } else { &self.down };
                let mut keyed: Vec<(f64, usize, usize)> = self.layers[l]
                    .iter()
                    .map(|&v| {
                        let nb = &side[v];
                        let b = if nb.is_empty() {
                            pos[v] as f64
                        } else {
                            nb.iter().map(|&u| pos[u] as f64).sum::<f64>() / nb.len() as f64
                        };
                        (b, pos[v], v)
                    })
                    .collect();
                keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                self.layers[l] = keyed.into_iter().map(|k| k.2).collect();
                set(&self.layers[l..=l], &mut pos);
            }
            self.transpose(&mut pos);
            let c = self.crossings(&pos);
            if c < best_c {
                best_c = c;
                best = self.layers.clone();
            }
        }
        self.layers = best;
    }

    /// Links crossing between each pair of neighbouring ranks, in total.
    fn crossings(&self, pos: &[usize]) -> usize {
        let mut total = 0;
        for l in &self.layers {
            let links: Vec<(usize, usize)> =
                l.iter().flat_map(|&u| self.down[u].iter().map(move |&v| (pos[u], pos[v]))).collect();
            for (i, a) in links.iter().enumerate() {
                total += links[i + 1..]
                    .iter()
                    .filter(|b| (a.0 < b.0 && a.1 > b.1) || (a.0 > b.0 && a.1 < b.1))
                    .count();
            }
        }
        total
    }

    /// Crossings between the links of `v` and those of `w` with `v` left of `w`.
    fn pair(&self, v: usize, w: usize, pos: &[usize]) -> usize {
        let c = |a: &[usize], b: &[usize]| {
            a.iter().map(|&x| b.iter().filter(|&&y| pos[x] > pos[y]).count()).sum::<usize>()
        };
        c(&self.up[v], &self.up[w]) + c(&self.down[v], &self.down[w])
    }

    /// Swaps neighbours within a rank while that removes crossings.
    fn transpose(&mut self, pos: &mut [usize]) {
        for _ in 0..8 {
            let mut improved = false;
            for l in 0..self.layers.len() {
                for j in 0..self.layers[l].len().saturating_sub(1) {
                    let (v, w) = (self.layers[l][j], self.layers[l][j + 1]);
                    if self.pair(w, v, pos) < self.pair(v, w, pos) {
                        self.layers[l].swap(j, j + 1);
                        pos[v] = j + 1;
                        pos[w] = j;
                        improved = true;
                    }
                }
            }
            if !improved {
                break;
            }
        }
    }
}
