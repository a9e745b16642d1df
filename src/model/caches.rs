//! The caches room: what a `cache` step's reads find. It owns, per replica, when it
//! last restarted (a cache's memory is empty after a restart), and per cache step its
//! random stream (`cache/<step name>`), its figures and its per-interval tallies, and
//! the cache calls still out.
//!
//! A read answered by replica `r` at `t` finds its value with probability
//! `hit_p × min(1, (t − restart_r) / warm_up)` (`hit_p` when `r` never restarted or
//! `warm_up` is 0): the replica that answered is the one whose answer the caller took
//! (the winning attempt), and the instant is when that answer reaches the caller (a
//! network hop after the replica served it). The step's control flow (jump past
//! `on_miss` on a hit) is the servers room's (`servers/cache.rs`).
//!
//! *Invariants*: per cache step, gets = hits + misses + errors + abandoned + the reads
//! still out, and populates = populated + failed + abandoned + the populates still out
//! (counted ones, checked at the end of every run).

use super::World;
use super::event::ExecId;
use super::output::CacheFigures;
use crate::metrics::Outcome;
use crate::rng::{Rng, rng_stream};
use crate::spec::{Cause, Nanos, OnCacheError, ReplicaId, Spec};
use rand::RngExt;
use std::collections::BTreeMap;

/// What the execution does after its cache call answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum CacheNext {
    /// The read found its value: skip `on_miss` and the populate.
    Hit,
    /// Go on with the next step (`on_miss` after a miss, or after the populate).
    Next,
    /// The step fails with this cause (`on_cache_error: "fail"`).
    Fail(Cause),
    /// The execution is gone (counted as abandoned).
    Gone,
}

/// A cache call out, keyed by the execution that waits for it (an execution runs one
/// step at a time, so it has at most one).
#[derive(Clone, Copy)]
struct Out {
    cache: u32,
    populate: bool,
    counted: bool,
}

struct StepState {
    rng: Rng,
    fig: CacheFigures,
    populated: u64,
    populate_abandoned: u64,
    /// This interval's hits, misses and errors (every read, measured or not).
    interval: [u64; 3],
}

pub(super) struct Caches {
    steps: Vec<StepState>,
    /// Per replica: when it last came back from a crash or a liveness kill.
    restarted: Vec<Option<Nanos>>,
    /// Keyed by the execution's `(index, generation)`.
    out: BTreeMap<(u32, u32), Out>,
}

impl Caches {
    pub(super) fn new(spec: &Spec) -> Caches {
        let steps = spec
            .caches
            .iter()
            .map(|c| StepState {
                rng: rng_stream(spec.seed, &format!("cache/{}", c.name)),
                fig: CacheFigures::default(),
                populated: 0,
                populate_abandoned: 0,
                interval: [0; 3],
            })
            .collect();
        let restarted = if spec.caches.is_empty() { Vec::new() } else { vec![None; spec.replicas.len()] };
        Caches { steps, restarted, out: BTreeMap::new() }
    }

    /// Whether the scenario has cache steps at all.
    #[inline]
    pub(super) fn any(&self) -> bool {
        !self.steps.is_empty()
    }

    /// A replica came back up: its memory is empty.
    pub(super) fn on_restart(&mut self, replica: ReplicaId, now: Nanos) {
        if let Some(r) = self.restarted.get_mut(replica as usize) {
            *r = Some(now);
        }
    }

    /// The share of reads of cache step `cache` that replica `r` answers with the
    /// value at `now`.
    pub(super) fn hit_share(&self, spec: &Spec, cache: u32, r: ReplicaId, now: Nanos) -> f64 {
        let c = &spec.caches[cache as usize];
        match self.restarted.get(r as usize).copied().flatten() {
            Some(at) if c.warm_up_ns > 0 => {
                c.hit_p * ((now.saturating_sub(at)) as f64 / c.warm_up_ns as f64).min(1.0)
            }
            _ => c.hit_p,
        }
    }

    /// A cache call of execution `exec` starts.
    pub(super) fn started(&mut self, exec: ExecId, cache: u32, populate: bool, counted: bool) {
        let st = &mut self.steps[cache as usize];
        if counted {
            if populate {
                st.fig.populates += 1;
            } else {
                st.fig.gets += 1;
            }
        }
        self.out.insert((exec.index, exec.generation), Out { cache, populate, counted });
    }

    /// Per cache step: hits, misses, errors of the interval, and its hit ratio in
    /// percent (NaN when no read was answered).
    pub(super) fn flush_interval(&mut self, push: &mut impl FnMut(f64)) {
        for st in &mut self.steps {
            let [h, m, e] = st.interval;
            push(h as f64);
            push(m as f64);
            push(e as f64);
            push(if h + m > 0 { 100.0 * h as f64 / (h + m) as f64 } else { f64::NAN });
            st.interval = [0; 3];
        }
    }

