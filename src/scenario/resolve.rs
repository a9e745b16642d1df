//! Raw scenario → [`Spec`], in one pass that collects every problem with its JSON path.
//!
//! Names become dense ids in file order, durations become integer nanoseconds,
//! percentages become probabilities. Each check records a problem and carries on with a
//! placeholder value, so one run of `faultline check` shows everything that is wrong; a
//! `Spec` is returned only when there were no problems at all.

use std::collections::BTreeMap;

mod adaptive;
mod autoscale;
mod cache;

use super::duration::{format_ns, parse_duration};
use super::pointer::escape;
use super::raw::*;
use crate::dist::Dist;
use crate::spec::*;

mod queues;
mod ratelimit;
mod shed;

/// A problem before it is located in the text.
#[derive(Clone, Debug, PartialEq)]
pub struct RawProblem {
    pub path: String,
    pub message: String,
    /// Point at the key rather than the value (unknown keys, bad names).
    pub at_key: bool,
    /// About the command line, not the file: no line and column.
    pub cli: bool,
}

/// Most problems listed for one scenario; beyond, they are counted. Keeps a file with a
/// problem in every value from taking memory in proportion to values × path length.
pub const MAX_PROBLEMS: usize = 1000;

pub const MAX_SERVICES: usize = 10_000;
pub const MAX_REPLICAS_PER_SERVICE: u32 = 10_000;
pub const MAX_REPLICAS_TOTAL: u64 = 1_000_000;
pub const MAX_CONCURRENCY: u32 = 1_000_000;
pub const MAX_STEPS: usize = 1024;
/// Most steps of a saga (the model keeps a saga's step states in 64-bit masks).
pub const MAX_SAGA_STEPS: usize = 64;
pub const MAX_BRANCHES: usize = 256;
pub const MAX_ROUTE_TARGETS: usize = 256;
pub const MAX_MIXTURE_PARTS: usize = 256;
pub const MAX_USERS: u32 = 10_000_000;
pub const MAX_BUCKETS: u64 = 1_000_000;
pub const MAX_PARTITIONS: u32 = 10_000;
pub const MAX_CONSUMERS: u32 = 10_000;
/// Most attempts of a call (`retry.max_attempts`): the model counts a call's tries in
/// 32 bits, and no client retries anywhere near this often.
pub const MAX_RETRY_ATTEMPTS: u32 = 10_000;
/// Most handling attempts of one message by a consumer group (`max_attempts`): the
/// message blocks its partition meanwhile; real consumers give up after a handful.
pub const MAX_GROUP_ATTEMPTS: u32 = 10_000;
/// Most arrivals per second of an open workload: the clock ticks in nanoseconds, so a
/// higher rate would put several arrivals on one tick.
pub const MAX_RATE_PER_S: f64 = 1e9;
/// Most `sigma` of a lognormal given by `p50` and `sigma`: at 10, p99 is already 10^10
/// times p50.
pub const MAX_SIGMA: f64 = 10.0;
/// Bounds of a Pareto `shape` (tail index); real latency tails are between 1 and 3.
pub const MIN_PARETO_SHAPE: f64 = 0.01;
pub const MAX_PARETO_SHAPE: f64 = 100.0;
/// Most `factor` of a slowdown fault: a thousandfold slowdown is already an outage.
pub const MAX_SLOWDOWN_FACTOR: f64 = 1000.0;
/// Most `multiplier` of an exponential backoff.
pub const MAX_BACKOFF_MULTIPLIER: f64 = 1000.0;
/// Default cap of an exponential backoff without `max`.
pub const DEFAULT_BACKOFF_MAX_NS: Nanos = 3_600 * NS_PER_S;

/// A JSON pointer under construction.
#[derive(Clone, Debug)]
struct P(String);

impl P {
    fn root() -> P {
        P(String::new())
    }
    fn k(&self, key: &str) -> P {
        P(format!("{}/{}", self.0, escape(key)))
    }
    fn i(&self, i: usize) -> P {
        P(format!("{}/{i}", self.0))
    }
}

/// Whether `s` is a valid name: `[a-z0-9_-]+`.
pub fn is_name(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// Levenshtein distance, for "did you mean" hints (names are short).
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev.last().copied().unwrap_or(0)
}

/// " (did you mean `x`?)" when one candidate is close, else "".
pub fn suggest<'c>(wrong: &str, candidates: impl IntoIterator<Item = &'c str>) -> String {
    let best = candidates
        .into_iter()
        .map(|c| (edit_distance(wrong, c), c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 4) && *d > 0)
        .min_by_key(|(d, _)| *d);
    match best {
        Some((_, c)) => format!(" (did you mean `{c}`?)"),
        None => String::new(),
    }
}

/// A short list of names for messages.
fn list<'c>(names: impl IntoIterator<Item = &'c str>) -> String {
    let all: Vec<&str> = names.into_iter().collect();
    if all.is_empty() {
        return "none".to_string();
    }
    let shown: Vec<&str> = all.iter().copied().take(20).collect();
    let more = if all.len() > shown.len() { format!(", ... ({} in all)", all.len()) } else { String::new() };
    format!("{}{more}", shown.join(", "))
}

/// A number as a reader would write it: `0.5`, `120`, and `1e300` rather than 301 digits.
fn fmt_f(v: f64) -> String {
    let a = v.abs();
    if a != 0.0 && a.is_finite() && !(1e-6..1e15).contains(&a) { format!("{v:e}") } else { format!("{v}") }
}

struct ServiceInfo<'a> {
    name: &'a str,
    /// Of `kind: "cache"` (what a `cache` step may read).
    is_cache: bool,
    replicas: u32,
    first_replica: ReplicaId,
    /// `(endpoint name, id)` in file order.
    endpoints: Vec<(&'a str, EndpointId)>,
}

struct R<'a> {
    problems: Vec<RawProblem>,
    /// Problems found beyond `MAX_PROBLEMS`.
    dropped: usize,
    duration_ns: Nanos,
    services: Vec<ServiceInfo<'a>>,
    service_ids: BTreeMap<&'a str, ServiceId>,
    endpoint_names: Vec<String>,
    policy_ids: BTreeMap<&'a str, PolicyId>,
    policy_names: Vec<&'a str>,
    topic_names: Vec<&'a str>,
    topic_ids: BTreeMap<&'a str, TopicId>,
    saga_names: Vec<&'a str>,
    saga_ids: BTreeMap<&'a str, SagaId>,
    /// The service of each endpoint, by endpoint id.
    endpoint_owner: Vec<ServiceId>,
    /// For each saga, its first action and that action's edge (what a `saga:` workload
    /// reports as its target), once resolved.
    saga_first: Vec<Option<(EndpointId, EdgeId)>>,
    edges: Vec<Edge>,
    edge_ids: BTreeMap<(ServiceId, EndpointId), EdgeId>,
    /// For each endpoint, the endpoints its steps call, with the path of each call.
    calls: Vec<Vec<(EndpointId, P)>>,
    /// The `cache` steps met so far (`resolve/cache.rs`).
    caches: Vec<Cache>,
    /// The work queues' names (`resolve/queues.rs`).
    queue_names: queues::Names<'a>,
}

/// Resolves a parsed scenario. `default_name` names it when the file has no `name`.
pub fn resolve(
    raw: &RawScenario,
    default_name: &str,
    variant: Option<&str>,
) -> Result<Spec, Vec<RawProblem>> {
    let mut r = R {
        problems: Vec::new(),
        dropped: 0,
        duration_ns: 0,
        services: Vec::new(),
        service_ids: BTreeMap::new(),
        endpoint_names: Vec::new(),
        policy_ids: BTreeMap::new(),
        policy_names: Vec::new(),
        topic_names: Vec::new(),
        topic_ids: BTreeMap::new(),
        saga_names: Vec::new(),
        saga_ids: BTreeMap::new(),
        endpoint_owner: Vec::new(),
        saga_first: Vec::new(),
        edges: Vec::new(),
        edge_ids: BTreeMap::new(),
        calls: Vec::new(),
        caches: Vec::new(),
        queue_names: Default::default(),
    };
    let spec = r.scenario(raw, default_name, variant);
    if r.dropped > 0 {
        r.problems.push(more_problems(r.dropped));
    }
    if r.problems.is_empty() { Ok(spec) } else { Err(r.problems) }
}

/// The last line of a capped list of problems.
pub fn more_problems(n: usize) -> RawProblem {
    RawProblem {
        path: String::new(),
        message: format!("... and {n} more problems (only the first {MAX_PROBLEMS} of each kind are listed)"),
        at_key: false,
        cli: true,
    }
}

impl<'a> R<'a> {
    fn err(&mut self, path: &P, message: impl Into<String>) {
        if self.problems.len() >= MAX_PROBLEMS {
            self.dropped += 1;
            return;
        }
        self.problems.push(RawProblem {
            path: path.0.clone(),
            message: message.into(),
            at_key: false,
            cli: false,
        });
    }

    fn err_key(&mut self, path: &P, message: impl Into<String>) {
        if self.problems.len() >= MAX_PROBLEMS {
            self.dropped += 1;
            return;
        }
        self.problems.push(RawProblem {
            path: path.0.clone(),
            message: message.into(),
            at_key: true,
            cli: false,
        });
    }

    fn name(&mut self, what: &str, s: &str, path: &P, key: bool) {
        if !is_name(s) {
            let msg = format!(
                "bad {what} name `{s}`: names use only lowercase letters a-z, digits, `_` and `-`{}",
                if s.is_empty() { " and are not empty" } else { "" }
            );
            if key { self.err_key(path, msg) } else { self.err(path, msg) }
        }
    }

    // ---- scalars -------------------------------------------------------------------

    fn dur(&mut self, d: &Dur, path: &P) -> Option<Nanos> {
        match d {
            Dur::Text(s) => match parse_duration(s) {
                Ok(ns) => Some(ns),
                Err(e) => {
                    self.err(path, e);
                    None
                }
            },
            Dur::Number(n) => {
                self.err(
                    path,
                    format!(
                        "expected a duration with a unit such as \"250ms\", found the number {n} (a bare number is ambiguous: write \"{n}ms\" or \"{n}s\")"
                    ),
                );
                None
            }
        }
    }

    fn dur_opt(&mut self, d: Option<&Dur>, path: &P, default: Nanos) -> Nanos {
        match d {
            Some(d) => self.dur(d, path).unwrap_or(default),
            None => default,
        }
    }

    /// A duration that must be greater than zero.
    fn dur_pos(&mut self, d: &Dur, path: &P) -> Nanos {
        match self.dur(d, path) {
            Some(0) => {
                self.err(path, "expected a duration greater than 0, found 0");
                1
            }
            Some(ns) => ns,
            None => 1,
        }
    }

