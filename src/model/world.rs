//! The world: replicas, executions, calls and attempts, and the handlers of every event.

use super::arrivals::RateFn;
use crate::arena::{Arena, Id};
use crate::dist::Dist;

type CallId = Id<Call>;
type AttId = Id<Attempt>;
type ExecId = Id<Exec>;
type SagaRunId = Id<SagaRun>;
use crate::engine::Scheduler;
use crate::metrics::{LatencyHist, Outcome, Outcomes, Scope, Series};
use crate::policy::backoff::retry_wait;
use crate::policy::breaker::{CircuitBreaker, is_legal};
use crate::policy::budget::RetryBudgetState;
use crate::policy::health::HealthState;
use crate::policy::outlier::OutlierDetector;
use crate::rng::{Rng, rng_stream};
use crate::spec::*;
use rand::RngExt;
use rand_distr::{Distribution, Exp1};
use std::collections::{BTreeMap, VecDeque};

mod sagas;
mod topics;

use sagas::{EffectTag, SagaRun};
use topics::{GroupState, TopicState};

/// A run that could not finish.
#[derive(Debug, Clone, PartialEq)]
pub enum RunError {
    /// A bound of `limits` was reached; the message names it and how to raise it.
    Limit(String),
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::Limit(m) => write!(f, "{m}"),
        }
    }
}

impl std::error::Error for RunError {}

/// Everything a run measured.
#[derive(Debug)]
pub struct RunOutput {
    /// Simulated seconds measured (duration less warm-up).
    pub window_s: f64,
    pub events: u64,
    pub workloads: Vec<WorkloadFigures>,
    pub endpoints: Vec<EndpointFigures>,
    pub edges: Vec<EdgeFigures>,
    pub services: Vec<ServiceFigures>,
    /// Per saga, in `Spec::sagas` order.
    pub sagas: Vec<SagaFigures>,
    /// Per topic, in `Spec::topics` order.
    pub topics: Vec<TopicFigures>,
    pub series: Series,
    /// Broken invariants (always empty unless the model has a bug).
    pub violations: Vec<String>,
}

#[derive(Debug, Default)]
pub struct WorkloadFigures {
    pub offered: u64,
    pub outcomes: Outcomes,
    pub in_flight: u64,
    pub latency: LatencyHist,
}

#[derive(Debug, Default)]
pub struct EndpointFigures {
    /// Executions that reached a replica (rejected ones included).
    pub requests: u64,
    pub outcomes: Outcomes,
    pub latency: LatencyHist,
    /// Share of the service's worker time that this endpoint's executions held.
    pub utilization: f64,
    /// Longest queue one of its requests found on arrival (itself included).
    pub queue_max: u64,
    /// Executions that finished after their caller had stopped waiting: wasted work.
    pub abandoned: u64,
}

#[derive(Debug, Default)]
pub struct EdgeFigures {
    pub calls: u64,
    pub attempts: u64,
    pub retries: u64,
    pub hedges: u64,
    pub outcomes: Outcomes,
    pub latency: LatencyHist,
    /// Times the caller replicas' breakers opened, and their time open summed over
    /// those replicas, in the measured window.
    pub breaker_opened: u64,
    pub breaker_open_s: f64,
}

/// Outcomes of the sagas started in the measured window. `completed + compensated +
/// compensation_failed + abandoned + in_flight == started`.
#[derive(Debug, Default)]
pub struct SagaFigures {
    pub started: u64,
    pub completed: u64,
    pub compensated: u64,
    pub compensation_failed: u64,
    pub abandoned: u64,
    pub in_flight: u64,
    /// Action effects that nothing undid, in sagas that ended without completing.
    pub orphaned: u64,
    /// Actions that took effect more than once in one saga (a retry after a timeout
    /// whose first attempt also executed, a durable saga re-running its step).
    pub duplicate_effects: u64,
    /// Start to outcome, every saga that ended.
    pub latency: LatencyHist,
    /// Start to outcome per outcome: completed, compensated, compensation_failed,
    /// abandoned.
    pub latency_by_outcome: [LatencyHist; 4],
}

/// A topic's figures over the measured window.
#[derive(Debug, Default)]
pub struct TopicFigures {
    /// Messages the broker accepted (from publish steps and outbox relays).
    pub published: u64,
    /// Publish steps the broker refused (unreachable).
    pub publish_failed: u64,
    /// Per consumer group, in `Topic::groups` order.
    pub groups: Vec<GroupFigures>,
}

#[derive(Debug, Default)]
pub struct GroupFigures {
    /// Distinct messages handled successfully.
    pub delivered: u64,
    /// Deliveries after a message's first.
    pub redelivered: u64,
    /// Successful handlings after a message's first success.
    pub duplicates: u64,
    /// Duplicates on a handler that is not idempotent: inconsistencies.
    pub inconsistent: u64,
    pub dead_lettered: u64,
    pub dropped: u64,
    /// Largest lag seen, summed over partitions.
    pub max_lag: u64,
    /// Messages still waiting or in hand at the end.
    pub in_flight: u64,
    /// Publish to first successful handling.
    pub latency: LatencyHist,
}

#[derive(Debug, Default)]
pub struct ServiceFigures {
    pub utilization: f64,
    pub queue_max: u64,
}

#[derive(Clone, Copy, Debug)]
enum Ev {
    /// The next arrival of an open workload.
    Arrival {
        wl: u32,
    },
    /// A closed workload's user sends its next request.
    UserSend {
        wl: u32,
        user: u32,
    },
    /// An attempt's request reaches the callee replica.
    AttemptArrive {
        att: AttId,
    },
    /// An execution finished its own latency or a `work` step.
    ExecWake {
        exec: ExecId,
    },
    /// An attempt's answer reaches its caller (or a local refusal: breaker, bulkhead,
    /// no replica).
    Response {
        att: AttId,
        outcome: Outcome,
    },
    /// An attempt's per-try timeout.
    AttemptTimeout {
        att: AttId,
    },
    /// A bulkhead waiter's `max_wait` ran out.
    BulkheadExpire {
        att: AttId,
    },
    /// A bulkhead waiter got its permit: send it.
    Admit {
        att: AttId,
    },
    /// A call's backoff ended: send the next attempt.
    RetryFire {
        call: CallId,
    },
    /// A call's hedging delay ended: send another attempt if no answer came.
    HedgeFire {
        call: CallId,
        try_no: u32,
    },
    /// A call's overall deadline.
    CallDeadline {
        call: CallId,
    },
    FaultStart {
        fault: u32,
    },
    FaultEnd {
        fault: u32,
    },
    /// A crashed (or liveness-killed) replica comes back, if it is still in the
    /// downtime `epoch` this restart was scheduled for.
    Restart {
        replica: ReplicaId,
        epoch: u32,
    },
    /// A topic's outbox relay wakes up.
    RelayTick {
        topic: u32,
    },
    /// A failed message's backoff ended: deliver it again.
    ConsumerRetry {
        group: u32,
        part: u32,
        epoch: u32,
    },
    /// A group reassigns its partitions among its live consumers.
    Rebalance {
        group: u32,
    },
    /// A consumer commits its offsets (Kafka's auto-commit).
    CommitTick {
        group: u32,
        consumer: u32,
        epoch: u32,
    },
    /// A saga's retriable step or persistent compensation is tried again.
    SagaRetry {
        saga: SagaRunId,
        epoch: u16,
    },
    /// A health probe of one replica.
    Probe {
        replica: ReplicaId,
    },
    /// A handler's answer reaches its consumer. Delivered as an event, never inline, so
    /// that a backlog whose handler fails at once is drained one event at a time rather
    /// than by a recursion as deep as the backlog (`kick → arrive → answer → kick`).
    ConsumerAnswer {
        group: u32,
        part: u32,
        epoch: u32,
        outcome: Outcome,
    },
}

#[derive(Clone, Copy, Debug)]
enum Parent {
    /// A workload's request; `user` is the closed-loop user, or `u32::MAX`.
    Root { wl: u32, user: u32 },
    /// A synchronous step of an execution.
    Exec { exec: ExecId },
    /// A saga's action (`comp` false) or compensation of step `step`; `epoch` is the
    /// saga's when the call was made (a resumed durable saga ignores older answers).
    Saga { saga: SagaRunId, step: u16, comp: bool, epoch: u16 },
}

/// Most attempts of one call outstanding at once (the first plus hedges).
const MAX_LIVE: usize = 4;
const NO_NET: u32 = u32::MAX;

struct Call {
    parent: Parent,
    target: EndpointId,
    edge: EdgeId,
    /// Index of the client-state block (balancer, breaker, budget, bulkhead).
    client: u32,
    caller_slot: u32,
    net: u32,
    policy: Option<PolicyId>,
    optional: bool,
    counted: bool,
    started: Nanos,
    /// Tries sent (the first and each retry); hedges are not tries.
    tries: u32,
    hedges: u32,
    prev_wait: Nanos,
    live: [AttId; MAX_LIVE],
    n_live: u8,
    /// A retry is scheduled (no attempt is live meanwhile).
    backing_off: bool,
    /// The entity (message key) of the workload request or saga this call serves.
    entity: u32,
}

