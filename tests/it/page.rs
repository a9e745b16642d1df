//! The run page as a reviewer reads it (issue 11): the verdict first, every table in a
//! box that wraps or scrolls, a topology whose text stays at least 11 px because it
//! wraps into bands instead of shrinking, the replay command and version on the page,
//! and every number rounded once.

use crate::common::*;
use faultline::html::run_report_files;
use faultline::report::Summary;
use faultline::report::summary::{Latency, Quantiles, ThresholdVerdict};
use faultline::scenario::{LoadOptions, load_file};
use std::path::{Path, PathBuf};

fn out_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("faultline-page-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// `faultline run scenarios/NAME.json --out DIR`, as a user would; returns the page.
fn page_of(name: &str) -> (PathBuf, String) {
    let dir = out_dir(name);
    let o = bin().arg("run").arg(format!("scenarios/{name}.json")).arg("--out").arg(&dir).output().unwrap();
    assert!(o.status.success() || o.status.code() == Some(3), "{name}: {}", stderr(&o));
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    (dir, html)
}

/// The page of a run of `name` made through the library, with `edit` applied to its
/// [`Summary`] first.
fn page_with(name: &str, edit: impl FnOnce(&mut Summary)) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios").join(format!("{name}.json"));
    let spec = load_file(&path, &LoadOptions::default()).unwrap();
    let out = faultline::model::run(&spec).unwrap();
    let mut s = Summary::of(&spec, &out);
    edit(&mut s);
    run_report_files(&spec, &out, &s).into_iter().find(|(f, _)| f == "report.html").unwrap().1
}

/// Whether the `<table` at byte `at` sits inside a `<div class="scroll…">`: the divs
/// opened and not closed before it, innermost last.
fn in_scroll_box(html: &str, at: usize) -> bool {
    let mut open: Vec<bool> = Vec::new();
    let before = &html[..at];
    let mut i = 0;
    while let Some(k) = before[i..]
        .find("<div")
        .map(|k| k + i)
        .into_iter()
        .chain(before[i..].find("</div>").map(|k| k + i))
        .min()
    {
        if before[k..].starts_with("</div>") {
            open.pop();
            i = k + 6;
        } else {
            let end = before[k..].find('>').map(|e| k + e).unwrap_or(before.len());
            let tag = &before[k..end];
            open.push(tag.contains("class=\"scroll"));
            i = end;
        }
    }
    open.iter().any(|s| *s)
}

fn font_sizes(svg: &str) -> Vec<f64> {
    svg.split("font-size=\"").skip(1).filter_map(|r| r.split('"').next()?.parse().ok()).collect()
}

fn svg_width(svg: &str) -> f64 {
    svg.split("width=\"").nth(1).and_then(|r| r.split('"').next()).and_then(|w| w.parse().ok()).unwrap()
}

