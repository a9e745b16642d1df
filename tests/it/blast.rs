//! `faultline blast` through the binary, on a topology whose matrix is known by
//! construction: a shared auth service every workload calls synchronously takes all of
//! them down; a service behind an optional branch only degrades the workload that
//! reaches it; a service nobody calls leaves everything exactly as healthy; a service
//! nobody calls but that a readiness probe depends on takes a workload down without
//! being needed: the distributed monolith. The same bytes for `--jobs` 1 and 2.

use crate::common::{bin, stderr, stdout, temp_scenario};
use serde_json::Value;
use std::path::PathBuf;

const SCENARIO: &str = r#"{
  "name": "blast-known",
  "description": "A matrix known by construction.",
  "duration": "20s",
  "warmup": "1s",
  "seed": 3,
  "services": {
    "edge": {"replicas": 2, "concurrency": 16, "endpoints": {
      "a": {"latency": {"exponential": {"mean": "1ms"}}, "steps": [{"call": "auth.check"}]},
      "b": {"latency": {"exponential": {"mean": "1ms"}}, "steps": [
        {"call": "auth.check"},
        {"parallel": [{"call": "opt.get", "optional": true}]}
      ]}
    }},
    "auth": {"replicas": 2, "concurrency": 16, "endpoints": {"check": {"latency": {"exponential": {"mean": "1ms"}}}}},
    "opt": {"endpoints": {"get": {"latency": {"exponential": {"mean": "1ms"}}}}},
    "legacy": {"concurrency": 16,
      "health_check": {"interval": "200ms", "timeout": "100ms", "unhealthy_after": 1, "healthy_after": 1,
                       "probe": "readiness", "depends_on": ["cfg"]},
      "endpoints": {"get": {"latency": {"exponential": {"mean": "1ms"}}, "steps": [{"call": "auth.check"}]}}},
    "cfg": {"endpoints": {"read": {"latency": {"constant": "1ms"}}}},
    "idle": {"endpoints": {"nop": {"latency": {"constant": "1ms"}}}}
  },
  "workload": [
    {"name": "w1", "target": "edge.a", "arrival": {"poisson": {"rate": 40}}},
    {"name": "w2", "target": "edge.b", "arrival": {"poisson": {"rate": 40}}},
    {"name": "w3", "target": "legacy.get", "arrival": {"poisson": {"rate": 40}}}
  ]
}"#;

