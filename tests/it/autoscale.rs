//! Issue 14, item 4: Kubernetes' HorizontalPodAutoscaler (docs/scenario-format.md,
//! Autoscaling). The replica count follows the controller's formula and policies step
//! by step on load steps whose metric is exact (constant arrivals, constant service
//! times); scale-down waits out the stabilisation window and drains (every request ends
//! once, none fails for it); consumers of a work queue and a Kafka group rebalance onto
//! new replicas; a crash of a slot the autoscaler has not started does nothing; the bad
//! input it adds is refused with its path.

use crate::common::*;
use faultline::metrics::Scope;
use faultline::model::RunOutput;
use faultline::scenario::{LoadOptions, load_str};
use faultline::spec::Cause;
use serde_json::{Value, json};

/// The series value of `metric` of service `svc` at the end of the interval ending at
/// `t_s` seconds (the intervals are `interval_s` long).
fn at(out: &RunOutput, svc: &str, metric: &str, t_s: u64, interval_s: u64) -> f64 {
    let col = out.series.column(Scope::Service, svc, metric).unwrap_or_else(|| panic!("no column {metric}"));
    col.values[(t_s / interval_s) as usize - 1]
}

/// `api.get` (ample workers, `latency`) behind an HPA; constant arrivals at `rate`,
/// stepping as `schedule` says.
fn hpa_system(
    autoscale: Value,
    latency: &str,
    concurrency: u32,
    rate: f64,
    schedule: Value,
    duration: &str,
) -> Value {
    json!({
        "name": "hpa", "duration": duration, "warmup": "0s", "interval": "10s",
        "services": {"api": {"replicas": 2, "concurrency": concurrency,
            "endpoints": {"get": {"latency": {"constant": latency}}}, "autoscale": autoscale}},
        "workload": [{"name": "load", "target": "api.get", "arrival": {"constant": {"rate": rate}},
                      "schedule": schedule}]
    })
}

#[test]
fn rps_per_replica_follows_the_formula_and_the_default_policies_step_by_step() {
    // 100/s on 2 replicas is the target (50/s each). At 30 s the load steps to 870/s:
    // the formula asks ⌈current × (870 / current) / 50⌉ = ⌈17.4⌉ = 18 at every sync, and
    // the default scale-up policy (the larger of +100 % and +4 pods per 15 s, counted
    // from the replicas at the start of the period) lets it through in steps:
    //   40 s: from 2, max(4, 6) = 6;   50 s: the +4 of 40 s is within 15 s: still 6;
    //   60 s: from 6, max(12, 10) = 12; 70 s: the +6 of 60 s is within: 12;
    //   80 s: from 12, max(24, 16) → 18; 90 s: 870 / 18 / 50 = 0.967, within 0.1: 18.
    // At 100 s the load drops to 110/s: 110 / 18 / 50 = 0.122 → ⌈2.2⌉ = 3, held by the
    // 30 s stabilisation window until the recommendation of 18 made at 100 s leaves it:
    //   110 s, 120 s: 18; 130 s: 3 (−100 % per 15 s lets it); 140 s: 110/3/50 = 0.73 → 3.
    let autoscale = json!({"metric": "rps_per_replica", "target": 50, "min_replicas": 2, "max_replicas": 20,
        "sync_period": "10s", "behavior": {"scale_down": {"stabilization_window": "30s"}}});
    let schedule = json!([{"at": "30s", "rate": 870}, {"at": "100s", "rate": 110}]);
    let spec = spec(&hpa_system(autoscale, "10ms", 1000, 100.0, schedule, "150s"));
    let out = run(&spec);
    let expected = [2, 2, 2, 6, 6, 12, 12, 18, 18, 18, 18, 18, 3, 3];
    for (i, &want) in expected.iter().enumerate() {
        // The scale set by the sync at `t` is the scale at the end of (t, t + 10].
        let t = 10 * (i as u64 + 1);
        assert_eq!(
            at(&out, "api", "desired_replicas", t + 10, 10),
            want as f64,
            "scale after the sync at {t} s"
        );
        // Startup 0: every replica asked for serves at once.
        assert_eq!(at(&out, "api", "replicas", t + 10, 10), want as f64, "serving after the sync at {t} s");
    }
    let a = out.services[0].autoscale.clone().unwrap();
    assert_eq!((a.min_seen, a.max_seen, a.final_replicas), (2, 18, 3));
    assert_eq!((a.scale_ups, a.scale_downs), (3, 1));
    assert_eq!(a.first_scale_up_s, Some(40.0));
    assert_eq!(a.first_scale_down_s, Some(130.0), "the scale-down waited out the window");
    assert_eq!(out.workloads[0].outcomes.failed_total(), 0, "nothing failed across the scale-down");
}

