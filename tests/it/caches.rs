//! Cache steps (issue 13, item 5): cache-aside in closed form, the warm-up ramp after a
//! restart, `on_cache_error`, abandoned reads, and bad input through the binary.
//!
//! Latencies are constant and workers ample, so each read's hit is an independent
//! Bernoulli draw: the tolerances are binomial (4 standard errors: a correct simulator
//! fails one of these checks about once in 16,000 seeds).

use crate::common::*;
use faultline::metrics::Scope;
use faultline::model::RunOutput;
use faultline::spec::Spec;
use serde_json::{Value, json};

/// An API that reads `redis` cache-aside in front of `db`: constant latencies
/// (`t_cache`, `t_db`, `t_set` in ms), no network latency, ample workers.
fn cache_aside(rate: f64, hit: f64, t_cache: f64, t_db: f64, t_set: f64) -> Value {
    json!({
        "name": "cache-aside",
        "duration": "41s",
        "warmup": "1s",
        "seed": 7,
        "services": {
            "api": {"concurrency": 100000, "endpoints": {"read": {"steps": [
                {"cache": {"service": "redis", "endpoint": "get", "hit_ratio": hit,
                           "on_miss": [{"call": "db.query"}], "populate": "set"}}
            ]}}},
            "redis": {"kind": "cache", "replicas": 2, "concurrency": 100000, "endpoints": {
                "get": {"latency": {"constant": format!("{t_cache}ms")}},
                "set": {"latency": {"constant": format!("{t_set}ms")}}
            }},
            "db": {"kind": "database", "concurrency": 100000, "endpoints": {
                "query": {"latency": {"constant": format!("{t_db}ms")}}
            }}
        },
        "workload": [{"name": "users", "target": "api.read", "arrival": {"poisson": {"rate": rate}}}]
    })
}

fn ep<'a>(spec: &Spec, out: &'a RunOutput, name: &str) -> &'a faultline::model::EndpointFigures {
    let i = spec.endpoints.iter().position(|e| e.name == name).unwrap();
    &out.endpoints[i]
}

#[test]
fn database_load_and_latency_follow_the_hit_ratio() {
    let (rate, h, tc, tdb, tset) = (4000.0, 90.0, 1.0, 20.0, 2.0);
    let spec = spec(&cache_aside(rate, h, tc, tdb, tset));
    let out = run(&spec);
    let c = &out.caches[0];
    let p = h / 100.0;
    assert_eq!(spec.caches[0].name, "api.read->redis.get");
    assert_eq!((c.errors, c.abandoned), (0, 0));
    assert_eq!(c.gets, c.hits + c.misses + c.in_flight);
    let answered = (c.hits + c.misses) as f64;
    // The hit share: binomial.
    let share = c.hits as f64 / answered;
    let se = (p * (1.0 - p) / answered).sqrt();
    assert!((share - p).abs() < 4.0 * se, "hit share {share} vs {p} (se {se})");
    // The database's load: (1 − h) λ, a thinned Poisson count over the window.
    let window = out.window_s;
    let db = ep(&spec, &out, "db.query").requests as f64;
    let expect = (1.0 - p) * rate * window;
    assert!((db - expect).abs() < 4.0 * expect.sqrt() + 2.0, "db requests {db} vs {expect}");
    assert_eq!(ep(&spec, &out, "redis.set").requests, c.populates);
    // Mean latency: t_cache + (1 − h)(t_db + t_set), exact given the misses drawn (up to
    // the histogram's 3 significant digits), and within the binomial noise of h.
    let w = &out.workloads[0];
    let mean = w.latency.mean_ms().unwrap();
    let miss = c.misses as f64 / answered;
    let given = tc + miss * (tdb + tset);
    assert!((mean - given).abs() < 2e-3 * given, "mean {mean} vs {given} for the misses drawn");
    let closed = tc + (1.0 - p) * (tdb + tset);
    let tol = 4.0 * se * (tdb + tset) + 2e-3 * closed;
    assert!((mean - closed).abs() < tol, "mean {mean} vs closed form {closed} (tolerance {tol})");
    eprintln!(
        "cache-aside: hit share {share:.5} vs {p} ({:.2} se); db load {:.2}/s vs {:.2}/s ({:.2} se); \
         mean {mean:.4} ms vs {closed:.4} ms ({:.3}%)",
        (share - p) / se,
        db / window,
        expect / window,
        (db - expect) / expect.sqrt(),
        100.0 * (mean - closed) / closed
    );
}

