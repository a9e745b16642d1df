//! The SVG of the topology: arrows, then boxes over them, then labels over everything.

use super::layout::{Geometry, LINE_H, Piece};
use super::{Arrow, MSG, Node, NodeKind, T_FONT, T_SMALL};
use crate::html::escape;
use std::fmt::Write as _;

/// The SVG: arrows first, then boxes over them, then labels over everything.
pub(super) fn draw(name: &str, nodes: &[Node], arrows: &[Arrow], geo: &Geometry) -> String {
    let (width, height) = (geo.width, geo.height);
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg width=\"{w:.0}\" height=\"{h:.0}\" viewBox=\"0 0 {w:.0} {h:.0}\" xmlns=\"http://www.w3.org/2000/svg\" \
         font-family=\"sans-serif\" role=\"img\" aria-label=\"topology of {}\">\n\
         <defs><marker id=\"fl-arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"8\" markerHeight=\"8\" \
         orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#555\"/></marker>{}</defs>\n\
         <rect x=\"0\" y=\"0\" width=\"{w:.0}\" height=\"{h:.0}\" fill=\"#ffffff\"/>\n",
        escape(name),
        // Only drawings with messages define the second marker.
        if arrows.iter().any(|a| a.message) {
            format!(
                "<marker id=\"fl-arrow-msg\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"8\" \
                 markerHeight=\"8\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"{MSG}\"/></marker>"
            )
        } else {
            String::new()
        },
        w = width,
        h = height
    );
    if nodes.is_empty() {
        s.push_str("<text x=\"20\" y=\"30\" font-size=\"13\" fill=\"#666\">no services</text>\n");
    }
    for (a, pieces) in arrows.iter().zip(&geo.paths) {
        let dash = if a.message {
            " stroke-dasharray=\"3 3\""
        } else if a.optional {
            " stroke-dasharray=\"6 4\""
        } else {
            ""
        };
        let (stroke, marker) = if a.message { (MSG, "fl-arrow-msg") } else { ("#555", "fl-arrow") };
        let Some(first) = pieces.first() else { continue };
        let start = first.at(0.0);
        let mut d = format!("M{:.1},{:.1}", start.0, start.1);
        for p in pieces {
            match *p {
                Piece::Line(_, b) => {
                    let _ = write!(d, " L{:.1},{:.1}", b.0, b.1);
                }
                Piece::Cubic(_, b, c, e) => {
                    let _ = write!(d, " C{:.1},{:.1} {:.1},{:.1} {:.1},{:.1}", b.0, b.1, c.0, c.1, e.0, e.1);
                }
            }
        }
        let _ = writeln!(
            s,
            "<path d=\"{d}\" fill=\"none\" stroke=\"{stroke}\" stroke-width=\"1.4\"{dash} marker-end=\"url(#{marker})\"/>"
        );
    }
    for (n, b) in nodes.iter().zip(&geo.boxes) {
        let (x, y, w, h) = (b.0, b.1, b.2 - b.0, b.3 - b.1);
        let (fill, stroke, dash) = match n.kind {
            NodeKind::Client => ("#f3f3f3", "#888", " stroke-dasharray=\"4 3\""),
            NodeKind::Topic => ("#fdf1dc", MSG, ""),
            NodeKind::Service => ("#eaf2fb", "#3a6ea5", ""),
        };
        // A topic is a pill: its ends are half circles.
        let rx = if n.kind == NodeKind::Topic { format!("{:.1}", h / 2.0) } else { "6".into() };
        let _ = writeln!(
            s,
            "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" rx=\"{rx}\" fill=\"{fill}\" stroke=\"{stroke}\" \
             stroke-width=\"1.3\"{dash}/>"
        );
        let (cx, cy) = (x + w / 2.0, y + h / 2.0);
        if let Some(l0) = n.lines.first() {
            let _ = writeln!(
                s,
                "<text x=\"{cx:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"{T_FONT}\" font-weight=\"bold\" \
                 fill=\"#1d1d1d\">{}</text>",
                cy - 3.0,
                escape(l0)
            );
        }
        if let Some(l1) = n.lines.get(1) {
            let _ = writeln!(
                s,
                "<text x=\"{cx:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"{T_SMALL}\" fill=\"#444\">{}</text>",
                cy + 13.0,
                escape(l1)
            );
        }
    }
    // Labels: left-aligned beside their arrow's line, on a white halo.
    for l in &geo.labels {
        if l.lines.is_empty() {
            continue;
        }
        let (x0, y0, x1, y1) = l.rect;
        let _ = writeln!(
            s,
            "<rect x=\"{x0:.1}\" y=\"{y0:.1}\" width=\"{:.1}\" height=\"{:.1}\" rx=\"3\" fill=\"#ffffff\" fill-opacity=\"0.9\"/>",
            x1 - x0,
            y1 - y0
        );
        for (i, line) in l.lines.iter().enumerate() {
            let _ = writeln!(
                s,
                "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"{T_SMALL}\" fill=\"#333\">{}</text>",
                x0 + 4.0,
                y0 + 12.0 + LINE_H * i as f64,
                escape(line)
            );
        }
    }
    s.push_str("</svg>\n");
    s
}
