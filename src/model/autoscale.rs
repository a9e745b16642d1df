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

use super::World;
use super::event::Ev;
use super::output::AutoscaleFigures;
use crate::policy::hpa::{Hpa, Pods, ScaleMetric, external_replicas, per_pod_replicas};
use crate::spec::{NS_PER_S, Nanos, ReplicaId, ServiceId, Spec};

/// Kubernetes' default `terminationGracePeriodSeconds`.
const GRACE_NS: Nanos = 30 * NS_PER_S;
/// How often a draining replica is looked at.
const DRAIN_POLL_NS: Nanos = 50_000_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Slot {
    Off,
    Starting,
    Serving,
    Draining,
}

/// A step function's time integral (replicas over time).
#[derive(Clone, Copy, Default)]
struct Area {
    level: u32,
    acc: f64,
    last: Nanos,
    /// The integral up to the end of warm-up, once passed.
    warm: Option<f64>,
}

impl Area {
    fn set(&mut self, now: Nanos, level: u32, warmup: Nanos) {
        if self.warm.is_none() && now >= warmup {
            self.warm = Some(self.acc + self.level as f64 * warmup.saturating_sub(self.last) as f64);
        }
        self.acc += self.level as f64 * (now - self.last) as f64;
        self.last = now;
        self.level = level;
    }
    /// The integral from 0 to `t` (at or after the last change).
    fn at(&self, t: Nanos) -> f64 {
        self.acc + self.level as f64 * t.saturating_sub(self.last) as f64
    }
    /// The integral from the end of warm-up to `end`.
    fn since_warmup(&self, end: Nanos, warmup: Nanos) -> f64 {
        let total = self.acc + self.level as f64 * end.saturating_sub(self.last) as f64;
        let warm =
            self.warm.unwrap_or(self.acc + self.level as f64 * warmup.saturating_sub(self.last) as f64);
        total - warm
    }
}

struct Scaler {
    svc: ServiceId,
    first: ReplicaId,
    hpa: Hpa,
    slot: Vec<Slot>,
    /// Bumped at each change of a slot's state: a stale `ScaleReady` or `DrainCheck`
    /// is ignored.
    tag: Vec<u32>,
    /// When each slot was last started (0 for the initial ones), and, draining, its
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
                tag: vec![0; n],
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

