//! `faultline compare`'s verdicts: the paired interval against its closed form, the
//! significance mark, the winner per figure, the attribution of retries, hedges and
//! breaker time to the workloads whose requests traverse the edge, and the variants'
//! overrides in words.

use faultline::compare::reach::{edges_of_policy, reachable_edges};
use faultline::compare::words::{override_words, variant_overrides};
use faultline::compare::{
    Better, Comparison, Figure, Verdict, delta_cell, headlines, paired, t975, to_json, winner_of,
};
use faultline::model::RunOutput;
use faultline::scenario::{LoadOptions, load_file, load_str};
use faultline::spec::Spec;
use serde_json::json;
use std::path::Path;

fn scenario(name: &str, variant: Option<&str>, sets: &[&str]) -> Spec {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios").join(name);
    let opts = LoadOptions {
        variant: variant.map(String::from),
        sets: sets.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    };
    load_file(&path, &opts).unwrap_or_else(|e| panic!("{name} did not load:\n{e}"))
}

fn simulate(spec: &Spec) -> RunOutput {
    faultline::model::run(spec).unwrap_or_else(|e| panic!("run failed: {e}"))
}

fn fig(better: Better, per_seed: &[f64]) -> Figure {
    Figure { name: "x", unit: "ms", better, per_seed: per_seed.to_vec() }
}

// ---- the paired interval -----------------------------------------------------------

#[test]
fn the_paired_interval_is_the_t_interval_of_the_differences() {
    // Differences 2, 3, 2, 1, 4: mean 2.4, sample variance 5.2/4 = 1.3, standard error
    // sqrt(1.3/5), t(0.975, 4) = 2.776.
    let a = [10.0, 12.0, 11.0, 13.0, 14.0];
    let b = [12.0, 15.0, 13.0, 14.0, 18.0];
    let p = paired(&a, &b);
    let hw = 2.776 * (1.3f64 / 5.0).sqrt();
    assert_eq!(p.n, 5);
    assert!((p.mean - 2.4).abs() < 1e-12, "{p:?}");
    assert!((p.lo - (2.4 - hw)).abs() < 1e-9 && (p.hi - (2.4 + hw)).abs() < 1e-9, "{p:?}");
    assert_eq!(p.verdict, Verdict::Significant);
    // Pairing matters: the same values unpaired (b shuffled) give another interval.
    let shuffled = [18.0, 14.0, 13.0, 15.0, 12.0];
    assert!((paired(&a, &shuffled).half_width() - hw).abs() > 0.5);
    // The other direction is the mirror image.
    let q = paired(&b, &a);
    assert!((q.mean + 2.4).abs() < 1e-12 && (q.hi + p.lo).abs() < 1e-9);
    // A seed either side could not measure is left out of both: n = 4, t(3).
    let p = paired(&[10.0, 12.0, f64::NAN, 13.0, 14.0], &b);
    assert_eq!(p.n, 4);
    let d = [2.0, 3.0, 1.0, 4.0];
    let var = d.iter().map(|x| (x - 2.5f64).powi(2)).sum::<f64>() / 3.0;
    assert!((p.half_width() - t975(3) * (var / 4.0).sqrt()).abs() < 1e-9);
}

#[test]
fn an_interval_that_crosses_zero_is_no_difference() {
    // Differences 1, −1, 2, −2, 0.5: mean 0.1, well inside its interval.
    let a = [10.0, 10.0, 10.0, 10.0, 10.0];
    let b = [11.0, 9.0, 12.0, 8.0, 10.5];
    let p = paired(&a, &b);
    assert!(p.lo < 0.0 && p.hi > 0.0, "{p:?}");
    assert_eq!(p.verdict, Verdict::NoDifference);
    let (cell, _) = delta_cell(&a, &b, "ms");
    assert!(cell.starts_with("no difference ("), "{cell}");
    // A small difference that every seed agrees on is significant.
    let b = [10.1, 10.2, 10.1, 10.15, 10.1];
    assert_eq!(paired(&a, &b).verdict, Verdict::Significant);
    let (cell, _) = delta_cell(&a, &b, "ms");
    assert!(cell.starts_with("+0.13 ± ") && cell.ends_with(" *"), "{cell}");
    // Identical seeds, and a single seed (no interval).
    assert_eq!(paired(&a, &a).verdict, Verdict::Identical);
    assert_eq!(paired(&[1.0], &[2.0]).verdict, Verdict::Unknown);
    assert_eq!(delta_cell(&a, &a, "ms").0, "identical");
}

// ---- the winner --------------------------------------------------------------------

