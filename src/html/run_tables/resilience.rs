//! The resilience mechanisms' tables of a run's page: bulkheads per call edge, circuit
//! breaker instances, and what the autoscalers did.

use super::super::Table;
use super::lat;
use crate::html::num::{self, int};
use crate::report::Summary;

/// The autoscaled services: what their HPA did and when.
pub(super) fn autoscale_table(s: &Summary) -> Option<Table> {
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
                int(a.scale_ups),
                secs(a.first_scale_up_s),
                secs(a.first_ready_s),
                int(a.scale_downs),
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
pub(super) fn bulkheads_and_breakers(s: &Summary, tables: &mut Vec<Table>) {
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
