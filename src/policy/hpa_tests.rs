use super::*;

const S: Nanos = NS_PER_S;

fn params(min: u32, max: u32) -> HpaParams {
    HpaParams { min, max, tolerance: 0.1, up: Rules::default_up(), down: Rules::default_down() }
}

fn ready(n: u32) -> Pods {
    Pods { ready: n, unready: 0, missing: 0 }
}

#[test]
fn the_formula_and_the_tolerance_band() {
    // ratio 1.08: within 0.1, no change.
    assert_eq!(per_pod_replicas(4, ready(4), 54.0, 50.0, 0.1), Some(4));
    // ratio 0.92: within.
    assert_eq!(per_pod_replicas(4, ready(4), 46.0, 50.0, 0.1), Some(4));
    // ratio 1.2: ⌈4 × 1.2⌉ = ⌈4.8⌉ = 5.
    assert_eq!(per_pod_replicas(4, ready(4), 60.0, 50.0, 0.1), Some(5));
    // ratio 0.5: ⌈4 × 0.5⌉ = 2.
    assert_eq!(per_pod_replicas(4, ready(4), 25.0, 50.0, 0.1), Some(2));
    // Over the ready pods, not the current scale.
    assert_eq!(per_pod_replicas(6, ready(3), 100.0, 50.0, 0.1), Some(6));
    // No ready pod: no metrics, no decision.
    assert_eq!(per_pod_replicas(4, Pods { ready: 0, unready: 4, missing: 0 }, 0.0, 50.0, 0.1), None);
}

#[test]
fn unready_and_missing_pods_are_counted_conservatively() {
    // Scale-up with 2 unready pods at 0: new ratio (2 × 90) / 4 / 50 = 0.9 changes
    // direction: keep 4.
    let p = Pods { ready: 2, unready: 2, missing: 0 };
    assert_eq!(per_pod_replicas(4, p, 90.0, 50.0, 0.1), Some(4));
    // At 150: (2 × 150) / 4 / 50 = 1.5 → ⌈1.5 × 4⌉ = 6.
    assert_eq!(per_pod_replicas(4, p, 150.0, 50.0, 0.1), Some(6));
    // Scale-down with a missing pod taken at the target: (3 × 20 + 50) / 4 / 50 = 0.55
    // → ⌈2.2⌉ = 3.
    let p = Pods { ready: 3, unready: 0, missing: 1 };
    assert_eq!(per_pod_replicas(4, p, 20.0, 50.0, 0.1), Some(3));
    // Scale-up with a missing pod at 0: (3 × 100) / 4 / 50 = 1.5 → 6.
    assert_eq!(per_pod_replicas(4, p, 100.0, 50.0, 0.1), Some(6));
    // Unready pods on a scale-down are left out: ⌈0.5 × 2⌉ = 1.
    let p = Pods { ready: 2, unready: 2, missing: 0 };
    assert_eq!(per_pod_replicas(4, p, 25.0, 50.0, 0.1), Some(1));
}

#[test]
fn external_lag_per_replica_as_keda_registers_it() {
    assert_eq!(external_replicas(2, 1000.0, 100.0, 0.1), 10);
    // 210 / (100 × 2) = 1.05: within the tolerance.
    assert_eq!(external_replicas(2, 210.0, 100.0, 0.1), 2);
    assert_eq!(external_replicas(4, 0.0, 100.0, 0.1), 0);
    assert_eq!(external_replicas(3, 250.0, 100.0, 0.1), 3, "250 / 300 = 0.83 → ⌈2.5⌉ = 3");
}

#[test]
fn default_scale_up_is_the_larger_of_double_and_four_pods_per_15s() {
    let mut h = Hpa::new(params(1, 100));
    // 2 → max(4, 6) = 6.
    assert_eq!(h.reconcile(15 * S, 2, Some(50)), 6);
    // The event at 15 s is no longer within (30 − 15, 30]: from 6, max(12, 10) = 12.
    assert_eq!(h.reconcile(30 * S, 6, Some(50)), 12);
    assert_eq!(h.reconcile(45 * S, 12, Some(50)), 24);
    assert_eq!(h.reconcile(60 * S, 24, Some(50)), 48);
    assert_eq!(h.reconcile(75 * S, 48, Some(50)), 50);
}

#[test]
fn a_period_counts_from_the_replicas_at_its_start() {
    let mut h = Hpa::new(params(1, 100));
    // Syncs every 5 s: 2 → 6 at 5 s; at 10 s and 15 s the period began at 2 replicas
    // (4 added within it), so the limit stays 6.
    assert_eq!(h.reconcile(5 * S, 2, Some(40)), 6);
    assert_eq!(h.reconcile(10 * S, 6, Some(40)), 6);
    assert_eq!(h.reconcile(15 * S, 6, Some(40)), 6);
    // At 20 s the scale-up at 5 s left the period: from 6, max(12, 10) = 12.
    assert_eq!(h.reconcile(20 * S, 6, Some(40)), 12);
}

