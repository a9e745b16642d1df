//! Output: the summary JSON (its contract is listed in README.md), the tidy time-series CSV, and
//! the readable table that `faultline run` prints.
//!
//! Everything here is a pure function of the spec and the run's figures, so the same
//! run gives the same bytes. Maps keep the scenario's order (serde_json's
//! `preserve_order`), never hash order. No wall-clock time appears in any output.

use crate::metrics::{LatencyHist, Outcomes, Series};
use crate::model::RunOutput;
use crate::spec::{Cause, Spec};
use serde_json::{Map, Value, json};
use std::fmt::Write as _;

/// Rounds to 3 decimals (a microsecond, for milliseconds), so output is stable and short.
fn r3(v: f64) -> f64 {
    (v * 1e3).round() / 1e3
}

fn r6(v: f64) -> f64 {
    (v * 1e6).round() / 1e6
}

fn latency_json(h: &LatencyHist) -> Value {
    if h.count() == 0 {
        return json!({});
    }
    let q = |p: f64| r3(h.quantile_ms(p).unwrap_or(0.0));
    json!({
        "mean": r3(h.mean_ms().unwrap_or(0.0)),
        "p50": q(0.5),
        "p90": q(0.9),
        "p99": q(0.99),
        "p999": q(0.999),
        "max": r3(h.max_ms().unwrap_or(0.0)),
    })
}

fn failed_json(o: &Outcomes) -> Value {
    let mut m = Map::new();
    for c in Cause::ALL {
        m.insert(c.name().to_string(), json!(o.failed[c as usize]));
    }
    Value::Object(m)
}

/// The summary JSON of one run.
pub fn summary_json(spec: &Spec, out: &RunOutput) -> Value {
    let window = out.window_s;
    let mut workloads = Map::new();
    for (w, f) in spec.workloads.iter().zip(&out.workloads) {
        workloads.insert(
            w.name.clone(),
            json!({
                "offered": f.offered,
                "ok": f.outcomes.ok,
                "degraded": f.outcomes.degraded,
                "failed": failed_json(&f.outcomes),
                "in_flight": f.in_flight,
                "goodput_rps": if window > 0.0 { r3(f.outcomes.ok as f64 / window) } else { 0.0 },
                "latency_ms": latency_json(&f.latency),
            }),
        );
    }
    let mut endpoints = Map::new();
    for (e, f) in spec.endpoints.iter().zip(&out.endpoints) {
        endpoints.insert(
            e.name.clone(),
            json!({
                "requests": f.requests,
                "ok": f.outcomes.ok,
                "failed": failed_json(&f.outcomes),
                "latency_ms": latency_json(&f.latency),
                "utilization": r6(f.utilization),
                "queue_max": f.queue_max,
                "abandoned": f.abandoned,
            }),
        );
    }
    let mut calls = Map::new();
    for (e, f) in spec.edges.iter().zip(&out.edges) {
        calls.insert(
            e.name.clone(),
            json!({
                "calls": f.calls,
                "attempts": f.attempts,
                "retries": f.retries,
                "hedges": f.hedges,
                "ok": f.outcomes.ok,
                "failed": failed_json(&f.outcomes),
                "latency_ms": latency_json(&f.latency),
                "breaker": {"opened": f.breaker_opened, "open_s": r3(f.breaker_open_s)},
            }),
        );
    }
    let mut services = Map::new();
    for (s, f) in spec.services.iter().zip(&out.services) {
        services.insert(
            s.name.clone(),
            json!({"replicas": s.replicas, "utilization": r6(f.utilization), "queue_max": f.queue_max}),
        );
    }
    let sagas = sagas_json(spec, out);
    let topics = topics_json(spec, out);
    json!({
        "scenario": spec.name,
        "variant": spec.variant,
        "seed": spec.seed,
        "window_s": r6(window),
        "events": out.events,
        "workloads": workloads,
        "endpoints": endpoints,
        "calls": calls,
        "services": services,
        "sagas": sagas,
        "topics": topics,
    })
}

/// The saga outcomes that a saga's figures keep latencies for, in the order of their
/// `latency_by_outcome`.
const SAGA_OUTCOMES: [&str; 4] = ["completed", "compensated", "compensation_failed", "abandoned"];

