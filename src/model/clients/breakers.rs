//! Circuit breaker instances, keyed on what the policy's `circuit_breaker.per` says:
//! the caller (a service, or a workload's client) and the policy always, and the target
//! service (`per: "service"`), the target endpoint (`"endpoint"`) or nothing more
//! (`"caller"`: one breaker for every call under the policy, as a decorated `forward()`
//! of a gateway). Each instance holds one state machine per caller replica, or one
//! shared by the caller's replicas with `scope: "service"`.
//!
//! An instance is named after its key: `CALLER->SERVICE/POLICY`,
//! `CALLER->SERVICE.ENDPOINT/POLICY` or `CALLER->*/POLICY` (a workload's client is
//! `client:WORKLOAD`).
//!
//! *Invariants*: every transition a breaker makes is legal (`policy::breaker::is_legal`;
//! an illegal one is reported as a violation); instances are made in the order call
//! sites are compiled (file order), so their names and figures come out in that order.

use crate::policy::breaker::{CircuitBreaker, is_legal};
use crate::spec::{BreakerPer, EndpointId, Nanos, PolicyId, Scope, ServiceId, Spec};
use std::collections::BTreeMap;

/// What an instance keys on besides the caller and the policy.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    Service(ServiceId),
    Endpoint(EndpointId),
    Caller,
}

struct Slot {
    br: CircuitBreaker,
    /// Figures at the end of warm-up: opened, open ns, refused.
    warm: (u64, Nanos, u64),
    /// Calls refused `circuit_open`.
    refused: u64,
}

struct Instance {
    name: String,
    per: BreakerPer,
    shared: bool,
    slots: Vec<Slot>,
}

/// One breaker instance's figures over the measured window, summed over its slots.
#[derive(Debug, Default, Clone)]
pub struct BreakerFigures {
    pub name: String,
    pub per: &'static str,
    pub scope: &'static str,
    /// State machines in the instance: the caller's replicas, or 1 when shared.
    pub state_machines: u32,
    pub opened: u64,
    pub open_ns: Nanos,
    pub refused: u64,
}

#[derive(Default)]
pub(super) struct Breakers {
    instances: Vec<Instance>,
    index: BTreeMap<(Option<ServiceId>, u32, Key, PolicyId), u32>,
}

impl Breakers {
    /// The instance for a call from `caller` (or workload `wl`'s client) to `target`
    /// under `policy`, made on first use; `None` when the policy has no breaker.
    pub(super) fn instance_for(
        &mut self,
        spec: &Spec,
        caller: Option<ServiceId>,
        wl: u32,
        target: EndpointId,
        policy: Option<PolicyId>,
    ) -> Option<u32> {
        let p = policy?;
        let pol = &spec.policies[p as usize];
        let breaker = pol.breaker.as_ref()?;
        let tsvc = spec.endpoints[target as usize].service;
        let key = match pol.breaker_per {
            BreakerPer::Service => Key::Service(tsvc),
            BreakerPer::Endpoint => Key::Endpoint(target),
            BreakerPer::Caller => Key::Caller,
        };
        let wl_key = if caller.is_some() { 0 } else { wl };
        let instances = &mut self.instances;
        let id = *self.index.entry((caller, wl_key, key, p)).or_insert_with(|| {
            let shared = pol.scope == Scope::Service;
            let caller_name = match caller {
                Some(s) => spec.services[s as usize].name.clone(),
                None => format!("client:{}", spec.workloads[wl as usize].name),
            };
            let what = match key {
                Key::Service(s) => spec.services[s as usize].name.clone(),
                Key::Endpoint(e) => spec.endpoints[e as usize].name.clone(),
                Key::Caller => "*".into(),
            };
            let n = match caller {
                Some(s) if !shared => spec.services[s as usize].replicas as usize,
                _ => 1,
            };
            let slots =
                (0..n).map(|_| Slot { br: CircuitBreaker::new(breaker), warm: (0, 0, 0), refused: 0 });
            instances.push(Instance {
                name: format!("{caller_name}->{what}/{}", pol.name),
                per: pol.breaker_per,
                shared,
                slots: slots.collect(),
            });
            (instances.len() - 1) as u32
        });
        Some(id)
    }

    fn slot(&mut self, id: u32, caller_slot: u32) -> &mut Slot {
        let inst = &mut self.instances[id as usize];
        let ix = if inst.shared { 0 } else { caller_slot as usize % inst.slots.len() };
        &mut inst.slots[ix]
    }

    /// Whether the breaker lets a call through now (a refusal is counted).
    pub(super) fn acquire(&mut self, id: u32, caller_slot: u32, now: Nanos) -> bool {
        let s = self.slot(id, caller_slot);
        let ok = s.br.try_acquire(now);
        if !ok {
            s.refused += 1;
        }
        ok
    }

    /// A permitted call's result (`Some((failure, duration))`), or its permission given
    /// back unrecorded (`None`).
    pub(super) fn result(&mut self, id: u32, caller_slot: u32, now: Nanos, result: Option<(bool, Nanos)>) {
        let br = &mut self.slot(id, caller_slot).br;
        match result {
            Some((failure, dur)) => br.on_result(now, failure, dur),
            None => br.release(now),
        }
    }

    pub(super) fn snapshot_warmup(&mut self, w: Nanos) {
        for s in self.instances.iter_mut().flat_map(|i| i.slots.iter_mut()) {
            s.warm = (s.br.opened(), s.br.open_ns(w), s.refused);
        }
    }

    /// The most open state among an instance's slots (0 closed, 1 half-open, 2 open).
    pub(super) fn code(&self, id: u32) -> f64 {
        let slots = &self.instances[id as usize].slots;
        slots.iter().map(|s| s.br.state().code()).max().unwrap_or(0) as f64
    }

    /// Times an instance opened and its time open, summed over its slots, in the
    /// measured window; every illegal transition is a violation.
    pub(super) fn opened(&self, id: u32, end: Nanos, violations: &mut Vec<String>) -> (u64, Nanos) {
        let inst = &self.instances[id as usize];
        let (mut opened, mut open_ns) = (0, 0);
        for s in &inst.slots {
            opened += s.br.opened() - s.warm.0;
            open_ns += s.br.open_ns(end) - s.warm.1;
            for (_, from, to) in s.br.transitions() {
                if !is_legal(*from, *to) {
                    violations.push(format!("{}: illegal breaker transition {from:?} -> {to:?}", inst.name));
                }
            }
        }
        (opened, open_ns)
    }

    /// Every instance's figures, in the order they were made.
    pub(super) fn figures(&self, end: Nanos) -> Vec<BreakerFigures> {
        let mut ignored = Vec::new();
        (0..self.instances.len() as u32)
            .map(|id| {
                let inst = &self.instances[id as usize];
                let (opened, open_ns) = self.opened(id, end, &mut ignored);
                BreakerFigures {
                    name: inst.name.clone(),
                    per: match inst.per {
                        BreakerPer::Service => "service",
                        BreakerPer::Endpoint => "endpoint",
                        BreakerPer::Caller => "caller",
                    },
                    scope: if inst.shared { "service" } else { "replica" },
                    state_machines: inst.slots.len() as u32,
                    opened,
                    open_ns,
                    refused: inst.slots.iter().map(|s| s.refused - s.warm.2).sum(),
                }
            })
            .collect()
    }
}
