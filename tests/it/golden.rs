//! The committed reports of the example scenarios (`reports/`) must be exactly what the
//! code produces: a change that moves a number moves the committed report in the same
//! commit. Regenerate them all with
//!
//! ```sh
//! FAULTLINE_BLESS=1 cargo test --profile ci --test it golden
//! ```
//!
//! The check produces every report into a fresh temporary folder and compares it, file
//! by file, with the committed one. The manifests that `--out` writes (`.faultline-out`)
//! are committed with the reports: regenerating writes into `reports/<scenario>/` (and
//! its `compare/`) through the CLI's own rule, which removes exactly the files the
//! committed manifest lists, so a chart the code no longer draws disappears.
//!
//! The tune reports (`reports/<scenario>/tune/`, from `faultline tune`) cost more runs
//! than this check should; they are left out of the comparison and checked by
//! `tune::committed_tune_reports_replay` (the scenario unchanged, the best candidate's
//! figures replayed on one seed). Blessing regenerates them too, each by the arguments
//! its `tune.json` records (`argv`).

use crate::common::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Seeds per comparison in the committed reports.
const SEEDS: &str = "5";

fn scenarios() -> Vec<PathBuf> {
    let mut v = json_files("scenarios");
    // The real topologies (issue 15): `scenarios/real/NAME.json` → `reports/real/NAME/`.
    v.extend(json_files("scenarios/real"));
    v
}

fn json_files(dir: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    v.sort();
    v
}

/// The report folder of a scenario, relative to `reports/`: `NAME`, or `real/NAME` for
/// a real topology.
fn report_dir(scenario: &Path) -> PathBuf {
    let name = scenario.file_stem().unwrap();
    match scenario.parent().and_then(|p| p.file_name()) {
        Some(d) if d == "real" => Path::new("real").join(name),
        _ => PathBuf::from(name),
    }
}

fn has_variants(p: &Path) -> bool {
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
    v.get("variants").and_then(|v| v.as_object()).is_some_and(|m| !m.is_empty())
}

/// Produces every report of one scenario into `dir`, through `--out`'s rule: `dir`
/// must be new, empty, or written by faultline before.
fn produce(scenario: &Path, dir: &Path) {
    // `reports/real/` (and its temporary twin) may not exist yet: `--out` makes only the last folder.
    std::fs::create_dir_all(dir.parent().unwrap()).unwrap();
    let o = bin().arg("run").arg(scenario).arg("--out").arg(dir).output().unwrap();
    // Exit 3: a threshold failed, every output written.
    assert!(matches!(o.status.code(), Some(0 | 3)), "{}: {}", scenario.display(), stderr(&o));
    if has_variants(scenario) {
        let o = bin()
            .arg("compare")
            .arg(scenario)
            .args(["--seeds", SEEDS, "--out"])
            .arg(dir.join("compare"))
            .output()
            .unwrap();
        assert!(o.status.success(), "{}: {}", scenario.display(), stderr(&o));
    }
}

/// Reruns the tune whose report is in `dir` (if any) into it, by its recorded `argv`.
fn retune(dir: &Path) {
    let Ok(text) = std::fs::read_to_string(dir.join("tune.json")) else { return };
    let j: serde_json::Value = serde_json::from_str(&text).unwrap();
    let argv: Vec<&str> = j["argv"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    let o = bin().args(&argv).arg("--out").arg(dir).output().unwrap();
    // Exit 3: no candidate met the constraints, every output written.
    assert!(matches!(o.status.code(), Some(0 | 3)), "{}: {}", dir.display(), stderr(&o));
}

fn files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else { continue };
        for e in rd {
            let p = e.unwrap().path();
            if p.is_dir() && p == dir.join("tune") {
                continue;
            }
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(p.strip_prefix(dir).unwrap().to_path_buf(), std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

#[test]
fn committed_reports_match_what_the_code_produces() {
    let bless = std::env::var_os("FAULTLINE_BLESS").is_some();
    let tmp = std::env::temp_dir().join(format!("faultline-golden-{}", std::process::id()));
    let mut stale = Vec::new();
    for s in scenarios() {
        let rel = report_dir(&s);
        let name = rel.to_str().unwrap().to_string();
        let committed = Path::new("reports").join(&rel);
        if bless {
            produce(&s, &committed);
            retune(&committed.join("tune"));
            continue;
        }
        let fresh = tmp.join(&name);
        let _ = std::fs::remove_dir_all(&fresh);
        produce(&s, &fresh);
        let (a, b) = (files(&committed), files(&fresh));
        if a.keys().ne(b.keys()) {
            stale.push(format!("{name}: files differ: committed {:?} vs produced {:?}", a.keys(), b.keys()));
            continue;
        }
        for (f, bytes) in &b {
            if a[f] != *bytes {
                stale.push(format!("{name}/{}", f.display()));
            }
        }
    }
    let _ = std::fs::remove_dir_all(&tmp);
    assert!(
        stale.is_empty(),
        "committed reports are stale; regenerate with `FAULTLINE_BLESS=1 cargo test --profile ci --test it golden` \
         and commit them with the change that moved them:\n{}",
        stale.join("\n")
    );
}
