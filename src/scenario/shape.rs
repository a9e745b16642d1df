//! The shape of a scenario, read from the JSON Schema that `schemars` derives from the
//! raw types (the schema `faultline schema` prints), so it can never drift from them.
//!
//! serde stops at the first problem; this walk finds every unknown key of a document at
//! once (and removes them, so that deserialising can go on), tells whether a member is
//! optional (so that a value of the wrong type can be set aside and the rest checked),
//! and whether a pointer names a fixed member of an object (so that an override may
//! create the objects on its way).

use std::sync::OnceLock;

use serde_json::{Map, Value};

use super::pointer;
use super::resolve::{RawProblem, suggest};

/// The derived schema, built once.
fn root() -> &'static Value {
    static ROOT: OnceLock<Value> = OnceLock::new();
    ROOT.get_or_init(super::schema)
}

/// Follows `$ref`s (`#/definitions/X`) and one-element `allOf`s (how schemars attaches
/// a description to a reference).
fn deref<'s>(root: &'s Value, mut s: &'s Value) -> &'s Value {
    for _ in 0..32 {
        if let Some([one]) = s.get("allOf").and_then(Value::as_array).map(Vec::as_slice) {
            s = one;
            continue;
        }
        match s.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix("#/definitions/")) {
            Some(name) => match root.get("definitions").and_then(|d| d.get(name)) {
                Some(t) => s = t,
                None => return s,
            },
            None => return s,
        }
    }
    s
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "number",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Whether a schema (already dereferenced) admits a value of this JSON type, judging by
/// `type` only (absent: anything).
fn admits_type(s: &Value, t: &str) -> bool {
    let ok = |x: &str| x == t || (x == "number" && t == "integer");
    match s.get("type") {
        None => true,
        Some(Value::String(x)) => ok(x),
        Some(Value::Array(xs)) => xs.iter().filter_map(Value::as_str).any(ok),
        Some(_) => true,
    }
}

/// An externally tagged variant: `{"type": "object", "properties": {"tag": ...},
/// "required": ["tag"], "additionalProperties": false}`.
fn is_tagged_branch(s: &Value) -> bool {
    s.get("properties").and_then(Value::as_object).is_some_and(|p| p.len() == 1)
        && s.get("required").and_then(Value::as_array).is_some_and(|r| r.len() == 1)
}

/// The one schema that describes `value`: `$ref`s followed, and among `anyOf`/`oneOf`
/// branches the one that fits (for an externally tagged enum, the variant the object's
/// single key names). `None` when no branch fits or the choice is ambiguous; serde then
/// reports the problem.
fn effective<'s>(root: &'s Value, schema: &'s Value, value: &Value) -> Option<&'s Value> {
    let mut s = deref(root, schema);
    for _ in 0..32 {
        let Some(branches) = s.get("anyOf").or_else(|| s.get("oneOf")).and_then(Value::as_array) else {
            return Some(s);
        };
        let t = json_type(value);
        let fits: Vec<&Value> =
            branches.iter().map(|b| deref(root, b)).filter(|b| admits_type(b, t)).collect();
        s = match fits.as_slice() {
            [] => return None,
            [one] => {
                if is_tagged_branch(one) && value.as_object().is_some_and(|m| m.len() != 1) {
                    return None;
                }
                one
            }
            many => {
                // Objects: the branch whose keys the value uses; a tagged enum's value
                // must have exactly one key.
                let m = value.as_object()?;
                if many.iter().all(|b| is_tagged_branch(b)) && m.len() != 1 {
                    return None;
                }
                let score = |b: &Value| {
                    b.get("properties")
                        .and_then(Value::as_object)
                        .map_or(0, |p| m.keys().filter(|k| p.contains_key(*k)).count())
                };
                let best = many.iter().map(|b| score(b)).max().unwrap_or(0);
                let top: Vec<&&Value> = many.iter().filter(|b| score(b) == best).collect();
                match top.as_slice() {
                    [one] if best > 0 => one,
                    _ => return None,
                }
            }
        };
    }
    Some(s)
}

/// Finds every key of `value` that the schema does not allow, records it (at the key,
/// with a "did you mean" hint) and removes it from `value`; records every required key
/// that is missing.
pub fn take_unknown_keys(value: &mut Value, out: &mut Vec<RawProblem>) {
    let root = root();
    let mut path = Vec::new();
    let mut found = Vec::new();
    let mut dropped = 0;
    walk(root, root, value, &mut path, &mut found, &mut dropped);
    out.extend(found);
    if dropped > 0 {
        out.push(super::resolve::more_problems(dropped));
    }
}

