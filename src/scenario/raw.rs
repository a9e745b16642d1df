//! The scenario file as written: plain serde types that mirror the JSON one to one.
//!
//! Every struct denies unknown keys and every enum is externally tagged
//! (`{"exponential": {...}}`), so a serde error always carries the exact path of the
//! offending value; nothing here is flattened. Values are kept as the user wrote them
//! (durations as strings, shares as percentages, names as strings); `resolve` turns them
//! into the simulator's own types. The doc comments end up in `faultline schema`, where
//! editors show them, so each says its unit and its default.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde_json::Value;

// ---------------------------------------------------------------------------------------
// Building blocks
// ---------------------------------------------------------------------------------------

/// A duration as written: a string such as `"250ms"`, or a number, kept only so that the
/// resolver can say that a unit is missing.
#[derive(Clone, Debug)]
pub enum Dur {
    Text(String),
    /// A bare JSON number (an error: durations need a unit), as written.
    Number(String),
}

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Dur;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a duration with a unit such as \"250ms\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Dur, E> {
                Ok(Dur::Text(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Dur, E> {
                Ok(Dur::Number(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Dur, E> {
                Ok(Dur::Number(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Dur, E> {
                Ok(Dur::Number(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for Dur {
    fn schema_name() -> Cow<'static, str> {
        "Duration".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "description": "A duration: a decimal number and a unit (ns, us, µs, ms, s, m, h), e.g. \"250us\", \"1.5ms\", \"2s\", \"5m\"; at most 10 years (\"87600h\"). A bare number is an error.",
            "pattern": "^[0-9]+(\\.[0-9]+)?(ns|us|µs|μs|ms|s|m|h)$",
            "examples": ["250ms", "1.5s", "2m"]
        })
    }
}

/// Which keys an ordered map accepts, for the schema only (the resolver checks them).
pub trait KeyRule {
    fn key_schema() -> Option<Value>;
}

/// Keys are names: `[a-z0-9_-]+`.
#[derive(Clone, Debug)]
pub struct Names;
impl KeyRule for Names {
    fn key_schema() -> Option<Value> {
        Some(serde_json::json!({"pattern": "^[a-z0-9_-]+$"}))
    }
}

/// Keys are free text (JSON pointers, percentile labels).
#[derive(Clone, Debug)]
pub struct AnyKeys;
impl KeyRule for AnyKeys {
    fn key_schema() -> Option<Value> {
        None
    }
}

/// A JSON object read in file order, as `(key, value)` pairs: the order of services,
/// endpoints and policies decides their ids and the order of every output table.
#[derive(Clone, Debug)]
pub struct OrderedMap<T, K = Names>(pub Vec<(String, T)>, PhantomData<K>);

impl<T, K> Default for OrderedMap<T, K> {
    fn default() -> Self {
        OrderedMap(Vec::new(), PhantomData)
    }
}

impl<T, K> OrderedMap<T, K> {
    pub fn iter(&self) -> impl Iterator<Item = &(String, T)> {
        self.0.iter()
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'de, T: Deserialize<'de>, K> Deserialize<'de> for OrderedMap<T, K> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T, K>(PhantomData<(T, K)>);
        impl<'de, T: Deserialize<'de>, K> Visitor<'de> for V<T, K> {
            type Value = OrderedMap<T, K>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(k) = map.next_key::<String>()? {
                    let v = map.next_value::<T>()?;
                    out.push((k, v));
                }
                Ok(OrderedMap(out, PhantomData))
            }
        }
        d.deserialize_map(V(PhantomData))
    }
}

impl<T: JsonSchema, K: KeyRule> JsonSchema for OrderedMap<T, K> {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        format!("Map_of_{}", T::schema_name()).into()
    }
    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        let value = g.subschema_for::<T>();
        match K::key_schema() {
            Some(keys) => {
                json_schema!({"type": "object", "additionalProperties": value, "propertyNames": keys})
            }
            None => json_schema!({"type": "object", "additionalProperties": value}),
        }
    }
}

/// A scope's threshold expressions as written: any JSON, checked by the resolver, so
/// that every bad item is reported with its own path (and a single string for a list
/// is named as such).
#[derive(Clone, Debug)]
pub struct RawExprs(pub Value);

impl<'de> Deserialize<'de> for RawExprs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Value::deserialize(d).map(RawExprs)
    }
}

impl JsonSchema for RawExprs {
    fn schema_name() -> Cow<'static, str> {
        "ThresholdExpressions".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "array",
            "description": "Threshold expressions: METRIC OP VALUE [during PHASE], OP one of <, <=, >, >=; e.g. \"p99 < 500ms\", \"success >= 99.5%\", \"goodput > 50/s\", \"p99 < 2s during brownout\". Workloads: mean, p50, p90, p99, p999, max (durations), success, failed, degraded (percent), goodput (per second), retries_per_request. Sagas: completed, compensated, compensation_failed, abandoned (percent), orphaned_per_1000. Groups: max_lag, duplicates, dead_lettered (counts), p99 (a duration).",
            "items": {"type": "string", "pattern": "^\\s*[a-z0-9_]+\\s*(<=|>=|<|>)\\s*\\S+(\\s+during\\s+\\S.*)?$"},
            "examples": [["p99 < 500ms", "success >= 99.5%"]]
        })
    }
}

/// A share of something, in percent.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Share")]
pub struct RawShare {
    /// Percent, 0 to 100 (fractions allowed, e.g. 0.1).
    pub percent: f64,
}

// ---------------------------------------------------------------------------------------
// Top level
// ---------------------------------------------------------------------------------------

