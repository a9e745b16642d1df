//! `compare.json`: per table, per variant, per figure: mean, ci95, per-seed values and
//! the paired difference to the first variant.

use super::stats::{diff, mean_ci};
use super::{Comparison, Figure, figures, group_figures, saga_figures};
use serde_json::{Map, Value, json};

/// Per variant, per figure: mean, ci95, per-seed values and the paired difference to
/// the first variant.
fn variants_json(c: &Comparison, per_variant: &[Vec<Figure>]) -> Value {
    let mut vars = Map::new();
    for (v, figs) in per_variant.iter().enumerate() {
        let mut fm = Map::new();
        for (k, f) in figs.iter().enumerate() {
            let (m, hw) = mean_ci(&f.per_seed);
            let d = diff(&per_variant[0][k].per_seed, &f.per_seed);
            let (dm, dhw) = mean_ci(&d);
            let num = |x: f64| if x.is_nan() { Value::Null } else { json!((x * 1e6).round() / 1e6) };
            fm.insert(
                f.name.to_string(),
                json!({"unit": f.unit, "mean": num(m), "ci95": num(hw),
                       "per_seed": f.per_seed.iter().map(|x| num(*x)).collect::<Vec<_>>(),
                       "diff_mean": num(dm), "diff_ci95": num(dhw)}),
            );
        }
        vars.insert(c.variants[v].clone(), Value::Object(fm));
    }
    Value::Object(vars)
}

/// The comparison as JSON: per workload, per variant, per figure: mean, ci95, per-seed
/// values and the paired difference to the first variant. When the scenario has sagas
/// or topics, `sagas` (`{saga: {variant: {figure: …}}}`) and `topics` (`{topic:
/// {"groups": {group: {variant: {figure: …}}}}}`) follow in the same form.
pub fn to_json(c: &Comparison) -> Value {
    let mut workloads = Map::new();
    for (wl, per_variant) in figures(c) {
        workloads.insert(wl.clone(), variants_json(c, per_variant));
    }
    let mut out =
        json!({"scenario": c.scenario, "seeds": c.seeds, "variants": c.variants, "workloads": workloads});
    let sagas = saga_figures(c);
    if !sagas.is_empty() {
        let mut m = Map::new();
        for (name, per_variant) in sagas {
            m.insert(name.clone(), variants_json(c, per_variant));
        }
        out["sagas"] = Value::Object(m);
    }
    let groups = group_figures(c);
    if !groups.is_empty() {
        let mut topics = Map::new();
        for ((topic, group), per_variant) in groups {
            let entry = topics.entry(topic.clone()).or_insert_with(|| json!({"groups": {}}));
            entry["groups"][group] = variants_json(c, per_variant);
        }
        out["topics"] = Value::Object(topics);
    }
    out
}