#[test]
fn the_winner_follows_the_figure_direction() {
    let base = [100.0, 110.0, 105.0];
    let good = [80.0, 85.0, 82.0];
    let close = [81.0, 86.0, 82.5];
    let lower = vec![
        vec![fig(Better::Lower, &base)],
        vec![fig(Better::Lower, &good)],
        vec![fig(Better::Lower, &close)],
    ];
    let w = winner_of(&lower, 0);
    assert_eq!(w.best, [1]);
    let vs = w.vs_baseline.unwrap();
    assert!((vs.mean - (-(20.0 + 25.0 + 23.0) / 3.0)).abs() < 1e-9);
    assert_eq!(vs.verdict, Verdict::Significant);
    let (r, p) = w.vs_runner_up.unwrap();
    assert_eq!(r, 2);
    // good − close: −1, −1, −0.5 every seed.
    assert!((p.mean + 2.5 / 3.0).abs() < 1e-9);
    // The same numbers where higher is better: the baseline wins, and no difference to it.
    let higher: Vec<Vec<Figure>> =
        lower.iter().map(|f| vec![Figure { better: Better::Higher, ..f[0].clone() }]).collect();
    let w = winner_of(&higher, 0);
    assert_eq!(w.best, [0]);
    assert!(w.vs_baseline.is_none());
    assert_eq!(w.vs_runner_up.unwrap().0, 2);
    // A figure without a direction, or equal everywhere, has no winner.
    let neither: Vec<Vec<Figure>> =
        lower.iter().map(|f| vec![Figure { better: Better::Neither, ..f[0].clone() }]).collect();
    assert!(winner_of(&neither, 0).best.is_empty());
    let flat = vec![vec![fig(Better::Lower, &[0.0; 3])]; 3];
    assert!(winner_of(&flat, 0).best.is_empty());
}

/// A run of cascade (shortened) whose searchers finished `ok` and `failed` requests.
fn made_up(spec: &Spec, base: &RunOutput, ok: u64, failed: u64) -> RunOutput {
    let mut out = simulate(spec);
    out.series = base.series.clone();
    let w = &mut out.workloads[0];
    w.outcomes.ok = ok;
    w.outcomes.degraded = 0;
    w.outcomes.failed = Default::default();
    w.outcomes.failed[0] = failed;
    w.offered = ok + failed;
    w.in_flight = 0;
    out
}

#[test]
fn the_verdict_names_the_winner_from_the_runs_summaries() {
    let spec = scenario("cascade.json", None, &["/duration=25s", "/warmup=5s"]);
    let base = simulate(&spec);
    // Per variant, per seed: searchers' ok and failed requests. "better" succeeds more on
    // every seed; "same" differs from the baseline by one request a seed, both ways.
    let runs: [[(u64, u64); 3]; 3] = [
        [(900, 100), (880, 120), (910, 90)],
        [(990, 10), (985, 15), (995, 5)],
        [(901, 99), (881, 119), (909, 91)],
    ];
    let names = ["baseline", "better", "same"];
    let mut c =
        Comparison::new(names.iter().map(|s| s.to_string()).collect(), vec![spec.clone(); 3], vec![1, 2, 3]);
    for (v, seeds) in runs.iter().enumerate() {
        for (ok, failed) in seeds {
            c.add(v, &made_up(&spec, &base, *ok, *failed));
        }
    }
    let hs = headlines(&c);
    let success = hs.iter().find(|h| h.table == "workload searchers" && h.figure == "success").unwrap();
    assert_eq!(success.better, Better::Higher);
    assert_eq!(success.winner.best, [1]);
    // 99.0, 98.5, 99.5 against 90, 88, 91: +9.33 points on average, every seed agrees.
    let vs = success.winner.vs_baseline.unwrap();
    assert!((vs.mean - (9.0 + 10.5 + 8.5) / 3.0).abs() < 1e-9, "{vs:?}");
    assert_eq!(vs.verdict, Verdict::Significant);
    let j = to_json(&c);
    let s = &j["workloads"]["searchers"];
    assert_eq!(s["better"]["success"]["best"], json!(true));
    assert_eq!(s["baseline"]["success"]["best"], json!(false));
    assert_eq!(s["better"]["success"]["difference"], json!("significant"));
    assert_eq!(s["same"]["success"]["difference"], json!("no difference"), "{}", s["same"]["success"]);
    assert_eq!(s["better"]["success"]["better"], json!("higher"));
    assert_eq!(s["better"]["p99"]["better"], json!("lower"));
    let v = j["verdict"].as_array().unwrap();
    let row = v.iter().find(|r| r["table"] == "workload searchers" && r["figure"] == "success").unwrap();
    assert_eq!(row["best"], json!(["better"]));
    assert_eq!(row["runner_up"], json!("same"));
    // cascade declares thresholds on searchers: each is tallied over the seeds per variant
    // (the made-up runs reach 99.0, 98.5 and 99.5% success, all below 99.9%).
    let t = j["thresholds"]["better"].as_array().unwrap();
    let succ = t.iter().find(|x| x["expression"] == "success >= 99.9%").unwrap();
    assert_eq!(
        (succ["held"].clone(), succ["seeds"].clone(), succ["holds"].clone()),
        (json!(0), json!(3), json!(false))
    );
    let html =
        faultline::html::compare_report_files(&c).into_iter().find(|(f, _)| f == "compare.html").unwrap().1;
    assert!(
        html.contains("success &gt;= 99.9%") || html.contains("success >= 99.9%"),
        "thresholds not on the page"
    );
    assert!(html.contains("id=\"verdict\"") && html.contains("n = 3 seeds"));
    // The verdict comes before any table of figures, and every table scrolls inside its
    // own box (none is wider than the page at 420 px).
    assert!(html.find("id=\"verdict\"").unwrap() < html.find("<table").unwrap());
    let tables = html.matches("<table").count();
    assert!(tables >= 4, "{tables} tables");
    assert_eq!(
        html.matches("<div class=\"scroll\"><table").count(),
        tables,
        "a table outside a scrolling box"
    );
    // The page says what the numbers cover.
    assert!(html.contains("successful responses only") && html.contains("measured window 5 s to 25 s"));
}

