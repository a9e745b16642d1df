//! JSON Pointers (RFC 6901) into a scenario: parsing, escaping, and the override
//! operation that variants and `--set` use.
//!
//! The override semantics follow JSON Merge Patch's use of `null` ("remove") and JSON
//! Patch's `add`/`replace` for everything else: the parent must exist; a missing key of an
//! existing object is added; an array index may be one past the end (or `-`) to append.

use serde_json::Value;

/// Splits a pointer into its unescaped reference tokens. `""` is the whole document.
pub fn parse(ptr: &str) -> Result<Vec<String>, String> {
    if ptr.is_empty() {
        return Ok(Vec::new());
    }
    let Some(rest) = ptr.strip_prefix('/') else {
        return Err(format!("a JSON pointer starts with `/`, found `{ptr}`"));
    };
    rest.split('/').map(unescape).collect()
}

fn unescape(token: &str) -> Result<String, String> {
    let mut out = String::with_capacity(token.len());
    let mut chars = token.chars();
    while let Some(c) = chars.next() {
        if c == '~' {
            match chars.next() {
                Some('0') => out.push('~'),
                Some('1') => out.push('/'),
                other => {
                    let found = other.map(|c| format!("~{c}")).unwrap_or_else(|| "~ at the end".to_string());
                    return Err(format!("in a JSON pointer `~` must be followed by 0 or 1, found {found}"));
                }
            }
        } else {
            out.push(c);
        }
    }
    Ok(out)
}

/// Escapes one reference token (`~` → `~0`, `/` → `~1`).
pub fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// Joins tokens back into a pointer.
pub fn join<S: AsRef<str>>(tokens: &[S]) -> String {
    let mut s = String::new();
    for t in tokens {
        s.push('/');
        s.push_str(&escape(t.as_ref()));
    }
    s
}

/// Reads an array index token: decimal without leading zeros.
fn index(token: &str) -> Option<usize> {
    if token.is_empty()
        || (token.len() > 1 && token.starts_with('0'))
        || !token.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    token.parse().ok()
}

/// The value at `tokens`, if any.
pub fn get<'v>(root: &'v Value, tokens: &[String]) -> Option<&'v Value> {
    let mut cur = root;
    for t in tokens {
        cur = match cur {
            Value::Object(m) => m.get(t)?,
            Value::Array(a) => a.get(index(t)?)?,
            _ => return None,
        };
    }
    Some(cur)
}

fn describe_map(m: &serde_json::Map<String, Value>) -> String {
    if m.is_empty() {
        return "an empty object".to_string();
    }
    let keys: Vec<&str> = m.keys().map(String::as_str).take(12).collect();
    let more = if m.len() > keys.len() { ", ..." } else { "" };
    format!("an object with keys: {}{more}", keys.join(", "))
}

fn describe_container(v: &Value) -> String {
    match v {
        Value::Object(m) => describe_map(m),
        Value::Array(a) => format!("an array of {} items", a.len()),
        Value::Null => "null".to_string(),
        Value::Bool(_) => "a boolean".to_string(),
        Value::Number(_) => "a number".to_string(),
        Value::String(_) => "a string".to_string(),
    }
}

/// Applies one override: sets the value at `ptr`, or removes it when `new` is `null`.
/// The error names what is missing; the caller adds where the override came from.
pub fn apply(root: &mut Value, ptr: &str, new: Value) -> Result<(), String> {
    apply_creating(root, ptr, new, &|_, _| false)
}

