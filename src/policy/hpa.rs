//! Kubernetes' HorizontalPodAutoscaler v2, as kube-controller-manager computes it
//! (`pkg/controller/podautoscaler`): the replica calculator (`replica_calculator.go`)
//! and the controller's normalisation with `behavior` (`horizontal.go`), with the
//! defaults of `pkg/apis/autoscaling/v2/defaults.go`.
//!
//! **Replica calculator** (`hpa_calc.rs`): `calcPlainMetricReplicas` for a per-pod
//! average, `GetExternalPerPodMetricReplicas` for an external metric (KEDA's lag).
//!
//! **Normalisation** (`normalizeDesiredReplicasWithBehaviors`): first the stabilisation
//! (`stabilizeRecommendationWithBehaviors`): over the recommendations of the last
//! scale-up window the smallest, of the last scale-down window the largest; the
//! recommendation is `current` raised to the first and lowered to the second; then the
//! raw recommendation is recorded. Then the rate (`convertDesiredReplicasWithBehaviorRate`):
//! each policy proposes from the replica count at the start of its period (`current`
//! less what was added plus what was removed within the last `period`): `Pods` adds or
//! removes `value`, `Percent` multiplies by `1 ± value/100` (rounded up on a scale-up,
//! truncated on a scale-down); `select_policy` `Max` takes the largest change, `Min` the
//! smallest, `Disabled` none; the result is clamped to `[min, max]` and never past
//! `current` in the other direction. A rescale is recorded as a scale event
//! (`storeScaleEvent`).
//!
//! Defaults (`GenerateHPAScaleUpRules`, `GenerateHPAScaleDownRules`): scale-up no
//! stabilisation, the larger of +100 % and +4 pods per 15 s; scale-down a 300 s window
//! (the controller's `--horizontal-pod-autoscaler-downscale-stabilization`), −100 % per
//! 15 s; tolerance 0.1 (`--horizontal-pod-autoscaler-tolerance`).
//!
//! *Invariant*: the replica count it returns is within `[min, max]`; no clock, the
//! caller passes `now`.

use crate::spec::{NS_PER_S, Nanos};
use std::collections::VecDeque;

#[path = "hpa_calc.rs"]
mod calc;
pub use calc::{Pods, external_replicas, per_pod_replicas};

/// What the autoscaler measures (the resolved `autoscale.metric`).
#[derive(Clone, Debug, PartialEq)]
pub enum ScaleMetric {
    /// Busy workers ÷ (concurrency × ready replicas) over the sync period, in percent.
    Utilization,
    /// Requests reaching the service per second per ready replica over the sync period.
    RpsPerReplica,
    /// KEDA's Kafka scaler: the lag of these consumer groups (global group ids), the
    /// total capped at `partitions × target` (`allowIdleConsumers: false`).
    TopicLag { groups: Vec<u32>, partitions: u32 },
    /// KEDA's SQS / RabbitMQ scalers: the messages in this work queue (visible and in
    /// flight).
    QueueLag { queue: u32 },
}

/// A service's autoscaler, resolved (`spec::Service::autoscale`). The service's
/// `replicas` are then `params.max` slots, `initial` of them running at the start.
#[derive(Clone, Debug, PartialEq)]
pub struct Autoscale {
    pub metric: ScaleMetric,
    pub target: f64,
    pub initial: u32,
    pub sync_ns: Nanos,
    pub params: HpaParams,
    pub startup_ns: Nanos,
    /// `(factor, over)`: a new replica's service times × a factor falling linearly from
    /// `factor` to 1 over `over` from its readiness.
    pub cold: Option<(f64, Nanos)>,
}

/// A scaling policy's kind: a number of pods or a percentage of the pods at the start
/// of the period.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicyKind {
    Pods,
    Percent,
}

/// One `HPAScalingPolicy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScalingPolicy {
    pub kind: PolicyKind,
    pub value: u32,
    pub period_ns: Nanos,
}

/// `selectPolicy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Select {
    Max,
    Min,
    Disabled,
}

/// One direction's `HPAScalingRules`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rules {
    pub window_ns: Nanos,
    pub policies: Vec<ScalingPolicy>,
    pub select: Select,
}

