//! Round robin's turn over the eligible replicas (`turn` in `balance.rs`).

use super::ClientSlot;
use super::balance::turn;
use crate::rng::rng_stream;

fn slot(rr: u32) -> ClientSlot {
    ClientSlot {
        rr,
        seen: 0,
        outstanding: Vec::new(),
        budget: None,
        outlier: None,
        bulkhead: None,
        ratelimit: None,
    }
}

/// Picks `k` times as `pick` does (the turn, then the next turn after it).
fn picks(s: &mut ClientSlot, n: u32, changes: u64, up: &[bool], k: usize) -> Vec<u32> {
    let mut rng = rng_stream(1, "test/turn");
    (0..k)
        .map(|_| {
            let r = turn(s, n, changes, &mut rng, |x, _| up[x as usize]).unwrap();
            s.rr = r + 1;
            r
        })
        .collect()
}

#[test]
fn the_replicas_left_take_turns_once_a_round() {
    // Replica 0 of 3 is down: 1 and 2 alternate exactly, whatever the turn's start
    // (taking "the next eligible" without moving the turn on gave replica 1 two turns
    // a round, and re-drawing at each pass gave runs of the same replica).
    for start in 0..3 {
        let mut s = slot(start);
        let got = picks(&mut s, 3, 0, &[false, true, true], 12);
        let ones = got.iter().filter(|&&r| r == 1).count();
        assert_eq!(ones, 6, "start {start}: {got:?}");
        assert!(got.windows(2).all(|w| w[0] != w[1]), "start {start}: {got:?}");
    }
    // Seven of ten down: the three left share the turns evenly.
    let up = [false, false, true, false, false, true, false, false, false, true];
    let got = picks(&mut slot(0), 10, 0, &up, 30);
    for r in [2, 5, 9] {
        assert_eq!(got.iter().filter(|&&x| x == r).count(), 10, "{got:?}");
    }
}

#[test]
fn a_change_of_the_ready_set_starts_the_turn_at_a_random_eligible_replica() {
    let up = [true, false, true, true];
    let mut starts = [0usize; 4];
    let mut rng = rng_stream(7, "test/turn-change");
    for changes in 1..=400u64 {
        let mut s = slot(0);
        let r = turn(&mut s, 4, changes, &mut rng, |x, _| up[x as usize]).unwrap();
        assert_eq!(s.seen, changes);
        starts[r as usize] += 1;
    }
    assert_eq!(starts[1], 0, "a down replica was picked");
    // Each of the three eligible ones about a third of 400 (binomial sd about 9.4).
    for r in [0, 2, 3] {
        assert!((starts[r] as f64 - 400.0 / 3.0).abs() < 4.0 * 9.5, "{starts:?}");
    }
    // Nothing eligible: no replica.
    let mut s = slot(0);
    assert_eq!(turn(&mut s, 2, 0, &mut rng, |_, _| false), None);
    assert_eq!(turn(&mut s, 2, 1, &mut rng, |_, _| false), None);
}