fn walk(
    root: &Value,
    schema: &Value,
    value: &mut Value,
    path: &mut Vec<String>,
    out: &mut Vec<RawProblem>,
    dropped: &mut usize,
) {
    if path.len() > 64 {
        return;
    }
    let Some(s) = effective(root, schema, value) else { return };
    match value {
        Value::Object(m) => {
            let props = s.get("properties").and_then(Value::as_object);
            let extra = s.get("additionalProperties");
            if props.is_none() && extra.is_none() {
                return;
            }
            let mut unknown = Vec::new();
            for (k, v) in m.iter_mut() {
                path.push(k.clone());
                match (props.and_then(|p| p.get(k)), extra) {
                    (Some(sub), _) => walk(root, sub, v, path, out, dropped),
                    (None, Some(Value::Bool(false))) => unknown.push(k.clone()),
                    (None, Some(sub)) if sub.is_object() => walk(root, sub, v, path, out, dropped),
                    _ => {}
                }
                path.pop();
            }
            for k in unknown {
                // A near miss of a key that is absent (`replica` for `replicas`) is read
                // as that key from here on, so that what depends on it is checked as
                // the author meant it; anything else is dropped.
                // Only a near miss whose schema takes this value's type: `links: [...]`
                // at the top is not the object `lint`, and read as it would only add a
                // second, misleading problem.
                let value_type = m.get(&k).map_or("null", json_type);
                let near = props.and_then(|p| closest(&k, p)).filter(|f| {
                    props.and_then(|p| p.get(*f)).is_some_and(|sub| member_admits(root, sub, value_type))
                });
                let fix = near.filter(|f| !m.contains_key(*f)).cloned();
                if let Some(f) = fix {
                    let i = m.keys().position(|x| *x == k);
                    if let (Some(v), Some(i)) = (m.shift_remove(&k), i) {
                        m.shift_insert(i, f, v);
                    }
                }
                if out.len() >= super::resolve::MAX_PROBLEMS {
                    *dropped += 1;
                    continue;
                }
                path.push(k.clone());
                out.push(RawProblem {
                    path: pointer::join(path),
                    message: unknown_key_message(&k, props, near.is_some(), root),
                    at_key: true,
                    cli: false,
                });
                path.pop();
            }
            // One pass for the removals (removing one key at a time from an ordered map
            // is linear each, quadratic in all).
            if !m.is_empty() && unknown_left(m, props, extra) {
                m.retain(|k, _| {
                    props.is_some_and(|p| p.contains_key(k)) || !matches!(extra, Some(Value::Bool(false)))
                });
            }
            // Every missing required key too (serde names only the first); after the
            // near misses were renamed, so `meen` does not also report `mean` missing.
            for r in
                s.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str)
            {
                if !m.contains_key(r) && out.len() < super::resolve::MAX_PROBLEMS {
                    path.push(r.to_string());
                    out.push(RawProblem {
                        path: pointer::join(path),
                        message: format!("missing required key `{r}`"),
                        at_key: false,
                        cli: false,
                    });
                    path.pop();
                }
            }
        }
        Value::Array(a) => {
            let Some(items) = s.get("items") else { return };
            for (i, v) in a.iter_mut().enumerate() {
                path.push(i.to_string());
                walk(root, items, v, path, out, dropped);
                path.pop();
            }
        }
        _ => {}
    }
}

/// Whether an object still has a key that its schema does not allow.
fn unknown_left(m: &Map<String, Value>, props: Option<&Map<String, Value>>, extra: Option<&Value>) -> bool {
    matches!(extra, Some(Value::Bool(false))) && m.keys().any(|k| !props.is_some_and(|p| p.contains_key(k)))
}

/// The declared key that `suggest` would propose for `key`, if any.
fn closest<'p>(key: &str, props: &'p Map<String, Value>) -> Option<&'p String> {
    if suggest(key, props.keys().map(String::as_str)).is_empty() {
        return None;
    }
    props
        .keys()
        .map(|c| (super::resolve::edit_distance(key, c), c))
        .filter(|(d, _)| *d > 0)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Whether a member's schema (an `Option`'s `anyOf` with null included) admits a value
/// of JSON type `t`.
fn member_admits(root: &Value, schema: &Value, t: &str) -> bool {
    let s = deref(root, schema);
    match s.get("anyOf").or_else(|| s.get("oneOf")).and_then(Value::as_array) {
        Some(branches) => branches.iter().any(|b| member_admits(root, b, t)),
        None => admits_type(s, t),
    }
}

