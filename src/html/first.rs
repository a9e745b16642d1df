//! The first screen of a run's page: the verdict line (every threshold passes, or which
//! fail), then tiles (each threshold with its value; per workload its success, goodput
//! and p99 of successes; recovery per fault; saga outcomes and orphans; the largest
//! consumer lag), then the phase table (before, during each fault, after). Everything
//! is read from the [`Summary`]; what it lacks is said in words, never left blank.

use super::escape;
use super::num::{NONE, fixed, int, metric_value, ms_unit, percent, percent_of, secs};
use crate::report::Summary;
use crate::report::summary::ThresholdVerdict;
use std::fmt::Write as _;

/// The metric a threshold's expression tests: its first word (`p99 < 500ms` → `p99`).
fn metric(t: &ThresholdVerdict) -> &str {
    t.expression.split_whitespace().next().unwrap_or("")
}

/// Success as the page counts it everywhere: responses that succeeded (ok, degraded
/// ones included) over requests that finished (ok + failed); in-flight ones are in
/// neither.
pub(super) fn success(ok: u64, failed: u64) -> String {
    percent_of(ok, ok.saturating_add(failed))
}

/// The verdict as one sentence, plain text (escaped by the caller).
pub(super) fn verdict_text(s: &Summary) -> String {
    let n = s.thresholds.len();
    if n == 0 {
        return "No thresholds declared: add \"thresholds\" to the scenario to get a verdict.".into();
    }
    let failed: Vec<&ThresholdVerdict> = s.thresholds.iter().filter(|t| !t.pass).collect();
    if failed.is_empty() {
        return if n == 1 {
            "Pass: the one threshold holds.".into()
        } else {
            format!("Pass: all {n} thresholds hold.")
        };
    }
    let names: Vec<String> = failed
        .iter()
        .map(|t| format!("{} {} (measured {})", t.scope, t.expression, metric_value(metric(t), t.value)))
        .collect();
    format!("Fail: {} of {n} thresholds fail: {}.", failed.len(), names.join("; "))
}

fn tile(class: &str, key: &str, value: &str, note: &str) -> String {
    format!(
        "<div class=\"tile {class}\"><div class=\"tk\">{}</div><div class=\"tv\">{}</div><div class=\"tn\">{}</div></div>\n",
        escape(key),
        escape(value),
        escape(note)
    )
}

fn group(title: &str, note: &str, tiles: &str) -> String {
    format!(
        "<h3>{}</h3>\n<p class=\"note\">{}</p>\n<div class=\"tiles\">\n{tiles}</div>\n",
        escape(title),
        escape(note)
    )
}

/// The span a threshold was measured over: its phase's (the first of that name, as
/// `report::thresholds` reads it), or the whole measured window; a word joiner keeps the
/// span from breaking after its dash.
fn over(s: &Summary, v: &ThresholdVerdict) -> String {
    let end = s.warmup_s + s.window_s;
    match v.expression.rsplit_once(" during ") {
        Some((_, name)) => match s.phases.iter().find(|p| p.name == name.trim()) {
            Some(p) => format!("over {}–\u{2060}{}", secs(p.from_s), secs(p.to_s)),
            None => "(the run never reached that phase)".into(),
        },
        None => format!("over the measured window, {}–\u{2060}{}", secs(s.warmup_s), secs(end)),
    }
}

