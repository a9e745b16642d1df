//! The scenario's `thresholds`: each key resolved to a workload, a saga or a consumer
//! group, each expression parsed into a [`Threshold`].
//!
//! The grammar (documented in `docs/scenario-format.md`, Thresholds):
//!
//! ```text
//! expression = METRIC OP VALUE [ "during" PHASE ]
//! OP         = "<" | "<=" | ">" | ">="
//! VALUE      = NUMBER UNIT      (the unit the metric takes: a duration unit, "%", "/s", none)
//! NUMBER     = digits [ "." digits ]
//! PHASE      = "before" | "after" | a fault's name (the rest of the expression)
//! ```
//!
//! Whitespace around the operator is optional. Every problem is a message for the
//! expression's own JSON path (or its key's, for a scope that names nothing).

use super::duration::parse_duration;
use super::pointer::escape;
use super::raw::{AnyKeys, OrderedMap, RawExprs};
use super::resolve::{RawProblem, suggest};
use crate::spec::{
    Fault, Metric, MetricUnit, Op, Queue, Saga, ScopeKind, Threshold, ThresholdScope, Topic, Workload,
};
use serde_json::Value;

/// The example given in messages.
const EXAMPLE: &str = "\"p99 < 500ms\", \"success >= 99.5%\" or \"p99 < 2s during brownout\"";

/// Resolves the `thresholds` object against the resolved workloads, sagas, topics and
/// faults; returns the thresholds in file order and every problem found.
pub fn resolve(
    raw: Option<&OrderedMap<RawExprs, AnyKeys>>,
    workloads: &[Workload],
    sagas: &[Saga],
    topics: &[Topic],
    faults: &[Fault],
    queues: &[Queue],
) -> (Vec<Threshold>, Vec<RawProblem>) {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    let Some(map) = raw else { return (out, problems) };
    let phases: Vec<&str> =
        ["before", "after"].into_iter().chain(faults.iter().map(|f| f.name.as_str())).collect();
    for (key, exprs) in map.iter() {
        let path = format!("/thresholds/{}", escape(key));
        let scope = match scope_of(key, workloads, sagas, topics, queues) {
            Ok(s) => Some(s),
            Err(message) => {
                problems.push(RawProblem { path: path.clone(), message, at_key: true, cli: false });
                None
            }
        };
        let items = match &exprs.0 {
            Value::Array(items) => items.as_slice(),
            Value::String(s) => {
                problems.push(problem(
                    &path,
                    format!("expected an array of expressions, found the string \"{s}\" (write [\"{s}\"])"),
                ));
                continue;
            }
            other => {
                problems.push(problem(
                    &path,
                    format!(
                        "expected an array of expressions such as [{EXAMPLE}], found {}",
                        json_kind(other)
                    ),
                ));
                continue;
            }
        };
        for (i, item) in items.iter().enumerate() {
            let ipath = format!("{path}/{i}");
            let Value::String(text) = item else {
                problems.push(problem(
                    &ipath,
                    format!(
                        "expected an expression as a string, such as {EXAMPLE}, found {}",
                        json_kind(item)
                    ),
                ));
                continue;
            };
            // An unknown scope still has its expressions checked, by the kind its key
            // names.
            let kind = scope.map_or_else(|| kind_of_key(key), ThresholdScope::kind);
            match parse_expression(text, kind, &phases) {
                Ok(p) => {
                    let saga_workload = matches!(scope, Some(ThresholdScope::Workload(w))
                        if workloads.get(w as usize).is_some_and(|w| w.saga.is_some()));
                    if saga_workload && p.metric == Metric::RetriesPerRequest {
                        problems.push(problem(
                            &ipath,
                            format!(
                                "bad threshold \"{text}\": `{key}` starts sagas, and a saga's calls are its \
                                 orchestrator's, not the workload client's: retries_per_request has nothing to \
                                 count here"
                            ),
                        ));
                        continue;
                    }
                    if let Some(scope) = scope {
                        out.push(Threshold {
                            scope_name: key.clone(),
                            scope,
                            expression: text.trim().to_string(),
                            metric: p.metric,
                            op: p.op,
                            bound: p.bound,
                            phase: p.phase,
                        });
                    }
                }
                Err(e) => problems.push(problem(&ipath, format!("bad threshold \"{text}\": {e}"))),
            }
        }
    }
    (out, problems)
}

