//! An attempt's end: answered, timed out, expired in the bulkhead or abandoned, it
//! gives back once what it held (`release_attempt`), and its answer reaches the call
//! (the retry, hedge and breaker decisions are the call's, in `mod.rs`).

use super::AttState;
use crate::metrics::Outcome;
use crate::model::World;
use crate::model::event::{AttId, CallId, Ev};
use crate::model::network::NO_NET;
use crate::spec::{Cause, EndpointId, Nanos};

impl World<'_> {
    /// Gives back what a finished (or abandoned) attempt held on the client side: its
    /// outstanding count, its breaker permission (recording `breaker_result` if given)
    /// and its bulkhead permit, admitting the next waiter.
    #[inline]
    pub(in crate::model) fn release_attempt(&mut self, att: AttId, breaker_result: Option<(bool, Nanos)>) {
        let now = self.sched.now();
        let Some(a) = self.calls.attempts.get_mut(att) else { return };
        let (client, caller_slot, replica, call, endpoint) =
            (a.client, a.caller_slot, a.replica, a.call, a.endpoint);
        let had_permit = std::mem::replace(&mut a.permit, false);
        let had_breaker = std::mem::replace(&mut a.breaker, false);
        let was_outstanding = std::mem::replace(&mut a.outstanding, false);
        if !(had_permit || had_breaker || was_outstanding) {
            return;
        }
        self.clients.release(
            client,
            endpoint,
            caller_slot,
            now,
            was_outstanding.then_some(replica),
            had_breaker.then_some(breaker_result),
        );
        if !had_permit {
            return;
        }
        let max_concurrent = self
            .calls
            .calls
            .get(call)
            .and_then(|c| c.policy)
            .and_then(|p| self.spec.policies[p as usize].bulkhead.as_ref())
            .map(|b| b.max_concurrent);
        let attempts = &mut self.calls.attempts;
        let wanted = |w: AttId| attempts.get(w).is_some_and(|a| !a.done && a.state == AttState::Waiting);
        if let Some((next, in_use)) = self.clients.bulkhead_release(client, caller_slot, wanted) {
            if let Some(na) = self.calls.attempts.get_mut(next) {
                na.permit = true;
                let waited = now - na.sent_at;
                if let Some(c) = self.calls.calls.get(na.call) {
                    self.clients.bulkhead_admitted(c.edge, c.counted, in_use, Some(waited));
                }
            }
            if max_concurrent.is_some_and(|m| in_use > m) {
                self.violations.push("a bulkhead admitted more than max_concurrent".into());
            }
            // Sent from its own event, so that a chain of waiters answered at once
            // cannot recurse through this function.
            self.sched.after(0, Ev::Admit { att: next });
        }
    }

    pub(in crate::model) fn on_bulkhead_expire(&mut self, att: AttId) {
        let Some(a) = self.calls.attempts.get(att) else { return };
        if a.state != AttState::Waiting || a.done {
            return;
        }
        if let Some(c) = self.calls.calls.get(a.call) {
            self.clients.bulkhead_refused(c.edge, c.counted);
        }
        // `fail_local` makes it `Local`: the admission skips it when it reaches the head.
        self.fail_local(att, Cause::BulkheadFull);
    }

    pub(in crate::model) fn on_timeout(&mut self, att: AttId) {
        let now = self.sched.now();
        let Some(a) = self.calls.attempts.get_mut(att) else { return };
        if a.done || a.state == AttState::Local {
            return;
        }
        a.done = true;
        let (call, replica, client, slot) = (a.call, a.replica, a.client, a.caller_slot);
        let from = a.timer_from.unwrap_or(a.sent_at);
        if a.state == AttState::Waiting {
            // Timed out in the bulkhead's queue (`timeout_covers_wait`): the breaker,
            // outside the TimeLimiter, sees a failure; no replica was involved.
            self.release_attempt(att, Some((true, now - from)));
            self.calls.attempts.remove(att);
            return self.attempt_result(call, att, Outcome::Failed(Cause::Timeout));
        }
        self.release_attempt(att, Some((true, now - from)));
        self.clients.outlier_result(client, slot, replica, now, true);
        self.cancel_if_asked(att, call);
        self.attempt_result(call, att, Outcome::Failed(Cause::Timeout));
    }

    pub(in crate::model) fn on_response(&mut self, att: AttId, outcome: Outcome) {
        let now = self.sched.now();
        let Some(a) = self.calls.attempts.get(att) else { return };
        if a.done {
            // The caller had stopped waiting: the callee's work was wasted.
            self.calls.attempts.remove(att);
            return;
        }
        let (call, replica, client, slot, sent_at, state, endpoint) = (
            a.call,
            a.replica,
            a.client,
            a.caller_slot,
            a.timer_from.unwrap_or(a.sent_at),
            a.state,
            a.endpoint,
        );
        let failure = matches!(
            outcome,
            Outcome::Failed(Cause::Timeout | Cause::Error | Cause::Unavailable | Cause::Rejected)
        );
        if state == AttState::Sent {
            self.release_attempt(att, Some((failure, now - sent_at)));
            self.clients.outlier_result(client, slot, replica, now, failure);
        } else {
            self.release_attempt(att, None);
        }
        // `release_attempt` never removes the attempt: it is still there to remove.
        self.calls.attempts.remove(att);
        if let Some(c) = self.calls.calls.get_mut(call) {
            if state == AttState::Local && !outcome.is_ok() && c.n_live > 1 {
                // Refused on the caller's side (breaker open, bulkhead full, own rate
                // limiter, no ready replica) while another attempt of the call is out:
                // this one was never sent, as gRPC does not send a throttled hedge and
                // Envoy one over its retry circuit breaker; the call waits for the rest.
                c.remove_live(att);
                return;
            }
            if outcome.is_ok() {
                c.served_by = replica;
            }
            // A server's 429 carries its service's Retry-After; a local refusal none.
            c.retry_after = match (state, outcome) {
                (AttState::Sent, Outcome::Failed(Cause::RateLimited)) => {
                    let svc = self.spec.endpoints[endpoint as usize].service;
                    self.spec.services[svc as usize].retry_after_ns.unwrap_or(0)
                }
                _ => 0,
            };
        }
        self.attempt_result(call, att, outcome);
    }

    /// With `cancel_on_timeout`, an abandoned attempt's work is dropped by the callee
    /// (the deadline was propagated), queued or running.
    pub(in crate::model) fn cancel_if_asked(&mut self, att: AttId, call: CallId) {
        let policy = self.calls.calls.get(call).and_then(|c| c.policy);
        let Some(p) = policy else { return };
        if !self.spec.policies[p as usize].cancel_on_timeout {
            return;
        }
        self.cancel_attempt_work(att);
    }

    /// The callee drops an abandoned attempt's work: its execution, or its request on
    /// arrival if it is still on the wire.
    pub(in crate::model) fn cancel_attempt_work(&mut self, att: AttId) {
        let Some(a) = self.calls.attempts.get_mut(att) else { return };
        match a.exec {
            Some(exec) => self.cancel_exec(exec),
            None => a.cancelled = true,
        }
    }

    /// Sends an execution's answer back to the attempt's caller.
    #[inline]
    pub(in crate::model) fn respond(
        &mut self,
        att: AttId,
        outcome: Outcome,
        endpoint: EndpointId,
        counted: bool,
    ) {
        let Some(a) = self.calls.attempts.get_mut(att) else { return };
        a.exec = None;
        if a.done {
            // Nobody is waiting: count the wasted work and free the attempt now,
            // rather than carry the answer over the network for nothing.
            self.rec.abandoned(endpoint, counted);
            self.calls.attempts.remove(att);
            return;
        }
        let net = a.net;
        if net == NO_NET {
            self.on_response(att, outcome);
            return;
        }
        match self.net.delay(net) {
            Some(d) => self.sched.after(d, Ev::Response { att, outcome }),
            None => {
                // The answer is lost; the caller's timeout will free the attempt.
                if let Some(a) = self.calls.attempts.get_mut(att) {
                    a.may_respond = false;
                }
            }
        }
    }
}
