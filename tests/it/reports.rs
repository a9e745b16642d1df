//! Charts and reports: the files exist, every SVG is well-formed, the same run gives the
//! same bytes, the charts draw the figures of the series and the summary, the HTML is
//! self-contained and escapes user text, and odd inputs draw without a panic.

use crate::common::spec_with;
use faultline::charts::{VariantRuns, compare_charts, latency_points, run_charts, spectrum_points};
use faultline::compare::Comparison;
use faultline::html::{topology_svg, write_compare_report, write_run_report};
use faultline::metrics::{Scope, Series};
use faultline::model::RunOutput;
use faultline::report::{Summary, summary_json, summary_table};
use faultline::scenario::{LoadOptions, load_file};
use faultline::spec::Spec;
use serde_json::json;
use std::path::{Path, PathBuf};

fn scenario(name: &str, variant: Option<&str>) -> Spec {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios").join(name);
    let opts = LoadOptions { variant: variant.map(String::from), ..Default::default() };
    load_file(&path, &opts).unwrap_or_else(|e| panic!("{name} did not load:\n{e}"))
}

/// Runs a spec. Not `common::run`: its check `attempts >= ended` does not hold for an
/// edge whose breaker refuses calls without an attempt (cascade's breaker variant), and
/// these tests are about the reports, not the model.
fn simulate(spec: &Spec) -> RunOutput {
    let out = faultline::model::run(spec).unwrap_or_else(|e| panic!("run failed: {e}"));
    assert!(out.violations.is_empty(), "{:?}", out.violations);
    out
}

fn fresh_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("faultline-reports-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn write_run(spec: &Spec, out: &RunOutput, tag: &str) -> (PathBuf, Vec<PathBuf>) {
    let dir = fresh_dir(tag);
    let files = write_run_report(&dir, spec, out, &Summary::of(spec, out)).expect("report written");
    (dir, files)
}

// ---- a minimal well-formedness check (no XML crate) -----------------------------------

/// Checks that tags balance and nest, attribute values are quoted, and every `&` starts
/// a known entity. `void` lists HTML elements that have no end tag.
fn check_markup(s: &str, void: &[&str]) -> Result<(), String> {
    let b = s.as_bytes();
    let mut stack: Vec<String> = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'<' => {
                let rest = &s[i..];
                if rest.starts_with("<!--") {
                    i += rest.find("-->").ok_or("unclosed comment")? + 3;
                    continue;
                }
                if rest.starts_with("<!") || rest.starts_with("<?") {
                    i += rest.find('>').ok_or("unclosed declaration")? + 1;
                    continue;
                }
                // Find the end of the tag, skipping quoted attribute values.
                let mut j = i + 1;
                let mut quote = None;
                while j < b.len() {
                    match (quote, b[j]) {
                        (None, b'"') | (None, b'\'') => quote = Some(b[j]),
                        (Some(q), c) if c == q => quote = None,
                        (None, b'>') => break,
                        (None, b'<') => return Err(format!("'<' inside a tag at byte {j}")),
                        _ => {}
                    }
                    j += 1;
                }
                if j >= b.len() {
                    return Err(format!("unterminated tag at byte {i}"));
                }
                let tag = &s[i + 1..j];
                check_entities(tag)?;
                if let Some(name) = tag.strip_prefix('/') {
                    let name = name.trim();
                    match stack.pop() {
                        Some(open) if open == name => {}
                        Some(open) => return Err(format!("</{name}> closes <{open}> at byte {i}")),
                        None => return Err(format!("</{name}> with nothing open at byte {i}")),
                    }
                } else {
                    let name: String =
                        tag.chars().take_while(|c| !c.is_whitespace() && *c != '/' && *c != '>').collect();
                    if name.is_empty() {
                        return Err(format!("empty tag name at byte {i}"));
                    }
                    check_attributes(tag.trim_end_matches('/'), &name)?;
                    if !tag.ends_with('/') && !void.contains(&name.as_str()) {
                        stack.push(name);
                    }
                }
                i = j + 1;
            }
            b'>' => return Err(format!("stray '>' at byte {i}")),
            _ => {
                let next = s[i..].find('<').map(|k| i + k).unwrap_or(b.len());
                check_entities(&s[i..next])?;
                i = next;
            }
        }
    }
    if stack.is_empty() { Ok(()) } else { Err(format!("unclosed: {stack:?}")) }
}

fn check_entities(text: &str) -> Result<(), String> {
    for (k, _) in text.match_indices('&') {
        let rest = &text[k + 1..];
        let end = rest.find(';').ok_or_else(|| format!("bare '&' in {text:?}"))?;
        let ent = &rest[..end];
        let ok = matches!(ent, "amp" | "lt" | "gt" | "quot" | "apos")
            || ent.strip_prefix('#').is_some_and(|d| !d.is_empty() && d.chars().all(|c| c.is_ascii_digit()));
        if !ok {
            return Err(format!("unknown entity &{ent}; in {text:?}"));
        }
    }
    Ok(())
}

