//! The summary tables of a run's page, read from its [`Summary`]: workloads, endpoints,
//! calls, services, sagas, topic groups and work queues. Every table counts success the one way
//! ([`success`]), shows what is still in flight, and says in its caption what its
//! numbers cover. The request path's tables are here; `resilience.rs` has the
//! bulkheads', breakers' and autoscalers' tables, `messaging.rs` the sagas', cache
//! steps', topics' and work queues'.

mod messaging;
mod resilience;

use super::Table;
use super::first::success;
use super::num::{self, int};
use crate::report::Summary;
use crate::report::summary::{Failed, Latency, Quantiles};
use resilience::{autoscale_table, bulkheads_and_breakers};

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
    messaging::push_messaging_tables(s, &mut tables);
    tables.extend(autoscale_table(s));
    tables
}
