//! Whole scenarios end to end through the binary.

use crate::common::*;

#[test]
fn run_prints_a_table_with_the_seed_and_writes_the_contract_files() {
    let dir = fresh("contract");
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
    let _ = std::fs::remove_dir_all(dir);
}

/// The table names what guarded the calls, with the summary's figures: each breaker
/// instance (the guide's one `per: caller` breaker opens and refuses), each bulkhead
/// against its limit, and a table only where the scenario has one.
#[test]
fn the_table_shows_breakers_bulkheads_and_priorities_with_the_summary_figures() {
    let o = bin().args(["run", "scenarios/patterns-guide.json", "--json"]).output().unwrap();
    let s: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let o = bin().args(["run", "scenarios/patterns-guide.json"]).output().unwrap();
    let table = stdout(&o);
    // The first row starting with `first` in the table whose header starts with `header`.
    let row = |header: &str, first: &str| -> Vec<String> {
        let mut lines = table.lines().skip_while(|l| !l.starts_with(header));
        let line = lines.find(|l| l.starts_with(first)).unwrap_or_else(|| panic!("no {first} row: {table}"));
        line.split_whitespace().map(str::to_string).collect()
    };
    let b = &s["breakers"]["gateway->*/forward"];
    let r = row("breaker", "gateway->*/forward");
    assert_eq!(r[1], "caller");
    assert_eq!(r[3], b["opened"].to_string());
    assert_eq!(r[5], b["refused"].to_string());
    assert!(b["refused"].as_u64().unwrap() > 0);
    let k = &s["calls"]["order->payment.charge"]["bulkhead"];
    let r = row("bulkhead (call)", "order->payment.charge");
    assert_eq!(r[1..4], [k["max_in_use"].to_string(), "of".into(), "10".into()]);
    assert_eq!(r[4], k["waited"].to_string());
    // Priorities: offered, ok and shed as the summary has them (shed counts refusals in
    // the call trees, not a share of offered).
    let args = ["run", "scenarios/critical-checkout.json", "--variant", "utilization-90"];
    let o = bin().args(args).arg("--json").output().unwrap();
    let s: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let table = stdout(&bin().args(args).output().unwrap());
    let p = &s["priorities"]["recommendations"];
    let line = table.lines().skip_while(|l| !l.starts_with("workload  ") || !l.contains("priority")).nth(3);
    let r: Vec<&str> = line.unwrap_or_default().split_whitespace().collect();
    assert_eq!(r[..2], ["recommendations", "sheddable"], "{table}");
    assert_eq!(r[2..5], [p["offered"].to_string(), p["ok"].to_string(), p["shed"].to_string()]);
    assert!(p["shed"].as_u64().unwrap() > 0);
    let plain = stdout(&bin().args(["run", "scenarios/mmc.json"]).output().unwrap());
    assert!(!plain.contains("breaker") && !plain.contains("bulkhead"), "{plain}");
}

#[test]
fn json_output_is_byte_identical_run_to_run() {
    let a = bin().args(["run", "scenarios/checkout.json", "--json"]).output().unwrap();
    let b = bin().args(["run", "scenarios/checkout.json", "--json"]).output().unwrap();
    // Exit 3: checkout's thresholds fail in the flash sale.
    assert_eq!(a.status.code(), Some(3), "{}", stderr(&a));
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
    // Any limit: the message names it and how to raise it; no output is written.
    let dir = fresh("limit");
    let o = bin()
        .args(["run", "scenarios/checkout.json", "--set", "/limits={\"max_in_flight\": 5}", "--out"])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("/limits/max_in_flight"), "{}", stderr(&o));
    assert!(stderr(&o).contains("replay:") && !stderr(&o).contains("panicked"), "{}", stderr(&o));
    assert!(!dir.join("summary.json").exists());
}

/// Peak memory (MiB) the binary reported on standard error for a run.
fn peak_mib(args: &[&str]) -> f64 {
    let o = bin().args(args).output().unwrap();
    // Exit 3: checkout's thresholds fail in the flash sale.
    assert!(matches!(o.status.code(), Some(0 | 3)), "{}", stderr(&o));
    let err = stderr(&o);
    let at = err.find("peak memory ").expect("peak memory reported") + "peak memory ".len();
    err[at..].split_whitespace().next().unwrap().parse().unwrap()
}

