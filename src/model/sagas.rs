//! Orchestrated sagas, as in the classic order-fulfilment example (Garcia-Molina and
//! Salem's sagas, run by an orchestrator as in the microservices-patterns guides).
//!
//! A saga runs its steps' actions in order, each a call from the orchestrator replica
//! under the saga's policy. When an action fails for good (retries spent, or declined),
//! the steps whose actions succeeded are compensated in reverse order; steps after the
//! pivot are retried until they succeed and never compensated. The orchestrator holds no
//! worker: it is a state machine, durable (its state survives a crash in a log) or not.
//!
//! The simulator knows the ground truth a real system hides: an action *takes effect*
//! when the callee finishes executing it successfully, whether or not the orchestrator
//! is still waiting (its attempt carries an [`EffectTag`]); a compensation undoes the
//! effect only if it succeeds after it. Effects left standing in a saga that did not
//! complete are `orphaned`, counted when the saga ends, or later when a late action
//! finally executes.

use super::World;
use super::calls::CallTo;
use super::clients::Clients;
use super::event::{AttId, Ev, Parent, SagaRunId};
use super::network::Network;
use super::output::SagaFigures;
use super::record::Recorder;
use crate::arena::Arena;
use crate::metrics::Outcome;
use crate::spec::{
    Cause, CompensationPolicy, EdgeId, EndpointId, NS_PER_S, Nanos, PolicyId, ReplicaId, SagaId, Spec,
};

/// The saga step an attempt's execution acts on.
#[derive(Clone, Copy, Debug)]
pub(super) struct EffectTag {
    saga: SagaRunId,
    step: u16,
    comp: bool,
}

impl EffectTag {
    pub(super) fn new(saga: SagaRunId, step: u16, comp: bool) -> Self {
        EffectTag { saga, step, comp }
    }
}

/// One call target of a saga step, compiled at start.
#[derive(Clone, Copy)]
struct SagaSite {
    endpoint: EndpointId,
    edge: EdgeId,
    client: u32,
    net: u32,
    /// The step's own policy, or the saga's.
    policy: Option<PolicyId>,
}

/// Per saga definition: compiled call sites, the round robin over orchestrator
/// replicas, figures and the interval tallies of the time series.
struct SagaDefState {
    steps: Vec<(SagaSite, Option<SagaSite>)>,
    rr: u32,
    fig: SagaFigures,
    /// Started, completed, compensated, compensation_failed, abandoned this interval.
    interval: [u64; 5],
    live: u64,
}

/// The sagas room: the running sagas and, per definition, its compiled steps and
/// figures.
///
/// *Invariant*: per saga, completed + compensated + compensation_failed + abandoned +
/// in flight = started (checked in `figures`).
pub(super) struct Sagas {
    runs: Arena<SagaRun>,
    defs: Vec<SagaDefState>,
}

impl Sagas {
    /// Compiles every saga's steps: one client block and network path per step's
    /// action and compensation, from the orchestrator, under the call's own policy
    /// (the step's, else the saga's).
    pub(super) fn new(spec: &Spec, clients: &mut Clients, net: &mut Network) -> Sagas {
        let defs = spec
            .sagas
            .iter()
            .map(|sg| {
                let orch = sg.orchestrator;
                let mut site =
                    |ep: EndpointId, edge: EdgeId, policy: Option<PolicyId>, clients: &mut Clients| {
                        let tsvc = spec.endpoints[ep as usize].service;
                        let client = clients.client_for(spec, Some(orch), 0, tsvc, policy, edge);
                        SagaSite { endpoint: ep, edge, client, net: net.path_for(spec, orch, tsvc), policy }
                    };
                let steps = sg
                    .steps
                    .iter()
                    .map(|st| {
                        let action = site(st.action, st.action_edge, st.action_policy, clients);
                        let comp = match (st.compensation, st.compensation_edge) {
                            (Some(c), Some(e)) => Some(site(c, e, st.comp_policy, clients)),
                            _ => None,
                        };
                        (action, comp)
                    })
                    .collect();
                SagaDefState { steps, rr: 0, fig: SagaFigures::default(), interval: [0; 5], live: 0 }
            })
            .collect();
        Sagas { runs: Arena::default(), defs }
    }

    /// Whether the scenario has sagas at all (effects are tracked only then).
    #[inline]
    pub(super) fn any(&self) -> bool {
        !self.defs.is_empty()
    }

    /// Sagas running now.
    pub(super) fn running(&self) -> u64 {
        self.runs.len() as u64
    }

    /// The definition of a running saga (for messages).
    pub(super) fn def_of(&self, id: SagaRunId) -> Option<u32> {
        self.runs.get(id).map(|s| s.def)
    }

