//! The text format, in the shape of rustc's diagnostics:
//!
//! ```text
//! warning[no-timeout]: call from `api.get` to `backend.work` has no timeout and no deadline
//!   --> scenario.json:9:21
//!    |
//!  9 |       "get": {"steps": [{"call": "backend.work"}]}
//!    |                         ^
//!    |
//!    = note: the call has no policy: one attempt that waits as long as the callee takes
//!    = why: a call without a timeout waits as long as the callee takes: ...
//!    = help: give the call a policy with a `timeout` ...
//!    = help: for further information see docs/lint.md#no-timeout and https://...
//! ```

use super::{Located, Place, Report, Severity};

/// Widest source line shown; longer lines are shown around the column.
const MAX_LINE: usize = 110;
/// Related places shown under a finding.
const MAX_RELATED: usize = 4;

pub fn render(r: &Report, text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = String::new();
    for l in &r.findings {
        finding(&mut out, l, &r.file, &lines);
    }
    let (e, w) = (r.count(Severity::Error), r.count(Severity::Warning));
    let mut tally = match (e, w) {
        (0, 0) => "no findings".to_string(),
        (0, w) => plural(w, "warning"),
        (e, 0) => plural(e, "error"),
        (e, w) => format!("{} and {}", plural(e, "error"), plural(w, "warning")),
    };
    if !r.allowed.is_empty() {
        tally.push_str(&format!(" ({} silenced by `lint.allow`)", plural(r.allowed.len(), "finding")));
    }
    out.push_str(&format!("{}: {tally}\n", r.file));
    out
}

fn plural(n: usize, what: &str) -> String {
    if n == 1 { format!("1 {what}") } else { format!("{n} {what}s") }
}

fn finding(out: &mut String, l: &Located, file: &str, lines: &[&str]) {
    let f = &l.finding;
    let shown: Vec<&Place> =
        std::iter::once(&l.place).chain(l.related.iter().take(MAX_RELATED)).filter(|p| p.line > 0).collect();
    let gutter = shown.iter().map(|p| p.line.to_string().len()).max().unwrap_or(1);
    let pad = " ".repeat(gutter);
    out.push_str(&format!("{}[{}]: {}\n", f.rule.severity.name(), f.rule.id, f.message));
    out.push_str(&format!("{pad}--> {file}:{}:{}\n", l.place.line, l.place.column));
    snippet(out, &pad, lines, &l.place, '^', "");
    for (r, p) in f.related.iter().zip(&l.related).take(MAX_RELATED) {
        out.push_str(&format!("{pad}::: {file}:{}:{}\n", p.line, p.column));
        snippet(out, &pad, lines, p, '-', &r.message);
    }
    out.push_str(&format!("{pad} |\n"));
    for n in &f.notes {
        out.push_str(&format!("{pad} = note: {n}\n"));
    }
    out.push_str(&format!("{pad} = why: {}\n", f.rule.why));
    out.push_str(&format!("{pad} = help: {}\n", f.rule.help));
    out.push_str(&format!(
        "{pad} = help: for further information see docs/lint.md#{} and {}\n\n",
        f.rule.id, f.rule.guidance
    ));
}

/// The source line of a place with its mark under the column.
fn snippet(out: &mut String, pad: &str, lines: &[&str], p: &Place, mark: char, label: &str) {
    let Some(src) = p.line.checked_sub(1).and_then(|i| lines.get(i)) else { return };
    // A tab is one column: shown as one space, so the mark stays under its character.
    let chars: Vec<char> = src.chars().map(|c| if c == '\t' { ' ' } else { c }).collect();
    let col = p.column.saturating_sub(1).min(chars.len());
    // A long line is shown from a little before the column.
    let start = if chars.len() > MAX_LINE { col.saturating_sub(MAX_LINE / 3) } else { 0 };
    let end = (start + MAX_LINE).min(chars.len());
    let mut shown: String = chars[start..end].iter().collect();
    let mut at = col - start;
    if start > 0 {
        shown = format!("...{shown}");
        at += 3;
    }
    if end < chars.len() {
        shown.push_str("...");
    }
    let width = p.width.max(1).min(end.saturating_sub(col).max(1));
    let marks: String = std::iter::repeat_n(mark, width).collect();
    let label = if label.is_empty() { String::new() } else { format!(" {label}") };
    out.push_str(&format!("{pad} |\n"));
    out.push_str(&format!("{:>w$} | {}\n", p.line, shown.trim_end(), w = pad.len()));
    out.push_str(&format!("{pad} | {}{marks}{label}\n", " ".repeat(at)));
}
