//! `faultline tune` through the binary: it names the analytic optimum of a bimodal
//! service behind a per-try timeout with fewer runs than the whole grid, its bytes do
//! not depend on `--jobs`, bad input is exit 2 and named, and the committed tune
//! reports are what the code gives on a replayed run.

use crate::common::{bin, stderr};
use faultline::scenario::{LoadOptions, load_file};
use faultline::tune::goal;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;

/// A service that answers in U(10 ms, 20 ms) 90% of the time and U(200 ms, 300 ms)
/// otherwise, ample workers (no queueing: 400 workers for ~50 busy), no network delay,
/// called with a per-try timeout T, 3 attempts, 1 ms between them, retrying timeouts.
const BIMODAL: &str = r#"{
  "name": "bimodal",
  "description": "A bimodal service behind a per-try timeout with 3 attempts: the analytic case of tune.",
  "duration": "11s",
  "warmup": "1s",
  "seed": 1,
  "services": {
    "svc": {
      "replicas": 1,
      "concurrency": 400,
      "endpoints": {
        "work": {"latency": {"mixture": [
          {"weight": 90, "dist": {"uniform": {"min": "10ms", "max": "20ms"}}},
          {"weight": 10, "dist": {"uniform": {"min": "200ms", "max": "300ms"}}}
        ]}}
      }
    }
  },
  "policies": {
    "try": {"timeout": "30ms", "retry": {"max_attempts": 3, "backoff": {"constant": "1ms"}, "retry_on": ["timeout"]}}
  },
  "workload": [
    {"name": "load", "target": "svc.work", "policy": "try", "arrival": {"poisson": {"rate": 1000}}}
  ]
}"#;

const GRID: &str = "/policies/try/timeout=10ms..40ms:2ms";
const SEEDS: usize = 6;
const BOUND: f64 = 99.5;

fn tmp(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("faultline-tune-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn scenario(dir: &Path) -> PathBuf {
    let p = dir.join("bimodal.json");
    std::fs::write(&p, BIMODAL).unwrap();
    p
}

fn tune(s: &Path, args: &[&str]) -> Output {
    bin().arg("tune").arg(s).args(args).output().unwrap()
}

/// The analytic curve at timeout `t` (ms): (success %, mean latency of successes, ms).
/// An attempt succeeds when its draw X ≤ t, with p = P(X ≤ t); the k-th attempt
/// answers after k − 1 timeouts and backoffs, (k − 1)(t + 1 ms), plus X given X ≤ t.
fn curve(t: f64) -> (f64, f64) {
    let clamp = |x: f64| x.clamp(0.0, 1.0);
    let p = 0.9 * clamp((t - 10.0) / 10.0) + 0.1 * clamp((t - 200.0) / 100.0);
    // E[X · 1{X ≤ t}] for each uniform part: ∫ x / w dx over [lo, min(t, hi)].
    let part = |lo: f64, hi: f64| {
        let top = t.clamp(lo, hi);
        (top * top - lo * lo) / (2.0 * (hi - lo))
    };
    let ex = 0.9 * part(10.0, 20.0) + 0.1 * part(200.0, 300.0);
    let q = 1.0 - p;
    let success = 1.0 - q.powi(3);
    if success == 0.0 {
        return (0.0, f64::NAN);
    }
    let mean = (0..3).map(|k| q.powi(k) * (k as f64 * (t + 1.0) * p + ex)).sum::<f64>() / success;
    (100.0 * success, mean)
}

fn json(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("tune.json")).unwrap()).unwrap()
}

fn ok(o: &Output) {
    assert!(matches!(o.status.code(), Some(0)), "status {:?}: {}", o.status, stderr(o));
}

