//! The aggregate of a sweep, built from the plan and its runs' summaries read in (point,
//! seed) order: the tidy `sweep.csv` (one row per figure per run) and `sweep.json`
//! (per point: its parameters, the mean and 95% interval over seeds of every figure,
//! and per threshold on how many seeds it held).

use super::Plan;
use super::figures::{Figure, flatten};
use crate::compare::mean_ci;
use serde_json::{Map, Value, json};
use std::fmt::Write as _;

/// One figure of one point across its seeds.
#[derive(Clone, Debug)]
pub struct Stat {
    pub scope: String,
    pub name: String,
    pub metric: String,
    pub mean: f64,
    /// Half-width of the 95% t-interval (NaN with one seed).
    pub ci95: f64,
    /// Seeds that measured it.
    pub n: usize,
}

/// One threshold of one point: on how many of its seeds it held.
#[derive(Clone, Debug)]
pub struct Held {
    pub scope: String,
    pub expression: String,
    pub held: usize,
    pub of: usize,
}

/// One point of the grid, aggregated.
#[derive(Clone, Debug)]
pub struct PointStats {
    /// The value index in each param.
    pub index: Vec<usize>,
    pub stats: Vec<Stat>,
    pub thresholds: Vec<Held>,
}

impl PointStats {
    /// Every threshold held on every seed; `None` when the scenario has none.
    pub fn feasible(&self) -> Option<bool> {
        if self.thresholds.is_empty() { None } else { Some(self.thresholds.iter().all(|t| t.held == t.of)) }
    }

    pub fn stat(&self, scope: &str, name: &str, metric: &str) -> Option<&Stat> {
        self.stats.iter().find(|s| s.scope == scope && s.name == name && s.metric == metric)
    }
}

/// A sweep's aggregate: per point, and the tidy CSV.
pub struct Aggregate {
    pub points: Vec<PointStats>,
    pub csv: String,
}

/// Quotes a CSV field when it needs it (RFC 4180).
pub fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() }
}

/// Builds the aggregate; `read(point, seed index)` gives a run's summary JSON text.
pub fn build(
    plan: &Plan,
    read: &dyn Fn(usize, usize) -> Result<String, String>,
) -> Result<Aggregate, String> {
    let params = plan.params();
    let mut csv = String::from("point,seed");
    for p in &params {
        let _ = write!(csv, ",{}", csv_field(&p.pointer));
    }
    csv.push_str(",scope,name,metric,value\n");
    let mut points = Vec::new();
    for (pi, index) in plan.points().into_iter().enumerate() {
        let mut prefix_params = String::new();
        for (p, &i) in params.iter().zip(&index) {
            let _ = write!(prefix_params, ",{}", csv_field(&p.values[i]));
        }
        // Figures by key in first-seen order, values per seed (NaN: not measured).
        let mut keys: Vec<(String, String, String)> = Vec::new();
        let mut values: Vec<Vec<f64>> = Vec::new();
        let mut thresholds: Vec<Held> = Vec::new();
        for (si, &seed) in plan.seeds.iter().enumerate() {
            let text = read(pi, si)?;
            let v: Value =
                serde_json::from_str(&text).map_err(|e| format!("{}: {e}", super::run_file(pi, si)))?;
            for Figure { scope, name, metric, text, value } in flatten(&v) {
                let _ = writeln!(
                    csv,
                    "{pi},{seed}{prefix_params},{},{},{},{text}",
                    csv_field(&scope),
                    csv_field(&name),
                    csv_field(&metric)
                );
                let key = (scope, name, metric);
                let k = match keys.iter().position(|k| *k == key) {
                    Some(k) => k,
                    None => {
                        keys.push(key);
                        values.push(vec![f64::NAN; plan.seeds.len()]);
                        keys.len() - 1
                    }
                };
                values[k][si] = value;
            }
            if let Some(Value::Array(ts)) = v.get("thresholds") {
                for (ti, t) in ts.iter().enumerate() {
                    let s = |k: &str| t.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
                    if thresholds.len() <= ti {
                        thresholds.push(Held {
                            scope: s("scope"),
                            expression: s("expression"),
                            held: 0,
                            of: 0,
                        });
                    }
                    thresholds[ti].of += 1;
                    if t.get("pass").and_then(Value::as_bool) == Some(true) {
                        thresholds[ti].held += 1;
                    }
                }
            }
        }
        let stats = keys
            .into_iter()
            .zip(values)
            .map(|((scope, name, metric), xs)| {
                let (mean, ci95) = mean_ci(&xs);
                Stat { scope, name, metric, mean, ci95, n: xs.iter().filter(|x| !x.is_nan()).count() }
            })
            .collect();
        points.push(PointStats { index, stats, thresholds });
    }
    Ok(Aggregate { points, csv })
}

