//! The summary tables of a run's page, read from its [`Summary`]: workloads, endpoints,
//! calls, services, sagas, topic groups and work queues. Every table counts success the one way
//! ([`success`]), shows what is still in flight, and says in its caption what its
//! numbers cover.

use super::Table;
use super::first::success;
use super::num::{self, int};
use crate::report::Summary;
use crate::report::summary::{Failed, Latency, Quantiles};

// ---- cells ---------------------------------------------------------------------------

/// One latency figure of successful responses, rounded once from the exact value.
fn lat(l: &Latency, f: fn(&Quantiles) -> f64) -> String {
    num::ms(l.get(f))
}

fn util(v: f64) -> String {
    if v.is_finite() { format!("{}%", num::fixed(100.0 * v, 1)) } else { num::NONE.into() }
}

/// Non-zero failure counts, `timeout 410, unavailable 289`, in the contract's order.
fn failures(f: &Failed) -> String {
    // A no-break space keeps a cause and its count on one line.
    let parts: Vec<String> = f.nonzero().map(|(c, n)| format!("{}\u{a0}{}", c.name(), int(n))).collect();
    if parts.is_empty() { num::NONE.into() } else { parts.join(", ") }
}

// ---- tables --------------------------------------------------------------------------

/// The cache steps (cache-aside reads): what their reads found, what fell through to
/// `on_miss`, and their populates.
fn push_cache_table(s: &Summary, tables: &mut Vec<Table>) {
    if s.caches.is_empty() {
        return;
    }
    let rows = s
        .caches
        .iter()
        .map(|(name, c)| {
            vec![
                name.to_string(),
                int(c.gets),
                int(c.hits),
                int(c.misses),
                int(c.errors),
                c.hit_ratio.map(|h| format!("{}%", num::fixed(h, 1))).unwrap_or_else(|| num::NONE.into()),
                int(c.abandoned),
                int(c.in_flight),
                int(c.populates),
                int(c.populate_failed),
            ]
        })
        .collect();
    tables.push(Table {
        caption: "Cache steps (cache-aside reads): hit ratio = hits ÷ (hits + misses); misses and, under \
                  on_cache_error \"miss\", errors fall through to the step's on_miss steps (the database)",
        header: vec![
            "cache step",
            "gets",
            "hits",
            "misses",
            "errors",
            "hit ratio",
            "abandoned",
            "in flight",
            "populates",
            "populate failed",
        ],
        rows,
        text_cols: vec![],
    });
}

