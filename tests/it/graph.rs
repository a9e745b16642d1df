//! `faultline graph` through the binary: a small scenario's DOT and Mermaid exactly,
//! names that would break either syntax escaped, and both formats' shape on every
//! example scenario (DOT: balanced braces and brackets outside strings, every id
//! quoted; Mermaid: the `flowchart` header, balanced subgraphs).

use crate::common::{bin, stderr, stdout, temp_scenario};

const SMALL: &str = r#"{
  "name": "small",
  "duration": "10s",
  "warmup": "1s",
  "services": {
    "api": {"replicas": 2, "concurrency": 8, "endpoints": {
      "get": {"latency": {"constant": "1ms"}, "steps": [
        {"call": "db.read", "policy": "p"},
        {"parallel": [{"call": "db.read", "policy": "p"}, {"call": "recs.top", "optional": true}]},
        {"publish": "events"}
      ]}
    }},
    "db": {"kind": "database", "endpoints": {"read": {"latency": {"constant": "1ms"}}, "undo": {"latency": {"constant": "1ms"}}}},
    "recs": {"endpoints": {"top": {"latency": {"constant": "1ms"}}}}
  },
  "policies": {"p": {"timeout": "100ms", "retry": {"max_attempts": 3}, "circuit_breaker": {}}},
  "topics": {"events": {"partitions": 2, "subscribers": [{"group": "audit", "endpoint": "recs.top"}]}},
  "sagas": {"s": {"orchestrator": "api", "steps": [
    {"name": "one", "action": "db.read", "compensation": "db.undo"},
    {"name": "two", "action": "recs.top", "pivot": true}
  ]}},
  "workload": [
    {"name": "users", "target": "api.get", "arrival": {"poisson": {"rate": 10}}},
    {"name": "orders", "target": "saga:s", "arrival": {"poisson": {"rate": 1}}}
  ]
}"#;

fn graph(path: &std::path::Path, format: &str) -> String {
    let o = bin().arg("graph").arg(path).args(["--format", format]).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    stdout(&o)
}

/// Braces and brackets balanced outside double-quoted strings, and every statement's
/// ids quoted.
fn dot_sane(s: &str) {
    let (mut depth, mut square, mut in_str, mut esc) = (0i32, 0i32, false, false);
    for c in s.chars() {
        if in_str {
            match (esc, c) {
                (true, _) => esc = false,
                (false, '\\') => esc = true,
                (false, '"') => in_str = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_str = true,
            '{' => depth += 1,
            '}' => depth -= 1,
            '[' => square += 1,
            ']' => square -= 1,
            _ => {}
        }
        assert!(depth >= 0 && square >= 0, "unbalanced:\n{s}");
    }
    assert!(depth == 0 && square == 0 && !in_str, "unbalanced:\n{s}");
    assert!(s.starts_with("digraph \""));
    for line in s.lines().map(str::trim) {
        if line.contains("->")
            || line.ends_with("];")
                && !line.starts_with("graph")
                && !line.starts_with("node")
                && !line.starts_with("edge")
        {
            assert!(line.starts_with('"'), "an id not quoted: {line}");
        }
    }
}

fn mermaid_sane(s: &str) {
    let body: Vec<&str> = s.lines().skip_while(|l| !l.starts_with("flowchart")).collect();
    assert_eq!(body.first(), Some(&"flowchart LR"), "{s}");
    let opens = body.iter().filter(|l| l.trim_start().starts_with("subgraph ")).count();
    let ends = body.iter().filter(|l| l.trim() == "end").count();
    assert_eq!(opens, ends);
    for l in &body[1..] {
        assert_eq!(l.matches('"').count() % 2, 0, "unbalanced quotes: {l}");
    }
}

#[test]
fn a_small_scenario_exactly() {
    let path = temp_scenario("graph-small", SMALL);
    let dot = graph(&path, "dot");
    assert_eq!(dot, WANT_DOT, "got:\n{dot}");
    dot_sane(&dot);
    let mm = graph(&path, "mermaid");
    assert_eq!(mm, WANT_MERMAID, "got:\n{mm}");
    mermaid_sane(&mm);
}

/// Read and checked by hand: the workloads as entry points, the services with their
/// endpoints, the call edge carrying both its sites (a plain call and a parallel
/// branch) with the policy in short, the optional branch dotted, the publish and the
/// group dashed, the saga as its steps with the undo and the pivot.
const WANT_DOT: &str = r####"digraph "small · 9 s measured after 1 s warm-up" {
  graph [rankdir=LR, label="small · 9 s measured after 1 s warm-up", labelloc=t, fontname="Helvetica", fontsize=14];
  node [fontname="Helvetica", fontsize=11];
  edge [fontname="Helvetica", fontsize=9];
  "wl_0" [label="users\nPoisson 10/s", shape=oval, style=dashed];
  "wl_1" [label="orders\nPoisson 1/s", shape=oval, style=dashed];
  "svc_0" [label="api\nservice · 2 replicas × 8 workers\n.get", shape=box, style="rounded,filled", fillcolor="#eaf2fb", color="#3a6ea5"];
  "svc_1" [label="db\ndatabase · 1 replica × 1 worker\n.read\n.undo", shape=cylinder, style=filled, fillcolor="#eaf2fb", color="#3a6ea5"];
  "svc_2" [label="recs\nservice · 1 replica × 1 worker\n.top", shape=box, style="rounded,filled", fillcolor="#eaf2fb", color="#3a6ea5"];
  "topic_0" [label="topic events\n2 partitions", shape=cds, style=filled, fillcolor="#fdf1dc", color="#a66300"];
  subgraph "cluster_saga_0" {
    label="saga s (orchestrator api; best-effort compensation; volatile; no policy)"; style=rounded; color="#888888";
    "saga_0_0" [label="1. one\ndo db.read\nundo db.undo", shape=box, style=filled, fillcolor="#eaf2fb", color="#3a6ea5"];
    "saga_0_1" [label="2. two\ndo recs.top\nPIVOT: nothing after it is undone", shape=box, style="filled,bold", penwidth=2.5, fillcolor="#fff4f2", color="#b3261e"];
  }
  "svc_0" -> "svc_1" [label="db.read (p: timeout 100 ms, 3 tries, breaker); db.read (parallel, p: timeout 100 ms, 3 tries, breaker)", style=solid];
  "svc_0" -> "svc_2" [label="recs.top (parallel, optional, no policy)", style=dotted];
  "wl_0" -> "svc_0" [label="api.get (no policy)", style=solid];
  "wl_1" -> "saga_0_0" [label="starts the saga", style=solid];
  "svc_0" -> "topic_0" [label="publish api.get", style=dashed, color="#a66300"];
  "topic_0" -> "svc_2" [label="group audit: recs.top, 1 consumer", style=dashed, color="#a66300"];
  "saga_0_0" -> "svc_1" [label="db.read", style=solid];
  "saga_0_0" -> "svc_1" [label="undo db.undo", style=dashed, color="#a66300"];
  "saga_0_0" -> "saga_0_1" [label="then", style=bold];
  "saga_0_1" -> "svc_2" [label="recs.top", style=solid];
}
"####;