/// A faultline scenario (format v1): the topology, the policies, the workload, the faults
/// and the variants to compare.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "a scenario object")]
#[schemars(title = "faultline scenario")]
#[schemars(rename = "Scenario")]
pub struct RawScenario {
    /// Ignored by faultline; lets an editor find this schema.
    #[serde(rename = "$schema")]
    pub schema: Option<String>,
    /// The scenario's name, shown in reports. Default: the file name without extension.
    pub name: Option<String>,
    /// Free text shown in reports. Default: empty.
    pub description: Option<String>,
    /// Simulated length of the run, warm-up included (a duration, required).
    pub duration: Dur,
    /// Simulated time at the start left out of every summary figure (time series keep it).
    /// A duration shorter than `duration`. Default "0s".
    pub warmup: Option<Dur>,
    /// Seed of every random stream (an unsigned integer). Default 1.
    pub seed: Option<u64>,
    /// Width of one time-series bucket (a duration). Default "1s". faultline extension.
    pub interval: Option<Dur>,
    /// Bounds on the run; reaching one ends it with a named error. faultline extension.
    pub limits: Option<RawLimits>,
    /// The services, keyed by name, in the order reports list them.
    pub services: OrderedMap<RawService>,
    /// Client-side resilience policies, keyed by name. Default: none.
    pub policies: Option<OrderedMap<RawPolicy>>,
    /// Network latency and loss between services. Default: zero latency, no loss.
    pub network: Option<RawNetwork>,
    /// Kafka-style topics, keyed by name. Default: none.
    pub topics: Option<OrderedMap<RawTopic>>,
    /// Work queues (SQS, RabbitMQ: competing consumers), keyed by name. Default: none.
    pub queues: Option<OrderedMap<RawWorkQueue>>,
    /// Orchestrated sagas, keyed by name. Default: none.
    pub sagas: Option<OrderedMap<RawSaga>>,
    /// The clients that send requests. Default: none.
    pub workload: Option<Vec<RawWorkload>>,
    /// Faults injected on a schedule. Default: none.
    pub faults: Option<Vec<RawFault>>,
    /// Objectives the run must meet, keyed by scope: a workload's name, `saga:NAME`,
    /// `topic:TOPIC/GROUP` or `queue:NAME`; each a list of expressions such as `"p99 < 500ms"`,
    /// `"success >= 99.5%"` or `"p99 < 2s during brownout"`. `faultline run` exits with
    /// status 3 when one fails. Default: none. faultline extension (k6's thresholds).
    pub thresholds: Option<OrderedMap<RawExprs, AnyKeys>>,
    /// Settings of `faultline lint` (see docs/lint.md). faultline extension.
    pub lint: Option<RawLint>,
    /// Named sets of overrides: each maps a JSON Pointer (RFC 6901) into this file to
    /// the value to put there (`null` removes the part).
    pub variants: Option<OrderedMap<OrderedMap<Value, AnyKeys>>>,
}

/// Settings of `faultline lint` (faultline extension).
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Lint")]
pub struct RawLint {
    /// Rule ids whose findings `faultline lint` silences for this scenario, e.g.
    /// `["single-replica"]`. Default: none.
    pub allow: Option<Vec<RawRuleId>>,
}

/// A lint rule id as written; anything but a string is kept so that the resolver can
/// say what it found.
#[derive(Clone, Debug)]
pub enum RawRuleId {
    Text(String),
    Other(Value),
}

impl<'de> Deserialize<'de> for RawRuleId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match Value::deserialize(d)? {
            Value::String(s) => RawRuleId::Text(s),
            other => RawRuleId::Other(other),
        })
    }
}

impl JsonSchema for RawRuleId {
    fn schema_name() -> Cow<'static, str> {
        "LintRule".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let ids: Vec<&str> = crate::lint::rules::ids().collect();
        json_schema!({
            "type": "string",
            "description": "The id of a rule of `faultline lint` (docs/lint.md).",
            "enum": ids
        })
    }
}

/// Bounds on one run (faultline extension).
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Limits")]
pub struct RawLimits {
    /// Most events the run may process. Default 2000000000.
    pub max_events: Option<u64>,
    /// Most workload requests in flight at once. Default 1000000.
    pub max_in_flight: Option<u32>,
    /// Most executions alive at once on all replicas together (queued, running, or
    /// working for a caller that gave up). Default 2000000.
    pub max_executions: Option<u32>,
    /// Most messages waiting at once in all topic partitions and outboxes. Default 10000000.
    pub max_backlog: Option<u64>,
    /// Most messages held at once by all work queues and their outboxes. Default 10000000.
    pub max_queued: Option<u64>,
    /// Most events at one simulated instant before the run is declared stuck in a
    /// zero-time loop. Default 10000000.
    pub max_events_per_instant: Option<u64>,
    /// Most time-series cells (intervals × columns). Default 5000000.
    pub max_series_points: Option<u64>,
    /// Most memory in MiB for histograms and series, estimated before the run. Default 4096.
    pub max_memory_mib: Option<u64>,
}

// ---------------------------------------------------------------------------------------
// Services
// ---------------------------------------------------------------------------------------

/// One service: identical replicas, each with a worker pool and a queue.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "a service object")]
#[schemars(rename = "Service")]
pub struct RawService {
    /// What the service is; the reports' topology drawing shows it, and a `cache` step
    /// reads only a service of kind "cache". Default "service".
    pub kind: Option<RawKind>,
    /// Number of identical replicas, at least 1. Default 1.
    pub replicas: Option<u32>,
    /// Requests one replica serves at once (workers, threads, connections), at least 1.
    /// A worker stays busy while its request waits on downstream calls. Default 1.
    pub concurrency: Option<u32>,
    /// The queue where requests wait for a free worker. Default: unbounded FIFO, no timeout.
    pub queue: Option<RawQueue>,
    /// The endpoints, keyed by name; addressed as `service.endpoint`. Default: none.
    pub endpoints: Option<OrderedMap<RawEndpoint>>,
    /// Periodic health probes of each replica. Default: none.
    pub health_check: Option<RawHealthCheck>,
    /// Envoy's adaptive concurrency filter in front of each replica: requests beyond
    /// the current limit are answered `unavailable` (503) at once. Default: none.
    pub adaptive_concurrency: Option<RawAdaptive>,
    /// Envoy's local rate limit, one token bucket per replica: a request that finds the
    /// bucket empty is refused at once `rate_limited` (429). Default: none.
    pub rate_limit: Option<RawRateLimit>,
    /// Load shedding at each replica: `{"queue_delay": "50ms"}` or
    /// `{"utilization": 90}`. Default: none.
    pub shed: Option<RawShed>,
    /// Kubernetes' HorizontalPodAutoscaler v2 on this service: `replicas` is the count at
    /// the start, kept within `[min_replicas, max_replicas]`. Default: none.
    pub autoscale: Option<RawAutoscale>,
}

/// A HorizontalPodAutoscaler v2 (docs/scenario-format.md, Autoscaling).
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Autoscale")]
pub struct RawAutoscale {
    /// What is measured: `utilization` (busy workers, percent), `rps_per_replica`
    /// (requests per second per ready replica) or `lag` (a topic's or queue's backlog,
    /// as KEDA's scalers).
    pub metric: RawScaleMetric,
    /// The metric's target per replica (greater than 0).
    pub target: f64,
    /// At least 1. Default 1.
    pub min_replicas: Option<u32>,
    /// At least `min_replicas`.
    pub max_replicas: u32,
    /// The controller's period (`--horizontal-pod-autoscaler-sync-period`). Default "15s".
    pub sync_period: Option<Dur>,
    /// No scaling while |metric ÷ target − 1| is at most this. Default 0.1.
    pub tolerance: Option<f64>,
    /// `behavior`: the scale-up and scale-down rules. Default: Kubernetes'.
    pub behavior: Option<RawBehavior>,
    /// From a scale-up to the new replica's readiness (image pull, start). Default "0s".
    pub startup: Option<Dur>,
    /// A new replica's service times are `factor` times longer at first, back to
    /// normal linearly over `over`. Default: none.
    pub cold_start: Option<RawColdStart>,
    /// The `lag` metric: the topic whose consumer groups on this service count.
    pub topic: Option<String>,
    /// The `lag` metric: the work queue this service consumes.
    pub queue: Option<String>,
}

