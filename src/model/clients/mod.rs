//! The clients room: the caller-side state of every (caller, target service, policy),
//! per caller replica (or shared by the caller service with `scope: "service"`): the
//! load balancer, the retry budget, the outlier detector and the bulkhead; and the
//! circuit breakers, keyed on what their `per` says (`breakers.rs`). The state machines
//! themselves are in `crate::policy`; this room keeps one of each per client slot and
//! answers the calls room's questions. `bulkheads.rs` keeps the bulkheads' figures per
//! call edge.
//!
//! *Invariants*: a bulkhead never has more than `max_concurrent` permits out (checked
//! at each admission and at the end of the run); `outstanding` counts per target
//! replica are taken by `pick` and given back once by `release`.

mod balance;
mod breakers;
mod build;
mod bulkheads;
mod ejections;
mod footprint;
mod least;
#[cfg(test)]
mod least_tests;
mod ratelimits;

use super::event::AttId;
use crate::policy::budget::RetryBudgetState;
use crate::policy::bulkhead::Bulkhead;
pub(super) use crate::policy::bulkhead::Entry;
use crate::rng::Rng;
use crate::spec::{EndpointId, LoadBalancer, Nanos, PolicyId, ReplicaId, ServiceId, Spec};
pub use breakers::BreakerFigures;
pub use bulkheads::edge_bulkhead_policy;
pub(super) use bulkheads::edges_with_bulkhead;
pub(super) use footprint::client_table_bytes;
use std::collections::BTreeMap;

/// Per (caller, target service, policy): the client-side state of each caller replica.
struct ClientBlock {
    first_replica: ReplicaId,
    n_replicas: u32,
    lb: LoadBalancer,
    /// One slot serves every caller replica (shared, or a single caller replica): no
    /// slot index to compute on the hot path.
    one_slot: bool,
    /// Its balancer counts outstanding attempts per target replica.
    tracks_outstanding: bool,
    /// Its policy has an outlier detector.
    has_outlier: bool,
    /// Round robin's starts: each caller replica's first, then one at each change of
    /// the ready set. Named by caller and target service, not policy (see `client_for`).
    turn_rng: Rng,
    rng: Rng,
    slots: Vec<ClientSlot>,
    /// The breaker instance of each target endpoint this block calls (a short list).
    breakers: Vec<(EndpointId, u32)>,
}

impl ClientBlock {
    /// The slot of caller replica `caller_slot` (0 when one slot serves them all: no
    /// division on the hot path).
    #[inline(always)]
    fn slot_ix(&self, caller_slot: u32) -> usize {
        if self.one_slot { 0 } else { caller_slot as usize % self.slots.len() }
    }
}

struct ClientSlot {
    rr: u32,
    /// `Health::changes` when this caller's turn was last set: when it moved, the turn
    /// starts again from a random eligible replica (`pick`).
    seen: u64,
    /// When the next pick must look at the outlier detector's ejections (one made, or
    /// the next one to end); `Nanos::MAX` when there is none.
    recheck: Nanos,
    /// Outstanding attempts from this caller per target replica (only kept for the
    /// balancers that read it).
    outstanding: Vec<u32>,
    /// Least outstanding's index over `outstanding`, towards a target of many replicas.
    least: Option<Box<least::Least>>,
    budget: Option<RetryBudgetState>,
    outlier: Option<ejections::Ejector>,
    bulkhead: Option<Bulkhead<AttId>>,
    ratelimit: Option<ratelimits::Limiter>,
}

#[derive(Default)]
pub(super) struct Clients {
    blocks: Vec<ClientBlock>,
    index: BTreeMap<(Option<ServiceId>, u32, ServiceId, Option<PolicyId>), u32>,
    /// Client block of each workload.
    wl_client: Vec<u32>,
    /// Client blocks each edge uses (for its bulkhead levels).
    edge_clients: Vec<Vec<u32>>,
    /// Breaker instances each edge uses (for its breaker figures).
    edge_breakers: Vec<Vec<u32>>,
    breakers: breakers::Breakers,
    /// Per edge whose calls go through a bulkhead: its figures.
    bulk_figs: Vec<Option<bulkheads::EdgeBulkhead>>,
}