    fn pct(&mut self, v: f64, path: &P) -> f64 {
        if !v.is_finite() || !(0.0..=100.0).contains(&v) {
            let hint = if v < 0.0 {
                "a share cannot be negative; 0 means none"
            } else {
                "shares are percentages from 0 to 100: 100 means all of them, 0.5 means one in two hundred"
            };
            self.err(path, format!("expected a percentage from 0 to 100, found {} ({hint})", fmt_f(v)));
            return 0.0;
        }
        v / 100.0
    }

    fn at_most(&mut self, v: u32, max: u32, path: &P, why: &str) -> u32 {
        if v > max {
            self.err(path, format!("expected at most {max}, found {v} ({why})"));
            return max;
        }
        v
    }

    /// An arrival rate per second: finite, above 0 unless `zero_ok`, at most 1e9.
    fn rate(&mut self, v: f64, path: &P, zero_ok: bool) -> f64 {
        if !v.is_finite() || v < 0.0 || (v == 0.0 && !zero_ok) {
            let what = if zero_ok { "a rate of at least 0" } else { "a rate greater than 0" };
            self.err(path, format!("expected {what}, found {}", fmt_f(v)));
            return if zero_ok { 0.0 } else { 1.0 };
        }
        if v > MAX_RATE_PER_S {
            self.err(
                path,
                format!(
                    "expected a rate of at most 1000000000 per second, found {} (the simulated clock ticks in nanoseconds: one arrival per tick at most)",
                    fmt_f(v)
                ),
            );
            return MAX_RATE_PER_S;
        }
        v
    }

    /// A finite number in `min..=max` (`min` excluded when `open_min`).
    fn in_range(&mut self, v: f64, min: f64, max: f64, open_min: bool, path: &P, what: &str) -> f64 {
        let low_ok = if open_min { v > min } else { v >= min };
        if !v.is_finite() || !low_ok || v > max {
            let low = if open_min { "greater than" } else { "at least" };
            self.err(
                path,
                format!(
                    "expected {what} {low} {} and at most {}, found {}",
                    fmt_f(min),
                    fmt_f(max),
                    fmt_f(v)
                ),
            );
            return if open_min { max.min(1.0).max(min) } else { min };
        }
        v
    }

    fn at_least(&mut self, v: u32, min: u32, path: &P) -> u32 {
        if v < min {
            self.err(path, format!("expected an integer of at least {min}, found {v}"));
            return min;
        }
        v
    }

    fn positive(&mut self, v: f64, path: &P, what: &str) -> f64 {
        if !v.is_finite() || v <= 0.0 {
            self.err(path, format!("expected {what} greater than 0, found {}", fmt_f(v)));
            return 1.0;
        }
        v
    }

    // ---- top level -----------------------------------------------------------------

    fn scenario(&mut self, raw: &'a RawScenario, default_name: &str, variant: Option<&str>) -> Spec {
        let root = P::root();
        let name = raw.name.clone().unwrap_or_else(|| default_name.to_string());
        let duration_ns = self.dur_pos(&raw.duration, &root.k("duration"));
        self.duration_ns = duration_ns;
        let warmup_ns = self.dur_opt(raw.warmup.as_ref(), &root.k("warmup"), 0);
        if raw.warmup.is_some() && warmup_ns >= duration_ns && duration_ns > 1 {
            self.err(
                &root.k("warmup"),
                format!(
                    "warmup ({}) must be shorter than duration ({}): nothing would be measured",
                    format_ns(warmup_ns),
                    format_ns(duration_ns)
                ),
            );
        }
        let problems = self.problems.len();
        let interval_ns = match &raw.interval {
            Some(d) => self.dur_pos(d, &root.k("interval")),
            None => NS_PER_S,
        };
        // An interval already refused (0 reads as 1 ns) is not also too fine.
        if self.problems.len() == problems && duration_ns / interval_ns.max(1) > MAX_BUCKETS {
            self.err(
                &root.k("interval"),
                format!(
                    "interval {} cuts the {} run into {} buckets; at most {MAX_BUCKETS} are allowed",
                    format_ns(interval_ns),
                    format_ns(duration_ns),
                    duration_ns / interval_ns.max(1)
                ),
            );
        }
        let mut limits = Limits::default();
        if let Some(l) = &raw.limits {
            let p = root.k("limits");
            if let Some(m) = l.max_events {
                if m == 0 {
                    self.err(&p.k("max_events"), "expected an integer of at least 1, found 0");
                }
                limits.max_events = m;
            }
            if let Some(m) = l.max_in_flight {
                limits.max_in_flight = self.at_least(m, 1, &p.k("max_in_flight"));
            }
            if let Some(m) = l.max_executions {
                limits.max_executions = self.at_least(m, 1, &p.k("max_executions"));
            }
            for (key, val, slot) in [
                ("max_backlog", l.max_backlog, &mut limits.max_backlog),
                ("max_queued", l.max_queued, &mut limits.max_queued),
                ("max_events_per_instant", l.max_events_per_instant, &mut limits.max_events_per_instant),
                ("max_series_points", l.max_series_points, &mut limits.max_series_points),
                ("max_memory_mib", l.max_memory_mib, &mut limits.max_memory_mib),
            ] {
                if let Some(m) = val {
                    if m == 0 {
                        self.err(&p.k(key), "expected an integer of at least 1, found 0");
                    }
                    *slot = m;
                }
            }
        }

        // Names first, so that every reference can be resolved in one pass after.
        self.declare(raw);
        // Before the services: their `enqueue` steps name the queues.
        let queues = self.queues(raw);

        let policies = self.policies(raw);
        let (services, endpoints, replicas) = self.services(raw);
        self.cycles();
        let network = self.network(raw);
        let topics = self.topics(raw);
        // After every endpoint step's edges, before the workloads' edges.
        let sagas = self.sagas(raw);
        let workloads = self.workloads(raw);
        let faults = self.faults(raw);
        let thresholds = self.thresholds(raw, &workloads, &sagas, &topics, &faults, &queues);
        // `lint.allow` names rules of `faultline lint` (src/lint/rules.rs); the linter
        // reads the list itself.
        for (i, id) in raw.lint.iter().flat_map(|l| l.allow.iter().flatten()).enumerate() {
            let p = root.k("lint").k("allow").i(i);
            match id {
                RawRuleId::Text(id) if crate::lint::rules::rule(id).is_some() => {}
                RawRuleId::Text(id) => {
                    let hint = suggest(id, crate::lint::rules::ids());
                    let all: Vec<&str> = crate::lint::rules::ids().collect();
                    self.err(
                        &p,
                        format!("unknown lint rule `{id}`{hint}; the rules are: {}", all.join(", ")),
                    );
                }
                RawRuleId::Other(v) => self
                    .err(&p, format!("expected a lint rule id (a string such as \"no-timeout\"), found {v}")),
            }
        }
        if let Some(vs) = &raw.variants {
            for (vname, _) in vs.iter() {
                self.name("variant", vname, &root.k("variants").k(vname), true);
            }
        }

        Spec {
            name,
            description: raw.description.clone().unwrap_or_default(),
            variant: variant.map(str::to_string),
            seed: raw.seed.unwrap_or(1),
            duration_ns,
            warmup_ns,
            interval_ns,
            limits,
            services,
            endpoints,
            replicas,
            policies,
            edges: std::mem::take(&mut self.edges),
            network,
            workloads,
            faults,
            topics,
            sagas,
            caches: std::mem::take(&mut self.caches),
            thresholds,
            queues,
        }
    }

    /// The `thresholds`, after everything they may name (see `thresholds.rs`).
    fn thresholds(
        &mut self,
        raw: &RawScenario,
        workloads: &[Workload],
        sagas: &[Saga],
        topics: &[Topic],
        faults: &[Fault],
        queues: &[Queue],
    ) -> Vec<Threshold> {
        let (out, problems) =
            super::thresholds::resolve(raw.thresholds.as_ref(), workloads, sagas, topics, faults, queues);
        for p in problems {
            if self.problems.len() >= MAX_PROBLEMS {
                self.dropped += 1;
            } else {
                self.problems.push(p);
            }
        }
        out
    }

    /// Assigns ids to services, endpoints, replicas, policies; records topic and saga names.
    fn declare(&mut self, raw: &'a RawScenario) {
        let root = P::root();
        let sp = root.k("services");
        if raw.services.len() > MAX_SERVICES {
            self.err(&sp, format!("too many services: {} (at most {MAX_SERVICES})", raw.services.len()));
        }
        let mut next_replica: u64 = 0;
        let mut endpoint_id: EndpointId = 0;
        for (sname, s) in raw.services.iter() {
            let p = sp.k(sname);
            self.name("service", sname, &p, true);
            let replicas = autoscale::slots(s);
            let first_replica = ReplicaId::try_from(next_replica).unwrap_or(ReplicaId::MAX);
            next_replica += u64::from(replicas.min(MAX_REPLICAS_PER_SERVICE));
            let id = self.services.len() as ServiceId;
            let mut eps = Vec::new();
            if let Some(e) = &s.endpoints {
                for (ename, _) in e.iter() {
                    self.name("endpoint", ename, &p.k("endpoints").k(ename), true);
                    eps.push((ename.as_str(), endpoint_id));
                    self.endpoint_names.push(format!("{sname}.{ename}"));
                    self.endpoint_owner.push(id);
                    endpoint_id += 1;
                }
            }
            self.service_ids.insert(sname.as_str(), id);
            let is_cache = matches!(s.kind, Some(RawKind::Cache));
            self.services.push(ServiceInfo {
                name: sname,
                is_cache,
                replicas,
                first_replica,
                endpoints: eps,
            });
        }
        if next_replica > MAX_REPLICAS_TOTAL {
            self.err(&sp, format!("too many replicas in all: {next_replica} (at most {MAX_REPLICAS_TOTAL})"));
        }
        self.calls = vec![Vec::new(); endpoint_id as usize];
        if let Some(ps) = &raw.policies {
            for (pname, _) in ps.iter() {
                self.name("policy", pname, &root.k("policies").k(pname), true);
                self.policy_ids.insert(pname.as_str(), self.policy_names.len() as PolicyId);
                self.policy_names.push(pname);
            }
        }
        if let Some(ts) = &raw.topics {
            for (tname, _) in ts.iter() {
                self.name("topic", tname, &root.k("topics").k(tname), true);
                self.topic_ids.entry(tname.as_str()).or_insert(self.topic_names.len() as TopicId);
                self.topic_names.push(tname);
            }
        }
        if let Some(ss) = &raw.sagas {
            for (sname, _) in ss.iter() {
                self.name("saga", sname, &root.k("sagas").k(sname), true);
                self.saga_ids.entry(sname.as_str()).or_insert(self.saga_names.len() as SagaId);
                self.saga_names.push(sname);
            }
        }
    }

