//! `--format json`: one object, documented in docs/lint.md (its shape is a contract):
//!
//! ```text
//! {"file", "deny", "fails",
//!  "summary": {"errors", "warnings", "allowed"},
//!  "findings": [FINDING...], "allowed": [FINDING...]}
//! FINDING = {"rule", "severity", "path", "line", "column", "message", "notes": [..],
//!            "why", "help", "guidance", "related": [{"path", "line", "column", "message"}],
//!            "facts": {...}}
//! ```

use serde_json::{Value, json};

use super::{Located, Report, Severity};

pub fn render(r: &Report, deny: Severity, fails: bool) -> String {
    let v = json!({
        "file": r.file,
        "deny": deny.name(),
        "fails": fails,
        "summary": {
            "errors": r.count(Severity::Error),
            "warnings": r.count(Severity::Warning),
            "allowed": r.allowed.len(),
        },
        "findings": r.findings.iter().map(finding).collect::<Vec<_>>(),
        "allowed": r.allowed.iter().map(finding).collect::<Vec<_>>(),
    });
    serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
}

fn finding(l: &Located) -> Value {
    let f = &l.finding;
    json!({
        "rule": f.rule.id,
        "severity": f.rule.severity.name(),
        "path": f.path,
        "line": l.place.line,
        "column": l.place.column,
        "message": f.message,
        "notes": f.notes,
        "why": f.rule.why,
        "help": f.rule.help,
        "guidance": f.rule.guidance,
        "related": f.related.iter().zip(&l.related).map(|(r, p)| json!({
            "path": r.path,
            "line": p.line,
            "column": p.column,
            "message": r.message,
        })).collect::<Vec<_>>(),
        "facts": f.facts,
    })
}
