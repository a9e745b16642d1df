//! The charts of a tune (`faultline tune`): the trade-off scatter (the first
//! objective against the second, or against the first constraint's figure; one dot per
//! candidate, at its mean over the seeds it ran, coloured by how it ended) and the race
//! (one bar per candidate: the seeds it ran, coloured by how it ended, so a reader sees
//! who stopped after 2 seeds and who ran them all). Takes plain numbers; knows nothing
//! of runs or summaries.

use super::Chart;
use super::axis::{Axis, AxisKind, decimals_of, nice_step, ticks_between};
use super::panel::{Layer, Panel, legend_area, legend_line};
use super::render::render;
use super::style::{BLUE, GREEN, GREY, ORANGE, PURPLE, VERMILLION};
use plotters::prelude::{Color, RGBColor};

/// How a candidate ended, for its colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum TuneClass {
    Best,
    /// Tied with the best, or on the Pareto front.
    Tied,
    /// Ran every seed; behind, or its mean fails a constraint.
    Ran,
    /// Stopped: a constraint clearly failed (or nothing measured).
    Infeasible,
    /// Stopped: clearly worse than an incumbent.
    Worse,
    /// Stopped: out of budget.
    Budget,
}

impl TuneClass {
    const ALL: [TuneClass; 6] = [
        TuneClass::Best,
        TuneClass::Tied,
        TuneClass::Ran,
        TuneClass::Infeasible,
        TuneClass::Worse,
        TuneClass::Budget,
    ];

    fn color(self) -> RGBColor {
        match self {
            TuneClass::Best => GREEN,
            TuneClass::Tied => BLUE,
            TuneClass::Ran => GREY,
            TuneClass::Infeasible => VERMILLION,
            TuneClass::Worse => ORANGE,
            TuneClass::Budget => PURPLE,
        }
    }

    fn label(self) -> &'static str {
        match self {
            TuneClass::Best => "best",
            TuneClass::Tied => "tied with it / Pareto front",
            TuneClass::Ran => "ran every seed, lost",
            TuneClass::Infeasible => "stopped: infeasible",
            TuneClass::Worse => "stopped: clearly worse",
            TuneClass::Budget => "stopped: out of budget",
        }
    }
}

/// A linear axis over `[lo, hi]` with round ticks, padded by 5% on each side.
fn span(lo: f64, hi: f64, desc: &str) -> Axis {
    let (lo, hi) = if lo.is_finite() && hi.is_finite() { (lo, hi) } else { (0.0, 1.0) };
    let w = if hi > lo { hi - lo } else { lo.abs().max(1.0) * 0.1 };
    let (lo, hi) = (lo - 0.05 * w, hi + 0.05 * w);
    let step = nice_step((hi - lo) / 5.0);
    let ticks = ticks_between(lo, hi, step);
    Axis { lo, hi, ticks, kind: AxisKind::Linear { decimals: decimals_of(step) }, desc: desc.into() }
}

fn legend(classes: impl Iterator<Item = TuneClass>) -> Vec<super::panel::LegendItem> {
    let present: Vec<TuneClass> = classes.collect();
    TuneClass::ALL
        .iter()
        .filter(|c| present.contains(c))
        .map(|c| legend_area(c.label(), c.color().to_rgba()))
        .collect()
}

/// The scatter: `(x, y, class)` per candidate (non-finite points are left out).
pub fn tune_scatter(
    file: &str,
    title: &str,
    caption: &str,
    x_desc: &str,
    y_desc: &str,
    pts: &[(f64, f64, TuneClass)],
    y_bound: Option<f64>,
) -> Chart {
    let ok: Vec<&(f64, f64, TuneClass)> = pts.iter().filter(|p| p.0.is_finite() && p.1.is_finite()).collect();
    let ext = |f: fn(&(f64, f64, TuneClass)) -> f64| {
        ok.iter().map(|p| f(p)).fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)))
    };
    let (x0, x1) = ext(|p| p.0);
    let (y0, y1) = ext(|p| p.1);
    let b = y_bound.filter(|b| b.is_finite());
    let (y0, y1) = b.map_or((y0, y1), |b| (y0.min(b), y1.max(b)));
    let mut p = Panel::new(span(x0, x1, x_desc), span(y0, y1, y_desc), Vec::new());
    if let Some(b) = b {
        p.layers.push(Layer::Line { pts: vec![(p.x.lo, b), (p.x.hi, b)], color: GREY, width: 1 });
    }
    // Losers first, so the best is drawn on top.
    for class in TuneClass::ALL.iter().rev() {
        let mut line = Vec::new();
        for q in ok.iter().filter(|q| q.2 == *class) {
            line.push((q.0, q.1));
            line.push((f64::NAN, f64::NAN));
        }
        if !line.is_empty() {
            p.layers.push(Layer::Line { pts: line, color: class.color(), width: 6 });
        }
    }
    if ok.is_empty() {
        p.note = Some("nothing measured".into());
    }
    let mut legend = legend(ok.iter().map(|q| q.2));
    if b.is_some() {
        legend.push(legend_line("the constraint's bound", GREY));
    }
    Chart {
        file: file.into(),
        title: title.into(),
        svg: render(title, &legend, &[p], 1, 380),
        caption: caption.into(),
    }
}

