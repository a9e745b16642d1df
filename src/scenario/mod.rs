//! The scenario file: parse, apply overrides, validate, resolve names to ids.
//!
//! The pipeline reads raw, then resolves (as ripgrep's `LowArgs` → `HiArgs`):
//!
//! 1. text → `serde_json::Value` (a syntax error carries serde_json's line and column);
//! 2. the chosen variant's overrides, then each `--set`, then `--seed`, applied as JSON
//!    Pointers (RFC 6901) on the value;
//! 3. every unknown key is found at once by walking the value along the JSON Schema
//!    derived from the raw types (`shape`), and removed; then value →
//!    [`raw::RawScenario`], plain serde types that mirror the format one to one (through
//!    `serde_path_to_error`, so the error has its path); a value of the wrong type in an
//!    optional member is recorded and set aside, and serde tries again;
//! 4. raw → [`Spec`] in one pass that collects every problem with its JSON path;
//! 5. each problem is located in the original text by its pointer (`locate`); a problem
//!    in a value that an override put there points at the override and says so.
//!
//! The format itself is documented in `scenario-format.md`; this module adds three
//! top-level extensions, `interval`, `limits` and `thresholds` (parsed in
//! `thresholds.rs`).

pub mod duration;
pub mod locate;
pub mod pointer;
pub mod raw;
pub mod resolve;
pub mod shape;
pub mod thresholds;

#[cfg(test)]
mod tests;

use std::fmt;
use std::path::Path;

use serde_json::Value;

use crate::spec::{Nanos, Spec};
use resolve::RawProblem;

/// How to load a scenario: which variant, which command-line overrides, which seed.
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    /// The variant (a key of `variants`) whose overrides apply, if any.
    pub variant: Option<String>,
    /// `--set` overrides, each `PTR=VALUE` as typed on the command line; applied after
    /// the variant's, in order.
    pub sets: Vec<String>,
    /// Replaces `/seed` when given.
    pub seed: Option<u64>,
}

/// One thing wrong with a scenario.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// JSON pointer of the offending value; `""` for the whole file.
    pub path: String,
    /// 1-based line in the file, when the problem can be placed there.
    pub line: Option<usize>,
    /// 1-based column (in characters), with `line`.
    pub column: Option<usize>,
    pub message: String,
}

/// Everything wrong with a scenario file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    pub file: String,
    pub problems: Vec<Problem>,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            match (p.line, p.column) {
                (Some(l), Some(c)) => write!(f, "{}:{l}:{c}: ", self.file)?,
                (Some(l), None) => write!(f, "{}:{l}: ", self.file)?,
                _ => write!(f, "{}: ", self.file)?,
            }
            if !p.path.is_empty() {
                write!(f, "{}: ", p.path)?;
            }
            write!(f, "{}", p.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for ScenarioError {}

impl ScenarioError {
    fn single(file: &str, path: &str, message: String) -> ScenarioError {
        ScenarioError {
            file: file.to_string(),
            problems: vec![Problem { path: path.to_string(), line: None, column: None, message }],
        }
    }
}

/// Parses a duration string such as `"1.5ms"` into nanoseconds.
pub fn parse_duration(s: &str) -> Result<Nanos, String> {
    duration::parse_duration(s)
}

/// Reads and loads a scenario file. An unreadable file is a `ScenarioError` too.
pub fn load_file(path: &Path, opts: &LoadOptions) -> Result<Spec, ScenarioError> {
    let label = path.display().to_string();
    let bytes = std::fs::read(path)
        .map_err(|e| ScenarioError::single(&label, "", format!("cannot read the scenario file: {e}")))?;
    let text = text_of(bytes, &label)?;
    load_str(&text, &label, opts)
}

/// The file's bytes as text; bytes that are not UTF-8 are a problem placed at the first
/// of them.
pub fn text_of(bytes: Vec<u8>, file_label: &str) -> Result<String, ScenarioError> {
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let valid = String::from_utf8_lossy(&e.as_bytes()[..at]).into_owned();
        let (line, column) = locate::line_col(&valid, at);
        ScenarioError {
            file: file_label.to_string(),
            problems: vec![Problem {
                path: String::new(),
                line: Some(line),
                column: Some(column),
                message: format!(
                    "the file is not UTF-8 text: byte 0x{:02x} cannot start or continue a character (save the file as UTF-8)",
                    e.as_bytes()[at]
                ),
            }],
        }
    })
}

