//! Passive outlier detection after Envoy's `consecutive_5xx` detector
//! (`source/common/upstream/outlier_detection_impl.cc`).
//!
//! - Each replica of the target service counts error answers in a row (`error`,
//!   `unavailable`, `timeout`, `rejected`); a success or a `declined` resets the run.
//! - When the run reaches `consecutive_errors` the replica is ejected, and the run is
//!   reset whether or not the ejection happens (Envoy's `onConsecutiveErrorWorker`
//!   resets the counter after `ejectHost`).
//! - Envoy's cap on ejections, as current Envoy computes it in `DetectorImpl::ejectHost`:
//!   eject only if `100 × (ejected + 1) / hosts <= max_ejection_percent`, i.e. only if
//!   the ejection keeps the ejected share at or below the cap. Envoy's
//!   `always_eject_one_host` is off by default, and there is no such key here, so with
//!   the default 10% a service of fewer than 10 replicas is never ejected from (older
//!   Envoy releases tested `100 × ejected / hosts < max`, which always let one host go).
//! - The n-th ejection of a replica lasts `ejection × n` (Envoy's
//!   `base_ejection_time × num_ejections`; Envoy also caps it at `max_ejection_time`,
//!   300 s by default, which the scenario format does not have).
//! - An ejection ends exactly at its time, checked lazily whenever the replica is looked
//!   at, rather than at Envoy's next `interval` sweep (10 s by default). Un-ejection
//!   resets the error run (Envoy's `unejectHost`), and answers that arrive from a
//!   replica while it is ejected are ignored: Envoy does not eject an ejected host again,
//!   and the counts it keeps meanwhile are reset at un-ejection.

use crate::spec::{Nanos, Outlier};

#[derive(Clone, Copy, Debug, Default)]
struct ReplicaState {
    /// Error answers in a row.
    run: u32,
    /// Ejections so far (the n of the n-th ejection).
    times_ejected: u32,
    /// End of the current ejection.
    until: Option<Nanos>,
}

/// One policy's outlier detector over the replicas of one target service.
#[derive(Clone, Debug)]
pub struct OutlierDetector {
    consecutive_errors: u32,
    ejection_ns: Nanos,
    max_ejection: f64,
    replicas: Vec<ReplicaState>,
    /// Replicas ejected, as of the last sweep.
    active: u32,
    ejections: u64,
}

impl OutlierDetector {
    /// Bytes of state kept per replica of the target service (for the memory estimate
    /// a run makes before it starts).
    pub const BYTES_PER_REPLICA: u64 = std::mem::size_of::<ReplicaState>() as u64;

    pub fn new(spec: &Outlier, replicas: u32) -> Self {
        OutlierDetector {
            consecutive_errors: spec.consecutive_errors.max(1),
            ejection_ns: spec.ejection_ns,
            max_ejection: spec.max_ejection,
            replicas: vec![ReplicaState::default(); replicas as usize],
            active: 0,
            ejections: 0,
        }
    }

    /// The answer of one attempt from replica `r` (0-based within the target service) at
    /// `now`. `error` is true for error, unavailable, timeout, rejected; false for
    /// success or declined (which reset the run). Returns `Some(until)` if this answer
    /// ejects the replica. An `r` out of range is ignored.
    pub fn on_result(&mut self, r: u32, now: Nanos, error: bool) -> Option<Nanos> {
        let i = r as usize;
        if i >= self.replicas.len() {
            return None;
        }
        self.refresh(i, now);
        let rep = &mut self.replicas[i];
        if rep.until.is_some() {
            return None;
        }
        if !error {
            rep.run = 0;
            return None;
        }
        rep.run = rep.run.saturating_add(1);
        if rep.run < self.consecutive_errors {
            return None;
        }
        rep.run = 0;
        // The cap counts the replicas ejected at `now`: end the ejections that are over.
        for j in 0..self.replicas.len() {
            self.refresh(j, now);
        }
        // A NaN cap (impossible from the resolver) allows nothing.
        let share = f64::from(self.active + 1) / self.replicas.len() as f64;
        let within_cap = share <= self.max_ejection;
        if !within_cap {
            return None;
        }
        let rep = &mut self.replicas[i];
        rep.times_ejected = rep.times_ejected.saturating_add(1);
        let until = now.saturating_add(self.ejection_ns.saturating_mul(u64::from(rep.times_ejected)));
        rep.until = Some(until);
        self.active += 1;
        self.ejections += 1;
        Some(until)
    }

    /// Whether replica `r` is ejected at `now` (an ejection ends by itself at its time;
    /// this is where it is noticed). An `r` out of range is not ejected.
    pub fn is_ejected(&mut self, r: u32, now: Nanos) -> bool {
        let i = r as usize;
        if i >= self.replicas.len() {
            return false;
        }
        self.refresh(i, now);
        self.replicas[i].until.is_some()
    }

    /// Ejections made so far.
    pub fn ejections(&self) -> u64 {
        self.ejections
    }

