//! What the topics room counts: the backlog (messages waiting in partitions, one copy
//! per group, and in outboxes) against `limits.max_backlog`, each group's lag, the
//! interval columns of the time series, and the figures.
//!
//! *Invariants*: `backlog` equals the messages in partitions and outboxes
//! (`check_backlog`); per consumer group, delivered + dead-lettered + dropped + in
//! flight = published (checked in `figures`).

use super::Topics;
use crate::model::World;
use crate::model::output::{RunError, TopicFigures};
use crate::spec::Spec;

impl Topics {
    /// Messages now in partitions and outboxes, counted afresh (the invariant behind
    /// `backlog`).
    pub(in crate::model) fn check_backlog(&self, violations: &mut Vec<String>) {
        let parts: usize = self.group.iter().flat_map(|g| g.parts.iter()).map(|p| p.queue.len()).sum();
        let outboxes: usize = self.topic.iter().map(|t| t.outbox.len()).sum();
        let backlog = (parts + outboxes) as u64;
        if backlog != self.backlog {
            violations.push(format!("backlog counted {} but {backlog} messages wait", self.backlog));
        }
    }

    /// A group's lag (published, not yet handled).
    pub(in crate::model) fn group_lag(&self, g: u32) -> u64 {
        self.group.get(g as usize).map_or(0, |gs| gs.lag)
    }

    /// Pushes this interval's columns (per topic: published, publish_failed; then per
    /// group in topic order: delivered, redelivered, dead-lettered, lag) and starts the
    /// next interval.
    pub(in crate::model) fn flush_interval(&mut self, push: &mut impl FnMut(f64)) {
        for t in self.topic.iter_mut() {
            push(t.interval[0] as f64);
            push(t.interval[1] as f64);
            t.interval = [0; 2];
        }
        for t in &self.topic {
            for &g in &t.groups {
                let g = &mut self.group[g as usize];
                push(g.interval[0] as f64);
                push(g.interval[1] as f64);
                push(g.interval[2] as f64);
                push(g.lag as f64);
                g.interval = [0; 3];
            }
        }
    }

    /// Figures per topic; checks that each group's messages add up.
    pub(in crate::model) fn figures(
        &mut self,
        spec: &Spec,
        violations: &mut Vec<String>,
    ) -> Vec<TopicFigures> {
        let mut out = Vec::new();
        for (t, ts) in self.topic.iter().enumerate() {
            let mut groups = Vec::new();
            for &g in &ts.groups {
                let gs = &mut self.group[g as usize];
                let mut f = std::mem::take(&mut gs.fig);
                f.in_flight = gs
                    .parts
                    .iter()
                    .flat_map(|p| p.queue.iter())
                    .filter(|e| e.msg.counted && !e.finished)
                    .count() as u64;
                let ended = f.delivered + f.dead_lettered + f.dropped + f.in_flight;
                if ended != ts.published {
                    violations.push(format!(
                        "topic {} group {}: delivered + dead-lettered + dropped + in flight = {ended}, \
                         published {}",
                        spec.topics[t].name, spec.topics[t].groups[gs.def].name, ts.published
                    ));
                }
                groups.push(f);
            }
            out.push(TopicFigures { published: ts.published, publish_failed: ts.publish_failed, groups });
        }
        out
    }
}

impl World<'_> {
    /// Counts messages entering a partition or an outbox against `limits.max_backlog`.
    pub(super) fn grow_backlog(&mut self, n: u64) {
        self.topics.backlog += n;
        let max = self.spec.limits.max_backlog;
        if self.topics.backlog > max && self.failure.is_none() {
            self.failure = Some(RunError::Limit(format!(
                "{} messages were waiting at once in topic partitions and outboxes at {:.3} s of \
                 simulated time (the limit, counted once per consumer group); the consumers cannot \
                 keep up (add consumers or partitions, or make the handler faster), or raise \
                 /limits/max_backlog",
                self.topics.backlog,
                self.sched.now() as f64 / 1e9
            )));
        }
    }
}