    /// Whether the saga still waits for a call made in `epoch`.
    pub(super) fn waits(&self, id: SagaRunId, epoch: u16) -> bool {
        self.runs.get(id).is_some_and(|s| s.epoch == epoch && !s.paused)
    }

    /// Pushes this interval's columns (per saga: the five counters, then in flight) and
    /// starts the next interval.
    pub(super) fn flush_interval(&mut self, push: &mut impl FnMut(f64)) {
        for st in self.defs.iter_mut() {
            for k in 0..5 {
                push(st.interval[k] as f64);
            }
            push(st.live as f64);
            st.interval = [0; 5];
        }
    }

    /// An action of an ended saga took effect.
    pub(super) fn late_effect(&mut self, late: LateEffect) {
        if !late.counted {
            return;
        }
        let f = &mut self.defs[late.def as usize].fig;
        match (late.comp, late.completed) {
            (false, true) => f.duplicate_effects += 1,
            (false, false) => f.orphaned += 1,
            (true, false) if late.standing => f.orphaned = f.orphaned.saturating_sub(1),
            (true, _) => {}
        }
    }

    /// Figures per saga (the sagas still running are in flight, also for their
    /// workloads); checks that the outcomes add up.
    pub(super) fn figures(
        &mut self,
        spec: &Spec,
        rec: &mut Recorder,
        violations: &mut Vec<String>,
    ) -> Vec<SagaFigures> {
        for (_, s) in self.runs.iter() {
            if s.counted {
                self.defs[s.def as usize].fig.in_flight += 1;
                rec.still_in_flight(s.wl);
            }
        }
        let mut out = Vec::new();
        for (i, st) in self.defs.iter_mut().enumerate() {
            let f = std::mem::take(&mut st.fig);
            let sum = f.completed + f.compensated + f.compensation_failed + f.abandoned + f.in_flight;
            if sum != f.started {
                violations.push(format!(
                    "saga {}: outcomes add up to {sum}, not to the {} started",
                    spec.sagas[i].name, f.started
                ));
            }
            out.push(f);
        }
        out
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Phase {
    Forward,
    /// Compensating; `next` is the index in the compensation order of the one in hand.
    Compensating {
        next: u16,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum SagaOutcome {
    Completed = 0,
    Compensated = 1,
    CompensationFailed = 2,
    Abandoned = 3,
}

pub(super) struct SagaRun {
    def: u32,
    replica: ReplicaId,
    wl: u32,
    user: u32,
    entity: u32,
    started: Nanos,
    counted: bool,
    step: u16,
    phase: Phase,
    /// Steps whose action the orchestrator saw succeed.
    done: u64,
    /// Steps whose action took effect at the callee (ground truth), and those undone.
    effect: u64,
    undone: u64,
    /// Steps to compensate, in order (computed when compensation starts).
    to_compensate: Vec<u16>,
    comp_failed: bool,
    fail_cause: Cause,
    /// Bumped when a durable saga's orchestrator crashes: answers to calls made before
    /// are ignored, and the step in hand is run again on restart.
    epoch: u16,
    paused: bool,
    /// Attempts carrying this saga's effects that may still execute.
    attempts: Vec<AttId>,
    /// `attempts`' length at which the ones that are gone are forgotten.
    attempts_prune_at: usize,
}

/// Bit of step `i` (sagas have at most 64 steps; the resolver bounds them).
fn bit(i: u16) -> u64 {
    1u64 << (i.min(63))
}

impl World<'_> {
    /// The workload whose request started a saga run, while it runs.
    pub(super) fn saga_workload(&self, saga: SagaRunId) -> Option<u32> {
        self.sagas.runs.get(saga).map(|s| s.wl)
    }

    pub(super) fn start_saga(&mut self, wl: u32, user: u32, def: SagaId, entity: u32) {
        let now = self.sched.now();
        let sg = &self.spec.sagas[def as usize];
        let svc = &self.spec.services[sg.orchestrator as usize];
        let st = &mut self.sagas.defs[def as usize];
        let replica = svc.first_replica + st.rr % svc.replicas;
        st.rr = st.rr.wrapping_add(1);
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

    /// Remembers an attempt that carries this saga's effect (to judge a late effect).
    pub(super) fn saga_track_attempt(&mut self, tag: EffectTag, att: AttId) {
        if let Some(s) = self.sagas.runs.get_mut(tag.saga) {
            // Keep the list short: forget attempts that are gone, each time the list has
            // doubled since the last time (a saga retrying against hour-long actions keeps
            // many alive; pruning on every push would cost the list's length each time).
            if s.attempts.len() >= s.attempts_prune_at {
                let calls = &self.calls;
                s.attempts.retain(|a| calls.attempt_exists(*a));
                s.attempts_prune_at = (s.attempts.len() * 2).max(8);
            }
            s.attempts.push(att);
        }
    }

    /// An action or compensation executed successfully at its callee.
    pub(super) fn saga_effect(&mut self, tag: EffectTag) {
        match self.sagas.runs.get_mut(tag.saga) {
            Some(s) => {
                let b = bit(tag.step);
                if tag.comp {
                    if s.effect & b != 0 {
                        s.undone |= b;
                    }
                } else {
                    if s.effect & b != 0 && s.undone & b == 0 {
                        let (def, counted) = (s.def, s.counted);
                        if counted {
                            self.sagas.defs[def as usize].fig.duplicate_effects += 1;
                        }
                    }
                    s.effect |= b;
                    s.undone &= !b;
                }
            }
            None => {
                // The saga has ended; `saga_end` marked its attempts with how it ended.
            }
        }
    }

    pub(super) fn saga_call_done(
        &mut self,
        id: SagaRunId,
        step: u16,
        comp: bool,
        epoch: u16,
        outcome: Outcome,
    ) {
        let now = self.sched.now();
        let Some(s) = self.sagas.runs.get_mut(id) else { return };
        if s.epoch != epoch || s.paused {
            return;
        }
        let def = s.def as usize;
        let sg = &self.spec.sagas[def];
        // A step re-run waits its own policy's first backoff (the step's, else the saga's).
        let retry_wait = |policy: Option<PolicyId>| -> Nanos {
            policy
                .and_then(|p| self.spec.policies[p as usize].retry.as_ref())
                .map(|r| crate::policy::backoff::base_wait(&r.backoff, 1).max(1))
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

    pub(super) fn saga_retry(&mut self, id: SagaRunId, epoch: u16) {
        if self.sagas.waits(id, epoch) {
            self.saga_issue(id);
        }
    }

    fn end_saga(&mut self, id: SagaRunId, outcome: SagaOutcome) {
        let now = self.sched.now();
        let Some(s) = self.sagas.runs.remove(id) else { return };
        let st = &mut self.sagas.defs[s.def as usize];
        st.live -= 1;
        st.interval[1 + outcome as usize] += 1;
        let standing =
            if outcome == SagaOutcome::Completed { 0 } else { (s.effect & !s.undone).count_ones() as u64 };
        if s.counted {
            let f = &mut st.fig;
            match outcome {
                SagaOutcome::Completed => f.completed += 1,
                SagaOutcome::Compensated => f.compensated += 1,
                SagaOutcome::CompensationFailed => f.compensation_failed += 1,
                SagaOutcome::Abandoned => f.abandoned += 1,
            }
            f.orphaned += standing;
            if outcome == SagaOutcome::Completed {
                f.latency.record(now - s.started);
            } else {
                f.failed_latency.record(now - s.started);
            }
            f.latency_by_outcome[outcome as usize].record(now - s.started);
        }
        // Attempts of this saga that may still execute: an action that takes effect
        // from now on is orphaned if the saga did not complete (nothing will undo it),
        // a duplicate if it did.
        for &att in &s.attempts {
            self.calls.mark_late(att, |tag| {
                let b = bit(tag.step);
                LateEffect {
                    def: s.def,
                    comp: tag.comp,
                    completed: outcome == SagaOutcome::Completed,
                    // A compensation that lands late still undoes an effect that was
                    // counted as orphaned when the saga ended.
                    standing: s.effect & b != 0 && s.undone & b == 0,
                    counted: s.counted,
                }
            });
        }
        let wl_outcome = match outcome {
            SagaOutcome::Completed => Outcome::OK,
            SagaOutcome::Compensated => Outcome::Failed(s.fail_cause),
            SagaOutcome::CompensationFailed => Outcome::Failed(Cause::Error),
            SagaOutcome::Abandoned => Outcome::Failed(Cause::Unavailable),
        };
        self.finish_root(s.wl, s.user, s.started, s.counted, wl_outcome);
    }

    /// The orchestrator replica died: durable sagas pause until it restarts, the others
    /// are abandoned with whatever effects they had.
    pub(super) fn sagas_on_crash(&mut self, replica: ReplicaId) {
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
    pub(super) fn sagas_on_restart(&mut self, replica: ReplicaId) {
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

/// How the saga of a late action ended (set on its attempts when it ends).
#[derive(Clone, Copy, Debug)]
pub(super) struct LateEffect {
    def: u32,
    comp: bool,
    completed: bool,
    standing: bool,
    counted: bool,
}