    /// Figures per cache step; checks that each step's calls add up.
    pub(super) fn figures(&mut self, spec: &Spec, violations: &mut Vec<String>) -> Vec<CacheFigures> {
        let mut gets_out = vec![0u64; self.steps.len()];
        let mut sets_out = vec![0u64; self.steps.len()];
        for o in self.out.values().filter(|o| o.counted) {
            if o.populate {
                sets_out[o.cache as usize] += 1;
            } else {
                gets_out[o.cache as usize] += 1;
            }
        }
        let mut figs = Vec::with_capacity(self.steps.len());
        for (i, st) in self.steps.iter_mut().enumerate() {
            let mut f = std::mem::take(&mut st.fig);
            f.in_flight = gets_out[i];
            if f.gets != f.hits + f.misses + f.errors + f.abandoned + f.in_flight {
                violations.push(format!(
                    "cache step {}: {} reads but {} hits + {} misses + {} errors + {} abandoned + {} out",
                    spec.caches[i].name, f.gets, f.hits, f.misses, f.errors, f.abandoned, f.in_flight
                ));
            }
            if f.populates != st.populated + f.populate_failed + st.populate_abandoned + sets_out[i] {
                violations.push(format!(
                    "cache step {}: {} populates but {} done + {} failed + {} abandoned + {} out",
                    spec.caches[i].name,
                    f.populates,
                    st.populated,
                    f.populate_failed,
                    st.populate_abandoned,
                    sets_out[i]
                ));
            }
            figs.push(f);
        }
        figs
    }
}

impl World<'_> {
    /// The cache call execution `exec` waited for ended with `outcome`, answered by
    /// replica `served_by` when it succeeded. `None` when `exec` had no cache call out
    /// (the answer is an ordinary call's).
    pub(super) fn cache_result(
        &mut self,
        exec: ExecId,
        outcome: Outcome,
        served_by: ReplicaId,
        alive: bool,
    ) -> Option<CacheNext> {
        let o = self.caches.out.remove(&(exec.index, exec.generation))?;
        let now = self.sched.now();
        let on_error = self.spec.caches[o.cache as usize].on_error;
        let share = if alive && outcome.is_ok() && !o.populate {
            self.caches.hit_share(self.spec, o.cache, served_by, now)
        } else {
            0.0
        };
        let st = &mut self.caches.steps[o.cache as usize];
        let c = o.counted;
        if !alive {
            if o.populate {
                st.populate_abandoned += u64::from(c);
            } else {
                st.fig.abandoned += u64::from(c);
            }
            return Some(CacheNext::Gone);
        }
        let next = match outcome {
            Outcome::Ok { .. } if o.populate => {
                st.populated += u64::from(c);
                CacheNext::Next
            }
            Outcome::Ok { .. } => {
                // One draw per answered read, whatever the share (the stream's use does
                // not depend on the warm-up).
                let u: f64 = st.rng.random();
                if u < share {
                    st.fig.hits += u64::from(c);
                    st.interval[0] += 1;
                    CacheNext::Hit
                } else {
                    st.fig.misses += u64::from(c);
                    st.interval[1] += 1;
                    CacheNext::Next
                }
            }
            Outcome::Failed(cause) => {
                if o.populate {
                    st.fig.populate_failed += u64::from(c);
                } else {
                    st.fig.errors += u64::from(c);
                    st.interval[2] += 1;
                }
                match on_error {
                    OnCacheError::Miss => CacheNext::Next,
                    OnCacheError::Fail => CacheNext::Fail(cause),
                }
            }
        };
        Some(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec_with_cache(hit_ratio: f64, warm_up: &str) -> Spec {
        let text = serde_json::json!({
            "duration": "1s",
            "services": {
                "api": {"endpoints": {"read": {"steps": [
                    {"cache": {"service": "redis", "endpoint": "get", "hit_ratio": hit_ratio, "warm_up": warm_up}}
                ]}}},
                "redis": {"kind": "cache", "replicas": 2, "endpoints": {"get": {}}}
            },
            "workload": [{"name": "users", "target": "api.read", "arrival": {"poisson": {"rate": 1}}}]
        })
        .to_string();
        crate::scenario::load_str(&text, "t.json", &Default::default()).unwrap()
    }

    #[test]
    fn a_restarted_replica_climbs_back_linearly_and_the_others_stay_hot() {
        let spec = spec_with_cache(90.0, "100ns");
        let mut c = Caches::new(&spec);
        assert_eq!(c.hit_share(&spec, 0, 0, 5), 0.9, "never restarted: hot");
        c.on_restart(0, 1000);
        assert_eq!(c.hit_share(&spec, 0, 0, 1000), 0.0);
        assert!((c.hit_share(&spec, 0, 0, 1025) - 0.225).abs() < 1e-12);
        assert!((c.hit_share(&spec, 0, 0, 1100) - 0.9).abs() < 1e-12);
        assert!((c.hit_share(&spec, 0, 0, 5000) - 0.9).abs() < 1e-12);
        assert_eq!(c.hit_share(&spec, 0, 1, 1000), 0.9, "another replica keeps its memory");
        let hot = spec_with_cache(90.0, "0s");
        let mut c = Caches::new(&hot);
        c.on_restart(0, 1000);
        assert_eq!(c.hit_share(&hot, 0, 0, 1000), 0.9, "warm_up 0: hot at once");
    }
}