/// Loads a scenario from its text; `file_label` names it in messages (and, without a
/// `name` key, names the scenario: its file stem).
pub fn load_str(text: &str, file_label: &str, opts: &LoadOptions) -> Result<Spec, ScenarioError> {
    let doc = parse_text(text, file_label)?;
    let mut value = doc;
    let applied = match apply_overrides(&mut value, opts) {
        Ok(a) => a,
        Err(problems) => return Err(locate_all(text, file_label, &[], problems)),
    };
    let mut problems: Vec<RawProblem> = locate::duplicates(text)
        .iter()
        .map(|(ptr, _)| RawProblem {
            path: ptr.clone(),
            message: format!(
                "duplicate key `{}`: JSON keeps only the last one, so the earlier value would be silently lost",
                pointer::parse(ptr).ok().and_then(|t| t.last().cloned()).unwrap_or_default()
            ),
            at_key: true,
            cli: false,
        })
        .collect();
    // Every unknown key at once; they are removed so that the rest can be checked.
    shape::take_unknown_keys(&mut value, &mut problems);
    // serde stops at its first problem: record it, set the offending value aside when it
    // is an optional member (as if it were not given), and go on, up to a bound.
    let mut set_aside: Vec<Vec<String>> = Vec::new();
    let raw: raw::RawScenario = loop {
        match serde_path_to_error::deserialize(&value) {
            Ok(r) => break r,
            Err(e) => {
                let p = serde_problem(&e, &value);
                let tokens = pointer::parse(&p.path).unwrap_or_default();
                let known = problems.iter().any(|q| q.path == p.path);
                let removable = set_aside.len() < MAX_TYPE_PROBLEMS
                    && !known
                    && shape::is_optional_member(&value, &tokens);
                if !known {
                    problems.push(p);
                }
                if !removable || pointer::apply(&mut value, &pointer::join(&tokens), Value::Null).is_err() {
                    return Err(locate_all(text, file_label, &applied, problems));
                }
                set_aside.push(tokens);
            }
        }
    };
    let default_name =
        Path::new(file_label).file_stem().and_then(|s| s.to_str()).unwrap_or("scenario").to_string();
    match resolve::resolve(&raw, &default_name, opts.variant.as_deref()) {
        Ok(spec) if problems.is_empty() => Ok(spec),
        Ok(_) => Err(locate_all(text, file_label, &applied, problems)),
        Err(more) => {
            // A value set aside may make its neighbours look wrong (a breaker whose
            // `consecutive_failures` was set aside now reads as the window style):
            // leave out what the resolver says about its object and its siblings.
            problems.extend(more.into_iter().filter(|q| {
                let t = pointer::parse(&q.path).unwrap_or_default();
                !set_aside.iter().any(|a| {
                    let parent = &a[..a.len().saturating_sub(1)];
                    t.starts_with(a) || t == parent || (t.len() == a.len() && t.starts_with(parent))
                })
            }));
            Err(locate_all(text, file_label, &applied, problems))
        }
    }
}

/// Most values of the wrong type set aside in one load (each costs one more pass of
/// serde over the document).
const MAX_TYPE_PROBLEMS: usize = 50;

/// The variant names of a scenario, in file order.
pub fn variant_names(text: &str, file_label: &str) -> Result<Vec<String>, ScenarioError> {
    let doc = parse_text(text, file_label)?;
    match doc.get("variants") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Object(m)) => Ok(m.keys().cloned().collect()),
        Some(other) => {
            let p = RawProblem {
                path: "/variants".to_string(),
                message: format!("expected an object of named variants, found {}", describe(other)),
                at_key: false,
                cli: false,
            };
            Err(locate_all(text, file_label, &[], vec![p]))
        }
    }
}

/// Validates the base scenario and every variant; `Ok(variant names)` or all problems
/// found (each variant's own problems prefixed "in variant NAME: "; problems the base
/// already has are not repeated).
pub fn check_str(text: &str, file_label: &str) -> Result<Vec<String>, ScenarioError> {
    let names = variant_names(text, file_label)?;
    let mut problems = match load_str(text, file_label, &LoadOptions::default()) {
        Ok(_) => Vec::new(),
        Err(e) => e.problems,
    };
    let base = problems.clone();
    for name in &names {
        let opts = LoadOptions { variant: Some(name.clone()), ..LoadOptions::default() };
        if let Err(e) = load_str(text, file_label, &opts) {
            for mut p in e.problems {
                if !base.contains(&p) {
                    let own = format!("variant `{name}`: ");
                    let rest = p.message.strip_prefix(&own).unwrap_or(&p.message);
                    p.message = format!("in variant {name}: {rest}");
                    problems.push(p);
                }
            }
        }
    }
    if problems.is_empty() {
        Ok(names)
    } else {
        Err(ScenarioError { file: file_label.to_string(), problems })
    }
}

