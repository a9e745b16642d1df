//! A run's summary JSON flattened into tidy figures `(scope, name, metric, value)`, in
//! the JSON's own order (the scenario's), so the same summary always gives the same rows.
//!
//! - Top-level numbers (`window_s`, `events`) are scope `run`, name `run`.
//! - Each named object (`workloads`, `endpoints`, `calls`, `services`, `sagas`,
//!   `topics`) gives scope = its key, name = the entry's name, metric = the dotted path
//!   of each number or boolean inside (`latency_ms.p99`, `failed.timeout`,
//!   `groups.billing.delivered`); a boolean is 1 or 0.
//! - Each list (`thresholds`, `phases`, `recovery`) gives scope = its key, name = the
//!   element's text fields joined by ` · ` (a threshold: `buyers · p99 < 500ms`), and
//!   its numbers and booleans as metrics (a threshold's `value` and `pass`).
//! - `scenario`, `variant` and `seed` identify the run and are not figures; `null`
//!   (nothing measured) gives no row.

use serde_json::Value;

/// One figure of one run. `text` is the number as the summary JSON writes it.
#[derive(Clone, Debug, PartialEq)]
pub struct Figure {
    pub scope: String,
    pub name: String,
    pub metric: String,
    pub text: String,
    pub value: f64,
}

/// The figures of a summary JSON, in its order.
pub fn flatten(summary: &Value) -> Vec<Figure> {
    let mut out = Vec::new();
    let Value::Object(top) = summary else { return out };
    for (key, v) in top {
        match (key.as_str(), v) {
            ("scenario" | "variant" | "seed", _) => {}
            (_, Value::Object(entries)) => {
                for (name, e) in entries {
                    leaves(e, "", &mut |metric, text, value| {
                        out.push(Figure { scope: key.clone(), name: name.clone(), metric, text, value })
                    });
                }
            }
            (_, Value::Array(items)) => {
                for (i, e) in items.iter().enumerate() {
                    let name = match e {
                        Value::Object(m) => {
                            let texts: Vec<&str> = m.values().filter_map(Value::as_str).collect();
                            if texts.is_empty() { i.to_string() } else { texts.join(" · ") }
                        }
                        _ => i.to_string(),
                    };
                    leaves(e, "", &mut |metric, text, value| {
                        out.push(Figure { scope: key.clone(), name: name.clone(), metric, text, value })
                    });
                }
            }
            _ => leaves(v, key, &mut |metric, text, value| {
                out.push(Figure { scope: "run".into(), name: "run".into(), metric, text, value })
            }),
        }
    }
    out
}

/// Calls `f(path, text, value)` for each number and boolean under `v`.
fn leaves(v: &Value, path: &str, f: &mut dyn FnMut(String, String, f64)) {
    let join = |k: &str| if path.is_empty() { k.to_string() } else { format!("{path}.{k}") };
    match v {
        Value::Number(n) => f(path.to_string(), n.to_string(), n.as_f64().unwrap_or(f64::NAN)),
        Value::Bool(b) => f(path.to_string(), if *b { "1" } else { "0" }.into(), if *b { 1.0 } else { 0.0 }),
        Value::Object(m) => {
            for (k, x) in m {
                leaves(x, &join(k), f);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                leaves(x, &join(&i.to_string()), f);
            }
        }
        Value::Null | Value::String(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flattens_in_order() {
        let v: Value = serde_json::from_str(
            r#"{"scenario":"s","seed":1,"window_s":2.5,"workloads":{"w":{"ok":3,"latency_ms":{"p99":1.25}}},
               "calls":{"c":{"client":true}},"thresholds":[{"scope":"w","expression":"p99 < 5ms","value":null,"pass":false}]}"#,
        )
        .unwrap();
        let rows: Vec<String> =
            flatten(&v).iter().map(|f| format!("{},{},{},{}", f.scope, f.name, f.metric, f.text)).collect();
        assert_eq!(
            rows,
            [
                "run,run,window_s,2.5",
                "workloads,w,ok,3",
                "workloads,w,latency_ms.p99,1.25",
                "calls,c,client,1",
                "thresholds,w · p99 < 5ms,pass,0"
            ]
        );
    }
}