#[test]
fn utilization_is_busy_workers_over_the_workers_in_service() {
    // 10 workers a replica, 100 ms each: 60/s on 2 replicas keeps 6 of 20 busy, 30 %,
    // the target. At 30 s, 140/s: 14 of 20, 70 % → ⌈2 × 70/30⌉ = ⌈4.67⌉ = 5 (the policy
    // allows 6); then 14 of 50, 28 %: 0.933 is within the tolerance, 5 stays.
    let autoscale = json!({"metric": "utilization", "target": 30, "min_replicas": 2, "max_replicas": 8,
        "sync_period": "10s"});
    let schedule = json!([{"at": "30s", "rate": 140}]);
    let spec = spec(&hpa_system(autoscale, "100ms", 10, 60.0, schedule, "80s"));
    let out = run(&spec);
    for (t, want) in [(10, 2.0), (20, 2.0), (30, 2.0), (40, 5.0), (50, 5.0), (60, 5.0)] {
        assert_eq!(at(&out, "api", "desired_replicas", t + 10, 10), want, "after the sync at {t} s");
    }
    // The series' utilisation is against the 8 slots: per pod it is that × 8 ÷ replicas;
    // constant arrivals and service times make it exact but for the one service that
    // straddles each interval's edges (100 ms of 10 s per worker: under 1 %).
    for (t, replicas, closed) in [(20, 2.0, 0.30), (40, 2.0, 0.70), (60, 5.0, 0.28)] {
        let per_pod = at(&out, "api", "utilization", t, 10) * 8.0 / replicas;
        assert!((per_pod - closed).abs() < 0.01 * closed, "at {t} s: {per_pod} against {closed}");
    }
    // The summary's utilisation is against the replicas the service had: 60/s × 0.1 s
    // for 30 s on 2 replicas, 140/s × 0.1 s for 50 s on 2 then 5 (in service from 40 s).
    let busy = 60.0 * 0.1 * 30.0 + 140.0 * 0.1 * 50.0;
    let capacity = 10.0 * (2.0 * 40.0 + 5.0 * 40.0);
    let u = out.services[0].utilization;
    assert!((u - busy / capacity).abs() < 0.01, "utilisation {u} against {}", busy / capacity);
}

#[test]
fn scale_down_drains_every_request_before_the_replica_goes() {
    // Poisson load with long, variable service times, scaled up then down (no window):
    // each scaled-down replica holds work when it is drained; none of it fails.
    let autoscale = json!({"metric": "utilization", "target": 50, "min_replicas": 1, "max_replicas": 6,
        "sync_period": "5s", "startup": "2s",
        "behavior": {"scale_down": {"stabilization_window": "0s"}}});
    let mut v = hpa_system(
        autoscale,
        "1ms",
        8,
        10.0,
        json!([{"at": "20s", "rate": 150}, {"at": "60s", "rate": 10}]),
        "120s",
    );
    v["services"]["api"]["replicas"] = json!(1);
    v["services"]["api"]["queue"] = json!({"capacity": 10000});
    v["services"]["api"]["endpoints"]["get"]["latency"] = json!({"exponential": {"mean": "150ms"}});
    v["workload"][0]["arrival"] = json!({"poisson": {"rate": 10}});
    let out = run(&spec(&v));
    let a = out.services[0].autoscale.clone().unwrap();
    assert!(a.max_seen >= 4 && a.scale_downs >= 1 && a.final_replicas <= 2, "{a:?}");
    let w = &out.workloads[0];
    assert_eq!(
        w.outcomes.failed_total(),
        0,
        "a drained replica finished what it held: {:?}",
        w.outcomes.failed
    );
    assert_eq!(out.endpoints[0].outcomes.failed[Cause::Unavailable as usize], 0);
    assert_eq!(w.offered, w.outcomes.ok + w.in_flight, "each request ends exactly once");
}

