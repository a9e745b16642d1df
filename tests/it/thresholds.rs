//! Thresholds end to end: parsed from the scenario (every bad expression a located error,
//! exit 2), evaluated on a run whose figures are known by construction, `faultline run`
//! exiting 3 after writing every output when one fails, and `--set` and variants
//! changing them like any other value.

use crate::common::*;
use faultline::scenario::{LoadOptions, Problem, load_str};
use serde_json::{Value, json};

/// One service answering in exactly 10 ms with workers to spare, 100 requests per
/// second evenly spaced, measured from 1 s to 11 s: 1000 requests. An abort fault
/// (`outage`) fails every request from 6 s to 11 s, so half of them fail, at once.
fn base(thresholds: Value) -> Value {
    json!({
        "name": "thr",
        "duration": "11s",
        "warmup": "1s",
        "services": {
            "api": {"concurrency": 64, "endpoints": {
                "get": {"latency": {"constant": "10ms"}, "steps": [{"publish": "events"}]},
                "on_event": {"latency": {"constant": "1ms"}}
            }}
        },
        "topics": {"events": {"subscribers": [{"group": "audit", "endpoint": "api.on_event"}]}},
        "workload": [{"name": "users", "target": "api.get", "arrival": {"constant": {"rate": 100}}}],
        "faults": [{"abort": {"name": "outage", "target": "api.get", "start": "6s", "duration": "5s", "percent": 100}}],
        "thresholds": thresholds
    })
}

fn file(tag: &str, v: &Value) -> std::path::PathBuf {
    temp_scenario(&format!("thr-{tag}"), &serde_json::to_string_pretty(v).unwrap())
}

fn fresh(tag: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("faultline-thr-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn run_json(path: &std::path::Path, args: &[&str]) -> (Option<i32>, Value, String) {
    let o = bin().arg("run").arg(path).arg("--json").args(args).output().unwrap();
    let v = serde_json::from_slice(&o.stdout).unwrap_or(Value::Null);
    (o.status.code(), v, stderr(&o))
}

/// `(expression, value, pass)` of the summary's verdicts.
fn verdicts(summary: &Value) -> Vec<(String, Value, bool)> {
    summary["thresholds"]
        .as_array()
        .unwrap_or_else(|| panic!("no thresholds in {summary}"))
        .iter()
        .map(|t| {
            (t["expression"].as_str().unwrap().to_string(), t["value"].clone(), t["pass"].as_bool().unwrap())
        })
        .collect()
}

#[test]
fn figures_known_by_construction_pass_and_fail_at_their_boundaries() {
    let v = base(json!({
        "users": [
            "success >= 50%", "success > 50%", "failed <= 50%", "failed < 50%",
            "goodput >= 50/s", "goodput > 50",
            "retries_per_request <= 0",
            "max < 20ms", "p999 < 9ms"
        ],
        "topic:events/audit": ["duplicates <= 0", "dead_lettered < 1", "max_lag < 100000", "p99 < 1s"]
    }));
    let (code, s, err) = run_json(&file("known", &v), &[]);
    assert_eq!(code, Some(3), "{err}");
    let w = &s["workloads"]["users"];
    assert_eq!((w["offered"].as_u64(), w["ok"].as_u64()), (Some(1000), Some(500)), "{w}");
    let got = verdicts(&s);
    let want = [
        ("success >= 50%", json!(50.0), true),
        ("success > 50%", json!(50.0), false),
        ("failed <= 50%", json!(50.0), true),
        ("failed < 50%", json!(50.0), false),
        ("goodput >= 50/s", json!(50.0), true),
        ("goodput > 50", json!(50.0), false),
        ("retries_per_request <= 0", json!(0.0), true),
    ];
    for (i, (e, val, pass)) in want.iter().enumerate() {
        assert_eq!(got[i], (e.to_string(), val.clone(), *pass), "verdict {i}");
    }
    // Latencies: every success takes 10 ms (within the histogram's 3 significant
    // digits); the failures are immediate, so only the upper quantiles are pinned here
    // (p50 falls between the halves until latencies count successes only).
    assert_eq!((got[7].0.as_str(), got[7].2), ("max < 20ms", true));
    assert_eq!((got[8].0.as_str(), got[8].2), ("p999 < 9ms", false));
    assert!((got[7].1.as_f64().unwrap() - 10.0).abs() < 0.02, "{:?}", got[7]);
    // The group handled every published message once.
    assert!(got[9..12].iter().all(|g| g.2), "{got:?}");
    assert!(got[12].2 && got[12].1.as_f64().unwrap() > 0.0, "{:?}", got[12]);
    // Standard error names each failed threshold with its value.
    for line in [
        "threshold failed: users: success > 50% (measured: 50%)",
        "threshold failed: users: failed < 50% (measured: 50%)",
        "threshold failed: users: goodput > 50 (measured: 50/s)",
        "threshold failed: users: p999 < 9ms (measured: 10.0 ms)",
    ] {
        assert!(err.contains(line), "{line:?} not in:\n{err}");
    }
    assert!(err.contains("4 of 13 thresholds failed (exit status 3)"), "{err}");
}

#[test]
fn a_passing_run_exits_0_and_prints_its_verdicts() {
    let v =
        base(json!({"users": ["success >= 40%", "max < 1s"], "topic:events/audit": ["max_lag < 100000"]}));
    let o = bin().arg("run").arg(file("pass", &v)).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("thresholds: all 3 hold"), "{out}");
    assert!(out.contains("pass  users               success >= 40%"), "{out}");
    assert!(!stderr(&o).contains("threshold failed"), "{}", stderr(&o));
}

