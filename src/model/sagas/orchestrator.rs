//! The orchestrator's state machine: a saga starts on an orchestrator replica (round
//! robin), runs its steps' actions in order (`Forward`), and when an action fails for
//! good turns to compensating the steps whose actions it saw succeed, newest first
//! (`Compensating`); a step after the pivot is retried until it succeeds; a failed
//! compensation is noted and passed over (best effort) or retried (persistent). A crash
//! pauses a durable saga (resumed on restart by running the step in hand again) and
//! abandons the others.
//!
//! *Invariants*: a saga waits for at most one call, made in its current `epoch`; an
//! answer from an earlier epoch, or to a paused saga, is ignored; a saga ends exactly
//! once (`end_saga`, in `outcomes.rs`).

use super::{Phase, SagaOutcome, SagaRun, bit};
use crate::metrics::Outcome;
use crate::model::World;
use crate::model::calls::CallTo;
use crate::model::event::{Ev, Parent, SagaRunId};
use crate::spec::{Cause, CompensationPolicy, NS_PER_S, Nanos, PolicyId, ReplicaId, SagaId};

impl World<'_> {
    pub(in crate::model) fn start_saga(&mut self, wl: u32, user: u32, def: SagaId, entity: u32) {
        let now = self.sched.now();
        let sg = &self.spec.sagas[def as usize];
        let svc = &self.spec.services[sg.orchestrator as usize];
        let st = &mut self.sagas.defs[def as usize];
        // `rr` is the next replica itself, never a count of sagas (a count wraps after
        // 2^32 sagas and `count % replicas` then skips replicas): the same replicas
        // below the wrap.
        let replica = svc.first_replica + st.rr;
        st.rr = if st.rr + 1 >= svc.replicas { 0 } else { st.rr + 1 };
        let counted = self.rec.counted(now);
        if self.servers.is_down(replica) {
            // Refused: the saga never starts.
            return self.finish_root(wl, user, now, counted, Outcome::Failed(Cause::Unavailable));
        }
        st.interval[0] += 1;
        st.live += 1;
        if counted {
            st.fig.started += 1;
        }
        let id = self.sagas.runs.insert(SagaRun {
            def,
            replica,
            wl,
            user,
            entity,
            started: now,
            counted,
            step: 0,
            phase: Phase::Forward,
            done: 0,
            effect: 0,
            undone: 0,
            to_compensate: Vec::new(),
            comp_failed: false,
            fail_cause: Cause::Error,
            epoch: 0,
            paused: false,
            attempts: Vec::new(),
            attempts_prune_at: 8,
        });
        self.saga_issue(id);
    }

    /// Makes the call the saga is at: the current action, or the current compensation.
    fn saga_issue(&mut self, id: SagaRunId) {
        let Some(s) = self.sagas.runs.get(id) else { return };
        if s.paused {
            return;
        }
        let def = s.def as usize;
        let steps = &self.spec.sagas[def].steps;
        let (step, comp) = match s.phase {
            Phase::Forward => {
                if s.step as usize >= steps.len() {
                    return self.end_saga(id, SagaOutcome::Completed);
                }
                (s.step, false)
            }
            Phase::Compensating { next } => match s.to_compensate.get(next as usize) {
                Some(&k) => (k, true),
                None => {
                    let o = if s.comp_failed {
                        SagaOutcome::CompensationFailed
                    } else {
                        SagaOutcome::Compensated
                    };
                    return self.end_saga(id, o);
                }
            },
        };
        let (action, compensation) = self.sagas.defs[def].steps[step as usize];
        let Some(site) = (if comp { compensation } else { Some(action) }) else {
            return;
        };
        let caller_slot = self.spec.replicas[s.replica as usize].index;
        let (epoch, entity, policy) = (s.epoch, s.entity, site.policy);
        let to = CallTo {
            target: site.endpoint,
            edge: site.edge,
            client: site.client,
            policy,
            optional: false,
            net: site.net,
            caller_slot,
        };
        self.start_call(Parent::Saga { saga: id, step, comp, epoch }, to, entity);
    }

    pub(in crate::model) fn saga_call_done(
        &mut self,
        id: SagaRunId,
        step: u16,
        comp: bool,
        epoch: u32,
        outcome: Outcome,
    ) {
        let now = self.sched.now();
        let Some(s) = self.sagas.runs.get_mut(id) else { return };
        if s.epoch != epoch || s.paused {
            return;
        }
        let def = s.def as usize;
        let sg = &self.spec.sagas[def];
        // A step re-run waits its own policy's first backoff (the step's, else the saga's),
        // without jitter; 1 s when that policy has no retry or no wait (no `backoff`, or
        // a zero one), as the docs say: a zero wait re-ran a step that fails at once
        // (an open breaker) every nanosecond.
        let retry_wait = |policy: Option<PolicyId>| -> Nanos {
            policy
                .and_then(|p| self.spec.policies[p as usize].retry.as_ref())
                .map(|r| crate::policy::backoff::base_wait(&r.backoff, 1))
                .filter(|&w| w > 0)
                .unwrap_or(NS_PER_S)
        };
        match (comp, outcome) {
            (false, Outcome::Ok { .. }) => {
                s.done |= bit(step);
                s.step = step + 1;
                self.saga_issue(id);
            }
            (false, Outcome::Failed(cause)) => {
                if sg.steps[step as usize].retriable {
                    // After the pivot there is no way back: try again until it works.
                    let w = retry_wait(sg.steps[step as usize].action_policy);
                    self.sched.after(w, Ev::SagaRetry { saga: id, epoch });
                    return;
                }
                s.fail_cause = cause;
                let mut order = Vec::new();
                if sg.compensate_unknown
                    && cause == Cause::Timeout
                    && sg.steps[step as usize].compensation.is_some()
                {
                    order.push(step);
                }
                for k in (0..step).rev() {
                    if s.done & bit(k) != 0 && sg.steps[k as usize].compensation.is_some() {
                        order.push(k);
                    }
                }
                s.to_compensate = order;
                s.phase = Phase::Compensating { next: 0 };
                self.saga_issue(id);
            }
            (true, Outcome::Ok { .. }) => {
                if let Phase::Compensating { next } = s.phase {
                    s.phase = Phase::Compensating { next: next + 1 };
                }
                self.saga_issue(id);
            }
            (true, Outcome::Failed(_)) => match sg.compensation_policy {
                CompensationPolicy::BestEffort => {
                    // As the classic example does: note it and go on with the others.
                    s.comp_failed = true;
                    if let Phase::Compensating { next } = s.phase {
                        s.phase = Phase::Compensating { next: next + 1 };
                    }
                    self.saga_issue(id);
                }
                CompensationPolicy::Persistent => {
                    let w = retry_wait(sg.steps[step as usize].comp_policy);
                    self.sched.after(w, Ev::SagaRetry { saga: id, epoch });
                }
            },
        }
        let _ = now;
    }

    pub(in crate::model) fn saga_retry(&mut self, id: SagaRunId, epoch: u32) {
        if self.sagas.waits(id, epoch) {
            self.saga_issue(id);
        }
    }

    /// The orchestrator replica died: durable sagas pause until it restarts, the others
    /// are abandoned with whatever effects they had.
    pub(in crate::model) fn sagas_on_crash(&mut self, replica: ReplicaId) {
        let on: Vec<SagaRunId> =
            self.sagas.runs.iter().filter(|(_, s)| s.replica == replica).map(|(id, _)| id).collect();
        for id in on {
            let Some(s) = self.sagas.runs.get_mut(id) else { continue };
            if self.spec.sagas[s.def as usize].durable {
                s.paused = true;
                s.epoch = s.epoch.wrapping_add(1);
            } else {
                self.end_saga(id, SagaOutcome::Abandoned);
            }
        }
    }

    /// The orchestrator replica is back: durable sagas resume from their log by running
    /// the step in hand again (at least once: it may take effect twice).
    pub(in crate::model) fn sagas_on_restart(&mut self, replica: ReplicaId) {
        let on: Vec<SagaRunId> = self
            .sagas
            .runs
            .iter()
            .filter(|(_, s)| s.replica == replica && s.paused)
            .map(|(id, _)| id)
            .collect();
        for id in on {
            if let Some(s) = self.sagas.runs.get_mut(id) {
                s.paused = false;
            }
            self.saga_issue(id);
        }
    }
}