fn num(x: f64) -> Value {
    if x.is_finite() { json!((x * 1e6).round() / 1e6) } else { Value::Null }
}

/// `sweep.json`: the sweep (scenario, variant, sets, seeds, params), then per point its
/// parameters, `feasible` (every threshold held on every seed; `null` without
/// thresholds), per threshold `held` of `seeds`, and every figure as
/// `figures[scope][name][metric] = {mean, ci95, n}`.
pub fn to_json(plan: &Plan, agg: &Aggregate) -> String {
    let params = plan.params();
    let points: Vec<Value> = agg
        .points
        .iter()
        .enumerate()
        .map(|(pi, p)| {
            let mut pm = Map::new();
            for (par, &i) in params.iter().zip(&p.index) {
                pm.insert(par.pointer.clone(), Value::String(par.values[i].clone()));
            }
            let mut figs = Map::new();
            for s in &p.stats {
                let scope = figs.entry(s.scope.clone()).or_insert_with(|| json!({}));
                let name =
                    scope.as_object_mut().map(|m| m.entry(s.name.clone()).or_insert_with(|| json!({})));
                if let Some(Value::Object(m)) = name {
                    m.insert(s.metric.clone(), json!({"mean": num(s.mean), "ci95": num(s.ci95), "n": s.n}));
                }
            }
            let ts: Vec<Value> = p
                .thresholds
                .iter()
                .map(|t| json!({"scope": t.scope, "expression": t.expression, "held": t.held, "seeds": t.of}))
                .collect();
            json!({"point": pi, "params": pm, "feasible": p.feasible(), "thresholds": ts, "figures": figs})
        })
        .collect();
    let v = json!({
        "scenario": plan.scenario,
        "variant": plan.variant,
        "sets": plan.sets,
        "seeds": plan.seeds,
        "params": plan.params,
        "points": points,
    });
    serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::{FORMAT, PlanParam};

    #[test]
    fn thresholds_held_per_seed_and_feasibility() {
        let plan = Plan {
            faultline_sweep: FORMAT,
            scenario: "s".into(),
            description: String::new(),
            scenario_hash: "0".into(),
            variant: None,
            sets: Vec::new(),
            params: vec![PlanParam { pointer: "/a".into(), values: vec!["1".into(), "2".into()] }],
            seeds: vec![1, 2, 3],
        };
        // Point 0 holds on every seed; point 1 fails on seed 2.
        let read = |p: usize, s: usize| {
            let pass = p == 0 || s != 1;
            let p99 = 10.0 * (p + 1) as f64 + s as f64;
            Ok(format!(
                r#"{{"scenario":"s","seed":{s},"workloads":{{"w":{{"latency_ms":{{"p99":{p99}}}}}}},
                    "thresholds":[{{"scope":"w","expression":"p99 < 500ms","value":{p99},"pass":{pass}}}]}}"#
            ))
        };
        let agg = build(&plan, &read).unwrap();
        assert_eq!(agg.points[0].feasible(), Some(true));
        assert_eq!(agg.points[1].feasible(), Some(false));
        assert_eq!((agg.points[1].thresholds[0].held, agg.points[1].thresholds[0].of), (2, 3));
        let s = agg.points[1].stat("workloads", "w", "latency_ms.p99").unwrap();
        // 20, 21, 22: mean 21, sd 1, t(2) = 4.303.
        assert_eq!(s.mean, 21.0);
        assert!((s.ci95 - 4.303 / 3f64.sqrt()).abs() < 1e-9);
        let json: Value = serde_json::from_str(&to_json(&plan, &agg)).unwrap();
        assert_eq!(json["points"][1]["thresholds"][0]["held"], 2);
        assert_eq!(json["points"][1]["feasible"], false);
        assert!(agg.csv.contains("\n1,2,2,thresholds,w · p99 < 500ms,pass,0\n"));
    }
}