/// Every attribute is `name="value"` (or `name='value'`); HTML's bare attributes are
/// not produced by this crate.
fn check_attributes(tag: &str, name: &str) -> Result<(), String> {
    let mut rest = tag[name.len()..].trim_start();
    while !rest.is_empty() {
        let eq = rest.find('=').ok_or_else(|| format!("attribute without value in <{tag}>"))?;
        let attr = rest[..eq].trim();
        if attr.is_empty() || attr.contains(char::is_whitespace) {
            return Err(format!("bad attribute {attr:?} in <{tag}>"));
        }
        let after = &rest[eq + 1..];
        let q = after.chars().next().ok_or("attribute value missing")?;
        if q != '"' && q != '\'' {
            return Err(format!("unquoted attribute value in <{tag}>"));
        }
        let close = after[1..].find(q).ok_or("unterminated attribute value")?;
        rest = after[1 + close + 1..].trim_start();
    }
    Ok(())
}

const HTML_VOID: &[&str] = &["meta", "br", "wbr", "img", "link", "hr", "input"];

/// The `<svg>…</svg>` documents inlined in an HTML page.
fn inline_svgs(html: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(k) = html[from..].find("<svg") {
        let start = from + k;
        let end = html[start..].find("</svg>").map(|e| start + e + 6).expect("closed svg");
        out.push(&html[start..end]);
        from = end;
    }
    out
}

#[test]
fn the_markup_check_catches_what_it_should() {
    assert!(check_markup("<svg><g><text x=\"1\">a &amp; b</text></g></svg>", &[]).is_ok());
    assert!(check_markup("<svg><g></svg>", &[]).is_err());
    assert!(check_markup("<svg><text>a & b</text></svg>", &[]).is_err());
    assert!(check_markup("<svg x=1></svg>", &[]).is_err());
    assert!(check_markup("<svg><text>a</g></svg>", &[]).is_err());
}

// ---- the reports ---------------------------------------------------------------------