#[test]
fn peak_memory_is_read_after_the_outputs_are_written() {
    // 13,000 intervals: a time series CSV of about 12 MB, built in memory and written.
    // The peak reported must include it (it was read before the report was written).
    let dir = fresh("peak");
    let args = ["run", "scenarios/mmc.json", "--set", "/interval=10ms", "--json"];
    let without = peak_mib(&args);
    let with = peak_mib(&[&args[..], &["--out", dir.to_str().unwrap()]].concat());
    let csv_mib = std::fs::metadata(dir.join("timeseries.csv")).unwrap().len() as f64 / (1 << 20) as f64;
    eprintln!("peak memory: {without} MiB without --out, {with} MiB with ({csv_mib:.1} MiB of CSV)");
    assert!(with >= without + 0.5 * csv_mib, "{with} MiB with --out, {without} MiB without");
    let _ = std::fs::remove_dir_all(dir);
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

/// A work queue with SQS's longest visibility timeout (12 h): every receive sets a
/// timer that only a deleted message's slot can show stale, and deleted messages' timers
/// are dropped at the event queue's compactions. Without that, the pending timers grew as
/// the receive rate times the run (1.2 million after 60 s here, 40 MB of queue entries).
#[test]
fn a_long_visibility_timeout_keeps_memory_flat() {
    let text = r#"{
      "name": "visibility", "warmup": "0s", "seed": 5, "duration": "15s",
      "services": {
        "api": {"concurrency": 1000, "endpoints": {"send": {"steps": [{"enqueue": "q"}]}}},
        "w": {"concurrency": 8, "endpoints": {"handle": {"latency": {"constant": "100us"}}}}
      },
      "queues": {"q": {"visibility_timeout": "12h", "consumers": [{"endpoint": "w.handle", "consumers": 8}]}},
      "workload": [{"name": "load", "target": "api.send", "arrival": {"poisson": {"rate": 20000}}}]
    }"#;
    let path = temp_scenario("visibility-12h", text);
    let path = path.to_str().unwrap();
    let short = peak_mib(&["run", path, "--json"]);
    let long = peak_mib(&["run", path, "--set", "/duration=60s", "--json"]);
    eprintln!("peak memory: {short} MiB for 15 s, {long} MiB for 60 s");
    assert!(long <= 1.2 * short, "{long} MiB for 60 s vs {short} MiB for 15 s");
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

// ---- the output folder ---------------------------------------------------------------

/// A fresh, not yet existing folder in the temporary directory.
fn fresh(tag: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("faultline-cli-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// A short run of the cascade (a breaker chart in the `breaker` variant) into `dir`.
fn run_into(dir: &std::path::Path, variant: &str) -> std::process::Output {
    bin()
        .args(["run", "scenarios/cascade.json", "--variant", variant, "--set", "/duration=30s", "--out"])
        .arg(dir)
        .output()
        .unwrap()
}

/// The manifest's file names.
fn manifest(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(dir.join(".faultline-out"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(str::to_string)
        .collect()
}

fn names_in(dir: &std::path::Path) -> std::collections::BTreeSet<String> {
    std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect()
}

#[test]
fn out_refuses_a_folder_it_did_not_write() {
    let dir = fresh("foreign");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("notes.txt"), "mine").unwrap();
    let o = run_into(&dir, "baseline");
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains(".faultline-out") && stderr(&o).contains("empty"), "{}", stderr(&o));
    // Refused before anything was simulated or written.
    assert!(!stderr(&o).contains("events in"), "{}", stderr(&o));
    assert_eq!(names_in(&dir), ["notes.txt".to_string()].into());
    // A new folder is created, and a folder faultline wrote is written again.
    let new = dir.join("new");
    let o = run_into(&new, "baseline");
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run_into(&new, "baseline");
    assert!(o.status.success(), "{}", stderr(&o));
    // An empty folder is used.
    let empty = dir.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let o = run_into(&empty, "baseline");
    assert!(o.status.success(), "{}", stderr(&o));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn out_removes_the_stale_files_of_the_run_before() {
    let dir = fresh("stale");
    let o = run_into(&dir, "breaker");
    assert!(o.status.success(), "{}", stderr(&o));
    let first = manifest(&dir);
    let o = run_into(&dir, "baseline");
    assert!(o.status.success(), "{}", stderr(&o));
    let second = manifest(&dir);
    let gone: Vec<&String> = first.iter().filter(|f| !second.contains(f)).collect();
    assert!(
        gone.iter().any(|f| f.starts_with("breaker-")),
        "the breaker run drew no breaker chart: {first:?}"
    );
    // Exactly the second run's files are there: the breaker charts went.
    let mut expected: std::collections::BTreeSet<String> = second.into_iter().collect();
    expected.insert(".faultline-out".into());
    assert_eq!(names_in(&dir), expected);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn out_never_follows_a_symbolic_link() {
    let dir = fresh("links");
    let o = run_into(&dir, "baseline");
    assert!(o.status.success(), "{}", stderr(&o));
    // A link planted in place of a file the manifest lists is removed, not written
    // through.
    let victim = fresh("links-victim.txt");
    std::fs::write(&victim, "precious").unwrap();
    std::fs::remove_file(dir.join("summary.json")).unwrap();
    std::os::unix::fs::symlink(&victim, dir.join("summary.json")).unwrap();
    let o = run_into(&dir, "baseline");
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    let m = std::fs::symlink_metadata(dir.join("summary.json")).unwrap();
    assert!(m.is_file(), "summary.json is still a link");
    // A link where a file is to be written that the manifest does not list: refused.
    let manifest_text = std::fs::read_to_string(dir.join(".faultline-out")).unwrap();
    std::fs::write(dir.join(".faultline-out"), manifest_text.replace("report.md\n", "")).unwrap();
    std::fs::remove_file(dir.join("report.md")).unwrap();
    std::os::unix::fs::symlink(&victim, dir.join("report.md")).unwrap();
    let o = run_into(&dir, "baseline");
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("report.md"), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    // The folder itself a link (to an empty folder): refused, with or without a
    // trailing slash, and nothing written where it points.
    let target = fresh("links-target");
    std::fs::create_dir_all(&target).unwrap();
    let link = fresh("links-dir");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    for l in [link.clone(), link.join("")] {
        let o = run_into(&l, "baseline");
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(stderr(&o).contains("symbolic link"), "{}", stderr(&o));
    }
    assert!(names_in(&target).is_empty());
    // compare --out follows the same rule.
    let o = bin()
        .args(["compare", "scenarios/cascade.json", "--seeds", "1", "--set", "/duration=30s", "--out"])
        .arg(&link)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    for p in [&dir, &target] {
        let _ = std::fs::remove_dir_all(p);
    }
    let _ = std::fs::remove_file(&link);
    let _ = std::fs::remove_file(&victim);
}

#[test]
fn out_never_overwrites_the_scenario() {
    let dir = fresh("input");
    let o = run_into(&dir, "baseline");
    assert!(o.status.success(), "{}", stderr(&o));
    // The scenario is one of the files the folder's manifest lists.
    let text = std::fs::read_to_string("scenarios/mmc.json").unwrap();
    let scenario = dir.join("summary.json");
    std::fs::write(&scenario, &text).unwrap();
    let o = bin().arg("run").arg(&scenario).arg("--out").arg(&dir).output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("scenario"), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&scenario).unwrap(), text);
    // Reached through a path with `..` in it, and by compare.
    let o = bin()
        .arg("compare")
        .arg(dir.join("..").join(dir.file_name().unwrap()).join("summary.json"))
        .args(["--out"])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&scenario).unwrap(), text);
    // A scenario in a folder faultline did not write: the folder is refused.
    let other = fresh("input-foreign");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(other.join("scenario.json"), &text).unwrap();
    let o = bin().arg("run").arg(other.join("scenario.json")).arg("--out").arg(&other).output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(other.join("scenario.json")).unwrap(), text);
    let _ = std::fs::remove_dir_all(dir);
    let _ = std::fs::remove_dir_all(other);
}

