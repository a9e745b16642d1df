//! Receiving and acknowledging: a consumer with room takes the oldest visible message
//! and runs its handler on its own replica; the handler's answer deletes the message or
//! gives it back; the visibility timeout hands it out again; the receive count sends it
//! to the dead-letter queue.

use super::{State, depth_step};
use crate::metrics::Outcome;
use crate::model::World;
use crate::model::event::{Ev, Origin};
use crate::spec::ReplicaId;

/// How a message ends.
#[derive(Clone, Copy)]
enum Fate {
    Deleted,
    Exhausted,
}

impl World<'_> {
    /// Hands visible messages to consumers with room, oldest first, round robin.
    pub(in crate::model) fn receive(&mut self, queue: u32) {
        let now = self.sched.now();
        let counted_now = self.rec.counted(now);
        let vt = self.spec.queues[queue as usize].visibility_timeout_ns;
        loop {
            let q = &mut self.queues.queue[queue as usize];
            if q.outage > 0 || q.visible.is_empty() {
                return;
            }
            // The next consumer with room (dead and full ones leave the list).
            let c = loop {
                let Some(c) = q.ready.pop_front() else { return };
                let con = &mut q.consumers[c as usize];
                let prefetch = self.spec.queues[queue as usize].consumers[con.pool as usize].prefetch;
                if con.alive && con.held < prefetch {
                    break c;
                }
                con.ready = false;
            };
            depth_step(q, now, counted_now);
            let Some((_, slot)) = q.visible.pop_first() else { return };
            let m = &mut q.slots[slot as usize];
            m.receives = m.receives.saturating_add(1);
            m.holders += 1;
            m.state = State::Invisible;
            let (receipt, entity, counted, sent_at) = (m.receipt, m.entity, m.counted, m.sent_at);
            q.interval[1] += 1;
            if counted {
                q.fig.received += 1;
            }
            if counted_now {
                q.fig.max_age_s = q.fig.max_age_s.max(now.saturating_sub(sent_at) as f64 / 1e9);
            }
            let con = &mut q.consumers[c as usize];
            let pool = &self.spec.queues[queue as usize].consumers[con.pool as usize];
            con.held += 1;
            if con.held > pool.prefetch {
                self.violations.push(format!("a consumer of queue {queue} holds more than its prefetch"));
            }
            if con.held < pool.prefetch {
                q.ready.push_back(c);
            } else {
                con.ready = false;
            }
            let (endpoint, replica) = (pool.endpoint, con.replica);
            if let Some(v) = vt {
                self.sched.after(v, Ev::VisibilityExpire { queue, slot, receipt });
            }
            // The handler runs on the consumer's own replica: no balancer, no network hop.
            self.arrive(Origin::Queue { queue, consumer: c, slot }, endpoint, replica, entity);
            if self.failure.is_some() {
                return;
            }
        }
    }

    /// A handler's answer for a message its consumer held.
    pub(in crate::model) fn queue_answer(&mut self, queue: u32, consumer: u32, slot: u32, outcome: Outcome) {
        let now = self.sched.now();
        let spec_q = &self.spec.queues[queue as usize];
        let q = &mut self.queues.queue[queue as usize];
        let con = &mut q.consumers[consumer as usize];
        con.held -= 1;
        let idempotent = spec_q.consumers[con.pool as usize].idempotent;
        if con.alive && !con.ready {
            con.ready = true;
            q.ready.push_back(consumer);
        }
        let outage = q.outage > 0;
        let m = &mut q.slots[slot as usize];
        m.holders -= 1;
        let first_success = outcome.is_ok() && !m.succeeded;
        if outcome.is_ok() {
            if !first_success && m.counted {
                q.fig.duplicates += 1;
                if !idempotent {
                    q.fig.inconsistent += 1;
                }
            }
            m.succeeded = true;
        }
        let state = m.state;
        if state == State::Ended {
            // Deleted (or dead-lettered) while this handler ran.
            self.free_if_done(queue, slot);
        } else if outcome.is_ok() && !outage {
            if state == State::Visible {
                let key = (m.sent_at, m.seq);
                depth_step(q, now, self.rec.counted(now));
                q.visible.remove(&key);
            }
            self.end_msg(queue, slot, Fate::Deleted);
        } else if spec_q.visibility_timeout_ns.is_none() && state == State::Invisible && m.holders == 0 {
            // RabbitMQ: a nack with requeue (or an ack lost with the connection) puts the
            // message back at once.
            self.give_back(queue, slot);
        }
        // With a visibility timeout the message comes back when it runs out.
        self.receive(queue);
    }

    /// A receive's visibility timeout ran out (`receipt`: the message's, at the receive).
    pub(in crate::model) fn visibility_expire(&mut self, queue: u32, slot: u32, receipt: u32) {
        let m = &self.queues.queue[queue as usize].slots[slot as usize];
        if m.receipt != receipt || m.state != State::Invisible {
            return;
        }
        self.give_back(queue, slot);
        self.receive(queue);
    }

    /// A message comes back: visible again, or dead-lettered (dropped) once it has been
    /// received `max_receive_count` times (SQS's redrive policy).
    fn give_back(&mut self, queue: u32, slot: u32) {
        let max = self.spec.queues[queue as usize].max_receive_count;
        let receives = self.queues.queue[queue as usize].slots[slot as usize].receives;
        if max.is_some_and(|k| receives >= k) {
            self.end_msg(queue, slot, Fate::Exhausted);
        } else {
            self.show(queue, slot);
        }
    }

    /// A message ends (it is no longer visible).
    fn end_msg(&mut self, queue: u32, slot: u32, fate: Fate) {
        let now = self.sched.now();
        let dead_letter = self.spec.queues[queue as usize].dead_letter;
        let q = &mut self.queues.queue[queue as usize];
        let m = &mut q.slots[slot as usize];
        m.state = State::Ended;
        let counted = m.counted;
        match fate {
            Fate::Deleted => {
                q.interval[2] += 1;
                if counted {
                    q.fig.deleted += 1;
                    q.fig.latency.record(now - m.sent_at);
                }
            }
            Fate::Exhausted if dead_letter => {
                q.interval[3] += 1;
                if counted {
                    q.fig.dead_lettered += 1;
                }
            }
            Fate::Exhausted => {
                if counted {
                    q.fig.dropped += 1;
                }
            }
        }
        self.free_if_done(queue, slot);
    }

    /// Frees an ended message's slot once no handler holds it.
    fn free_if_done(&mut self, queue: u32, slot: u32) {
        let q = &mut self.queues.queue[queue as usize];
        let m = &mut q.slots[slot as usize];
        if m.state == State::Ended && m.holders == 0 {
            self.queues.held -= 1;
            if m.receipt == u32::MAX {
                // Its receipts are used up: a new message here could be named by a
                // stale timer of an old one. Retired (40 bytes per 2^32 messages).
                q.retired += 1;
                #[cfg(test)]
                super::widths_tests::retired();
            } else {
                m.receipt += 1;
                q.free.push(slot);
            }
        }
    }

    /// The consumers on a crashed replica die. Their messages come back as the
    /// replica's executions fail (each answers its consumer): at once without a
    /// visibility timeout (RabbitMQ requeues a closed channel's unacked messages), when
    /// it runs out with one (SQS).
    pub(in crate::model) fn queue_consumers_down(&mut self, replica: ReplicaId) {
        for q in self.queues.queue.iter_mut() {
            for c in q.consumers.iter_mut().filter(|c| c.replica == replica) {
                c.alive = false;
            }
        }
    }

    /// The consumers on a restarted replica take messages again.
    pub(in crate::model) fn queue_consumers_up(&mut self, replica: ReplicaId) {
        for queue in 0..self.queues.queue.len() as u32 {
            let q = &mut self.queues.queue[queue as usize];
            let mut any = false;
            for (i, c) in q.consumers.iter_mut().enumerate() {
                if c.replica == replica && !c.alive {
                    c.alive = true;
                    any = true;
                    if !c.ready {
                        c.ready = true;
                        q.ready.push_back(i as u32);
                    }
                }
            }
            if any {
                self.receive(queue);
            }
        }
    }
}
