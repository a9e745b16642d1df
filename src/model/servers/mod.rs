//! The servers room: replicas, their workers and queues, and the executions on them.
//! An execution waits in its replica's queue for a worker, holds it for the
//! endpoint's own latency, then runs the endpoint's steps (`steps.rs`), still holding
//! the worker while it waits on its synchronous calls (a thread blocked on a
//! downstream call is busy: this is what makes a slow leaf fill the pools above it).
//! It answers its `Origin`: an attempt (back over the network, by the calls room) or
//! a consumer (the topics room). `lifecycle.rs` holds an execution's life from arrival
//! to answer, `crash.rs` a replica's crash; this file the state and its queries.
//!
//! *Invariants*: no replica has more busy workers than `concurrency` nor more live
//! executions queued than `capacity` (checked as they change and at the end); the
//! executions alive are bounded by `limits.max_executions`; a queue's stale ids
//! (cancelled executions) are counted in `stale` and never outnumber the live ones
//! by much (compacted).

mod adaptive;
mod cache;
mod crash;
mod lifecycle;
mod ratelimit;
mod shed;
mod steps;

pub(super) use shed::ReqClass;

use super::clients::Clients;
use super::event::{Ev, ExecId, Origin};
use super::network::Network;
use crate::arena::Arena;
use crate::dist::Dist;
use crate::rng::{Rng, rng_stream};
use crate::spec::{EndpointId, Nanos, ReplicaId, ServiceId, Spec};
use std::collections::VecDeque;

use steps::{MStep, Site};

/// Where an execution is in its endpoint's program: its own latency first.
const STEP_OWN: u16 = u16::MAX;

pub(in crate::model) struct Exec {
    endpoint: EndpointId,
    replica: ReplicaId,
    origin: Origin,
    /// The entity (message key) of the request this execution serves.
    entity: u32,
    arrived: Nanos,
    step: u16,
    pending: u16,
    degraded: bool,
    running: bool,
    counted: bool,
    /// Its request's workload and priority (`shed.rs`).
    class: ReqClass,
    /// The adaptive concurrency filter's outstanding count when it admitted this
    /// request, itself included (0 if no filter saw it; `adaptive.rs`).
    inflight: u32,
}

struct ReplicaState {
    service: ServiceId,
    busy: u32,
    /// Executions waiting for a worker. Cancelled ones stay in place (their id is stale)
    /// until they reach the head or the queue is compacted: removing from the middle
    /// would cost the queue's length per cancellation.
    queue: VecDeque<ExecId>,
    /// Stale ids in `queue`; the live length is `queue.len() - stale`.
    stale: u32,
    /// Live executions in `queue` per priority (critical, default, sheddable): where
    /// `queue_delay` shedding's scan for the highest class waiting may stop (`shed.rs`).
    waiting: [u32; 3],
    /// Crashed (or killed by its liveness probe) and not yet restarted.
    down: bool,
    /// Counts downtimes: a restart scheduled for an earlier one does not end a later one.
    epoch: u32,
}

/// Per endpoint: its compiled program and its random streams.
struct EpState {
    hot: EpHot,
    latency_rng: Rng,
    outcome_rng: Rng,
    work_rng: Rng,
    route_rng: Rng,
    work: Vec<Dist>,
}

/// What every execution of an endpoint reads, side by side (copied from the spec's
/// endpoint, whose fields are spread over several cache lines, and kept apart from the
/// four random streams of a kilobyte and more): `perf` put 1.2% of an M/M/c run on the
/// load of `error_p` alone.
struct EpHot {
    latency: Dist,
    error_p: f64,
    decline_p: f64,
    steps: Vec<MStep>,
}

pub(super) struct Servers {
    replicas: Vec<ReplicaState>,
    execs: Arena<Exec>,
    eps: Vec<EpState>,
    /// Call sites of every endpoint's steps, flattened.
    sites: Vec<Site>,
    limits: ratelimit::ServerLimits,
    /// Adaptive concurrency, per replica (`adaptive.rs`).
    filters: adaptive::Filters,
}