#[test]
fn output_that_cannot_be_written_is_an_error_naming_it() {
    // A folder below a regular file cannot exist.
    let file = fresh("not-a-folder");
    std::fs::write(&file, "x").unwrap();
    let o = run_into(&file.join("out"), "baseline");
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains(&file.join("out").display().to_string()), "{}", stderr(&o));
    assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
    // --out naming a file: refused.
    let o = run_into(&file, "baseline");
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let _ = std::fs::remove_file(&file);
    // A full standard output.
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
    let o = bin().arg("schema").stdout(full).output().unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("standard output") && !stderr(&o).contains("panicked"), "{}", stderr(&o));
}

// ---- compare -------------------------------------------------------------------------

/// Every file of a folder, by name.
fn contents(dir: &std::path::Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    names_in(dir).into_iter().map(|n| (n.clone(), std::fs::read(dir.join(&n)).unwrap())).collect()
}

#[test]
fn compare_and_run_outputs_do_not_depend_on_threads_or_runs() {
    // 3 variants × 5 seeds: several chunks of runs on 1 thread and on 2.
    let compare = |jobs: &str, dir: &std::path::Path| {
        let o = bin()
            .args([
                "compare",
                "scenarios/cascade.json",
                "--seeds",
                "5",
                "--set",
                "/duration=40s",
                "--jobs",
                jobs,
            ])
            .arg("--out")
            .arg(dir)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        o.stdout
    };
    let (a, b) = (fresh("jobs-1"), fresh("jobs-2"));
    assert_eq!(compare("1", &a), compare("2", &b));
    let (ca, cb) = (contents(&a), contents(&b));
    for f in
        ["compare.json", "compare.md", "compare.html", "compare-spectrum-searchers.svg", ".faultline-out"]
    {
        assert!(ca.contains_key(f), "{f} missing");
    }
    assert_eq!(ca.keys().collect::<Vec<_>>(), cb.keys().collect::<Vec<_>>());
    for (f, bytes) in &ca {
        assert!(*bytes == cb[f], "{f} differs between --jobs 1 and --jobs 2");
    }
    // run --out: twice into new folders, and again into the same folder.
    let (r1, r2) = (fresh("run-1"), fresh("run-2"));
    for d in [&r1, &r2, &r2] {
        let o = run_into(d, "breaker");
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let (c1, c2) = (contents(&r1), contents(&r2));
    assert!(c1.contains_key("report.html") && c1.contains_key("timeseries.csv"));
    assert_eq!(c1, c2);
    for d in [a, b, r1, r2] {
        let _ = std::fs::remove_dir_all(d);
    }
}

#[test]
fn compare_labels_the_seeds_it_ran() {
    let dir = fresh("seeds");
    let o = bin()
        .args(["compare", "scenarios/cascade.json", "--variants", "baseline,breaker", "--seeds", "2"])
        .args(["--set", "/seed=40", "--set", "/duration=30s", "--out"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("seeds 40..41"), "{}", stdout(&o));
    for f in ["compare.html", "compare.md"] {
        let text = std::fs::read_to_string(dir.join(f)).unwrap();
        assert!(text.contains("2 seeds each (seeds 40..41)"), "{f} does not label the seeds");
        assert!(!text.contains("1 to 2"), "{f} labels the seeds 1 to 2");
    }
    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("compare.json")).unwrap()).unwrap();
    assert_eq!(j["seeds"], serde_json::json!([40, 41]));
    assert_eq!(j["workloads"]["searchers"]["breaker"]["p99"]["per_seed"].as_array().unwrap().len(), 2);
    let _ = std::fs::remove_dir_all(dir);
    // Seeds that would go past u64::MAX, and absurd counts, are refused.
    for args in [
        &["--set", "/seed=18446744073709551615", "--seeds", "2"][..],
        &["--seeds", "0"],
        &["--seeds", "10001"],
        &["--jobs", "0"],
    ] {
        let o = bin().args(["compare", "scenarios/cascade.json"]).args(args).output().unwrap();
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
    }
}