/// The member of `props` whose object takes `key` itself (`links` belongs in `network`).
fn owner_of<'p>(root: &Value, key: &str, props: &'p Map<String, Value>) -> Option<&'p String> {
    fn has(root: &Value, s: &Value, key: &str, depth: u32) -> bool {
        let s = deref(root, s);
        if s.get("properties").and_then(Value::as_object).is_some_and(|p| p.contains_key(key)) {
            return true;
        }
        depth < 4
            && s.get("anyOf")
                .or_else(|| s.get("oneOf"))
                .and_then(Value::as_array)
                .is_some_and(|bs| bs.iter().any(|b| has(root, b, key, depth + 1)))
    }
    props.iter().find(|(_, sub)| has(root, sub, key, 0)).map(|(name, _)| name)
}

fn unknown_key_message(
    key: &str,
    props: Option<&Map<String, Value>>,
    suggest_near: bool,
    root: &Value,
) -> String {
    let allowed: Vec<&str> = props.map(|p| p.keys().map(String::as_str).collect()).unwrap_or_default();
    if allowed.is_empty() {
        return format!("unknown key `{key}`: this object takes no keys");
    }
    let hint = match props.and_then(|p| owner_of(root, key, p)) {
        Some(owner) => format!(" (it belongs inside `{owner}`)"),
        None if suggest_near => suggest(key, allowed.iter().copied()),
        None => String::new(),
    };
    format!("unknown key `{key}`{hint}; expected one of: {}", allowed.join(", "))
}

/// The schema of the object that holds the member `tokens.last()`, if `doc` has that
/// object. Walks `doc` along `tokens[..len-1]`.
fn parent_schema<'s>(root: &'s Value, doc: &Value, tokens: &[String]) -> Option<&'s Value> {
    let (_, parents) = tokens.split_last()?;
    let mut s = root;
    let mut v = doc;
    for t in parents {
        let here = effective(root, s, v)?;
        let (sub, next) = match v {
            Value::Object(m) => {
                let next = m.get(t)?;
                let sub = here
                    .get("properties")
                    .and_then(|p| p.get(t))
                    .or_else(|| here.get("additionalProperties").filter(|x| x.is_object()))?;
                (sub, next)
            }
            Value::Array(a) => (here.get("items")?, a.get(t.parse::<usize>().ok()?)?),
            _ => return None,
        };
        s = sub;
        v = next;
    }
    effective(root, s, v)
}

/// Whether the member at `tokens` is an optional fixed member of its object (a struct
/// field that may be left out), so that a wrong value there can be set aside.
pub fn is_optional_member(doc: &Value, tokens: &[String]) -> bool {
    let root = root();
    let Some(key) = tokens.last() else { return false };
    let Some(s) = parent_schema(root, doc, tokens) else { return false };
    let declared = s.get("properties").and_then(|p| p.get(key)).is_some();
    let required = s.get("required").and_then(Value::as_array).is_some_and(|r| r.iter().any(|x| x == key));
    declared && !required && !is_tagged_branch(s)
}

/// Whether `key` is a declared member of the object at `container` (tokens) whose
/// value is an object (a struct, a map or an externally tagged enum), judging by the
/// schema alone: an override's pointer may create such members on its way. Never a key
/// of a name-keyed map: creating `/services/x` would invent a service from a typo.
pub fn member_is_object(container: &[String], key: &str) -> bool {
    let root = root();
    let mut s = root;
    for t in container {
        match member(root, s, t, true) {
            Some(next) => s = next,
            None => return false,
        }
    }
    member(root, s, key, false).is_some_and(|sub| objectish(root, sub, 0))
}

/// The schema of member `t` (an object key or an array index) of a schema; with
/// `map_keys`, keys of maps count too. The union over `anyOf`/`oneOf` branches.
fn member<'s>(root: &'s Value, s: &'s Value, t: &str, map_keys: bool) -> Option<&'s Value> {
    let s = deref(root, s);
    if let Some(branches) = s.get("anyOf").or_else(|| s.get("oneOf")).and_then(Value::as_array) {
        return branches.iter().find_map(|b| member(root, b, t, map_keys));
    }
    if let Some(items) = s.get("items")
        && t.parse::<usize>().is_ok()
    {
        return Some(items);
    }
    if let Some(sub) = s.get("properties").and_then(|p| p.get(t)) {
        return Some(sub);
    }
    if map_keys { s.get("additionalProperties").filter(|x| x.is_object()) } else { None }
}

