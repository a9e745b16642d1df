//! The SVG of the topology: arrows, then boxes over them, then labels over everything.

use super::layout::Layout;
use super::{Arrow, MSG, Node, NodeKind, T_FONT, T_SMALL, T_SMALL_CHAR};
use crate::html::escape;
use crate::spec::Spec;
use std::fmt::Write as _;

/// The SVG: arrows first, then boxes over them, then labels over everything.
pub(super) fn draw(spec: &Spec, nodes: &[Node], arrows: &[Arrow], layout: &Layout) -> String {
    let Layout { layer_x, layer_w, band, band_bottom, corridor, width, height, back_rank, out_port, in_port } =
        layout;
    let (width, height) = (*width, *height);
    let band_of = |n: usize| band[nodes[n].layer];
    let node_x = |n: usize| layer_x[nodes[n].layer];
    let node_w = |n: usize| layer_w[nodes[n].layer];
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg width=\"{w:.0}\" height=\"{h:.0}\" viewBox=\"0 0 {w:.0} {h:.0}\" xmlns=\"http://www.w3.org/2000/svg\" \
         font-family=\"sans-serif\" role=\"img\" aria-label=\"topology of {}\">\n\
         <defs><marker id=\"fl-arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"8\" markerHeight=\"8\" \
         orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#555\"/></marker>{}</defs>\n\
         <rect x=\"0\" y=\"0\" width=\"{w:.0}\" height=\"{h:.0}\" fill=\"#ffffff\"/>\n",
        escape(&spec.name),
        // Only drawings with messages define the second marker, so that the others keep
        // their bytes.
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

    // Arrows first, then boxes over them, then labels over everything.
    let mut label_svg = String::new();
    let mut placed: Vec<(f64, f64, f64, f64)> = Vec::new();
    let mut link_k = 0usize;
    let mut crossings = 0usize;
    for (ai, a) in arrows.iter().enumerate() {
        let dash = if a.message {
            " stroke-dasharray=\"3 3\""
        } else if a.optional {
            " stroke-dasharray=\"6 4\""
        } else {
            ""
        };
        let (stroke, marker) = if a.message { (MSG, "fl-arrow-msg") } else { ("#555", "fl-arrow") };
        if a.back {
            let (f, t) = (a.path[0], a.path[1]);
            let (x1, y1) = (node_x(f) + node_w(f) / 2.0, nodes[f].y + nodes[f].h);
            let (x2, y2) =
                (node_x(t) + node_w(t) / 2.0 + if f == t { 20.0 } else { 0.0 }, nodes[t].y + nodes[t].h);
            let low = band_bottom[band_of(f).max(band_of(t))] + 30.0;
            let _ = writeln!(
                s,
                "<path d=\"M{x1:.1},{y1:.1} C{x1:.1},{low:.1} {x2:.1},{low:.1} {x2:.1},{y2:.1}\" fill=\"none\" stroke=\"{stroke}\" \
                 stroke-width=\"1.4\"{dash} marker-end=\"url(#{marker})\"/>"
            );
            let lines = a.label.lines().count().max(1) as f64;
            let ly = low + 8.0 * lines + 16.0 * lines * back_rank[ai] as f64;
            push_label(&mut label_svg, &a.label, (x1 + x2) / 2.0, ly);
            placed.push(label_rect(&a.label, (x1 + x2) / 2.0, ly));
            continue;
        }
        let mut d = String::new();
        // Where the label may go: a curve between two boxes `(p1, p2)`, or the corridor
        // between two bands `(x_left, x_right, y)`.
        let mut first_seg: Option<Seg> = None;
        for (j, w) in a.path.windows(2).enumerate() {
            let k = link_k;
            link_k += 1;
            let (f, t) = (w[0], w[1]);
            let p1 = if nodes[f].kind == NodeKind::Dummy {
                (node_x(f) + node_w(f), nodes[f].y + nodes[f].h / 2.0)
            } else {
                (node_x(f) + node_w(f), out_port[k])
            };
            let p2 = if nodes[t].kind == NodeKind::Dummy {
                (node_x(t), nodes[t].y + nodes[t].h / 2.0)
            } else {
                (node_x(t), in_port[k])
            };
            if j == 0 {
                let _ = write!(d, "M{:.1},{:.1}", p1.0, p1.1);
            } else if nodes[f].kind == NodeKind::Dummy {
                // Through the bend point.
                let _ = write!(d, " L{:.1},{:.1}", p1.0, p1.1);
            }
            let seg = if band_of(f) != band_of(t) {
                // Down from the end of one band into the start of the next: right, down to
                // the corridor between them (each crossing a little apart), left, down, in.
                let cy = corridor[band_of(f)] + 6.0 * ((crossings % 5) as f64 - 2.0);
                crossings += 1;
                let (xr, xl) =
                    (p1.0 + 12.0 + 3.0 * (crossings % 4) as f64, p2.0 - 10.0 - 5.0 * (crossings % 4) as f64);
                let _ = write!(
                    d,
                    " L{xr:.1},{:.1} L{xr:.1},{cy:.1} L{xl:.1},{cy:.1} L{xl:.1},{:.1} L{:.1},{:.1}",
                    p1.1, p2.1, p2.0, p2.1
                );
                Seg::Corridor(xl.min(xr), xl.max(xr), cy)
            } else {
                let ((x1, y1), (x2, y2)) = (p1, p2);
                if (y1 - y2).abs() < 0.05 || (x2 - x1) < 1.0 {
                    let _ = write!(d, " L{x2:.1},{y2:.1}");
                } else {
                    let mx = (x1 + x2) / 2.0;
                    let _ = write!(d, " C{mx:.1},{y1:.1} {mx:.1},{y2:.1} {x2:.1},{y2:.1}");
                }
                Seg::Curve(p1, p2)
            };
            if j == 0 {
                first_seg = Some(seg);
            }
        }
        let _ = writeln!(
            s,
            "<path d=\"{d}\" fill=\"none\" stroke=\"{stroke}\" stroke-width=\"1.4\"{dash} marker-end=\"url(#{marker})\"/>"
        );
        // The label sits on the first segment, at the first of a few places along it
        // where it overlaps no other label.
        let Some(seg) = first_seg else { continue };
        let (lo, hi) = match seg {
            Seg::Curve((x1, _), (x2, _)) => (x1, x2),
            Seg::Corridor(xl, xr, _) => (xl, xr),
        };
        let at = |t: f64| match seg {
            Seg::Corridor(xl, xr, y) => (xl + t * (xr - xl), y),
            Seg::Curve((x1, y1), (x2, y2)) if (y1 - y2).abs() < 0.05 => (x1 + t * (x2 - x1), y1),
            Seg::Curve((x1, y1), (x2, y2)) => {
                // The cubic of the path with both control points at the middle x.
                let u = 1.0 - t;
                let mx = (x1 + x2) / 2.0;
                let x = u * u * u * x1 + 3.0 * u * u * t * mx + 3.0 * u * t * t * mx + t * t * t * x2;
                let y = (u * u * u + 3.0 * u * u * t) * y1 + (3.0 * u * t * t + t * t * t) * y2;
                (x, y)
            }
        };
        // Along the segment first, then a label's height above or below it.
        let h = LINE_H * a.label.lines().count().max(1) as f64 + 4.0;
        // Along the segment, then a label's height above or below it (a corridor between
        // bands is tall enough for three rows of labels).
        let choice = [0.0, -h, h]
            .into_iter()
            .flat_map(|dy| {
                [0.5, 0.35, 0.65, 0.25, 0.75, 0.15, 0.85, 0.05, 0.95].into_iter().map(move |t| {
                    let (x, y) = at(t);
                    (x, y + dy)
                })
            })
            .find(|(x, y)| {
                let r = label_rect(&a.label, *x, *y);
                // Within the gap between the boxes, over no other label.
                r.0 >= lo && r.2 <= hi && !placed.iter().any(|p| overlaps(p, &r))
            })
            .unwrap_or_else(|| at(0.5));
        push_label(&mut label_svg, &a.label, choice.0, choice.1);
        placed.push(label_rect(&a.label, choice.0, choice.1));
    }
    for (i, n) in nodes.iter().enumerate() {
        if n.kind == NodeKind::Dummy {
            continue;
        }
        let (x, w) = (node_x(i), node_w(i));
        let (fill, stroke, dash) = match n.kind {
            NodeKind::Client => ("#f3f3f3", "#888", " stroke-dasharray=\"4 3\""),
            NodeKind::Topic => ("#fdf1dc", MSG, ""),
            _ => ("#eaf2fb", "#3a6ea5", ""),
        };
        // A topic is a pill: its ends are half circles.
        let rx = if n.kind == NodeKind::Topic { format!("{:.1}", n.h / 2.0) } else { "6".into() };
        let _ = writeln!(
            s,
            "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{w:.1}\" height=\"{:.1}\" rx=\"{rx}\" fill=\"{fill}\" stroke=\"{stroke}\" \
             stroke-width=\"1.3\"{dash}/>",
            n.y, n.h
        );
        let cx = x + w / 2.0;
        let cy = n.y + n.h / 2.0;
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
    s.push_str(&label_svg);
    s.push_str("</svg>\n");
    s
}

/// Where an arrow's label may sit.
#[derive(Clone, Copy)]
enum Seg {
    /// The curve between two boxes of one band, from `p1` to `p2`.
    Curve((f64, f64), (f64, f64)),
    /// The corridor between two bands: from `x` to `x`, at `y`.
    Corridor(f64, f64, f64),
}

/// Height of one line of an arrow's label.
const LINE_H: f64 = 16.0;

/// The box `(x0, y0, x1, y1)` of a label centred at `(x, y)`, with a little margin.
fn label_rect(text: &str, x: f64, y: f64) -> (f64, f64, f64, f64) {
    let w = super::layout::label_chars(text) as f64 * T_SMALL_CHAR + 8.0;
    let h = LINE_H * text.lines().count().max(1) as f64;
    (x - w / 2.0 - 2.0, y - h / 2.0 - 2.0, x + w / 2.0 + 2.0, y + h / 2.0 + 2.0)
}

fn overlaps(a: &(f64, f64, f64, f64), b: &(f64, f64, f64, f64)) -> bool {
    a.0 < b.2 && b.0 < a.2 && a.1 < b.3 && b.1 < a.3
}

/// An arrow's label, one line per `\n`, centred at `(x, y)` on a white halo so it
/// stays legible where it crosses a line.
fn push_label(s: &mut String, text: &str, x: f64, y: f64) {
    let w = super::layout::label_chars(text) as f64 * T_SMALL_CHAR + 8.0;
    let n = text.lines().count().max(1);
    let h = LINE_H * n as f64;
    let _ = writeln!(
        s,
        "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{w:.1}\" height=\"{h:.0}\" rx=\"3\" fill=\"#ffffff\" fill-opacity=\"0.9\"/>",
        x - w / 2.0,
        y - h / 2.0,
    );
    for (i, line) in text.lines().enumerate() {
        let _ = writeln!(
            s,
            "<text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"{T_SMALL}\" fill=\"#333\">{}</text>",
            y - h / 2.0 + 12.0 + LINE_H * i as f64,
            escape(line)
        );
    }
}
