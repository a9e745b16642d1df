//! The readable text tables on standard output: a run's summary (`faultline run`) and
//! a comparison (`faultline compare`).

use super::ms_text;
use super::summary::{Failed, Summary};
use crate::compare::{Comparison, seeds_label};
use std::fmt::Write as _;

/// A text table: the first column left-aligned, the others right-aligned.
pub fn text_table<S: AsRef<str>>(header: &[S], rows: &[Vec<String>]) -> String {
    let n = header.len();
    let mut w: Vec<usize> = header.iter().map(|h| h.as_ref().chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate().take(n) {
            w[i] = w[i].max(c.chars().count());
        }
    }
    let mut s = String::new();
    let head: Vec<&str> = header.iter().map(|h| h.as_ref()).collect();
    for r in std::iter::once(head).chain(rows.iter().map(|r| r.iter().map(|c| c.as_str()).collect())) {
        for (i, c) in r.iter().enumerate() {
            let pad = " ".repeat(w[i] - c.chars().count());
            if i == 0 {
                let _ = write!(s, "{c}{pad}");
            } else {
                let _ = write!(s, "  {pad}{c}");
            }
        }
        s.push('\n');
    }
    s
}

pub(super) fn ms(v: Option<f64>) -> String {
    v.map(ms_text).unwrap_or_else(|| "-".into())
}

fn pct(n: u64, d: u64) -> String {
    if d == 0 { "-".into() } else { format!("{:.2}%", 100.0 * n as f64 / d as f64) }
}

fn failures(f: &Failed) -> String {
    let parts: Vec<String> = f.nonzero().map(|(c, n)| format!("{} {n}", c.name())).collect();
    if parts.is_empty() { "-".into() } else { parts.join(", ") }
}

/// Success as every table shows it: successes (degraded included) over the finished
/// (ok + failed; what is still in flight is left out, and shown in its own column).
fn success(ok: u64, failed: u64) -> String {
    pct(ok, ok + failed)
}

