//! The topics' counters driven to their width: the partitions' and consumers' epochs
//! start near `u32::MAX` (thread-local, so tests running at once do not see each
//! other's) and wrap during a run of crashes, restarts and rebalances; the round-robin
//! key's turn is shown never to reach a width at all.

use super::produce::round_robin;
use crate::model::tags::testing::starting_at;

/// A group of three consumers on six partitions, committing every 500 ms, whose
/// handler fails one time in five (blocking retries after 50 ms), on replicas that
/// crash and restart four times: the partitions move after a session timeout (10 ms)
/// shorter than the backoff, so a retry timer of the dead owner's epoch fires while the
/// new owner has a message in hand, and only its epoch tells it stale.
fn crashing_group() -> crate::spec::Spec {
    let crashes: Vec<serde_json::Value> = (0..4)
        .map(|i| {
            serde_json::json!({"crash": {"target": format!("worker#{}", i % 3),
                "start": format!("{}ms", 700 + 900 * i), "restart_after": "400ms"}})
        })
        .collect();
    let v = serde_json::json!({
        "name": "epochs", "duration": "5s", "warmup": "0s", "seed": 5,
        "services": {
            "api": {"concurrency": 100000, "endpoints": {"send": {"steps": [{"publish": "orders"}]}}},
            "worker": {"replicas": 3, "concurrency": 4,
                       "endpoints": {"handle": {"latency": {"exponential": {"mean": "3ms"}}, "errors": {"percent": 20}}}}
        },
        "topics": {"orders": {"partitions": 6, "key": "round_robin", "subscribers": [
            {"group": "g", "endpoint": "worker.handle", "consumers": 3, "max_attempts": 4,
             "backoff": {"constant": "50ms"}, "commit_interval": "500ms", "session_timeout": "10ms"}
        ]}},
        "faults": crashes,
        "workload": [{"name": "load", "target": "api.send", "arrival": {"poisson": {"rate": 200}}}]
    });
    crate::scenario::load_str(&v.to_string(), "t.json", &Default::default()).unwrap()
}

/// Epochs are compared by equality only, so a run whose epochs start just below the
/// width and wrap during it is the run that starts at 0, figure for figure, wherever
/// below the width they start. (An ordering comparison, `epoch >= part.epoch`, would
/// take the stale retry for current after the wrap; `+= 1` would overflow.)
#[test]
fn epochs_wrap_during_rebalances_without_changing_the_run() {
    let spec = crashing_group();
    let run = |start: u32| starting_at(start, || crate::model::run(&spec).unwrap());
    let (base, _) = run(0);
    let g = &base.topics[0].groups[0];
    // The paths were driven: redeliveries after the crashes, retries, dead letters.
    assert!(g.redelivered > 100 && g.delivered > 800 && g.dead_lettered + g.dropped > 0, "{g:?}");
    assert!(base.violations.is_empty(), "{:?}", base.violations);
    for below in 0..4 {
        let (near, wraps) = run(u32::MAX - below);
        // Every epoch moves at least twice (a partition at its first assignment and
        // when its owner crashes; a consumer when it crashes and rejoins): from MAX − 1
        // or MAX all nine cross the width, from lower some of them.
        let least = if below <= 1 { 9 } else { 1 };
        assert!(wraps >= least, "from MAX − {below}: {wraps} epochs wrapped");
        assert!(near.violations.is_empty(), "{:?}", near.violations);
        assert_eq!(format!("{base:?}"), format!("{near:?}"), "from MAX − {below}");
    }
}

/// The round-robin key's turn is the next partition itself: it stays below the
/// partition count for ever and gives the partitions of `count % n` below the wrap.
/// The count it replaced, at its width, gave partition 0 twice in a row for n = 3
/// (4294967295 % 3 = 0, then 0 % 3 = 0) and skipped 1 and 2.
#[test]
fn the_round_robin_turn_never_reaches_a_width() {
    for n in 1..=7u32 {
        let mut rr = 0;
        for count in 0..10_000u32 {
            assert_eq!(round_robin(&mut rr, n), count % n, "n = {n}");
            assert!(rr < n);
        }
    }
    assert_eq!((u32::MAX % 3, u32::MAX.wrapping_add(1) % 3), (0, 0), "the count's wrap");
}
