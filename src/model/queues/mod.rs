//! Work queues (competing consumers) with SQS's and RabbitMQ's semantics: every message
//! goes to one consumer at a time; consumers take messages in arrival order, each holding
//! at most `prefetch` unacknowledged (RabbitMQ's basic.qos), round robin among those
//! with room (RabbitMQ's dispatch); a handled message is deleted; a failed one is
//! visible again when its visibility timeout runs out (SQS), or at once without one
//! (RabbitMQ's nack with requeue); a message whose visibility timeout runs out while its
//! handler still runs is handed out again (a duplicate when both succeed); a message
//! that comes back after `max_receive_count` receives is dead-lettered or dropped (SQS's
//! redrive policy). A crashed replica's consumers die and their messages come back as
//! their handlers' executions fail; an outage stops sends, receives and acks.
//!
//! The room holds only the messages that are in a queue (visible, or received and not
//! yet deleted) and in the outboxes, in a slab whose slots are reused: memory follows
//! the backlog, never the messages delivered. `send.rs` sends (an `enqueue` step straight
//! to the broker or into the outbox, the relay, outages); `consume.rs` receives and
//! acknowledges; this file holds the state, the figures and what both share (a message
//! made visible, the depth's integral).

mod consume;
mod send;
#[cfg(test)]
mod widths_tests;

use super::World;
use super::output::QueueFigures;
use crate::rng::{Rng, rng_stream};
use crate::spec::{Nanos, ReplicaId, Spec};
use std::collections::{BTreeMap, VecDeque};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Visible,
    /// Received (held by a consumer) or waiting out its visibility timeout.
    Invisible,
    /// Deleted, dead-lettered or dropped; the slot waits for its last holder.
    Ended,
}

#[derive(Clone, Copy, Debug)]
struct Msg {
    sent_at: Nanos,
    seq: u64,
    counted: bool,
    entity: u32,
    /// Receives so far (SQS's `ApproximateReceiveCount`); saturates at `u32::MAX`,
    /// beyond any `max_receive_count`, so a message without one is received forever.
    receives: u32,
    /// Consumers handling it now (two when it was handed out again while its first
    /// handler still ran).
    holders: u32,
    /// The slot's generation, bumped when the slot is freed: it names the message a
    /// visibility timer was set for, so a timer of an earlier message is stale. A
    /// message has at most one timer pending (it is visible again only when that one
    /// runs out), so its receives need no receipt of their own. Never wraps: a slot at
    /// `u32::MAX` is retired instead of reused, so no timer can ever name a later message.
    receipt: u32,
    state: State,
    /// Handled successfully at least once (an ack may have been lost in an outage).
    succeeded: bool,
}

/// A message written to an outbox, not yet sent.
#[derive(Clone, Copy, Debug)]
struct Pending {
    written_at: Nanos,
    counted: bool,
    entity: u32,
}

struct Consumer {
    pool: u32,
    replica: u32,
    held: u32,
    alive: bool,
    /// In the queue's `ready` list.
    ready: bool,
}

struct QueueState {
    slots: Vec<Msg>,
    free: Vec<u32>,
    /// Slots retired at their last receipt (one per 2^32 messages through a slot).
    retired: u32,
    /// Visible messages in arrival order: `(sent_at, seq)` → slot (a message that comes
    /// back takes its original place, as RabbitMQ requeues it).
    visible: BTreeMap<(Nanos, u64), u32>,
    consumers: Vec<Consumer>,
    /// Consumers that may take a message, in round-robin order (dead or full ones are
    /// skipped as they come up).
    ready: VecDeque<u32>,
    outbox: VecDeque<Pending>,
    relay_scheduled: bool,
    outage: u32,
    next_seq: u64,
    rng: Rng,
    /// Time integral of the visible depth since warm-up, and its last change.
    depth_area: f64,
    depth_at: Nanos,
    fig: QueueFigures,
    /// Sent, received, deleted, dead-lettered this interval.
    interval: [u64; 4],
}

/// The queues room.
///
/// *Invariants*: per queue, sent = deleted + dead-lettered + dropped + in flight
/// (`figures`); no consumer holds more than its prefetch (checked at each receive);
/// `held` equals the messages in slabs and outboxes (`check`), bounded by
/// `limits.max_queued`.
pub(super) struct Queues {
    queue: Vec<QueueState>,
    held: u64,
}

impl Queues {
    /// Whether a visibility timer can still act: its message is the one in the slot
    /// (the receipt) and is still invisible (`visibility_expire`'s own test). A deleted
    /// message's timer is dropped from the event queue at its next compaction, so the
    /// pending timers follow the messages in flight, not the receive rate times the
    /// timeout (SQS's maximum is 12 hours).
    pub(super) fn timer_live(&self, queue: u32, slot: u32, receipt: u32) -> bool {
        let m = &self.queue[queue as usize].slots[slot as usize];
        m.receipt == receipt && m.state == State::Invisible
    }

    pub(super) fn new(spec: &Spec) -> Queues {
        let queue = spec
            .queues
            .iter()
            .map(|q| {
                let mut consumers = Vec::new();
                for (p, pool) in q.consumers.iter().enumerate() {
                    let svc = &spec.services[spec.endpoints[pool.endpoint as usize].service as usize];
                    // Spread over the replicas first, so that round robin alternates them.
                    for _ in 0..pool.per_replica {
                        for r in 0..svc.replicas {
                            consumers.push(Consumer {
                                pool: p as u32,
                                replica: svc.first_replica + r,
                                held: 0,
                                alive: true,
                                ready: true,
                            });
                        }
                    }
                }
                QueueState {
                    slots: Vec::new(),
                    free: Vec::new(),
                    retired: 0,
                    visible: BTreeMap::new(),
                    ready: (0..consumers.len() as u32).collect(),
                    consumers,
                    outbox: VecDeque::new(),
                    relay_scheduled: false,
                    outage: 0,
                    next_seq: 0,
                    rng: rng_stream(spec.seed, &format!("queue/{}", q.name)),
                    depth_area: 0.0,
                    depth_at: spec.warmup_ns,
                    fig: QueueFigures::default(),
                    interval: [0; 4],
                }
            })
            .collect();
        Queues { queue, held: 0 }
    }