#[test]
fn a_failing_run_exits_3_after_writing_every_output() {
    let v = base(json!({"users": ["success >= 99%", "max < 1s"]}));
    let dir = fresh("out");
    let o = bin().arg("run").arg(file("fail", &v)).arg("--out").arg(&dir).output().unwrap();
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    for f in ["summary.json", "timeseries.csv", "report.html", "report.md", ".faultline-out"] {
        assert!(dir.join(f).is_file(), "{f} was not written");
    }
    let s: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();
    assert_eq!(
        s["thresholds"][0],
        json!({"scope": "users", "expression": "success >= 99%", "value": 50.0, "pass": false})
    );
    assert_eq!(s["thresholds"][1]["pass"], true);
    // The table was printed too, with the verdict.
    assert!(stdout(&o).contains("FAIL  users  success >= 99%  50%"), "{}", stdout(&o));
    assert!(stderr(&o).contains("threshold failed: users: success >= 99% (measured: 50%)"), "{}", stderr(&o));
    // The run statistics come first, the verdict last.
    let err = stderr(&o);
    assert!(err.find("events in").unwrap() < err.find("threshold failed").unwrap(), "{err}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn no_thresholds_no_key_and_exit_0() {
    let mut v = base(json!({}));
    v.as_object_mut().unwrap().remove("thresholds");
    let (code, s, err) = run_json(&file("none", &v), &[]);
    assert_eq!(code, Some(0), "{err}");
    assert!(s.get("thresholds").is_none(), "{s}");
    // An empty object declares none either.
    let (code, s, _) = run_json(&file("empty", &base(json!({}))), &[]);
    assert_eq!(code, Some(0));
    assert!(s.get("thresholds").is_none());
}

#[test]
fn a_phase_may_be_a_fault_called_by_its_label() {
    let mut v = base(json!({}));
    v["faults"][0]["abort"].as_object_mut().unwrap().remove("name");
    let spec = spec(&v);
    let label = spec.faults[0].name.clone();
    assert!(label.contains(' '), "{label}");
    v["thresholds"] = json!({"users": [format!("p99 < 1s during {label}"), "success > 0% during before"]});
    let spec = crate::common::spec(&v);
    assert_eq!(spec.thresholds[0].phase.as_deref(), Some(label.as_str()));
    assert_eq!(spec.thresholds[1].phase.as_deref(), Some("before"));
}

// ---- bad input --------------------------------------------------------------------

fn problems(v: &Value) -> Vec<Problem> {
    let text = serde_json::to_string_pretty(v).unwrap();
    match load_str(&text, "thr.json", &LoadOptions::default()) {
        Ok(_) => panic!("loaded: {}", v["thresholds"]),
        Err(e) => e.problems,
    }
}

/// (thresholds, the path of the problem, fragments of its message)
#[test]
fn every_bad_threshold_is_located_and_says_what_is_accepted() {
    let cases: Vec<(Value, &str, &[&str])> = vec![
        (json!({"users": ["p99 < 99%"]}), "/thresholds/users/0", &["p99 is a latency", "not a percentage"]),
        (
            json!({"users": ["p99 < 1s", "success >= 99.5"]}),
            "/thresholds/users/1",
            &["success is a share", "99.5%"],
        ),
        (json!({"users": ["p99 <> 1s"]}), "/thresholds/users/0", &["unknown operator `<>`", "<, <=, >, >="]),
        (json!({"users": ["p99 = 1s"]}), "/thresholds/users/0", &["unknown operator `=`"]),
        (json!({"users": ["p99 1s"]}), "/thresholds/users/0", &["no operator"]),
        (
            json!({"users": ["latency < 1s"]}),
            "/thresholds/users/0",
            &["unknown metric `latency`", "mean, p50, p90, p99, p999, max, success, goodput"],
        ),
        (json!({"users": ["goodput > 5%"]}), "/thresholds/users/0", &["goodput is a rate", "120/s"]),
        (json!({"users": ["retries_per_request < 2x"]}), "/thresholds/users/0", &["plain number"]),
        (json!({"users": ["success >= 120%"]}), "/thresholds/users/0", &["above 100%"]),
        (json!({"users": ["p99 < 1s,"]}), "/thresholds/users/0", &["unknown unit"]),
        (json!({"users": "p99 < 1s"}), "/thresholds/users", &["expected an array", "[\"p99 < 1s\"]"]),
        (json!({"users": [3]}), "/thresholds/users/0", &["as a string", "found a number"]),
        (json!({"users": {"p99": "1s"}}), "/thresholds/users", &["expected an array", "found an object"]),
        (
            json!({"userz": ["p99 < 1s"]}),
            "/thresholds/userz",
            &["unknown threshold scope", "did you mean `users`"],
        ),
        (json!({"saga:order": ["completed > 1%"]}), "/thresholds/saga:order", &["no saga is named `order`"]),
        (
            json!({"topic:events/nobody": ["max_lag < 5"]}),
            "/thresholds/topic:events~1nobody",
            &["has no consumer group `nobody`", "topic:events/audit"],
        ),
        (json!({"topic:events": ["max_lag < 5"]}), "/thresholds/topic:events", &["topic:TOPIC/GROUP"]),
        (json!({"topic:evnts/audit": ["max_lag < 5"]}), "/thresholds/topic:evnts~1audit", &["no topic"]),
        (
            json!({"topic:events/audit": ["success > 5%"]}),
            "/thresholds/topic:events~1audit/0",
            &["metric of a workload", "max_lag, duplicates, dead_lettered, p99"],
        ),
        (json!({"topic:events/audit": ["p99 < 5%"]}), "/thresholds/topic:events~1audit/0", &["latency"]),
        (
            json!({"users": ["p99 < 1s during outag"]}),
            "/thresholds/users/0",
            &["unknown phase `outag`", "did you mean `outage`", "before, after, outage"],
        ),
        (json!({"users": ["p99 < 1s during"]}), "/thresholds/users/0", &["needs a phase"]),
        (json!({"users": ["p99 < 1s for outage"]}), "/thresholds/users/0", &["during PHASE"]),
        (
            json!({"users": ["retries_per_request < 1 during outage"]}),
            "/thresholds/users/0",
            &["whole run only"],
        ),
        (
            json!({"topic:events/audit": ["max_lag < 5 during outage"]}),
            "/thresholds/topic:events~1audit/0",
            &["workloads' figures only"],
        ),
        (json!(["p99 < 1s"]), "/thresholds", &["object"]),
    ];
    for (thresholds, path, fragments) in cases {
        let ps = problems(&base(thresholds.clone()));
        let p = ps
            .iter()
            .find(|p| p.path == path)
            .unwrap_or_else(|| panic!("{thresholds}: no problem at {path}: {ps:?}"));
        assert!(p.line.is_some(), "{thresholds}: {p:?} has no line");
        for f in fragments {
            assert!(p.message.contains(f), "{thresholds}: {:?} lacks {f:?}", p.message);
        }
    }
}

#[test]
fn every_problem_of_a_file_is_listed_at_once() {
    let ps = problems(&base(json!({
        "users": ["p99 < 99%", "ok", "success >= 1%"],
        "nobody": ["p99 < 1s"],
        "topic:events/audit": ["max_lag < 1ms"]
    })));
    let paths: Vec<&str> = ps.iter().map(|p| p.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/thresholds/users/0",
            "/thresholds/users/1",
            "/thresholds/nobody",
            "/thresholds/topic:events~1audit/0"
        ]
    );
}

