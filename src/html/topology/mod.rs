//! The topology drawing (`topology.svg`): workload clients, services, topics and work
//! queues in ranks top to bottom by depth, as Graphviz's dot draws a graph (Sugiyama's
//! method): cycles broken, longest-path ranks, each arrow's label a member of the rank
//! after its upper end, a bend point on each rank an arrow passes, barycentre sweeps
//! with transposition against crossings, then coordinates pulling each member towards
//! its neighbours. A rank wider than a page column is dealt into sub-rows, so the
//! drawing is never wider than [`layout::MAX_W`] and its text keeps its size (at least
//! 11 px) instead of the drawing shrinking to fit. Arrows run in the gaps between ranks
//! and beside the boxes and labels of the ranks they pass, never through them.
//! `rank.rs` ranks, `order.rs` orders, `place.rs` sets each member's `x`, `layout.rs`
//! the rest of the geometry, `draw.rs` writes the SVG,
//! `legend.rs` the legend under it (naming topics and queues as what they are).
//! *Invariant*: a pure function of the spec (same spec, same bytes); every name escaped.

mod draw;
mod layout;
mod legend;
mod order;
mod place;
mod rank;
#[cfg(test)]
mod tests;

pub use legend::legend;

use draw::draw;

use super::words::policy_short;
use crate::spec::{Arrival, ServiceKind, Spec, Step};
use std::fmt::Write as _;

/// A box of the drawing: a workload's client, a service, a topic or a work queue.
#[derive(Clone, Debug)]
struct Node {
    lines: Vec<String>,
    kind: NodeKind,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum NodeKind {
    Client,
    Service,
    /// A topic or a work queue: a pill rather than a box.
    Topic,
}

#[derive(Clone, Debug)]
struct Arrow {
    from: usize,
    to: usize,
    /// One or two lines (`\n` between).
    label: String,
    optional: bool,
    /// A message (a publish, or a delivery to a consumer group) rather than a call:
    /// dashed, in the topics' colour.
    message: bool,
}

const T_FONT: f64 = 13.0;
/// Colour of topics and of the arrows of messages.
const MSG: &str = "#a66300";
const T_SMALL: f64 = 11.5;
const T_CHAR: f64 = 7.4;
const T_SMALL_CHAR: f64 = 6.4;

fn kind_name(k: ServiceKind) -> &'static str {
    match k {
        ServiceKind::Service => "service",
        ServiceKind::Database => "database",
        ServiceKind::Cache => "cache",
        ServiceKind::Broker => "broker",
    }
}

fn rate(r: f64) -> String {
    super::num::rate(r)
}

/// The policy names used on each edge, and whether it is an optional branch.
fn edge_labels(spec: &Spec) -> Vec<(Vec<String>, bool)> {
    let mut out: Vec<(Vec<String>, bool)> = vec![(Vec::new(), false); spec.edges.len()];
    let mut add = |edge: u32, policy: Option<u32>, optional: bool| {
        if let Some(slot) = out.get_mut(edge as usize) {
            let name = match policy.and_then(|p| spec.policies.get(p as usize)) {
                Some(p) => policy_short(p),
                None => "no policy".into(),
            };
            if !slot.0.contains(&name) {
                slot.0.push(name);
            }
            slot.1 |= optional;
        }
    };
    for e in &spec.endpoints {
        for step in &e.steps {
            let sites = spec.step_sites(step);
            for site in sites {
                for t in &site.targets {
                    add(t.edge, site.policy, site.optional);
                }
            }
        }
    }
    for w in &spec.workloads {
        if w.saga.is_none() {
            add(w.edge, w.policy, false);
        }
    }
    // A saga step with a policy of its own (the saga's is on the saga's start arrow).
    for sg in &spec.sagas {
        for st in &sg.steps {
            if st.action_policy != sg.policy {
                add(st.action_edge, st.action_policy, false);
            }
            if let Some(e) = st.compensation_edge
                && st.comp_policy != sg.policy
            {
                add(e, st.comp_policy, false);
            }
        }
    }
    out
}

/// The sagas whose orchestrator makes its calls on each edge: `saga NAME`, or
/// `saga NAME (compensation)` for an edge that only compensates.
fn saga_edge_tags(spec: &Spec) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = vec![Vec::new(); spec.edges.len()];
    for sg in &spec.sagas {
        let mut mark = |edge: u32, compensation: bool| {
            let Some(slot) = out.get_mut(edge as usize) else { return };
            let (plain, comp) = (format!("saga {}", sg.name), format!("saga {}, undo", sg.name));
            if compensation {
                if !slot.contains(&plain) && !slot.contains(&comp) {
                    slot.push(comp);
                }
            } else if let Some(k) = slot.iter().position(|t| *t == comp) {
                slot[k] = plain;
            } else if !slot.contains(&plain) {
                slot.push(plain);
            }
        };
        for st in &sg.steps {
            mark(st.action_edge, false);
        }
        for st in &sg.steps {
            if let Some(e) = st.compensation_edge {
                mark(e, true);
            }
        }
    }
    out
}

