//! The recording room: every figure a run reports, streamed as it happens.
//!
//! The other rooms tell the recorder what happened (`offered`, `exec_end`,
//! `call_end`, ...) with whether it counts (it started after warm-up); the recorder
//! keeps the summary histograms and counters, the per-interval tallies of the time
//! series, and the time integrals of busy workers (utilisation). It closes intervals
//! when the clock passes their end and takes the warm-up snapshot of the integrals.
//!
//! *Invariants*: memory is proportional to the topology and the number of intervals,
//! never to the number of requests; the series' columns are pushed in exactly the order
//! `layout` declares them (workloads, endpoints, calls, services, sagas, topics,
//! groups, queues, each in scenario order).

use super::World;
use super::output::{
    EdgeFigures, EndpointFigures, PhaseFigures, PhaseWorkloadFigures, RunError, RunOutput, ServiceFigures,
    WorkloadFigures,
};
use super::phases::{phase_cut, phase_index};
use crate::metrics::{LatencyHist, Outcome, Outcomes, Scope, Series};
use crate::spec::{Cause, Nanos, Spec};

/// The integral over time of a piecewise-constant count (busy workers), kept lazily,
/// exactly: in worker-nanoseconds, as an integer (a `u128` holds a million workers for
/// ten million years), converted to `f64` once, when read. (Summing `f64` products
/// gave the same figures while the total stayed below 2^53, about 104 worker-days, and
/// cost a conversion of the interval per step.)
#[derive(Clone, Copy, Default)]
struct Area {
    level: u32,
    acc: u128,
    last: Nanos,
}

impl Area {
    #[inline]
    fn step(&mut self, now: Nanos, delta: i32) {
        self.acc += self.level as u128 * (now - self.last) as u128;
        self.last = now;
        self.level = self.level.wrapping_add_signed(delta);
    }
    fn at(&self, t: Nanos) -> f64 {
        (self.acc + self.level as u128 * t.saturating_sub(self.last) as u128) as f64
    }
}

/// A workload's figures of the interval in hand.
struct WlInterval {
    hist: LatencyHist,
    outcomes: Outcomes,
    offered: u64,
    /// Executions of its requests' call trees shed in the interval.
    shed: u64,
}

/// Per-interval counters of endpoints.
#[derive(Default, Clone)]
struct Tally {
    requests: u64,
    outcomes: Outcomes,
}

/// Per-interval counters of call edges.
#[derive(Default, Clone, Copy)]
struct EdgeTally {
    calls: u64,
    attempts: u64,
    retries: u64,
    hedges: u64,
    failed: u64,
}

pub(super) struct Recorder {
    warmup: Nanos,
    end: Nanos,
    interval_ns: Nanos,
    workloads: Vec<WorkloadFigures>,
    endpoints: Vec<EndpointFigures>,
    edges: Vec<EdgeFigures>,
    service_queue_max: Vec<u64>,
    wl_interval: Vec<WlInterval>,
    ep_tally: Vec<Tally>,
    edge_tally: Vec<EdgeTally>,
    /// Per edge, whether its calls go through a bulkhead (it has the bulkhead columns).
    edge_bulk: Vec<bool>,
    /// Busy workers per endpoint, kept only for an endpoint that shares its service
    /// with others (`ep_own`); the only endpoint of a service reads its service's.
    ep_busy: Vec<Area>,
    ep_own: Vec<bool>,
    ep_service: Vec<u32>,
    svc_busy: Vec<Area>,
    /// Executions waiting for a worker, per service.
    svc_queued: Vec<u64>,
    /// Requests (and messages) that reached each endpoint since the start, warm-up
    /// included (an autoscaler's `rps_per_replica`).
    ep_arrivals: Vec<u64>,
    series: Series,
    next_boundary: Nanos,
    /// The first of `next_boundary` and, until it is taken, the warm-up's snapshot
    /// (`due`: one comparison per event).
    next_due: Nanos,
    interval_start: Nanos,
    warm_snap: Option<(Vec<f64>, Vec<f64>)>,
    interval_snap: (Vec<f64>, Vec<f64>),
    /// The phases' starts (`phases.rs`), and their figures, phase-major: the figures of
    /// workload `w` in phase `p` at `p * workloads + w`.
    phase_starts: Vec<Nanos>,
    phase_figs: Vec<PhaseWorkloadFigures>,
}