/// A producer enqueueing (or publishing) `rate` messages/s for a handler of 100 ms on
/// one worker per replica: one replica handles 10/s.
fn consumers(kind: &str, autoscale: Option<Value>) -> Value {
    let step = if kind == "queue" { json!({"enqueue": "jobs"}) } else { json!({"publish": "jobs"}) };
    let mut v = json!({
        "name": "lag", "duration": "120s", "warmup": "0s",
        "services": {
            "producer": {"concurrency": 100, "endpoints": {"make": {"latency": {"constant": "1ms"}, "steps": [step]}}},
            "worker": {"replicas": 1, "concurrency": 1, "endpoints": {"handle": {"latency": {"constant": "100ms"}}}}
        },
        "workload": [{"name": "load", "target": "producer.make", "arrival": {"constant": {"rate": 40}}}]
    });
    if kind == "queue" {
        v["queues"] = json!({"jobs": {"consumers": [{"endpoint": "worker.handle"}]}});
    } else {
        v["topics"] = json!({"jobs": {"partitions": 8, "subscribers": [{"group": "g", "endpoint": "worker.handle", "consumers": 8}]}});
    }
    if let Some(a) = autoscale {
        v["services"]["worker"]["autoscale"] = a;
    }
    v
}

#[test]
fn work_queue_and_kafka_consumers_rebalance_onto_new_replicas() {
    for (kind, target) in [("queue", "queue"), ("topic", "topic")] {
        let mut hpa = json!({"metric": "lag", "target": 50, "max_replicas": 8, "startup": "5s"});
        hpa[target] = json!("jobs");
        let fixed = run(&spec(&consumers(kind, None)));
        let scaled = run(&spec(&consumers(kind, Some(hpa))));
        let a = scaled.services[1].autoscale.clone().unwrap();
        // 40/s against 10/s per replica: the lag grows by 30/s until 4 replicas serve;
        // KEDA's ⌈lag / 50⌉ asks for more, up to 8 (the partitions, the slots).
        assert!(a.max_seen >= 4, "{kind}: {a:?}");
        let handled = |o: &RunOutput| {
            if kind == "queue" { o.queues[0].deleted } else { o.topics[0].groups[0].delivered }
        };
        let (f, s) = (handled(&fixed), handled(&scaled));
        // One replica handles 10/s: about 1,200 in 120 s. The new consumers take their
        // share once their replicas serve.
        assert!((1150..=1210).contains(&f), "{kind}: fixed handled {f}");
        assert!(s as f64 > 2.5 * f as f64, "{kind}: scaled handled {s} against {f}");
    }
}

#[test]
fn a_crash_of_a_slot_the_autoscaler_has_not_started_does_nothing() {
    let autoscale = json!({"metric": "rps_per_replica", "target": 50, "min_replicas": 2, "max_replicas": 6, "sync_period": "10s"});
    let mut v = hpa_system(autoscale, "10ms", 100, 100.0, json!([]), "60s");
    v["faults"] = json!([
        {"crash": {"target": "api#4", "start": "5s", "restart_after": "5s"}},
        {"crash": {"target": "api#1", "start": "20s", "restart_after": "5s"}}
    ]);
    let out = run(&spec(&v));
    for t in [10, 20, 30, 40, 50] {
        assert!(at(&out, "api", "replicas_up", t, 10) <= 2.0, "at {t} s an unstarted slot came up");
    }
    // api#1 came back after its restart: both serve again.
    assert_eq!(at(&out, "api", "replicas_up", 40, 10), 2.0);
}

