//! The `cache` step: a cache-aside read (docs/scenario-format.md, Caches). Its cache
//! must be a service of `kind: "cache"`; its read and populate endpoints belong to that
//! service; its `on_miss` steps are ordinary steps of the same endpoint (a nested cache
//! step included: an L1 in front of an L2).

use super::{MAX_STEPS, P, R, fmt_f, list, suggest};
use crate::scenario::raw::{RawOnCacheError, RawStep};
use crate::spec::{Cache, CallSite, EndpointId, OnCacheError, RouteTarget, ServiceId, Step};

/// Most steps one endpoint's program may hold once its cache steps are laid out flat
/// (each cache step is its read, its `on_miss` steps, and its populate): the model
/// counts them in 16 bits.
pub const MAX_FLAT_STEPS: usize = 16_384;

/// The length of `steps` laid out flat, as the model runs them.
fn flat_len(steps: &[Step]) -> usize {
    steps
        .iter()
        .map(|s| match s {
            Step::Cache { on_miss, .. } => 2usize.saturating_add(flat_len(on_miss)),
            _ => 1,
        })
        .fold(0usize, usize::saturating_add)
}

impl R<'_> {
    /// Reports an endpoint whose program would be too long once laid out flat.
    pub(super) fn flat_steps_fit(&mut self, steps: &[Step], path: &P) {
        let n = flat_len(steps);
        if n > MAX_FLAT_STEPS {
            self.err(
                path,
                format!(
                    "too many steps once the cache steps' `on_miss` lists are counted: {n} \
                     (at most {MAX_FLAT_STEPS})"
                ),
            );
        }
    }

    /// A `cache` step of endpoint `from` (of service `sid`).
    pub(super) fn cache_step(
        &mut self,
        sid: ServiceId,
        from: EndpointId,
        s: &RawStep,
        path: &P,
    ) -> Option<Step> {
        let c = s.cache.as_deref()?;
        let cp = path.k("cache");
        if s.policy.is_some() {
            self.err_key(
                &path.k("policy"),
                "a `cache` step's policy goes inside it: {\"cache\": {..., \"policy\": \"NAME\"}}",
            );
        }
        let policy = self.policy_ref(c.policy.as_ref(), &cp.k("policy"));
        let hit_p = if c.hit_ratio.is_finite() && (0.0..=100.0).contains(&c.hit_ratio) {
            c.hit_ratio / 100.0
        } else {
            self.err(
                &cp.k("hit_ratio"),
                format!(
                    "expected a hit ratio in percent from 0 to 100, found {} (90 means nine reads in ten \
                     find their value)",
                    fmt_f(c.hit_ratio)
                ),
            );
            0.0
        };
        let warm_up_ns = self.dur_opt(c.warm_up.as_ref(), &cp.k("warm_up"), 0);
        let on_error = match c.on_cache_error {
            None | Some(RawOnCacheError::Miss) => OnCacheError::Miss,
            Some(RawOnCacheError::Fail) => OnCacheError::Fail,
        };
        let mut on_miss = Vec::new();
        if let Some(list) = &c.on_miss {
            let mp = cp.k("on_miss");
            if list.len() > MAX_STEPS {
                self.err(&mp, format!("too many steps: {} (at most {MAX_STEPS})", list.len()));
            }
            for (i, st) in list.iter().enumerate().take(MAX_STEPS) {
                if let Some(step) = self.step(sid, from, st, &mp.i(i)) {
                    on_miss.push(step);
                }
            }
        }
        let svc = self.cache_service(&c.service, &cp.k("service"))?;
        let get = self.cache_endpoint(sid, from, svc, &c.endpoint, &cp.k("endpoint"), policy);
        let populate = match &c.populate {
            Some(e) => Some(self.cache_endpoint(sid, from, svc, e, &cp.k("populate"), policy)?),
            None => None,
        };
        let get = get?;
        let read = get.targets[0].endpoint as usize;
        let base = format!("{}->{}", self.endpoint_names[from as usize], self.endpoint_names[read]);
        let taken =
            self.caches.iter().filter(|k| k.caller == from && k.get.targets[0].endpoint as usize == read);
        let name = match taken.count() {
            0 => base,
            n => format!("{base}#{}", n + 1),
        };
        let id = self.caches.len() as u32;
        self.caches.push(Cache { name, caller: from, get, populate, hit_p, warm_up_ns, on_error });
        Some(Step::Cache { cache: id, on_miss })
    }

    /// The cache service a step names: it must exist and be of kind `cache`.
    fn cache_service(&mut self, name: &str, path: &P) -> Option<ServiceId> {
        let id = self.service_ref(name, path)?;
        if !self.services[id as usize].is_cache {
            let caches: Vec<&str> = self.services.iter().filter(|s| s.is_cache).map(|s| s.name).collect();
            self.err(
                path,
                format!(
                    "`{name}` is not a cache: a `cache` step reads a service of `\"kind\": \"cache\"` \
                     (give `{name}` that kind, or call it with a `call` step); the caches are: {}",
                    list(caches)
                ),
            );
            return None;
        }
        Some(id)
    }

    /// The read or populate endpoint `ep` of cache service `svc`, as a call site of
    /// endpoint `from`.
    fn cache_endpoint(
        &mut self,
        sid: ServiceId,
        from: EndpointId,
        svc: ServiceId,
        ep: &str,
        path: &P,
        policy: Option<u32>,
    ) -> Option<CallSite> {
        let info = &self.services[svc as usize];
        let Some(&(_, target)) = info.endpoints.iter().find(|(n, _)| *n == ep) else {
            let eps: Vec<&str> = info.endpoints.iter().map(|e| e.0).collect();
            let hint = suggest(ep, eps.iter().copied());
            let msg = format!(
                "unknown endpoint `{ep}` of cache `{}`{hint} (name it without the service); it has: {}",
                info.name,
                list(eps)
            );
            self.err(path, msg);
            return None;
        };
        let edge = self.edge(sid, target);
        if let Some(c) = self.calls.get_mut(from as usize) {
            c.push((target, path.clone()));
        }
        Some(CallSite {
            targets: vec![RouteTarget { endpoint: target, cum_weight: 1.0, edge }],
            policy,
            optional: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cache_step_is_its_read_its_misses_and_its_populate_laid_flat() {
        let leaf = || Step::Work(crate::dist::Dist::Constant(0.0));
        let inner = Step::Cache { cache: 1, on_miss: vec![leaf(), leaf()] };
        let outer = Step::Cache { cache: 0, on_miss: vec![inner, leaf()] };
        assert_eq!(flat_len(&[leaf(), outer]), 1 + (2 + (2 + 2) + 1));
    }
}