/// Per saga, in the scenario's order: the contract's keys first (`started` …
/// `latency_ms`), then `duplicate_effects` and `latency_ms_by_outcome`. A saga the run
/// has no figures for (the figures do not match the spec) reads as zeros.
fn sagas_json(spec: &Spec, out: &RunOutput) -> Value {
    let mut m = Map::new();
    let zero = Default::default();
    let matched = out.sagas.len() == spec.sagas.len();
    for (i, s) in spec.sagas.iter().enumerate() {
        let f = if matched { &out.sagas[i] } else { &zero };
        let mut by_outcome = Map::new();
        for (k, name) in SAGA_OUTCOMES.iter().enumerate() {
            by_outcome.insert(name.to_string(), latency_json(&f.latency_by_outcome[k]));
        }
        m.insert(
            s.name.clone(),
            json!({
                "started": f.started,
                "completed": f.completed,
                "compensated": f.compensated,
                "compensation_failed": f.compensation_failed,
                "abandoned": f.abandoned,
                "in_flight": f.in_flight,
                "orphaned": f.orphaned,
                "latency_ms": latency_json(&f.latency),
                "duplicate_effects": f.duplicate_effects,
                "latency_ms_by_outcome": by_outcome,
            }),
        );
    }
    Value::Object(m)
}

/// Per topic, in the scenario's order, its groups in theirs: the contract's keys first
/// (`delivered` … `latency_ms`), then `inconsistent`, `dropped` and `in_flight`.
fn topics_json(spec: &Spec, out: &RunOutput) -> Value {
    let mut m = Map::new();
    let zero_topic = Default::default();
    let zero_group = Default::default();
    let matched = out.topics.len() == spec.topics.len();
    for (i, t) in spec.topics.iter().enumerate() {
        let tf = if matched { &out.topics[i] } else { &zero_topic };
        let groups_matched = tf.groups.len() == t.groups.len();
        let mut groups = Map::new();
        for (k, g) in t.groups.iter().enumerate() {
            let f = if groups_matched { &tf.groups[k] } else { &zero_group };
            groups.insert(
                g.name.clone(),
                json!({
                    "delivered": f.delivered,
                    "redelivered": f.redelivered,
                    "duplicates": f.duplicates,
                    "dead_lettered": f.dead_lettered,
                    "max_lag": f.max_lag,
                    "latency_ms": latency_json(&f.latency),
                    "inconsistent": f.inconsistent,
                    "dropped": f.dropped,
                    "in_flight": f.in_flight,
                }),
            );
        }
        m.insert(
            t.name.clone(),
            json!({"published": tf.published, "publish_failed": tf.publish_failed, "groups": groups}),
        );
    }
    Value::Object(m)
}

/// A number as the CSV writes it: integers without a fraction, others to 6 decimals.
fn num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 { format!("{}", v as i64) } else { format!("{}", r6(v)) }
}

/// The tidy time series: `time_s,scope,name,metric,value`, one row per interval and
/// series; `time_s` is the end of the interval. Points with nothing to measure (a
/// percentile of an interval with no completions) are left out.
pub fn timeseries_csv(series: &Series) -> String {
    let mut s = String::with_capacity(64 * series.ends.len() * series.columns.len().max(1));
    s.push_str("time_s,scope,name,metric,value\n");
    for (i, end) in series.ends.iter().enumerate() {
        let t = num(*end as f64 / 1e9);
        for c in &series.columns {
            let v = c.values[i];
            if v.is_nan() {
                continue;
            }
            let _ = writeln!(s, "{t},{},{},{},{}", c.scope.name(), csv_field(&c.name), c.metric, num(v));
        }
    }
    s
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() }
}

