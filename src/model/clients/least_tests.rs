//! Least outstanding's index (`least.rs`) against the scan it replaces: random sequences
//! of picks, answers (with the outlier detector's ejections and their ends) and
//! readiness changes, replayed on two clients that differ only in the index, must choose
//! the same replica every time.

use super::least::MIN_REPLICAS;
use super::turn_tests::front_to_back;
use crate::rng::rng_stream;
use crate::spec::Nanos;
use rand::RngExt;

/// Replays `steps` random steps against a target of `n` replicas from a caller of two
/// replicas; returns the picks made.
fn replay(n: u32, seed: u64, steps: usize, policy: &str) -> usize {
    let (spec, mut fast, cf, first) = front_to_back(2, n, policy);
    let (_, mut slow, cs, _) = front_to_back(2, n, policy);
    for s in &mut slow.blocks[cs as usize].slots {
        s.least = None;
    }
    assert!(fast.blocks[cf as usize].slots.iter().all(|s| s.least.is_some()), "{n} replicas: no index");
    let target = spec.edges.iter().find(|e| e.caller == Some(0)).unwrap().target;
    let mut rng = rng_stream(seed, "test/least-index");
    let mut ready = vec![true; n as usize];
    let (mut changes, mut now, mut picks): (u64, Nanos, usize) = (0, 0, 0);
    // Attempts out: (caller slot, replica).
    let mut out: Vec<(u32, u32)> = Vec::new();
    // How likely a replica is to turn unready at a readiness change (it drifts, so that
    // runs with most replicas out, where the turn passes over many, come up too).
    let mut down_share = 0.1;
    for step in 0..steps {
        now += rng.random_range(0..2_000_000u64);
        match rng.random_range(0..100u32) {
            0..55 => {
                let slot = rng.random_range(0..2u32);
                let a = fast.pick(cf, slot, now, changes, |r| ready[(r - first) as usize]);
                let b = slow.pick(cs, slot, now, changes, |r| ready[(r - first) as usize]);
                assert_eq!(a, b, "{n} replicas, seed {seed}, step {step}");
                if let Some(r) = a {
                    out.push((slot, r));
                    picks += 1;
                }
            }
            55..97 if !out.is_empty() => {
                let (slot, r) = out.swap_remove(rng.random_range(0..out.len()));
                let error = rng.random_bool(0.3);
                for (c, id) in [(&mut fast, cf), (&mut slow, cs)] {
                    c.release(id, target, slot, now, Some(r), None);
                    c.outlier_result(id, slot, r, now, error);
                }
            }
            97..99 => {
                let x = rng.random_range(0..n as usize);
                ready[x] = !rng.random_bool(down_share);
                changes += 1;
            }
            99 => {
                down_share = rng.random_range(0.0..0.97);
                for r in ready.iter_mut() {
                    *r = !rng.random_bool(down_share);
                }
                changes += 1;
            }
            _ => {}
        }
    }
    for (a, b) in fast.blocks[cf as usize].slots.iter().zip(&slow.blocks[cs as usize].slots) {
        assert_eq!(a.outstanding, b.outstanding, "{n} replicas, seed {seed}");
    }
    picks
}

#[test]
fn least_outstanding_s_index_chooses_the_replica_the_scan_chooses() {
    let outlier = r#"{"load_balancer": "least_outstanding",
        "outlier_detection": {"consecutive_errors": 2, "ejection": "20ms", "max_ejection_percent": 40}}"#;
    let plain = r#"{"load_balancer": "least_outstanding"}"#;
    let mut picks = 0;
    for (n, seed) in [(MIN_REPLICAS, 1), (33, 2), (64, 3), (100, 4), (257, 5)] {
        picks += replay(n, seed, 20_000, outlier);
        picks += replay(n, seed + 100, 5_000, plain);
    }
    // Most steps that pick find a replica (a few find none ready).
    assert!(picks > 50_000, "{picks} picks");
}
