//! Making the client blocks: one per (caller, target service, policy), made on first
//! use while the servers, workloads and sagas are built, each with its slots (one per
//! caller replica, or one shared), its balancer's random start and its policy's state
//! machines; and the edge tables that read them back for the figures.

use super::{ClientBlock, ClientSlot, Clients, ejections, least, ratelimits};
use crate::policy::budget::RetryBudgetState;
use crate::policy::bulkhead::Bulkhead;
use crate::rng::rng_stream;
use crate::spec::{LoadBalancer, Nanos, PolicyId, ServiceId, Spec};
use rand::RngExt;

impl Clients {
    /// The client block of `caller` (a service, or workload `wl`'s client) towards
    /// `target` under `policy`, made on first use; `edge` is the call edge it serves.
    pub(in crate::model) fn client_for(
        &mut self,
        spec: &Spec,
        caller: Option<ServiceId>,
        wl: u32,
        target: ServiceId,
        policy: Option<PolicyId>,
        edge: u32,
    ) -> u32 {
        let w = if caller.is_some() { 0 } else { wl };
        let key = (caller, w, target, policy);
        // Blocks made before for this caller and target, under other policies.
        let before =
            self.index.range((caller, w, target, None)..=(caller, w, target, Some(PolicyId::MAX))).count();
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
            // Each caller replica's turn starts at a random replica, as gRPC's
            // round_robin picker does ("we don't want to apply excess load to the first
            // server in the list"): callers that all started at replica 0 would move in
            // lockstep and land on the same replica at once. The first block of a caller
            // and target draws from their stream, whatever the policy: a call without a
            // policy starts where one under an empty policy would. A block under another
            // policy is another client, with a picker of its own: its own stream (drawing
            // from the same one, both turns started on the same replica and moved in
            // lockstep).
            let tname = &spec.services[target as usize].name;
            let start_name = match before {
                0 => format!("lb/{caller_name}->{tname}/start"),
                _ => format!("lb/{caller_name}->{tname}/{pname}/start"),
            };
            let mut start = (n_target > 1
                && matches!(lb, LoadBalancer::RoundRobin | LoadBalancer::LeastOutstanding))
            .then(|| rng_stream(spec.seed, &start_name));
            let slots = (0..n_slots)
                .map(|_| ClientSlot {
                    rr: start.as_mut().map_or(0, |r| r.random_range(0..n_target)),
                    seen: 0,
                    recheck: Nanos::MAX,
                    outstanding: if needs_outstanding { vec![0; n_target as usize] } else { Vec::new() },
                    least: (lb == LoadBalancer::LeastOutstanding && n_target >= least::MIN_REPLICAS)
                        .then(|| least::Least::new(n_target)),
                    budget: p
                        .and_then(|p| p.retry.as_ref())
                        .and_then(|r| r.budget.as_ref())
                        .map(RetryBudgetState::new),
                    outlier: p.and_then(|p| p.outlier.as_ref()).map(|o| ejections::Ejector::new(o, n_target)),
                    bulkhead: p.and_then(|p| p.bulkhead.as_ref()).map(|b| Bulkhead::new(b.max_concurrent)),
                    ratelimit: p.and_then(|p| p.rate_limit).map(ratelimits::Limiter::new),
                })
                .collect();
            blocks.push(ClientBlock {
                first_replica: tsvc.first_replica,
                n_replicas: n_target,
                lb,
                one_slot: shared || n_slots == 1,
                tracks_outstanding: needs_outstanding && n_target > 0,
                has_outlier: p.is_some_and(|p| p.outlier.is_some()),
                rng: rng_stream(spec.seed, &name),
                turn_rng: start.unwrap_or_else(|| rng_stream(spec.seed, &start_name)),
                slots,
                breakers: Vec::new(),
            });
            (blocks.len() - 1) as u32
        });
        let ec = &mut self.edge_clients[edge as usize];
        if !ec.contains(&client) {
            ec.push(client);
        }
        let target = spec.edges[edge as usize].target;
        if let Some(b) = self.breakers.instance_for(spec, caller, wl, target, policy) {
            let block = &mut self.blocks[client as usize];
            if !block.breakers.iter().any(|(e, _)| *e == target) {
                block.breakers.push((target, b));
            }
            let eb = &mut self.edge_breakers[edge as usize];
            if !eb.contains(&b) {
                eb.push(b);
            }
        }
        if policy.is_some_and(|p| spec.policies[p as usize].bulkhead.is_some()) {
            self.bulk_figs[edge as usize].get_or_insert_with(Default::default);
        }
        client
    }
}