/// The autoscaler's metric.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "ScaleMetric")]
pub enum RawScaleMetric {
    Utilization,
    RpsPerReplica,
    Lag,
}

/// `behavior` (HorizontalPodAutoscalerBehavior).
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "ScaleBehavior")]
pub struct RawBehavior {
    pub scale_up: Option<RawScalingRules>,
    pub scale_down: Option<RawScalingRules>,
}

/// `HPAScalingRules`; a key left out keeps Kubernetes' default for its direction.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "ScalingRules")]
pub struct RawScalingRules {
    /// Default "0s" up, "300s" down (at most "3600s").
    pub stabilization_window: Option<Dur>,
    /// Default: up, 100 % and 4 pods per 15 s; down, 100 % per 15 s.
    pub policies: Option<Vec<RawScalingPolicy>>,
    /// `Max` (default), `Min` or `Disabled`.
    pub select_policy: Option<RawSelectPolicy>,
}

/// `HPAScalingPolicy`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "ScalingPolicy")]
pub struct RawScalingPolicy {
    #[serde(rename = "type")]
    pub kind: RawScalingPolicyType,
    /// Pods, or percent of the replicas at the start of the period (at least 1).
    pub value: u32,
    /// Greater than 0, at most "1800s".
    pub period: Dur,
}

#[derive(Clone, Copy, Debug, Deserialize, JsonSchema)]
#[schemars(rename = "ScalingPolicyType")]
pub enum RawScalingPolicyType {
    Pods,
    Percent,
}

#[derive(Clone, Copy, Debug, Deserialize, JsonSchema)]
#[schemars(rename = "SelectPolicy")]
pub enum RawSelectPolicy {
    Max,
    Min,
    Disabled,
}

/// A new replica's slowness (JIT, cold caches).
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "ColdStart")]
pub struct RawColdStart {
    /// At least 1.
    pub factor: f64,
    /// Greater than 0.
    pub over: Dur,
}

/// Load shedding (docs/scenario-format.md, Load shedding).
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(
    rename_all = "snake_case",
    expecting = "a shedding rule such as {\"queue_delay\": \"50ms\"} or {\"utilization\": 90}"
)]
#[schemars(rename = "Shed")]
pub enum RawShed {
    /// CoDel's target: at dequeue, while the next request has waited longer than this,
    /// queued requests are dropped `unavailable`, lowest priority first (greater than 0).
    QueueDelay(Dur),
    /// At arrival, `sheddable` requests are refused `unavailable` when at least this
    /// percentage of the replica's workers is busy (1 to 100); `default` ones when all
    /// are busy and requests already wait; `critical` never.
    Utilization(f64),
}

/// A request's criticality (gRPC's).
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "Priority")]
pub enum RawPriority {
    Critical,
    Default,
    Sheddable,
}

/// The kind of a service.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "Kind")]
pub enum RawKind {
    Service,
    Database,
    Cache,
    Broker,
}

/// A replica's queue.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Queue")]
pub struct RawQueue {
    /// Most requests waiting per replica; a request that finds it full is `rejected`.
    /// 0 means no waiting at all. Default: unbounded.
    pub capacity: Option<u32>,
    /// Which waiting request a free worker takes: "fifo" or "lifo". Default "fifo".
    pub discipline: Option<RawDiscipline>,
    /// A request that has waited longer than this when a worker takes it is dropped
    /// unserved and answered `rejected` (a duration). Default: no timeout.
    pub timeout: Option<Dur>,
}

/// Queue discipline.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "Discipline")]
pub enum RawDiscipline {
    Fifo,
    Lifo,
}

/// An adaptive concurrency controller, externally tagged: `{"gradient": {}}` or
/// `{"aimd": {}}`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", expecting = "a controller such as {\"gradient\": {}} or {\"aimd\": {}}")]
#[schemars(rename = "AdaptiveConcurrency")]
pub enum RawAdaptive {
    /// Envoy's gradient controller.
    Gradient(RawGradient),
    /// Netflix concurrency-limits' AIMD limit.
    Aimd(RawAimd),
}

/// Netflix concurrency-limits' `AIMDLimit.Builder`; every key optional, with Netflix's
/// defaults.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "AimdLimit")]
pub struct RawAimd {
    /// The limit at start, within [min_limit, max_limit]. Default 20.
    pub initial_limit: Option<u32>,
    /// The lowest the limit may go, at least 1. Default 20.
    pub min_limit: Option<u32>,
    /// The highest the limit may go. Default 200.
    pub max_limit: Option<u32>,
    /// The factor the limit is multiplied by on a drop or a timeout, in [0.5, 1).
    /// Default 0.9.
    pub backoff_ratio: Option<f64>,
    /// A request slower than this counts as a drop (a duration above 0). Default "5s".
    pub timeout: Option<Dur>,
}

/// Envoy's `GradientControllerConfig`; every key optional, with Envoy's defaults.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "GradientController")]
pub struct RawGradient {
    /// How the limit is recalculated.
    pub concurrency_limit_params: Option<RawConcurrencyLimitParams>,
    /// How the ideal round-trip time (minRTT) is measured.
    pub min_rtt_calc_params: Option<RawMinRttCalcParams>,
    /// The percentile of a window's latencies taken as its sampled latency, in (0, 100].
    /// Default 50.
    pub sample_aggregate_percentile: Option<f64>,
}

/// Envoy's `concurrency_limit_params`.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "ConcurrencyLimitParams")]
pub struct RawConcurrencyLimitParams {
    /// The highest the limit may go. Default 1000.
    pub max_concurrency_limit: Option<u32>,
    /// How often the limit is recalculated from the latencies sampled since (a
    /// duration above 0). Default "100ms".
    pub concurrency_update_interval: Option<Dur>,
}

