//! The pages of `tune` and `sweep` as a new reader meets them: what each figure covers,
//! every mean written to the precision its interval allows, and the tune page's
//! candidates best first under short column names.

use super::*;
use crate::common::{bin, stderr};

/// `mean ± half [unit]` with the half-width to two significant digits and the mean to
/// the same decimal place (or no decimals, when the half-width is 10 or more); `mean ±
/// 0` when every seed measured the same.
fn assert_rounded(cell: &str) {
    let body = cell.trim_end_matches(" ✗");
    let body = body.trim_end_matches(" ms").trim_end_matches('%').trim_end_matches("/s");
    let Some((m, h)) = body.split_once(" ± ") else {
        body.parse::<f64>().unwrap_or_else(|_| panic!("{cell:?}: neither a mean ± half-width nor a number"));
        return;
    };
    let decimals = |s: &str| s.split_once('.').map_or(0, |(_, d)| d.len());
    if h == "0" {
        // Every seed measured the same: the mean as it is, at most four significant digits.
        let digits = m.trim_start_matches(['0', '.']).chars().filter(char::is_ascii_digit).count();
        assert!(digits <= 4, "{cell:?}: an exact figure to more than four digits");
        return;
    }
    assert_eq!(decimals(m), decimals(h), "{cell:?}: the mean and its half-width to different places");
    let digits = h.trim_start_matches(['0', '.']).chars().filter(char::is_ascii_digit).count();
    let half: f64 = h.parse().unwrap();
    let want = if half >= 10.0 { digits >= 2 } else { digits == 2 || decimals(h) == 4 };
    assert!(want, "{cell:?}: the half-width is not to two significant digits");
    m.parse::<f64>().unwrap_or_else(|_| panic!("{cell:?}: the mean is not a number"));
}

/// The cells of every row of the first `<table` after `at`: `(row's class, cells)`; a
/// heading row (`<th colspan`) has the class `grp` and its one heading as cell.
fn body_rows(html: &str, at: &str) -> Vec<(String, Vec<String>)> {
    let k = html.find(at).unwrap_or_else(|| panic!("no {at}"));
    let t = &html[k..];
    let t = &t[t.find("<tbody>").unwrap()..t.find("</tbody>").unwrap()];
    let strip = |s: &str| s[s.find('>').unwrap() + 1..].to_string();
    t.split("<tr")
        .skip(1)
        .map(|r| {
            let class = r.split_once("class=\"").map_or("", |(_, c)| &c[..c.find('"').unwrap()]);
            let class = if r.starts_with(" class=") { class } else { "" };
            let cells =
                r.split("</td>").filter(|c| c.contains("<td")).map(|c| strip(&c[c.find("<td").unwrap()..]));
            let mut cells: Vec<String> = cells.collect();
            if cells.is_empty() {
                cells = r
                    .split("</th>")
                    .filter(|c| c.contains("<th"))
                    .map(|c| strip(&c[c.find("<th").unwrap()..]))
                    .collect();
            }
            (class.to_string(), cells)
        })
        .collect()
}

