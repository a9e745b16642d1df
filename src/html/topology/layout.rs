//! The order of the boxes in their layers (barycentre sweeps) and the pixel geometry,
//! layers wrapped into bands no wider than [`MAX_W`].

use super::{Arrow, Node, NodeKind, T_CHAR, T_SMALL_CHAR};

/// The order of the boxes within their layers.
pub(super) struct Order {
    /// Each layer's nodes, in drawing order (top to bottom).
    pub(super) layers: Vec<Vec<usize>>,
    /// Each node's position in its layer.
    pub(super) pos: Vec<f64>,
    /// The links between neighbouring layers that forward arrows follow.
    pub(super) links: Vec<(usize, usize)>,
}

pub(super) fn order_layers(nodes: &[Node], arrows: &[Arrow]) -> Order {
    // Order each layer to keep arrows short and uncrossed: barycentre sweeps, ties kept
    // in file order.
    let n_layers = nodes.iter().map(|n| n.layer).max().unwrap_or(0) + 1;
    let mut layers: Vec<Vec<usize>> = vec![Vec::new(); n_layers];
    for (i, n) in nodes.iter().enumerate() {
        layers[n.layer].push(i);
    }
    let mut pos = vec![0f64; nodes.len()];
    let set_pos = |layers: &Vec<Vec<usize>>, pos: &mut Vec<f64>| {
        for l in layers {
            for (k, n) in l.iter().enumerate() {
                pos[*n] = k as f64;
            }
        }
    };
    set_pos(&layers, &mut pos);
    let links: Vec<(usize, usize)> =
        arrows.iter().filter(|a| !a.back).flat_map(|a| a.path.windows(2).map(|w| (w[0], w[1]))).collect();
    for sweep in 0..8 {
        let down = sweep % 2 == 0;
        let order: Vec<usize> =
            if down { (1..n_layers).collect() } else { (0..n_layers.saturating_sub(1)).rev().collect() };
        for l in order {
            let bary: Vec<(f64, usize)> = layers[l]
                .iter()
                .map(|&n| {
                    let nb: Vec<f64> = links
                        .iter()
                        .filter_map(|&(a, b)| {
                            if down && b == n {
                                Some(pos[a])
                            } else if !down && a == n {
                                Some(pos[b])
                            } else {
                                None
                            }
                        })
                        .collect();
                    let v = if nb.is_empty() { pos[n] } else { nb.iter().sum::<f64>() / nb.len() as f64 };
                    (v, n)
                })
                .collect();
            let mut sorted = bary.clone();
            sorted.sort_by(|a, b| a.0.total_cmp(&b.0).then(pos[a.1].total_cmp(&pos[b.1])));
            layers[l] = sorted.into_iter().map(|x| x.1).collect();
            set_pos(&layers, &mut pos);
        }
    }
    Order { layers, pos, links }
}

/// The widest a band of layers may be before the next layer wraps into a band below:
/// the width of a report page's column, so the drawing is shown at its own size.
pub(super) const MAX_W: f64 = 1160.0;
/// Room between two bands for the arrows that run from one to the next.
const BAND_GAP: f64 = 120.0;
/// How far a band after the first starts right of the edge: room for the arrows that
/// come down into it.
const BAND_INDENT: f64 = 40.0;

/// The widest of an arrow label's lines, in characters.
pub(super) fn label_chars(label: &str) -> usize {
    label.lines().map(|l| l.chars().count()).max().unwrap_or(0)
}

/// The pixel geometry of the drawing (node heights and `y` are set on the nodes).
pub(super) struct Layout {
    /// Per layer: its left edge, its width (the widest box) and its band.
    pub(super) layer_x: Vec<f64>,
    pub(super) layer_w: Vec<f64>,
    pub(super) band: Vec<usize>,
    /// Per band: the `y` under its lowest box (where back arrows arc) and the `y` of
    /// the corridor to the next band.
    pub(super) band_bottom: Vec<f64>,
    pub(super) corridor: Vec<f64>,
    pub(super) width: f64,
    pub(super) height: f64,
    /// Per arrow: its rank among the back arrows between the same two boxes.
    pub(super) back_rank: Vec<usize>,
    /// Per link: where it leaves its source box and enters its target box.
    pub(super) out_port: Vec<f64>,
    pub(super) in_port: Vec<f64>,
}

