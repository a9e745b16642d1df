//! What each workload needs, read from the scenario's structure alone: the services
//! and brokers without which its requests cannot succeed, and those it reaches without
//! needing them. The matrix compares the two: a service whose loss takes a workload
//! down although the workload does not need it is the "distributed monolith" coupling.
//!
//! A workload **needs** (transitively, from its target endpoint; for a saga workload,
//! from the saga's orchestrator and each action's endpoint):
//! - the service of every endpoint it reaches through required synchronous calls: a
//!   `call`, every target of a `route` (the requests routed there need it), a
//!   `parallel` branch that is not `optional`;
//! - the broker of every topic published to, and of every work queue sent to, without
//!   the outbox on those endpoints (the request waits for the broker's acknowledgement
//!   and fails without it).
//!
//! It **reaches without needing**, the way the format lets a design degrade: an
//! `optional` branch of a `parallel` (and what that endpoint calls), a publish through
//! the outbox (the relay delivers later), the consumers of what it publishes (after the
//! answer), a saga's compensations (only on failure), and everything those reach in
//! turn. Anything else it does not reach at all; losing such a service can still harm
//! it through the scenario's couplings that are not calls: a `health_check` that
//! `depends_on` it (the probe takes the caller's replicas out of service).

use super::plan::Down;
use crate::spec::{EndpointId, Spec, Step};

/// How a workload relates to one row's loss.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Need {
    /// On a required synchronous path.
    Needed,
    /// Reached only in ways that should let the workload degrade rather than fail; the
    /// text says which (`an optional branch of gateway.browse`).
    Reached(String),
    /// Not reached by the workload's requests; the text names the coupling that is
    /// not a call, if the scenario has one (`the health check of gateway depends on it`).
    Unreached(Option<String>),
}

impl Need {
    pub fn needed(&self) -> bool {
        *self == Need::Needed
    }

    /// The relation in words, for the page and the JSON.
    pub fn words(&self) -> String {
        match self {
            Need::Needed => "needed: on a required synchronous path".into(),
            Need::Reached(how) => format!("not needed: reached only through {how}"),
            Need::Unreached(None) => "not needed: not reached by its requests".into(),
            Need::Unreached(Some(c)) => format!("not needed: not reached by its requests; {c}"),
        }
    }
}

/// Per workload, what it needs and reaches.
pub struct Needs {
    /// `needed[w][s]`: workload `w` needs service `s`.
    needed_svc: Vec<Vec<bool>>,
    needed_topic: Vec<Vec<bool>>,
    needed_queue: Vec<Vec<bool>>,
    /// The first way (in a fixed walk order) each service or topic is reached without
    /// being needed.
    reached_svc: Vec<Vec<Option<String>>>,
    reached_topic: Vec<Vec<Option<String>>>,
    reached_queue: Vec<Vec<Option<String>>>,
}

/// Walks from `start` through required steps, marking needed services and topics; what
/// is reached another way is pushed onto `side` with how.
/// The brokers of one kind (topics or work queues) a walk marks: those needed, and
/// those reached another way with how.
struct Brokers<'a> {
    needed: &'a mut [bool],
    side: &'a mut Vec<(u32, String)>,
}

fn walk_required(
    spec: &Spec,
    start: Vec<EndpointId>,
    svc: &mut [bool],
    side: &mut Vec<(EndpointId, String)>,
    topics: Brokers,
    queues: Brokers,
) {
    let mut seen = vec![false; spec.endpoints.len()];
    let mut stack = start;
    while let Some(ep) = stack.pop() {
        let Some(e) = spec.endpoints.get(ep as usize) else { continue };
        if std::mem::replace(&mut seen[ep as usize], true) {
            continue;
        }
        svc[e.service as usize] = true;
        for step in crate::spec::flat_steps(&e.steps) {
            match step {
                Step::Work(_) => {}
                Step::Cache { cache, .. } => {
                    // The read is needed when its errors fail the step; otherwise a miss
                    // falls through to `on_miss` (visited as steps of this endpoint).
                    let c = &spec.caches[*cache as usize];
                    let mut targets = c.get.targets.iter().chain(c.populate.iter().flat_map(|p| &p.targets));
                    if c.on_error == crate::spec::OnCacheError::Fail {
                        stack.extend(targets.map(|t| t.endpoint));
                    } else {
                        side.extend(targets.by_ref().map(|t| {
                            (
                                t.endpoint,
                                format!("a cache read of {} that falls through to the database", e.name),
                            )
                        }));
                    }
                }
                Step::Enqueue { queue: qi, outbox } => {
                    if let Some(q) = spec.queues.get(*qi as usize) {
                        if *outbox {
                            queues.side.push((*qi, format!("the outbox of {} (queue {})", e.name, q.name)));
                        } else {
                            queues.needed[*qi as usize] = true;
                        }
                        for c in &q.consumers {
                            side.push((
                                c.endpoint,
                                format!("work queue {}, consumed asynchronously", q.name),
                            ));
                        }
                    }
                }
                Step::Call(site) => stack.extend(site.targets.iter().map(|t| t.endpoint)),
                Step::Parallel(sites) => {
                    for site in sites {
                        for t in &site.targets {
                            if site.optional {
                                side.push((t.endpoint, format!("an optional branch of {}", e.name)));
                            } else {
                                stack.push(t.endpoint);
                            }
                        }
                    }
                }
                Step::Publish { topic: t, outbox } => {
                    let name = spec.topics.get(*t as usize).map(|x| x.name.as_str()).unwrap_or("?");
                    if *outbox {
                        topics.side.push((*t, format!("the outbox of {} (topic {name})", e.name)));
                    } else {
                        topics.needed[*t as usize] = true;
                    }
                    if let Some(tp) = spec.topics.get(*t as usize) {
                        for g in &tp.groups {
                            side.push((
                                g.endpoint,
                                format!("topic {name}, consumed asynchronously by group {}", g.name),
                            ));
                        }
                    }
                }
            }
        }
    }
}

