//! The ground truth of effects, which a real orchestrator cannot see: each attempt of a
//! saga's call carries an [`EffectTag`]; when its execution succeeds at the callee the
//! step's action takes effect (a second time: a duplicate effect) or its compensation
//! undoes it. The saga remembers the attempts that may still execute, so that when it
//! ends it can mark them with how it ended ([`LateEffect`]); a late action then counts
//! as orphaned (or a duplicate), a late compensation undoes an orphan.
//!
//! *Invariants*: `undone` is a subset of `effect` (a compensation undoes only an effect
//! that happened before it); the tracked attempts are pruned whenever their list has
//! doubled since the last pruning, so it stays within about twice the attempts alive.

use super::{Sagas, bit};
use crate::model::World;
use crate::model::event::{AttId, SagaRunId};

/// The saga step an attempt's execution acts on.
#[derive(Clone, Copy, Debug)]
pub(in crate::model) struct EffectTag {
    pub(super) saga: SagaRunId,
    pub(super) step: u16,
    pub(super) comp: bool,
}

impl EffectTag {
    pub(in crate::model) fn new(saga: SagaRunId, step: u16, comp: bool) -> Self {
        EffectTag { saga, step, comp }
    }
}

/// How the saga of a late action ended (set on its attempts when it ends).
#[derive(Clone, Copy, Debug)]
pub(in crate::model) struct LateEffect {
    pub(super) def: u32,
    pub(super) comp: bool,
    pub(super) completed: bool,
    pub(super) standing: bool,
    pub(super) counted: bool,
}

impl Sagas {
    /// An action of an ended saga took effect.
    pub(in crate::model) fn late_effect(&mut self, late: LateEffect) {
        if !late.counted {
            return;
        }
        let f = &mut self.defs[late.def as usize].fig;
        match (late.comp, late.completed) {
            (false, true) => f.duplicate_effects += 1,
            (false, false) => f.orphaned += 1,
            (true, false) if late.standing => f.orphaned = f.orphaned.saturating_sub(1),
            (true, _) => {}
        }
    }
}

impl World<'_> {
    /// Remembers an attempt that carries this saga's effect (to judge a late effect).
    pub(in crate::model) fn saga_track_attempt(&mut self, tag: EffectTag, att: AttId) {
        if let Some(s) = self.sagas.runs.get_mut(tag.saga) {
            // Keep the list short: forget attempts that are gone, each time the list has
            // doubled since the last time (a saga retrying against hour-long actions keeps
            // many alive; pruning on every push would cost the list's length each time).
            if s.attempts.len() >= s.attempts_prune_at {
                let calls = &self.calls;
                s.attempts.retain(|a| calls.attempt_exists(*a));
                s.attempts_prune_at = (s.attempts.len() * 2).max(8);
            }
            s.attempts.push(att);
        }
    }

    /// An action or compensation executed successfully at its callee.
    pub(in crate::model) fn saga_effect(&mut self, tag: EffectTag) {
        match self.sagas.runs.get_mut(tag.saga) {
            Some(s) => {
                let b = bit(tag.step);
                if tag.comp {
                    if s.effect & b != 0 {
                        s.undone |= b;
                    }
                } else {
                    if s.effect & b != 0 && s.undone & b == 0 {
                        let (def, counted) = (s.def, s.counted);
                        if counted {
                            self.sagas.defs[def as usize].fig.duplicate_effects += 1;
                        }
                    }
                    s.effect |= b;
                    s.undone &= !b;
                }
            }
            None => {
                // The saga has ended; `saga_end` marked its attempts with how it ended.
            }
        }
    }
}
