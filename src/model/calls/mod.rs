//! The calls room: calls and their attempts, and the client-side policies that act on
//! them over time (per-try timeout, retry with backoff and budget, hedging, deadline,
//! cancellation). A call is made by a `Parent` (a workload request, an execution's
//! step, a saga) and ends exactly once with an `Outcome`; it is carried by one or more
//! attempts (the first, retries, hedges), each going through the breaker, the bulkhead
//! and the balancer of the clients room (resilience4j's order:
//! Retry(CircuitBreaker(TimeLimiter(Bulkhead(call)))), or with the per-try timeout
//! inside the bulkhead when `timeout_covers_wait` is false). `attempts/` holds an
//! attempt's life.
//!
//! *Invariants*: each call ends exactly once (`complete_call` reports a second end as
//! a violation); at most `MAX_LIVE` attempts of a call are out at once; an attempt
//! holds its breaker permission, its bulkhead permit and its outstanding count until
//! `release_attempt`, which gives each back once.

mod attempts;
mod direct;
mod tree;

use super::World;
use super::event::{AttId, CallId, Ev, Parent};
use super::servers::ReqClass;
use crate::arena::Arena;
use crate::engine::Scheduler;
use crate::metrics::Outcome;
use crate::policy::backoff::retry_wait;
use crate::rng::{Rng, rng_stream};
use crate::spec::{Cause, CauseSet, EdgeId, EndpointId, Nanos, PolicyId, ReplicaId, Spec};
use std::collections::BTreeMap;

use attempts::AttState;
pub(super) use attempts::Attempt;

/// Most attempts of one call outstanding at once (the first plus hedges).
const MAX_LIVE: usize = 4;

pub(super) struct Call {
    parent: Parent,
    target: EndpointId,
    edge: EdgeId,
    /// Index of the client-state block (balancer, breaker, budget, bulkhead).
    client: u32,
    caller_slot: u32,
    net: u32,
    policy: Option<PolicyId>,
    optional: bool,
    counted: bool,
    started: Nanos,
    /// Tries sent (the first and each retry); hedges are not tries.
    tries: u32,
    hedges: u32,
    prev_wait: Nanos,
    /// The Retry-After of the last answer (0: none), for `honor_retry_after`.
    retry_after: Nanos,
    live: [AttId; MAX_LIVE],
    n_live: u8,
    /// A retry is scheduled (no attempt is live meanwhile).
    backing_off: bool,
    /// The entity (message key) of the workload request or saga this call serves.
    entity: u32,
    /// The replica whose answer the call took (a cache step's hit is drawn from it).
    served_by: ReplicaId,
    /// A direct call's replica while its request is out (`direct.rs`); else `MAX`.
    replica: ReplicaId,
    /// Its request's workload and priority, inherited from its parent.
    class: ReqClass,
}

impl Call {
    fn remove_live(&mut self, att: AttId) {
        let n = self.n_live as usize;
        if let Some(i) = self.live[..n].iter().position(|a| *a == att) {
            self.live[i] = self.live[n - 1];
            self.n_live -= 1;
        }
    }
}

/// Scheduler lanes of one policy's fixed delays (see `Scheduler::after_in_lane`).
#[derive(Clone, Copy, Default)]
struct PolicyLanes {
    timeout: u32,
    deadline: u32,
    hedge: u32,
}

/// Where a call goes and under which policy: what an execution's call site, a
/// workload or a saga step says.
#[derive(Clone, Copy)]
pub(super) struct CallTo {
    pub(super) target: EndpointId,
    pub(super) edge: EdgeId,
    pub(super) client: u32,
    pub(super) policy: Option<PolicyId>,
    pub(super) optional: bool,
    pub(super) net: u32,
    pub(super) caller_slot: u32,
}

pub(super) struct Calls {
    calls: Arena<Call>,
    attempts: Arena<Attempt>,
    lanes: Vec<PolicyLanes>,
    backoff_rng: Rng,
    /// Which calls each execution has out, when some policy cancels on timeout
    /// (`tree.rs`).
    tree: Option<tree::Tree>,
}

