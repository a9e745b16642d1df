//! The topology drawing (`topology.svg`): workload clients, services and topics layered
//! left to right by depth (Sugiyama's method: layering, bend points for edges that skip
//! layers, barycentre ordering), an arrow per call edge, publish and delivery.
//! *Invariant*: a pure function of the spec; every name escaped.

use super::escape;
use crate::spec::{Arrival, ServiceKind, Spec, Step};
use std::fmt::Write as _;

/// A box of the drawing: a workload's client or a service, or a bend point of an edge
/// that skips layers (a "dummy" in Sugiyama's method, so that long edges run between
/// boxes rather than through them).
#[derive(Clone, Debug)]
struct Node {
    lines: Vec<String>,
    kind: NodeKind,
    layer: usize,
    /// Position within its layer (after ordering) and pixel geometry.
    y: f64,
    h: f64,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum NodeKind {
    Client,
    Service,
    /// A topic: a pill rather than a box.
    Topic,
    Dummy,
}

#[derive(Clone, Debug)]
struct Arrow {
    /// Nodes from the source to the target, dummies between.
    path: Vec<usize>,
    label: String,
    optional: bool,
    /// A message (a publish, or a delivery to a consumer group) rather than a call:
    /// dashed, in the topics' colour.
    message: bool,
    /// Goes to the same or an earlier layer (a cycle): drawn as an arc under the boxes.
    back: bool,
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
    if r.fract() == 0.0 { format!("{r:.0}") } else { format!("{r:.2}") }
}

/// The policy names used on each edge, and whether it is an optional branch.
fn edge_labels(spec: &Spec) -> Vec<(Vec<String>, bool)> {
    let mut out: Vec<(Vec<String>, bool)> = vec![(Vec::new(), false); spec.edges.len()];
    let mut add = |edge: u32, policy: Option<u32>, optional: bool| {
        if let Some(slot) = out.get_mut(edge as usize) {
            let name = match policy.and_then(|p| spec.policies.get(p as usize)) {
                Some(p) => p.name.clone(),
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
            let sites = match step {
                Step::Call(c) => std::slice::from_ref(c),
                Step::Parallel(cs) => cs.as_slice(),
                Step::Work(_) | Step::Publish { .. } => &[],
            };
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
    out
}

/// The sagas whose orchestrator makes its calls on each edge: `saga NAME`, or
/// `saga NAME (compensation)` for an edge that only compensates.
fn saga_edge_tags(spec: &Spec) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = vec![Vec::new(); spec.edges.len()];
    for sg in &spec.sagas {
        let mut mark = |edge: u32, compensation: bool| {
            let Some(slot) = out.get_mut(edge as usize) else { return };
            let (plain, comp) = (format!("saga {}", sg.name), format!("saga {} (compensation)", sg.name));
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

/// The topology as an SVG: workload clients on the far left, services and topics
/// layered left to right by depth (the longest chain of calls, publishes and deliveries
/// that reaches them), one arrow per call edge labelled with the target endpoint and its
/// policy (and the saga, for a saga orchestrator's calls), a dashed arrow from each
/// publishing service to its topic (`publish` or `outbox`) and from each topic to the
/// handler of each consumer group (the group's name). A saga workload's client points
/// at the saga's orchestrator.
pub fn topology_svg(spec: &Spec) -> String {
    let (mut nodes, arrows) = graph(spec);
    let Order { layers, pos, links } = order_layers(&nodes, &arrows);
    let layout = Layout::of(&mut nodes, &arrows, &layers, &pos, &links);
    draw(spec, &nodes, &arrows, &layout)
}

/// The boxes and arrows: a client per workload (layer 0), then services and topics
/// layered by depth (1 + the longest chain of calls, publishes and deliveries from a
/// client), and an arrow per call edge, saga start, publish and delivery, with a bend
/// point (a dummy node) in each layer it skips.
fn graph(spec: &Spec) -> (Vec<Node>, Vec<Arrow>) {
    let n_wl = spec.workloads.len();
    let n_svc = spec.services.len();
    let n_topic = spec.topics.len();
    let svc_node = |s: usize| n_wl + s;
    let topic_node = |t: usize| n_wl + n_svc + t;
    let target_svc =
        |ep: u32| spec.endpoints.get(ep as usize).map(|e| e.service as usize).filter(|s| *s < n_svc);
    let pubs = publishers(spec);
    // Links of the layering, over services (`0..n_svc`) then topics (`n_svc..`): calls,
    // then publishes, then deliveries.
    let mut dep_links: Vec<(usize, usize)> = spec
        .edges
        .iter()
        .filter_map(|e| Some((e.caller.map(|c| c as usize).filter(|c| *c < n_svc)?, target_svc(e.target)?)))
        .collect();
    for (t, list) in pubs.iter().enumerate() {
        dep_links.extend(list.iter().filter(|(s, _)| *s < n_svc).map(|(s, _)| (*s, n_svc + t)));
    }
    for (t, topic) in spec.topics.iter().enumerate() {
        dep_links.extend(topic.groups.iter().filter_map(|g| Some((n_svc + t, target_svc(g.endpoint)?))));
    }
    // Depth of each service and topic: 1 + the longest chain from a client, by
    // relaxation bounded by their number (a cycle stops growing there).
    let n_dep = n_svc + n_topic;
    let mut depth = vec![1usize; n_dep];
    for _ in 0..n_dep {
        let mut changed = false;
        for &(c, t) in &dep_links {
            if c != t && depth[t] < depth[c] + 1 && depth[c] < n_dep {
                depth[t] = depth[c] + 1;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }

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
            layer: 0,
            y: 0.0,
            h: 0.0,
        });
    }
    for (i, s) in spec.services.iter().enumerate() {
        nodes.push(Node {
            lines: vec![
                s.name.clone(),
                format!("{} × {} workers · {}", s.replicas, s.concurrency, kind_name(s.kind)),
            ],
            kind: NodeKind::Service,
            layer: depth[i],
            y: 0.0,
            h: 0.0,
        });
    }
    for (t, topic) in spec.topics.iter().enumerate() {
        let p = topic.partitions;
        nodes.push(Node {
            lines: vec![
                topic.name.clone(),
                format!("topic · {p} partition{}", if p == 1 { "" } else { "s" }),
            ],
            kind: NodeKind::Topic,
            layer: depth[n_svc + t],
            y: 0.0,
            h: 0.0,
        });
    }

    let labels = edge_labels(spec);
    let saga_tags = saga_edge_tags(spec);
    let mut arrows: Vec<Arrow> = Vec::new();
    // Adds an arrow from node `from` to node `to`, with bend points across the layers
    // it skips.
    let mut connect = |nodes: &mut Vec<Node>, from: usize, to: usize, label: String, optional, message| {
        let (lf, lt) = (nodes[from].layer, nodes[to].layer);
        let mut path = vec![from];
        let back = lt <= lf;
        if !back {
            for l in lf + 1..lt {
                nodes.push(Node { lines: Vec::new(), kind: NodeKind::Dummy, layer: l, y: 0.0, h: 0.0 });
                path.push(nodes.len() - 1);
            }
        }
        path.push(to);
        arrows.push(Arrow { path, label, optional, message, back });
    };
    // A saga workload's client points at the orchestrator, whatever its edge names.
    let saga_start = |w: usize| {
        let sg = spec.workloads.get(w)?.saga.and_then(|s| spec.sagas.get(s as usize))?;
        let o = sg.orchestrator as usize;
        let policy = sg.policy.and_then(|p| spec.policies.get(p as usize)).map(|p| p.name.as_str());
        let label = format!("saga {} · {}", sg.name, policy.unwrap_or("no policy"));
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
                        connect(&mut nodes, w, to, label, false, false);
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
        let mut label = match (policies.is_empty(), tags) {
            (true, Some(_)) => ep_short,
            (true, None) => format!("{ep_short} · no policy"),
            (false, _) => format!("{ep_short} · {}", policies.join(", ")),
        };
        if let Some(tags) = tags {
            let _ = write!(label, " · {}", tags.join(", "));
        }
        if optional {
            label.push_str(" · optional");
        }
        connect(&mut nodes, from, to, label, optional, false);
    }
    for (w, drawn) in saga_drawn.iter().enumerate() {
        if !drawn && let Some((to, label)) = saga_start(w) {
            connect(&mut nodes, w, to, label, false, false);
        }
    }
    for (t, list) in pubs.iter().enumerate() {
        for (svc, label) in list.iter().filter(|(s, _)| *s < n_svc) {
            connect(&mut nodes, svc_node(*svc), topic_node(t), label.clone(), false, true);
        }
    }
    for (t, topic) in spec.topics.iter().enumerate() {
        for g in &topic.groups {
            if let Some(h) = target_svc(g.endpoint) {
                connect(&mut nodes, topic_node(t), svc_node(h), g.name.clone(), false, true);
            }
        }
    }
    (nodes, arrows)
}

/// The order of the boxes within their layers.
struct Order {
    /// Each layer's nodes, in drawing order (top to bottom).
    layers: Vec<Vec<usize>>,
    /// Each node's position in its layer.
    pos: Vec<f64>,
    /// The links between neighbouring layers that forward arrows follow.
    links: Vec<(usize, usize)>,
}

fn order_layers(nodes: &[Node], arrows: &[Arrow]) -> Order {
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

/// The pixel geometry of the drawing (node heights and `y` are set on the nodes).
struct Layout {
    /// Per layer: its left edge and its width (the widest box).
    layer_x: Vec<f64>,
    layer_w: Vec<f64>,
    width: f64,
    height: f64,
    /// Height of the tallest layer (back arrows arc below it).
    max_h: f64,
    /// Per arrow: its rank among the back arrows between the same two boxes.
    back_rank: Vec<usize>,
    /// Per link: where it leaves its source box and enters its target box.
    out_port: Vec<f64>,
    in_port: Vec<f64>,
}

impl Layout {
    fn of(
        nodes: &mut [Node],
        arrows: &[Arrow],
        layers: &[Vec<usize>],
        pos: &[f64],
        links: &[(usize, usize)],
    ) -> Layout {
        let n_layers = layers.len();
        // Geometry.
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
            gap_w[l] = gap_w[l].max(a.label.chars().count() as f64 * T_SMALL_CHAR + 36.0);
        }
        let mut layer_x = vec![0f64; n_layers];
        let mut x = 20.0;
        for l in 0..n_layers {
            layer_x[l] = x;
            x += layer_w[l] + gap_w[l];
        }
        let width = (x - gap_w[n_layers - 1] + 20.0).max(200.0);
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
        let max_h = layer_h.iter().copied().fold(0.0, f64::max);
        let has_back = arrows.iter().any(|a| a.back);
        // Back arrows between the same two boxes share one arc; their labels stack under it.
        let back_rank: Vec<usize> = (0..arrows.len())
            .map(|i| {
                let same = |a: &Arrow| a.back && a.path[..2] == arrows[i].path[..2];
                if arrows[i].back { arrows[..i].iter().filter(|a| same(a)).count() } else { 0 }
            })
            .collect();
        let extra_rows = back_rank.iter().copied().max().unwrap_or(0) as f64;
        let height = max_h + 40.0 + if has_back { 40.0 + 18.0 * extra_rows } else { 0.0 };
        for (l, members) in layers.iter().enumerate() {
            let mut y = 20.0 + (max_h - layer_h[l]) / 2.0;
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
        Layout { layer_x, layer_w, width, height, max_h, back_rank, out_port, in_port }
    }
}

/// The SVG: arrows first, then boxes over them, then labels over everything.
fn draw(spec: &Spec, nodes: &[Node], arrows: &[Arrow], layout: &Layout) -> String {
    let Layout { layer_x, layer_w, width, height, max_h, back_rank, out_port, in_port } = layout;
    let (width, height, max_h) = (*width, *height, *max_h);
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
            let low = max_h + 50.0;
            let _ = writeln!(
                s,
                "<path d=\"M{x1:.1},{y1:.1} C{x1:.1},{low:.1} {x2:.1},{low:.1} {x2:.1},{y2:.1}\" fill=\"none\" stroke=\"{stroke}\" \
                 stroke-width=\"1.4\"{dash} marker-end=\"url(#{marker})\"/>"
            );
            let ly = low - 8.0 + 18.0 * back_rank[ai] as f64;
            push_label(&mut label_svg, &a.label, (x1 + x2) / 2.0, ly);
            placed.push(label_rect(&a.label, (x1 + x2) / 2.0, ly));
            continue;
        }
        let mut pts: Vec<(f64, f64)> = Vec::new();
        let mut first_seg = ((0.0, 0.0), (0.0, 0.0));
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
                first_seg = (p1, p2);
            }
            if pts.last() != Some(&p1) {
                pts.push(p1);
            }
            pts.push(p2);
        }
        let mut d = format!("M{:.1},{:.1}", pts[0].0, pts[0].1);
        for w in pts.windows(2) {
            let ((x1, y1), (x2, y2)) = (w[0], w[1]);
            if (y1 - y2).abs() < 0.05 || (x2 - x1) < 1.0 {
                let _ = write!(d, " L{x2:.1},{y2:.1}");
            } else {
                let mx = (x1 + x2) / 2.0;
                let _ = write!(d, " C{mx:.1},{y1:.1} {mx:.1},{y2:.1} {x2:.1},{y2:.1}");
            }
        }
        let _ = writeln!(
            s,
            "<path d=\"{d}\" fill=\"none\" stroke=\"{stroke}\" stroke-width=\"1.4\"{dash} marker-end=\"url(#{marker})\"/>"
        );
        // The label sits on the first segment, at the first of a few places along it
        // where it overlaps no other label.
        let ((x1, y1), (x2, y2)) = first_seg;
        let at = |t: f64| {
            if (y1 - y2).abs() < 0.05 {
                (x1 + t * (x2 - x1), y1)
            } else {
                // The cubic of the path with both control points at the middle x.
                let u = 1.0 - t;
                let mx = (x1 + x2) / 2.0;
                let x = u * u * u * x1 + 3.0 * u * u * t * mx + 3.0 * u * t * t * mx + t * t * t * x2;
                let y = (u * u * u + 3.0 * u * u * t) * y1 + (3.0 * u * t * t + t * t * t) * y2;
                (x, y)
            }
        };
        let choice = [0.5, 0.35, 0.65, 0.25, 0.75]
            .into_iter()
            .map(at)
            .find(|(x, y)| {
                let r = label_rect(&a.label, *x, *y);
                // Within the gap between the boxes, over no other label.
                r.0 >= x1 && r.2 <= x2 && !placed.iter().any(|p| overlaps(p, &r))
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

/// The box `(x0, y0, x1, y1)` of a label centred at `(x, y)`, with a little margin.
fn label_rect(text: &str, x: f64, y: f64) -> (f64, f64, f64, f64) {
    let w = text.chars().count() as f64 * T_SMALL_CHAR + 8.0;
    (x - w / 2.0 - 2.0, y - 10.0, x + w / 2.0 + 2.0, y + 10.0)
}

fn overlaps(a: &(f64, f64, f64, f64), b: &(f64, f64, f64, f64)) -> bool {
    a.0 < b.2 && b.0 < a.2 && a.1 < b.3 && b.1 < a.3
}

/// An arrow's label, centred at `(x, y)` on a white halo so it stays legible where it
/// crosses a line.
fn push_label(s: &mut String, text: &str, x: f64, y: f64) {
    let w = text.chars().count() as f64 * T_SMALL_CHAR + 8.0;
    let _ = writeln!(
        s,
        "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{w:.1}\" height=\"16\" rx=\"3\" fill=\"#ffffff\" fill-opacity=\"0.9\"/>\n\
         <text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"{T_SMALL}\" fill=\"#333\">{}</text>",
        x - w / 2.0,
        y - 8.0,
        y + 4.0,
        escape(text)
    );
}