impl Rules {
    /// Kubernetes' default scale-up: no stabilisation, max(+100 %, +4 pods) per 15 s.
    pub fn default_up() -> Rules {
        Rules {
            window_ns: 0,
            policies: vec![
                ScalingPolicy { kind: PolicyKind::Percent, value: 100, period_ns: 15 * NS_PER_S },
                ScalingPolicy { kind: PolicyKind::Pods, value: 4, period_ns: 15 * NS_PER_S },
            ],
            select: Select::Max,
        }
    }

    /// Kubernetes' default scale-down: a 300 s window, −100 % per 15 s.
    pub fn default_down() -> Rules {
        Rules {
            window_ns: 300 * NS_PER_S,
            policies: vec![ScalingPolicy { kind: PolicyKind::Percent, value: 100, period_ns: 15 * NS_PER_S }],
            select: Select::Max,
        }
    }
}

/// The controller's parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct HpaParams {
    pub min: u32,
    pub max: u32,
    pub tolerance: f64,
    pub up: Rules,
    pub down: Rules,
}

/// The controller's memory for one target: recommendations and scale events.
///
/// Kubernetes keeps them in slices and scans them at every sync; a sync period much
/// shorter than the windows (1 ms against a 300 s window: 300,000 entries) made that
/// quadratic in simulated time. The same answers come here in amortised constant time:
/// the smallest recommendation of the scale-up window and the largest of the scale-down
/// window from monotonic queues (a sliding minimum and maximum), the replicas changed
/// within a period from running totals.
#[derive(Clone, Debug)]
pub struct Hpa {
    params: HpaParams,
    /// Recommendations `(time, replicas)` that may still be the smallest of the
    /// scale-up window: values strictly increasing from the front.
    up_min: VecDeque<(Nanos, u32)>,
    /// Likewise the largest of the scale-down window: values strictly decreasing.
    down_max: VecDeque<(Nanos, u32)>,
    /// Replicas added and removed: `storeScaleEvent`'s events.
    up_events: Events,
    down_events: Events,
}

/// Scale events `(time, total of the replicas changed up to and including it)`, with
/// the total of those already forgotten.
#[derive(Clone, Debug, Default)]
struct Events {
    kept: VecDeque<(Nanos, u64)>,
    forgotten: u64,
}

impl Events {
    fn push(&mut self, now: Nanos, n: u32) {
        let total = self.kept.back().map_or(self.forgotten, |e| e.1);
        self.kept.push_back((now, total + u64::from(n)));
    }

    /// Replicas changed within the last `period` (`getReplicasChangePerPeriod`: events
    /// strictly after `now − period`).
    fn within(&self, now: Nanos, period: Nanos) -> i64 {
        let total = self.kept.back().map_or(self.forgotten, |e| e.1);
        let old = self.kept.partition_point(|&(t, _)| t + period <= now);
        let before = if old == 0 { self.forgotten } else { self.kept[old - 1].1 };
        (total - before) as i64
    }

    fn forget(&mut self, now: Nanos, keep: Nanos) {
        while let Some(&(_, total)) = self.kept.front().filter(|e| e.0 + keep <= now) {
            self.forgotten = total;
            self.kept.pop_front();
        }
    }
}

impl Hpa {
    pub fn new(params: HpaParams) -> Hpa {
        Hpa {
            params,
            up_min: VecDeque::new(),
            down_max: VecDeque::new(),
            up_events: Events::default(),
            down_events: Events::default(),
        }
    }

    pub fn params(&self) -> &HpaParams {
        &self.params
    }

    /// Records `replicas` as the recommendation at `now`, as a controller that has been
    /// watching a steady target would have (the model seeds the scale at time 0).
    pub fn remember(&mut self, now: Nanos, replicas: u32) {
        self.record(now, replicas);
    }

    /// Records a raw recommendation: it ends the claim of every earlier one that is not
    /// smaller (for the scale-up window's minimum) or not larger (the maximum).
    fn record(&mut self, now: Nanos, r: u32) {
        while self.up_min.back().is_some_and(|b| b.1 >= r) {
            self.up_min.pop_back();
        }
        self.up_min.push_back((now, r));
        while self.down_max.back().is_some_and(|b| b.1 <= r) {
            self.down_max.pop_back();
        }
        self.down_max.push_back((now, r));
    }

