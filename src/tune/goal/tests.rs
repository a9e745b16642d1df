use super::*;
use crate::scenario::{LoadOptions, load_str};
use crate::spec::{Metric, ThresholdScope};

fn spec() -> Spec {
    let text = include_str!("../../../scenarios/retry-storm.json");
    load_str(text, "retry-storm.json", &LoadOptions::default()).unwrap()
}

#[test]
fn objectives_and_constraints_parse_as_thresholds() {
    let s = spec();
    let o = objective("min p99(users)", &s).unwrap();
    assert_eq!(
        (o.sense, o.probe.metric, o.probe.scope),
        (Some(Sense::Min), Metric::P99, ThresholdScope::Workload(0))
    );
    let o = objective("max goodput(users) during after", &s).unwrap();
    assert_eq!((o.sense, o.probe.phase.as_deref()), (Some(Sense::Max), Some("after")));
    let c = constraint("success(users) >= 99.5%", &s).unwrap();
    assert_eq!((c.probe.metric, c.probe.op, c.probe.bound), (Metric::Success, Op::Ge, 99.5));
    let c = constraint("p99(users)<2s during slowdown", &s).unwrap();
    assert_eq!((c.probe.bound, c.probe.phase.as_deref()), (2000.0, Some("slowdown")));
    let t = from_thresholds(&s);
    let texts: Vec<&str> = t.iter().map(|g| g.text.as_str()).collect();
    assert_eq!(texts, ["success(users) >= 90%", "success(users) >= 95% during after"]);
    // A scenario threshold, rewritten as a constraint, parses back to itself.
    for g in &t {
        let back = constraint(&g.text, &s).unwrap();
        assert_eq!(
            (back.probe.metric, back.probe.op, back.probe.bound),
            (g.probe.metric, g.probe.op, g.probe.bound)
        );
    }
    assert!(holds(&c, 1999.0) && !holds(&c, 2000.0) && !holds(&c, f64::NAN));
    assert_eq!(shortfall(&c, 2500.0), 500.0);
    assert_eq!(cost(&objective("max goodput(users)", &s).unwrap(), 5.0), -5.0);
}

#[test]
fn bad_goals_are_named() {
    let s = spec();
    for (text, is_obj, needles) in [
        ("p99(users)", true, &["starts with `min` or `max`"][..]),
        ("min p99", true, &["no `(SCOPE)`"][..]),
        ("min p99(users", true, &["without its `)`"][..]),
        ("min p99(buyers)", true, &["unknown threshold scope `buyers`", "users"][..]),
        ("min p9999(users)", true, &["unknown metric `p9999`"][..]),
        ("min p99(users) < 5ms", true, &["no bound"][..]),
        ("min p99(users) during later", true, &["unknown phase `later`"][..]),
        ("success(users)", false, &["no bound"][..]),
        ("success(users) >= 99.5", false, &["share"][..]),
        ("success(users) == 99%", false, &["unknown operator"][..]),
        ("max_lag(users) < 5", false, &["metric of a consumer group"][..]),
    ] {
        let e = if is_obj { objective(text, &s).unwrap_err() } else { constraint(text, &s).unwrap_err() };
        assert!(e.contains(text), "{e}");
        for n in needles {
            assert!(e.contains(n), "{text}: {e:?} lacks {n:?}");
        }
    }
}