#[test]
fn compare_memory_does_not_grow_with_the_seeds() {
    // Each run is folded into the comparison as it finishes: five times the seeds, about
    // the same peak (it kept every run, about 2 MB each here, before).
    let peak = |seeds: &str| {
        peak_mib(&[
            "compare",
            "scenarios/cascade.json",
            "--set",
            "/duration=40s",
            "--jobs",
            "2",
            "--seeds",
            seeds,
        ])
    };
    let (few, many) = (peak("6"), peak("30"));
    eprintln!("compare peak memory: {few} MiB for 6 seeds, {many} MiB for 30");
    assert!(many <= 1.25 * few, "{many} MiB for 30 seeds vs {few} MiB for 6");
}

#[test]
fn a_compare_run_that_hits_a_limit_names_it_and_exits_1() {
    let o = bin()
        .args([
            "compare",
            "scenarios/cascade.json",
            "--seeds",
            "2",
            "--set",
            "/limits={\"max_events\": 1000}",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("event limit") && err.contains("variant baseline, seed 1"), "{err}");
    assert!(
        err.contains("replay: faultline run scenarios/cascade.json --seed 1 --variant baseline"),
        "{err}"
    );
}

#[test]
fn a_compare_run_is_the_variant_loaded_with_its_seed() {
    // compare replaces the seed of each variant's spec rather than loading it again per
    // seed: the seed must be the only thing `--seed` changes.
    use faultline::scenario::{LoadOptions, load_file};
    for entry in std::fs::read_dir("scenarios").unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let mut base = load_file(&p, &LoadOptions::default()).unwrap();
        let seeded = load_file(&p, &LoadOptions { seed: Some(12345), ..Default::default() }).unwrap();
        base.seed = 12345;
        assert_eq!(format!("{base:?}"), format!("{seeded:?}"), "{}", p.display());
    }
}

