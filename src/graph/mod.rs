//! `faultline graph`: the scenario's topology as Graphviz DOT or a Mermaid flowchart,
//! for docs and wikis. One neutral description ([`Graph`], built here from the resolved
//! scenario, in file order) is written by [`dot`] and [`mermaid`], each escaping names
//! its own way; node ids are generated (`svc_0`, `topic_1`, `saga_0_2`), never a name,
//! so no name can break the syntax.
//!
//! What is drawn: each workload as an entry point (its arrival and client policy on its
//! arrow); each service with its kind, replicas, workers and endpoints; one arrow per
//! call edge (caller service → callee service) labelled with the endpoint, how it is
//! called (`parallel`, `optional`, `route 10%`) and its policy in short (the topology
//! drawing's wording: `internal: timeout 300 ms, 3 tries, breaker, bulkhead`); each
//! topic with a dashed arrow from every publisher (`publish` or `outbox`) and to every
//! consumer group's handler; each work queue with a dashed arrow from every sender and
//! to every consumer pool; a cache step's read, `on_miss` calls and populate as call
//! edges saying which they are; each saga as its ordered steps in a box (the pivot and
//! the retriable steps marked, each step's compensation named, the action and undo
//! calls as arrows to the services).

pub mod dot;
pub mod mermaid;

use crate::html::words::{dur, policy_short};
use crate::scenario::{self, LoadOptions};
use crate::spec::{Arrival, CompensationPolicy, ServiceKind, Spec, Step};
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

/// `faultline graph`'s arguments.
#[derive(clap::Args, Debug)]
pub struct GraphArgs {
    /// The scenario file (JSON).
    pub scenario: PathBuf,
    /// `dot` (Graphviz) or `mermaid`.
    #[arg(long, value_enum)]
    pub format: Format,
    /// Apply the overrides of this variant (from the scenario's `variants`).
    #[arg(long)]
    pub variant: Option<String>,
    /// Override one value by JSON Pointer (as for `run`).
    #[arg(long = "set", value_name = "PTR=VALUE")]
    pub sets: Vec<String>,
    /// Write to this file instead of standard output (replaced if it exists).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Dot,
    Mermaid,
}

/// The shape a node is drawn as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    Workload,
    Service,
    Database,
    Cache,
    Broker,
    Topic,
    Step,
    Pivot,
}

/// How an arrow is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Line {
    /// A required synchronous call, a workload's requests.
    Solid,
    /// An optional branch (its failure degrades the response).
    Dotted,
    /// Asynchronous: a publish, a delivery, a compensation.
    Dashed,
    /// The order of a saga's steps.
    Bold,
}

#[derive(Clone, Debug)]
pub struct Node {
    pub id: String,
    /// Lines of text (names as written in the scenario; each format escapes them).
    pub lines: Vec<String>,
    pub shape: Shape,
}

#[derive(Clone, Debug)]
pub struct Arrow {
    pub from: String,
    pub to: String,
    pub label: String,
    pub line: Line,
}

/// A saga: its title and its steps' nodes, in order.
#[derive(Clone, Debug)]
pub struct Cluster {
    pub id: String,
    pub title: String,
    pub nodes: Vec<Node>,
}

#[derive(Clone, Debug)]
pub struct Graph {
    pub title: String,
    pub nodes: Vec<Node>,
    pub clusters: Vec<Cluster>,
    pub arrows: Vec<Arrow>,
}

fn rate(r: f64) -> String {
    if r.fract() == 0.0 { format!("{r:.0}") } else { format!("{r:.2}") }
}

fn kind(k: ServiceKind) -> (&'static str, Shape) {
    match k {
        ServiceKind::Service => ("service", Shape::Service),
        ServiceKind::Database => ("database", Shape::Database),
        ServiceKind::Cache => ("cache", Shape::Cache),
        ServiceKind::Broker => ("broker", Shape::Broker),
    }
}

fn plural(n: u32) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn pct(p: f64) -> String {
    let v = p * 100.0;
    if (v - v.round()).abs() < 1e-9 { format!("{v:.0}%") } else { format!("{v:.1}%") }
}

