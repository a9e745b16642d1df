//! The resolved scenario: what the model runs on.
//!
//! `scenario` turns the user's JSON into this form in one pass: names become dense ids,
//! durations become integer nanoseconds, percentages become probabilities in `0..=1`.
//! The model never sees a string name (except to label output) or a float duration.
//!
//! Ids are plain `u32` indices into the vectors of [`Spec`]; their order is the order in
//! which the scenario file lists things, so anything that iterates them (output tables,
//! the time series) follows the file.

use crate::dist::Dist;

pub use crate::time::{NS_PER_S, Nanos};

pub type ServiceId = u32;
pub type EndpointId = u32;
pub type ReplicaId = u32;
pub type PolicyId = u32;
pub type EdgeId = u32;
pub type WorkloadId = u32;
pub type TopicId = u32;
pub type SagaId = u32;
pub type CacheId = u32;
pub type QueueId = u32;

/// How a request, attempt or call ended. The failure causes are exactly those of the
/// summary contract (README.md, under Commands), in its order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Cause {
    Timeout = 0,
    Rejected = 1,
    Unavailable = 2,
    CircuitOpen = 3,
    BulkheadFull = 4,
    Error = 5,
    Declined = 6,
    /// Refused by a rate limiter (HTTP 429; docs/scenario-format.md, Rate limits).
    RateLimited = 7,
}

impl Cause {
    pub const COUNT: usize = 8;
    pub const ALL: [Cause; 8] = [
        Cause::Timeout,
        Cause::Rejected,
        Cause::Unavailable,
        Cause::CircuitOpen,
        Cause::BulkheadFull,
        Cause::Error,
        Cause::Declined,
        Cause::RateLimited,
    ];

    /// The name used in the summary JSON, the CSV (`failed_<name>`) and the scenario
    /// (`retry_on`).
    pub fn name(self) -> &'static str {
        match self {
            Cause::Timeout => "timeout",
            Cause::Rejected => "rejected",
            Cause::Unavailable => "unavailable",
            Cause::CircuitOpen => "circuit_open",
            Cause::BulkheadFull => "bulkhead_full",
            Cause::Error => "error",
            Cause::Declined => "declined",
            Cause::RateLimited => "rate_limited",
        }
    }

    pub fn from_name(s: &str) -> Option<Cause> {
        Cause::ALL.iter().copied().find(|c| c.name() == s)
    }

    pub fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

// A cause is one bit of a `CauseSet`: a new cause past the width must widen the set,
// not shift a bit out of it.
const _: () = assert!(Cause::COUNT <= 8 * std::mem::size_of::<CauseSet>());

/// A set of causes as a bit mask (`retry_on`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CauseSet(pub u16);

impl CauseSet {
    pub fn contains(self, c: Cause) -> bool {
        self.0 & c.bit() != 0
    }
    pub fn insert(&mut self, c: Cause) {
        self.0 |= c.bit();
    }
    /// The default of `retry_on`: timeout, unavailable, error, rejected.
    pub fn default_retry_on() -> CauseSet {
        CauseSet(Cause::Timeout.bit() | Cause::Unavailable.bit() | Cause::Error.bit() | Cause::Rejected.bit())
    }
}

/// The whole resolved scenario.
#[derive(Clone, Debug)]
pub struct Spec {
    pub name: String,
    pub description: String,
    /// The variant applied, if any (reported in the summary).
    pub variant: Option<String>,
    pub seed: u64,
    /// Simulated length of the run, warm-up included.
    pub duration_ns: Nanos,
    /// Left out of every summary figure; time series keep it.
    pub warmup_ns: Nanos,
    /// Width of one time-series bucket (default 1 s).
    pub interval_ns: Nanos,
    pub limits: Limits,
    pub services: Vec<Service>,
    pub endpoints: Vec<Endpoint>,
    /// One entry per replica of every service, services in order, replicas in order:
    /// replica `i` of service `s` is `services[s].first_replica + i`.
    pub replicas: Vec<Replica>,
    pub policies: Vec<Policy>,
    /// Call edges, one per (caller service, target endpoint) pair that some step or
    /// workload names, in order of first appearance. Workload clients are callers too:
    /// their edges have `caller: None`.
    pub edges: Vec<Edge>,
    pub network: Network,
    pub workloads: Vec<Workload>,
    pub faults: Vec<Fault>,
    /// Topics in file order.
    pub topics: Vec<Topic>,
    /// Sagas in file order.
    pub sagas: Vec<Saga>,
    /// The `cache` steps, in the order their endpoints and steps are listed (an
    /// `on_miss` list's cache steps after the step that holds them).
    pub caches: Vec<Cache>,
    /// The objectives, in file order (scopes in order, then each scope's expressions).
    pub thresholds: Vec<Threshold>,
    /// Work queues in file order (`model/queues.rs`).
    pub queues: Vec<Queue>,
}