/// The summary tables of one run; empty sections are left out. Every table counts
/// success the one way ([`success`]) and shows what is still in flight.
pub(super) fn summary_tables(s: &Summary) -> Vec<Table> {
    let mut tables = Vec::new();
    let rows: Vec<Vec<String>> = s
        .workloads
        .iter()
        .map(|(name, w)| {
            let l = &w.latency_ms;
            let failed = w.failed.total();
            vec![
                name.to_string(),
                int(w.offered),
                int(w.ok),
                int(w.degraded),
                int(failed),
                int(w.in_flight),
                success(w.ok, failed),
                failures(&w.failed),
                num::fixed(w.goodput_rps, 1),
                lat(l, |q| q.mean),
                lat(l, |q| q.p50),
                lat(l, |q| q.p90),
                lat(l, |q| q.p99),
                lat(l, |q| q.p999),
                lat(l, |q| q.max),
            ]
        })
        .collect();
    if !rows.is_empty() {
        tables.push(Table {
            caption: "Workloads: requests that started in the measured window; latency of successful \
                      responses only (ok, degraded included), in ms unless marked s",
            header: vec![
                "workload",
                "offered",
                "ok",
                "of which degraded",
                "failed",
                "in flight",
                "success",
                "failures by cause",
                "goodput/s",
                "mean",
                "p50",
                "p90",
                "p99",
                "p99.9",
                "max",
            ],
            rows,
            text_cols: vec![7],
        });
    }
    tables.extend(super::priorities::priority_table(s));
    let rows: Vec<Vec<String>> = s
        .endpoints
        .iter()
        .map(|(name, e)| {
            let failed = e.failed.total();
            vec![
                name.to_string(),
                int(e.requests),
                int(e.ok),
                int(failed),
                int(e.requests.saturating_sub(e.ok.saturating_add(failed))),
                success(e.ok, failed),
                failures(&e.failed),
                util(e.utilization),
                int(e.queue_max),
                int(e.abandoned),
                lat(&e.latency_ms, |q| q.p50),
                lat(&e.latency_ms, |q| q.p99),
            ]
        })
        .collect();
    if !rows.is_empty() {
        tables.push(Table {
            caption: "Endpoints: executions on the servers that started in the measured window, one per attempt \
                      sent to a replica (retries and hedges included); latency of successful executions on the server, in ms (abandoned ones \
                      included, so it can exceed the caller's timeout); utilisation: the endpoint's share of its \
                      service's worker time; queue max: the longest queue of any one replica at any instant; \
                      abandoned: finished after the caller gave up",
            header: vec![
                "endpoint",
                "requests",
                "ok",
                "failed",
                "in flight",
                "success",
                "failures by cause",
                "utilisation",
                "queue max (one replica)",
                "abandoned",
                "p50",
                "p99",
            ],
            rows,
            text_cols: vec![6],
        });
    }
    let rows: Vec<Vec<String>> = s
        .calls
        .iter()
        .map(|(name, c)| {
            let failed = c.failed.total();
            vec![
                name.to_string(),
                int(c.calls),
                int(c.attempts),
                int(c.retries),
                int(c.hedges),
                int(c.ok),
                int(failed),
                int(c.calls.saturating_sub(c.ok.saturating_add(failed))),
                success(c.ok, failed),
                failures(&c.failed),
                lat(&c.latency_ms, |q| q.p50),
                lat(&c.latency_ms, |q| q.p99),
                int(c.breaker.opened),
                num::fixed(c.breaker.open_s, 1),
            ]
        })
        .collect();
    if !rows.is_empty() {
        tables.push(Table {
            caption: "Calls: each caller→endpoint edge as its client saw it, calls that started in the measured \
                      window; attempts: the tries that left the caller, first ones, retries and hedges (a call refused before \
                      its first try left, with no replica available or its breaker open, has none); latency of successful calls, retries and backoff \
                      included, in ms; breaker open time summed over the caller's replicas",
            header: vec![
                "call",
                "calls",
                "attempts",
                "retries",
                "hedges",
                "ok",
                "failed",
                "in flight",
                "success",
                "failures by cause",
                "p50",
                "p99",
                "breaker opened",
                "open (s)",
            ],
            rows,
            text_cols: vec![9],
        });
    }
    bulkheads_and_breakers(s, &mut tables);
    let rows: Vec<Vec<String>> = s
        .services
        .iter()
        .map(|(name, v)| {
            let replicas = match &v.autoscale {
                Some(a) if a.min_seen == a.max_seen => format!("{} (autoscaled)", a.min_seen),
                Some(a) => format!("{}–{} (autoscaled)", a.min_seen, a.max_seen),
                None => int(v.replicas as u64),
            };
            vec![name.to_string(), replicas, util(v.utilization), int(v.queue_max)]
        })
        .collect();
    if !rows.is_empty() {
        tables.push(Table {
            caption: "Services: utilisation over the measured window (of the replicas an autoscaled service had); \
                      replicas: for an autoscaled one, the fewest–most its autoscaler set; queue max: the longest queue of any \
                      one replica at any instant",
            header: vec!["service", "replicas", "utilisation", "queue max (one replica)"],
            rows,
            text_cols: vec![],
        });
    }
    let rows: Vec<Vec<String>> = s
        .sagas
        .iter()
        .map(|(name, g)| {
            vec![
                name.to_string(),
                int(g.started),
                int(g.completed),
                num::percent_of(g.completed, g.started),
                int(g.compensated),
                int(g.compensation_failed),
                int(g.abandoned),
                int(g.in_flight),
                int(g.orphaned),
                int(g.duplicate_effects),
                lat(&g.latency_ms, |q| q.p50),
                lat(&g.latency_ms, |q| q.p99),
            ]
        })
        .collect();
    if !rows.is_empty() {
        tables.push(Table {
            caption: "Sagas: started after warm-up; completed % of those started (in flight ones included); \
                      latency of completed sagas from start to completion, in ms; orphaned: effects nothing undid in \
                      sagas that did not complete",
            header: vec![
                "saga",
                "started",
                "completed",
                "completed %",
                "compensated",
                "compensation failed",
                "abandoned",
                "in flight",
                "orphaned",
                "duplicate effects",
                "p50",
                "p99",
            ],
            rows,
            text_cols: vec![],
        });
    }
    let mut rows: Vec<Vec<String>> = Vec::new();
    for (topic, t) in s.topics.iter() {
        let published = int(t.published);
        let failed = int(t.publish_failed);
        if t.groups.is_empty() {
            let mut row = vec![topic.to_string(), published.clone(), failed.clone()];
            row.extend(std::iter::repeat_n(num::NONE.to_string(), 10));
            rows.push(row);
        }
        for (group, g) in t.groups.iter() {
            rows.push(vec![
                format!("{topic}/{group}"),
                published.clone(),
                failed.clone(),
                int(g.delivered),
                int(g.redelivered),
                int(g.duplicates),
                int(g.inconsistent),
                int(g.dead_lettered),
                int(g.dropped),
                int(g.in_flight),
                int(g.max_lag),
                lat(&g.latency_ms, |q| q.p50),
                lat(&g.latency_ms, |q| q.p99),
            ]);
        }
    }
    push_cache_table(s, &mut tables);
    if !rows.is_empty() {
        tables.push(Table {
            caption: "Topics, per consumer group: latency from publish to first successful handling, in ms; \
                      max lag: the most messages published and not yet handled at any instant of the measured \
                      window; inconsistent: duplicates on a handler that is not idempotent",
            header: vec![
                "topic/group",
                "published",
                "publish failed",
                "delivered",
                "redelivered",
                "duplicates",
                "inconsistent",
                "dead-lettered",
                "dropped",
                "in flight",
                "max lag",
                "p50",
                "p99",
            ],
            rows,
            text_cols: vec![],
        });
    }
    if let Some(t) = queue_table(s) {
        tables.push(t);
    }
    tables.extend(autoscale_table(s));
    tables
}