impl Graph {
    /// The graph of a resolved scenario.
    pub fn of(spec: &Spec) -> Graph {
        let svc = |s: u32| format!("svc_{s}");
        let ep_short = |e: u32| spec.endpoints.get(e as usize).map(|x| x.name.clone()).unwrap_or_default();
        let policy = |p: Option<u32>| match p.and_then(|p| spec.policies.get(p as usize)) {
            Some(p) => policy_short(p),
            None => "no policy".into(),
        };
        let mut nodes = Vec::new();
        let mut arrows = Vec::new();
        let mut clusters = Vec::new();
        for (i, w) in spec.workloads.iter().enumerate() {
            let arrival = match &w.arrival {
                Arrival::Poisson { rate_per_s } => format!("Poisson {}/s", rate(*rate_per_s)),
                Arrival::Constant { rate_per_s } => format!("constant {}/s", rate(*rate_per_s)),
                Arrival::Closed { users, .. } => format!("closed loop, {users} users"),
            };
            nodes.push(Node {
                id: format!("wl_{i}"),
                lines: vec![w.name.clone(), arrival],
                shape: Shape::Workload,
            });
        }
        for (i, s) in spec.services.iter().enumerate() {
            let (k, shape) = kind(s.kind);
            let replicas = match &s.autoscale {
                Some(a) => format!("{}–{} replicas (autoscaled)", a.params.min, a.params.max),
                None => format!("{} replica{}", s.replicas, plural(s.replicas)),
            };
            let mut lines = vec![
                s.name.clone(),
                format!("{k} · {replicas} × {} worker{}", s.concurrency, plural(s.concurrency)),
            ];
            for &e in &s.endpoints {
                let name = ep_short(e);
                let short = name.strip_prefix(&format!("{}.", s.name)).unwrap_or(&name).to_string();
                lines.push(format!(".{short}"));
            }
            nodes.push(Node { id: svc(i as u32), lines, shape });
        }
        for (i, t) in spec.topics.iter().enumerate() {
            nodes.push(Node {
                id: format!("topic_{i}"),
                lines: vec![format!("topic {}", t.name), format!("{} partitions", t.partitions)],
                shape: Shape::Topic,
            });
        }
        for (i, q) in spec.queues.iter().enumerate() {
            let mut second = match q.visibility_timeout_ns {
                Some(v) => format!("visibility {}", dur(v)),
                None => "requeue at once".to_string(),
            };
            if let Some(k) = q.max_receive_count {
                second.push_str(&format!(
                    ", {} after {k} receives",
                    if q.dead_letter { "dead-letter" } else { "drop" }
                ));
            }
            nodes.push(Node {
                id: format!("queue_{i}"),
                lines: vec![format!("queue {}", q.name), second],
                shape: Shape::Topic,
            });
        }
        // Call edges: per edge, how each site calls it, in step order.
        let mut tags: Vec<Vec<String>> = vec![Vec::new(); spec.edges.len()];
        let mut lines: Vec<Line> = vec![Line::Solid; spec.edges.len()];
        let mut optional_only: Vec<bool> = vec![true; spec.edges.len()];
        let mut used: Vec<bool> = vec![false; spec.edges.len()];
        for e in &spec.endpoints {
            for (site, first) in call_sites(spec, &e.steps) {
                {
                    let mut prev = 0.0;
                    for t in &site.targets {
                        let mut how = Vec::new();
                        if let Some(f) = &first {
                            how.push(f.clone());
                        }
                        if site.optional {
                            how.push("optional".into());
                        }
                        if site.targets.len() > 1 {
                            how.push(format!("route {}", pct(t.cum_weight - prev)));
                        }
                        prev = t.cum_weight;
                        how.push(policy(site.policy));
                        let text = format!("{} ({})", ep_short(t.endpoint), how.join(", "));
                        let k = t.edge as usize;
                        if !tags[k].contains(&text) {
                            tags[k].push(text);
                        }
                        used[k] = true;
                        optional_only[k] &= site.optional;
                    }
                }
            }
        }
        for (k, e) in spec.edges.iter().enumerate() {
            let (Some(caller), true) = (e.caller, used[k]) else { continue };
            if optional_only[k] {
                lines[k] = Line::Dotted;
            }
            let to = spec.endpoints.get(e.target as usize).map(|x| x.service).unwrap_or(0);
            arrows.push(Arrow { from: svc(caller), to: svc(to), label: tags[k].join("; "), line: lines[k] });
        }
        for (i, w) in spec.workloads.iter().enumerate() {
            match w.saga.and_then(|s| spec.sagas.get(s as usize)) {
                Some(_) => arrows.push(Arrow {
                    from: format!("wl_{i}"),
                    to: format!("saga_{}_0", w.saga.unwrap_or(0)),
                    label: "starts the saga".into(),
                    line: Line::Solid,
                }),
                None => {
                    let to = spec.endpoints.get(w.target as usize).map(|x| x.service).unwrap_or(0);
                    arrows.push(Arrow {
                        from: format!("wl_{i}"),
                        to: svc(to),
                        label: format!("{} ({})", ep_short(w.target), policy(w.policy)),
                        line: Line::Solid,
                    });
                }
            }
        }
        // Work queues: senders, then consumer pools.
        for (q, queue) in spec.queues.iter().enumerate() {
            for e in &spec.endpoints {
                for step in crate::spec::flat_steps(&e.steps) {
                    if let Step::Enqueue { queue: pq, outbox } = step
                        && *pq as usize == q
                    {
                        let label = format!("{} {}", if *outbox { "outbox" } else { "enqueue" }, e.name);
                        if !arrows.iter().any(|a| a.to == format!("queue_{q}") && a.label == label) {
                            arrows.push(Arrow {
                                from: svc(e.service),
                                to: format!("queue_{q}"),
                                label,
                                line: Line::Dashed,
                            });
                        }
                    }
                }
            }
            for c in &queue.consumers {
                let to = spec.endpoints.get(c.endpoint as usize).map(|x| x.service).unwrap_or(0);
                arrows.push(Arrow {
                    from: format!("queue_{q}"),
                    to: svc(to),
                    label: format!(
                        "{}: {} consumer{} per replica, prefetch {}",
                        ep_short(c.endpoint),
                        c.per_replica,
                        plural(c.per_replica),
                        c.prefetch
                    ),
                    line: Line::Dashed,
                });
            }
        }
        // Topics: publishers, then groups.
        for (t, topic) in spec.topics.iter().enumerate() {
            for e in &spec.endpoints {
                for step in crate::spec::flat_steps(&e.steps) {
                    if let Step::Publish { topic: pt, outbox } = step
                        && *pt as usize == t
                    {
                        let label = format!("{} {}", if *outbox { "outbox" } else { "publish" }, e.name);
                        if !arrows.iter().any(|a| a.to == format!("topic_{t}") && a.label == label) {
                            arrows.push(Arrow {
                                from: svc(e.service),
                                to: format!("topic_{t}"),
                                label,
                                line: Line::Dashed,
                            });
                        }
                    }
                }
            }
            for g in &topic.groups {
                let to = spec.endpoints.get(g.endpoint as usize).map(|x| x.service).unwrap_or(0);
                arrows.push(Arrow {
                    from: format!("topic_{t}"),
                    to: svc(to),
                    label: format!(
                        "group {}: {}, {} consumer{}",
                        g.name,
                        ep_short(g.endpoint),
                        g.consumers,
                        plural(g.consumers)
                    ),
                    line: Line::Dashed,
                });
            }
        }
        for (i, sg) in spec.sagas.iter().enumerate() {
            let orch = spec.services.get(sg.orchestrator as usize).map(|s| s.name.as_str()).unwrap_or("?");
            let comp = match sg.compensation_policy {
                CompensationPolicy::BestEffort => "best-effort compensation",
                CompensationPolicy::Persistent => "persistent compensation",
            };
            let title = format!(
                "saga {} (orchestrator {orch}; {comp}; {}; {})",
                sg.name,
                if sg.durable { "durable" } else { "volatile" },
                policy(sg.policy)
            );
            let mut steps = Vec::new();
            for (k, st) in sg.steps.iter().enumerate() {
                let id = format!("saga_{i}_{k}");
                let mut l = vec![format!("{}. {}", k + 1, st.name), format!("do {}", ep_short(st.action))];
                match st.compensation {
                    Some(c) => l.push(format!("undo {}", ep_short(c))),
                    None if st.pivot || st.retriable => {}
                    None => l.push("no compensation".into()),
                }
                if st.pivot {
                    l.push("PIVOT: nothing after it is undone".into());
                } else if st.retriable {
                    l.push("retriable".into());
                }
                steps.push(Node {
                    id: id.clone(),
                    lines: l,
                    shape: if st.pivot { Shape::Pivot } else { Shape::Step },
                });
                if k > 0 {
                    arrows.push(Arrow {
                        from: format!("saga_{i}_{}", k - 1),
                        to: id.clone(),
                        label: "then".into(),
                        line: Line::Bold,
                    });
                }
                let to = spec.endpoints.get(st.action as usize).map(|x| x.service).unwrap_or(0);
                arrows.push(Arrow {
                    from: id.clone(),
                    to: svc(to),
                    label: ep_short(st.action),
                    line: Line::Solid,
                });
                if let Some(c) = st.compensation {
                    let to = spec.endpoints.get(c as usize).map(|x| x.service).unwrap_or(0);
                    arrows.push(Arrow {
                        from: id.clone(),
                        to: svc(to),
                        label: format!("undo {}", ep_short(c)),
                        line: Line::Dashed,
                    });
                }
            }
            clusters.push(Cluster { id: format!("saga_{i}"), title, nodes: steps });
        }
        let title = format!(
            "{}{} · {} measured after {} warm-up",
            spec.name,
            spec.variant.as_ref().map(|v| format!(" [{v}]")).unwrap_or_default(),
            dur(spec.duration_ns.saturating_sub(spec.warmup_ns)),
            dur(spec.warmup_ns)
        );
        Graph { title, nodes, clusters, arrows }
    }
}

