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
//!
//! The room's files: this one the state (running sagas, compiled steps) and its
//! construction; `orchestrator.rs` the state machine (start, the call in hand, forward
//! and compensating phases, retries, crash and durable resume); `effects.rs` the ground
//! truth of effects carried by attempts; `outcomes.rs` how a saga ends (outcome,
//! orphaned effects, late effects marked on its attempts) and the figures.

mod effects;
mod orchestrator;
mod outcomes;

pub(super) use effects::{EffectTag, LateEffect};

use super::World;
use super::clients::Clients;
use super::event::{AttId, SagaRunId};
use super::network::Network;
use super::output::SagaFigures;
use crate::arena::Arena;
use crate::spec::{Cause, EdgeId, EndpointId, Nanos, PolicyId, ReplicaId, Spec};

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
    /// The orchestrator replica the next saga starts on (an index below `replicas`).
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
    pub(super) fn waits(&self, id: SagaRunId, epoch: u32) -> bool {
        self.runs.get(id).is_some_and(|s| s.epoch == epoch && !s.paused)
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
    epoch: u32,
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
}
