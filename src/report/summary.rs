//! [`Summary`]: every figure a run shows, built once from the spec and the run, in the
//! scenario's order. Its `Serialize` is the summary JSON (the contract listed in
//! README.md); the CLI table, the HTML and Markdown report and `compare` read its fields.
//!
//! The fields hold the figures as measured; the JSON rounds them as it writes them
//! (milliseconds and seconds to 3 decimals, utilisations and the window to 6), so that a
//! comparison's means are taken over exact values.

use super::phases::{phases, recovery};
use crate::metrics::{LatencyHist, Outcomes};
use crate::model::RunOutput;
use crate::spec::{Cause, Spec};
use serde::ser::{Serialize, SerializeMap, Serializer};
use std::collections::{BTreeMap, BTreeSet};

/// Rounds to 3 decimals (a microsecond, for milliseconds), so output is stable and short.
pub(crate) fn r3(v: f64) -> f64 {
    (v * 1e3).round() / 1e3
}

/// Rounds to 6 decimals.
pub(crate) fn r6(v: f64) -> f64 {
    (v * 1e6).round() / 1e6
}

fn ser_r3<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(r3(*v))
}

fn ser_opt_r6<S: Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(v) => s.serialize_f64(r6(*v)),
        None => s.serialize_none(),
    }
}

fn ser_r6<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(r6(*v))
}

/// Figures by name, in the scenario's order; written as a JSON object.
///
/// Names are unique in a resolved scenario. Should two entries share one, the JSON
/// object (and what [`Named::iter`] yields) keeps the first one's place and the last
/// one's figures, as a JSON map would; [`Named::all`] keeps every entry.
#[derive(Clone, Debug, PartialEq)]
pub struct Named<T>(pub Vec<(String, T)>);

impl<T> Default for Named<T> {
    fn default() -> Self {
        Named(Vec::new())
    }
}

impl<T> Named<T> {
    /// Every entry, duplicates included, in order.
    pub fn all(&self) -> impl Iterator<Item = (&str, &T)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// One entry per name, as the JSON object holds them.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &T)> {
        let mut last: BTreeMap<&str, usize> = BTreeMap::new();
        for (i, (k, _)) in self.0.iter().enumerate() {
            last.insert(k.as_str(), i);
        }
        let mut seen: BTreeSet<&str> = BTreeSet::new();
        self.0.iter().filter_map(move |(k, _)| {
            if !seen.insert(k.as_str()) {
                return None;
            }
            Some((k.as_str(), &self.0[last[k.as_str()]].1))
        })
    }

    /// The first entry named `name`.
    pub fn get(&self, name: &str) -> Option<&T> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<T: Serialize> Serialize for Named<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let entries: Vec<(&str, &T)> = self.iter().collect();
        let mut m = s.serialize_map(Some(entries.len()))?;
        for (k, v) in entries {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

/// Latency in milliseconds; `None` when nothing was measured (written `{}`).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Latency(pub Option<Quantiles>);

/// The latency figures of a histogram with at least one value, in milliseconds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Quantiles {
    pub mean: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
}

impl Latency {
    pub fn of(h: &LatencyHist) -> Latency {
        if h.count() == 0 {
            return Latency(None);
        }
        let q = |p: f64| h.quantile_ms(p).unwrap_or(0.0);
        Latency(Some(Quantiles {
            mean: h.mean_ms().unwrap_or(0.0),
            p50: q(0.5),
            p90: q(0.9),
            p99: q(0.99),
            p999: q(0.999),
            max: h.max_ms().unwrap_or(0.0),
        }))
    }

    /// One figure, when anything was measured.
    pub fn get(&self, f: impl Fn(&Quantiles) -> f64) -> Option<f64> {
        self.0.as_ref().map(f)
    }
}

