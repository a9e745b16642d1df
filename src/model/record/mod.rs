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

mod close;
mod layout;

use super::output::{EdgeFigures, EndpointFigures, PhaseWorkloadFigures, WorkloadFigures};
use super::phases::{phase_cut, phase_index};
use crate::metrics::{LatencyHist, Outcome, Outcomes, Series};
use crate::spec::{Nanos, Spec};
pub(super) use layout::{layout, preflight};

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
    /// Per edge, the workload whose root calls are its only calls (`client:<workload>->
    /// <target>` of a workload that calls an endpoint): a measured call's outcome and
    /// latency on it are its request's, recorded once, in the workload's figures, and
    /// copied to the edge's at the end (`mirror_root_edges`). One histogram record per
    /// request fewer; each was an L2 access.
    mirrors: Vec<Option<u32>>,
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
            mirrors: {
                let mut m = vec![None; spec.edges.len()];
                for (i, wl) in spec.workloads.iter().enumerate() {
                    if wl.saga.is_none() {
                        m[wl.edge as usize] = Some(i as u32);
                    }
                }
                m
            },
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
            edge_bulk: crate::model::clients::edges_with_bulkhead(spec),
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
    #[inline(always)]
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

    #[inline(always)]
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
        if counted && self.mirrors[edge as usize].is_none() {
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

    /// Gives each workload's edge the outcomes and latencies of the workload's measured
    /// requests (`mirrors`), which are its measured calls'. The one assumption, that the
    /// edge carries those calls and no other, is checked: as many measured calls on the
    /// edge as measured requests of the workload.
    pub(super) fn mirror_root_edges(&mut self, violations: &mut Vec<String>) {
        for (e, wl) in self.mirrors.iter().enumerate() {
            let Some(wl) = *wl else { continue };
            let (w, edge) = (&self.workloads[wl as usize], &mut self.edges[e]);
            if edge.calls != w.offered {
                violations.push(format!(
                    "edge {e} carried {} measured calls for the {} measured requests of workload {wl}",
                    edge.calls, w.offered
                ));
            }
            edge.outcomes = w.outcomes.clone();
            edge.latency = w.latency.clone();
            edge.failed_latency = w.failed_latency.clone();
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
