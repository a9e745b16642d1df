//! The clients room: the caller-side state of every (caller, target service, policy),
//! per caller replica (or shared by the caller service with `scope: "service"`): the
//! load balancer, the circuit breaker, the retry budget, the outlier detector and the
//! bulkhead. The state machines themselves are in `crate::policy`; this room keeps one
//! of each per client slot and answers the calls room's questions.
//!
//! *Invariants*: a bulkhead never has more than `max_concurrent` permits out (the calls
//! room checks it at each admission); `outstanding` counts per target replica are
//! taken by `pick` and given back once by `release`.

use super::event::AttId;
use crate::policy::breaker::{CircuitBreaker, is_legal};
use crate::policy::budget::RetryBudgetState;
use crate::policy::outlier::OutlierDetector;
use crate::rng::{Rng, rng_stream};
use crate::spec::{LoadBalancer, Nanos, PolicyId, ReplicaId, ServiceId, Spec};
use rand::RngExt;
use std::collections::{BTreeMap, VecDeque};

/// Per (caller, target service, policy): the client-side state of each caller replica.
struct ClientBlock {
    first_replica: ReplicaId,
    n_replicas: u32,
    lb: LoadBalancer,
    shared: bool,
    rng: Rng,
    slots: Vec<ClientSlot>,
}

struct ClientSlot {
    rr: u32,
    /// Outstanding attempts from this caller per target replica (only kept for the
    /// balancers that read it).
    outstanding: Vec<u32>,
    breaker: Option<CircuitBreaker>,
    budget: Option<RetryBudgetState>,
    outlier: Option<OutlierDetector>,
    bulk_in_use: u32,
    bulk_waiting: VecDeque<AttId>,
    /// `bulk_waiting`'s length at which the waiters that gave up are dropped.
    bulk_compact_at: usize,
    /// Breaker figures at the end of warm-up: (opened, open ns).
    breaker_warm: (u64, Nanos),
}

/// What the bulkhead says to an attempt.
pub(super) enum Bulkhead {
    /// A permit is taken.
    Permit,
    /// Full, and the policy does not wait.
    Full,
    /// Queued for a permit.
    Wait,
}

#[derive(Default)]
pub(super) struct Clients {
    blocks: Vec<ClientBlock>,
    index: BTreeMap<(Option<ServiceId>, u32, ServiceId, Option<PolicyId>), u32>,
    /// Client block of each workload.
    wl_client: Vec<u32>,
    /// Client blocks each edge uses (for its breaker figures).
    edge_clients: Vec<Vec<u32>>,
}

impl Clients {
    pub(super) fn new(spec: &Spec) -> Clients {
        Clients { edge_clients: vec![Vec::new(); spec.edges.len()], ..Default::default() }
    }