impl Serialize for Latency {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let Some(q) = &self.0 else { return s.serialize_map(Some(0))?.end() };
        let mut m = s.serialize_map(Some(6))?;
        for (k, v) in [("mean", q.mean), ("p50", q.p50), ("p90", q.p90), ("p99", q.p99), ("p999", q.p999)] {
            m.serialize_entry(k, &r3(v))?;
        }
        m.serialize_entry("max", &r3(q.max))?;
        m.end()
    }
}

/// Failures by cause, indexed by `Cause as usize`; written in the order of
/// [`Cause::ALL`], every cause present.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Failed(pub [u64; Cause::COUNT]);

impl Failed {
    pub fn of(o: &Outcomes) -> Failed {
        Failed(o.failed)
    }

    pub fn total(&self) -> u64 {
        self.0.iter().sum()
    }

    /// The non-zero counts, in the order of [`Cause::ALL`].
    pub fn nonzero(&self) -> impl Iterator<Item = (Cause, u64)> + '_ {
        Cause::ALL.iter().map(|c| (*c, self.0[*c as usize])).filter(|(_, n)| *n > 0)
    }
}

impl Serialize for Failed {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(Cause::ALL.len()))?;
        for c in Cause::ALL {
            m.serialize_entry(c.name(), &self.0[c as usize])?;
        }
        m.end()
    }
}

/// The figures of one run. Field order is the JSON's key order.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Summary {
    pub scenario: String,
    pub variant: Option<String>,
    pub seed: u64,
    /// The measured window (after warm-up), in seconds.
    #[serde(serialize_with = "ser_r6")]
    pub window_s: f64,
    pub events: u64,
    pub workloads: Named<WorkloadSummary>,
    pub endpoints: Named<EndpointSummary>,
    /// Every call edge, a workload's client's included.
    pub calls: Named<CallSummary>,
    pub services: Named<ServiceSummary>,
    pub sagas: Named<SagaSummary>,
    pub topics: Named<TopicSummary>,
    /// Every circuit breaker instance once, named after what it keys on:
    /// `CALLER->SERVICE/POLICY`, `CALLER->SERVICE.ENDPOINT/POLICY` or `CALLER->*/POLICY`.
    #[serde(skip_serializing_if = "Named::is_empty")]
    pub breakers: Named<BreakerInstance>,
    /// Per `cache` step, named `caller.endpoint->cache.get` (issue 13); absent when the
    /// scenario has none.
    #[serde(skip_serializing_if = "Named::is_empty")]
    pub caches: Named<CacheSummary>,
    /// Work queues (issue 13); left out of the JSON when the scenario has none.
    #[serde(skip_serializing_if = "Named::is_empty")]
    pub queues: Named<QueueSummary>,
    /// Per workload, its priority and what shedding did to it (issue 14); left out when
    /// no workload sets a priority and no service sheds.
    #[serde(skip_serializing_if = "Named::is_empty")]
    pub priorities: Named<PrioritySummary>,
    /// Each threshold of the scenario, evaluated, in file order (issue 11).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub thresholds: Vec<ThresholdVerdict>,
    /// The run cut into phases: `before`, one per fault window and schedule step,
    /// `after` (issue 11).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub phases: Vec<Phase>,
    /// Per fault with an end, per workload: seconds from the fault's end until the
    /// workload recovered (issue 11).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub recovery: Vec<Recovery>,
    /// The warm-up left out of the figures, in seconds (not in the JSON).
    #[serde(skip)]
    pub warmup_s: f64,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct WorkloadSummary {
    pub offered: u64,
    pub ok: u64,
    pub degraded: u64,
    pub failed: Failed,
    pub in_flight: u64,
    /// `ok` per second of the window (0 for an empty window).
    #[serde(serialize_with = "ser_r3")]
    pub goodput_rps: f64,
    /// Successful responses (ok, degraded included) only.
    pub latency_ms: Latency,
    /// Failed responses only.
    pub failed_latency_ms: Latency,
}