#[test]
fn a_bad_threshold_exits_2_with_its_line_through_run_and_check() {
    let v = base(json!({"users": ["success >= 40%", "p99 < 99%"]}));
    let path = file("bad", &v);
    let text = std::fs::read_to_string(&path).unwrap();
    let line = text.lines().position(|l| l.contains("p99 < 99%")).unwrap() + 1;
    for cmd in ["run", "check"] {
        let o = bin().arg(cmd).arg(&path).output().unwrap();
        assert_eq!(o.status.code(), Some(2), "{cmd}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(err.contains(&format!(":{line}:")), "{cmd}: line {line} not in {err}");
        assert!(err.contains("/thresholds/users/1: bad threshold \"p99 < 99%\""), "{cmd}: {err}");
        assert!(!err.contains("events in"), "{cmd}: it ran: {err}");
    }
}

// ---- overrides --------------------------------------------------------------------

#[test]
fn set_replaces_appends_adds_and_removes_thresholds() {
    let path = file("set", &base(json!({"users": ["success >= 99%"]})));
    let (code, _, err) = run_json(&path, &[]);
    assert_eq!(code, Some(3), "{err}");
    // Replace the failing expression.
    let (code, s, err) = run_json(&path, &["--set", "/thresholds/users/0=success >= 40%"]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(verdicts(&s), [("success >= 40%".to_string(), json!(50.0), true)]);
    // Append one; a JSON string value works too.
    let (code, s, err) = run_json(&path, &["--set", "/thresholds/users/-=\"p999 < 9ms\""]);
    assert_eq!(code, Some(3), "{err}");
    assert_eq!(verdicts(&s).len(), 2);
    assert!(err.contains("threshold failed: users: p999 < 9ms"), "{err}");
    // Replace the whole object, with a new scope.
    let (code, s, err) =
        run_json(&path, &["--set", r#"/thresholds={"topic:events/audit": ["duplicates <= 0"]}"#]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(s["thresholds"][0]["scope"], "topic:events/audit");
    // A key that `~1` escapes in the pointer.
    let (code, s, err) =
        run_json(&path, &["--set", "/thresholds/topic:events~1audit=[\"dead_lettered > 0\"]"]);
    assert_eq!(code, Some(3), "{err}");
    assert_eq!(verdicts(&s).len(), 2);
    // Remove them all: exit 0, no key.
    let (code, s, err) = run_json(&path, &["--set", "/thresholds=null"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(s.get("thresholds").is_none());
    // Created on a scenario that had none.
    let mut v = base(json!({}));
    v.as_object_mut().unwrap().remove("thresholds");
    let bare = file("set-bare", &v);
    let (code, s, err) = run_json(&bare, &["--set", "/thresholds/users=[\"success >= 99%\"]"]);
    assert_eq!(code, Some(3), "{err}");
    assert_eq!(verdicts(&s), [("success >= 99%".to_string(), json!(50.0), false)]);
    // A bad one set on the command line is named as such.
    let (code, _, err) = run_json(&path, &["--set", "/thresholds/users/0=p99 < 5%"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("/thresholds/users/0: bad threshold \"p99 < 5%\""), "{err}");
    assert!(err.contains("(set by --set /thresholds/users/0=p99 < 5%)"), "{err}");
}

#[test]
fn variants_change_thresholds_and_check_validates_each() {
    let mut v = base(json!({"users": ["success >= 40%"]}));
    v["variants"] = json!({
        "baseline": {},
        "strict": {"/thresholds/users/0": "success >= 99%"},
        "lenient": {"/faults": null, "/thresholds/users": ["success >= 99%", "p99 < 2s during before"]}
    });
    let path = file("variants", &v);
    let (code, _, err) = run_json(&path, &["--variant", "baseline"]);
    assert_eq!(code, Some(0), "{err}");
    let (code, s, err) = run_json(&path, &["--variant", "strict"]);
    assert_eq!(code, Some(3), "{err}");
    assert_eq!(verdicts(&s), [("success >= 99%".to_string(), json!(50.0), false)]);
    let (code, s, _) = run_json(&path, &["--variant", "lenient"]);
    assert_eq!(s["thresholds"][0]["value"], 100.0);
    assert!(code == Some(0) || code == Some(3));
    // A variant whose threshold names a fault it removed is found by `check`.
    v["variants"]["broken"] = json!({"/faults": null, "/thresholds/users/0": "success >= 1% during outage"});
    let o = bin().arg("check").arg(file("variants-bad", &v)).output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("in variant broken: bad threshold \"success >= 1% during outage\""), "{err}");
    assert!(err.contains("unknown phase `outage`"), "{err}");
}

// ---- the example scenarios ---------------------------------------------------------

#[test]
fn every_example_scenario_declares_thresholds_and_a_name_for_each_fault() {
    for entry in std::fs::read_dir("scenarios").unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
        let n = v["thresholds"].as_object().map_or(0, |m| m.len());
        assert!(n > 0, "{} declares no thresholds", p.display());
        for f in v["faults"].as_array().into_iter().flatten() {
            let kind = f.as_object().unwrap().values().next().unwrap();
            assert!(kind["name"].is_string(), "{}: a fault without a name: {f}", p.display());
        }
        assert!(v["description"].as_str().unwrap().contains("Thresholds:"), "{}", p.display());
    }
}

#[test]
fn the_tail_at_scale_thresholds_fail_without_hedging_and_hold_with_it() {
    let run = |variant: &str| {
        let o = bin()
            .args([
                "run",
                "scenarios/tail-at-scale.json",
                "--variant",
                variant,
                "--set",
                "/duration=40s",
                "--json",
            ])
            .output()
            .unwrap();
        let s: Value = serde_json::from_slice(&o.stdout).unwrap();
        (o.status.code(), s)
    };
    let (code, s) = run("baseline");
    assert_eq!(code, Some(3));
    assert_eq!(s["thresholds"][0]["expression"], "p99 < 100ms");
    assert_eq!(s["thresholds"][0]["pass"], false);
    let (code, s) = run("hedged");
    assert_eq!(code, Some(0), "{s}");
    assert!(s["thresholds"].as_array().unwrap().iter().all(|t| t["pass"] == true));
}