/// The JSON Schema (draft-07) of the scenario format.
pub fn schema() -> Value {
    let mut v = schemars::generate::SchemaSettings::draft07()
        .into_generator()
        .into_root_schema_for::<raw::RawScenario>()
        .to_value();
    // Put the meta keys first, where a reader of the file looks for them.
    if let Value::Object(m) = &mut v {
        let mut out = serde_json::Map::new();
        for k in ["$schema", "title", "description"] {
            if let Some(x) = m.shift_remove(k) {
                out.insert(k.to_string(), x);
            }
        }
        out.extend(std::mem::take(m));
        *m = out;
    }
    v
}

// ---------------------------------------------------------------------------------------

fn parse_text(text: &str, file_label: &str) -> Result<Value, ScenarioError> {
    serde_json::from_str::<Value>(text).map_err(|e| {
        // Our own scanner explains the error at its character, with its container.
        if let Some(se) = locate::syntax_error(text) {
            let (line, column) = locate::line_col(text, se.offset);
            return ScenarioError {
                file: file_label.to_string(),
                problems: vec![Problem {
                    path: se.path,
                    line: Some(line),
                    column: Some(column),
                    message: format!("invalid JSON: {}", se.message),
                }],
            };
        }
        // What it does not check (a number too large for a double, ...): serde_json's
        // message, which ends with " at line L column C".
        let msg = e.to_string();
        let (line, column) =
            if e.line() > 0 { (Some(e.line()), Some(e.column().max(1))) } else { (None, None) };
        ScenarioError {
            file: file_label.to_string(),
            problems: vec![Problem {
                path: String::new(),
                line,
                column,
                message: format!("invalid JSON: {msg}"),
            }],
        }
    })
}

fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".to_string(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) => format!("the string \"{s}\""),
        Value::Array(_) => "an array".to_string(),
        Value::Object(_) => "an object".to_string(),
    }
}

/// Where an override came from.
#[derive(Clone, Debug)]
enum Source {
    Variant(String),
    Set(String),
    Seed,
}

#[derive(Clone, Debug)]
struct Applied {
    tokens: Vec<String>,
    pointer: String,
    source: Source,
}

fn apply_overrides(value: &mut Value, opts: &LoadOptions) -> Result<Vec<Applied>, Vec<RawProblem>> {
    let mut applied = Vec::new();
    let mut problems = Vec::new();
    if let Some(name) = &opts.variant {
        let variants = value.get("variants").cloned();
        let known: Vec<String> = match &variants {
            Some(Value::Object(m)) => m.keys().cloned().collect(),
            _ => Vec::new(),
        };
        let vpath = if variants.is_some() { "/variants" } else { "" };
        match variants.as_ref().and_then(|v| v.get(name)) {
            None => {
                let hint = resolve::suggest(name, known.iter().map(String::as_str));
                let msg = if known.is_empty() {
                    format!("unknown variant `{name}`: the scenario defines no variants")
                } else {
                    format!("unknown variant `{name}`{hint}; the scenario defines: {}", known.join(", "))
                };
                problems.push(RawProblem {
                    path: vpath.to_string(),
                    message: msg,
                    at_key: false,
                    cli: false,
                });
            }
            Some(Value::Object(overrides)) => {
                for (ptr, new) in overrides {
                    let key_path = format!("/variants/{}/{}", pointer::escape(name), pointer::escape(ptr));
                    match pointer::apply_creating(value, ptr, new.clone(), &shape::member_is_object) {
                        Ok(()) => applied.push(Applied {
                            tokens: pointer::parse(ptr).unwrap_or_default(),
                            pointer: ptr.clone(),
                            source: Source::Variant(name.clone()),
                        }),
                        Err(e) => problems.push(RawProblem {
                            path: key_path,
                            message: format!("variant `{name}`: override `{ptr}`: {e}"),
                            at_key: true,
                            cli: false,
                        }),
                    }
                }
            }
            Some(other) => problems.push(RawProblem {
                path: format!("/variants/{}", pointer::escape(name)),
                message: format!("expected an object of JSON pointer overrides, found {}", describe(other)),
                at_key: false,
                cli: false,
            }),
        }
    }
    for set in &opts.sets {
        let Some((ptr, text)) = set.split_once('=') else {
            problems.push(RawProblem {
                path: String::new(),
                message: format!("--set expects POINTER=VALUE (e.g. /warmup=120s), found `{set}`"),
                at_key: false,
                cli: true,
            });
            continue;
        };
        let new = serde_json::from_str::<Value>(text).unwrap_or_else(|_| Value::String(text.to_string()));
        match pointer::apply_creating(value, ptr, new, &shape::member_is_object) {
            Ok(()) => applied.push(Applied {
                tokens: pointer::parse(ptr).unwrap_or_default(),
                pointer: ptr.to_string(),
                source: Source::Set(set.clone()),
            }),
            // Named by its pointer and placed at the part of it that the file has.
            Err(e) => problems.push(match pointer::parse(ptr) {
                Ok(_) if !ptr.is_empty() => RawProblem {
                    path: ptr.to_string(),
                    message: format!("--set {set}: {e}"),
                    at_key: false,
                    cli: false,
                },
                _ => RawProblem {
                    path: String::new(),
                    message: format!("--set {set}: {e}"),
                    at_key: false,
                    cli: true,
                },
            }),
        }
    }
    if let Some(seed) = opts.seed {
        match pointer::apply(value, "/seed", Value::from(seed)) {
            Ok(()) => applied.push(Applied {
                tokens: vec!["seed".to_string()],
                pointer: "/seed".to_string(),
                source: Source::Seed,
            }),
            Err(e) => problems.push(RawProblem {
                path: String::new(),
                message: format!("--seed: {e}"),
                at_key: false,
                cli: true,
            }),
        }
    }
    if problems.is_empty() { Ok(applied) } else { Err(problems) }
}