/// Envoy's `min_rtt_calc_params`.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "MinRttCalcParams")]
pub struct RawMinRttCalcParams {
    /// Time between the end of one minRTT measurement and the start of the next (a
    /// duration above 0). Default "60s".
    pub interval: Option<Dur>,
    /// Latency samples that make one minRTT measurement, at least 1. Default 50.
    pub request_count: Option<u32>,
    /// Random delay added to `interval`, as a percentage of it (0 to 100). Default 10.
    pub jitter: Option<f64>,
    /// The limit while the minRTT is measured, and the lowest it may go, at least 1.
    /// Default 3.
    pub min_concurrency: Option<u32>,
    /// Latency above the minRTT still taken as healthy, as a percentage of it (0 to
    /// 100). Default 25.
    pub buffer: Option<f64>,
}

/// One endpoint of a service.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "an endpoint object")]
#[schemars(rename = "Endpoint")]
pub struct RawEndpoint {
    /// The endpoint's own service time (a distribution). Default {"constant": "0s"}.
    pub latency: Option<RawDist>,
    /// Share of executions that end in a server error (retryable, like a 5xx). Default 0 %.
    pub errors: Option<RawShare>,
    /// Share of executions that end in a business refusal (like a 4xx). Default 0 %.
    pub declines: Option<RawShare>,
    /// Synchronous steps run in order after `latency`. Default: none.
    pub steps: Option<Vec<RawStep>>,
}

/// One step of an endpoint: exactly one of `call`, `route`, `parallel`, `work`, `publish`,
/// `cache`, `enqueue`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "a step object such as {\"call\": \"payment.charge\"}")]
#[schemars(rename = "Step")]
pub struct RawStep {
    /// A synchronous call of `service.endpoint`.
    pub call: Option<String>,
    /// A synchronous call of one of several endpoints, chosen by weight.
    pub route: Option<Vec<RawRouteTarget>>,
    /// Calls (`call` or `route` steps) made at once; the step waits for all of them.
    pub parallel: Option<Vec<RawStep>>,
    /// Holds the worker for a duration drawn from this distribution.
    pub work: Option<RawDist>,
    /// Publishes a message to this topic.
    pub publish: Option<String>,
    /// With `publish` or `enqueue`: write the message through a transactional outbox.
    /// Default false.
    pub outbox: Option<bool>,
    /// Sends a message to this work queue.
    pub enqueue: Option<String>,
    /// With `call` or `route`: the client policy's name. Default: one attempt, no timeout.
    pub policy: Option<String>,
    /// Inside `parallel` only: a failed branch degrades the response instead of failing
    /// it. Default false.
    pub optional: Option<bool>,
    /// A cache-aside read: a call to a cache service; on a miss, `on_miss` runs, then
    /// `populate`.
    pub cache: Option<Box<RawCache>>,
}

/// A cache-aside read, as the Redis and Memcached guides write it: read the cache; on a
/// hit, done; on a miss, read the database (`on_miss`) and write the value back
/// (`populate`, awaited).
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "a cache object such as {\"service\": \"redis\", \"endpoint\": \"get\", \"hit_ratio\": 90}"
)]
#[schemars(rename = "CacheStep")]
pub struct RawCache {
    /// The cache service; its `kind` must be "cache".
    pub service: String,
    /// The endpoint of that service that reads (e.g. "get").
    pub endpoint: String,
    /// Percent of reads a warm replica answers with the value, 0 to 100; drawn per read
    /// from the replica that answered.
    pub hit_ratio: f64,
    /// After a replica of the cache restarts (crash, liveness restart), its hit ratio
    /// starts at 0 and climbs back to `hit_ratio` linearly over this (a duration).
    /// Default "0s": hot at once.
    pub warm_up: Option<Dur>,
    /// Steps run on a miss, typically the database call. Default: none.
    pub on_miss: Option<Vec<RawStep>>,
    /// The endpoint of the same cache service called after `on_miss` to store the value
    /// (e.g. "set"); the step waits for it. Default: none.
    pub populate: Option<String>,
    /// When a cache call fails (unreachable, refused, erred, timed out): "miss" falls
    /// through to `on_miss`; "fail" fails the step. Default "miss".
    pub on_cache_error: Option<RawOnCacheError>,
    /// The client policy of the read and the populate calls. Default: one attempt, no
    /// timeout.
    pub policy: Option<String>,
}

/// What a cache step does when its cache call fails.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "OnCacheError")]
pub enum RawOnCacheError {
    Miss,
    Fail,
}

/// One target of a `route`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "RouteTarget")]
pub struct RawRouteTarget {
    /// The endpoint, `service.endpoint`.
    pub to: String,
    /// Relative weight, greater than 0 (weights need not add up to 100).
    pub weight: f64,
}

/// Health probes of each replica (Kubernetes style).
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "HealthCheck")]
pub struct RawHealthCheck {
    /// Time between probes of one replica (a duration). Default "10s".
    pub interval: Option<Dur>,
    /// A probe not answered within this fails (a duration). Default "1s".
    pub timeout: Option<Dur>,
    /// Failed probes in a row that make a replica unhealthy, at least 1. Default 3.
    pub unhealthy_after: Option<u32>,
    /// Passed probes in a row that make it healthy again, at least 1. Default 2.
    pub healthy_after: Option<u32>,
    /// "readiness": an unhealthy replica leaves load balancing; "liveness": it is
    /// restarted. Default "readiness".
    pub probe: Option<RawProbe>,
    /// With "liveness": how long a restart takes (a duration). Default "10s".
    pub restart_after: Option<Dur>,
    /// Services the probe checks; the probe fails while one is unreachable. Default: none.
    pub depends_on: Option<Vec<String>>,
}

/// Kind of health probe.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "Probe")]
pub enum RawProbe {
    Readiness,
    Liveness,
}

// ---------------------------------------------------------------------------------------
// Distributions
// ---------------------------------------------------------------------------------------

/// A distribution of durations, externally tagged: `{"exponential": {"mean": "20ms"}}`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", expecting = "a distribution such as {\"constant\": \"5ms\"}")]
#[schemars(rename = "Dist")]
pub enum RawDist {
    /// Always this duration.
    Constant(Dur),
    /// Exponential with this mean.
    Exponential(RawExponential),
    /// Uniform between `min` and `max`.
    Uniform(RawUniform),
    /// Normal, truncated at zero.
    Normal(RawNormal),
    /// Lognormal through `p50` and `p99`, or through `p50` and `sigma`.
    Lognormal(RawLognormal),
    /// Gamma with a mean and a coefficient of variation.
    Gamma(RawGamma),
    /// Pareto with `scale` and `shape`, truncated at `max`.
    Pareto(RawPareto),
    /// Piecewise-linear inverse CDF through percentiles: keys "p0" to "p100" (e.g. "p50",
    /// "p99.9"), values durations. Without "p0" the curve starts at 0; without "p100" the
    /// last segment's slope is extended. At least two points.
    Percentiles(OrderedMap<Dur, AnyKeys>),
    /// A weighted mix of distributions.
    Mixture(Vec<RawMixPart>),
}

