//! The memory the client tables will take, for the estimate a run makes before it
//! allocates anything (`record::preflight`). Every (caller, target service, policy)
//! block that `Clients::client_for` makes has one slot per caller replica (one when the
//! policy is `scope: "service"` or the caller is a workload's client), and each slot
//! keeps a count of outstanding attempts per target replica (`least_outstanding`,
//! `p2c`; `least_outstanding` towards many replicas an index over them, `least.rs`)
//! and an outlier detector's state per target replica; every breaker instance
//! (keyed by its `per`) has one state machine per caller replica likewise, each with its
//! time window's buckets or its count window's ring (one byte per call of the window, a
//! ring that grows by doubling as calls are recorded). A caller of thousands of replicas towards a service of
//! thousands holds millions of these, as each Envoy sidecar of a large mesh keeps its own
//! per-host table.

use super::least;
use crate::policy::breaker::CircuitBreaker;
use crate::policy::outlier::OutlierDetector;
use crate::spec::{
    Breaker, BreakerPer, BreakerWindow, CallSite, EndpointId, LoadBalancer, PolicyId, Scope, ServiceId, Spec,
    Step,
};
use std::collections::BTreeSet;

/// A call made: caller service (`None` for workload `wl`'s client), target endpoint,
/// policy.
type Site = (Option<ServiceId>, u32, EndpointId, PolicyId);

/// Bytes of the per-target-replica tables of every client block and of the breakers'
/// windows.
pub(in crate::model) fn client_table_bytes(spec: &Spec) -> u64 {
    let mut sites: BTreeSet<Site> = BTreeSet::new();
    for ep in &spec.endpoints {
        site_keys(spec, ep.service, &ep.steps, &mut sites);
    }
    for (i, wl) in spec.workloads.iter().enumerate() {
        if let Some(p) = wl.policy {
            sites.insert((None, i as u32, wl.target, p));
        }
    }
    for sg in &spec.sagas {
        for st in &sg.steps {
            if let Some(p) = st.action_policy {
                sites.insert((Some(sg.orchestrator), 0, st.action, p));
            }
            if let (Some(c), Some(p)) = (st.compensation, st.comp_policy) {
                sites.insert((Some(sg.orchestrator), 0, c, p));
            }
        }
    }
    let svc = |ep: EndpointId| spec.endpoints[ep as usize].service;
    let slots = |caller: Option<ServiceId>, p: PolicyId| match caller {
        Some(s) if spec.policies[p as usize].scope != Scope::Service => {
            u64::from(spec.services[s as usize].replicas)
        }
        _ => 1,
    };
    // Client blocks: per target replica, an outstanding count and an outlier state.
    let blocks: BTreeSet<_> = sites.iter().map(|&(c, wl, ep, p)| (c, wl, svc(ep), p)).collect();
    let block_bytes = blocks.iter().map(|&(caller, _, target, p)| {
        let pol = &spec.policies[p as usize];
        let outstanding = matches!(pol.load_balancer, LoadBalancer::LeastOutstanding | LoadBalancer::P2c);
        let per_target = 4 * u64::from(outstanding)
            + if pol.outlier.is_some() { OutlierDetector::BYTES_PER_REPLICA } else { 0 };
        let replicas = spec.services[target as usize].replicas;
        let index = if pol.load_balancer == LoadBalancer::LeastOutstanding && replicas >= least::MIN_REPLICAS
        {
            least::Least::bytes(replicas)
        } else {
            0
        };
        let per_slot = u64::from(replicas).saturating_mul(per_target).saturating_add(index);
        slots(caller, p).saturating_mul(per_slot)
    });
    // Breaker instances, keyed as `breakers.rs` keys them: their windows' buckets or rings.
    let breakers: BTreeSet<_> = sites
        .iter()
        .filter(|s| spec.policies[s.3 as usize].breaker.is_some())
        .map(|&(c, wl, ep, p)| {
            let key = match spec.policies[p as usize].breaker_per {
                BreakerPer::Service => (0, svc(ep)),
                BreakerPer::Endpoint => (1, ep),
                BreakerPer::Caller => (2, 0),
            };
            (c, wl, key, p)
        })
        .collect();
    let breaker_bytes = breakers.iter().map(|&(caller, _, _, p)| {
        let window = spec.policies[p as usize].breaker.as_ref().map_or(0, window_bytes);
        slots(caller, p).saturating_mul(window)
    });
    block_bytes.chain(breaker_bytes).fold(0, u64::saturating_add)
}

/// Bytes one breaker state machine's window holds at most: a time window's buckets
/// (allocated when it is made), or a count window's ring of one byte per call, which
/// grows as calls are recorded (`Vec::push`, doubling its capacity: at most the next
/// power of two, 8 at least) until it holds the whole window. A run long enough to fill
/// the window holds all of it, so the estimate counts it whole.
fn window_bytes(spec: &Breaker) -> u64 {
    match *spec {
        Breaker::Window { window: BreakerWindow::Count(n), .. } => {
            u64::from(n.max(1)).next_power_of_two().max(8)
        }
        _ => CircuitBreaker::window_bytes(spec),
    }
}