fn problem(path: &str, message: String) -> RawProblem {
    RawProblem { path: path.to_string(), message, at_key: false, cli: false }
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The kind of scope a key names by its form.
pub fn kind_of_key(key: &str) -> ScopeKind {
    if key.starts_with("saga:") {
        ScopeKind::Saga
    } else if key.starts_with("topic:") {
        ScopeKind::Group
    } else if key.starts_with("queue:") {
        ScopeKind::Queue
    } else {
        ScopeKind::Workload
    }
}

/// The scope a key names (also `tune`'s objectives and constraints, `p99(KEY)`).
pub fn scope_of(
    key: &str,
    workloads: &[Workload],
    sagas: &[Saga],
    topics: &[Topic],
    queues: &[Queue],
) -> Result<ThresholdScope, String> {
    let known = || -> Vec<String> {
        let mut k: Vec<String> = workloads.iter().map(|w| w.name.clone()).collect();
        k.extend(sagas.iter().map(|s| format!("saga:{}", s.name)));
        for t in topics {
            k.extend(t.groups.iter().map(|g| format!("topic:{}/{}", t.name, g.name)));
        }
        k.extend(queues.iter().map(|q| format!("queue:{}", q.name)));
        k
    };
    let unknown = |what: &str| {
        let k = known();
        let hint = suggest(key, k.iter().map(String::as_str));
        let list = if k.is_empty() { "none".to_string() } else { k.join(", ") };
        format!(
            "unknown threshold scope `{key}`{hint}: {what}; a scope is a workload's name, saga:NAME, \
             topic:TOPIC/GROUP or queue:NAME, and this scenario has: {list}"
        )
    };
    if let Some(name) = key.strip_prefix("saga:") {
        return match sagas.iter().position(|s| s.name == name) {
            Some(i) => Ok(ThresholdScope::Saga(i as u32)),
            None => Err(unknown(&format!("no saga is named `{name}`"))),
        };
    }
    if let Some(rest) = key.strip_prefix("topic:") {
        let Some((topic, group)) = rest.split_once('/') else {
            return Err(unknown("a topic's scope names one of its consumer groups, as topic:TOPIC/GROUP"));
        };
        let Some(t) = topics.iter().position(|t| t.name == topic) else {
            return Err(unknown(&format!("no topic is named `{topic}`")));
        };
        return match topics[t].groups.iter().position(|g| g.name == group) {
            Some(g) => Ok(ThresholdScope::Group { topic: t as u32, group: g as u32 }),
            None => Err(unknown(&format!("topic `{topic}` has no consumer group `{group}`"))),
        };
    }
    if let Some(name) = key.strip_prefix("queue:") {
        return match queues.iter().position(|q| q.name == name) {
            Some(i) => Ok(ThresholdScope::Queue(i as u32)),
            None => Err(unknown(&format!("no work queue is named `{name}`"))),
        };
    }
    match workloads.iter().position(|w| w.name == key) {
        Some(i) => Ok(ThresholdScope::Workload(i as u32)),
        None => Err(unknown("no workload has this name")),
    }
}

/// One expression, parsed.
#[derive(Clone, Debug, PartialEq)]
pub struct Parsed {
    pub metric: Metric,
    pub op: Op,
    /// In the metric's unit.
    pub bound: f64,
    pub phase: Option<String>,
}

/// The metrics of a kind of scope, for messages.
fn metric_list(kind: ScopeKind) -> String {
    Metric::of_scope(kind).map(|m| m.name()).collect::<Vec<_>>().join(", ")
}

fn kind_name(kind: ScopeKind) -> &'static str {
    match kind {
        ScopeKind::Workload => "a workload",
        ScopeKind::Saga => "a saga",
        ScopeKind::Group => "a consumer group",
        ScopeKind::Queue => "a work queue",
    }
}

