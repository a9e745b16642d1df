use super::*;
use crate::rng::rng_stream;

const MS: Nanos = 1_000_000;

fn params() -> GradientParams {
    GradientParams { request_count: 5, jitter: 0.0, ..GradientParams::default() }
}

/// Admits one request at `sent` (it must pass) and samples it at `sent + lat`.
fn req(g: &mut Gradient, sent: Nanos, lat: Nanos, rng: &mut Rng) {
    assert!(g.admit(sent), "blocked at {sent}");
    g.sample(sent + lat, sent, rng);
}

/// Measures a minRTT of 10 ms from five samples (9, 10, 10, 11, 12 ms: the median, by
/// nearest rank the third, is 10 ms); the measurement ends at 100 ms.
fn measured() -> (Gradient, Rng) {
    let mut rng = rng_stream(1, "adaptive/test");
    let mut g = Gradient::new(params(), 0);
    assert!(g.in_min_rtt_window());
    for (sent, lat) in [(0, 10), (10, 12), (30, 11), (50, 10), (91, 9)] {
        req(&mut g, sent * MS, lat * MS, &mut rng);
    }
    assert!(!g.in_min_rtt_window());
    assert_eq!(g.min_rtt(), 10 * MS);
    (g, rng)
}

/// One window: a request of latency `lat` ms sent at `at` ms, then the window closes at
/// `close` ms; returns the limit then.
fn window(g: &mut Gradient, rng: &mut Rng, at: Nanos, lat: Nanos, close: Nanos) -> u32 {
    req(g, at * MS, lat * MS, rng);
    g.limit_at(close * MS)
}

#[test]
fn the_limit_is_pinned_to_min_concurrency_while_the_min_rtt_is_measured() {
    let mut g = Gradient::new(params(), 0);
    assert_eq!(g.limit_at(0), 3);
    assert!(g.admit(0) && g.admit(0) && g.admit(0));
    assert!(!g.admit(0), "a fourth request is blocked");
    assert_eq!(g.blocked(), 1);
    // No window closes while the minRTT is measured, whatever the time.
    assert_eq!(g.limit_at(10_000 * MS), 3);
    assert!(g.in_min_rtt_window());
}

#[test]
fn the_gradient_and_headroom_match_a_hand_computation() {
    let (mut g, mut rng) = measured();
    // Ended at 100 ms: the first window closes at 200 ms. minRTT 10 ms, buffer 25 %:
    // buffered 12.5 ms.
    // sampleRTT 5 ms: gradient 2.5 → 2.0; 3 × 2 = 6; 6 + √6 = 8.449 → 8.
    assert_eq!(window(&mut g, &mut rng, 150, 5, 200), 8);
    assert_eq!(g.sample_rtt(), 5 * MS);
    // sampleRTT 10 ms: gradient 1.25; 8 × 1.25 = 10; 10 + √10 = 13.162 → 13.
    assert_eq!(window(&mut g, &mut rng, 250, 10, 300), 13);
    // sampleRTT 25 ms: gradient 0.5; 6.5 + √6.5 = 9.0495 → 9.
    assert_eq!(window(&mut g, &mut rng, 310, 25, 400), 9);
    // sampleRTT 15 ms: gradient 0.8333; 7.5 + √7.5 = 10.2386 → 10.
    assert_eq!(window(&mut g, &mut rng, 420, 15, 500), 10);
    // sampleRTT 100 ms: gradient 0.125 → 0.5; 5 + √5 = 7.236 → 7.
    assert_eq!(window(&mut g, &mut rng, 495, 100, 600), 7);
    // An empty window changes nothing.
    assert_eq!(g.limit_at(700 * MS), 7);
    assert_eq!(g.limit_at(5_000 * MS), 7);
}

#[test]
fn the_window_percentile_is_the_nearest_rank_one() {
    let (mut g, mut rng) = measured();
    for (sent, lat) in [(110, 40), (120, 8), (130, 10), (140, 9)] {
        req(&mut g, sent * MS, lat * MS, &mut rng);
    }
    // Samples 8, 9, 10, 40: the median by nearest rank is the second, 9 ms.
    // gradient 12.5 / 9 = 1.3889; 3 × 1.3889 = 4.1667; + 2.0412 = 6.2079 → 6.
    assert_eq!(g.limit_at(200 * MS), 6);
    assert_eq!(g.sample_rtt(), 9 * MS);
    let p90 = GradientParams { percentile: 0.9, ..params() };
    let mut g = Gradient::new(p90, 0);
    for (sent, lat) in [(0, 10), (10, 12), (30, 11), (50, 10), (91, 9)] {
        req(&mut g, sent * MS, lat * MS, &mut rng);
    }
    // p90 of 9, 10, 10, 11, 12: rank ⌈4.5⌉ = 5, 12 ms.
    assert_eq!(g.min_rtt(), 12 * MS);
}