/// Bounds on the run. Reaching one ends the run with a named error, never a hang or an
/// out-of-memory.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Most events the run may process (default 2,000,000,000).
    pub max_events: u64,
    /// Most workload requests in flight at once (default 1,000,000).
    pub max_in_flight: u32,
    /// Most executions alive at once on all replicas together: queued, running, or
    /// still working for a caller that stopped waiting (default 2,000,000).
    pub max_executions: u32,
    /// Most messages waiting at once in all topic partitions and outboxes together
    /// (default 10,000,000).
    pub max_backlog: u64,
    /// Most messages held at once by all work queues and their outboxes together
    /// (default 10,000,000).
    pub max_queued: u64,
    /// Most events processed at one simulated instant before the run is declared stuck
    /// in a zero-time loop (default 10,000,000).
    pub max_events_per_instant: u64,
    /// Most cells (intervals × columns) the time series may hold (default 5,000,000).
    pub max_series_points: u64,
    /// Most memory, in MiB, the run's histograms and series may take, estimated before
    /// anything is allocated (default 4096).
    pub max_memory_mib: u64,
}

impl Limits {
    /// The keys of the scenario's `limits` object, in the order of the format page.
    pub const KEYS: [&'static str; 8] = [
        "max_events",
        "max_in_flight",
        "max_executions",
        "max_backlog",
        "max_queued",
        "max_events_per_instant",
        "max_series_points",
        "max_memory_mib",
    ];
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_events: 2_000_000_000,
            max_in_flight: 1_000_000,
            max_executions: 2_000_000,
            max_backlog: 10_000_000,
            max_queued: 10_000_000,
            max_events_per_instant: 10_000_000,
            max_series_points: 5_000_000,
            max_memory_mib: 4096,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ServiceKind {
    #[default]
    Service,
    Database,
    Cache,
    Broker,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Discipline {
    #[default]
    Fifo,
    Lifo,
}

#[derive(Clone, Debug)]
pub struct Service {
    pub name: String,
    pub kind: ServiceKind,
    /// Number of replicas (at least 1; default 1).
    pub replicas: u32,
    pub first_replica: ReplicaId,
    /// Workers per replica (at least 1; default 1).
    pub concurrency: u32,
    pub queue: QueueSpec,
    /// This service's endpoints, in file order.
    pub endpoints: Vec<EndpointId>,
    pub health_check: Option<HealthCheck>,
    /// Envoy's adaptive concurrency filter, one controller per replica.
    pub adaptive: Option<crate::policy::adaptive::Adaptive>,
    /// Kubernetes' HPA; `replicas` is then its `max_replicas` slots.
    pub autoscale: Option<crate::policy::hpa::Autoscale>,
    /// Envoy's local rate limit, one bucket per replica (a token bucket only).
    pub rate_limit: Option<RateLimit>,
    /// The Retry-After a rate-limited answer of this service carries.
    pub retry_after_ns: Option<Nanos>,
    /// Load shedding at each replica (`model/servers/shed.rs`); `None`: never sheds.
    pub shed: Option<Shed>,
}

/// A request's criticality, as gRPC's (Google's) `critical`, `default` and
/// `sheddable`: set by a workload, carried by every call made while serving it. The
/// order is the order of importance (`Critical` first).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum Priority {
    Critical = 0,
    #[default]
    Default = 1,
    Sheddable = 2,
}

impl Priority {
    pub fn name(self) -> &'static str {
        match self {
            Priority::Critical => "critical",
            Priority::Default => "default",
            Priority::Sheddable => "sheddable",
        }
    }
}

/// How a service's replicas shed load (docs/scenario-format.md, Load shedding).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Shed {
    /// CoDel's target, simplified: at dequeue, while the next request has waited longer
    /// than this, queued requests are dropped, lowest priority first.
    QueueDelay { target_ns: Nanos },
    /// At arrival: `sheddable` refused when busy workers are at least this percentage of
    /// the replica's workers; `default` when every worker is busy and requests already
    /// wait; `critical` never.
    Utilization { percent: f64 },
}