impl Clients {
    pub(super) fn new(spec: &Spec) -> Clients {
        let n = spec.edges.len();
        Clients {
            edge_clients: vec![Vec::new(); n],
            edge_breakers: vec![Vec::new(); n],
            bulk_figs: (0..n).map(|_| None).collect(),
            ..Default::default()
        }
    }

    /// The breaker instance a call from `client` to `target` goes through, if any.
    fn breaker_of(&self, client: u32, target: EndpointId) -> Option<u32> {
        let b = &self.blocks[client as usize].breakers;
        b.iter().find(|(e, _)| *e == target).map(|(_, id)| *id)
    }

    /// Registers workload `wl`'s client block (workloads are registered in order).
    pub(super) fn set_workload_client(&mut self, wl: u32, client: u32) {
        debug_assert_eq!(self.wl_client.len(), wl as usize);
        self.wl_client.push(client);
    }

    #[inline]
    pub(super) fn for_workload(&self, wl: u32) -> u32 {
        self.wl_client[wl as usize]
    }

    #[inline]
    fn slot(&mut self, client: u32, caller_slot: u32) -> &mut ClientSlot {
        let block = &mut self.blocks[client as usize];
        let ix = block.slot_ix(caller_slot);
        &mut block.slots[ix]
    }

    /// A call's first attempt, for the retry budget.
    pub(super) fn budget_first_attempt(&mut self, client: u32, caller_slot: u32, now: Nanos) {
        if let Some(b) = &mut self.slot(client, caller_slot).budget {
            b.on_first_attempt(now);
        }
    }

    /// Whether the retry budget allows a retry now (always, without a budget).
    pub(super) fn budget_allows_retry(&mut self, client: u32, caller_slot: u32, now: Nanos) -> bool {
        match &mut self.slot(client, caller_slot).budget {
            Some(b) => b.try_retry(now),
            None => true,
        }
    }

    /// The breaker's permission: `None` without a breaker, else whether it lets the
    /// attempt through.
    pub(super) fn breaker_acquire(
        &mut self,
        client: u32,
        target: EndpointId,
        caller_slot: u32,
        now: Nanos,
    ) -> Option<bool> {
        let id = self.breaker_of(client, target)?;
        Some(self.breakers.acquire(id, caller_slot, now))
    }

    /// Takes a bulkhead permit (`Permit`, with the permits now out), or queues `att`
    /// for one (`wanted` tells which queued waiters still want one, when the queue is
    /// pruned); `None` without a bulkhead.
    pub(super) fn bulkhead_enter(
        &mut self,
        client: u32,
        caller_slot: u32,
        no_wait: bool,
        att: AttId,
        wanted: impl Fn(AttId) -> bool,
    ) -> Option<(Entry, u32)> {
        let b = self.slot(client, caller_slot).bulkhead.as_mut()?;
        let e = b.enter(no_wait, att, wanted);
        Some((e, b.in_use()))
    }

    /// Gives back a bulkhead permit and hands it to the longest waiter still `wanted`:
    /// returns that waiter and the permits now out.
    pub(super) fn bulkhead_release(
        &mut self,
        client: u32,
        caller_slot: u32,
        wanted: impl FnMut(AttId) -> bool,
    ) -> Option<(AttId, u32)> {
        let b = self.slot(client, caller_slot).bulkhead.as_mut()?;
        // A waiter that gave up stays queued until it reaches the head (skipped) or
        // the queue is pruned in `bulkhead_enter`.
        let next = b.release(wanted)?;
        Some((next, b.in_use()))
    }

    /// What a finished attempt to `target` held: its outstanding count on `replica`
    /// and its breaker permission (`breaker`: `None` if it held none, `Some(None)` to
    /// release it unrecorded, `Some(Some((failure, duration)))` to record the result).
    #[inline(always)]
    pub(super) fn release(
        &mut self,
        client: u32,
        target: EndpointId,
        caller_slot: u32,
        now: Nanos,
        outstanding_on: Option<ReplicaId>,
        breaker: Option<Option<(bool, Nanos)>>,
    ) {
        // The common case (round robin, no breaker) costs two tests here, not a call.
        let block = &self.blocks[client as usize];
        if (outstanding_on.is_some() && block.tracks_outstanding)
            || (breaker.is_some() && !block.breakers.is_empty())
        {
            self.release_held(client, target, caller_slot, now, outstanding_on, breaker);
        }
    }