#[test]
fn the_limit_stays_within_min_and_max() {
    let mut p = params();
    p.max_limit = 10;
    let mut rng = rng_stream(1, "adaptive/test");
    let mut g = Gradient::new(p, 0);
    for (sent, lat) in [(0, 10), (10, 12), (30, 11), (50, 10), (91, 9)] {
        req(&mut g, sent * MS, lat * MS, &mut rng);
    }
    // 8, then 16 + 4 = 20 → capped at 10.
    assert_eq!(window(&mut g, &mut rng, 150, 1, 200), 8);
    assert_eq!(window(&mut g, &mut rng, 250, 1, 300), 10);
    assert_eq!(window(&mut g, &mut rng, 350, 1, 400), 10);
}

#[test]
fn five_windows_at_the_minimum_remeasure_the_min_rtt_at_once() {
    let (mut g, mut rng) = measured();
    // sampleRTT 40 ms: gradient 0.5; 1.5 + 1.22 = 2.72 → 2 → the minimum, 3. The
    // restore at the end of the measurement does not count; five windows do.
    for (i, close) in [200, 300, 400, 500].into_iter().enumerate() {
        assert_eq!(window(&mut g, &mut rng, close - 60, 40, close), 3, "window {i}");
        assert!(!g.in_min_rtt_window());
    }
    assert_eq!(window(&mut g, &mut rng, 540, 40, 600), 3);
    assert!(g.in_min_rtt_window(), "the fifth window at the minimum starts a measurement");
    // A request sent before the measurement began is not a sample of it.
    assert!(g.admit(590 * MS));
    g.sample(650 * MS, 590 * MS, &mut rng);
    for sent in [600, 610, 620, 630] {
        req(&mut g, sent * MS, 20 * MS, &mut rng);
    }
    assert!(g.in_min_rtt_window(), "four samples of five");
    req(&mut g, 640 * MS, 20 * MS, &mut rng);
    assert!(!g.in_min_rtt_window());
    assert_eq!(g.min_rtt(), 20 * MS);
}

#[test]
fn the_min_rtt_is_measured_again_after_its_interval_plus_jitter() {
    let (mut g, mut rng) = measured();
    // Ended at 100 ms, no jitter: the next measurement starts at 60.1 s.
    assert_eq!(window(&mut g, &mut rng, 150, 5, 200), 8);
    assert!(!g.in_min_rtt_window());
    g.limit_at(60_100 * MS - 1);
    assert!(!g.in_min_rtt_window());
    assert_eq!(g.limit_at(60_100 * MS), 3);
    assert!(g.in_min_rtt_window());
    // With 10 % jitter the start is drawn, in whole milliseconds, from
    // [end + 60 s, end + 66 s): here the measurement ended at 1 ms.
    let mut starts = Vec::new();
    for seed in 0..20 {
        let mut rng = rng_stream(seed, "adaptive/jitter");
        let mut g = Gradient::new(GradientParams { request_count: 1, ..GradientParams::default() }, 0);
        req(&mut g, 0, MS, &mut rng);
        assert!(!g.in_min_rtt_window());
        let mut t = 60_000 * MS;
        while !g.in_min_rtt_window() {
            t += MS;
            g.limit_at(t);
        }
        let j = t - 60_001 * MS;
        assert!(j < 6_000 * MS, "seed {seed}: jitter {j}");
        starts.push(j);
    }
    starts.sort_unstable();
    starts.dedup();
    assert!(starts.len() > 10, "the jitter is drawn: {starts:?}");
}

#[test]
fn outstanding_never_exceeds_the_limit_at_admission() {
    use rand::RngExt;
    let mut rng = rng_stream(7, "adaptive/prop");
    let mut draws = rng_stream(8, "adaptive/prop-draws");
    let mut g = Gradient::new(GradientParams { request_count: 20, ..GradientParams::default() }, 0);
    let mut out: Vec<Nanos> = Vec::new();
    let mut now = 0;
    for _ in 0..200_000 {
        now += draws.random_range(0..2 * MS);
        match draws.random_range(0..3) {
            0 | 1 => {
                if g.admit(now) {
                    out.push(now);
                    assert!(g.outstanding() <= g.limit_at(now));
                }
            }
            _ => {
                if !out.is_empty() {
                    let i = draws.random_range(0..out.len());
                    let sent = out.swap_remove(i);
                    if draws.random_range(0..10) == 0 {
                        g.failure(now);
                    } else {
                        g.sample(now, sent, &mut rng);
                    }
                }
            }
        }
        assert_eq!(g.outstanding() as usize, out.len());
        let l = g.limit_at(now);
        assert!((3..=1000).contains(&l));
    }
}