/// Turns a serde error (with its path) into a problem with a readable message.
fn serde_problem(e: &serde_path_to_error::Error<serde_json::Error>, value: &Value) -> RawProblem {
    use serde_path_to_error::Segment;
    let mut tokens: Vec<String> = Vec::new();
    for seg in e.path().iter() {
        match seg {
            Segment::Seq { index } => tokens.push(index.to_string()),
            Segment::Map { key } => tokens.push(key.clone()),
            Segment::Enum { variant } => tokens.push(variant.clone()),
            Segment::Unknown => {}
        }
    }
    // serde's derived structs also accept an array (fields by position), which turns an
    // array given for an object into confusing errors inside it: name the array instead.
    if let Some(n) = misplaced_array(value, &tokens) {
        let path = pointer::join(&tokens[..n]);
        return RawProblem {
            path,
            message: "expected an object, found an array".to_string(),
            at_key: false,
            cli: false,
        };
    }
    let inner = e.inner().to_string();
    let mut at_key = false;
    let backticked = |s: &str| -> Option<String> {
        let start = s.find('`')? + 1;
        let end = start + s[start..].find('`')?;
        Some(s[start..end].to_string())
    };
    let expected_list = |s: &str| -> Vec<String> {
        let Some(i) = s.find("expected ") else { return Vec::new() };
        let l = &s[i + "expected ".len()..];
        let l = l.strip_prefix("one of ").unwrap_or(l);
        l.replace(" or ", ", ")
            .split(", ")
            .map(|x| x.trim_matches('`').to_string())
            .filter(|x| !x.is_empty())
            .collect()
    };
    let message = if let Some(rest) = inner.strip_prefix("unknown field ") {
        let key = backticked(rest).unwrap_or_default();
        // The path may or may not already end at the key; make it end there, so the
        // location points at the key itself.
        if tokens.last() != Some(&key) {
            tokens.push(key.clone());
        }
        at_key = true;
        let allowed = expected_list(rest);
        if rest.contains("there are no fields") || allowed.is_empty() {
            format!("unknown key `{key}`: this object takes no keys")
        } else {
            let hint = resolve::suggest(&key, allowed.iter().map(String::as_str));
            format!("unknown key `{key}`{hint}; expected one of: {}", allowed.join(", "))
        }
    } else if let Some(rest) = inner.strip_prefix("unknown variant ") {
        let name = backticked(rest).unwrap_or_default();
        let allowed = expected_list(rest);
        let parent_is_tag = pointer::get(value, &tokens).is_some_and(|v| v.get(&name).is_some())
            && tokens.last() != Some(&name);
        let at_tag = tokens.last() == Some(&name)
            || pointer::get(value, &tokens)
                .and_then(|v| v.as_object())
                .is_some_and(|m| m.contains_key(&name));
        if parent_is_tag {
            tokens.push(name.clone());
        }
        at_key = at_tag;
        let hint = resolve::suggest(&name, allowed.iter().map(String::as_str));
        let what = if at_tag { "kind" } else { "value" };
        format!("unknown {what} `{name}`{hint}; expected one of: {}", allowed.join(", "))
    } else if let Some(rest) = inner.strip_prefix("missing field ") {
        // Named by the pointer of the missing key (placed at the object that lacks it).
        if let Some(key) = backticked(rest) {
            tokens.push(key);
        }
        format!("missing required key {}", rest.trim())
    } else if inner.starts_with("invalid type: unit variant, expected newtype variant") {
        // A string where an externally tagged object was wanted: `"poisson"`.
        let name = tokens.pop().unwrap_or_default();
        format!("expected an object such as {{\"{name}\": ...}}, found the string \"{name}\"")
    } else if inner.starts_with("invalid type: newtype variant, expected unit variant")
        || inner.starts_with("invalid type: map, expected unit variant")
    {
        let name = tokens.pop().unwrap_or_default();
        format!("expected the string \"{name}\", found an object")
    } else if inner.contains("expected map with a single key") {
        let keys: Vec<String> = pointer::get(value, &tokens)
            .and_then(|v| v.as_object())
            .map(|m| m.keys().map(|k| format!("`{k}`")).collect())
            .unwrap_or_default();
        format!(
            "expected an object with exactly one key naming its kind (such as {{\"constant\": ...}}), found {} keys{}{}",
            keys.len(),
            if keys.is_empty() { "" } else { ": " },
            keys.join(", ")
        )
    } else if let Some(rest) =
        inner.strip_prefix("invalid type: ").or_else(|| inner.strip_prefix("invalid value: "))
    {
        match rest.split_once(", expected ") {
            Some((found, "struct RawShare")) => share_problem(found),
            Some((found, expected)) => {
                let hint = match found.strip_prefix("string \"").and_then(|f| f.strip_suffix("%\"")) {
                    Some(n) if expected == "f64" && n.trim().parse::<f64>().is_ok() => {
                        format!(" (write the number without `%`: {})", n.trim())
                    }
                    _ => String::new(),
                };
                format!("expected {}, found {}{hint}", expected_text(expected), found_text(found))
            }
            None => inner.clone(),
        }
    } else {
        inner.clone()
    };
    RawProblem { path: pointer::join(&tokens), message, at_key, cli: false }
}

