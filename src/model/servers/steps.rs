//! An execution's program: the endpoint's own latency (and its error and decline
//! draws), then its steps in order — `work`, a synchronous `call` (one target, or a
//! weighted route), `parallel` calls that all must answer, `publish` to a topic, a
//! `cache` read (`cache.rs`). A failed required call ends the execution (`error`, or
//! `declined` if the callee declined); an optional one degrades it.

use super::STEP_OWN;
use super::cache::CacheAt;
use crate::dist::Dist;
use crate::metrics::Outcome;
use crate::model::World;
use crate::model::calls::CallTo;
use crate::model::clients::Clients;
use crate::model::event::{ExecId, Parent};
use crate::model::network::Network;
use crate::spec::{
    CallSite, Cause, EdgeId, Endpoint, EndpointId, PolicyId, ReplicaId, ServiceId, Spec, Step,
};
use rand::RngExt;

/// A compiled step: call sites are flattened into `Servers::sites`; `Cache` is a cache
/// step's read or populate (`cache.rs`).
#[derive(Clone, Copy)]
pub(super) enum MStep {
    Publish { topic: u32, outbox: bool },
    Enqueue { queue: u32, outbox: bool },
    Work(u32),
    Call(u32),
    Parallel { first: u32, len: u32 },
    Cache(CacheAt),
}

pub(super) struct Site {
    targets: Vec<SiteTarget>,
    policy: Option<PolicyId>,
    optional: bool,
}

#[derive(Clone, Copy)]
struct SiteTarget {
    endpoint: EndpointId,
    cum_weight: f64,
    edge: EdgeId,
    /// Client-state block for (caller service, target service, policy).
    client: u32,
    net: u32,
}

/// Appends a call site of service `caller` to `sites`; returns its index.
pub(super) fn compile_site(
    spec: &Spec,
    caller: ServiceId,
    cs: &CallSite,
    sites: &mut Vec<Site>,
    clients: &mut Clients,
    net: &mut Network,
) -> u32 {
    let targets = cs
        .targets
        .iter()
        .map(|t| {
            let tsvc = spec.endpoints[t.endpoint as usize].service;
            let client = clients.client_for(spec, Some(caller), 0, tsvc, cs.policy, t.edge);
            SiteTarget {
                endpoint: t.endpoint,
                cum_weight: t.cum_weight,
                edge: t.edge,
                client,
                net: net.path_for(spec, caller, tsvc),
            }
        })
        .collect();
    sites.push(Site { targets, policy: cs.policy, optional: cs.optional });
    (sites.len() - 1) as u32
}

/// Compiles an endpoint's steps, appending its call sites to `sites`.
pub(super) fn compile(
    spec: &Spec,
    ep: &Endpoint,
    sites: &mut Vec<Site>,
    clients: &mut Clients,
    net: &mut Network,
) -> (Vec<MStep>, Vec<Dist>) {
    let caller = ep.service;
    let mut steps = Vec::new();
    let mut work = Vec::new();
    let compile_site = |cs: &CallSite, sites: &mut Vec<Site>, clients: &mut Clients, net: &mut Network| {
        compile_site(spec, caller, cs, sites, clients, net)
    };
    for st in &ep.steps {
        match st {
            Step::Work(d) => {
                steps.push(MStep::Work(work.len() as u32));
                work.push(d.clone());
            }
            Step::Call(cs) => {
                let i = compile_site(cs, sites, clients, net);
                steps.push(MStep::Call(i));
            }
            Step::Publish { topic, outbox } => steps.push(MStep::Publish { topic: *topic, outbox: *outbox }),
            Step::Enqueue { queue, outbox } => steps.push(MStep::Enqueue { queue: *queue, outbox: *outbox }),
            Step::Parallel(branches) => {
                let first = sites.len() as u32;
                for b in branches {
                    compile_site(b, sites, clients, net);
                }
                steps.push(MStep::Parallel { first, len: branches.len() as u32 });
            }
            Step::Cache { cache, on_miss } => {
                super::cache::compile(spec, ep, *cache, on_miss, (&mut steps, &mut work), sites, clients, net)
            }
        }
    }
    (steps, work)
}

