//! An attempt's life: through the breaker, the rate limiter and the bulkhead, to a replica picked by the
//! balancer, over the network, and back (or lost, or timed out); what it held is given
//! back once. Attempts of saga steps carry the saga's effect tag (the ground truth of
//! what took effect at the callee).

mod answers;

use super::{Call, MAX_LIVE};
use crate::metrics::Outcome;
use crate::model::World;
use crate::model::clients::Entry;
use crate::model::event::{AttId, CallId, Ev, ExecId, Parent};
use crate::model::network::NO_NET;
use crate::model::sagas::{EffectTag, LateEffect};
use crate::policy::ratelimit::Permit;
use crate::spec::{Cause, EndpointId, Nanos, ReplicaId};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(in crate::model) enum AttState {
    /// Waiting for a bulkhead permit (or a reserved rate-limit permission).
    Waiting,
    /// On its way or being served.
    Sent,
    /// Refused locally (breaker, bulkhead, no replica); its Response is scheduled.
    Local,
}

pub(in crate::model) struct Attempt {
    pub(super) call: CallId,
    endpoint: EndpointId,
    pub(super) replica: ReplicaId,
    /// Index of the caller's replica within its service (0 for a workload's client).
    pub(super) caller_slot: u32,
    pub(super) client: u32,
    net: u32,
    pub(super) state: AttState,
    pub(super) sent_at: Nanos,
    /// When its per-try timeout started, if before it was sent (`timeout_covers_wait`:
    /// at its entry into the bulkhead).
    timer_from: Option<Nanos>,
    /// The caller stopped waiting (answered, timed out, or abandoned).
    pub(super) done: bool,
    /// An answer may still come back (false once the request or the answer was lost).
    pub(super) may_respond: bool,
    /// Holds a bulkhead permit.
    permit: bool,
    /// Took a breaker permission (its result must be recorded or released).
    breaker: bool,
    /// Counted in its caller's outstanding attempts for the replica (until released).
    outstanding: bool,
    /// The execution serving it, once it reached a replica.
    pub(super) exec: Option<ExecId>,
    /// Cancelled while its request was on the wire: the callee drops it on arrival (the
    /// reset follows the request on its connection).
    pub(super) cancelled: bool,
    entity: u32,
    /// Its request's workload and priority (the call's).
    class: super::ReqClass,
    /// For a saga's action or compensation: which saga step's effect it carries.
    effect: Option<EffectTag>,
    /// The same, once its saga has ended.
    late: Option<LateEffect>,
}

impl super::Calls {
    /// The class of an attempt's request (`default` of no workload once it is gone).
    pub(in crate::model) fn attempt_class(&self, att: AttId) -> super::ReqClass {
        self.attempts.get(att).map_or(super::ReqClass::NONE, |a| a.class)
    }

    /// Whether the attempt still exists (a saga forgets the ones that are gone).
    pub(in crate::model) fn attempt_exists(&self, att: AttId) -> bool {
        self.attempts.contains(att)
    }

    /// The endpoint an attempt goes to, if it still exists (for messages).
    pub(in crate::model) fn attempt_target(&self, att: AttId) -> Option<EndpointId> {
        self.attempts.get(att).map(|a| a.endpoint)
    }

    /// The saga effect an attempt carries: its tag while its saga runs, or how its saga
    /// ended.
    pub(in crate::model) fn effect_of(&self, att: AttId) -> (Option<EffectTag>, Option<LateEffect>) {
        self.attempts.get(att).map_or((None, None), |a| (a.effect, a.late))
    }

    /// The saga of an attempt's effect ended: from now on its effect is judged by `late`.
    pub(in crate::model) fn mark_late(&mut self, att: AttId, late: impl FnOnce(EffectTag) -> LateEffect) {
        if let Some(a) = self.attempts.get_mut(att)
            && let Some(tag) = a.effect.take()
        {
            a.late = Some(late(tag));
        }
    }

    /// The execution serving an attempt, once it reached a replica.
    pub(in crate::model) fn set_exec(&mut self, att: AttId, exec: ExecId) {
        if let Some(a) = self.attempts.get_mut(att) {
            a.exec = Some(exec);
        }
    }

    /// Whether an attempt still waits for a bulkhead permit (and wants one).
    pub(in crate::model) fn still_waiting(&self, att: AttId) -> bool {
        self.attempts.get(att).is_some_and(|a| !a.done && a.state == AttState::Waiting)
    }

    /// The callee dropped the attempt's work (cancelled): nothing will answer it.
    pub(in crate::model) fn forget(&mut self, att: AttId) {
        self.attempts.remove(att);
    }
}

