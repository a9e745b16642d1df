//! A direct call: one made without a policy, by a workload or an execution's step (a
//! saga's calls carry effect tags on their attempts and keep the general path). With no
//! timeout, retry, hedge, deadline, breaker, rate limiter or bulkhead, such a call has
//! exactly one attempt, sent at once and never abandoned, so the call carries it
//! itself: no `Attempt` record, the execution's origin is `Origin::Call`, and the
//! answer ends the call directly. Everything observable is what the general path does
//! with a policy-less attempt (the same balancer pick, network draws, events in the
//! same order, the same figures): the committed reports are byte-identical.
//!
//! *Invariants*: a direct call has `replica` set exactly while its request is out
//! (`ReplicaId::MAX` when no replica was ready: refused locally); it ends once, on its
//! answer, which gives back the balancer's outstanding count.

use super::CallId;
use crate::metrics::Outcome;
use crate::model::World;
use crate::model::event::{Ev, Origin};
use crate::model::network::NO_NET;
use crate::spec::{Cause, ReplicaId};

impl World<'_> {
    /// Sends a direct call's one attempt: the balancer's pick, then the network.
    #[inline(always)]
    pub(super) fn send_direct(&mut self, call_id: CallId) {
        let now = self.sched.now();
        let Some(c) = self.calls.calls.get(call_id) else { return };
        let (client, caller_slot, net, edge, counted) = (c.client, c.caller_slot, c.net, c.edge, c.counted);
        let health = &self.health;
        let changes = health.changes(self.spec.endpoints[c.target as usize].service);
        let Some(replica) = self.clients.pick(client, caller_slot, now, changes, |r| health.ready(r)) else {
            // Refused locally, answered from an event of its own (no handler re-enters
            // the one that made the call).
            let outcome = Outcome::Failed(Cause::Unavailable);
            return self.sched.after(0, Ev::CallResponse { call: call_id, outcome });
        };
        self.rec.edge_attempt(edge, counted);
        let c = self.calls.calls.get_mut(call_id).expect("call checked above");
        c.replica = replica;
        if net == NO_NET {
            // A workload's client has no network hop: the request is at the replica now.
            let (target, entity) = (c.target, c.entity);
            self.arrive(Origin::Call(call_id), target, replica, entity);
        } else if let Some(d) = self.net.delay(net) {
            self.sched.after(d, Ev::CallArrive { call: call_id });
        }
        // Else lost: with no timeout, the caller waits for ever (as a policy-less
        // attempt does).
    }

    /// A direct call's request reaches its replica.
    pub(in crate::model) fn on_call_arrive(&mut self, call_id: CallId) {
        let Some(c) = self.calls.calls.get(call_id) else { return };
        let (target, replica, entity) = (c.target, c.replica, c.entity);
        self.arrive(Origin::Call(call_id), target, replica, entity);
    }

    /// The execution serving a direct call answers it, back over the network.
    #[inline(always)]
    pub(in crate::model) fn respond_direct(&mut self, call_id: CallId, outcome: Outcome) {
        let Some(c) = self.calls.calls.get(call_id) else { return };
        let net = c.net;
        if net == NO_NET {
            return self.on_call_response(call_id, outcome);
        }
        if let Some(d) = self.net.delay(net) {
            self.sched.after(d, Ev::CallResponse { call: call_id, outcome });
        }
        // Else the answer is lost: the caller waits for ever.
    }

    /// A direct call's answer (or its local refusal) reaches the caller: the balancer
    /// and the outlier detector hear of it, and the call ends.
    #[inline(always)]
    pub(in crate::model) fn on_call_response(&mut self, call_id: CallId, outcome: Outcome) {
        let now = self.sched.now();
        let Some(c) = self.calls.calls.get_mut(call_id) else { return };
        let replica = std::mem::replace(&mut c.replica, ReplicaId::MAX);
        if replica != ReplicaId::MAX {
            let (client, caller_slot, target) = (c.client, c.caller_slot, c.target);
            if outcome.is_ok() {
                c.served_by = replica;
            }
            let failure = matches!(
                outcome,
                Outcome::Failed(Cause::Timeout | Cause::Error | Cause::Unavailable | Cause::Rejected)
            );
            self.clients.release(client, target, caller_slot, now, Some(replica), None);
            self.clients.outlier_result(client, caller_slot, replica, now, failure);
        }
        self.complete_call(call_id, outcome);
    }

    /// The request class a direct call's execution serves.
    pub(in crate::model) fn direct_class(&self, call_id: CallId) -> super::ReqClass {
        self.calls.calls.get(call_id).map_or(super::ReqClass::NONE, |c| c.class)
    }
}

impl super::Calls {
    /// Starts fetching call slot `index` into the cache (`Arena::prefetch`).
    #[inline(always)]
    pub(in crate::model) fn prefetch_call(&self, index: u32) {
        self.calls.prefetch(index);
    }

    /// Starts fetching attempt slot `index` into the cache.
    #[inline(always)]
    pub(in crate::model) fn prefetch_attempt(&self, index: u32) {
        self.attempts.prefetch(index);
    }
}
