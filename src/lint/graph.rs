//! The synchronous call graph of a resolved scenario, as the rules read it: every place
//! that makes a call (a `call`, `route` or `parallel` branch of an endpoint, a saga's
//! action, a workload's client) as a [`Site`] with its JSON pointer, the endpoints in an
//! order where callees come before their callers (the resolver refuses call cycles), and
//! which workloads reach which sites and services.

use crate::scenario::pointer::escape;
use crate::spec::{EndpointId, PolicyId, SagaId, ServiceId, Spec, Step, WorkloadId};

pub type SiteId = usize;

/// Who makes a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Owner {
    Endpoint(EndpointId),
    /// A saga's orchestrator, calling a step's action.
    Saga(SagaId),
    /// A workload's client, calling the workload's target.
    Workload(WorkloadId),
}

/// One place that makes a synchronous call.
#[derive(Clone, Debug)]
pub struct Site {
    pub owner: Owner,
    /// JSON pointer of the step, branch, saga step or workload that makes the call.
    pub path: String,
    pub policy: Option<PolicyId>,
    /// The endpoints called, each with its share of the calls (a `route`'s weights).
    pub targets: Vec<(EndpointId, f64)>,
    /// A `parallel` branch whose failure only degrades the response.
    pub optional: bool,
}

/// A workload as the start of paths: the sites its request reaches first.
#[derive(Clone, Debug)]
pub struct Root {
    pub workload: WorkloadId,
    /// For a saga workload, the orchestrator (the request's first hop, with no policy of
    /// its own); the sites are then the saga's actions, in step order.
    pub orchestrator: Option<ServiceId>,
    pub sites: Vec<SiteId>,
}

pub struct Graph<'a> {
    pub spec: &'a Spec,
    pub sites: Vec<Site>,
    /// Per endpoint, per step: the step's sites (one for a call or route, one per branch
    /// of a parallel, none for work and publish).
    pub steps: Vec<Vec<Vec<SiteId>>>,
    /// Endpoints, every callee before its callers.
    pub bottom_up: Vec<EndpointId>,
    pub roots: Vec<Root>,
    /// Per workload, per site: whether the workload's requests reach the site.
    pub reaches_site: Vec<Vec<bool>>,
    /// Per workload, per service: whether its requests reach the service (as a callee or
    /// as the orchestrator of its saga).
    pub reaches_service: Vec<Vec<bool>>,
    /// Per workload, per service: whether its requests need the service (reached through
    /// required calls only: no optional branch on the way).
    pub needs_service: Vec<Vec<bool>>,
}

impl<'a> Graph<'a> {
    pub fn new(spec: &'a Spec) -> Graph<'a> {
        let mut sites = Vec::new();
        let mut steps = Vec::with_capacity(spec.endpoints.len());
        for (e, ep) in spec.endpoints.iter().enumerate() {
            let base = format!("{}/steps", endpoint_path(spec, e as EndpointId));
            let mut per_step = Vec::with_capacity(ep.steps.len());
            for (k, step) in ep.steps.iter().enumerate() {
                let owner = Owner::Endpoint(e as EndpointId);
                let mut ids = Vec::new();
                step_sites(spec, owner, &format!("{base}/{k}"), step, &mut sites, &mut ids);
                per_step.push(ids);
            }
            steps.push(per_step);
        }
        let mut saga_sites = Vec::with_capacity(spec.sagas.len());
        for (s, saga) in spec.sagas.iter().enumerate() {
            let mut ids = Vec::new();
            for (i, st) in saga.steps.iter().enumerate() {
                ids.push(sites.len());
                sites.push(Site {
                    owner: Owner::Saga(s as SagaId),
                    path: format!("/sagas/{}/steps/{i}", escape(&saga.name)),
                    policy: st.action_policy,
                    targets: vec![(st.action, 1.0)],
                    optional: false,
                });
            }
            saga_sites.push(ids);
        }
        let mut roots = Vec::with_capacity(spec.workloads.len());
        for (w, wl) in spec.workloads.iter().enumerate() {
            let w = w as WorkloadId;
            match wl.saga {
                Some(s) => roots.push(Root {
                    workload: w,
                    orchestrator: Some(spec.sagas[s as usize].orchestrator),
                    sites: saga_sites[s as usize].clone(),
                }),
                None => {
                    roots.push(Root { workload: w, orchestrator: None, sites: vec![sites.len()] });
                    sites.push(Site {
                        owner: Owner::Workload(w),
                        path: format!("/workload/{w}"),
                        policy: wl.policy,
                        targets: vec![(wl.target, 1.0)],
                        optional: false,
                    });
                }
            }
        }
        let bottom_up = bottom_up(spec, &steps, &sites);
        let mut g = Graph {
            spec,
            sites,
            steps,
            bottom_up,
            roots,
            reaches_site: Vec::new(),
            reaches_service: Vec::new(),
            needs_service: Vec::new(),
        };
        g.reach();
        g
    }

    /// Every site of an endpoint, in step order.
    pub fn endpoint_sites(&self, e: EndpointId) -> impl Iterator<Item = SiteId> + '_ {
        self.steps[e as usize].iter().flatten().copied()
    }

