//! The producing side of a topic: a publish step (straight to the broker, waiting for
//! its acknowledgement, or into the transactional outbox), the outbox relay, the
//! broker's append of a message to the key's partition in every group, and broker
//! outages (a direct publish fails, the relay waits, consumers get nothing).
//!
//! *Invariants*: a message the broker accepts reaches every group of its topic once, on
//! the one partition its key chooses (the relay appends what it drains, in order); a
//! publish refused in an outage appends nothing; an outage's end hands out what waited.

use crate::metrics::Outcome;
use crate::model::World;
use crate::model::event::{Ev, ExecId};
use crate::spec::{Cause, KeyMode};
use rand::RngExt;

use super::{Entry, Msg};

/// The next partition in turn. `rr` is that partition itself, never a count of
/// messages: a count wraps after 2^32 messages (12 hours at 100,000/s), and `count % n`
/// then skips partitions unless `n` is a power of two. Below the wrap both give the
/// same partitions.
pub(super) fn round_robin(rr: &mut u32, n: u32) -> u32 {
    let p = *rr;
    *rr = if p + 1 >= n { 0 } else { p + 1 };
    p
}

impl World<'_> {
    /// A publish step of an execution.
    pub(in crate::model) fn publish_step(&mut self, exec: ExecId, topic: u32, outbox: bool) {
        let now = self.sched.now();
        let Some(entity) = self.servers.exec_entity(exec) else { return };
        let counted = self.rec.counted(now);
        let msg = Msg { published_at: now, counted, entity };
        if outbox {
            // Written with the endpoint's own data, in its transaction; the relay
            // publishes it once the broker is reachable.
            self.grow_backlog(1);
            let t = &mut self.topics.topic[topic as usize];
            t.outbox.push_back(msg);
            if !t.relay_scheduled {
                t.relay_scheduled = true;
                let iv = self.spec.topics[topic as usize].relay_interval_ns;
                self.sched.after(iv, Ev::RelayTick { topic });
            }
            self.sched.after(0, Ev::ExecWake { exec });
            return;
        }
        let t = &mut self.topics.topic[topic as usize];
        if t.outage > 0 {
            // The dual write: the endpoint's work before this step is done, the event
            // is lost, and the request fails.
            t.interval[1] += 1;
            if counted {
                t.publish_failed += 1;
            }
            return self.finish_exec(exec, Outcome::Failed(Cause::Error));
        }
        self.append(topic, msg);
        let d = match &self.spec.topics[topic as usize].latency {
            Some(dist) => dist.sample(&mut self.topics.topic[topic as usize].rng),
            None => 0,
        };
        // The worker waits for the broker's acknowledgement.
        self.sched.after(d, Ev::ExecWake { exec });
    }

    pub(in crate::model) fn relay_tick(&mut self, topic: u32) {
        let t = &mut self.topics.topic[topic as usize];
        t.relay_scheduled = false;
        if t.outbox.is_empty() {
            return;
        }
        if t.outage == 0 {
            let pending: Vec<Msg> = t.outbox.drain(..).collect();
            self.topics.backlog -= pending.len() as u64;
            for m in pending {
                // The event keeps the time it was written: its latency to the consumers
                // includes the time it waited in the outbox.
                self.append(topic, m);
            }
        } else {
            t.relay_scheduled = true;
            let iv = self.spec.topics[topic as usize].relay_interval_ns;
            self.sched.after(iv, Ev::RelayTick { topic });
        }
    }

    /// The broker accepted a message: every group gets it on the key's partition.
    fn append(&mut self, topic: u32, msg: Msg) {
        let spec_t = &self.spec.topics[topic as usize];
        let t = &mut self.topics.topic[topic as usize];
        let n = spec_t.partitions;
        let part = match spec_t.key {
            KeyMode::Random => t.rng.random_range(0..n),
            KeyMode::RoundRobin => round_robin(&mut t.rr, n),
            KeyMode::Entities(k) => (msg.entity % k.max(1)) % n,
        };
        t.interval[0] += 1;
        if msg.counted {
            t.published += 1;
        }
        for k in 0..t.groups.len() {
            let g = self.topics.topic[topic as usize].groups[k];
            let gs = &mut self.topics.group[g as usize];
            gs.parts[part as usize].queue.push_back(Entry {
                msg,
                succeeded: false,
                finished: false,
                deliveries: 0,
                attempts: 0,
            });
            gs.lag += 1;
            if self.rec.counted(self.sched.now()) {
                gs.fig.max_lag = gs.fig.max_lag.max(gs.lag);
            }
            self.grow_backlog(1);
            self.kick(g, part);
        }
    }

    pub(in crate::model) fn outage_start(&mut self, topic: u32) {
        self.topics.topic[topic as usize].outage += 1;
    }

    pub(in crate::model) fn outage_end(&mut self, topic: u32) {
        let t = &mut self.topics.topic[topic as usize];
        t.outage = t.outage.saturating_sub(1);
        if t.outage > 0 {
            return;
        }
        for k in 0..self.topics.topic[topic as usize].groups.len() {
            let g = self.topics.topic[topic as usize].groups[k];
            for p in 0..self.topics.group[g as usize].parts.len() as u32 {
                self.kick(g, p);
            }
        }
    }
}