#[test]
fn run_report_writes_every_file_and_every_svg_is_well_formed() {
    let spec = scenario("cascade.json", Some("breaker"));
    let out = simulate(&spec);
    let (dir, files) = write_run(&spec, &out, "files");
    let names: Vec<String> =
        files.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
    for expected in [
        "report.html",
        "report.md",
        "topology.svg",
        "latency-searchers.svg",
        "throughput-searchers.svg",
        "spectrum-searchers.svg",
        "latency-recommended.svg",
        "breaker-storefront-recs-get.svg",
        "services.svg",
    ] {
        assert!(names.iter().any(|n| n == expected), "{expected} missing from {names:?}");
    }
    for f in &files {
        assert!(f.exists(), "{} listed but not written", f.display());
        let text = std::fs::read_to_string(f).unwrap();
        if f.extension().is_some_and(|e| e == "svg") {
            assert!(text.starts_with("<svg"), "{} is not an SVG", f.display());
            check_markup(&text, &[]).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        }
    }
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    check_markup(&html, HTML_VOID).unwrap_or_else(|e| panic!("report.html: {e}"));
    let svgs = inline_svgs(&html);
    // The topology and every chart are inline.
    assert_eq!(svgs.len(), names.iter().filter(|n| n.ends_with(".svg")).count());
    for s in svgs {
        check_markup(s, &[]).unwrap();
    }
    // The Markdown links every chart it describes.
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    for n in names.iter().filter(|n| n.ends_with(".svg")) {
        assert!(md.contains(&format!("]({n})")), "report.md does not link {n}");
    }
    assert!(md.contains("| searchers |"), "workload table missing from report.md");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn two_runs_give_identical_report_bytes() {
    let spec = scenario("retry-storm.json", None);
    let (a_dir, a) = write_run(&spec, &simulate(&spec), "det-a");
    let (b_dir, b) = write_run(&spec, &simulate(&spec), "det-b");
    let rel = |d: &Path, v: &[PathBuf]| {
        v.iter().map(|p| p.strip_prefix(d).unwrap().to_path_buf()).collect::<Vec<_>>()
    };
    assert_eq!(rel(&a_dir, &a), rel(&b_dir, &b));
    for (x, y) in a.iter().zip(&b) {
        assert!(
            std::fs::read(x).unwrap() == std::fs::read(y).unwrap(),
            "{} differs between runs",
            x.display()
        );
    }
    let _ = std::fs::remove_dir_all(a_dir);
    let _ = std::fs::remove_dir_all(b_dir);
}

#[test]
fn html_is_self_contained_and_wall_clock_free() {
    let spec = scenario("cascade.json", Some("breaker"));
    let out = simulate(&spec);
    let (dir, _) = write_run(&spec, &out, "self");
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    let stripped = html.replace("http://www.w3.org/2000/svg", "");
    assert!(
        !stripped.contains("http://") && !stripped.contains("https://"),
        "network reference in report.html"
    );
    assert!(!html.contains("<script"), "report.html needs no script");
    assert!(!html.contains("<link"), "report.html must inline its CSS");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_latency_chart_draws_the_series_values() {
    let spec = scenario("cascade.json", Some("breaker"));
    let out = simulate(&spec);
    for wl in &spec.workloads {
        let pts = latency_points(&out.series, &wl.name);
        let col = out.series.column(Scope::Workload, &wl.name, "p99_ms").unwrap();
        assert_eq!(pts.p99.len(), out.series.ends.len());
        let last_drawn = pts.p99.iter().rev().find(|p| p.1.is_finite()).unwrap();
        let (i, last_value) = col.values.iter().enumerate().rev().find(|(_, v)| v.is_finite()).unwrap();
        assert_eq!(last_drawn.1, *last_value, "{}: last p99 drawn", wl.name);
        assert_eq!(last_drawn.0, out.series.ends[i] as f64 / 1e9, "{}: its time", wl.name);
        // Intervals with no completion are gaps, not zeros.
        for (p, v) in
            pts.p50.iter().zip(&out.series.column(Scope::Workload, &wl.name, "p50_ms").unwrap().values)
        {
            assert!(p.1 == *v || (p.1.is_nan() && v.is_nan()));
        }
    }
}

#[test]
fn the_spectrum_draws_the_summary_percentiles() {
    let spec = scenario("cascade.json", Some("breaker"));
    let out = simulate(&spec);
    let summary = summary_json(&spec, &out);
    for (wl, f) in spec.workloads.iter().zip(&out.workloads) {
        let pts = spectrum_points(&f.latency, 4);
        // 20 points per decade of 1/(1-p): 0% at index 0, 99% at index 40.
        assert_eq!(pts.len(), 81);
        let (x, ms) = pts[40];
        assert!((x - 100.0).abs() < 1e-9);
        let p99 = summary["workloads"][&wl.name]["latency_ms"]["p99"].as_f64().unwrap();
        assert!((ms - p99).abs() < 1e-3, "{}: spectrum p99 {ms} vs summary {p99}", wl.name);
        let (_, min) = pts[0];
        assert!(pts.iter().all(|p| p.1 >= min), "a spectrum never goes below its first point");
        assert!(pts.windows(2).all(|w| w[1].1 >= w[0].1), "a spectrum is non-decreasing");
    }
}

#[test]
fn charts_are_listed_in_a_stable_order_with_unique_files() {
    let spec = scenario("checkout-brownout.json", None);
    let out = simulate(&spec);
    let charts = run_charts(&spec, &out);
    let files: Vec<&str> = charts.iter().map(|c| c.file.as_str()).collect();
    let mut sorted = files.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), files.len(), "duplicate file names: {files:?}");
    assert!(files[0].starts_with("latency-"), "{files:?}");
    assert_eq!(*files.last().unwrap(), "services.svg");
    for c in &charts {
        assert!(!c.title.is_empty() && c.caption.ends_with(['?', '.']), "{}: title and caption", c.file);
    }
}

#[test]
fn user_text_is_escaped() {
    let v = json!({
        "name": "esc", "duration": "5s", "seed": 1,
        "description": "a <b>bold</b> & \"quoted\" claim",
        "services": {"api": {"endpoints": {"get": {"latency": {"constant": "1ms"}}}}},
        "workload": [{"name": "users", "target": "api.get", "arrival": {"constant": {"rate": 10}}}]
    });
    let mut spec = spec_with(&v, &LoadOptions::default());
    let out = simulate(&spec);
    spec.services[0].name = "<script>alert(1)</script>".into();
    let (dir, files) = write_run(&spec, &out, "escape");
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(!html.contains("<script"), "unescaped service name");
    assert!(!html.contains("<b>bold</b>"), "unescaped description");
    assert!(html.contains("a &lt;b&gt;bold&lt;/b&gt; &amp; &quot;quoted&quot; claim"));
    check_markup(&html, HTML_VOID).unwrap();
    for f in files.iter().filter(|f| f.extension().is_some_and(|e| e == "svg")) {
        check_markup(&std::fs::read_to_string(f).unwrap(), &[]).unwrap();
    }
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(md.contains("a \\<b\\>bold\\</b\\> & \"quoted\" claim"));
    let _ = std::fs::remove_dir_all(dir);
}

// ---- odd inputs draw without a panic ---------------------------------------------------

fn empty_output(series: Series) -> RunOutput {
    RunOutput {
        window_s: 0.0,
        events: 0,
        workloads: Vec::new(),
        endpoints: Vec::new(),
        edges: Vec::new(),
        breakers: Vec::new(),
        services: Vec::new(),
        sagas: Vec::new(),
        topics: Vec::new(),
        caches: Vec::new(),
        queues: Vec::new(),
        series,
        phases: Vec::new(),
        violations: Vec::new(),
    }
}

