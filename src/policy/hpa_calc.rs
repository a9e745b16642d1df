//! Kubernetes' HPA replica calculator (`pkg/controller/podautoscaler/replica_calculator.go`):
//! the replicas a metric asks for, before the controller's stabilisation and rate
//! policies (`hpa.rs`).
//!
//! **Replica calculator.** For a per-pod average (a `Resource` utilisation or a `Pods`
//! metric, `calcPlainMetricReplicas`): `ratio = usage / target`, the usage averaged over
//! the *ready* pods. With no unready pod on a scale-up and no missing pod: `current` if
//! `|ratio − 1| ≤ tolerance`, else `⌈ratio × ready⌉`. Otherwise the usage is recomputed
//! with missing pods at the target (on a scale-down) or at 0 (on a scale-up), and
//! unready pods at 0 on a scale-up; `current` if the new ratio is within the tolerance
//! or changes direction, else `⌈new ratio × pods counted⌉`, unless that count would move
//! against the direction (then `current`). For an external metric with an
//! `AverageValue` target (`GetExternalPerPodMetricReplicas`, what KEDA's scalers
//! register): `ratio = total / (target × current)`; `⌈total / target⌉` outside the
//! tolerance, else `current`.

/// The pods the replica calculator sees (`groupPods`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pods {
    /// Ready, with a metric.
    pub ready: u32,
    /// Started but not ready yet (starting up, or failing readiness).
    pub unready: u32,
    /// Counted in the scale but without a metric (crashed, not yet restarted).
    pub missing: u32,
}

/// `calcPlainMetricReplicas`: the replicas a per-pod average `usage` (averaged over
/// the ready pods) asks for against `target`; `None` without a ready pod (no metrics:
/// the controller does not scale).
pub fn per_pod_replicas(current: u32, pods: Pods, usage: f64, target: f64, tolerance: f64) -> Option<u32> {
    if pods.ready == 0 || target.is_nan() || target <= 0.0 || !usage.is_finite() {
        return None;
    }
    let ratio = usage / target;
    let up_with_unready = pods.unready > 0 && ratio > 1.0;
    if !up_with_unready && pods.missing == 0 {
        if (1.0 - ratio).abs() <= tolerance {
            return Some(current);
        }
        return Some(ceil_u32(ratio * pods.ready as f64));
    }
    // Recompute with the missing pods at the target (scale-down) or 0 (scale-up), and
    // the unready ones at 0 on a scale-up.
    let mut sum = usage * pods.ready as f64;
    let mut n = pods.ready;
    if pods.missing > 0 {
        if ratio < 1.0 {
            sum += target * pods.missing as f64;
        }
        n += pods.missing;
    }
    if up_with_unready {
        n += pods.unready;
    }
    let new_ratio = sum / n as f64 / target;
    if (1.0 - new_ratio).abs() <= tolerance
        || (ratio < 1.0 && new_ratio > 1.0)
        || (ratio > 1.0 && new_ratio < 1.0)
    {
        return Some(current);
    }
    let new = ceil_u32(new_ratio * n as f64);
    if (new_ratio < 1.0 && new > current) || (new_ratio > 1.0 && new < current) {
        return Some(current);
    }
    Some(new)
}

/// `GetExternalPerPodMetricReplicas`: an external `total` (KEDA's lag) with an
/// `AverageValue` target per replica.
pub fn external_replicas(current: u32, total: f64, target: f64, tolerance: f64) -> u32 {
    if target.is_nan() || target <= 0.0 || !total.is_finite() {
        return current;
    }
    let ratio = total / (target * current as f64);
    if (1.0 - ratio).abs() > tolerance { ceil_u32(total / target) } else { current }
}

fn ceil_u32(x: f64) -> u32 {
    let c = x.ceil();
    if c <= 0.0 {
        0
    } else if c >= u32::MAX as f64 {
        u32::MAX
    } else {
        c as u32
    }
}
