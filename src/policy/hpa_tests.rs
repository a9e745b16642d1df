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

/// Rules with one policy, no stabilisation window.
fn only(kind: PolicyKind, value: u32, period_s: u64) -> Rules {
    Rules {
        window_ns: 0,
        policies: vec![ScalingPolicy { kind, value, period_ns: period_s * S }],
        select: Select::Max,
    }
}

#[test]
fn a_pods_policy_adds_its_value_once_a_period_in_closed_form() {
    // At most `value` pods added within any period: asked for far more at every sync
    // of Δ, with a period of k·Δ, the scale after the j-th sync is n₀ + value·⌈j/k⌉
    // (it grows at syncs 1, k + 1, 2k + 1, …, when the last growth has left the period).
    for (value, k, dt) in [(1u32, 1u32, 15u64), (3, 4, 5), (2, 3, 10), (5, 6, 1), (4, 15, 1)] {
        let mut p = params(1, 1000);
        p.up = only(PolicyKind::Pods, value, u64::from(k) * dt);
        let mut h = Hpa::new(p);
        let n0 = 2;
        let mut current = n0;
        for j in 1..=40u32 {
            current = h.reconcile(u64::from(j) * dt * S, current, Some(1000));
            assert_eq!(current, n0 + value * j.div_ceil(k), "value {value}, period {k} × {dt} s, sync {j}");
        }
    }
}

#[test]
fn percent_policies_in_closed_form() {
    // +100 % per period, one sync a period: n₀ · 2^j, up to the maximum.
    let mut p = params(1, 1000);
    p.up = only(PolicyKind::Percent, 100, 15);
    let mut h = Hpa::new(p);
    let mut current = 3;
    for j in 1..=12u32 {
        current = h.reconcile(u64::from(j) * 15 * S, current, Some(5000));
        assert_eq!(current, (3 * 2u32.pow(j)).min(1000), "sync {j}");
    }
    // −50 % per period truncates: ⌊⌊n/2⌋/2⌋ = ⌊n/4⌋, so n₀ → ⌊n₀ / 2^j⌋, down to the minimum.
    let mut p = params(1, 1000);
    p.down = only(PolicyKind::Percent, 50, 15);
    let mut h = Hpa::new(p);
    let mut current = 1000;
    for j in 1..=12u32 {
        current = h.reconcile(u64::from(j) * 15 * S, current, Some(0));
        assert_eq!(current, (1000 >> j).max(1), "sync {j}");
    }
    // +50 %, rounded up each period, by hand: 2 → ⌈3⌉ → ⌈4.5⌉ → ⌈7.5⌉ → ⌈12⌉ → ⌈18⌉ → ⌈27⌉.
    let mut p = params(1, 1000);
    p.up = only(PolicyKind::Percent, 50, 10);
    let mut h = Hpa::new(p);
    let mut seen = vec![2];
    for j in 1..=6u64 {
        let next = h.reconcile(j * 10 * S, *seen.last().unwrap(), Some(500));
        seen.push(next);
    }
    assert_eq!(seen, [2, 3, 5, 8, 12, 18, 27]);
    // Kubernetes' default scale-up from 1, by hand: max(2n, n + 4) a period: 5, 10, 20, 40, 80.
    let mut h = Hpa::new(params(1, 1000));
    let mut seen = vec![1];
    for j in 1..=5u64 {
        let next = h.reconcile(j * 15 * S, *seen.last().unwrap(), Some(500));
        seen.push(next);
    }
    assert_eq!(seen, [1, 5, 10, 20, 40, 80]);
}

/// Random syncs against the rules as Kubernetes' documentation states them, each
/// checked on its own: the scale stays in `[min, max]` and between the current scale and
/// the recommendation; a scale-down never goes below the highest recommendation of the
/// scale-down window, a scale-up never above the lowest of the scale-up window; the
/// net change since the start of a `Pods` policy's period, at a scale-up (scale-down),
/// never exceeds its value.
/// With rates that never bind, the stabilised recommendation is exactly the current scale
/// raised to the lowest and lowered to the highest recommendation of the windows.
#[test]
fn random_syncs_keep_the_documented_bounds() {
    use rand::{RngExt, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    for case in 0..200 {
        let unbounded = case % 2 == 0;
        let (v_up, v_down) =
            if unbounded { (10_000, 10_000) } else { (rng.random_range(1..6), rng.random_range(1..6)) };
        let (p_up, p_down) = (rng.random_range(1..30u64), rng.random_range(1..30u64));
        let mut up = only(PolicyKind::Pods, v_up, p_up);
        let mut down = only(PolicyKind::Pods, v_down, p_down);
        up.window_ns = rng.random_range(0..40u64) * S;
        down.window_ns = rng.random_range(0..40u64) * S;
        let (min, max) = (rng.random_range(1..4u32), rng.random_range(4..40u32));
        let p = HpaParams { min, max, tolerance: 0.1, up: up.clone(), down: down.clone() };
        let mut h = Hpa::new(p.clone());
        let mut current = rng.random_range(min..=max);
        h.remember(0, current);
        // Every raw recommendation `(time, replicas)` and every change `(time, ±n)`.
        let mut recs: Vec<(Nanos, u32)> = vec![(0, current)];
        let mut changes: Vec<(Nanos, i64)> = Vec::new();
        let mut now = 0;
        for sync in 0..300 {
            now += rng.random_range(0..3u64) * S;
            let raw = rng.random_range(0..60u32);
            let next = h.reconcile(now, current, Some(raw));
            let at =
                format!("case {case}, sync {sync} at {} s, {current} asked {raw} → {next}: {p:?}", now / S);
            // A window holds the recommendations strictly after `now − window`, and this one.
            let inside = |w: Nanos| recs.iter().filter(move |r| r.0 + w > now).map(|r| r.1).chain([raw]);
            let lowest_up = inside(up.window_ns).min().unwrap();
            let highest_down = inside(down.window_ns).max().unwrap();
            recs.push((now, raw));
            assert!((min..=max).contains(&next), "{at}");
            let target = raw.clamp(min, max);
            assert!(next >= current.min(target) && next <= current.max(target), "{at}");
            if next < current {
                assert!(next >= highest_down.max(min), "{at}: below the window's {highest_down}");
            }
            if next > current {
                assert!(next <= lowest_up.min(max), "{at}: above the window's {lowest_up}");
            }
            if next != current {
                changes.push((now, i64::from(next) - i64::from(current)));
            }
            // The net change since the start of a policy's period: what the policy bounds.
            let net =
                |period: u64| -> i64 { changes.iter().filter(|c| c.0 + period * S > now).map(|c| c.1).sum() };
            if next > current {
                assert!(net(p_up) <= i64::from(v_up), "{at}: more than {v_up} added within {p_up} s");
            }
            if next < current {
                assert!(
                    -net(p_down) <= i64::from(v_down),
                    "{at}: more than {v_down} removed within {p_down} s"
                );
            }
            if unbounded {
                assert_eq!(next, current.max(lowest_up).min(highest_down).clamp(min, max), "{at}");
            }
            current = next;
        }
    }
}