#[test]
fn odd_inputs_draw_without_panicking() {
    let spec = scenario("cascade.json", Some("breaker"));
    // Figures that do not match the spec, and no intervals at all.
    let charts = run_charts(&spec, &empty_output(Series::default()));
    assert!(!charts.is_empty());
    for c in &charts {
        check_markup(&c.svg, &[]).unwrap_or_else(|e| panic!("{}: {e}", c.file));
    }
    // Every value missing.
    let mut out = simulate(&spec);
    for c in &mut out.series.columns {
        c.values.iter_mut().for_each(|v| *v = f64::NAN);
    }
    for c in run_charts(&spec, &out) {
        check_markup(&c.svg, &[]).unwrap();
    }
    // Columns shorter than the intervals.
    out.series.columns.iter_mut().for_each(|c| c.values.truncate(3));
    run_charts(&spec, &out);
    // A single interval, shorter than the interval width.
    let v = json!({
        "name": "tiny", "duration": "300ms", "seed": 1,
        "services": {"api": {"endpoints": {"get": {"latency": {"constant": "1ms"}}}}},
        "workload": [{"name": "users", "target": "api.get", "arrival": {"poisson": {"rate": 20}}}]
    });
    let tiny = spec_with(&v, &LoadOptions::default());
    let out = simulate(&tiny);
    assert_eq!(out.series.ends.len(), 1);
    let (dir, _) = write_run(&tiny, &out, "tiny");
    check_markup(&std::fs::read_to_string(dir.join("report.html")).unwrap(), HTML_VOID).unwrap();
    let _ = std::fs::remove_dir_all(dir);
    // A spec with nothing in it.
    let mut bare = tiny.clone();
    bare.workloads.clear();
    bare.services.clear();
    bare.endpoints.clear();
    bare.edges.clear();
    bare.faults.clear();
    bare.duration_ns = 0;
    check_markup(&topology_svg(&bare), &[]).unwrap();
    run_charts(&bare, &empty_output(Series::default()));
    // Comparisons with no variants, or a variant with no runs.
    assert!(compare_charts(&[]).is_empty());
    let none = VariantRuns::new("none".into(), tiny.clone());
    for c in compare_charts(&[none]) {
        check_markup(&c.svg, &[]).unwrap();
    }
}

#[test]
fn compare_report_overlays_every_variant() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/cascade.json");
    let names = ["baseline", "breaker"];
    let specs: Vec<Spec> = names
        .iter()
        .map(|name| {
            let mut spec = scenario("cascade.json", Some(name));
            spec.description = "a <description>".into();
            spec
        })
        .collect();
    let mut c = Comparison::new(names.iter().map(|n| n.to_string()).collect(), specs, vec![1, 2]);
    for (v, name) in names.iter().enumerate() {
        for seed in 1..=2 {
            let opts =
                LoadOptions { variant: Some(name.to_string()), seed: Some(seed), ..Default::default() };
            c.add(v, &simulate(&load_file(&path, &opts).unwrap()));
        }
    }
    let variants = c.variant_runs();
    let dir = fresh_dir("compare");
    let files = write_compare_report(&dir, &c).unwrap();
    let names: Vec<String> =
        files.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
    for expected in
        ["compare.html", "compare.md", "compare-spectrum-searchers.svg", "compare-goodput-searchers.svg"]
    {
        assert!(names.iter().any(|n| n == expected), "{expected} missing from {names:?}");
    }
    let html = std::fs::read_to_string(dir.join("compare.html")).unwrap();
    check_markup(&html, HTML_VOID).unwrap();
    assert!(html.contains("a &lt;description&gt;"));
    for c in compare_charts(variants) {
        check_markup(&c.svg, &[]).unwrap();
        // One legend entry per variant.
        if c.file.starts_with("compare-goodput") {
            assert!(c.svg.contains(">\nbaseline\n<") && c.svg.contains(">\nbreaker\n<"), "{}", c.file);
        }
    }
    let _ = std::fs::remove_dir_all(dir);
}

// ---- sagas and topics ------------------------------------------------------------------