impl Call {
    fn remove_live(&mut self, att: AttId) {
        let n = self.n_live as usize;
        if let Some(i) = self.live[..n].iter().position(|a| *a == att) {
            self.live[i] = self.live[n - 1];
            self.n_live -= 1;
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum AttState {
    /// Waiting for a bulkhead permit.
    Waiting,
    /// On its way or being served.
    Sent,
    /// Refused locally (breaker, bulkhead, no replica); its Response is scheduled.
    Local,
}

struct Attempt {
    call: CallId,
    endpoint: EndpointId,
    replica: ReplicaId,
    /// Index of the caller's replica within its service (0 for a workload's client).
    caller_slot: u32,
    client: u32,
    net: u32,
    state: AttState,
    sent_at: Nanos,
    /// The caller stopped waiting (answered, timed out, or abandoned).
    done: bool,
    /// An answer may still come back (false once the request or the answer was lost).
    may_respond: bool,
    /// Holds a bulkhead permit.
    permit: bool,
    /// Took a breaker permission (its result must be recorded or released).
    breaker: bool,
    /// Counted in its caller's outstanding attempts for the replica (until released).
    outstanding: bool,
    /// The execution serving it, once it reached a replica.
    exec: Option<ExecId>,
    entity: u32,
    /// For a saga's action or compensation: which saga step's effect it carries.
    effect: Option<EffectTag>,
    /// The same, once its saga has ended.
    late: Option<sagas::LateEffect>,
}

/// Where an execution is in its endpoint's program.
const STEP_OWN: u16 = u16::MAX;

/// Who is waiting for an execution's answer.
#[derive(Clone, Copy, Debug)]
enum Origin {
    /// A call's attempt (a synchronous request).
    Attempt(AttId),
    /// A consumer handling a message of a group's partition; `epoch` is the partition's,
    /// so that the answer of a consumer that has since lost the partition is ignored.
    Consumer { group: u32, part: u32, epoch: u32 },
}

struct Exec {
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
    /// Crashed (or killed by its liveness probe) and not yet restarted.
    down: bool,
    /// Health as its readiness probe last decided (balancers skip unhealthy replicas).
    ready: bool,
    /// Counts downtimes: a restart scheduled for an earlier one does not end a later one.
    epoch: u32,
    /// A liveness restart is scheduled; probes take no further action until it happens.
    liveness_restarting: bool,
    health: Option<HealthState>,
}

/// A compiled step: call sites are flattened into `World::sites`.
#[derive(Clone, Copy)]
enum MStep {
    Publish { topic: u32, outbox: bool },
    Work(u32),
    Call(u32),
    Parallel { first: u32, len: u32 },
}

struct Site {
    targets: Vec<SiteTarget>,
    policy: Option<PolicyId>,
    optional: bool,
}

#[derive(Clone, Copy)]
struct SiteTarget {
    endpoint: EndpointId,
    cum_weight: f64,
    edge: EdgeId,
    /// Client-state block for (caller service, target service, policy).
    client: u32,
    net: u32,
}

/// Per (caller, target service, policy): the client-side state of one caller replica
/// (or of the whole caller service with `scope: "service"`).
struct ClientBlock {
    target_service: ServiceId,
    lb: LoadBalancer,
    shared: bool,
    rng: Rng,
    slots: Vec<ClientSlot>,
}

struct ClientSlot {
    rr: u32,
    /// Outstanding attempts from this caller per target replica (only kept for the
    /// balancers that read it).
    outstanding: Vec<u32>,
    breaker: Option<CircuitBreaker>,
    budget: Option<RetryBudgetState>,
    outlier: Option<OutlierDetector>,
    bulk_in_use: u32,
    bulk_waiting: VecDeque<AttId>,
    /// `bulk_waiting`'s length at which the waiters that gave up are dropped.
    bulk_compact_at: usize,
    /// Breaker figures at the end of warm-up: (opened, open ns).
    breaker_warm: (u64, Nanos),
}

struct Net {
    from: ServiceId,
    to: ServiceId,
    latency: Option<Dist>,
    loss_p: f64,
    /// Extra loss from active `loss` faults.
    fault_loss_p: f64,
    /// Active partitions that cut this path.
    cut: u32,
    rng: Rng,
}

struct EpState {
    latency_rng: Rng,
    outcome_rng: Rng,
    work_rng: Rng,
    route_rng: Rng,
    steps: Vec<MStep>,
    work: Vec<Dist>,
    busy: u32,
    busy_area: Area,
}

/// The integral over time of a piecewise-constant count (busy workers), kept lazily.
#[derive(Clone, Copy, Default)]
struct Area {
    acc: f64,
    last: Nanos,
}

impl Area {
    #[inline]
    fn add(&mut self, now: Nanos, level: u32) {
        self.acc += level as f64 * (now - self.last) as f64;
        self.last = now;
    }
    fn at(&self, t: Nanos, level: u32) -> f64 {
        self.acc + level as f64 * t.saturating_sub(self.last) as f64
    }
}

struct WlState {
    rate: Option<RateFn>,
    /// The fraction of a nanosecond by which the last arrival's exact time lies past
    /// the nanosecond it was scheduled at (see `RateFn::next_after`).
    carry: f64,
    poisson: bool,
    arrival_rng: Rng,
    think_rng: Rng,
    think: Option<Dist>,
    interval_hist: LatencyHist,
    interval: Outcomes,
    interval_offered: u64,
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

struct SvcState {
    busy: u32,
    busy_area: Area,
    queued: u64,
}

/// Per-interval counters of endpoints (the time series).
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

/// Scheduler lanes of one policy's fixed delays (see `Scheduler::after_in_lane`).
#[derive(Clone, Copy, Default)]
struct PolicyLanes {
    timeout: u32,
    deadline: u32,
    hedge: u32,
}

struct World<'s> {
    spec: &'s Spec,
    sched: Scheduler<Ev>,
    lanes: Vec<PolicyLanes>,
    replicas: Vec<ReplicaState>,
    execs: Arena<Exec>,
    calls: Arena<Call>,
    attempts: Arena<Attempt>,
    sites: Vec<Site>,
    clients: Vec<ClientBlock>,
    nets: Vec<Net>,
    eps: Vec<EpState>,
    wls: Vec<WlState>,
    svcs: Vec<SvcState>,
    /// Client block of each workload.
    wl_client: Vec<u32>,
    /// Client blocks each edge uses (for its breaker figures).
    edge_clients: Vec<Vec<u32>>,
    /// Faults now active that act on executions (delay, slowdown, abort).
    active_exec_faults: Vec<u32>,
    /// Partitions now active.
    active_partitions: Vec<u32>,
    fault_rngs: Vec<Rng>,
    backoff_rng: Rng,
    /// The entity (message key) draw of each workload's requests.
    entity_rngs: Vec<Rng>,
    sagas: Arena<SagaRun>,
    saga_state: Vec<sagas::SagaDefState>,
    has_sagas: bool,
    needs_entities: bool,
    topics: Vec<TopicState>,
    groups: Vec<GroupState>,
    warmup: Nanos,
    end: Nanos,
    roots_in_flight: u64,
    fig: Figures,
    ep_tally: Vec<Tally>,
    edge_tally: Vec<EdgeTally>,
    series: Series,
    next_boundary: Nanos,
    interval_start: Nanos,
    warm_snap: Option<(Vec<f64>, Vec<f64>)>,
    interval_snap: (Vec<f64>, Vec<f64>),
    failure: Option<RunError>,
    violations: Vec<String>,
    /// The simulated instant of the last event, and how many events ran at it (to tell
    /// a zero-time loop from progress).
    instant: Nanos,
    instant_events: u64,
    /// Pending events at which stale timers are next dropped from the queue.
    compact_at: usize,
    /// Messages waiting in topic partitions (one per group) and outboxes.
    backlog: u64,
}

/// Pending events below which the queue is never compacted.
const COMPACT_MIN: usize = 1 << 16;

struct Figures {
    workloads: Vec<WorkloadFigures>,
    endpoints: Vec<EndpointFigures>,
    edges: Vec<EdgeFigures>,
    service_queue_max: Vec<u64>,
}

/// Runs the scenario to its end.
pub fn run(spec: &Spec) -> Result<RunOutput, RunError> {
    run_with_progress(spec, &|_| {})
}

/// Runs the scenario, calling `progress` with the share of simulated time done (0 to 1)
/// every million events or so: for a progress bar, never for the model's own use.
pub fn run_with_progress(spec: &Spec, progress: &dyn Fn(f64)) -> Result<RunOutput, RunError> {
    preflight(spec)?;
    let mut w = World::new(spec);
    w.start();
    w.main_loop(progress);
    if let Some(e) = w.failure.take() {
        return Err(e);
    }
    Ok(w.finish())
}

/// Checks, before anything is allocated, that the run's histograms and time series fit
/// the `limits` on series cells and on memory.
fn preflight(spec: &Spec) -> Result<(), RunError> {
    let layout = World::series_layout(spec);
    let columns = layout.columns.len() as u64;
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
    // One summary histogram per workload, endpoint, call edge, saga (and one per saga
    // outcome) and consumer group, plus a coarse one per workload for the series.
    let fine = LatencyHist::footprint_bytes(3);
    let coarse = LatencyHist::footprint_bytes(2);
    let groups: u64 = spec.topics.iter().map(|t| t.groups.len() as u64).sum();
    let n_fine = spec.workloads.len() as u64
        + spec.endpoints.len() as u64
        + spec.edges.len() as u64
        + 5 * spec.sagas.len() as u64
        + groups;
    let hist_bytes = n_fine * fine + spec.workloads.len() as u64 * coarse;
    // Each client slot keeps an outstanding count per target replica.
    let replicas = spec.replicas.len() as u64;
    let series_bytes = cells * 8 + intervals * 8;
    let total = hist_bytes + series_bytes + replicas * replicas.min(4096) * 4;
    let mib = total.div_ceil(1 << 20);
    let max_mib = spec.limits.max_memory_mib;
    if mib > max_mib {
        return Err(RunError::Limit(format!(
            "the run would need about {mib} MiB for its figures before it starts ({n_fine} latency \
             histograms of {} KiB each for {} workloads, {} endpoints, {} call edges, {} sagas and \
             {groups} consumer groups; {} MiB of time series), over /limits/max_memory_mib = {max_mib}; \
             simulate fewer of them in one scenario, or raise the limit",
            fine / 1024,
            spec.workloads.len(),
            spec.endpoints.len(),
            spec.edges.len(),
            spec.sagas.len(),
            series_bytes >> 20
        )));
    }
    Ok(())
}

impl<'s> World<'s> {
    fn new(spec: &'s Spec) -> World<'s> {
        let seed = spec.seed;
        let replicas = spec
            .replicas
            .iter()
            .map(|r| {
                let hc = spec.services[r.service as usize].health_check.as_ref();
                ReplicaState {
                    service: r.service,
                    busy: 0,
                    queue: VecDeque::new(),
                    stale: 0,
                    down: false,
                    ready: true,
                    epoch: 0,
                    liveness_restarting: false,
                    health: hc.map(|h| HealthState::new(h.unhealthy_after, h.healthy_after)),
                }
            })
            .collect();

        // Network paths per ordered (caller, callee) service pair.
        let mut net_index: BTreeMap<(ServiceId, ServiceId), u32> = BTreeMap::new();
        let mut nets = Vec::new();
        let mut net_for = |from: ServiceId, to: ServiceId, nets: &mut Vec<Net>| -> u32 {
            *net_index.entry((from, to)).or_insert_with(|| {
                let link = spec.network.links.iter().find(|l| l.from == from && l.to == to);
                let latency =
                    link.and_then(|l| l.latency.clone()).or_else(|| spec.network.default_latency.clone());
                let loss_p = link.map(|l| l.loss_p).unwrap_or(0.0);
                let name = format!(
                    "network/{}->{}",
                    spec.services[from as usize].name, spec.services[to as usize].name
                );
                nets.push(Net {
                    from,
                    to,
                    latency,
                    loss_p,
                    fault_loss_p: 0.0,
                    cut: 0,
                    rng: rng_stream(seed, &name),
                });
                (nets.len() - 1) as u32
            })
        };

        // Client-state blocks per (caller, target service, policy).
        let mut client_index: BTreeMap<(Option<ServiceId>, u32, ServiceId, Option<PolicyId>), u32> =
            BTreeMap::new();
        let mut clients: Vec<ClientBlock> = Vec::new();
        let mut client_for = |caller: Option<ServiceId>,
                              wl: u32,
                              target: ServiceId,
                              policy: Option<PolicyId>,
                              clients: &mut Vec<ClientBlock>|
         -> u32 {
            let key = (caller, if caller.is_some() { 0 } else { wl }, target, policy);
            *client_index.entry(key).or_insert_with(|| {
                let p = policy.map(|p| &spec.policies[p as usize]);
                let lb = p.map(|p| p.load_balancer).unwrap_or_default();
                let shared = p.map(|p| p.scope == crate::spec::Scope::Service).unwrap_or(false);
                let caller_name = match caller {
                    Some(s) => spec.services[s as usize].name.clone(),
                    None => format!("client:{}", spec.workloads[wl as usize].name),
                };
                let pname = p.map(|p| p.name.as_str()).unwrap_or("-");
                let name = format!("lb/{caller_name}->{}/{pname}", spec.services[target as usize].name);
                let n_slots = match caller {
                    Some(s) if !shared => spec.services[s as usize].replicas as usize,
                    _ => 1,
                };
                let needs_outstanding = matches!(lb, LoadBalancer::LeastOutstanding | LoadBalancer::P2c);
                let n_target = spec.services[target as usize].replicas;
                let slots = (0..n_slots)
                    .map(|_| ClientSlot {
                        rr: 0,
                        outstanding: if needs_outstanding { vec![0; n_target as usize] } else { Vec::new() },
                        breaker: p.and_then(|p| p.breaker.as_ref()).map(CircuitBreaker::new),
                        budget: p
                            .and_then(|p| p.retry.as_ref())
                            .and_then(|r| r.budget.as_ref())
                            .map(RetryBudgetState::new),
                        outlier: p
                            .and_then(|p| p.outlier.as_ref())
                            .map(|o| OutlierDetector::new(o, n_target)),
                        bulk_in_use: 0,
                        bulk_waiting: VecDeque::new(),
                        bulk_compact_at: 64,
                        breaker_warm: (0, 0),
                    })
                    .collect();
                clients.push(ClientBlock {
                    target_service: target,
                    lb,
                    shared,
                    rng: rng_stream(seed, &name),
                    slots,
                });
                (clients.len() - 1) as u32
            })
        };

        let mut sites = Vec::new();
        let mut eps = Vec::with_capacity(spec.endpoints.len());
        let mut edge_clients: Vec<Vec<u32>> = vec![Vec::new(); spec.edges.len()];
        for ep in &spec.endpoints {
            let caller = ep.service;
            let mut steps = Vec::new();
            let mut work = Vec::new();
            let mut compile_site = |cs: &CallSite,
                                    sites: &mut Vec<Site>,
                                    clients: &mut Vec<ClientBlock>,
                                    ec: &mut Vec<Vec<u32>>| {
                let targets = cs
                    .targets
                    .iter()
                    .map(|t| {
                        let tsvc = spec.endpoints[t.endpoint as usize].service;
                        let client = client_for(Some(caller), 0, tsvc, cs.policy, clients);
                        if !ec[t.edge as usize].contains(&client) {
                            ec[t.edge as usize].push(client);
                        }
                        SiteTarget {
                            endpoint: t.endpoint,
                            cum_weight: t.cum_weight,
                            edge: t.edge,
                            client,
                            net: net_for(caller, tsvc, &mut nets),
                        }
                    })
                    .collect();
                sites.push(Site { targets, policy: cs.policy, optional: cs.optional });
                (sites.len() - 1) as u32
            };
            for st in &ep.steps {
                match st {
                    Step::Work(d) => {
                        steps.push(MStep::Work(work.len() as u32));
                        work.push(d.clone());
                    }
                    Step::Call(cs) => {
                        let i = compile_site(cs, &mut sites, &mut clients, &mut edge_clients);
                        steps.push(MStep::Call(i));
                    }
                    Step::Publish { topic, outbox } => {
                        steps.push(MStep::Publish { topic: *topic, outbox: *outbox })
                    }
                    Step::Parallel(branches) => {
                        let first = sites.len() as u32;
                        for b in branches {
                            compile_site(b, &mut sites, &mut clients, &mut edge_clients);
                        }
                        steps.push(MStep::Parallel { first, len: branches.len() as u32 });
                    }
                }
            }
            eps.push(EpState {
                latency_rng: rng_stream(seed, &format!("latency/{}", ep.name)),
                outcome_rng: rng_stream(seed, &format!("outcome/{}", ep.name)),
                work_rng: rng_stream(seed, &format!("work/{}", ep.name)),
                route_rng: rng_stream(seed, &format!("route/{}", ep.name)),
                steps,
                work,
                busy: 0,
                busy_area: Area::default(),
            });
        }

        let mut wl_client = Vec::new();
        let mut wls = Vec::new();
        for (i, wl) in spec.workloads.iter().enumerate() {
            let tsvc = spec.endpoints[wl.target as usize].service;
            let client = client_for(None, i as u32, tsvc, wl.policy, &mut clients);
            wl_client.push(client);
            if !edge_clients[wl.edge as usize].contains(&client) {
                edge_clients[wl.edge as usize].push(client);
            }
            let (rate, poisson, think) = match &wl.arrival {
                Arrival::Poisson { rate_per_s } => (Some(RateFn::new(*rate_per_s, &wl.schedule)), true, None),
                Arrival::Constant { rate_per_s } => {
                    (Some(RateFn::new(*rate_per_s, &wl.schedule)), false, None)
                }
                Arrival::Closed { think, .. } => (None, false, Some(think.clone())),
            };
            wls.push(WlState {
                rate,
                carry: 0.0,
                poisson,
                arrival_rng: rng_stream(seed, &format!("arrivals/{}", wl.name)),
                think_rng: rng_stream(seed, &format!("think/{}", wl.name)),
                think,
                interval_hist: LatencyHist::with_sigfig(2),
                interval: Outcomes::default(),
                interval_offered: 0,
                in_flight: 0,
            });
        }

        let svcs = spec
            .services
            .iter()
            .map(|_| SvcState { busy: 0, busy_area: Area::default(), queued: 0 })
            .collect();

        let fig = Figures {
            workloads: spec.workloads.iter().map(|_| WorkloadFigures::default()).collect(),
            endpoints: spec.endpoints.iter().map(|_| EndpointFigures::default()).collect(),
            edges: spec.edges.iter().map(|_| EdgeFigures::default()).collect(),
            service_queue_max: vec![0; spec.services.len()],
        };
        let fault_rngs = (0..spec.faults.len()).map(|i| rng_stream(seed, &format!("fault/{i}"))).collect();
        let entity_rngs =
            spec.workloads.iter().map(|w| rng_stream(seed, &format!("entity/{}", w.name))).collect();
        // Saga calls: one client block and network path per step's action and
        // compensation, from the orchestrator.
        let saga_state = spec
            .sagas
            .iter()
            .map(|sg| {
                let orch = sg.orchestrator;
                let mut site = |ep: EndpointId, edge: EdgeId, clients: &mut Vec<ClientBlock>| {
                    let tsvc = spec.endpoints[ep as usize].service;
                    let client = client_for(Some(orch), 0, tsvc, sg.policy, clients);
                    if !edge_clients[edge as usize].contains(&client) {
                        edge_clients[edge as usize].push(client);
                    }
                    sagas::SagaSite { endpoint: ep, edge, client, net: net_for(orch, tsvc, &mut nets) }
                };
                let steps = sg
                    .steps
                    .iter()
                    .map(|st| {
                        let action = site(st.action, st.action_edge, &mut clients);
                        let comp = match (st.compensation, st.compensation_edge) {
                            (Some(c), Some(e)) => Some(site(c, e, &mut clients)),
                            _ => None,
                        };
                        (action, comp)
                    })
                    .collect();
                sagas::SagaDefState::new(steps)
            })
            .collect();
        let (topics, groups) = topics::build(spec);

        // One lane per distinct fixed delay: events in a lane are due in the order they
        // were scheduled.
        let mut sched = Scheduler::new();
        let mut lane_of: BTreeMap<Nanos, u32> = BTreeMap::new();
        let mut lane = |d: Option<Nanos>, sched: &mut Scheduler<Ev>| match d {
            Some(d) => *lane_of.entry(d).or_insert_with(|| sched.add_lane()),
            None => u32::MAX,
        };
        let lanes = spec
            .policies
            .iter()
            .map(|p| PolicyLanes {
                timeout: lane(p.timeout_ns, &mut sched),
                deadline: lane(p.deadline_ns, &mut sched),
                hedge: lane(p.hedge.map(|h| h.after_ns), &mut sched),
            })
            .collect();

        let series = Self::series_layout(spec);
        let n_eps = spec.endpoints.len();
        let n_svcs = spec.services.len();
        World {
            spec,
            sched,
            lanes,
            replicas,
            execs: Arena::default(),
            calls: Arena::default(),
            attempts: Arena::default(),
            sites,
            clients,
            nets,
            eps,
            wls,
            svcs,
            wl_client,
            edge_clients,
            active_exec_faults: Vec::new(),
            active_partitions: Vec::new(),
            fault_rngs,
            backoff_rng: rng_stream(seed, "backoff"),
            entity_rngs,
            sagas: Arena::default(),
            saga_state,
            has_sagas: !spec.sagas.is_empty(),
            needs_entities: spec.topics.iter().any(|t| matches!(t.key, KeyMode::Entities(_))),
            topics,
            groups,
            warmup: spec.warmup_ns,
            end: spec.duration_ns,
            roots_in_flight: 0,
            fig,
            ep_tally: vec![Tally::default(); n_eps],
            edge_tally: vec![EdgeTally::default(); spec.edges.len()],
            series,
            next_boundary: spec.interval_ns.min(spec.duration_ns),
            interval_start: 0,
            warm_snap: None,
            interval_snap: (vec![0.0; n_eps], vec![0.0; n_svcs]),
            failure: None,
            violations: Vec::new(),
            instant: 0,
            instant_events: 0,
            compact_at: COMPACT_MIN,
            backlog: 0,
        }
    }

    /// Column order of the time series: workloads, endpoints, calls, services, each in
    /// scenario order. `flush_interval` pushes values in exactly this order.
    fn series_layout(spec: &Spec) -> Series {
        let mut s = Series { interval_ns: spec.interval_ns, ..Default::default() };
        for wl in &spec.workloads {
            for m in ["offered", "ok", "degraded"] {
                s.add_column(Scope::Workload, &wl.name, m);
            }
            for c in Cause::ALL {
                s.add_column(Scope::Workload, &wl.name, &format!("failed_{}", c.name()));
            }
            for m in ["p50_ms", "p99_ms", "in_flight"] {
                s.add_column(Scope::Workload, &wl.name, m);
            }
        }
        for ep in &spec.endpoints {
            for m in ["requests", "ok", "failed", "utilization"] {
                s.add_column(Scope::Endpoint, &ep.name, m);
            }
        }
        for e in &spec.edges {
            for m in ["calls", "attempts", "retries", "hedges", "failed", "breaker_state"] {
                s.add_column(Scope::Call, &e.name, m);
            }
        }
        for sv in &spec.services {
            for m in ["busy", "queue_len", "utilization", "replicas_up"] {
                s.add_column(Scope::Service, &sv.name, m);
            }
        }
        for sg in &spec.sagas {
            for m in ["started", "completed", "compensated", "compensation_failed", "abandoned", "in_flight"]
            {
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
        s
    }

    fn start(&mut self) {
        for (i, wl) in self.spec.workloads.iter().enumerate() {
            match &wl.arrival {
                Arrival::Closed { users, .. } => {
                    // Each user starts after one think time, so that they do not all
                    // arrive at the same nanosecond.
                    for u in 0..*users {
                        let think = self.wls[i].draw_think();
                        self.sched.at(think, Ev::UserSend { wl: i as u32, user: u });
                    }
                }
                _ => self.schedule_next_arrival(i as u32),
            }
        }
        for (i, f) in self.spec.faults.iter().enumerate() {
            if f.start_ns < self.end {
                self.sched.at(f.start_ns, Ev::FaultStart { fault: i as u32 });
            }
            if f.end_ns < self.end && !matches!(f.kind, FaultKind::Crash { .. }) {
                self.sched.at(f.end_ns, Ev::FaultEnd { fault: i as u32 });
            }
        }
        self.start_groups();
        for (r, spec_r) in self.spec.replicas.iter().enumerate() {
            if let Some(hc) = &self.spec.services[spec_r.service as usize].health_check {
                self.sched.at(hc.interval_ns, Ev::Probe { replica: r as u32 });
            }
        }
    }

    fn schedule_next_arrival(&mut self, wl: u32) {
        let st = &mut self.wls[wl as usize];
        let Some(rate) = &st.rate else { return };
        let e = if st.poisson {
            let x: f64 = Exp1.sample(&mut st.arrival_rng);
            x
        } else {
            1.0
        };
        if let Some(t) = rate.next_after(self.sched.now(), &mut st.carry, e)
            && t < self.end
        {
            self.sched.at(t, Ev::Arrival { wl });
        }
    }

    fn main_loop(&mut self, progress: &dyn Fn(f64)) {
        let max_events = self.spec.limits.max_events;
        while let Some(t) = self.sched.peek_time() {
            if t >= self.end {
                break;
            }
            if t >= self.next_boundary || (t >= self.warmup && self.warm_snap.is_none()) {
                self.advance_to(t);
            }
            let Some((_, ev)) = self.sched.pop() else { break };
            if self.sched.processed() & 0xF_FFFF == 0 {
                progress(t as f64 / self.end as f64);
            }
            if t != self.instant {
                self.instant = t;
                self.instant_events = 0;
            }
            self.instant_events += 1;
            if self.instant_events > self.spec.limits.max_events_per_instant {
                self.failure = Some(RunError::Limit(format!(
                    "the run made no progress: {} events at the one instant {:.9} s, the last of them \
                     {}; a loop that takes no simulated time (zero latency and zero think time, \
                     or zero backoff against an instant failure) never ends. Give it a latency, a \
                     think time or a backoff, or raise /limits/max_events_per_instant",
                    self.instant_events,
                    t as f64 / 1e9,
                    self.describe(ev)
                )));
                return;
            }
            if self.sched.pending() > self.compact_at {
                self.compact_queue();
            }
            if self.sched.processed() > max_events {
                // A zero-time loop that reaches the event limit before the per-instant one
                // is named as such.
                let stuck = if self.instant_events >= 100_000 {
                    format!(
                        " (the last {} events all happened at this instant, the last of them {}: \
                         a loop that takes no simulated time?)",
                        self.instant_events,
                        self.describe(ev)
                    )
                } else {
                    String::new()
                };
                self.failure = Some(RunError::Limit(format!(
                    "the run reached its event limit ({max_events} events) at {:.3} s of simulated time{stuck}; \
                     raise /limits/max_events or shorten /duration",
                    self.sched.now() as f64 / 1e9
                )));
                return;
            }
            match ev {
                Ev::Arrival { wl } => {
                    self.schedule_next_arrival(wl);
                    self.start_root(wl, u32::MAX);
                }
                Ev::UserSend { wl, user } => self.start_root(wl, user),
                Ev::AttemptArrive { att } => self.attempt_arrive(att),
                Ev::ExecWake { exec } => self.exec_wake(exec),
                Ev::Response { att, outcome } => self.on_response(att, outcome),
                Ev::AttemptTimeout { att } => self.on_timeout(att),
                Ev::BulkheadExpire { att } => self.on_bulkhead_expire(att),
                Ev::Admit { att } => self.dispatch(att),
                Ev::RetryFire { call } => self.on_retry_fire(call),
                Ev::HedgeFire { call, try_no } => self.on_hedge_fire(call, try_no),
                Ev::CallDeadline { call } => self.on_deadline(call),
                Ev::FaultStart { fault } => self.fault_start(fault),
                Ev::FaultEnd { fault } => self.fault_end(fault),
                Ev::Restart { replica, epoch } => self.restart(replica, epoch),
                Ev::Probe { replica } => self.probe(replica),
                Ev::RelayTick { topic } => self.relay_tick(topic),
                Ev::ConsumerRetry { group, part, epoch } => self.consumer_retry(group, part, epoch),
                Ev::Rebalance { group } => self.rebalance(group),
                Ev::CommitTick { group, consumer, epoch } => self.commit_tick(group, consumer, epoch),
                Ev::SagaRetry { saga, epoch } => self.saga_retry(saga, epoch),
                Ev::ConsumerAnswer { group, part, epoch, outcome } => {
                    self.consumer_done(group, part, epoch, outcome)
                }
            }
            if self.failure.is_some() {
                return;
            }
        }
        self.advance_to(self.end);
    }

    /// Drops timers that can no longer act (the timeout of an attempt that was
    /// answered, the deadline of a call that ended), so that the queue's memory follows
    /// live work; then waits until the queue has doubled again (amortised O(1) per
    /// event). Dropping them changes nothing but the count of events processed.
    fn compact_queue(&mut self) {
        let (attempts, calls) = (&self.attempts, &self.calls);
        self.sched.compact(|ev| match *ev {
            Ev::AttemptTimeout { att } => {
                attempts.get(att).is_some_and(|a| !a.done && a.state == AttState::Sent)
            }
            Ev::BulkheadExpire { att } => {
                attempts.get(att).is_some_and(|a| !a.done && a.state == AttState::Waiting)
            }
            Ev::CallDeadline { call } | Ev::HedgeFire { call, .. } | Ev::RetryFire { call } => {
                calls.contains(call)
            }
            _ => true,
        });
        self.compact_at = (self.sched.pending() * 2).max(COMPACT_MIN);
    }

    /// An event in words, for the message of a run that stopped on it.
    fn describe(&self, ev: Ev) -> String {
        let spec = self.spec;
        let call_target = |call: CallId| {
            self.calls
                .get(call)
                .map(|c| format!("on the call to {}", spec.endpoints[c.target as usize].name))
                .unwrap_or_default()
        };
        let att_target = |att: AttId| {
            self.attempts
                .get(att)
                .map(|a| format!("of {}", spec.endpoints[a.endpoint as usize].name))
                .unwrap_or_default()
        };
        match ev {
            Ev::Arrival { wl } => format!("an arrival of workload `{}`", spec.workloads[wl as usize].name),
            Ev::UserSend { wl, .. } => {
                format!("a user of workload `{}` sending its next request", spec.workloads[wl as usize].name)
            }
            Ev::AttemptArrive { att } => format!("a request {} arriving", att_target(att)),
            Ev::ExecWake { exec } => self
                .execs
                .get(exec)
                .map(|e| format!("an execution of {} going on", spec.endpoints[e.endpoint as usize].name))
                .unwrap_or_else(|| "an execution going on".into()),
            Ev::Response { att, .. } => format!("an answer {}", att_target(att)),
            Ev::AttemptTimeout { att } => format!("a timeout {}", att_target(att)),
            Ev::BulkheadExpire { att } | Ev::Admit { att } => format!("a bulkhead wait {}", att_target(att)),
            Ev::RetryFire { call } => format!("a retry {}", call_target(call)),
            Ev::HedgeFire { call, .. } => format!("a hedge {}", call_target(call)),
            Ev::CallDeadline { call } => format!("a deadline {}", call_target(call)),
            Ev::FaultStart { fault } | Ev::FaultEnd { fault } => format!("fault {fault} starting or ending"),
            Ev::Restart { replica, .. } | Ev::Probe { replica } => format!(
                "a restart or probe of a replica of service `{}`",
                spec.services[spec.replicas[replica as usize].service as usize].name
            ),
            Ev::RelayTick { topic } => {
                format!("the outbox relay of topic `{}`", spec.topics[topic as usize].name)
            }
            Ev::ConsumerRetry { group, .. }
            | Ev::Rebalance { group }
            | Ev::CommitTick { group, .. }
            | Ev::ConsumerAnswer { group, .. } => format!("consumer group {}", self.group_name(group)),
            Ev::SagaRetry { saga, .. } => self
                .sagas
                .get(saga)
                .map(|s| format!("a retry of saga `{}`", spec.sagas[s.def() as usize].name))
                .unwrap_or_else(|| "a saga retry".into()),
        }
    }

    // ---- time series -------------------------------------------------------------

    /// Closes every interval that ends at or before `t`, and takes the warm-up snapshot
    /// once the clock reaches the end of warm-up. Called before the first event at or
    /// after either instant, so no event at or after it has been processed yet: the
    /// state still holds as it was at that instant.
    fn advance_to(&mut self, t: Nanos) {
        loop {
            let b = self.next_boundary;
            if self.warm_snap.is_none() && self.warmup <= b.min(t) {
                self.snapshot_warmup();
            }
            if b > t || self.interval_start >= self.end {
                break;
            }
            self.flush_interval(b);
            self.interval_start = b;
            self.next_boundary = b.saturating_add(self.spec.interval_ns).min(self.end);
            if b >= self.end {
                break;
            }
        }
    }

    fn snapshot_warmup(&mut self) {
        let w = self.warmup;
        let eps = self.eps.iter().map(|e| e.busy_area.at(w, e.busy)).collect();
        let svcs = self.svcs.iter().map(|s| s.busy_area.at(w, s.busy)).collect();
        self.warm_snap = Some((eps, svcs));
        for b in &mut self.clients {
            for s in &mut b.slots {
                if let Some(br) = &s.breaker {
                    s.breaker_warm = (br.opened(), br.open_ns(w));
                }
            }
        }
    }

    fn flush_interval(&mut self, b: Nanos) {
        let width = (b - self.interval_start) as f64;
        self.series.ends.push(b);
        let mut col = 0;
        let cols = &mut self.series.columns;
        let mut push = |v: f64| {
            cols[col].values.push(v);
            col += 1;
        };
        for st in self.wls.iter_mut() {
            push(st.interval_offered as f64);
            push(st.interval.ok as f64);
            push(st.interval.degraded as f64);
            for c in Cause::ALL {
                push(st.interval.failed[c as usize] as f64);
            }
            push(st.interval_hist.quantile_ms(0.5).unwrap_or(f64::NAN));
            push(st.interval_hist.quantile_ms(0.99).unwrap_or(f64::NAN));
            push(st.in_flight as f64);
            st.interval_offered = 0;
            st.interval = Outcomes::default();
            st.interval_hist.reset();
        }
        for (i, ep) in self.eps.iter().enumerate() {
            let t = &mut self.ep_tally[i];
            push(t.requests as f64);
            push(t.outcomes.ok as f64);
            push(t.outcomes.failed_total() as f64);
            let svc = &self.spec.services[self.spec.endpoints[i].service as usize];
            let cap = (svc.replicas as f64) * (svc.concurrency as f64) * width;
            let area = ep.busy_area.at(b, ep.busy);
            push(if cap > 0.0 { (area - self.interval_snap.0[i]) / cap } else { 0.0 });
            self.interval_snap.0[i] = area;
            *t = Tally::default();
        }
        for i in 0..self.spec.edges.len() {
            let t = self.edge_tally[i];
            push(t.calls as f64);
            push(t.attempts as f64);
            push(t.retries as f64);
            push(t.hedges as f64);
            push(t.failed as f64);
            // The most open breaker among the caller replicas' (0 closed, 1 half-open,
            // 2 open), as it stands at the end of the interval.
            let mut state = f64::NAN;
            for &c in &self.edge_clients[i] {
                for s in &self.clients[c as usize].slots {
                    if let Some(br) = &s.breaker {
                        let code = br.state().code() as f64;
                        state = if state.is_nan() { code } else { state.max(code) };
                    }
                }
            }
            push(state);
            self.edge_tally[i] = EdgeTally::default();
        }
        for (i, sv) in self.svcs.iter().enumerate() {
            let spec_svc = &self.spec.services[i];
            push(sv.busy as f64);
            push(sv.queued as f64);
            let cap = (spec_svc.replicas as f64) * (spec_svc.concurrency as f64) * width;
            let area = sv.busy_area.at(b, sv.busy);
            push(if cap > 0.0 { (area - self.interval_snap.1[i]) / cap } else { 0.0 });
            self.interval_snap.1[i] = area;
            let first = spec_svc.first_replica as usize;
            let up =
                self.replicas[first..first + spec_svc.replicas as usize].iter().filter(|r| !r.down).count();
            push(up as f64);
        }
        for st in self.saga_state.iter_mut() {
            for k in 0..5 {
                push(st.interval[k] as f64);
            }
            push(st.live as f64);
            st.interval = [0; 5];
        }
        for t in self.topics.iter_mut() {
            push(t.interval[0] as f64);
            push(t.interval[1] as f64);
            t.interval = [0; 2];
        }
        // Groups in topic order, as laid out.
        for t in 0..self.topics.len() {
            for k in 0..self.topics[t].groups_len() {
                let g = &mut self.groups[self.topics[t].group_at(k) as usize];
                push(g.interval[0] as f64);
                push(g.interval[1] as f64);
                push(g.interval[2] as f64);
                push(g.lag() as f64);
                g.interval = [0; 3];
            }
        }
        debug_assert_eq!(col, self.series.columns.len());
    }

    // ---- workload requests -------------------------------------------------------

    fn start_root(&mut self, wl: u32, user: u32) {
        let now = self.sched.now();
        if self.roots_in_flight >= self.spec.limits.max_in_flight as u64 {
            self.failure = Some(RunError::Limit(format!(
                "{} workload requests were in flight at once at {:.3} s of simulated time (the limit); \
                 the system is overloaded beyond recovery, or raise /limits/max_in_flight",
                self.roots_in_flight,
                now as f64 / 1e9
            )));
            return;
        }
        let w = &self.spec.workloads[wl as usize];
        let counted = now >= self.warmup;
        self.roots_in_flight += 1;
        let st = &mut self.wls[wl as usize];
        st.in_flight += 1;
        st.interval_offered += 1;
        if counted {
            self.fig.workloads[wl as usize].offered += 1;
        }
        // Entities only matter to topics keyed by entity: no draw otherwise.
        let entity: u32 = if self.needs_entities { self.entity_rngs[wl as usize].random() } else { 0 };
        if let Some(saga) = w.saga {
            return self.start_saga(wl, user, saga, entity);
        }
        let client = self.wl_client[wl as usize];
        self.start_call(
            Parent::Root { wl, user },
            w.target,
            w.edge,
            client,
            w.policy,
            false,
            NO_NET,
            0,
            entity,
        );
    }

    fn finish_root(&mut self, wl: u32, user: u32, started: Nanos, counted: bool, outcome: Outcome) {
        let now = self.sched.now();
        let latency = now - started;
        self.roots_in_flight -= 1;
        let st = &mut self.wls[wl as usize];
        st.in_flight -= 1;
        st.interval.record(outcome);
        st.interval_hist.record(latency);
        if counted {
            let f = &mut self.fig.workloads[wl as usize];
            f.outcomes.record(outcome);
            f.latency.record(latency);
        }
        if user != u32::MAX {
            let think = self.wls[wl as usize].draw_think();
            let at = now.saturating_add(think);
            if at < self.end {
                self.sched.at(at, Ev::UserSend { wl, user });
            }
        }
    }

    // ---- calls -------------------------------------------------------------------

    #[allow(clippy::too_many_arguments)]
    fn start_call(
        &mut self,
        parent: Parent,
        target: EndpointId,
        edge: EdgeId,
        client: u32,
        policy: Option<PolicyId>,
        optional: bool,
        net: u32,
        caller_slot: u32,
        entity: u32,
    ) {
        let now = self.sched.now();
        let counted = now >= self.warmup;
        let call = self.calls.insert(Call {
            parent,
            target,
            edge,
            client,
            caller_slot,
            net,
            policy,
            optional,
            counted,
            started: now,
            tries: 0,
            hedges: 0,
            prev_wait: 0,
            live: [AttId::NONE; MAX_LIVE],
            n_live: 0,
            backing_off: false,
            entity,
        });
        if counted {
            self.fig.edges[edge as usize].calls += 1;
        }
        self.edge_tally[edge as usize].calls += 1;
        if let Some(p) = policy {
            let pol = &self.spec.policies[p as usize];
            if let Some(d) = pol.deadline_ns {
                self.sched.after_in_lane(self.lanes[p as usize].deadline, d, Ev::CallDeadline { call });
            }
            if pol.retry.as_ref().is_some_and(|r| r.budget.is_some()) {
                let slot = self.slot_mut(client, caller_slot);
                if let Some(b) = &mut slot.budget {
                    b.on_first_attempt(now);
                }
            }
        }
        self.send_try(call);
    }

    /// Sends the next try of a call (the first or a retry), and arms its hedge timer.
    fn send_try(&mut self, call_id: CallId) {
        let Some(call) = self.calls.get_mut(call_id) else { return };
        call.tries = call.tries.saturating_add(1);
        call.backing_off = false;
        let try_no = call.tries;
        let policy = call.policy;
        self.send_attempt(call_id);
        if let Some(p) = policy
            && let Some(h) = &self.spec.policies[p as usize].hedge
            && self.calls.get(call_id).is_some_and(|c| c.n_live > 0)
        {
            self.sched.after_in_lane(
                self.lanes[p as usize].hedge,
                h.after_ns,
                Ev::HedgeFire { call: call_id, try_no },
            );
        }
    }

    #[inline]
    fn slot_mut(&mut self, client: u32, caller_slot: u32) -> &mut ClientSlot {
        let block = &mut self.clients[client as usize];
        let ix = if block.shared { 0 } else { caller_slot as usize % block.slots.len() };
        &mut block.slots[ix]
    }

    /// Creates an attempt of the call and sends it through the breaker, the bulkhead
    /// and the balancer (resilience4j's order: Retry(CircuitBreaker(Bulkhead(call)))).
    fn send_attempt(&mut self, call_id: CallId) {
        let now = self.sched.now();
        let Some(call) = self.calls.get(call_id) else { return };
        let (client, caller_slot, net, endpoint, policy, entity, parent) =
            (call.client, call.caller_slot, call.net, call.target, call.policy, call.entity, call.parent);
        let effect = match parent {
            Parent::Saga { saga, step, comp, .. } => Some(EffectTag::new(saga, step, comp)),
            _ => None,
        };
        let att = self.attempts.insert(Attempt {
            call: call_id,
            endpoint,
            replica: 0,
            caller_slot,
            client,
            net,
            state: AttState::Waiting,
            sent_at: now,
            done: false,
            may_respond: true,
            permit: false,
            breaker: false,
            outstanding: false,
            exec: None,
            entity,
            effect,
            late: None,
        });
        if let Some(tag) = effect {
            self.saga_track_attempt(tag, att);
        }
        if let Some(c) = self.calls.get_mut(call_id)
            && (c.n_live as usize) < MAX_LIVE
        {
            c.live[c.n_live as usize] = att;
            c.n_live += 1;
        }
        let Some(p) = policy else {
            return self.dispatch(att);
        };
        let pol = &self.spec.policies[p as usize];
        let slot = self.slot_mut(client, caller_slot);
        if let Some(br) = &mut slot.breaker {
            if !br.try_acquire(now) {
                return self.fail_local(att, Cause::CircuitOpen);
            }
            if let Some(a) = self.attempts.get_mut(att) {
                a.breaker = true;
            }
        }
        if let Some(bh) = &pol.bulkhead {
            let block = &mut self.clients[client as usize];
            let ix = if block.shared { 0 } else { caller_slot as usize % block.slots.len() };
            let slot = &mut block.slots[ix];
            if slot.bulk_in_use < bh.max_concurrent {
                slot.bulk_in_use += 1;
                if let Some(a) = self.attempts.get_mut(att) {
                    a.permit = true;
                }
            } else if bh.max_wait_ns == Some(0) {
                return self.fail_local(att, Cause::BulkheadFull);
            } else {
                if slot.bulk_waiting.len() >= slot.bulk_compact_at {
                    // Drop the waiters that gave up, so that memory follows live ones.
                    let attempts = &self.attempts;
                    slot.bulk_waiting.retain(|w| {
                        attempts.get(*w).is_some_and(|a| !a.done && a.state == AttState::Waiting)
                    });
                    slot.bulk_compact_at = (slot.bulk_waiting.len() * 2).max(64);
                }
                slot.bulk_waiting.push_back(att);
                if let Some(w) = bh.max_wait_ns {
                    self.sched.after(w, Ev::BulkheadExpire { att });
                }
                return;
            }
        }
        self.dispatch(att);
    }

    /// Refuses an attempt without sending it; the answer is delivered as an event so
    /// that no handler re-enters the one that made the call.
    fn fail_local(&mut self, att: AttId, cause: Cause) {
        if let Some(a) = self.attempts.get_mut(att) {
            a.state = AttState::Local;
        }
        self.sched.after(0, Ev::Response { att, outcome: Outcome::Failed(cause) });
    }

    /// Picks a replica and puts the attempt on the wire.
    fn dispatch(&mut self, att: AttId) {
        let now = self.sched.now();
        let Some(a) = self.attempts.get(att) else { return };
        let (client, caller_slot, net, call_id) = (a.client, a.caller_slot, a.net, a.call);
        let Some(replica) = self.pick_replica(client, caller_slot) else {
            return self.fail_local(att, Cause::Unavailable);
        };
        let Some(call) = self.calls.get(call_id) else { return };
        let (edge, counted, policy) = (call.edge, call.counted, call.policy);
        if counted {
            self.fig.edges[edge as usize].attempts += 1;
        }
        self.edge_tally[edge as usize].attempts += 1;
        let a = self.attempts.get_mut(att).expect("attempt checked above");
        a.replica = replica;
        a.outstanding = true;
        a.state = AttState::Sent;
        a.sent_at = now;
        if let Some(p) = policy
            && let Some(t) = self.spec.policies[p as usize].timeout_ns
        {
            self.sched.after_in_lane(self.lanes[p as usize].timeout, t, Ev::AttemptTimeout { att });
        }
        if net == NO_NET {
            // A workload's client has no network hop: the request is at the replica now.
            self.attempt_arrive(att);
        } else if let Some(d) = self.net_delay(net) {
            self.sched.after(d, Ev::AttemptArrive { att });
        } else if let Some(a) = self.attempts.get_mut(att) {
            // Lost: the caller learns of it only through its timeout.
            a.may_respond = false;
        }
    }

    /// The delay of one message on a path, or `None` if the message is lost (link loss,
    /// a `loss` fault, or a partition).
    fn net_delay(&mut self, net: u32) -> Option<Nanos> {
        let n = &mut self.nets[net as usize];
        if n.cut > 0 {
            return None;
        }
        let loss = n.loss_p + n.fault_loss_p;
        if loss > 0.0 && n.rng.random::<f64>() < loss {
            return None;
        }
        Some(n.latency.as_ref().map(|d| d.sample(&mut n.rng)).unwrap_or(0))
    }

    /// The balancer's choice among the target service's replicas that are ready and
    /// not ejected by this caller's outlier detector; `None` if there is none.
    fn pick_replica(&mut self, client: u32, caller_slot: u32) -> Option<ReplicaId> {
        let now = self.sched.now();
        let block = &mut self.clients[client as usize];
        let svc = &self.spec.services[block.target_service as usize];
        let n = svc.replicas;
        let first = svc.first_replica;
        let slot_ix = if block.shared { 0 } else { caller_slot as usize % block.slots.len() };
        let slot = &mut block.slots[slot_ix];
        let replicas = &self.replicas;
        let eligible = |r: u32, slot: &mut ClientSlot| -> bool {
            replicas[(first + r) as usize].ready
                && !slot.outlier.as_mut().is_some_and(|o| o.is_ejected(r, now))
        };
        let local = match block.lb {
            LoadBalancer::RoundRobin => {
                let mut found = None;
                for _ in 0..n {
                    let r = slot.rr % n;
                    slot.rr = slot.rr.wrapping_add(1);
                    if eligible(r, slot) {
                        found = Some(r);
                        break;
                    }
                }
                found?
            }
            LoadBalancer::Random => {
                let r = block.rng.random_range(0..n);
                if eligible(r, slot) {
                    r
                } else {
                    // Fall back to the next eligible one after the draw.
                    (1..n).map(|k| (r + k) % n).find(|&x| eligible(x, slot))?
                }
            }
            LoadBalancer::LeastOutstanding => {
                // Fewest outstanding; ties go round robin so that no replica is favoured.
                let start = slot.rr % n;
                slot.rr = slot.rr.wrapping_add(1);
                let mut best: Option<u32> = None;
                for k in 0..n {
                    let r = (start + k) % n;
                    if eligible(r, slot)
                        && best.is_none_or(|b| slot.outstanding[r as usize] < slot.outstanding[b as usize])
                    {
                        best = Some(r);
                    }
                }
                best?
            }
            LoadBalancer::P2c => {
                let a = block.rng.random_range(0..n);
                let b = if n > 1 {
                    let b = block.rng.random_range(0..n - 1);
                    if b >= a { b + 1 } else { b }
                } else {
                    a
                };
                match (eligible(a, slot), eligible(b, slot)) {
                    (true, true) => {
                        if slot.outstanding[b as usize] < slot.outstanding[a as usize] {
                            b
                        } else {
                            a
                        }
                    }
                    (true, false) => a,
                    (false, true) => b,
                    (false, false) => (0..n).find(|&x| eligible(x, slot))?,
                }
            }
        };
        if !slot.outstanding.is_empty() {
            slot.outstanding[local as usize] += 1;
        }
        Some(first + local)
    }

    /// Gives back what a finished (or abandoned) attempt held on the client side: its
    /// outstanding count, its bulkhead permit (admitting the next waiter), its breaker
    /// permission when no result is recorded.
    fn release_attempt(&mut self, att: AttId, breaker_result: Option<(bool, Nanos)>) {
        let now = self.sched.now();
        let Some(a) = self.attempts.get_mut(att) else { return };
        let (client, caller_slot, replica, state) = (a.client, a.caller_slot, a.replica, a.state);
        let had_permit = std::mem::replace(&mut a.permit, false);
        let had_breaker = std::mem::replace(&mut a.breaker, false);
        let was_outstanding = std::mem::replace(&mut a.outstanding, false);
        let block = &mut self.clients[client as usize];
        let first = self.spec.services[block.target_service as usize].first_replica;
        let ix = if block.shared { 0 } else { caller_slot as usize % block.slots.len() };
        let slot = &mut block.slots[ix];
        if was_outstanding && !slot.outstanding.is_empty() {
            let o = &mut slot.outstanding[(replica - first) as usize];
            *o = o.saturating_sub(1);
        }
        if had_breaker && let Some(br) = &mut slot.breaker {
            match breaker_result {
                Some((failure, dur)) => br.on_result(now, failure, dur),
                None => br.release(now),
            }
        }
        // A waiter that gives up stays in `bulk_waiting` until it reaches the head (the
        // admission below skips it) or the queue is compacted in `send_attempt`.
        let _ = state;
        if had_permit {
            slot.bulk_in_use -= 1;
            let na_policy_bulkhead = self
                .attempts
                .get(att)
                .and_then(|a| self.calls.get(a.call))
                .and_then(|c| c.policy)
                .and_then(|p| self.spec.policies[p as usize].bulkhead.as_ref())
                .map(|b| b.max_concurrent);
            let slot = &mut self.clients[client as usize].slots[ix];
            // Admit the longest waiter still wanted.
            while let Some(next) = slot.bulk_waiting.pop_front() {
                if let Some(na) = self.attempts.get_mut(next)
                    && !na.done
                    && na.state == AttState::Waiting
                {
                    na.permit = true;
                    let slot = &mut self.clients[client as usize].slots[ix];
                    slot.bulk_in_use += 1;
                    if let Some(bh) = na_policy_bulkhead
                        && slot.bulk_in_use > bh
                    {
                        self.violations.push("a bulkhead admitted more than max_concurrent".into());
                    }
                    // Sent from its own event, so that a chain of waiters answered at
                    // once cannot recurse through this function.
                    self.sched.after(0, Ev::Admit { att: next });
                    break;
                }
            }
        }
    }

    fn on_bulkhead_expire(&mut self, att: AttId) {
        let Some(a) = self.attempts.get(att) else { return };
        if a.state != AttState::Waiting || a.done {
            return;
        }
        // `fail_local` makes it `Local`: the admission skips it when it reaches the head.
        self.fail_local(att, Cause::BulkheadFull);
    }

    fn on_timeout(&mut self, att: AttId) {
        let now = self.sched.now();
        let Some(a) = self.attempts.get_mut(att) else { return };
        if a.done || a.state != AttState::Sent {
            return;
        }
        a.done = true;
        let (call, replica, client, slot, sent_at) = (a.call, a.replica, a.client, a.caller_slot, a.sent_at);
        self.release_attempt(att, Some((true, now - sent_at)));
        self.outlier_result(client, slot, replica, true);
        self.cancel_if_asked(att, call);
        self.attempt_result(call, att, Outcome::Failed(Cause::Timeout));
    }

    fn on_response(&mut self, att: AttId, outcome: Outcome) {
        let now = self.sched.now();
        let Some(a) = self.attempts.get(att) else { return };
        if a.done {
            // The caller had stopped waiting: the callee's work was wasted.
            self.attempts.remove(att);
            return;
        }
        let (call, replica, client, slot, sent_at, state) =
            (a.call, a.replica, a.client, a.caller_slot, a.sent_at, a.state);
        let failure = matches!(
            outcome,
            Outcome::Failed(Cause::Timeout | Cause::Error | Cause::Unavailable | Cause::Rejected)
        );
        if state == AttState::Sent {
            self.release_attempt(att, Some((failure, now - sent_at)));
            self.outlier_result(client, slot, replica, failure);
        } else {
            self.release_attempt(att, None);
        }
        self.attempts.remove(att);
        self.attempt_result(call, att, outcome);
    }

    fn outlier_result(&mut self, client: u32, caller_slot: u32, replica: ReplicaId, error: bool) {
        let now = self.sched.now();
        let block = &mut self.clients[client as usize];
        let first = self.spec.services[block.target_service as usize].first_replica;
        let ix = if block.shared { 0 } else { caller_slot as usize % block.slots.len() };
        if let Some(o) = &mut block.slots[ix].outlier {
            o.on_result(replica - first, now, error);
        }
    }

    /// With `cancel_on_timeout`, an abandoned attempt's work is dropped by the callee
    /// (the deadline was propagated), queued or running.
    fn cancel_if_asked(&mut self, att: AttId, call: CallId) {
        let policy = self.calls.get(call).and_then(|c| c.policy);
        let Some(p) = policy else { return };
        if !self.spec.policies[p as usize].cancel_on_timeout {
            return;
        }
        let Some(exec) = self.attempts.get(att).and_then(|a| a.exec) else { return };
        if self.execs.contains(exec) {
            self.cancel_exec(exec);
        }
    }

    /// One attempt of a call answered (or failed locally, or timed out).
    fn attempt_result(&mut self, call_id: CallId, att: AttId, outcome: Outcome) {
        let Some(call) = self.calls.get_mut(call_id) else { return };
        call.remove_live(att);
        let policy = call.policy.map(|p| &self.spec.policies[p as usize]);
        match outcome {
            Outcome::Ok { .. } => {
                self.abandon_live(call_id);
                self.complete_call(call_id, outcome);
            }
            Outcome::Failed(cause) => {
                let retry = policy.and_then(|p| p.retry.as_ref());
                let retry_on = retry.map(|r| r.retry_on).unwrap_or_else(CauseSet::default_retry_on);
                let retryable = retry_on.contains(cause);
                if retryable && call.n_live > 0 {
                    // Hedged attempts are still out: the first good answer wins.
                    return;
                }
                self.abandon_live(call_id);
                let Some(call) = self.calls.get_mut(call_id) else { return };
                if let Some(r) = retry
                    && retryable
                    && call.tries < r.max_attempts
                {
                    let now = self.sched.now();
                    let (client, caller_slot, edge, counted) =
                        (call.client, call.caller_slot, call.edge, call.counted);
                    let allowed = match &mut self.slot_mut(client, caller_slot).budget {
                        Some(b) => b.try_retry(now),
                        None => true,
                    };
                    if allowed {
                        let call = self.calls.get_mut(call_id).expect("call checked above");
                        let wait = retry_wait(
                            &r.backoff,
                            r.jitter,
                            call.tries,
                            &mut call.prev_wait,
                            &mut self.backoff_rng,
                        );
                        call.backing_off = true;
                        if counted {
                            self.fig.edges[edge as usize].retries += 1;
                        }
                        self.edge_tally[edge as usize].retries += 1;
                        self.sched.after(wait, Ev::RetryFire { call: call_id });
                        return;
                    }
                }
                self.complete_call(call_id, outcome);
            }
        }
    }

    /// The caller stops waiting for every attempt still out (a winner answered, the
    /// deadline passed, or the call gave up).
    fn abandon_live(&mut self, call_id: CallId) {
        let Some(call) = self.calls.get_mut(call_id) else { return };
        let n = call.n_live as usize;
        let live = call.live;
        call.n_live = 0;
        for &att in &live[..n] {
            let Some(a) = self.attempts.get_mut(att) else { continue };
            a.done = true;
            let (state, may_respond) = (a.state, a.may_respond);
            self.release_attempt(att, None);
            self.cancel_if_asked(att, call_id);
            if state != AttState::Sent || !may_respond {
                // No answer will come to free it (a local refusal's event finds it gone).
                if state != AttState::Local {
                    self.attempts.remove(att);
                }
            }
        }
    }

    fn on_retry_fire(&mut self, call_id: CallId) {
        let Some(c) = self.calls.get(call_id) else { return };
        if !c.backing_off {
            return;
        }
        if !self.caller_alive(c.parent) {
            // The caller died while it waited (its replica crashed): nobody retries.
            return self.complete_call(call_id, Outcome::Failed(Cause::Unavailable));
        }
        self.send_try(call_id);
    }

    /// Whether whoever made a call can still act on it.
    fn caller_alive(&self, parent: Parent) -> bool {
        match parent {
            Parent::Root { .. } => true,
            Parent::Exec { exec } => self.execs.contains(exec),
            Parent::Saga { saga, epoch, .. } => self.saga_waits(saga, epoch),
        }
    }

    fn on_hedge_fire(&mut self, call_id: CallId, try_no: u32) {
        let Some(call) = self.calls.get_mut(call_id) else { return };
        let Some(h) = call.policy.and_then(|p| self.spec.policies[p as usize].hedge.as_ref()) else { return };
        if call.tries != try_no || call.n_live == 0 || call.hedges >= h.max_extra {
            return;
        }
        let parent = call.parent;
        if !self.caller_alive(parent) {
            return;
        }
        let Some(call) = self.calls.get_mut(call_id) else { return };
        if call.n_live as usize >= MAX_LIVE {
            return;
        }
        call.hedges += 1;
        let (edge, counted, after, lane) = (
            call.edge,
            call.counted,
            h.after_ns,
            call.policy.map_or(u32::MAX, |p| self.lanes[p as usize].hedge),
        );
        let more = call.hedges < h.max_extra;
        if counted {
            self.fig.edges[edge as usize].hedges += 1;
        }
        self.edge_tally[edge as usize].hedges += 1;
        self.send_attempt(call_id);
        if more {
            self.sched.after_in_lane(lane, after, Ev::HedgeFire { call: call_id, try_no });
        }
    }

    fn on_deadline(&mut self, call_id: CallId) {
        if !self.calls.contains(call_id) {
            return;
        }
        let live: Vec<AttId> = {
            let c = self.calls.get(call_id).expect("checked");
            c.live[..c.n_live as usize].to_vec()
        };
        // Attempts still out time out with the call: their breaker sees a failure.
        let now = self.sched.now();
        for att in live {
            if let Some(a) = self.attempts.get(att)
                && a.state == AttState::Sent
                && !a.done
            {
                let (replica, client, slot, sent_at) = (a.replica, a.client, a.caller_slot, a.sent_at);
                self.release_attempt(att, Some((true, now - sent_at)));
                self.outlier_result(client, slot, replica, true);
            }
        }
        self.abandon_live(call_id);
        self.complete_call(call_id, Outcome::Failed(Cause::Timeout));
    }

    fn complete_call(&mut self, call_id: CallId, outcome: Outcome) {
        let Some(call) = self.calls.remove(call_id) else {
            self.violations.push(format!("call {call_id:?} ended twice"));
            return;
        };
        let now = self.sched.now();
        if call.counted {
            let e = &mut self.fig.edges[call.edge as usize];
            e.outcomes.record(outcome);
            e.latency.record(now - call.started);
        }
        if !outcome.is_ok() {
            self.edge_tally[call.edge as usize].failed += 1;
        }
        match call.parent {
            Parent::Root { wl, user } => self.finish_root(wl, user, call.started, call.counted, outcome),
            Parent::Exec { exec } => self.child_done(exec, outcome, call.optional),
            Parent::Saga { saga, step, comp, epoch } => self.saga_call_done(saga, step, comp, epoch, outcome),
        }
    }

    // ---- executions --------------------------------------------------------------

    fn attempt_arrive(&mut self, att: AttId) {
        let Some(a) = self.attempts.get(att) else { return };
        // The caller may have given up already: the request still arrives and is
        // served, since the callee cannot know.
        let (replica, endpoint, entity) = (a.replica, a.endpoint, a.entity);
        self.arrive(Origin::Attempt(att), endpoint, replica, entity);
    }

    /// A request (or a message to handle) reaches a replica: refused if it is down,
    /// failed by an active `abort`, else served, queued or rejected.
    fn arrive(&mut self, origin: Origin, endpoint: EndpointId, replica: ReplicaId, entity: u32) {
        let now = self.sched.now();
        let counted = now >= self.warmup;
        if counted {
            self.fig.endpoints[endpoint as usize].requests += 1;
        }
        self.ep_tally[endpoint as usize].requests += 1;
        if self.replicas[replica as usize].down {
            // Connection refused.
            self.record_exec_end(endpoint, counted, now, Outcome::Failed(Cause::Unavailable));
            return self.answer(origin, Outcome::Failed(Cause::Unavailable), endpoint, counted);
        }
        if !self.active_exec_faults.is_empty() && self.aborted(endpoint, replica) {
            self.record_exec_end(endpoint, counted, now, Outcome::Failed(Cause::Error));
            return self.answer(origin, Outcome::Failed(Cause::Error), endpoint, counted);
        }
        let r = &mut self.replicas[replica as usize];
        let svc = &self.spec.services[r.service as usize];
        let exec = Exec {
            endpoint,
            replica,
            origin,
            entity,
            arrived: now,
            step: STEP_OWN,
            pending: 0,
            degraded: false,
            running: false,
            counted,
        };
        if self.execs.len() >= self.spec.limits.max_executions as usize {
            self.failure = Some(RunError::Limit(format!(
                "{} executions were alive at once on the replicas at {:.3} s of simulated time \
                 (queued, running, or still working for callers that gave up: the limit); \
                 the system is overloaded beyond recovery (bound the queues with a capacity or \
                 a timeout), or raise /limits/max_executions",
                self.execs.len(),
                now as f64 / 1e9
            )));
            return;
        }
        if r.busy < svc.concurrency {
            let id = self.execs.insert(exec);
            self.link_exec(origin, id);
            self.start_exec(id);
        } else if ((r.queue.len() - r.stale as usize) as u64) < svc.queue.capacity as u64 {
            let id = self.execs.insert(exec);
            r.queue.push_back(id);
            let qlen = (r.queue.len() - r.stale as usize) as u64;
            let service = r.service;
            self.svcs[service as usize].queued += 1;
            let f = &mut self.fig.endpoints[endpoint as usize];
            if counted && qlen > f.queue_max {
                f.queue_max = qlen;
            }
            if counted && qlen > self.fig.service_queue_max[service as usize] {
                self.fig.service_queue_max[service as usize] = qlen;
            }
            if qlen > svc.queue.capacity as u64 {
                self.violations.push(format!("queue of replica {replica} beyond its capacity"));
            }
            self.link_exec(origin, id);
        } else {
            // Full queue: rejected without taking a worker.
            self.record_exec_end(endpoint, counted, now, Outcome::Failed(Cause::Rejected));
            self.answer(origin, Outcome::Failed(Cause::Rejected), endpoint, counted);
        }
    }

    #[inline]
    fn link_exec(&mut self, origin: Origin, exec: ExecId) {
        if let Origin::Attempt(att) = origin
            && let Some(a) = self.attempts.get_mut(att)
        {
            a.exec = Some(exec);
        }
    }

    /// Whether an active `abort` fault fails this request at once.
    fn aborted(&mut self, endpoint: EndpointId, replica: ReplicaId) -> bool {
        for k in 0..self.active_exec_faults.len() {
            let i = self.active_exec_faults[k] as usize;
            if let FaultKind::Abort { target, p } = &self.spec.faults[i].kind
                && self.fault_hits(*target, endpoint, replica)
                && self.fault_rngs[i].random::<f64>() < *p
            {
                return true;
            }
        }
        false
    }

    fn fault_hits(&self, target: FaultTarget, endpoint: EndpointId, replica: ReplicaId) -> bool {
        match target {
            FaultTarget::Service(s) => self.spec.endpoints[endpoint as usize].service == s,
            FaultTarget::Replica(r) => r == replica,
            FaultTarget::Endpoint(e) => e == endpoint,
        }
    }

    /// A service time under the active `slowdown` and `delay` faults.
    fn faulted_duration(
        &mut self,
        base: Nanos,
        endpoint: EndpointId,
        replica: ReplicaId,
        own: bool,
    ) -> Nanos {
        let mut d = base as f64;
        let mut extra: Nanos = 0;
        for k in 0..self.active_exec_faults.len() {
            let i = self.active_exec_faults[k] as usize;
            match &self.spec.faults[i].kind {
                FaultKind::Slowdown { target, factor } if self.fault_hits(*target, endpoint, replica) => {
                    d *= factor;
                }
                FaultKind::Delay { target, latency, p }
                    if own && self.fault_hits(*target, endpoint, replica) =>
                {
                    let rng = &mut self.fault_rngs[i];
                    if *p >= 1.0 || rng.random::<f64>() < *p {
                        extra = extra.saturating_add(latency.sample(rng));
                    }
                }
                _ => {}
            }
        }
        (d.round().min(1.8e19) as Nanos).saturating_add(extra)
    }

    /// Gives a worker to an execution (it was just admitted or taken from the queue).
    fn start_exec(&mut self, id: ExecId) {
        let now = self.sched.now();
        let Some(e) = self.execs.get_mut(id) else { return };
        let r = &mut self.replicas[e.replica as usize];
        let svc = &self.spec.services[r.service as usize];
        if let Some(qt) = svc.queue.timeout_ns
            && now - e.arrived > qt
        {
            // Stale work is dropped unserved, as servers that check a deadline before
            // starting do; the worker stays free for the next one.
            let (endpoint, counted, arrived, origin) = (e.endpoint, e.counted, e.arrived, e.origin);
            self.execs.remove(id);
            self.record_exec_end(endpoint, counted, arrived, Outcome::Failed(Cause::Rejected));
            self.answer(origin, Outcome::Failed(Cause::Rejected), endpoint, counted);
            return;
        }
        r.busy += 1;
        if r.busy > svc.concurrency {
            self.violations.push(format!("replica {} has more busy workers than its concurrency", e.replica));
        }
        e.running = true;
        let (service, endpoint, replica) = (r.service, e.endpoint, e.replica);
        let s = &mut self.svcs[service as usize];
        s.busy_area.add(now, s.busy);
        s.busy += 1;
        let ep = &mut self.eps[endpoint as usize];
        ep.busy_area.add(now, ep.busy);
        ep.busy += 1;
        let mut d = self.spec.endpoints[endpoint as usize].latency.sample(&mut ep.latency_rng);
        if !self.active_exec_faults.is_empty() {
            d = self.faulted_duration(d, endpoint, replica, true);
        }
        self.sched.after(d, Ev::ExecWake { exec: id });
    }

    fn exec_wake(&mut self, id: ExecId) {
        let Some(e) = self.execs.get_mut(id) else { return };
        let endpoint = e.endpoint;
        if e.step == STEP_OWN {
            let spec_ep = &self.spec.endpoints[endpoint as usize];
            if spec_ep.error_p > 0.0 || spec_ep.decline_p > 0.0 {
                let u: f64 = self.eps[endpoint as usize].outcome_rng.random();
                if u < spec_ep.error_p {
                    return self.finish_exec(id, Outcome::Failed(Cause::Error));
                }
                if u < spec_ep.error_p + spec_ep.decline_p {
                    return self.finish_exec(id, Outcome::Failed(Cause::Declined));
                }
            }
            e.step = 0;
        } else {
            e.step += 1;
        }
        self.run_steps(id);
    }

    /// Runs steps from the current one until one has to wait, or the end.
    fn run_steps(&mut self, id: ExecId) {
        let Some(e) = self.execs.get_mut(id) else { return };
        let (endpoint, replica) = (e.endpoint, e.replica);
        let ep = &mut self.eps[endpoint as usize];
        let Some(&step) = ep.steps.get(e.step as usize) else {
            let degraded = e.degraded;
            return self.finish_exec(id, Outcome::Ok { degraded });
        };
        match step {
            MStep::Publish { topic, outbox } => self.publish_step(id, topic, outbox),
            MStep::Work(work_ix) => {
                let mut d = ep.work[work_ix as usize].sample(&mut ep.work_rng);
                if !self.active_exec_faults.is_empty() {
                    d = self.faulted_duration(d, endpoint, replica, false);
                }
                self.sched.after(d, Ev::ExecWake { exec: id });
            }
            MStep::Call(site) => {
                e.pending = 1;
                self.start_site_call(id, site);
            }
            MStep::Parallel { first, len } => {
                e.pending = len as u16;
                for s in first..first + len {
                    // A required branch may have failed at once and ended the execution.
                    if !self.execs.contains(id) {
                        return;
                    }
                    self.start_site_call(id, s);
                }
            }
        }
    }

    fn start_site_call(&mut self, exec: ExecId, site_ix: u32) {
        let Some(e) = self.execs.get(exec) else { return };
        let caller_slot = self.spec.replicas[e.replica as usize].index;
        let (endpoint, entity) = (e.endpoint, e.entity);
        let site = &self.sites[site_ix as usize];
        let t = if site.targets.len() == 1 {
            site.targets[0]
        } else {
            let u: f64 = self.eps[endpoint as usize].route_rng.random();
            *site.targets.iter().find(|t| u < t.cum_weight).unwrap_or(&site.targets[site.targets.len() - 1])
        };
        let (policy, optional) = (site.policy, site.optional);
        self.start_call(
            Parent::Exec { exec },
            t.endpoint,
            t.edge,
            t.client,
            policy,
            optional,
            t.net,
            caller_slot,
            entity,
        );
    }

    fn child_done(&mut self, id: ExecId, outcome: Outcome, optional: bool) {
        let Some(e) = self.execs.get_mut(id) else {
            // The execution already ended (another required branch failed first, its
            // replica crashed, or it was cancelled).
            return;
        };
        e.pending -= 1;
        match outcome {
            Outcome::Ok { degraded } => e.degraded |= degraded,
            Outcome::Failed(_) if optional => e.degraded = true,
            Outcome::Failed(cause) => {
                // A failed required step ends the execution at once: the service
                // answers `declined` if the step was declined and `error` otherwise.
                let c = if cause == Cause::Declined { Cause::Declined } else { Cause::Error };
                return self.finish_exec(id, Outcome::Failed(c));
            }
        }
        if e.pending == 0 {
            e.step += 1;
            self.run_steps(id);
        }
    }

    fn record_exec_end(&mut self, endpoint: EndpointId, counted: bool, arrived: Nanos, outcome: Outcome) {
        self.ep_tally[endpoint as usize].outcomes.record(outcome);
        if counted {
            let f = &mut self.fig.endpoints[endpoint as usize];
            f.outcomes.record(outcome);
            f.latency.record(self.sched.now() - arrived);
        }
    }

    /// Frees the worker an execution held and admits queued work until one gets a
    /// worker (stale ones are dropped in turn by `start_exec`).
    fn free_worker(&mut self, replica: ReplicaId, endpoint: EndpointId) {
        let now = self.sched.now();
        let r = &mut self.replicas[replica as usize];
        r.busy -= 1;
        let service = r.service;
        let s = &mut self.svcs[service as usize];
        s.busy_area.add(now, s.busy);
        s.busy -= 1;
        let ep = &mut self.eps[endpoint as usize];
        ep.busy_area.add(now, ep.busy);
        ep.busy -= 1;
        let concurrency = self.spec.services[service as usize].concurrency;
        // Admit until the workers are full or the queue is empty. The condition is read
        // afresh each time: whatever a dropped execution's answer set off may already
        // have taken the free worker (this loop must never count on being the only one
        // to fill it).
        loop {
            let r = &mut self.replicas[replica as usize];
            if r.down || r.busy >= concurrency {
                return;
            }
            let next = match self.spec.services[service as usize].queue.discipline {
                Discipline::Fifo => r.queue.pop_front(),
                Discipline::Lifo => r.queue.pop_back(),
            };
            let Some(n) = next else { return };
            if !self.execs.contains(n) {
                // Cancelled while it waited.
                r.stale -= 1;
                continue;
            }
            self.svcs[service as usize].queued -= 1;
            self.start_exec(n);
        }
    }

    fn finish_exec(&mut self, id: ExecId, outcome: Outcome) {
        let Some(e) = self.execs.remove(id) else { return };
        self.record_exec_end(e.endpoint, e.counted, e.arrived, outcome);
        if outcome.is_ok()
            && self.has_sagas
            && let Origin::Attempt(att) = e.origin
            && let Some(a) = self.attempts.get(att)
        {
            // The ground truth of a saga: the callee did the work, whether or not the
            // orchestrator is still waiting for it.
            match (a.effect, a.late) {
                (Some(tag), _) => self.saga_effect(tag),
                (None, Some(late)) => self.saga_late_effect(late),
                (None, None) => {}
            }
        }
        match e.origin {
            // An execution that ran to its end answers its consumer at once, after giving
            // its worker back (so the partition's next message finds it free, as it would
            // in a real consumer): that answer can start the next message, which only
            // arrives and waits for an event of its own, so nothing recurses. Answers
            // that come straight out of an arrival go through `answer`, as events.
            Origin::Consumer { group, part, epoch } => {
                if e.running {
                    self.free_worker(e.replica, e.endpoint);
                }
                self.consumer_done(group, part, epoch, outcome);
            }
            Origin::Attempt(_) => {
                self.answer(e.origin, outcome, e.endpoint, e.counted);
                if e.running {
                    self.free_worker(e.replica, e.endpoint);
                }
            }
        }
    }

    /// The callee drops an execution whose caller gave up (`cancel_on_timeout`).
    fn cancel_exec(&mut self, id: ExecId) {
        let Some(e) = self.execs.remove(id) else { return };
        self.record_exec_end(e.endpoint, e.counted, e.arrived, Outcome::Failed(Cause::Timeout));
        match e.origin {
            Origin::Attempt(att) => {
                self.attempts.remove(att);
            }
            Origin::Consumer { group, part, epoch } => self.sched.after(
                0,
                Ev::ConsumerAnswer { group, part, epoch, outcome: Outcome::Failed(Cause::Timeout) },
            ),
        }
        if e.running {
            self.free_worker(e.replica, e.endpoint);
        } else {
            // Left in the queue as a stale id (see `ReplicaState::queue`); compacted once
            // stale ids outnumber live ones, so memory follows live work.
            let r = &mut self.replicas[e.replica as usize];
            r.stale += 1;
            self.svcs[r.service as usize].queued -= 1;
            if r.stale as usize > 64 && r.stale as usize * 2 > r.queue.len() {
                let execs = &self.execs;
                r.queue.retain(|q| execs.contains(*q));
                r.stale = 0;
            }
        }
    }

    /// Sends an execution's answer to whoever waits for it.
    fn answer(&mut self, origin: Origin, outcome: Outcome, endpoint: EndpointId, counted: bool) {
        match origin {
            Origin::Attempt(att) => self.respond(att, outcome, endpoint, counted),
            Origin::Consumer { group, part, epoch } => {
                self.sched.after(0, Ev::ConsumerAnswer { group, part, epoch, outcome })
            }
        }
    }

    /// Sends an execution's answer back to the attempt's caller.
    fn respond(&mut self, att: AttId, outcome: Outcome, endpoint: EndpointId, counted: bool) {
        let Some(a) = self.attempts.get_mut(att) else { return };
        a.exec = None;
        if a.done {
            // Nobody is waiting: count the wasted work and free the attempt now,
            // rather than carry the answer over the network for nothing.
            if counted {
                self.fig.endpoints[endpoint as usize].abandoned += 1;
            }
            self.attempts.remove(att);
            return;
        }
        let net = a.net;
        if net == NO_NET {
            self.on_response(att, outcome);
            return;
        }
        match self.net_delay(net) {
            Some(d) => self.sched.after(d, Ev::Response { att, outcome }),
            None => {
                // The answer is lost; the caller's timeout will free the attempt.
                if let Some(a) = self.attempts.get_mut(att) {
                    a.may_respond = false;
                }
            }
        }
    }

    // ---- faults and health -------------------------------------------------------

    fn fault_start(&mut self, fault: u32) {
        let f = &self.spec.faults[fault as usize];
        match &f.kind {
            FaultKind::Delay { .. } | FaultKind::Slowdown { .. } | FaultKind::Abort { .. } => {
                self.active_exec_faults.push(fault);
            }
            FaultKind::Crash { replica, restart_after_ns } => {
                let epoch = self.kill(*replica);
                if let Some(d) = restart_after_ns {
                    self.sched.after(*d, Ev::Restart { replica: *replica, epoch });
                }
            }
            FaultKind::Partition { .. } => {
                self.active_partitions.push(fault);
                self.apply_partition(fault, 1);
            }
            FaultKind::Loss { from, to, p } => {
                for n in &mut self.nets {
                    if n.from == *from && n.to == *to {
                        n.fault_loss_p += p;
                    }
                }
            }
            FaultKind::Outage { topic } => self.outage_start(*topic),
        }
    }

    fn fault_end(&mut self, fault: u32) {
        let f = &self.spec.faults[fault as usize];
        match &f.kind {
            FaultKind::Delay { .. } | FaultKind::Slowdown { .. } | FaultKind::Abort { .. } => {
                self.active_exec_faults.retain(|x| *x != fault);
            }
            FaultKind::Crash { .. } => {}
            FaultKind::Partition { .. } => {
                self.active_partitions.retain(|x| *x != fault);
                self.apply_partition(fault, -1);
            }
            FaultKind::Loss { from, to, p } => {
                for n in &mut self.nets {
                    if n.from == *from && n.to == *to {
                        n.fault_loss_p = (n.fault_loss_p - p).max(0.0);
                    }
                }
            }
            FaultKind::Outage { topic } => self.outage_end(*topic),
        }
    }

    fn apply_partition(&mut self, fault: u32, delta: i32) {
        let FaultKind::Partition { a, b } = &self.spec.faults[fault as usize].kind else { return };
        for n in &mut self.nets {
            let across =
                (a.contains(&n.from) && b.contains(&n.to)) || (b.contains(&n.from) && a.contains(&n.to));
            if across {
                n.cut = n.cut.saturating_add_signed(delta);
            }
        }
    }

    fn partitioned(&self, x: ServiceId, y: ServiceId) -> bool {
        self.active_partitions.iter().any(|&f| match &self.spec.faults[f as usize].kind {
            FaultKind::Partition { a, b } => {
                (a.contains(&x) && b.contains(&y)) || (b.contains(&x) && a.contains(&y))
            }
            _ => false,
        })
    }

    /// A replica dies: everything it held fails with `unavailable` (the callers see the
    /// connection reset), and new connections are refused until it restarts.
    /// Returns the downtime epoch (the current one if the replica was already down).
    fn kill(&mut self, replica: ReplicaId) -> u32 {
        if self.replicas[replica as usize].down {
            return self.replicas[replica as usize].epoch;
        }
        let now = self.sched.now();
        self.replicas[replica as usize].down = true;
        self.replicas[replica as usize].epoch += 1;
        // First the consumers and orchestrators it hosted lose what they held, so that
        // the failures of its executions below reach nobody who still counts on them.
        self.sagas_on_crash(replica);
        self.consumers_on_crash(replica);
        let victims: Vec<ExecId> =
            self.execs.iter().filter(|(_, e)| e.replica == replica).map(|(id, _)| id).collect();
        for id in victims {
            let Some(e) = self.execs.remove(id) else { continue };
            if e.running {
                let r = &mut self.replicas[replica as usize];
                r.busy -= 1;
                let s = &mut self.svcs[r.service as usize];
                s.busy_area.add(now, s.busy);
                s.busy -= 1;
                let ep = &mut self.eps[e.endpoint as usize];
                ep.busy_area.add(now, ep.busy);
                ep.busy -= 1;
            }
            self.record_exec_end(e.endpoint, e.counted, e.arrived, Outcome::Failed(Cause::Unavailable));
            self.answer(e.origin, Outcome::Failed(Cause::Unavailable), e.endpoint, e.counted);
        }
        let r = &mut self.replicas[replica as usize];
        let n = (r.queue.len() - r.stale as usize) as u64;
        r.queue.clear();
        r.stale = 0;
        let service = r.service;
        self.svcs[service as usize].queued -= n;
        self.replicas[replica as usize].epoch
    }

    fn restart(&mut self, replica: ReplicaId, epoch: u32) {
        let r = &mut self.replicas[replica as usize];
        if r.epoch == epoch && r.down {
            r.down = false;
            r.liveness_restarting = false;
            self.sagas_on_restart(replica);
            self.consumers_on_restart(replica);
        }
    }

    /// A health probe: it fails when the replica is down, or (with `depends_on`) when a
    /// dependency has no live replica or is cut off by a partition. Probes are served
    /// outside the worker pool, as health endpoints usually are.
    fn probe(&mut self, replica: ReplicaId) {
        let svc_id = self.replicas[replica as usize].service;
        let Some(hc) = &self.spec.services[svc_id as usize].health_check else { return };
        let mut ok = !self.replicas[replica as usize].down;
        for &dep in &hc.depends_on {
            let d = &self.spec.services[dep as usize];
            let first = d.first_replica as usize;
            let any_up = self.replicas[first..first + d.replicas as usize].iter().any(|r| !r.down);
            if !any_up || self.partitioned(svc_id, dep) {
                ok = false;
            }
        }
        let (probe, restart_after, interval) = (hc.probe, hc.restart_after_ns, hc.interval_ns);
        let r = &mut self.replicas[replica as usize];
        if let Some(h) = &mut r.health
            && let Some(healthy) = h.on_probe(ok)
        {
            match probe {
                Probe::Readiness => r.ready = healthy,
                Probe::Liveness => {
                    if !healthy && !r.liveness_restarting {
                        // Kubernetes kills the container and starts it again.
                        r.liveness_restarting = true;
                        let epoch = self.kill(replica);
                        self.sched.after(restart_after, Ev::Restart { replica, epoch });
                        if let Some(h) = &mut self.replicas[replica as usize].health {
                            *h = HealthState::new(
                                self.spec.services[svc_id as usize]
                                    .health_check
                                    .as_ref()
                                    .map_or(3, |h| h.unhealthy_after),
                                self.spec.services[svc_id as usize]
                                    .health_check
                                    .as_ref()
                                    .map_or(2, |h| h.healthy_after),
                            );
                        }
                    }
                }
            }
        }
        self.sched.after(interval, Ev::Probe { replica });
    }

    // ---- the end -----------------------------------------------------------------

    fn finish(mut self) -> RunOutput {
        let spec = self.spec;
        let end = self.end;
        let window_ns = end.saturating_sub(self.warmup) as f64;
        let warm =
            self.warm_snap.clone().unwrap_or_else(|| (vec![0.0; self.eps.len()], vec![0.0; self.svcs.len()]));
        for (i, ep) in self.eps.iter().enumerate() {
            let svc = &spec.services[spec.endpoints[i].service as usize];
            let cap = svc.replicas as f64 * svc.concurrency as f64 * window_ns;
            let area = ep.busy_area.at(end, ep.busy) - warm.0[i];
            self.fig.endpoints[i].utilization = if cap > 0.0 { area / cap } else { 0.0 };
        }
        let mut services = Vec::new();
        for (i, sv) in self.svcs.iter().enumerate() {
            let s = &spec.services[i];
            let cap = s.replicas as f64 * s.concurrency as f64 * window_ns;
            let area = sv.busy_area.at(end, sv.busy) - warm.1[i];
            services.push(ServiceFigures {
                utilization: if cap > 0.0 { area / cap } else { 0.0 },
                queue_max: self.fig.service_queue_max[i],
            });
        }
        // Breaker figures per edge: summed over the caller replicas' breakers.
        for (i, blocks) in self.edge_clients.iter().enumerate() {
            let mut opened = 0;
            let mut open_ns = 0;
            for &c in blocks {
                for s in &self.clients[c as usize].slots {
                    if let Some(br) = &s.breaker {
                        opened += br.opened() - s.breaker_warm.0;
                        open_ns += br.open_ns(end) - s.breaker_warm.1;
                        for (_, from, to) in br.transitions() {
                            if !is_legal(*from, *to) {
                                self.violations
                                    .push(format!("illegal breaker transition {from:?} -> {to:?}"));
                            }
                        }
                    }
                }
            }
            self.fig.edges[i].breaker_opened = opened;
            self.fig.edges[i].breaker_open_s = open_ns as f64 / 1e9;
        }
        // Workload requests still running at the end.
        for (_, c) in self.calls.iter() {
            if let Parent::Root { wl, .. } = c.parent
                && c.counted
            {
                self.fig.workloads[wl as usize].in_flight += 1;
            }
        }
        let sagas = self.saga_figures();
        let topics = self.topic_figures();
        self.check_invariants();
        RunOutput {
            window_s: window_ns / 1e9,
            events: self.sched.processed(),
            workloads: self.fig.workloads,
            endpoints: self.fig.endpoints,
            edges: self.fig.edges,
            services,
            sagas,
            topics,
            series: self.series,
            violations: self.violations,
        }
    }

    fn check_invariants(&mut self) {
        for (i, f) in self.fig.workloads.iter().enumerate() {
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
            if f.outcomes.ok + f.outcomes.failed_total() != f.latency.count() {
                self.violations.push(format!("workload {i}: latency count differs from ended"));
            }
        }
        for (i, r) in self.replicas.iter().enumerate() {
            let svc = &self.spec.services[r.service as usize];
            let queued = (r.queue.len() - r.stale as usize) as u64;
            if r.busy > svc.concurrency || queued > svc.queue.capacity as u64 {
                self.violations.push(format!("replica {i} over its bounds at the end"));
            }
        }
        let backlog = self.backlog_recount();
        if backlog != self.backlog {
            self.violations.push(format!("backlog counted {} but {backlog} messages wait", self.backlog));
        }
        let roots = self.calls.iter().filter(|(_, c)| matches!(c.parent, Parent::Root { .. })).count() as u64
            + self.sagas.len() as u64;
        if roots != self.roots_in_flight {
            self.violations
                .push(format!("{} root calls live but {} counted in flight", roots, self.roots_in_flight));
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// M/M/c with one shared queue, built by hand (the scenario parser has its own tests).
    pub fn mmc_spec(c: u32, rate_per_ms: f64, mean_ms: f64, duration_s: u64) -> Spec {
        Spec {
            name: "mmc".into(),
            description: String::new(),
            variant: None,
            seed: 42,
            duration_ns: duration_s * NS_PER_S,
            warmup_ns: NS_PER_S,
            interval_ns: NS_PER_S,
            limits: Limits::default(),
            services: vec![Service {
                name: "server".into(),
                kind: ServiceKind::Service,
                replicas: 1,
                first_replica: 0,
                concurrency: c,
                queue: QueueSpec::default(),
                endpoints: vec![0],
                health_check: None,
            }],
            endpoints: vec![Endpoint {
                name: "server.serve".into(),
                service: 0,
                latency: Dist::Exponential { mean: mean_ms * 1e6 },
                error_p: 0.0,
                decline_p: 0.0,
                steps: vec![],
            }],
            replicas: vec![Replica { service: 0, index: 0 }],
            policies: vec![],
            edges: vec![Edge { caller: None, target: 0, name: "client:customers->server.serve".into() }],
            network: Network::default(),
            workloads: vec![Workload {
                name: "customers".into(),
                target: 0,
                edge: 0,
                saga: None,
                arrival: Arrival::Poisson { rate_per_s: rate_per_ms * 1000.0 },
                schedule: vec![],
                policy: None,
            }],
            faults: vec![],
            topics: vec![],
            sagas: vec![],
        }
    }

    /// A smoke test of a hand-built spec: the run keeps its invariants and conserves
    /// requests. (The Erlang C check, with a tolerance from the sample, is in
    /// `tests/it/closed_forms.rs`.)
    #[test]
    fn a_hand_built_mm4_runs_and_conserves_requests() {
        let spec = mmc_spec(4, 3.2, 1.0, 20);
        let out = run(&spec).unwrap();
        assert!(out.violations.is_empty(), "{:?}", out.violations);
        let w = &out.workloads[0];
        assert!(w.offered > 50_000);
        assert_eq!(w.offered, w.outcomes.ended() + w.in_flight);
        assert_eq!(out.events, run(&spec).unwrap().events, "same spec, same events");
    }
}