impl World<'_> {
    /// Creates an attempt of the call and sends it through the breaker, the bulkhead
    /// and the balancer (resilience4j's order:
    /// Retry(CircuitBreaker(TimeLimiter(Bulkhead(call)))) when the bulkhead's
    /// `timeout_covers_wait`, else the per-try timeout starts at `dispatch`).
    pub(super) fn send_attempt(&mut self, call_id: CallId) {
        let now = self.sched.now();
        let calls = &mut self.calls;
        let Some(call) = calls.calls.get_mut(call_id) else { return };
        let Call {
            client, caller_slot, net, target: endpoint, policy, entity, parent, edge, counted, ..
        } = *call;
        let class = call.class;
        let effect = match parent {
            Parent::Saga { saga, step, comp, .. } => Some(EffectTag::new(saga, step, comp)),
            _ => None,
        };
        let att = calls.attempts.insert(Attempt {
            call: call_id,
            endpoint,
            replica: 0,
            caller_slot,
            client,
            net,
            state: AttState::Waiting,
            sent_at: now,
            timer_from: None,
            done: false,
            may_respond: true,
            cancelled: false,
            permit: false,
            breaker: false,
            outstanding: false,
            exec: None,
            entity,
            class,
            effect,
            late: None,
        });
        // The call is still in hand (its arena is not the attempts'): no second lookup.
        if (call.n_live as usize) < MAX_LIVE {
            call.live[call.n_live as usize] = att;
            call.n_live += 1;
        }
        if let Some(tag) = effect {
            self.saga_track_attempt(tag, att);
        }
        let Some(p) = policy else {
            // No policy: nothing stands between the call and the balancer, and the
            // attempt is fresh (not done, no timer), so it is sent with what is in hand.
            return self.send_to_replica(
                att,
                client,
                caller_slot,
                net,
                edge,
                counted,
                None,
                false,
                self.spec.endpoints[endpoint as usize].service,
            );
        };
        let pol = &self.spec.policies[p as usize];
        match self.clients.breaker_acquire(client, endpoint, caller_slot, now) {
            Some(false) => return self.fail_local(att, Cause::CircuitOpen),
            Some(true) => {
                if let Some(a) = self.calls.attempts.get_mut(att) {
                    a.breaker = true;
                }
            }
            None => {}
        }
        if pol.rate_limit.is_some() {
            // resilience4j's order: Retry(CircuitBreaker(RateLimiter(TimeLimiter(Bulkhead(call))))).
            match self.clients.rate_acquire(client, caller_slot, now) {
                Some(Permit::After(w)) => {
                    self.sched.after(w, Ev::RateLimitPass { att });
                    return;
                }
                Some(Permit::Refused(w)) => {
                    if let Some(a) = self.calls.attempts.get_mut(att) {
                        a.state = AttState::Local;
                    }
                    let outcome = Outcome::Failed(Cause::RateLimited);
                    self.sched.after(w, Ev::Response { att, outcome });
                    return;
                }
                Some(Permit::Now) | None => {}
            }
        }
        self.enter_bulkhead(att, p);
    }

    /// A caller that waited for a reserved rate-limit permission goes on to the bulkhead.
    pub(in crate::model) fn on_rate_limit_pass(&mut self, att: AttId) {
        let Some(a) = self.calls.attempts.get(att) else { return };
        if a.done || a.state != AttState::Waiting {
            return;
        }
        if let Some(p) = self.calls.calls.get(a.call).and_then(|c| c.policy) {
            self.enter_bulkhead(att, p);
        }
    }

    /// The bulkhead (if the policy has one), then `dispatch`.
    fn enter_bulkhead(&mut self, att: AttId, p: crate::spec::PolicyId) {
        let now = self.sched.now();
        let Some(a) = self.calls.attempts.get(att) else { return };
        let (client, caller_slot) = (a.client, a.caller_slot);
        let Some(call) = self.calls.calls.get(a.call) else { return };
        let (edge, counted) = (call.edge, call.counted);
        let pol = &self.spec.policies[p as usize];
        if let Some(bh) = &pol.bulkhead {
            if bh.timeout_covers_wait
                && let Some(t) = pol.timeout_ns
            {
                // The TimeLimiter wraps the Bulkhead: the try's clock runs from now.
                self.sched.after_in_lane(self.calls.lanes[p as usize].timeout, t, Ev::AttemptTimeout { att });
                if let Some(a) = self.calls.attempts.get_mut(att) {
                    a.timer_from = Some(now);
                }
            }
            let attempts = &self.calls.attempts;
            let wanted = |w: AttId| attempts.get(w).is_some_and(|a| !a.done && a.state == AttState::Waiting);
            match self.clients.bulkhead_enter(client, caller_slot, bh.max_wait_ns == Some(0), att, wanted) {
                Some((Entry::Permit, in_use)) => {
                    if let Some(a) = self.calls.attempts.get_mut(att) {
                        a.permit = true;
                    }
                    self.clients.bulkhead_admitted(edge, counted, in_use, None);
                }
                Some((Entry::Full, _)) => {
                    self.clients.bulkhead_refused(edge, counted);
                    return self.fail_local(att, Cause::BulkheadFull);
                }
                Some((Entry::Wait, _)) => {
                    self.clients.bulkhead_queued(edge, counted);
                    if let Some(w) = bh.max_wait_ns {
                        self.sched.after(w, Ev::BulkheadExpire { att });
                    }
                    return;
                }
                None => {}
            }
        }
        self.dispatch(att);
    }

    /// Refuses an attempt without sending it; the answer is delivered as an event so
    /// that no handler re-enters the one that made the call.
    fn fail_local(&mut self, att: AttId, cause: Cause) {
        if let Some(a) = self.calls.attempts.get_mut(att) {
            a.state = AttState::Local;
        }
        self.sched.after(0, Ev::Response { att, outcome: Outcome::Failed(cause) });
    }

    /// Picks a replica and puts the attempt on the wire (a bulkhead waiter that got
    /// its permit comes here through `Ev::Admit`).
    pub(in crate::model) fn dispatch(&mut self, att: AttId) {
        let now = self.sched.now();
        let Some(a) = self.calls.attempts.get(att) else { return };
        if a.done {
            // Admitted after its caller stopped waiting: nothing to send.
            return;
        }
        let (client, caller_slot, net, call_id, timed) =
            (a.client, a.caller_slot, a.net, a.call, a.timer_from.is_some());
        let svc = self.spec.endpoints[a.endpoint as usize].service;
        let Some(call) = self.calls.calls.get(call_id) else {
            // Not reached (an attempt not done has its call); as before, the balancer
            // still takes its turn.
            let health = &self.health;
            if self.clients.pick(client, caller_slot, now, health.changes(svc), |r| health.ready(r)).is_none()
            {
                self.fail_local(att, Cause::Unavailable);
            }
            return;
        };
        let (edge, counted, policy) = (call.edge, call.counted, call.policy);
        self.send_to_replica(att, client, caller_slot, net, edge, counted, policy, timed, svc);
    }

    /// `dispatch` once the attempt and its call are read: the balancer's pick, the
    /// per-try timeout (unless `timed` already), and the trip over the network.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn send_to_replica(
        &mut self,
        att: AttId,
        client: u32,
        caller_slot: u32,
        net: u32,
        edge: crate::spec::EdgeId,
        counted: bool,
        policy: Option<crate::spec::PolicyId>,
        timed: bool,
        svc: crate::spec::ServiceId,
    ) {
        let now = self.sched.now();
        let health = &self.health;
        let Some(replica) =
            self.clients.pick(client, caller_slot, now, health.changes(svc), |r| health.ready(r))
        else {
            return self.fail_local(att, Cause::Unavailable);
        };
        self.rec.edge_attempt(edge, counted);
        let a = self.calls.attempts.get_mut(att).expect("attempt checked above");
        a.replica = replica;
        a.outstanding = true;
        a.state = AttState::Sent;
        a.sent_at = now;
        if let Some(p) = policy
            && !timed
            && let Some(t) = self.spec.policies[p as usize].timeout_ns
        {
            self.sched.after_in_lane(self.calls.lanes[p as usize].timeout, t, Ev::AttemptTimeout { att });
        }
        if net == NO_NET {
            // A workload's client has no network hop: the request is at the replica now.
            self.attempt_arrive(att);
        } else if let Some(d) = self.net.delay(net) {
            self.sched.after(d, Ev::AttemptArrive { att });
        } else if let Some(a) = self.calls.attempts.get_mut(att) {
            // Lost: the caller learns of it only through its timeout.
            a.may_respond = false;
        }
    }

    /// An attempt's request reaches its replica. The caller may have given up already:
    /// the request still arrives and is served, since the callee cannot know.
    #[inline]
    pub(in crate::model) fn attempt_arrive(&mut self, att: AttId) {
        let Some(a) = self.calls.attempts.get(att) else { return };
        if a.cancelled {
            // Nothing will answer it: it is freed here.
            self.calls.attempts.remove(att);
            return;
        }
        let (replica, endpoint, entity) = (a.replica, a.endpoint, a.entity);
        self.arrive(crate::model::event::Origin::Attempt(att), endpoint, replica, entity);
    }
}
