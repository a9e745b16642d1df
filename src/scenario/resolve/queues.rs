//! The `queues` section (work queues, competing consumers), the `enqueue` step and the
//! `queue:NAME` outage target. Resolved right after the names are declared, before the
//! services, whose `enqueue` steps name the queues.

use super::{MAX_CONSUMERS, P, R, list, suggest};
use crate::scenario::raw::{RawScenario, RawStep};
use crate::spec::{FaultKind, NS_PER_S, Queue, QueueConsumers, QueueId, Step};
use std::collections::BTreeMap;

/// Most messages a consumer may hold unacknowledged (RabbitMQ caps the prefetch count at
/// 65 535).
pub const MAX_PREFETCH: u32 = 65_535;
/// Most receives of one message before it is dead-lettered (SQS allows 1 to 1000).
pub const MAX_RECEIVE_COUNT: u32 = 1000;

/// The queues' names and ids, in file order.
#[derive(Default)]
pub(super) struct Names<'a> {
    names: Vec<&'a str>,
    ids: BTreeMap<&'a str, QueueId>,
}

impl<'a> R<'a> {
    /// Declares the queues' names and resolves their definitions.
    pub(super) fn queues(&mut self, raw: &'a RawScenario) -> Vec<Queue> {
        let mut out = Vec::new();
        let Some(qs) = &raw.queues else { return out };
        let qp = P::root().k("queues");
        for (name, _) in qs.iter() {
            self.name("queue", name, &qp.k(name), true);
            let id = self.queue_names.names.len() as QueueId;
            self.queue_names.ids.entry(name.as_str()).or_insert(id);
            self.queue_names.names.push(name);
        }
        for (name, q) in qs.iter() {
            let p = qp.k(name);
            let latency = q.latency.as_ref().map(|d| self.dist(d, &p.k("latency")));
            let visibility_timeout_ns =
                q.visibility_timeout.as_ref().map(|d| self.dur_pos(d, &p.k("visibility_timeout")));
            let max_receive_count = q.max_receive_count.map(|k| {
                let k = self.at_least(k, 1, &p.k("max_receive_count"));
                self.at_most(
                    k,
                    MAX_RECEIVE_COUNT,
                    &p.k("max_receive_count"),
                    "SQS's redrive policy allows 1 to 1000 receives",
                )
            });
            if q.dead_letter.is_some() && max_receive_count.is_none() {
                self.err_key(
                    &p.k("dead_letter"),
                    "`dead_letter` needs `max_receive_count`: without it a message is received until it is handled",
                );
            }
            let relay_interval_ns = match &q.relay_interval {
                Some(d) => self.dur_pos(d, &p.k("relay_interval")),
                None => NS_PER_S / 10,
            };
            let cp = p.k("consumers");
            if q.consumers.is_empty() {
                self.err(
                    &cp,
                    format!(
                        "queue `{name}` has no consumers: its messages would wait forever; \
                         give it at least one, e.g. [{{\"endpoint\": \"service.endpoint\"}}]"
                    ),
                );
            }
            let mut consumers = Vec::new();
            for (i, c) in q.consumers.iter().enumerate() {
                let p = cp.i(i);
                let endpoint = self.endpoint_ref(&c.endpoint, &p.k("endpoint"));
                let per_replica = self.at_least(c.consumers.unwrap_or(1), 1, &p.k("consumers"));
                let per_replica =
                    self.at_most(per_replica, MAX_CONSUMERS, &p.k("consumers"), "consumers per replica");
                let prefetch = match c.prefetch {
                    Some(0) => {
                        self.err(
                            &p.k("prefetch"),
                            "expected a prefetch of at least 1, found 0 (RabbitMQ reads 0 as \
                             unlimited; give the number of messages a consumer may hold)",
                        );
                        1
                    }
                    Some(n) => self.at_most(n, MAX_PREFETCH, &p.k("prefetch"), "RabbitMQ's prefetch count"),
                    None => 1,
                };
                let Some(endpoint) = endpoint else { continue };
                consumers.push(QueueConsumers {
                    endpoint,
                    per_replica,
                    prefetch,
                    idempotent: c.idempotent.unwrap_or(false),
                });
            }
            out.push(Queue {
                name: name.clone(),
                latency,
                relay_interval_ns,
                visibility_timeout_ns,
                max_receive_count,
                dead_letter: q.dead_letter.unwrap_or(true),
                consumers,
            });
        }
        out
    }

    fn queue_ref(&mut self, s: &str, path: &P) -> Option<QueueId> {
        if let Some(&i) = self.queue_names.ids.get(s) {
            return Some(i);
        }
        let names = self.queue_names.names.clone();
        let hint = suggest(s, names.iter().copied());
        let known = if names.is_empty() { "there are none".to_string() } else { list(names.iter().copied()) };
        self.err(path, format!("unknown queue `{s}`{hint}; the queues are: {known}"));
        None
    }

    /// An `enqueue` step.
    pub(super) fn enqueue_step(&mut self, s: &RawStep, path: &P) -> Option<Step> {
        if s.policy.is_some() {
            self.err_key(&path.k("policy"), "`policy` is only allowed with `call` or `route`");
        }
        let queue = s.enqueue.as_deref().unwrap_or_default();
        let outbox = s.outbox.unwrap_or(false);
        self.queue_ref(queue, &path.k("enqueue")).map(|queue| Step::Enqueue { queue, outbox })
    }

    /// The target `queue:NAME` of an `outage`.
    pub(super) fn queue_outage(&mut self, name: &str, path: &P) -> Option<FaultKind> {
        self.queue_ref(name, path).map(|queue| FaultKind::QueueOutage { queue })
    }
}