    /// One reconciliation at `now`: `current` the scale's replicas, `metric_desired`
    /// the replica calculator's answer (`None`: no metric, keep `current`). Returns the
    /// new scale, within `[min, max]`, and records it as a scale event if it changed.
    pub fn reconcile(&mut self, now: Nanos, current: u32, metric_desired: Option<u32>) -> u32 {
        let p = &self.params;
        let desired = if current > p.max {
            p.max
        } else if current < p.min {
            p.min
        } else {
            let Some(raw) = metric_desired else { return current };
            let stabilized = self.stabilize(now, current, raw);
            self.rate_limit(now, current, stabilized)
        };
        if desired > current {
            self.up_events.push(now, desired - current);
        } else if desired < current {
            self.down_events.push(now, current - desired);
        }
        self.forget(now);
        desired
    }

    /// `stabilizeRecommendationWithBehaviors`.
    fn stabilize(&mut self, now: Nanos, current: u32, raw: u32) -> u32 {
        let (up_w, down_w) = (self.params.up.window_ns, self.params.down.window_ns);
        // `timestamp.After(now − window)`: strictly inside the window. Only the front of
        // each queue can have left it (the queues are in time order).
        while self.up_min.front().is_some_and(|&(t, _)| t + up_w <= now) {
            self.up_min.pop_front();
        }
        while self.down_max.front().is_some_and(|&(t, _)| t + down_w <= now) {
            self.down_max.pop_front();
        }
        let up = self.up_min.front().map_or(raw, |f| f.1.min(raw));
        let down = self.down_max.front().map_or(raw, |f| f.1.max(raw));
        let mut rec = current;
        if rec < up {
            rec = up;
        }
        if rec > down {
            rec = down;
        }
        self.record(now, raw);
        rec
    }

    /// `convertDesiredReplicasWithBehaviorRate`, then the `[min, max]` clamp.
    fn rate_limit(&self, now: Nanos, current: u32, desired: u32) -> u32 {
        let p = &self.params;
        if desired > current {
            let limit = self.limit(now, current, &p.up, true).max(current as i64);
            let allowed = (p.max as i64).min(limit);
            (desired as i64).min(allowed).max(p.min as i64) as u32
        } else if desired < current {
            let limit = self.limit(now, current, &p.down, false).min(current as i64);
            let allowed = (p.min as i64).max(limit);
            (desired as i64).max(allowed).min(p.max as i64) as u32
        } else {
            desired.clamp(p.min, p.max)
        }
    }

    /// `calculateScaleUpLimitWithScalingRules` / `calculateScaleDownLimitWithBehaviors`.
    fn limit(&self, now: Nanos, current: u32, rules: &Rules, up: bool) -> i64 {
        if rules.select == Select::Disabled || rules.policies.is_empty() {
            return current as i64;
        }
        // Up: Max takes the largest proposal; down: Max takes the largest change, the
        // smallest proposal. Min the other way round.
        let take_larger = (rules.select == Select::Max) == up;
        let mut result: Option<i64> = None;
        for pol in &rules.policies {
            let added = self.up_events.within(now, pol.period_ns);
            let removed = self.down_events.within(now, pol.period_ns);
            let start = current as i64 - added + removed;
            let proposed = match (pol.kind, up) {
                (PolicyKind::Pods, true) => start + pol.value as i64,
                (PolicyKind::Pods, false) => start - pol.value as i64,
                (PolicyKind::Percent, true) => {
                    (start as f64 * (1.0 + pol.value as f64 / 100.0)).ceil() as i64
                }
                (PolicyKind::Percent, false) => (start as f64 * (1.0 - pol.value as f64 / 100.0)) as i64,
            };
            result = Some(match result {
                None => proposed,
                Some(r) if take_larger => r.max(proposed),
                Some(r) => r.min(proposed),
            });
        }
        result.unwrap_or(current as i64)
    }

    /// Drops scale events older than every period (memory stays flat in simulated
    /// time; the recommendations leave their queues as they leave their windows).
    fn forget(&mut self, now: Nanos) {
        let p = &self.params;
        let longest = |r: &Rules| r.policies.iter().map(|x| x.period_ns).max().unwrap_or(0);
        let keep_events = longest(&p.up).max(longest(&p.down));
        self.up_events.forget(now, keep_events);
        self.down_events.forget(now, keep_events);
    }
}

#[cfg(test)]
#[path = "hpa_tests.rs"]
mod tests;
