//! What each variant changes, in words: its JSON-pointer overrides (and the `--set`
//! overrides every variant shares) read against the variant's resolved spec, e.g.
//! "circuit breaker on storefront→recs.get (policy recs-client): opens at 50% failures
//! of the last 20 calls…", "timeout of policy internal: 300 ms", "circuit breaker of
//! policy internal removed". A policy is named with the edges that use it.

use super::reach::edges_of_policy;
use crate::spec::{Backoff, Breaker, BreakerWindow, Jitter, NS_PER_S, Nanos, Spec};
use serde_json::Value;

/// Each variant's overrides `(pointer, value)` in file order, read from the scenario's
/// text; a variant without overrides (or a text that does not parse) has none.
pub fn variant_overrides(text: &str, variants: &[String]) -> Vec<Vec<(String, Value)>> {
    let doc: Value = serde_json::from_str(text).unwrap_or(Value::Null);
    variants
        .iter()
        .map(|v| match doc.get("variants").and_then(|m| m.get(v)) {
            Some(Value::Object(o)) => o.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            _ => Vec::new(),
        })
        .collect()
}

/// `--set POINTER=VALUE` overrides as `(pointer, value)`: the value as JSON when it
/// parses, else as a string (as `--set` reads it).
pub fn set_overrides(sets: &[String]) -> Vec<(String, Value)> {
    sets.iter()
        .filter_map(|s| s.split_once('='))
        .map(|(p, v)| (p.to_string(), serde_json::from_str(v).unwrap_or_else(|_| Value::String(v.into()))))
        .collect()
}

