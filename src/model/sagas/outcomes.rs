//! How a saga ends and what is counted of it: its outcome (completed, compensated,
//! compensation failed, abandoned) and latency, the effects it leaves standing
//! (orphaned), its attempts that may still execute marked with how it ended, the
//! workload's request answered; the interval columns and the figures.
//!
//! *Invariants*: per saga, completed + compensated + compensation_failed + abandoned +
//! in flight = started (checked in `figures`); `live` counts the runs of the definition.

use super::{LateEffect, SagaOutcome, Sagas, bit};
use crate::metrics::Outcome;
use crate::model::World;
use crate::model::event::SagaRunId;
use crate::model::output::SagaFigures;
use crate::model::record::Recorder;
use crate::spec::{Cause, Spec};

impl Sagas {
    /// Pushes this interval's columns (per saga: the five counters, then in flight) and
    /// starts the next interval.
    pub(in crate::model) fn flush_interval(&mut self, push: &mut impl FnMut(f64)) {
        for st in self.defs.iter_mut() {
            for k in 0..5 {
                push(st.interval[k] as f64);
            }
            push(st.live as f64);
            st.interval = [0; 5];
        }
    }

    /// Figures per saga (the sagas still running are in flight, also for their
    /// workloads); checks that the outcomes add up.
    pub(in crate::model) fn figures(
        &mut self,
        spec: &Spec,
        rec: &mut Recorder,
        violations: &mut Vec<String>,
    ) -> Vec<SagaFigures> {
        for (_, s) in self.runs.iter() {
            if s.counted {
                self.defs[s.def as usize].fig.in_flight += 1;
                rec.still_in_flight(s.wl);
            }
        }
        let mut out = Vec::new();
        for (i, st) in self.defs.iter_mut().enumerate() {
            let f = std::mem::take(&mut st.fig);
            let sum = f.completed + f.compensated + f.compensation_failed + f.abandoned + f.in_flight;
            if sum != f.started {
                violations.push(format!(
                    "saga {}: outcomes add up to {sum}, not to the {} started",
                    spec.sagas[i].name, f.started
                ));
            }
            out.push(f);
        }
        out
    }
}

impl World<'_> {
    pub(super) fn end_saga(&mut self, id: SagaRunId, outcome: SagaOutcome) {
        let now = self.sched.now();
        let Some(s) = self.sagas.runs.remove(id) else { return };
        let st = &mut self.sagas.defs[s.def as usize];
        st.live -= 1;
        st.interval[1 + outcome as usize] += 1;
        let standing =
            if outcome == SagaOutcome::Completed { 0 } else { (s.effect & !s.undone).count_ones() as u64 };
        if s.counted {
            let f = &mut st.fig;
            match outcome {
                SagaOutcome::Completed => f.completed += 1,
                SagaOutcome::Compensated => f.compensated += 1,
                SagaOutcome::CompensationFailed => f.compensation_failed += 1,
                SagaOutcome::Abandoned => f.abandoned += 1,
            }
            f.orphaned += standing;
            if outcome == SagaOutcome::Completed {
                f.latency.record(now - s.started);
            } else {
                f.failed_latency.record(now - s.started);
            }
            f.latency_by_outcome[outcome as usize].record(now - s.started);
        }
        // Attempts of this saga that may still execute: an action that takes effect
        // from now on is orphaned if the saga did not complete (nothing will undo it),
        // a duplicate if it did.
        for &att in &s.attempts {
            self.calls.mark_late(att, |tag| {
                let b = bit(tag.step);
                LateEffect {
                    def: s.def,
                    comp: tag.comp,
                    completed: outcome == SagaOutcome::Completed,
                    // A compensation that lands late still undoes an effect that was
                    // counted as orphaned when the saga ended.
                    standing: s.effect & b != 0 && s.undone & b == 0,
                    counted: s.counted,
                }
            });
        }
        let wl_outcome = match outcome {
            SagaOutcome::Completed => Outcome::OK,
            SagaOutcome::Compensated => Outcome::Failed(s.fail_cause),
            SagaOutcome::CompensationFailed => Outcome::Failed(Cause::Error),
            SagaOutcome::Abandoned => Outcome::Failed(Cause::Unavailable),
        };
        self.finish_root(s.wl, s.user, s.started, s.counted, wl_outcome);
    }
}
