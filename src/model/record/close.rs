//! Closing intervals and the run: the warm-up snapshot of the busy-worker integrals, each
//! interval's row of the time series (pushed in `layout`'s order), and at the end the
//! run's figures and the recorder's checks. These read every room (`World`), where the
//! recorder's tallies (`mod.rs`) are written on the hot path.

use super::super::World;
use super::super::output::{PhaseFigures, RunOutput, ServiceFigures};
use super::super::phases::phase_cut;
use super::{EdgeTally, Tally, ep_area};
use crate::metrics::Outcomes;
use crate::spec::{Cause, Nanos};

impl World<'_> {
    /// Closes every interval that ends at or before `t`, and takes the warm-up snapshot
    /// once the clock reaches the end of warm-up. Called before the first event at or
    /// after either instant, so no event at or after it has been processed yet: the
    /// state still holds as it was at that instant.
    pub(in crate::model) fn advance_to(&mut self, t: Nanos) {
        loop {
            let b = self.rec.next_boundary;
            if self.rec.warm_snap.is_none() && self.rec.warmup <= b.min(t) {
                self.snapshot_warmup();
            }
            if b > t || self.rec.interval_start >= self.rec.end {
                break;
            }
            self.flush_interval(b);
            self.rec.interval_start = b;
            self.rec.next_boundary = b.saturating_add(self.rec.interval_ns).min(self.rec.end);
            if b >= self.rec.end {
                break;
            }
        }
        let rec = &mut self.rec;
        rec.next_due =
            if rec.warm_snap.is_none() { rec.next_boundary.min(rec.warmup) } else { rec.next_boundary };
    }

    fn snapshot_warmup(&mut self) {
        let w = self.rec.warmup;
        let eps = (0..self.rec.ep_busy.len()).map(|i| self.rec.ep_busy_area(i, w)).collect();
        let svcs = self.rec.svc_busy.iter().map(|a| a.at(w)).collect();
        self.rec.warm_snap = Some((eps, svcs));
        self.clients.snapshot_warmup(w);
    }

    fn flush_interval(&mut self, b: Nanos) {
        let spec = self.spec;
        let rec = &mut self.rec;
        let width = (b - rec.interval_start) as f64;
        rec.series.ends.push(b);
        let mut col = 0;
        let cols = &mut rec.series.columns;
        let mut push = |v: f64| {
            cols[col].values.push(v);
            col += 1;
        };
        let shed_col = spec.has_priorities();
        for (wl, iv) in rec.wl_interval.iter_mut().enumerate() {
            push(iv.offered as f64);
            push(iv.outcomes.ok as f64);
            push(iv.outcomes.degraded as f64);
            for c in Cause::ALL {
                push(iv.outcomes.failed[c as usize] as f64);
            }
            push(iv.hist.quantile_ms(0.5).unwrap_or(f64::NAN));
            push(iv.hist.quantile_ms(0.99).unwrap_or(f64::NAN));
            push(self.work.in_flight(wl as u32) as f64);
            if shed_col {
                push(iv.shed as f64);
            }
            iv.shed = 0;
            iv.offered = 0;
            iv.outcomes = Outcomes::default();
            iv.hist.reset();
        }
        for i in 0..rec.ep_busy.len() {
            let area = ep_area(&rec.ep_own, &rec.ep_busy, &rec.svc_busy, &rec.ep_service, i, b);
            let t = &mut rec.ep_tally[i];
            push(t.requests as f64);
            push(t.outcomes.ok as f64);
            push(t.outcomes.failed_total() as f64);
            let svc = &spec.services[spec.endpoints[i].service as usize];
            let cap = (svc.replicas as f64) * (svc.concurrency as f64) * width;
            push(if cap > 0.0 { (area - rec.interval_snap.0[i]) / cap } else { 0.0 });
            rec.interval_snap.0[i] = area;
            *t = Tally::default();
        }
        for (i, t) in rec.edge_tally.iter_mut().enumerate() {
            push(t.calls as f64);
            push(t.attempts as f64);
            push(t.retries as f64);
            push(t.hedges as f64);
            push(t.failed as f64);
            push(self.clients.edge_breaker_code(i));
            if rec.edge_bulk[i] {
                let (in_use, waiting) = self.clients.edge_bulkhead_levels(i, &self.calls);
                push(in_use);
                push(waiting);
            }
            *t = EdgeTally::default();
        }
        for (i, busy) in rec.svc_busy.iter().enumerate() {
            let spec_svc = &spec.services[i];
            push(busy.level as f64);
            push(rec.svc_queued[i] as f64);
            let cap = (spec_svc.replicas as f64) * (spec_svc.concurrency as f64) * width;
            let area = busy.at(b);
            push(if cap > 0.0 { (area - rec.interval_snap.1[i]) / cap } else { 0.0 });
            rec.interval_snap.1[i] = area;
            push(self.servers.replicas_up(spec, i as u32) as f64);
            if let Some(limit) = self.servers.adaptive_limit(spec, i as u32, b) {
                push(limit);
            }
            if let Some((serving, scale)) = self.autoscale.levels(i as u32) {
                push(serving);
                push(scale);
            }
        }
        self.sagas.flush_interval(&mut push);
        self.topics.flush_interval(&mut push);
        self.caches.flush_interval(&mut push);
        self.queues.flush_interval(b, &mut push);
        debug_assert_eq!(col, rec.series.columns.len());
    }

    /// The run's figures, once the clock reached the end; checks the invariants.
    pub(in crate::model) fn finish(mut self) -> RunOutput {
        let spec = self.spec;
        let end = self.rec.end;
        let window_ns = end.saturating_sub(self.rec.warmup) as f64;
        let warm = self
            .rec
            .warm_snap
            .clone()
            .unwrap_or_else(|| (vec![0.0; self.rec.ep_busy.len()], vec![0.0; self.rec.svc_busy.len()]));
        for i in 0..self.rec.ep_busy.len() {
            let svc = &spec.services[spec.endpoints[i].service as usize];
            let cap = svc.replicas as f64 * svc.concurrency as f64 * window_ns;
            let area = self.rec.ep_busy_area(i, end) - warm.0[i];
            self.rec.endpoints[i].utilization = if cap > 0.0 { area / cap } else { 0.0 };
        }
        let mut services = Vec::new();
        let mut scaled = self.autoscale.figures(end, &mut self.violations).into_iter().peekable();
        for (i, busy) in self.rec.svc_busy.iter().enumerate() {
            let s = &spec.services[i];
            let mut cap = s.replicas as f64 * s.concurrency as f64 * window_ns;
            let area = busy.at(end) - warm.1[i];
            // An autoscaled service's utilisation is against the replicas it had.
            let autoscale = scaled.next_if(|x| x.0 as usize == i).map(|(_, fig, replica_ns)| {
                cap = replica_ns * s.concurrency as f64;
                fig
            });
            services.push(ServiceFigures {
                utilization: if cap > 0.0 { area / cap } else { 0.0 },
                queue_max: self.rec.service_queue_max[i],
                autoscale,
            });
        }
        for (i, e) in self.rec.edges.iter_mut().enumerate() {
            let (opened, open_ns) = self.clients.edge_breaker_figures(i, end, &mut self.violations);
            e.breaker_opened = opened;
            e.breaker_open_s = open_ns as f64 / 1e9;
            e.bulkhead = self.clients.take_bulkhead_figures(i);
        }
        self.rec.mirror_root_edges(&mut self.violations);
        let breakers = self.clients.breaker_figures(end);
        for wl in self.calls.measured_roots() {
            self.rec.still_in_flight(wl);
        }
        let sagas = self.sagas.figures(spec, &mut self.rec, &mut self.violations);
        let topics = self.topics.figures(spec, &mut self.violations);
        let caches = self.caches.figures(spec, &mut self.violations);
        let queues = self.queues.figures(spec, end, &mut self.violations);
        let phases = self.phase_figures();
        self.check_invariants();
        RunOutput {
            window_s: window_ns / 1e9,
            events: self.sched.processed(),
            workloads: self.rec.workloads,
            endpoints: self.rec.endpoints,
            edges: self.rec.edges,
            breakers,
            services,
            sagas,
            topics,
            caches,
            queues,
            series: self.rec.series,
            phases,
            violations: self.violations,
        }
    }

    /// The phases with their figures; checks that they add up to the workloads'.
    fn phase_figures(&mut self) -> Vec<PhaseFigures> {
        let spans = phase_cut(self.spec);
        let n = self.spec.workloads.len();
        let mut figs = std::mem::take(&mut self.rec.phase_figs).into_iter();
        let out: Vec<PhaseFigures> = spans
            .into_iter()
            .map(|s| PhaseFigures {
                name: s.name,
                from_ns: s.from_ns,
                to_ns: s.to_ns,
                workloads: figs.by_ref().take(n).collect(),
            })
            .collect();
        if !out.is_empty() {
            for (w, f) in self.rec.workloads.iter().enumerate() {
                let offered: u64 = out.iter().map(|p| p.workloads[w].offered).sum();
                let ended: u64 = out.iter().map(|p| p.workloads[w].outcomes.ended()).sum();
                if offered != f.offered || ended != f.outcomes.ended() {
                    self.violations.push(format!(
                        "workload {}: phases hold {offered} offered and {ended} ended, not {} and {}",
                        self.spec.workloads[w].name,
                        f.offered,
                        f.outcomes.ended()
                    ));
                }
            }
        }
        out
    }

    /// The figures' own invariant: every measured request ended once or is in flight.
    pub(in crate::model) fn check_figures(&mut self) {
        for (i, f) in self.rec.workloads.iter().enumerate() {
            if f.offered != f.outcomes.ended() + f.in_flight {
                self.violations.push(format!(
                    "workload {}: offered {} != ok {} + failed {} + in flight {}",
                    self.spec.workloads[i].name,
                    f.offered,
                    f.outcomes.ok,
                    f.outcomes.failed_total(),
                    f.in_flight
                ));
            }
            if f.outcomes.ok != f.latency.count() || f.outcomes.failed_total() != f.failed_latency.count() {
                self.violations.push(format!("workload {i}: latency counts differ from ok and failed"));
            }
        }
    }
}
