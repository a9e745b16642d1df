use super::*;
use crate::spec::{Metric, Op, Threshold, ThresholdScope};
use crate::tune::goal::{Goal, Sense, Source};

fn goal(metric: Metric, sense: Option<Sense>, op: Op, bound: f64) -> Goal {
    Goal {
        text: format!("{}(w)", metric.name()),
        probe: Threshold {
            scope_name: "w".into(),
            scope: ThresholdScope::Workload(0),
            expression: String::new(),
            metric,
            op,
            bound,
            phase: None,
        },
        sense,
        source: Source::Cli,
    }
}

/// A deterministic "noise" in [-1, 1] per seed, shared by every point (common random
/// numbers), plus a small own part per point.
fn noise(p: usize, s: usize) -> f64 {
    let h = (s as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ ((p as u64) << 7);
    ((h >> 11) % 2001) as f64 / 1000.0 - 1.0
}

/// Latency falls with x; success rises with x and meets 99% from x = 6 up.
fn model(p: usize, s: usize) -> Vec<f64> {
    let x = p as f64;
    let common = noise(0, s);
    vec![10.0 + 2.0 * x + common + 0.05 * noise(p, s), (90.0 + 1.6 * x).min(100.0) + 0.1 * common]
}

fn run(budget: usize, seeds: usize) -> Race {
    let goals =
        [goal(Metric::Mean, Some(Sense::Min), Op::Lt, 0.0), goal(Metric::Success, None, Op::Ge, 99.0)];
    let mut eval = |pairs: &[(usize, usize)]| -> Result<Vec<Vec<f64>>, ()> {
        Ok(pairs.iter().map(|&(p, s)| model(p, s)).collect())
    };
    race(12, &goals, seeds, budget, &mut eval).unwrap()
}

#[test]
fn finds_the_smallest_feasible_point_with_fewer_runs() {
    let r = run(12 * 8, 8);
    // x = 6 is the first with success ≥ 99% (90 + 1.6·6 = 99.6); latency rises with x.
    assert_eq!(r.best, Some(6));
    assert_eq!(r.fates[6], Fate::Best);
    for p in 0..6 {
        assert!(matches!(r.fates[p], Fate::Infeasible { goal: 1, seeds: 2, .. }), "{p}: {:?}", r.fates[p]);
    }
    for p in 7..12 {
        assert!(matches!(&r.fates[p], Fate::Worse { by: 6, .. }), "{p}: {:?}", r.fates[p]);
    }
    assert_eq!(r.values[6].len(), 8);
    assert!(r.runs < 12 * 8, "{} runs", r.runs);
    assert_eq!(r.runs, r.rungs.iter().map(|g| g.runs).sum::<usize>());
    assert_eq!(schedule(8), [2, 4, 8]);
    assert_eq!(schedule(5), [2, 4, 5]);
    assert_eq!(schedule(1), [1]);
}

#[test]
fn the_budget_keeps_the_best_ranked() {
    // 24 runs for the first rung, 2 more: one survivor goes on from 2 to 4 seeds.
    let goals = [goal(Metric::Mean, Some(Sense::Min), Op::Lt, 0.0)];
    // No noise at all between points except a common one: nothing is "clearly" worse
    // until the pairing says so; with identical differences it does, so use equal
    // figures to keep everyone alive.
    let mut eval = |pairs: &[(usize, usize)]| -> Result<Vec<Vec<f64>>, ()> {
        Ok(pairs.iter().map(|&(p, s)| vec![10.0 + noise(p, s)]).collect())
    };
    let r = race(12, &goals, 8, 26, &mut eval).unwrap();
    assert!(r.runs <= 26);
    let budget: Vec<usize> = (0..12).filter(|&p| matches!(r.fates[p], Fate::Budget { .. })).collect();
    let went_on: Vec<usize> = (0..12).filter(|&p| r.values[p].len() == 4).collect();
    assert_eq!(went_on.len(), 1, "{:?}", r.fates);
    assert!(!budget.is_empty());
    // The one that went on had the best mean after 2 seeds among the survivors.
    let m2 = |p: usize| (r.values[p][0][0] + r.values[p][1][0]) / 2.0;
    for &p in &budget {
        assert!(m2(went_on[0]) <= m2(p), "{p}");
    }
}

#[test]
fn nothing_feasible_names_no_best() {
    let goals =
        [goal(Metric::Mean, Some(Sense::Min), Op::Lt, 0.0), goal(Metric::Success, None, Op::Ge, 101.0)];
    let mut eval = |pairs: &[(usize, usize)]| -> Result<Vec<Vec<f64>>, ()> {
        Ok(pairs.iter().map(|&(p, s)| model(p, s)).collect())
    };
    let r = race(12, &goals, 4, 48, &mut eval).unwrap();
    assert_eq!(r.best, None);
    assert!(
        r.fates.iter().all(|f| matches!(f, Fate::Infeasible { .. } | Fate::Unmet { .. })),
        "{:?}",
        r.fates
    );
}

#[test]
fn no_data_stops_a_point() {
    let goals = [goal(Metric::Mean, Some(Sense::Min), Op::Lt, 0.0)];
    let mut eval = |pairs: &[(usize, usize)]| -> Result<Vec<Vec<f64>>, ()> {
        Ok(pairs
            .iter()
            .map(|&(p, s)| vec![if p == 0 && s == 1 { f64::NAN } else { 5.0 + p as f64 }])
            .collect())
    };
    let r = race(3, &goals, 4, 12, &mut eval).unwrap();
    assert_eq!(r.fates[0], Fate::NoData { goal: 0, seeds: 2 });
    assert_eq!(r.best, Some(1));
}
