//! A `cache` step in an execution's program (cache-aside, as the Redis and Memcached
//! guides write it): laid out flat as its read, its `on_miss` steps, then its populate
//! when it has one. The read's answer decides (the caches room draws the hit): a hit
//! goes on after the populate, a miss runs `on_miss`, a failed read falls through as a
//! miss or fails the step (`on_cache_error`); the populate is awaited, and its failure
//! is ignored or fails the step the same way.

use super::steps::{MStep, Site, compile_site};

/// Where a cache step's call stands in the program: its read (`hit_to`: where a hit goes
/// on) or its populate.
#[derive(Clone, Copy)]
pub(super) struct CacheAt {
    pub(super) cache: u32,
    pub(super) site: u32,
    pub(super) populate: bool,
    pub(super) hit_to: u16,
}
use crate::dist::Dist;
use crate::metrics::Outcome;
use crate::model::World;
use crate::model::caches::CacheNext;
use crate::model::clients::Clients;
use crate::model::event::ExecId;
use crate::model::network::Network;
use crate::spec::{Cause, Endpoint, ReplicaId, Spec, Step};

/// Lays out cache step `cache` at the end of `prog` (the program so far and its work
/// distributions): its `on_miss` steps are compiled as a program of their own, then
/// moved in place (their work indices and jumps shifted).
#[allow(clippy::too_many_arguments)]
pub(super) fn compile(
    spec: &Spec,
    ep: &Endpoint,
    cache: u32,
    on_miss: &[Step],
    prog: (&mut Vec<MStep>, &mut Vec<Dist>),
    sites: &mut Vec<Site>,
    clients: &mut Clients,
    net: &mut Network,
) {
    let (steps, work) = prog;
    let c = &spec.caches[cache as usize];
    let get = compile_site(spec, ep.service, &c.get, sites, clients, net);
    let at = steps.len();
    steps.push(MStep::Cache(CacheAt { cache, site: get, populate: false, hit_to: 0 }));
    let inner = Endpoint { steps: on_miss.to_vec(), ..ep.clone() };
    let (sub, sub_work) = super::steps::compile(spec, &inner, sites, clients, net);
    let (step_base, work_base) = (steps.len(), work.len() as u32);
    steps.extend(sub.into_iter().map(|s| match s {
        MStep::Work(i) => MStep::Work(i + work_base),
        MStep::Cache(at) if !at.populate => {
            MStep::Cache(CacheAt { hit_to: at.hit_to + step_base as u16, ..at })
        }
        other => other,
    }));
    work.extend(sub_work);
    if let Some(p) = &c.populate {
        let site = compile_site(spec, ep.service, p, sites, clients, net);
        steps.push(MStep::Cache(CacheAt { cache, site, populate: true, hit_to: 0 }));
    }
    let end = steps.len() as u16;
    if let MStep::Cache(read) = &mut steps[at] {
        read.hit_to = end;
    }
}

impl World<'_> {
    /// Starts a cache step's read or populate call.
    pub(super) fn cache_step(&mut self, id: ExecId, at: CacheAt) {
        let CacheAt { cache, site, populate, .. } = at;
        let counted = self.rec.counted(self.sched.now());
        let Some(e) = self.servers.execs.get_mut(id) else { return };
        e.pending = 1;
        self.caches.started(id, cache, populate, counted);
        self.start_site_call(id, site);
    }

    /// A call of execution `id` ended: if it was a cache step's, acts on it and returns
    /// true.
    pub(super) fn cache_answer(&mut self, id: ExecId, outcome: Outcome, served_by: ReplicaId) -> bool {
        let alive = self.servers.execs.contains(id);
        let Some(next) = self.cache_result(id, outcome, served_by, alive) else { return false };
        let Some(e) = self.servers.execs.get_mut(id) else { return true };
        e.pending = 0;
        match next {
            CacheNext::Gone => {}
            CacheNext::Hit => {
                let ep = &self.servers.eps[e.endpoint as usize];
                match ep.hot.steps.get(e.step as usize) {
                    Some(MStep::Cache(read)) if !read.populate => e.step = read.hit_to,
                    _ => {
                        self.violations
                            .push("a cache hit answered an execution not at its cache read".into());
                        e.step += 1;
                    }
                }
                self.run_steps(id);
            }
            CacheNext::Next => {
                e.step += 1;
                self.run_steps(id);
            }
            CacheNext::Fail(cause) => {
                // As any failed required step: `declined` if the cache declined, else `error`.
                let c = if cause == Cause::Declined { Cause::Declined } else { Cause::Error };
                self.finish_exec(id, Outcome::Failed(c));
            }
        }
        true
    }
}