/// The verdict section and the tiles, as HTML.
pub(super) fn first_screen_html(s: &Summary) -> String {
    let state = if s.thresholds.is_empty() {
        "none"
    } else if s.thresholds.iter().all(|t| t.pass) {
        "pass"
    } else {
        "fail"
    };
    let mut h = format!(
        "<section id=\"verdict\" class=\"verdict {state}\">\n<p class=\"answer\">{}</p>\n</section>\n",
        escape(&verdict_text(s))
    );
    if !s.thresholds.is_empty() {
        let mut t = String::new();
        for v in &s.thresholds {
            let (class, word) = if v.pass { ("pass", "pass") } else { ("fail", "FAIL") };
            let value = metric_value(metric(v), v.value);
            t += &tile(class, &v.scope, &v.expression, &format!("{word} · measured {value} {}", over(s, v)));
        }
        h += &group(
            "Thresholds",
            "Each objective of the scenario, in file order, with the value measured on this run.",
            &t,
        );
    }

    let mut t = String::new();
    for (name, w) in s.workloads.iter() {
        let failed = w.failed.total();
        let p99 = ms_unit(w.latency_ms.get(|q| q.p99));
        let mut note = format!("goodput {}/s · p99 of successes {p99}", fixed(w.goodput_rps, 1));
        if w.degraded > 0 {
            let _ = write!(note, " · degraded {}", int(w.degraded));
        }
        if w.in_flight > 0 {
            let _ = write!(note, " · in flight at the end {}", int(w.in_flight));
        }
        let class = if failed == 0 { "pass" } else { "plain" };
        t += &tile(class, name, &format!("{} success", success(w.ok, failed)), &note);
    }
    if !t.is_empty() {
        h += &group(
            "Workloads",
            "Whole measured window after warm-up. Success: ok (degraded included) over finished \
             requests; goodput: successful responses per second; p99 of successful responses only.",
            &t,
        );
    }

    let mut t = String::new();
    for r in &s.recovery {
        let parts: Vec<String> = r
            .workloads
            .iter()
            .map(|(w, v)| match v {
                Some(v) => format!("{w} {}", secs(*v)),
                None => format!("{w} not by the end"),
            })
            .collect();
        let all = r.workloads.iter().all(|(_, v)| v.is_some());
        let class = if all { "pass" } else { "fail" };
        let head = if all { "recovered" } else { "not all recovered" };
        t += &tile(
            class,
            &r.fault,
            head,
            &format!("after its end at {}: {}", secs(r.end_s), parts.join(", ")),
        );
    }
    if !t.is_empty() {
        h += &group(
            "Recovery",
            "Seconds from a fault's end until the workload's success and p99 are back near their \
             values before the first fault for 5 intervals in a row.",
            &t,
        );
    }

    let mut t = String::new();
    for (name, g) in s.sagas.iter() {
        let note = format!(
            "compensated {} · compensation failed {} · abandoned {} · in flight {} · orphaned effects {}",
            int(g.compensated),
            int(g.compensation_failed),
            int(g.abandoned),
            int(g.in_flight),
            int(g.orphaned)
        );
        let class = if g.orphaned == 0 && g.compensation_failed == 0 { "pass" } else { "fail" };
        t += &tile(
            class,
            &format!("saga {name}"),
            &format!("{} completed", percent_of(g.completed, g.started)),
            &note,
        );
    }
    for (topic, tp) in s.topics.iter() {
        for (gname, g) in tp.groups.iter() {
            let note = format!(
                "delivered {} · duplicates {} · dead-lettered {} · in flight {}",
                int(g.delivered),
                int(g.duplicates),
                int(g.dead_lettered),
                int(g.in_flight)
            );
            t += &tile(
                "plain",
                &format!("{topic}/{gname}"),
                &format!("max lag {} messages", int(g.max_lag)),
                &note,
            );
        }
    }
    if !t.is_empty() {
        h += &group(
            "Sagas and consumers",
            "Saga outcomes over the sagas started after warm-up; orphaned: effects nothing undid in \
             sagas that did not complete. Lag: messages published but not yet handled by the group; max lag: the \
             most at any instant of the measured window.",
            &t,
        );
    }
    h
}

/// The phase table's rows: per phase, per workload.
pub(super) fn phase_rows(s: &Summary) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for p in &s.phases {
        for (w, f) in p.workloads.iter() {
            let in_flight = f.offered.saturating_sub(f.ok.saturating_add(f.failed));
            rows.push(vec![
                p.name.clone(),
                format!("{}–{}", secs(p.from_s), secs(p.to_s)),
                w.to_string(),
                int(f.offered),
                int(f.ok),
                int(f.degraded),
                int(f.failed),
                int(in_flight),
                f.success.map(percent).unwrap_or_else(|| NONE.into()),
                fixed(f.goodput_rps, 1),
                super::num::ms(f.latency_ms.get(|q| q.p50)),
                super::num::ms(f.latency_ms.get(|q| q.p99)),
            ]);
        }
    }
    rows
}