#[test]
fn a_restarted_replica_warms_up_linearly_while_the_other_stays_hot() {
    // Two cache replicas behind round robin; redis#1 is down from 10 s to 12 s, then
    // climbs back over 8 s. Per 1 s interval, a read's hit probability is h on redis#0
    // and h·min(1, (t − 12)/8) on redis#1: the interval's expected share is their mean
    // averaged over the interval.
    let mut v = cache_aside(6000.0, 80.0, 1.0, 5.0, 1.0);
    v["duration"] = json!("30s");
    v["warmup"] = json!("0s");
    v["services"]["api"]["endpoints"]["read"]["steps"][0]["cache"]["warm_up"] = json!("8s");
    v["faults"] =
        json!([{"crash": {"name": "redis-1", "target": "redis#1", "start": "10s", "restart_after": "2s"}}]);
    let spec = spec(&v);
    let out = run(&spec);
    let name = &spec.caches[0].name;
    let col = |m: &str| out.series.column(Scope::Cache, name, m).unwrap().values.clone();
    let (hits, misses, errors) = (col("hits"), col("misses"), col("errors"));
    let h = 0.8;
    let ramp = |s: f64| ((s - 12.0) / 8.0).clamp(0.0, 1.0);
    let mut worst: f64 = 0.0;
    for i in 0..out.series.ends.len() {
        let a = i as f64;
        let n = hits[i] + misses[i];
        if (10.0..12.0).contains(&a) {
            // Down: the reads sent to redis#1 fail (round robin sends it half).
            assert!(
                errors[i] > 0.4 * (n + errors[i]),
                "interval {i}: {} errors of {}",
                errors[i],
                n + errors[i]
            );
            let share = hits[i] / n;
            let se = (h * (1.0 - h) / n).sqrt();
            assert!(
                (share - h).abs() < 4.0 * se,
                "interval {i} (down): share {share}, the hot replica's {h}"
            );
            continue;
        }
        assert_eq!(errors[i], 0.0, "interval {i}");
        // The mean of the ramp over [a, b) (midpoint rule is exact for a linear piece; 100
        // points cover the kinks at 12 s and 20 s).
        let avg_ramp = (0..100).map(|k| ramp(a + (k as f64 + 0.5) / 100.0)).sum::<f64>() / 100.0;
        let p = if a < 10.0 { h } else { h * (1.0 + avg_ramp) / 2.0 };
        let share = hits[i] / n;
        let se = (p * (1.0 - p) / n).sqrt().max(1.0 / n);
        let z = (share - p) / se;
        worst = worst.max(z.abs());
        assert!(z.abs() < 4.0, "interval {i}: hit share {share:.4}, expected {p:.4} (se {se:.4})");
    }
    eprintln!("warm-up ramp: worst interval {worst:.2} standard errors from h(1 + ramp)/2");
}

#[test]
fn on_cache_error_miss_falls_through_and_fail_fails() {
    let mut v = cache_aside(500.0, 90.0, 1.0, 5.0, 1.0);
    v["duration"] = json!("11s");
    v["services"]["redis"]["replicas"] = json!(1);
    v["faults"] = json!([{"crash": {"target": "redis#0", "start": "0s"}}]);
    let miss = spec(&v);
    let out = run(&miss);
    let c = &out.caches[0];
    let w = &out.workloads[0];
    assert!(c.gets > 4000);
    assert_eq!((c.hits, c.misses, c.errors), (0, 0, c.gets - c.in_flight));
    assert_eq!(w.outcomes.failed_total(), 0, "every read fell through to the database");
    assert_eq!(ep(&miss, &out, "db.query").requests, ep(&miss, &out, "api.read").requests);
    assert_eq!(c.populate_failed, c.populates, "the populate finds the cache down too, and is ignored");

    v["services"]["api"]["endpoints"]["read"]["steps"][0]["cache"]["on_cache_error"] = json!("fail");
    let fail = spec(&v);
    let out = run(&fail);
    let w = &out.workloads[0];
    assert_eq!(w.outcomes.ok, 0);
    assert_eq!(w.outcomes.failed[faultline::spec::Cause::Error as usize], w.outcomes.failed_total());
    assert_eq!(ep(&fail, &out, "db.query").requests, 0, "nothing reaches the database");
    assert_eq!(out.caches[0].populates, 0);
}