/// A workload's priority, its requests offered and ok (as in `workloads`), and the
/// executions of their call trees a shedder refused or dropped.
#[derive(Clone, Debug, serde::Serialize)]
pub struct PrioritySummary {
    pub priority: &'static str,
    pub offered: u64,
    pub ok: u64,
    pub shed: u64,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct EndpointSummary {
    pub requests: u64,
    pub ok: u64,
    /// Degraded successes (a subset of `ok`).
    pub degraded: u64,
    pub failed: Failed,
    /// Successful executions only.
    pub latency_ms: Latency,
    /// Failed (and refused) executions only.
    pub failed_latency_ms: Latency,
    #[serde(serialize_with = "ser_r6")]
    pub utilization: f64,
    pub queue_max: u64,
    pub abandoned: u64,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct CallSummary {
    pub calls: u64,
    pub attempts: u64,
    pub retries: u64,
    pub hedges: u64,
    pub ok: u64,
    /// Degraded successes (a subset of `ok`).
    pub degraded: u64,
    pub failed: Failed,
    /// Successful calls only.
    pub latency_ms: Latency,
    /// Failed calls only.
    pub failed_latency_ms: Latency,
    pub breaker: BreakerSummary,
    /// The bulkhead the calls go through, when their policy has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bulkhead: Option<BulkheadSummary>,
    /// A workload's client's edge (not a service's call); not in the JSON.
    #[serde(skip)]
    pub client: bool,
}

#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct BreakerSummary {
    pub opened: u64,
    /// Open time summed over the caller's replicas, in seconds.
    #[serde(serialize_with = "ser_r3")]
    pub open_s: f64,
}

/// A call edge's bulkhead: the most permits out in one instance, the attempts that
/// queued for one, their wait (those that got a permit), and the refusals.
#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct BulkheadSummary {
    pub max_in_use: u32,
    pub waited: u64,
    pub wait_ms: Latency,
    pub full: u64,
    /// `max_concurrent` of the policy (not in the JSON).
    #[serde(skip)]
    pub limit: u32,
    /// With a per-try timeout: whether it counts the wait (not in the JSON).
    #[serde(skip)]
    pub timeout_covers_wait: Option<bool>,
}

/// One circuit breaker instance: what it keys on, its state machines (caller replicas,
/// or 1 with `scope: "service"`), and its figures summed over them.
#[derive(Clone, Debug, serde::Serialize)]
pub struct BreakerInstance {
    pub per: &'static str,
    pub scope: &'static str,
    pub state_machines: u32,
    pub opened: u64,
    #[serde(serialize_with = "ser_r3")]
    pub open_s: f64,
    /// Calls refused `circuit_open`.
    pub refused: u64,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct ServiceSummary {
    pub replicas: u32,
    #[serde(serialize_with = "ser_r6")]
    pub utilization: f64,
    pub queue_max: u64,
    /// Its HorizontalPodAutoscaler's figures (an autoscaled service only; `replicas`
    /// is then its `max_replicas`, `utilization` against the replicas it had).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub autoscale: Option<AutoscaleSummary>,
}

/// An autoscaled service's figures (docs/scenario-format.md, Autoscaling).
#[derive(Clone, Debug, serde::Serialize)]
pub struct AutoscaleSummary {
    pub min_seen: u32,
    pub max_seen: u32,
    pub final_replicas: u32,
    pub scale_ups: u64,
    pub scale_downs: u64,
    #[serde(serialize_with = "ser_opt_r6")]
    pub first_scale_up_s: Option<f64>,
    #[serde(serialize_with = "ser_opt_r6")]
    pub first_ready_s: Option<f64>,
    #[serde(serialize_with = "ser_opt_r6")]
    pub first_scale_down_s: Option<f64>,
    #[serde(serialize_with = "ser_r3")]
    pub replica_seconds: f64,
}

/// Per saga: the contract's keys first (`started` … `latency_ms`), then
/// `duplicate_effects` and `latency_ms_by_outcome`.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct SagaSummary {
    pub started: u64,
    pub completed: u64,
    pub compensated: u64,
    pub compensation_failed: u64,
    pub abandoned: u64,
    pub in_flight: u64,
    pub orphaned: u64,
    /// Completed sagas only.
    pub latency_ms: Latency,
    /// Sagas that ended without completing.
    pub failed_latency_ms: Latency,
    pub duplicate_effects: u64,
    pub latency_ms_by_outcome: ByOutcome,
}

