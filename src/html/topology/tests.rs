//! The drawing's invariants, on synthetic graphs (a gateway fanning out to 24 services,
//! a 12-deep chain, a diamond, cycles through a topic, self-loops) and on every
//! committed scenario: no two boxes or labels overlap, everything lies inside the
//! viewBox and no wider than a page column, no arrow passes through a box or a label
//! that is not its own, every arrow ends on its target's border, and the same input
//! gives the same bytes.

use super::layout::{Geometry, MAX_W, Rect, layout};
use super::{Arrow, Node, NodeKind, graph, topology_svg};
use crate::scenario::{LoadOptions, load_file};

fn node(name: &str, kind: NodeKind) -> Node {
    Node { lines: vec![name.to_string(), "2 × 16 workers · service".into()], kind }
}

fn arrow(from: usize, to: usize, label: &str) -> Arrow {
    Arrow { from, to, label: label.into(), optional: false, message: false }
}

/// Strictly overlapping, a little inside each edge.
fn overlap(a: &Rect, b: &Rect) -> bool {
    a.0 + 0.5 < b.2 && b.0 + 0.5 < a.2 && a.1 + 0.5 < b.3 && b.1 + 0.5 < a.3
}

/// Whether the segment `p`–`q` passes through the inside of `r` (Liang–Barsky).
fn crosses(p: (f64, f64), q: (f64, f64), r: &Rect) -> bool {
    let r = (r.0 + 0.5, r.1 + 0.5, r.2 - 0.5, r.3 - 0.5);
    let (dx, dy) = (q.0 - p.0, q.1 - p.1);
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    for (pk, qk) in [(-dx, p.0 - r.0), (dx, r.2 - p.0), (-dy, p.1 - r.1), (dy, r.3 - p.1)] {
        if pk == 0.0 {
            if qk < 0.0 {
                return false;
            }
        } else {
            let t = qk / pk;
            if pk < 0.0 {
                t0 = t0.max(t);
            } else {
                t1 = t1.min(t);
            }
        }
    }
    t0 < t1
}

/// Every invariant of one drawing; the first broken one, in words.
fn check(nodes: &[Node], arrows: &[Arrow], g: &Geometry) -> Result<(), String> {
    let named = |i: usize| nodes[i].lines[0].clone();
    let labels: Vec<(usize, Rect)> =
        g.labels.iter().enumerate().filter(|(_, l)| !l.lines.is_empty()).map(|(i, l)| (i, l.rect)).collect();
    if labels.len() != arrows.len() {
        return Err(format!("{} labels for {} arrows", labels.len(), arrows.len()));
    }
    let inside = |r: &Rect| r.0 >= 0.0 && r.1 >= 0.0 && r.2 <= g.width && r.3 <= g.height;
    for (i, b) in g.boxes.iter().enumerate() {
        if !inside(b) {
            return Err(format!("box {} {b:?} outside 0 0 {} {}", named(i), g.width, g.height));
        }
        if let Some(j) = (i + 1..g.boxes.len()).find(|&j| overlap(b, &g.boxes[j])) {
            return Err(format!("boxes {} and {} overlap", named(i), named(j)));
        }
        if let Some((a, _)) = labels.iter().find(|(_, l)| overlap(b, l)) {
            return Err(format!("box {} under the label {:?}", named(i), arrows[*a].label));
        }
    }
    for (k, (a, l)) in labels.iter().enumerate() {
        if !inside(l) {
            return Err(format!("label {:?} outside", arrows[*a].label));
        }
        if let Some((b, _)) = labels[k + 1..].iter().find(|(_, m)| overlap(l, m)) {
            return Err(format!("labels {:?} and {:?} overlap", arrows[*a].label, arrows[*b].label));
        }
    }
    if g.width > MAX_W {
        return Err(format!("{} px wide", g.width));
    }
    for (i, (a, pieces)) in arrows.iter().zip(&g.paths).enumerate() {
        let what = format!("arrow {} -> {} ({:?})", named(a.from), named(a.to), a.label);
        let pts: Vec<(f64, f64)> =
            pieces.iter().flat_map(|p| (0..=48).map(move |s| p.at(s as f64 / 48.0))).collect();
        if pts.is_empty() {
            return Err(format!("{what} not drawn"));
        }
        for w in pts.windows(2) {
            let (p, q) = (w[0], w[1]);
            if !(0.0..=g.width).contains(&p.0) || !(0.0..=g.height).contains(&p.1) {
                return Err(format!("{what} leaves the viewBox at {p:?}"));
            }
            if let Some(n) =
                (0..nodes.len()).find(|&n| n != a.from && n != a.to && crosses(p, q, &g.boxes[n]))
            {
                return Err(format!("{what} passes through {} at {p:?}", named(n)));
            }
            if a.from != a.to
                && let Some((b, _)) = labels.iter().find(|(b, l)| *b != i && crosses(p, q, l))
            {
                return Err(format!("{what} passes through the label {:?} at {p:?}", arrows[*b].label));
            }
        }
        // It ends on its target's border, coming from outside (the arrowhead shows).
        let (end, before) = (pts[pts.len() - 1], pts[pts.len() - 2]);
        let t = g.boxes[a.to];
        let on = |v: f64, lo: f64, hi: f64| v >= lo - 0.2 && v <= hi + 0.2;
        let border = (on(end.0, t.0, t.2) && ((end.1 - t.1).abs() < 0.2 || (end.1 - t.3).abs() < 0.2))
            || (on(end.1, t.1, t.3) && ((end.0 - t.0).abs() < 0.2 || (end.0 - t.2).abs() < 0.2));
        let mid = ((t.0 + t.2) / 2.0, (t.1 + t.3) / 2.0);
        let towards = (mid.0 - end.0) * (end.0 - before.0) + (mid.1 - end.1) * (end.1 - before.1) > 0.0;
        if !border || !towards {
            return Err(format!("{what} ends at {end:?}, not into its target {t:?}"));
        }
    }
    Ok(())
}

