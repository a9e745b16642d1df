//! A service's `autoscale` (docs/scenario-format.md, Autoscaling): Kubernetes'
//! HorizontalPodAutoscaler v2 with its defaults, and KEDA's lag metric.

use super::{MAX_REPLICAS_PER_SERVICE, P, R, fmt_f};
use crate::policy::hpa::{Autoscale, HpaParams, PolicyKind, Rules, ScaleMetric, ScalingPolicy, Select};
use crate::scenario::raw::{
    RawAutoscale, RawScaleMetric, RawScalingPolicyType, RawScalingRules, RawScenario, RawSelectPolicy,
    RawService,
};
use crate::spec::{NS_PER_S, Nanos};

/// The replica slots a service has: `max_replicas` for an autoscaled one (never fewer
/// than its `replicas`, which is refused anyway), else its `replicas`.
pub(super) fn slots(s: &RawService) -> u32 {
    let n = s.replicas.unwrap_or(1);
    match &s.autoscale {
        Some(a) => a.max_replicas.max(n),
        None => n,
    }
}

/// Kubernetes' validation: a window of at most one hour, a period of at most 30 min.
const MAX_WINDOW_NS: Nanos = 3600 * NS_PER_S;
const MAX_PERIOD_NS: Nanos = 1800 * NS_PER_S;

impl<'a> R<'a> {
    /// `replicas`: the service's count at the start (already checked to be at least 1).
    pub(super) fn autoscale(
        &mut self,
        raw: &'a RawScenario,
        sname: &str,
        replicas: u32,
        a: &RawAutoscale,
        path: &P,
    ) -> Autoscale {
        let min = a.min_replicas.unwrap_or(1);
        let mut max = a.max_replicas;
        if min == 0 {
            self.err(
                &path.k("min_replicas"),
                "expected at least 1 replica, found 0 (scaling to zero is not modelled)",
            );
        }
        let min = min.max(1);
        if max > MAX_REPLICAS_PER_SERVICE {
            self.err(
                &path.k("max_replicas"),
                format!("too many replicas: {max} (at most {MAX_REPLICAS_PER_SERVICE})"),
            );
            max = MAX_REPLICAS_PER_SERVICE;
        }
        if min > max {
            self.err(&path.k("min_replicas"), format!("min_replicas {min} is above max_replicas {max}"));
            max = min;
        } else if replicas < min || replicas > max {
            let sp = P::root().k("services").k(sname).k("replicas");
            self.err(
                &sp,
                format!("the autoscaled service starts with {replicas} replicas, outside [min_replicas, max_replicas] = [{min}, {max}]"),
            );
        }
        if !a.target.is_finite() || a.target <= 0.0 {
            self.err(
                &path.k("target"),
                format!("expected a target greater than 0, found {}", fmt_f(a.target)),
            );
        }
        let tolerance = a.tolerance.unwrap_or(0.1);
        if !tolerance.is_finite() || !(0.0..1.0).contains(&tolerance) {
            self.err(
                &path.k("tolerance"),
                format!("expected a tolerance from 0 to below 1 (0.1 is 10 %), found {}", fmt_f(tolerance)),
            );
        }
        let sync_ns = match &a.sync_period {
            Some(d) => self.dur_pos(d, &path.k("sync_period")),
            None => 15 * NS_PER_S,
        };
        let metric = self.scale_metric(raw, sname, a, path);
        let (up, down) = match &a.behavior {
            None => (Rules::default_up(), Rules::default_down()),
            Some(b) => {
                let bp = path.k("behavior");
                (
                    self.rules(b.scale_up.as_ref(), Rules::default_up(), &bp.k("scale_up")),
                    self.rules(b.scale_down.as_ref(), Rules::default_down(), &bp.k("scale_down")),
                )
            }
        };
        let startup_ns = self.dur_opt(a.startup.as_ref(), &path.k("startup"), 0);
        let cold = a.cold_start.as_ref().map(|c| {
            let cp = path.k("cold_start");
            if !c.factor.is_finite() || c.factor < 1.0 {
                self.err(
                    &cp.k("factor"),
                    format!("expected a factor of at least 1, found {}", fmt_f(c.factor)),
                );
            }
            (c.factor.clamp(1.0, 1e6), self.dur_pos(&c.over, &cp.k("over")))
        });
        Autoscale {
            metric,
            target: if a.target.is_finite() && a.target > 0.0 { a.target } else { 1.0 },
            initial: replicas.clamp(min, max),
            sync_ns,
            params: HpaParams { min, max, tolerance: tolerance.clamp(0.0, 0.99), up, down },
            startup_ns,
            cold,
        }
    }

