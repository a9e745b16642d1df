//! The overload controls in words, for "What was simulated" and for what a variant
//! changes: rate limits (Envoy's token bucket, resilience4j's RateLimiter), load
//! shedding (CoDel's target, utilisation by priority) and adaptive concurrency (Envoy's
//! gradient controller, Netflix's AIMD), each with the parameters the run used,
//! defaults included, so that a reader sees what `{"gradient": {}}` meant.

use super::words::dur;
use crate::policy::adaptive::Adaptive;
use crate::policy::hpa::{Autoscale, PolicyKind, Rules, ScaleMetric, Select};
use crate::spec::{RateLimit, Service, Shed, Spec};

/// A rate limiter with its parameters.
pub(crate) fn rate_limit(r: &RateLimit) -> String {
    match *r {
        RateLimit::TokenBucket { max_tokens, tokens_per_fill, fill_interval_ns } => format!(
            "token bucket of {max_tokens} (Envoy's local rate limit), {tokens_per_fill} added every {}; a request \
             finding it empty fails rate_limited at once",
            dur(fill_interval_ns)
        ),
        RateLimit::Resilience4j { limit_for_period, refresh_ns, timeout_ns } => format!(
            "{limit_for_period} permissions every {} (resilience4j's RateLimiter), waiting up to {} for one",
            dur(refresh_ns),
            dur(timeout_ns)
        ),
    }
}

/// A shedding rule with its parameter.
pub(crate) fn shed(s: &Shed) -> String {
    match *s {
        Shed::QueueDelay { target_ns } => format!(
            "sheds at dequeue every queued request that waited over {} (CoDel's target), then serves by \
             priority",
            dur(target_ns)
        ),
        Shed::Utilization { percent } => format!(
            "sheds sheddable requests at {}% busy workers, default ones when every worker is busy and requests \
             wait, never critical ones",
            super::num::fixed(percent, 0)
        ),
    }
}

/// An adaptive concurrency filter with the parameters it ran with.
pub(crate) fn adaptive(a: &Adaptive) -> String {
    match a {
        Adaptive::Gradient(g) => format!(
            "Envoy's gradient controller: limit updated every {} between {} and {}, minRTT \
             from {} requests every {} ({}% jitter, {}% buffer); above the limit a request fails unavailable",
            dur(g.update_interval_ns),
            g.min_concurrency,
            g.max_limit,
            g.request_count,
            dur(g.min_rtt_interval_ns),
            super::num::fixed(g.jitter * 100.0, 0),
            super::num::fixed(g.buffer * 100.0, 0)
        ),
        Adaptive::Aimd(m) => format!(
            "Netflix's AIMD: limit from {} within [{}, {}], +1 per response while at least \
             half of it is in flight, ×{} on a response slower than {} or a cancelled call; above the limit a \
             request fails unavailable",
            m.initial_limit,
            m.min_limit,
            m.max_limit,
            super::num::fixed(m.backoff_ratio, 2),
            dur(m.timeout_ns)
        ),
    }
}

/// One direction's behavior: `at most +100% or +4 pods (the larger) per 15 s, window 0 s`.
fn rules(r: &Rules, sign: char) -> String {
    if r.select == Select::Disabled || r.policies.is_empty() {
        return "disabled".into();
    }
    let each: Vec<String> = r
        .policies
        .iter()
        .map(|p| match p.kind {
            PolicyKind::Pods => format!("{sign}{} pods per {}", p.value, dur(p.period_ns)),
            PolicyKind::Percent => format!("{sign}{}% per {}", p.value, dur(p.period_ns)),
        })
        .collect();
    let pick = match (r.select, each.len()) {
        (_, 1) => "",
        (Select::Min, _) => " (the smaller)",
        _ => " (the larger)",
    };
    let window = match r.window_ns {
        0 => "no stabilisation window".to_string(),
        w => format!("stabilisation window {}", dur(w)),
    };
    format!("{}{pick}, {window}", each.join(" or "))
}

