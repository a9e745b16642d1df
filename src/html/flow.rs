//! The parts of the topology that read in order rather than as a graph, drawn in HTML
//! so that they wrap at any page width: each saga as its ordered steps (action, the
//! compensation that undoes it, the pivot after which nothing is undone, the retriable
//! steps), and each topic with its consumer groups. Markdown gets the same as lists.

use super::escape;
use super::words::arrow;
use crate::spec::{CompensationPolicy, Spec};
use std::fmt::Write as _;

fn ep(spec: &Spec, id: u32) -> String {
    spec.endpoints.get(id as usize).map(|e| e.name.clone()).unwrap_or_else(|| "?".into())
}

/// One line per saga property: how it compensates and whether it survives a crash.
fn saga_note(sg: &crate::spec::Saga) -> String {
    let comp = match sg.compensation_policy {
        CompensationPolicy::BestEffort => "compensations tried once (best effort)",
        CompensationPolicy::Persistent => "compensations retried until they succeed (persistent)",
    };
    let durable = if sg.durable {
        "durable: resumed after an orchestrator crash"
    } else {
        "volatile: abandoned when its orchestrator crashes"
    };
    format!("{comp}; {durable}")
}

/// Sagas and topics as HTML; empty when the scenario has neither.
pub(super) fn flows_html(spec: &Spec) -> String {
    let mut h = String::new();
    for sg in &spec.sagas {
        let orch = spec.services.get(sg.orchestrator as usize).map(|s| s.name.as_str()).unwrap_or("?");
        let _ = writeln!(
            h,
            "<h3>Saga {} <span class=\"v\">run by {}</span></h3>\n<p class=\"note\">{}</p>\n<ol class=\"saga\">",
            escape(&sg.name),
            escape(orch),
            escape(&saga_note(sg))
        );
        let pivot_at = sg.steps.iter().position(|s| s.pivot);
        for (i, st) in sg.steps.iter().enumerate() {
            let mut class = String::from("step");
            let mut marks: Vec<&str> = Vec::new();
            if st.pivot {
                class += " pivot";
                marks.push("pivot: the point of no return");
            } else if pivot_at.is_some_and(|p| i > p) {
                marks.push("after the pivot: retried, never undone");
            }
            if st.retriable {
                marks.push("retriable");
            }
            let comp = match st.compensation {
                Some(c) => format!("<span class=\"undo\">undo: {}</span>", escape(&ep(spec, c))),
                None => "<span class=\"noundo\">no compensation</span>".into(),
            };
            let marks = if marks.is_empty() {
                String::new()
            } else {
                format!("<span class=\"mark\">{}</span>", escape(&marks.join(" · ")))
            };
            let _ = writeln!(
                h,
                "<li class=\"{class}\"><span class=\"sn\">{}. {}</span><span class=\"act\">{}</span>{comp}{marks}</li>",
                i + 1,
                escape(&st.name),
                escape(&ep(spec, st.action))
            );
        }
        h.push_str("</ol>\n");
    }
    for t in &spec.topics {
        let _ = writeln!(
            h,
            "<h3>Topic {} <span class=\"v\">{} partition{}</span></h3>\n<ul class=\"groups\">",
            escape(&t.name),
            t.partitions,
            if t.partitions == 1 { "" } else { "s" }
        );
        if t.groups.is_empty() {
            h.push_str("<li>no consumer group: messages are published and never read</li>\n");
        }
        for g in &t.groups {
            let _ = writeln!(
                h,
                "<li><b>{}</b>: handled by {} ({} consumer{}, up to {} attempts, then {}{})</li>",
                escape(&g.name),
                escape(&ep(spec, g.endpoint)),
                g.consumers,
                if g.consumers == 1 { "" } else { "s" },
                g.max_attempts,
                match g.on_exhausted {
                    crate::spec::OnExhausted::DeadLetter => "dead-lettered",
                    crate::spec::OnExhausted::Drop => "dropped",
                },
                if g.idempotent { "; idempotent handler" } else { "" }
            );
        }
        h.push_str("</ul>\n");
    }
    h
}

/// The same as Markdown lists.
pub(super) fn flows_md(spec: &Spec) -> String {
    let mut m = String::new();
    for sg in &spec.sagas {
        let _ = writeln!(m, "**Saga {}** ({})\n", super::md(&sg.name), super::md(&saga_note(sg)));
        for (i, st) in sg.steps.iter().enumerate() {
            let undo = st.compensation.map(|c| format!(", undo {}", ep(spec, c))).unwrap_or_default();
            let pivot = if st.pivot { " (pivot)" } else { "" };
            let _ = writeln!(
                m,
                "{}. {}: {}{undo}{pivot}",
                i + 1,
                super::md(&st.name),
                super::md(&arrow(&ep(spec, st.action)))
            );
        }
        m.push('\n');
    }
    for t in &spec.topics {
        let groups: Vec<String> = t
            .groups
            .iter()
            .map(|g| format!("{} → {}", super::md(&g.name), super::md(&ep(spec, g.endpoint))))
            .collect();
        let _ = writeln!(
            m,
            "- topic {}: {}",
            super::md(&t.name),
            if groups.is_empty() { "no groups".into() } else { groups.join(", ") }
        );
    }
    if !spec.topics.is_empty() {
        m.push('\n');
    }
    m
}
