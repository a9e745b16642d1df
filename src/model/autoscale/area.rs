//! A step function's time integral (`Area`), and the three a scaler keeps: pods in
//! existence (replica-seconds), replicas with capacity (`Serving` + `Draining`, for the
//! service's utilisation) and replicas in service (the metric's replica-time).
//!
//! *Invariants*: an integral is brought up to date (`set`) at every change of its
//! level, so between changes it grows linearly; the value at the end of warm-up is
//! kept once passed.

use crate::model::World;
use crate::spec::Nanos;

use super::Slot;

/// A step function's time integral (replicas over time).
#[derive(Clone, Copy, Default)]
pub(super) struct Area {
    pub(super) level: u32,
    pub(super) acc: f64,
    pub(super) last: Nanos,
    /// The integral up to the end of warm-up, once passed.
    pub(super) warm: Option<f64>,
}

impl Area {
    pub(super) fn set(&mut self, now: Nanos, level: u32, warmup: Nanos) {
        if self.warm.is_none() && now >= warmup {
            self.warm = Some(self.acc + self.level as f64 * warmup.saturating_sub(self.last) as f64);
        }
        self.acc += self.level as f64 * (now - self.last) as f64;
        self.last = now;
        self.level = level;
    }
    /// The integral from 0 to `t` (at or after the last change).
    pub(super) fn at(&self, t: Nanos) -> f64 {
        self.acc + self.level as f64 * t.saturating_sub(self.last) as f64
    }
    /// The integral from the end of warm-up to `end`.
    pub(super) fn since_warmup(&self, end: Nanos, warmup: Nanos) -> f64 {
        let total = self.acc + self.level as f64 * end.saturating_sub(self.last) as f64;
        let warm =
            self.warm.unwrap_or(self.acc + self.level as f64 * warmup.saturating_sub(self.last) as f64);
        total - warm
    }
}

impl World<'_> {
    pub(super) fn recount(&mut self, s: usize) {
        let now = self.sched.now();
        let w = self.autoscale.warmup;
        let sc = &mut self.autoscale.scalers[s];
        let pods = sc.slot.iter().filter(|x| **x != Slot::Off).count() as u32;
        let cap = sc.slot.iter().filter(|x| matches!(x, Slot::Serving | Slot::Draining)).count() as u32;
        sc.pods_area.set(now, pods, w);
        sc.capacity_area.set(now, cap, w);
        sc.serving_area.set(now, sc.serving, w);
    }
}
