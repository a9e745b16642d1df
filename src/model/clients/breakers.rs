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

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(per: &str, scope: &str) -> Spec {
        let text = format!(
            r#"{{"name":"t","duration":"1s",
                "services":{{"a":{{"replicas":3,"endpoints":{{"e":{{}}}}}},
                             "b":{{"endpoints":{{"x":{{}},"y":{{}}}}}},"c":{{"endpoints":{{"z":{{}}}}}}}},
                "policies":{{"p":{{"scope":"{scope}","circuit_breaker":{{"consecutive_failures":2,"per":"{per}"}}}},
                             "q":{{"timeout":"1s"}}}},
                "workload":[{{"name":"w","target":"a.e","arrival":{{"poisson":{{"rate":1}}}}}}]}}"#
        );
        crate::scenario::load_str(&text, "t.json", &Default::default()).expect("scenario")
    }

    /// The instances a, calling b.x, b.y and c.z under `p`, gets, with their names.
    fn keyed(per: &str, scope: &str) -> (Vec<u32>, Vec<String>, usize) {
        let s = spec(per, scope);
        let ep = |n: &str| s.endpoints.iter().position(|e| e.name == n).unwrap() as EndpointId;
        let mut b = Breakers::default();
        let ids = ["b.x", "b.y", "c.z", "b.x"]
            .iter()
            .map(|e| b.instance_for(&s, Some(0), 0, ep(e), Some(0)).unwrap());
        let ids: Vec<u32> = ids.collect();
        assert_eq!(b.instance_for(&s, Some(0), 0, ep("b.x"), Some(1)), None, "no breaker in q");
        let names = b.instances.iter().map(|i| i.name.clone()).collect();
        (ids, names, b.instances[0].slots.len())
    }

    #[test]
    fn instances_key_on_what_per_says_and_are_named_after_it() {
        assert_eq!(
            keyed("service", "replica"),
            (vec![0, 0, 1, 0], vec!["a->b/p".into(), "a->c/p".into()], 3)
        );
        assert_eq!(
            keyed("endpoint", "replica"),
            (vec![0, 1, 2, 0], vec!["a->b.x/p".into(), "a->b.y/p".into(), "a->c.z/p".into()], 3)
        );
        assert_eq!(keyed("caller", "service"), (vec![0, 0, 0, 0], vec!["a->*/p".into()], 1));
    }

    #[test]
    fn a_caller_breaker_opens_for_every_target_and_slots_follow_the_scope() {
        let s = spec("caller", "replica");
        let mut b = Breakers::default();
        let id = b.instance_for(&s, Some(0), 0, 1, Some(0)).unwrap();
        // Two failures on replica 1's state machine open it; replica 0's stays closed.
        for t in [1, 2] {
            assert!(b.acquire(id, 1, t));
            b.result(id, 1, t, Some((true, 1)));
        }
        assert!(!b.acquire(id, 1, 3), "open for every target");
        assert!(b.acquire(id, 0, 3), "another replica's state machine is its own");
        b.result(id, 0, 3, Some((false, 1)));
        let f = &b.figures(10)[0];
        assert_eq!((f.opened, f.refused, f.state_machines, f.per, f.scope), (1, 1, 3, "caller", "replica"));
    }
}