/// A saga that publishes (directly and through the outbox) to a topic with one consumer
/// group, under a broker outage.
fn saga_topic_json() -> serde_json::Value {
    json!({
        "name": "fulfilment", "duration": "20s", "warmup": "2s", "seed": 1,
        "services": {
            "orders": {"replicas": 2, "concurrency": 8, "endpoints": {
                "create": {"latency": {"constant": "2ms"}, "steps": [{"publish": "order-created"}]},
                "cancel": {"latency": {"constant": "1ms"}},
                "confirm": {"latency": {"constant": "1ms"},
                            "steps": [{"publish": "order-created", "outbox": true}]}
            }},
            "payment": {"concurrency": 8, "endpoints": {
                "charge": {"latency": {"exponential": {"mean": "5ms"}}, "declines": {"percent": 10}},
                "refund": {"latency": {"constant": "2ms"}}
            }},
            "shipping": {"replicas": 2, "concurrency": 4, "endpoints": {
                "on_order_created": {"latency": {"constant": "3ms"}}
            }}
        },
        "policies": {"internal": {"timeout": "200ms"}},
        "topics": {"order-created": {"partitions": 3, "subscribers": [
            {"group": "shipping", "endpoint": "shipping.on_order_created", "max_attempts": 3}
        ]}},
        "sagas": {"fulfillment": {"orchestrator": "orders", "policy": "internal", "steps": [
            {"name": "create", "action": "orders.create", "compensation": "orders.cancel"},
            {"name": "charge", "action": "payment.charge", "compensation": "payment.refund", "pivot": true},
            {"name": "confirm", "action": "orders.confirm", "retriable": true}
        ]}},
        "workload": [{"name": "buyers", "target": "saga:fulfillment", "arrival": {"poisson": {"rate": 40}}}],
        "faults": [{"outage": {"target": "topic:order-created", "start": "8s", "duration": "4s"}}]
    })
}

const SAGA_KEYS: [&str; 11] = [
    "started",
    "completed",
    "compensated",
    "compensation_failed",
    "abandoned",
    "in_flight",
    "orphaned",
    "latency_ms",
    "failed_latency_ms",
    "duplicate_effects",
    "latency_ms_by_outcome",
];
const GROUP_KEYS: [&str; 9] = [
    "delivered",
    "redelivered",
    "duplicates",
    "dead_lettered",
    "max_lag",
    "latency_ms",
    "inconsistent",
    "dropped",
    "in_flight",
];

fn keys(v: &serde_json::Value) -> Vec<&str> {
    v.as_object().unwrap_or_else(|| panic!("not an object: {v}")).keys().map(|k| k.as_str()).collect()
}

/// The summary JSON's keys, in the order the README's contract lists them.
#[test]
fn summary_keys_are_the_readme_contract() {
    let spec = scenario("checkout-brownout.json", None);
    let summary = summary_json(&spec, &simulate(&spec));
    assert_eq!(
        keys(&summary),
        [
            "scenario",
            "variant",
            "seed",
            "window_s",
            "events",
            "workloads",
            "endpoints",
            "calls",
            "services",
            "sagas",
            "topics",
            "breakers",
            "thresholds",
            "phases",
            "recovery"
        ]
    );
    let first = |section: &str| summary[section].as_object().unwrap().values().next().unwrap().clone();
    let w = first("workloads");
    assert_eq!(
        keys(&w),
        [
            "offered",
            "ok",
            "degraded",
            "failed",
            "in_flight",
            "goodput_rps",
            "latency_ms",
            "failed_latency_ms"
        ]
    );
    assert_eq!(keys(&w["latency_ms"]), ["mean", "p50", "p90", "p99", "p999", "max"]);
    assert_eq!(
        keys(&w["failed"]),
        [
            "timeout",
            "rejected",
            "unavailable",
            "circuit_open",
            "bulkhead_full",
            "error",
            "declined",
            "rate_limited"
        ]
    );
    assert_eq!(
        keys(&first("endpoints")),
        [
            "requests",
            "ok",
            "degraded",
            "failed",
            "latency_ms",
            "failed_latency_ms",
            "utilization",
            "queue_max",
            "abandoned"
        ]
    );
    let c = first("calls");
    assert_eq!(
        keys(&c),
        [
            "calls",
            "attempts",
            "retries",
            "hedges",
            "ok",
            "degraded",
            "failed",
            "latency_ms",
            "failed_latency_ms",
            "breaker"
        ]
    );
    assert_eq!(keys(&c["breaker"]), ["opened", "open_s"]);
    assert_eq!(keys(&first("services")), ["replicas", "utilization", "queue_max"]);
    let phase = &summary["phases"][0];
    assert_eq!(keys(phase), ["name", "from_s", "to_s", "workloads"]);
    assert_eq!(
        keys(phase["workloads"].as_object().unwrap().values().next().unwrap()),
        ["offered", "ok", "degraded", "failed", "in_flight", "success", "goodput_rps", "latency_ms"]
    );
    assert_eq!(keys(&summary["recovery"][0]), ["fault", "end_s", "workloads"]);
}

/// The contract's keys come first, in its order, the extensions after.
fn assert_saga_topic_sections(summary: &serde_json::Value) {
    assert_eq!(keys(&summary["sagas"]), ["fulfillment"]);
    let saga = &summary["sagas"]["fulfillment"];
    assert_eq!(keys(saga), SAGA_KEYS);
    assert_eq!(
        keys(&saga["latency_ms_by_outcome"]),
        ["completed", "compensated", "compensation_failed", "abandoned"]
    );
    let n = |v: &serde_json::Value| v.as_u64().unwrap_or_else(|| panic!("not a count: {v}"));
    let outcomes: u64 = SAGA_KEYS[1..6].iter().map(|k| n(&saga[k])).sum();
    assert_eq!(outcomes, n(&saga["started"]), "saga outcomes add up to the sagas started");
    assert_eq!(keys(&summary["topics"]), ["order-created"]);
    let topic = &summary["topics"]["order-created"];
    assert_eq!(keys(topic), ["published", "publish_failed", "groups"]);
    assert_eq!(keys(&topic["groups"]), ["shipping"]);
    assert_eq!(keys(&topic["groups"]["shipping"]), GROUP_KEYS);
}