#[test]
fn the_verdict_comes_first_and_says_what_to_do_without_thresholds() {
    let (dir, html) = page_of("checkout-brownout");
    let verdict = html.find("id=\"verdict\"").expect("the page has a verdict section");
    for later in ["id=\"reproduce\"", "id=\"topology\"", "id=\"tables\"", "id=\"charts\""] {
        let at = html.find(later).unwrap_or_else(|| panic!("no {later}"));
        assert!(verdict < at, "the verdict must come before {later}");
    }
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();
    if summary.get("thresholds").is_none() {
        assert!(html.contains("No thresholds declared: add &quot;thresholds&quot; to the scenario"));
    } else {
        assert!(html.contains("class=\"verdict pass\"") || html.contains("class=\"verdict fail\""));
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_failing_threshold_is_named_in_the_verdict_and_its_tile() {
    let html = page_with("mmc", |s| {
        s.thresholds = vec![
            ThresholdVerdict {
                scope: "load".into(),
                expression: "p99 < 5ms".into(),
                value: Some(6.9),
                pass: false,
            },
            ThresholdVerdict {
                scope: "load".into(),
                expression: "success >= 99.5%".into(),
                value: Some(100.0),
                pass: true,
            },
        ];
    });
    assert!(html.contains("class=\"verdict fail\""));
    assert!(
        html.contains("Fail: 1 of 2 thresholds fail: load p99 &lt; 5ms (measured 6.90\u{a0}ms)."),
        "{html}"
    );
    assert!(html.contains("FAIL · measured 6.90\u{a0}ms"));
}

#[test]
fn every_table_sits_in_a_box_that_scrolls_or_wraps() {
    for name in ["checkout-saga", "order-events", "retry-storm"] {
        let (dir, html) = page_of(name);
        let tables: Vec<usize> = html.match_indices("<table").map(|(i, _)| i).collect();
        assert!(tables.len() >= 3, "{name}: tables expected");
        for at in tables {
            assert!(in_scroll_box(&html, at), "{name}: a table outside a scrolling box at byte {at}");
        }
        // The box scrolls on screen and lets go in print, where everything wraps.
        assert!(html.contains(".scroll{overflow-x:auto"));
        assert!(html.contains("@media print{") && html.contains(".scroll{overflow:visible}"));
        let _ = std::fs::remove_dir_all(dir);
    }
    // The check itself catches a bare table.
    let at = |h: &str| in_scroll_box(h, h.find("<table").unwrap());
    assert!(!at("<div class=\"x\"></div><table>"));
    assert!(at("<div class=\"scroll\">\n<table>"));
    assert!(!at("<div class=\"scroll\"></div><table>"));
    assert!(at("<div class=\"scroll\"><div class=\"x\"></div>\n<table>"));
}

#[test]
fn the_topology_keeps_its_text_at_11_px_by_wrapping_into_bands() {
    for name in ["checkout-saga", "checkout-brownout", "order-saga", "mmc"] {
        let (dir, html) = page_of(name);
        let svg = std::fs::read_to_string(dir.join("topology.svg")).unwrap();
        let sizes = font_sizes(&svg);
        assert!(!sizes.is_empty());
        let min = sizes.iter().copied().fold(f64::INFINITY, f64::min);
        assert!(min >= 11.0, "{name}: topology text at {min} px");
        // Shown at its own size (never scaled down to the column) and no wider than the
        // page's column, so its text is the size written.
        assert!(html.contains("<div class=\"scroll topo\">") && html.contains(".topo svg{max-width:none"));
        let w = svg_width(&svg);
        assert!(w <= 1180.0, "{name}: topology {w} px wide; it should wrap into bands");
        // A legend says what the shapes mean.
        assert!(html.contains("class=\"legend\""));
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[test]
fn sagas_are_drawn_as_ordered_steps_with_pivot_and_compensations() {
    let (dir, html) = page_of("checkout-saga");
    let saga = &html[html.find("<ol class=\"saga\">").expect("saga steps")..];
    let saga = &saga[..saga.find("</ol>").unwrap()];
    let steps: Vec<&str> = saga.split("<li").skip(1).collect();
    assert!(steps.len() >= 3);
    assert_eq!(steps.iter().filter(|s| s.contains("class=\"step pivot\"")).count(), 1, "one pivot");
    assert!(saga.contains("undo: "), "compensations shown");
    for (i, s) in steps.iter().enumerate() {
        assert!(s.contains(&format!("<span class=\"sn\">{}. ", i + 1)), "steps numbered in order");
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_page_tells_how_to_reproduce_it() {
    let (dir, html) = page_of("checkout-brownout");
    assert!(html.contains("<code class=\"cmd\">faultline run scenarios/checkout-brownout.json --seed "));
    assert!(html.contains(&format!("faultline {}", env!("CARGO_PKG_VERSION"))));
    assert!(html.contains("scenario file <code>scenarios/checkout-brownout.json</code>"));
    for f in ["summary.json", "timeseries.csv"] {
        assert!(html.contains(&format!("<a href=\"{f}\">{f}</a>")), "no link to {f}");
        assert!(dir.join(f).is_file(), "{f} is not beside the page");
    }
    // The policies and faults of the run, in words.
    assert!(html.contains("circuit breaker: opens at "), "the breaker in words");
    assert!(html.contains("delay payment +700\u{a0}ms"), "the brownout in words");
    assert!(html.contains("id=\"glossary\""));
    // The variants it could have run, and how to compare them.
    assert!(html.contains("the scenario also defines baseline, no-breaker"), "the variants are named");
    let _ = std::fs::remove_dir_all(dir);
}

/// The cells of the HTML table row whose first cell is `name`.
fn row_cells(html: &str, caption: &str, name: &str) -> Vec<String> {
    let t = &html[html.find(&format!("<caption>{caption}")).unwrap()..];
    let t = &t[..t.find("</table>").unwrap()];
    let row = t.split("<tr>").find(|r| r.contains(&format!(">{name}</span>"))).unwrap();
    row.split("<td")
        .skip(1)
        .map(|c| c[c.find('>').unwrap() + 1..c.find("</td>").unwrap()].to_string())
        .collect()
}

#[test]
fn numbers_are_rounded_once_from_the_exact_value() {
    // 1.7449 ms: the JSON writes 1.745; rounding that again would show 1.75.
    let q = Quantiles { mean: 1.7449, p50: 1.2, p90: 2.5, p99: 12_345.6, p999: 9_999.4, max: 20_000.0 };
    let html = page_with("mmc", |s| {
        let w = &mut s.workloads.0[0].1;
        w.latency_ms = Latency(Some(q));
        assert_eq!(serde_json::to_value(w.latency_ms).unwrap()["mean"], 1.745);
    });
    let cells = row_cells(&html, "Workloads", "load");
    let n = cells.len();
    assert_eq!(&cells[n - 6..], ["1.74", "1.20", "2.50", "12.3\u{a0}s", "9,999", "20.0\u{a0}s"], "{cells:?}");
    // Counts have thousands separators; negatives are never written with a hyphen.
    assert!(cells[1].contains(','), "offered {} is grouped", cells[1]);
    let hyphen_number =
        html.match_indices(">-").any(|(i, _)| html[i + 2..].starts_with(|c: char| c.is_ascii_digit()));
    assert!(!hyphen_number, "a hyphen-minus where a minus sign belongs");
}

#[test]
fn the_cli_table_and_the_page_agree_on_every_latency() {
    let (dir, html) = page_of("mmc");
    let o = bin().arg("run").arg("scenarios/mmc.json").output().unwrap();
    let text = stdout(&o);
    let line = text.lines().find(|l| l.starts_with("load ")).expect("the workload's line");
    let cells = row_cells(&html, "Workloads", "load");
    // mean, p50, p99 of the text table appear, as printed, among the page's cells.
    let numbers: Vec<&str> =
        line.split_whitespace().filter(|w| w.contains('.') && !w.ends_with('%')).collect();
    for v in numbers {
        assert!(
            cells.iter().any(|c| c.replace(',', "") == v),
            "{v} of the CLI table not on the page: {cells:?}"
        );
    }
    let _ = std::fs::remove_dir_all(dir);
}

// ---- what each number covers (the review of issue 11: "numbers a page showed without
// saying what they covered") ----------------------------------------------------------

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