/// Exponential distribution.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Exponential")]
pub struct RawExponential {
    /// Mean (a duration greater than 0).
    pub mean: Dur,
}

/// Uniform distribution.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Uniform")]
pub struct RawUniform {
    /// Smallest value (a duration).
    pub min: Dur,
    /// Largest value (a duration, at least `min`).
    pub max: Dur,
}

/// Normal distribution, truncated at zero.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Normal")]
pub struct RawNormal {
    /// Mean (a duration greater than 0).
    pub mean: Dur,
    /// Standard deviation (a duration).
    pub stddev: Dur,
}

/// Lognormal distribution: give `p50` and either `p99` or `sigma`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Lognormal")]
pub struct RawLognormal {
    /// Median (a duration greater than 0).
    pub p50: Dur,
    /// 99th percentile (a duration greater than `p50`).
    pub p99: Option<Dur>,
    /// Standard deviation of the logarithm (a number greater than 0).
    pub sigma: Option<f64>,
}

/// Gamma distribution.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Gamma")]
pub struct RawGamma {
    /// Mean (a duration greater than 0).
    pub mean: Dur,
    /// Coefficient of variation, standard deviation over mean (a number greater than 0).
    pub cv: f64,
}

/// Pareto distribution, truncated at `max`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Pareto")]
pub struct RawPareto {
    /// Scale, the smallest value (a duration greater than 0).
    pub scale: Dur,
    /// Shape (tail index), a number greater than 0; smaller is heavier.
    pub shape: f64,
    /// Truncation point (a duration greater than `scale`).
    pub max: Dur,
}

/// One component of a mixture.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "MixPart")]
pub struct RawMixPart {
    /// Relative weight, greater than 0.
    pub weight: f64,
    /// The component.
    pub dist: RawDist,
}

// ---------------------------------------------------------------------------------------
// Policies
// ---------------------------------------------------------------------------------------

/// A client-side policy: governs one caller's calls to one target. Omitted parts mean
/// "no such mechanism".
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "a policy object")]
#[schemars(rename = "Policy")]
pub struct RawPolicy {
    /// Bound on each attempt (a duration greater than 0). Default: wait forever.
    pub timeout: Option<Dur>,
    /// Bound on the whole call, retries and backoff included (a duration greater than 0).
    /// Default: none.
    pub deadline: Option<Dur>,
    /// Retries. Default: one attempt.
    pub retry: Option<RawRetry>,
    /// A circuit breaker: the window style (resilience4j) or the consecutive style
    /// (pybreaker), not both. Default: none.
    pub circuit_breaker: Option<RawBreaker>,
    /// Bound on concurrent calls. Default: none.
    pub bulkhead: Option<RawBulkhead>,
    /// Hedged requests. Default: none.
    pub hedge: Option<RawHedge>,
    /// How a replica of the target is picked. Default "round_robin".
    pub load_balancer: Option<RawLoadBalancer>,
    /// When true, a timed-out request is dropped by the callee too (deadline
    /// propagation); when false the callee keeps working: wasted work. Default false.
    pub cancel_on_timeout: Option<bool>,
    /// "replica": state per caller replica; "service": shared by the caller's replicas.
    /// Default "replica".
    pub scope: Option<RawScope>,
    /// Envoy-style outlier ejection of target replicas. Default: none.
    pub outlier_detection: Option<RawOutlier>,
    /// A client-side rate limiter per caller replica (or per caller service under
    /// `scope: "service"`) and target service: a token bucket or resilience4j's
    /// RateLimiter. Default: none.
    pub rate_limit: Option<RawRateLimit>,
}

/// A rate limiter: `token_bucket` (Envoy's local rate limit), or resilience4j's
/// RateLimiter (`limit_for_period`, `limit_refresh_period`, `timeout`; a policy only).
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "RateLimit")]
pub struct RawRateLimit {
    /// Envoy's token bucket.
    pub token_bucket: Option<RawTokenBucket>,
    /// resilience4j: permissions per refresh period, at least 1. Default 50.
    pub limit_for_period: Option<u32>,
    /// resilience4j: the period after which the permissions are refreshed (a duration
    /// greater than 0). Default "500ns", as resilience4j.
    pub limit_refresh_period: Option<Dur>,
    /// resilience4j: how long a call waits for a permission before failing
    /// `rate_limited` (a duration). Default "5s".
    pub timeout: Option<Dur>,
    /// A service only: the Retry-After its rate-limited answers carry (a duration);
    /// a retry policy with `honor_retry_after` waits at least that long. Default: none.
    pub retry_after: Option<Dur>,
}

/// Envoy's `token_bucket`: starts full with `max_tokens`; `tokens_per_fill` added at
/// every `fill_interval`, capped at `max_tokens`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "TokenBucket")]
pub struct RawTokenBucket {
    /// Most tokens the bucket holds, at least 1.
    pub max_tokens: u32,
    /// Tokens added at each fill, at least 1. Default 1.
    pub tokens_per_fill: Option<u32>,
    /// Time between fills (a duration greater than 0).
    pub fill_interval: Dur,
}

/// Retries.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Retry")]
pub struct RawRetry {
    /// Attempts in all, the first one included (from 1 to 10000). Default 3.
    pub max_attempts: Option<u32>,
    /// Wait before each retry. Default: no wait.
    pub backoff: Option<RawBackoff>,
    /// Randomisation of the wait (AWS names). Default "none".
    pub jitter: Option<RawJitter>,
    /// Failure causes that are retried. Default ["timeout", "unavailable", "error", "rejected"].
    pub retry_on: Option<Vec<RawCause>>,
    /// Finagle-style retry budget. Default: none.
    pub budget: Option<RawBudget>,
    /// Wait at least the server's Retry-After (HTTP 429 Retry-After, gRPC server
    /// pushback) before retrying: the wait is the larger of the backoff and it; the
    /// budget still applies. Default false.
    pub honor_retry_after: Option<bool>,
}

/// Backoff between attempts.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", expecting = "a backoff such as {\"constant\": \"100ms\"}")]
#[schemars(rename = "Backoff")]
pub enum RawBackoff {
    /// The same wait each time (a duration).
    Constant(Dur),
    /// The n-th wait is `initial × multiplier^(n−1)`, capped at `max`, floored at `min`.
    Exponential(RawExpBackoff),
}

/// Exponential backoff.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "ExpBackoff")]
pub struct RawExpBackoff {
    /// First wait (a duration).
    pub initial: Dur,
    /// Growth factor, at least 1. Default 2.
    pub multiplier: Option<f64>,
    /// Cap on a wait (a duration). Default "1h" (in effect no cap).
    pub max: Option<Dur>,
    /// Floor on a wait (a duration, at most `max`). Default "0s".
    pub min: Option<Dur>,
}