impl Calls {
    /// One scheduler lane per distinct fixed delay of the policies: events in a lane
    /// are due in the order they were scheduled.
    pub(super) fn new<E: crate::engine::Event>(spec: &Spec, sched: &mut Scheduler<E>) -> Calls {
        let mut lane_of: BTreeMap<Nanos, u32> = BTreeMap::new();
        let mut lane = |d: Option<Nanos>, sched: &mut Scheduler<E>| match d {
            Some(d) => *lane_of.entry(d).or_insert_with(|| sched.add_lane()),
            None => u32::MAX,
        };
        let lanes = spec
            .policies
            .iter()
            .map(|p| PolicyLanes {
                timeout: lane(p.timeout_ns, sched),
                deadline: lane(p.deadline_ns, sched),
                hedge: lane(p.hedge.map(|h| h.after_ns), sched),
            })
            .collect();
        Calls {
            calls: Arena::default(),
            attempts: Arena::default(),
            lanes,
            backoff_rng: rng_stream(spec.seed, "backoff"),
            tree: spec.policies.iter().any(|p| p.cancel_on_timeout).then(tree::Tree::default),
        }
    }

    /// Whether a timer can still act (the queue drops the ones that cannot: the
    /// timeout of an answered attempt, the deadline of a call that ended).
    pub(super) fn timer_live(&self, ev: &Ev) -> bool {
        match *ev {
            Ev::AttemptTimeout { att } => {
                self.attempts.get(att).is_some_and(|a| !a.done && a.state != AttState::Local)
            }
            Ev::BulkheadExpire { att } => {
                self.attempts.get(att).is_some_and(|a| !a.done && a.state == AttState::Waiting)
            }
            Ev::CallDeadline { call } | Ev::HedgeFire { call, .. } | Ev::RetryFire { call } => {
                self.calls.contains(call)
            }
            _ => true,
        }
    }

    /// The endpoint a call goes to, if it is still live (for messages).
    pub(super) fn call_target(&self, call: CallId) -> Option<EndpointId> {
        self.calls.get(call).map(|c| c.target)
    }

    /// The workload of each measured workload request still live (one item per call).
    pub(super) fn measured_roots(&self) -> Vec<u32> {
        self.calls
            .iter()
            .filter_map(|(_, c)| match c.parent {
                Parent::Root { wl, .. } if c.counted => Some(wl),
                _ => None,
            })
            .collect()
    }

    /// Workload requests live as calls (sagas are counted by their room).
    pub(super) fn live_roots(&self) -> u64 {
        self.calls.iter().filter(|(_, c)| matches!(c.parent, Parent::Root { .. })).count() as u64
    }
}