    /// The metric, with the topic or queue of `lag` (whose consumers must run on this
    /// service).
    fn scale_metric(&mut self, raw: &'a RawScenario, sname: &str, a: &RawAutoscale, path: &P) -> ScaleMetric {
        let own = |endpoint: &str| endpoint.split_once('.').is_some_and(|(s, _)| s == sname);
        match a.metric {
            RawScaleMetric::Utilization | RawScaleMetric::RpsPerReplica => {
                for (key, given) in [("topic", a.topic.is_some()), ("queue", a.queue.is_some())] {
                    if given {
                        self.err(&path.k(key), format!("`{key}` goes with the `lag` metric only"));
                    }
                }
                if matches!(a.metric, RawScaleMetric::Utilization) {
                    ScaleMetric::Utilization
                } else {
                    ScaleMetric::RpsPerReplica
                }
            }
            RawScaleMetric::Lag => match (&a.topic, &a.queue) {
                (Some(t), None) => {
                    let mut first_group = 0u32;
                    for (name, topic) in raw.topics.iter().flat_map(|m| m.iter()) {
                        let subs = topic.subscribers.as_deref().unwrap_or(&[]);
                        if name == t {
                            let groups: Vec<u32> = subs
                                .iter()
                                .enumerate()
                                .filter(|(_, s)| own(&s.endpoint))
                                .map(|(g, _)| first_group + g as u32)
                                .collect();
                            if groups.is_empty() {
                                self.err(
                                    &path.k("topic"),
                                    format!("no consumer group of topic `{t}` runs on service `{sname}`"),
                                );
                            }
                            return ScaleMetric::TopicLag {
                                groups,
                                partitions: topic.partitions.unwrap_or(1).max(1),
                            };
                        }
                        first_group += subs.len() as u32;
                    }
                    self.err(&path.k("topic"), format!("unknown topic `{t}`"));
                    ScaleMetric::TopicLag { groups: Vec::new(), partitions: 1 }
                }
                (None, Some(q)) => {
                    for (i, (name, queue)) in raw.queues.iter().flat_map(|m| m.iter()).enumerate() {
                        if name == q {
                            if !queue.consumers.iter().any(|c| own(&c.endpoint)) {
                                self.err(
                                    &path.k("queue"),
                                    format!("no consumer pool of queue `{q}` runs on service `{sname}`"),
                                );
                            }
                            return ScaleMetric::QueueLag { queue: i as u32 };
                        }
                    }
                    self.err(&path.k("queue"), format!("unknown queue `{q}`"));
                    ScaleMetric::QueueLag { queue: 0 }
                }
                (Some(_), Some(_)) => {
                    self.err(&path.k("queue"), "the `lag` metric takes a `topic` or a `queue`, not both");
                    ScaleMetric::Utilization
                }
                (None, None) => {
                    self.err(
                        &path.k("metric"),
                        "the `lag` metric needs the `topic` or the `queue` whose backlog it reads",
                    );
                    ScaleMetric::Utilization
                }
            },
        }
    }

    fn rules(&mut self, r: Option<&RawScalingRules>, default: Rules, path: &P) -> Rules {
        let Some(r) = r else { return default };
        let window_ns = match &r.stabilization_window {
            Some(d) => {
                let w = self.dur(d, &path.k("stabilization_window")).unwrap_or(default.window_ns);
                if w > MAX_WINDOW_NS {
                    self.err(
                        &path.k("stabilization_window"),
                        "expected at most \"3600s\" (Kubernetes' limit)",
                    );
                }
                w.min(MAX_WINDOW_NS)
            }
            None => default.window_ns,
        };
        let policies = match &r.policies {
            None => default.policies,
            Some(ps) => {
                if ps.is_empty() {
                    self.err(
                        &path.k("policies"),
                        "expected at least one policy (or `select_policy: \"Disabled\"`)",
                    );
                }
                ps.iter()
                    .enumerate()
                    .map(|(i, p)| {
                        let pp = path.k("policies").i(i);
                        let value = self.at_least(p.value, 1, &pp.k("value"));
                        let period_ns = self.dur_pos(&p.period, &pp.k("period"));
                        if period_ns > MAX_PERIOD_NS {
                            self.err(&pp.k("period"), "expected at most \"1800s\" (Kubernetes' limit)");
                        }
                        let kind = match p.kind {
                            RawScalingPolicyType::Pods => PolicyKind::Pods,
                            RawScalingPolicyType::Percent => PolicyKind::Percent,
                        };
                        ScalingPolicy { kind, value, period_ns: period_ns.min(MAX_PERIOD_NS) }
                    })
                    .collect()
            }
        };
        let select = match r.select_policy {
            None | Some(RawSelectPolicy::Max) => Select::Max,
            Some(RawSelectPolicy::Min) => Select::Min,
            Some(RawSelectPolicy::Disabled) => Select::Disabled,
        };
        Rules { window_ns, policies, select }
    }
}
