//! A slot's lifecycle: scaling up starts the lowest-numbered off slots (`Starting`,
//! ready after `startup`, then `Serving` through the crash/restart path), or leaves the
//! replicas `pending` while every free slot is still draining; scaling down picks as a
//! ReplicaSet does (pending first, then not ready before ready, newest first) and
//! drains (out of the balancers, consumers leave, turned off once idle or after the
//! grace period); a replica that became ready is slower for a while (cold start).
//!
//! *Invariants*: a slot's `tag` changes with its state, so a stale `ScaleReady` or
//! `DrainCheck` does nothing; `scale` = `Starting` + `Serving` + `pending` and
//! `serving` = `Serving` slots after every change (checked at the end); the balancers
//! draw among the slots up to the last serving one.

use super::{Autoscaler, Slot};
use crate::model::World;
use crate::model::event::Ev;
use crate::spec::{NS_PER_S, Nanos, ReplicaId, Spec};

/// Kubernetes' default `terminationGracePeriodSeconds`.
const GRACE_NS: Nanos = 30 * NS_PER_S;
/// How often a draining replica is looked at.
const DRAIN_POLL_NS: Nanos = 50_000_000;

impl Autoscaler {
    /// The factor on a service time at `replica` now (`None`: 1).
    #[inline]
    pub(in crate::model) fn cold_factor(&self, replica: ReplicaId, now: Nanos, spec: &Spec) -> Option<f64> {
        if now >= self.cold_until {
            return None;
        }
        let (s, k) = self.at(replica)?;
        let sc = &self.scalers[s];
        let (factor, over) = spec.services[sc.svc as usize].autoscale.as_ref()?.cold?;
        let ready = sc.deadline[k];
        if sc.slot[k] != Slot::Serving || sc.started[k] == 0 || now >= ready + over {
            return None;
        }
        // Linear from `factor` at readiness to 1 at readiness + `over`.
        Some(1.0 + (factor - 1.0) * (1.0 - (now - ready) as f64 / over as f64))
    }
}

