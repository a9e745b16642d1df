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

use super::World;
use super::event::{Ev, ExecId, Origin};
use super::output::{GroupFigures, RunError, TopicFigures};
use crate::metrics::Outcome;
use crate::rng::{Rng, rng_stream};
use crate::spec::{Cause, Group, KeyMode, Nanos, OnExhausted, ReplicaId, Spec};
use rand::RngExt;
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
    epoch: u32,
}

struct Consumer {
    replica: ReplicaId,
    alive: bool,
    epoch: u32,
    /// Leaving the group (its replica is scaled down): keeps what it has in hand,
    /// gets no partition in a rebalance.
    leaving: bool,
}

struct TopicState {
    outbox: VecDeque<Msg>,
    relay_scheduled: bool,
    outage: u32,
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
/// outboxes (`backlog_recount`), bounded by `limits.max_backlog`.
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

    /// Messages now in partitions and outboxes, counted afresh (the invariant behind
    /// `backlog`).
    pub(super) fn check_backlog(&self, violations: &mut Vec<String>) {
        let parts: usize = self.group.iter().flat_map(|g| g.parts.iter()).map(|p| p.queue.len()).sum();
        let outboxes: usize = self.topic.iter().map(|t| t.outbox.len()).sum();
        let backlog = (parts + outboxes) as u64;
        if backlog != self.backlog {
            violations.push(format!("backlog counted {} but {backlog} messages wait", self.backlog));
        }
    }

    /// `topic/group`, for messages.
    /// A group's lag (published, not yet handled).
    pub(super) fn group_lag(&self, g: u32) -> u64 {
        self.group.get(g as usize).map_or(0, |gs| gs.lag)
    }

    pub(super) fn group_name(&self, spec: &Spec, g: u32) -> String {
        let gs = &self.group[g as usize];
        let t = &spec.topics[gs.topic as usize];
        format!("`{}/{}`", t.name, t.groups[gs.def].name)
    }

    /// Pushes this interval's columns (per topic: published, publish_failed; then per
    /// group in topic order: delivered, redelivered, dead-lettered, lag) and starts the
    /// next interval.
    pub(super) fn flush_interval(&mut self, push: &mut impl FnMut(f64)) {
        for t in self.topic.iter_mut() {
            push(t.interval[0] as f64);
            push(t.interval[1] as f64);
            t.interval = [0; 2];
        }
        for t in &self.topic {
            for &g in &t.groups {
                let g = &mut self.group[g as usize];
                push(g.interval[0] as f64);
                push(g.interval[1] as f64);
                push(g.interval[2] as f64);
                push(g.lag as f64);
                g.interval = [0; 3];
            }
        }
    }