/// The autoscaled services: what their HPA did and when.
fn autoscale_table(s: &Summary) -> Option<Table> {
    let secs = |v: Option<f64>| v.map_or_else(|| "–".to_string(), num::secs);
    let rows: Vec<Vec<String>> = s
        .services
        .iter()
        .filter_map(|(name, v)| v.autoscale.as_ref().map(|a| (name, a)))
        .map(|(name, a)| {
            vec![
                name.to_string(),
                format!("{}–{}", a.min_seen, a.max_seen),
                int(a.final_replicas as u64),
                int(a.scale_ups as u64),
                secs(a.first_scale_up_s),
                secs(a.first_ready_s),
                int(a.scale_downs as u64),
                secs(a.first_scale_down_s),
                num::fixed(a.replica_seconds, 0),
            ]
        })
        .collect();
    (!rows.is_empty()).then(|| Table {
        caption: "Autoscaling (Kubernetes' HPA) over the whole run: the replicas it set (fewest–most, at the end), \
                  its scale-ups and scale-downs, when it first scaled up and when that replica entered service \
                  (seconds from the start), and the replica-seconds after warm-up (starting and draining \
                  replicas included)",
        header: vec![
            "service",
            "replicas",
            "at the end",
            "scale-ups",
            "first up",
            "first ready",
            "scale-downs",
            "first down",
            "replica-s",
        ],
        rows,
        text_cols: vec![1],
    })
}