/// A client, a gateway, `fan` services behind it, every third calling a shared database.
fn fan(fan: usize) -> (Vec<Node>, Vec<Arrow>) {
    let mut nodes = vec![node("client: users", NodeKind::Client), node("gateway", NodeKind::Service)];
    let mut arrows = vec![arrow(0, 1, "get\nno policy")];
    let db = 2 + fan;
    for i in 0..fan {
        nodes.push(node(&format!("service-{i:02}"), NodeKind::Service));
        arrows.push(arrow(1, 2 + i, &format!("op{i}\ninternal: timeout 300 ms")));
        if i % 3 == 0 {
            arrows.push(arrow(2 + i, db, "query\nno policy"));
        }
    }
    nodes.push(node("database", NodeKind::Service));
    (nodes, arrows)
}

fn chain(depth: usize) -> (Vec<Node>, Vec<Arrow>) {
    let mut nodes = vec![node("client: users", NodeKind::Client)];
    let mut arrows = Vec::new();
    for i in 0..depth {
        nodes.push(node(&format!("hop-{i}"), NodeKind::Service));
        arrows.push(arrow(i, i + 1, "call\ntimeout 1 s, 3 tries"));
    }
    // And a shortcut over the whole chain, which must run beside every hop.
    arrows.push(arrow(1, depth, "skip\nno policy"));
    (nodes, arrows)
}

fn diamond() -> (Vec<Node>, Vec<Arrow>) {
    let nodes = ["client: users", "top", "left", "right", "bottom"]
        .iter()
        .enumerate()
        .map(|(i, n)| node(n, if i == 0 { NodeKind::Client } else { NodeKind::Service }))
        .collect();
    let arrows = vec![
        arrow(0, 1, "get\nno policy"),
        arrow(1, 2, "a\nno policy"),
        arrow(1, 3, "b\nno policy"),
        arrow(2, 4, "c\nno policy"),
        arrow(3, 4, "d\nno policy"),
        arrow(1, 4, "direct\nno policy"),
    ];
    (nodes, arrows)
}