    /// Ends replica `i`'s ejection if it is over at `now`.
    fn refresh(&mut self, i: usize, now: Nanos) {
        let rep = &mut self.replicas[i];
        if let Some(until) = rep.until
            && now >= until
        {
            rep.until = None;
            rep.run = 0;
            self.active -= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::NS_PER_S;

    const S: Nanos = NS_PER_S;

    fn detector(replicas: u32, max_ejection: f64) -> OutlierDetector {
        OutlierDetector::new(&Outlier { consecutive_errors: 5, ejection_ns: 30 * S, max_ejection }, replicas)
    }

    /// `n` errors from replica `r` at `now`; the last answer's verdict.
    fn errors(d: &mut OutlierDetector, r: u32, now: Nanos, n: u32) -> Option<Nanos> {
        let mut last = None;
        for _ in 0..n {
            last = d.on_result(r, now, true);
        }
        last
    }

    #[test]
    fn five_consecutive_errors_eject() {
        let mut d = detector(4, 0.5);
        for k in 0..4 {
            assert_eq!(d.on_result(1, k, true), None);
        }
        assert_eq!(d.on_result(1, 4, true), Some(4 + 30 * S));
        assert!(d.is_ejected(1, 5));
        assert!(!d.is_ejected(0, 5));
        assert_eq!(d.ejections(), 1);
    }

    #[test]
    fn a_success_or_decline_in_between_resets() {
        let mut d = detector(4, 0.5);
        assert_eq!(errors(&mut d, 0, 0, 4), None);
        assert_eq!(d.on_result(0, 1, false), None);
        assert_eq!(errors(&mut d, 0, 2, 4), None);
        assert!(!d.is_ejected(0, 3));
        assert!(d.on_result(0, 3, true).is_some());
    }

    #[test]
    fn runs_are_per_replica() {
        let mut d = detector(4, 0.5);
        for k in 0..4 {
            d.on_result(0, k, true);
            d.on_result(1, k, true);
        }
        assert_eq!(d.on_result(2, 9, false), None);
        assert!(d.on_result(0, 10, true).is_some());
    }

    #[test]
    fn uneject_at_its_time_and_second_ejection_lasts_twice_as_long() {
        let mut d = detector(4, 0.5);
        let until = errors(&mut d, 2, 0, 5).unwrap();
        assert_eq!(until, 30 * S);
        // Answers from the ejected replica (requests already in flight) are ignored.
        assert_eq!(errors(&mut d, 2, 10 * S, 20), None);
        assert!(d.is_ejected(2, 30 * S - 1));
        assert!(!d.is_ejected(2, 30 * S));
        // The run was reset at un-ejection: it takes 5 new errors.
        assert_eq!(errors(&mut d, 2, 40 * S, 4), None);
        assert_eq!(d.on_result(2, 40 * S, true), Some(40 * S + 60 * S));
        assert!(d.is_ejected(2, 100 * S - 1));
        assert!(!d.is_ejected(2, 100 * S));
        assert_eq!(errors(&mut d, 2, 200 * S, 5), Some(200 * S + 90 * S));
        assert_eq!(d.ejections(), 3);
    }

    #[test]
    fn max_ejection_percent_is_respected() {
        // Envoy: eject while 100 × (ejected + 1) / hosts <= max. 4 replicas, 50%: two.
        let mut d = detector(4, 0.5);
        assert!(errors(&mut d, 0, 0, 5).is_some());
        assert!(errors(&mut d, 1, 0, 5).is_some());
        assert_eq!(errors(&mut d, 2, 0, 5), None, "a third would be 75% > 50%");
        assert!(!d.is_ejected(2, 1));
        // The run was reset by the refused ejection: 4 more errors are not enough...
        assert_eq!(errors(&mut d, 2, 1, 4), None);
        // ...and once replica 0 is back, the fifth ejects replica 2.
        assert_eq!(d.on_result(2, 30 * S, true), Some(60 * S));
        assert_eq!(d.ejections(), 3);

        // 3 replicas and 50%: only one (two would be 67%).
        let mut d = detector(3, 0.5);
        assert!(errors(&mut d, 0, 0, 5).is_some());
        assert_eq!(errors(&mut d, 1, 0, 5), None);

        // The default 10% with fewer than 10 replicas never ejects (current Envoy,
        // `always_eject_one_host` off).
        let mut d = detector(9, 0.1);
        assert_eq!(errors(&mut d, 0, 0, 5), None);
        let mut d = detector(10, 0.1);
        assert!(errors(&mut d, 0, 0, 5).is_some());
        assert_eq!(errors(&mut d, 1, 0, 5), None);

        // 100%: every replica may go.
        let mut d = detector(3, 1.0);
        for r in 0..3 {
            assert!(errors(&mut d, r, 0, 5).is_some());
        }
        // 0%: none.
        let mut d = detector(3, 0.0);
        assert_eq!(errors(&mut d, 0, 0, 5), None);
        assert_eq!(d.ejections(), 0);
    }

    #[test]
    fn out_of_range_and_extremes_do_not_panic() {
        let mut d = detector(0, 1.0);
        assert_eq!(d.on_result(0, 0, true), None);
        assert!(!d.is_ejected(0, 0));
        let mut d = OutlierDetector::new(
            &Outlier { consecutive_errors: 0, ejection_ns: u64::MAX, max_ejection: f64::NAN },
            2,
        );
        assert_eq!(d.on_result(5, 0, true), None);
        assert_eq!(d.on_result(0, 0, true), None);
        let mut d = OutlierDetector::new(
            &Outlier { consecutive_errors: 1, ejection_ns: u64::MAX, max_ejection: 1.0 },
            2,
        );
        assert_eq!(d.on_result(0, 5, true), Some(u64::MAX));
        assert!(d.is_ejected(0, u64::MAX - 1));
    }
}
