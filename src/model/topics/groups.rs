//! Group membership: the first assignment, rebalances (partition p to the
//! (p mod live)-th live consumer), and consumers dying with their replica (their
//! partitions move after the session timeout, what they handled since the last commit
//! handed out again), rejoining on restart, or leaving when their replica is scaled
//! down (a rebalance at once, each partition moving after the message in hand).
//!
//! *Invariants*: a partition has one owner at a time; a partition whose owner died
//! rewinds to its committed offset without raising the lag; a live owner hands a
//! partition over only after committing what it handled.

use crate::model::World;
use crate::model::event::Ev;
use crate::spec::ReplicaId;

use super::consume::commit;

impl World<'_> {
    /// Assigns partitions and starts the commit clocks at the beginning of the run.
    pub(in crate::model) fn start_groups(&mut self) {
        for g in 0..self.topics.group.len() as u32 {
            self.sched.at(0, Ev::Rebalance { group: g });
            if let Some(iv) = self.group_def(g).commit_interval_ns {
                for c in 0..self.topics.group[g as usize].consumers.len() as u32 {
                    let epoch = self.topics.group[g as usize].consumers[c as usize].epoch;
                    self.sched.at(iv, Ev::CommitTick { group: g, consumer: c, epoch });
                }
            }
        }
    }

    /// Reassigns the partitions among the live consumers (partition p to the
    /// (p mod live)-th live consumer; consumers beyond the partition count idle).
    pub(in crate::model) fn rebalance(&mut self, g: u32) {
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
                super::bump(&mut part.epoch);
            } else if part.owner != want {
                if part.busy {
                    part.handoff = want;
                } else {
                    left += commit(part);
                    part.owner = want;
                    super::bump(&mut part.epoch);
                }
            }
        }
        self.topics.backlog -= left;
        for p in 0..self.topics.group[g as usize].parts.len() as u32 {
            self.kick(g, p);
        }
    }

    /// The consumers on a crashed replica die; their partitions move after the
    /// session timeout.
    pub(in crate::model) fn consumers_on_crash(&mut self, replica: ReplicaId) {
        for g in 0..self.topics.group.len() as u32 {
            let timeout = self.group_def(g).session_timeout_ns;
            let gs = &mut self.topics.group[g as usize];
            let mut any = false;
            for (i, c) in gs.consumers.iter_mut().enumerate() {
                if c.replica == replica && c.alive {
                    c.alive = false;
                    super::bump(&mut c.epoch);
                    any = true;
                    for part in gs.parts.iter_mut().filter(|p| p.owner == Some(i as u32)) {
                        // Whatever it had in hand is lost with it.
                        super::bump(&mut part.epoch);
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
    pub(in crate::model) fn consumers_on_restart(&mut self, replica: ReplicaId) {
        for g in 0..self.topics.group.len() as u32 {
            let iv = self.group_def(g).commit_interval_ns;
            let gs = &mut self.topics.group[g as usize];
            let mut any = false;
            let mut ticks = Vec::new();
            for (i, c) in gs.consumers.iter_mut().enumerate() {
                if c.replica == replica && !c.alive {
                    c.alive = true;
                    c.leaving = false;
                    super::bump(&mut c.epoch);
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
    pub(in crate::model) fn consumers_leave(&mut self, replica: ReplicaId) {
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
}