impl Recorder {
    pub(super) fn new(spec: &Spec) -> Recorder {
        let (n_eps, n_svcs) = (spec.endpoints.len(), spec.services.len());
        let phase_starts: Vec<Nanos> = phase_cut(spec).iter().map(|p| p.from_ns).collect();
        let phase_figs = vec![PhaseWorkloadFigures::default(); phase_starts.len() * spec.workloads.len()];
        Recorder {
            warmup: spec.warmup_ns,
            end: spec.duration_ns,
            interval_ns: spec.interval_ns,
            workloads: spec.workloads.iter().map(|_| WorkloadFigures::default()).collect(),
            endpoints: spec.endpoints.iter().map(|_| EndpointFigures::default()).collect(),
            edges: spec.edges.iter().map(|_| EdgeFigures::default()).collect(),
            service_queue_max: vec![0; n_svcs],
            wl_interval: spec
                .workloads
                .iter()
                .map(|_| WlInterval {
                    hist: LatencyHist::with_sigfig(2),
                    outcomes: Outcomes::default(),
                    offered: 0,
                    shed: 0,
                })
                .collect(),
            ep_tally: vec![Tally::default(); n_eps],
            edge_tally: vec![EdgeTally::default(); spec.edges.len()],
            edge_bulk: super::clients::edges_with_bulkhead(spec),
            ep_busy: vec![Area::default(); n_eps],
            ep_own: spec
                .endpoints
                .iter()
                .map(|e| spec.endpoints.iter().filter(|o| o.service == e.service).count() > 1)
                .collect(),
            ep_service: spec.endpoints.iter().map(|e| e.service).collect(),
            svc_busy: vec![Area::default(); n_svcs],
            ep_arrivals: vec![0; n_eps],
            svc_queued: vec![0; n_svcs],
            series: layout(spec),
            next_boundary: spec.interval_ns.min(spec.duration_ns),
            next_due: spec.interval_ns.min(spec.duration_ns).min(spec.warmup_ns),
            interval_start: 0,
            warm_snap: None,
            interval_snap: (vec![0.0; n_eps], vec![0.0; n_svcs]),
            phase_starts,
            phase_figs,
        }
    }

    /// Whether what starts now is measured (warm-up is over).
    #[inline]
    pub(super) fn counted(&self, now: Nanos) -> bool {
        now >= self.warmup
    }

    /// Whether an interval ends, or warm-up does, at or before `t`.
    #[inline]
    pub(super) fn due(&self, t: Nanos) -> bool {
        t >= self.next_due
    }

    // ---- workloads ---------------------------------------------------------------

    /// The figures of workload `wl` in the phase in which `t` lies, if the run is cut.
    #[inline]
    fn phase_fig(&mut self, wl: u32, t: Nanos) -> Option<&mut PhaseWorkloadFigures> {
        if self.phase_starts.is_empty() {
            return None;
        }
        let p = phase_index(&self.phase_starts, t);
        let n = self.workloads.len();
        self.phase_figs.get_mut(p * n + wl as usize)
    }

    /// Workload `wl` sent a request at `now`.
    #[inline]
    pub(super) fn offered(&mut self, wl: u32, counted: bool, now: Nanos) {
        self.wl_interval[wl as usize].offered += 1;
        if counted {
            self.workloads[wl as usize].offered += 1;
            if let Some(p) = self.phase_fig(wl, now) {
                p.offered += 1;
            }
        }
    }

    /// A request of workload `wl` sent at `started` ended at `now`. Its latency goes to
    /// the successes' histograms (the series' too) or to the failures', by `outcome`;
    /// its phase is the one in which it started.
    #[inline]
    pub(super) fn root_end(&mut self, wl: u32, counted: bool, started: Nanos, now: Nanos, outcome: Outcome) {
        let latency = now - started;
        let iv = &mut self.wl_interval[wl as usize];
        iv.outcomes.record(outcome);
        if outcome.is_ok() {
            iv.hist.record(latency);
        }
        if counted {
            let f = &mut self.workloads[wl as usize];
            f.outcomes.record(outcome);
            if outcome.is_ok() {
                f.latency.record(latency);
            } else {
                f.failed_latency.record(latency);
            }
            if let Some(p) = self.phase_fig(wl, started) {
                p.outcomes.record(outcome);
                if outcome.is_ok() {
                    p.latency.record(latency);
                }
            }
        }
    }