    /// The factor on a service time at `replica` now (`None`: 1).
    #[inline]
    pub(super) fn cold_factor(&self, replica: ReplicaId, now: Nanos, spec: &Spec) -> Option<f64> {
        if now >= self.cold_until {
            return None;
        }
        let (s, k) = self.at(replica)?;
        let sc = &self.scalers[s];
        let (factor, over) = spec.services[sc.svc as usize].autoscale.as_ref()?.cold?;
        let ready = sc.deadline[k];
        if sc.slot[k] != Slot::Serving || sc.started[k] == 0 || now >= ready + over {
            return None;
        }
        // Linear from `factor` at readiness to 1 at readiness + `over`.
        Some(1.0 + (factor - 1.0) * (1.0 - (now - ready) as f64 / over as f64))
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

impl World<'_> {
    /// At time 0: the slots beyond the initial scale go down (their consumers with
    /// them) and out of the balancers; the first syncs are scheduled.
    pub(super) fn start_autoscale(&mut self) {
        for s in 0..self.autoscale.scalers.len() {
            let sc = &self.autoscale.scalers[s];
            let (first, n, sync) = (
                sc.first,
                sc.slot.len() as u32,
                self.spec.services[sc.svc as usize].autoscale.as_ref().map_or(NS_PER_S, |a| a.sync_ns),
            );
            for k in 0..n {
                if self.autoscale.scalers[s].slot[k as usize] == Slot::Off {
                    self.kill(first + k);
                    self.health.set_out(first + k, true);
                }
            }
            self.update_span(s);
            self.sched.at(sync, Ev::HpaSync { scaler: s as u32 });
        }
    }

    /// The balancers of the service draw among the slots up to the last serving one.
    fn update_span(&mut self, s: usize) {
        let sc = &self.autoscale.scalers[s];
        let span = sc.slot.iter().rposition(|x| *x == Slot::Serving).map_or(1, |k| k as u32 + 1);
        self.clients.set_span(sc.first, span);
    }

    fn recount(&mut self, s: usize) {
        let now = self.sched.now();
        let w = self.autoscale.warmup;
        let sc = &mut self.autoscale.scalers[s];
        let pods = sc.slot.iter().filter(|x| **x != Slot::Off).count() as u32;
        let cap = sc.slot.iter().filter(|x| matches!(x, Slot::Serving | Slot::Draining)).count() as u32;
        sc.pods_area.set(now, pods, w);
        sc.capacity_area.set(now, cap, w);
        sc.serving_area.set(now, sc.serving, w);
    }

    /// One reconciliation of scaler `s`.
    pub(super) fn hpa_sync(&mut self, s: u32) {
        let s = s as usize;
        let now = self.sched.now();
        let spec = self.spec;
        let sc = &self.autoscale.scalers[s];
        let svc = &spec.services[sc.svc as usize];
        let Some(a) = &svc.autoscale else { return };
        // The pods as the replica calculator groups them.
        let mut pods = Pods::default();
        for (k, slot) in sc.slot.iter().enumerate() {
            let r = sc.first + k as u32;
            match slot {
                Slot::Starting => pods.unready += 1,
                Slot::Serving if self.servers.is_down(r) => pods.missing += 1,
                Slot::Serving if self.health.ready(r) => pods.ready += 1,
                Slot::Serving => pods.unready += 1,
                Slot::Off | Slot::Draining => {}
            }
        }
        pods.unready += sc.pending;
        // Per pod, averaged over the period: what the replicas in service did, divided
        // by the replica-time in service (a replica that entered service during the
        // period counts for the time it served, as metrics-server's per-pod window).
        let cap = sc.serving_area.at(now);
        let replica_s = (cap - sc.cap_at) / 1e9;
        let busy = self.rec.service_busy_area(sc.svc, now);
        let arrivals: u64 = svc.endpoints.iter().map(|&e| self.rec.endpoint_arrivals(e)).sum();
        let current = sc.scale;
        let raw = match &a.metric {
            ScaleMetric::Utilization => {
                let per_pod = (busy - sc.busy_at) / 1e9 / replica_s.max(1e-9) / svc.concurrency as f64;
                per_pod_replicas(current, pods, 100.0 * per_pod, a.target, a.params.tolerance)
            }
            ScaleMetric::RpsPerReplica => {
                let per_pod = (arrivals - sc.arrivals_at) as f64 / replica_s.max(1e-9);
                per_pod_replicas(current, pods, per_pod, a.target, a.params.tolerance)
            }
            ScaleMetric::TopicLag { groups, partitions } => {
                let lag: u64 = groups.iter().map(|&g| self.topics.group_lag(g)).sum();
                let capped = (lag as f64).min(*partitions as f64 * a.target);
                Some(external_replicas(current, capped, a.target, a.params.tolerance))
            }
            ScaleMetric::QueueLag { queue } => {
                let lag = self.queues.backlog(*queue) as f64;
                Some(external_replicas(current, lag, a.target, a.params.tolerance))
            }
        };
        let sc = &mut self.autoscale.scalers[s];
        sc.busy_at = busy;
        sc.cap_at = cap;
        sc.arrivals_at = arrivals;
        let new = sc.hpa.reconcile(now, current, raw);
        let p = sc.hpa.params();
        if new < p.min || new > p.max {
            self.violations.push(format!(
                "autoscaler of {} chose {new} replicas, outside [{}, {}]",
                svc.name, p.min, p.max
            ));
        }
        let fig = &mut sc.fig;
        if new > current {
            fig.scale_ups += 1;
            fig.first_scale_up_s.get_or_insert(now as f64 / 1e9);
        } else if new < current {
            fig.scale_downs += 1;
            fig.first_scale_down_s.get_or_insert(now as f64 / 1e9);
        }
        fig.min_seen = fig.min_seen.min(new);
        fig.max_seen = fig.max_seen.max(new);
        if new > current {
            self.scale_up(s, new - current);
        } else if new < current {
            self.scale_down(s, current - new);
        }
        self.sched.after(a.sync_ns, Ev::HpaSync { scaler: s as u32 });
    }

    /// Starts `n` replicas on the lowest-numbered off slots; those that find none (the
    /// others still draining) wait as `pending` for a drain to end.
    fn scale_up(&mut self, s: usize, n: u32) {
        let sc = &mut self.autoscale.scalers[s];
        sc.scale += n;
        sc.pending += n;
        self.start_pending(s);
    }

    /// Starts pending replicas on the lowest-numbered off slots.
    fn start_pending(&mut self, s: usize) {
        let now = self.sched.now();
        let startup = self.spec.services[self.autoscale.scalers[s].svc as usize]
            .autoscale
            .as_ref()
            .map_or(0, |a| a.startup_ns);
        let sc = &mut self.autoscale.scalers[s];
        for k in 0..sc.slot.len() {
            if sc.pending == 0 {
                break;
            }
            if sc.slot[k] == Slot::Off {
                sc.slot[k] = Slot::Starting;
                sc.tag[k] = sc.tag[k].wrapping_add(1);
                sc.started[k] = now.max(1);
                sc.pending -= 1;
                let (replica, tag) = (sc.first + k as u32, sc.tag[k]);
                self.sched.after(startup, Ev::ScaleReady { replica, tag });
            }
        }
        self.recount(s);
    }

    /// A started slot's startup is over: it comes up (the crash/restart path: its
    /// consumers join, its caches start cold), passes readiness if it has a probe, and
    /// enters the balancers.
    pub(super) fn scale_ready(&mut self, replica: ReplicaId, tag: u32) {
        let Some((s, k)) = self.autoscale.at(replica) else { return };
        let sc = &mut self.autoscale.scalers[s];
        if sc.tag[k] != tag || sc.slot[k] != Slot::Starting {
            return;
        }
        let now = self.sched.now();
        sc.slot[k] = Slot::Serving;
        sc.serving += 1;
        // `deadline` holds the readiness instant of a serving slot (cold start).
        sc.deadline[k] = now;
        if sc.fig.first_ready_s.is_none() && sc.started[k] > 0 {
            sc.fig.first_ready_s = Some(now as f64 / 1e9);
        }
        let svc = sc.svc;
        if let Some((_, over)) = self.spec.services[svc as usize].autoscale.as_ref().and_then(|a| a.cold) {
            self.autoscale.cold_until = self.autoscale.cold_until.max(now + over);
        }
        let epoch = self.servers.down_epoch(replica);
        self.restart(replica, epoch);
        self.health.provision(self.spec, replica);
        self.update_span(s);
        self.recount(s);
    }

    /// Removes `n` replicas as a ReplicaSet picks them: not ready before ready, then the
    /// newest first.
    fn scale_down(&mut self, s: usize, n: u32) {
        let now = self.sched.now();
        // Pending ones (not even scheduled) go first.
        let sc = &mut self.autoscale.scalers[s];
        let cancel = sc.pending.min(n);
        sc.pending -= cancel;
        sc.scale -= cancel;
        let n = n - cancel;
        let sc = &self.autoscale.scalers[s];
        let mut order: Vec<(bool, std::cmp::Reverse<Nanos>, std::cmp::Reverse<usize>)> = sc
            .slot
            .iter()
            .enumerate()
            .filter(|(_, x)| matches!(x, Slot::Starting | Slot::Serving))
            .map(|(k, x)| {
                let r = sc.first + k as u32;
                let ready = *x == Slot::Serving && !self.servers.is_down(r) && self.health.ready(r);
                (ready, std::cmp::Reverse(sc.started[k]), std::cmp::Reverse(k))
            })
            .collect();
        order.sort();
        for &(_, _, std::cmp::Reverse(k)) in order.iter().take(n as usize) {
            let sc = &mut self.autoscale.scalers[s];
            let replica = sc.first + k as u32;
            sc.tag[k] = sc.tag[k].wrapping_add(1);
            sc.scale -= 1;
            match sc.slot[k] {
                Slot::Starting => sc.slot[k] = Slot::Off,
                _ => {
                    sc.serving -= 1;
                    self.health.set_out(replica, true);
                    if self.servers.is_down(replica) {
                        // Crashed: nothing to drain.
                        self.autoscale.scalers[s].slot[k] = Slot::Off;
                    } else {
                        let sc = &mut self.autoscale.scalers[s];
                        sc.slot[k] = Slot::Draining;
                        sc.deadline[k] = now + GRACE_NS;
                        let tag = sc.tag[k];
                        // Its consumers leave their groups (Kafka's LeaveGroup on close;
                        // a work queue's consumer stops receiving) and finish what they hold.
                        self.consumers_leave(replica);
                        self.queue_consumers_down(replica);
                        self.sched.after(DRAIN_POLL_NS, Ev::DrainCheck { replica, tag });
                    }
                }
            }
        }
        self.update_span(s);
        self.recount(s);
    }

    /// A draining replica is turned off once it holds nothing (or its grace period ran
    /// out: what it still holds fails, as a SIGKILL).
    pub(super) fn drain_check(&mut self, replica: ReplicaId, tag: u32) {
        let Some((s, k)) = self.autoscale.at(replica) else { return };
        let sc = &self.autoscale.scalers[s];
        if sc.tag[k] != tag || sc.slot[k] != Slot::Draining {
            return;
        }
        let now = self.sched.now();
        if !self.servers.idle(replica) && now < sc.deadline[k] {
            self.sched.after(DRAIN_POLL_NS, Ev::DrainCheck { replica, tag });
            return;
        }
        self.autoscale.scalers[s].slot[k] = Slot::Off;
        self.kill(replica);
        self.recount(s);
        // A slot is free for a replica waiting for one.
        if self.autoscale.scalers[s].pending > 0 {
            self.start_pending(s);
        }
    }
}
