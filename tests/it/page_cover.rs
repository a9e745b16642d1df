//! What each number on a page covers, and chart text that fits (the review of issue 11:
//! "numbers a page showed without saying what they covered"): the charts' captions say
//! which interval and population each point is, the tables' captions which window, and
//! no chart text runs into another or off the chart.

use super::*;

/// One `<text>` of a chart as drawn: its line (`y`, `dy`), its estimated horizontal
/// extent, and its text. Rotated text (the y axis titles) is left out.
struct Label {
    line: (i64, String),
    x0: f64,
    x1: f64,
    text: String,
}

/// The horizontal text of an SVG that plotters wrote (`<text x=.. y=.. dy=..
/// text-anchor=.. font-size=..>\nTEXT\n</text>`), each `char_w` pixels a character at
/// 12 px. Chromium's sans-serif draws about 5.2 px a character at 12 px: 6.0 leaves a
/// margin for wider fonts.
fn labels(svg: &str, char_w: f64) -> Vec<Label> {
    let attr = |tag: &str, name: &str| -> Option<String> {
        let k = tag.find(&format!(" {name}=\""))? + name.len() + 3;
        Some(tag[k..k + tag[k..].find('"')?].to_string())
    };
    let mut out = Vec::new();
    let mut rest = svg;
    while let Some(k) = rest.find("<text ") {
        let end = k + rest[k..].find('>').unwrap();
        let tag = &rest[k..end];
        let close = end + rest[end..].find("</text>").unwrap();
        let text = rest[end + 1..close]
            .trim()
            .replace("&apos;", "'")
            .replace("&quot;", "\"")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&");
        rest = &rest[close..];
        if tag.contains("transform=") {
            continue;
        }
        let num = |n: &str| attr(tag, n).and_then(|v| v.parse::<f64>().ok()).unwrap();
        let w = text.chars().count() as f64 * char_w * num("font-size") / 12.0;
        let x = num("x");
        let x0 = match attr(tag, "text-anchor").as_deref() {
            Some("middle") => x - w / 2.0,
            Some("end") => x - w,
            _ => x,
        };
        out.push(Label {
            line: (num("y") as i64, attr(tag, "dy").unwrap_or_default()),
            x0,
            x1: x0 + w,
            text,
        });
    }
    out
}

/// Every chart's text stays inside the chart and clear of the text beside it on its line:
/// panel headings of the services chart (autoscaling, adaptive limits, bulkheads), the
/// category labels of a comparison's saga bars.
fn assert_text_fits(file: &str, svg: &str) {
    let width = svg_width(svg);
    let ls = labels(svg, 6.0);
    for (i, a) in ls.iter().enumerate() {
        assert!(a.x0 >= -1.0 && a.x1 <= width + 1.0, "{file}: {:?} runs off the chart", a.text);
        for b in &ls[i + 1..] {
            let gap = b.x0.max(a.x0) - a.x1.min(b.x1);
            assert!(a.line != b.line || gap >= 4.0, "{file}: {:?} runs into {:?}", a.text, b.text);
        }
    }
}

#[test]
fn chart_text_never_overlaps_or_runs_off_the_chart() {
    for name in ["flash-sale", "patterns-guide", "retry-storm-adaptive", "checkout-saga"] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios").join(format!("{name}.json"));
        let spec = load_file(&path, &LoadOptions::default()).unwrap();
        let out = faultline::model::run(&spec).unwrap();
        for c in faultline::charts::run_charts(&spec, &out) {
            assert_text_fits(&format!("{name}/{}", c.file), &c.svg);
        }
    }
    // A comparison's saga bars: "compensation failed" ran into its neighbours.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/order-saga.json");
    let names = ["baseline", "persistent"];
    let opts = |v: &str| LoadOptions { variant: Some(v.into()), seed: Some(1), ..Default::default() };
    let specs: Vec<_> = names.iter().map(|v| load_file(&path, &opts(v)).unwrap()).collect();
    let mut c = faultline::compare::Comparison::new(names.map(String::from).to_vec(), specs.clone(), vec![1]);
    for (v, spec) in specs.iter().enumerate() {
        c.add(v, &faultline::model::run(spec).unwrap());
    }
    let charts = faultline::charts::comparison_charts(&c);
    assert!(charts.iter().any(|c| c.file.starts_with("compare-saga")), "no saga bars");
    for ch in charts {
        assert_text_fits(&ch.file, &ch.svg);
    }
}

