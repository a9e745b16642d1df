//! The slots' tags driven to their width: they start near `u32::MAX` (thread-local, so
//! tests running at once do not see each other's) and wrap while an HPA without
//! stabilisation flaps its slots up and down, leaving `ScaleReady` and `DrainCheck`
//! events of earlier starts and stops behind.

use crate::model::tags::testing::starting_at;

/// Load flipping between 30/s and 300/s every 1.5 s against 50/s per replica, a sync
/// every 500 ms without stabilisation, a startup of 4 s (longer than a flip's cycle, so
/// slots are stopped while starting and started again while a `ScaleReady` of their
/// previous start is pending: only its tag and instant tell it stale) and handlers of
/// 150 ms (so drains take a while).
fn flapping() -> crate::spec::Spec {
    let schedule: Vec<serde_json::Value> = (1..40)
        .map(|i| serde_json::json!({"at": format!("{}ms", 1500 * i), "rate": if i % 2 == 1 { 300 } else { 30 }}))
        .collect();
    let v = serde_json::json!({
        "name": "flap", "duration": "60s", "warmup": "0s", "seed": 3,
        "services": {"api": {"replicas": 2, "concurrency": 100,
            "endpoints": {"get": {"latency": {"exponential": {"mean": "150ms"}}}},
            "autoscale": {"metric": "rps_per_replica", "target": 50, "min_replicas": 1, "max_replicas": 8,
                "sync_period": "500ms", "startup": "4s",
                "behavior": {"scale_down": {"stabilization_window": "0s"}}}}},
        "workload": [{"name": "load", "target": "api.get", "arrival": {"poisson": {"rate": 30}},
                      "schedule": schedule}]
    });
    crate::scenario::load_str(&v.to_string(), "t.json", &Default::default()).unwrap()
}

/// Tags are compared by equality (and a start by its instant too), so a run whose tags
/// start just below the width and wrap during it is the run that starts at 0, wherever
/// below the width they start.
#[test]
fn tags_wrap_while_slots_flap_without_changing_the_run() {
    let spec = flapping();
    let run = |start: u32| starting_at(start, || crate::model::run(&spec).unwrap());
    let (base, _) = run(0);
    let a = base.services[0].autoscale.clone().unwrap();
    assert!(a.max_seen >= 6 && a.min_seen <= 2, "{a:?}");
    assert!(base.violations.is_empty(), "{:?}", base.violations);
    for below in 0..4 {
        let (near, wraps) = run(u32::MAX - below);
        assert!(wraps >= 6, "from MAX − {below}: {wraps} tags wrapped");
        assert!(near.violations.is_empty(), "{:?}", near.violations);
        assert_eq!(format!("{base:?}"), format!("{near:?}"), "from MAX − {below}");
    }
}