    /// The messages in the queue, visible or received and not yet deleted (KEDA's
    /// queue length: SQS's visible + in flight, RabbitMQ's ready + unacked).
    pub(super) fn backlog(&self, q: u32) -> u64 {
        self.queue.get(q as usize).map_or(0, |q| q.in_slab())
    }

    /// The queue's name, for messages.
    pub(super) fn name(spec: &Spec, q: u32) -> String {
        format!("queue `{}`", spec.queues[q as usize].name)
    }

    /// Messages now in slabs and outboxes, counted afresh (the invariant behind `held`);
    /// no consumer on a crashed replica (`down`) holds a message. A stopped consumer on a
    /// replica that is up is draining (autoscaling's scale-down): it may still finish
    /// what it holds.
    pub(super) fn check(&self, down: impl Fn(ReplicaId) -> bool, violations: &mut Vec<String>) {
        let mut n = 0u64;
        for q in &self.queue {
            n += q.in_slab() + q.outbox.len() as u64;
            for (i, c) in q.consumers.iter().enumerate() {
                if c.held > 0 && !c.alive && down(c.replica) {
                    violations.push(format!(
                        "consumer {i} on crashed replica {} still holds {} messages",
                        c.replica, c.held
                    ));
                }
            }
        }
        if n != self.held {
            violations.push(format!("queues: {} messages counted but {n} held", self.held));
        }
    }

    /// Pushes this interval's columns (per queue: sent, received, deleted,
    /// dead-lettered, depth, age of the oldest visible message) and starts the next.
    pub(super) fn flush_interval(&mut self, b: Nanos, push: &mut impl FnMut(f64)) {
        for q in self.queue.iter_mut() {
            for v in q.interval {
                push(v as f64);
            }
            q.interval = [0; 4];
            push(q.visible.len() as f64);
            let age = q.visible.keys().next().map(|(t, _)| b.saturating_sub(*t) as f64 / 1e9);
            push(age.unwrap_or(0.0));
        }
    }

    /// Figures per queue at `end`; checks that each queue's messages add up.
    pub(super) fn figures(
        &mut self,
        spec: &Spec,
        end: Nanos,
        violations: &mut Vec<String>,
    ) -> Vec<QueueFigures> {
        let mut out = Vec::new();
        for (i, q) in self.queue.iter_mut().enumerate() {
            let mut f = std::mem::take(&mut q.fig);
            let free: std::collections::BTreeSet<u32> = q.free.iter().copied().collect();
            f.in_flight = q
                .slots
                .iter()
                .enumerate()
                .filter(|(s, m)| !free.contains(&(*s as u32)) && m.counted && m.state != State::Ended)
                .count() as u64;
            if end > q.depth_at {
                q.depth_area += q.visible.len() as f64 * (end - q.depth_at) as f64;
            }
            let window = end.saturating_sub(spec.warmup_ns) as f64;
            f.mean_depth = if window > 0.0 { q.depth_area / window } else { 0.0 };
            if let Some((t, _)) = q.visible.keys().next() {
                f.max_age_s = f.max_age_s.max(end.saturating_sub(*t) as f64 / 1e9);
            }
            let ended = f.deleted + f.dead_lettered + f.dropped + f.in_flight;
            if ended != f.sent {
                violations.push(format!(
                    "queue {}: deleted + dead-lettered + dropped + in flight = {ended}, sent {}",
                    spec.queues[i].name, f.sent
                ));
            }
            out.push(f);
        }
        out
    }
}

impl QueueState {
    /// Messages in the slab: neither free nor retired slots.
    fn in_slab(&self) -> u64 {
        (self.slots.len() - self.free.len() - self.retired as usize) as u64
    }
}

impl World<'_> {
    /// Puts a message among the visible ones.
    fn show(&mut self, queue: u32, slot: u32) {
        let now = self.sched.now();
        let counted = self.rec.counted(now);
        let q = &mut self.queues.queue[queue as usize];
        depth_step(q, now, counted);
        let m = &mut q.slots[slot as usize];
        m.state = State::Visible;
        q.visible.insert((m.sent_at, m.seq), slot);
        if counted {
            q.fig.max_depth = q.fig.max_depth.max(q.visible.len() as u64);
        }
    }
}

/// Where a new slot's receipt and a new message's receive count start, and how many
/// slots a queue may have: 0, 0 and 2^32, except in the tests that start them near
/// their width (`widths_tests.rs`).
#[cfg(not(test))]
#[inline(always)]
fn first_receipt() -> u32 {
    0
}
#[cfg(not(test))]
#[inline(always)]
fn first_receives() -> u32 {
    0
}
#[cfg(not(test))]
#[inline(always)]
fn slot_cap() -> u64 {
    1 << 32
}
#[cfg(test)]
use widths_tests::{first_receipt, first_receives, slot_cap};

// A waiting message costs its slot (40 bytes, asserted here; docs: "about 40") and
// its entry among the visible ones.
const _: () = assert!(std::mem::size_of::<Msg>() == 40);

/// Adds the visible depth's time integral up to `now` (from warm-up on).
fn depth_step(q: &mut QueueState, now: Nanos, counted: bool) {
    if counted && now > q.depth_at {
        q.depth_area += q.visible.len() as f64 * (now - q.depth_at) as f64;
        q.depth_at = now;
    }
}