    /// A request of workload `wl` was shed somewhere in its call tree (`servers/shed.rs`);
    /// the series counts it in the interval it was shed in, the figures if `counted`.
    pub(super) fn shed(&mut self, wl: u32, counted: bool) {
        self.wl_interval[wl as usize].shed += 1;
        if counted {
            self.workloads[wl as usize].shed += 1;
        }
    }

    /// A measured request of workload `wl` is still running at the end.
    pub(super) fn still_in_flight(&mut self, wl: u32) {
        self.workloads[wl as usize].in_flight += 1;
    }

    // ---- endpoints and services --------------------------------------------------

    #[inline]
    pub(super) fn ep_request(&mut self, ep: u32, counted: bool) {
        self.ep_arrivals[ep as usize] += 1;
        if counted {
            self.endpoints[ep as usize].requests += 1;
        }
        self.ep_tally[ep as usize].requests += 1;
    }

    /// An execution ended (or was refused) after `latency` at the replica.
    #[inline]
    pub(super) fn exec_end(&mut self, ep: u32, counted: bool, latency: Nanos, outcome: Outcome) {
        self.ep_tally[ep as usize].outcomes.record(outcome);
        if counted {
            let f = &mut self.endpoints[ep as usize];
            f.outcomes.record(outcome);
            if outcome.is_ok() {
                f.latency.record(latency);
            } else {
                f.failed_latency.record(latency);
            }
        }
    }

    /// An execution of endpoint `ep` of service `svc` joined a queue now `qlen` long.
    #[inline]
    pub(super) fn queued(&mut self, ep: u32, svc: u32, qlen: u64, counted: bool) {
        self.svc_queued[svc as usize] += 1;
        if counted {
            let f = &mut self.endpoints[ep as usize];
            f.queue_max = f.queue_max.max(qlen);
            let m = &mut self.service_queue_max[svc as usize];
            *m = (*m).max(qlen);
        }
    }

    /// `n` executions left service `svc`'s queues.
    #[inline]
    pub(super) fn dequeued(&mut self, svc: u32, n: u64) {
        self.svc_queued[svc as usize] -= n;
    }

    /// An execution finished after its caller had stopped waiting.
    pub(super) fn abandoned(&mut self, ep: u32, counted: bool) {
        if counted {
            self.endpoints[ep as usize].abandoned += 1;
        }
    }

    /// A worker of service `svc` is taken (`delta` 1) or given back (-1) by endpoint `ep`.
    #[inline]
    /// Requests that reached endpoint `ep` since the start.
    pub(super) fn endpoint_arrivals(&self, ep: u32) -> u64 {
        self.ep_arrivals[ep as usize]
    }

    /// Service `svc`'s busy workers integrated over time (worker-nanoseconds) up to `now`.
    pub(super) fn service_busy_area(&self, svc: u32, now: Nanos) -> f64 {
        self.svc_busy[svc as usize].at(now)
    }

    pub(super) fn workers(&mut self, now: Nanos, ep: u32, svc: u32, delta: i32) {
        self.svc_busy[svc as usize].step(now, delta);
        if self.ep_own[ep as usize] {
            self.ep_busy[ep as usize].step(now, delta);
        }
    }

    /// Endpoint `ep`'s busy workers integrated up to `t` (its service's, if it is the
    /// service's only endpoint: every worker it takes is one of the service's).
    fn ep_busy_area(&self, ep: usize, t: Nanos) -> f64 {
        ep_area(&self.ep_own, &self.ep_busy, &self.svc_busy, &self.ep_service, ep, t)
    }

    // ---- call edges --------------------------------------------------------------

    #[inline]
    pub(super) fn edge_call(&mut self, edge: u32, counted: bool) {
        if counted {
            self.edges[edge as usize].calls += 1;
        }
        self.edge_tally[edge as usize].calls += 1;
    }

    #[inline]
    pub(super) fn edge_attempt(&mut self, edge: u32, counted: bool) {
        if counted {
            self.edges[edge as usize].attempts += 1;
        }
        self.edge_tally[edge as usize].attempts += 1;
    }

    pub(super) fn edge_retry(&mut self, edge: u32, counted: bool) {
        if counted {
            self.edges[edge as usize].retries += 1;
        }
        self.edge_tally[edge as usize].retries += 1;
    }

