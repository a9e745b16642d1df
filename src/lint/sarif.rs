//! `--format sarif`: SARIF 2.1.0 (OASIS), the format code-scanning tools read to show
//! findings on a pull request. One run; `tool.driver.rules` lists every rule (id,
//! descriptions, help, `helpUri`, default level); each result has its `ruleId`,
//! `level`, message and a physical location (`artifactLocation.uri` as given on the
//! command line, `region.startLine`/`startColumn` in Unicode code points), the JSON
//! pointer as a logical location, the related places, and a partial fingerprint that
//! stays put when lines move. Findings silenced by `lint.allow` are kept as results
//! with an `inSource` suppression, as SARIF intends.

use serde_json::{Value, json};

use super::{Located, Place, RULES, Report, Severity};

/// Where the schema of the output is published.
pub const SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

pub fn render(r: &Report) -> String {
    let uri = uri_of(&r.file);
    let rules: Vec<Value> = RULES
        .iter()
        .map(|rule| {
            json!({
                "id": rule.id,
                "name": camel(rule.id),
                "shortDescription": {"text": rule.summary},
                "fullDescription": {"text": rule.why},
                "help": {
                    "text": format!("{} (see docs/lint.md#{})", rule.help, rule.id),
                    "markdown": format!("{}\n\nSee [docs/lint.md#{}](docs/lint.md#{}) and [the guidance it follows]({}).", rule.help, rule.id, rule.id, rule.guidance),
                },
                "helpUri": rule.guidance,
                "defaultConfiguration": {"level": level(rule.severity)},
                "properties": {"tags": ["reliability", "architecture"]},
            })
        })
        .collect();
    let mut results: Vec<Value> = r.findings.iter().map(|l| result(l, &uri, false)).collect();
    results.extend(r.allowed.iter().map(|l| result(l, &uri, true)));
    let v = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "faultline",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    });
    serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Warning => "warning",
        Severity::Error => "error",
    }
}

fn physical(uri: &str, p: &Place) -> Value {
    if p.line == 0 {
        return json!({"artifactLocation": {"uri": uri}});
    }
    json!({
        "artifactLocation": {"uri": uri},
        "region": {"startLine": p.line, "startColumn": p.column},
    })
}

fn result(l: &Located, uri: &str, suppressed: bool) -> Value {
    let f = &l.finding;
    let index = RULES.iter().position(|r| r.id == f.rule.id).unwrap_or(0);
    let mut text = f.message.clone();
    for n in &f.notes {
        text.push_str(&format!("\n{n}"));
    }
    let related: Vec<Value> = f
        .related
        .iter()
        .zip(&l.related)
        .enumerate()
        .map(|(i, (r, p))| {
            json!({
                "id": i + 1,
                "physicalLocation": physical(uri, p),
                "logicalLocations": [{"fullyQualifiedName": r.path}],
                "message": {"text": r.message},
            })
        })
        .collect();
    let mut v = json!({
        "ruleId": f.rule.id,
        "ruleIndex": index,
        "level": level(f.rule.severity),
        "message": {"text": text},
        "locations": [{
            "physicalLocation": physical(uri, &l.place),
            "logicalLocations": [{"fullyQualifiedName": f.path}],
        }],
        "partialFingerprints": {"faultlineJsonPath/v1": format!("{}:{}", f.rule.id, f.path)},
        "properties": {"jsonPath": f.path, "facts": f.facts},
    });
    if !related.is_empty() {
        v["relatedLocations"] = Value::Array(related);
    }
    if suppressed {
        v["suppressions"] =
            json!([{"kind": "inSource", "justification": "the scenario's lint.allow names this rule"}]);
    }
    v
}

/// `no-circuit-breaker` → `NoCircuitBreaker` (SARIF's `name` is an identifier).
fn camel(id: &str) -> String {
    id.split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next().map(|f| f.to_uppercase().chain(c).collect::<String>()).unwrap_or_default()
        })
        .collect()
}

/// The file as a URI reference: `/` separators, anything outside RFC 3986's unreserved
/// characters (and `/`) percent-encoded.
fn uri_of(file: &str) -> String {
    let mut out = String::new();
    for b in file.replace('\\', "/").bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