/// A share given as a bare number or string: say how it is written, and what a small
/// fraction means (shares are percentages: 0.02 is 0.02 %, not 2 %).
fn share_problem(found: &str) -> String {
    let text = found_text(found);
    let number = found
        .strip_prefix("floating point ")
        .or_else(|| found.strip_prefix("integer "))
        .or_else(|| found.strip_prefix("string \"").and_then(|f| f.strip_suffix("%\"")))
        .map(|n| n.trim_matches('`').trim().to_string())
        .filter(|n| n.parse::<f64>().is_ok_and(f64::is_finite));
    match number {
        Some(n) => {
            let v: f64 = n.parse().unwrap_or(0.0);
            let fraction = if v > 0.0 && v < 1.0 {
                // 0.07 × 100 is 7.000000000000001 in floats: round to nine decimals.
                let pct = (v * 100.0 * 1e9).round() / 1e9;
                format!(
                    "; shares are percentages, so {{\"percent\": {n}}} means {n} %; if you meant {pct} %, write {{\"percent\": {pct}}}"
                )
            } else {
                String::new()
            };
            format!("expected a share as an object such as {{\"percent\": {n}}}, found {text}{fraction}")
        }
        None => format!("expected a share as an object such as {{\"percent\": 5}} (0 to 100), found {text}"),
    }
}