impl World<'_> {
    pub(super) fn start_call(&mut self, parent: Parent, to: CallTo, entity: u32) {
        let now = self.sched.now();
        let counted = self.rec.counted(now);
        let CallTo { target, edge, client, policy, optional, net, caller_slot } = to;
        let class = self.class_of_parent(parent);
        let call = self.calls.calls.insert(Call {
            parent,
            target,
            edge,
            client,
            caller_slot,
            net,
            policy,
            optional,
            counted,
            started: now,
            // The first try is sent below: by `send_try`, or directly without a policy.
            tries: policy.is_none() as u32,
            hedges: 0,
            prev_wait: 0,
            retry_after: 0,
            live: [AttId::NONE; MAX_LIVE],
            n_live: 0,
            backing_off: false,
            entity,
            served_by: ReplicaId::MAX,
            replica: ReplicaId::MAX,
            class,
        });
        self.rec.edge_call(edge, counted);
        self.calls.tree_started(parent, call);
        if let Some(p) = policy {
            let pol = &self.spec.policies[p as usize];
            if let Some(d) = pol.deadline_ns {
                self.sched.after_in_lane(self.calls.lanes[p as usize].deadline, d, Ev::CallDeadline { call });
            }
            if pol.retry.as_ref().is_some_and(|r| r.budget.is_some()) {
                self.clients.budget_first_attempt(client, caller_slot, now);
            }
            self.send_try(call);
        } else if matches!(parent, Parent::Saga { .. }) {
            // `send_try` without a policy: no hedge to arm, and the call was made with
            // its first try counted and not backing off. A saga's attempt carries its
            // effect tag, so it keeps its record.
            self.send_attempt(call);
        } else {
            // No policy: the call carries its one attempt itself (`direct.rs`).
            self.send_direct(call);
        }
    }

    /// Sends the next try of a call (the first or a retry), and arms its hedge timer.
    #[inline]
    fn send_try(&mut self, call_id: CallId) {
        let Some(call) = self.calls.calls.get_mut(call_id) else { return };
        call.tries = call.tries.saturating_add(1);
        call.backing_off = false;
        let try_no = call.tries;
        let policy = call.policy;
        self.send_attempt(call_id);
        if let Some(p) = policy
            && let Some(h) = &self.spec.policies[p as usize].hedge
            && self.calls.calls.get(call_id).is_some_and(|c| c.n_live > 0)
        {
            self.sched.after_in_lane(
                self.calls.lanes[p as usize].hedge,
                h.after_ns,
                Ev::HedgeFire { call: call_id, try_no },
            );
        }
    }

    /// One attempt of a call answered (or failed locally, or timed out).
    #[inline]
    fn attempt_result(&mut self, call_id: CallId, att: AttId, outcome: Outcome) {
        let Some(call) = self.calls.calls.get_mut(call_id) else { return };
        call.remove_live(att);
        let policy = call.policy.map(|p| &self.spec.policies[p as usize]);
        match outcome {
            Outcome::Ok { .. } => {
                if call.n_live > 0 {
                    // Hedges still out lose the race.
                    self.abandon_live(call_id);
                }
                self.complete_call(call_id, outcome);
            }
            Outcome::Failed(cause) => {
                let retry = policy.and_then(|p| p.retry.as_ref());
                let retry_on = retry.map(|r| r.retry_on).unwrap_or_else(CauseSet::default_retry_on);
                let retryable = retry_on.contains(cause);
                if retryable && call.n_live > 0 {
                    // Hedged attempts are still out: the first good answer wins.
                    return;
                }
                self.abandon_live(call_id);
                let Some(call) = self.calls.calls.get_mut(call_id) else { return };
                if let Some(r) = retry
                    && retryable
                    && call.tries < r.max_attempts
                {
                    let now = self.sched.now();
                    let (client, caller_slot, edge, counted) =
                        (call.client, call.caller_slot, call.edge, call.counted);
                    if self.clients.budget_allows_retry(client, caller_slot, now) {
                        let call = self.calls.calls.get_mut(call_id).expect("call checked above");
                        let mut wait = retry_wait(
                            &r.backoff,
                            r.jitter,
                            call.tries,
                            &mut call.prev_wait,
                            &mut self.calls.backoff_rng,
                        );
                        if r.honor_retry_after {
                            // gRPC pushback / HTTP Retry-After: at least the server's wait.
                            wait = wait.max(call.retry_after);
                        }
                        call.backing_off = true;
                        self.rec.edge_retry(edge, counted);
                        self.sched.after(wait, Ev::RetryFire { call: call_id });
                        return;
                    }
                }
                self.complete_call(call_id, outcome);
            }
        }
    }

    /// The caller stops waiting for every attempt still out (a winner answered, the
    /// deadline passed, or the call gave up).
    fn abandon_live(&mut self, call_id: CallId) {
        self.abandon_live_then(call_id, false);
    }

    /// `abandon_live`; with `cancel_all`, every callee drops its work whatever the
    /// call's policy (a cancellation down the tree, `tree.rs`), else only under
    /// `cancel_on_timeout`.
    fn abandon_live_then(&mut self, call_id: CallId, cancel_all: bool) {
        let Some(call) = self.calls.calls.get_mut(call_id) else { return };
        let n = call.n_live as usize;
        let live = call.live;
        call.n_live = 0;
        // Every attempt is marked done and gives back what it holds before any is
        // cancelled: cancelling one frees a worker, which may start and answer another
        // attempt of this call at once (a queued hedge whose queue timeout has passed,
        // answered without a network hop); that answer must find its attempt done and
        // be dropped, not end the call a second time.
        let mut ended: [(AttState, bool); MAX_LIVE] = [(AttState::Local, false); MAX_LIVE];
        for (k, &att) in live[..n].iter().enumerate() {
            let Some(a) = self.calls.attempts.get_mut(att) else { continue };
            a.done = true;
            ended[k] = (a.state, a.may_respond);
            self.release_attempt(att, None);
        }
        for (k, &att) in live[..n].iter().enumerate() {
            if cancel_all {
                self.cancel_attempt_work(att);
            } else {
                self.cancel_if_asked(att, call_id);
            }
            let (state, may_respond) = ended[k];
            if (state != AttState::Sent || !may_respond) && state != AttState::Local {
                // No answer will come to free it (a local refusal's event finds it gone).
                self.calls.attempts.remove(att);
            }
        }
    }

    pub(super) fn on_retry_fire(&mut self, call_id: CallId) {
        let Some(c) = self.calls.calls.get(call_id) else { return };
        if !c.backing_off {
            return;
        }
        if !self.caller_alive(c.parent) {
            // The caller died while it waited (its replica crashed): nobody retries.
            return self.complete_call(call_id, Outcome::Failed(Cause::Unavailable));
        }
        self.send_try(call_id);
    }

    /// Whether whoever made a call can still act on it.
    fn caller_alive(&self, parent: Parent) -> bool {
        match parent {
            Parent::Root { .. } => true,
            Parent::Exec { exec } => self.servers.exec_alive(exec),
            Parent::Saga { saga, epoch, .. } => self.sagas.waits(saga, epoch),
        }
    }

    pub(super) fn on_hedge_fire(&mut self, call_id: CallId, try_no: u32) {
        let Some(call) = self.calls.calls.get_mut(call_id) else { return };
        let Some(h) = call.policy.and_then(|p| self.spec.policies[p as usize].hedge.as_ref()) else { return };
        if call.tries != try_no || call.n_live == 0 || call.hedges >= h.max_extra {
            return;
        }
        let parent = call.parent;
        if !self.caller_alive(parent) {
            return;
        }
        let Some(call) = self.calls.calls.get_mut(call_id) else { return };
        if call.n_live as usize >= MAX_LIVE {
            return;
        }
        call.hedges += 1;
        let (edge, counted, after, lane) = (
            call.edge,
            call.counted,
            h.after_ns,
            call.policy.map_or(u32::MAX, |p| self.calls.lanes[p as usize].hedge),
        );
        let more = call.hedges < h.max_extra;
        self.rec.edge_hedge(edge, counted);
        self.send_attempt(call_id);
        if more {
            self.sched.after_in_lane(lane, after, Ev::HedgeFire { call: call_id, try_no });
        }
    }

    pub(super) fn on_deadline(&mut self, call_id: CallId) {
        let Some(c) = self.calls.calls.get(call_id) else { return };
        let (live, n) = (c.live, c.n_live as usize);
        // Attempts still out time out with the call: their breaker sees a failure.
        let now = self.sched.now();
        for &att in &live[..n] {
            if let Some(a) = self.calls.attempts.get(att)
                && a.state == AttState::Sent
                && !a.done
            {
                let (replica, client, slot, sent_at) = (a.replica, a.client, a.caller_slot, a.sent_at);
                self.release_attempt(att, Some((true, now - sent_at)));
                self.clients.outlier_result(client, slot, replica, now, true);
            }
        }
        self.abandon_live(call_id);
        self.complete_call(call_id, Outcome::Failed(Cause::Timeout));
    }

    fn complete_call(&mut self, call_id: CallId, outcome: Outcome) {
        let Some(call) = self.calls.calls.remove(call_id) else {
            self.violations.push(format!("call {call_id:?} ended twice"));
            return;
        };
        let now = self.sched.now();
        self.rec.call_end(call.edge, call.counted, now - call.started, outcome);
        match call.parent {
            Parent::Root { wl, user } => self.finish_root(wl, user, call.started, call.counted, outcome),
            Parent::Exec { exec } => {
                self.calls.tree_ended(exec, call_id);
                self.child_done(exec, outcome, call.optional, call.served_by)
            }
            Parent::Saga { saga, step, comp, epoch } => self.saga_call_done(saga, step, comp, epoch, outcome),
        }
    }
}