    /// The service that makes a site's calls (none for a workload's client).
    pub fn caller_service(&self, s: SiteId) -> Option<ServiceId> {
        match self.sites[s].owner {
            Owner::Endpoint(e) => Some(self.spec.endpoints[e as usize].service),
            Owner::Saga(g) => Some(self.spec.sagas[g as usize].orchestrator),
            Owner::Workload(_) => None,
        }
    }

    /// Who calls, in words: `gateway.checkout`, `saga fulfillment (orders)`,
    /// `client:buyers`.
    pub fn caller_name(&self, s: SiteId) -> String {
        match self.sites[s].owner {
            Owner::Endpoint(e) => self.spec.endpoints[e as usize].name.clone(),
            Owner::Saga(g) => {
                let saga = &self.spec.sagas[g as usize];
                format!("saga {} ({})", saga.name, self.spec.services[saga.orchestrator as usize].name)
            }
            Owner::Workload(w) => format!("client:{}", self.spec.workloads[w as usize].name),
        }
    }

    /// A call in words: `gateway.checkout → orders.create`.
    pub fn call_name(&self, s: SiteId, target: EndpointId) -> String {
        format!("{} → {}", self.caller_name(s), self.ep_name(target))
    }

    pub fn ep_name(&self, e: EndpointId) -> &str {
        &self.spec.endpoints[e as usize].name
    }

    pub fn svc_name(&self, s: ServiceId) -> &str {
        &self.spec.services[s as usize].name
    }

    pub fn workload_name(&self, w: WorkloadId) -> &str {
        &self.spec.workloads[w as usize].name
    }

    pub fn policy_name(&self, s: SiteId) -> Option<&str> {
        self.sites[s].policy.map(|p| self.spec.policies[p as usize].name.as_str())
    }

    /// Which workloads reach, and which need, each site and service.
    fn reach(&mut self) {
        let n_sites = self.sites.len();
        let n_svc = self.spec.services.len();
        for root in &self.roots {
            let mut site_seen = vec![false; n_sites];
            let mut reached = vec![false; n_svc];
            let mut needed = vec![false; n_svc];
            // (site, required all the way here)
            let mut stack: Vec<(SiteId, bool)> = root.sites.iter().rev().map(|&s| (s, true)).collect();
            if let Some(o) = root.orchestrator {
                reached[o as usize] = true;
                needed[o as usize] = true;
            }
            let mut ep_seen = vec![0u8; self.spec.endpoints.len()];
            while let Some((s, required)) = stack.pop() {
                site_seen[s] = true;
                let required = required && !self.sites[s].optional;
                for &(t, _) in &self.sites[s].targets {
                    let svc = self.spec.endpoints[t as usize].service as usize;
                    reached[svc] = true;
                    needed[svc] |= required;
                    // Visit each endpoint at most twice: once on any path, once on a
                    // required one.
                    let mark = if required { 2 } else { 1 };
                    if ep_seen[t as usize] >= mark {
                        continue;
                    }
                    ep_seen[t as usize] = mark;
                    for k in self.endpoint_sites(t).collect::<Vec<_>>().into_iter().rev() {
                        stack.push((k, required));
                    }
                }
            }
            self.reaches_site.push(site_seen);
            self.reaches_service.push(reached);
            self.needs_service.push(needed);
        }
    }
}

