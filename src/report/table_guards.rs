//! The text tables of what guarded the calls and the services in one run: circuit
//! breaker instances, bulkheads per call edge, and what shedding did to each workload's
//! priority class. Each is printed only when the scenario has one; the figures are the
//! summary's (after warm-up), as on the run page.

use super::summary::Summary;
use super::table::{ms, text_table};

/// Appends the breakers', bulkheads' and priorities' tables that apply to `s`.
pub(super) fn guard_blocks(s: &Summary, t: &mut String) {
    if !s.breakers.is_empty() {
        let rows: Vec<Vec<String>> = s
            .breakers
            .all()
            .map(|(name, b)| {
                vec![
                    name.to_string(),
                    b.per.to_string(),
                    b.state_machines.to_string(),
                    b.opened.to_string(),
                    format!("{:.1}", b.open_s),
                    b.refused.to_string(),
                ]
            })
            .collect();
        t.push('\n');
        t.push_str(&text_table(
            &["breaker", "per", "instances", "opened", "open s (all instances)", "refused"],
            &rows,
        ));
    }
    let bulkheads: Vec<Vec<String>> = s
        .calls
        .all()
        .filter_map(|(name, c)| c.bulkhead.map(|b| (name, b)))
        .map(|(name, b)| {
            vec![
                name.to_string(),
                format!("{} of {}", b.max_in_use, b.limit),
                b.waited.to_string(),
                ms(b.wait_ms.get(|q| q.mean)),
                ms(b.wait_ms.get(|q| q.p99)),
                b.full.to_string(),
            ]
        })
        .collect();
    if !bulkheads.is_empty() {
        t.push('\n');
        t.push_str(&text_table(
            &["bulkhead (call)", "max in use", "waited", "wait mean ms", "wait p99 ms", "full"],
            &bulkheads,
        ));
    }
    if !s.priorities.is_empty() {
        let rows: Vec<Vec<String>> = s
            .priorities
            .all()
            .map(|(name, p)| {
                // Shed counts refusals anywhere in the request's call tree, so it is not
                // a share of offered (a request fanning out to 4 calls can be shed 4 times).
                vec![
                    name.to_string(),
                    p.priority.to_string(),
                    p.offered.to_string(),
                    p.ok.to_string(),
                    p.shed.to_string(),
                ]
            })
            .collect();
        t.push('\n');
        t.push_str(&text_table(
            &["workload", "priority", "offered", "ok", "shed (refusals in its call trees)"],
            &rows,
        ));
    }
}
