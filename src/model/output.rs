//! What a run hands back: its figures, in scenario order, or the limit it hit.

pub use super::clients::BreakerFigures;
use crate::metrics::{LatencyHist, Outcomes, Series};
use crate::spec::Nanos;

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
    /// Every circuit breaker instance once, in the order they were made.
    pub breakers: Vec<BreakerFigures>,
    pub services: Vec<ServiceFigures>,
    /// Per saga, in `Spec::sagas` order.
    pub sagas: Vec<SagaFigures>,
    /// Per topic, in `Spec::topics` order.
    pub topics: Vec<TopicFigures>,
    /// Per `cache` step, in `spec.caches` order.
    pub caches: Vec<CacheFigures>,
    /// Per work queue, in `Spec::queues` order.
    pub queues: Vec<QueueFigures>,
    pub series: Series,
    /// The measured window cut into phases (`phases.rs`); empty when the scenario has
    /// no fault and no rate change in the window.
    pub phases: Vec<PhaseFigures>,
    /// Broken invariants (always empty unless the model has a bug).
    pub violations: Vec<String>,
}

#[derive(Debug, Default)]
pub struct WorkloadFigures {
    pub offered: u64,
    pub outcomes: Outcomes,
    pub in_flight: u64,
    /// Successful responses (ok and degraded) only.
    pub latency: LatencyHist,
    /// Failed responses only.
    pub failed_latency: LatencyHist,
    /// Executions of its requests' call trees refused or dropped by a shedder
    /// (`servers/shed.rs`), counted once each.
    pub shed: u64,
}

/// One phase of the measured window and its workloads' figures (requests counted in
/// the phase in which they started).
#[derive(Debug, Clone)]
pub struct PhaseFigures {
    pub name: String,
    pub from_ns: Nanos,
    pub to_ns: Nanos,
    /// Per workload, in `Spec::workloads` order.
    pub workloads: Vec<PhaseWorkloadFigures>,
}

#[derive(Debug, Clone)]
pub struct PhaseWorkloadFigures {
    pub offered: u64,
    pub outcomes: Outcomes,
    /// Successful responses only, 2 significant digits (as the series' intervals).
    pub latency: LatencyHist,
}

impl Default for PhaseWorkloadFigures {
    fn default() -> Self {
        PhaseWorkloadFigures {
            offered: 0,
            outcomes: Outcomes::default(),
            latency: LatencyHist::with_sigfig(2),
        }
    }
}

#[derive(Debug, Default)]
pub struct EndpointFigures {
    /// Executions that reached a replica (rejected ones included).
    pub requests: u64,
    pub outcomes: Outcomes,
    /// Successful executions only.
    pub latency: LatencyHist,
    /// Failed (and refused) executions only.
    pub failed_latency: LatencyHist,
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
    /// Successful calls only.
    pub latency: LatencyHist,
    /// Failed calls only.
    pub failed_latency: LatencyHist,
    /// Times the caller replicas' breakers opened, and their time open summed over
    /// those replicas, in the measured window.
    pub breaker_opened: u64,
    pub breaker_open_s: f64,
    /// The bulkhead the edge's calls go through, when their policy has one.
    pub bulkhead: Option<BulkheadFigures>,
}

/// A call edge's bulkhead over the measured window (its attempts only; a bulkhead
/// shared with another edge, the same caller and policy to another endpoint of the
/// same service, counts its permits for both).
#[derive(Debug, Default)]
pub struct BulkheadFigures {
    /// The most permits out at once in one bulkhead instance (one caller replica's, or
    /// the caller service's with `scope: "service"`), seen when this edge took one.
    pub max_in_use: u32,
    /// Attempts that found no permit and queued for one.
    pub waited: u64,
    /// Queueing to permit, of the attempts that waited and got one.
    pub wait: LatencyHist,
    /// Attempts refused `bulkhead_full`: at once (`max_wait` 0) or when `max_wait`
    /// ran out.
    pub full: u64,
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
    /// Start to outcome, completed sagas only.
    pub latency: LatencyHist,
    /// Start to outcome, sagas that ended without completing.
    pub failed_latency: LatencyHist,
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

/// A work queue's figures over the measured window, of the messages sent in it (the
/// depths and ages: of every message, from the end of warm-up).
/// `deleted + dead_lettered + dropped + in_flight == sent`.
#[derive(Debug, Default)]
pub struct QueueFigures {
    /// Messages the broker accepted (from enqueue steps and outbox relays).
    pub sent: u64,
    /// Enqueue steps the broker refused (unreachable).
    pub send_failed: u64,
    /// Receives, a message's every one.
    pub received: u64,
    /// Messages handled and deleted.
    pub deleted: u64,
    /// Successful handlings after a message's first success.
    pub duplicates: u64,
    /// Duplicates on a handler that is not idempotent: inconsistencies.
    pub inconsistent: u64,
    pub dead_lettered: u64,
    pub dropped: u64,
    /// Messages still in the queue at the end (visible or received).
    pub in_flight: u64,
    /// Most visible messages at once.
    pub max_depth: u64,
    /// Time average of the visible messages.
    pub mean_depth: f64,
    /// Largest age of the oldest visible message, in seconds.
    pub max_age_s: f64,
    /// Send to deletion.
    pub latency: LatencyHist,
}

#[derive(Debug, Default)]
pub struct ServiceFigures {
    pub utilization: f64,
    pub queue_max: u64,
    /// Its autoscaler's figures, if it has one.
    pub autoscale: Option<AutoscaleFigures>,
}

/// An autoscaled service's figures over the whole run (times from its start);
/// `replica_seconds` from the end of warm-up.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AutoscaleFigures {
    /// The fewest and most replicas the autoscaler set (its initial count included).
    pub min_seen: u32,
    pub max_seen: u32,
    /// Syncs that raised or lowered the scale.
    pub scale_ups: u64,
    pub scale_downs: u64,
    pub first_scale_up_s: Option<f64>,
    pub first_scale_down_s: Option<f64>,
    /// When the first scaled-up replica entered service.
    pub first_ready_s: Option<f64>,
    /// Replicas in existence (starting, serving or draining) integrated over time.
    pub replica_seconds: f64,
    /// The scale at the end.
    pub final_replicas: u32,
}

/// One `cache` step's figures: reads and populates that started after warm-up.
/// `gets = hits + misses + errors + abandoned + in_flight`.
#[derive(Debug, Clone, Default)]
pub struct CacheFigures {
    pub gets: u64,
    /// Reads answered with the value.
    pub hits: u64,
    /// Reads answered without it.
    pub misses: u64,
    /// Reads that failed (unreachable, refused, erred, timed out).
    pub errors: u64,
    /// Reads answered after their execution had ended (its replica crashed, or its
    /// caller cancelled it).
    pub abandoned: u64,
    /// Reads still out at the end.
    pub in_flight: u64,
    pub populates: u64,
    pub populate_failed: u64,
}