/// Per topic, the services with an endpoint that publishes to it, each with the arrow's
/// label: `publish`, `outbox`, or both.
fn publishers(spec: &Spec) -> Vec<Vec<(usize, String)>> {
    let mut out: Vec<Vec<(usize, [bool; 2])>> = vec![Vec::new(); spec.topics.len()];
    for e in &spec.endpoints {
        for step in &e.steps {
            let Step::Publish { topic, outbox } = step else { continue };
            let Some(list) = out.get_mut(*topic as usize) else { continue };
            let svc = e.service as usize;
            let k = match list.iter().position(|(s, _)| *s == svc) {
                Some(k) => k,
                None => {
                    list.push((svc, [false; 2]));
                    list.len() - 1
                }
            };
            list[k].1[*outbox as usize] = true;
        }
    }
    out.into_iter()
        .map(|list| {
            let mut list: Vec<(usize, String)> = list
                .into_iter()
                .map(|(s, [direct, outbox])| {
                    let label = match (direct, outbox) {
                        (true, true) => "publish, outbox",
                        (false, true) => "outbox",
                        _ => "publish",
                    };
                    (s, label.to_string())
                })
                .collect();
            list.sort_by_key(|(s, _)| *s);
            list
        })
        .collect()
}

/// The topology as an SVG: workload clients at the top, services, topics and queues
/// ranked below by depth (the longest chain of calls, publishes and deliveries that
/// reaches them), one arrow per call edge labelled with the target endpoint and its
/// policy (and the saga, for a saga orchestrator's calls), a dashed arrow from each
/// publishing service to its topic (`publish` or `outbox`) and from each topic to the
/// handler of each consumer group (the group's name); work queues likewise (`enqueue` or
/// `outbox` in, consumers per replica and prefetch out). A saga workload's client points
/// at the saga's orchestrator. An arrow that closes a cycle runs upwards; a service's
/// calls to itself are loops on its right.
pub fn topology_svg(spec: &Spec) -> String {
    let (nodes, arrows) = graph(spec);
    let geo = layout::layout(&nodes, &arrows);
    draw(&spec.name, &nodes, &arrows, &geo)
}