#[derive(Clone, Copy, Debug)]
pub struct QueueSpec {
    /// Most requests waiting per replica; `u32::MAX` when unbounded (the default).
    pub capacity: u32,
    pub discipline: Discipline,
    /// A request that waited longer than this when a worker takes it is dropped unserved
    /// and answered `rejected`.
    pub timeout_ns: Option<Nanos>,
}

impl Default for QueueSpec {
    fn default() -> Self {
        QueueSpec { capacity: u32::MAX, discipline: Discipline::Fifo, timeout_ns: None }
    }
}

#[derive(Clone, Debug)]
pub struct Replica {
    pub service: ServiceId,
    /// Zero-based index within its service (`payment#1` has index 1).
    pub index: u32,
}

#[derive(Clone, Debug)]
pub struct Endpoint {
    /// Full name, `service.endpoint`.
    pub name: String,
    pub service: ServiceId,
    /// The endpoint's own service time.
    pub latency: Dist,
    /// Probability that an execution ends in a server error (after its own latency).
    pub error_p: f64,
    /// Probability that an execution ends in a business refusal (after its own latency).
    pub decline_p: f64,
    pub steps: Vec<Step>,
}

#[derive(Clone, Debug)]
pub enum Step {
    /// Hold the worker for a duration drawn from the distribution.
    Work(Dist),
    /// One synchronous call (`call` or `route`).
    Call(CallSite),
    /// Calls made at once; the step waits for all of them. A failed branch that is not
    /// `optional` fails the step at once; a failed optional branch degrades the response.
    Parallel(Vec<CallSite>),
    /// Hands a message to a topic's broker: waits for the acknowledgement (and fails if
    /// the broker is unreachable), or with `outbox` writes it locally for the relay.
    Publish { topic: TopicId, outbox: bool },
    /// Sends a message to a work queue: as `Publish`, with the queue's broker.
    Enqueue { queue: QueueId, outbox: bool },
    /// A cache-aside read (`spec.caches[cache]`): a hit ends the step; a miss (or a
    /// cache error under `OnCacheError::Miss`) runs `on_miss`, then the populate call.
    Cache { cache: CacheId, on_miss: Vec<Step> },
}

/// An endpoint's steps with the `on_miss` steps of its cache steps after each (nested
/// ones too), in program order.
pub fn flat_steps(steps: &[Step]) -> Vec<&Step> {
    let mut out = Vec::new();
    for s in steps {
        out.push(s);
        if let Step::Cache { on_miss, .. } = s {
            out.extend(flat_steps(on_miss));
        }
    }
    out
}

impl Spec {
    /// Whether a workload sets a priority or a service sheds: only then does the
    /// summary have `priorities` and the series a `shed` column per workload.
    pub fn has_priorities(&self) -> bool {
        self.workloads.iter().any(|w| w.priority.is_some()) || self.services.iter().any(|s| s.shed.is_some())
    }

    /// The call sites of one step: a call's, a parallel step's branches, and a cache
    /// step's read, populate and the sites of its `on_miss` steps.
    pub fn step_sites<'s>(&'s self, step: &'s Step) -> Vec<&'s CallSite> {
        match step {
            Step::Call(c) => vec![c],
            Step::Parallel(cs) => cs.iter().collect(),
            Step::Work(_) | Step::Publish { .. } | Step::Enqueue { .. } => Vec::new(),
            Step::Cache { cache, on_miss } => {
                let c = &self.caches[*cache as usize];
                let mut v = vec![&c.get];
                v.extend(on_miss.iter().flat_map(|s| self.step_sites(s)));
                v.extend(c.populate.as_ref());
                v
            }
        }
    }
}

/// What a `cache` step does when its cache call fails (unreachable, refused, erred).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum OnCacheError {
    /// Fall through to `on_miss`, as a miss (the cache is an optimisation).
    #[default]
    Miss,
    /// The step fails, and with it the execution (`error`).
    Fail,
}