/// A text table: the first column left-aligned, the others right-aligned.
pub fn text_table<S: AsRef<str>>(header: &[S], rows: &[Vec<String>]) -> String {
    let n = header.len();
    let mut w: Vec<usize> = header.iter().map(|h| h.as_ref().chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate().take(n) {
            w[i] = w[i].max(c.chars().count());
        }
    }
    let mut s = String::new();
    let head: Vec<&str> = header.iter().map(|h| h.as_ref()).collect();
    for r in std::iter::once(head).chain(rows.iter().map(|r| r.iter().map(|c| c.as_str()).collect())) {
        for (i, c) in r.iter().enumerate() {
            let pad = " ".repeat(w[i] - c.chars().count());
            if i == 0 {
                let _ = write!(s, "{c}{pad}");
            } else {
                let _ = write!(s, "  {pad}{c}");
            }
        }
        s.push('\n');
    }
    s
}

fn ms(v: Option<f64>) -> String {
    match v {
        Some(v) if v >= 100.0 => format!("{v:.0}"),
        Some(v) if v >= 10.0 => format!("{v:.1}"),
        Some(v) => format!("{v:.2}"),
        None => "-".into(),
    }
}

fn pct(n: u64, d: u64) -> String {
    if d == 0 { "-".into() } else { format!("{:.2}%", 100.0 * n as f64 / d as f64) }
}

fn failures(o: &Outcomes) -> String {
    let parts: Vec<String> = Cause::ALL
        .iter()
        .filter(|c| o.failed[**c as usize] > 0)
        .map(|c| format!("{} {}", c.name(), o.failed[*c as usize]))
        .collect();
    if parts.is_empty() { "-".into() } else { parts.join(", ") }
}

/// The readable summary printed by `faultline run`.
pub fn summary_table(spec: &Spec, out: &RunOutput) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{}{} · seed {} · {:.1} s measured after {:.1} s warm-up · {} events",
        spec.name,
        spec.variant.as_ref().map(|v| format!(" [{v}]")).unwrap_or_default(),
        spec.seed,
        out.window_s,
        spec.warmup_ns as f64 / 1e9,
        out.events
    );
    s.push('\n');
    let rows: Vec<Vec<String>> = spec
        .workloads
        .iter()
        .zip(&out.workloads)
        .map(|(w, f)| {
            vec![
                w.name.clone(),
                f.offered.to_string(),
                pct(f.outcomes.ok, f.offered),
                format!("{:.1}", f.outcomes.ok as f64 / out.window_s.max(1e-9)),
                ms(f.latency.mean_ms()),
                ms(f.latency.quantile_ms(0.5)),
                ms(f.latency.quantile_ms(0.99)),
                ms(f.latency.quantile_ms(0.999)),
                ms(f.latency.max_ms()),
                failures(&f.outcomes),
            ]
        })
        .collect();
    s.push_str(&text_table(
        &["workload", "offered", "ok", "goodput/s", "mean ms", "p50", "p99", "p99.9", "max", "failed"],
        &rows,
    ));
    s.push('\n');
    let rows: Vec<Vec<String>> = spec
        .endpoints
        .iter()
        .zip(&out.endpoints)
        .map(|(e, f)| {
            vec![
                e.name.clone(),
                f.requests.to_string(),
                pct(f.outcomes.ok, f.requests),
                format!("{:.1}%", 100.0 * f.utilization),
                f.queue_max.to_string(),
                ms(f.latency.quantile_ms(0.5)),
                ms(f.latency.quantile_ms(0.99)),
                f.abandoned.to_string(),
                failures(&f.outcomes),
            ]
        })
        .collect();
    s.push_str(&text_table(
        &["endpoint", "requests", "ok", "util", "queue max", "p50 ms", "p99", "abandoned", "failed"],
        &rows,
    ));
    let edges: Vec<Vec<String>> = spec
        .edges
        .iter()
        .zip(&out.edges)
        .filter(|(e, _)| e.caller.is_some())
        .map(|(e, f)| {
            vec![
                e.name.clone(),
                f.calls.to_string(),
                f.attempts.to_string(),
                pct(f.outcomes.ok, f.calls),
                ms(f.latency.quantile_ms(0.5)),
                ms(f.latency.quantile_ms(0.99)),
                failures(&f.outcomes),
            ]
        })
        .collect();
    if !edges.is_empty() {
        s.push('\n');
        s.push_str(&text_table(&["call", "calls", "attempts", "ok", "p50 ms", "p99", "failed"], &edges));
    }
    if !spec.sagas.is_empty() {
        s.push('\n');
        s.push_str(&text_table(
            &[
                "saga",
                "started",
                "completed",
                "compensated",
                "compensation failed",
                "abandoned",
                "in flight",
                "orphaned",
                "p99 ms",
            ],
            &saga_rows(spec, out),
        ));
    }
    if !spec.topics.is_empty() {
        s.push('\n');
        s.push_str(&text_table(
            &[
                "topic/group",
                "published",
                "delivered",
                "redelivered",
                "duplicates",
                "dead-lettered",
                "max lag",
                "p99 ms",
            ],
            &topic_rows(spec, out),
        ));
    }
    s
}

