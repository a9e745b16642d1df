//! The sending side of a work queue: an `enqueue` step (straight to the broker, the
//! worker waiting for its acknowledgement, or into the transactional outbox), the
//! outbox relay, the broker accepting a message into the slab among the visible ones,
//! and outages (a direct send fails, the relay waits, receives stop).
//!
//! *Invariants*: `held` grows by one for each message entering a slab or an outbox
//! (`grow_queued`, against `limits.max_queued`), and the relay takes back what it
//! drains from an outbox before the broker accepts it into the slab; a send refused in
//! an outage enters nothing; an outage's end hands out what waited.

use super::{Msg, Pending, State, first_receipt, first_receives, slot_cap};
use crate::metrics::Outcome;
use crate::model::World;
use crate::model::event::{Ev, ExecId};
use crate::model::output::RunError;
use crate::spec::Cause;

impl World<'_> {
    /// Counts `n` messages entering a queue or an outbox against `limits.max_queued`.
    fn grow_queued(&mut self, n: u64) {
        self.queues.held += n;
        let max = self.spec.limits.max_queued;
        if self.queues.held > max && self.failure.is_none() {
            self.failure = Some(RunError::Limit(format!(
                "{} messages were held at once by the work queues and their outboxes at {:.3} s of \
                 simulated time (the limit); the consumers cannot keep up (add consumers, raise \
                 their prefetch, or make the handler faster), or raise /limits/max_queued",
                self.queues.held,
                self.sched.now() as f64 / 1e9
            )));
        }
    }

    /// An `enqueue` step of an execution.
    pub(in crate::model) fn enqueue_step(&mut self, exec: ExecId, queue: u32, outbox: bool) {
        let now = self.sched.now();
        let Some(entity) = self.servers.exec_entity(exec) else { return };
        let counted = self.rec.counted(now);
        if outbox {
            // Written with the endpoint's own data, in its transaction; the relay sends
            // it once the broker is reachable.
            self.grow_queued(1);
            let q = &mut self.queues.queue[queue as usize];
            q.outbox.push_back(Pending { written_at: now, counted, entity });
            if !q.relay_scheduled {
                q.relay_scheduled = true;
                self.sched
                    .after(self.spec.queues[queue as usize].relay_interval_ns, Ev::QueueRelayTick { queue });
            }
            self.sched.after(0, Ev::ExecWake { exec });
            return;
        }
        let q = &mut self.queues.queue[queue as usize];
        if q.outage > 0 {
            // The dual write: the endpoint's work before this step is done, the message
            // is lost, and the request fails.
            if counted {
                q.fig.send_failed += 1;
            }
            return self.finish_exec(exec, Outcome::Failed(Cause::Error));
        }
        self.accept(queue, Pending { written_at: now, counted, entity });
        let d = match &self.spec.queues[queue as usize].latency {
            Some(dist) => dist.sample(&mut self.queues.queue[queue as usize].rng),
            None => 0,
        };
        // The worker waits for the broker's acknowledgement.
        self.sched.after(d, Ev::ExecWake { exec });
    }

    pub(in crate::model) fn queue_relay_tick(&mut self, queue: u32) {
        let q = &mut self.queues.queue[queue as usize];
        q.relay_scheduled = false;
        if q.outbox.is_empty() {
            return;
        }
        if q.outage > 0 {
            q.relay_scheduled = true;
            self.sched
                .after(self.spec.queues[queue as usize].relay_interval_ns, Ev::QueueRelayTick { queue });
            return;
        }
        let pending: Vec<Pending> = q.outbox.drain(..).collect();
        self.queues.held -= pending.len() as u64;
        for m in pending {
            // The message keeps the time it was written: its latency to deletion
            // includes the time it waited in the outbox.
            self.accept(queue, m);
        }
    }

    /// The broker accepted a message: it joins the visible messages.
    fn accept(&mut self, queue: u32, m: Pending) {
        let q = &self.queues.queue[queue as usize];
        if q.free.is_empty() && q.slots.len() as u64 >= slot_cap() {
            // A slot's index is 32 bits (it rides in events); reached only with
            // `max_queued` above 2^32 (160 GiB of messages) or after 2^64 messages.
            if self.failure.is_none() {
                self.failure = Some(RunError::Limit(format!(
                    "{} would need more than {} message slots at {:.3} s of simulated time \
                     (a slot's index is 32 bits); lower /limits/max_queued",
                    super::Queues::name(self.spec, queue),
                    slot_cap(),
                    self.sched.now() as f64 / 1e9
                )));
            }
            return;
        }
        self.grow_queued(1);
        let q = &mut self.queues.queue[queue as usize];
        let seq = q.next_seq;
        q.next_seq += 1;
        q.interval[0] += 1;
        if m.counted {
            q.fig.sent += 1;
        }
        let msg = Msg {
            sent_at: m.written_at,
            seq,
            counted: m.counted,
            entity: m.entity,
            receives: first_receives(),
            holders: 0,
            receipt: first_receipt(),
            state: State::Visible,
            succeeded: false,
        };
        let slot = match q.free.pop() {
            Some(s) => {
                let receipt = q.slots[s as usize].receipt;
                q.slots[s as usize] = Msg { receipt, ..msg };
                s
            }
            None => {
                q.slots.push(msg);
                (q.slots.len() - 1) as u32
            }
        };
        self.show(queue, slot);
        self.receive(queue);
    }

    pub(in crate::model) fn queue_outage_start(&mut self, queue: u32) {
        self.queues.queue[queue as usize].outage += 1;
    }

    pub(in crate::model) fn queue_outage_end(&mut self, queue: u32) {
        let q = &mut self.queues.queue[queue as usize];
        q.outage = q.outage.saturating_sub(1);
        if q.outage == 0 {
            self.receive(queue);
        }
    }
}
