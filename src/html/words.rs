//! What was simulated, in words a reviewer reads without the scenario file open: each
//! policy with the call edges that use it ("circuit breaker: opens at 50% failures of
//! the last 20 calls, open 10 s"), each fault ("delay payment +700 ms to 100% of its
//! requests, from 60 s for 60 s"), the variant, and the short forms the topology's
//! arrows carry. Pure functions of the [`Spec`].

use super::num::{int, secs};
use crate::dist::Dist;
use crate::spec::{
    Backoff, Breaker, BreakerPer, BreakerWindow, FaultKind, FaultTarget, Jitter, LoadBalancer, NS_PER_S,
    Nanos, Policy, Scope, Spec,
};

/// A duration in nanoseconds: `300 ms`, `10 s`, `1.5 s`.
pub(crate) fn dur(ns: Nanos) -> String {
    if ns < NS_PER_S {
        let ms = ns as f64 / 1e6;
        if ms.fract() == 0.0 {
            format!("{ms:.0}\u{a0}ms")
        } else {
            format!("{}\u{a0}ms", trim(format!("{ms:.3}")))
        }
    } else {
        secs(ns as f64 / NS_PER_S as f64)
    }
}

fn trim(s: String) -> String {
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn pct(p: f64) -> String {
    format!("{}%", trim(format!("{:.2}", 100.0 * p)))
}

/// A duration distribution: `700 ms`, `exponential, mean 20 ms`.
pub(super) fn dist(d: &Dist) -> String {
    let ns = |v: f64| dur(v.max(0.0).round() as Nanos);
    match d {
        Dist::Constant(v) => ns(*v),
        Dist::Exponential { mean } => format!("exponential, mean {}", ns(*mean)),
        Dist::Uniform { min, max } => format!("uniform {}–{}", ns(*min), ns(*max)),
        Dist::Normal { mean, sd } => format!("normal, mean {}, sd {}", ns(*mean), ns(*sd)),
        Dist::Pareto { scale, shape, max } => {
            format!("Pareto from {}, shape {shape}, up to {}", ns(*scale), ns(*max))
        }
        Dist::LogNormal { .. } => format!("log-normal, mean {}", approx(d.mean())),
        Dist::Percentiles(_) => format!("by percentiles, mean {}", approx(d.mean())),
        Dist::Mixture(_) => format!("a mixture, mean {}", approx(d.mean())),
        other => format!("mean {}", approx(other.mean())),
    }
}

/// A derived duration (a mean) to three significant figures: `902 ms`, `1.25 s`.
fn approx(ns: f64) -> String {
    if !ns.is_finite() || ns <= 0.0 {
        return dur(0);
    }
    let digits = ns.log10().floor() as i32;
    let unit = 10f64.powi(digits - 2);
    dur(((ns / unit).round() * unit) as Nanos)
}

/// An edge's name with a real arrow: `orders→payment.charge`, `client:buyers→orders.create`.
pub(super) fn arrow(name: &str) -> String {
    name.replace("->", "→")
}

/// Per policy, the edges that use it, in edge order (`client:` edges of workloads
/// included, saga orchestrators' calls too).
pub(super) fn policy_edges(spec: &Spec) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = vec![Vec::new(); spec.policies.len()];
    let mut add = |policy: Option<u32>, edge: u32| {
        let (Some(p), Some(e)) = (policy, spec.edges.get(edge as usize)) else { return };
        if let Some(list) = out.get_mut(p as usize)
            && !list.contains(&e.name)
        {
            list.push(e.name.clone());
        }
    };
    for e in &spec.endpoints {
        for step in &e.steps {
            let sites = spec.step_sites(step);
            for site in sites {
                for t in &site.targets {
                    add(site.policy, t.edge);
                }
            }
        }
    }
    for w in spec.workloads.iter().filter(|w| w.saga.is_none()) {
        add(w.policy, w.edge);
    }
    for sg in &spec.sagas {
        for st in &sg.steps {
            add(st.action_policy, st.action_edge);
            if let Some(e) = st.compensation_edge {
                add(st.comp_policy, e);
            }
        }
    }
    for list in &mut out {
        list.sort_by_key(|n| spec.edges.iter().position(|e| e.name == *n));
    }
    out
}

fn backoff(b: &Backoff) -> String {
    match b {
        Backoff::Constant(ns) => format!("{} between attempts", dur(*ns)),
        Backoff::Exponential { initial_ns, multiplier, max_ns, .. } => {
            format!("exponential backoff from {} ×{multiplier} up to {}", dur(*initial_ns), dur(*max_ns))
        }
    }
}