/// As [`apply`], but a missing object member on the way is created as `{}` when
/// `may_create(tokens of its parent, its key)` says so (never an array item): setting
/// `/limits/max_events` on a scenario without `limits` creates `limits`. Removing
/// (`null`) never creates anything.
pub fn apply_creating(
    root: &mut Value,
    ptr: &str,
    new: Value,
    may_create: &dyn Fn(&[String], &str) -> bool,
) -> Result<(), String> {
    let tokens = parse(ptr)?;
    let Some((last, parents)) = tokens.split_last() else {
        return Err("the pointer \"\" is the whole scenario; an override must point inside it".to_string());
    };
    let mut cur = &mut *root;
    for (depth, t) in parents.iter().enumerate() {
        let here = join(&tokens[..depth]);
        let next = match cur {
            Value::Object(m) => {
                if !m.contains_key(t) && !new.is_null() && may_create(&tokens[..depth], t) {
                    m.insert(t.clone(), Value::Object(serde_json::Map::new()));
                }
                if !m.contains_key(t) {
                    let what = describe_map(m);
                    return Err(format!(
                        "points nowhere: `{}` does not exist ({} is {what})",
                        join(&tokens[..=depth]),
                        if here.is_empty() { "the top level" } else { &here }
                    ));
                }
                m.get_mut(t)
            }
            Value::Array(a) => {
                let len = a.len();
                match index(t) {
                    Some(i) if i < len => a.get_mut(i),
                    _ => {
                        return Err(format!(
                            "points nowhere: `{}` is not an item of `{here}`, an array of {len} items",
                            join(&tokens[..=depth])
                        ));
                    }
                }
            }
            other => {
                return Err(format!(
                    "points nowhere: `{here}` is {}, which has no `{t}`",
                    describe_container(other)
                ));
            }
        };
        match next {
            Some(n) => cur = n,
            None => return Err(format!("points nowhere: `{}` does not exist", join(&tokens[..=depth]))),
        }
    }
    let parent = join(parents);
    let parent_name = if parent.is_empty() { "the top level".to_string() } else { format!("`{parent}`") };
    match cur {
        Value::Object(m) => {
            if new.is_null() {
                if m.shift_remove(last).is_none() {
                    return Err(format!("points nowhere: `{ptr}` does not exist, so it cannot be removed"));
                }
            } else {
                m.insert(last.clone(), new);
            }
            Ok(())
        }
        Value::Array(a) => {
            let len = a.len();
            let i = if last == "-" { Some(len) } else { index(last) };
            match i {
                Some(i) if i < len => {
                    if new.is_null() {
                        a.remove(i);
                    } else if let Some(slot) = a.get_mut(i) {
                        *slot = new;
                    }
                    Ok(())
                }
                Some(i) if i == len && !new.is_null() => {
                    a.push(new);
                    Ok(())
                }
                _ => Err(format!(
                    "points nowhere: {parent_name} is an array of {len} items, which has no item `{last}`"
                )),
            }
        }
        other => Err(format!(
            "points nowhere: {parent_name} is {}, which has no `{last}`",
            describe_container(other)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parse_and_escape() {
        assert_eq!(parse("").unwrap(), Vec::<String>::new());
        assert_eq!(parse("/a~1b/c~0d/").unwrap(), vec!["a/b", "c~d", ""]);
        assert!(parse("a/b").unwrap_err().contains("starts with `/`"));
        assert!(parse("/a~2").unwrap_err().contains("~2"));
        assert!(parse("/a~").unwrap_err().contains("at the end"));
        assert_eq!(join(&["a/b", "c~d"]), "/a~1b/c~0d");
    }

    #[test]
    fn set_replace_add_remove() {
        let mut v = json!({"a": {"b": 1, "c": [1, 2, 3]}, "x/y": 0});
        apply(&mut v, "/a/b", json!(2)).unwrap();
        apply(&mut v, "/a/new", json!("n")).unwrap();
        apply(&mut v, "/a/c/1", json!(20)).unwrap();
        apply(&mut v, "/a/c/-", json!(4)).unwrap();
        apply(&mut v, "/a/c/4", json!(5)).unwrap();
        apply(&mut v, "/a/c/0", Value::Null).unwrap();
        apply(&mut v, "/x~1y", json!(9)).unwrap();
        assert_eq!(v, json!({"a": {"b": 2, "c": [20, 3, 4, 5], "new": "n"}, "x/y": 9}));
        // Replacing keeps the key's position.
        let keys: Vec<&String> = v["a"].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["b", "c", "new"]);
        apply(&mut v, "/a/b", Value::Null).unwrap();
        assert!(v["a"].get("b").is_none());
    }

    #[test]
    fn creates_missing_objects_only_where_allowed() {
        let allow = |parent: &[String], key: &str| {
            parent.is_empty() && key == "limits" || parent == ["limits"] && key == "inner"
        };
        let mut v = json!({"a": [1]});
        apply_creating(&mut v, "/limits/inner/max", json!(5), &allow).unwrap();
        assert_eq!(v, json!({"a": [1], "limits": {"inner": {"max": 5}}}));
        // Not where the predicate says no, nor for a removal, nor below an array.
        let e = apply_creating(&mut v, "/other/max", json!(5), &allow).unwrap_err();
        assert!(e.contains("`/other` does not exist"), "{e}");
        let e = apply_creating(&mut v, "/limits2/max", Value::Null, &|_, _| true).unwrap_err();
        assert!(e.contains("does not exist"), "{e}");
        let e = apply_creating(&mut v, "/a/3/x", json!(1), &|_, _| true).unwrap_err();
        assert!(e.contains("no item") || e.contains("not an item"), "{e}");
        assert_eq!(v, json!({"a": [1], "limits": {"inner": {"max": 5}}}));
    }

    #[test]
    fn errors_name_what_is_missing() {
        let mut v = json!({"a": {"b": 1, "c": [1]}});
        let e =
            apply(&mut v, "/a/b", Value::Null).and_then(|_| apply(&mut v, "/a/b", Value::Null)).unwrap_err();
        assert!(e.contains("points nowhere") && e.contains("/a/b"), "{e}");
        let e = apply(&mut v, "/nope/x", json!(1)).unwrap_err();
        assert!(e.contains("`/nope` does not exist") && e.contains("keys: a"), "{e}");
        let e = apply(&mut v, "/a/c/5", json!(1)).unwrap_err();
        assert!(e.contains("no item `5`"), "{e}");
        let e = apply(&mut v, "/a/c/01", json!(1)).unwrap_err();
        assert!(e.contains("no item `01`"), "{e}");
        let e = apply(&mut v, "/a/c/0/x", json!(1)).unwrap_err();
        assert!(e.contains("a number"), "{e}");
        let e = apply(&mut v, "", json!(1)).unwrap_err();
        assert!(e.contains("whole scenario"), "{e}");
        let e = apply(&mut v, "/a/c/1", Value::Null).unwrap_err();
        assert!(e.contains("points nowhere"), "{e}");
    }
}
