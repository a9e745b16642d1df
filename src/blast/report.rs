//! The blast as text (standard output) and as `blast.json`.
//!
//! `blast.json`: `faultline_blast` (format version, 1), `scenario`, `file`, `command`,
//! `variant`, `sets` (the user's), `base_sets` (the healthy run's after them: without the
//! scenario's faults and thresholds, unless `keep_faults`), `keep_faults`, `seeds`,
//! `rule` (the classification's bounds), `healthy` (per kind of column, per column, per
//! figure: `{mean, ci95}`), `rows` (in order: each service in file order, then each
//! topic's broker: `down` its label, `kind` `service` or `broker`, `sets` the overrides
//! that take it down (after the user's, in place of `base_sets`), then per kind of column, per column: `class`, for workloads
//! `needed`, `need` (in words) and `monolith`, and `figures`, per figure `{mean, ci95,
//! diff_mean, diff_lo, diff_hi, moved}`: the mean over the seeds, the half-width of its
//! 95% interval, the paired difference to the healthy run with its interval, and whether
//! it is a reason the cell is degraded), and `monoliths` (`{down, workload, why}`).
//! Numbers are rounded to 6 decimals; `null` is not measured (and any `ci95` or
//! difference interval with one seed).

use super::matrix::{Cell, Class, DOWN_LEVEL, FigDef, Series};
use super::plan::Down;
use super::{Blast, kinds};
use serde_json::{Map, Value, json};
use std::fmt::Write as _;

fn num(x: f64) -> Value {
    if x.is_finite() { json!((x * 1e6).round() / 1e6) } else { Value::Null }
}

fn healthy_json(defs: &[FigDef], s: &Series) -> Value {
    let mut m = Map::new();
    for (k, d) in defs.iter().enumerate() {
        let (mean, ci) = Blast::healthy_stat(s, k);
        m.insert(d.key.into(), json!({"mean": num(mean), "ci95": num(ci)}));
    }
    Value::Object(m)
}

fn cell_json(c: &Cell) -> Map<String, Value> {
    let mut figs = Map::new();
    for f in &c.figs {
        figs.insert(
            f.def.key.into(),
            json!({"mean": num(f.mean), "ci95": num(f.ci95), "diff_mean": num(f.diff.mean),
                   "diff_lo": num(f.diff.lo), "diff_hi": num(f.diff.hi), "moved": f.moved}),
        );
    }
    let mut m = Map::new();
    m.insert("class".into(), json!(c.class.word()));
    m.insert("figures".into(), Value::Object(figs));
    m
}

/// The column names of each kind, in order.
fn columns(b: &Blast) -> [Vec<String>; 3] {
    [
        b.spec.workloads.iter().map(|w| w.name.clone()).collect(),
        b.spec.sagas.iter().map(|s| s.name.clone()).collect(),
        b.group_labels(),
    ]
}

/// `blast.json`, pretty, newline-terminated.
pub fn json_text(b: &Blast) -> String {
    let cols = columns(b);
    let healthy_series = [&b.healthy_w, &b.healthy_s, &b.healthy_g];
    let mut healthy = Map::new();
    for (i, (kind, defs)) in kinds().iter().enumerate() {
        let mut m = Map::new();
        for (c, name) in cols[i].iter().enumerate() {
            m.insert(name.clone(), healthy_json(defs, &healthy_series[i][c]));
        }
        healthy.insert((*kind).into(), Value::Object(m));
    }
    let mut rows = Vec::new();
    for (r, row) in b.rows.iter().enumerate() {
        let mut o = Map::new();
        o.insert("down".into(), json!(row.label));
        o.insert(
            "kind".into(),
            json!(if matches!(row.down, Down::Service(_)) { "service" } else { "broker" }),
        );
        o.insert("sets".into(), json!(row.sets));
        let cells = [&b.cells_w[r], &b.cells_s[r], &b.cells_g[r]];
        for (i, (kind, _)) in kinds().iter().enumerate() {
            let mut m = Map::new();
            for (c, name) in cols[i].iter().enumerate() {
                let mut cj = cell_json(&cells[i][c]);
                if i == 0 {
                    let need = &b.needs[r][c];
                    let mut head = Map::new();
                    head.insert("class".into(), cj.remove("class").unwrap_or(Value::Null));
                    head.insert("needed".into(), json!(need.needed()));
                    head.insert("need".into(), json!(need.words()));
                    head.insert("monolith".into(), json!(b.monolith(r, c)));
                    head.extend(cj);
                    cj = head;
                }
                m.insert(name.clone(), Value::Object(cj));
            }
            o.insert((*kind).into(), Value::Object(m));
        }
        rows.push(Value::Object(o));
    }
    let monoliths: Vec<Value> = b
        .monoliths()
        .iter()
        .map(|m| json!({"down": m.row.label, "workload": m.workload, "why": m.need.words()}))
        .collect();
    let v = json!({
        "faultline_blast": 1,
        "scenario": b.spec.name,
        "file": b.file,
        "command": b.command,
        "variant": b.variant,
        "sets": b.sets,
        "base_sets": b.base_sets,
        "keep_faults": b.keep_faults,
        "seeds": b.seeds,
        "rule": {"down_level_percent": DOWN_LEVEL,
                 "significance": "with more than one seed, a move counts only when its paired 95% interval excludes zero"},
        "healthy": healthy,
        "rows": rows,
        "monoliths": monoliths,
    });
    serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
}

