//! Active health checking of one replica: the thresholds of Kubernetes probes
//! (`failureThreshold`, `successThreshold`) and Envoy's active health checker
//! (`unhealthy_threshold`, `healthy_threshold`).
//!
//! A healthy replica turns unhealthy after `unhealthy_after` failed probes in a row; an
//! unhealthy one turns healthy after `healthy_after` successful probes in a row. A probe
//! of the other kind resets the run. The replica starts healthy, as a replica already
//! in service does (Kubernetes starts a new pod unready, Envoy a new host unhealthy
//! until its first check, but the simulator starts its replicas in service). Probe
//! timing (interval, timeout) belongs to the model; this is the counting only.

/// The health of one replica as its probes see it.
#[derive(Clone, Copy, Debug)]
pub struct HealthState {
    unhealthy_after: u32,
    healthy_after: u32,
    healthy: bool,
    /// Probes in a row that disagree with the current status.
    run: u32,
}

impl HealthState {
    /// Starts healthy. Thresholds of 0 are taken as 1.
    pub fn new(unhealthy_after: u32, healthy_after: u32) -> Self {
        HealthState {
            unhealthy_after: unhealthy_after.max(1),
            healthy_after: healthy_after.max(1),
            healthy: true,
            run: 0,
        }
    }

    /// One probe result; returns `Some(new_healthy)` when the replica's status flips.
    pub fn on_probe(&mut self, ok: bool) -> Option<bool> {
        if ok == self.healthy {
            self.run = 0;
            return None;
        }
        self.run = self.run.saturating_add(1);
        let needed = if self.healthy { self.unhealthy_after } else { self.healthy_after };
        if self.run < needed {
            return None;
        }
        self.healthy = !self.healthy;
        self.run = 0;
        Some(self.healthy)
    }

    pub fn healthy(&self) -> bool {
        self.healthy
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unhealthy_after_n_failures_in_a_row() {
        let mut h = HealthState::new(3, 2);
        assert!(h.healthy());
        assert_eq!(h.on_probe(false), None);
        assert_eq!(h.on_probe(false), None);
        assert_eq!(h.on_probe(true), None, "a success resets the run");
        assert_eq!(h.on_probe(false), None);
        assert_eq!(h.on_probe(false), None);
        assert_eq!(h.on_probe(false), Some(false));
        assert!(!h.healthy());
        assert_eq!(h.on_probe(false), None, "no flip while it stays unhealthy");
    }

    #[test]
    fn healthy_after_m_successes_in_a_row() {
        let mut h = HealthState::new(1, 2);
        assert_eq!(h.on_probe(false), Some(false));
        assert_eq!(h.on_probe(true), None);
        assert_eq!(h.on_probe(false), None, "a failure resets the run");
        assert_eq!(h.on_probe(true), None);
        assert_eq!(h.on_probe(true), Some(true));
        assert!(h.healthy());
        assert_eq!(h.on_probe(true), None);
    }

    #[test]
    fn zero_thresholds_act_as_one() {
        let mut h = HealthState::new(0, 0);
        assert_eq!(h.on_probe(false), Some(false));
        assert_eq!(h.on_probe(true), Some(true));
    }
}