/// A `cache` step's parameters (its `on_miss` steps are in `Step::Cache`).
#[derive(Clone, Debug)]
pub struct Cache {
    /// `caller.endpoint->cache.get`, with `#2`, `#3`... when one endpoint reads the same
    /// cache endpoint in several steps.
    pub name: String,
    /// The endpoint whose program holds the step.
    pub caller: EndpointId,
    /// The read (a single target on a service of kind `cache`).
    pub get: CallSite,
    /// The write after a miss, on the same cache service; awaited.
    pub populate: Option<CallSite>,
    /// Share of reads a hot replica answers with the value, in `0..=1`.
    pub hit_p: f64,
    /// After a replica restarts, its hit share climbs from 0 to `hit_p` linearly over
    /// this; 0: hot at once.
    pub warm_up_ns: Nanos,
    pub on_error: OnCacheError,
}

/// One place that makes a synchronous call: a `call` (one target) or a `route` (targets
/// by weight).
#[derive(Clone, Debug)]
pub struct CallSite {
    /// The targets; a plain `call` has exactly one.
    pub targets: Vec<RouteTarget>,
    /// The client policy, or none (one attempt, no timeout, round robin).
    pub policy: Option<PolicyId>,
    /// Only meaningful inside `parallel`.
    pub optional: bool,
}

#[derive(Clone, Copy, Debug)]
pub struct RouteTarget {
    pub endpoint: EndpointId,
    /// Cumulative weight share in `(0, 1]`; the last target has exactly 1.0.
    pub cum_weight: f64,
    /// The call edge (caller service, this endpoint).
    pub edge: EdgeId,
}

#[derive(Clone, Debug)]
pub struct Edge {
    /// `None` for a workload's client.
    pub caller: Option<ServiceId>,
    pub target: EndpointId,
    /// `gateway->payment.charge`, or `client:shoppers->gateway.checkout` for a workload.
    pub name: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum LoadBalancer {
    #[default]
    RoundRobin,
    Random,
    LeastOutstanding,
    /// Power of two choices: two distinct replicas at random, the one with fewer
    /// outstanding requests.
    P2c,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Scope {
    /// Policy state (breaker, budget, bulkhead, balancer) per caller replica.
    #[default]
    Replica,
    /// Shared by all replicas of the caller service.
    Service,
}

#[derive(Clone, Debug)]
pub struct Policy {
    pub name: String,
    /// Bound on each attempt.
    pub timeout_ns: Option<Nanos>,
    /// Bound on the whole call, retries and backoff included.
    pub deadline_ns: Option<Nanos>,
    pub retry: Option<Retry>,
    pub breaker: Option<Breaker>,
    pub bulkhead: Option<Bulkhead>,
    pub hedge: Option<Hedge>,
    pub load_balancer: LoadBalancer,
    pub cancel_on_timeout: bool,
    pub scope: Scope,
    pub outlier: Option<Outlier>,
    /// What one circuit breaker instance keys on (with `scope`).
    pub breaker_per: BreakerPer,
    /// A client-side rate limiter, one per client block slot (as the bulkhead).
    pub rate_limit: Option<RateLimit>,
}

/// A rate limiter (docs/scenario-format.md, Rate limits).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RateLimit {
    /// Envoy's local rate limit token bucket; a refusal is immediate.
    TokenBucket { max_tokens: u32, tokens_per_fill: u32, fill_interval_ns: Nanos },
    /// resilience4j's RateLimiter: `limit_for_period` permissions per `refresh_ns`, a
    /// caller waits up to `timeout_ns` for one.
    Resilience4j { limit_for_period: u32, refresh_ns: Nanos, timeout_ns: Nanos },
}

/// What one circuit breaker instance keys on, besides the caller (replica or service,
/// by `Scope`) and the policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum BreakerPer {
    /// One per target service (every endpoint of it shares it).
    #[default]
    Service,
    /// One per target endpoint.
    Endpoint,
    /// One for every call the caller makes under the policy, whatever the target.
    Caller,
}

#[derive(Clone, Debug)]
pub struct Retry {
    /// Counts the first attempt (at least 1).
    pub max_attempts: u32,
    pub backoff: Backoff,
    pub jitter: Jitter,
    pub retry_on: CauseSet,
    pub budget: Option<RetryBudget>,
    /// Waits at least a server's Retry-After (gRPC pushback) before the retry.
    pub honor_retry_after: bool,
}