#[test]
fn scale_down_waits_out_the_stabilization_window() {
    let mut h = Hpa::new(params(1, 20));
    assert_eq!(h.reconcile(15 * S, 10, Some(10)), 10);
    let mut t = 30 * S;
    // The recommendation of 10 at 15 s holds the scale until it leaves the window:
    // (t − 300 s, t] no longer contains 15 s from t = 315 s.
    while t < 315 * S {
        assert_eq!(h.reconcile(t, 10, Some(2)), 10, "at {} s", t / S);
        t += 15 * S;
    }
    // −100 % per 15 s allows going straight down.
    assert_eq!(h.reconcile(315 * S, 10, Some(2)), 2);
}

#[test]
fn scale_down_policies_limit_each_period() {
    let mut p = params(1, 20);
    p.down = Rules {
        window_ns: 0,
        policies: vec![
            ScalingPolicy { kind: PolicyKind::Percent, value: 50, period_ns: 60 * S },
            ScalingPolicy { kind: PolicyKind::Pods, value: 1, period_ns: 15 * S },
        ],
        select: Select::Max,
    };
    let mut h = Hpa::new(p.clone());
    // Max: the larger change, min(10 × 0.5, 10 − 1) = 5.
    assert_eq!(h.reconcile(15 * S, 10, Some(1)), 5);
    // Within 60 s the period started at 10: 5 is the limit; the Pods policy's 15 s
    // period started at 5 → 4; Max takes the smaller proposal, 4.
    assert_eq!(h.reconcile(30 * S, 5, Some(1)), 4);
    p.down.select = Select::Min;
    let mut h = Hpa::new(p.clone());
    // Min: the smaller change: 10 − 1 = 9.
    assert_eq!(h.reconcile(15 * S, 10, Some(1)), 9);
    assert_eq!(h.reconcile(30 * S, 9, Some(1)), 8);
    p.down.select = Select::Disabled;
    let mut h = Hpa::new(p);
    assert_eq!(h.reconcile(15 * S, 10, Some(1)), 10);
    // Percent down truncates: 3 × 0.5 = 1.5 → 1.
    let mut q = params(1, 20);
    q.down = Rules {
        window_ns: 0,
        policies: vec![ScalingPolicy { kind: PolicyKind::Percent, value: 50, period_ns: 15 * S }],
        select: Select::Max,
    };
    assert_eq!(Hpa::new(q).reconcile(15 * S, 3, Some(1)), 1);
}

#[test]
fn scale_up_select_min_and_disabled() {
    let mut p = params(1, 100);
    p.up.select = Select::Min;
    // Min of +100 % (4) and +4 (6): 4.
    assert_eq!(Hpa::new(p.clone()).reconcile(15 * S, 2, Some(50)), 4);
    p.up.select = Select::Disabled;
    assert_eq!(Hpa::new(p).reconcile(15 * S, 2, Some(50)), 2);
    // Percent up rounds up: 3 × 1.1 = 3.3 → 4.
    let mut q = params(1, 100);
    q.up.policies = vec![ScalingPolicy { kind: PolicyKind::Percent, value: 10, period_ns: 15 * S }];
    assert_eq!(Hpa::new(q).reconcile(15 * S, 3, Some(50)), 4);
}

#[test]
fn scale_up_stabilization_takes_the_smallest_recommendation() {
    let mut p = params(1, 100);
    p.up.window_ns = 30 * S;
    let mut h = Hpa::new(p);
    assert_eq!(h.reconcile(15 * S, 4, Some(4)), 4);
    // A spike to 8 is held at the smallest of the window (4, 8) = 4.
    assert_eq!(h.reconcile(30 * S, 4, Some(8)), 4);
    // The window (45 − 30, 45] no longer holds the 4 of 15 s: 8.
    assert_eq!(h.reconcile(45 * S, 4, Some(8)), 8);
}

