//! The priorities table of a run's page (issue 14): per workload its priority, its
//! requests offered and ok, its success as everywhere (ok ÷ (ok + failed), from the
//! workloads' figures), and what the shedders refused or dropped of its call trees,
//! from the summary's `priorities`. Present exactly when the summary has them (a
//! workload sets a priority or a service sheds).

use super::Table;
use super::first::success;
use super::num::int;
use crate::report::Summary;

pub(super) fn priority_table(s: &Summary) -> Option<Table> {
    if s.priorities.is_empty() {
        return None;
    }
    let rows = s
        .priorities
        .iter()
        .map(|(name, p)| {
            let failed = s.workloads.iter().find(|(w, _)| *w == name).map(|(_, w)| w.failed.total());
            vec![
                name.to_string(),
                p.priority.to_string(),
                int(p.offered),
                int(p.ok),
                failed.map_or_else(|| super::num::NONE.to_string(), |f| success(p.ok, f)),
                int(p.shed),
            ]
        })
        .collect();
    Some(Table {
        caption: "Priorities, per workload: offered, ok and success count its requests that started in the \
                  measured window (after warm-up), success = ok ÷ (ok + failed) as in Workloads; shed: the \
                  executions of its requests' call trees that a service's shed refused (utilization, at \
                  arrival) or dropped (queue_delay, at dequeue) and that arrived after warm-up, each refusal \
                  once (a request shed, retried and shed again counts 2), so shed is not a share of offered; \
                  refusals by rate limits and adaptive concurrency are not shed",
        header: vec!["workload", "priority", "offered", "ok", "success", "shed"],
        rows,
        text_cols: vec![1],
    })
}
