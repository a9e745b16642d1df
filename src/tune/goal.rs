//! Objectives and constraints in the threshold language of the reports, with the scope
//! written as a call: `min p99(buyers)`, `max goodput(buyers) during after`,
//! `success(buyers) >= 99.5%`, `completed(saga:fulfillment) >= 99%`,
//! `max_lag(topic:orders/billing) < 1000`. The metric, its unit, the operator, the
//! value and `during PHASE` are parsed by the scenario's own threshold parser
//! ([`crate::scenario::thresholds`]) and the scope resolved by its own rule, so a goal
//! means exactly what the same threshold in the scenario means, and is measured by the
//! same code ([`crate::report::thresholds::measure`]) on each run's summary.

use crate::scenario::thresholds::{parse_expression, scope_of};
use crate::spec::{Metric, MetricUnit, Op, Spec, Threshold};

/// Which way an objective goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sense {
    Min,
    Max,
}

impl Sense {
    pub fn word(self) -> &'static str {
        match self {
            Sense::Min => "min",
            Sense::Max => "max",
        }
    }
}

/// Where a constraint comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// `--constraint`.
    Cli,
    /// The scenario's `thresholds` (unless `--no-thresholds`).
    Scenario,
}

/// One objective or constraint: its text, what it measures (a [`Threshold`]: scope,
/// metric, phase; for a constraint also its operator and bound) and, for an objective,
/// its sense.
#[derive(Clone, Debug)]
pub struct Goal {
    pub text: String,
    pub probe: Threshold,
    pub sense: Option<Sense>,
    pub source: Source,
}

impl Goal {
    /// The unit of the measured figure, as the reports write it.
    pub fn unit(&self) -> MetricUnit {
        self.probe.metric.unit()
    }
}

const FORM_OBJ: &str = "an objective is `min METRIC(SCOPE)` or `max METRIC(SCOPE)`, optionally followed by \
                        `during PHASE`, e.g. 'min p99(buyers)'";
const FORM_CON: &str = "a constraint is `METRIC(SCOPE) OP VALUE`, optionally followed by `during PHASE`, e.g. \
                        'success(buyers) >= 99.5%'";

/// `METRIC(SCOPE)REST` split into its three parts.
fn call(text: &str, form: &str) -> Result<(String, String, String), String> {
    let Some((metric, after)) = text.split_once('(') else {
        return Err(format!("no `(SCOPE)` after the metric; {form}"));
    };
    let Some((scope, rest)) = after.split_once(')') else {
        return Err(format!("`(` without its `)`; {form}"));
    };
    let metric = metric.trim();
    if metric.is_empty() || metric.contains(char::is_whitespace) {
        return Err(format!("`{metric}` is not a metric name; {form}"));
    }
    if scope.trim().is_empty() {
        return Err(format!("the scope in `()` is empty; {form}"));
    }
    Ok((metric.to_string(), scope.trim().to_string(), rest.to_string()))
}

/// The names `during` accepts in `spec`.
fn phases(spec: &Spec) -> Vec<&str> {
    ["before", "after"].into_iter().chain(spec.faults.iter().map(|f| f.name.as_str())).collect()
}

fn resolve(spec: &Spec, key: &str, expr: &str, text: &str) -> Result<Threshold, String> {
    let scope = scope_of(key, &spec.workloads, &spec.sagas, &spec.topics, &spec.queues)?;
    let p = parse_expression(expr, scope.kind(), &phases(spec))?;
    Ok(Threshold {
        scope_name: key.to_string(),
        scope,
        expression: text.trim().to_string(),
        metric: p.metric,
        op: p.op,
        bound: p.bound,
        phase: p.phase,
    })
}

/// Parses `--objective TEXT` against `spec`; the error names the argument.
pub fn objective(text: &str, spec: &Spec) -> Result<Goal, String> {
    let bad = |e: String| format!("--objective '{text}': {e}");
    let t = text.trim();
    let (sense, rest) = match t.split_once(char::is_whitespace) {
        Some(("min", r)) => (Sense::Min, r),
        Some(("max", r)) => (Sense::Max, r),
        _ => return Err(bad(format!("it starts with `min` or `max`; {FORM_OBJ}"))),
    };
    let (metric, key, tail) = call(rest.trim(), FORM_OBJ).map_err(bad)?;
    let tail = tail.trim();
    if !tail.is_empty() && !tail.starts_with("during") {
        return Err(bad(format!(
            "unexpected `{tail}`: an objective has no bound (use --constraint for one); {FORM_OBJ}"
        )));
    }
    // The threshold parser checks the metric, its scope and the phase; an objective has
    // no bound, so a neutral one in the metric's unit stands in for it.
    let scope = scope_of(&key, &spec.workloads, &spec.sagas, &spec.topics, &spec.queues).map_err(bad)?;
    let zero = match Metric::of(scope.kind(), &metric).map(Metric::unit) {
        Some(MetricUnit::Ms) => "0ms",
        Some(MetricUnit::Percent) => "0%",
        _ => "0",
    };
    let probe = resolve(spec, &key, &format!("{metric} >= {zero} {tail}"), t).map_err(bad)?;
    Ok(Goal { text: t.to_string(), probe, sense: Some(sense), source: Source::Cli })
}

/// Parses `--constraint TEXT` against `spec`; the error names the argument.
pub fn constraint(text: &str, spec: &Spec) -> Result<Goal, String> {
    let bad = |e: String| format!("--constraint '{text}': {e}");
    let t = text.trim();
    let (metric, key, tail) = call(t, FORM_CON).map_err(bad)?;
    if tail.trim().is_empty() {
        return Err(bad(format!("no bound after `{metric}({key})`; {FORM_CON}")));
    }
    let probe = resolve(spec, &key, &format!("{metric} {}", tail.trim()), t).map_err(bad)?;
    Ok(Goal { text: t.to_string(), probe, sense: None, source: Source::Cli })
}

/// The scenario's thresholds as constraints, written in the same form.
pub fn from_thresholds(spec: &Spec) -> Vec<Goal> {
    spec.thresholds
        .iter()
        .map(|t| {
            let rest = t.expression.trim_start_matches(|c: char| c.is_ascii_alphanumeric() || c == '_');
            Goal {
                text: format!("{}({}){rest}", t.metric.name(), t.scope_name),
                probe: t.clone(),
                sense: None,
                source: Source::Scenario,
            }
        })
        .collect()
}

/// Whether a measured figure meets a constraint (always for an objective).
pub fn holds(g: &Goal, v: f64) -> bool {
    g.sense.is_some() || (v.is_finite() && g.probe.op.holds(v, g.probe.bound))
}

/// How far `v` is on the failing side of a constraint's bound (positive: by that much;
/// in the metric's unit).
pub fn shortfall(g: &Goal, v: f64) -> f64 {
    match g.probe.op {
        Op::Lt | Op::Le => v - g.probe.bound,
        Op::Gt | Op::Ge => g.probe.bound - v,
    }
}

/// An objective's value turned so that lower is better.
pub fn cost(g: &Goal, v: f64) -> f64 {
    if g.sense == Some(Sense::Max) { -v } else { v }
}

#[cfg(test)]
mod tests;
