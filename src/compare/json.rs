//! `compare.json`: the verdict (per headline figure, the best variant and its paired
//! differences), what each variant changes, the threshold verdicts per variant, then per
//! table, per variant, per figure: which way is better, mean, ci95, per-seed values, the
//! paired difference to the baseline with its 95% interval and verdict, and whether the
//! variant is the best at it.

use super::stats::{Paired, Verdict, mean_ci, paired};
use super::verdict::{headlines, winner_of};
use super::{Comparison, Figure, figures, group_figures, saga_figures};
use serde_json::{Map, Value, json};

fn num(x: f64) -> Value {
    if x.is_nan() { Value::Null } else { json!((x * 1e6).round() / 1e6) }
}

fn paired_json(p: &Paired) -> Value {
    json!({"mean": num(p.mean), "lo": num(p.lo), "hi": num(p.hi), "n": p.n, "difference": p.verdict.word()})
}

/// Per variant, per figure: mean, ci95, per-seed values and the paired difference to
/// the baseline.
fn variants_json(c: &Comparison, per_variant: &[Vec<Figure>]) -> Value {
    let winners: Vec<Vec<usize>> =
        (0..per_variant.first().map_or(0, |f| f.len())).map(|k| winner_of(per_variant, k).best).collect();
    let mut vars = Map::new();
    for (v, figs) in per_variant.iter().enumerate() {
        let mut fm = Map::new();
        for (k, f) in figs.iter().enumerate() {
            let (m, hw) = mean_ci(&f.per_seed);
            let d = paired(&per_variant[0][k].per_seed, &f.per_seed);
            let mut o = json!({"unit": f.unit, "better": f.better.word(), "mean": num(m), "ci95": num(hw),
                   "per_seed": f.per_seed.iter().map(|x| num(*x)).collect::<Vec<_>>(),
                   "diff_mean": num(d.mean), "diff_ci95": num(d.half_width())});
            if v > 0 {
                o["diff_lo"] = num(d.lo);
                o["diff_hi"] = num(d.hi);
                o["difference"] =
                    json!(if d.mean.is_nan() { Verdict::Unknown.word() } else { d.verdict.word() });
            }
            o["best"] = json!(winners.get(k).is_some_and(|w| w.contains(&v)));
            fm.insert(f.name.to_string(), o);
        }
        vars.insert(c.variants[v].clone(), Value::Object(fm));
    }
    Value::Object(vars)
}

/// The comparison as JSON. Keys: `scenario`, `seeds`, `variants`, `baseline`,
/// `attribution`, `changes` (per variant, its overrides in words), `thresholds` (per
/// variant, each threshold's seeds held), `verdict` (per headline figure, the best
/// variant and its paired differences), `workloads` (per workload, per variant, per
/// figure), then, when the scenario has them, `sagas` and `topics` in the same form.
pub fn to_json(c: &Comparison) -> Value {
    let mut workloads = Map::new();
    for (wl, per_variant) in figures(c) {
        workloads.insert(wl.clone(), variants_json(c, per_variant));
    }
    let mut changes = Map::new();
    let mut thresholds = Map::new();
    for (v, name) in c.variants.iter().enumerate() {
        changes.insert(name.clone(), json!(c.changes[v]));
        let list: Vec<Value> = c.thresholds[v]
            .iter()
            .map(|t| {
                json!({"scope": t.scope, "expression": t.expression, "held": t.held, "seeds": t.runs,
                       "holds": t.holds(), "values": t.values.iter().map(|x| x.map_or(Value::Null, num)).collect::<Vec<_>>()})
            })
            .collect();
        thresholds.insert(name.clone(), Value::Array(list));
    }
    let verdict: Vec<Value> = headlines(c)
        .iter()
        .map(|h| {
            let w = &h.winner;
            json!({
                "table": h.table, "figure": h.figure, "unit": h.unit, "better": h.better.word(),
                "best": w.best.iter().map(|i| c.variants[*i].clone()).collect::<Vec<_>>(),
                "means": c.variants.iter().cloned().zip(w.means.iter().map(|m| num(*m))).collect::<Map<_, _>>(),
                "best_vs_baseline": w.vs_baseline.as_ref().map_or(Value::Null, paired_json),
                "runner_up": w.vs_runner_up.as_ref().map_or(Value::Null, |(r, _)| json!(c.variants[*r])),
                "best_vs_runner_up": w.vs_runner_up.as_ref().map_or(Value::Null, |(_, p)| paired_json(p)),
                "caveat": h.caveat.as_ref().map_or(Value::Null, |g| json!(g.words(&c.variants))),
            })
        })
        .collect();
    let mut out = json!({
        "scenario": c.scenario, "seeds": c.seeds, "variants": c.variants, "baseline": c.baseline(),
        "attribution": super::ATTRIBUTION,
        "changes": changes, "thresholds": thresholds, "verdict": verdict, "workloads": workloads});
    if !c.common_changes.is_empty() {
        out["common_changes"] = json!(c.common_changes);
    }
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