/// A saga's latency per outcome, in the order of `SagaFigures::latency_by_outcome`.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct ByOutcome {
    pub completed: Latency,
    pub compensated: Latency,
    pub compensation_failed: Latency,
    pub abandoned: Latency,
}

#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct TopicSummary {
    pub published: u64,
    pub publish_failed: u64,
    pub groups: Named<GroupSummary>,
}

/// Per consumer group: the contract's keys first (`delivered` … `latency_ms`), then
/// `inconsistent`, `dropped` and `in_flight`.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct GroupSummary {
    pub delivered: u64,
    pub redelivered: u64,
    pub duplicates: u64,
    pub dead_lettered: u64,
    pub max_lag: u64,
    pub latency_ms: Latency,
    pub inconsistent: u64,
    pub dropped: u64,
    pub in_flight: u64,
}

/// Per cache step: its reads (`gets = hits + misses + errors + abandoned + in_flight`),
/// the hit ratio they found, and its populates.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct CacheSummary {
    pub gets: u64,
    pub hits: u64,
    pub misses: u64,
    /// Reads that failed (unreachable, refused, erred, timed out).
    pub errors: u64,
    /// Reads answered after their execution had ended.
    pub abandoned: u64,
    pub in_flight: u64,
    /// hits ÷ (hits + misses), in percent (`null` when no read was answered).
    #[serde(serialize_with = "ser_opt_r6")]
    pub hit_ratio: Option<f64>,
    pub populates: u64,
    pub populate_failed: u64,
}

/// Per work queue: `sent = deleted + dead_lettered + dropped + in_flight`.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct QueueSummary {
    pub sent: u64,
    pub send_failed: u64,
    pub received: u64,
    pub deleted: u64,
    pub duplicates: u64,
    pub inconsistent: u64,
    pub dead_lettered: u64,
    pub dropped: u64,
    pub in_flight: u64,
    pub max_depth: u64,
    /// Time average of the visible messages over the window.
    #[serde(serialize_with = "ser_r3")]
    pub mean_depth: f64,
    /// Largest age of the oldest visible message, in seconds.
    #[serde(serialize_with = "ser_r3")]
    pub max_age_s: f64,
    /// Send to deletion, deleted messages only.
    pub latency_ms: Latency,
}

/// One threshold of the scenario, evaluated on this run.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ThresholdVerdict {
    /// What it is about: a workload's name, `saga:NAME` or `topic:TOPIC/GROUP`.
    pub scope: String,
    /// The expression as written, e.g. `p99 < 500ms during brownout`.
    pub expression: String,
    /// The measured value in the expression's unit (`null`: nothing measured).
    pub value: Option<f64>,
    pub pass: bool,
}

/// One phase of the run: a span of the measured window.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Phase {
    pub name: String,
    #[serde(serialize_with = "ser_r6")]
    pub from_s: f64,
    #[serde(serialize_with = "ser_r6")]
    pub to_s: f64,
    pub workloads: Named<PhaseWorkload>,
}

/// A workload's figures within one phase (requests that started in it).
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct PhaseWorkload {
    pub offered: u64,
    /// Successes, degraded ones included (as the workload's `ok`).
    pub ok: u64,
    /// Degraded successes (a subset of `ok`).
    pub degraded: u64,
    pub failed: u64,
    /// Still running at the end of the run: `offered - ok - failed`.
    pub in_flight: u64,
    /// ok / (ok + failed), degraded counted as success, in percent (`null` when none
    /// finished).
    #[serde(serialize_with = "ser_opt_r6")]
    pub success: Option<f64>,
    #[serde(serialize_with = "ser_r3")]
    pub goodput_rps: f64,
    /// Of successful responses (ok and degraded) only.
    pub latency_ms: Latency,
}