/// Parses `METRIC OP VALUE [during PHASE]` for a scope of kind `kind`; `phases` are the
/// names `during` accepts.
pub fn parse_expression(text: &str, kind: ScopeKind, phases: &[&str]) -> Result<Parsed, String> {
    const OPS: &str = "<, <=, >, >=";
    let s = text.trim();
    if s.is_empty() {
        return Err(format!("an expression is METRIC OP VALUE, such as {EXAMPLE}; this one is empty"));
    }
    // The metric: up to whitespace or an operator character.
    let is_op_char = |c: char| matches!(c, '<' | '>' | '=' | '!');
    let m_end = s.find(|c: char| c.is_whitespace() || is_op_char(c)).unwrap_or(s.len());
    let (name, rest) = s.split_at(m_end);
    let metric = match Metric::of(kind, name) {
        Some(m) => m,
        None => {
            let other = [ScopeKind::Workload, ScopeKind::Saga, ScopeKind::Group, ScopeKind::Queue]
                .into_iter()
                .find(|k| *k != kind && Metric::of(*k, name).is_some());
            let why = match other {
                Some(k) => format!("`{name}` is a metric of {}, not of {}", kind_name(k), kind_name(kind)),
                None => {
                    let lower = name.to_ascii_lowercase().replace(['(', ')', '.'], "");
                    let hint = if Metric::of(kind, &lower).is_some() {
                        format!(" (did you mean `{lower}`?)")
                    } else {
                        suggest(name, Metric::of_scope(kind).map(Metric::name))
                    };
                    format!("unknown metric `{name}`{hint}")
                }
            };
            return Err(format!("{why}; the metrics of {} are: {}", kind_name(kind), metric_list(kind)));
        }
    };
    let rest = rest.trim_start();
    let op_end = rest.find(|c: char| !is_op_char(c)).unwrap_or(rest.len());
    let (op_text, rest) = rest.split_at(op_end);
    let op = match op_text {
        "<" => Op::Lt,
        "<=" => Op::Le,
        ">" => Op::Gt,
        ">=" => Op::Ge,
        "" => {
            return Err(format!(
                "no operator after `{name}`: an expression is METRIC OP VALUE with OP one of {OPS}, such as {EXAMPLE}"
            ));
        }
        other => {
            return Err(format!(
                "unknown operator `{other}`: use one of {OPS} (a measured figure is compared, never matched \
                 exactly)"
            ));
        }
    };
    let rest = rest.trim_start();
    let v_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
    let (value_text, rest) = rest.split_at(v_end);
    if value_text.is_empty() {
        return Err(format!(
            "no value after `{op_text}`: an expression is METRIC OP VALUE, such as {EXAMPLE}"
        ));
    }
    let bound = value(metric, value_text)?;
    let rest = rest.trim();
    let phase = if rest.is_empty() {
        None
    } else {
        let Some(after) =
            rest.strip_prefix("during").filter(|a| a.is_empty() || a.starts_with(char::is_whitespace))
        else {
            return Err(format!(
                "unexpected `{rest}` after the value: an expression is METRIC OP VALUE, optionally followed by \
                 `during PHASE`"
            ));
        };
        let phase = after.trim();
        let known = phases.join(", ");
        if phase.is_empty() {
            return Err(format!("`during` needs a phase: one of {known}"));
        }
        if !phases.contains(&phase) {
            let hint = suggest(phase, phases.iter().copied());
            return Err(format!(
                "unknown phase `{phase}`{hint}; the phases are before, after and one per fault, by its name \
                 (or its label when it has none): {known}"
            ));
        }
        if !metric.has_phases() {
            let why = if metric.scope() == ScopeKind::Workload {
                format!("`{}` is measured over the whole run only", metric.name())
            } else {
                format!(
                    "phases hold workloads' figures only; {}'s thresholds cover the whole run",
                    kind_name(kind)
                )
            };
            return Err(format!("{why}: remove `during {phase}`"));
        }
        Some(phase.to_string())
    };
    Ok(Parsed { metric, op, bound, phase })
}