/// The sentence shown where the phase table would be when the run has no phases.
pub(super) const NO_PHASES: &str = "No phases: the run has no fault window or schedule step to cut it at, so every figure covers the whole \
     measured window.";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::summary::{Latency, Named, Phase, PhaseWorkload, Quantiles, Recovery};

    pub(crate) fn summary() -> Summary {
        let spec = crate::scenario::load_str(
            r#"{"name":"t","duration":"10s","services":{"a":{"endpoints":{"e":{"latency":{"constant":"1ms"}}}}},
                "workload":[{"name":"w","target":"a.e","arrival":{"poisson":{"rate":10}}}]}"#,
            "t.json",
            &Default::default(),
        )
        .expect("scenario");
        let out = crate::model::run(&spec).expect("run");
        Summary::of(&spec, &out)
    }

    fn q(p99: f64) -> Latency {
        Latency(Some(Quantiles { mean: 1.0, p50: 1.0, p90: 2.0, p99, p999: p99, max: p99 }))
    }

    #[test]
    fn without_thresholds_the_page_says_how_to_get_a_verdict() {
        let s = summary();
        let h = first_screen_html(&s);
        assert!(h.contains("id=\"verdict\""));
        assert!(h.contains("No thresholds declared: add &quot;thresholds&quot; to the scenario"));
    }

    #[test]
    fn the_verdict_names_the_failing_thresholds() {
        let mut s = summary();
        s.thresholds = vec![
            ThresholdVerdict {
                scope: "w".into(),
                expression: "p99 < 500ms".into(),
                value: Some(612.4),
                pass: false,
            },
            ThresholdVerdict {
                scope: "w".into(),
                expression: "success >= 99.5%".into(),
                value: Some(99.9),
                pass: true,
            },
        ];
        assert_eq!(verdict_text(&s), "Fail: 1 of 2 thresholds fail: w p99 < 500ms (measured 612\u{a0}ms).");
        let h = first_screen_html(&s);
        assert!(h.contains("verdict fail"));
        assert!(h.contains("FAIL · measured 612\u{a0}ms"));
        assert!(h.contains("pass · measured 99.90%"));
        // Each says what it was measured over: the window after warm-up, or its phase.
        assert!(h.contains("measured 99.90% over the measured window, 0\u{a0}s–\u{2060}10\u{a0}s"), "{h}");
        s.phases =
            vec![Phase { name: "brownout".into(), from_s: 4.0, to_s: 6.0, workloads: Named(Vec::new()) }];
        s.thresholds[1].expression = "success >= 99.5% during brownout".into();
        assert!(first_screen_html(&s).contains("measured 99.90% over 4\u{a0}s–\u{2060}6\u{a0}s"));
        s.thresholds[1].expression = "success >= 99.5% during never".into();
        assert!(first_screen_html(&s).contains("(the run never reached that phase)"));
        s.thresholds[0].pass = true;
        assert_eq!(verdict_text(&s), "Pass: all 2 thresholds hold.");
    }

    #[test]
    fn recovery_and_phases_render_from_their_figures() {
        let mut s = summary();
        s.recovery = vec![Recovery {
            fault: "brownout".into(),
            end_s: 150.0,
            workloads: Named(vec![("buyers".into(), Some(3.0)), ("browsers".into(), None)]),
        }];
        let h = first_screen_html(&s);
        assert!(h.contains("after its end at 150\u{a0}s: buyers 3\u{a0}s, browsers not by the end"));
        assert!(h.contains("not all recovered"));
        s.phases = vec![Phase {
            name: "brownout".into(),
            from_s: 90.0,
            to_s: 150.0,
            workloads: Named(vec![(
                "buyers".into(),
                PhaseWorkload {
                    offered: 3600,
                    ok: 3000,
                    degraded: 12,
                    failed: 590,
                    in_flight: 10,
                    success: Some(3000.0 / 3590.0 * 100.0),
                    goodput_rps: 50.0,
                    latency_ms: q(12_345.0),
                },
            )]),
        }];
        let rows = phase_rows(&s);
        assert_eq!(
            rows[0],
            [
                "brownout",
                "90\u{a0}s–150\u{a0}s",
                "buyers",
                "3,600",
                "3,000",
                "12",
                "590",
                "10",
                "83.57%",
                "50.0",
                "1.00",
                "12.3\u{a0}s"
            ]
        );
    }
}
