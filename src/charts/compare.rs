//! Overlay charts of a comparison, one colour per variant: per workload its percentile
//! spectrum (histograms merged across seeds), its goodput, p99 and (where a policy
//! retries or hedges on its path) call attempts per request over time, each the mean
//! across seeds per interval with its 95% confidence band; per saga its outcomes and
//! orphans by variant (bars with 95% intervals); per consumer group its lag over time
//! with bands.

use super::axis::Axis;
use super::fold::{Metric, VariantRuns, mean_over_seeds};
use super::panel::{
    Layer, LegendItem, Panel, Window, fault_spans, legend_area, legend_line, step_marks, windows_of,
};
use super::render::{render, single_row_h};
use super::spectrum::{spectrum_chart, spectrum_points};
use super::style::{INK, SERIES_PALETTE};
use super::{Chart, Names};
use crate::compare::reach::{edges_of_policy, reachable_edges};
use crate::compare::{BandFold, BandPoint, Comparison, mean_ci, saga_figures};
use crate::metrics::LatencyHist;
use crate::spec::{NS_PER_S, Nanos, Spec};
use plotters::prelude::{Color, RGBColor};

fn color(i: usize) -> RGBColor {
    SERIES_PALETTE[i % SERIES_PALETTE.len()]
}

/// Overlay charts of a comparison without its bands and saga charts (the lines are the
/// mean over seeds per interval): what [`comparison_charts`] draws from the variants'
/// runs alone.
pub fn compare_charts(variants: &[VariantRuns]) -> Vec<Chart> {
    charts_of(variants, &[], &[], 0)
}

/// A saga's bars: per variant, `(mean, 95% half-width)` of each outcome's share (in
/// percent) and of the orphans per 1000 sagas.
struct SagaBars {
    name: String,
    shares: Vec<Vec<(f64, f64)>>,
    orphans: Vec<(f64, f64)>,
}

/// Every overlay chart of a comparison, bands and saga charts included.
pub fn comparison_charts(c: &Comparison) -> Vec<Chart> {
    let sagas: Vec<SagaBars> = saga_figures(c)
        .iter()
        .map(|(name, per_variant)| {
            // Per variant: the four outcome shares, then the orphans per 1000.
            let shares = per_variant
                .iter()
                .map(|figs| figs.iter().take(4).map(|f| mean_ci(&f.per_seed)).collect())
                .collect();
            let orphans = per_variant
                .iter()
                .map(|figs| figs.get(4).map_or((f64::NAN, f64::NAN), |f| mean_ci(&f.per_seed)))
                .collect();
            SagaBars { name: name.clone(), shares, orphans }
        })
        .collect();
    charts_of(c.variant_runs(), c.bands(), &sagas, c.seeds.len())
}

/// Whether a policy that retries or hedges sits on workload `wl`'s path in `spec`.
fn retries_on_path(spec: &Spec, wl: &str) -> bool {
    let Some(w) = spec.workloads.iter().position(|x| x.name == wl) else { return false };
    let path = reachable_edges(spec, w);
    spec.policies.iter().enumerate().any(|(p, pol)| {
        (pol.retry.as_ref().is_some_and(|r| r.max_attempts > 1) || pol.hedge.is_some())
            && edges_of_policy(spec, p as u32).iter().any(|e| path.contains(e))
    })
}

/// Lines (and, with two seeds or more, bands) of one banded series per variant.
fn banded_panel(per_variant: &[Vec<BandPoint>], y: Axis, dur_s: f64, windows: &[Window]) -> Panel {
    let mut panel = Panel::new(Axis::time(dur_s), y, windows.to_vec());
    for (i, pts) in per_variant.iter().enumerate() {
        // Bands first, broken where an interval has no interval.
        let mut run: Vec<&BandPoint> = Vec::new();
        let flush = |run: &mut Vec<&BandPoint>, panel: &mut Panel| {
            if run.len() >= 2 {
                panel.layers.push(Layer::Band {
                    xs: run.iter().map(|p| p.x).collect(),
                    lower: run.iter().map(|p| p.lo.max(0.0)).collect(),
                    upper: run.iter().map(|p| p.hi).collect(),
                    color: color(i).mix(0.16),
                });
            }
            run.clear();
        };
        for p in pts {
            if p.lo.is_finite() && p.hi.is_finite() {
                run.push(p);
            } else {
                flush(&mut run, &mut panel);
            }
        }
        flush(&mut run, &mut panel);
    }
    for (i, pts) in per_variant.iter().enumerate() {
        panel.layers.push(Layer::Line {
            pts: pts.iter().map(|p| (p.x, p.mean)).collect(),
            color: color(i),
            width: 2,
        });
    }
    panel
}