    // ---- references ----------------------------------------------------------------

    fn service_ref(&mut self, s: &str, path: &P) -> Option<ServiceId> {
        if let Some(id) = self.service_ids.get(s) {
            return Some(*id);
        }
        let names: Vec<&str> = self.services.iter().map(|s| s.name).collect();
        let hint = suggest(s, names.iter().copied());
        self.err(path, format!("unknown service `{s}`{hint}; the services are: {}", list(names)));
        None
    }

    fn endpoint_ref(&mut self, s: &str, path: &P) -> Option<EndpointId> {
        let Some((svc, ep)) = s.split_once('.') else {
            let hint = match self.service_ids.get(s) {
                Some(id) => {
                    let eps: Vec<&str> = self.services[*id as usize].endpoints.iter().map(|e| e.0).collect();
                    format!("; {s} has: {}", list(eps))
                }
                None => String::new(),
            };
            self.err(path, format!("expected an endpoint as `service.endpoint`, found `{s}`{hint}"));
            return None;
        };
        let Some(&sid) = self.service_ids.get(svc) else {
            let names: Vec<&str> = self.services.iter().map(|s| s.name).collect();
            let hint = suggest(svc, names.iter().copied());
            let msg = format!("unknown service `{svc}` in `{s}`{hint}; the services are: {}", list(names));
            self.err(path, msg);
            return None;
        };
        let info = &self.services[sid as usize];
        if let Some((_, id)) = info.endpoints.iter().find(|(n, _)| *n == ep) {
            return Some(*id);
        }
        let eps: Vec<&str> = info.endpoints.iter().map(|e| e.0).collect();
        let hint = match suggest(ep, eps.iter().copied()).as_str() {
            "" => String::new(),
            _ => eps
                .iter()
                .map(|e| (edit_distance(ep, e), *e))
                .min_by_key(|(d, _)| *d)
                .map(|(_, e)| format!(" (did you mean `{svc}.{e}`?)"))
                .unwrap_or_default(),
        };
        let msg = format!("unknown endpoint `{s}`{hint}; {svc} has: {}", list(eps));
        self.err(path, msg);
        None
    }

    fn policy_ref(&mut self, s: Option<&String>, path: &P) -> Option<PolicyId> {
        let s = s?;
        if let Some(id) = self.policy_ids.get(s.as_str()) {
            return Some(*id);
        }
        let hint = suggest(s, self.policy_names.iter().copied());
        let msg = format!(
            "unknown policy `{s}`{hint}; the policies are: {}",
            list(self.policy_names.iter().copied())
        );
        self.err(path, msg);
        None
    }

    fn topic_ref(&mut self, s: &str, path: &P) -> Option<TopicId> {
        if let Some(&i) = self.topic_ids.get(s) {
            return Some(i);
        }
        let hint = suggest(s, self.topic_names.iter().copied());
        let msg =
            format!("unknown topic `{s}`{hint}; the topics are: {}", list(self.topic_names.iter().copied()));
        self.err(path, msg);
        None
    }

    fn saga_ref(&mut self, s: &str, path: &P) -> Option<SagaId> {
        if let Some(&i) = self.saga_ids.get(s) {
            return Some(i);
        }
        let hint = suggest(s, self.saga_names.iter().copied());
        let msg =
            format!("unknown saga `{s}`{hint}; the sagas are: {}", list(self.saga_names.iter().copied()));
        self.err(path, msg);
        None
    }

    /// The service an endpoint belongs to.
    fn endpoint_service(&self, e: EndpointId) -> Option<ServiceId> {
        self.endpoint_owner.get(e as usize).copied()
    }

    fn edge(&mut self, caller: ServiceId, target: EndpointId) -> EdgeId {
        if let Some(e) = self.edge_ids.get(&(caller, target)) {
            return *e;
        }
        let id = self.edges.len() as EdgeId;
        let caller_name = self.services.get(caller as usize).map(|s| s.name).unwrap_or("?");
        let target_name = self.endpoint_names.get(target as usize).map(String::as_str).unwrap_or("?");
        self.edges.push(Edge { caller: Some(caller), target, name: format!("{caller_name}->{target_name}") });
        self.edge_ids.insert((caller, target), id);
        id
    }

    // ---- distributions -------------------------------------------------------------

    fn dist(&mut self, d: &RawDist, path: &P) -> Dist {
        let placeholder = Dist::Constant(0.0);
        match d {
            RawDist::Constant(v) => match self.dur(v, &path.k("constant")) {
                Some(ns) => Dist::Constant(ns as f64),
                None => placeholder,
            },
            RawDist::Exponential(e) => {
                let p = path.k("exponential");
                let mean = self.dur_pos(&e.mean, &p.k("mean"));
                Dist::Exponential { mean: mean as f64 }
            }
            RawDist::Uniform(u) => {
                let p = path.k("uniform");
                let min = self.dur(&u.min, &p.k("min"));
                let max = self.dur(&u.max, &p.k("max"));
                match (min, max) {
                    (Some(min), Some(max)) if min <= max => {
                        Dist::Uniform { min: min as f64, max: max as f64 }
                    }
                    (Some(min), Some(max)) => {
                        self.err(
                            &p.k("max"),
                            format!("max ({}) is below min ({})", format_ns(max), format_ns(min)),
                        );
                        placeholder
                    }
                    _ => placeholder,
                }
            }
            RawDist::Normal(n) => {
                let p = path.k("normal");
                let mean = self.dur_pos(&n.mean, &p.k("mean"));
                let sd = self.dur(&n.stddev, &p.k("stddev")).unwrap_or(0);
                Dist::Normal { mean: mean as f64, sd: sd as f64 }
            }
            RawDist::Lognormal(l) => {
                let p = path.k("lognormal");
                let p50 = self.dur_pos(&l.p50, &p.k("p50")) as f64;
                match (&l.p99, l.sigma) {
                    (Some(p99d), None) => {
                        let Some(p99) = self.dur(p99d, &p.k("p99")) else { return placeholder };
                        let p99 = p99 as f64;
                        if p99 <= p50 {
                            self.err(
                                &p.k("p99"),
                                format!(
                                    "p99 ({}) must be greater than p50 ({})",
                                    format_ns(p99 as u64),
                                    format_ns(p50 as u64)
                                ),
                            );
                            return placeholder;
                        }
                        Dist::lognormal_p50_p99(p50, p99)
                    }
                    (None, Some(sigma)) => {
                        let sigma = self.in_range(sigma, 0.0, MAX_SIGMA, true, &p.k("sigma"), "a sigma");
                        Dist::LogNormal { mu: p50.ln(), sigma }
                    }
                    (Some(_), Some(_)) => {
                        self.err(&p, "give either `p99` or `sigma` with `p50`, not both");
                        placeholder
                    }
                    (None, None) => {
                        self.err(&p, "missing `p99` or `sigma`: a lognormal needs `p50` and one of them");
                        placeholder
                    }
                }
            }
            RawDist::Gamma(g) => {
                let p = path.k("gamma");
                let mean = self.dur_pos(&g.mean, &p.k("mean")) as f64;
                let cv = g.cv;
                if !cv.is_finite() || cv <= 0.0 || !(1e-6..=1e3).contains(&cv) {
                    self.err(
                        &p.k("cv"),
                        format!("expected a cv greater than 0 (from 0.000001 to 1000), found {}", fmt_f(cv)),
                    );
                    return placeholder;
                }
                let shape = 1.0 / (cv * cv);
                if !(shape.is_finite() && shape > 0.0 && (mean / shape).is_finite() && mean / shape > 0.0) {
                    self.err(&p, "mean and cv give a gamma distribution that cannot be sampled");
                    return placeholder;
                }
                Dist::gamma_mean_cv(mean, cv)
            }
            RawDist::Pareto(x) => {
                let p = path.k("pareto");
                let scale = self.dur_pos(&x.scale, &p.k("scale"));
                let shape = self.in_range(
                    x.shape,
                    MIN_PARETO_SHAPE,
                    MAX_PARETO_SHAPE,
                    false,
                    &p.k("shape"),
                    "a shape",
                );
                let max = self.dur(&x.max, &p.k("max"));
                match max {
                    Some(max) if max > scale => Dist::Pareto { scale: scale as f64, shape, max: max as f64 },
                    Some(max) => {
                        self.err(
                            &p.k("max"),
                            format!(
                                "max ({}) must be greater than scale ({})",
                                format_ns(max),
                                format_ns(scale)
                            ),
                        );
                        placeholder
                    }
                    None => placeholder,
                }
            }
            RawDist::Percentiles(m) => self.percentiles(m, &path.k("percentiles")).unwrap_or(placeholder),
            RawDist::Mixture(parts) => {
                let p = path.k("mixture");
                if parts.is_empty() {
                    self.err(&p, "a mixture needs at least one component");
                    return placeholder;
                }
                if parts.len() > MAX_MIXTURE_PARTS {
                    self.err(
                        &p,
                        format!("too many components: {} (at most {MAX_MIXTURE_PARTS})", parts.len()),
                    );
                    return placeholder;
                }
                let mut total = 0.0;
                let mut comps = Vec::with_capacity(parts.len());
                for (i, part) in parts.iter().enumerate() {
                    let w = self.positive(part.weight, &p.i(i).k("weight"), "a weight");
                    total += w;
                    comps.push((w, self.dist(&part.dist, &p.i(i).k("dist"))));
                }
                if !total.is_finite() {
                    self.err(&p, "the weights add up to more than a float can hold");
                    return placeholder;
                }
                let mut cum = 0.0;
                let n = comps.len();
                let mut out = Vec::with_capacity(n);
                for (i, (w, d)) in comps.into_iter().enumerate() {
                    cum += w;
                    out.push((if i + 1 == n { 1.0 } else { (cum / total).min(1.0) }, d));
                }
                Dist::Mixture(out)
            }
        }
    }