/// How long each workload took to recover from one fault.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Recovery {
    /// The fault's name (its `name`, or its label).
    pub fault: String,
    /// When the fault ended, in seconds of simulated time.
    #[serde(serialize_with = "ser_r6")]
    pub end_s: f64,
    /// Seconds from the fault's end until the workload was back (`null`: not by the
    /// end of the run, or no `before` figures to be back to; the rule is in
    /// `report/phases.rs` and docs/scenario-format.md).
    pub workloads: Named<Option<f64>>,
}

impl Summary {
    /// The figures of `out`, a run of `spec`. Sagas, topics and groups the run has no
    /// figures for (the figures do not match the spec) read as zeros.
    pub fn of(spec: &Spec, out: &RunOutput) -> Summary {
        let window = out.window_s;
        let workloads = spec
            .workloads
            .iter()
            .zip(&out.workloads)
            .map(|(w, f)| {
                let s = WorkloadSummary {
                    offered: f.offered,
                    ok: f.outcomes.ok,
                    degraded: f.outcomes.degraded,
                    failed: Failed::of(&f.outcomes),
                    in_flight: f.in_flight,
                    goodput_rps: if window > 0.0 { f.outcomes.ok as f64 / window } else { 0.0 },
                    latency_ms: Latency::of(&f.latency),
                    failed_latency_ms: Latency::of(&f.failed_latency),
                };
                (w.name.clone(), s)
            })
            .collect();
        let endpoints = spec
            .endpoints
            .iter()
            .zip(&out.endpoints)
            .map(|(e, f)| {
                let s = EndpointSummary {
                    requests: f.requests,
                    ok: f.outcomes.ok,
                    degraded: f.outcomes.degraded,
                    failed: Failed::of(&f.outcomes),
                    latency_ms: Latency::of(&f.latency),
                    failed_latency_ms: Latency::of(&f.failed_latency),
                    utilization: f.utilization,
                    queue_max: f.queue_max,
                    abandoned: f.abandoned,
                };
                (e.name.clone(), s)
            })
            .collect();
        let bulk_policy = crate::model::edge_bulkhead_policy(spec);
        let calls = spec
            .edges
            .iter()
            .zip(&out.edges)
            .zip(&bulk_policy)
            .map(|((e, f), bp)| {
                let pol = bp.map(|p| &spec.policies[p as usize]);
                let bh = pol.and_then(|p| p.bulkhead.as_ref());
                let s = CallSummary {
                    calls: f.calls,
                    attempts: f.attempts,
                    retries: f.retries,
                    hedges: f.hedges,
                    ok: f.outcomes.ok,
                    degraded: f.outcomes.degraded,
                    failed: Failed::of(&f.outcomes),
                    latency_ms: Latency::of(&f.latency),
                    failed_latency_ms: Latency::of(&f.failed_latency),
                    breaker: BreakerSummary { opened: f.breaker_opened, open_s: f.breaker_open_s },
                    bulkhead: f.bulkhead.as_ref().map(|b| BulkheadSummary {
                        max_in_use: b.max_in_use,
                        waited: b.waited,
                        wait_ms: Latency::of(&b.wait),
                        full: b.full,
                        limit: bh.map_or(0, |b| b.max_concurrent),
                        timeout_covers_wait: pol
                            .and_then(|p| p.timeout_ns)
                            .and(bh.map(|b| b.timeout_covers_wait)),
                    }),
                    client: e.caller.is_none(),
                };
                (e.name.clone(), s)
            })
            .collect();
        let phases = phases(spec, out);
        let services = spec
            .services
            .iter()
            .zip(&out.services)
            .map(|(s, f)| {
                let v = ServiceSummary {
                    replicas: s.replicas,
                    utilization: f.utilization,
                    queue_max: f.queue_max,
                    autoscale: f.autoscale.as_ref().map(|a| AutoscaleSummary {
                        min_seen: a.min_seen,
                        max_seen: a.max_seen,
                        final_replicas: a.final_replicas,
                        scale_ups: a.scale_ups,
                        scale_downs: a.scale_downs,
                        first_scale_up_s: a.first_scale_up_s,
                        first_ready_s: a.first_ready_s,
                        first_scale_down_s: a.first_scale_down_s,
                        replica_seconds: a.replica_seconds,
                    }),
                };
                (s.name.clone(), v)
            })
            .collect();
        let mut summary = Summary {
            scenario: spec.name.clone(),
            variant: spec.variant.clone(),
            seed: spec.seed,
            window_s: window,
            events: out.events,
            workloads: Named(workloads),
            endpoints: Named(endpoints),
            calls: Named(calls),
            breakers: Named(
                out.breakers
                    .iter()
                    .map(|b| {
                        let v = BreakerInstance {
                            per: b.per,
                            scope: b.scope,
                            state_machines: b.state_machines,
                            opened: b.opened,
                            open_s: b.open_ns as f64 / 1e9,
                            refused: b.refused,
                        };
                        (b.name.clone(), v)
                    })
                    .collect(),
            ),
            services: Named(services),
            sagas: sagas(spec, out),
            topics: topics(spec, out),
            caches: caches(spec, out),
            queues: queues(spec, out),
            priorities: priorities(spec, out),
            thresholds: Vec::new(),
            recovery: recovery(spec, out),
            phases,
            warmup_s: spec.warmup_ns as f64 / 1e9,
        };
        summary.thresholds = super::thresholds::evaluate(spec, &summary);
        summary
    }
}