/// The points of series `kind` of `name` per variant: the bands when there are any,
/// else the mean over seeds of the variants' runs (no bounds).
fn series(variants: &[VariantRuns], bands: &[BandFold], kind: &str, name: &str) -> Vec<Vec<BandPoint>> {
    variants
        .iter()
        .enumerate()
        .map(|(v, runs)| match bands.get(v) {
            Some(b) => b.points(kind, name),
            None => {
                let m = match kind {
                    "goodput" => Metric::Goodput,
                    _ => Metric::P99,
                };
                mean_over_seeds(runs, name, m)
                    .into_iter()
                    .map(|(x, mean)| BandPoint { x, mean, lo: f64::NAN, hi: f64::NAN })
                    .collect()
            }
        })
        .collect()
}

/// The variants whose spectra are the same curve (the last drawn hides the others), as
/// a sentence for the caption; empty when every curve shows.
fn coinciding(merged: &[(String, &LatencyHist)]) -> String {
    let pts: Vec<Vec<(f64, f64)>> = merged.iter().map(|(_, h)| spectrum_points(h, 5)).collect();
    let mut groups: Vec<Vec<&str>> = Vec::new();
    let mut seen = vec![false; merged.len()];
    for i in 0..merged.len() {
        if seen[i] || pts[i].is_empty() {
            continue;
        }
        let same: Vec<usize> = (i..merged.len()).filter(|&j| pts[j] == pts[i]).collect();
        for &j in &same {
            seen[j] = true;
        }
        if same.len() > 1 {
            groups.push(same.iter().map(|&j| merged[j].0.as_str()).collect());
        }
    }
    groups
        .iter()
        .map(|g| format!(" The curves of {} are the same: the last drawn hides the others.", g.join(", ")))
        .collect()
}

fn max_of(per_variant: &[Vec<BandPoint>]) -> f64 {
    per_variant.iter().flatten().flat_map(|p| [p.mean, p.hi]).filter(|v| v.is_finite()).fold(0.0, f64::max)
}

fn band_note(n_seeds: usize) -> String {
    if n_seeds >= 2 {
        format!("line: mean over the {n_seeds} seeds per interval; shaded: its 95% confidence interval")
    } else {
        "mean over seeds per interval".to_string()
    }
}