    fn percentiles(&mut self, m: &OrderedMap<Dur, AnyKeys>, path: &P) -> Option<Dist> {
        let mut points: Vec<(f64, f64, String)> = Vec::new();
        let mut ok = true;
        for (k, v) in m.iter() {
            let kp = path.k(k);
            let Some(pv) = parse_percentile_key(k) else {
                self.err_key(
                    &kp,
                    format!(
                        "expected a percentile key from \"p0\" to \"p100\" such as \"p99.9\", found \"{k}\""
                    ),
                );
                ok = false;
                continue;
            };
            let Some(ns) = self.dur(v, &kp) else {
                ok = false;
                continue;
            };
            if let Some((_, _, other)) = points.iter().find(|(q, _, _)| *q == pv) {
                let msg = format!("\"{k}\" is the same percentile as \"{other}\"");
                self.err_key(&kp, msg);
                ok = false;
                continue;
            }
            points.push((pv, ns as f64, k.clone()));
        }
        if !ok {
            return None;
        }
        if points.len() < 2 {
            self.err(
                path,
                format!(
                    "expected at least two percentiles (e.g. \"p50\" and \"p99\"), found {}",
                    points.len()
                ),
            );
            return None;
        }
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
        for w in points.windows(2) {
            let (lo, hi) = (&w[0], &w[1]);
            if hi.1 < lo.1 {
                self.err(
                    &path.k(&hi.2),
                    format!(
                        "{} ({}) is below {} ({}); percentiles must not decrease",
                        hi.2,
                        format_ns(hi.1 as u64),
                        lo.2,
                        format_ns(lo.1 as u64)
                    ),
                );
                return None;
            }
        }
        let mut out: Vec<(f64, f64)> = points.iter().map(|(p, v, _)| (p / 100.0, *v)).collect();
        if out.first().is_some_and(|f| f.0 > 0.0) {
            out.insert(0, (0.0, 0.0));
        }
        if let [.., (pa, va), (pb, vb)] = out.as_slice() {
            let (pa, va, pb, vb) = (*pa, *va, *pb, *vb);
            if pb < 1.0 {
                let slope = if pb > pa { (vb - va) / (pb - pa) } else { 0.0 };
                // Extending a steep last segment may overshoot: clamp to the longest
                // duration a scenario may give.
                let top = (vb + slope * (1.0 - pb)).min(super::duration::MAX_DURATION_NS as f64);
                out.push((1.0, top.max(vb)));
            }
        }
        Some(Dist::Percentiles(out))
    }

    // ---- policies ------------------------------------------------------------------

    fn policies(&mut self, raw: &'a RawScenario) -> Vec<Policy> {
        let mut out = Vec::new();
        let Some(ps) = &raw.policies else { return out };
        for (name, p) in ps.iter() {
            let path = P::root().k("policies").k(name);
            out.push(self.policy(name, p, &path));
        }
        out
    }

    fn policy(&mut self, name: &str, p: &RawPolicy, path: &P) -> Policy {
        let timeout_ns = p.timeout.as_ref().map(|d| self.dur_pos(d, &path.k("timeout")));
        let deadline_ns = p.deadline.as_ref().map(|d| self.dur_pos(d, &path.k("deadline")));
        let retry = p.retry.as_ref().map(|r| self.retry(r, &path.k("retry")));
        let breaker = p.circuit_breaker.as_ref().map(|b| self.breaker(b, &path.k("circuit_breaker")));
        let bulkhead = p.bulkhead.as_ref().map(|b| {
            let bp = path.k("bulkhead");
            Bulkhead {
                max_concurrent: self.at_least(b.max_concurrent, 1, &bp.k("max_concurrent")),
                max_wait_ns: b.max_wait.as_ref().and_then(|d| self.dur(d, &bp.k("max_wait"))),
                timeout_covers_wait: b.timeout_covers_wait.unwrap_or(true),
            }
        });
        let hedge = p.hedge.as_ref().map(|h| {
            let hp = path.k("hedge");
            Hedge {
                after_ns: self.dur_pos(&h.after, &hp.k("after")),
                max_extra: {
                    let n = self.at_least(h.max_extra.unwrap_or(1), 1, &hp.k("max_extra"));
                    // A call keeps its live attempts in a fixed array (no allocation per
                    // call): the first and at most three hedges.
                    if n > 3 {
                        self.err(&hp.k("max_extra"), format!("expected at most 3 extra attempts, found {n}"));
                    }
                    n.min(3)
                },
            }
        });
        let outlier = p.outlier_detection.as_ref().map(|o| {
            let op = path.k("outlier_detection");
            Outlier {
                consecutive_errors: self.at_least(
                    o.consecutive_errors.unwrap_or(5),
                    1,
                    &op.k("consecutive_errors"),
                ),
                ejection_ns: match &o.ejection {
                    Some(d) => self.dur_pos(d, &op.k("ejection")),
                    None => 30 * NS_PER_S,
                },
                max_ejection: self.pct(o.max_ejection_percent.unwrap_or(10.0), &op.k("max_ejection_percent")),
            }
        });
        Policy {
            name: name.to_string(),
            timeout_ns,
            deadline_ns,
            retry,
            breaker,
            bulkhead,
            hedge,
            load_balancer: match p.load_balancer {
                None | Some(RawLoadBalancer::RoundRobin) => LoadBalancer::RoundRobin,
                Some(RawLoadBalancer::Random) => LoadBalancer::Random,
                Some(RawLoadBalancer::LeastOutstanding) => LoadBalancer::LeastOutstanding,
                Some(RawLoadBalancer::P2c) => LoadBalancer::P2c,
            },
            cancel_on_timeout: p.cancel_on_timeout.unwrap_or(false),
            scope: match p.scope {
                None | Some(RawScope::Replica) => Scope::Replica,
                Some(RawScope::Service) => Scope::Service,
            },
            outlier,
            breaker_per: match p.circuit_breaker.as_ref().and_then(|b| b.per) {
                None | Some(RawBreakerPer::Service) => BreakerPer::Service,
                Some(RawBreakerPer::Endpoint) => BreakerPer::Endpoint,
                Some(RawBreakerPer::Caller) => BreakerPer::Caller,
            },
            rate_limit: p.rate_limit.as_ref().and_then(|r| {
                self.retry_after(r, &path.k("rate_limit"), false);
                self.rate_limit(r, &path.k("rate_limit"), false)
            }),
        }
    }

    fn backoff(&mut self, b: &RawBackoff, path: &P) -> Backoff {
        match b {
            RawBackoff::Constant(d) => Backoff::Constant(self.dur(d, &path.k("constant")).unwrap_or(0)),
            RawBackoff::Exponential(e) => {
                let p = path.k("exponential");
                let initial_ns = self.dur(&e.initial, &p.k("initial")).unwrap_or(0);
                let multiplier = match e.multiplier {
                    Some(m) => self.in_range(
                        m,
                        1.0,
                        MAX_BACKOFF_MULTIPLIER,
                        false,
                        &p.k("multiplier"),
                        "a multiplier",
                    ),
                    None => 2.0,
                };
                let max_ns = self.dur_opt(e.max.as_ref(), &p.k("max"), DEFAULT_BACKOFF_MAX_NS);
                let min_ns = self.dur_opt(e.min.as_ref(), &p.k("min"), 0);
                if min_ns > max_ns {
                    self.err(
                        &p.k("min"),
                        format!("min ({}) is above max ({})", format_ns(min_ns), format_ns(max_ns)),
                    );
                }
                Backoff::Exponential { initial_ns, multiplier, max_ns, min_ns }
            }
        }
    }

    fn retry(&mut self, r: &RawRetry, path: &P) -> Retry {
        let max_attempts = self.at_least(r.max_attempts.unwrap_or(3), 1, &path.k("max_attempts"));
        let max_attempts = self.at_most(
            max_attempts,
            MAX_RETRY_ATTEMPTS,
            &path.k("max_attempts"),
            "no client retries more than that; the simulator counts a call's tries in 32 bits",
        );
        let backoff = match &r.backoff {
            Some(b) => self.backoff(b, &path.k("backoff")),
            None => Backoff::Constant(0),
        };
        let jitter = match r.jitter {
            None | Some(RawJitter::None) => Jitter::None,
            Some(RawJitter::Full) => Jitter::Full,
            Some(RawJitter::Equal) => Jitter::Equal,
            Some(RawJitter::Decorrelated) => Jitter::Decorrelated,
        };
        let retry_on = match &r.retry_on {
            None => CauseSet::default_retry_on(),
            Some(list) => {
                let mut set = CauseSet::default();
                for c in list {
                    set.insert(match c {
                        RawCause::Timeout => Cause::Timeout,
                        RawCause::Rejected => Cause::Rejected,
                        RawCause::Unavailable => Cause::Unavailable,
                        RawCause::CircuitOpen => Cause::CircuitOpen,
                        RawCause::BulkheadFull => Cause::BulkheadFull,
                        RawCause::Error => Cause::Error,
                        RawCause::Declined => Cause::Declined,
                        RawCause::RateLimited => Cause::RateLimited,
                    });
                }
                set
            }
        };
        let budget = r.budget.as_ref().map(|b| {
            let bp = path.k("budget");
            let ratio = self.pct(b.percent.unwrap_or(20.0), &bp.k("percent"));
            let min_per_second = match b.min_per_second {
                Some(m) => self.rate(m, &bp.k("min_per_second"), true),
                None => 10.0,
            };
            RetryBudget { ratio, min_per_second }
        });
        Retry {
            max_attempts,
            backoff,
            jitter,
            retry_on,
            budget,
            honor_retry_after: r.honor_retry_after.unwrap_or(false),
        }
    }