fn sagas(spec: &Spec, out: &RunOutput) -> Named<SagaSummary> {
    let matched = out.sagas.len() == spec.sagas.len();
    let zero = Default::default();
    let list = spec.sagas.iter().enumerate().map(|(i, s)| {
        let f = if matched { &out.sagas[i] } else { &zero };
        let by = &f.latency_by_outcome;
        let v = SagaSummary {
            started: f.started,
            completed: f.completed,
            compensated: f.compensated,
            compensation_failed: f.compensation_failed,
            abandoned: f.abandoned,
            in_flight: f.in_flight,
            orphaned: f.orphaned,
            latency_ms: Latency::of(&f.latency),
            failed_latency_ms: Latency::of(&f.failed_latency),
            duplicate_effects: f.duplicate_effects,
            latency_ms_by_outcome: ByOutcome {
                completed: Latency::of(&by[0]),
                compensated: Latency::of(&by[1]),
                compensation_failed: Latency::of(&by[2]),
                abandoned: Latency::of(&by[3]),
            },
        };
        (s.name.clone(), v)
    });
    Named(list.collect())
}

fn topics(spec: &Spec, out: &RunOutput) -> Named<TopicSummary> {
    let matched = out.topics.len() == spec.topics.len();
    let zero_topic = Default::default();
    let zero_group = Default::default();
    let list = spec.topics.iter().enumerate().map(|(i, t)| {
        let tf = if matched { &out.topics[i] } else { &zero_topic };
        let groups_matched = tf.groups.len() == t.groups.len();
        let groups = t.groups.iter().enumerate().map(|(k, g)| {
            let f = if groups_matched { &tf.groups[k] } else { &zero_group };
            let v = GroupSummary {
                delivered: f.delivered,
                redelivered: f.redelivered,
                duplicates: f.duplicates,
                dead_lettered: f.dead_lettered,
                max_lag: f.max_lag,
                latency_ms: Latency::of(&f.latency),
                inconsistent: f.inconsistent,
                dropped: f.dropped,
                in_flight: f.in_flight,
            };
            (g.name.clone(), v)
        });
        let v = TopicSummary {
            published: tf.published,
            publish_failed: tf.publish_failed,
            groups: Named(groups.collect()),
        };
        (t.name.clone(), v)
    });
    Named(list.collect())
}

