//! The ranks (rows) of the drawing, top to bottom, as Graphviz's dot assigns them:
//! cycles broken by turning the arrows that close them (depth-first from the clients, in
//! file order), then each box one rank below the longest chain that reaches it (longest
//! path), and each arrow's label on a rank of its own just below the arrow's upper end
//! (dot's label nodes, so that labels take room like boxes and never sit on a line or on
//! each other). A rank wider than the page is wrapped into sub-rows by [`split`].

use super::Arrow;

/// The rank of every box and label, and which arrows run against the ranks.
#[derive(Clone, Debug)]
pub(super) struct Ranks {
    /// Per box.
    pub(super) node: Vec<usize>,
    /// Per arrow: the rank of its label (`None` for an arrow from a box to itself).
    pub(super) label: Vec<Option<usize>>,
    /// Per arrow: it closes a cycle, so it is laid out from its target down to its source
    /// and drawn upwards.
    pub(super) reversed: Vec<bool>,
}

impl Ranks {
    /// Each arrow's upper and lower end in the ranks (`None` for a self-loop).
    pub(super) fn ends(&self, a: &Arrow, i: usize) -> Option<(usize, usize)> {
        if a.from == a.to {
            None
        } else if self.reversed[i] {
            Some((a.to, a.from))
        } else {
            Some((a.from, a.to))
        }
    }

    pub(super) fn count(&self) -> usize {
        self.node.iter().chain(self.label.iter().flatten()).max().map_or(0, |m| m + 1)
    }

    /// Renumbers the ranks so that none is empty, keeping their order.
    fn compact(&mut self) {
        let n = self.count();
        let mut used = vec![false; n];
        for &r in self.node.iter().chain(self.label.iter().flatten()) {
            used[r] = true;
        }
        let mut new = vec![0usize; n];
        let mut k = 0;
        for r in 0..n {
            new[r] = k;
            k += used[r] as usize;
        }
        for r in self.node.iter_mut().chain(self.label.iter_mut().flatten()) {
            *r = new[*r];
        }
    }

    /// How many arrows pass through each rank without a box or label there (a bend
    /// point each, a "dummy" in Sugiyama's method).
    pub(super) fn passing(&self, arrows: &[Arrow]) -> Vec<usize> {
        let mut out = vec![0usize; self.count()];
        for (i, a) in arrows.iter().enumerate() {
            let (Some((u, v)), Some(l)) = (self.ends(a, i), self.label[i]) else { continue };
            for r in (self.node[u] + 1..l).chain(l + 1..self.node[v]) {
                out[r] += 1;
            }
        }
        out
    }
}

/// Breaks the cycles, ranks the boxes by longest path and puts each label on the rank
/// after its arrow's upper end.
pub(super) fn ranks(n_nodes: usize, arrows: &[Arrow]) -> Ranks {
    let mut out_arrows: Vec<Vec<usize>> = vec![Vec::new(); n_nodes];
    for (i, a) in arrows.iter().enumerate() {
        if a.from != a.to {
            out_arrows[a.from].push(i);
        }
    }
    // Depth-first search from every box in index order (the clients come first): an
    // arrow to a box still on the stack closes a cycle, and is reversed.
    let mut reversed = vec![false; arrows.len()];
    let mut state = vec![0u8; n_nodes]; // 0 unseen, 1 on the stack, 2 done
    for root in 0..n_nodes {
        if state[root] != 0 {
            continue;
        }
        let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
        state[root] = 1;
        while let Some(top) = stack.last_mut() {
            let n = top.0;
            if let Some(&ai) = out_arrows[n].get(top.1) {
                top.1 += 1;
                let t = arrows[ai].to;
                match state[t] {
                    0 => {
                        state[t] = 1;
                        stack.push((t, 0));
                    }
                    1 => reversed[ai] = true,
                    _ => {}
                }
            } else {
                state[n] = 2;
                stack.pop();
            }
        }
    }
    // Longest path over the acyclic orientation, by relaxation (at most one pass per box).
    let mut rank = vec![0usize; n_nodes];
    let dag: Vec<(usize, usize)> = arrows
        .iter()
        .enumerate()
        .filter(|(_, a)| a.from != a.to)
        .map(|(i, a)| if reversed[i] { (a.to, a.from) } else { (a.from, a.to) })
        .collect();
    for _ in 0..=n_nodes {
        let mut changed = false;
        for &(u, v) in &dag {
            if rank[v] < rank[u] + 1 {
                rank[v] = rank[u] + 1;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let mut r = Ranks {
        node: rank.iter().map(|r| 2 * r).collect(),
        label: Vec::with_capacity(arrows.len()),
        reversed,
    };
    for (i, a) in arrows.iter().enumerate() {
        let l = r.ends(a, i).map(|(u, _)| r.node[u] + 1);
        r.label.push(l);
    }
    r.compact();
    r
}

/// Wraps the first rank from `from` on that is wider than `budget` into sub-rows: its
/// boxes (or labels), in their drawing order `members`, dealt in turn into the fewest
/// sub-rows that each fit, counting the arrows that must pass through each (or one per
/// member, when nothing fits). The ranks below move down. Returns the rank after the
/// last sub-row, or `None` if no rank from `from` on is too wide and can be wrapped.
/// `extent(member)` is the width a member takes in its row and `dummy` that of a
/// passing arrow; members are boxes `0..n_nodes`, then labels (`n_nodes + arrow`).
pub(super) fn split(
    ranks: &mut Ranks,
    arrows: &[Arrow],
    members: &dyn Fn(usize) -> Vec<usize>,
    extent: &dyn Fn(usize) -> f64,
    dummy: f64,
    budget: f64,
    from: usize,
) -> Option<usize> {
    let n_nodes = ranks.node.len();
    let width = |r: &Ranks, rank: usize, passing: &[usize]| -> f64 {
        let own: f64 = r
            .node
            .iter()
            .enumerate()
            .filter(|(_, k)| **k == rank)
            .map(|(n, _)| extent(n))
            .chain(
                r.label
                    .iter()
                    .enumerate()
                    .filter(|(_, k)| **k == Some(rank))
                    .map(|(a, _)| extent(n_nodes + a)),
            )
            .sum();
        own + dummy * passing.get(rank).copied().unwrap_or(0) as f64
    };
    let passing = ranks.passing(arrows);
    let at = (from..ranks.count()).find(|&r| members(r).len() >= 2 && width(ranks, r, &passing) > budget)?;
    let order = members(at);
    let mut chosen = None;
    for m in 2..=order.len() {
        let mut r = ranks.clone();
        for x in r.node.iter_mut().chain(r.label.iter_mut().flatten()) {
            if *x > at {
                *x += m - 1;
            }
        }
        for (i, &member) in order.iter().enumerate() {
            let slot =
                if member < n_nodes { &mut r.node[member] } else { r.label[member - n_nodes].as_mut()? };
            *slot = at + i % m;
        }
        let passing = r.passing(arrows);
        let fits = (at..at + m).all(|k| width(&r, k, &passing) <= budget);
        if fits || m == order.len() {
            chosen = Some((r, m));
            break;
        }
    }
    let (r, m) = chosen?;
    *ranks = r;
    Some(at + m)
}
