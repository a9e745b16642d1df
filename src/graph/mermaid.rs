//! A Mermaid flowchart (`flowchart LR`): ids are generated (`svc_0`), every label is a
//! double-quoted string whose characters that Mermaid or HTML would read are written
//! as Mermaid's entity codes (`#quot;`, `#35;`, `#lt;`, `#gt;`, `#amp;`, `#124;`, `#96;`,
//! `#92;`), lines joined by
//! `<br/>`; sagas are subgraphs, the pivot step styled by a class.

use super::{Graph, Line, Node, Shape};
use std::fmt::Write as _;

/// One line of a label, escaped for Mermaid.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '#' => out.push_str("#35;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '&' => out.push_str("#amp;"),
            '|' => out.push_str("#124;"),
            '`' => out.push_str("#96;"),
            '\\' => out.push_str("#92;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn label(lines: &[String]) -> String {
    format!("\"{}\"", lines.iter().map(|l| escape(l)).collect::<Vec<_>>().join("<br/>"))
}

fn node(s: &mut String, indent: &str, n: &Node) {
    let l = label(&n.lines);
    let shaped = match n.shape {
        Shape::Workload => format!("([{l}])"),
        Shape::Database => format!("[({l})]"),
        Shape::Topic => format!("[/{l}/]"),
        Shape::Cache | Shape::Broker => format!("[[{l}]]"),
        Shape::Service | Shape::Step | Shape::Pivot => format!("[{l}]"),
    };
    let _ = writeln!(s, "{indent}{}{shaped}", n.id);
}

/// The graph as a Mermaid flowchart.
pub fn write(g: &Graph) -> String {
    let mut s = format!("---\ntitle: \"{}\"\n---\nflowchart LR\n", escape(&g.title));
    for n in &g.nodes {
        node(&mut s, "  ", n);
    }
    for c in &g.clusters {
        let _ = writeln!(s, "  subgraph {}[{}]", c.id, label(std::slice::from_ref(&c.title)));
        s.push_str("    direction LR\n");
        for n in &c.nodes {
            node(&mut s, "    ", n);
        }
        s.push_str("  end\n");
    }
    for a in &g.arrows {
        let arrow = match a.line {
            Line::Solid => "-->",
            Line::Dotted | Line::Dashed => "-.->",
            Line::Bold => "==>",
        };
        let _ = writeln!(s, "  {} {arrow}|{}| {}", a.from, label(std::slice::from_ref(&a.label)), a.to);
    }
    s.push_str("  classDef svc fill:#eaf2fb,stroke:#3a6ea5\n  classDef topic fill:#fdf1dc,stroke:#a66300\n");
    s.push_str("  classDef pivot fill:#fff4f2,stroke:#b3261e,stroke-width:3px\n");
    let of = |shapes: &[Shape]| -> Vec<String> {
        g.nodes
            .iter()
            .chain(g.clusters.iter().flat_map(|c| c.nodes.iter()))
            .filter(|n| shapes.contains(&n.shape))
            .map(|n| n.id.clone())
            .collect()
    };
    for (class, shapes) in [
        ("svc", &[Shape::Service, Shape::Database, Shape::Cache, Shape::Broker, Shape::Step][..]),
        ("topic", &[Shape::Topic][..]),
        ("pivot", &[Shape::Pivot][..]),
    ] {
        let ids = of(shapes);
        if !ids.is_empty() {
            let _ = writeln!(s, "  class {} {class}", ids.join(","));
        }
    }
    s
}
