//! Seeded mutation test: the example scenarios, broken in random ways, through the
//! binary. Whatever the input, `faultline` must answer with exit status 0 (it ran), 2
//! (the scenario is invalid) or 1 (a limit or another failure), with a message on
//! standard error for 1 and 2; never a panic (101), a signal (a stack overflow, an abort
//! on allocation failure), a hang, or an "internal error" (a broken invariant).
//!
//! Each case parses one of `scenarios/*.json`, applies 1 to 3 mutations drawn from a
//! splitmix64 stream seeded by the case number (no wall clock, so a case is the same
//! on every machine and every run), writes it to a temporary file and runs
//! `faultline run FILE --json` (sometimes `check`, sometimes `run --out DIR`), shortened
//! with `--set` to 5 simulated seconds and 2 M events unless the mutation is about the
//! run's length or its limits. Each case has a wall-clock timeout, an address-space
//! limit and a 1 MiB stack. The cases run on two threads.
//!
//! `FAULTLINE_MUTATIONS=N` sets the number of cases (default below),
//! `FAULTLINE_MUTATION_SEED=S` the base seed, `FAULTLINE_MUTATION_LOG=FILE` writes one
//! line per case (mutations, exit status, first line of standard error). A failing scenario is kept under
//! `target/mutation-failures/`, and the test prints one reproducer command per failure,
//! grouped by kind.

use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Cases by default: 20 s on two idle cores under the `ci` profile, about a minute on busy
/// ones (2000 took 21 to 46 s, 10,000 took 100 to 150 s).
const DEFAULT_CASES: usize = 3000;
const DEFAULT_SEED: u64 = 0x5eed_fa17_11ae;
/// Wall-clock time one case may take (a run is at most 5 simulated seconds and 2 M
/// events: a few tenths of a second when all is well, but about 5 s for a mutation that
/// gives a workload a million closed users, whose pending set makes every event slow;
/// three times that on a loaded 2-core CI machine). A hang still fails, a minute later.
const CASE_TIMEOUT: Duration = Duration::from_secs(60);
/// Address space of one case, in KiB (`ulimit -v`): an allocation beyond it aborts the
/// process, which the test reports as out of memory.
const ADDRESS_SPACE_KIB: u64 = 4_000_000;
/// Stack of one case, in KiB (`ulimit -s`): the example scenarios, reports included, run
/// in it; a recursion whose depth grows with the input overflows it at the sizes a
/// 5 s run reaches.
const STACK_KIB: u64 = 1024;
const WORKERS: usize = 2;

struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    /// splitmix64
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Key(String),
    Index(usize),
}

fn pointer(path: &[Tok]) -> String {
    path.iter()
        .map(|t| match t {
            Tok::Key(k) => format!("/{}", k.replace('~', "~0").replace('/', "~1")),
            Tok::Index(i) => format!("/{i}"),
        })
        .collect()
}

/// Every node's path, the root's (empty) included, in document order.
fn paths(v: &Value, prefix: &mut Vec<Tok>, out: &mut Vec<Vec<Tok>>) {
    out.push(prefix.clone());
    match v {
        Value::Object(m) => {
            for (k, c) in m {
                prefix.push(Tok::Key(k.clone()));
                paths(c, prefix, out);
                prefix.pop();
            }
        }
        Value::Array(a) => {
            for (i, c) in a.iter().enumerate() {
                prefix.push(Tok::Index(i));
                paths(c, prefix, out);
                prefix.pop();
            }
        }
        _ => {}
    }
}

fn get_mut<'a>(v: &'a mut Value, path: &[Tok]) -> Option<&'a mut Value> {
    let mut cur = v;
    for t in path {
        cur = match (t, cur) {
            (Tok::Key(k), Value::Object(m)) => m.get_mut(k)?,
            (Tok::Index(i), Value::Array(a)) => a.get_mut(*i)?,
            _ => return None,
        };
    }
    Some(cur)
}

fn all_paths(v: &Value) -> Vec<Vec<Tok>> {
    let mut out = Vec::new();
    paths(v, &mut Vec::new(), &mut out);
    out
}

