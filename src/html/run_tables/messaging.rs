//! The message-driven and stateful steps' tables of a run's page: sagas, cache steps,
//! topics per consumer group and work queues, in that order.

use super::super::Table;
use super::lat;
use crate::html::num::{self, int};
use crate::report::Summary;

/// The sagas, the cache steps, the topics and the work queues, each left out when empty.
pub(super) fn push_messaging_tables(s: &Summary, tables: &mut Vec<Table>) {
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
    push_cache_table(s, tables);
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
}

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
