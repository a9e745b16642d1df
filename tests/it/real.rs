//! The real topologies of `scenarios/real/` (issue 15): each passes `check`, runs (exit 0,
//! or 3 when a threshold fails) with every invariant kept in each of its variants, and
//! keeps the shape the README promises (a question, thresholds, named faults, 60
//! simulated seconds). The runs here are cut to 20 simulated seconds to stay cheap; the
//! full 60 s runs are the golden reports' (`golden.rs`) and the bench's (`benches/real.rs`).

use crate::common::*;
use faultline::scenario::{LoadOptions, load_file, variant_names};
use serde_json::Value;
use std::path::PathBuf;

/// Simulated seconds of the cheap runs.
const SHORT: &str = "/duration=20s";

fn real_scenarios() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir("scenarios/real")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    v.sort();
    v
}

#[test]
fn the_six_real_topologies_are_there() {
    let names: Vec<String> =
        real_scenarios().iter().map(|p| p.file_stem().unwrap().to_str().unwrap().to_string()).collect();
    for want in [
        "dsb-hotel-reservation",
        "dsb-social-network",
        "ftgo-create-order",
        "online-boutique",
        "sock-shop",
        "trainticket-preserve",
    ] {
        assert!(names.iter().any(|n| n == want), "scenarios/real/{want}.json is missing: {names:?}");
    }
}

#[test]
fn real_topologies_pass_check() {
    for s in real_scenarios() {
        let o = bin().arg("check").arg(&s).output().unwrap();
        assert!(o.status.success(), "{}: {}", s.display(), stderr(&o));
    }
}

#[test]
fn real_topologies_ask_a_question_with_thresholds_and_named_faults() {
    for s in real_scenarios() {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&s).unwrap()).unwrap();
        let what = s.display();
        assert_eq!(v["name"], s.file_stem().unwrap().to_str().unwrap(), "{what}: name is not the file's");
        assert_eq!(v["duration"], "60s", "{what}: the real topologies run 60 simulated seconds");
        let d = v["description"].as_str().unwrap_or("");
        assert!(
            d.contains("Question:") && d.contains("Thresholds"),
            "{what}: the description asks no question"
        );
        assert!(
            d.contains("illustrative"),
            "{what}: the description does not say which numbers are illustrative"
        );
        let th = v["thresholds"].as_object().expect("thresholds");
        assert!(!th.is_empty(), "{what}: no thresholds");
        let faults = v["faults"].as_array().expect("faults");
        assert!(!faults.is_empty(), "{what}: no fault");
        for f in faults {
            let (_, body) = f.as_object().unwrap().iter().next().unwrap();
            assert!(body.get("name").and_then(Value::as_str).is_some(), "{what}: fault without a name: {f}");
        }
    }
}

#[test]
fn real_topologies_run_with_their_invariants() {
    for s in real_scenarios() {
        // The CLI: exit 0 (thresholds hold) or 3 (one failed), never 1 or 2.
        let o = bin().arg("run").arg(&s).args(["--set", SHORT]).output().unwrap();
        assert!(matches!(o.status.code(), Some(0 | 3)), "{}: {}", s.display(), stderr(&o));
        // Every variant in process, with the invariants checked.
        let text = std::fs::read_to_string(&s).unwrap();
        let mut variants = variant_names(&text, "real").unwrap();
        variants.insert(0, String::new());
        for variant in variants {
            let opts = LoadOptions {
                variant: (!variant.is_empty()).then(|| variant.clone()),
                sets: vec![SHORT.to_string()],
                ..Default::default()
            };
            let spec = load_file(&s, &opts).unwrap_or_else(|e| panic!("{}: {e}", s.display()));
            let out = run(&spec);
            let what = format!("{} variant {variant:?}", s.display());
            assert!(out.workloads.iter().all(|w| w.offered > 0), "{what}: a workload offered nothing");
            for f in &out.sagas {
                let ended = f.completed + f.compensated + f.compensation_failed + f.abandoned;
                assert_eq!(ended + f.in_flight, f.started, "{what}: saga outcomes do not add up");
            }
            for t in &out.topics {
                for g in &t.groups {
                    let ended = g.delivered + g.dead_lettered + g.dropped + g.in_flight;
                    assert_eq!(ended, t.published, "{what}: messages do not add up");
                }
            }
        }
    }
}