/// The race's x axis: from 0 to the `schedule`'s last rung (the seeds a candidate that
/// stays in the race runs, whether or not the budget let one get there), with a tick at
/// each rung of the schedule, so the bars read against the rungs; a tick closer than 4%
/// of the axis to the one before is left out (the last one is kept instead of its
/// neighbour).
fn race_axis(schedule: &[usize], seeds_run: &[usize]) -> Axis {
    let n = schedule.iter().chain(seeds_run).copied().max().unwrap_or(1).max(1);
    let gap = 0.04 * n as f64;
    let mut ticks: Vec<f64> = vec![0.0];
    for &t in schedule.iter().filter(|&&t| t > 0 && t <= n) {
        let t = t as f64;
        let last = *ticks.last().expect("0 is in");
        if t - last >= gap {
            ticks.push(t);
        } else if t == n as f64 && last > 0.0 {
            *ticks.last_mut().expect("not empty") = t;
        }
    }
    let last = *ticks.last().expect("0 is in");
    if last < n as f64 {
        if n as f64 - last >= gap || last == 0.0 {
            ticks.push(n as f64);
        } else {
            *ticks.last_mut().expect("not empty") = n as f64;
        }
    }
    let hi = n as f64 * 1.03;
    Axis { lo: 0.0, hi, ticks, kind: AxisKind::Linear { decimals: 0 }, desc: "seeds run".into() }
}

/// The race: per candidate (labelled), the seeds it ran and its class; `rungs` are the
/// seeds at which the race judged (drawn as vertical lines), `schedule` every rung the
/// race would have run with budget enough (the axis runs to its last).
#[allow(clippy::too_many_arguments)]
pub fn tune_race(
    file: &str,
    title: &str,
    caption: &str,
    labels: &[String],
    seeds_run: &[usize],
    classes: &[TuneClass],
    rungs: &[usize],
    schedule: &[usize],
) -> Chart {
    let names: Vec<&str> = labels.iter().map(String::as_str).collect();
    let mut p = Panel::new(race_axis(schedule, seeds_run), Axis::categories(&names, ""), Vec::new());
    let rects = seeds_run
        .iter()
        .zip(classes)
        .enumerate()
        .map(|(j, (&n, c))| (0.0, n as f64, j as f64 - 0.35, j as f64 + 0.35, c.color()))
        .collect();
    p.layers.push(Layer::Rects(rects));
    let top = names.len() as f64 - 0.5;
    for &r in rungs {
        p.layers.push(Layer::Line { pts: vec![(r as f64, -0.5), (r as f64, top)], color: GREY, width: 1 });
    }
    let mut legend = legend(classes.iter().copied());
    legend.push(legend_line("a rung: where the race judged", GREY));
    let row_h = (90 + 20 * names.len() as u32).clamp(200, 1400);
    Chart {
        file: file.into(),
        title: title.into(),
        svg: render(title, &legend, &[p], 1, row_h),
        caption: caption.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::race_axis;

    #[test]
    fn the_race_axis_runs_to_the_last_rung_with_a_tick_at_each() {
        let ticks = |schedule: &[usize], run: &[usize]| race_axis(schedule, run).ticks;
        // Three seeds: the axis ends at 3, not at a count axis' 5.
        assert_eq!(ticks(&[2, 3], &[3, 2]), [0.0, 2.0, 3.0]);
        assert!(race_axis(&[2, 3], &[3]).hi < 3.2);
        assert_eq!(ticks(&[2, 4, 6], &[6]), [0.0, 2.0, 4.0, 6.0]);
        // A budget that stopped the race at 8 of 20 seeds: the axis still shows 20.
        assert_eq!(ticks(&[2, 4, 8, 16, 20], &[8, 4]), [0.0, 2.0, 4.0, 8.0, 16.0, 20.0]);
        // Crowded rungs thin out; the last one stays.
        assert_eq!(ticks(&[2, 4, 8, 16, 32, 64, 100], &[100]), [0.0, 4.0, 8.0, 16.0, 32.0, 64.0, 100.0]);
        assert_eq!(ticks(&[2, 4, 8, 16, 32, 64, 65], &[65]), [0.0, 4.0, 8.0, 16.0, 32.0, 65.0]);
        assert_eq!(ticks(&[1], &[1]), [0.0, 1.0]);
    }
}
