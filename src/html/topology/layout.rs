//! The pixel geometry of the drawing, top to bottom: ranks from `rank.rs` (wide ones
//! wrapped into sub-rows no wider than [`MAX_W`]), the order within each from `order.rs`,
//! then each member's `x` pulled towards its neighbours' (weighted least squares under
//! the order and the spacing, solved by pool-adjacent-violators, long arrows weighted
//! most so that they run straight), and each arrow's path: a curve across each gap
//! between ranks and a straight drop through each rank it passes, beside the boxes.

use super::order::{VGraph, VKind};
use super::place::place_x;
use super::rank::{self, Ranks};
use super::{Arrow, Node, T_CHAR, T_SMALL_CHAR};

/// The widest the drawing may be: the width of a report page's column, so that it is
/// shown at its own size and its text stays at 11.5 px.
pub(super) const MAX_W: f64 = 1160.0;
pub(super) const MARGIN: f64 = 20.0;
/// Height of one line of an arrow's label.
pub(super) const LINE_H: f64 = 16.0;
const BOX_H: f64 = 50.0;
/// Room on each side of a box, a label and a passing arrow.
const PAD_BOX: f64 = 10.0;
const PAD_LABEL: f64 = 6.0;
const PAD_DUMMY: f64 = 4.0;
/// From an arrow's line to its label's text.
const LABEL_OFF: f64 = 6.0;

pub(super) type Pt = (f64, f64);
/// `(x0, y0, x1, y1)`.
pub(super) type Rect = (f64, f64, f64, f64);

#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Piece {
    Line(Pt, Pt),
    Cubic(Pt, Pt, Pt, Pt),
}

impl Piece {
    fn reversed(self) -> Piece {
        match self {
            Piece::Line(a, b) => Piece::Line(b, a),
            Piece::Cubic(a, b, c, d) => Piece::Cubic(d, c, b, a),
        }
    }

    /// The point at `t` in `0..=1`.
    pub(super) fn at(&self, t: f64) -> Pt {
        let u = 1.0 - t;
        match *self {
            Piece::Line(a, b) => (a.0 + t * (b.0 - a.0), a.1 + t * (b.1 - a.1)),
            Piece::Cubic(a, b, c, d) => {
                let (k0, k1, k2, k3) = (u * u * u, 3.0 * u * u * t, 3.0 * u * t * t, t * t * t);
                (k0 * a.0 + k1 * b.0 + k2 * c.0 + k3 * d.0, k0 * a.1 + k1 * b.1 + k2 * c.1 + k3 * d.1)
            }
        }
    }
}

/// An arrow's label: its box (the white halo) and its lines, left-aligned in it.
#[derive(Clone, Debug)]
pub(super) struct LabelBox {
    pub(super) rect: Rect,
    pub(super) lines: Vec<String>,
}

/// Where everything is drawn.
pub(super) struct Geometry {
    pub(super) width: f64,
    pub(super) height: f64,
    /// Per node.
    pub(super) boxes: Vec<Rect>,
    /// Per arrow.
    pub(super) labels: Vec<LabelBox>,
    /// Per arrow, from its source to its target (the arrowhead's end).
    pub(super) paths: Vec<Vec<Piece>>,
}

/// The widest of an arrow label's lines, in characters.
pub(super) fn label_chars(label: &str) -> usize {
    label.lines().map(|l| l.chars().count()).max().unwrap_or(0)
}

fn text_w(label: &str) -> f64 {
    label_chars(label) as f64 * T_SMALL_CHAR + 8.0
}

/// What a member of a rank takes: left and right of its anchor (the box's centre, the
/// label's line), its height and the room on each side.
#[derive(Clone, Copy, Debug)]
pub(super) struct Ext {
    pub(super) left: f64,
    pub(super) right: f64,
    h: f64,
    pub(super) pad: f64,
}

impl Ext {
    pub(super) fn width(&self) -> f64 {
        self.left + self.right + 2.0 * self.pad
    }
}

/// A self-loop's one-line label (`endpoint · policy`).
fn loop_label(a: &Arrow) -> String {
    a.label.replace('\n', " · ")
}