fn objectish(root: &Value, s: &Value, depth: usize) -> bool {
    let s = deref(root, s);
    if depth > 8 {
        return false;
    }
    if let Some(branches) = s.get("anyOf").or_else(|| s.get("oneOf")).and_then(Value::as_array) {
        return branches.iter().any(|b| objectish(root, b, depth + 1));
    }
    admits_type(s, "object")
        && s.get("type").is_some()
        && (s.get("properties").is_some() || s.get("additionalProperties").is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn t(p: &str) -> Vec<String> {
        pointer::parse(p).unwrap()
    }

    #[test]
    fn a_key_of_a_member_is_pointed_there_and_a_near_miss_of_another_type_is_not_taken() {
        let mut v = json!({
            "duration": "1s",
            "services": {"a": {"endpoints": {"x": {"latency": {"constant": "1ms"}}}}},
            "links": [{"from": "a", "to": "a"}],
            "workload": [{"name": "w", "target": "a.x", "arrival": {"poisson": {"rate": 1}}}]
        });
        let mut out = Vec::new();
        take_unknown_keys(&mut v, &mut out);
        assert_eq!(out.len(), 1, "{:?}", out.iter().map(|p| &p.message).collect::<Vec<_>>());
        assert_eq!(out[0].path, "/links");
        assert!(out[0].message.contains("(it belongs inside `network`)"), "{}", out[0].message);
        assert!(!out[0].message.contains("did you mean"), "{}", out[0].message);
        assert!(v.get("lint").is_none(), "the array was read as `lint`");
    }

    #[test]
    fn finds_every_unknown_key() {
        let mut v = json!({
            "duraton": "1s", "duration": "1s",
            "services": {"a": {"replica": 2, "endpoints": {"x": {"latency": {"exponential": {"meen": "1ms"}}}}}},
            "policies": {"p": {"retry": {"max_attempt": 3}, "circuit_breaker": {"window": {"count": 5}}}},
            "workload": [{"name": "w", "target": "a.x", "arrival": {"poisson": {"rate": 1, "burst": 2}}}],
            "faults": [{"delay": {"target": "a", "start": "0s", "latency": {"constant": "1ms"}, "extra": 1}}],
            "variants": {"v": {"/anything": {"goes": 1}}}
        });
        let mut out = Vec::new();
        take_unknown_keys(&mut v, &mut out);
        let paths: Vec<&str> = out.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "/services/a/endpoints/x/latency/exponential/meen",
                "/services/a/replica",
                "/policies/p/retry/max_attempt",
                "/workload/0/arrival/poisson/burst",
                "/faults/0/delay/extra",
                "/duraton",
            ]
        );
        assert!(out[1].message.contains("did you mean `replicas`?"), "{}", out[1].message);
        assert!(out[5].message.contains("did you mean `duration`?"), "{}", out[5].message);
        assert!(v.get("duraton").is_none() && v["services"]["a"].get("replica").is_none());
        // Near misses are read as the key they miss, when that key is not given.
        assert_eq!(v["services"]["a"]["replicas"], 2);
        assert_eq!(v["policies"]["p"]["retry"]["max_attempts"], 3);
        // Missing required keys, all of them.
        let mut v = json!({"services": {"a": {}}, "workload": [{"name": "w"}, {"target": "a.b", "arrival": {"poisson": {}}}]});
        let mut out = Vec::new();
        take_unknown_keys(&mut v, &mut out);
        let paths: Vec<&str> = out.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "/workload/0/target",
                "/workload/0/arrival",
                "/workload/1/arrival/poisson/rate",
                "/workload/1/name",
                "/duration"
            ]
        );
        assert!(out.iter().all(|p| p.message.starts_with("missing required key `")));
        // A tagged object with two keys is left for serde to describe.
        let mut v = json!({"duration": "1s", "services": {"a": {"endpoints": {"x": {"latency": {"constant": "1ms", "x": 1}}}}}});
        let mut out = Vec::new();
        take_unknown_keys(&mut v, &mut out);
        assert!(out.is_empty(), "{out:?}");
    }

    #[test]
    fn optional_members_and_creatable_objects() {
        let doc =
            json!({"duration": "1s", "services": {"a": {"replicas": "x"}}, "workload": [{"name": "w"}]});
        assert!(is_optional_member(&doc, &t("/services/a/replicas")));
        assert!(!is_optional_member(&doc, &t("/duration")));
        assert!(!is_optional_member(&doc, &t("/services/a")));
        assert!(!is_optional_member(&doc, &t("/workload/0")));
        assert!(!is_optional_member(&doc, &t("/workload/0/name")));
        assert!(member_is_object(&[], "limits"));
        assert!(member_is_object(&[], "network"));
        assert!(!member_is_object(&[], "duration"));
        assert!(!member_is_object(&[], "workload"));
        assert!(!member_is_object(&t("/services"), "x"));
        assert!(member_is_object(&t("/services/a"), "queue"));
        assert!(member_is_object(&t("/policies/p"), "retry"));
        assert!(member_is_object(&t("/policies/p/retry"), "budget"));
        assert!(member_is_object(&t("/policies/p/circuit_breaker"), "window"));
        assert!(member_is_object(&t("/faults/0/delay"), "latency"));
        assert!(!member_is_object(&t("/policies/p"), "timeout"));
    }
}