impl Servers {
    /// Compiles every endpoint's steps; their call sites take client blocks and network
    /// paths in scenario order.
    pub(super) fn new(spec: &Spec, clients: &mut Clients, net: &mut Network) -> Servers {
        let seed = spec.seed;
        let replicas = spec
            .replicas
            .iter()
            .map(|r| ReplicaState {
                service: r.service,
                busy: 0,
                queue: VecDeque::new(),
                stale: 0,
                waiting: [0; 3],
                down: false,
                epoch: 0,
            })
            .collect();
        let mut sites = Vec::new();
        let eps = spec
            .endpoints
            .iter()
            .map(|ep| {
                let (steps, work) = steps::compile(spec, ep, &mut sites, clients, net);
                EpState {
                    hot: EpHot {
                        latency: ep.latency.clone(),
                        error_p: ep.error_p,
                        decline_p: ep.decline_p,
                        steps,
                    },
                    latency_rng: rng_stream(seed, &format!("latency/{}", ep.name)),
                    outcome_rng: rng_stream(seed, &format!("outcome/{}", ep.name)),
                    work_rng: rng_stream(seed, &format!("work/{}", ep.name)),
                    route_rng: rng_stream(seed, &format!("route/{}", ep.name)),
                    work,
                }
            })
            .collect();
        Servers {
            replicas,
            execs: Arena::default(),
            eps,
            sites,
            limits: ratelimit::ServerLimits::new(spec),
            filters: adaptive::Filters::new(spec),
        }
    }

    #[inline]
    pub(super) fn is_down(&self, replica: ReplicaId) -> bool {
        self.replicas[replica as usize].down
    }

    /// Replicas of service `svc` that are up.
    pub(super) fn replicas_up(&self, spec: &Spec, svc: u32) -> usize {
        let s = &spec.services[svc as usize];
        let first = s.first_replica as usize;
        self.replicas[first..first + s.replicas as usize].iter().filter(|r| !r.down).count()
    }

    /// Whether any replica of service `svc` is up.
    pub(super) fn any_up(&self, spec: &Spec, svc: ServiceId) -> bool {
        self.replicas_up(spec, svc) > 0
    }

    /// Starts fetching execution `exec`'s slot into the cache (`Arena::prefetch`).
    #[inline(always)]
    pub(super) fn prefetch_exec(&self, exec: ExecId) {
        self.execs.prefetch(exec.index);
    }

    #[inline]
    pub(super) fn exec_alive(&self, exec: ExecId) -> bool {
        self.execs.contains(exec)
    }

    /// The endpoint an execution serves, if it is still alive (for messages).
    pub(super) fn exec_endpoint(&self, exec: ExecId) -> Option<EndpointId> {
        self.execs.get(exec).map(|e| e.endpoint)
    }

    /// The entity (message key) of the request an execution serves.
    pub(super) fn exec_entity(&self, exec: ExecId) -> Option<u32> {
        self.execs.get(exec).map(|e| e.entity)
    }

    /// The replica's downtime epoch (the current one if it is down).
    pub(super) fn down_epoch(&self, replica: ReplicaId) -> u32 {
        self.replicas[replica as usize].epoch
    }

    /// Whether the replica holds no execution (no busy worker, nothing queued).
    pub(super) fn idle(&self, replica: ReplicaId) -> bool {
        let r = &self.replicas[replica as usize];
        r.busy == 0 && r.queue.len() == r.stale as usize
    }

    /// A replica comes back up, if it is still in downtime `epoch`.
    pub(super) fn restart(&mut self, replica: ReplicaId, epoch: u32) -> bool {
        let r = &mut self.replicas[replica as usize];
        if r.epoch == epoch && r.down {
            r.down = false;
            true
        } else {
            false
        }
    }

    /// The replicas' bounds at the end of the run.
    pub(super) fn check(&self, spec: &Spec, violations: &mut Vec<String>) {
        for (i, r) in self.replicas.iter().enumerate() {
            let svc = &spec.services[r.service as usize];
            let queued = (r.queue.len() - r.stale as usize) as u64;
            let waiting = r.waiting.iter().map(|&n| n as u64).sum::<u64>();
            if r.busy > svc.concurrency || queued > svc.queue.capacity as u64 || waiting != queued {
                violations.push(format!("replica {i} over its bounds at the end"));
            }
        }
        self.limits.check(violations);
        self.filters.check(self, violations);
    }

    /// Service `svc`'s adaptive concurrency limit at `now` (its replicas' sum), if it
    /// has one.
    pub(super) fn adaptive_limit(&mut self, spec: &Spec, svc: u32, now: Nanos) -> Option<f64> {
        self.filters.service_limit(spec, svc, now)
    }
}

/// The event that wakes execution `id` (it names a direct call's slot too, to be
/// fetched at once: `Ev::CallExecWake`).
#[inline]
fn wake(id: ExecId, origin: Origin) -> Ev {
    match origin {
        Origin::Call(call) => Ev::CallExecWake { exec: id, call: call.index },
        _ => Ev::ExecWake { exec: id },
    }
}