#[test]
fn the_tune_page_lists_the_candidates_best_first_with_honest_figures() {
    let dir = out_dir("tune-page");
    let _ = std::fs::remove_dir_all(&dir);
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/retry-storm.json");
    let o = bin()
        .arg("tune")
        .arg(&scenario)
        .args(["--param", "/policies/client/timeout=100ms,400ms,800ms"])
        .args(["--param", "/policies/client/retry/budget/percent=5,50"])
        .args([
            "--objective",
            "min p99(users)",
            "--seeds",
            "4",
            "--variant",
            "cancel-on-timeout",
            "--jobs",
            "2",
        ])
        .arg("--out")
        .arg(&dir)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let html = std::fs::read_to_string(dir.join("tune.html")).unwrap();
    // Short column names, the pointer in full on hover (and in the Question).
    assert!(html.contains("<th title=\"/policies/client/timeout\">client/<wbr>timeout</th>"), "short names");
    assert!(html.contains("<th title=\"/policies/client/retry/budget/percent\">budget/<wbr>percent</th>"));
    // What the figures cover, said above them.
    let k = html.find("<h2>Candidates</h2>").unwrap();
    let caption = &html[k..k + html[k..].find("</p>").unwrap()];
    for words in ["measured window", "95% confidence interval", "Student", "✗"] {
        assert!(caption.contains(words), "the candidates' caption lacks {words:?}");
    }
    // Best first, the candidates still racing at the end before those stopped, and a
    // heading between them.
    let all = body_rows(&html, "<table class=\"cands\">");
    // Each candidate's figures, then why it ended there on a row of its own across the
    // table (the table keeps to the page's width).
    let rows: Vec<_> = all.iter().filter(|r| !r.0.ends_with("why")).cloned().collect();
    for (k, r) in all.iter().enumerate().filter(|(_, r)| r.0 != "grp" && !r.0.ends_with("why")) {
        let why = &all[k + 1];
        assert!(why.0.ends_with("why") && why.1.len() == 2 && why.1[1].len() > 10, "{r:?} then {why:?}");
    }
    assert!(html.contains("<th>seeds</th>") || html.contains("<th class=\"n\">seeds</th>"));
    assert!(!html.contains("<th>why</th>"), "why is not a column");
    assert_eq!(rows.len(), 6 + usize::from(rows.iter().any(|r| r.0 == "grp")));
    assert_eq!(rows[0].0, "best", "the answer's row first: {:?}", rows[0]);
    let fate = |r: &(String, Vec<String>)| r.1[3].clone();
    assert_eq!(fate(&rows[0]), "best");
    let out = |r: &(String, Vec<String>)| fate(r).starts_with("stopped") || fate(r).starts_with("ruled out");
    let first_stopped = rows.iter().position(|r| r.0 == "grp" || out(r));
    if let Some(s) = first_stopped {
        assert_eq!(rows[s].0, "grp", "a heading before the stopped candidates");
        assert!(rows[s + 1..].iter().all(|r| out(r) && r.0 == "out"), "{rows:?}");
        assert!(rows[..s].iter().all(|r| !out(r)), "{rows:?}");
        // "stopped" only of a candidate that ran fewer seeds than the race's 4.
        for r in &rows[s + 1..] {
            assert_eq!(fate(r).starts_with("stopped"), r.1[4] != "4", "{r:?}");
        }
        // The heading says "early" only of candidates that ran fewer seeds.
        let seeds: Vec<usize> = rows[s + 1..].iter().map(|r| r.1[4].parse().unwrap()).collect();
        let early = rows[s].1[0].contains("early");
        let all = rows[s].1[0].contains("after all 4 seeds");
        assert!(
            early == seeds.iter().any(|&n| n < 4) && all == seeds.contains(&4),
            "{:?} over {seeds:?}",
            rows[s]
        );
    }
    // Each figure to the precision its interval allows, on one line.
    for r in rows.iter().filter(|r| r.0 != "grp") {
        let seeds: usize = r.1[4].parse().unwrap();
        for cell in &r.1[5..] {
            if seeds > 1 {
                assert_rounded(cell);
            }
        }
    }
    // The answer writes the best's figures as its row does, and says what they are.
    let k = html.find("<h2>Answer</h2>").unwrap();
    let pre = &html[k..k + html[k..].find("</pre>").unwrap()];
    let answer: Vec<&str> = pre
        .lines()
        .filter_map(|l| l.split_once(" (mean ± 95% interval over 4 seeds)"))
        .map(|(l, _)| l.split_once(": ").unwrap().1)
        .collect();
    assert_eq!(answer.len(), rows[0].1.len() - 5, "one line per goal: {pre}");
    for (a, cell) in answer.iter().zip(&rows[0].1[5..]) {
        assert_rounded(a);
        assert_eq!(a, cell, "the answer and the best's row differ");
    }
    // Why each ended there: a difference and its interval to one decimal place.
    let decimals = |s: &str| s.split_once('.').map_or(0, |(_, d)| d.len());
    let mut diffs = 0;
    for (_, cells) in all.iter().filter(|r| r.0.ends_with("why")) {
        let w = cells[1].replace(" ms", "").replace("% ", " ").replace("%,", ",").replace("/s", "");
        for part in w.split(" (95 interval ").collect::<Vec<_>>().windows(2) {
            let x = part[0].rsplit(' ').next().unwrap();
            let mut t = part[1].split(' ');
            let (lo, hi) = (t.next().unwrap(), t.nth(1).unwrap().trim_end_matches(','));
            assert!(
                decimals(x) == decimals(lo) && decimals(lo) == decimals(hi),
                "{:?}: the difference and its interval to different places",
                cells[1]
            );
            diffs += 1;
        }
    }
    assert!(diffs > 0, "no candidate's why gives a difference");
    // The race chart's seeds axis ends at the 4 seeds, with a tick at each rung.
    let race = std::fs::read_to_string(dir.join("tune-race.svg")).unwrap();
    let texts: Vec<&str> = race.lines().collect();
    for t in ["0", "2", "4"] {
        assert!(texts.contains(&t), "no tick {t} on the race's axis");
    }
    assert!(!texts.contains(&"5") && !texts.contains(&"6"), "the race's axis runs past its 4 seeds");
    // Only the `why` column is kept wide; the rungs' last column is a number like the others.
    assert!(!html.contains("td:last-child{min-width"), "a min-width on every table's last column");
    assert!(html.contains("th.n{text-align:right}"), "numeric headings over their numbers");
    assert!(html.contains("<th class=\"n\">stopped here</th>"));
    let md = std::fs::read_to_string(dir.join("tune.md")).unwrap();
    assert!(md.contains("| \\# | client/timeout | budget/percent | fate | seeds |"), "tune.md's header");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_sweep_page_says_what_its_figures_cover_to_the_precision_of_their_interval() {
    let dir = out_dir("sweep-page");
    let _ = std::fs::remove_dir_all(&dir);
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/checkout.json");
    let o = bin()
        .arg("sweep")
        .arg(&scenario)
        .args([
            "--param",
            "/policies/internal/timeout=200ms,800ms",
            "--param",
            "/services/payment/replicas=2,4",
        ])
        .args(["--set", "/duration=30s"])
        .args(["--seeds", "3", "--jobs", "2", "--out"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let html = std::fs::read_to_string(dir.join("sweep.html")).unwrap();
    let k = html.find("<h2>Points</h2>").unwrap();
    let caption = &html[k..k + html[k..].find("</p>").unwrap()];
    for words in ["measured window", "successful responses only", "Student", "feasible:"] {
        assert!(caption.contains(words), "the points' caption lacks {words:?}");
    }
    let rows = body_rows(&html, "<h2>Points</h2>");
    assert_eq!(rows.len(), 4);
    for r in &rows {
        // point, timeout, replicas, then each workload's p99 and goodput.
        for cell in &r.1[3..7] {
            assert_rounded(cell);
        }
    }
    assert!(html.contains("th.n{text-align:right}"));
    assert!(html.contains("<th title=\"/policies/internal/timeout\">internal/timeout</th>"), "short names");
    assert!(html.contains("<th title=\"/services/payment/replicas\">payment/replicas</th>"));
    // The heatmap writes each point's mean in its cell, to four significant digits, and
    // its caption says what a run's p99 covers.
    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("sweep.json")).unwrap()).unwrap();
    let svg = std::fs::read_to_string(dir.join("sweep-p99-0-buyers.svg")).unwrap();
    let texts: Vec<&str> =
        svg.split("</text>").filter_map(|t| t.rsplit_once('>')).map(|t| t.1.trim()).collect();
    for p in j["points"].as_array().unwrap() {
        let mean = p["figures"]["workloads"]["buyers"]["latency_ms.p99"]["mean"].as_f64().unwrap();
        let d = (3 - mean.abs().log10().floor() as i32).clamp(0, 3) as usize;
        let s = format!("{mean:.d$}");
        let s = if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.') } else { &s };
        assert!(texts.contains(&s), "the heatmap lacks {s} (mean {mean}) in its cells: {texts:?}");
    }
    assert!(html.contains("each run&#39;s p99 is of its successful responses over its measured window"));
    let _ = std::fs::remove_dir_all(dir);
}