/// Every SVG of a report is well-formed, the HTML too, and the Markdown links each chart.
fn assert_report_well_formed(dir: &Path, files: &[PathBuf]) {
    for f in files.iter().filter(|f| f.extension().is_some_and(|e| e == "svg")) {
        let text = std::fs::read_to_string(f).unwrap();
        assert!(text.starts_with("<svg"), "{} is not an SVG", f.display());
        check_markup(&text, &[]).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
    }
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    check_markup(&html, HTML_VOID).unwrap_or_else(|e| panic!("report.html: {e}"));
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    for f in files.iter().filter(|f| f.extension().is_some_and(|e| e == "svg")) {
        let n = f.file_name().unwrap().to_string_lossy();
        if n != "topology.svg" {
            assert!(md.contains(&format!("]({n})")), "report.md does not link {n}");
        }
    }
}

/// Figures and series made up for the saga and the topic of `saga_topic_json`, so that
/// the reports can be checked before (and independently of) the model that measures
/// them.
fn made_up_saga_topic_output(spec: &Spec, mut out: RunOutput) -> RunOutput {
    assert_eq!((spec.sagas.len(), spec.topics.len()), (1, 1));
    out.sagas = vec![Default::default()];
    let s = &mut out.sagas[0];
    (s.started, s.completed, s.compensated, s.compensation_failed, s.abandoned, s.in_flight) =
        (700, 600, 80, 7, 3, 10);
    (s.orphaned, s.duplicate_effects) = (5, 2);
    for k in 0..690u64 {
        let outcome = if k < 600 {
            0
        } else if k < 680 {
            1
        } else if k < 687 {
            2
        } else {
            3
        };
        let ns = 10_000_000 + k * 100_000;
        if outcome == 0 {
            s.latency.record(ns);
        } else {
            s.failed_latency.record(ns);
        }
        s.latency_by_outcome[outcome].record(ns);
    }
    out.topics = vec![Default::default()];
    let t = &mut out.topics[0];
    (t.published, t.publish_failed) = (1200, 40);
    t.groups = vec![Default::default()];
    let g = &mut t.groups[0];
    (g.delivered, g.redelivered, g.duplicates, g.inconsistent) = (1150, 30, 12, 12);
    (g.dead_lettered, g.dropped, g.max_lag, g.in_flight) = (4, 0, 160, 20);
    for k in 0..1150u64 {
        g.latency.record(3_000_000 + k * 10_000);
    }
    // The columns the model adds (after the others, in its order), or new values for
    // them once it does.
    let n = out.series.ends.len();
    let wave = |k: usize, i: usize| ((i * 7 + k * 3) % 11) as f64;
    let mut add = |scope, name: &str, metric: &str, f: &dyn Fn(usize) -> f64| {
        let series = &mut out.series;
        let c = match series
            .columns
            .iter()
            .position(|c| c.scope == scope && c.name == name && c.metric == metric)
        {
            Some(c) => c,
            None => series.add_column(scope, name, metric),
        };
        series.columns[c].values = (0..n).map(f).collect();
    };
    for (k, m) in ["started", "completed", "compensated", "compensation_failed", "abandoned", "in_flight"]
        .into_iter()
        .enumerate()
    {
        add(Scope::Saga, "fulfillment", m, &|i| wave(k, i) * if k == 1 { 4.0 } else { 1.0 });
    }
    for (k, m) in ["published", "publish_failed"].into_iter().enumerate() {
        add(Scope::Topic, "order-created", m, &|i| wave(k, i) * 5.0);
    }
    for (k, m) in ["delivered", "redelivered", "dead_lettered", "lag"].into_iter().enumerate() {
        add(Scope::Topic, "order-created/shipping", m, &|i| if i % 13 == 5 { f64::NAN } else { wave(k, i) });
    }
    out
}

