//! The consuming side of a group: a partition's next message handed to its owner (one
//! at a time, in order, the handler run on the consumer's own replica), the handler's
//! answer (delivered, a duplicate, or a failure retried after a blocking backoff until
//! dead-lettered or dropped), and the commits, per message or on the consumer's
//! interval (Kafka's auto-commit).
//!
//! *Invariants*: a partition has at most one message in hand (`busy`); an answer from
//! an earlier epoch of the partition is ignored; a message's fate is counted once
//! (`finished`), however often it is handed out again; a commit removes exactly the
//! handled messages (those before `cursor`) and returns how many left the backlog.

use crate::metrics::Outcome;
use crate::model::World;
use crate::model::event::{Ev, Origin};
use crate::spec::OnExhausted;

use super::Part;

impl World<'_> {
    /// Hands the partition's next message to its consumer, if it can take one.
    pub(super) fn kick(&mut self, g: u32, p: u32) {
        let now = self.sched.now();
        let gs = &mut self.topics.group[g as usize];
        if self.topics.topic[gs.topic as usize].outage > 0 {
            return;
        }
        let part = &mut gs.parts[p as usize];
        if part.busy || part.cursor >= part.queue.len() {
            return;
        }
        let Some(owner) = part.owner else { return };
        let c = &gs.consumers[owner as usize];
        if !c.alive {
            return;
        }
        let replica = c.replica;
        let entry = &mut part.queue[part.cursor];
        // Only "more than once" is read: saturating keeps a message redelivered
        // 2^32 times (blocking retries over many rewinds) a redelivery.
        entry.deliveries = entry.deliveries.saturating_add(1);
        if entry.deliveries > 1 {
            gs.interval[1] += 1;
            if entry.msg.counted {
                gs.fig.redelivered += 1;
            }
        }
        let entity = entry.msg.entity;
        part.busy = true;
        let origin = Origin::Consumer { group: g, part: p, epoch: part.epoch };
        let endpoint = self.group_def(g).endpoint;
        let _ = now;
        // The handler runs on the consumer's own replica: no balancer, no network hop.
        self.arrive(origin, endpoint, replica, entity);
    }

    /// The handler's answer for the message in hand.
    pub(in crate::model) fn consumer_done(&mut self, g: u32, p: u32, epoch: u32, outcome: Outcome) {
        let now = self.sched.now();
        let d = self.group_def(g);
        let (max_attempts, backoff, on_exhausted, idempotent) =
            (d.max_attempts, d.backoff, d.on_exhausted, d.idempotent);
        let gs = &mut self.topics.group[g as usize];
        let part = &mut gs.parts[p as usize];
        if part.epoch != epoch || !part.busy || part.cursor >= part.queue.len() {
            return;
        }
        part.busy = false;
        let entry = &mut part.queue[part.cursor];
        let counted = entry.msg.counted;
        match outcome {
            Outcome::Ok { .. } => {
                if !entry.succeeded {
                    entry.succeeded = true;
                    if !entry.finished {
                        entry.finished = true;
                        gs.lag -= 1;
                        gs.interval[0] += 1;
                        if counted {
                            gs.fig.delivered += 1;
                            gs.fig.latency.record(now - entry.msg.published_at);
                        }
                    }
                } else if counted {
                    gs.fig.duplicates += 1;
                    if !idempotent {
                        gs.fig.inconsistent += 1;
                    }
                }
                self.advance(g, p);
            }
            Outcome::Failed(_) => {
                entry.attempts += 1;
                if entry.attempts < max_attempts {
                    // Blocking retry: the partition waits out the backoff.
                    part.busy = true;
                    let wait = match &backoff {
                        Some(b) => crate::policy::backoff::base_wait(b, entry.attempts),
                        None => 0,
                    };
                    self.sched.after(wait, Ev::ConsumerRetry { group: g, part: p, epoch });
                    return;
                }
                if !entry.finished {
                    entry.finished = true;
                    gs.lag -= 1;
                    if on_exhausted == OnExhausted::DeadLetter {
                        gs.interval[2] += 1;
                    }
                    if counted {
                        match on_exhausted {
                            OnExhausted::DeadLetter => gs.fig.dead_lettered += 1,
                            OnExhausted::Drop => gs.fig.dropped += 1,
                        }
                    }
                }
                self.advance(g, p);
            }
        }
    }

    /// The message in hand is done: move on, commit if committing per message, hand
    /// the partition over if a rebalance asked for it, and take the next one.
    fn advance(&mut self, g: u32, p: u32) {
        let per_message = self.group_def(g).commit_interval_ns.is_none();
        let gs = &mut self.topics.group[g as usize];
        let part = &mut gs.parts[p as usize];
        part.queue[part.cursor].attempts = 0;
        part.cursor += 1;
        let mut left = 0;
        if per_message {
            left += commit(part);
        }
        if let Some(next) = part.handoff.take() {
            // The current owner finishes the message in hand and commits it first.
            left += commit(part);
            part.owner = Some(next);
            super::bump(&mut part.epoch);
        }
        self.topics.backlog -= left;
        self.kick(g, p);
    }

    pub(in crate::model) fn consumer_retry(&mut self, g: u32, p: u32, epoch: u32) {
        let part = &mut self.topics.group[g as usize].parts[p as usize];
        if part.epoch == epoch && part.busy {
            part.busy = false;
            self.kick(g, p);
        }
    }

    pub(in crate::model) fn commit_tick(&mut self, g: u32, consumer: u32, epoch: u32) {
        let Some(iv) = self.group_def(g).commit_interval_ns else { return };
        let gs = &mut self.topics.group[g as usize];
        let c = &gs.consumers[consumer as usize];
        if !c.alive || c.epoch != epoch {
            return;
        }
        let mut left = 0;
        for part in gs.parts.iter_mut().filter(|p| p.owner == Some(consumer)) {
            left += commit(part);
        }
        self.topics.backlog -= left;
        self.sched.after(iv, Ev::CommitTick { group: g, consumer, epoch });
    }
}

/// Commits the partition's handled messages: they will not be handed out again.
/// Returns how many left the partition.
#[must_use]
pub(super) fn commit(part: &mut Part) -> u64 {
    let n = part.cursor;
    part.queue.drain(..n);
    part.cursor = 0;
    n as u64
}
