//! Whole scenarios end to end through the binary.

use crate::common::*;

#[test]
fn run_prints_a_table_with_the_seed_and_writes_the_contract_files() {
    let dir = std::env::temp_dir().join(format!("faultline-cli-{}", std::process::id()));
    let o = bin().args(["run", "scenarios/mmc.json", "--out"]).arg(&dir).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let table = stdout(&o);
    assert!(table.contains("seed 1"), "{table}");
    assert!(table.contains("pool.serve"), "{table}");
    assert!(stderr(&o).contains("replay: faultline run scenarios/mmc.json --seed 1"), "{}", stderr(&o));
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();
    for key in ["scenario", "variant", "seed", "window_s", "events", "workloads", "endpoints", "calls"] {
        assert!(summary.get(key).is_some(), "summary lacks {key}");
    }
    let w = &summary["workloads"]["load"];
    for c in ["timeout", "rejected", "unavailable", "circuit_open", "bulkhead_full", "error", "declined"] {
        assert!(w["failed"][c].is_u64(), "failed.{c} missing");
    }
    for p in ["mean", "p50", "p90", "p99", "p999", "max"] {
        assert!(w["latency_ms"][p].is_f64(), "latency_ms.{p} missing");
    }
    let csv = std::fs::read_to_string(dir.join("timeseries.csv")).unwrap();
    assert_eq!(csv.lines().next(), Some("time_s,scope,name,metric,value"));
    assert!(csv.lines().skip(1).all(|l| l.split(',').count() == 5));
    // The last p99 point of the series is the p99 of the last interval's completions.
    assert!(csv.lines().any(|l| l.starts_with("130,workload,load,p99_ms,")));
}

#[test]
fn json_output_is_byte_identical_run_to_run() {
    let a = bin().args(["run", "scenarios/checkout.json", "--json"]).output().unwrap();
    let b = bin().args(["run", "scenarios/checkout.json", "--json"]).output().unwrap();
    assert!(a.status.success(), "{}", stderr(&a));
    assert_eq!(a.stdout, b.stdout);
    let v: serde_json::Value = serde_json::from_slice(&a.stdout).unwrap();
    assert_eq!(v["seed"], 1);
}

#[test]
fn variants_and_sets_apply() {
    let o = bin()
        .args([
            "run",
            "scenarios/checkout.json",
            "--variant",
            "payment-x4",
            "--set",
            "/duration=40s",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["variant"], "payment-x4");
    assert_eq!(v["services"]["payment"]["replicas"], 4);
    assert_eq!(v["window_s"], 30.0);
}

#[test]
fn every_example_scenario_checks() {
    for entry in std::fs::read_dir("scenarios").unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "json") {
            let o = bin().arg("check").arg(&p).output().unwrap();
            assert!(o.status.success(), "{}: {}", p.display(), stderr(&o));
        }
    }
}

#[test]
fn schema_is_json_schema() {
    let o = bin().arg("schema").output().unwrap();
    assert!(o.status.success());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v["$schema"].as_str().unwrap().contains("draft-07"));
}

#[test]
fn a_run_that_hits_its_event_limit_says_so_and_exits_1() {
    let o = bin()
        .args(["run", "scenarios/mmc.json", "--set", "/limits={\"max_events\": 1000}"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("event limit"), "{}", stderr(&o));
    assert!(stderr(&o).contains("replay:"), "{}", stderr(&o));
}

/// Peak memory (MiB) the binary reported on standard error for a run.
fn peak_mib(args: &[&str]) -> f64 {
    let o = bin().args(args).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    let at = err.find("peak memory ").expect("peak memory reported") + "peak memory ".len();
    err[at..].split_whitespace().next().unwrap().parse().unwrap()
}

#[test]
fn memory_stays_flat_in_simulated_duration() {
    // A run ten times longer holds no more than 1.2 times the memory: figures stream
    // into histograms and fixed-interval series, never one record per request.
    // The flash sale (60 s to 120 s) happens in both runs, so both see the same peak of
    // requests in flight; the longer one has ten times the arrivals and intervals.
    let short = peak_mib(&["run", "scenarios/checkout.json", "--set", "/duration=180s", "--json"]);
    let long = peak_mib(&["run", "scenarios/checkout.json", "--set", "/duration=1800s", "--json"]);
    eprintln!("peak memory: {short} MiB for 180 s, {long} MiB for 1800 s");
    assert!(long <= 1.2 * short, "{long} MiB for 1800 s vs {short} MiB for 180 s");
}

/// What must never appear below the CLI: a wall clock or unseeded randomness in the
/// model would break same-seed-same-bytes, and hash-map iteration order could reach an
/// output or the event queue.
#[test]
fn tidy_no_wall_clock_unseeded_randomness_or_hash_maps_below_the_cli() {
    let banned = [
        "Instant::now",
        "SystemTime",
        "thread_rng",
        "StdRng",
        "rand::rng()",
        "from_entropy",
        "HashMap",
        "HashSet",
        "dbg!(",
    ];
    let mut found = Vec::new();
    let mut stack = vec![std::path::PathBuf::from("src")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") && !p.ends_with("main.rs") {
                let text = std::fs::read_to_string(&p).unwrap();
                for (i, line) in text.lines().enumerate() {
                    for b in banned {
                        if line.contains(b) && !line.trim_start().starts_with("//") {
                            found.push(format!("{}:{}: {b}", p.display(), i + 1));
                        }
                    }
                }
            }
        }
    }
    assert!(found.is_empty(), "banned below the CLI:\n{}", found.join("\n"));
}
