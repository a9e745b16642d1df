//! The overload controls in words, for "What was simulated" and for what a variant
//! changes: rate limits (Envoy's token bucket, resilience4j's RateLimiter), load
//! shedding (CoDel's target, utilisation by priority) and adaptive concurrency (Envoy's
//! gradient controller, Netflix's AIMD), each with the parameters the run used,
//! defaults included, so that a reader sees what `{"gradient": {}}` meant.

use super::words::dur;
use crate::policy::adaptive::Adaptive;
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

/// The overload controls of one service, one clause each; empty when it has none.
pub(crate) fn service_guards(s: &Service) -> Vec<String> {
    let mut parts = Vec::new();
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
            let g = service_guards(s);
            (!g.is_empty())
                .then(|| (format!("{} ({} × {} workers)", s.name, s.replicas, s.concurrency), g.join("; ")))
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
    }
}