#[test]
fn every_chart_says_what_each_point_covers() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/retry-storm-adaptive.json");
    let spec = load_file(&path, &LoadOptions::default()).unwrap();
    let out = faultline::model::run(&spec).unwrap();
    let charts = faultline::charts::run_charts(&spec, &out);
    let caption = |prefix: &str| {
        charts
            .iter()
            .find(|c| c.file.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix} chart"))
            .caption
            .clone()
    };
    // Per interval, which population, the warm-up: the latency and throughput charts.
    let lat = caption("latency-");
    for words in
        ["successful responses that finished in that 1 s interval", "warm-up", "whole measured window"]
    {
        assert!(lat.contains(words), "latency caption lacks {words:?}: {lat}");
    }
    let thr = caption("throughput-");
    for words in ["each 1 s interval", "requests sent in it", "requests that finished in it", "warm-up"] {
        assert!(thr.contains(words), "throughput caption lacks {words:?}: {thr}");
    }
    assert!(caption("retries-").contains("retries when the caller decides to retry (before any backoff)"));
    // The adaptive limit is read at interval ends only: the caption says a dip between
    // two readings does not show, and where its 503s do.
    let svc = caption("services");
    for words in ["read at the end of each interval only", "does not show", "averaged over each interval"] {
        assert!(svc.contains(words), "services caption lacks {words:?}: {svc}");
    }
    let retries = charts.iter().find(|c| c.file.starts_with("retries-")).unwrap();
    assert!(
        retries.svg.contains("\nretries/s\n") && !retries.svg.contains("\nrequests/s\n"),
        "retries axis unit"
    );
}

#[test]
fn every_table_says_which_window_and_population_its_numbers_cover() {
    let html = page_with("checkout-saga", |_| {});
    let caption = |start: &str| {
        let k = html.find(&format!("<caption>{start}")).unwrap_or_else(|| panic!("no {start} table"));
        html[k..k + html[k..].find("</caption>").unwrap()].to_string()
    };
    assert!(caption("Workloads").contains("started in the measured window"));
    let eps = caption("Endpoints");
    assert!(eps.contains("started in the measured window") && eps.contains("abandoned ones"), "{eps}");
    let calls = caption("Calls");
    assert!(calls.contains("started in the measured") && calls.contains("attempts:"), "{calls}");
    assert!(caption("Sagas").contains("latency of completed sagas"));
    assert!(caption("Topics").contains("at any instant of the measured"));
    // A unit in brackets, never a header that wraps into "open" over "s".
    assert!(html.contains(">open (s)</th>") && !html.contains(">open s</th>"));
    // The threshold tiles give the orphans per what, and the lag in messages.
    assert!(html.contains("per 1,000 sagas started"), "orphans per what");
    let k = html.find("<div class=\"tv\">max lag ").expect("a lag tile");
    assert!(html[k..k + html[k..].find("</div>").unwrap()].ends_with(" messages"), "lag unit");
    // A phase named after its faults wraps instead of pushing the numbers out of sight.
    assert!(html.contains("<td>brownout + orders-crash + buyers rate 60/s at 120s</td>"));
    assert!(html.contains("<td class=\"nw\">120\u{a0}s–140\u{a0}s</td>"), "a span that wraps at its dash");
    assert!(html.contains("<dt>orphaned, lag</dt>"));
    // A page with neither sagas nor topics does not define them.
    assert!(!page_with("retry-storm", |_| {}).contains("<dt>orphaned, lag</dt>"));
}