// ---- attribution -------------------------------------------------------------------

#[test]
fn a_workload_counts_only_the_edges_its_requests_traverse() {
    // cascade: searchers go storefront.search → search.query; recommended go
    // storefront.recommend → recs.get, where the breaker variant has its breaker. Add
    // retries and a 1 s timeout on the recs calls (which the 2 s delay trips), so that a retry storm on recs would show in searchers'
    // figures if it were attributed to every workload.
    let sets =
        ["/policies/recs-client/retry/max_attempts=3", "/policies/recs-client/timeout=1s", "/duration=100s"];
    let spec = scenario("cascade.json", Some("breaker"), &sets);
    let names = |edges: Vec<u32>| {
        let mut n: Vec<&str> = edges.iter().map(|e| spec.edges[*e as usize].name.as_str()).collect();
        n.sort();
        n
    };
    assert_eq!(
        names(reachable_edges(&spec, 0)),
        ["client:searchers->storefront.search", "storefront->search.query"]
    );
    assert_eq!(
        names(reachable_edges(&spec, 1)),
        ["client:recommended->storefront.recommend", "storefront->recs.get"]
    );
    let edge = |n: &str| spec.edges.iter().position(|e| e.name == n).unwrap() as u32;
    let recs_client = spec.policies.iter().position(|p| p.name == "recs-client").unwrap() as u32;
    assert_eq!(edges_of_policy(&spec, recs_client), [edge("storefront->recs.get")]);

    let mut c = Comparison::new(vec!["breaker".into()], vec![spec.clone()], vec![1, 2]);
    for seed in [1, 2] {
        let mut s = spec.clone();
        s.seed = seed;
        c.add(0, &simulate(&s));
    }
    let j = to_json(&c);
    let figure = |wl: &str, f: &str| -> Vec<f64> {
        j["workloads"][wl]["breaker"][f]["per_seed"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect()
    };
    // The breaker opened and recs calls were retried: recommended shows both.
    assert!(
        figure("recommended", "breaker open").iter().all(|x| *x > 1.0),
        "{:?}",
        figure("recommended", "breaker open")
    );
    assert!(figure("recommended", "retries/request").iter().all(|x| *x > 0.0));
    // Searchers pass through no breaker and no retrying edge: none of it.
    assert_eq!(figure("searchers", "breaker open"), [0.0, 0.0]);
    assert_eq!(figure("searchers", "retries/request"), [0.0, 0.0]);
    assert_eq!(figure("searchers", "hedges/request"), [0.0, 0.0]);
}

#[test]
fn saga_workloads_reach_their_steps_and_what_those_call() {
    let spec = scenario("checkout-saga.json", None, &[]);
    for (w, wl) in spec.workloads.iter().enumerate() {
        let reach = reachable_edges(&spec, w);
        if let Some(s) = wl.saga {
            for st in &spec.sagas[s as usize].steps {
                assert!(
                    reach.contains(&st.action_edge),
                    "{}: {}",
                    wl.name,
                    spec.edges[st.action_edge as usize].name
                );
            }
            // Every edge on the path starts at the orchestrator or a service it calls,
            // never at another workload's client.
            for e in &reach {
                let caller = spec.edges[*e as usize].caller;
                assert!(caller.is_some(), "{}: {}", wl.name, spec.edges[*e as usize].name);
            }
        } else {
            assert!(reach.contains(&wl.edge));
        }
    }
}

// ---- variants in words -------------------------------------------------------------

#[test]
fn overrides_read_as_words() {
    let cascade = scenario("cascade.json", Some("breaker"), &[]);
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/cascade.json"))
        .unwrap();
    let o = variant_overrides(&text, &["baseline".into(), "breaker".into()]);
    assert!(o[0].is_empty());
    assert_eq!(o[1].len(), 1);
    assert_eq!(
        override_words(&cascade, &o[1][0].0, &o[1][0].1),
        "circuit breaker on storefront→recs.get (policy recs-client): opens at 50% failures of the last 20 calls \
         (at least 10) or 50% slower than 500 ms; open 5 s, then 3 trial calls"
    );
    let bulkhead = scenario("cascade.json", Some("bulkhead"), &[]);
    assert_eq!(
        override_words(&bulkhead, "/policies/recs-client/bulkhead", &json!({})),
        "bulkhead on storefront→recs.get (policy recs-client): at most 8 concurrent calls, no waiting"
    );
    let short = scenario("checkout.json", Some("short-timeout"), &[]);
    let w = override_words(&short, "/policies/internal/timeout", &json!("250ms"));
    assert!(w.starts_with("timeout on ") && w.ends_with("(policy internal): 250 ms"), "{w}");
    let brown = scenario("checkout-brownout.json", Some("no-breaker"), &[]);
    let w = override_words(&brown, "/policies/payment-client/circuit_breaker", &json!(null));
    assert!(
        w.starts_with("circuit breaker of policy payment-client removed (on ") && w.contains("→payment."),
        "{w}"
    );
    let x4 = scenario("checkout.json", Some("payment-x4"), &[]);
    assert_eq!(override_words(&x4, "/services/payment/replicas", &json!(4)), "payment: 4 replicas");
    // A pointer the wording does not know reads as its path and value.
    assert_eq!(override_words(&x4, "/limits/max_events", &json!(1000)), "limits › max events: 1000");
    // An unused policy is named without edges.
    let text = r#"{"name": "x", "duration": "1s", "services": {"a": {"endpoints": {"e": {"latency": {"constant": "1ms"}}}}},
        "policies": {"spare": {"timeout": "2s"}}, "workload": [{"name": "w", "target": "a.e", "arrival": {"poisson": {"rate": 1}}}]}"#;
    let spec = load_str(text, "x.json", &LoadOptions::default()).unwrap();
    assert_eq!(
        override_words(&spec, "/policies/spare/timeout", &json!("2s")),
        "timeout of policy spare: 2 s"
    );
}