impl Needs {
    pub fn of(spec: &Spec) -> Needs {
        let (n_s, n_t) = (spec.services.len(), spec.topics.len());
        let mut n = Needs {
            needed_svc: Vec::new(),
            needed_topic: Vec::new(),
            needed_queue: Vec::new(),
            reached_svc: Vec::new(),
            reached_topic: Vec::new(),
            reached_queue: Vec::new(),
        };
        let n_q = spec.queues.len();
        for w in &spec.workloads {
            let (mut svc, mut topic) = (vec![false; n_s], vec![false; n_t]);
            let (mut side, mut side_topics) = (Vec::new(), Vec::new());
            let (mut queue, mut side_queues) = (vec![false; n_q], Vec::new());
            let start = match w.saga.and_then(|s| spec.sagas.get(s as usize)) {
                Some(sg) => {
                    svc[sg.orchestrator as usize] = true;
                    for st in &sg.steps {
                        if let Some(c) = st.compensation {
                            side.push((c, format!("the compensation of saga step {}", st.name)));
                        }
                    }
                    sg.steps.iter().map(|st| st.action).collect()
                }
                None => vec![w.target],
            };
            walk_required(
                spec,
                start,
                &mut svc,
                &mut side,
                Brokers { needed: &mut topic, side: &mut side_topics },
                Brokers { needed: &mut queue, side: &mut side_queues },
            );
            // Everything reached from the side entries, needed or not below them, is
            // reached without being needed (unless needed by another path).
            let (mut rs, mut rt) = (vec![None::<String>; n_s], vec![None::<String>; n_t]);
            for (t, how) in side_topics {
                rt[t as usize].get_or_insert(how);
            }
            let mut rq = vec![None::<String>; n_q];
            for (q, how) in side_queues {
                rq[q as usize].get_or_insert(how);
            }
            let mut i = 0;
            let mut seen = vec![false; spec.endpoints.len()];
            while i < side.len() {
                let (ep, how) = side[i].clone();
                i += 1;
                let Some(e) = spec.endpoints.get(ep as usize) else { continue };
                if std::mem::replace(&mut seen[ep as usize], true) {
                    continue;
                }
                rs[e.service as usize].get_or_insert_with(|| how.clone());
                for step in crate::spec::flat_steps(&e.steps) {
                    let sites: Vec<&crate::spec::CallSite> = match step {
                        Step::Call(c) => vec![c],
                        Step::Parallel(cs) => cs.iter().collect(),
                        Step::Cache { cache, .. } => {
                            let c = &spec.caches[*cache as usize];
                            std::iter::once(&c.get).chain(c.populate.as_ref()).collect()
                        }
                        Step::Enqueue { queue, .. } => {
                            rq[*queue as usize].get_or_insert_with(|| how.clone());
                            if let Some(q) = spec.queues.get(*queue as usize) {
                                side.extend(q.consumers.iter().map(|c| (c.endpoint, how.clone())));
                            }
                            continue;
                        }
                        Step::Publish { topic: t, .. } => {
                            rt[*t as usize].get_or_insert_with(|| how.clone());
                            if let Some(tp) = spec.topics.get(*t as usize) {
                                side.extend(tp.groups.iter().map(|g| (g.endpoint, how.clone())));
                            }
                            continue;
                        }
                        Step::Work(_) => continue,
                    };
                    for site in sites {
                        side.extend(site.targets.iter().map(|t| (t.endpoint, how.clone())));
                    }
                }
            }
            n.needed_svc.push(svc);
            n.needed_topic.push(topic);
            n.reached_svc.push(rs);
            n.reached_topic.push(rt);
            n.needed_queue.push(queue);
            n.reached_queue.push(rq);
        }
        n
    }

    /// How workload `w` relates to the loss of `down`.
    pub fn of_workload(&self, spec: &Spec, w: usize, down: Down) -> Need {
        let (needed, reached) = match down {
            Down::Service(s) => (self.needed_svc[w][s as usize], self.reached_svc[w][s as usize].clone()),
            Down::Topic(t) => (self.needed_topic[w][t as usize], self.reached_topic[w][t as usize].clone()),
            Down::Queue(q) => (self.needed_queue[w][q as usize], self.reached_queue[w][q as usize].clone()),
        };
        if needed {
            return Need::Needed;
        }
        if let Some(how) = reached {
            return Need::Reached(how);
        }
        let Down::Service(s) = down else { return Need::Unreached(None) };
        // A health check of a service the workload needs that depends on the lost one.
        let coupled = spec.services.iter().enumerate().find(|(i, svc)| {
            self.needed_svc[w][*i] && svc.health_check.as_ref().is_some_and(|h| h.depends_on.contains(&s))
        });
        Need::Unreached(coupled.map(|(_, svc)| format!("the health check of {} depends on it", svc.name)))
    }
}
