//! The autoscaling room: Kubernetes' HorizontalPodAutoscaler per autoscaled service
//! (`policy::hpa` computes; this room measures and acts). The service has
//! `max_replicas` replica *slots* from the start; a slot is `Off` (down, out of the
//! balancers, its consumers gone, like a replica that never restarted), `Starting`
//! (scaled up, ready after `startup`), `Serving`, or `Draining` (scaled down: out of
//! the balancers at once, its consumers leave their groups, it finishes what it holds,
//! then goes `Off`; `terminationGracePeriodSeconds`, 30 s, bounds the wait). Every
//! `sync_period` the controller reads the metric, asks the calculator and the
//! normalisation for the new scale, and starts or drains slots.
//!
//! *Invariants*: the scale (`Starting` + `Serving` slots) stays within `[min, max]`
//! (checked at every sync and at the end); `serving` counts the `Serving` slots.
//!
//! The room's files: this one the state (a scaler per autoscaled service, its slots)
//! and the figures; `controller.rs` the HPA's loop (the first syncs, each sync's metric,
//! calculator and normalisation); `lifecycle.rs` a slot's life (started, ready, drained,
//! off) and a new replica's cold start; `area.rs` the replica counts' time integrals.

mod area;
mod controller;
mod lifecycle;
#[cfg(test)]
mod widths_tests;

use self::area::Area;
use super::output::AutoscaleFigures;
use crate::policy::hpa::Hpa;
use crate::spec::{Nanos, ReplicaId, ServiceId, Spec};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Slot {
    Off,
    Starting,
    Serving,
    Draining,
}

struct Scaler {
    svc: ServiceId,
    first: ReplicaId,
    hpa: Hpa,
    slot: Vec<Slot>,
    /// Bumped when a slot starts or stops: a stale `ScaleReady` or `DrainCheck` is
    /// ignored. Compared by equality, across the wrap: a slot's tag moves at most twice
    /// per sync (a start, a stop) and three times at one instant, so a `DrainCheck`
    /// (stale for at most 50 ms) cannot meet its tag again before the wrap's 2^32 moves;
    /// a `ScaleReady`, stale for up to `startup`, is also checked against the instant
    /// it is due (`deadline`).
    tag: Vec<u32>,
    /// When each slot was last started (0 for the initial ones), and its `deadline`:
    /// starting, when it is due ready; serving, when it became ready; draining, its
    /// grace deadline.
    started: Vec<Nanos>,
    deadline: Vec<Nanos>,
    /// `Starting` + `Serving` + `pending` (the scale's replicas).
    scale: u32,
    /// Replicas asked for while every free slot was taken by draining ones (pods
    /// created, not yet scheduled): each starts as a drain frees a slot.
    pending: u32,
    serving: u32,
    /// The metric's memory at the last sync: busy-worker area, requests, and
    /// replica-nanoseconds in service.
    busy_at: f64,
    cap_at: f64,
    arrivals_at: u64,
    /// Pods in existence (all but `Off`) and `Serving` + `Draining` over time.
    pods_area: Area,
    capacity_area: Area,
    /// `Serving` slots over time (the metric's replica-time in service).
    serving_area: Area,
    fig: AutoscaleFigures,
}

use super::tags::{bump, first as first_tag};

pub(super) struct Autoscaler {
    scalers: Vec<Scaler>,
    /// Per replica, its scaler, or `u32::MAX`.
    of_replica: Vec<u32>,
    /// A new replica is slower (cold start) until this instant.
    cold_until: Nanos,
    warmup: Nanos,
}

impl Autoscaler {
    pub(super) fn new(spec: &Spec) -> Autoscaler {
        let mut of_replica = vec![u32::MAX; spec.replicas.len()];
        let mut scalers = Vec::new();
        for (i, s) in spec.services.iter().enumerate() {
            let Some(a) = &s.autoscale else { continue };
            let n = s.replicas as usize;
            for r in &mut of_replica[s.first_replica as usize..s.first_replica as usize + n] {
                *r = scalers.len() as u32;
            }
            let mut hpa = Hpa::new(a.params.clone());
            hpa.remember(0, a.initial);
            scalers.push(Scaler {
                svc: i as ServiceId,
                first: s.first_replica,
                hpa,
                slot: (0..n as u32).map(|k| if k < a.initial { Slot::Serving } else { Slot::Off }).collect(),
                tag: vec![first_tag(); n],
                started: vec![0; n],
                deadline: vec![0; n],
                scale: a.initial,
                pending: 0,
                serving: a.initial,
                busy_at: 0.0,
                cap_at: 0.0,
                arrivals_at: 0,
                pods_area: Area { level: a.initial, ..Area::default() },
                capacity_area: Area { level: a.initial, ..Area::default() },
                serving_area: Area { level: a.initial, ..Area::default() },
                fig: AutoscaleFigures {
                    min_seen: a.initial,
                    max_seen: a.initial,
                    ..AutoscaleFigures::default()
                },
            });
        }
        Autoscaler { scalers, of_replica, cold_until: 0, warmup: spec.warmup_ns }
    }

    fn at(&self, replica: ReplicaId) -> Option<(usize, usize)> {
        let s = *self.of_replica.get(replica as usize)?;
        if s == u32::MAX {
            return None;
        }
        let sc = &self.scalers[s as usize];
        Some((s as usize, (replica - sc.first) as usize))
    }

    /// Whether a crashed (or liveness-killed) replica may come back: not a slot the
    /// autoscaler turned off, is starting or is draining.
    pub(super) fn may_restart(&self, replica: ReplicaId) -> bool {
        self.at(replica).is_none_or(|(s, k)| self.scalers[s].slot[k] == Slot::Serving)
    }

    /// The service's replicas in the balancers and the scale, for the series.
    pub(super) fn levels(&self, svc: ServiceId) -> Option<(f64, f64)> {
        self.scalers.iter().find(|s| s.svc == svc).map(|s| (s.serving as f64, s.scale as f64))
    }

    /// Each autoscaled service's figures at `end`, and its replica-seconds since
    /// warm-up with capacity (for its utilisation).
    pub(super) fn figures(
        &mut self,
        end: Nanos,
        violations: &mut Vec<String>,
    ) -> Vec<(ServiceId, AutoscaleFigures, f64)> {
        let w = self.warmup;
        self.scalers
            .iter_mut()
            .map(|sc| {
                let p = sc.hpa.params();
                if sc.scale < p.min || sc.scale > p.max {
                    violations.push(format!(
                        "service {} ends with {} replicas, outside [{}, {}]",
                        sc.svc, sc.scale, p.min, p.max
                    ));
                }
                let serving = sc.slot.iter().filter(|s| **s == Slot::Serving).count() as u32;
                let starting = sc.slot.iter().filter(|s| **s == Slot::Starting).count() as u32;
                if sc.scale != serving + starting + sc.pending {
                    violations.push(format!(
                        "service {}: a scale of {} against {serving} serving, {starting} starting, {} pending",
                        sc.svc, sc.scale, sc.pending
                    ));
                }
                if serving != sc.serving {
                    violations.push(format!(
                        "service {}: {} slots serving, {} counted",
                        sc.svc, serving, sc.serving
                    ));
                }
                sc.fig.replica_seconds = sc.pods_area.since_warmup(end, w) / 1e9;
                sc.fig.final_replicas = sc.scale;
                (sc.svc, sc.fig.clone(), sc.capacity_area.since_warmup(end, w))
            })
            .collect()
    }
}