    #[inline(never)]
    fn release_held(
        &mut self,
        client: u32,
        target: EndpointId,
        caller_slot: u32,
        now: Nanos,
        outstanding_on: Option<ReplicaId>,
        breaker: Option<Option<(bool, Nanos)>>,
    ) {
        let block = &mut self.blocks[client as usize];
        if let Some(replica) = outstanding_on
            && block.tracks_outstanding
        {
            let first = block.first_replica;
            let ix = block.slot_ix(caller_slot);
            let slot = &mut block.slots[ix];
            let r = replica - first;
            let o = &mut slot.outstanding[r as usize];
            *o = o.saturating_sub(1);
            if let Some(l) = &mut slot.least
                && l.tree.get(r) != least::NONE
            {
                l.tree.set(r, *o);
            }
        }
        if let Some(result) = breaker
            && !block.breakers.is_empty()
            && let Some(id) = self.breaker_of(client, target)
        {
            self.breakers.result(id, caller_slot, now, result);
        }
    }

    /// An attempt's result on `replica`, for the outlier detector (an ejection it makes
    /// is seen by the caller's next pick).
    #[inline(always)]
    pub(super) fn outlier_result(
        &mut self,
        client: u32,
        caller_slot: u32,
        replica: ReplicaId,
        now: Nanos,
        error: bool,
    ) {
        if self.blocks[client as usize].has_outlier {
            self.outlier_heard(client, caller_slot, replica, now, error);
        }
    }

    #[inline(never)]
    fn outlier_heard(&mut self, client: u32, caller_slot: u32, replica: ReplicaId, now: Nanos, error: bool) {
        let first = self.blocks[client as usize].first_replica;
        let slot = self.slot(client, caller_slot);
        let r = replica - first;
        if let Some(o) = &mut slot.outlier
            && o.on_result(r, now, error)
        {
            slot.recheck = slot.recheck.min(now);
            if let Some(l) = &mut slot.least {
                l.tree.set(r, least::NONE);
            }
        }
    }

    /// An autoscaled service's balancers draw among its first `n` replica slots (the
    /// span up to its last serving replica; at least 1).
    pub(super) fn set_span(&mut self, first: ReplicaId, n: u32) {
        for b in self.blocks.iter_mut().filter(|b| b.first_replica == first) {
            b.n_replicas = n.max(1);
        }
    }

    /// The breakers' figures at the end of warm-up.
    pub(super) fn snapshot_warmup(&mut self, w: Nanos) {
        self.breakers.snapshot_warmup(w);
    }

    /// The most open breaker the edge's calls go through (0 closed, 1 half-open,
    /// 2 open; NaN without a breaker), as it stands now.
    pub(super) fn edge_breaker_code(&self, edge: usize) -> f64 {
        let codes = self.edge_breakers[edge].iter().map(|&b| self.breakers.code(b));
        codes.fold(f64::NAN, f64::max)
    }

    /// Times the breakers the edge's calls go through opened, and their time open,
    /// summed over their state machines, in the measured window (a breaker shared with
    /// other edges, `per: "caller"` or `"service"`, counts on each of them); every
    /// illegal transition is a violation.
    pub(super) fn edge_breaker_figures(
        &self,
        edge: usize,
        end: Nanos,
        violations: &mut Vec<String>,
    ) -> (u64, Nanos) {
        let (mut opened, mut open_ns) = (0, 0);
        for &b in &self.edge_breakers[edge] {
            let (o, ns) = self.breakers.opened(b, end, violations);
            opened += o;
            open_ns += ns;
        }
        (opened, open_ns)
    }

    /// Every breaker instance's figures, each once, in the order they were made.
    pub(super) fn breaker_figures(&self, end: Nanos) -> Vec<BreakerFigures> {
        self.breakers.figures(end)
    }
}

#[cfg(test)]
mod turn_tests;