/// A level with its class, as the text table writes it: `99.8% ok`, `0.0% DOWN`.
fn short(c: &Cell) -> String {
    let v = c.level().mean;
    let lvl = if v.is_finite() { format!("{v:.1}%") } else { "none".into() };
    let tag = match c.class {
        Class::Unaffected => "",
        Class::Degraded => " degraded",
        Class::Down => " DOWN",
    };
    format!("{lvl}{tag}")
}

/// The matrix on standard output: one table per kind of column that the scenario has
/// (workloads: success; sagas: completed; groups: delivered, of healthy), the healthy
/// run first, then the monoliths.
pub fn text(b: &Blast) -> String {
    let cols = columns(b);
    let mut s = format!(
        "blast {} · {} seed{} ({}) · {} row{}{}\n",
        b.spec.name,
        b.seeds.len(),
        if b.seeds.len() == 1 { "" } else { "s" },
        b.seeds.iter().map(|x| x.to_string()).collect::<Vec<_>>().join(","),
        b.rows.len(),
        if b.rows.len() == 1 { "" } else { "s" },
        b.variant.as_ref().map(|v| format!(" · variant {v}")).unwrap_or_default()
    );
    let titles = ["success by workload", "completed by saga", "delivered (of healthy) by consumer group"];
    let healthy = [&b.healthy_w, &b.healthy_s, &b.healthy_g];
    let cells = [&b.cells_w, &b.cells_s, &b.cells_g];
    for i in 0..3 {
        if cols[i].is_empty() {
            continue;
        }
        let mut table: Vec<Vec<String>> = Vec::new();
        let mut head = vec!["down".to_string()];
        head.extend(cols[i].iter().cloned());
        table.push(head);
        let mut h = vec!["(healthy)".to_string()];
        for series in healthy[i].iter() {
            let (m, _) = Blast::healthy_stat(series, 0);
            h.push(if m.is_finite() { format!("{m:.1}%") } else { "-".into() });
        }
        table.push(h);
        for (r, row) in b.rows.iter().enumerate() {
            let mut line = vec![row.label.clone()];
            for (c, cell) in cells[i][r].iter().enumerate() {
                let mut t = short(cell);
                if i == 0 && b.monolith(r, c) {
                    t += " (monolith)";
                }
                line.push(t);
            }
            table.push(line);
        }
        let widths: Vec<usize> = (0..table[0].len())
            .map(|k| table.iter().map(|l| l[k].chars().count()).max().unwrap_or(0))
            .collect();
        let _ = writeln!(s, "\n{}", titles[i]);
        for line in &table {
            let mut out = String::new();
            for (k, cellt) in line.iter().enumerate() {
                let pad = widths[k] - cellt.chars().count();
                if k == 0 {
                    let _ = write!(out, "{cellt}{}", " ".repeat(pad));
                } else {
                    let _ = write!(out, "  {}{cellt}", " ".repeat(pad));
                }
            }
            s += out.trim_end();
            s.push('\n');
        }
    }
    let mono = b.monoliths();
    if mono.is_empty() {
        s += "\nno distributed monolith: every workload taken down needs what was lost\n";
    } else {
        s += "\ndistributed monolith: a loss that takes down a workload that does not need it\n";
        for m in mono {
            let _ = writeln!(s, "  {} down takes {} down; {}", m.row.label, m.workload, m.need.words());
        }
    }
    s
}