/// The sites of one step at `path`: a call's, a parallel step's branches, a cache step's
/// read, its `on_miss` steps' (as if every read missed: the worst case the rules look
/// for) and its populate.
fn step_sites(
    spec: &Spec,
    owner: Owner,
    path: &str,
    step: &Step,
    sites: &mut Vec<Site>,
    ids: &mut Vec<SiteId>,
) {
    match step {
        Step::Call(cs) => {
            ids.push(sites.len());
            sites.push(site(owner, path.to_string(), cs));
        }
        Step::Parallel(branches) => {
            for (j, cs) in branches.iter().enumerate() {
                ids.push(sites.len());
                sites.push(site(owner, format!("{path}/parallel/{j}"), cs));
            }
        }
        Step::Work(_) | Step::Publish { .. } | Step::Enqueue { .. } => {}
        Step::Cache { cache, on_miss } => {
            let c = &spec.caches[*cache as usize];
            ids.push(sites.len());
            sites.push(site(owner, format!("{path}/cache"), &c.get));
            for (j, st) in on_miss.iter().enumerate() {
                step_sites(spec, owner, &format!("{path}/cache/on_miss/{j}"), st, sites, ids);
            }
            if let Some(p) = &c.populate {
                ids.push(sites.len());
                sites.push(site(owner, format!("{path}/cache/populate"), p));
            }
        }
    }
}

fn site(owner: Owner, path: String, cs: &crate::spec::CallSite) -> Site {
    let mut prev = 0.0;
    let targets = cs
        .targets
        .iter()
        .map(|t| {
            let share = t.cum_weight - prev;
            prev = t.cum_weight;
            (t.endpoint, share)
        })
        .collect();
    Site { owner, path, policy: cs.policy, targets, optional: cs.optional }
}

/// `/services/NAME`.
pub fn service_path(spec: &Spec, s: ServiceId) -> String {
    format!("/services/{}", escape(&spec.services[s as usize].name))
}

/// `/services/SVC/endpoints/EP` (an endpoint's name is `SVC.EP`).
pub fn endpoint_path(spec: &Spec, e: EndpointId) -> String {
    let ep = &spec.endpoints[e as usize];
    let svc = &spec.services[ep.service as usize].name;
    let own = ep.name.strip_prefix(svc.as_str()).and_then(|r| r.strip_prefix('.')).unwrap_or(&ep.name);
    format!("{}/endpoints/{}", service_path(spec, ep.service), escape(own))
}

/// Endpoints ordered so that every callee comes before its callers (a depth-first
/// post-order, iterative; the resolver has refused cycles).
fn bottom_up(spec: &Spec, steps: &[Vec<Vec<SiteId>>], sites: &[Site]) -> Vec<EndpointId> {
    let n = spec.endpoints.len();
    let callees = |e: usize| -> Vec<EndpointId> {
        steps[e].iter().flatten().flat_map(|&s| sites[s].targets.iter().map(|t| t.0)).collect()
    };
    let mut state = vec![0u8; n];
    let mut out = Vec::with_capacity(n);
    for start in 0..n {
        if state[start] != 0 {
            continue;
        }
        let mut stack: Vec<(usize, Vec<EndpointId>, usize)> = vec![(start, callees(start), 0)];
        state[start] = 1;
        while let Some((node, next, i)) = stack.last_mut() {
            if let Some(&t) = next.get(*i) {
                *i += 1;
                if state[t as usize] == 0 {
                    state[t as usize] = 1;
                    let c = callees(t as usize);
                    stack.push((t as usize, c, 0));
                }
            } else {
                state[*node] = 2;
                out.push(*node as EndpointId);
                stack.pop();
            }
        }
    }
    out
}