#[test]
fn reads_whose_caller_died_are_abandoned_and_every_read_is_accounted_for() {
    let mut v = cache_aside(2000.0, 50.0, 40.0, 5.0, 1.0);
    v["duration"] = json!("6s");
    v["services"]["api"]["replicas"] = json!(2);
    v["faults"] = json!([{"crash": {"target": "api#0", "start": "3s", "restart_after": "1s"}}]);
    let spec = spec(&v);
    let out = run(&spec);
    let c = &out.caches[0];
    assert!(c.abandoned > 10, "{c:?}");
    assert_eq!(c.gets, c.hits + c.misses + c.errors + c.abandoned + c.in_flight);
    let s = faultline::report::Summary::of(&spec, &out);
    let cs = s.caches.get("api.read->redis.get").unwrap();
    assert_eq!(cs.abandoned, c.abandoned);
    let hr = cs.hit_ratio.unwrap();
    assert!((hr - 100.0 * c.hits as f64 / (c.hits + c.misses) as f64).abs() < 1e-9);
}

#[test]
fn cache_runs_replay_byte_for_byte() {
    let spec = spec(&cache_aside(3000.0, 75.0, 1.0, 4.0, 1.0));
    let a = faultline::report::summary_json(&spec, &run(&spec));
    let b = faultline::report::summary_json(&spec, &run(&spec));
    assert_eq!(a, b);
    assert!(a["caches"]["api.read->redis.get"]["hits"].as_u64().unwrap() > 0);
}

#[test]
fn bad_cache_steps_exit_2_naming_the_path() {
    let base = cache_aside(10.0, 90.0, 1.0, 1.0, 1.0);
    let with = |edit: &dyn Fn(&mut Value)| {
        let mut v = base.clone();
        edit(&mut v);
        serde_json::to_string_pretty(&v).unwrap()
    };
    let cache = |v: &mut Value, k: &str, x: Value| {
        v["services"]["api"]["endpoints"]["read"]["steps"][0]["cache"][k] = x;
    };
    let step = "/services/api/endpoints/read/steps/0";
    let cases = [
        ("a cache step on a database", with(&|v| cache(v, "service", json!("db"))), "is not a cache"),
        ("hit ratio above 100", with(&|v| cache(v, "hit_ratio", json!(150))), "cache/hit_ratio"),
        ("negative hit ratio", with(&|v| cache(v, "hit_ratio", json!(-1))), "cache/hit_ratio"),
        ("unknown on_cache_error", with(&|v| cache(v, "on_cache_error", json!("ignore"))), "ignore"),
        ("unknown cache endpoint", with(&|v| cache(v, "endpoint", json!("gte"))), "did you mean `get`"),
        (
            "populate named with its service",
            with(&|v| cache(v, "populate", json!("redis.set"))),
            "cache/populate",
        ),
        ("unknown key in the cache step", with(&|v| cache(v, "hit_rate", json!(90))), "hit_rate"),
        (
            "policy outside the cache",
            with(&|v| v["services"]["api"]["endpoints"]["read"]["steps"][0]["policy"] = json!("x")),
            "goes inside",
        ),
        (
            "a cache step as a parallel branch",
            with(&|v| {
                let c = v["services"]["api"]["endpoints"]["read"]["steps"][0].clone();
                v["services"]["api"]["endpoints"]["read"]["steps"][0] = json!({"parallel": [c]});
            }),
            "must be a `call` or a `route`",
        ),
    ];
    let mut failures = Vec::new();
    for (what, text, needle) in cases {
        let p = temp_scenario(&format!("cache-{}", what.replace(' ', "-")), &text);
        let o = bin().arg("check").arg(&p).output().unwrap();
        let err = stderr(&o);
        if o.status.code() != Some(2)
            || !err.contains(needle)
            || !err.contains(step)
            || err.contains("panicked")
        {
            failures.push(format!("{what}: exit {:?}, stderr:\n{err}", o.status.code()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