/// The readable summary printed by `faultline run`.
pub fn summary_table(s: &Summary) -> String {
    let mut t = String::new();
    let _ = writeln!(
        t,
        "{}{} · seed {} · {:.1} s measured after {:.1} s warm-up · {} events",
        s.scenario,
        s.variant.as_ref().map(|v| format!(" [{v}]")).unwrap_or_default(),
        s.seed,
        s.window_s,
        s.warmup_s,
        s.events
    );
    t.push_str(
        "success = ok (degraded included) / finished, in-flight requests left out; \
         latencies (ms) of successful responses only\n\n",
    );
    let rows: Vec<Vec<String>> = s
        .workloads
        .all()
        .map(|(name, w)| {
            let l = &w.latency_ms;
            vec![
                name.to_string(),
                w.offered.to_string(),
                success(w.ok, w.failed.total()),
                w.degraded.to_string(),
                w.failed.total().to_string(),
                w.in_flight.to_string(),
                format!("{:.1}", w.goodput_rps),
                ms(l.get(|q| q.mean)),
                ms(l.get(|q| q.p50)),
                ms(l.get(|q| q.p99)),
                ms(l.get(|q| q.p999)),
                ms(l.get(|q| q.max)),
                failures(&w.failed),
            ]
        })
        .collect();
    t.push_str(&text_table(
        &[
            "workload",
            "offered",
            "success",
            "degraded",
            "failed",
            "in flight",
            "goodput/s",
            "mean ms",
            "p50",
            "p99",
            "p99.9",
            "max",
            "failures",
        ],
        &rows,
    ));
    t.push('\n');
    let rows: Vec<Vec<String>> = s
        .endpoints
        .all()
        .map(|(name, e)| {
            let failed = e.failed.total();
            vec![
                name.to_string(),
                e.requests.to_string(),
                success(e.ok, failed),
                e.degraded.to_string(),
                failed.to_string(),
                e.requests.saturating_sub(e.ok + failed).to_string(),
                format!("{:.1}%", 100.0 * e.utilization),
                e.queue_max.to_string(),
                ms(e.latency_ms.get(|q| q.p50)),
                ms(e.latency_ms.get(|q| q.p99)),
                e.abandoned.to_string(),
                failures(&e.failed),
            ]
        })
        .collect();
    t.push_str(&text_table(
        &[
            "endpoint",
            "requests",
            "success",
            "degraded",
            "failed",
            "in flight",
            "util",
            "queue max",
            "p50 ms",
            "p99",
            "abandoned",
            "failures",
        ],
        &rows,
    ));
    let edges: Vec<Vec<String>> = s
        .calls
        .all()
        .filter(|(_, c)| !c.client)
        .map(|(name, c)| {
            let failed = c.failed.total();
            vec![
                name.to_string(),
                c.calls.to_string(),
                c.attempts.to_string(),
                success(c.ok, failed),
                c.degraded.to_string(),
                failed.to_string(),
                c.calls.saturating_sub(c.ok + failed).to_string(),
                ms(c.latency_ms.get(|q| q.p50)),
                ms(c.latency_ms.get(|q| q.p99)),
                failures(&c.failed),
            ]
        })
        .collect();
    if !edges.is_empty() {
        t.push('\n');
        t.push_str(&text_table(
            &[
                "call",
                "calls",
                "attempts",
                "success",
                "degraded",
                "failed",
                "in flight",
                "p50 ms",
                "p99",
                "failures",
            ],
            &edges,
        ));
    }
    if !s.sagas.is_empty() {
        // Started, completed as a share of the sagas that ended (the one denominator),
        // the other outcomes as counts, and the p99 of completed sagas.
        let rows: Vec<Vec<String>> = s
            .sagas
            .all()
            .map(|(name, g)| {
                vec![
                    name.to_string(),
                    g.started.to_string(),
                    pct(g.completed, g.started.saturating_sub(g.in_flight)),
                    g.compensated.to_string(),
                    g.compensation_failed.to_string(),
                    g.abandoned.to_string(),
                    g.in_flight.to_string(),
                    g.orphaned.to_string(),
                    ms(g.latency_ms.get(|q| q.p99)),
                ]
            })
            .collect();
        t.push('\n');
        t.push_str(&text_table(
            &[
                "saga",
                "started",
                "completed",
                "compensated",
                "compensation failed",
                "abandoned",
                "in flight",
                "orphaned",
                "p99 ms",
            ],
            &rows,
        ));
    }
    if !s.topics.is_empty() {
        t.push('\n');
        t.push_str(&text_table(
            &[
                "topic/group",
                "published",
                "delivered",
                "redelivered",
                "duplicates",
                "dead-lettered",
                "max lag",
                "p99 ms",
            ],
            &topic_rows(s),
        ));
    }
    if !s.caches.is_empty() {
        t.push('\n');
        t.push_str(&text_table(
            &["cache step", "gets", "hits", "misses", "errors", "hit ratio", "in flight", "populates"],
            &cache_rows(s),
        ));
    }
    if !s.queues.is_empty() {
        t.push('\n');
        t.push_str(&text_table(
            &[
                "queue",
                "sent",
                "received",
                "deleted",
                "duplicates",
                "dead-lettered",
                "dropped",
                "in flight",
                "max depth",
                "max age s",
                "p99 ms",
            ],
            &queue_rows(s),
        ));
    }
    super::table_guards::guard_blocks(s, &mut t);
    phase_block(s, &mut t);
    t.push_str(&super::thresholds::verdict_lines(s));
    t
}

