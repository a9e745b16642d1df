//! The work queues' counters driven to their width: a slot's receipt (which names the
//! message a visibility timer was set for) and a message's receive count start near
//! `u32::MAX` here (thread-local, so tests running at once do not see each other's),
//! and the slab's index cap is lowered to a hundred.

use crate::model::RunOutput;
use crate::spec::Spec;
use std::cell::Cell;

thread_local! {
    static RECEIPT: Cell<u32> = const { Cell::new(0) };
    static RECEIVES: Cell<u32> = const { Cell::new(0) };
    static CAP: Cell<u64> = const { Cell::new(1 << 32) };
    static RETIRED: Cell<u64> = const { Cell::new(0) };
}

/// Counts the slots retired at their last receipt.
pub(super) fn retired() {
    RETIRED.with(|r| r.set(r.get() + 1));
}

pub(super) fn first_receipt() -> u32 {
    RECEIPT.with(Cell::get)
}
pub(super) fn first_receives() -> u32 {
    RECEIVES.with(Cell::get)
}
pub(super) fn slot_cap() -> u64 {
    CAP.with(Cell::get)
}

fn spec(v: serde_json::Value) -> Spec {
    crate::scenario::load_str(&v.to_string(), "t.json", &Default::default()).unwrap()
}

/// Runs with the counters starting where the test put them, then puts them back.
fn run_from(spec: &Spec, receipt: u32, receives: u32, cap: u64) -> Result<RunOutput, String> {
    RECEIPT.with(|c| c.set(receipt));
    RECEIVES.with(|c| c.set(receives));
    CAP.with(|c| c.set(cap));
    RETIRED.with(|r| r.set(0));
    let out = crate::model::run(spec).map_err(|e| e.to_string());
    RECEIPT.with(|c| c.set(0));
    RECEIVES.with(|c| c.set(0));
    CAP.with(|c| c.set(1 << 32));
    out
}

/// A producer (`arrival`) into `queue`, handled by `worker.handle`.
fn scenario(
    arrival: serde_json::Value,
    duration: &str,
    handler: serde_json::Value,
    queue: serde_json::Value,
) -> Spec {
    spec(serde_json::json!({
        "name": "q", "duration": duration, "warmup": "0s", "seed": 11,
        "services": {
            "api": {"concurrency": 100000, "endpoints": {"send": {"steps": [{"enqueue": "jobs"}]}}},
            "worker": {"replicas": 2, "concurrency": 100, "endpoints": {"handle": handler}}
        },
        "queues": {"jobs": queue},
        "workload": [{"name": "load", "target": "api.send", "arrival": arrival}]
    }))
}

/// SQS with a visibility timeout far longer than the handling: every deleted message
/// leaves a timer behind that fires after its slot has served many later messages (a
/// stale timer, which must do nothing), and the failed ones come back through theirs.
/// Started three receipts below the width, each slot retires after three messages
/// instead of wrapping to a receipt an old timer could name: the run is the run that
/// starts at 0, figure for figure (and `m.receipt += 1` would have overflowed).
#[test]
fn receipts_cross_their_width_by_retiring_the_slot() {
    let spec = scenario(
        serde_json::json!({"poisson": {"rate": 2000}}),
        "5s",
        serde_json::json!({"latency": {"exponential": {"mean": "2ms"}}, "errors": {"percent": 20}}),
        serde_json::json!({"visibility_timeout": "200ms", "max_receive_count": 3,
                           "consumers": [{"endpoint": "worker.handle", "consumers": 8, "prefetch": 4}]}),
    );
    let base = run_from(&spec, 0, 0, 1 << 32).unwrap();
    let q = &base.queues[0];
    // The paths were driven: stale timers (every deletion), redeliveries, dead letters.
    assert!(q.deleted > 7000 && q.received > q.deleted + 1500, "{q:?}");
    assert!(q.dead_lettered > 40, "{q:?}");
    assert_eq!(q.duplicates, 0, "a stale timer gave a handled message back: {q:?}");
    assert!(base.violations.is_empty(), "{:?}", base.violations);
    assert_eq!(RETIRED.with(Cell::get), 0);
    let near = run_from(&spec, u32::MAX - 2, 0, 1 << 32).unwrap();
    assert!(near.violations.is_empty(), "{:?}", near.violations);
    // Each slot held three messages (receipts MAX − 2, MAX − 1, MAX) and retired: all
    // but the slots still holding one at the end.
    let ended = near.queues[0].deleted + near.queues[0].dead_lettered;
    let retired = RETIRED.with(Cell::get);
    assert!(retired * 3 <= ended && retired * 3 + 200 >= ended, "{retired} retired, {ended} ended");
    assert_eq!(format!("{base:?}"), format!("{near:?}"));
}

/// RabbitMQ without a delivery limit: a poison message is requeued at once and received
/// again for ever. Its receive count saturates at the width instead of overflowing (a
/// panic with overflow checks, a count back at 0 without), and it is still received.
#[test]
fn a_poison_message_is_received_past_the_count_width() {
    // One message, sent at 1 s.
    let spec = scenario(
        serde_json::json!({"constant": {"rate": 1}}),
        "2s",
        serde_json::json!({"latency": {"constant": "1ms"}, "errors": {"percent": 100}}),
        serde_json::json!({"consumers": [{"endpoint": "worker.handle", "consumers": 1}]}),
    );
    let base = run_from(&spec, 0, 0, 1 << 32).unwrap();
    let near = run_from(&spec, 0, u32::MAX - 10, 1 << 32).unwrap();
    for out in [&base, &near] {
        let q = &out.queues[0];
        assert!(out.violations.is_empty(), "{:?}", out.violations);
        assert_eq!(q.sent, 1, "{q:?}");
        // Received back to back, 1 ms each, from its send at 1 s to the end at 2 s.
        assert!((999..=1001).contains(&q.received), "{q:?}");
        assert_eq!((q.deleted, q.dead_lettered, q.in_flight), (0, 0, 1), "{q:?}");
    }
    assert_eq!(format!("{base:?}"), format!("{near:?}"));
}

/// The slab's index rides in events as 32 bits: a queue that would need more slots
/// stops the run with a limit naming the queue and the fix, never a truncated index
/// (lowered to 100 slots here; 2^32 in a run).
#[test]
fn a_slab_past_its_index_width_is_a_named_limit() {
    let spec = scenario(
        serde_json::json!({"poisson": {"rate": 1000}}),
        "5s",
        serde_json::json!({"latency": {"constant": "1s"}}),
        serde_json::json!({"consumers": [{"endpoint": "worker.handle", "consumers": 1, "prefetch": 1}]}),
    );
    let err = run_from(&spec, 0, 0, 100).unwrap_err();
    assert!(err.contains("queue `jobs`") && err.contains("100 message slots"), "{err}");
    assert!(err.contains("/limits/max_queued"), "{err}");
    // The same run with its slots uncapped ends normally with its backlog.
    let out = run_from(&spec, 0, 0, 1 << 32).unwrap();
    assert!(out.queues[0].in_flight > 4000, "{:?}", out.queues[0]);
}