/// Jitter on backoff waits.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "Jitter")]
pub enum RawJitter {
    None,
    Full,
    Equal,
    Decorrelated,
}

/// A failure cause.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "Cause")]
pub enum RawCause {
    Timeout,
    Rejected,
    Unavailable,
    CircuitOpen,
    BulkheadFull,
    Error,
    Declined,
    RateLimited,
}

/// Finagle's RetryBudget: over a sliding 10 s window a retry is allowed while
/// `retries + 1 <= percent/100 × calls + min_per_second × 10`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Budget")]
pub struct RawBudget {
    /// Retries allowed as a percentage of first attempts, 0 to 100. Default 20.
    pub percent: Option<f64>,
    /// Retries allowed per second regardless of traffic, at least 0. Default 10.
    pub min_per_second: Option<f64>,
}

/// A circuit breaker. Window style: `window`, `minimum_calls`, `failure_rate_threshold`,
/// `slow_call`, `open_for`, `half_open_calls`. Consecutive style: `consecutive_failures`,
/// `open_for`, `success_threshold`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Breaker")]
pub struct RawBreaker {
    /// Window style: the calls considered, `{"count": N}` or `{"time": "10s"}`.
    /// Default {"count": 100}.
    pub window: Option<RawWindow>,
    /// Window style: calls recorded before the rate is judged, at least 1.
    /// Default 100 (or the count window's size, if smaller).
    pub minimum_calls: Option<u32>,
    /// Window style: failure percentage (0 to 100) at or above which the breaker opens.
    /// Default 50.
    pub failure_rate_threshold: Option<f64>,
    /// Window style: calls slower than `duration` count as slow; at or above
    /// `rate_threshold` percent slow calls the breaker opens. Default: off.
    pub slow_call: Option<RawSlowCall>,
    /// Both styles: how long the breaker stays open (a duration). Default "60s".
    pub open_for: Option<Dur>,
    /// Window style: calls let through while half-open, at least 1. Default 10.
    pub half_open_calls: Option<u32>,
    /// Consecutive style: failures in a row that open the breaker, at least 1.
    pub consecutive_failures: Option<u32>,
    /// Consecutive style: successes in a row, while half-open, that close it, at least 1.
    /// Default 1.
    pub success_threshold: Option<u32>,
    /// What one breaker keys on, besides the caller (per `scope`) and the policy:
    /// "service" (one per target service), "endpoint" (one per target endpoint) or
    /// "caller" (one for every call under this policy). Default "service".
    pub per: Option<RawBreakerPer>,
}

/// What one circuit breaker instance keys on.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "BreakerPer")]
pub enum RawBreakerPer {
    Service,
    Endpoint,
    Caller,
}

/// The window of a breaker.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", expecting = "a window such as {\"count\": 50} or {\"time\": \"10s\"}")]
#[schemars(rename = "Window")]
pub enum RawWindow {
    /// The last N calls (at least 1).
    Count(u32),
    /// The calls of the last period (a duration greater than 0).
    Time(Dur),
}

/// Slow-call detection of a window breaker.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "SlowCall")]
pub struct RawSlowCall {
    /// A call slower than this is slow (a duration).
    pub duration: Dur,
    /// Percentage of slow calls (0 to 100) at or above which the breaker opens.
    pub rate_threshold: f64,
}

/// A bulkhead: at most `max_concurrent` calls in flight.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Bulkhead")]
pub struct RawBulkhead {
    /// Most calls in flight at once, at least 1.
    pub max_concurrent: u32,
    /// How long a call waits for room before failing `bulkhead_full` (a duration).
    /// Default: wait without limit.
    pub max_wait: Option<Dur>,
    /// Whether the per-try `timeout` runs during the wait for room (resilience4j: the
    /// TimeLimiter wraps the Bulkhead) or starts once the call has room (an
    /// `asyncio.Semaphore` around a client call with its own timeout). Default true.
    pub timeout_covers_wait: Option<bool>,
}

/// Hedged requests.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Hedge")]
pub struct RawHedge {
    /// Send another attempt when no answer came this long after the last (a duration).
    pub after: Dur,
    /// Most extra attempts, at least 1. Default 1.
    pub max_extra: Option<u32>,
}

/// Load balancer.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "LoadBalancer")]
pub enum RawLoadBalancer {
    RoundRobin,
    Random,
    LeastOutstanding,
    /// Power of two choices.
    P2c,
}

/// Scope of a policy's state.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "Scope")]
pub enum RawScope {
    Replica,
    Service,
}

/// Envoy-style outlier detection.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Outlier")]
pub struct RawOutlier {
    /// Errors in a row from one replica that eject it, at least 1. Default 5.
    pub consecutive_errors: Option<u32>,
    /// Length of the first ejection; the n-th lasts n times this (a duration). Default "30s".
    pub ejection: Option<Dur>,
    /// Most replicas ejected at once, in percent (0 to 100). Default 10.
    pub max_ejection_percent: Option<f64>,
}

// ---------------------------------------------------------------------------------------
// Network
// ---------------------------------------------------------------------------------------

/// The network between services.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Network")]
pub struct RawNetwork {
    /// Latency of each message (each direction) between services without a link of their
    /// own (a distribution). Default: zero.
    pub latency: Option<RawDist>,
    /// Per-pair overrides. Default: none.
    pub links: Option<Vec<RawLink>>,
}

/// One directed link.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Link")]
pub struct RawLink {
    /// Sending service.
    pub from: String,
    /// Receiving service.
    pub to: String,
    /// Latency of each message on this link (a distribution). Default: the network's.
    pub latency: Option<RawDist>,
    /// Share of messages lost. Default 0 %.
    pub loss: Option<RawShare>,
}

// ---------------------------------------------------------------------------------------
// Topics and sagas
// ---------------------------------------------------------------------------------------

/// A Kafka-style topic.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Topic")]
pub struct RawTopic {
    /// Number of partitions, at least 1. Default 1.
    pub partitions: Option<u32>,
    /// How messages are keyed to partitions: "random", "round_robin" or
    /// {"entities": N}. Default "random".
    pub key: Option<RawKey>,
    /// Broker acknowledgement latency (a distribution). Default: zero.
    pub latency: Option<RawDist>,
    /// Outbox relay period (a duration). Default "100ms".
    pub relay_interval: Option<Dur>,
    /// Consumer groups. Default: none.
    pub subscribers: Option<Vec<RawSubscriber>>,
}

/// Message keys.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "Key")]
pub enum RawKey {
    Random,
    RoundRobin,
    /// Each request belongs to one of N entities; an entity's messages share a partition.
    Entities(u32),
}

