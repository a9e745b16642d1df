//! A sweep's output folder:
//!
//! ```text
//! DIR/plan.json              what the sweep is (scenario hash, variant, sets, params, seeds)
//! DIR/runs/pPPPP-sSSSS.json  one run's summary JSON, point PPPP, seed number SSSS (0-based)
//! DIR/sweep.csv, sweep.json, sweep.md, sweep.html, sweep-*.svg   built from the runs
//! ```
//!
//! The rule: a new or empty folder becomes a sweep folder; a folder with a `plan.json`
//! equal to this sweep's is resumed (its runs are kept, the missing ones are run); a
//! folder with another plan, or anything else that is not empty, is refused (exit 2),
//! as is a symbolic link. Every file is written to a temporary name beside it and
//! renamed into place, so a run file that exists is complete, and shards may write
//! into one shared folder at once (each writes only its own runs; they write the same
//! plan).

use super::{Plan, run_file};
use crate::report::OutError;
use std::path::{Path, PathBuf};

/// The plan's file name.
pub const PLAN: &str = "plan.json";

fn io(p: &Path) -> impl Fn(std::io::Error) -> OutError + '_ {
    move |e| OutError::Io(p.to_path_buf(), e)
}

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), OutError> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    // Unique among the processes sharing the folder: pods of one Job may all be pid 1,
    // but their host names (the pods' names) differ.
    let host: String = std::env::var("HOSTNAME")
        .unwrap_or_default()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .take(64)
        .collect();
    let tmp = path.with_file_name(format!(
        ".tmp-{host}-{}-{}-{name}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&tmp, bytes).map_err(io(&tmp))?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        OutError::Io(path.to_path_buf(), e)
    })
}

/// Reads the plan of a sweep folder.
pub fn read_plan(dir: &Path) -> Result<Plan, OutError> {
    let p = dir.join(PLAN);
    let text = std::fs::read_to_string(&p).map_err(|e| {
        OutError::Refused(format!("{}: cannot read the plan of a sweep folder: {e}", p.display()))
    })?;
    serde_json::from_str(&text).map_err(|e| {
        OutError::Refused(format!("{}: not a plan written by faultline sweep: {e}", p.display()))
    })
}

/// Makes `dir` this sweep's folder (see the module's rule), writing the plan when it is
/// not there yet. `protect` (the scenario file) is never a file of the folder.
pub fn prepare(dir: &Path, plan: &Plan, protect: &[&Path]) -> Result<PathBuf, OutError> {
    let dir: PathBuf = dir.components().collect();
    if dir.as_os_str().is_empty() {
        return Err(OutError::Refused("--out needs a folder name".into()));
    }
    let shown = dir.display().to_string();
    match std::fs::symlink_metadata(&dir) {
        Ok(m) if m.file_type().is_symlink() => {
            return Err(OutError::Refused(format!(
                "{shown} is a symbolic link; faultline never writes through one: give the folder it points to"
            )));
        }
        Ok(m) if !m.is_dir() => {
            return Err(OutError::Refused(format!("{shown} exists and is not a folder; choose a folder")));
        }
        Ok(_) => {
            // Listed before the plan is looked for: a shard starting at the same moment
            // may write the plan between the two looks, and must not make this folder
            // look foreign (the plan is then compared like any other).
            let foreign = std::fs::read_dir(&dir)
                .map_err(io(&dir))?
                .any(|e| !e.is_ok_and(|e| in_progress(&e) || e.file_name() == PLAN));
            let plan_path = dir.join(PLAN);
            if plan_path.exists() {
                let found = read_plan(&dir)?;
                if &found != plan {
                    return Err(OutError::Refused(format!(
                        "{shown} holds another sweep (its {PLAN} differs: another scenario file, variant, --set, \
                         --param or --seeds); choose a new folder, or remove this one to start over"
                    )));
                }
            } else if foreign {
                return Err(OutError::Refused(format!(
                    "{shown} is not empty and holds no {PLAN} (it is not a sweep folder): choose a new or empty \
                     folder"
                )));
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        }
        Err(e) => return Err(OutError::Io(dir.clone(), e)),
    }
    if let Ok(canon) = std::fs::canonicalize(&dir) {
        for p in protect.iter().filter_map(|p| std::fs::canonicalize(p).ok()) {
            if p.starts_with(&canon) {
                return Err(OutError::Refused(format!(
                    "{} is inside {shown}; a sweep folder holds only what faultline writes: choose another folder",
                    p.display()
                )));
            }
        }
    }
    let plan_path = dir.join(PLAN);
    if !plan_path.exists()
        && let Err(e) = write_atomic(&plan_path, plan.to_text().as_bytes())
    {
        // Another shard starting at the same moment may have written it first.
        if read_plan(&dir).ok().as_ref() != Some(plan) {
            return Err(e);
        }
    }
    let runs = dir.join("runs");
    std::fs::create_dir_all(&runs).map_err(io(&runs))?;
    Ok(dir)
}

/// What another shard starting on the same folder may have put there before its plan:
/// `runs/` and temporary files.
fn in_progress(e: &std::fs::DirEntry) -> bool {
    let name = e.file_name();
    let name = name.to_string_lossy();
    name == "runs" || name.starts_with(".tmp-")
}

/// Whether the run of `(point, seed index)` is in `dir`.
pub fn has_run(dir: &Path, point: usize, seed_index: usize) -> bool {
    dir.join(run_file(point, seed_index)).is_file()
}

/// Stores one run's summary.
pub fn store_run(dir: &Path, point: usize, seed_index: usize, text: &str) -> Result<(), OutError> {
    write_atomic(&dir.join(run_file(point, seed_index)), text.as_bytes())
}

/// Reads one run's summary.
pub fn read_run(dir: &Path, point: usize, seed_index: usize) -> Result<String, String> {
    let p = dir.join(run_file(point, seed_index));
    std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()))
}

/// Writes the final files, each atomically.
pub fn write_files(dir: &Path, files: &[(String, String)]) -> Result<Vec<PathBuf>, OutError> {
    let mut written = Vec::new();
    for (name, text) in files {
        let p = dir.join(name);
        write_atomic(&p, text.as_bytes())?;
        written.push(p);
    }
    Ok(written)
}