impl Layout {
    pub(super) fn of(
        nodes: &mut [Node],
        arrows: &[Arrow],
        layers: &[Vec<usize>],
        pos: &[f64],
        links: &[(usize, usize)],
    ) -> Layout {
        let n_layers = layers.len();
        let mut out_deg = vec![0usize; nodes.len()];
        let mut in_deg = vec![0usize; nodes.len()];
        for (a, b) in links {
            out_deg[*a] += 1;
            in_deg[*b] += 1;
        }
        let layer_w: Vec<f64> = layers
            .iter()
            .map(|l| {
                l.iter()
                    .map(|&n| {
                        let nd = &nodes[n];
                        match nd.kind {
                            NodeKind::Dummy => 0.0,
                            _ => {
                                nd.lines
                                    .iter()
                                    .enumerate()
                                    .map(|(i, s)| {
                                        s.chars().count() as f64 * if i == 0 { T_CHAR } else { T_SMALL_CHAR }
                                    })
                                    .fold(0.0, f64::max)
                                    .max(110.0)
                                    + 24.0
                            }
                        }
                    })
                    .fold(0.0, f64::max)
            })
            .collect();
        // Each gap is wide enough for the labels of the arrows that leave the layer before it.
        let mut gap_w = vec![90.0f64; n_layers];
        for a in arrows.iter().filter(|a| !a.back) {
            let l = nodes[a.path[0]].layer;
            gap_w[l] = gap_w[l].max(label_chars(&a.label) as f64 * T_SMALL_CHAR + 36.0);
        }
        // Bands: a layer that would end past MAX_W starts a new band (never the first
        // of a band, so one very wide layer still gets drawn).
        let mut layer_x = vec![0f64; n_layers];
        let mut band = vec![0usize; n_layers];
        let mut x = 20.0;
        let mut width = 200.0f64;
        let mut b = 0;
        for l in 0..n_layers {
            let first_of_band = l == 0 || band[l - 1] != b;
            if !first_of_band && x + layer_w[l] + 20.0 > MAX_W {
                b += 1;
                x = 20.0 + BAND_INDENT;
            }
            band[l] = b;
            layer_x[l] = x;
            // The right margin holds the arrows that turn down into the next band.
            width = width.max(x + layer_w[l] + 44.0);
            x += layer_w[l] + gap_w[l];
        }
        let n_bands = b + 1;
        for (i, n) in nodes.iter_mut().enumerate() {
            n.h = match n.kind {
                NodeKind::Dummy => 18.0,
                _ => (20.0 * out_deg[i].max(in_deg[i]) as f64 + 12.0).max(50.0),
            };
        }
        let vgap = 26.0;
        let layer_h: Vec<f64> = layers
            .iter()
            .map(|l| l.iter().map(|&n| nodes[n].h).sum::<f64>() + vgap * l.len().saturating_sub(1) as f64)
            .collect();
        // Back arrows between the same two boxes share one arc; their labels stack under it.
        let back_rank: Vec<usize> = (0..arrows.len())
            .map(|i| {
                let same = |a: &Arrow| a.back && a.path[..2] == arrows[i].path[..2];
                if arrows[i].back { arrows[..i].iter().filter(|a| same(a)).count() } else { 0 }
            })
            .collect();
        // Per band: its height, and the room its back arrows need beneath it.
        let mut band_h = vec![0f64; n_bands];
        for l in 0..n_layers {
            band_h[band[l]] = band_h[band[l]].max(layer_h[l]);
        }
        let mut back_room = vec![0f64; n_bands];
        for (i, a) in arrows.iter().enumerate().filter(|(_, a)| a.back) {
            let lb = band[nodes[a.path[0]].layer].max(band[nodes[a.path[1]].layer]);
            let lines = a.label.lines().count().max(1) as f64;
            back_room[lb] = back_room[lb].max(40.0 + 16.0 * lines + 18.0 * lines * back_rank[i] as f64);
        }
        let mut band_top = vec![0f64; n_bands];
        let mut band_bottom = vec![0f64; n_bands];
        let mut corridor = vec![0f64; n_bands];
        let mut y = 20.0;
        for b in 0..n_bands {
            band_top[b] = y;
            band_bottom[b] = y + band_h[b];
            y = band_bottom[b] + back_room[b];
            corridor[b] = y + BAND_GAP / 2.0;
            if b + 1 < n_bands {
                y += BAND_GAP;
            }
        }
        let height = y + 20.0;
        for (l, members) in layers.iter().enumerate() {
            let b = band[l];
            let mut y = band_top[b] + (band_h[b] - layer_h[l]) / 2.0;
            for &n in members {
                nodes[n].y = y;
                y += nodes[n].h + vgap;
            }
        }

        // Ports: the arrows leaving (entering) a box are spread along its right (left) side,
        // ordered by the height of the other end so that they do not cross at the box.
        let mut out_port = vec![0f64; links.len()];
        let mut in_port = vec![0f64; links.len()];
        for (n, node) in nodes.iter().enumerate() {
            let mut outs: Vec<usize> = (0..links.len()).filter(|&k| links[k].0 == n).collect();
            outs.sort_by(|&a, &b| pos[links[a].1].total_cmp(&pos[links[b].1]).then(a.cmp(&b)));
            for (j, &k) in outs.iter().enumerate() {
                out_port[k] = node.y + node.h * (j as f64 + 1.0) / (outs.len() as f64 + 1.0);
            }
            let mut ins: Vec<usize> = (0..links.len()).filter(|&k| links[k].1 == n).collect();
            ins.sort_by(|&a, &b| pos[links[a].0].total_cmp(&pos[links[b].0]).then(a.cmp(&b)));
            for (j, &k) in ins.iter().enumerate() {
                in_port[k] = node.y + node.h * (j as f64 + 1.0) / (ins.len() as f64 + 1.0);
            }
        }
        Layout { layer_x, layer_w, band, band_bottom, corridor, width, height, back_rank, out_port, in_port }
    }
}