// ---- help ----------------------------------------------------------------------------

/// Every example in every subcommand's `--help` runs, from a folder where the shipped
/// scenarios are at `scenarios/`.
#[test]
fn every_help_example_runs() {
    let repo = std::env::current_dir().unwrap();
    let mut ran = 0;
    // `sweep` and `merge` (sweep.rs), `blast` and `graph` (blast.rs) and `lint`
    // (lint/mod.rs) run theirs where their fixtures are; the test below checks that
    // every subcommand is covered by one or the other.
    for sub in HELP_EXAMPLES_HERE {
        let o = bin().args([sub, "--help"]).output().unwrap();
        assert!(o.status.success());
        let help = stdout(&o);
        // The lines after `Example:` or `Examples:`, to the end of the help.
        let examples: Vec<&str> = help
            .lines()
            .map(str::trim)
            .skip_while(|l| !l.starts_with("Example"))
            .filter(|l| l.starts_with("faultline "))
            .collect();
        assert!(!examples.is_empty(), "`{sub} --help` has no example:\n{help}");
        for ex in examples {
            let cwd = fresh(&format!("help-{ran}"));
            std::fs::create_dir_all(&cwd).unwrap();
            std::os::unix::fs::symlink(repo.join("scenarios"), cwd.join("scenarios")).unwrap();
            // `faultline ARGS [> FILE]`: standard output is captured either way.
            let words = shell_words(ex);
            let args: Vec<&str> =
                words.iter().skip(1).map(String::as_str).take_while(|a| *a != ">").collect();
            let o = bin().args(&args).current_dir(&cwd).output().unwrap();
            // Exit 3: a run whose thresholds failed (checkout's, in its flash sale).
            assert!(matches!(o.status.code(), Some(0 | 3)), "`{ex}` failed: {}", stderr(&o));
            assert!(!o.stdout.is_empty(), "`{ex}` printed nothing");
            ran += 1;
            let _ = std::fs::remove_dir_all(cwd);
        }
    }
    assert!(ran >= 6, "only {ran} examples");
}

/// The subcommands whose `--help` examples `every_help_example_runs` runs.
const HELP_EXAMPLES_HERE: [&str; 5] = ["run", "compare", "check", "schema", "tune"];
/// Those whose examples their own test module runs.
const HELP_EXAMPLES_ELSEWHERE: [&str; 5] = ["sweep", "merge", "blast", "graph", "lint"];

/// A help example's words, with `'…'` quoting as a shell reads it (tune's objectives).
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let (mut quoted, mut any) = (false, false);
    for c in line.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                any = true;
            }
            c if c.is_whitespace() && !quoted => {
                if any {
                    words.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            c => {
                cur.push(c);
                any = true;
            }
        }
    }
    if any {
        words.push(cur);
    }
    words
}

/// Every subcommand `faultline --help` lists has its examples run by some test, so a
/// new command cannot ship an example nobody ran.
#[test]
fn every_subcommand_has_its_help_examples_run() {
    let o = bin().arg("--help").output().unwrap();
    let help = stdout(&o);
    let subs: Vec<&str> = help
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|s| *s != "help")
        .collect();
    assert!(subs.len() >= 10, "{help}");
    for s in subs {
        assert!(
            HELP_EXAMPLES_HERE.contains(&s) || HELP_EXAMPLES_ELSEWHERE.contains(&s),
            "no test runs the --help examples of `{s}`"
        );
    }
    assert_eq!(shell_words("a 'b c' d"), ["a", "b c", "d"]);
}

#[test]
fn a_variant_without_a_workload_compares_as_missing_figures() {
    // It used to index the first variant's workloads into every variant's runs: a
    // panic when a variant removed one.
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string("scenarios/cascade.json").unwrap()).unwrap();
    // Its thresholds go with it (a threshold on a workload the variant lacks is an error).
    v["variants"]["solo"] = serde_json::json!({"/workload/0": null, "/thresholds/searchers": null});
    v["duration"] = "30s".into();
    let path = temp_scenario("cascade-solo", &serde_json::to_string_pretty(&v).unwrap());
    let dir = fresh("solo");
    let o = bin().arg("compare").arg(&path).args(["--seeds", "2", "--out"]).arg(&dir).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("compare.json")).unwrap()).unwrap();
    assert!(j["workloads"]["searchers"]["solo"]["p99"]["mean"].is_null());
    assert!(j["workloads"]["recommended"]["solo"]["p99"]["mean"].is_f64());
    let _ = std::fs::remove_dir_all(dir);
}
