//! Graphviz DOT: every id and label a double-quoted string (`\` and `"` escaped, a
//! newline as `\n`, other control characters as spaces), so any name is safe; left to
//! right; sagas as `cluster_` subgraphs.

use super::{Graph, Line, Node, Shape};
use std::fmt::Write as _;

/// A DOT double-quoted string.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn attrs(shape: Shape) -> &'static str {
    match shape {
        Shape::Workload => "shape=oval, style=dashed",
        Shape::Service => "shape=box, style=\"rounded,filled\", fillcolor=\"#eaf2fb\", color=\"#3a6ea5\"",
        Shape::Database => "shape=cylinder, style=filled, fillcolor=\"#eaf2fb\", color=\"#3a6ea5\"",
        Shape::Cache => "shape=box3d, style=filled, fillcolor=\"#eaf2fb\", color=\"#3a6ea5\"",
        Shape::Broker => "shape=component, style=filled, fillcolor=\"#eaf2fb\", color=\"#3a6ea5\"",
        Shape::Topic => "shape=cds, style=filled, fillcolor=\"#fdf1dc\", color=\"#a66300\"",
        Shape::Step => "shape=box, style=filled, fillcolor=\"#eaf2fb\", color=\"#3a6ea5\"",
        Shape::Pivot => {
            "shape=box, style=\"filled,bold\", penwidth=2.5, fillcolor=\"#fff4f2\", color=\"#b3261e\""
        }
    }
}

fn node(s: &mut String, indent: &str, n: &Node) {
    let _ =
        writeln!(s, "{indent}{} [label={}, {}];", quote(&n.id), quote(&n.lines.join("\n")), attrs(n.shape));
}

/// The graph as DOT.
pub fn write(g: &Graph) -> String {
    let mut s = format!("digraph {} {{\n", quote(&g.title));
    let _ = writeln!(
        s,
        "  graph [rankdir=LR, label={}, labelloc=t, fontname=\"Helvetica\", fontsize=14];",
        quote(&g.title)
    );
    s.push_str(
        "  node [fontname=\"Helvetica\", fontsize=11];\n  edge [fontname=\"Helvetica\", fontsize=9];\n",
    );
    for n in &g.nodes {
        node(&mut s, "  ", n);
    }
    for c in &g.clusters {
        let _ = writeln!(s, "  subgraph {} {{", quote(&format!("cluster_{}", c.id)));
        let _ = writeln!(s, "    label={}; style=rounded; color=\"#888888\";", quote(&c.title));
        for n in &c.nodes {
            node(&mut s, "    ", n);
        }
        s.push_str("  }\n");
    }
    for a in &g.arrows {
        let style = match a.line {
            Line::Solid => "style=solid",
            Line::Dotted => "style=dotted",
            Line::Dashed => "style=dashed, color=\"#a66300\"",
            Line::Bold => "style=bold",
        };
        let _ = writeln!(s, "  {} -> {} [label={}, {style}];", quote(&a.from), quote(&a.to), quote(&a.label));
    }
    s.push_str("}\n");
    s
}