fn get<'a>(v: &'a Value, path: &[Tok]) -> Option<&'a Value> {
    let mut cur = v;
    for t in path {
        cur = match (t, cur) {
            (Tok::Key(k), Value::Object(m)) => m.get(k)?,
            (Tok::Index(i), Value::Array(a)) => a.get(*i)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// Paths of the nodes that satisfy `f`.
fn paths_where(v: &Value, f: impl Fn(&[Tok], &Value) -> bool) -> Vec<Vec<Tok>> {
    all_paths(v).into_iter().filter(|p| get(v, p).is_some_and(|n| f(p, n))).collect()
}

fn is_duration(s: &str) -> bool {
    let s = s.trim();
    s.chars().next().is_some_and(|c| c.is_ascii_digit())
        && ["ns", "us", "µs", "ms", "s", "m", "h"].iter().any(|u| s.ends_with(u))
}

const NUMBERS: &[&str] = &[
    "0",
    "-1",
    "1",
    "2",
    "1e9",
    "1e300",
    "-1e300",
    "1e-9",
    "0.5",
    "65535",
    "65536",
    "65537",
    "4294967295",
    "4294967296",
    "18446744073709551615",
    "18446744073709551616",
    "9223372036854775807",
    "-9223372036854775808",
    "100000000000000000000000000000",
    "\"NaN\"",
    "\"inf\"",
    "\"-inf\"",
    "\"1e400\"",
    "\"-0\"",
    "\"5\"",
];

const DURATIONS: &[&str] = &[
    "0s",
    "0ms",
    "1ns",
    "10000h",
    "abc",
    "",
    "-1s",
    "1.5",
    "1e3s",
    "0.0000001ns",
    "18446744073709551615ns",
    "18446744073709551616ns",
    "99999999999999h",
    "NaNs",
    "infs",
    "1 s",
    "1ms ",
    "1..5ms",
    "5µs",
    "2m",
    "1h",
    "100us",
];

/// Strings the format gives a meaning to, so a swap lands on another valid-looking one.
const WORDS: &[&str] = &[
    "fifo",
    "lifo",
    "none",
    "full",
    "equal",
    "decorrelated",
    "timeout",
    "rejected",
    "unavailable",
    "circuit_open",
    "bulkhead_full",
    "error",
    "declined",
    "round_robin",
    "random",
    "least_outstanding",
    "p2c",
    "replica",
    "service",
    "database",
    "cache",
    "broker",
    "readiness",
    "liveness",
    "dead_letter",
    "drop",
    "persistent",
    "best_effort",
    "saga:nope",
    "topic:nope",
    "nope.nope",
    "nope#0",
    "x#99999999999",
    "#",
    ".",
    "",
    "UPPER",
    "a b",
    "é",
];

/// The services, endpoints, topics and sagas of a scenario, as references.
fn names(v: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(Value::Object(s)) = v.get("services") {
        for (name, svc) in s {
            out.push(name.clone());
            out.push(format!("{name}#0"));
            out.push(format!("{name}#7"));
            if let Some(Value::Object(eps)) = svc.get("endpoints") {
                for e in eps.keys() {
                    out.push(format!("{name}.{e}"));
                }
            }
        }
    }
    for (section, prefix) in [("topics", "topic:"), ("sagas", "saga:")] {
        if let Some(Value::Object(m)) = v.get(section) {
            for k in m.keys() {
                out.push(k.clone());
                out.push(format!("{prefix}{k}"));
            }
        }
    }
    out
}

/// One mutation; returns a label and the path it touched. Rough ones mostly make the
/// scenario invalid (the loader must say where); gentle ones keep it valid more often
/// than not, but push the model to its corners.
fn mutate(v: &mut Value, rng: &mut Rng, gentle_only: bool) -> Option<(String, String)> {
    for _ in 0..20 {
        let kind = if !gentle_only && rng.chance(50) { rng.below(11) } else { 11 + rng.below(12) };
        let done = match kind {
            // A number changed to an extreme, a boundary, or a string.
            0 => {
                let ps = paths_where(v, |_, n| n.is_number());
                if ps.is_empty() {
                    continue;
                }
                let p = rng.pick(&ps).clone();
                let text = *rng.pick(NUMBERS);
                let new: Value = serde_json::from_str(text).unwrap_or(Value::String(text.into()));
                *get_mut(v, &p)? = new;
                Some((format!("number {text}"), pointer(&p)))
            }
            // A value of another type.
            1 => {
                let ps = all_paths(v);
                let p = rng.pick(&ps).clone();
                let node = get_mut(v, &p)?;
                let old = node.clone();
                let choices = [
                    Value::Null,
                    json!(true),
                    json!("x"),
                    json!(1),
                    json!(-3.5),
                    json!([]),
                    json!({}),
                    json!([old.clone()]),
                    json!({ "k": old }),
                ];
                let i = rng.below(choices.len());
                *node = choices[i].clone();
                Some((format!("type swap {i}"), pointer(&p)))
            }
            // A key deleted.
            2 => {
                let ps = paths_where(v, |p, _| matches!(p.last(), Some(Tok::Key(_))));
                if ps.is_empty() {
                    continue;
                }
                let p = rng.pick(&ps).clone();
                let (last, parent) = p.split_last()?;
                let Tok::Key(k) = last else { continue };
                get_mut(v, parent)?.as_object_mut()?.shift_remove(k);
                Some(("delete key".into(), pointer(&p)))
            }
            // An array item duplicated (a second service step, a second fault, a
            // second workload with the same name...).
            3 => {
                let ps = paths_where(v, |_, n| n.as_array().is_some_and(|a| !a.is_empty()));
                if ps.is_empty() {
                    continue;
                }
                let p = rng.pick(&ps).clone();
                let a = get_mut(v, &p)?.as_array_mut()?;
                let i = rng.below(a.len());
                let copies = if rng.chance(20) { 1 + rng.below(300) } else { 1 };
                for _ in 0..copies {
                    a.insert(i, a[i].clone());
                }
                Some((format!("duplicate item x{copies}"), pointer(&p)))
            }
            // A key renamed (to a typo, to a sibling's name, to another name of the
            // scenario).
            4 => {
                let ps = paths_where(v, |p, _| matches!(p.last(), Some(Tok::Key(_))));
                if ps.is_empty() {
                    continue;
                }
                let p = rng.pick(&ps).clone();
                let (last, parent) = p.split_last()?;
                let Tok::Key(k) = last else { continue };
                let ns = names(v);
                let new = match rng.below(5) {
                    0 => format!("{k}x"),
                    1 => k.to_uppercase(),
                    2 => String::new(),
                    3 if !ns.is_empty() => rng.pick(&ns).clone(),
                    _ => rng.pick(WORDS).to_string(),
                };
                let m = get_mut(v, parent)?.as_object_mut()?;
                let mut out = Map::new();
                for (kk, vv) in std::mem::take(m) {
                    if &kk == k {
                        out.insert(new.clone(), vv);
                    } else {
                        out.insert(kk, vv);
                    }
                }
                *m = out;
                Some((format!("rename key to {new:?}"), pointer(&p)))
            }
            // An unknown key inserted into an object.
            5 => {
                let ps = paths_where(v, |_, n| n.is_object());
                if ps.is_empty() {
                    continue;
                }
                let p = rng.pick(&ps).clone();
                let key = *rng.pick(&["bogus", "Replicas", "timeout", "percent", "steps", "$schema", ""]);
                get_mut(v, &p)?.as_object_mut()?.insert(key.into(), json!(1));
                Some((format!("insert key {key:?}"), pointer(&p)))
            }
            // A string changed to another word of the format, or a reference to
            // another part of the scenario.
            6 => {
                let ps = paths_where(v, |_, n| n.is_string());
                if ps.is_empty() {
                    continue;
                }
                let p = rng.pick(&ps).clone();
                let ns = names(v);
                let new = if rng.chance(50) && !ns.is_empty() {
                    rng.pick(&ns).clone()
                } else {
                    rng.pick(WORDS).to_string()
                };
                *get_mut(v, &p)? = json!(new);
                Some((format!("string {new:?}"), pointer(&p)))
            }
            // A duration changed.
            7 => {
                let ps = paths_where(v, |_, n| n.as_str().is_some_and(is_duration));
                if ps.is_empty() {
                    continue;
                }
                let p = rng.pick(&ps).clone();
                let d = *rng.pick(DURATIONS);
                *get_mut(v, &p)? = json!(d);
                Some((format!("duration {d:?}"), pointer(&p)))
            }
            // A whole section removed or emptied.
            8 => {
                let m = v.as_object_mut()?;
                let keys: Vec<String> = m.keys().cloned().collect();
                if keys.is_empty() {
                    continue;
                }
                let k = rng.pick(&keys).clone();
                let how = rng.below(3);
                match how {
                    0 => {
                        m.shift_remove(&k);
                    }
                    1 => {
                        m.insert(k.clone(), json!({}));
                    }
                    _ => {
                        m.insert(k.clone(), json!([]));
                    }
                }
                Some((format!("section {}", ["removed", "emptied {}", "emptied []"][how]), format!("/{k}")))
            }
            // A limit set to an extreme.
            9 => {
                let mut keys = faultline::spec::Limits::KEYS.to_vec();
                keys.push("bogus");
                let k = *rng.pick(&keys);
                let text = *rng.pick(NUMBERS);
                let n: Value = serde_json::from_str(text).unwrap_or(Value::String(text.into()));
                let m = v.as_object_mut()?;
                let limits = m.entry("limits").or_insert_with(|| json!({}));
                limits.as_object_mut()?.insert(k.into(), n);
                Some((format!("limit {text}"), format!("/limits/{k}")))
            }
            // A numeric field of a policy, a topic or a service pushed to a size the
            // model has to hold (many attempts, replicas, partitions, users).
            10 => {
                let ps = paths_where(v, |p, n| {
                    n.is_u64()
                        && matches!(p.last(), Some(Tok::Key(k)) if [
                            "max_attempts", "replicas", "concurrency", "capacity", "partitions", "consumers",
                            "users", "max_concurrent", "max_extra", "half_open_calls", "minimum_calls",
                            "consecutive_failures", "entities", "count", "unhealthy_after",
                        ].contains(&k.as_str()))
                });
                if ps.is_empty() {
                    continue;
                }
                let p = rng.pick(&ps).clone();
                let n = *rng.pick(&[0u64, 1, 3, 255, 256, 65_535, 65_536, 65_537, 1_000_000, 4_294_967_295]);
                *get_mut(v, &p)? = json!(n);
                Some((format!("size {n}"), pointer(&p)))
            }
            _ => gentle(v, rng, kind - 11),
        };
        if done.is_some() {
            return done;
        }
    }
    None
}

/// Keys whose absence makes a scenario invalid: the gentle deletions keep them.
const REQUIRED: &[&str] = &[
    "duration",
    "services",
    "name",
    "target",
    "arrival",
    "rate",
    "users",
    "think",
    "group",
    "endpoint",
    "orchestrator",
    "steps",
    "action",
    "start",
    "to",
    "weight",
    "between",
    "from",
    "max_concurrent",
    "after",
    "initial",
    "mean",
    "min",
    "max",
    "p50",
    "stddev",
    "cv",
    "scale",
    "shape",
    "dist",
    "latency",
    "factor",
    "duration",
    "rate_threshold",
    "percent",
    "at",
    "count",
    "time",
];

/// Enumerations of the format, by the key that holds them.
const ENUMS: &[(&str, &[&str])] = &[
    ("discipline", &["fifo", "lifo"]),
    ("jitter", &["none", "full", "equal", "decorrelated"]),
    ("load_balancer", &["round_robin", "random", "least_outstanding", "p2c"]),
    ("on_exhausted", &["dead_letter", "drop"]),
    ("probe", &["readiness", "liveness"]),
    ("compensation_policy", &["persistent", "best_effort"]),
    ("kind", &["service", "database", "cache", "broker"]),
    ("scope", &["replica", "service"]),
    ("key", &["random", "round_robin"]),
];

/// Mutations that keep the scenario valid more often than not.
fn gentle(v: &mut Value, rng: &mut Rng, kind: usize) -> Option<(String, String)> {
    let key_is =
        |p: &[Tok], keys: &[&str]| matches!(p.last(), Some(Tok::Key(k)) if keys.contains(&k.as_str()));
    match kind {
        // A size within the bounds the loader accepts, small or large.
        0 => {
            let sizes = [
                "max_attempts",
                "replicas",
                "concurrency",
                "capacity",
                "partitions",
                "consumers",
                "users",
                "max_concurrent",
                "half_open_calls",
                "minimum_calls",
                "consecutive_failures",
                "entities",
                "count",
                "unhealthy_after",
                "healthy_after",
                "success_threshold",
                "consecutive_errors",
            ];
            let ps = paths_where(v, |p, n| n.is_u64() && key_is(p, &sizes));
            if ps.is_empty() {
                return None;
            }
            let p = rng.pick(&ps).clone();
            let n = *rng.pick(&[1u64, 1, 2, 3, 100, 1000, 10_000, 65_536, 100_000, 1_000_000]);
            *get_mut(v, &p)? = json!(n);
            Some((format!("valid size {n}"), pointer(&p)))
        }
        // A valid duration at an extreme.
        1 => {
            let ps = paths_where(v, |_, n| n.as_str().is_some_and(is_duration));
            if ps.is_empty() {
                return None;
            }
            let p = rng.pick(&ps).clone();
            let d = *rng.pick(&["1ns", "1us", "1ms", "0ms", "100ms", "1s", "10s", "1h", "10000h"]);
            *get_mut(v, &p)? = json!(d);
            Some((format!("valid duration {d:?}"), pointer(&p)))
        }
        // A step, fault, branch, route or mixture part duplicated.
        2 => {
            let ps = paths_where(v, |p, n| {
                n.as_array().is_some_and(|a| !a.is_empty())
                    && key_is(p, &["steps", "faults", "parallel", "route", "mixture", "retry_on"])
                    && !matches!(p.first(), Some(Tok::Key(k)) if k == "sagas")
            });
            if ps.is_empty() {
                return None;
            }
            let p = rng.pick(&ps).clone();
            let a = get_mut(v, &p)?.as_array_mut()?;
            let i = rng.below(a.len());
            a.insert(i, a[i].clone());
            Some(("duplicate item".into(), pointer(&p)))
        }
        // An optional key deleted.
        3 => {
            let ps = paths_where(
                v,
                |p, _| matches!(p.last(), Some(Tok::Key(k)) if !REQUIRED.contains(&k.as_str())),
            );
            if ps.is_empty() {
                return None;
            }
            let p = rng.pick(&ps).clone();
            let (Tok::Key(k), parent) = p.split_last()? else { return None };
            get_mut(v, parent)?.as_object_mut()?.shift_remove(k);
            Some(("delete optional key".into(), pointer(&p)))
        }
        // An enumeration changed to another of its values, or a flag flipped.
        4 => {
            let ps = paths_where(v, |p, n| {
                n.is_boolean() || (n.is_string() && ENUMS.iter().any(|(k, _)| key_is(p, &[k])))
            });
            if ps.is_empty() {
                return None;
            }
            let p = rng.pick(&ps).clone();
            let node = get_mut(v, &p)?;
            let new = match node {
                Value::Bool(b) => json!(!*b),
                _ => {
                    let Some(Tok::Key(k)) = p.last() else { return None };
                    let (_, values) = ENUMS.iter().find(|(kk, _)| kk == k)?;
                    json!(rng.pick(values))
                }
            };
            *node = new.clone();
            Some((format!("enum {new}"), pointer(&p)))
        }
        // A share, rate or factor at an extreme of its range.
        5 => {
            let ps = paths_where(v, |p, n| {
                n.is_number()
                    && key_is(
                        p,
                        &[
                            "percent",
                            "failure_rate_threshold",
                            "rate_threshold",
                            "max_ejection_percent",
                            "weight",
                            "rate",
                            "factor",
                            "multiplier",
                            "cv",
                            "shape",
                            "sigma",
                            "min_per_second",
                        ],
                    )
            });
            if ps.is_empty() {
                return None;
            }
            let p = rng.pick(&ps).clone();
            let x = *rng.pick(&[0.0, 1e-9, 0.5, 1.0, 99.999, 100.0, 1000.0, 1e6]);
            *get_mut(v, &p)? = json!(x);
            Some((format!("valid number {x}"), pointer(&p)))
        }
        // An endpoint that fails at once: a consumer group's backlog, a retry loop, a
        // persistent compensation all spin on it.
        6 => {
            let ps = paths_where(v, |p, n| {
                n.is_object() && p.len() == 4 && matches!(&p[2], Tok::Key(k) if k == "endpoints")
            });
            if ps.is_empty() {
                return None;
            }
            let p = rng.pick(&ps).clone();
            let e = get_mut(v, &p)?.as_object_mut()?;
            e.insert("latency".into(), json!({"constant": "0ms"}));
            e.insert("errors".into(), json!({"percent": 100}));
            e.shift_remove("declines");
            Some(("fails at once".into(), pointer(&p)))
        }
        // Direct traffic to an endpoint (often a topic's handler, which then shares its
        // service and its workers with it).
        7 => {
            let eps: Vec<String> = names(v).into_iter().filter(|n| n.contains('.')).collect();
            if eps.is_empty() {
                return None;
            }
            let target = rng.pick(&eps).clone();
            let rate = *rng.pick(&[1, 50, 500, 5000]);
            let w = v.as_object_mut()?.entry("workload").or_insert_with(|| json!([]));
            let a = w.as_array_mut()?;
            let name = format!("mutant-{}", a.len());
            a.push(json!({"name": name, "target": target, "arrival": {"poisson": {"rate": rate}}}));
            Some((format!("traffic to {target} at {rate}/s"), "/workload/-".into()))
        }
        // Closed users who think for no time: a refusal at once is a zero-time loop
        // that `max_events_per_instant` must stop.
        8 => {
            let ps = paths_where(v, |p, _| key_is(p, &["think"]));
            if ps.is_empty() {
                return None;
            }
            let p = rng.pick(&ps).clone();
            *get_mut(v, &p)? = json!({"constant": "0ms"});
            Some(("think 0ms".into(), pointer(&p)))
        }
        // A queue timeout on a service: work dropped at dequeue, answered at once.
        9 => {
            let ps = paths_where(v, |p, n| {
                n.is_object() && p.len() == 2 && matches!(&p[0], Tok::Key(k) if k == "services")
            });
            if ps.is_empty() {
                return None;
            }
            let p = rng.pick(&ps).clone();
            let t = *rng.pick(&["1ns", "1ms", "5ms"]);
            let svc = get_mut(v, &p)?.as_object_mut()?;
            let q = svc.entry("queue").or_insert_with(|| json!({}));
            q.as_object_mut()?.insert("timeout".into(), json!(t));
            Some((format!("queue timeout {t}"), pointer(&p)))
        }
        // Retries or redeliveries without end in sight, or none at all.
        10 => {
            let ps = paths_where(v, |p, n| {
                n.is_object()
                    && (key_is(p, &["retry"])
                        || matches!(p.get(p.len().wrapping_sub(2)), Some(Tok::Key(k)) if k == "subscribers"))
            });
            if ps.is_empty() {
                return None;
            }
            let p = rng.pick(&ps).clone();
            let n = *rng.pick(&[1u64, 65_535, 65_536, 1_000_000]);
            let o = get_mut(v, &p)?.as_object_mut()?;
            o.insert("max_attempts".into(), json!(n));
            o.shift_remove("backoff");
            Some((format!("max_attempts {n}, no backoff"), pointer(&p)))
        }
        // A fault added: a crash, an abort, a topic outage, a partition.
        _ => {
            let ns = names(v);
            let services: Vec<&String> = ns.iter().filter(|n| !n.contains(['.', '#', ':'])).collect();
            if services.is_empty() {
                return None;
            }
            let s = rng.pick(&services).to_string();
            let other = rng.pick(&services).to_string();
            let topics: Vec<&String> = ns.iter().filter(|n| n.starts_with("topic:")).collect();
            let start = *rng.pick(&["0s", "500ms", "1s", "2s"]);
            let f = match rng.below(4) {
                0 => json!({"crash": {"target": format!("{s}#0"), "start": start, "restart_after": "1s"}}),
                1 => json!({"abort": {"target": s, "start": start, "duration": "2s"}}),
                2 if !topics.is_empty() => {
                    json!({"outage": {"target": rng.pick(&topics).as_str(), "start": start, "duration": "2s"}})
                }
                _ => json!({"partition": {"between": [[s], [other]], "start": start, "duration": "1s"}}),
            };
            let fs = v.as_object_mut()?.entry("faults").or_insert_with(|| json!([]));
            fs.as_array_mut()?.push(f.clone());
            Some((format!("fault {f}"), "/faults/-".into()))
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Mode {
    Run,
    Check,
    RunOut,
}

struct Case {
    index: usize,
    source: String,
    text: String,
    mutations: Vec<(String, String)>,
    mode: Mode,
    sets: Vec<String>,
}

fn make_case(index: usize, base_seed: u64, sources: &[(String, Value)]) -> Case {
    let mut rng = Rng::new(base_seed ^ (index as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    rng.next();
    let (source, original) = rng.pick(sources);
    let mut v = original.clone();
    let n = 1 + rng.below(3);
    // Half the cases only gently: a rough mutation among three is usually enough to make
    // the scenario invalid, and the model is only reached by valid ones.
    let gentle_only = rng.chance(50);
    let mut mutations = Vec::new();
    for _ in 0..n {
        if let Some(m) = mutate(&mut v, &mut rng, gentle_only) {
            mutations.push(m);
        }
    }
    let mode = match rng.below(10) {
        0 | 1 => Mode::Check,
        2 => Mode::RunOut,
        _ => Mode::Run,
    };
    // Shorten the run unless the mutation is about its length or its limits.
    let touches = |prefix: &str| mutations.iter().any(|(_, p)| p.starts_with(prefix) || p.is_empty());
    let mut sets = Vec::new();
    if v.is_object() {
        if !(touches("/duration") || touches("/warmup") || touches("/interval")) {
            sets.push("/duration=5s".to_string());
            sets.push("/warmup=1s".to_string());
        }
        if !touches("/limits") || touches("/duration") {
            match v.get("limits") {
                Some(Value::Object(_)) => sets.push("/limits/max_events=2000000".to_string()),
                _ => sets.push(r#"/limits={"max_events":2000000}"#.to_string()),
            }
        }
    }
    let text = if rng.chance(95) {
        serde_json::to_string_pretty(&v).unwrap()
    } else {
        // Sometimes broken JSON: cut short.
        let t = serde_json::to_string_pretty(&v).unwrap();
        let mut cut = rng.below(t.len().max(1));
        while !t.is_char_boundary(cut) {
            cut -= 1;
        }
        t[..cut].to_string()
    };
    Case { index, source: source.clone(), text, mutations, mode, sets }
}

fn args(case: &Case, file: &Path, out_dir: &Path) -> Vec<String> {
    let mut a = vec![
        match case.mode {
            Mode::Check => "check",
            _ => "run",
        }
        .to_string(),
        file.display().to_string(),
    ];
    if let Mode::Check = case.mode {
        return a;
    }
    a.push("--json".into());
    for s in &case.sets {
        a.push("--set".into());
        a.push(s.clone());
    }
    if let Mode::RunOut = case.mode {
        a.push("--out".into());
        a.push(out_dir.display().to_string());
    }
    a
}

fn shell_quote(s: &str) -> String {
    if s.chars().all(|c| c.is_ascii_alphanumeric() || "/._-=".contains(c)) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// A message with its numbers and paths blurred, so that failures of one kind group.
fn blur(s: &str) -> String {
    let mut out = String::new();
    let mut last_digit = false;
    for c in s.chars() {
        if c.is_ascii_digit() {
            if !last_digit {
                out.push('N');
            }
            last_digit = true;
        } else {
            last_digit = false;
            out.push(c);
        }
    }
    out.chars().take(160).collect()
}

struct Outcome {
    /// Mutations, status and first line of standard error, for `FAULTLINE_MUTATION_LOG`.
    log: String,
    /// `None`: the case passed.
    failure: Option<String>,
    /// Exit status 2 whose message names a JSON path or a line.
    exit2_named: Option<bool>,
    status: String,
}

fn run_case(case: &Case, work: &Path) -> Outcome {
    let file = work.join(format!("case-{}.json", case.index));
    let out_dir = work.join(format!("out-{}", case.index));
    let stdout_path = work.join(format!("case-{}.stdout", case.index));
    let stderr_path = work.join(format!("case-{}.stderr", case.index));
    std::fs::write(&file, &case.text).unwrap();
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(format!("ulimit -v {ADDRESS_SPACE_KIB}; ulimit -s {STACK_KIB}; exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_faultline"))
        .args(args(case, &file, &out_dir))
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout_path).unwrap())
        .stderr(std::fs::File::create(&stderr_path).unwrap());
    let start = Instant::now();
    let mut child = cmd.spawn().expect("cannot start sh");
    let status = loop {
        match child.try_wait().expect("wait") {
            Some(s) => break Some(s),
            None if start.elapsed() > CASE_TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            None => std::thread::sleep(Duration::from_millis(5)),
        }
    };
    let stderr = std::fs::read_to_string(&stderr_path).unwrap_or_default();
    let stdout = std::fs::read_to_string(&stdout_path).unwrap_or_default();
    let _ = std::fs::remove_file(&stdout_path);
    let _ = std::fs::remove_file(&stderr_path);
    let _ = std::fs::remove_dir_all(&out_dir);
    let _ = std::fs::remove_file(&file);
    let first_line = |pat: &str| stderr.lines().find(|l| l.contains(pat)).map(blur);
    let mut exit2_named = None;
    let failure = match status {
        None => Some(format!("hang: no answer within {} s", CASE_TIMEOUT.as_secs())),
        Some(s) => {
            use std::os::unix::process::ExitStatusExt;
            match (s.code(), s.signal()) {
                (_, Some(sig)) => Some(if stderr.contains("overflowed its stack") {
                    format!("signal {sig}: stack overflow")
                } else if stderr.contains("memory allocation") {
                    format!("signal {sig}: out of memory (above {ADDRESS_SPACE_KIB} KiB of address space)")
                } else {
                    format!("signal {sig}: {}", stderr.lines().last().map(blur).unwrap_or_default())
                }),
                (Some(101), _) => Some(format!(
                    "panic (exit 101): {}",
                    stderr
                        .lines()
                        .skip_while(|l| !l.contains("panicked"))
                        .take(2)
                        .map(blur)
                        .collect::<Vec<_>>()
                        .join(" ")
                )),
                // 3: a run whose thresholds failed.
                (Some(c), _) if c > 3 => Some(format!("exit status {c}")),
                _ if stderr.contains("panicked") => {
                    Some(format!("panicked: {}", first_line("panicked").unwrap()))
                }
                _ if stderr.contains("internal error") => {
                    let detail = stderr
                        .lines()
                        .skip_while(|l| !l.contains("internal error"))
                        .nth(1)
                        .map(|l| blur(l.trim()))
                        .unwrap_or_default();
                    Some(format!("internal error: {detail}"))
                }
                (Some(c @ (1 | 2)), _) if stderr.trim().is_empty() => {
                    Some(format!("exit {c} with nothing on stderr"))
                }
                (Some(0 | 3), _)
                    if !matches!(case.mode, Mode::Check)
                        && serde_json::from_str::<Value>(&stdout).is_err() =>
                {
                    Some("exit 0 but --json printed no valid JSON".into())
                }
                (Some(2), _) => {
                    exit2_named = Some(stderr.contains('/') || stderr.contains("line"));
                    None
                }
                _ => None,
            }
        }
    };
    let status = match status {
        None => "timeout".into(),
        Some(s) => match s.code() {
            Some(c) => format!("exit {c}"),
            None => "signal".into(),
        },
    };
    let what: Vec<String> = case.mutations.iter().map(|(m, p)| format!("{m} at {p}")).collect();
    let log = format!(
        "{}\t{}\t{}\t{:?}\t{}\t{}",
        case.index,
        case.source,
        status,
        case.mode,
        what.join("; "),
        stderr.lines().next().unwrap_or("")
    );
    Outcome { log, failure, exit2_named, status }
}

fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).parent().unwrap().to_path_buf()
}

#[test]
fn mutated_scenarios_never_crash_hang_or_panic() {
    let cases: usize =
        std::env::var("FAULTLINE_MUTATIONS").ok().and_then(|s| s.parse().ok()).unwrap_or(DEFAULT_CASES);
    let seed: u64 =
        std::env::var("FAULTLINE_MUTATION_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(DEFAULT_SEED);
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    let sources: Vec<(String, Value)> = files
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).unwrap();
            (p.file_name().unwrap().to_string_lossy().into_owned(), serde_json::from_str(&text).unwrap())
        })
        .collect();
    assert!(!sources.is_empty());

    let work = std::env::temp_dir().join(format!("faultline-mutation-{}", std::process::id()));
    std::fs::create_dir_all(&work).unwrap();
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, Outcome)>> = Mutex::new(Vec::new());
    let started = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..WORKERS {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= cases {
                        break;
                    }
                    let case = make_case(i, seed, &sources);
                    let outcome = run_case(&case, &work);
                    results.lock().unwrap().push((i, outcome));
                }
            });
        }
    });
    let elapsed = started.elapsed();
    let _ = std::fs::remove_dir_all(&work);
    let mut results = results.into_inner().unwrap();
    results.sort_by_key(|(i, _)| *i);

    if let Ok(path) = std::env::var("FAULTLINE_MUTATION_LOG") {
        let lines: Vec<&str> = results.iter().map(|(_, o)| o.log.as_str()).collect();
        std::fs::write(path, lines.join("\n") + "\n").unwrap();
    }
    let mut statuses: BTreeMap<String, usize> = BTreeMap::new();
    let (mut exit2, mut exit2_named) = (0, 0);
    let mut failures: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, o) in &results {
        *statuses.entry(o.status.clone()).or_default() += 1;
        if let Some(named) = o.exit2_named {
            exit2 += 1;
            exit2_named += named as usize;
        }
        if let Some(f) = &o.failure {
            failures.entry(f.clone()).or_default().push(*i);
        }
    }
    eprintln!(
        "mutation: {cases} cases (seed {seed}) in {:.1} s; {statuses:?}; exit 2 naming a path or line: {exit2_named} of {exit2} ({:.1}%)",
        elapsed.as_secs_f64(),
        100.0 * exit2_named as f64 / exit2.max(1) as f64
    );
    if failures.is_empty() {
        return;
    }
    let keep = target_dir().join("mutation-failures");
    std::fs::create_dir_all(&keep).unwrap();
    let mut report = String::new();
    let total: usize = failures.values().map(Vec::len).sum();
    report += &format!("{total} of {cases} mutated scenarios failed, {} kinds:\n", failures.len());
    for (kind, idx) in &failures {
        report += &format!("\n== {kind} ({} cases)\n", idx.len());
        for &i in idx.iter().take(10) {
            let case = make_case(i, seed, &sources);
            let file = keep.join(format!("case-{seed}-{i}.json"));
            std::fs::write(&file, &case.text).unwrap();
            let out_dir = keep.join(format!("case-{seed}-{i}-out"));
            let cmd: Vec<String> = args(&case, &file, &out_dir).iter().map(|a| shell_quote(a)).collect();
            let what: Vec<String> = case.mutations.iter().map(|(m, p)| format!("{m} at {p}")).collect();
            report += &format!(
                "  faultline {}   # from {}: {}\n",
                cmd.join(" "),
                case.source,
                if what.is_empty() { "no mutation".into() } else { what.join("; ") }
            );
        }
        if idx.len() > 10 {
            report += &format!("  ... and {} more\n", idx.len() - 10);
        }
    }
    panic!("{report}");
}
