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
                let replicas = self
                    .endpoint_service(endpoint)
                    .map_or(1, |sid| u64::from(self.services[sid as usize].replicas.max(1)));
                if u64::from(per_replica) * replicas > u64::from(MAX_CONSUMERS) {
                    self.err(
                        &p.k("consumers"),
                        format!(
                            "too many consumers in all: {per_replica} per replica × {replicas} replicas \
                             (at most {MAX_CONSUMERS} per pool)"
                        ),
                    );
                    continue;
                }
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

#[cfg(test)]
mod tests {
    use crate::scenario::{LoadOptions, load_str};
    use crate::spec::{FaultKind, NS_PER_S, Step, ThresholdScope};

    const TEXT: &str = r#"{"duration": "10s",
        "services": {"api": {"endpoints": {"signup": {"steps": [{"enqueue": "emails", "outbox": true}]}}},
                     "notification": {"replicas": 3, "endpoints": {"send": {}}}},
        "queues": {"emails": {"latency": {"constant": "2ms"}, "visibility_timeout": "30s",
                              "max_receive_count": 5, "dead_letter": true,
                              "consumers": [{"endpoint": "notification.send", "consumers": 4, "prefetch": 10}]},
                   "plain": {"consumers": [{"endpoint": "notification.send"}]}},
        "faults": [{"outage": {"target": "queue:plain", "start": "1s"}}],
        "thresholds": {"queue:emails": ["max_age < 30s", "inconsistent <= 0", "p99 < 2s"]},
        "workload": [{"name": "w", "target": "api.signup", "arrival": {"poisson": {"rate": 1}}}]}"#;

    #[test]
    fn the_issue_s_queue_resolves_with_its_defaults() {
        let spec = load_str(TEXT, "t.json", &LoadOptions::default()).unwrap_or_else(|e| panic!("{e}"));
        let q = &spec.queues[0];
        assert_eq!(q.visibility_timeout_ns, Some(30 * NS_PER_S));
        assert_eq!(q.max_receive_count, Some(5));
        assert!(q.dead_letter);
        assert_eq!(q.relay_interval_ns, NS_PER_S / 10);
        let c = &q.consumers[0];
        assert_eq!((c.endpoint, c.per_replica, c.prefetch, c.idempotent), (1, 4, 10, false));
        // Defaults: RabbitMQ's acks (no timeout), no receive limit, one consumer per
        // replica holding one message.
        let p = &spec.queues[1];
        assert_eq!((p.visibility_timeout_ns, p.max_receive_count), (None, None));
        assert_eq!((p.consumers[0].per_replica, p.consumers[0].prefetch), (1, 1));
        assert!(matches!(spec.endpoints[0].steps[0], Step::Enqueue { queue: 0, outbox: true }));
        assert!(matches!(spec.faults[0].kind, FaultKind::QueueOutage { queue: 1 }));
        let t = &spec.thresholds;
        assert_eq!(t.len(), 3);
        assert!(t.iter().all(|t| t.scope == ThresholdScope::Queue(0)));
        assert_eq!(t[0].bound, 30_000.0, "max_age in ms");
    }

    #[test]
    fn queue_problems_are_located() {
        for (from, to, path) in [
            (r#""prefetch": 10"#, r#""prefetch": 0"#, "/queues/emails/consumers/0/prefetch"),
            (r#""max_receive_count": 5"#, r#""max_receive_count": 1001"#, "/queues/emails/max_receive_count"),
            (r#""queue:emails""#, r#""queue:email""#, "/thresholds/queue:email"),
            (r#""max_age < 30s""#, r#""max_lag < 3""#, "/thresholds/queue:emails/0"),
            (r#""queue:plain""#, r#""queue:plan""#, "/faults/0/outage/target"),
            (
                r#""enqueue": "emails""#,
                r#""enqueue": "email""#,
                "/services/api/endpoints/signup/steps/0/enqueue",
            ),
        ] {
            assert!(TEXT.contains(from), "{from}");
            let err = load_str(&TEXT.replace(from, to), "t.json", &LoadOptions::default()).unwrap_err();
            assert!(err.problems.iter().any(|p| p.path == path), "{to}: {:?}", err.problems);
        }
    }
}