#[test]
fn tune_names_the_analytic_optimum_with_fewer_runs() {
    let dir = tmp("optimum");
    let s = scenario(&dir);
    let out = dir.join("out");
    let seeds = SEEDS.to_string();
    let o = tune(
        &s,
        &[
            "--param",
            GRID,
            "--objective",
            "min mean(load)",
            "--constraint",
            "success(load) >= 99.5%",
            "--seeds",
            &seeds,
            "--jobs",
            "2",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    ok(&o);
    // The curve: the smallest feasible timeout minimises the mean (p is flat from 20 ms
    // to 200 ms while the retries' share grows with t).
    let grid: Vec<f64> = (0..16).map(|i| 10.0 + 2.0 * i as f64).collect();
    let feasible: Vec<f64> = grid.iter().copied().filter(|&t| curve(t).0 >= BOUND).collect();
    let optimum = feasible.iter().copied().min_by(|a, b| curve(*a).1.total_cmp(&curve(*b).1)).unwrap();
    assert_eq!(optimum, 20.0);
    let j = json(&out);
    let best = j["best"].as_u64().expect("a best candidate") as usize;
    let c = &j["candidates"][best];
    assert_eq!(c["params"]["/policies/try/timeout"], "20ms", "{}", j["candidates"]);
    let runs = j["runs"].as_u64().unwrap() as usize;
    assert!(runs < grid.len() * SEEDS, "{runs} runs, the grid × seeds is {}", grid.len() * SEEDS);
    assert_eq!(c["seeds_run"], SEEDS);
    // The measured figures at the optimum against the curve: within the 99.9% t-interval
    // (t(0.9995, 5) = 6.869 against the reported t(0.975, 5) = 2.571) plus the
    // histogram's 0.1% relative resolution for the mean.
    let (success, mean) = curve(optimum);
    let widen = 6.869 / 2.571;
    let fig =
        |g: usize| (c["figures"][g]["mean"].as_f64().unwrap(), c["figures"][g]["ci95"].as_f64().unwrap());
    let (m, h) = fig(0);
    assert!((m - mean).abs() <= widen * h + 1e-3 * mean, "mean {m} ± {h} vs {mean}");
    let (m, h) = fig(1);
    assert!((m - success).abs() <= widen * h, "success {m} ± {h} vs {success}");
    // Every timeout below the fast mode's top is infeasible by the curve, and the race
    // stopped it as such; every one above lost on the objective.
    for (i, t) in grid.iter().enumerate() {
        let cand = &j["candidates"][i];
        let fate = cand["fate"].as_str().unwrap();
        if curve(*t).0 < BOUND {
            assert!(fate.contains("infeasible"), "{t} ms: {fate}: {}", cand["why"]);
        } else if *t > optimum {
            assert!(matches!(fate, "stopped: worse" | "tied" | "behind"), "{t} ms: {fate}");
            assert!(curve(*t).1 > mean);
        }
        assert!(!cand["why"].as_str().unwrap().is_empty());
    }
    // The answer names the variant to paste.
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("\"/policies/try/timeout\": \"20ms\""), "{text}");
    for f in ["tune.json", "tune.md", "tune.html", "tune-race.svg", "tune-tradeoff.svg"] {
        assert!(out.join(f).is_file(), "{f}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn tune_bytes_do_not_depend_on_jobs() {
    let dir = tmp("jobs");
    let s = scenario(&dir);
    let mut outs = Vec::new();
    for jobs in ["1", "2"] {
        let out = dir.join(format!("out-{jobs}"));
        let o = tune(
            &s,
            &[
                "--param",
                "/policies/try/timeout=12ms..40ms",
                "--samples",
                "6",
                "--objective",
                "min mean(load)",
                "--objective",
                "max success(load)",
                "--seeds",
                "3",
                "--set",
                "/duration=4s",
                "--jobs",
                jobs,
                "--out",
                out.to_str().unwrap(),
            ],
        );
        ok(&o);
        let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| {
                let p = e.unwrap().path();
                (p.file_name().unwrap().to_string_lossy().to_string(), std::fs::read(&p).unwrap())
            })
            .collect();
        files.sort();
        outs.push((files, o.stdout));
    }
    assert_eq!(
        outs[0].0.iter().map(|f| &f.0).collect::<Vec<_>>(),
        outs[1].0.iter().map(|f| &f.0).collect::<Vec<_>>()
    );
    for (a, b) in outs[0].0.iter().zip(&outs[1].0) {
        assert!(a.1 == b.1, "{} differs between --jobs 1 and 2", a.0);
    }
    assert_eq!(outs[0].1, outs[1].1);
    let j = json(&dir.join("out-1"));
    assert!(j["design"].as_str().unwrap().contains("Latin hypercube of 6 samples"), "{}", j["design"]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_input_is_exit_2_and_named() {
    let dir = tmp("bad");
    let s = scenario(&dir);
    let out = dir.join("out");
    let obj = ["--objective", "min mean(load)"];
    for (args, needle) in [
        (vec!["--param", "/policies/nope/timeout=10ms,20ms"], "/policies/nope"),
        (vec!["--param", "/policies/try/timeout=fast,slow"], "/policies/try/timeout"),
        (vec!["--param", "/policies/try/timeout=40ms..10ms:2ms"], "empty"),
        (vec!["--param", "/policies/try/timeout=40ms..10ms"], "empty"),
        (vec!["--param", "/policies/try/retry/jitter=a..c:1"], "not a number or a duration"),
        (vec!["--param", "/policies/try/retry/jitter=1..3:1"], "/policies/try/retry/jitter"),
        (vec!["--param", GRID, "--objective", "min p99(buyers)"], "unknown threshold scope `buyers`"),
        (vec!["--param", GRID, "--objective", "minimise p99(load)"], "starts with `min` or `max`"),
        (vec!["--param", GRID, "--objective", "min p99 load"], "no `(SCOPE)`"),
        (vec!["--param", GRID, "--constraint", "success(load) >= 99.5"], "share"),
        (vec!["--param", GRID, "--budget", "5"], "--budget 5"),
        (
            vec!["--param", GRID, "--objective", "min p50(load)", "--objective", "min p90(load)"],
            "3 objectives",
        ),
    ] {
        let mut a: Vec<&str> = args.clone();
        if !args.contains(&"--objective") || args.iter().filter(|x| **x == "--objective").count() == 2 {
            a.extend(obj);
        }
        a.extend(["--seeds", "2", "--out", out.to_str().unwrap()]);
        let o = tune(&s, &a);
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {e}");
        assert!(e.contains(needle), "{args:?}: {e:?} lacks {needle:?}");
        assert!(!out.exists(), "{args:?} wrote its folder");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Every committed `reports/*/tune/tune.json` is what the code gives: its scenario file
/// is unchanged, and its best candidate replayed on the first seed measures the same
/// figures. Regenerate them with `FAULTLINE_BLESS=1 cargo test --profile ci --test it
/// golden` (which reruns each one's `argv`).
#[test]
fn committed_tune_reports_replay() {
    let mut seen = 0;
    for e in std::fs::read_dir("reports").unwrap() {
        let f = e.unwrap().path().join("tune").join("tune.json");
        if !f.is_file() {
            continue;
        }
        seen += 1;
        let j: Value = serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
        let argv: Vec<String> =
            j["argv"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().into()).collect();
        let scenario = PathBuf::from(&argv[1]);
        let hash = faultline::sweep::fnv1a64_hex(&std::fs::read(&scenario).unwrap());
        assert_eq!(
            j["scenario_hash"],
            hash,
            "{} is stale: {} changed; regenerate with `FAULTLINE_BLESS=1 cargo test --profile ci --test it golden`",
            f.display(),
            scenario.display()
        );
        let Some(best) = j["best"].as_u64() else { continue };
        let c = &j["candidates"][best as usize];
        let flag = |k: &str| -> Vec<String> {
            argv.windows(2).filter(|w| w[0] == k).map(|w| w[1].clone()).collect()
        };
        let mut sets = flag("--set");
        sets.extend(
            c["params"].as_object().unwrap().iter().map(|(k, v)| format!("{k}={}", v.as_str().unwrap())),
        );
        let seed = j["seeds"][0].as_u64().unwrap();
        let opts = LoadOptions { variant: flag("--variant").pop(), sets, seed: Some(seed) };
        let spec = load_file(&scenario, &opts).unwrap();
        let (spec, summary, _) = faultline::sweep::runs::summary_of(&spec, seed).unwrap();
        for (g, goal_j) in j["goals"].as_array().unwrap().iter().enumerate() {
            let text = goal_j["goal"].as_str().unwrap();
            let parsed = match goal_j["kind"].as_str().unwrap() {
                "constraint" => goal::constraint(text, &spec),
                _ => goal::objective(text, &spec),
            }
            .unwrap();
            let v = faultline::report::thresholds::measure(&spec, &summary, &parsed.probe);
            let committed = c["values"][0][g].as_f64();
            assert_eq!(
                v.map(|v| (v * 1e6).round() / 1e6),
                committed,
                "{}: {text} on seed {seed} of the best candidate; regenerate with `FAULTLINE_BLESS=1 cargo test \
                 --profile ci --test it golden`",
                f.display()
            );
        }
    }
    assert!(seen >= 2, "the example tune reports are committed under reports/*/tune/");
}
