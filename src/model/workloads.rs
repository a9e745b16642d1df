//! The workloads room: the clients outside the system. Open workloads arrive by a
//! (piecewise-linear) rate, closed ones are users who think between requests. A
//! workload's request is a call to its target (or a saga); this room starts it and
//! hears how it ended.
//!
//! *Invariant*: `roots_in_flight` is the number of workload requests started and not
//! ended (calls with a `Parent::Root` plus running sagas), bounded by
//! `limits.max_in_flight`.

use super::World;
use super::arrivals::RateFn;
use super::calls::CallTo;
use super::event::{Ev, Parent};
use super::network::NO_NET;
use super::output::RunError;
use crate::dist::Dist;
use crate::metrics::Outcome;
use crate::rng::{Rng, rng_stream};
use crate::spec::{Arrival, KeyMode, Nanos, Spec};
use rand::RngExt;
use rand_distr::{Distribution, Exp1};

struct WlState {
    rate: Option<RateFn>,
    /// The fraction of a nanosecond by which the last arrival's exact time lies past
    /// the nanosecond it was scheduled at (see `RateFn::next_after`).
    carry: f64,
    poisson: bool,
    arrival_rng: Rng,
    think_rng: Rng,
    think: Option<Dist>,
    /// The entity (message key) draw of its requests.
    entity_rng: Rng,
    in_flight: u64,
}

impl WlState {
    fn draw_think(&mut self) -> Nanos {
        match &self.think {
            Some(d) => d.sample(&mut self.think_rng),
            None => 0,
        }
    }
}

pub(super) struct Workloads {
    wls: Vec<WlState>,
    /// Whether any topic keys by entity (no entity is drawn otherwise).
    needs_entities: bool,
    roots_in_flight: u64,
}

impl Workloads {
    pub(super) fn new(spec: &Spec) -> Workloads {
        let seed = spec.seed;
        let wls = spec
            .workloads
            .iter()
            .map(|wl| {
                let (rate, poisson, think) = match &wl.arrival {
                    Arrival::Poisson { rate_per_s } => {
                        (Some(RateFn::new(*rate_per_s, &wl.schedule)), true, None)
                    }
                    Arrival::Constant { rate_per_s } => {
                        (Some(RateFn::new(*rate_per_s, &wl.schedule)), false, None)
                    }
                    Arrival::Closed { think, .. } => (None, false, Some(think.clone())),
                };
                WlState {
                    rate,
                    carry: 0.0,
                    poisson,
                    arrival_rng: rng_stream(seed, &format!("arrivals/{}", wl.name)),
                    think_rng: rng_stream(seed, &format!("think/{}", wl.name)),
                    think,
                    entity_rng: rng_stream(seed, &format!("entity/{}", wl.name)),
                    in_flight: 0,
                }
            })
            .collect();
        Workloads {
            wls,
            needs_entities: spec.topics.iter().any(|t| matches!(t.key, KeyMode::Entities(_))),
            roots_in_flight: 0,
        }
    }

    /// Requests of workload `wl` in flight now.
    pub(super) fn in_flight(&self, wl: u32) -> u64 {
        self.wls[wl as usize].in_flight
    }

    /// Workload requests in flight now, all workloads.
    pub(super) fn roots_in_flight(&self) -> u64 {
        self.roots_in_flight
    }
}

impl World<'_> {
    /// The first arrival of every open workload, and every closed user's first request
    /// (after one think time, so that they do not all arrive at the same nanosecond).
    pub(super) fn start_workloads(&mut self) {
        for (i, wl) in self.spec.workloads.iter().enumerate() {
            match &wl.arrival {
                Arrival::Closed { users, .. } => {
                    for u in 0..*users {
                        let think = self.work.wls[i].draw_think();
                        self.sched.at(think, Ev::UserSend { wl: i as u32, user: u });
                    }
                }
                _ => self.schedule_next_arrival(i as u32),
            }
        }
    }

    pub(super) fn on_arrival(&mut self, wl: u32) {
        self.schedule_next_arrival(wl);
        self.start_root(wl, u32::MAX);
    }

    #[inline(always)]
    fn schedule_next_arrival(&mut self, wl: u32) {
        let st = &mut self.work.wls[wl as usize];
        let Some(rate) = &st.rate else { return };
        let e = if st.poisson {
            let x: f64 = Exp1.sample(&mut st.arrival_rng);
            x
        } else {
            1.0
        };
        if let Some(t) = rate.next_after(self.sched.now(), &mut st.carry, e)
            && t < self.spec.duration_ns
        {
            self.sched.at(t, Ev::Arrival { wl });
        }
    }

    /// A workload's request starts: a call to its target, or a saga.
    #[inline(always)]
    pub(super) fn start_root(&mut self, wl: u32, user: u32) {
        let now = self.sched.now();
        if self.work.roots_in_flight >= self.spec.limits.max_in_flight as u64 {
            self.failure = Some(RunError::Limit(format!(
                "{} workload requests were in flight at once at {:.3} s of simulated time (the limit); \
                 the system is overloaded beyond recovery, or raise /limits/max_in_flight",
                self.work.roots_in_flight,
                now as f64 / 1e9
            )));
            return;
        }
        let w = &self.spec.workloads[wl as usize];
        let counted = self.rec.counted(now);
        self.work.roots_in_flight += 1;
        let st = &mut self.work.wls[wl as usize];
        st.in_flight += 1;
        self.rec.offered(wl, counted, now);
        // Entities only matter to topics keyed by entity: no draw otherwise.
        let entity: u32 = if self.work.needs_entities { st.entity_rng.random() } else { 0 };
        if let Some(saga) = w.saga {
            return self.start_saga(wl, user, saga, entity);
        }
        let client = self.clients.for_workload(wl);
        let to = CallTo {
            target: w.target,
            edge: w.edge,
            client,
            policy: w.policy,
            optional: false,
            net: NO_NET,
            caller_slot: 0,
        };
        self.start_call(Parent::Root { wl, user }, to, entity);
    }

    /// A workload's request ended; a closed user thinks, then sends the next.
    #[inline(always)]
    pub(super) fn finish_root(
        &mut self,
        wl: u32,
        user: u32,
        started: Nanos,
        counted: bool,
        outcome: Outcome,
    ) {
        let now = self.sched.now();
        self.work.roots_in_flight -= 1;
        let st = &mut self.work.wls[wl as usize];
        st.in_flight -= 1;
        self.rec.root_end(wl, counted, started, now, outcome);
        if user != u32::MAX {
            let think = st.draw_think();
            let at = now.saturating_add(think);
            if at < self.spec.duration_ns {
                self.sched.at(at, Ev::UserSend { wl, user });
            }
        }
    }
}
