//! A caller's outlier detector as its balancer sees it: the detector
//! (`policy::outlier`) and the ejections it made that the caller's next pick has not yet
//! looked at. An ejection, and its end, change the set of replicas the caller may use,
//! as a readiness change does: gRPC's outlier detection (gRFC A50) reports an ejected
//! subchannel in TRANSIENT_FAILURE to the child policy, and its real state again when it
//! is un-ejected, so round robin rebuilds its picker at a random index both times. The
//! next pick starts the turn again (`balance.rs`) when one of them moved a ready replica
//! in or out.
//!
//! *Invariant*: `pending` holds one entry per replica ejected now (and per ejection that
//! ended since the last look), so at most the target's replicas.

use crate::policy::outlier::OutlierDetector;
use crate::spec::{Nanos, Outlier};

/// One ejection the balancer has not settled.
struct Ejection {
    replica: u32,
    until: Nanos,
    /// Made since the caller's last look.
    fresh: bool,
}

pub(super) struct Ejector {
    det: OutlierDetector,
    pending: Vec<Ejection>,
}

impl Ejector {
    pub(super) fn new(spec: &Outlier, replicas: u32) -> Ejector {
        Ejector { det: OutlierDetector::new(spec, replicas), pending: Vec::new() }
    }

    #[inline]
    pub(super) fn is_ejected(&mut self, r: u32, now: Nanos) -> bool {
        self.det.is_ejected(r, now)
    }

    /// An answer from replica `r` (0-based in the target service); `true` when it
    /// ejected `r`, which the next look will see.
    pub(super) fn on_result(&mut self, r: u32, now: Nanos, error: bool) -> bool {
        let Some(until) = self.det.on_result(r, now, error) else { return false };
        // An entry of `r` still here is an ejection that ended unseen (the detector does
        // not eject an ejected replica): this one supersedes it.
        self.pending.retain(|e| e.replica != r);
        self.pending.push(Ejection { replica: r, until, fresh: true });
        true
    }

    /// Looks at the ejections made and ended since the last look, at `now`: calls
    /// `ended` for each replica whose ejection is over, and returns whether any of them
    /// (made or ended) concerns a replica that is `ready` (the caller's eligible set
    /// moved), with the time the next ejection ends (`Nanos::MAX` if none).
    ///
    /// Readiness is read now rather than when the ejection was made or ended: had it
    /// changed in between, `Health::changes` moved and the turn starts again anyway.
    pub(super) fn settle(
        &mut self,
        now: Nanos,
        ready: impl Fn(u32) -> bool,
        mut ended: impl FnMut(u32),
    ) -> (bool, Nanos) {
        let (mut moved, mut next) = (false, Nanos::MAX);
        self.pending.retain_mut(|e| {
            let over = e.until <= now;
            if e.fresh || over {
                e.fresh = false;
                moved |= ready(e.replica);
            }
            if over {
                ended(e.replica);
            } else {
                next = next.min(e.until);
            }
            !over
        });
        (moved, next)
    }
}