/// The bulkheads per call edge and the breaker instances, each with what it covers.
fn bulkheads_and_breakers(s: &Summary, tables: &mut Vec<Table>) {
    let rows: Vec<Vec<String>> = s
        .calls
        .iter()
        .filter_map(|(name, c)| c.bulkhead.as_ref().map(|b| (name, b)))
        .map(|(name, b)| {
            let timeout = match b.timeout_covers_wait {
                Some(true) => "counts the wait",
                Some(false) => "starts at the permit",
                None => num::NONE,
            };
            vec![
                name.to_string(),
                int(b.limit as u64),
                int(b.max_in_use as u64),
                int(b.waited),
                lat(&b.wait_ms, |q| q.mean),
                lat(&b.wait_ms, |q| q.p99),
                int(b.full),
                timeout.to_string(),
            ]
        })
        .collect();
    if !rows.is_empty() {
        tables.push(Table {
            caption: "Bulkheads, per call edge whose policy has one: limit: permits per instance (per caller \
                      replica, or shared with scope service); max in use: the most out at once in one instance; \
                      waited: attempts that found none and queued; wait: of those that got one, in ms; full: \
                      refused bulkhead_full; timeout: whether the per-try timeout counts the wait \
                      (resilience4j's TimeLimiter around the Bulkhead) or starts once the permit is held (a \
                      semaphore around the call)",
            header: vec!["call", "limit", "max in use", "waited", "mean wait", "p99 wait", "full", "timeout"],
            rows,
            text_cols: vec![7],
        });
    }
    let rows: Vec<Vec<String>> = s
        .breakers
        .iter()
        .map(|(name, b)| {
            vec![
                name.to_string(),
                b.per.to_string(),
                b.scope.to_string(),
                int(b.state_machines as u64),
                int(b.opened),
                num::fixed(b.open_s, 1),
                int(b.refused),
            ]
        })
        .collect();
    if !rows.is_empty() {
        tables.push(Table {
            caption: "Circuit breakers, each instance once, named CALLER->TARGET/POLICY after what it keys on \
                      (per service: a service; per endpoint: an endpoint; per caller: *, every call under the \
                      policy); state machines: one per caller replica, or one shared (scope service); opened \
                      and open (s) summed over them; refused: calls refused circuit_open",
            header: vec!["breaker", "per", "scope", "state machines", "opened", "open (s)", "refused"],
            rows,
            text_cols: vec![1, 2],
        });
    }
}

/// One row per work queue (issue 13).
fn queue_table(s: &Summary) -> Option<Table> {
    if s.queues.is_empty() {
        return None;
    }
    let rows = s
        .queues
        .iter()
        .map(|(name, q)| {
            vec![
                name.to_string(),
                int(q.sent),
                int(q.send_failed),
                int(q.received),
                int(q.deleted),
                int(q.duplicates),
                int(q.inconsistent),
                int(q.dead_lettered),
                int(q.dropped),
                int(q.in_flight),
                int(q.max_depth),
                num::secs(q.max_age_s),
                lat(&q.latency_ms, |q| q.p50),
                lat(&q.latency_ms, |q| q.p99),
            ]
        })
        .collect();
    Some(Table {
        caption: "Work queues: latency from send to deletion, in ms; received counts every receive of a \
                  message; duplicates: handlings that succeeded after the message's first success \
                  (inconsistent when the handler is not idempotent); max depth: the most visible messages \
                  at once; max age: of the oldest visible message",
        header: vec![
            "queue",
            "sent",
            "send failed",
            "received",
            "deleted",
            "duplicates",
            "inconsistent",
            "dead-lettered",
            "dropped",
            "in flight",
            "max depth",
            "max age",
            "p50",
            "p99",
        ],
        rows,
        text_cols: vec![],
    })
}