const WANT_MERMAID: &str = r####"---
title: "small · 9 s measured after 1 s warm-up"
---
flowchart LR
  wl_0(["users<br/>Poisson 10/s"])
  wl_1(["orders<br/>Poisson 1/s"])
  svc_0["api<br/>service · 2 replicas × 8 workers<br/>.get"]
  svc_1[("db<br/>database · 1 replica × 1 worker<br/>.read<br/>.undo")]
  svc_2["recs<br/>service · 1 replica × 1 worker<br/>.top"]
  topic_0[/"topic events<br/>2 partitions"/]
  subgraph saga_0["saga s (orchestrator api; best-effort compensation; volatile; no policy)"]
    direction LR
    saga_0_0["1. one<br/>do db.read<br/>undo db.undo"]
    saga_0_1["2. two<br/>do recs.top<br/>PIVOT: nothing after it is undone"]
  end
  svc_0 -->|"db.read (p: timeout 100 ms, 3 tries, breaker); db.read (parallel, p: timeout 100 ms, 3 tries, breaker)"| svc_1
  svc_0 -.->|"recs.top (parallel, optional, no policy)"| svc_2
  wl_0 -->|"api.get (no policy)"| svc_0
  wl_1 -->|"starts the saga"| saga_0_0
  svc_0 -.->|"publish api.get"| topic_0
  topic_0 -.->|"group audit: recs.top, 1 consumer"| svc_2
  saga_0_0 -->|"db.read"| svc_1
  saga_0_0 -.->|"undo db.undo"| svc_1
  saga_0_0 ==>|"then"| saga_0_1
  saga_0_1 -->|"recs.top"| svc_2
  classDef svc fill:#eaf2fb,stroke:#3a6ea5
  classDef topic fill:#fdf1dc,stroke:#a66300
  classDef pivot fill:#fff4f2,stroke:#b3261e,stroke-width:3px
  class svc_0,svc_1,svc_2,saga_0_0 svc
  class topic_0 topic
  class saga_0_1 pivot
"####;

#[test]
fn names_that_would_break_the_syntax_are_escaped() {
    let text = SMALL.replace(r#""name": "small""#, r#""name": "sm\"all} <b>#1|x""#);
    let path = temp_scenario("graph-names", &text);
    let dot = graph(&path, "dot");
    assert!(dot.starts_with(r#"digraph "sm\"all} <b>#1|x · 9"#), "{dot}");
    dot_sane(&dot);
    let mm = graph(&path, "mermaid");
    assert!(mm.contains("title: \"sm#quot;all} #lt;b#gt;#35;1#124;x · 9"), "{mm}");
    mermaid_sane(&mm);
}

#[test]
fn every_example_in_both_formats() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios");
    let mut files: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    for f in files.iter().filter(|p| p.extension().is_some_and(|e| e == "json")) {
        dot_sane(&graph(f, "dot"));
        mermaid_sane(&graph(f, "mermaid"));
    }
    let o = bin().args(["graph", "/nonexistent.json", "--format", "dot"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
}

/// An autoscaled service is drawn with its autoscaler's bounds, not its slot count
/// (`max_replicas`), in the graph and in the run page's topology.
#[test]
fn an_autoscaled_service_reads_as_its_bounds() {
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/flash-sale.json");
    let m = graph(&file, "mermaid");
    assert!(m.contains("service · 3–12 replicas (autoscaled) × 4 workers"), "{m}");
    let text = std::fs::read_to_string(&file).unwrap();
    let spec = faultline::scenario::load_str(&text, "flash-sale", &Default::default()).unwrap();
    let svg = faultline::html::topology_svg(&spec);
    assert!(svg.contains("3–12 × 4 workers · service, autoscaled"), "{svg}");
}