#[derive(Clone, Copy, Debug)]
pub enum Backoff {
    Constant(Nanos),
    /// The n-th wait is `initial × multiplier^(n−1)`, capped at `max`, floored at `min`.
    Exponential {
        initial_ns: Nanos,
        multiplier: f64,
        max_ns: Nanos,
        min_ns: Nanos,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Jitter {
    #[default]
    None,
    Full,
    Equal,
    Decorrelated,
}

#[derive(Clone, Copy, Debug)]
pub struct RetryBudget {
    /// Retries allowed as a share of first attempts, in `0..=1`.
    pub ratio: f64,
    pub min_per_second: f64,
}

#[derive(Clone, Copy, Debug)]
pub enum BreakerWindow {
    Count(u32),
    Time(Nanos),
}

#[derive(Clone, Copy, Debug)]
pub enum Breaker {
    /// resilience4j's sliding-window breaker.
    Window {
        window: BreakerWindow,
        minimum_calls: u32,
        /// In `0..=1`.
        failure_rate_threshold: f64,
        /// `(duration, rate threshold in 0..=1)`.
        slow_call: Option<(Nanos, f64)>,
        open_for_ns: Nanos,
        half_open_calls: u32,
    },
    /// Consecutive-failure breaker (pybreaker, Polly's basic breaker).
    Consecutive { failures: u32, open_for_ns: Nanos, success_threshold: u32 },
}

#[derive(Clone, Copy, Debug)]
pub struct Bulkhead {
    pub max_concurrent: u32,
    /// `None`: wait without limit.
    pub max_wait_ns: Option<Nanos>,
    /// The per-try timeout starts before the wait for a permit (resilience4j's
    /// TimeLimiter around its Bulkhead); false: once the permit is held.
    pub timeout_covers_wait: bool,
}

#[derive(Clone, Copy, Debug)]
pub struct Hedge {
    pub after_ns: Nanos,
    pub max_extra: u32,
}

#[derive(Clone, Copy, Debug)]
pub struct Outlier {
    pub consecutive_errors: u32,
    pub ejection_ns: Nanos,
    /// In `0..=1`.
    pub max_ejection: f64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Probe {
    Readiness,
    Liveness,
}

#[derive(Clone, Debug)]
pub struct HealthCheck {
    pub interval_ns: Nanos,
    pub timeout_ns: Nanos,
    pub unhealthy_after: u32,
    pub healthy_after: u32,
    pub probe: Probe,
    pub restart_after_ns: Nanos,
    pub depends_on: Vec<ServiceId>,
}

#[derive(Clone, Debug, Default)]
pub struct Network {
    /// Latency of each message between two services with no link of their own;
    /// `None` means zero.
    pub default_latency: Option<Dist>,
    pub links: Vec<Link>,
}

#[derive(Clone, Debug)]
pub struct Link {
    pub from: ServiceId,
    pub to: ServiceId,
    /// `None`: the default latency.
    pub latency: Option<Dist>,
    /// Probability that one message is lost.
    pub loss_p: f64,
}

#[derive(Clone, Debug)]
pub enum Arrival {
    Poisson {
        rate_per_s: f64,
    },
    /// Evenly spaced.
    Constant {
        rate_per_s: f64,
    },
    /// `users` clients that each send a request, wait for its answer, then think.
    Closed {
        users: u32,
        think: Dist,
    },
}

/// A change of an open workload's rate: from `at_ns` (linearly over `ramp_ns` when it is
/// non-zero) the rate becomes `rate_per_s`.
#[derive(Clone, Copy, Debug)]
pub struct RateChange {
    pub at_ns: Nanos,
    pub rate_per_s: f64,
    pub ramp_ns: Nanos,
}

#[derive(Clone, Debug)]
pub struct Workload {
    pub name: String,
    /// The endpoint called; for a saga workload, the saga's first action (the saga's
    /// orchestrator makes the calls; see `saga`).
    pub target: EndpointId,
    /// The edge `client:<workload>-><target>` (unused by saga workloads).
    pub edge: EdgeId,
    /// `Some` when the target is `saga:NAME`: each request starts one saga.
    pub saga: Option<SagaId>,
    pub arrival: Arrival,
    /// Sorted by `at_ns`; empty for closed workloads.
    pub schedule: Vec<RateChange>,
    pub policy: Option<PolicyId>,
    /// The criticality of its requests; `None` when the scenario does not set it (then
    /// `default`, and the summary has no `priorities` unless a service sheds).
    pub priority: Option<Priority>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultTarget {
    Service(ServiceId),
    Replica(ReplicaId),
    Endpoint(EndpointId),
}

#[derive(Clone, Debug)]
pub enum FaultKind {
    /// Adds latency to `p` of the requests the target serves.
    Delay { target: FaultTarget, latency: Dist, p: f64 },
    /// Multiplies the target's service time.
    Slowdown { target: FaultTarget, factor: f64 },
    /// Fails `p` of the target's requests at once with `error`.
    Abort { target: FaultTarget, p: f64 },
    /// Kills one replica; it restarts after `restart_after_ns` (never when `None`).
    Crash { replica: ReplicaId, restart_after_ns: Option<Nanos> },
    /// Drops every message between the two groups, both ways.
    Partition { a: Vec<ServiceId>, b: Vec<ServiceId> },
    /// Loses `p` of the messages from `from` to `to`.
    Loss { from: ServiceId, to: ServiceId, p: f64 },
    /// Makes a topic's broker unreachable: publishes fail, consumers get nothing.
    Outage { topic: TopicId },
    /// Makes a work queue's broker unreachable: sends fail, consumers receive nothing,
    /// acknowledgements are lost.
    QueueOutage { queue: QueueId },
}

#[derive(Clone, Debug)]
pub struct Fault {
    /// Its `name`, or its label when it has none; unique among the faults.
    pub name: String,
    pub kind: FaultKind,
    pub start_ns: Nanos,
    /// `Nanos::MAX` when it lasts until the end (and for `crash`, which has no duration).
    pub end_ns: Nanos,
    /// A label for reports, e.g. `delay payment`.
    pub label: String,
}

/// How messages are keyed to partitions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum KeyMode {
    #[default]
    Random,
    RoundRobin,
    /// Each request or saga belongs to one of N entities; an entity's messages share a
    /// partition, in order.
    Entities(u32),
}

/// A Kafka-style topic.
#[derive(Clone, Debug)]
pub struct Topic {
    pub name: String,
    /// At least 1.
    pub partitions: u32,
    pub key: KeyMode,
    /// The broker's acknowledgement latency; `None` is zero.
    pub latency: Option<Dist>,
    /// Outbox relay period (default 100 ms).
    pub relay_interval_ns: Nanos,
    pub groups: Vec<Group>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum OnExhausted {
    DeadLetter,
    #[default]
    Drop,
}

/// A consumer group of a topic.
#[derive(Clone, Debug)]
pub struct Group {
    pub name: String,
    /// The handler, run on the consumer's own replica.
    pub endpoint: EndpointId,
    /// Consumer i lives on replica i mod replicas of the handler's service.
    pub consumers: u32,
    /// Handling attempts per message, the first included (default 10).
    pub max_attempts: u32,
    /// Wait before each further attempt (default none).
    pub backoff: Option<Backoff>,
    pub on_exhausted: OnExhausted,
    /// `None`: commit the instant a message is handled; else commit on this period.
    pub commit_interval_ns: Option<Nanos>,
    /// Default 10 s.
    pub session_timeout_ns: Nanos,
    pub idempotent: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum CompensationPolicy {
    #[default]
    BestEffort,
    Persistent,
}

/// An orchestrated saga.
#[derive(Clone, Debug)]
pub struct Saga {
    pub name: String,
    pub orchestrator: ServiceId,
    pub policy: Option<PolicyId>,
    pub steps: Vec<SagaStep>,
    pub compensation_policy: CompensationPolicy,
    pub compensate_unknown: bool,
    pub durable: bool,
}

#[derive(Clone, Debug)]
pub struct SagaStep {
    pub name: String,
    pub action: EndpointId,
    /// The edge (orchestrator, action).
    pub action_edge: EdgeId,
    pub compensation: Option<EndpointId>,
    /// The edge (orchestrator, compensation), when there is a compensation.
    pub compensation_edge: Option<EdgeId>,
    /// The action's policy: the step's own, else the saga's.
    pub action_policy: Option<PolicyId>,
    /// The compensation's policy: its own, else the saga's.
    pub comp_policy: Option<PolicyId>,
    pub pivot: bool,
    pub retriable: bool,
}

/// A work queue with SQS's and RabbitMQ's semantics (competing consumers). See
/// docs/scenario-format.md, Work queues.
#[derive(Clone, Debug)]
pub struct Queue {
    pub name: String,
    /// The broker's acknowledgement latency of a send; `None` is zero.
    pub latency: Option<Dist>,
    /// Outbox relay period (default 100 ms).
    pub relay_interval_ns: Nanos,
    /// SQS's visibility timeout, counted from each receive; `None`: RabbitMQ's
    /// acknowledgements (a message is held until its consumer acks, nacks or dies).
    pub visibility_timeout_ns: Option<Nanos>,
    /// Receives after which a message that comes back goes to the dead-letter queue
    /// (SQS's `maxReceiveCount`); `None`: no limit.
    pub max_receive_count: Option<u32>,
    /// `true`: exhausted messages are dead-lettered; `false`: dropped.
    pub dead_letter: bool,
    /// The consumer pools, in file order.
    pub consumers: Vec<QueueConsumers>,
}

/// A pool of consumers of a work queue, on the replicas of its handler's service.
#[derive(Clone, Debug)]
pub struct QueueConsumers {
    /// The handler, run on the consumer's own replica.
    pub endpoint: EndpointId,
    /// Consumers on each replica of the handler's service (at least 1).
    pub per_replica: u32,
    /// Most messages one consumer holds unacknowledged (at least 1).
    pub prefetch: u32,
    /// Whether handling a message twice is harmless.
    pub idempotent: bool,
}

/// What a threshold is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThresholdScope {
    Workload(WorkloadId),
    Saga(SagaId),
    /// Consumer group `group` (its index in the topic's `groups`) of `topic`.
    Group {
        topic: TopicId,
        group: u32,
    },
    /// A work queue (`queue:NAME`).
    Queue(QueueId),
}

impl ThresholdScope {
    /// The kind of scope, as the metric table names it.
    pub fn kind(self) -> ScopeKind {
        match self {
            ThresholdScope::Workload(_) => ScopeKind::Workload,
            ThresholdScope::Saga(_) => ScopeKind::Saga,
            ThresholdScope::Group { .. } => ScopeKind::Group,
            ThresholdScope::Queue(_) => ScopeKind::Queue,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScopeKind {
    Workload,
    Saga,
    Group,
    Queue,
}

/// The unit of a metric, which is also the unit of its threshold's bound and value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricUnit {
    /// Milliseconds; written as a duration (`500ms`, `2s`).
    Ms,
    /// Percent from 0 to 100; written with `%` (`99.5%`).
    Percent,
    /// Per second; written `120/s` or `120`.
    PerSecond,
    /// A plain number (a count or a ratio); written without a unit.
    Number,
}

/// A figure a threshold can bound. See `docs/scenario-format.md`, Thresholds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    Mean,
    P50,
    P90,
    P99,
    P999,
    Max,
    Success,
    Goodput,
    Failed,
    Degraded,
    RetriesPerRequest,
    Completed,
    Compensated,
    CompensationFailed,
    Abandoned,
    OrphanedPer1000,
    MaxLag,
    Duplicates,
    DeadLettered,
    /// A consumer group's p99 from publish to handled.
    GroupP99,
    /// A work queue's most visible messages at once.
    QueueMaxDepth,
    /// A work queue's largest age of its oldest visible message.
    QueueMaxAge,
    QueueDuplicates,
    /// Duplicates on a handler that is not idempotent.
    QueueInconsistent,
    QueueDeadLettered,
    /// A work queue's p99 from send to deletion.
    QueueP99,
}

impl Metric {
    pub const ALL: [Metric; 26] = [
        Metric::Mean,
        Metric::P50,
        Metric::P90,
        Metric::P99,
        Metric::P999,
        Metric::Max,
        Metric::Success,
        Metric::Goodput,
        Metric::Failed,
        Metric::Degraded,
        Metric::RetriesPerRequest,
        Metric::Completed,
        Metric::Compensated,
        Metric::CompensationFailed,
        Metric::Abandoned,
        Metric::OrphanedPer1000,
        Metric::MaxLag,
        Metric::Duplicates,
        Metric::DeadLettered,
        Metric::GroupP99,
        Metric::QueueMaxDepth,
        Metric::QueueMaxAge,
        Metric::QueueDuplicates,
        Metric::QueueInconsistent,
        Metric::QueueDeadLettered,
        Metric::QueueP99,
    ];

    /// The name written in an expression.
    pub fn name(self) -> &'static str {
        match self {
            Metric::Mean => "mean",
            Metric::P50 => "p50",
            Metric::P90 => "p90",
            Metric::P99 | Metric::GroupP99 | Metric::QueueP99 => "p99",
            Metric::P999 => "p999",
            Metric::Max => "max",
            Metric::Success => "success",
            Metric::Goodput => "goodput",
            Metric::Failed => "failed",
            Metric::Degraded => "degraded",
            Metric::RetriesPerRequest => "retries_per_request",
            Metric::Completed => "completed",
            Metric::Compensated => "compensated",
            Metric::CompensationFailed => "compensation_failed",
            Metric::Abandoned => "abandoned",
            Metric::OrphanedPer1000 => "orphaned_per_1000",
            Metric::MaxLag => "max_lag",
            Metric::Duplicates | Metric::QueueDuplicates => "duplicates",
            Metric::DeadLettered | Metric::QueueDeadLettered => "dead_lettered",
            Metric::QueueMaxDepth => "max_depth",
            Metric::QueueMaxAge => "max_age",
            Metric::QueueInconsistent => "inconsistent",
        }
    }

    /// The kind of scope the metric belongs to.
    pub fn scope(self) -> ScopeKind {
        match self {
            Metric::Completed
            | Metric::Compensated
            | Metric::CompensationFailed
            | Metric::Abandoned
            | Metric::OrphanedPer1000 => ScopeKind::Saga,
            Metric::MaxLag | Metric::Duplicates | Metric::DeadLettered | Metric::GroupP99 => ScopeKind::Group,
            Metric::QueueMaxDepth
            | Metric::QueueMaxAge
            | Metric::QueueDuplicates
            | Metric::QueueInconsistent
            | Metric::QueueDeadLettered
            | Metric::QueueP99 => ScopeKind::Queue,
            _ => ScopeKind::Workload,
        }
    }

    pub fn unit(self) -> MetricUnit {
        match self {
            Metric::Mean
            | Metric::P50
            | Metric::P90
            | Metric::P99
            | Metric::P999
            | Metric::Max
            | Metric::GroupP99
            | Metric::QueueMaxAge
            | Metric::QueueP99 => MetricUnit::Ms,
            Metric::Success
            | Metric::Failed
            | Metric::Degraded
            | Metric::Completed
            | Metric::Compensated
            | Metric::CompensationFailed
            | Metric::Abandoned => MetricUnit::Percent,
            Metric::Goodput => MetricUnit::PerSecond,
            Metric::RetriesPerRequest
            | Metric::OrphanedPer1000
            | Metric::MaxLag
            | Metric::Duplicates
            | Metric::DeadLettered
            | Metric::QueueMaxDepth
            | Metric::QueueDuplicates
            | Metric::QueueInconsistent
            | Metric::QueueDeadLettered => MetricUnit::Number,
        }
    }

    /// Whether a phase (`during NAME`) has the figure: the phases hold per-workload
    /// figures of the requests that started in them, without per-edge retries.
    pub fn has_phases(self) -> bool {
        self.scope() == ScopeKind::Workload && self != Metric::RetriesPerRequest
    }

    /// The metric named `name` for a kind of scope.
    pub fn of(kind: ScopeKind, name: &str) -> Option<Metric> {
        Metric::ALL.into_iter().find(|m| m.scope() == kind && m.name() == name)
    }

    /// The metrics of a kind of scope, in table order.
    pub fn of_scope(kind: ScopeKind) -> impl Iterator<Item = Metric> {
        Metric::ALL.into_iter().filter(move |m| m.scope() == kind)
    }
}

/// A comparison of a threshold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Lt,
    Le,
    Gt,
    Ge,
}

impl Op {
    pub fn symbol(self) -> &'static str {
        match self {
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
        }
    }

    /// Whether `value OP bound` holds.
    pub fn holds(self, value: f64, bound: f64) -> bool {
        match self {
            Op::Lt => value < bound,
            Op::Le => value <= bound,
            Op::Gt => value > bound,
            Op::Ge => value >= bound,
        }
    }
}

/// One objective: `METRIC OP BOUND [during PHASE]` on a scope.
#[derive(Clone, Debug, PartialEq)]
pub struct Threshold {
    /// The scope as written: a workload's name, `saga:NAME`, `topic:TOPIC/GROUP` or
    /// `queue:NAME`.
    pub scope_name: String,
    pub scope: ThresholdScope,
    /// The expression as written, e.g. `p99 < 2s during brownout`.
    pub expression: String,
    pub metric: Metric,
    pub op: Op,
    /// In the metric's unit (ms, percent, per second, or a plain number).
    pub bound: f64,
    /// `None`: the whole measured window; else `before`, `after` or a fault's name.
    pub phase: Option<String>,
}