/// One row per saga: started, completed as a share of the sagas started, the other
/// outcomes as counts, and the p99 from start to outcome.
fn saga_rows(spec: &Spec, out: &RunOutput) -> Vec<Vec<String>> {
    let zero = Default::default();
    let matched = out.sagas.len() == spec.sagas.len();
    let mut rows = Vec::new();
    for (i, sg) in spec.sagas.iter().enumerate() {
        let f = if matched { &out.sagas[i] } else { &zero };
        rows.push(vec![
            sg.name.clone(),
            f.started.to_string(),
            pct(f.completed, f.started),
            f.compensated.to_string(),
            f.compensation_failed.to_string(),
            f.abandoned.to_string(),
            f.in_flight.to_string(),
            f.orphaned.to_string(),
            ms(f.latency.quantile_ms(0.99)),
        ]);
    }
    rows
}

/// One row per consumer group (`topic/group`), the topic's publishes repeated on each;
/// a topic without groups gets a row of its own.
fn topic_rows(spec: &Spec, out: &RunOutput) -> Vec<Vec<String>> {
    let zero_topic = Default::default();
    let zero_group = Default::default();
    let matched = out.topics.len() == spec.topics.len();
    let mut rows = Vec::new();
    for (i, t) in spec.topics.iter().enumerate() {
        let tf = if matched { &out.topics[i] } else { &zero_topic };
        let published = if tf.publish_failed > 0 {
            format!("{} ({} failed)", tf.published, tf.publish_failed)
        } else {
            tf.published.to_string()
        };
        if t.groups.is_empty() {
            let mut row = vec![t.name.clone(), published.clone()];
            row.resize(8, "-".to_string());
            rows.push(row);
        }
        let groups_matched = tf.groups.len() == t.groups.len();
        for (k, g) in t.groups.iter().enumerate() {
            let f = if groups_matched { &tf.groups[k] } else { &zero_group };
            rows.push(vec![
                format!("{}/{}", t.name, g.name),
                published.clone(),
                f.delivered.to_string(),
                f.redelivered.to_string(),
                f.duplicates.to_string(),
                f.dead_lettered.to_string(),
                f.max_lag.to_string(),
                ms(f.latency.quantile_ms(0.99)),
            ]);
        }
    }
    rows
}

// ---- the output folder ---------------------------------------------------------------

/// The manifest `--out` leaves in its folder: the names of the files faultline wrote
/// there, which the next `--out` into the same folder removes before it writes.
pub const MANIFEST: &str = ".faultline-out";

/// Why an output folder could not be written.
#[derive(Debug)]
pub enum OutError {
    /// The folder is not one faultline may write into (not empty and not written by
    /// faultline, a symbolic link, the scenario file among its targets, a broken
    /// manifest): the user must choose another folder. The message says how.
    Refused(String),
    /// The file system failed on this path.
    Io(std::path::PathBuf, std::io::Error),
}

impl std::fmt::Display for OutError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OutError::Refused(m) => write!(f, "{m}"),
            OutError::Io(p, e) => write!(f, "cannot write {}: {e}", p.display()),
        }
    }
}

impl std::error::Error for OutError {}

/// Whether `name` may be a file of an output folder: a plain file name, no separator,
/// not `.` or `..`, not the manifest.
fn plain_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && name != MANIFEST
        && !name.contains(['/', '\\', '\0', '\n', '\r'])
}