/// The boxes and arrows: a client per workload, a box per service, a pill per topic and
/// work queue, and an arrow per call edge, saga start, publish, enqueue and delivery
/// (the layers and the drawing's geometry are `rank.rs`'s and `layout.rs`'s).
fn graph(spec: &Spec) -> (Vec<Node>, Vec<Arrow>) {
    let n_wl = spec.workloads.len();
    let n_svc = spec.services.len();
    let n_topic = spec.topics.len();
    let svc_node = |s: usize| n_wl + s;
    let topic_node = |t: usize| n_wl + n_svc + t;
    // Work queues come after the topics, drawn as topics are (issue 13).
    let queue_node = |q: usize| n_wl + n_svc + n_topic + q;
    let senders = enqueuers(spec);
    let target_svc =
        |ep: u32| spec.endpoints.get(ep as usize).map(|e| e.service as usize).filter(|s| *s < n_svc);
    let pubs = publishers(spec);

    let mut nodes: Vec<Node> = Vec::new();
    for w in &spec.workloads {
        let arrival = match &w.arrival {
            Arrival::Poisson { rate_per_s } => format!("Poisson {}/s", rate(*rate_per_s)),
            Arrival::Constant { rate_per_s } => format!("constant {}/s", rate(*rate_per_s)),
            Arrival::Closed { users, .. } => format!("closed loop, {users} users"),
        };
        let sched = if w.schedule.is_empty() { String::new() } else { " (scheduled)".into() };
        nodes.push(Node {
            lines: vec![format!("client: {}", w.name), format!("{arrival}{sched}")],
            kind: NodeKind::Client,
        });
    }
    for s in &spec.services {
        nodes.push(Node {
            lines: vec![
                s.name.clone(),
                match &s.autoscale {
                    // The slots are `max_replicas`; the autoscaler moves between its bounds.
                    Some(a) => format!(
                        "{}–{} × {} workers · {}, autoscaled",
                        a.params.min,
                        a.params.max,
                        s.concurrency,
                        kind_name(s.kind)
                    ),
                    None => format!("{} × {} workers · {}", s.replicas, s.concurrency, kind_name(s.kind)),
                },
            ],
            kind: NodeKind::Service,
        });
    }
    for topic in &spec.topics {
        let p = topic.partitions;
        nodes.push(Node {
            lines: vec![
                topic.name.clone(),
                format!("topic · {p} partition{}", if p == 1 { "" } else { "s" }),
            ],
            kind: NodeKind::Topic,
        });
    }
    for queue in &spec.queues {
        let vt = match queue.visibility_timeout_ns {
            Some(v) => format!("visibility {}", crate::scenario::duration::format_ns(v)),
            None => "acks".to_string(),
        };
        nodes.push(Node { lines: vec![queue.name.clone(), format!("queue · {vt}")], kind: NodeKind::Topic });
    }

    let labels = edge_labels(spec);
    let saga_tags = saga_edge_tags(spec);
    let mut arrows: Vec<Arrow> = Vec::new();
    let mut connect = |from: usize, to: usize, label: String, optional, message| {
        arrows.push(Arrow { from, to, label, optional, message });
    };
    // A saga workload's client points at the orchestrator, whatever its edge names.
    let saga_start = |w: usize| {
        let sg = spec.workloads.get(w)?.saga.and_then(|s| spec.sagas.get(s as usize))?;
        let o = sg.orchestrator as usize;
        let policy = sg.policy.and_then(|p| spec.policies.get(p as usize)).map(policy_short);
        let label = format!("saga {}\n{}", sg.name, policy.unwrap_or_else(|| "no policy".into()));
        if o < n_svc { Some((svc_node(o), label)) } else { None }
    };
    let mut saga_drawn = vec![false; n_wl];
    for (i, e) in spec.edges.iter().enumerate() {
        let from = match e.caller {
            Some(c) if (c as usize) < n_svc => svc_node(c as usize),
            Some(_) => continue,
            None => match spec.workloads.iter().position(|w| w.edge as usize == i) {
                Some(w) if spec.workloads[w].saga.is_some() => {
                    if let Some((to, label)) = saga_start(w)
                        && !saga_drawn[w]
                    {
                        saga_drawn[w] = true;
                        connect(w, to, label, false, false);
                    }
                    continue;
                }
                Some(w) => w,
                None => continue,
            },
        };
        let Some(t) = target_svc(e.target) else { continue };
        let to = svc_node(t);
        let ep = spec.endpoints[e.target as usize].name.as_str();
        let ep_short = ep.strip_prefix(&format!("{}.", spec.services[t].name)).unwrap_or(ep).to_string();
        let (policies, optional) = labels.get(i).cloned().unwrap_or_default();
        // A saga's calls name the saga (its policy is on the arrow that starts it).
        let tags = saga_tags.get(i).filter(|t| !t.is_empty());
        // Two lines: the endpoint (optional or not), then the policy in short or the saga.
        let mut label = ep_short;
        if optional {
            label.push_str(" (optional)");
        }
        let second = match (policies.is_empty(), tags) {
            (_, Some(tags)) => tags.join("; "),
            (true, None) => "no policy".into(),
            (false, None) => policies.join("; "),
        };
        let _ = write!(label, "\n{second}");
        connect(from, to, label, optional, false);
    }
    for (w, drawn) in saga_drawn.iter().enumerate() {
        if !drawn && let Some((to, label)) = saga_start(w) {
            connect(w, to, label, false, false);
        }
    }
    for (t, list) in pubs.iter().enumerate() {
        for (svc, label) in list.iter().filter(|(s, _)| *s < n_svc) {
            connect(svc_node(*svc), topic_node(t), label.clone(), false, true);
        }
    }
    for (t, topic) in spec.topics.iter().enumerate() {
        for g in &topic.groups {
            if let Some(h) = target_svc(g.endpoint) {
                connect(topic_node(t), svc_node(h), g.name.clone(), false, true);
            }
        }
    }
    for (q, list) in senders.iter().enumerate() {
        for (svc, label) in list.iter().filter(|(s, _)| *s < n_svc) {
            connect(svc_node(*svc), queue_node(q), label.clone(), false, true);
        }
    }
    for (q, queue) in spec.queues.iter().enumerate() {
        for c in &queue.consumers {
            if let Some(h) = target_svc(c.endpoint) {
                let label = format!("{} consumers/replica\nprefetch {}", c.per_replica, c.prefetch);
                connect(queue_node(q), svc_node(h), label, false, true);
            }
        }
    }
    (nodes, arrows)
}

/// Per work queue, the services with an endpoint that enqueues to it, each with the
/// arrow's label: `enqueue`, `outbox`, or both.
fn enqueuers(spec: &Spec) -> Vec<Vec<(usize, String)>> {
    let mut out: Vec<Vec<(usize, [bool; 2])>> = vec![Vec::new(); spec.queues.len()];
    for e in &spec.endpoints {
        for step in &e.steps {
            let Step::Enqueue { queue, outbox } = step else { continue };
            let Some(list) = out.get_mut(*queue as usize) else { continue };
            let svc = e.service as usize;
            match list.iter_mut().find(|(s, _)| *s == svc) {
                Some((_, seen)) => seen[*outbox as usize] = true,
                None => {
                    let mut seen = [false; 2];
                    seen[*outbox as usize] = true;
                    list.push((svc, seen));
                }
            }
        }
    }
    out.into_iter()
        .map(|mut list| {
            list.sort_by_key(|(s, _)| *s);
            let label = |[direct, outbox]: [bool; 2]| match (direct, outbox) {
                (true, true) => "enqueue, outbox",
                (false, true) => "outbox",
                _ => "enqueue",
            };
            list.into_iter().map(|(s, seen)| (s, label(seen).to_string())).collect()
        })
        .collect()
}