/// One consumer group of a topic.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Subscriber")]
pub struct RawSubscriber {
    /// The group's name.
    pub group: String,
    /// The handler, `service.endpoint`.
    pub endpoint: String,
    /// Consumers in the group. Default: the handler service's replica count.
    pub consumers: Option<u32>,
    /// Handling attempts per message, the first included, from 1 to 10000. Default 10.
    pub max_attempts: Option<u32>,
    /// Wait between attempts. Default: none.
    pub backoff: Option<RawBackoff>,
    /// What happens to a message whose attempts are spent. Default "drop".
    pub on_exhausted: Option<RawOnExhausted>,
    /// Offset commit period (a duration). Default: commit after each message.
    pub commit_interval: Option<Dur>,
    /// Time before a dead consumer's partitions move (a duration). Default "10s".
    pub session_timeout: Option<Dur>,
    /// Whether handling a message twice is harmless. Default false.
    pub idempotent: Option<bool>,
}

/// A work queue (competing consumers) with SQS's and RabbitMQ's semantics.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "WorkQueue")]
pub struct RawWorkQueue {
    /// Broker acknowledgement latency of a send (a distribution). Default: zero.
    pub latency: Option<RawDist>,
    /// SQS's visibility timeout, counted from each receive (a duration): a message not
    /// deleted by then is handed out again, even while its first handler still runs.
    /// Default: none (RabbitMQ: a message is held until it is acked, nacked or its
    /// consumer dies).
    pub visibility_timeout: Option<Dur>,
    /// Receives after which a message that comes back is dead-lettered or dropped (SQS's
    /// redrive policy `maxReceiveCount`, RabbitMQ's `x-delivery-limit`), at least 1.
    /// Default: no limit.
    pub max_receive_count: Option<u32>,
    /// With `max_receive_count`: send exhausted messages to a dead-letter queue (true) or
    /// drop them (false). Default true.
    pub dead_letter: Option<bool>,
    /// Outbox relay period (a duration). Default "100ms".
    pub relay_interval: Option<Dur>,
    /// The consumer pools, at least one.
    pub consumers: Vec<RawQueueConsumer>,
}

/// A pool of consumers of a work queue.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "QueueConsumer")]
pub struct RawQueueConsumer {
    /// The handler, `service.endpoint`; it runs on the consumer's replica.
    pub endpoint: String,
    /// Consumers on each replica of the handler's service, at least 1. Default 1.
    pub consumers: Option<u32>,
    /// Most messages one consumer holds unacknowledged (RabbitMQ's basic.qos prefetch
    /// count), at least 1. Default 1.
    pub prefetch: Option<u32>,
    /// Whether handling a message twice is harmless. Default false.
    pub idempotent: Option<bool>,
}

/// Fate of an exhausted message.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "OnExhausted")]
pub enum RawOnExhausted {
    DeadLetter,
    Drop,
}

/// An orchestrated saga.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Saga")]
pub struct RawSaga {
    /// The service that runs the saga.
    pub orchestrator: String,
    /// Policy of every action and compensation call that names none. Default: none.
    pub policy: Option<String>,
    /// The steps, in order.
    pub steps: Vec<RawSagaStep>,
    /// "best_effort" or "persistent". Default "best_effort".
    pub compensation_policy: Option<RawCompensationPolicy>,
    /// Also compensate a step whose action timed out. Default false.
    pub compensate_unknown: Option<bool>,
    /// Keep saga state in a log so sagas survive an orchestrator crash. Default false.
    pub durable: Option<bool>,
}

/// One saga step.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "SagaStep")]
pub struct RawSagaStep {
    /// The step's name.
    pub name: String,
    /// The action: `service.endpoint`, or `{"call": "service.endpoint", "policy": NAME}`.
    pub action: RawSagaCall,
    /// The compensation, written as the action. Default: none.
    pub compensation: Option<RawSagaCall>,
    /// The point of no return; at most one step of a saga. Default false.
    pub pivot: Option<bool>,
    /// Retried until it succeeds, never compensated: every step after the pivot, and
    /// only those. Default false.
    pub retriable: Option<bool>,
}

/// A saga step's call: an endpoint under the saga's policy, or with its own policy.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(
    untagged,
    expecting = "expected `service.endpoint` or {\"call\": \"service.endpoint\", \"policy\": \"NAME\"}"
)]
#[schemars(rename = "SagaCall")]
pub enum RawSagaCall {
    /// `service.endpoint`, under the saga's policy.
    Endpoint(String),
    /// An endpoint with its own policy.
    With(RawSagaCallWith),
}

/// A saga step's call with its own policy.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "SagaCallWith")]
pub struct RawSagaCallWith {
    /// The endpoint, `service.endpoint`.
    pub call: String,
    /// The policy of this call (instead of the saga's). Default: the saga's.
    pub policy: Option<String>,
}

impl RawSagaCall {
    /// The endpoint, as written.
    pub fn endpoint(&self) -> &str {
        match self {
            RawSagaCall::Endpoint(e) => e,
            RawSagaCall::With(w) => &w.call,
        }
    }

    /// The step's own policy, when it names one.
    pub fn policy(&self) -> Option<&String> {
        match self {
            RawSagaCall::Endpoint(_) => None,
            RawSagaCall::With(w) => w.policy.as_ref(),
        }
    }
}

/// How compensations are run.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "CompensationPolicy")]
pub enum RawCompensationPolicy {
    BestEffort,
    Persistent,
}

// ---------------------------------------------------------------------------------------
// Workload
// ---------------------------------------------------------------------------------------

/// One client population.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "a workload object")]
#[schemars(rename = "Workload")]
pub struct RawWorkload {
    /// The workload's name.
    pub name: String,
    /// What it calls: `service.endpoint`, or `saga:NAME` to start one saga per request.
    pub target: String,
    /// How requests arrive.
    pub arrival: RawArrival,
    /// Rate changes over time, open arrivals only, sorted by `at`. Default: none.
    pub schedule: Option<Vec<RawRateChange>>,
    /// The client's own policy (not with a saga target: the saga's policy governs its
    /// calls). Default: none.
    pub policy: Option<String>,
    /// The criticality of its requests, carried by every call made while serving them:
    /// "critical", "default" or "sheddable". Default "default".
    pub priority: Option<RawPriority>,
}

/// Arrival process.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", expecting = "an arrival such as {\"poisson\": {\"rate\": 100}}")]
#[schemars(rename = "Arrival")]
pub enum RawArrival {
    /// Open: Poisson arrivals.
    Poisson(RawRate),
    /// Open: evenly spaced arrivals.
    Constant(RawRate),
    /// Closed: users who send a request, wait for the answer, then think.
    Closed(RawClosed),
}