    /// The client block of `caller` (a service, or workload `wl`'s client) towards
    /// `target` under `policy`, made on first use; `edge` is the call edge it serves.
    pub(super) fn client_for(
        &mut self,
        spec: &Spec,
        caller: Option<ServiceId>,
        wl: u32,
        target: ServiceId,
        policy: Option<PolicyId>,
        edge: u32,
    ) -> u32 {
        let key = (caller, if caller.is_some() { 0 } else { wl }, target, policy);
        let blocks = &mut self.blocks;
        let client = *self.index.entry(key).or_insert_with(|| {
            let p = policy.map(|p| &spec.policies[p as usize]);
            let lb = p.map(|p| p.load_balancer).unwrap_or_default();
            let shared = p.map(|p| p.scope == crate::spec::Scope::Service).unwrap_or(false);
            let caller_name = match caller {
                Some(s) => spec.services[s as usize].name.clone(),
                None => format!("client:{}", spec.workloads[wl as usize].name),
            };
            let pname = p.map(|p| p.name.as_str()).unwrap_or("-");
            let name = format!("lb/{caller_name}->{}/{pname}", spec.services[target as usize].name);
            let n_slots = match caller {
                Some(s) if !shared => spec.services[s as usize].replicas as usize,
                _ => 1,
            };
            let needs_outstanding = matches!(lb, LoadBalancer::LeastOutstanding | LoadBalancer::P2c);
            let tsvc = &spec.services[target as usize];
            let n_target = tsvc.replicas;
            let slots = (0..n_slots)
                .map(|_| ClientSlot {
                    rr: 0,
                    outstanding: if needs_outstanding { vec![0; n_target as usize] } else { Vec::new() },
                    breaker: p.and_then(|p| p.breaker.as_ref()).map(CircuitBreaker::new),
                    budget: p
                        .and_then(|p| p.retry.as_ref())
                        .and_then(|r| r.budget.as_ref())
                        .map(RetryBudgetState::new),
                    outlier: p.and_then(|p| p.outlier.as_ref()).map(|o| OutlierDetector::new(o, n_target)),
                    bulk_in_use: 0,
                    bulk_waiting: VecDeque::new(),
                    bulk_compact_at: 64,
                    breaker_warm: (0, 0),
                })
                .collect();
            blocks.push(ClientBlock {
                first_replica: tsvc.first_replica,
                n_replicas: n_target,
                lb,
                shared,
                rng: rng_stream(spec.seed, &name),
                slots,
            });
            (blocks.len() - 1) as u32
        });
        let ec = &mut self.edge_clients[edge as usize];
        if !ec.contains(&client) {
            ec.push(client);
        }
        client
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
        let ix = if block.shared { 0 } else { caller_slot as usize % block.slots.len() };
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
    pub(super) fn breaker_acquire(&mut self, client: u32, caller_slot: u32, now: Nanos) -> Option<bool> {
        self.slot(client, caller_slot).breaker.as_mut().map(|br| br.try_acquire(now))
    }

    /// Takes a bulkhead permit, or queues `att` for one (`wanted` tells which queued
    /// waiters still want one, when the queue is pruned).
    pub(super) fn bulkhead_enter(
        &mut self,
        client: u32,
        caller_slot: u32,
        max_concurrent: u32,
        max_wait_ns: Option<Nanos>,
        att: AttId,
        wanted: impl Fn(AttId) -> bool,
    ) -> Bulkhead {
        let slot = self.slot(client, caller_slot);
        if slot.bulk_in_use < max_concurrent {
            slot.bulk_in_use += 1;
            return Bulkhead::Permit;
        }
        if max_wait_ns == Some(0) {
            return Bulkhead::Full;
        }
        if slot.bulk_waiting.len() >= slot.bulk_compact_at {
            // Drop the waiters that gave up, so that memory follows live ones.
            slot.bulk_waiting.retain(|w| wanted(*w));
            slot.bulk_compact_at = (slot.bulk_waiting.len() * 2).max(64);
        }
        slot.bulk_waiting.push_back(att);
        Bulkhead::Wait
    }

    /// Gives back a bulkhead permit and hands it to the longest waiter still `wanted`:
    /// returns that waiter and the permits now out.
    pub(super) fn bulkhead_release(
        &mut self,
        client: u32,
        caller_slot: u32,
        mut wanted: impl FnMut(AttId) -> bool,
    ) -> Option<(AttId, u32)> {
        let slot = self.slot(client, caller_slot);
        slot.bulk_in_use -= 1;
        // A waiter that gave up stays in `bulk_waiting` until it reaches the head (skipped
        // here) or the queue is pruned in `bulkhead_enter`.
        while let Some(next) = slot.bulk_waiting.pop_front() {
            if wanted(next) {
                slot.bulk_in_use += 1;
                return Some((next, slot.bulk_in_use));
            }
        }
        None
    }

    /// What a finished attempt held: its outstanding count on `replica` and its breaker
    /// permission (`breaker`: `None` if it held none, `Some(None)` to release it
    /// unrecorded, `Some(Some((failure, duration)))` to record the result).
    pub(super) fn release(
        &mut self,
        client: u32,
        caller_slot: u32,
        now: Nanos,
        outstanding_on: Option<ReplicaId>,
        breaker: Option<Option<(bool, Nanos)>>,
    ) {
        let first = self.blocks[client as usize].first_replica;
        let slot = self.slot(client, caller_slot);
        if let Some(replica) = outstanding_on
            && !slot.outstanding.is_empty()
        {
            let o = &mut slot.outstanding[(replica - first) as usize];
            *o = o.saturating_sub(1);
        }
        if let Some(result) = breaker
            && let Some(br) = &mut slot.breaker
        {
            match result {
                Some((failure, dur)) => br.on_result(now, failure, dur),
                None => br.release(now),
            }
        }
    }

    /// An attempt's result on `replica`, for the outlier detector.
    pub(super) fn outlier_result(
        &mut self,
        client: u32,
        caller_slot: u32,
        replica: ReplicaId,
        now: Nanos,
        error: bool,
    ) {
        let first = self.blocks[client as usize].first_replica;
        if let Some(o) = &mut self.slot(client, caller_slot).outlier {
            o.on_result(replica - first, now, error);
        }
    }

    /// The balancer's choice among the target service's replicas that are `ready` and
    /// not ejected by this caller's outlier detector; `None` if there is none.
    pub(super) fn pick(
        &mut self,
        client: u32,
        caller_slot: u32,
        now: Nanos,
        ready: impl Fn(ReplicaId) -> bool,
    ) -> Option<ReplicaId> {
        let block = &mut self.blocks[client as usize];
        let (n, first) = (block.n_replicas, block.first_replica);
        let slot_ix = if block.shared { 0 } else { caller_slot as usize % block.slots.len() };
        let slot = &mut block.slots[slot_ix];
        let eligible = |r: u32, slot: &mut ClientSlot| -> bool {
            ready(first + r) && !slot.outlier.as_mut().is_some_and(|o| o.is_ejected(r, now))
        };
        let local = match block.lb {
            LoadBalancer::RoundRobin => {
                let mut found = None;
                for _ in 0..n {
                    let r = slot.rr % n;
                    slot.rr = slot.rr.wrapping_add(1);
                    if eligible(r, slot) {
                        found = Some(r);
                        break;
                    }
                }
                found?
            }
            LoadBalancer::Random => {
                let r = block.rng.random_range(0..n);
                if eligible(r, slot) {
                    r
                } else {
                    // Fall back to the next eligible one after the draw.
                    (1..n).map(|k| (r + k) % n).find(|&x| eligible(x, slot))?
                }
            }
            LoadBalancer::LeastOutstanding => {
                // Fewest outstanding; ties go round robin so that no replica is favoured.
                let start = slot.rr % n;
                slot.rr = slot.rr.wrapping_add(1);
                let mut best: Option<u32> = None;
                for k in 0..n {
                    let r = (start + k) % n;
                    if eligible(r, slot)
                        && best.is_none_or(|b| slot.outstanding[r as usize] < slot.outstanding[b as usize])
                    {
                        best = Some(r);
                    }
                }
                best?
            }
            LoadBalancer::P2c => {
                let a = block.rng.random_range(0..n);
                let b = if n > 1 {
                    let b = block.rng.random_range(0..n - 1);
                    if b >= a { b + 1 } else { b }
                } else {
                    a
                };
                match (eligible(a, slot), eligible(b, slot)) {
                    (true, true) => {
                        if slot.outstanding[b as usize] < slot.outstanding[a as usize] {
                            b
                        } else {
                            a
                        }
                    }
                    (true, false) => a,
                    (false, true) => b,
                    (false, false) => (0..n).find(|&x| eligible(x, slot))?,
                }
            }
        };
        if !slot.outstanding.is_empty() {
            slot.outstanding[local as usize] += 1;
        }
        Some(first + local)
    }

    /// The breakers' figures at the end of warm-up.
    pub(super) fn snapshot_warmup(&mut self, w: Nanos) {
        for b in &mut self.blocks {
            for s in &mut b.slots {
                if let Some(br) = &s.breaker {
                    s.breaker_warm = (br.opened(), br.open_ns(w));
                }
            }
        }
    }

    /// The most open breaker among the edge's caller replicas' (0 closed, 1 half-open,
    /// 2 open; NaN without a breaker), as it stands now.
    pub(super) fn edge_breaker_code(&self, edge: usize) -> f64 {
        let mut state = f64::NAN;
        for &c in &self.edge_clients[edge] {
            for s in &self.blocks[c as usize].slots {
                if let Some(br) = &s.breaker {
                    let code = br.state().code() as f64;
                    state = if state.is_nan() { code } else { state.max(code) };
                }
            }
        }
        state
    }

    /// Times the edge's breakers opened and their time open, summed over the caller
    /// replicas, in the measured window; every illegal transition is a violation.
    pub(super) fn edge_breaker_figures(
        &self,
        edge: usize,
        end: Nanos,
        violations: &mut Vec<String>,
    ) -> (u64, Nanos) {
        let mut opened = 0;
        let mut open_ns = 0;
        for &c in &self.edge_clients[edge] {
            for s in &self.blocks[c as usize].slots {
                if let Some(br) = &s.breaker {
                    opened += br.opened() - s.breaker_warm.0;
                    open_ns += br.open_ns(end) - s.breaker_warm.1;
                    for (_, from, to) in br.transitions() {
                        if !is_legal(*from, *to) {
                            violations.push(format!("illegal breaker transition {from:?} -> {to:?}"));
                        }
                    }
                }
            }
        }
        (opened, open_ns)
    }
}