impl World<'_> {
    /// An execution finished its own latency or a `work` step (or a publish step was
    /// acknowledged).
    #[inline(always)]
    pub(in crate::model) fn exec_wake(&mut self, id: ExecId) {
        let Some(e) = self.servers.execs.get_mut(id) else { return };
        let endpoint = e.endpoint;
        if e.step == STEP_OWN {
            let ep = &mut self.servers.eps[endpoint as usize];
            let (error_p, decline_p) = (ep.hot.error_p, ep.hot.decline_p);
            if error_p > 0.0 || decline_p > 0.0 {
                let u: f64 = ep.outcome_rng.random();
                if u < error_p {
                    return self.finish_exec(id, Outcome::Failed(Cause::Error));
                }
                if u < error_p + decline_p {
                    return self.finish_exec(id, Outcome::Failed(Cause::Declined));
                }
            }
            e.step = 0;
        } else {
            e.step += 1;
        }
        self.run_steps(id);
    }

    /// Runs steps from the current one until one has to wait, or the end.
    pub(super) fn run_steps(&mut self, id: ExecId) {
        let servers = &mut self.servers;
        let Some(e) = servers.execs.get_mut(id) else { return };
        let (endpoint, replica) = (e.endpoint, e.replica);
        let ep = &mut servers.eps[endpoint as usize];
        let Some(&step) = ep.hot.steps.get(e.step as usize) else {
            let degraded = e.degraded;
            return self.finish_exec(id, Outcome::Ok { degraded });
        };
        match step {
            MStep::Publish { topic, outbox } => self.publish_step(id, topic, outbox),
            MStep::Enqueue { queue, outbox } => self.enqueue_step(id, queue, outbox),
            MStep::Work(work_ix) => {
                let mut d = ep.work[work_ix as usize].sample(&mut ep.work_rng);
                if self.faults.any_on_executions() {
                    d = self.faults.faulted_duration(self.spec, d, endpoint, replica, false);
                }
                if let Some(f) = self.autoscale.cold_factor(replica, self.sched.now(), self.spec) {
                    d = (d as f64 * f).round().min(1.8e19) as crate::spec::Nanos;
                }
                self.sched.after(d, super::wake(id, e.origin));
            }
            MStep::Call(site) => {
                e.pending = 1;
                self.start_site_call(id, site);
            }
            MStep::Cache(at) => self.cache_step(id, at),
            MStep::Parallel { first, len } => {
                e.pending = len as u16;
                for s in first..first + len {
                    // A required branch may have failed at once and ended the execution.
                    if !self.servers.execs.contains(id) {
                        return;
                    }
                    self.start_site_call(id, s);
                }
            }
        }
    }

    pub(super) fn start_site_call(&mut self, exec: ExecId, site_ix: u32) {
        let servers = &mut self.servers;
        let Some(e) = servers.execs.get(exec) else { return };
        let caller_slot = self.spec.replicas[e.replica as usize].index;
        let (endpoint, entity) = (e.endpoint, e.entity);
        let site = &servers.sites[site_ix as usize];
        let t = if site.targets.len() == 1 {
            site.targets[0]
        } else {
            let u: f64 = servers.eps[endpoint as usize].route_rng.random();
            *site.targets.iter().find(|t| u < t.cum_weight).unwrap_or(&site.targets[site.targets.len() - 1])
        };
        let to = CallTo {
            target: t.endpoint,
            edge: t.edge,
            client: t.client,
            policy: site.policy,
            optional: site.optional,
            net: t.net,
            caller_slot,
        };
        self.start_call(Parent::Exec { exec }, to, entity);
    }

    /// A call of the execution's current step ended.
    /// `served_by`: the replica whose answer the call took, when it succeeded.
    pub(in crate::model) fn child_done(
        &mut self,
        id: ExecId,
        outcome: Outcome,
        optional: bool,
        served_by: ReplicaId,
    ) {
        if self.caches.any() && self.cache_answer(id, outcome, served_by) {
            return;
        }
        let Some(e) = self.servers.execs.get_mut(id) else {
            // The execution already ended (another required branch failed first, its
            // replica crashed, or it was cancelled).
            return;
        };
        e.pending -= 1;
        match outcome {
            Outcome::Ok { degraded } => e.degraded |= degraded,
            Outcome::Failed(_) if optional => e.degraded = true,
            Outcome::Failed(cause) => {
                // A failed required step ends the execution at once: the service
                // answers `declined` if the step was declined and `error` otherwise.
                let c = if cause == Cause::Declined { Cause::Declined } else { Cause::Error };
                return self.finish_exec(id, Outcome::Failed(c));
            }
        }
        if e.pending == 0 {
            e.step += 1;
            self.run_steps(id);
        }
    }
}