/// A circuit breaker in words: `opens at 50% failures of the last 20 calls (at least
/// 10), open 10 s, 3 trial calls`.
pub(super) fn breaker(b: &Breaker) -> String {
    match b {
        Breaker::Window {
            window,
            minimum_calls,
            failure_rate_threshold,
            slow_call,
            open_for_ns,
            half_open_calls,
        } => {
            let win = match window {
                BreakerWindow::Count(n) => format!("the last {} calls", int(*n as u64)),
                BreakerWindow::Time(ns) => format!("the calls of the last {}", dur(*ns)),
            };
            let mut s = format!(
                "opens at {} failures of {win} (at least {} calls), open {}, {} trial call{}",
                pct(*failure_rate_threshold),
                int(*minimum_calls as u64),
                dur(*open_for_ns),
                half_open_calls,
                if *half_open_calls == 1 { "" } else { "s" }
            );
            if let Some((slow, rate)) = slow_call {
                s += &format!("; also at {} of calls slower than {}", pct(*rate), dur(*slow));
            }
            s
        }
        Breaker::Consecutive { failures, open_for_ns, success_threshold } => format!(
            "opens after {failures} failures in a row, open {}, closes after {success_threshold} successes",
            dur(*open_for_ns)
        ),
    }
}

/// A policy in words, one clause per mechanism it sets.
pub(super) fn policy(p: &Policy) -> String {
    let mut parts: Vec<String> = Vec::new();
    if let Some(t) = p.timeout_ns {
        parts.push(format!("timeout {} per attempt", dur(t)));
    }
    if let Some(d) = p.deadline_ns {
        parts.push(format!("deadline {} for the whole call", dur(d)));
    }
    if let Some(r) = &p.retry {
        let mut s = format!("up to {} attempts, {}", r.max_attempts, backoff(&r.backoff));
        let jitter = match r.jitter {
            Jitter::None => "",
            Jitter::Full => ", full jitter",
            Jitter::Equal => ", equal jitter",
            Jitter::Decorrelated => ", decorrelated jitter",
        };
        s += jitter;
        let on: Vec<&str> =
            crate::spec::Cause::ALL.iter().filter(|c| r.retry_on.contains(**c)).map(|c| c.name()).collect();
        s += &format!(", retried on {}", on.join("/"));
        if r.honor_retry_after {
            s += ", waiting at least a server's Retry-After";
        }
        if let Some(b) = &r.budget {
            s += &format!(
                "; retry budget {} of first attempts (at least {}/s)",
                pct(b.ratio),
                trim(format!("{:.2}", b.min_per_second))
            );
        }
        parts.push(s);
    }
    if let Some(r) = &p.rate_limit {
        parts.push(format!("rate limit per caller replica: {}", super::guards::rate_limit(r)));
    }
    if let Some(b) = &p.breaker {
        let per = match p.breaker_per {
            BreakerPer::Service => "one per target service",
            BreakerPer::Endpoint => "one per target endpoint",
            BreakerPer::Caller => "one for every call under this policy",
        };
        parts.push(format!("circuit breaker: {}, {per}", breaker(b)));
    }
    if let Some(b) = &p.bulkhead {
        let wait = match b.max_wait_ns {
            Some(0) => "no waiting".to_string(),
            Some(w) => format!("wait up to {}", dur(w)),
            None => "wait without limit".into(),
        };
        let covers = if p.timeout_ns.is_none() || b.max_wait_ns == Some(0) {
            ""
        } else if b.timeout_covers_wait {
            ", the timeout counting the wait"
        } else {
            ", the timeout starting once a permit is held"
        };
        parts.push(format!("bulkhead of {} concurrent calls, {wait}{covers}", int(b.max_concurrent as u64)));
    }
    if let Some(h) = &p.hedge {
        parts.push(format!("hedge after {}, up to {} extra", dur(h.after_ns), h.max_extra));
    }
    if let Some(o) = &p.outlier {
        parts.push(format!(
            "outlier ejection after {} errors in a row for {} (at most {} of replicas)",
            o.consecutive_errors,
            dur(o.ejection_ns),
            pct(o.max_ejection)
        ));
    }
    let lb = match p.load_balancer {
        LoadBalancer::RoundRobin => "round robin",
        LoadBalancer::Random => "random",
        LoadBalancer::LeastOutstanding => "least outstanding",
        LoadBalancer::P2c => "power of two choices",
    };
    parts.push(format!("{lb} balancing"));
    if p.cancel_on_timeout {
        parts.push("cancels the callee's work on timeout".into());
    }
    parts.push(match p.scope {
        Scope::Replica => "state per caller replica".into(),
        Scope::Service => "state shared by the caller's replicas".into(),
    });
    parts.join("; ")
}