    /// Figures per topic; checks that each group's messages add up.
    pub(super) fn figures(&mut self, spec: &Spec, violations: &mut Vec<String>) -> Vec<TopicFigures> {
        let mut out = Vec::new();
        for (t, ts) in self.topic.iter().enumerate() {
            let mut groups = Vec::new();
            for &g in &ts.groups {
                let gs = &mut self.group[g as usize];
                let mut f = std::mem::take(&mut gs.fig);
                f.in_flight = gs
                    .parts
                    .iter()
                    .flat_map(|p| p.queue.iter())
                    .filter(|e| e.msg.counted && !e.finished)
                    .count() as u64;
                let ended = f.delivered + f.dead_lettered + f.dropped + f.in_flight;
                if ended != ts.published {
                    violations.push(format!(
                        "topic {} group {}: delivered + dead-lettered + dropped + in flight = {ended}, \
                         published {}",
                        spec.topics[t].name, spec.topics[t].groups[gs.def].name, ts.published
                    ));
                }
                groups.push(f);
            }
            out.push(TopicFigures { published: ts.published, publish_failed: ts.publish_failed, groups });
        }
        out
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
                parts: (0..topic.partitions).map(|_| Part::default()).collect(),
                consumers: (0..group.consumers)
                    .map(|i| Consumer {
                        replica: svc.first_replica + i % svc.replicas,
                        alive: true,
                        epoch: 0,
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

impl World<'_> {
    /// Counts messages entering a partition or an outbox against `limits.max_backlog`.
    fn grow_backlog(&mut self, n: u64) {
        self.topics.backlog += n;
        let max = self.spec.limits.max_backlog;
        if self.topics.backlog > max && self.failure.is_none() {
            self.failure = Some(RunError::Limit(format!(
                "{} messages were waiting at once in topic partitions and outboxes at {:.3} s of \
                 simulated time (the limit, counted once per consumer group); the consumers cannot \
                 keep up (add consumers or partitions, or make the handler faster), or raise \
                 /limits/max_backlog",
                self.topics.backlog,
                self.sched.now() as f64 / 1e9
            )));
        }
    }

    fn group_def(&self, g: u32) -> &Group {
        let gs = &self.topics.group[g as usize];
        &self.spec.topics[gs.topic as usize].groups[gs.def]
    }

    /// Assigns partitions and starts the commit clocks at the beginning of the run.
    pub(super) fn start_groups(&mut self) {
        for g in 0..self.topics.group.len() as u32 {
            self.sched.at(0, Ev::Rebalance { group: g });
            if let Some(iv) = self.group_def(g).commit_interval_ns {
                for c in 0..self.topics.group[g as usize].consumers.len() as u32 {
                    self.sched.at(iv, Ev::CommitTick { group: g, consumer: c, epoch: 0 });
                }
            }
        }
    }

    /// A publish step of an execution.
    pub(super) fn publish_step(&mut self, exec: ExecId, topic: u32, outbox: bool) {
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

    pub(super) fn relay_tick(&mut self, topic: u32) {
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
            KeyMode::RoundRobin => {
                let p = t.rr % n;
                t.rr = t.rr.wrapping_add(1);
                p
            }
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

    /// Hands the partition's next message to its consumer, if it can take one.
    fn kick(&mut self, g: u32, p: u32) {
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
        entry.deliveries += 1;
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
    pub(super) fn consumer_done(&mut self, g: u32, p: u32, epoch: u32, outcome: Outcome) {
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
            part.epoch = part.epoch.wrapping_add(1);
        }
        self.topics.backlog -= left;
        self.kick(g, p);
    }

    pub(super) fn consumer_retry(&mut self, g: u32, p: u32, epoch: u32) {
        let part = &mut self.topics.group[g as usize].parts[p as usize];
        if part.epoch == epoch && part.busy {
            part.busy = false;
            self.kick(g, p);
        }
    }

    /// Reassigns the partitions among the live consumers (partition p to the
    /// (p mod live)-th live consumer; consumers beyond the partition count idle).
    pub(super) fn rebalance(&mut self, g: u32) {
        let gs = &mut self.topics.group[g as usize];
        let mut left = 0;
        let live: Vec<u32> = gs
            .consumers
            .iter()
            .enumerate()
            .filter(|(_, c)| c.alive && !c.leaving)
            .map(|(i, _)| i as u32)
            .collect();
        for p in 0..gs.parts.len() {
            let want = if live.is_empty() { None } else { Some(live[p % live.len()]) };
            let part = &mut gs.parts[p];
            let owner_alive = part.owner.is_some_and(|o| gs.consumers[o as usize].alive);
            if !owner_alive {
                // Its consumer died (or it never had one): what was handled since the
                // last commit is handed out again (the lag does not grow: those messages
                // were handled, and count as duplicates if handled again).
                part.cursor = 0;
                part.busy = false;
                part.handoff = None;
                part.owner = want;
                part.epoch = part.epoch.wrapping_add(1);
            } else if part.owner != want {
                if part.busy {
                    part.handoff = want;
                } else {
                    left += commit(part);
                    part.owner = want;
                    part.epoch = part.epoch.wrapping_add(1);
                }
            }
        }
        self.topics.backlog -= left;
        for p in 0..self.topics.group[g as usize].parts.len() as u32 {
            self.kick(g, p);
        }
    }

    pub(super) fn commit_tick(&mut self, g: u32, consumer: u32, epoch: u32) {
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

    /// The consumers on a crashed replica die; their partitions move after the
    /// session timeout.
    pub(super) fn consumers_on_crash(&mut self, replica: ReplicaId) {
        for g in 0..self.topics.group.len() as u32 {
            let timeout = self.group_def(g).session_timeout_ns;
            let gs = &mut self.topics.group[g as usize];
            let mut any = false;
            for (i, c) in gs.consumers.iter_mut().enumerate() {
                if c.replica == replica && c.alive {
                    c.alive = false;
                    c.epoch = c.epoch.wrapping_add(1);
                    any = true;
                    for part in gs.parts.iter_mut().filter(|p| p.owner == Some(i as u32)) {
                        // Whatever it had in hand is lost with it.
                        part.epoch = part.epoch.wrapping_add(1);
                        part.busy = false;
                    }
                }
            }
            if any {
                self.sched.after(timeout, Ev::Rebalance { group: g });
            }
        }
    }

    /// The consumers on a restarted replica rejoin their groups.
    pub(super) fn consumers_on_restart(&mut self, replica: ReplicaId) {
        for g in 0..self.topics.group.len() as u32 {
            let iv = self.group_def(g).commit_interval_ns;
            let gs = &mut self.topics.group[g as usize];
            let mut any = false;
            let mut ticks = Vec::new();
            for (i, c) in gs.consumers.iter_mut().enumerate() {
                if c.replica == replica && !c.alive {
                    c.alive = true;
                    c.leaving = false;
                    c.epoch = c.epoch.wrapping_add(1);
                    any = true;
                    ticks.push((i as u32, c.epoch));
                }
            }
            if let Some(iv) = iv {
                for (c, epoch) in ticks {
                    self.sched.after(iv, Ev::CommitTick { group: g, consumer: c, epoch });
                }
            }
            if any {
                self.sched.after(0, Ev::Rebalance { group: g });
            }
        }
    }

    /// The consumers on a replica being scaled down leave their groups (Kafka's
    /// `LeaveGroup` on close): a rebalance at once moves their partitions, each after
    /// the message in hand is done and committed.
    pub(super) fn consumers_leave(&mut self, replica: ReplicaId) {
        for g in 0..self.topics.group.len() as u32 {
            let gs = &mut self.topics.group[g as usize];
            let mut any = false;
            for c in gs.consumers.iter_mut().filter(|c| c.replica == replica && c.alive) {
                c.leaving = true;
                any = true;
            }
            if any {
                self.sched.after(0, Ev::Rebalance { group: g });
            }
        }
    }

    pub(super) fn outage_start(&mut self, topic: u32) {
        self.topics.topic[topic as usize].outage += 1;
    }

    pub(super) fn outage_end(&mut self, topic: u32) {
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

/// Commits the partition's handled messages: they will not be handed out again.
/// Returns how many left the partition.
#[must_use]
fn commit(part: &mut Part) -> u64 {
    let n = part.cursor;
    part.queue.drain(..n);
    part.cursor = 0;
    n as u64
}