fn caches(spec: &Spec, out: &RunOutput) -> Named<CacheSummary> {
    let matched = out.caches.len() == spec.caches.len();
    let zero = Default::default();
    let list = spec.caches.iter().enumerate().map(|(i, c)| {
        let f = if matched { &out.caches[i] } else { &zero };
        let answered = f.hits + f.misses;
        let v = CacheSummary {
            gets: f.gets,
            hits: f.hits,
            misses: f.misses,
            errors: f.errors,
            abandoned: f.abandoned,
            in_flight: f.in_flight,
            hit_ratio: (answered > 0).then(|| 100.0 * f.hits as f64 / answered as f64),
            populates: f.populates,
            populate_failed: f.populate_failed,
        };
        (c.name.clone(), v)
    });
    Named(list.collect())
}

fn priorities(spec: &Spec, out: &RunOutput) -> Named<PrioritySummary> {
    if !spec.has_priorities() || out.workloads.len() != spec.workloads.len() {
        return Named(Vec::new());
    }
    let list = spec.workloads.iter().zip(&out.workloads).map(|(w, f)| {
        let v = PrioritySummary {
            priority: w.priority.unwrap_or_default().name(),
            offered: f.offered,
            ok: f.outcomes.ok,
            shed: f.shed,
        };
        (w.name.clone(), v)
    });
    Named(list.collect())
}

fn queues(spec: &Spec, out: &RunOutput) -> Named<QueueSummary> {
    let matched = out.queues.len() == spec.queues.len();
    let zero = Default::default();
    let list = spec.queues.iter().enumerate().map(|(i, q)| {
        let f = if matched { &out.queues[i] } else { &zero };
        let v = QueueSummary {
            sent: f.sent,
            send_failed: f.send_failed,
            received: f.received,
            deleted: f.deleted,
            duplicates: f.duplicates,
            inconsistent: f.inconsistent,
            dead_lettered: f.dead_lettered,
            dropped: f.dropped,
            in_flight: f.in_flight,
            max_depth: f.max_depth,
            mean_depth: f.mean_depth,
            max_age_s: f.max_age_s,
            latency_ms: Latency::of(&f.latency),
        };
        (q.name.clone(), v)
    });
    Named(list.collect())
}

/// The summary JSON of one run as a JSON value (for scripts and tests; the CLI writes
/// [`Summary`] directly, with the same bytes).
pub fn summary_json(spec: &Spec, out: &RunOutput) -> serde_json::Value {
    serde_json::to_value(Summary::of(spec, out)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_writes_a_json_object_as_a_map_would() {
        let n = Named(vec![("a".to_string(), 1u64), ("b".to_string(), 2), ("a".to_string(), 3)]);
        let mut m = serde_json::Map::new();
        for (k, v) in &n.0 {
            m.insert(k.clone(), (*v).into());
        }
        assert_eq!(serde_json::to_string(&n).unwrap(), serde_json::to_string(&m).unwrap());
        assert_eq!(n.iter().collect::<Vec<_>>(), [("a", &3), ("b", &2)]);
        assert_eq!(n.all().count(), 3);
    }

    #[test]
    fn an_empty_latency_is_an_empty_object() {
        assert_eq!(serde_json::to_string(&Latency(None)).unwrap(), "{}");
        let q = Quantiles { mean: 1.23456, p50: 1.0, p90: 2.0, p99: 3.0, p999: 4.0, max: f64::NAN };
        assert_eq!(
            serde_json::to_string(&Latency(Some(q))).unwrap(),
            r#"{"mean":1.235,"p50":1.0,"p90":2.0,"p99":3.0,"p999":4.0,"max":null}"#
        );
    }
}