#[test]
fn a_comparison_says_what_its_group_figures_cover_and_which_curves_hide_others() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/order-events.json");
    let names = ["baseline", "per-message-commit"];
    let opts = |v: &str| LoadOptions { variant: Some(v.into()), seed: Some(1), ..Default::default() };
    let specs: Vec<_> = names.iter().map(|v| load_file(&path, &opts(v)).unwrap()).collect();
    let mut c = faultline::compare::Comparison::new(names.map(String::from).to_vec(), specs.clone(), vec![1]);
    for (v, spec) in specs.iter().enumerate() {
        c.add(v, &faultline::model::run(spec).unwrap());
    }
    let dir = out_dir("compare-groups");
    faultline::html::write_compare_report(&dir, &c).unwrap();
    let html = std::fs::read_to_string(dir.join("compare.html")).unwrap();
    // The group tables' p99 and max lag are defined, the saga figures are not (no saga).
    assert!(html.contains("a group&#39;s p99: from publish to the first successful handling"));
    assert!(html.contains("at any instant of the measured window"));
    assert!(!html.contains("orphaned: effects nothing undid, per 1000"));
    // The commit interval does not touch the buyers: their curves are one, and the
    // caption says why only one shows.
    assert!(html.contains("The curves of baseline, per-message-commit are the same"), "coinciding curves");
    let _ = std::fs::remove_dir_all(dir);
}

/// The vertical rules of a chart's load steps (`#3C3C3C`, one pixel, from the plot's
/// bottom to its top) and its plot frames (`#787878` rectangles), in pixels.
fn step_rules(svg: &str) -> (Vec<i64>, Vec<(i64, i64)>) {
    let num = |tag: &str, name: &str| -> i64 {
        let k = tag.find(&format!(" {name}=\"")).unwrap() + name.len() + 3;
        tag[k..k + tag[k..].find('"').unwrap()].parse().unwrap()
    };
    let mut rules = Vec::new();
    let mut frames = Vec::new();
    for line in svg.lines() {
        if line.starts_with("<polyline") && line.contains("stroke=\"#3C3C3C\"") {
            let pts = line.split("points=\"").nth(1).unwrap().split('"').next().unwrap();
            let xy: Vec<(i64, i64)> = pts
                .split_whitespace()
                .map(|p| {
                    let (x, y) = p.split_once(',').unwrap();
                    (x.parse().unwrap(), y.parse().unwrap())
                })
                .collect();
            // The legend's swatch is 16 px tall; a rule spans the plot.
            if xy.len() == 2 && xy[0].0 == xy[1].0 && (xy[0].1 - xy[1].1).abs() > 40 {
                rules.push(xy[0].0);
            }
        } else if line.starts_with("<rect") && line.contains("stroke=\"#787878\"") {
            frames.push((num(line, "x"), num(line, "width")));
        }
    }
    (rules, frames)
}