#[test]
fn min_and_max_clamp_everything() {
    let mut h = Hpa::new(params(2, 5));
    // Below min or above max: straight to the bound, without a metric.
    assert_eq!(h.reconcile(15 * S, 1, None), 2);
    assert_eq!(h.reconcile(30 * S, 9, None), 5);
    assert_eq!(h.reconcile(45 * S, 5, Some(50)), 5);
    // A controller with no past recommendation scales down at once (Kubernetes after
    // a controller restart); one that remembers the scale (`remember`, as the model
    // seeds it at the start of the run) waits out the window.
    assert_eq!(Hpa::new(params(2, 5)).reconcile(15 * S, 3, Some(0)), 2);
    let mut h = Hpa::new(params(2, 5));
    h.remember(0, 3);
    assert_eq!(h.reconcile(15 * S, 3, Some(0)), 3, "the window holds the scale down");
    assert_eq!(h.reconcile(300 * S, 3, Some(0)), 2);
    let mut p = params(2, 5);
    p.down.window_ns = 0;
    assert_eq!(Hpa::new(p).reconcile(15 * S, 3, Some(0)), 2);
    // No metric: keep the scale.
    assert_eq!(Hpa::new(params(2, 5)).reconcile(15 * S, 3, None), 3);
}

/// Kubernetes' own bookkeeping, as this module kept it before: slices scanned at every
/// sync. The queues and running totals must give the same scale at every sync.
struct Scanning {
    p: HpaParams,
    recs: Vec<(Nanos, u32)>,
    up: Vec<(Nanos, u32)>,
    down: Vec<(Nanos, u32)>,
}

impl Scanning {
    fn changes(events: &[(Nanos, u32)], now: Nanos, period: Nanos) -> i64 {
        events.iter().filter(|&&(t, _)| t + period > now).map(|&(_, n)| n as i64).sum()
    }

    fn limit(&self, now: Nanos, current: u32, rules: &Rules, up: bool) -> i64 {
        if rules.select == Select::Disabled || rules.policies.is_empty() {
            return current as i64;
        }
        let take_larger = (rules.select == Select::Max) == up;
        let mut result: Option<i64> = None;
        for pol in &rules.policies {
            let start = current as i64 - Self::changes(&self.up, now, pol.period_ns)
                + Self::changes(&self.down, now, pol.period_ns);
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

    fn reconcile(&mut self, now: Nanos, current: u32, raw: u32) -> u32 {
        let p = self.p.clone();
        let desired = if current > p.max {
            p.max
        } else if current < p.min {
            p.min
        } else {
            let (mut up, mut down) = (raw, raw);
            for &(t, r) in &self.recs {
                if t + p.up.window_ns > now {
                    up = up.min(r);
                }
                if t + p.down.window_ns > now {
                    down = down.max(r);
                }
            }
            let rec = current.max(up).min(down);
            self.recs.push((now, raw));
            if rec > current {
                let allowed = (p.max as i64).min(self.limit(now, current, &p.up, true).max(current as i64));
                (rec as i64).min(allowed).max(p.min as i64) as u32
            } else if rec < current {
                let allowed =
                    (p.min as i64).max(self.limit(now, current, &p.down, false).min(current as i64));
                (rec as i64).max(allowed).min(p.max as i64) as u32
            } else {
                rec.clamp(p.min, p.max)
            }
        };
        if desired > current {
            self.up.push((now, desired - current));
        } else if desired < current {
            self.down.push((now, current - desired));
        }
        desired
    }
}

#[test]
fn sliding_queues_give_the_scanned_answer_at_every_sync() {
    use rand::{RngExt, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    for case in 0..200 {
        let pol = |rng: &mut rand_chacha::ChaCha8Rng| ScalingPolicy {
            kind: if rng.random_bool(0.5) { PolicyKind::Pods } else { PolicyKind::Percent },
            value: rng.random_range(1..200),
            period_ns: rng.random_range(1..60) * S,
        };
        let rules = |rng: &mut rand_chacha::ChaCha8Rng, select| Rules {
            window_ns: rng.random_range(0..40) * S,
            policies: (0..rng.random_range(0..3)).map(|_| pol(rng)).collect(),
            select,
        };
        let selects = [Select::Max, Select::Min, Select::Disabled];
        let (su, sd) = (selects[rng.random_range(0..3)], selects[rng.random_range(0..3)]);
        let max = rng.random_range(2..50);
        let (up, down) = (rules(&mut rng, su), rules(&mut rng, sd));
        let p = HpaParams { min: 1, max, tolerance: 0.1, up, down };
        let mut fast = Hpa::new(p.clone());
        let mut slow = Scanning { p: p.clone(), recs: Vec::new(), up: Vec::new(), down: Vec::new() };
        let mut current = rng.random_range(p.min..=p.max);
        fast.remember(0, current);
        slow.recs.push((0, current));
        let mut now = 0;
        for sync in 0..300 {
            now += rng.random_range(0..3) * S;
            let raw = rng.random_range(0..60);
            let (a, b) = (fast.reconcile(now, current, Some(raw)), slow.reconcile(now, current, raw));
            assert_eq!(a, b, "case {case}, sync {sync} at {now}: {p:?}");
            current = a;
        }
    }
}
