//! Least outstanding's index for a target of many replicas: a segment tree of minima
//! over the caller's outstanding counts, a replica the caller may not use counting as
//! `NONE`, so that a pick costs O(log n) instead of a scan of every replica. It answers
//! the linear scan's question exactly (the fewest outstanding among the eligible
//! replicas, the first of them in turn from the turn's replica), so both choose the same
//! replica (`balance.rs`, checked against the scan in `least_tests.rs`).
//!
//! *Invariant*: the leaf of replica `r` is `outstanding[r]` when `r` is eligible as of
//! the caller's last look (readiness as of `Health::changes` then, ejections settled),
//! `NONE` otherwise; every inner node is the minimum of its two children.

/// The leaf of a replica the caller may not use. An outstanding count never reaches it
/// (it would take four billion attempts alive from one caller to one replica).
pub(super) const NONE: u32 = u32::MAX;

/// From this many target replicas on, least outstanding keeps the index; below, the scan
/// over a few replicas costs less than the index's upkeep on every pick and answer.
pub(super) const MIN_REPLICAS: u32 = 32;

/// A client slot's index: the tree, and `Health::changes` when its readiness was read.
pub(super) struct Least {
    pub(super) tree: MinTree,
    pub(super) seen: u64,
}

impl Least {
    /// For a target of `replicas`; the first pick builds it.
    pub(super) fn new(replicas: u32) -> Box<Least> {
        Box::new(Least { tree: MinTree::new(replicas), seen: u64::MAX })
    }

    /// Bytes it holds for a target of `replicas` (for the memory estimate).
    pub(super) fn bytes(replicas: u32) -> u64 {
        MinTree::bytes(replicas) + std::mem::size_of::<Least>() as u64
    }
}

pub(super) struct MinTree {
    /// Leaves: a power of two, at least the target's replicas.
    width: usize,
    /// `node[1]` the root, `node[k]`'s children `2k` and `2k + 1`, the leaves from
    /// `width` on.
    node: Vec<u32>,
}

impl MinTree {
    /// Every replica `NONE`: the first pick builds it (`rebuild`).
    pub(super) fn new(replicas: u32) -> MinTree {
        let width = (replicas.max(1) as usize).next_power_of_two();
        MinTree { width, node: vec![NONE; 2 * width] }
    }

    fn bytes(replicas: u32) -> u64 {
        2 * u64::from(replicas.max(1)).next_power_of_two() * std::mem::size_of::<u32>() as u64
    }

    #[inline]
    pub(super) fn get(&self, r: u32) -> u32 {
        self.node[self.width + r as usize]
    }

    /// Sets replica `r`'s leaf and the minima above it.
    pub(super) fn set(&mut self, r: u32, v: u32) {
        let mut k = self.width + r as usize;
        if self.node[k] == v {
            return;
        }
        self.node[k] = v;
        while k > 1 {
            k /= 2;
            let m = self.node[2 * k].min(self.node[2 * k + 1]);
            if self.node[k] == m {
                break;
            }
            self.node[k] = m;
        }
    }

    /// Sets every leaf from `leaf(r)` (replicas past the target's are `NONE`) and every
    /// minimum: O(n).
    pub(super) fn rebuild(&mut self, replicas: u32, mut leaf: impl FnMut(u32) -> u32) {
        let w = self.width;
        for i in 0..w {
            self.node[w + i] = if (i as u32) < replicas { leaf(i as u32) } else { NONE };
        }
        for k in (1..w).rev() {
            self.node[k] = self.node[2 * k].min(self.node[2 * k + 1]);
        }
    }

    /// The minimum leaf in `[lo, hi)` (`NONE` if the range is empty).
    pub(super) fn min(&self, lo: u32, hi: u32) -> u32 {
        let (mut l, mut h) = (self.width + lo as usize, self.width + hi as usize);
        let mut m = NONE;
        while l < h {
            if l & 1 == 1 {
                m = m.min(self.node[l]);
                l += 1;
            }
            if h & 1 == 1 {
                h -= 1;
                m = m.min(self.node[h]);
            }
            l /= 2;
            h /= 2;
        }
        m
    }

    /// The first replica in `[lo, hi)` whose leaf is at most `x`.
    pub(super) fn first_at_most(&self, lo: u32, hi: u32, x: u32) -> Option<u32> {
        if lo >= hi {
            return None;
        }
        self.first_in(1, 0, self.width, lo as usize, hi as usize, x).map(|r| r as u32)
    }

    /// `first_at_most` below node `k`, which covers `[nl, nr)`: it descends only into
    /// nodes that overlap the range and hold such a leaf, so it visits O(log n) nodes.
    fn first_in(&self, k: usize, nl: usize, nr: usize, lo: usize, hi: usize, x: u32) -> Option<usize> {
        if nr <= lo || hi <= nl || self.node[k] > x {
            return None;
        }
        if nr - nl == 1 {
            return Some(nl);
        }
        let mid = (nl + nr) / 2;
        self.first_in(2 * k, nl, mid, lo, hi, x).or_else(|| self.first_in(2 * k + 1, mid, nr, lo, hi, x))
    }

    /// The first replica at or after `from` in `[0, n)`, going round, whose leaf is at
    /// most `x`.
    #[inline]
    pub(super) fn first_from(&self, from: u32, n: u32, x: u32) -> Option<u32> {
        self.first_at_most(from, n, x).or_else(|| self.first_at_most(0, from, x))
    }

    /// How many of the first `n` replicas are eligible, and the `j`-th of them (in
    /// replica order) if there are more than `j`: O(n), for a restart of the turn.
    pub(super) fn nth_eligible(&self, n: u32, pick: impl FnOnce(usize) -> usize) -> Option<u32> {
        let leaves = &self.node[self.width..self.width + n as usize];
        let k = leaves.iter().filter(|&&v| v != NONE).count();
        let j = pick(k);
        leaves.iter().enumerate().filter(|(_, v)| **v != NONE).nth(j).map(|(i, _)| i as u32)
    }
}