fn charts_of(variants: &[VariantRuns], bands: &[BandFold], sagas: &[SagaBars], n_seeds: usize) -> Vec<Chart> {
    let mut names = Names::default();
    let mut charts = Vec::new();
    // Workloads by name, in the order the variants list them.
    let mut workloads: Vec<String> = Vec::new();
    for v in variants {
        for w in &v.spec.workloads {
            if !workloads.contains(&w.name) {
                workloads.push(w.name.clone());
            }
        }
    }
    let dur_ns = variants.iter().map(|v| v.spec.duration_ns).max().unwrap_or(0);
    let warmup_ns = variants.iter().map(|v| v.spec.warmup_ns).min().unwrap_or(0);
    let mut spans: Vec<(Nanos, Nanos, String)> = Vec::new();
    for v in variants {
        for s in fault_spans(&v.spec) {
            if !spans.contains(&s) {
                spans.push(s);
            }
        }
    }
    let mut steps: Vec<(Nanos, String)> = Vec::new();
    for v in variants {
        for s in step_marks(&v.spec) {
            if !steps.contains(&s) {
                steps.push(s);
            }
        }
    }
    let windows = windows_of(&spans, &steps, warmup_ns, dur_ns);
    let dur_s = dur_ns as f64 / NS_PER_S as f64;
    let banded = !bands.is_empty() && n_seeds >= 2;
    let mut legend: Vec<LegendItem> =
        variants.iter().enumerate().map(|(i, v)| legend_line(v.name.clone(), color(i))).collect();
    if banded {
        legend.push(legend_area("95% CI across seeds", INK.mix(0.16)));
    }
    let note = band_note(if banded { n_seeds } else { 0 });
    let time_chart = |names: &mut Names,
                      kind: &str,
                      key: &str,
                      title: String,
                      caption: String,
                      y: Axis,
                      pts: &[Vec<BandPoint>]| {
        let panel = banded_panel(pts, y, dur_s, &windows);
        Chart {
            file: names.file(kind, key),
            svg: render(&title, &legend, std::slice::from_ref(&panel), 1, single_row_h(&legend)),
            title,
            caption: format!("{caption} ({note})."),
        }
    };

    for wl in &workloads {
        // Spectrum of the merged histograms.
        let empty = LatencyHist::default();
        let merged: Vec<(String, &LatencyHist)> = variants
            .iter()
            .map(|v| {
                let h = v.spec.workloads.iter().position(|w| &w.name == wl).map(|i| &v.workloads[i].latency);
                (v.name.clone(), h.unwrap_or(&empty))
            })
            .collect();
        charts.push(spectrum_chart(
            &mut names,
            "compare-spectrum",
            wl,
            &format!("Latency by percentile: {wl}, by variant"),
            &format!(
                "Which variant gives {wl} the lowest latency at each percentile, tail included (all seeds merged)? \
                 Successful responses over the measured window.{}",
                coinciding(&merged)
            ),
            &merged,
        ));

        let goodput = series(variants, bands, "goodput", wl);
        let y = Axis::linear(max_of(&goodput) * 1.05, 1.0, "ok requests/s");
        charts.push(time_chart(
            &mut names,
            "compare-goodput",
            wl,
            format!("Goodput over time: {wl}, by variant"),
            format!(
                "Which variant keeps the most of the requests of {wl} succeeding through each fault? Successful \
                 responses per second that finished in each interval, the warm-up (shaded) included"
            ),
            y,
            &goodput,
        ));

        let p99 = series(variants, bands, "p99", wl);
        let y = Axis::latency(p99.iter().flatten().flat_map(|p| [p.mean, p.hi]));
        charts.push(time_chart(
            &mut names,
            "compare-p99",
            wl,
            format!("p99 latency over time: {wl}, by variant"),
            format!(
                "Which variant keeps the 99th-percentile latency of {wl} lowest, and which recovers fastest after a \
                 fault? Each point: the p99 of the successful responses that finished in that interval, failed ones \
                 left out (a variant that fails its slow requests draws low); a gap where no seed had one"
            ),
            y,
            &p99,
        ));

        if !bands.is_empty() && variants.iter().any(|v| retries_on_path(&v.spec, wl)) {
            let attempts = series(variants, bands, "attempts", wl);
            let y = Axis::linear(max_of(&attempts) * 1.05, 1.0, "attempts/request");
            charts.push(time_chart(
                &mut names,
                "compare-attempts",
                wl,
                format!("Call attempts per request over time: {wl}, by variant"),
                format!(
                    "How much extra load each variant's retries and hedges put on the services behind {wl}? Call \
                     attempts on every edge its requests traverse, per request it sent in the interval (1 per hop \
                     without retries; below that when calls are refused before an attempt leaves: an open breaker, \
                     a full bulkhead, a rate limit)"
                ),
                y,
                &attempts,
            ));
        }
    }

    for b in sagas {
        charts.push(saga_chart(&mut names, &b.name, variants, &b.shares, &b.orphans, n_seeds));
    }

    // Consumer groups, in the order the variants list them.
    let mut groups: Vec<String> = Vec::new();
    for v in variants {
        for t in &v.spec.topics {
            for g in &t.groups {
                let n = format!("{}/{}", t.name, g.name);
                if !groups.contains(&n) {
                    groups.push(n);
                }
            }
        }
    }
    if !bands.is_empty() {
        for g in &groups {
            let lag = series(variants, bands, "lag", g);
            let y = Axis::count(max_of(&lag) * 1.05, "lag (messages)");
            charts.push(time_chart(
                &mut names,
                "compare-lag",
                g,
                format!("Consumer lag over time: {g}, by variant"),
                format!(
                    "Which variant keeps group {g} closest to the head of its topic through each fault? The lag \
                     (messages published and not yet handled) read at the end of each interval"
                ),
                y,
                &lag,
            ));
        }
    }
    charts
}

