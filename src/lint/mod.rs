//! `faultline lint`: what in a design the microservices guides warn against, found on
//! the resolved scenario (`Spec`) before anything is simulated, each finding mapped back
//! to the JSON path (and line and column) it is about. The rules are listed in
//! `rules.rs` and documented in `docs/lint.md`; `cli.rs` is the command, `text.rs`,
//! `json.rs` and `sarif.rs` its three output formats.
//!
//! Rules by family: `structure.rs` (shared-database, dual-write, saga-no-compensation,
//! single-replica), `paths.rs` (sync-chain-depth, retry-amplification), `policies.rs`
//! (no-timeout, no-circuit-breaker, timeout-inversion, retry-without-backoff,
//! retry-without-budget), `chatty.rs` (chatty-endpoint); `graph.rs` is the call graph
//! they share and `budget.rs` the worst cases of a policy.

pub mod budget;
mod chatty;
pub mod cli;
pub mod graph;
mod json;
mod paths;
mod policies;
pub mod rules;
mod sarif;
mod structure;
mod text;

use serde_json::Value;

use crate::scenario::locate;
use crate::spec::Spec;
pub use rules::{RULES, Rule, Severity};

/// Something a rule found.
#[derive(Clone, Debug)]
pub struct Finding {
    pub rule: &'static Rule,
    /// JSON pointer of what the finding is about.
    pub path: String,
    /// One line, in the voice of a compiler: what is wrong, with names.
    pub message: String,
    /// The facts behind it (the path, the budget, the factor), one per line.
    pub notes: Vec<String>,
    /// Other places that take part (the caller, the database call).
    pub related: Vec<Related>,
    /// The same facts as data, for `--format json` (documented per rule in docs/lint.md).
    pub facts: Value,
}

#[derive(Clone, Debug)]
pub struct Related {
    pub path: String,
    pub message: String,
}

/// A place in the scenario file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Place {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// Characters to underline (the quoted key, or 1).
    pub width: usize,
}

/// A finding placed in the file, with its related places.
#[derive(Clone, Debug)]
pub struct Located {
    pub finding: Finding,
    pub place: Place,
    pub related: Vec<Place>,
}

/// Everything `lint` found in one file.
#[derive(Clone, Debug)]
pub struct Report {
    pub file: String,
    pub findings: Vec<Located>,
    /// Findings of rules the scenario's `lint.allow` silences.
    pub allowed: Vec<Located>,
}

impl Report {
    pub fn count(&self, s: Severity) -> usize {
        self.findings.iter().filter(|f| f.finding.rule.severity == s).count()
    }
}

/// Every rule's findings on a resolved scenario, in no particular order.
pub fn lint(spec: &Spec) -> Vec<Finding> {
    let g = graph::Graph::new(spec);
    let mut out = Vec::new();
    structure::shared_database(&g, &mut out);
    paths::sync_chain_depth(&g, &mut out);
    policies::no_circuit_breaker(&g, &mut out);
    policies::no_timeout(&g, &mut out);
    policies::timeout_inversion(&g, &mut out);
    paths::retry_amplification(&g, &mut out);
    policies::retry_policies(&g, &mut out);
    structure::saga_no_compensation(&g, &mut out);
    structure::dual_write(&g, &mut out);
    chatty::chatty_endpoint(&g, &mut out);
    structure::single_replica(&g, &mut out);
    for f in &mut out {
        let own = f.path.clone();
        f.related.retain(|r| r.path != own);
    }
    out
}

/// Lints a resolved scenario and places each finding in its text (the file `file`);
/// `allow` lists the rule ids the scenario silences. Findings are in file order.
pub fn report(spec: &Spec, text: &str, file: &str, allow: &[String]) -> Report {
    let findings = lint(spec);
    let mut ptrs: Vec<&str> = Vec::new();
    for f in &findings {
        ptrs.push(&f.path);
        ptrs.extend(f.related.iter().map(|r| r.path.as_str()));
    }
    let places = places(text, &ptrs);
    let mut it = places.into_iter();
    let mut located: Vec<Located> = findings
        .into_iter()
        .map(|f| {
            let place = it.next().unwrap_or_default();
            let related = f.related.iter().map(|_| it.next().unwrap_or_default()).collect();
            Located { finding: f, place, related }
        })
        .collect();
    let order = |r: &Rule| RULES.iter().position(|x| x.id == r.id).unwrap_or(0);
    located.sort_by(|a, b| {
        (a.place.line, a.place.column, order(a.finding.rule), &a.finding.message).cmp(&(
            b.place.line,
            b.place.column,
            order(b.finding.rule),
            &b.finding.message,
        ))
    });
    let (allowed, findings) = located.into_iter().partition(|l| allow.iter().any(|a| a == l.finding.rule.id));
    Report { file: file.to_string(), findings, allowed }
}

/// The `lint.allow` list of a scenario's text (already validated by the loader).
pub fn allowed_rules(text: &str) -> Vec<String> {
    let v: Value = serde_json::from_str(text).unwrap_or(Value::Null);
    v.pointer("/lint/allow")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
        .unwrap_or_default()
}

/// Where each pointer sits: at its key when it is an object member (or at its nearest
/// ancestor's, when the file leaves it to its default), else at its value.
fn places(text: &str, ptrs: &[&str]) -> Vec<Place> {
    let found = locate::find_all(text, ptrs);
    let offsets: Vec<usize> =
        found.iter().map(|f| f.map_or(0, |(span, _)| span.key.unwrap_or(span.value))).collect();
    let lcs = locate::line_cols(text, &offsets);
    offsets
        .iter()
        .zip(lcs)
        .map(|(&off, (line, column))| {
            let width = quoted_len(&text[off.min(text.len())..]).unwrap_or(1);
            Place { line, column, width }
        })
        .collect()
}

/// The length in characters of the JSON string at the start of `s`, quotes included.
fn quoted_len(s: &str) -> Option<usize> {
    let mut chars = s.chars();
    if chars.next()? != '"' {
        return None;
    }
    let mut n = 1;
    let mut escaped = false;
    for c in chars {
        n += 1;
        match c {
            '\\' if !escaped => escaped = true,
            '"' if !escaped => return Some(n),
            _ => escaped = false,
        }
    }
    None
}

/// A count that may pass 64 bits, as a JSON number.
pub fn big(n: u128) -> Value {
    match u64::try_from(n) {
        Ok(x) => Value::from(x),
        Err(_) => Value::from(n as f64),
    }
}
