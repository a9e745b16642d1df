//! The output folder: [`write_out_dir`] is the one way anything is written to an
//! `--out` folder (the manifest [`MANIFEST`], cleaning exactly what it lists, refusing
//! foreign folders, symbolic links and the scenario file, creating every file with
//! `create_new`).

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