#[test]
fn bad_autoscale_input_is_refused_with_its_path() {
    let base = || {
        json!({"name": "bad", "duration": "10s",
            "services": {"api": {"replicas": 2, "endpoints": {"get": {}},
                "autoscale": {"metric": "utilization", "target": 50, "min_replicas": 1, "max_replicas": 4}}},
            "workload": [{"name": "w", "target": "api.get", "arrival": {"constant": {"rate": 1}}}]})
    };
    let cases: Vec<(&str, Value, &str)> = vec![
        ("/services/api/autoscale/min_replicas", json!(5), "/services/api/autoscale/min_replicas"),
        ("/services/api/autoscale/target", json!(0), "/services/api/autoscale/target"),
        ("/services/api/autoscale/sync_period", json!("0s"), "/services/api/autoscale/sync_period"),
        ("/services/api/autoscale/metric", json!("cpu"), "/services/api/autoscale/metric"),
        ("/services/api/autoscale/metric", json!("lag"), "/services/api/autoscale/metric"),
        ("/services/api/replicas", json!(6), "/services/api/replicas"),
        ("/services/api/autoscale/tolerance", json!(1.5), "/services/api/autoscale/tolerance"),
        ("/services/api/autoscale/topic", json!("nope"), "/services/api/autoscale/topic"),
    ];
    for (pointer, value, path) in cases {
        let mut v = base();
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        v.pointer_mut(parent).unwrap()[key] = value;
        let text = serde_json::to_string_pretty(&v).unwrap();
        let err = load_str(&text, "bad.json", &LoadOptions::default())
            .err()
            .unwrap_or_else(|| panic!("{pointer} accepted"));
        let msg = err.to_string();
        assert!(msg.contains(path), "{pointer}: {msg}");
    }
    // Through the binary: exit 2.
    let mut v = base();
    v["services"]["api"]["autoscale"]["min_replicas"] = json!(5);
    let path = temp_scenario("autoscale-bad.json", &serde_json::to_string_pretty(&v).unwrap());
    let o = bin().args(["run", path.to_str().unwrap()]).output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("min_replicas 5 is above max_replicas 4"), "{}", stderr(&o));
}

#[test]
fn a_scale_up_while_the_slots_drain_waits_for_them_then_starts() {
    // 4 replicas of one worker, 4 s a request, 1/s each: queues grow. At 10 s the load
    // drops: the sync at 15 s scales to 1 and 3 replicas drain their queues of about 8
    // requests (half a minute; the 30 s grace ends at 45 s). At 20 s the load comes
    // back: the sync at 25 s asks for 4 again, but every other slot is draining, so
    // the 3 new replicas wait (Pending) and start as the drains end, by 45 s.
    let autoscale = json!({"metric": "rps_per_replica", "target": 1, "min_replicas": 1, "max_replicas": 4,
        "sync_period": "5s", "behavior": {"scale_down": {"stabilization_window": "0s"}}});
    let schedule = json!([{"at": "10s", "rate": 0.5}, {"at": "20s", "rate": 4}]);
    let mut v = hpa_system(autoscale, "4s", 1, 4.0, schedule, "60s");
    v["services"]["api"]["replicas"] = json!(4);
    v["interval"] = json!("5s");
    let out = run(&spec(&v));
    assert_eq!(at(&out, "api", "desired_replicas", 20, 5), 1.0, "scaled down at 15 s");
    assert_eq!(at(&out, "api", "desired_replicas", 30, 5), 4.0, "scaled up at 25 s");
    for t in [30, 35] {
        assert_eq!(at(&out, "api", "replicas", t, 5), 1.0, "at {t} s the new replicas wait for the drains");
    }
    assert_eq!(at(&out, "api", "replicas", 50, 5), 4.0, "started as the drains ended");
    let a = out.services[0].autoscale.clone().unwrap();
    assert_eq!((a.scale_downs, a.scale_ups, a.final_replicas), (1, 1, 4));
}

/// Found by `props::every_feature_at_once`: a replica draining at the end of the run has
/// stopped its queue consumers, which still finish the message in hand; the queue's
/// invariant (no consumer holds a message once its replica crashed) must not count it.
/// Before the fix this run ended with "a dead consumer 2 still holds 1 messages".
#[test]
fn a_draining_consumer_may_hold_its_message_at_the_end() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/regressions/autoscale-drain-holds-a-queue-message.json"
    ))
    .unwrap();
    let spec = load_str(&text, "regression", &LoadOptions::default()).unwrap();
    let out = run(&spec);
    assert!(out.violations.is_empty(), "{:?}", out.violations);
    let q = &out.queues[0];
    assert!(
        q.sent > 0 && q.in_flight > 0,
        "the run ends with messages in flight: {} sent, {} in flight",
        q.sent,
        q.in_flight
    );
}