    fn breaker(&mut self, b: &RawBreaker, path: &P) -> Breaker {
        let window_keys: Vec<&str> = [
            ("window", b.window.is_some()),
            ("minimum_calls", b.minimum_calls.is_some()),
            ("failure_rate_threshold", b.failure_rate_threshold.is_some()),
            ("slow_call", b.slow_call.is_some()),
            ("half_open_calls", b.half_open_calls.is_some()),
        ]
        .into_iter()
        .filter_map(|(k, set)| set.then_some(k))
        .collect();
        let open_for_ns = match &b.open_for {
            Some(d) => self.dur_pos(d, &path.k("open_for")),
            None => 60 * NS_PER_S,
        };
        if let Some(failures) = b.consecutive_failures {
            if !window_keys.is_empty() {
                self.err(
                    path,
                    format!(
                        "`consecutive_failures` (the consecutive style) cannot be mixed with the window style's {}; use one style",
                        window_keys.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")
                    ),
                );
            }
            let failures = self.at_least(failures, 1, &path.k("consecutive_failures"));
            let success_threshold =
                self.at_least(b.success_threshold.unwrap_or(1), 1, &path.k("success_threshold"));
            return Breaker::Consecutive { failures, open_for_ns, success_threshold };
        }
        if b.success_threshold.is_some() {
            self.err(
                &path.k("success_threshold"),
                "`success_threshold` belongs to the consecutive style; with a window use `half_open_calls` (or add `consecutive_failures`)",
            );
        }
        let window = match &b.window {
            None => BreakerWindow::Count(100),
            Some(RawWindow::Count(n)) => {
                BreakerWindow::Count(self.at_least(*n, 1, &path.k("window").k("count")))
            }
            Some(RawWindow::Time(d)) => BreakerWindow::Time(self.dur_pos(d, &path.k("window").k("time"))),
        };
        let minimum_calls = match (b.minimum_calls, window) {
            (Some(m), BreakerWindow::Count(n)) if m > n => {
                self.err(
                    &path.k("minimum_calls"),
                    format!(
                        "minimum_calls ({m}) exceeds the window of {n} calls: the breaker could never open"
                    ),
                );
                m
            }
            (Some(m), _) => self.at_least(m, 1, &path.k("minimum_calls")),
            (None, BreakerWindow::Count(n)) => n.min(100),
            (None, BreakerWindow::Time(_)) => 100,
        };
        let failure_rate_threshold =
            self.pct(b.failure_rate_threshold.unwrap_or(50.0), &path.k("failure_rate_threshold"));
        let slow_call = b.slow_call.as_ref().map(|s| {
            let sp = path.k("slow_call");
            (
                self.dur_pos(&s.duration, &sp.k("duration")),
                self.pct(s.rate_threshold, &sp.k("rate_threshold")),
            )
        });
        let half_open_calls = self.at_least(b.half_open_calls.unwrap_or(10), 1, &path.k("half_open_calls"));
        Breaker::Window {
            window,
            minimum_calls,
            failure_rate_threshold,
            slow_call,
            open_for_ns,
            half_open_calls,
        }
    }

    // ---- services ------------------------------------------------------------------

    fn services(&mut self, raw: &'a RawScenario) -> (Vec<Service>, Vec<Endpoint>, Vec<Replica>) {
        let mut services = Vec::new();
        let mut endpoints = Vec::new();
        let mut replicas = Vec::new();
        let sp = P::root().k("services");
        for (sid, (sname, s)) in raw.services.iter().enumerate() {
            let sid = sid as ServiceId;
            let p = sp.k(sname);
            let n = s.replicas.unwrap_or(1);
            if n == 0 {
                self.err(&p.k("replicas"), "expected at least 1 replica, found 0");
            } else if n > MAX_REPLICAS_PER_SERVICE {
                self.err(
                    &p.k("replicas"),
                    format!("too many replicas: {n} (at most {MAX_REPLICAS_PER_SERVICE})"),
                );
            }
            let autoscale =
                s.autoscale.as_ref().map(|a| self.autoscale(raw, sname, n.max(1), a, &p.k("autoscale")));
            let n = autoscale::slots(s).min(MAX_REPLICAS_PER_SERVICE);
            let concurrency = self.at_least(s.concurrency.unwrap_or(1), 1, &p.k("concurrency"));
            if concurrency > MAX_CONCURRENCY {
                self.err(
                    &p.k("concurrency"),
                    format!("too many workers: {concurrency} (at most {MAX_CONCURRENCY})"),
                );
            }
            let queue = match &s.queue {
                None => QueueSpec::default(),
                Some(q) => QueueSpec {
                    capacity: q.capacity.unwrap_or(u32::MAX),
                    discipline: match q.discipline {
                        None | Some(RawDiscipline::Fifo) => Discipline::Fifo,
                        Some(RawDiscipline::Lifo) => Discipline::Lifo,
                    },
                    timeout_ns: q.timeout.as_ref().map(|d| self.dur_pos(d, &p.k("queue").k("timeout"))),
                },
            };
            let first_replica = self.services.get(sid as usize).map(|i| i.first_replica).unwrap_or(0);
            if replicas.len() < MAX_REPLICAS_TOTAL as usize {
                replicas.extend((0..n).map(|index| Replica { service: sid, index }));
            }
            let health_check =
                s.health_check.as_ref().map(|h| self.health_check(sid, h, &p.k("health_check")));
            let adaptive =
                s.adaptive_concurrency.as_ref().map(|a| self.adaptive(a, &p.k("adaptive_concurrency")));
            let mut ids = Vec::new();
            if let Some(eps) = &s.endpoints {
                if eps.is_empty() {
                    // An empty object is fine: a service may exist only to be partitioned.
                }
                for (ename, e) in eps.iter() {
                    let ep = p.k("endpoints").k(ename);
                    let id = endpoints.len() as EndpointId;
                    ids.push(id);
                    endpoints.push(self.endpoint(sid, id, &format!("{sname}.{ename}"), e, &ep));
                }
            }
            services.push(Service {
                name: sname.clone(),
                kind: match s.kind {
                    None | Some(RawKind::Service) => ServiceKind::Service,
                    Some(RawKind::Database) => ServiceKind::Database,
                    Some(RawKind::Cache) => ServiceKind::Cache,
                    Some(RawKind::Broker) => ServiceKind::Broker,
                },
                replicas: n.max(1),
                first_replica,
                concurrency,
                queue,
                endpoints: ids,
                health_check,
                shed: s.shed.as_ref().map(|r| self.shed(r, &p.k("shed"))),
                rate_limit: s.rate_limit.as_ref().and_then(|r| self.rate_limit(r, &p.k("rate_limit"), true)),
                retry_after_ns: s
                    .rate_limit
                    .as_ref()
                    .and_then(|r| self.retry_after(r, &p.k("rate_limit"), true)),
                adaptive,
                autoscale,
            });
        }
        if raw.services.is_empty() {
            self.err(&sp, "a scenario needs at least one service");
        }
        (services, endpoints, replicas)
    }

    fn health_check(&mut self, sid: ServiceId, h: &RawHealthCheck, path: &P) -> HealthCheck {
        let mut depends_on = Vec::new();
        for (i, d) in h.depends_on.iter().flatten().enumerate() {
            let dp = path.k("depends_on").i(i);
            if let Some(id) = self.service_ref(d, &dp) {
                if id == sid {
                    self.err(&dp, format!("a service cannot depend on itself (`{d}`)"));
                } else if depends_on.contains(&id) {
                    self.err(&dp, format!("`{d}` is listed twice"));
                } else {
                    depends_on.push(id);
                }
            }
        }
        let interval_ns = match &h.interval {
            Some(d) => self.dur_pos(d, &path.k("interval")),
            None => 10 * NS_PER_S,
        };
        let timeout_ns = match &h.timeout {
            Some(d) => self.dur_pos(d, &path.k("timeout")),
            None => NS_PER_S,
        };
        HealthCheck {
            interval_ns,
            timeout_ns,
            unhealthy_after: self.at_least(h.unhealthy_after.unwrap_or(3), 1, &path.k("unhealthy_after")),
            healthy_after: self.at_least(h.healthy_after.unwrap_or(2), 1, &path.k("healthy_after")),
            probe: match h.probe {
                None | Some(RawProbe::Readiness) => Probe::Readiness,
                Some(RawProbe::Liveness) => Probe::Liveness,
            },
            restart_after_ns: self.dur_opt(h.restart_after.as_ref(), &path.k("restart_after"), 10 * NS_PER_S),
            depends_on,
        }
    }

    fn endpoint(
        &mut self,
        sid: ServiceId,
        id: EndpointId,
        full: &str,
        e: &RawEndpoint,
        path: &P,
    ) -> Endpoint {
        let latency = match &e.latency {
            Some(d) => self.dist(d, &path.k("latency")),
            None => Dist::Constant(0.0),
        };
        let error_p =
            e.errors.as_ref().map(|s| self.pct(s.percent, &path.k("errors").k("percent"))).unwrap_or(0.0);
        let decline_p =
            e.declines.as_ref().map(|s| self.pct(s.percent, &path.k("declines").k("percent"))).unwrap_or(0.0);
        if error_p + decline_p > 1.0 + 1e-12 {
            self.err(
                &path.k("declines").k("percent"),
                format!(
                    "errors ({}%) and declines ({}%) add up to more than 100%",
                    fmt_f(error_p * 100.0),
                    fmt_f(decline_p * 100.0)
                ),
            );
        }
        let mut steps = Vec::new();
        if let Some(raw_steps) = &e.steps {
            let sp = path.k("steps");
            if raw_steps.len() > MAX_STEPS {
                self.err(&sp, format!("too many steps: {} (at most {MAX_STEPS})", raw_steps.len()));
            }
            for (i, s) in raw_steps.iter().enumerate().take(MAX_STEPS) {
                if let Some(step) = self.step(sid, id, s, &sp.i(i)) {
                    steps.push(step);
                }
            }
            self.flat_steps_fit(&steps, &sp);
        }
        Endpoint { name: full.to_string(), service: sid, latency, error_p, decline_p, steps }
    }