/// What [`inspect_out_dir`] found: the folder (normalised), whether it exists, and the
/// files its manifest lists.
struct OutDir {
    dir: std::path::PathBuf,
    exists: bool,
    previous: Vec<String>,
}

/// The checks of [`write_out_dir`] that need no file names: the folder is not a
/// symbolic link nor a file, and either does not exist, is empty, or holds a valid
/// manifest none of whose files is a folder or one of `protect`. Nothing is changed.
pub fn check_out_dir(dir: &std::path::Path, protect: &[&std::path::Path]) -> Result<(), OutError> {
    let d = inspect_out_dir(dir)?;
    check_names(&d, &[] as &[(String, &[u8])], protect)
}

fn inspect_out_dir(dir: &std::path::Path) -> Result<OutDir, OutError> {
    use std::io::ErrorKind;
    use std::path::PathBuf;
    // `out/` and `out/.` name the folder `out` itself: without the trailing slash,
    // `symlink_metadata` looks at a link rather than through it.
    let dir: PathBuf = dir.components().collect();
    if dir.as_os_str().is_empty() {
        return Err(OutError::Refused("--out needs a folder name".into()));
    }
    let shown = dir.display().to_string();
    let io = |p: &std::path::Path| {
        let p = p.to_path_buf();
        move |e| OutError::Io(p, e)
    };
    match std::fs::symlink_metadata(&dir) {
        Ok(m) if m.file_type().is_symlink() => {
            return Err(OutError::Refused(format!(
                "{shown} is a symbolic link; faultline never writes through one: give the folder it points \
                 to, or a new folder"
            )));
        }
        Ok(m) if !m.is_dir() => {
            return Err(OutError::Refused(format!("{shown} exists and is not a folder; choose a folder")));
        }
        Ok(_) => {}
        Err(e) if e.kind() == ErrorKind::NotFound => {
            return Ok(OutDir { dir, exists: false, previous: Vec::new() });
        }
        Err(e) => return Err(OutError::Io(dir.clone(), e)),
    }

    // What an earlier run wrote here, if anything.
    let manifest = dir.join(MANIFEST);
    let previous: Vec<String> = match std::fs::symlink_metadata(&manifest) {
        Ok(m) if m.is_file() => {
            let text = std::fs::read_to_string(&manifest).map_err(|e| {
                OutError::Refused(format!("{}: cannot read the manifest: {e}", manifest.display()))
            })?;
            let names: Vec<String> =
                text.lines().filter(|l| !l.is_empty() && !l.starts_with('#')).map(str::to_string).collect();
            if let Some(bad) = names.iter().find(|n| !plain_name(n)) {
                return Err(OutError::Refused(format!(
                    "{}: lists `{bad}`, which is not a file of this folder; the manifest was not written by \
                     faultline: remove it and the files it lists, or choose another folder",
                    manifest.display()
                )));
            }
            names
        }
        Ok(_) => {
            return Err(OutError::Refused(format!(
                "{} is not a regular file; remove it or choose another folder",
                manifest.display()
            )));
        }
        Err(e) if e.kind() == ErrorKind::NotFound => {
            let mut entries = std::fs::read_dir(&dir).map_err(io(&dir))?;
            if entries.next().is_some() {
                return Err(OutError::Refused(format!(
                    "{shown} is not empty and has no {MANIFEST} (faultline did not write it): choose a new or \
                     empty folder, or empty this one first"
                )));
            }
            Vec::new()
        }
        Err(e) => return Err(OutError::Io(manifest.clone(), e)),
    };

    Ok(OutDir { dir, exists: true, previous })
}

