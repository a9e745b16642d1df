//! `faultline sweep` and `faultline merge` through the binary: a point equals `run`
//! byte for byte, `--jobs` and shards do not change a byte, a sweep resumes without
//! recomputing, bad input is a located error before anything runs.

use crate::common::{bin, stderr};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

const SCENARIO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/checkout.json");
const SHORT: [&str; 4] = ["--set", "/duration=4s", "--set", "/warmup=1s"];
const PARAMS: [&str; 4] =
    ["--param", "/policies/internal/timeout=200ms,1s", "--param", "/services/payment/replicas=1..3:2"];

fn tmp(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("faultline-sweep-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn sweep(out: &Path, extra: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = bin();
    c.arg("sweep")
        .arg(SCENARIO)
        .args(PARAMS)
        .args(["--seeds", "2"])
        .args(SHORT)
        .args(extra)
        .arg("--out")
        .arg(out);
    for k in ["JOB_COMPLETION_INDEX", "SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_MIN", "SLURM_ARRAY_TASK_COUNT"]
    {
        c.env_remove(k);
    }
    c.envs(env.iter().copied());
    c.output().unwrap()
}

fn ok(o: &Output) {
    assert!(o.status.success(), "status {:?}: {}", o.status, stderr(o));
}

/// Every file under `dir`, by relative path, with its bytes.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, d: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.insert(p.strip_prefix(root).unwrap().display().to_string(), std::fs::read(&p).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn assert_same(a: &BTreeMap<String, Vec<u8>>, b: &BTreeMap<String, Vec<u8>>) {
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (k, v) in a {
        assert!(v == &b[k], "{k} differs");
    }
}

/// The whole sweep, once (2 × 2 points × 2 seeds), shared by the tests below.
fn whole() -> &'static BTreeMap<String, Vec<u8>> {
    static WHOLE: std::sync::OnceLock<BTreeMap<String, Vec<u8>>> = std::sync::OnceLock::new();
    WHOLE.get_or_init(|| {
        let d = tmp("whole");
        ok(&sweep(&d, &["--jobs", "1"], &[]));
        let f = files(&d);
        let _ = std::fs::remove_dir_all(&d);
        f
    })
}