/// The boxes' widths and extents, then the labels'.
fn extents(nodes: &[Node], arrows: &[Arrow], ranks: &Ranks) -> (Vec<f64>, Vec<Ext>, Vec<Ext>) {
    let mut ports = vec![[0usize; 2]; nodes.len()];
    let mut loops = vec![(0usize, 0f64); nodes.len()];
    for (i, a) in arrows.iter().enumerate() {
        match ranks.ends(a, i) {
            Some((u, v)) => {
                ports[u][1] += 1;
                ports[v][0] += 1;
            }
            None => {
                let l = &mut loops[a.from];
                l.0 += 1;
                l.1 = l.1.max(text_w(&loop_label(a)));
            }
        }
    }
    let mut box_w = Vec::with_capacity(nodes.len());
    let mut ext = Vec::with_capacity(nodes.len());
    for (n, nd) in nodes.iter().enumerate() {
        let text = nd
            .lines
            .iter()
            .enumerate()
            .map(|(i, s)| s.chars().count() as f64 * if i == 0 { T_CHAR } else { T_SMALL_CHAR })
            .fold(110.0, f64::max)
            + 24.0;
        let w = text.max(14.0 * (ports[n][0].max(ports[n][1]) + 1) as f64);
        let (k, lw) = loops[n];
        let extra = if k == 0 { 0.0 } else { loop_reach(k) + LABEL_OFF + lw };
        box_w.push(w);
        ext.push(Ext {
            left: w / 2.0,
            right: w / 2.0 + extra,
            h: BOX_H.max(18.0 * k as f64 + 10.0),
            pad: PAD_BOX,
        });
    }
    let labels = arrows
        .iter()
        .map(|a| Ext {
            left: 0.0,
            right: LABEL_OFF + text_w(&a.label),
            h: LINE_H * a.label.lines().count().max(1) as f64,
            pad: PAD_LABEL,
        })
        .collect();
    (box_w, ext, labels)
}

/// How far right of its box the outermost of `k` self-loops reaches.
fn loop_reach(k: usize) -> f64 {
    16.0 + 12.0 * (k - 1) as f64
}