    /// Which of the exclusive step keys are set.
    fn step_kinds(s: &RawStep) -> Vec<&'static str> {
        [
            ("call", s.call.is_some()),
            ("route", s.route.is_some()),
            ("parallel", s.parallel.is_some()),
            ("work", s.work.is_some()),
            ("publish", s.publish.is_some()),
            ("cache", s.cache.is_some()),
            ("enqueue", s.enqueue.is_some()),
        ]
        .into_iter()
        .filter_map(|(k, set)| set.then_some(k))
        .collect()
    }

    fn step(&mut self, sid: ServiceId, from: EndpointId, s: &RawStep, path: &P) -> Option<Step> {
        let kinds = Self::step_kinds(s);
        let [kind] = kinds.as_slice() else {
            let found = if kinds.is_empty() { "none".to_string() } else { kinds.join(", ") };
            self.err(path, format!("a step needs exactly one of `call`, `route`, `parallel`, `work`, `publish`, `cache`, `enqueue`; found: {found}"));
            return None;
        };
        if s.optional.is_some() {
            self.err_key(
                &path.k("optional"),
                "`optional` is only allowed on a branch of a `parallel` step (a failed sequential step always fails the request)",
            );
        }
        if s.outbox.is_some() && *kind != "publish" && *kind != "enqueue" {
            self.err_key(&path.k("outbox"), "`outbox` is only allowed with `publish` or `enqueue`");
        }
        match *kind {
            "call" | "route" => self.call_site(sid, from, s, path).map(Step::Call),
            "cache" => self.cache_step(sid, from, s, path),
            "parallel" => {
                let pp = path.k("parallel");
                if s.policy.is_some() {
                    self.err_key(
                        &path.k("policy"),
                        "a `parallel` step has no policy of its own; give each branch its `policy`",
                    );
                }
                let branches = s.parallel.as_deref().unwrap_or_default();
                if branches.is_empty() {
                    self.err(&pp, "a `parallel` step needs at least one branch");
                    return None;
                }
                if branches.len() > MAX_BRANCHES {
                    self.err(
                        &pp,
                        format!("too many parallel branches: {} (at most {MAX_BRANCHES})", branches.len()),
                    );
                    return None;
                }
                let mut sites = Vec::new();
                for (i, b) in branches.iter().enumerate() {
                    let bp = pp.i(i);
                    let bk = Self::step_kinds(b);
                    if bk != ["call"] && bk != ["route"] {
                        let found = if bk.is_empty() { "none".to_string() } else { bk.join(", ") };
                        self.err(
                            &bp,
                            format!("a `parallel` branch must be a `call` or a `route`; found: {found}"),
                        );
                        continue;
                    }
                    if b.outbox.is_some() {
                        self.err_key(&bp.k("outbox"), "`outbox` is only allowed with `publish`");
                    }
                    if let Some(site) = self.call_site(sid, from, b, &bp) {
                        sites.push(site);
                    }
                }
                Some(Step::Parallel(sites))
            }
            "work" => {
                if s.policy.is_some() {
                    self.err_key(&path.k("policy"), "`policy` is only allowed with `call` or `route`");
                }
                s.work.as_ref().map(|d| Step::Work(self.dist(d, &path.k("work"))))
            }
            "enqueue" => self.enqueue_step(s, path),
            _ => {
                if s.policy.is_some() {
                    self.err_key(&path.k("policy"), "`policy` is only allowed with `call` or `route`");
                }
                let topic = s.publish.as_deref().unwrap_or_default();
                let outbox = s.outbox.unwrap_or(false);
                self.topic_ref(topic, &path.k("publish")).map(|topic| Step::Publish { topic, outbox })
            }
        }
    }

    /// A `call` or `route` step (or parallel branch).
    fn call_site(&mut self, sid: ServiceId, from: EndpointId, s: &RawStep, path: &P) -> Option<CallSite> {
        let policy = self.policy_ref(s.policy.as_ref(), &path.k("policy"));
        let mut targets = Vec::new();
        let mut ok = true;
        if let Some(call) = &s.call {
            let cp = path.k("call");
            match self.endpoint_ref(call, &cp) {
                Some(t) => {
                    let edge = self.edge(sid, t);
                    if let Some(c) = self.calls.get_mut(from as usize) {
                        c.push((t, cp));
                    }
                    targets.push(RouteTarget { endpoint: t, cum_weight: 1.0, edge });
                }
                None => ok = false,
            }
        } else if let Some(route) = &s.route {
            let rp = path.k("route");
            if route.is_empty() {
                self.err(&rp, "a `route` needs at least one target");
                return None;
            }
            if route.len() > MAX_ROUTE_TARGETS {
                self.err(
                    &rp,
                    format!("too many route targets: {} (at most {MAX_ROUTE_TARGETS})", route.len()),
                );
                return None;
            }
            let mut weights = Vec::new();
            for (i, t) in route.iter().enumerate() {
                let tp = rp.i(i);
                let w = self.positive(t.weight, &tp.k("weight"), "a weight");
                match self.endpoint_ref(&t.to, &tp.k("to")) {
                    Some(e) => {
                        let edge = self.edge(sid, e);
                        if let Some(c) = self.calls.get_mut(from as usize) {
                            c.push((e, tp.k("to")));
                        }
                        weights.push(w);
                        targets.push(RouteTarget { endpoint: e, cum_weight: 0.0, edge });
                    }
                    None => ok = false,
                }
            }
            let total: f64 = weights.iter().sum();
            if !total.is_finite() {
                self.err(&rp, "the weights add up to more than a float can hold");
                return None;
            }
            let mut cum = 0.0;
            let n = targets.len();
            for (i, (t, w)) in targets.iter_mut().zip(weights).enumerate() {
                cum += w;
                t.cum_weight = if i + 1 == n { 1.0 } else { (cum / total).min(1.0) };
            }
        }
        if !ok {
            return None;
        }
        Some(CallSite { targets, policy, optional: s.optional.unwrap_or(false) })
    }

    /// Reports every call cycle (an endpoint that reaches itself through its steps).
    fn cycles(&mut self) {
        let n = self.calls.len();
        // 0: not visited, 1: on the current path, 2: done.
        let mut color = vec![0u8; n];
        let mut found: Vec<(P, String)> = Vec::new();
        for start in 0..n {
            if color[start] != 0 {
                continue;
            }
            let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
            color[start] = 1;
            while let Some(&mut (node, ref mut next)) = stack.last_mut() {
                let Some((target, cp)) = self.calls[node].get(*next) else {
                    color[node] = 2;
                    stack.pop();
                    continue;
                };
                *next += 1;
                let t = *target as usize;
                match color.get(t) {
                    Some(0) => {
                        color[t] = 1;
                        stack.push((t, 0));
                    }
                    Some(1) => {
                        let from = stack.iter().position(|(x, _)| *x == t).unwrap_or(0);
                        let mut names: Vec<&str> =
                            stack[from..].iter().map(|(x, _)| self.endpoint_names[*x].as_str()).collect();
                        names.push(self.endpoint_names[t].as_str());
                        let msg = if names.len() == 2 {
                            format!("call cycle: {} calls itself", names[0])
                        } else {
                            format!("call cycle: {}", names.join(" -> "))
                        };
                        found.push((cp.clone(), msg));
                    }
                    _ => {}
                }
            }
        }
        for (p, m) in found {
            self.err(&p, m);
        }
    }

    // ---- network -------------------------------------------------------------------

    fn network(&mut self, raw: &RawScenario) -> Network {
        let mut net = Network::default();
        let Some(n) = &raw.network else { return net };
        let np = P::root().k("network");
        net.default_latency = n.latency.as_ref().map(|d| self.dist(d, &np.k("latency")));
        let mut seen: BTreeMap<(ServiceId, ServiceId), usize> = BTreeMap::new();
        for (i, l) in n.links.iter().flatten().enumerate() {
            let lp = np.k("links").i(i);
            let from = self.service_ref(&l.from, &lp.k("from"));
            let to = self.service_ref(&l.to, &lp.k("to"));
            let latency = l.latency.as_ref().map(|d| self.dist(d, &lp.k("latency")));
            let loss_p =
                l.loss.as_ref().map(|s| self.pct(s.percent, &lp.k("loss").k("percent"))).unwrap_or(0.0);
            let (Some(from), Some(to)) = (from, to) else { continue };
            if let Some(first) = seen.get(&(from, to)) {
                self.err(
                    &lp,
                    format!("duplicate link {}->{} (first given at /network/links/{first})", l.from, l.to),
                );
                continue;
            }
            seen.insert((from, to), i);
            net.links.push(Link { from, to, latency, loss_p });
        }
        net
    }

    // ---- topics and sagas ----------------------------------------------------------

    fn topics(&mut self, raw: &RawScenario) -> Vec<Topic> {
        let mut out = Vec::new();
        let Some(ts) = &raw.topics else { return out };
        let tp = P::root().k("topics");
        for (name, t) in ts.iter() {
            let p = tp.k(name);
            let partitions = self.at_least(t.partitions.unwrap_or(1), 1, &p.k("partitions"));
            if partitions > MAX_PARTITIONS {
                self.err(
                    &p.k("partitions"),
                    format!("too many partitions: {partitions} (at most {MAX_PARTITIONS})"),
                );
            }
            let key = match t.key {
                None | Some(RawKey::Random) => KeyMode::Random,
                Some(RawKey::RoundRobin) => KeyMode::RoundRobin,
                Some(RawKey::Entities(n)) => {
                    KeyMode::Entities(self.at_least(n, 1, &p.k("key").k("entities")))
                }
            };
            let latency = t.latency.as_ref().map(|d| self.dist(d, &p.k("latency")));
            let relay_interval_ns = match &t.relay_interval {
                Some(d) => self.dur_pos(d, &p.k("relay_interval")),
                None => 100 * NS_PER_S / 1000,
            };
            let mut groups: Vec<Group> = Vec::new();
            let mut group_names: Vec<&str> = Vec::new();
            for (i, s) in t.subscribers.iter().flatten().enumerate() {
                let sp = p.k("subscribers").i(i);
                self.name("group", &s.group, &sp.k("group"), false);
                if let Some(first) = group_names.iter().position(|g| *g == s.group) {
                    self.err(
                        &sp.k("group"),
                        format!(
                            "group name `{}` is used twice in topic `{name}` (first at subscribers/{first})",
                            s.group
                        ),
                    );
                }
                group_names.push(&s.group);
                let endpoint = self.endpoint_ref(&s.endpoint, &sp.k("endpoint"));
                let replicas = endpoint
                    .and_then(|e| self.endpoint_service(e))
                    .map(|sid| self.services[sid as usize].replicas.clamp(1, MAX_REPLICAS_PER_SERVICE))
                    .unwrap_or(1);
                let consumers = match s.consumers {
                    Some(n) => {
                        let n = self.at_least(n, 1, &sp.k("consumers"));
                        if n > MAX_CONSUMERS {
                            self.err(
                                &sp.k("consumers"),
                                format!("too many consumers: {n} (at most {MAX_CONSUMERS})"),
                            );
                        }
                        n.min(MAX_CONSUMERS)
                    }
                    None => replicas,
                };
                let max_attempts = self.at_least(s.max_attempts.unwrap_or(10), 1, &sp.k("max_attempts"));
                let max_attempts = self.at_most(
                    max_attempts,
                    MAX_GROUP_ATTEMPTS,
                    &sp.k("max_attempts"),
                    "a message blocks its partition while it is retried; real consumers give up after a handful",
                );
                let backoff = s.backoff.as_ref().map(|b| self.backoff(b, &sp.k("backoff")));
                let commit_interval_ns =
                    s.commit_interval.as_ref().map(|d| self.dur_pos(d, &sp.k("commit_interval")));
                let session_timeout_ns = match &s.session_timeout {
                    Some(d) => self.dur_pos(d, &sp.k("session_timeout")),
                    None => 10 * NS_PER_S,
                };
                let Some(endpoint) = endpoint else { continue };
                groups.push(Group {
                    name: s.group.clone(),
                    endpoint,
                    consumers,
                    max_attempts,
                    backoff,
                    on_exhausted: match s.on_exhausted {
                        None | Some(RawOnExhausted::Drop) => OnExhausted::Drop,
                        Some(RawOnExhausted::DeadLetter) => OnExhausted::DeadLetter,
                    },
                    commit_interval_ns,
                    session_timeout_ns,
                    idempotent: s.idempotent.unwrap_or(false),
                });
            }
            out.push(Topic {
                name: name.clone(),
                partitions: partitions.min(MAX_PARTITIONS),
                key,
                latency,
                relay_interval_ns,
                groups,
            });
        }
        out
    }

    /// Resolves the sagas and creates their call edges (orchestrator → action, then
    /// orchestrator → compensation, step by step).
    fn sagas(&mut self, raw: &'a RawScenario) -> Vec<Saga> {
        let mut out = Vec::new();
        self.saga_first = vec![None; self.saga_names.len()];
        let Some(ss) = &raw.sagas else { return out };
        let sp = P::root().k("sagas");
        for (si, (name, s)) in ss.iter().enumerate() {
            let p = sp.k(name);
            let stp = p.k("steps");
            let orchestrator = self.service_ref(&s.orchestrator, &p.k("orchestrator"));
            let policy = self.policy_ref(s.policy.as_ref(), &p.k("policy"));
            if s.steps.is_empty() {
                self.err(&stp, "a saga needs at least one step");
            }
            if s.steps.len() > MAX_SAGA_STEPS {
                self.err(&stp, format!("too many steps: {} (at most {MAX_SAGA_STEPS})", s.steps.len()));
            }
            let pivot = s.steps.iter().position(|st| st.pivot == Some(true));
            let mut names: Vec<&str> = Vec::new();
            let mut steps = Vec::new();
            let mut ok = orchestrator.is_some();
            for (i, st) in s.steps.iter().enumerate().take(MAX_STEPS) {
                let p = stp.i(i);
                self.name("step", &st.name, &p.k("name"), false);
                if let Some(first) = names.iter().position(|n| *n == st.name) {
                    self.err(
                        &p.k("name"),
                        format!("step name `{}` is used twice (first at steps/{first})", st.name),
                    );
                }
                names.push(&st.name);
                let is_pivot = st.pivot == Some(true);
                let retriable = st.retriable == Some(true);
                match pivot {
                    Some(first) if is_pivot && first != i => {
                        let msg = format!(
                            "a saga has at most one pivot, and step `{}` (steps/{first}) is already it",
                            s.steps[first].name
                        );
                        self.err(&p.k("pivot"), msg);
                    }
                    Some(first) if i > first && !retriable => {
                        let msg = format!(
                            "steps after the pivot are retriable: step `{}` comes after the pivot `{}`; add \"retriable\": true (or move the pivot)",
                            st.name, s.steps[first].name
                        );
                        self.err(&p, msg);
                    }
                    _ => {}
                }
                if retriable {
                    match pivot {
                        Some(first) if i == first => self.err(
                            &p.k("retriable"),
                            "the pivot cannot be retriable: it is the last step that may fail for good (steps after it are the retriable ones)",
                        ),
                        Some(first) if i < first => {
                            let msg = format!(
                                "a retriable step must come after the pivot, and this one comes before the pivot `{}`",
                                s.steps[first].name
                            );
                            self.err(&p.k("retriable"), msg);
                        }
                        Some(_) => {}
                        None => self.err(
                            &p.k("retriable"),
                            "a retriable step must come after the pivot, and this saga has no pivot (mark the point of no return with \"pivot\": true)",
                        ),
                    }
                    if st.compensation.is_some() {
                        self.err(
                            &p.k("compensation"),
                            "a retriable step is retried until it succeeds and never compensated: remove its `compensation`",
                        );
                    }
                }
                let (action, action_policy) = self.saga_call(&st.action, policy, &p.k("action"));
                let (compensation, comp_policy) = match &st.compensation {
                    Some(c) => {
                        let (e, cp) = self.saga_call(c, policy, &p.k("compensation"));
                        ok &= e.is_some();
                        (e, cp)
                    }
                    None => (None, None),
                };
                let (Some(orch), Some(action)) = (orchestrator, action) else {
                    ok = false;
                    continue;
                };
                let action_edge = self.edge(orch, action);
                let compensation_edge = compensation.map(|c| self.edge(orch, c));
                steps.push(SagaStep {
                    name: st.name.clone(),
                    action,
                    action_edge,
                    compensation,
                    compensation_edge,
                    action_policy,
                    comp_policy,
                    pivot: is_pivot,
                    retriable,
                });
            }
            if let Some(first) = steps.first() {
                self.saga_first[si] = Some((first.action, first.action_edge));
            }
            if !ok {
                continue;
            }
            let Some(orchestrator) = orchestrator else { continue };
            out.push(Saga {
                name: name.clone(),
                orchestrator,
                policy,
                steps,
                compensation_policy: match s.compensation_policy {
                    None | Some(RawCompensationPolicy::BestEffort) => CompensationPolicy::BestEffort,
                    Some(RawCompensationPolicy::Persistent) => CompensationPolicy::Persistent,
                },
                compensate_unknown: s.compensate_unknown.unwrap_or(false),
                durable: s.durable.unwrap_or(false),
            });
        }
        out
    }

    /// A saga step's action or compensation: its endpoint and its policy (its own when
    /// it names one, else the saga's `default`).
    fn saga_call(
        &mut self,
        c: &RawSagaCall,
        default: Option<PolicyId>,
        path: &P,
    ) -> (Option<EndpointId>, Option<PolicyId>) {
        let (ep_path, own) = match c {
            RawSagaCall::Endpoint(_) => (path.clone(), None),
            RawSagaCall::With(w) => {
                (path.k("call"), Some(self.policy_ref(w.policy.as_ref(), &path.k("policy"))))
            }
        };
        let ep = self.endpoint_ref(c.endpoint(), &ep_path);
        (ep, own.flatten().or(default))
    }

    // ---- workloads -----------------------------------------------------------------

    fn workloads(&mut self, raw: &RawScenario) -> Vec<Workload> {
        let mut out = Vec::new();
        let wp = P::root().k("workload");
        // By name, the first workload that has it (a map: tens of thousands of workloads
        // must not cost a quadratic search).
        let mut names: BTreeMap<&str, usize> = BTreeMap::new();
        for (i, w) in raw.workload.iter().flatten().enumerate() {
            let p = wp.i(i);
            self.name("workload", &w.name, &p.k("name"), false);
            if let Some(first) = names.get(w.name.as_str()) {
                self.err(
                    &p.k("name"),
                    format!("workload name `{}` is used twice (first at /workload/{first})", w.name),
                );
            } else {
                names.insert(&w.name, i);
            }
            let policy = self.policy_ref(w.policy.as_ref(), &p.k("policy"));
            let (arrival, open) = match &w.arrival {
                RawArrival::Poisson(r) => (
                    Arrival::Poisson {
                        rate_per_s: self.rate(r.rate, &p.k("arrival").k("poisson").k("rate"), false),
                    },
                    true,
                ),
                RawArrival::Constant(r) => (
                    Arrival::Constant {
                        rate_per_s: self.rate(r.rate, &p.k("arrival").k("constant").k("rate"), false),
                    },
                    true,
                ),
                RawArrival::Closed(c) => {
                    let cp = p.k("arrival").k("closed");
                    let users = self.at_least(c.users, 1, &cp.k("users"));
                    if users > MAX_USERS {
                        self.err(&cp.k("users"), format!("too many users: {users} (at most {MAX_USERS})"));
                    }
                    (Arrival::Closed { users, think: self.dist(&c.think, &cp.k("think")) }, false)
                }
            };
            let schedule = self.schedule(w.schedule.as_deref(), open, &p.k("schedule"));
            if let Some(saga) = w.target.strip_prefix("saga:") {
                if w.policy.is_some() {
                    self.err(
                        &p.k("policy"),
                        "a saga workload has no client policy: the saga's own policy governs its calls",
                    );
                }
                let Some(id) = self.saga_ref(saga, &p.k("target")) else { continue };
                // Errors in the saga itself are reported at the saga.
                let Some(Some((target, edge))) = self.saga_first.get(id as usize).copied() else { continue };
                out.push(Workload {
                    name: w.name.clone(),
                    target,
                    edge,
                    saga: Some(id),
                    arrival,
                    schedule,
                    policy: None,
                    priority: w.priority.map(shed::priority),
                });
                continue;
            }
            let Some(target) = self.endpoint_ref(&w.target, &p.k("target")) else { continue };
            let edge = self.edges.len() as EdgeId;
            let tname = self.endpoint_names.get(target as usize).cloned().unwrap_or_default();
            self.edges.push(Edge { caller: None, target, name: format!("client:{}->{tname}", w.name) });
            let priority = w.priority.map(shed::priority);
            out.push(Workload {
                name: w.name.clone(),
                target,
                edge,
                saga: None,
                arrival,
                schedule,
                policy,
                priority,
            });
        }
        out
    }

    fn schedule(&mut self, s: Option<&[RawRateChange]>, open: bool, path: &P) -> Vec<RateChange> {
        let Some(s) = s else { return Vec::new() };
        if !open && !s.is_empty() {
            self.err(
                path,
                "a schedule applies only to open arrivals (`poisson`, `constant`), not to `closed`",
            );
            return Vec::new();
        }
        let mut out: Vec<RateChange> = Vec::new();
        for (i, c) in s.iter().enumerate() {
            let p = path.i(i);
            let Some(at_ns) = self.dur(&c.at, &p.k("at")) else { continue };
            // A change at or after the end is allowed and never happens: shortening a
            // run with `--set /duration=...` must not turn a scenario invalid.
            if let Some(prev) = out.last() {
                if at_ns <= prev.at_ns {
                    self.err(
                        &p.k("at"),
                        format!(
                            "schedule out of order: at {} comes after at {}; entries must have increasing `at`",
                            format_ns(at_ns),
                            format_ns(prev.at_ns)
                        ),
                    );
                } else if prev.at_ns.saturating_add(prev.ramp_ns) > at_ns {
                    self.err(
                        &p.k("at"),
                        format!(
                            "this change at {} starts before the previous ramp (at {} over {}) ends",
                            format_ns(at_ns),
                            format_ns(prev.at_ns),
                            format_ns(prev.ramp_ns)
                        ),
                    );
                }
            }
            let rate_per_s = self.rate(c.rate, &p.k("rate"), true);
            let ramp_ns = self.dur_opt(c.ramp.as_ref(), &p.k("ramp"), 0);
            out.push(RateChange { at_ns, rate_per_s, ramp_ns });
        }
        out
    }

    // ---- faults --------------------------------------------------------------------

    fn fault_target(&mut self, s: &str, path: &P) -> Option<FaultTarget> {
        if let Some((svc, idx)) = s.split_once('#') {
            return self.replica_ref(svc, idx, s, path).map(FaultTarget::Replica);
        }
        if s.contains('.') {
            return self.endpoint_ref(s, path).map(FaultTarget::Endpoint);
        }
        self.service_ref(s, path).map(FaultTarget::Service)
    }

    fn replica_ref(&mut self, svc: &str, idx: &str, whole: &str, path: &P) -> Option<ReplicaId> {
        let sid = self.service_ref(svc, path)?;
        let info = &self.services[sid as usize];
        let n = info.replicas;
        let first = info.first_replica;
        let i = if !idx.is_empty() && idx.bytes().all(|b| b.is_ascii_digit()) {
            idx.parse::<u32>().ok()
        } else {
            None
        };
        match i {
            Some(i) if i < n => Some(first + i),
            _ => {
                let have = if n == 1 {
                    format!("{svc} has 1 replica ({svc}#0)")
                } else {
                    format!("{svc} has {n} replicas ({svc}#0 to {svc}#{})", n.saturating_sub(1))
                };
                self.err(path, format!("unknown replica `{whole}`; {have}"));
                None
            }
        }
    }

    /// Start and end of a fault; checks the start is inside the run.
    fn window(&mut self, start: &Dur, duration: Option<&Dur>, path: &P) -> (Nanos, Nanos) {
        let start_ns = self.dur(start, &path.k("start")).unwrap_or(0);
        // A fault that starts at or after the end never fires; allowed for the same
        // reason as schedule changes after the end.
        let end_ns = match duration {
            Some(d) => start_ns.saturating_add(self.dur_pos(d, &path.k("duration"))),
            None => Nanos::MAX,
        };
        (start_ns, end_ns)
    }

    fn faults(&mut self, raw: &RawScenario) -> Vec<Fault> {
        let mut out = Vec::new();
        let fp = P::root().k("faults");
        for (i, f) in raw.faults.iter().flatten().enumerate() {
            let p = fp.i(i);
            let label_time = |start: &Dur, dur: Option<&Dur>| -> String {
                match dur {
                    Some(d) => format!("{}+{}", dur_text(start), dur_text(d)),
                    None => format!("from {}", dur_text(start)),
                }
            };
            let fault = match f {
                RawFault::Delay(d) => {
                    let p = p.k("delay");
                    let target = self.fault_target(&d.target, &p.k("target"));
                    let latency = self.dist(&d.latency, &p.k("latency"));
                    let pr = self.pct(d.percent.unwrap_or(100.0), &p.k("percent"));
                    let (start_ns, end_ns) = self.window(&d.start, d.duration.as_ref(), &p);
                    target.map(|target| Fault {
                        name: String::new(),
                        kind: FaultKind::Delay { target, latency, p: pr },
                        start_ns,
                        end_ns,
                        label: format!("delay {} {}", d.target, label_time(&d.start, d.duration.as_ref())),
                    })
                }
                RawFault::Slowdown(s) => {
                    let p = p.k("slowdown");
                    let target = self.fault_target(&s.target, &p.k("target"));
                    let factor =
                        self.in_range(s.factor, 0.0, MAX_SLOWDOWN_FACTOR, true, &p.k("factor"), "a factor");
                    let (start_ns, end_ns) = self.window(&s.start, s.duration.as_ref(), &p);
                    target.map(|target| Fault {
                        name: String::new(),
                        kind: FaultKind::Slowdown { target, factor },
                        start_ns,
                        end_ns,
                        label: format!(
                            "slowdown {} x{} {}",
                            s.target,
                            fmt_f(factor),
                            label_time(&s.start, s.duration.as_ref())
                        ),
                    })
                }
                RawFault::Abort(a) => {
                    let p = p.k("abort");
                    let target = self.fault_target(&a.target, &p.k("target"));
                    let pr = self.pct(a.percent.unwrap_or(100.0), &p.k("percent"));
                    let (start_ns, end_ns) = self.window(&a.start, a.duration.as_ref(), &p);
                    target.map(|target| Fault {
                        name: String::new(),
                        kind: FaultKind::Abort { target, p: pr },
                        start_ns,
                        end_ns,
                        label: format!("abort {} {}", a.target, label_time(&a.start, a.duration.as_ref())),
                    })
                }
                RawFault::Crash(c) => {
                    let p = p.k("crash");
                    let tp = p.k("target");
                    let replica = match c.target.split_once('#') {
                        Some((svc, idx)) => self.replica_ref(svc, idx, &c.target, &tp),
                        None => {
                            self.err(
                                &tp,
                                format!(
                                    "expected one replica as `service#index` (e.g. `{}#0`), found `{}`",
                                    c.target, c.target
                                ),
                            );
                            None
                        }
                    };
                    let (start_ns, _) = self.window(&c.start, None, &p);
                    let restart_after_ns =
                        c.restart_after.as_ref().map(|d| self.dur_pos(d, &p.k("restart_after")));
                    replica.map(|replica| Fault {
                        name: String::new(),
                        kind: FaultKind::Crash { replica, restart_after_ns },
                        start_ns,
                        end_ns: Nanos::MAX,
                        label: format!("crash {} {}", c.target, dur_text(&c.start)),
                    })
                }
                RawFault::Partition(x) => {
                    let p = p.k("partition");
                    let bp = p.k("between");
                    let (start_ns, end_ns) = self.window(&x.start, x.duration.as_ref(), &p);
                    if x.between.len() != 2 {
                        self.err(
                            &bp,
                            format!("expected exactly two groups of services, found {}", x.between.len()),
                        );
                        None
                    } else {
                        let mut groups: Vec<Vec<ServiceId>> = Vec::new();
                        for (g, names) in x.between.iter().enumerate() {
                            if names.is_empty() {
                                self.err(&bp.i(g), "a partition group needs at least one service");
                            }
                            let mut ids = Vec::new();
                            for (j, n) in names.iter().enumerate() {
                                if let Some(id) = self.service_ref(n, &bp.i(g).i(j)) {
                                    if g == 1 && groups.first().is_some_and(|a| a.contains(&id)) {
                                        self.err(&bp.i(g).i(j), format!("`{n}` is in both groups"));
                                    }
                                    if !ids.contains(&id) {
                                        ids.push(id);
                                    }
                                }
                            }
                            groups.push(ids);
                        }
                        let b = groups.pop().unwrap_or_default();
                        let a = groups.pop().unwrap_or_default();
                        let names = |g: &Vec<String>| g.join(",");
                        let label = format!(
                            "partition {}|{} {}",
                            x.between.first().map(names).unwrap_or_default(),
                            x.between.get(1).map(names).unwrap_or_default(),
                            label_time(&x.start, x.duration.as_ref())
                        );
                        Some(Fault {
                            name: String::new(),
                            kind: FaultKind::Partition { a, b },
                            start_ns,
                            end_ns,
                            label,
                        })
                    }
                }
                RawFault::Loss(l) => {
                    let p = p.k("loss");
                    let from = self.service_ref(&l.from, &p.k("from"));
                    let to = self.service_ref(&l.to, &p.k("to"));
                    let pr = self.pct(l.percent, &p.k("percent"));
                    let (start_ns, end_ns) = self.window(&l.start, l.duration.as_ref(), &p);
                    match (from, to) {
                        (Some(from), Some(to)) => Some(Fault {
                            name: String::new(),
                            kind: FaultKind::Loss { from, to, p: pr },
                            start_ns,
                            end_ns,
                            label: format!(
                                "loss {}->{} {}",
                                l.from,
                                l.to,
                                label_time(&l.start, l.duration.as_ref())
                            ),
                        }),
                        _ => None,
                    }
                }
                RawFault::Outage(o) => {
                    let p = p.k("outage");
                    let kind = match (o.target.strip_prefix("topic:"), o.target.strip_prefix("queue:")) {
                        (Some(t), _) => {
                            self.topic_ref(t, &p.k("target")).map(|topic| FaultKind::Outage { topic })
                        }
                        (_, Some(q)) => self.queue_outage(q, &p.k("target")),
                        _ => {
                            self.err(
                                &p.k("target"),
                                format!(
                                    "expected a topic as `topic:NAME` or a queue as `queue:NAME`, found `{}`",
                                    o.target
                                ),
                            );
                            None
                        }
                    };
                    let (start_ns, end_ns) = self.window(&o.start, o.duration.as_ref(), &p);
                    kind.map(|kind| Fault {
                        name: String::new(),
                        kind,
                        start_ns,
                        end_ns,
                        label: format!("outage {} {}", o.target, label_time(&o.start, o.duration.as_ref())),
                    })
                }
            };
            if let Some(mut fault) = fault {
                fault.name = match f.name() {
                    Some(n) => {
                        let np = p.k(f.kind_key()).k("name");
                        if n.trim().is_empty() {
                            self.err(&np, "expected a non-empty name");
                        } else if matches!(n.as_str(), "before" | "after") {
                            self.err(&np, format!("`{n}` names a phase of its own; choose another name"));
                        } else if out.iter().any(|o: &Fault| &o.name == n) {
                            self.err(&np, format!("another fault is already named `{n}`; names are unique"));
                        }
                        n.clone()
                    }
                    None => fault.label.clone(),
                };
                out.push(fault);
            }
        }
        out
    }
}

