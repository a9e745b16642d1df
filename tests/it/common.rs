//! Helpers shared by the integration tests: load a scenario from JSON, run it with every
//! invariant checked, run the binary.

use faultline::model::RunOutput;
use faultline::scenario::{LoadOptions, load_str};
use faultline::spec::{Cause, Spec};
use serde_json::Value;
use std::process::{Command, Output};

pub fn spec(v: &Value) -> Spec {
    spec_with(v, &LoadOptions::default())
}

pub fn spec_with(v: &Value, opts: &LoadOptions) -> Spec {
    let text = serde_json::to_string_pretty(v).unwrap();
    match load_str(&text, "test.json", opts) {
        Ok(s) => s,
        Err(e) => panic!("scenario did not load:\n{e}"),
    }
}

/// Runs a spec and checks the invariants every test simulation must keep.
pub fn run(spec: &Spec) -> RunOutput {
    let out = faultline::model::run(spec).unwrap_or_else(|e| panic!("run failed: {e}"));
    assert_invariants(spec, &out);
    out
}

pub fn assert_invariants(spec: &Spec, out: &RunOutput) {
    assert!(out.violations.is_empty(), "invariants broken: {:?}", out.violations);
    for (w, f) in spec.workloads.iter().zip(&out.workloads) {
        // Each request ends exactly once: offered = ok + failed + in flight.
        assert_eq!(
            f.offered,
            f.outcomes.ok + f.outcomes.failed_total() + f.in_flight,
            "conservation broken for workload {}",
            w.name
        );
        assert!(f.outcomes.degraded <= f.outcomes.ok);
    }
    for (e, f) in spec.endpoints.iter().zip(&out.endpoints) {
        assert!(f.outcomes.ended() <= f.requests, "endpoint {} ended more than it received", e.name);
        assert!(
            (0.0..=1.0 + 1e-9).contains(&f.utilization),
            "utilization of {} is {}",
            e.name,
            f.utilization
        );
        let svc = &spec.services[e.service as usize];
        assert!(f.queue_max <= svc.queue.capacity as u64);
    }
    for (e, f) in spec.edges.iter().zip(&out.edges) {
        assert!(f.outcomes.ended() <= f.calls, "edge {} ended more calls than it made", e.name);
        // Every ended call made at least one attempt, except those refused on the
        // caller's side before any went out (breaker open, bulkhead full, no replica to
        // pick, which ends as unavailable).
        // A call whose every try was refused locally and whose deadline passed during
        // a backoff ends `timeout` without an attempt, so timeouts count here too.
        let local = f.outcomes.failed[Cause::CircuitOpen as usize]
            + f.outcomes.failed[Cause::BulkheadFull as usize]
            + f.outcomes.failed[Cause::RateLimited as usize]
            + f.outcomes.failed[Cause::Unavailable as usize]
            + f.outcomes.failed[Cause::Timeout as usize];
        assert!(f.attempts + local >= f.outcomes.ended(), "edge {}: attempts below ended calls", e.name);
    }
}

pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_faultline"))
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Writes a scenario to a fresh temporary file and returns its path.
pub fn temp_scenario(name: &str, text: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("faultline-it-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(format!("{name}.json"));
    std::fs::write(&p, text).unwrap();
    p
}

/// Mean and standard error of a sample.
pub fn mean_se(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let m = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0);
    (m, (var / n).sqrt())
}

/// Runs `reps` independent replications (seeds 1..=reps) in parallel threads and returns
/// each one's output. Independent replications give an honest standard error even
/// though the requests within one run are correlated.
pub fn replicate(base: &Value, reps: u64) -> Vec<(Spec, RunOutput)> {
    let specs: Vec<Spec> = (1..=reps)
        .map(|seed| spec_with(base, &LoadOptions { seed: Some(seed), ..Default::default() }))
        .collect();
    std::thread::scope(|s| {
        let handles: Vec<_> = specs
            .into_iter()
            .map(|sp| {
                s.spawn(move || {
                    let out = run(&sp);
                    (sp, out)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

/// Student's t quantile at 0.9995 (two-sided 99.9%) for the replication counts the
/// tests use: a correct simulator fails such a check one time in a thousand seeds.
pub fn t999(dof: usize) -> f64 {
    match dof {
        9 => 4.781,
        11 => 4.437,
        15 => 4.073,
        19 => 3.883,
        _ => panic!("no t quantile tabulated for {dof} degrees of freedom"),
    }
}
