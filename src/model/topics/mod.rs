//! Topics with Kafka's model and names: partitions and keys, consumer groups whose
//! consumers live on the handler service's replicas, one consumer per partition at a
//! time and in order, at-least-once delivery with offsets committed per message or on
//! an interval (Kafka's auto-commit), blocking retries with backoff, dead letters,
//! rebalancing after a consumer's session times out, the transactional outbox and its
//! relay, and broker outages.
//!
//! Each group keeps, per partition, the messages from its committed offset on; `cursor`
//! is the next one to handle, so the messages before it are handled but not committed:
//! when their consumer dies they are handed out again (duplicates), as Kafka does.
//! The lag is the contract's: messages published and not yet handled (delivered,
//! dead-lettered or dropped), so a rewind after a crash does not raise it (Kafka's
//! `records-lag`, counted from the committed offset, would).
//!
//! The room's files: this one the state (topics, groups, partitions, consumers) and its
//! construction; `produce.rs` publishing, the outbox relay and broker outages;
//! `consume.rs` handing messages to consumers, their answers, blocking retries and
//! commits; `groups.rs` membership and rebalances; `accounting.rs` the backlog against
//! its limit, the lag, the interval columns and the figures with their balance check.

mod accounting;
mod consume;
mod groups;
mod produce;
#[cfg(test)]
mod widths_tests;

use super::World;
use super::output::GroupFigures;
use crate::rng::{Rng, rng_stream};
use crate::spec::{Group, Nanos, ReplicaId, Spec};
use std::collections::VecDeque;

#[derive(Clone, Copy, Debug)]
struct Msg {
    published_at: Nanos,
    counted: bool,
    entity: u32,
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    msg: Msg,
    /// Handled successfully at least once.
    succeeded: bool,
    /// Its fate is counted (delivered, dead-lettered or dropped).
    finished: bool,
    deliveries: u32,
    /// Failed attempts in the current round of handling.
    attempts: u32,
}

#[derive(Default)]
struct Part {
    queue: VecDeque<Entry>,
    cursor: usize,
    /// A message is in hand (or waiting out its backoff).
    busy: bool,
    owner: Option<u32>,
    /// The consumer the partition moves to once the message in hand is done.
    handoff: Option<u32>,
    /// Moves (`bump`) when the partition changes owner or its owner dies; a handler's
    /// answer and a retry timer carry the epoch of their handout, and count only if it
    /// is still the partition's (equality, across the wrap). One goes stale only when
    /// its consumer dies (the handler dies with its replica and answers at that instant)
    /// or the partition moves during a backoff, so a stale one lives at most one
    /// backoff: it could be taken for current only after 2^32 membership changes of
    /// the group (crashes, restarts, scale-downs, session timeouts) within that
    /// backoff. Kafka's own generation id is an int32, fenced by equality too.
    epoch: u32,
}

struct Consumer {
    replica: ReplicaId,
    alive: bool,
    /// Moves when the consumer dies or rejoins; its commit clock's tick carries it (a
    /// stale tick lives at most one `commit_interval`, and would need 2^32 crashes and
    /// restarts of one replica within it to be taken for current).
    epoch: u32,
    /// Leaving the group (its replica is scaled down): keeps what it has in hand,
    /// gets no partition in a rebalance.
    leaving: bool,
}

struct TopicState {
    outbox: VecDeque<Msg>,
    relay_scheduled: bool,
    outage: u32,
    /// The partition `round_robin` keys the next message to (always below the count).
    rr: u32,
    rng: Rng,
    groups: Vec<u32>,
    published: u64,
    publish_failed: u64,
    /// Published and publish_failed this interval.
    interval: [u64; 2],
}

struct GroupState {
    topic: u32,
    def: usize,
    parts: Vec<Part>,
    consumers: Vec<Consumer>,
    lag: u64,
    fig: GroupFigures,
    /// Delivered, redelivered, dead-lettered this interval.
    interval: [u64; 3],
}

/// The topics room: topics, their consumer groups, and the backlog counter.
///
/// *Invariants*: per consumer group, delivered + dead-lettered + dropped + in flight =
/// published (checked in `figures`); `backlog` equals the messages in partitions and
/// outboxes (`check_backlog`), bounded by `limits.max_backlog`.
pub(super) struct Topics {
    topic: Vec<TopicState>,
    group: Vec<GroupState>,
    /// Messages waiting in topic partitions (one per group) and outboxes.
    backlog: u64,
}

impl Topics {
    pub(super) fn new(spec: &Spec) -> Topics {
        let (topic, group) = build(spec);
        Topics { topic, group, backlog: 0 }
    }

    /// `topic/group`, for messages.
    pub(super) fn group_name(&self, spec: &Spec, g: u32) -> String {
        let gs = &self.group[g as usize];
        let t = &spec.topics[gs.topic as usize];
        format!("`{}/{}`", t.name, t.groups[gs.def].name)
    }
}

fn build(spec: &Spec) -> (Vec<TopicState>, Vec<GroupState>) {
    let mut topics = Vec::new();
    let mut groups = Vec::new();
    for (t, topic) in spec.topics.iter().enumerate() {
        let mut ids = Vec::new();
        for (g, group) in topic.groups.iter().enumerate() {
            let svc = &spec.services[spec.endpoints[group.endpoint as usize].service as usize];
            ids.push(groups.len() as u32);
            groups.push(GroupState {
                topic: t as u32,
                def: g,
                parts: (0..topic.partitions)
                    .map(|_| Part { epoch: first_epoch(), ..Part::default() })
                    .collect(),
                consumers: (0..group.consumers)
                    .map(|i| Consumer {
                        replica: svc.first_replica + i % svc.replicas,
                        alive: true,
                        epoch: first_epoch(),
                        leaving: false,
                    })
                    .collect(),
                lag: 0,
                fig: GroupFigures::default(),
                interval: [0; 3],
            });
        }
        topics.push(TopicState {
            outbox: VecDeque::new(),
            relay_scheduled: false,
            outage: 0,
            rr: 0,
            rng: rng_stream(spec.seed, &format!("key/{}", topic.name)),
            groups: ids,
            published: 0,
            publish_failed: 0,
            interval: [0; 2],
        });
    }
    (topics, groups)
}

use super::tags::{bump, first as first_epoch};

// A waiting message costs 32 bytes per consumer group (asserted here; docs: "about 40"
// with the partition's spare capacity).
const _: () = assert!(std::mem::size_of::<Entry>() == 32);

impl World<'_> {
    /// A group's definition in the scenario.
    fn group_def(&self, g: u32) -> &Group {
        let gs = &self.topics.group[g as usize];
        &self.spec.topics[gs.topic as usize].groups[gs.def]
    }
}