/// A saga's outcomes by variant: each outcome's share of the sagas started (bars, one
/// per variant, with the 95% interval across seeds as a whisker), and the orphaned
/// effects per 1000 sagas in a second panel.
fn saga_chart(
    names: &mut Names,
    saga: &str,
    variants: &[VariantRuns],
    shares: &[Vec<(f64, f64)>],
    orphans: &[(f64, f64)],
    n_seeds: usize,
) -> Chart {
    let nv = variants.len().max(1);
    let bar = |cat: usize, v: usize| {
        let w = 0.8 / nv as f64;
        let x0 = cat as f64 - 0.4 + v as f64 * w;
        (x0 + 0.08 * w, x0 + 0.92 * w)
    };
    let bars = |vals: &[Vec<(f64, f64)>], cats: usize| {
        let mut rects = Vec::new();
        let mut whiskers = Vec::new();
        for (v, per_cat) in vals.iter().enumerate() {
            for (cat, (m, hw)) in per_cat.iter().enumerate().take(cats) {
                if !m.is_finite() {
                    continue;
                }
                let (x0, x1) = bar(cat, v);
                rects.push((x0, x1, 0.0, *m, color(v)));
                if hw.is_finite() && *hw > 0.0 {
                    let xc = (x0 + x1) / 2.0;
                    let t = (x1 - x0) * 0.08;
                    whiskers.push((xc - t, xc + t, (m - hw).max(0.0), m + hw, INK));
                    whiskers.push((xc - 3.0 * t, xc + 3.0 * t, m + hw, m + hw, INK));
                }
            }
        }
        (rects, whiskers)
    };
    let top_of = |vals: &[Vec<(f64, f64)>]| {
        vals.iter()
            .flatten()
            .map(|(m, hw)| m + if hw.is_finite() { *hw } else { 0.0 })
            .filter(|x| x.is_finite())
            .fold(0.0, f64::max)
    };
    // "compensation failed" would run into its neighbours: the caption spells it out.
    let outcome_names = ["completed", "compensated", "comp. failed", "abandoned"];
    let (rects, whiskers) = bars(shares, 4);
    let mut left = Panel::new(
        Axis::categories(&outcome_names, ""),
        Axis::linear(top_of(shares), 1.0, "% of sagas started"),
        Vec::new(),
    );
    left.heading = Some("outcomes".into());
    left.layers.push(Layer::Rects(rects));
    left.layers.push(Layer::Rects(whiskers));
    let per_v: Vec<Vec<(f64, f64)>> = orphans.iter().map(|o| vec![*o]).collect();
    let (rects, whiskers) = bars(&per_v, 1);
    let mut right = Panel::new(
        Axis::categories(&["orphaned effects"], ""),
        Axis::linear(top_of(&per_v), 1.0, "per 1000 sagas"),
        Vec::new(),
    );
    right.heading = Some("orphans".into());
    right.layers.push(Layer::Rects(rects));
    right.layers.push(Layer::Rects(whiskers));
    let legend: Vec<LegendItem> =
        variants.iter().enumerate().map(|(i, v)| legend_area(v.name.clone(), color(i).to_rgba())).collect();
    let title = format!("Saga outcomes and orphans: {saga}, by variant");
    let whisker = if n_seeds >= 2 {
        format!("bars: mean over the {n_seeds} seeds; whiskers: its 95% confidence interval")
    } else {
        "bars: mean over seeds".to_string()
    };
    Chart {
        file: names.file("compare-saga", saga),
        svg: render(&title, &legend, &[left, right], 2, single_row_h(&legend)),
        title,
        caption: format!(
            "Which variant completes the most {saga} sagas, and which leaves the fewest orphaned effects \
             (effects no compensation undid)? Outcomes as a share of the sagas started in the measured window \
             (comp. failed: compensation failed); orphaned effects per 1000 sagas started; a variant with none \
             draws no bar ({whisker})."
        ),
    }
}