/// An autoscaler with the parameters it ran with, defaults included.
pub(crate) fn autoscale(a: &Autoscale, spec: &Spec) -> String {
    let metric = match &a.metric {
        ScaleMetric::Utilization => format!("worker utilisation, target {}%", super::num::fixed(a.target, 0)),
        ScaleMetric::RpsPerReplica => {
            format!("requests per second per replica, target {}", super::num::fixed(a.target, 1))
        }
        ScaleMetric::TopicLag { groups, .. } => {
            let names: Vec<String> = groups
                .iter()
                .filter_map(|g| {
                    spec.topics.iter().flat_map(|t| t.groups.iter().map(move |x| (t, x))).nth(*g as usize)
                })
                .map(|(t, x)| format!("{}/{}", t.name, x.name))
                .collect();
            format!(
                "the lag of {} (KEDA), target {} per replica",
                names.join(", "),
                super::num::fixed(a.target, 0)
            )
        }
        ScaleMetric::QueueLag { queue } => format!(
            "the messages in queue {} (KEDA), target {} per replica",
            spec.queues.get(*queue as usize).map_or("?", |q| q.name.as_str()),
            super::num::fixed(a.target, 0)
        ),
    };
    let p = &a.params;
    let mut t = format!(
        "autoscaled by Kubernetes' HPA on {metric}: {} to {} replicas from {}, sync every {}, tolerance {}; \
         scale-up {}; scale-down {}; a new replica serves after {}",
        p.min,
        p.max,
        a.initial,
        dur(a.sync_ns),
        super::num::fixed(p.tolerance, 2),
        rules(&p.up, '+'),
        rules(&p.down, '−'),
        dur(a.startup_ns)
    );
    if let Some((factor, over)) = a.cold {
        t += &format!(
            ", {}× slower at first, back to normal over {}",
            super::num::fixed(factor, 1),
            dur(over)
        );
    }
    t
}

/// The overload controls of one service, one clause each; empty when it has none.
pub(crate) fn service_guards(s: &Service, spec: &Spec) -> Vec<String> {
    let mut parts = Vec::new();
    if let Some(a) = &s.autoscale {
        parts.push(autoscale(a, spec));
    }
    if let Some(r) = &s.rate_limit {
        let mut t = format!("rate limit per replica: {}", rate_limit(r));
        if let Some(ra) = s.retry_after_ns {
            t += &format!(", answering Retry-After {}", dur(ra));
        }
        parts.push(t);
    }
    if let Some(x) = &s.shed {
        parts.push(shed(x));
    }
    if let Some(a) = &s.adaptive {
        parts.push(format!("adaptive concurrency, {}", adaptive(a)));
    }
    parts
}

/// One line per service with an overload control: `name (R replicas × C workers): …`.
pub(super) fn service_lines(spec: &Spec) -> Vec<(String, String)> {
    spec.services
        .iter()
        .filter_map(|s| {
            let g = service_guards(s, spec);
            let replicas = s.autoscale.as_ref().map_or(s.replicas, |a| a.initial);
            (!g.is_empty())
                .then(|| (format!("{} ({} × {} workers)", s.name, replicas, s.concurrency), g.join("; ")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::adaptive::GradientParams;

    #[test]
    fn defaults_are_spelled_out() {
        // Durations read with a no-break space before their unit.
        let g = adaptive(&Adaptive::Gradient(GradientParams::default())).replace('\u{a0}', " ");
        assert!(g.contains("every 100 ms between 3 and 1000") && g.contains("50 requests every 60 s"), "{g}");
        let b = rate_limit(&RateLimit::TokenBucket {
            max_tokens: 100,
            tokens_per_fill: 10,
            fill_interval_ns: 100_000_000,
        });
        assert_eq!(
            b.replace('\u{a0}', " "),
            "token bucket of 100 (Envoy's local rate limit), 10 added every 100 ms; a request finding it empty \
             fails rate_limited at once"
        );
        assert!(
            shed(&Shed::Utilization { percent: 90.0 }).starts_with("sheds sheddable requests at 90% busy")
        );
        let up = rules(&Rules::default_up(), '+').replace('\u{a0}', " ");
        assert_eq!(up, "+100% per 15 s or +4 pods per 15 s (the larger), no stabilisation window");
    }
}