#[test]
fn outputs_and_a_point_equals_run() {
    let f = whole();
    for name in ["plan.json", "sweep.csv", "sweep.json", "sweep.md", "sweep.html"] {
        assert!(f.contains_key(name), "{name} missing");
    }
    assert_eq!(f.keys().filter(|k| k.starts_with("runs/")).count(), 8);
    let csv = String::from_utf8(f["sweep.csv"].clone()).unwrap();
    assert!(csv.starts_with(
        "point,seed,/policies/internal/timeout,/services/payment/replicas,scope,name,metric,value\n0,1,200ms,1,run,run,window_s,"
    ));
    assert!(csv.contains("\n3,2,1s,3,workloads,buyers,latency_ms.p99,"));
    let json: serde_json::Value = serde_json::from_slice(&f["sweep.json"]).unwrap();
    assert_eq!(json["points"][3]["params"]["/policies/internal/timeout"], "1s");
    assert_eq!(json["points"][3]["figures"]["workloads"]["buyers"]["offered"]["n"], 2);
    let html = String::from_utf8(f["sweep.html"].clone()).unwrap();
    assert!(html.contains("<div class=\"scroll\">") && html.contains("<svg") && !html.contains("<script"));

    // Point 2 (timeout 1s, 1 payment replica), second seed (2) = `run` with those --sets.
    let d = tmp("run");
    let o = bin()
        .arg("run")
        .arg(SCENARIO)
        .args(SHORT)
        .args([
            "--set",
            "/policies/internal/timeout=1s",
            "--set",
            "/services/payment/replicas=1",
            "--seed",
            "2",
        ])
        .arg("--out")
        .arg(&d)
        .output()
        .unwrap();
    ok(&o);
    assert!(std::fs::read(d.join("summary.json")).unwrap() == f["runs/p0002-s0001.json"], "summary differs");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn jobs_do_not_change_a_byte() {
    let d = tmp("jobs2");
    ok(&sweep(&d, &["--jobs", "2"], &[]));
    assert_same(whole(), &files(&d));
    let _ = std::fs::remove_dir_all(&d);
}

/// One shard's environment variables.
type Env = Vec<(&'static str, &'static str)>;

#[test]
fn three_shards_merged_equal_the_whole() {
    let envs: [(&str, Vec<Env>, &[&str]); 3] = [
        ("k", vec![vec![]; 3], &[]),
        (
            "k8s",
            ["0", "1", "2"].iter().map(|i| vec![("JOB_COMPLETION_INDEX", *i)]).collect(),
            &["--shard", "auto", "--shards", "3"],
        ),
        (
            "slurm",
            ["4", "5", "6"]
                .iter()
                .map(|i| {
                    vec![
                        ("SLURM_ARRAY_TASK_ID", *i),
                        ("SLURM_ARRAY_TASK_MIN", "4"),
                        ("SLURM_ARRAY_TASK_COUNT", "3"),
                    ]
                })
                .collect(),
            &["--shard", "auto"],
        ),
    ];
    for (tag, per_shard, args) in envs {
        let mut dirs = Vec::new();
        for (k, env) in per_shard.iter().enumerate() {
            let d = tmp(&format!("{tag}-shard{k}"));
            let shard = format!("{k}/3");
            let a: Vec<&str> = if args.is_empty() { vec!["--shard", &shard] } else { args.to_vec() };
            ok(&sweep(&d, &a, env));
            // A shard writes its runs and the plan, no final file.
            assert!(!d.join("sweep.json").exists());
            dirs.push(d);
        }
        let out = tmp(&format!("{tag}-merged"));
        // Two shards are not the sweep: the missing runs are named.
        let o = bin().arg("merge").args(&dirs[..2]).arg("--out").arg(&out).output().unwrap();
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(
            stderr(&o).contains("runs/p0000-s0000.json") || stderr(&o).contains("seed"),
            "{}",
            stderr(&o)
        );
        assert!(!out.exists());
        let o = bin().arg("merge").args(&dirs).arg("--out").arg(&out).output().unwrap();
        ok(&o);
        assert_same(whole(), &files(&out));
        for d in dirs.iter().chain([&out]) {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}

#[test]
fn shard_auto_without_an_environment_is_refused() {
    let d = tmp("noenv");
    for (args, env) in [
        (vec!["--shard", "auto"], vec![]),
        (vec!["--shard", "auto"], vec![("JOB_COMPLETION_INDEX", "1")]),
        (vec!["--shard", "auto", "--shards", "2"], vec![("JOB_COMPLETION_INDEX", "2")]),
        (vec!["--shard", "auto"], vec![("SLURM_ARRAY_TASK_ID", "1")]),
        (vec!["--shard", "3/3"], vec![]),
    ] {
        let o = sweep(&d, &args, &env);
        assert_eq!(o.status.code(), Some(2), "{args:?} {env:?}: {}", stderr(&o));
        assert!(stderr(&o).contains("--shard"), "{}", stderr(&o));
        assert!(!d.exists());
    }
}

#[test]
fn resumes_without_recomputing() {
    let d = tmp("resume");
    ok(&sweep(&d, &[], &[]));
    let kept = d.join("runs/p0001-s0000.json");
    let gone = d.join("runs/p0002-s0001.json");
    let old_time = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000_000);
    std::fs::File::options().write(true).open(&kept).unwrap().set_modified(old_time).unwrap();
    std::fs::remove_file(&gone).unwrap();
    std::fs::remove_file(d.join("sweep.json")).unwrap();
    let o = sweep(&d, &[], &[]);
    ok(&o);
    assert!(stderr(&o).contains("1 runs simulated, 7 found done"), "{}", stderr(&o));
    // The file present was not written again.
    assert_eq!(std::fs::metadata(&kept).unwrap().modified().unwrap(), old_time);
    assert_same(whole(), &files(&d));
    // Another sweep into the same folder is refused.
    let mut c = bin();
    c.arg("sweep").arg(SCENARIO).args(["--param", "/policies/internal/timeout=300ms"]).arg("--out").arg(&d);
    let o = c.output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("another sweep"), "{}", stderr(&o));
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn bad_input_is_located_before_anything_runs() {
    let d = tmp("bad");
    for (param, named) in [
        ("/policies/nosuch/timeout=1s,2s", "/policies/nosuch"),
        ("/services/payment/replicas=one,two", "/services/payment/replicas"),
        ("/services/payment/replicas=5..1:1", "--param /services/payment/replicas=5..1:1"),
        ("/workload/0/name=1..3:1", "/workload/0/name"),
        ("/workload/0/name=a..c:1", "--param /workload/0/name=a..c:1"),
        ("/policies/internal/timeout=100ms..1s:0ms", "--param /policies/internal/timeout"),
        ("/seed=1,2", "--param /seed"),
    ] {
        let o =
            bin().arg("sweep").arg(SCENARIO).args(["--param", param]).arg("--out").arg(&d).output().unwrap();
        assert_eq!(o.status.code(), Some(2), "{param}: {}", stderr(&o));
        assert!(stderr(&o).contains(named), "{param}: {}", stderr(&o));
        assert!(!stderr(&o).contains("panicked"), "{param}: {}", stderr(&o));
        assert!(!d.exists(), "{param}: the folder was created");
    }
}

#[test]
fn shards_at_once_into_one_shared_folder_then_merged_in_place() {
    // As the Kubernetes Job and the Slurm array run them: every shard at the same time,
    // one folder, then `merge DIR --out DIR`.
    let d = tmp("shared");
    let children: Vec<_> = (0..3)
        .map(|k| {
            let mut c = bin();
            c.arg("sweep").arg(SCENARIO).args(PARAMS).args(["--seeds", "2"]).args(SHORT);
            c.args(["--shard", "auto", "--shards", "3", "--jobs", "1"]).arg("--out").arg(&d);
            c.env("JOB_COMPLETION_INDEX", k.to_string()).env("HOSTNAME", "pod");
            c.stderr(std::process::Stdio::piped()).spawn().unwrap()
        })
        .collect();
    for c in children {
        ok(&c.wait_with_output().unwrap());
    }
    ok(&bin().arg("merge").arg(&d).arg("--out").arg(&d).output().unwrap());
    assert_same(whole(), &files(&d));
    let _ = std::fs::remove_dir_all(&d);
}

/// Every example of `sweep --help`, then of `merge --help`, runs in one folder where the
/// shipped scenarios are at `scenarios/`, and prints the files it wrote.
#[test]
fn every_help_example_runs() {
    let cwd = tmp("help");
    std::fs::create_dir_all(&cwd).unwrap();
    std::os::unix::fs::symlink(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios"),
        cwd.join("scenarios"),
    )
    .unwrap();
    let mut ran = 0;
    for sub in ["sweep", "merge"] {
        let o = bin().args([sub, "--help"]).output().unwrap();
        let help = String::from_utf8_lossy(&o.stdout).into_owned();
        let examples: Vec<&str> = help
            .lines()
            .map(str::trim)
            .skip_while(|l| !l.starts_with("Example"))
            .filter(|l| l.starts_with("faultline "))
            .collect();
        assert!(!examples.is_empty(), "`{sub} --help` has no example:\n{help}");
        for ex in examples {
            let o = bin().args(ex.split_whitespace().skip(1)).current_dir(&cwd).output().unwrap();
            assert!(o.status.success(), "`{ex}` failed: {}", stderr(&o));
            ran += 1;
        }
    }
    assert_eq!(ran, 4);
    assert!(cwd.join("sweep/sweep.html").is_file() && cwd.join("merged/sweep.json").is_file());
    let _ = std::fs::remove_dir_all(&cwd);
}

#[test]
fn a_variant_applies_at_every_point_as_run_applies_it() {
    let d = tmp("variant");
    let mut c = bin();
    c.arg("sweep").arg(SCENARIO).args([
        "--variant",
        "short-timeout",
        "--param",
        "/services/payment/replicas=2",
    ]);
    c.args(["--seeds", "1"]).args(SHORT).arg("--out").arg(&d);
    ok(&c.output().unwrap());
    let r = tmp("variant-run");
    let mut c = bin();
    c.arg("run").arg(SCENARIO).args(["--variant", "short-timeout", "--set", "/services/payment/replicas=2"]);
    c.args(SHORT).arg("--out").arg(&r);
    ok(&c.output().unwrap());
    assert!(
        std::fs::read(r.join("summary.json")).unwrap()
            == std::fs::read(d.join("runs/p0000-s0000.json")).unwrap()
    );
    let _ = std::fs::remove_dir_all(&d);
    let _ = std::fs::remove_dir_all(&r);
}

#[test]
fn a_failed_run_names_its_point_and_replay_and_keeps_the_others() {
    let d = tmp("fail");
    let mut c = bin();
    c.arg("sweep").arg(SCENARIO).args(["--param", "/limits/max_events=1000000,50", "--seeds", "2"]);
    c.args(SHORT).arg("--out").arg(&d);
    let o = c.output().unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(e.contains("point 1, seed 1") && e.contains("replay: faultline run"), "{e}");
    assert!(e.contains("--set '/limits/max_events=50'"), "{e}");
    assert!(d.join("runs/p0000-s0000.json").is_file() && d.join("runs/p0000-s0001.json").is_file());
    assert!(!d.join("sweep.json").exists());
    let _ = std::fs::remove_dir_all(&d);
}