/// An open arrival rate.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Rate")]
pub struct RawRate {
    /// Arrivals per simulated second, greater than 0 and at most 1000000000.
    pub rate: f64,
}

/// A closed population.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Closed")]
pub struct RawClosed {
    /// Number of users, at least 1.
    pub users: u32,
    /// Think time between an answer and the user's next request (a distribution).
    pub think: RawDist,
}

/// A change of rate.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "RateChange")]
pub struct RawRateChange {
    /// When the change starts (a duration from the start of the run, less than `duration`).
    pub at: Dur,
    /// The new rate, arrivals per second, from 0 to 1000000000.
    pub rate: f64,
    /// Reach the new rate linearly over this long (a duration). Default "0s" (at once).
    pub ramp: Option<Dur>,
}

// ---------------------------------------------------------------------------------------
// Faults
// ---------------------------------------------------------------------------------------

/// A fault, externally tagged: `{"delay": {...}}`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", expecting = "a fault such as {\"delay\": {...}}")]
#[schemars(rename = "Fault")]
pub enum RawFault {
    /// Adds latency to requests the target serves.
    Delay(RawDelay),
    /// Multiplies the target's service time.
    Slowdown(RawSlowdown),
    /// Fails a share of the target's requests at once with `error`.
    Abort(RawAbort),
    /// Kills one replica.
    Crash(RawCrash),
    /// Drops every message between two groups of services, both ways.
    Partition(RawPartition),
    /// Loses a share of the messages from one service to another.
    Loss(RawLoss),
    /// Makes a topic's broker unreachable: publishes fail, consumers get nothing.
    Outage(RawOutage),
}

impl RawFault {
    /// The key of its kind, as written (`"delay"`, `"crash"`, ...).
    pub fn kind_key(&self) -> &'static str {
        match self {
            RawFault::Delay(_) => "delay",
            RawFault::Slowdown(_) => "slowdown",
            RawFault::Abort(_) => "abort",
            RawFault::Crash(_) => "crash",
            RawFault::Partition(_) => "partition",
            RawFault::Loss(_) => "loss",
            RawFault::Outage(_) => "outage",
        }
    }

    /// The name the scenario gives the fault, if any.
    pub fn name(&self) -> Option<&String> {
        match self {
            RawFault::Delay(f) => f.name.as_ref(),
            RawFault::Slowdown(f) => f.name.as_ref(),
            RawFault::Abort(f) => f.name.as_ref(),
            RawFault::Crash(f) => f.name.as_ref(),
            RawFault::Partition(f) => f.name.as_ref(),
            RawFault::Loss(f) => f.name.as_ref(),
            RawFault::Outage(f) => f.name.as_ref(),
        }
    }
}

/// Added delay.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Delay")]
pub struct RawDelay {
    /// A name for reports, phases and thresholds (`p99 < 2s during NAME`); unique among
    /// the faults. Default: its label, e.g. "delay payment 30s+20s". faultline extension.
    pub name: Option<String>,
    /// "service", "service#replica" or "service.endpoint".
    pub target: String,
    /// When it begins (a duration from the start of the run).
    pub start: Dur,
    /// How long it lasts (a duration). Default: until the end.
    pub duration: Option<Dur>,
    /// The added latency (a distribution).
    pub latency: RawDist,
    /// Share of requests delayed, 0 to 100. Default 100.
    pub percent: Option<f64>,
}

/// Slowdown.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Slowdown")]
pub struct RawSlowdown {
    /// A name for reports, phases and thresholds (`p99 < 2s during NAME`); unique among
    /// the faults. Default: its label, e.g. "delay payment 30s+20s". faultline extension.
    pub name: Option<String>,
    /// "service", "service#replica" or "service.endpoint".
    pub target: String,
    /// Factor on the service time, greater than 0.
    pub factor: f64,
    /// When it begins (a duration).
    pub start: Dur,
    /// How long it lasts (a duration). Default: until the end.
    pub duration: Option<Dur>,
}

/// Injected errors.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Abort")]
pub struct RawAbort {
    /// A name for reports, phases and thresholds (`p99 < 2s during NAME`); unique among
    /// the faults. Default: its label, e.g. "delay payment 30s+20s". faultline extension.
    pub name: Option<String>,
    /// "service", "service#replica" or "service.endpoint".
    pub target: String,
    /// Share of requests aborted, 0 to 100. Default 100.
    pub percent: Option<f64>,
    /// When it begins (a duration).
    pub start: Dur,
    /// How long it lasts (a duration). Default: until the end.
    pub duration: Option<Dur>,
}

/// A replica crash.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Crash")]
pub struct RawCrash {
    /// A name for reports, phases and thresholds (`p99 < 2s during NAME`); unique among
    /// the faults. Default: its label, e.g. "delay payment 30s+20s". faultline extension.
    pub name: Option<String>,
    /// The replica, "service#index" (zero-based).
    pub target: String,
    /// When it crashes (a duration).
    pub start: Dur,
    /// How long until it restarts (a duration). Default: never.
    pub restart_after: Option<Dur>,
}

/// A network partition.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Partition")]
pub struct RawPartition {
    /// A name for reports, phases and thresholds (`p99 < 2s during NAME`); unique among
    /// the faults. Default: its label, e.g. "delay payment 30s+20s". faultline extension.
    pub name: Option<String>,
    /// Exactly two groups of service names.
    pub between: Vec<Vec<String>>,
    /// When it begins (a duration).
    pub start: Dur,
    /// How long it lasts (a duration). Default: until the end.
    pub duration: Option<Dur>,
}

/// Message loss on one direction.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Loss")]
pub struct RawLoss {
    /// A name for reports, phases and thresholds (`p99 < 2s during NAME`); unique among
    /// the faults. Default: its label, e.g. "delay payment 30s+20s". faultline extension.
    pub name: Option<String>,
    /// Sending service.
    pub from: String,
    /// Receiving service.
    pub to: String,
    /// Share of messages lost, 0 to 100.
    pub percent: f64,
    /// When it begins (a duration).
    pub start: Dur,
    /// How long it lasts (a duration). Default: until the end.
    pub duration: Option<Dur>,
}

/// A broker outage.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Outage")]
pub struct RawOutage {
    /// A name for reports, phases and thresholds (`p99 < 2s during NAME`); unique among
    /// the faults. Default: its label, e.g. "delay payment 30s+20s". faultline extension.
    pub name: Option<String>,
    /// "topic:NAME" or "queue:NAME".
    pub target: String,
    /// When it begins (a duration).
    pub start: Dur,
    /// How long it lasts (a duration). Default: until the end.
    pub duration: Option<Dur>,
}