/// A duration in nanoseconds, short: `300 ms`, `5 s`, `1.5 s`, `250 µs`.
pub fn duration(ns: Nanos) -> String {
    let trim = |x: f64| {
        let s = format!("{x:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    };
    if ns == 0 {
        "0 s".to_string()
    } else if ns >= NS_PER_S {
        format!("{} s", trim(ns as f64 / NS_PER_S as f64))
    } else if ns >= 1_000_000 {
        format!("{} ms", trim(ns as f64 / 1e6))
    } else if ns >= 1_000 {
        format!("{} µs", trim(ns as f64 / 1e3))
    } else {
        format!("{ns} ns")
    }
}

fn pct(share: f64) -> String {
    let s = format!("{:.1}", share * 100.0);
    format!("{}%", s.trim_end_matches('0').trim_end_matches('.'))
}

fn unescape(t: &str) -> String {
    t.replace("~1", "/").replace("~0", "~")
}

/// A JSON value in words: strings as written (a duration in short form), booleans as
/// on/off, anything else as compact JSON.
fn value_words(v: &Value) -> String {
    match v {
        Value::String(s) => crate::scenario::parse_duration(s).map(duration).unwrap_or_else(|_| s.clone()),
        Value::Bool(b) => (if *b { "on" } else { "off" }).into(),
        Value::Null => "removed".into(),
        other => other.to_string(),
    }
}

/// The edges that use policy `name` in `spec`, as `a→b.c, d→e.f` (at most three, then
/// how many more); `None` when the policy is unknown or unused.
fn policy_edges(spec: &Spec, name: &str) -> Option<String> {
    let p = spec.policies.iter().position(|p| p.name == name)?;
    let edges = edges_of_policy(spec, p as u32);
    if edges.is_empty() {
        return None;
    }
    let names: Vec<String> =
        edges.iter().take(3).map(|e| spec.edges[*e as usize].name.replace("->", "→")).collect();
    let more = edges.len().saturating_sub(3);
    Some(if more > 0 { format!("{} and {more} more", names.join(", ")) } else { names.join(", ") })
}

fn breaker_words(b: &Breaker) -> String {
    match b {
        Breaker::Window {
            window,
            minimum_calls,
            failure_rate_threshold,
            slow_call,
            open_for_ns,
            half_open_calls,
        } => {
            let of = match window {
                BreakerWindow::Count(n) => format!("the last {n} calls"),
                BreakerWindow::Time(t) => format!("the calls of the last {}", duration(*t)),
            };
            let mut s = format!(
                "opens at {} failures of {of} (at least {minimum_calls})",
                pct(*failure_rate_threshold)
            );
            if let Some((d, r)) = slow_call {
                s += &format!(" or {} slower than {}", pct(*r), duration(*d));
            }
            s + &format!("; open {}, then {half_open_calls} trial calls", duration(*open_for_ns))
        }
        Breaker::Consecutive { failures, open_for_ns, success_threshold } => format!(
            "opens after {failures} failures in a row; open {}, closes after {success_threshold} successes",
            duration(*open_for_ns)
        ),
    }
}

fn backoff_words(b: &Backoff) -> String {
    match b {
        Backoff::Constant(d) => format!("constant backoff {}", duration(*d)),
        Backoff::Exponential { initial_ns, multiplier, max_ns, .. } => {
            format!(
                "exponential backoff from {} ×{multiplier} up to {}",
                duration(*initial_ns),
                duration(*max_ns)
            )
        }
    }
}

fn jitter_words(j: Jitter) -> &'static str {
    match j {
        Jitter::None => "no jitter",
        Jitter::Full => "full jitter",
        Jitter::Equal => "equal jitter",
        Jitter::Decorrelated => "decorrelated jitter",
    }
}

/// A policy field (`tokens` after the policy's name) of the resolved policy, in words;
/// `None` for what is worded from the override's value instead.
fn policy_field_words(spec: &Spec, policy: &str, tokens: &[String]) -> Option<String> {
    let p = spec.policies.iter().find(|p| p.name == policy)?;
    let field: Vec<&str> = tokens.iter().map(String::as_str).collect();
    match field.as_slice() {
        ["circuit_breaker"] => p.breaker.as_ref().map(breaker_words),
        ["retry"] => p.retry.as_ref().map(|r| {
            let mut s = format!(
                "up to {} attempts, {}, {}",
                r.max_attempts,
                backoff_words(&r.backoff),
                jitter_words(r.jitter)
            );
            if let Some(b) = &r.budget {
                s += &format!(", budget {} of calls (at least {}/s)", pct(b.ratio), b.min_per_second);
            }
            s
        }),
        ["retry", "budget"] => {
            p.retry.as_ref().and_then(|r| r.budget.as_ref()).map(|b| {
                format!("retries at most {} of calls (at least {}/s)", pct(b.ratio), b.min_per_second)
            })
        }
        ["retry", "backoff"] => p.retry.as_ref().map(|r| backoff_words(&r.backoff)),
        ["rate_limit"] => p.rate_limit.as_ref().map(crate::html::guards::rate_limit),
        ["bulkhead"] => p.bulkhead.as_ref().map(|b| {
            let wait = match b.max_wait_ns {
                Some(0) => "no waiting".to_string(),
                Some(w) => format!("waiting up to {}", duration(w)),
                None => "waiting without limit".to_string(),
            };
            format!("at most {} concurrent calls, {wait}", b.max_concurrent)
        }),
        ["hedge"] => p.hedge.as_ref().map(|h| {
            format!("a second request after {}, at most {} extra", duration(h.after_ns), h.max_extra)
        }),
        ["outlier_detection"] => p.outlier.as_ref().map(|o| {
            format!(
                "ejects a replica after {} errors in a row for {}, at most {} of replicas",
                o.consecutive_errors,
                duration(o.ejection_ns),
                pct(o.max_ejection)
            )
        }),
        ["timeout"] => p.timeout_ns.map(duration),
        ["deadline"] => p.deadline_ns.map(duration),
        _ => None,
    }
}

fn words_of_field(tokens: &[String]) -> String {
    let field = tokens.join(" ").replace('_', " ");
    match field.as_str() {
        "circuit breaker" => "circuit breaker".into(),
        "retry" => "retries".into(),
        "hedge" => "hedging".into(),
        other => other.to_string(),
    }
}

/// A step written as an object of one key naming one thing (`{"publish": "t"}`,
/// `{"call": "svc.ep"}`) reads as its key and value; anything else as a value.
fn step_words(value: &Value) -> String {
    match value.as_object() {
        Some(m) if m.len() == 1 => match m.iter().next() {
            Some((k, Value::String(v))) => format!("{} {v}", k.replace('_', " ")),
            _ => value_words(value),
        },
        _ => value_words(value),
    }
}

/// One override in words, read against `spec` (the variant's resolved spec).
pub fn override_words(spec: &Spec, pointer: &str, value: &Value) -> String {
    let tokens: Vec<String> = pointer.split('/').skip(1).map(unescape).collect();
    let t: Vec<&str> = tokens.iter().map(String::as_str).collect();
    match t.as_slice() {
        ["policies", policy, rest @ ..] if !rest.is_empty() => {
            let what = words_of_field(&tokens[2..]);
            let on = policy_edges(spec, policy);
            if value.is_null() {
                return match on {
                    Some(e) => format!("{what} of policy {policy} removed (on {e})"),
                    None => format!("{what} of policy {policy} removed"),
                };
            }
            let desc = policy_field_words(spec, policy, &tokens[2..]).unwrap_or_else(|| value_words(value));
            match on {
                Some(e) => format!("{what} on {e} (policy {policy}): {desc}"),
                None => format!("{what} of policy {policy}: {desc}"),
            }
        }
        ["services", svc, "replicas"] => format!("{svc}: {} replicas", value_words(value)),
        ["services", svc, field @ ("shed" | "adaptive_concurrency" | "rate_limit" | "autoscale")] => {
            let what = field.replace('_', " ");
            if value.is_null() {
                return format!("{what} of {svc}: removed");
            }
            let s = spec.services.iter().find(|s| s.name == *svc);
            let desc = s.and_then(|s| match *field {
                "shed" => s.shed.as_ref().map(crate::html::guards::shed),
                "adaptive_concurrency" => s.adaptive.as_ref().map(crate::html::guards::adaptive),
                "autoscale" => s.autoscale.as_ref().map(|a| crate::html::guards::autoscale(a, spec)),
                _ => s.rate_limit.as_ref().map(crate::html::guards::rate_limit),
            });
            format!("{what} of {svc}: {}", desc.unwrap_or_else(|| value_words(value)))
        }
        ["services", svc, "endpoints", ep, "steps", i, rest @ ..] => {
            // `-` is JSON Pointer's "after the last element": a variant that appends a step.
            let step = match *i {
                "-" => "a new last step".to_string(),
                i => i.parse::<usize>().map(|i| format!("step {}", i + 1)).unwrap_or_else(|_| i.to_string()),
            };
            let what =
                if rest.is_empty() { step } else { format!("{step} {}", rest.join(" ").replace('_', " ")) };
            format!("{svc}.{ep}, {what}: {}", step_words(value))
        }
        ["services", svc, "endpoints", ep, rest @ ..] => {
            format!("{svc}.{ep} {}: {}", rest.join(" ").replace('_', " "), value_words(value))
        }
        ["services", svc, rest @ ..] if !rest.is_empty() => {
            format!("{} of {svc}: {}", rest.join(" ").replace('_', " "), value_words(value))
        }
        ["sagas", saga, rest @ ..] if !rest.is_empty() => {
            format!("saga {saga}, {}: {}", rest.join(" ").replace('_', " "), value_words(value))
        }
        ["topics", topic, "subscribers", i, rest @ ..] => {
            let group = i
                .parse::<usize>()
                .ok()
                .and_then(|i| spec.topics.iter().find(|x| x.name == *topic)?.groups.get(i))
                .map(|g| format!("group {}", g.name))
                .unwrap_or_else(|| format!("subscriber {i}"));
            format!("topic {topic}, {group}, {}: {}", rest.join(" ").replace('_', " "), value_words(value))
        }
        ["queues", queue, "consumers", i, rest @ ..] if !rest.is_empty() => {
            let pool = i
                .parse::<usize>()
                .map(|i| format!("consumer pool {}", i + 1))
                .unwrap_or_else(|_| i.to_string());
            format!("queue {queue}, {pool}, {}: {}", rest.join(" ").replace('_', " "), value_words(value))
        }
        ["queues", queue, rest @ ..] if !rest.is_empty() => {
            format!("queue {queue}, {}: {}", rest.join(" ").replace('_', " "), value_words(value))
        }
        _ => format!("{}: {}", tokens.join(" › ").replace('_', " "), value_words(value)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_values_read_short() {
        assert_eq!(duration(300_000_000), "300 ms");
        assert_eq!(duration(5 * NS_PER_S), "5 s");
        assert_eq!(duration(1_500_000_000), "1.5 s");
        assert_eq!(duration(250_000), "250 µs");
        assert_eq!(duration(0), "0 s");
        assert_eq!(value_words(&Value::String("300ms".into())), "300 ms");
        assert_eq!(value_words(&Value::Bool(false)), "off");
        assert_eq!(value_words(&Value::String("best_effort".into())), "best_effort");
        let sets = set_overrides(&["/seed=3".into(), "/policies/p/timeout=2s".into()]);
        assert_eq!(sets[0], ("/seed".to_string(), Value::from(3)));
        assert_eq!(sets[1], ("/policies/p/timeout".to_string(), Value::String("2s".into())));
    }

    #[test]
    fn an_appended_step_reads_as_a_new_last_step() {
        let spec = crate::scenario::load_str(
            r#"{"name": "w", "duration": "1s", "services": {"a": {"endpoints": {"e": {}}}},
                "workload": [{"name": "l", "target": "a.e", "arrival": {"poisson": {"rate": 1}}}]}"#,
            "w",
            &Default::default(),
        )
        .unwrap();
        let v: Value = serde_json::from_str(r#"{"publish": "timeline"}"#).unwrap();
        assert_eq!(
            override_words(&spec, "/services/a/endpoints/e/steps/-", &v),
            "a.e, a new last step: publish timeline"
        );
        let v = Value::String("2ms".into());
        assert_eq!(
            override_words(&spec, "/services/a/endpoints/e/steps/0/latency", &v),
            "a.e, step 1 latency: 2 ms"
        );
    }

    #[test]
    fn overload_controls_read_with_their_parameters() {
        let spec = crate::scenario::load_str(
            r#"{"name": "w", "duration": "1s", "services": {"a": {"concurrency": 4,
                  "shed": {"utilization": 90}, "adaptive_concurrency": {"gradient": {}},
                  "endpoints": {"e": {}}}},
                "workload": [{"name": "l", "target": "a.e", "arrival": {"poisson": {"rate": 1}}}]}"#,
            "w",
            &Default::default(),
        )
        .unwrap();
        let v: Value = serde_json::from_str(r#"{"utilization": 90}"#).unwrap();
        assert!(
            override_words(&spec, "/services/a/shed", &v)
                .starts_with("shed of a: sheds sheddable requests at 90%")
        );
        let v: Value = serde_json::from_str(r#"{"gradient": {}}"#).unwrap();
        let w = override_words(&spec, "/services/a/adaptive_concurrency", &v).replace('\u{a0}', " ");
        assert!(
            w.contains("Envoy's gradient controller: limit updated every 100 ms between 3 and 1000"),
            "{w}"
        );
        assert_eq!(override_words(&spec, "/services/a/shed", &Value::Null), "shed of a: removed");
    }
}