#[test]
fn threshold_verdicts_by_variant_read_on_the_page() {
    use faultline::compare::ThresholdTally;
    let spec = scenario("cascade.json", None, &["/duration=10s", "/warmup=2s"]);
    let mut c =
        Comparison::new(vec!["baseline".into(), "breaker".into()], vec![spec.clone(); 2], vec![1, 2, 3]);
    for v in 0..2 {
        for seed in 1..=3 {
            let mut s = spec.clone();
            s.seed = seed;
            c.add(v, &simulate(&s));
        }
    }
    let tally = |held: usize| ThresholdTally {
        scope: "searchers".into(),
        expression: "p99 < 500ms".into(),
        held,
        runs: 3,
        values: vec![Some(120.0); 3],
    };
    c.thresholds = vec![vec![tally(1)], vec![tally(3)]];
    let html =
        faultline::html::compare_report_files(&c).into_iter().find(|(f, _)| f == "compare.html").unwrap().1;
    assert!(html.contains("searchers: p99 &lt; 500ms"), "threshold row missing");
    assert!(html.contains("<td class=\"partial\">holds on 1 of 3 seeds</td>"));
    assert!(html.contains("<td class=\"pass\">holds on every seed (3)</td>"));
    assert!(!html.contains("declares no thresholds"));
    let j = to_json(&c);
    assert_eq!(j["thresholds"]["breaker"][0]["holds"], json!(true));
    assert_eq!(j["thresholds"]["baseline"][0]["held"], json!(1));
}