fn tmp(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("faultline-blast-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn blast(scenario: &std::path::Path, out: &std::path::Path, jobs: &str) -> std::process::Output {
    bin()
        .arg("blast")
        .arg(scenario)
        .args(["--seeds", "2", "--jobs", jobs, "--out"])
        .arg(out)
        .output()
        .unwrap()
}

#[test]
fn the_matrix_of_a_known_topology_and_the_same_bytes_for_any_jobs() {
    let path = temp_scenario("blast-known", SCENARIO);
    let (d1, d2) = (tmp("j1"), tmp("j2"));
    let o1 = blast(&path, &d1, "1");
    assert!(o1.status.success(), "{}", stderr(&o1));
    let o2 = blast(&path, &d2, "2");
    assert!(o2.status.success(), "{}", stderr(&o2));
    assert_eq!(stdout(&o1), stdout(&o2));
    for f in ["blast.json", "blast.md", "blast.html"] {
        let (a, b) = (std::fs::read(d1.join(f)).unwrap(), std::fs::read(d2.join(f)).unwrap());
        assert!(a == b, "{f} differs between --jobs 1 and 2");
    }
    let j: Value = serde_json::from_slice(&std::fs::read(d1.join("blast.json")).unwrap()).unwrap();
    let rows = j["rows"].as_array().unwrap();
    let labels: Vec<&str> = rows.iter().map(|r| r["down"].as_str().unwrap()).collect();
    assert_eq!(labels, ["edge", "auth", "opt", "legacy", "cfg", "idle"]);
    let class = |r: usize, w: &str| rows[r]["workloads"][w]["class"].as_str().unwrap().to_string();
    let expected = [
        ("edge", ["down", "down", "unaffected"]),
        ("auth", ["down", "down", "down"]),
        ("opt", ["unaffected", "degraded", "unaffected"]),
        ("legacy", ["unaffected", "unaffected", "down"]),
        ("cfg", ["unaffected", "unaffected", "down"]),
        ("idle", ["unaffected", "unaffected", "unaffected"]),
    ];
    for (r, (label, classes)) in expected.iter().enumerate() {
        for (w, want) in ["w1", "w2", "w3"].iter().zip(classes) {
            assert_eq!(class(r, w), *want, "{label} down, workload {w}");
        }
    }
    // The optional branch: success unchanged, every response degraded, for that reason.
    let w2 = &rows[2]["workloads"]["w2"]["figures"];
    assert_eq!(w2["success"]["mean"], 100.0);
    assert_eq!(w2["degraded"]["mean"], 100.0);
    assert_eq!(w2["degraded"]["moved"], true);
    assert_eq!(w2["success"]["moved"], false);
    // A service nobody calls: the runs are the healthy ones, figure for figure.
    for w in ["w1", "w2", "w3"] {
        for (k, f) in rows[5]["workloads"][w]["figures"].as_object().unwrap() {
            assert_eq!(f["mean"], j["healthy"]["workloads"][w][k]["mean"], "idle down, {w} {k}");
            assert!(f["diff_mean"] == 0.0 || f["diff_mean"].is_null(), "idle down, {w} {k}: {f}");
        }
    }
    // auth: down everywhere, by a needed service; the monolith is cfg alone.
    for w in ["w1", "w2", "w3"] {
        assert_eq!(rows[1]["workloads"][w]["needed"], true);
        assert_eq!(rows[1]["workloads"][w]["monolith"], false);
    }
    assert_eq!(rows[2]["workloads"]["w2"]["needed"], false);
    assert!(rows[2]["workloads"]["w2"]["need"].as_str().unwrap().contains("optional branch of edge.b"));
    assert_eq!(
        j["monoliths"],
        serde_json::json!([{"down": "cfg", "workload": "w3",
            "why": "not needed: not reached by its requests; the health check of legacy depends on it"}])
    );
    let html = std::fs::read_to_string(d1.join("blast.html")).unwrap();
    assert!(html.contains("Distributed monolith: losing cfg takes down w3, which does not need it"));
    assert!(html.contains("⚠ monolith") && html.contains("class=\"legend\""));
    // Every figure escaped: an interval under the last digit is `± &lt;0.01%`.
    assert!(!html.contains("± <"), "an unescaped `<` in a cell");
    assert!(stdout(&o1).contains("cfg down takes w3 down"));
    let _ = std::fs::remove_dir_all(&d1);
    let _ = std::fs::remove_dir_all(&d2);
}

#[test]
fn bad_input_is_exit_2_before_anything_runs() {
    let path = temp_scenario("blast-bad", SCENARIO);
    let o = bin().arg("blast").arg(&path).args(["--variant", "nope"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let o = bin().arg("blast").arg(&path).args(["--set", "/services/edge/replicas=zero"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("/services/edge/replicas"), "{}", stderr(&o));
    let o = bin().arg("blast").arg(&path).args(["--jobs", "0"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    let o = bin().arg("blast").arg("/nonexistent/scenario.json").output().unwrap();
    assert_eq!(o.status.code(), Some(2));
}

/// The examples of `blast --help` and `graph --help` run (from a folder where the
/// shipped scenarios are at `scenarios/`), each printing something; a pipe or a
/// redirection ends the command.
#[test]
fn every_help_example_of_blast_and_graph_runs() {
    let repo = std::env::current_dir().unwrap();
    let mut ran = 0;
    for sub in ["blast", "graph"] {
        let o = bin().args([sub, "--help"]).output().unwrap();
        assert!(o.status.success());
        let help = stdout(&o);
        let examples: Vec<String> = help
            .lines()
            .map(str::trim)
            .skip_while(|l| !l.starts_with("Example"))
            .filter(|l| l.starts_with("faultline "))
            .map(String::from)
            .collect();
        assert!(!examples.is_empty(), "`{sub} --help` has no example:\n{help}");
        for ex in examples {
            let cwd = tmp(&format!("help-{ran}"));
            std::fs::create_dir_all(&cwd).unwrap();
            std::os::unix::fs::symlink(repo.join("scenarios"), cwd.join("scenarios")).unwrap();
            let args: Vec<&str> =
                ex.split_whitespace().skip(1).take_while(|a| *a != ">" && *a != "|").collect();
            let o = bin().args(&args).current_dir(&cwd).output().unwrap();
            assert_eq!(o.status.code(), Some(0), "`{ex}` failed: {}", stderr(&o));
            assert!(!o.stdout.is_empty(), "`{ex}` printed nothing");
            ran += 1;
            let _ = std::fs::remove_dir_all(cwd);
        }
    }
    assert_eq!(ran, 4);
}

/// A work queue's broker is a row too: a send without the outbox needs it (the request
/// waits for the broker's acknowledgement), a send through the outbox does not.
#[test]
fn a_work_queue_broker_row_takes_down_only_the_sender_without_the_outbox() {
    let text = r#"{"name": "q", "duration": "20s", "warmup": "2s", "seed": 3,
      "services": {
        "api": {"replicas": 2, "concurrency": 16, "endpoints": {
          "direct": {"latency": {"constant": "1ms"}, "steps": [{"enqueue": "jobs"}]},
          "outboxed": {"latency": {"constant": "1ms"}, "steps": [{"enqueue": "jobs", "outbox": true}]}}},
        "worker": {"replicas": 2, "concurrency": 8, "endpoints": {"run": {"latency": {"constant": "2ms"}}}}},
      "queues": {"jobs": {"consumers": [{"endpoint": "worker.run", "consumers": 2, "prefetch": 4}]}},
      "workload": [
        {"name": "direct", "target": "api.direct", "arrival": {"poisson": {"rate": 50}}},
        {"name": "outboxed", "target": "api.outboxed", "arrival": {"poisson": {"rate": 50}}}]}"#;
    let path = temp_scenario("blast-queue", text);
    let out = tmp("queue");
    let o = blast(&path, &out, "2");
    assert!(o.status.success(), "{}", stderr(&o));
    let j: Value = serde_json::from_str(&std::fs::read_to_string(out.join("blast.json")).unwrap()).unwrap();
    let row = j["rows"].as_array().unwrap().iter().find(|r| r["down"] == "queue:jobs").expect("a queue row");
    assert_eq!(row["workloads"]["direct"]["class"], "down", "{row}");
    assert_eq!(row["workloads"]["direct"]["needed"], true);
    assert_eq!(row["workloads"]["outboxed"]["class"], "unaffected", "{row}");
    assert_eq!(row["workloads"]["outboxed"]["needed"], false);
    let _ = std::fs::remove_dir_all(out);
}