/// The calls of `steps` (and of their cache steps' reads, populates and `on_miss`
/// steps) made under a policy from `caller`.
fn site_keys(spec: &Spec, caller: ServiceId, steps: &[Step], sites: &mut BTreeSet<Site>) {
    let add = |cs: &CallSite, sites: &mut BTreeSet<Site>| {
        if let Some(p) = cs.policy {
            for t in &cs.targets {
                sites.insert((Some(caller), 0, t.endpoint, p));
            }
        }
    };
    for st in steps {
        match st {
            Step::Call(cs) => add(cs, sites),
            Step::Parallel(list) => list.iter().for_each(|cs| add(cs, sites)),
            Step::Cache { cache, on_miss } => {
                let c = &spec.caches[*cache as usize];
                add(&c.get, sites);
                if let Some(p) = &c.populate {
                    add(p, sites);
                }
                site_keys(spec, caller, on_miss, sites);
            }
            Step::Work(_) | Step::Publish { .. } | Step::Enqueue { .. } => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{LoadOptions, load_str};

    fn spec(policy: &str) -> Spec {
        let text = format!(
            r#"{{"name": "t", "duration": "1s",
            "services": {{
              "front": {{"replicas": 30, "endpoints": {{"e": {{"steps": [
                  {{"call": "back.e", "policy": "p"}}, {{"call": "back.f", "policy": "p"}}]}}}}}},
              "back": {{"replicas": 50, "endpoints": {{"e": {{}}, "f": {{}}}}}}
            }},
            "policies": {{"p": {policy}}},
            "workload": [{{"name": "w", "target": "front.e", "policy": "p",
                          "arrival": {{"poisson": {{"rate": 1}}}}}}]}}"#
        );
        load_str(&text, "t.json", &LoadOptions::default()).unwrap()
    }

    #[test]
    fn counts_one_table_per_caller_replica_and_target_replica() {
        let o = OutlierDetector::BYTES_PER_REPLICA;
        assert_eq!(client_table_bytes(&spec(r#"{"load_balancer": "round_robin"}"#)), 0);
        // front's 30 slots × back's 50 replicas (one block for both endpoints), plus the
        // workload's one slot × front's 30.
        assert_eq!(client_table_bytes(&spec(r#"{"load_balancer": "p2c"}"#)), 4 * (30 * 50 + 30));
        // Least outstanding towards back's 50 replicas keeps an index per slot too (64
        // leaves), not towards front's 30.
        assert_eq!(
            client_table_bytes(&spec(r#"{"load_balancer": "least_outstanding", "outlier_detection": {}}"#)),
            (4 + o) * (30 * 50 + 30) + 30 * least::Least::bytes(50)
        );
        assert_eq!(least::Least::bytes(50), 2 * 64 * 4 + 40);
        // Shared by the caller service: one slot.
        assert_eq!(
            client_table_bytes(&spec(r#"{"load_balancer": "p2c", "scope": "service"}"#)),
            4 * (50 + 30)
        );
    }

    #[test]
    fn counts_each_breaker_state_machine_s_time_window() {
        // A 10 s window: 10 buckets of 3 counters. Per endpoint: front's 30 slots for
        // each of back.e and back.f, and the workload's one for front.e.
        let w = 10 * 24;
        let per_endpoint = r#"{"circuit_breaker": {"window": {"time": "10s"}, "per": "endpoint"}}"#;
        assert_eq!(client_table_bytes(&spec(per_endpoint)), w * (30 * 2 + 1));
        let per_service = r#"{"circuit_breaker": {"window": {"time": "10s"}, "per": "service"}}"#;
        assert_eq!(client_table_bytes(&spec(per_service)), w * (30 + 1));
        // A count window's ring: one byte per call of the window, grown by doubling (100
        // calls: 128 bytes), per state machine of each instance (per service by default).
        let count = r#"{"circuit_breaker": {"window": {"count": 100}}}"#;
        assert_eq!(client_table_bytes(&spec(count)), 128 * (30 + 1));
        let count = r#"{"circuit_breaker": {"window": {"count": 4096}, "per": "endpoint"}}"#;
        assert_eq!(client_table_bytes(&spec(count)), 4096 * (30 * 2 + 1));
        let count = r#"{"circuit_breaker": {"window": {"count": 3}}, "scope": "service"}"#;
        assert_eq!(client_table_bytes(&spec(count)), 8 * (1 + 1));
        let consecutive = r#"{"circuit_breaker": {"consecutive_failures": 5}}"#;
        assert_eq!(client_table_bytes(&spec(consecutive)), 0);
    }

    /// A count window of a million calls holds up to a megabyte per state machine: 400
    /// callers with a breaker per endpoint on two endpoints hold 800 MiB once their windows
    /// are full. The estimate counted none of it and let it run under a 500 MiB limit.
    #[test]
    fn breaker_count_windows_count_against_the_memory_limit() {
        let text = |count: u32| {
            format!(
                r#"{{"name": "t", "duration": "1s", "limits": {{"max_memory_mib": 500}},
                "services": {{
                  "front": {{"replicas": 400, "endpoints": {{"e": {{"steps": [
                      {{"call": "back.e", "policy": "p"}}, {{"call": "back.f", "policy": "p"}}]}}}}}},
                  "back": {{"endpoints": {{"e": {{}}, "f": {{}}}}}}
                }},
                "policies": {{"p": {{"circuit_breaker": {{"window": {{"count": {count}}}, "per": "endpoint"}}}}}},
                "workload": [{{"name": "w", "target": "front.e", "arrival": {{"poisson": {{"rate": 1}}}}}}]}}"#
            )
        };
        let load = |count| load_str(&text(count), "t.json", &LoadOptions::default()).unwrap();
        match crate::model::run(&load(1_000_000)) {
            Err(e) => {
                let m = e.to_string();
                assert!(
                    m.contains("/limits/max_memory_mib") && m.contains("800 MiB of client tables"),
                    "{m}"
                );
            }
            Ok(_) => panic!("800 state machines with a one-million-call window ran under a 500 MiB limit"),
        }
        // The same with a window of a hundred calls runs.
        assert!(crate::model::run(&load(100)).is_ok());
    }
}
