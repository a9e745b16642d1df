//! Round robin's turn over the eligible replicas (`turn` in `balance.rs`).

use super::balance::turn;
use super::{ClientSlot, Clients};
use crate::rng::rng_stream;
use crate::scenario::{LoadOptions, load_str};
use crate::spec::{NS_PER_S, Nanos, Spec};

fn slot(rr: u32) -> ClientSlot {
    ClientSlot {
        rr,
        seen: 0,
        recheck: Nanos::MAX,
        outstanding: Vec::new(),
        least: None,
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
            let r = turn(s, n, changes, false, &mut rng, |x, _| up[x as usize]).unwrap();
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
        let r = turn(&mut s, 4, changes, false, &mut rng, |x, _| up[x as usize]).unwrap();
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
    assert_eq!(turn(&mut s, 2, 0, false, &mut rng, |_, _| false), None);
    assert_eq!(turn(&mut s, 2, 1, false, &mut rng, |_, _| false), None);
}

/// A `front` of `callers` replicas calling `back` (`n` replicas) under policy `p`: the
/// spec, its clients, front's client block towards back and back's first replica.
pub(super) fn front_to_back(callers: u32, n: u32, policy: &str) -> (Spec, Clients, u32, u32) {
    let text = format!(
        r#"{{"name": "t", "duration": "1s",
        "services": {{
          "front": {{"replicas": {callers}, "endpoints": {{"e": {{"steps": [{{"call": "back.e", "policy": "p"}}]}}}}}},
          "back": {{"replicas": {n}, "endpoints": {{"e": {{}}}}}}
        }},
        "policies": {{"p": {policy}}},
        "workload": [{{"name": "w", "target": "front.e", "arrival": {{"poisson": {{"rate": 1}}}}}}]}}"#
    );
    let spec = load_str(&text, "t.json", &LoadOptions::default()).unwrap();
    let mut clients = Clients::new(&spec);
    let edge = spec.edges.iter().position(|e| e.caller == Some(0)).unwrap() as u32;
    let client = clients.client_for(&spec, Some(0), 0, 1, Some(0), edge);
    let first = spec.services[1].first_replica;
    (spec, clients, client, first)
}

const EJECT_AT_FIRST_ERROR: &str = r#"{"outlier_detection": {"consecutive_errors": 1, "ejection": "1s",
    "max_ejection_percent": 50}}"#;

#[test]
fn an_ejection_and_its_end_start_the_turn_again_at_a_random_eligible_replica() {
    // gRPC's outlier detection reports an ejected subchannel as failing, and ready again
    // when its ejection ends: round robin rebuilds its picker at a random index both
    // times, as on a readiness change. (Before, the turn went on: the replica after the
    // ejected one took its turn every time.)
    let (_spec, mut c, client, first) = front_to_back(1, 4, EJECT_AT_FIRST_ERROR);
    let (mut after_eject, mut after_end) = ([0u32; 4], [0u32; 4]);
    let mut now: Nanos = 0;
    for _ in 0..400 {
        // The k-th ejection of replica 0 lasts k seconds: 1000 s are past any of them.
        now += 1000 * NS_PER_S;
        c.blocks[client as usize].slots[0].rr = 0;
        c.outlier_result(client, 0, first, now, true);
        let r = c.pick(client, 0, now, 0, |_| true).unwrap() - first;
        after_eject[r as usize] += 1;
        now += 500 * NS_PER_S;
        c.blocks[client as usize].slots[0].rr = 1;
        let r = c.pick(client, 0, now, 0, |_| true).unwrap() - first;
        after_end[r as usize] += 1;
    }
    assert_eq!(after_eject[0], 0, "an ejected replica was picked: {after_eject:?}");
    // A third of 400 each (binomial sd 9.4), a quarter of 400 each (sd 8.7): 4 sd.
    for r in 1..4 {
        assert!((f64::from(after_eject[r]) - 400.0 / 3.0).abs() < 4.0 * 9.43, "{after_eject:?}");
    }
    for r in 0..4 {
        assert!((f64::from(after_end[r]) - 100.0).abs() < 4.0 * 8.67, "{after_end:?}");
    }
}

#[test]
fn an_ejection_that_moves_no_ready_replica_keeps_the_turn() {
    // Replica 0 is not ready: ejecting it (an answer still in flight when its probe
    // failed) and its ejection's end change nothing the picker holds, as a subchannel
    // already failing that is reported failing again; the turn goes on.
    let (_spec, mut c, client, first) = front_to_back(1, 4, EJECT_AT_FIRST_ERROR);
    let ready = |r: u32| r != first;
    let mut now: Nanos = 0;
    for k in 0..50 {
        now += 1000 * NS_PER_S;
        c.blocks[client as usize].slots[0].rr = 2;
        c.outlier_result(client, 0, first, now, true);
        assert_eq!(c.pick(client, 0, now, 0, ready), Some(first + 2), "ejection {k}");
        now += 500 * NS_PER_S;
        assert_eq!(c.pick(client, 0, now, 0, ready), Some(first + 3), "end of ejection {k}");
    }
    // Every ejection was looked at: nothing left for the next pick.
    let slot = &c.blocks[client as usize].slots[0];
    assert_eq!(slot.recheck, Nanos::MAX);
}

#[test]
fn two_policies_on_one_caller_and_target_start_their_turns_apart() {
    // front's 50 replicas call back (1000 replicas) under two policies: two clients, each
    // caller replica's two turns starting at independent random replicas (about 50/1000
    // of them on the same one). They drew from one stream, so all 50 pairs started on
    // the same replica and moved in lockstep.
    let text = |steps: &str| {
        format!(
            r#"{{"name": "t", "duration": "1s",
            "services": {{
              "front": {{"replicas": 50, "endpoints": {{"e": {{"steps": {steps}}}}}}},
              "back": {{"replicas": 1000, "endpoints": {{"e": {{}}, "f": {{}}}}}}
            }},
            "policies": {{"p": {{}}, "q": {{"timeout": "1s"}}}},
            "workload": [{{"name": "w", "target": "front.e", "arrival": {{"poisson": {{"rate": 1}}}}}}]}}"#
        )
    };
    let starts = |c: &Clients, id: u32| c.blocks[id as usize].slots.iter().map(|s| s.rr).collect::<Vec<_>>();
    let spec = load_str(
        &text(r#"[{"call": "back.e", "policy": "p"}, {"call": "back.f", "policy": "q"}]"#),
        "t.json",
        &LoadOptions::default(),
    )
    .unwrap();
    let mut c = Clients::new(&spec);
    let edge = |spec: &Spec, ep: &str| {
        spec.edges.iter().position(|e| e.name == format!("front->back.{ep}")).unwrap() as u32
    };
    let p = c.client_for(&spec, Some(0), 0, 1, Some(0), edge(&spec, "e"));
    let q = c.client_for(&spec, Some(0), 0, 1, Some(1), edge(&spec, "f"));
    let same = starts(&c, p).iter().zip(&starts(&c, q)).filter(|(a, b)| a == b).count();
    // Binomial(50, 1/1000): P(at least 3) is about 2e-5.
    assert!(same < 3, "{same} of 50 caller replicas start both turns on the same replica");
    // The first block keeps the caller's and target's stream: the same starts as the
    // call made without a policy.
    let bare = load_str(&text(r#"[{"call": "back.e"}]"#), "t.json", &LoadOptions::default()).unwrap();
    let mut b = Clients::new(&bare);
    let id = b.client_for(&bare, Some(0), 0, 1, None, edge(&bare, "e"));
    assert_eq!(starts(&b, id), starts(&c, p));
}
