use super::*;

const MS: Nanos = 1_000_000;

fn params() -> AimdParams {
    AimdParams { initial_limit: 10, min_limit: 2, max_limit: 14, backoff_ratio: 0.9, timeout_ns: 100 * MS }
}

/// One sample on `a`; returns the limit after it.
fn s(a: &mut Aimd, rtt_ms: Nanos, inflight: u32, drop: bool) -> u32 {
    assert!(a.admit().is_some(), "the sample's request must be admitted");
    a.sample(rtt_ms * MS, inflight, drop);
    a.limit()
}

#[test]
fn netflix_defaults() {
    let p = AimdParams::default();
    assert_eq!((p.initial_limit, p.min_limit, p.max_limit), (20, 20, 200));
    assert_eq!(p.backoff_ratio, 0.9);
    assert_eq!(p.timeout_ns, 5_000_000_000);
    let mut a = Aimd::new(p);
    for i in 1..=20 {
        assert_eq!(a.admit(), Some(i), "inflight counts the request itself");
    }
    assert_eq!(a.admit(), None, "the 21st is blocked");
    assert_eq!(a.blocked(), 1);
    // A sample of exactly the timeout is not a drop; one nanosecond more is, and the
    // backoff 20 × 0.9 = 18 is clamped back to minLimit 20.
    a.sample(5_000_000_000, 20, false);
    assert_eq!(a.limit(), 21);
    a.sample(5_000_000_001, 20, false);
    assert_eq!(a.limit(), 20);
    assert_eq!(a.outstanding(), 18);
}

#[test]
fn additive_increase_only_when_half_the_limit_was_in_flight() {
    let mut a = Aimd::new(params());
    // inflight 5: 5 × 2 = 10 ≥ 10 → 11.
    assert_eq!(s(&mut a, 1, 5, false), 11);
    // inflight 5: 10 < 11, unchanged.
    assert_eq!(s(&mut a, 1, 5, false), 11);
    // inflight 6: 12 ≥ 11 → 12.
    assert_eq!(s(&mut a, 1, 6, false), 12);
    // A latency equal to the timeout is not a drop: 100 ms, inflight 6 → 13.
    assert_eq!(s(&mut a, 100, 6, false), 13);
    // Up to maxLimit 14 and no further.
    assert_eq!(s(&mut a, 1, 7, false), 14);
    assert_eq!(s(&mut a, 1, 14, false), 14);
}

#[test]
fn multiplicative_decrease_on_a_drop_or_a_timeout_truncates_and_stops_at_min() {
    let mut a = Aimd::new(AimdParams { initial_limit: 14, ..params() });
    // Slower than the timeout (101 ms > 100 ms): ⌊14 × 0.9⌋ = ⌊12.6⌋ = 12, whatever the
    // inflight.
    assert_eq!(s(&mut a, 101, 14, false), 12);
    // A drop (a cancelled request) backs off however fast it was: ⌊10.8⌋ = 10.
    assert_eq!(s(&mut a, 1, 1, true), 10);
    // ⌊9.0⌋ = 9, ⌊8.1⌋ = 8, ⌊7.2⌋ = 7, ⌊6.3⌋ = 6, ⌊5.4⌋ = 5, ⌊4.5⌋ = 4, ⌊3.6⌋ = 3,
    // ⌊2.7⌋ = 2, and ⌊1.8⌋ = 1 is clamped to minLimit 2.
    let seq: Vec<u32> = (0..9).map(|_| s(&mut a, 500, 3, false)).collect();
    assert_eq!(seq, [9, 8, 7, 6, 5, 4, 3, 2, 2]);
    // Back up by one per sample with enough in flight: 2 × 1 ≥ 2 → 3.
    assert_eq!(s(&mut a, 1, 1, false), 3);
    assert_eq!(s(&mut a, 1, 1, false), 3, "1 × 2 < 3");
    assert_eq!(s(&mut a, 1, 2, false), 4);
}

#[test]
fn the_backoff_ratio_sets_the_cut() {
    let mut a = Aimd::new(AimdParams { initial_limit: 13, min_limit: 1, backoff_ratio: 0.5, ..params() });
    // ⌊6.5⌋ = 6, ⌊3⌋ = 3, ⌊1.5⌋ = 1, ⌊0.5⌋ = 0 → minLimit 1.
    let seq: Vec<u32> = (0..4).map(|_| s(&mut a, 0, 1, true)).collect();
    assert_eq!(seq, [6, 3, 1, 1]);
}

#[test]
fn an_initial_limit_outside_the_bounds_is_clamped_by_the_first_sample() {
    // Netflix's builder only warns; the first update clamps.
    let mut a = Aimd::new(AimdParams { initial_limit: 30, ..params() });
    assert_eq!(a.limit(), 30);
    assert_eq!(s(&mut a, 1, 1, false), 14);
    let mut b = Aimd::new(AimdParams { initial_limit: 1, min_limit: 4, ..params() });
    assert_eq!(s(&mut b, 1, 1, false), 4, "1 × 2 ≥ 1 → 2, clamped up to 4");
}

#[test]
fn nothing_is_admitted_above_a_lowered_limit_until_enough_end() {
    let mut a = Aimd::new(AimdParams { initial_limit: 4, min_limit: 1, ..params() });
    let inflight: Vec<Option<u32>> = (0..5).map(|_| a.admit()).collect();
    assert_eq!(inflight, [Some(1), Some(2), Some(3), Some(4), None]);
    // Two drops: ⌊3.6⌋ = 3, then ⌊2.7⌋ = 2, with 2 still outstanding.
    a.sample(MS, 1, true);
    a.sample(MS, 2, true);
    assert_eq!((a.limit(), a.outstanding()), (2, 2));
    assert_eq!(a.admit(), None, "2 outstanding, limit 2");
    // One more ends fast with inflight 3: 6 ≥ 2 → 3; now 1 outstanding.
    a.sample(MS, 3, false);
    assert_eq!((a.limit(), a.outstanding()), (3, 1));
    assert_eq!(a.admit(), Some(2));
    assert_eq!(a.admit(), Some(3));
    assert_eq!(a.admit(), None);
    assert_eq!(a.blocked(), 3);
}