#[test]
fn saga_and_topic_reports_from_made_up_figures() {
    let spec = spec_with(&saga_topic_json(), &LoadOptions::default());
    let out = made_up_saga_topic_output(&spec, simulate(&spec));
    let summary = summary_json(&spec, &out);
    assert_saga_topic_sections(&summary);
    let saga = &summary["sagas"]["fulfillment"];
    assert_eq!((saga["started"].as_u64(), saga["orphaned"].as_u64()), (Some(700), Some(5)));
    assert_eq!(saga["duplicate_effects"].as_u64(), Some(2));
    assert!(saga["latency_ms"]["p99"].as_f64().is_some());
    assert!(saga["latency_ms_by_outcome"]["abandoned"]["max"].as_f64().is_some());
    let g = &summary["topics"]["order-created"]["groups"]["shipping"];
    assert_eq!((g["delivered"].as_u64(), g["max_lag"].as_u64()), (Some(1150), Some(160)));
    assert_eq!(summary["topics"]["order-created"]["publish_failed"].as_u64(), Some(40));

    let table = summary_table(&Summary::of(&spec, &out));
    // Completed over the sagas that ended (600 of 690; 10 in flight).
    assert!(table.contains("fulfillment") && table.contains("86.96%"), "{table}");
    assert!(table.contains("order-created/shipping") && table.contains("1200 (40 failed)"), "{table}");

    let charts = run_charts(&spec, &out);
    let files: Vec<&str> = charts.iter().map(|c| c.file.as_str()).collect();
    let saga_at = files.iter().position(|f| *f == "saga-fulfillment.svg").expect("saga chart");
    let lag_at = files.iter().position(|f| *f == "lag-order-created-shipping.svg").expect("lag chart");
    assert!(saga_at < lag_at && lag_at + 1 == files.len() - 1, "{files:?}");
    for c in &charts[saga_at..=lag_at] {
        check_markup(&c.svg, &[]).unwrap_or_else(|e| panic!("{}: {e}", c.file));
        // A question, then what each point covers and how it is sampled.
        assert!(c.caption.contains("? "), "{}", c.file);
        assert!(c.caption.contains("interval"), "{}: the caption names no interval", c.file);
        // The outage is shaded and labelled like any other fault.
        assert!(c.svg.contains("outage"), "{}: no outage window", c.file);
    }
    let saga_svg = &charts[saga_at].svg;
    for label in ["completed", "compensated", "compensation failed", "abandoned", "in flight"] {
        assert!(saga_svg.contains(label), "saga chart lacks {label}");
    }
    assert!(charts[lag_at].svg.contains("delivered/s"));

    let (dir, files) = write_run(&spec, &out, "saga-topic");
    assert_report_well_formed(&dir, &files);
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(html.contains("<caption>Sagas") && html.contains("<caption>Topics"));
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(md.contains("| fulfillment | 700 | 600 | 85.71% |"), "saga row missing from report.md");
    assert!(
        md.contains("| order-created/shipping | 1,200 | 40 | 1,150 |"),
        "group row missing from report.md"
    );
    let topo = std::fs::read_to_string(dir.join("topology.svg")).unwrap();
    // orders publishes both directly (create) and through its outbox (confirm).
    for text in [">order-created<", "topic · 3 partitions", ">publish, outbox<", ">shipping<"] {
        assert!(topo.contains(text), "topology lacks {text}");
    }
    // Arrow labels have two lines: the endpoint (or saga), then the policy or the saga.
    assert!(
        topo.contains(">saga fulfillment<") && topo.contains(">internal"),
        "the saga workload points at its orchestrator"
    );
    assert!(
        topo.contains(">charge</text>") && topo.contains(">saga fulfillment<"),
        "saga calls are labelled"
    );
    assert!(topo.contains(">refund</text>") && topo.contains(">saga fulfillment, undo<"));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn sagas_and_topics_without_figures_read_as_zeros() {
    // Before the model measures them (or with figures that do not match the spec).
    let spec = spec_with(&saga_topic_json(), &LoadOptions::default());
    let mut out = simulate(&spec);
    out.sagas.clear();
    out.topics.clear();
    let summary = summary_json(&spec, &out);
    assert_saga_topic_sections(&summary);
    assert_eq!(summary["sagas"]["fulfillment"]["started"].as_u64(), Some(0));
    assert_eq!(summary["sagas"]["fulfillment"]["latency_ms"], json!({}));
    summary_table(&Summary::of(&spec, &out));
    let (dir, files) = write_run(&spec, &out, "saga-topic-zeros");
    assert_report_well_formed(&dir, &files);
    let _ = std::fs::remove_dir_all(dir);
    // Scenarios without sagas or topics keep empty sections.
    let plain = scenario("cascade.json", None);
    let summary = summary_json(&plain, &simulate(&plain));
    assert_eq!((&summary["sagas"], &summary["topics"]), (&json!({}), &json!({})));
}

#[test]
fn saga_and_topic_sections_in_summary_json() {
    let spec = spec_with(&saga_topic_json(), &LoadOptions::default());
    let out = simulate(&spec);
    assert_eq!((out.sagas.len(), out.topics.len()), (1, 1), "the model measures sagas and topics");
    let summary = summary_json(&spec, &out);
    assert_saga_topic_sections(&summary);
    let saga = &summary["sagas"]["fulfillment"];
    assert!(saga["started"].as_u64().unwrap() > 0 && saga["completed"].as_u64().unwrap() > 0);
    let topic = &summary["topics"]["order-created"];
    assert!(topic["published"].as_u64().unwrap() > 0);
    assert!(topic["groups"]["shipping"]["delivered"].as_u64().unwrap() > 0);
}

#[test]
fn saga_and_lag_charts_are_written_and_well_formed() {
    let spec = spec_with(&saga_topic_json(), &LoadOptions::default());
    let out = simulate(&spec);
    for (scope, name, metric) in [
        (Scope::Saga, "fulfillment", "in_flight"),
        (Scope::Topic, "order-created", "published"),
        (Scope::Topic, "order-created/shipping", "lag"),
    ] {
        assert!(out.series.column(scope, name, metric).is_some(), "no {name} {metric} series");
    }
    let (dir, files) = write_run(&spec, &out, "saga-topic-model");
    let names: Vec<String> =
        files.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
    for expected in ["saga-fulfillment.svg", "lag-order-created-shipping.svg", "report.html", "report.md"] {
        assert!(names.iter().any(|n| n == expected), "{expected} missing from {names:?}");
    }
    assert_report_well_formed(&dir, &files);
    // The same run gives the same bytes.
    let (dir2, files2) = write_run(&spec, &simulate(&spec), "saga-topic-model-2");
    for (a, b) in files.iter().zip(&files2) {
        assert!(std::fs::read(a).unwrap() == std::fs::read(b).unwrap(), "{} differs", a.display());
    }
    let _ = std::fs::remove_dir_all(dir);
    let _ = std::fs::remove_dir_all(dir2);
}

#[test]
fn compare_adds_saga_and_group_tables() {
    use faultline::compare::to_json;
    use faultline::html::{compare_tables_html as render_html, compare_tables_md as render_markdown};
    use faultline::report::compare_table as render_text;
    let spec = spec_with(&saga_topic_json(), &LoadOptions::default());
    let runs: Vec<Vec<RunOutput>> = (0..2)
        .map(|v| {
            (0..2)
                .map(|seed| {
                    let mut out = made_up_saga_topic_output(&spec, simulate(&spec));
                    // The second variant completes 50 more sagas and orphans none.
                    out.sagas[0].completed += 50 * v;
                    out.sagas[0].compensated -= 50 * v;
                    out.sagas[0].orphaned = if v == 0 { 5 + seed } else { 0 };
                    out
                })
                .collect()
        })
        .collect();
    let comparison = |specs: Vec<Spec>| {
        let mut c = Comparison::new(vec!["base".into(), "better".into()], specs, vec![1, 2]);
        for (v, outs) in runs.iter().enumerate() {
            for out in outs {
                c.add(v, out);
            }
        }
        c
    };
    let c = comparison(vec![spec.clone(), spec.clone()]);
    let text = render_text(&c);
    let (w, s, g) = (
        text.find("workload buyers").expect("workload table"),
        text.find("saga fulfillment").expect("saga table"),
        text.find("consumer group order-created/shipping").expect("group table"),
    );
    assert!(w < s && s < g, "{text}");
    assert!(text.contains("completed (%)") && text.contains("85.71") && text.contains("92.86"), "{text}");
    assert!(text.contains("orphaned (per 1000 sagas)") && text.contains("max lag (messages)"), "{text}");
    let md = render_markdown(&c);
    assert!(md.contains("**saga fulfillment**") && md.contains("**consumer group order-created/shipping**"));
    let html = render_html(&c);
    check_markup(&html, HTML_VOID).unwrap();
    assert!(html.contains("<h3>saga fulfillment</h3>"));
    let j = to_json(&c);
    assert_eq!(
        keys(&j),
        [
            "scenario",
            "seeds",
            "variants",
            "baseline",
            "attribution",
            "changes",
            "thresholds",
            "verdict",
            "workloads",
            "sagas",
            "topics"
        ]
    );
    let completed = &j["sagas"]["fulfillment"]["better"]["completed"];
    assert_eq!(completed["unit"], "%");
    assert!((completed["diff_mean"].as_f64().unwrap() - 100.0 * 50.0 / 700.0).abs() < 1e-4);
    let group = &j["topics"]["order-created"]["groups"]["shipping"]["base"];
    assert_eq!(keys(group), ["delivered", "duplicates", "dead-lettered", "max lag", "p99"]);
    assert_eq!(group["max lag"]["mean"].as_f64(), Some(160.0));
    // 5 and 6 orphaned effects in 700 sagas, then none.
    let orphaned = &j["sagas"]["fulfillment"]["better"]["orphaned"];
    assert!((orphaned["diff_mean"].as_f64().unwrap() + 1000.0 * 5.5 / 700.0).abs() < 1e-4, "{orphaned}");
    // A variant without the saga reads as missing, not as a panic.
    let mut without = spec.clone();
    without.sagas.clear();
    without.topics.clear();
    let c = comparison(vec![spec.clone(), without]);
    let j = to_json(&c);
    assert!(j["sagas"]["fulfillment"]["better"]["completed"]["mean"].is_null());
    render_text(&c);
}