/// Orders publish to a topic whose consumer calls orders back and publishes again,
/// a two-service cycle, and self-loops.
fn cycles() -> (Vec<Node>, Vec<Arrow>) {
    let nodes = vec![
        node("client: buyers", NodeKind::Client),
        node("orders", NodeKind::Service),
        node("order-events", NodeKind::Topic),
        node("shipping", NodeKind::Service),
        node("billing", NodeKind::Service),
    ];
    let mut arrows = vec![
        arrow(0, 1, "create\nno policy"),
        Arrow { message: true, ..arrow(1, 2, "publish") },
        Arrow { message: true, ..arrow(2, 3, "shipping") },
        arrow(3, 1, "confirm\ninternal: timeout 1 s"),
        Arrow { message: true, ..arrow(3, 2, "publish, outbox") },
        arrow(3, 4, "charge\nno policy"),
        arrow(4, 3, "notify\nno policy"),
    ];
    for l in ["cancel\nsaga fulfillment, undo", "confirm\nsaga fulfillment", "create\nsaga fulfillment"] {
        arrows.push(arrow(1, 1, l));
    }
    arrows.push(arrow(4, 4, "retry\nno policy"));
    (nodes, arrows)
}

#[test]
fn synthetic_graphs_keep_every_invariant() {
    let cases =
        [("fan of 24", fan(24)), ("chain of 12", chain(12)), ("diamond", diamond()), ("cycles", cycles())];
    for (name, (nodes, arrows)) in cases {
        let g = layout(&nodes, &arrows);
        check(&nodes, &arrows, &g).unwrap_or_else(|e| panic!("{name}: {e}"));
        // To look at them: FAULTLINE_TOPO_DUMP=DIR.
        if let Some(dir) = std::env::var_os("FAULTLINE_TOPO_DUMP") {
            let svg = super::draw::draw(name, &nodes, &arrows, &g);
            std::fs::write(std::path::Path::new(&dir).join(format!("{}.svg", name.replace(' ', "-"))), svg)
                .unwrap();
        }
    }
    // The fan wraps into sub-rows rather than running past the page.
    let (nodes, arrows) = fan(24);
    let g = layout(&nodes, &arrows);
    let rows: std::collections::BTreeSet<i64> = g.boxes[2..26].iter().map(|b| b.1.round() as i64).collect();
    assert!(rows.len() >= 4, "24 services in {} rows", rows.len());
    // The chain runs down, one rank per hop.
    let (nodes, arrows) = chain(12);
    let g = layout(&nodes, &arrows);
    assert!(g.boxes.windows(2).all(|w| w[1].1 > w[0].3), "each hop below the one before");
}

#[test]
fn the_check_catches_what_it_should() {
    let (nodes, arrows) = diamond();
    let good = layout(&nodes, &arrows);
    let mut g = layout(&nodes, &arrows);
    g.boxes[2] = g.boxes[3];
    assert!(check(&nodes, &arrows, &g).unwrap_err().contains("overlap"));
    let mut g = layout(&nodes, &arrows);
    // The direct arrow redrawn as a straight line from top to bottom, through `left`
    // or `right` (which sit between them).
    let (t, b) = (good.boxes[1], good.boxes[4]);
    let (l, r) = (good.boxes[2], good.boxes[3]);
    let through = if (l.0 + l.2) / 2.0 < (t.0 + t.2) / 2.0 { r } else { l };
    let x = (through.0 + through.2) / 2.0;
    g.paths[5] = vec![super::layout::Piece::Line((x, t.3), (x, b.1))];
    assert!(check(&nodes, &arrows, &g).unwrap_err().contains("passes through"));
    let mut g = layout(&nodes, &arrows);
    g.width = 50.0;
    assert!(check(&nodes, &arrows, &g).is_err());
}

fn scenarios() -> Vec<std::path::PathBuf> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut files: Vec<_> = [root.clone(), root.join("real")]
        .iter()
        .flat_map(|d| std::fs::read_dir(d).unwrap().map(|e| e.unwrap().path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_committed_scenario_keeps_every_invariant_and_its_bytes() {
    let files = scenarios();
    assert!(files.len() >= 20);
    for f in files {
        let spec = load_file(&f, &LoadOptions::default()).unwrap();
        let (nodes, arrows) = graph(&spec);
        let g = layout(&nodes, &arrows);
        check(&nodes, &arrows, &g).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        assert_eq!(topology_svg(&spec), topology_svg(&spec), "{}", f.display());
    }
}

#[test]
fn the_same_graph_gives_the_same_geometry() {
    for (nodes, arrows) in [fan(24), cycles()] {
        let (a, b) = (layout(&nodes, &arrows), layout(&nodes, &arrows));
        assert_eq!((a.width, a.height, &a.boxes, &a.paths), (b.width, b.height, &b.boxes, &b.paths));
    }
}