#[test]
fn load_steps_are_marked_where_they_happen_on_every_time_chart() {
    // flash-sale: 210 s, shoppers at 150/s, 525/s from 60 s, 150/s again from 180 s.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/flash-sale.json");
    let spec = load_file(&path, &LoadOptions::default()).unwrap();
    let out = faultline::model::run(&spec).unwrap();
    let charts = faultline::charts::run_charts(&spec, &out);
    for c in &charts {
        if c.file.starts_with("spectrum-") {
            // Not a time chart: no steps.
            assert!(step_rules(&c.svg).0.is_empty(), "{}: a rule on a chart without time", c.file);
            continue;
        }
        let (rules, frames) = step_rules(&c.svg);
        assert!(!frames.is_empty(), "{}: no plot frame", c.file);
        assert_eq!(rules.len(), 2 * frames.len(), "{}: two steps in every panel", c.file);
        for (k, &(x, w)) in frames.iter().enumerate() {
            for (t, r) in [60.0, 180.0].iter().zip(&rules[2 * k..2 * k + 2]) {
                let want = x as f64 + t / 210.0 * w as f64;
                assert!(
                    (*r as f64 - want).abs() <= 1.5,
                    "{}: the step at {t} s drawn at {r}, not {want}",
                    c.file
                );
            }
        }
        for label in ["shoppers → 525/s", "shoppers → 150/s", "load step: a workload&apos;s rate changes"]
        {
            assert!(c.svg.contains(label), "{}: no {label:?}", c.file);
        }
    }
    // A ramp says so; a step at 0 (the rate the run starts with) or past the end draws
    // nothing.
    let opts = LoadOptions {
        sets: vec![r#"/workload/0/schedule=[{"at": "0s", "rate": 100}, {"at": "90s", "rate": 300, "ramp": "10s"}, {"at": "300s", "rate": 50}]"#.into()],
        ..Default::default()
    };
    let spec = load_file(&path, &opts).unwrap();
    let out = faultline::model::run(&spec).unwrap();
    let lat = faultline::charts::run_charts(&spec, &out)
        .into_iter()
        .find(|c| c.file.starts_with("latency-"))
        .unwrap();
    let (rules, frames) = step_rules(&lat.svg);
    assert_eq!(rules.len(), 1, "only the step at 90 s");
    let want = frames[0].0 as f64 + 90.0 / 210.0 * frames[0].1 as f64;
    assert!((rules[0] as f64 - want).abs() <= 1.5);
    assert!(lat.svg.contains("shoppers → 300/s over 10 s"));
    assert!(!lat.svg.contains("→ 100/s") && !lat.svg.contains("→ 50/s"));
    // A comparison's time charts too.
    let names = ["hpa", "no-autoscale"];
    let opts = |v: &str| LoadOptions { variant: Some(v.into()), seed: Some(1), ..Default::default() };
    let specs: Vec<_> = names.iter().map(|v| load_file(&path, &opts(v)).unwrap()).collect();
    let mut c = faultline::compare::Comparison::new(names.map(String::from).to_vec(), specs.clone(), vec![1]);
    for (v, spec) in specs.iter().enumerate() {
        c.add(v, &faultline::model::run(spec).unwrap());
    }
    let charts = faultline::charts::comparison_charts(&c);
    let timed: Vec<_> = charts.iter().filter(|c| c.file.starts_with("compare-p99")).collect();
    assert!(!timed.is_empty());
    for c in timed {
        assert_eq!(
            step_rules(&c.svg).0.len(),
            2,
            "{}: the steps once, though two variants have them",
            c.file
        );
    }
    // No schedule, no rule and no legend item.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/mmc.json");
    let spec = load_file(&path, &LoadOptions::default()).unwrap();
    let out = faultline::model::run(&spec).unwrap();
    for c in faultline::charts::run_charts(&spec, &out) {
        assert!(step_rules(&c.svg).0.is_empty() && !c.svg.contains("load step"), "{}", c.file);
    }
}

#[test]
fn the_phases_table_names_its_columns_as_the_workloads_table_and_the_glossary_do() {
    let html = page_with("flash-sale", |_| {});
    let table_at = |id: &str| {
        let k = html.find(id).unwrap_or_else(|| panic!("no {id}"));
        let t = k + html[k..].find("<table").unwrap();
        html[t..t + html[t..].find("</thead>").unwrap()].to_string()
    };
    let phases = table_at("id=\"phases\"");
    let workloads = table_at("id=\"tables\"");
    for h in [&phases, &workloads] {
        assert!(h.contains(">in flight<") || h.contains(">in<br>flight<"), "no in flight column: {h}");
    }
    assert!(!html.contains("unfinished"), "a second name for in flight");
    assert!(html.contains("<dt>in flight</dt>") || html.contains(">in flight</"), "the glossary's term");
    // A rate as the scenario gives it, as the phases' names and the charts' steps write it.
    assert!(
        html.contains("Poisson arrivals at 150/s; from 60\u{a0}s 525/s; from 180\u{a0}s 150/s"),
        "the workload's words"
    );
    assert!(html.contains("shoppers rate 525/s at 60s"));
}
