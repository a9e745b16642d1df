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

#[path = "page_cover.rs"]
mod cover;

#[path = "page_tools.rs"]
mod tools;