/// A policy in short, for an arrow of the topology: `internal: timeout 300 ms, 3 tries, breaker`.
pub(crate) fn policy_short(p: &Policy) -> String {
    let mut parts: Vec<String> = Vec::new();
    if let Some(t) = p.timeout_ns {
        parts.push(format!("timeout {}", dur(t)));
    }
    if let Some(r) = p.retry.as_ref().filter(|r| r.max_attempts > 1) {
        parts.push(format!("{} tries", r.max_attempts));
    }
    if p.breaker.is_some() {
        parts.push("breaker".into());
    }
    if p.bulkhead.is_some() {
        parts.push("bulkhead".into());
    }
    if p.hedge.is_some() {
        parts.push("hedge".into());
    }
    if parts.is_empty() { p.name.clone() } else { format!("{}: {}", p.name, parts.join(", ")) }
}

fn target(spec: &Spec, t: &FaultTarget) -> String {
    match t {
        FaultTarget::Service(s) => spec.services.get(*s as usize).map(|s| s.name.clone()),
        FaultTarget::Replica(r) => spec
            .replicas
            .get(*r as usize)
            .and_then(|r| spec.services.get(r.service as usize).map(|s| format!("{}#{}", s.name, r.index))),
        FaultTarget::Endpoint(e) => spec.endpoints.get(*e as usize).map(|e| e.name.clone()),
    }
    .unwrap_or_else(|| "?".into())
}

fn services(spec: &Spec, ids: &[u32]) -> String {
    let names: Vec<&str> =
        ids.iter().filter_map(|s| spec.services.get(*s as usize)).map(|s| s.name.as_str()).collect();
    names.join(", ")
}

/// One fault in words, its window included: `delay payment +700 ms to 100% of its
/// requests, from 60 s for 60 s`.
pub(super) fn fault(spec: &Spec, f: &crate::spec::Fault) -> String {
    let what = match &f.kind {
        FaultKind::Delay { target: t, latency, p } => {
            let by = match latency {
                Dist::Constant(_) => format!("+{}", dist(latency)),
                _ => format!("by a delay ({})", dist(latency)),
            };
            format!("delay {} {by} to {} of its requests", target(spec, t), pct(*p))
        }
        FaultKind::Slowdown { target: t, factor } => format!("slow {} down ×{factor}", target(spec, t)),
        FaultKind::Abort { target: t, p } => {
            format!("abort {} of {}'s requests at once", pct(*p), target(spec, t))
        }
        FaultKind::Crash { replica, restart_after_ns } => {
            let r = target(spec, &FaultTarget::Replica(*replica));
            match restart_after_ns {
                Some(ns) => format!("crash {r}, restarting after {}", dur(*ns)),
                None => format!("crash {r} for good"),
            }
        }
        FaultKind::Partition { a, b } => {
            format!("partition [{}] from [{}]", services(spec, a), services(spec, b))
        }
        FaultKind::Loss { from, to, p } => {
            format!(
                "lose {} of the messages {}→{}",
                pct(*p),
                services(spec, &[*from]),
                services(spec, &[*to])
            )
        }
        FaultKind::Outage { topic } => format!(
            "outage of topic {}'s broker",
            spec.topics.get(*topic as usize).map(|t| t.name.as_str()).unwrap_or("?")
        ),
        FaultKind::QueueOutage { queue } => format!(
            "outage of queue {}'s broker",
            spec.queues.get(*queue as usize).map(|q| q.name.as_str()).unwrap_or("?")
        ),
    };
    let when = if matches!(f.kind, FaultKind::Crash { .. }) {
        format!("at {}", dur(f.start_ns))
    } else if f.end_ns == Nanos::MAX {
        format!("from {} to the end", dur(f.start_ns))
    } else {
        format!("from {} for {}", dur(f.start_ns), dur(f.end_ns.saturating_sub(f.start_ns)))
    };
    format!("{what}, {when}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_people_write_them() {
        assert_eq!(dur(300_000_000), "300\u{a0}ms");
        assert_eq!(dur(1_500_000), "1.5\u{a0}ms");
        assert_eq!(dur(10 * NS_PER_S), "10\u{a0}s");
        assert_eq!(dur(1_500_000_000), "1.5\u{a0}s");
        assert_eq!(dist(&Dist::Constant(700e6)), "700\u{a0}ms");
        assert_eq!(approx(901_952_000.0), "902\u{a0}ms");
        assert_eq!(approx(1_254_000_000.0), "1.25\u{a0}s");
    }

    #[test]
    fn a_breaker_reads_as_its_rule() {
        let b = Breaker::Window {
            window: BreakerWindow::Count(20),
            minimum_calls: 10,
            failure_rate_threshold: 0.5,
            slow_call: None,
            open_for_ns: 10 * NS_PER_S,
            half_open_calls: 3,
        };
        assert_eq!(
            breaker(&b),
            "opens at 50% failures of the last 20 calls (at least 10 calls), open 10\u{a0}s, 3 trial calls"
        );
    }
}