impl World<'_> {
    /// The balancers of the service draw among the slots up to the last serving one.
    pub(super) fn update_span(&mut self, s: usize) {
        let sc = &self.autoscale.scalers[s];
        let span = sc.slot.iter().rposition(|x| *x == Slot::Serving).map_or(1, |k| k as u32 + 1);
        self.clients.set_span(sc.first, span);
    }

    /// Starts `n` replicas on the lowest-numbered off slots; those that find none (the
    /// others still draining) wait as `pending` for a drain to end.
    pub(super) fn scale_up(&mut self, s: usize, n: u32) {
        let sc = &mut self.autoscale.scalers[s];
        sc.scale += n;
        sc.pending += n;
        self.start_pending(s);
    }

    /// Starts pending replicas on the lowest-numbered off slots.
    fn start_pending(&mut self, s: usize) {
        let now = self.sched.now();
        let startup = self.spec.services[self.autoscale.scalers[s].svc as usize]
            .autoscale
            .as_ref()
            .map_or(0, |a| a.startup_ns);
        let sc = &mut self.autoscale.scalers[s];
        for k in 0..sc.slot.len() {
            if sc.pending == 0 {
                break;
            }
            if sc.slot[k] == Slot::Off {
                sc.slot[k] = Slot::Starting;
                super::bump(&mut sc.tag[k]);
                sc.started[k] = now.max(1);
                // Starting, `deadline` is the instant its `ScaleReady` is due.
                sc.deadline[k] = now.saturating_add(startup);
                sc.pending -= 1;
                let (replica, tag) = (sc.first + k as u32, sc.tag[k]);
                self.sched.after(startup, Ev::ScaleReady { replica, tag });
            }
        }
        self.recount(s);
    }

    /// A started slot's startup is over: it comes up (the crash/restart path: its
    /// consumers join, its caches start cold), passes readiness if it has a probe, and
    /// enters the balancers.
    pub(in crate::model) fn scale_ready(&mut self, replica: ReplicaId, tag: u32) {
        let Some((s, k)) = self.autoscale.at(replica) else { return };
        let sc = &mut self.autoscale.scalers[s];
        let now = self.sched.now();
        // The tag names the start; the instant makes it unique across the tag's wrap: a
        // stale `ScaleReady` could match both only if its slot were started twice at one
        // instant with 2^32 state changes between (at most three happen at one instant).
        if sc.tag[k] != tag || sc.slot[k] != Slot::Starting || sc.deadline[k] != now {
            return;
        }
        sc.slot[k] = Slot::Serving;
        sc.serving += 1;
        // `deadline` holds the readiness instant of a serving slot (cold start).
        sc.deadline[k] = now;
        if sc.fig.first_ready_s.is_none() && sc.started[k] > 0 {
            sc.fig.first_ready_s = Some(now as f64 / 1e9);
        }
        let svc = sc.svc;
        if let Some((_, over)) = self.spec.services[svc as usize].autoscale.as_ref().and_then(|a| a.cold) {
            self.autoscale.cold_until = self.autoscale.cold_until.max(now + over);
        }
        let epoch = self.servers.down_epoch(replica);
        self.restart(replica, epoch);
        self.health.provision(self.spec, replica);
        self.update_span(s);
        self.recount(s);
    }

    /// Removes `n` replicas as a ReplicaSet picks them: not ready before ready, then the
    /// newest first.
    pub(super) fn scale_down(&mut self, s: usize, n: u32) {
        let now = self.sched.now();
        // Pending ones (not even scheduled) go first.
        let sc = &mut self.autoscale.scalers[s];
        let cancel = sc.pending.min(n);
        sc.pending -= cancel;
        sc.scale -= cancel;
        let n = n - cancel;
        let sc = &self.autoscale.scalers[s];
        let mut order: Vec<(bool, std::cmp::Reverse<Nanos>, std::cmp::Reverse<usize>)> = sc
            .slot
            .iter()
            .enumerate()
            .filter(|(_, x)| matches!(x, Slot::Starting | Slot::Serving))
            .map(|(k, x)| {
                let r = sc.first + k as u32;
                let ready = *x == Slot::Serving && !self.servers.is_down(r) && self.health.ready(r);
                (ready, std::cmp::Reverse(sc.started[k]), std::cmp::Reverse(k))
            })
            .collect();
        order.sort();
        for &(_, _, std::cmp::Reverse(k)) in order.iter().take(n as usize) {
            let sc = &mut self.autoscale.scalers[s];
            let replica = sc.first + k as u32;
            super::bump(&mut sc.tag[k]);
            sc.scale -= 1;
            match sc.slot[k] {
                Slot::Starting => sc.slot[k] = Slot::Off,
                _ => {
                    sc.serving -= 1;
                    self.health.set_out(replica, true);
                    if self.servers.is_down(replica) {
                        // Crashed: nothing to drain.
                        self.autoscale.scalers[s].slot[k] = Slot::Off;
                    } else {
                        let sc = &mut self.autoscale.scalers[s];
                        sc.slot[k] = Slot::Draining;
                        sc.deadline[k] = now + GRACE_NS;
                        let tag = sc.tag[k];
                        // Its consumers leave their groups (Kafka's LeaveGroup on close;
                        // a work queue's consumer stops receiving) and finish what they hold.
                        self.consumers_leave(replica);
                        self.queue_consumers_down(replica);
                        self.sched.after(DRAIN_POLL_NS, Ev::DrainCheck { replica, tag });
                    }
                }
            }
        }
        self.update_span(s);
        self.recount(s);
    }

    /// A draining replica is turned off once it holds nothing (or its grace period ran
    /// out: what it still holds fails, as a SIGKILL).
    pub(in crate::model) fn drain_check(&mut self, replica: ReplicaId, tag: u32) {
        let Some((s, k)) = self.autoscale.at(replica) else { return };
        let sc = &self.autoscale.scalers[s];
        if sc.tag[k] != tag || sc.slot[k] != Slot::Draining {
            return;
        }
        let now = self.sched.now();
        if !self.servers.idle(replica) && now < sc.deadline[k] {
            self.sched.after(DRAIN_POLL_NS, Ev::DrainCheck { replica, tag });
            return;
        }
        self.autoscale.scalers[s].slot[k] = Slot::Off;
        self.kill(replica);
        self.recount(s);
        // A slot is free for a replica waiting for one.
        if self.autoscale.scalers[s].pending > 0 {
            self.start_pending(s);
        }
    }
}