    pub(super) fn edge_hedge(&mut self, edge: u32, counted: bool) {
        if counted {
            self.edges[edge as usize].hedges += 1;
        }
        self.edge_tally[edge as usize].hedges += 1;
    }

    #[inline]
    pub(super) fn call_end(&mut self, edge: u32, counted: bool, latency: Nanos, outcome: Outcome) {
        if counted {
            let e = &mut self.edges[edge as usize];
            e.outcomes.record(outcome);
            if outcome.is_ok() {
                e.latency.record(latency);
            } else {
                e.failed_latency.record(latency);
            }
        }
        if !outcome.is_ok() {
            self.edge_tally[edge as usize].failed += 1;
        }
    }
}

/// `Recorder::ep_busy_area` on the recorder's fields (for a caller that holds another
/// of them mutably).
fn ep_area(
    own: &[bool],
    ep_busy: &[Area],
    svc_busy: &[Area],
    ep_service: &[u32],
    ep: usize,
    t: Nanos,
) -> f64 {
    if own[ep] { ep_busy[ep].at(t) } else { svc_busy[ep_service[ep] as usize].at(t) }
}

/// Column order of the time series: workloads, endpoints, calls, services, sagas,
/// topics, groups, cache steps, queues, each in scenario order. `flush_interval` pushes values in exactly
/// this order.
pub(super) fn layout(spec: &Spec) -> Series {
    let mut s = Series { interval_ns: spec.interval_ns, ..Default::default() };
    for wl in &spec.workloads {
        for m in ["offered", "ok", "degraded"] {
            s.add_column(Scope::Workload, &wl.name, m);
        }
        for c in Cause::ALL {
            s.add_column(Scope::Workload, &wl.name, &format!("failed_{}", c.name()));
        }
        // Percentiles of the successes that finished in the interval (issue 11).
        for m in ["p50_ms", "p99_ms", "in_flight"] {
            s.add_column(Scope::Workload, &wl.name, m);
        }
        // Executions of its requests' call trees shed in the interval (issue 14).
        if spec.has_priorities() {
            s.add_column(Scope::Workload, &wl.name, "shed");
        }
    }
    for ep in &spec.endpoints {
        for m in ["requests", "ok", "failed", "utilization"] {
            s.add_column(Scope::Endpoint, &ep.name, m);
        }
    }
    let bulk = super::clients::edges_with_bulkhead(spec);
    for (e, bulk) in spec.edges.iter().zip(bulk) {
        for m in ["calls", "attempts", "retries", "hedges", "failed", "breaker_state"] {
            s.add_column(Scope::Call, &e.name, m);
        }
        // Permits out and attempts waiting at the interval's end.
        if bulk {
            for m in ["bulkhead_in_use", "bulkhead_waiting"] {
                s.add_column(Scope::Call, &e.name, m);
            }
        }
    }
    for sv in &spec.services {
        for m in ["busy", "queue_len", "utilization", "replicas_up"] {
            s.add_column(Scope::Service, &sv.name, m);
        }
        // The sum of its replicas' adaptive concurrency limits at the interval's end.
        if sv.adaptive.is_some() {
            s.add_column(Scope::Service, &sv.name, "concurrency_limit");
        }
        // An autoscaled service's replicas in the balancers and its scale (the replicas
        // the autoscaler asked for, starting ones included), at the interval's end.
        if sv.autoscale.is_some() {
            s.add_column(Scope::Service, &sv.name, "replicas");
            s.add_column(Scope::Service, &sv.name, "desired_replicas");
        }
    }
    for sg in &spec.sagas {
        for m in ["started", "completed", "compensated", "compensation_failed", "abandoned", "in_flight"] {
            s.add_column(Scope::Saga, &sg.name, m);
        }
    }
    for t in &spec.topics {
        for m in ["published", "publish_failed"] {
            s.add_column(Scope::Topic, &t.name, m);
        }
    }
    for t in &spec.topics {
        for g in &t.groups {
            let name = format!("{}/{}", t.name, g.name);
            for m in ["delivered", "redelivered", "dead_lettered", "lag"] {
                s.add_column(Scope::Topic, &name, m);
            }
        }
    }
    for c in &spec.caches {
        for m in ["hits", "misses", "errors", "hit_ratio"] {
            s.add_column(Scope::Cache, &c.name, m);
        }
    }
    for q in &spec.queues {
        for m in ["sent", "received", "deleted", "dead_lettered", "depth", "age_s"] {
            s.add_column(Scope::Queue, &q.name, m);
        }
    }
    s
}

