//! Priorities and load shedding (docs/scenario-format.md, Load shedding): a workload's
//! `priority` and a service's `shed`.

use super::{P, R};
use crate::scenario::raw::{RawPriority, RawShed};
use crate::spec::{Priority, Shed};

pub(super) fn priority(p: RawPriority) -> Priority {
    match p {
        RawPriority::Critical => Priority::Critical,
        RawPriority::Default => Priority::Default,
        RawPriority::Sheddable => Priority::Sheddable,
    }
}

impl R<'_> {
    /// A service's `shed`: a queue delay greater than 0, or a utilisation from 1 to 100 %.
    pub(super) fn shed(&mut self, raw: &RawShed, path: &P) -> Shed {
        match raw {
            RawShed::QueueDelay(d) => Shed::QueueDelay { target_ns: self.dur_pos(d, &path.k("queue_delay")) },
            RawShed::Utilization(u) => {
                if !(u.is_finite() && (1.0..=100.0).contains(u)) {
                    self.err(
                        &path.k("utilization"),
                        format!("expected a percentage of busy workers from 1 to 100, found {u}"),
                    );
                }
                Shed::Utilization { percent: u.clamp(1.0, 100.0) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::spec::{Priority, Shed};

    fn load(shed: &str, prio: &str) -> Result<crate::spec::Spec, String> {
        let text = format!(
            r#"{{"name":"t","duration":"1s","services":{{"a":{{"shed":{shed},"endpoints":{{"e":{{}}}}}}}},
                "workload":[{{"name":"w","target":"a.e",{prio}"arrival":{{"poisson":{{"rate":1}}}}}}]}}"#
        );
        crate::scenario::load_str(&text, "t.json", &Default::default()).map_err(|e| e.to_string())
    }

    #[test]
    fn shed_and_priority_resolve() {
        let s = load(r#"{"queue_delay":"50ms"}"#, r#""priority":"sheddable","#).unwrap();
        assert_eq!(s.services[0].shed, Some(Shed::QueueDelay { target_ns: 50_000_000 }));
        assert_eq!(s.workloads[0].priority, Some(Priority::Sheddable));
        let s = load(r#"{"utilization":87.5}"#, "").unwrap();
        assert_eq!(s.services[0].shed, Some(Shed::Utilization { percent: 87.5 }));
        assert_eq!(s.workloads[0].priority, None, "unset stays unset (the summary leaves it out)");
        for (u, ok) in [("1", true), ("100", true), ("0.99", false), ("100.5", false), ("-3", false)] {
            let r = load(&format!(r#"{{"utilization":{u}}}"#), "");
            assert_eq!(r.is_ok(), ok, "utilization {u}: {r:?}");
            if let Err(e) = r {
                assert!(e.contains("/services/a/shed/utilization"), "{e}");
            }
        }
        let e = load(r#"{"queue_delay":"0s"}"#, "").unwrap_err();
        assert!(e.contains("/services/a/shed/queue_delay"), "{e}");
        let e = load(r#"{"queue_delay":"50ms"}"#, r#""priority":"high","#).unwrap_err();
        assert!(e.contains("/workload/0/priority"), "{e}");
    }
}