/// The graph of `spec` in `format`.
pub fn render(spec: &Spec, format: Format) -> String {
    let g = Graph::of(spec);
    match format {
        Format::Dot => dot::write(&g),
        Format::Mermaid => mermaid::write(&g),
    }
}

/// `faultline graph`: exit 0 with the graph written, 2 on bad input, 1 when the output
/// cannot be written.
pub fn main(args: GraphArgs) -> ExitCode {
    let note = |m: &str| {
        let _ = writeln!(std::io::stderr(), "{m}");
    };
    let label = args.scenario.display().to_string();
    let text = match std::fs::read(&args.scenario) {
        Ok(b) => scenario::text_of(b, &label).map_err(|e| e.to_string()),
        Err(e) => Err(format!("{label}: cannot read the scenario file: {e}")),
    };
    let spec = text.and_then(|t| {
        scenario::check_str(&t, &label).map_err(|e| e.to_string())?;
        let opts = LoadOptions { variant: args.variant.clone(), sets: args.sets.clone(), seed: None };
        scenario::load_str(&t, &label, &opts).map_err(|e| e.to_string())
    });
    let spec = match spec {
        Ok(s) => s,
        Err(e) => {
            note(&e);
            return ExitCode::from(2);
        }
    };
    if let Some(p) = &args.out
        && let (Ok(a), Ok(b)) = (p.canonicalize(), args.scenario.canonicalize())
        && a == b
    {
        note(&format!("--out {}: that is the scenario file; give another file", p.display()));
        return ExitCode::from(2);
    }
    let out = render(&spec, args.format);
    let written = match &args.out {
        Some(p) => {
            std::fs::write(p, out.as_bytes()).map_err(|e| format!("cannot write {}: {e}", p.display()))
        }
        None => {
            let mut o = std::io::stdout().lock();
            o.write_all(out.as_bytes())
                .and_then(|_| o.flush())
                .map_err(|e| format!("cannot write to standard output: {e}"))
        }
    };
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            note(&format!("error: {e}"));
            ExitCode::from(1)
        }
    }
}

/// Every call site of an endpoint's steps, in program order, each with how its step
/// calls it first (`parallel`; a cache step's `cache read, hit 90%`, `on miss`,
/// `populate`).
fn call_sites<'s>(spec: &'s Spec, steps: &'s [Step]) -> Vec<(&'s crate::spec::CallSite, Option<String>)> {
    let mut out = Vec::new();
    for step in steps {
        match step {
            Step::Call(c) => out.push((c, None)),
            Step::Parallel(cs) => out.extend(cs.iter().map(|c| (c, Some("parallel".to_string())))),
            Step::Cache { cache, on_miss } => {
                let c = &spec.caches[*cache as usize];
                out.push((&c.get, Some(format!("cache read, hit {}", pct(c.hit_p)))));
                out.extend(call_sites(spec, on_miss).into_iter().map(|(site, how)| {
                    (site, Some(how.map_or("on miss".to_string(), |h| format!("on miss, {h}"))))
                }));
                if let Some(p) = &c.populate {
                    out.push((p, Some("populate".to_string())));
                }
            }
            Step::Work(_) | Step::Publish { .. } | Step::Enqueue { .. } => {}
        }
    }
    out
}