/// Checks, before anything is allocated, that the run's histograms and time series fit
/// the `limits` on series cells and on memory.
pub(super) fn preflight(spec: &Spec) -> Result<(), RunError> {
    let columns = layout(spec).columns.len() as u64;
    let intervals = spec.duration_ns.div_ceil(spec.interval_ns.max(1));
    let cells = columns.saturating_mul(intervals);
    let max_cells = spec.limits.max_series_points;
    if cells > max_cells {
        return Err(RunError::Limit(format!(
            "the time series would hold {cells} values ({columns} columns × {intervals} intervals of {} s), \
             over /limits/max_series_points = {max_cells}; lengthen /interval, shorten /duration, \
             or raise the limit",
            spec.interval_ns as f64 / 1e9
        )));
    }
    // Two summary histograms (successes, failures) per workload, endpoint, call edge and
    // saga (and one per saga outcome), one per consumer group; coarse ones: one per
    // workload for the series and one per workload and phase.
    let fine = LatencyHist::footprint_bytes(3);
    let coarse = LatencyHist::footprint_bytes(2);
    let groups: u64 = spec.topics.iter().map(|t| t.groups.len() as u64).sum();
    let bulkheads = super::clients::edges_with_bulkhead(spec).iter().filter(|b| **b).count() as u64;
    let n_fine = 2 * spec.workloads.len() as u64
        + 2 * spec.endpoints.len() as u64
        + 2 * spec.edges.len() as u64
        + bulkheads
        + 6 * spec.sagas.len() as u64
        + groups
        + spec.queues.len() as u64;
    let phases = phase_cut(spec).len() as u64;
    let hist_bytes = n_fine * fine + spec.workloads.len() as u64 * (1 + phases) * coarse;
    // Each client slot keeps an outstanding count and an outlier state per target replica.
    let client_bytes = super::clients::client_table_bytes(spec);
    let series_bytes = cells * 8 + intervals * 8;
    let total = hist_bytes.saturating_add(series_bytes).saturating_add(client_bytes);
    let mib = total.div_ceil(1 << 20);
    let max_mib = spec.limits.max_memory_mib;
    if mib > max_mib {
        return Err(RunError::Limit(format!(
            "the run would need about {mib} MiB for its figures before it starts ({n_fine} latency \
             histograms of {} KiB each for {} workloads, {} endpoints, {} call edges, {} sagas and \
             {groups} consumer groups; {} MiB of time series; {} MiB of client tables per target replica), \
             over /limits/max_memory_mib = {max_mib}; simulate fewer of them in one scenario, or raise the limit",
            fine / 1024,
            spec.workloads.len(),
            spec.endpoints.len(),
            spec.edges.len(),
            spec.sagas.len(),
            series_bytes >> 20,
            client_bytes >> 20
        )));
    }
    Ok(())
}

impl World<'_> {
    /// Closes every interval that ends at or before `t`, and takes the warm-up snapshot
    /// once the clock reaches the end of warm-up. Called before the first event at or
    /// after either instant, so no event at or after it has been processed yet: the
    /// state still holds as it was at that instant.
    pub(super) fn advance_to(&mut self, t: Nanos) {
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
    pub(super) fn finish(mut self) -> RunOutput {
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
    pub(super) fn check_figures(&mut self) {
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

#[cfg(test)]
mod tests {
    use super::Area;

    #[test]
    fn a_busy_area_is_exact_beyond_what_an_f64_sum_holds() {
        // A million workers busy for three days: 2.6e20 worker-ns, far past 2^53 and
        // past u64. Stepped every second, an f64 sum would round at each step.
        let mut a = Area::default();
        a.step(0, 1_000_000);
        let second = 1_000_000_000u64;
        for s in 1..=259_200u64 {
            a.step(s * second, 0);
        }
        let exact = 1_000_000u128 * 259_200 * second as u128;
        assert_eq!(a.acc, exact);
        assert_eq!(a.at(259_200 * second), exact as f64);
        // Half the workers go idle; the next day counts half as much.
        a.step(259_200 * second, -500_000);
        assert_eq!(a.at(345_600 * second), (exact + 500_000u128 * 86_400 * second as u128) as f64);
    }
}