/// Lays the drawing out.
pub(super) fn layout(nodes: &[Node], arrows: &[Arrow]) -> Geometry {
    let n_nodes = nodes.len();
    let mut ranks = rank::ranks(n_nodes, arrows);
    let (box_w, box_ext, label_ext) = extents(nodes, arrows, &ranks);
    let dummy_ext = Ext { left: 0.0, right: 0.0, h: 0.0, pad: PAD_DUMMY };
    let member_ext = |m: usize| if m < n_nodes { box_ext[m] } else { label_ext[m - n_nodes] };
    let budget = MAX_W - 2.0 * MARGIN;
    let mut from = 0;
    let g = loop {
        let g = VGraph::build(&ranks, arrows);
        let members = |r: usize| g.members(r, n_nodes);
        let extent = |m: usize| member_ext(m).width();
        match rank::split(&mut ranks, arrows, &members, &extent, dummy_ext.width(), budget, from) {
            Some(next) => from = next,
            None => break g,
        }
    };
    let ext: Vec<Ext> = g
        .kind
        .iter()
        .map(|k| match *k {
            VKind::Box(n) => box_ext[n],
            VKind::Label(a) => label_ext[a],
            VKind::Dummy(_) => dummy_ext,
        })
        .collect();
    let mut x = place_x(&g, &ext, budget);
    // The leftmost member at the margin.
    let left = (0..x.len()).map(|v| x[v] - ext[v].left - ext[v].pad).fold(f64::INFINITY, f64::min);
    if left.is_finite() {
        for v in x.iter_mut() {
            *v += MARGIN - left;
        }
    }

    // Ranks top to bottom: each as tall as its tallest member, the gap after it taller
    // the further its arrows run sideways, so that none runs nearly flat.
    let n_ranks = g.layers.len();
    let rank_h: Vec<f64> = g.layers.iter().map(|l| l.iter().map(|&v| ext[v].h).fold(0.0, f64::max)).collect();
    let mut top = vec![MARGIN; n_ranks];
    for r in 1..n_ranks {
        let dx = g.layers[r - 1]
            .iter()
            .flat_map(|&u| g.down[u].iter().map(move |&v| (u, v)))
            .map(|(u, v)| (x[u] - x[v]).abs())
            .fold(0.0, f64::max);
        top[r] = top[r - 1] + rank_h[r - 1] + (dx * 0.12).clamp(28.0, 72.0);
    }
    let bottom = |r: usize| top[r] + rank_h[r];
    let height = if n_ranks == 0 { 60.0 } else { bottom(n_ranks - 1) + MARGIN };

    let boxes: Vec<Rect> = (0..n_nodes)
        .map(|n| {
            let t = top[g.rank[n]];
            (x[n] - box_w[n] / 2.0, t, x[n] + box_w[n] / 2.0, t + box_ext[n].h)
        })
        .collect();

    // Ports: the arrows leaving (entering) a box are spread along its bottom (top), in
    // the order of the other end's x, so that they do not cross at the box.
    let mut out_port = vec![0f64; arrows.len()];
    let mut in_port = vec![0f64; arrows.len()];
    for (n, b) in boxes.iter().enumerate() {
        for (side, port) in [(0usize, &mut out_port), (1, &mut in_port)] {
            let mut at: Vec<(f64, usize)> = g
                .paths
                .iter()
                .enumerate()
                .filter(|(_, p)| !p.is_empty() && p[if side == 0 { 0 } else { p.len() - 1 }] == n)
                .map(|(i, p)| (x[p[if side == 0 { 1 } else { p.len() - 2 }]], i))
                .collect();
            at.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            let k = at.len() as f64;
            for (j, (_, i)) in at.iter().enumerate() {
                port[*i] = b.0 + (b.2 - b.0) * (j as f64 + 1.0) / (k + 1.0);
            }
        }
    }

    let mut labels = Vec::with_capacity(arrows.len());
    let mut paths = Vec::with_capacity(arrows.len());
    let mut loops_drawn = vec![0usize; n_nodes];
    let n_loops = |n: usize| arrows.iter().filter(|a| a.from == n && a.to == n).count();
    for (i, a) in arrows.iter().enumerate() {
        let p = &g.paths[i];
        if p.is_empty() {
            // A self-loop on the right of its box, its label right of the outermost.
            let (n, k) = (a.from, n_loops(a.from));
            let j = loops_drawn[n];
            loops_drawn[n] += 1;
            let b = boxes[n];
            let (xr, cy) = (b.2, (b.1 + b.3) / 2.0);
            // Nested, their arrowheads coming in flat, one above the other.
            let d = (5.0 + 9.0 * j as f64).min((b.3 - b.1) / 2.0 - 4.0);
            let reach = loop_reach(j + 1) / 0.75;
            paths.push(vec![Piece::Cubic(
                (xr, cy - d),
                (xr + reach, cy - d),
                (xr + reach, cy + d),
                (xr, cy + d),
            )]);
            let text = loop_label(a);
            let x0 = xr + loop_reach(k) + LABEL_OFF;
            let y0 = cy - LINE_H * k as f64 / 2.0 + LINE_H * j as f64;
            labels.push(LabelBox { rect: (x0, y0, x0 + text_w(&text), y0 + LINE_H), lines: vec![text] });
            continue;
        }
        let mut pieces = Vec::new();
        let u = p[0];
        let sx = out_port[i];
        let mut cur = (sx, boxes[u].3);
        let rb = bottom(g.rank[u]);
        if cur.1 < rb - 0.01 {
            pieces.push(Piece::Line(cur, (sx, rb)));
            cur = (sx, rb);
        }
        let mut label = None;
        for &v in &p[1..] {
            let t = top[g.rank[v]];
            let tx = if matches!(g.kind[v], VKind::Box(_)) { in_port[i] } else { x[v] };
            let ym = (cur.1 + t) / 2.0;
            pieces.push(if (tx - cur.0).abs() < 0.05 {
                Piece::Line(cur, (tx, t))
            } else {
                Piece::Cubic(cur, (cur.0, ym), (tx, ym), (tx, t))
            });
            cur = (tx, t);
            if !matches!(g.kind[v], VKind::Box(_)) {
                let b = bottom(g.rank[v]);
                pieces.push(Piece::Line(cur, (tx, b)));
                cur = (tx, b);
            }
            if matches!(g.kind[v], VKind::Label(_)) {
                let (h, cy) = (label_ext[i].h, t + rank_h[g.rank[v]] / 2.0);
                let x0 = tx + LABEL_OFF;
                label = Some(LabelBox {
                    rect: (x0, cy - h / 2.0, x0 + text_w(&a.label), cy + h / 2.0),
                    lines: a.label.lines().map(str::to_string).collect(),
                });
            }
        }
        if ranks.reversed[i] {
            pieces = pieces.into_iter().rev().map(Piece::reversed).collect();
        }
        paths.push(pieces);
        labels.push(label.unwrap_or(LabelBox { rect: (0.0, 0.0, 0.0, 0.0), lines: Vec::new() }));
    }
    let right = (0..g.kind.len()).map(|v| x[v] + ext[v].right + ext[v].pad).fold(200.0, f64::max);
    Geometry { width: (right + MARGIN).ceil(), height: height.ceil(), boxes, labels, paths }
}