/// Refuses when a file to remove or write is one of `protect`, a listed file is a
/// folder, or a file to write exists and is not listed.
fn check_names<C: AsRef<[u8]>>(
    d: &OutDir,
    files: &[(String, C)],
    protect: &[&std::path::Path],
) -> Result<(), OutError> {
    let (dir, previous) = (&d.dir, &d.previous);
    for (i, (name, _)) in files.iter().enumerate() {
        if !plain_name(name) || files[..i].iter().any(|(n, _)| n == name) {
            return Err(OutError::Refused(format!(
                "internal error: `{name}` is not a plain, unique file name"
            )));
        }
    }
    if !d.exists {
        return Ok(());
    }
    let canon_dir = std::fs::canonicalize(dir).map_err(|e| OutError::Io(dir.clone(), e))?;
    let protected: Vec<std::path::PathBuf> =
        protect.iter().filter_map(|p| std::fs::canonicalize(p).ok()).collect();
    let new_names = files.iter().map(|(n, _)| n.as_str());
    for name in previous.iter().map(String::as_str).chain(new_names) {
        if protected.contains(&canon_dir.join(name)) {
            return Err(OutError::Refused(format!(
                "{} is the scenario file; faultline will not overwrite its input: choose another folder",
                dir.join(name).display()
            )));
        }
    }
    for name in previous {
        let p = dir.join(name);
        if std::fs::symlink_metadata(&p).is_ok_and(|m| m.is_dir()) {
            return Err(OutError::Refused(format!(
                "{} is listed in {MANIFEST} but is a folder; remove it or choose another folder",
                p.display()
            )));
        }
    }
    for (name, _) in files {
        let p = dir.join(name);
        if !previous.contains(name) && std::fs::symlink_metadata(&p).is_ok() {
            return Err(OutError::Refused(format!(
                "{} exists and faultline did not write it (it is not in {MANIFEST}); move it away or \
                 choose another folder",
                p.display()
            )));
        }
    }
    Ok(())
}

/// Writes `files` (`(name, contents)`, in order) into the folder `dir` under the rule of
/// `--out`, and returns the paths written (the manifest last):
///
/// - a folder that does not exist is created, an empty one is used;
/// - a folder holding a manifest ([`MANIFEST`]) is first cleaned of exactly the files
///   that manifest lists (a listed symbolic link is removed, never its target);
/// - anything else is refused: a folder that is not empty and has no manifest, a
///   folder that is itself a symbolic link, a file to write that exists and is not
///   listed, and any file to remove or write that is one of `protect` (the scenario).
///
/// Files are created with `create_new` (`O_CREAT | O_EXCL`), which never follows a
/// symbolic link: a link planted where a file is to be written makes the write fail
/// rather than overwrite the link's target. Every check is made before anything is
/// removed or written. The manifest is written before the files it lists, so that an
/// interrupted write leaves a folder the next run may still clean.
pub fn write_out_dir<C: AsRef<[u8]>>(
    dir: &std::path::Path,
    files: &[(String, C)],
    protect: &[&std::path::Path],
) -> Result<Vec<std::path::PathBuf>, OutError> {
    use std::io::ErrorKind;
    let d = inspect_out_dir(dir)?;
    check_names(&d, files, protect)?;
    let OutDir { dir, exists, previous } = d;
    let io = |p: &std::path::Path| {
        let p = p.to_path_buf();
        move |e| OutError::Io(p, e)
    };
    if !exists {
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    }
    let manifest = dir.join(MANIFEST);

    // Clean what the last run wrote: each listed name itself, a link and not its target.
    for name in &previous {
        let p = dir.join(name);
        match std::fs::remove_file(&p) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => return Err(OutError::Io(p, e)),
        }
    }
    let create = |p: &std::path::Path, bytes: &[u8]| -> Result<(), OutError> {
        use std::io::Write as _;
        let mut f = std::fs::OpenOptions::new().write(true).create_new(true).open(p).map_err(io(p))?;
        f.write_all(bytes).map_err(io(p))
    };
    let mut list = String::from(
        "# Written by faultline: the files below are removed by the next `--out` into this folder.\n",
    );
    for (name, _) in files {
        list.push_str(name);
        list.push('\n');
    }
    match std::fs::remove_file(&manifest) {
        Ok(()) => {}
        Err(e) if e.kind() == ErrorKind::NotFound => {}
        Err(e) => return Err(OutError::Io(manifest, e)),
    }
    create(&manifest, list.as_bytes())?;
    let mut written = Vec::with_capacity(files.len() + 1);
    for (name, bytes) in files {
        let p = dir.join(name);
        create(&p, bytes.as_ref())?;
        written.push(p);
    }
    written.push(manifest);
    Ok(written)
}