/// The keys whose values are arrays in the format; any other array on an error's path
/// stands where an object was expected. Returns the length of that array's path.
fn misplaced_array(value: &Value, tokens: &[String]) -> Option<usize> {
    const ARRAYS: [&str; 12] = [
        "workload",
        "faults",
        "steps",
        "parallel",
        "route",
        "links",
        "mixture",
        "schedule",
        "retry_on",
        "depends_on",
        "subscribers",
        "between",
    ];
    let mut cur = value;
    for depth in 0..=tokens.len() {
        if cur.is_array() {
            let key = depth.checked_sub(1).and_then(|i| tokens.get(i)).map(String::as_str);
            let in_between = depth >= 2 && tokens.get(depth - 2).is_some_and(|k| k == "between");
            if tokens.first().is_some_and(|k| k == "variants") {
                return None;
            }
            if !key.is_some_and(|k| ARRAYS.contains(&k)) && !in_between {
                return Some(depth);
            }
        }
        let Some(t) = tokens.get(depth) else { break };
        cur = match cur {
            Value::Object(m) => m.get(t)?,
            Value::Array(a) => a.get(t.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    None
}

/// serde's names of Rust types → the JSON words a scenario author knows.
fn expected_text(expected: &str) -> String {
    match expected {
        "u32" => "a whole number from 0 to 4294967295".to_string(),
        "u64" => "a whole number from 0 to 18446744073709551615".to_string(),
        "f64" => "a number".to_string(),
        "a sequence" => "an array".to_string(),
        "a map" | "map" => "an object".to_string(),
        e if e.starts_with("struct ") => "an object".to_string(),
        e => e.to_string(),
    }
}

/// serde's "integer `5`" → "the number 5", "string \"x\"" → "the string \"x\"".
fn found_text(found: &str) -> String {
    let unquote = |s: &str| s.trim_matches('`').to_string();
    if let Some(n) = found.strip_prefix("integer ").or_else(|| found.strip_prefix("floating point ")) {
        format!("the number {}", unquote(n))
    } else if let Some(s) = found.strip_prefix("string ") {
        format!("the string {s}")
    } else if let Some(b) = found.strip_prefix("boolean ") {
        format!("the boolean {}", unquote(b))
    } else if found == "map" {
        "an object".to_string()
    } else if found == "sequence" {
        "an array".to_string()
    } else if found == "unit value" {
        "null".to_string()
    } else {
        found.to_string()
    }
}

/// Places each problem in the text: at the override that set its value when one did,
/// else at its own value (or its nearest ancestor that the text has).
fn locate_all(text: &str, file_label: &str, applied: &[Applied], problems: Vec<RawProblem>) -> ScenarioError {
    // Where each problem is to be placed in the text, and the note on its message.
    let mut places: Vec<(String, String)> = Vec::with_capacity(problems.len());
    for p in &problems {
        let tokens = pointer::parse(&p.path).unwrap_or_default();
        let by = applied
            .iter()
            .rev()
            .find(|a| tokens.len() >= a.tokens.len() && tokens[..a.tokens.len()] == a.tokens[..]);
        let (text_ptr, note) = match by {
            Some(a) => {
                let rest = pointer::join(&tokens[a.tokens.len()..]);
                match &a.source {
                    Source::Variant(v) => (
                        format!("/variants/{}/{}{rest}", pointer::escape(v), pointer::escape(&a.pointer)),
                        format!(" (set by variant {v})"),
                    ),
                    Source::Set(s) => (p.path.clone(), format!(" (set by --set {s})")),
                    Source::Seed => (p.path.clone(), " (set by --seed)".to_string()),
                }
            }
            None => (p.path.clone(), String::new()),
        };
        places.push((text_ptr, note));
    }
    // One scan of the text for all of them, one sweep for their lines.
    let ptrs: Vec<&str> = places.iter().map(|(t, _)| t.as_str()).collect();
    let found = locate::find_all(text, &ptrs);
    let offsets: Vec<Option<usize>> = problems
        .iter()
        .zip(&found)
        .map(|(p, f)| match (p.cli, f) {
            (false, Some((span, exact))) => {
                Some(if p.at_key && *exact { span.key.unwrap_or(span.value) } else { span.value })
            }
            _ => None,
        })
        .collect();
    let known: Vec<usize> = offsets.iter().flatten().copied().collect();
    let mut lcs = locate::line_cols(text, &known).into_iter();
    let mut out = Vec::with_capacity(problems.len());
    for ((p, (_, note)), off) in problems.into_iter().zip(places).zip(offsets) {
        let (line, column) = match off.and_then(|_| lcs.next()) {
            Some((l, c)) => (Some(l), Some(c)),
            None => (None, None),
        };
        out.push(Problem { path: p.path, line, column, message: format!("{}{note}", p.message) });
    }
    // In the order of the file (stable: problems at one place keep the order found).
    out.sort_by_key(|p| (p.line.is_none(), p.line, p.column));
    ScenarioError { file: file_label.to_string(), problems: out }
}