/// The bound of `metric` written as `text`, in the metric's unit.
fn value(metric: Metric, text: &str) -> Result<f64, String> {
    let name = metric.name();
    let n_end = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
    let (number, unit) = text.split_at(n_end);
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let plain = match number.split_once('.') {
        Some((i, f)) => digits(i) && digits(f),
        None => digits(number),
    };
    let what = match metric.unit() {
        MetricUnit::Ms => format!("{name} is a latency: write a duration such as 500ms or 2s"),
        MetricUnit::Percent => {
            format!("{name} is a share: write a percentage from 0% to 100%, such as 99.5%")
        }
        MetricUnit::PerSecond => format!("{name} is a rate: write requests per second, such as 120/s or 120"),
        MetricUnit::Number => {
            let example = match metric {
                Metric::RetriesPerRequest => "0.2",
                Metric::OrphanedPer1000 => "1",
                _ => "1000",
            };
            format!("{name} is a plain number: write it without a unit, such as {name} < {example}")
        }
    };
    if !plain {
        return Err(format!(
            "{what}; `{text}` is not a number with a unit (digits, an optional decimal point)"
        ));
    }
    let v: f64 = number.parse().map_err(|_| format!("{what}; `{number}` is not a number"))?;
    if !v.is_finite() {
        return Err(format!("{what}; `{number}` is too large"));
    }
    let found = |u: &str| match u {
        "%" => "a percentage".to_string(),
        "/s" => "a rate".to_string(),
        "" => "a bare number".to_string(),
        u => format!("the unit `{u}`"),
    };
    match (metric.unit(), unit) {
        (MetricUnit::Ms, "%" | "/s" | "") => Err(format!("{what}, not {} (`{text}`)", found(unit))),
        (MetricUnit::Ms, _) => match parse_duration(text) {
            Ok(ns) => Ok(ns as f64 / 1e6),
            Err(e) => Err(format!("{what}: {e}")),
        },
        (MetricUnit::Percent, "%") if v > 100.0 => Err(format!("{what}; {text} is above 100%")),
        (MetricUnit::Percent, "%") => Ok(v),
        (MetricUnit::PerSecond, "/s" | "") => Ok(v),
        (MetricUnit::Number, "") => Ok(v),
        (_, u) => Err(format!("{what}, not {} (`{text}`)", found(u))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PHASES: [&str; 3] = ["before", "after", "brownout"];

    fn ok(text: &str, kind: ScopeKind) -> Parsed {
        parse_expression(text, kind, &PHASES).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn err(text: &str, kind: ScopeKind) -> String {
        match parse_expression(text, kind, &PHASES) {
            Ok(p) => panic!("{text} parsed as {p:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn every_metric_parses_in_its_unit() {
        let w = ScopeKind::Workload;
        for (m, text, bound) in [
            (Metric::Mean, "mean < 20ms", 20.0),
            (Metric::P50, "p50 < 1.5ms", 1.5),
            (Metric::P90, "p90 < 250us", 0.25),
            (Metric::P99, "p99 < 2s", 2000.0),
            (Metric::P999, "p999 < 1m", 60_000.0),
            (Metric::Max, "max < 500000ns", 0.5),
            (Metric::Success, "success >= 99.5%", 99.5),
            (Metric::Failed, "failed < 0.5%", 0.5),
            (Metric::Degraded, "degraded <= 1%", 1.0),
            (Metric::Goodput, "goodput > 120/s", 120.0),
            (Metric::RetriesPerRequest, "retries_per_request < 0.2", 0.2),
        ] {
            let p = ok(text, w);
            assert_eq!((p.metric, p.bound, p.phase), (m, bound, None), "{text}");
        }
        assert_eq!(ok("goodput > 120", w).bound, 120.0);
        let s = ScopeKind::Saga;
        for (m, text) in [
            (Metric::Completed, "completed >= 90%"),
            (Metric::Compensated, "compensated < 10%"),
            (Metric::CompensationFailed, "compensation_failed <= 0%"),
            (Metric::Abandoned, "abandoned < 1%"),
            (Metric::OrphanedPer1000, "orphaned_per_1000 <= 1"),
        ] {
            assert_eq!(ok(text, s).metric, m, "{text}");
        }
        let g = ScopeKind::Group;
        for (m, text, bound) in [
            (Metric::MaxLag, "max_lag < 1000", 1000.0),
            (Metric::Duplicates, "duplicates <= 0", 0.0),
            (Metric::DeadLettered, "dead_lettered < 5", 5.0),
            (Metric::GroupP99, "p99 < 30s", 30_000.0),
        ] {
            let p = ok(text, g);
            assert_eq!((p.metric, p.bound), (m, bound), "{text}");
        }
    }

    #[test]
    fn operators_spacing_and_during() {
        let w = ScopeKind::Workload;
        for (text, op) in
            [("p99<5ms", Op::Lt), ("p99 <= 5ms", Op::Le), ("p99>5ms", Op::Gt), ("  p99 >=5ms ", Op::Ge)]
        {
            assert_eq!(ok(text, w).op, op, "{text}");
        }
        let p = ok("p99 < 2s during brownout", w);
        assert_eq!(
            (p.metric, p.op, p.bound, p.phase.as_deref()),
            (Metric::P99, Op::Lt, 2000.0, Some("brownout"))
        );
        assert_eq!(ok("success > 90% during  before", w).phase.as_deref(), Some("before"));
        // A fault called by its label: the phase is the rest of the expression.
        let labels = ["before", "after", "delay payment 60s+60s"];
        let p = parse_expression("p99 < 1s during delay payment 60s+60s", w, &labels).unwrap();
        assert_eq!(p.phase.as_deref(), Some("delay payment 60s+60s"));
    }

    #[test]
    fn bad_expressions_say_what_is_accepted() {
        let w = ScopeKind::Workload;
        for (text, kind, needles) in [
            ("", w, &["empty"][..]),
            ("p9999 < 5ms", w, &["unknown metric `p9999`", "did you mean `p999`", "mean, p50, p90"][..]),
            ("p(99) < 5ms", w, &["did you mean `p99`"][..]),
            ("P99 < 5ms", w, &["did you mean `p99`"][..]),
            ("max_lag < 5", w, &["metric of a consumer group", "retries_per_request"][..]),
            ("success >= 99%", ScopeKind::Saga, &["metric of a workload", "orphaned_per_1000"][..]),
            ("p99 500ms", w, &["no operator", "<, <=, >, >="][..]),
            ("p99 == 500ms", w, &["unknown operator `==`", "<, <=, >, >="][..]),
            ("p99 =< 500ms", w, &["unknown operator `=<`"][..]),
            ("p99 <", w, &["no value after `<`"][..]),
            ("p99 < 99%", w, &["latency", "not a percentage"][..]),
            ("p99 < 500", w, &["latency", "not a bare number"][..]),
            ("p99 < 5 ms", w, &["not a bare number"][..]),
            ("p99 < 5parsecs", w, &["latency", "unknown unit"][..]),
            ("p99 < -5ms", w, &["not a number"][..]),
            ("success >= 99.5", w, &["share", "not a bare number"][..]),
            ("success >= 0.995ms", w, &["share", "not the unit `ms`"][..]),
            ("success >= 101%", w, &["above 100%"][..]),
            ("goodput > 5%", w, &["rate", "not a percentage"][..]),
            ("retries_per_request < 20%", w, &["plain number", "not a percentage"][..]),
            ("max_lag < 1000ms", ScopeKind::Group, &["plain number", "not the unit `ms`"][..]),
            ("p99 < 1.5.5ms", w, &["not a number"][..]),
            ("p99 < 1e3ms", w, &["latency", "unknown unit"][..]),
            ("p99 < 5ms while brownout", w, &["unexpected `while brownout`", "during PHASE"][..]),
            ("p99 < 5ms during", w, &["needs a phase", "before, after, brownout"][..]),
            ("p99 < 5ms during brownot", w, &["unknown phase `brownot`", "did you mean `brownout`"][..]),
            ("retries_per_request < 1 during brownout", w, &["whole run only"][..]),
            ("max_lag < 1 during brownout", ScopeKind::Group, &["workloads' figures only"][..]),
        ] {
            let e = err(text, kind);
            for n in needles {
                assert!(e.contains(n), "{text:?}: {e:?} lacks {n:?}");
            }
        }
    }
}
