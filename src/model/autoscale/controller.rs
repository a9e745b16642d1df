//! The HorizontalPodAutoscaler's control loop: at time 0 the slots beyond the initial
//! scale go off and the first sync is scheduled; every `sync_period` the controller
//! groups the pods as the replica calculator does (ready, unready, missing), reads the
//! metric averaged over the period (utilisation or requests per replica in service,
//! or a topic's or a queue's lag as an external metric), asks `policy::hpa` for the new
//! scale, and hands the difference to the slots' lifecycle.
//!
//! *Invariants*: the scale chosen stays within `[min, max]` (checked at every sync);
//! the metric's memory (`busy_at`, `cap_at`, `arrivals_at`) is read and reset at each
//! sync, so each sync sees exactly its own period.

use super::Slot;
use crate::model::World;
use crate::model::event::Ev;
use crate::policy::hpa::{Pods, ScaleMetric, external_replicas, per_pod_replicas};
use crate::spec::NS_PER_S;

impl World<'_> {
    /// At time 0: the slots beyond the initial scale go down (their consumers with
    /// them) and out of the balancers; the first syncs are scheduled.
    pub(in crate::model) fn start_autoscale(&mut self) {
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

    /// One reconciliation of scaler `s`.
    pub(in crate::model) fn hpa_sync(&mut self, s: u32) {
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
}