/// One row per phase and workload, then one recovery line per fault that ended.
fn phase_block(s: &Summary, t: &mut String) {
    if s.phases.is_empty() {
        return;
    }
    let mut rows = Vec::new();
    for p in &s.phases {
        for (wl, w) in p.workloads.all() {
            rows.push(vec![
                p.name.clone(),
                format!("{:.1}-{:.1}", p.from_s, p.to_s),
                wl.to_string(),
                w.offered.to_string(),
                success(w.ok, w.failed),
                w.degraded.to_string(),
                w.failed.to_string(),
                w.in_flight.to_string(),
                format!("{:.1}", w.goodput_rps),
                ms(w.latency_ms.get(|q| q.p99)),
            ]);
        }
    }
    t.push_str("\nphases (requests counted in the phase they started in)\n");
    t.push_str(&text_table(
        &[
            "phase",
            "s",
            "workload",
            "offered",
            "success",
            "degraded",
            "failed",
            "in flight",
            "goodput/s",
            "p99 ms",
        ],
        &rows,
    ));
    for r in &s.recovery {
        let parts: Vec<String> = r
            .workloads
            .all()
            .map(|(wl, v)| match v {
                Some(v) => format!("{wl} {v:.1} s"),
                None => format!("{wl} not recovered"),
            })
            .collect();
        let _ = writeln!(t, "recovery after {} (ended at {:.1} s): {}", r.fault, r.end_s, parts.join(", "));
    }
}

/// One row per consumer group (`topic/group`), the topic's publishes repeated on each;
/// a topic without groups gets a row of its own.
fn topic_rows(s: &Summary) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for (name, t) in s.topics.all() {
        let published = if t.publish_failed > 0 {
            format!("{} ({} failed)", t.published, t.publish_failed)
        } else {
            t.published.to_string()
        };
        if t.groups.is_empty() {
            let mut row = vec![name.to_string(), published.clone()];
            row.resize(8, "-".to_string());
            rows.push(row);
        }
        for (group, g) in t.groups.all() {
            rows.push(vec![
                format!("{name}/{group}"),
                published.clone(),
                g.delivered.to_string(),
                g.redelivered.to_string(),
                g.duplicates.to_string(),
                g.dead_lettered.to_string(),
                g.max_lag.to_string(),
                ms(g.latency_ms.get(|q| q.p99)),
            ]);
        }
    }
    rows
}

/// One row per cache step: its reads, what they found (the hit ratio of the answered
/// reads), and its populates with their failures.
fn cache_rows(s: &Summary) -> Vec<Vec<String>> {
    s.caches
        .all()
        .map(|(name, c)| {
            let populates = if c.populate_failed > 0 {
                format!("{} ({} failed)", c.populates, c.populate_failed)
            } else {
                c.populates.to_string()
            };
            vec![
                name.to_string(),
                c.gets.to_string(),
                c.hits.to_string(),
                c.misses.to_string(),
                c.errors.to_string(),
                pct(c.hits, c.hits + c.misses),
                c.in_flight.to_string(),
                populates,
            ]
        })
        .collect()
}

/// One row per work queue; `sent` notes the sends the broker refused.
fn queue_rows(s: &Summary) -> Vec<Vec<String>> {
    s.queues
        .all()
        .map(|(name, q)| {
            let sent = if q.send_failed > 0 {
                format!("{} ({} failed)", q.sent, q.send_failed)
            } else {
                q.sent.to_string()
            };
            vec![
                name.to_string(),
                sent,
                q.received.to_string(),
                q.deleted.to_string(),
                q.duplicates.to_string(),
                q.dead_lettered.to_string(),
                q.dropped.to_string(),
                q.in_flight.to_string(),
                q.max_depth.to_string(),
                format!("{:.1}", q.max_age_s),
                ms(q.latency_ms.get(|l| l.p99)),
            ]
        })
        .collect()
}

/// The readable comparison printed by `faultline compare`.
pub fn compare_table(c: &Comparison) -> String {
    let mut s = format!(
        "{} · {} variants × {} seeds ({}) · mean ± 95% CI across seeds; Δ is paired with {}\n",
        c.scenario,
        c.variants.len(),
        c.seeds.len(),
        seeds_label(&c.seeds),
        c.variants[0]
    );
    for t in c.tables() {
        let _ = write!(s, "\n{}\n{}", t.heading, text_table(&t.header, &t.rows));
    }
    s
}