/// A duration as the user wrote it, for labels.
fn dur_text(d: &Dur) -> &str {
    match d {
        Dur::Text(s) | Dur::Number(s) => s,
    }
}

/// `"p99.9"` → 99.9; `None` unless `p` followed by a plain decimal from 0 to 100.
fn parse_percentile_key(k: &str) -> Option<f64> {
    let num = k.strip_prefix('p')?;
    let (int, frac) = num.split_once('.').unwrap_or((num, "0"));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(int) || !digits(frac) {
        return None;
    }
    let v: f64 = num.parse().ok()?;
    (0.0..=100.0).contains(&v).then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_hints() {
        assert!(is_name("order-db_2"));
        assert!(!is_name("Payment"));
        assert!(!is_name("a.b"));
        assert!(!is_name(""));
        assert_eq!(edit_distance("chrage", "charge"), 2);
        assert_eq!(suggest("chrage", ["charge", "refund"]), " (did you mean `charge`?)");
        assert_eq!(suggest("zzzzzz", ["charge", "refund"]), "");
    }

    #[test]
    fn percentile_keys() {
        assert_eq!(parse_percentile_key("p99.9"), Some(99.9));
        assert_eq!(parse_percentile_key("p0"), Some(0.0));
        assert_eq!(parse_percentile_key("p100"), Some(100.0));
        for bad in ["p101", "p", "99", "p-1", "p1e2", "p.5", "p5.", "pinf", "pNaN"] {
            assert_eq!(parse_percentile_key(bad), None, "{bad}");
        }
    }
}
