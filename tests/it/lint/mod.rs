//! `faultline lint`: every rule fires on its `tests/lint/RULE.fires.json` and not on
//! `RULE.clean.json` (the same design with the rule's fix applied); the chain budget and
//! the amplification factor are exact on constructed cases; the SARIF output validates
//! against the official SARIF 2.1.0 schema; exit codes; `lint.allow`; the committed
//! examples' findings; `random.rs` random topologies.

mod random;

use crate::common::{bin, stderr, stdout, temp_scenario};
use faultline::lint::{RULES, report};
use faultline::scenario::{LoadOptions, load_str};
use serde_json::{Value, json};
use std::path::Path;

fn fixture(name: &str) -> String {
    format!("{}/tests/lint/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// The JSON output of `lint` on a file, and its exit status.
fn lint_json(path: &str, extra: &[&str]) -> (Value, i32) {
    let o = bin().args(["lint", path, "--format", "json"]).args(extra).output().unwrap();
    let v: Value = serde_json::from_str(&stdout(&o))
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", stdout(&o), stderr(&o)));
    (v, o.status.code().unwrap())
}

fn rules_of(v: &Value) -> Vec<String> {
    let mut r: Vec<String> =
        v["findings"].as_array().unwrap().iter().map(|f| f["rule"].as_str().unwrap().to_string()).collect();
    r.dedup();
    r
}

/// Lints a scenario given as JSON through the library; the findings as the JSON
/// output's facts, by rule.
fn facts(v: &Value, rule: &str) -> Vec<Value> {
    let text = serde_json::to_string_pretty(v).unwrap();
    let spec = load_str(&text, "t.json", &LoadOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let r = report(&spec, &text, "t.json", &[]);
    r.findings.iter().filter(|l| l.finding.rule.id == rule).map(|l| l.finding.facts.clone()).collect()
}

#[test]
fn every_rule_fires_on_its_fixture_and_not_on_the_fixed_one() {
    for rule in &RULES {
        let fires = fixture(&format!("{}.fires.json", rule.id));
        let (v, code) = lint_json(&fires, &[]);
        assert!(rules_of(&v).contains(&rule.id.to_string()), "{} does not fire on {fires}: {v:#}", rule.id);
        let f = v["findings"].as_array().unwrap().iter().find(|f| f["rule"] == rule.id).unwrap();
        assert_eq!(f["severity"], rule.severity.name());
        assert!(f["line"].as_u64().unwrap() > 0 && f["column"].as_u64().unwrap() > 0, "{f:#}");
        assert!(f["path"].as_str().unwrap().starts_with('/'));
        let denied = v["findings"].as_array().unwrap().iter().any(|f| f["severity"] == "error");
        assert_eq!(code, i32::from(denied), "{}", rule.id);

        let clean = fixture(&format!("{}.clean.json", rule.id));
        let (v, code) = lint_json(&clean, &["--deny", "warning"]);
        assert_eq!(rules_of(&v), Vec::<String>::new(), "{clean} is not clean: {v:#}");
        assert_eq!(code, 0);
        // The fixtures are valid scenarios.
        let o = bin().args(["check", &fires]).output().unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
    }
}

#[test]
fn chain_budget_is_the_exact_sum_of_the_hops_budgets() {
    let text = std::fs::read_to_string(fixture("sync-chain-depth.fires.json")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    let f = &facts(&v, "sync-chain-depth")[0];
    assert_eq!(f["depth"], 4);
    assert_eq!(f["path"], json!(["users", "a.x", "b.x", "c.x", "d.x"]));
    // 4 s (client) + 3 s (a→b) + 2 × 500 ms + 100 ms backoff (b→c) + 300 ms deadline (c→d).
    assert_eq!(f["budget_ms"], json!(8400.0));
    let hops: Vec<f64> =
        f["hops"].as_array().unwrap().iter().map(|h| h["budget_ms"].as_f64().unwrap()).collect();
    assert_eq!(hops, [4000.0, 3000.0, 1100.0, 300.0]);

    // A deadline shorter than tries × timeout + backoff bounds the hop; decorrelated
    // jitter's longest waits triple up to the cap (50, 150, 450 → capped at 200 ms);
    // a hop without a timeout makes the budget unbounded.
    let mut v2 = v.clone();
    v2["policies"]["ab"] = json!({"timeout": "1s", "deadline": "2500ms",
        "retry": {"max_attempts": 3, "backoff": {"constant": "1s"}, "budget": {"percent": 20}}});
    v2["policies"]["bc"] = json!({"timeout": "100ms",
        "retry": {"max_attempts": 4, "jitter": "decorrelated", "budget": {"percent": 20},
                  "backoff": {"exponential": {"initial": "50ms", "multiplier": 2, "max": "200ms"}}}});
    let f = &facts(&v2, "sync-chain-depth")[0];
    // 4 s + 2.5 s + (4 × 100 ms + 150 ms + 200 ms + 200 ms) + 300 ms.
    assert_eq!(f["budget_ms"], json!(4000.0 + 2500.0 + 950.0 + 300.0));
    v2["services"]["c"]["endpoints"]["x"]["steps"][0]["policy"] = Value::Null;
    v2["services"]["c"]["endpoints"]["x"]["steps"][0].as_object_mut().unwrap().remove("policy");
    let f = &facts(&v2, "sync-chain-depth")[0];
    assert_eq!(f["budget_ms"], Value::Null);
    assert_eq!(f["bounded_budget_ms"], json!(4000.0 + 2500.0 + 950.0));

    // Depth 3 does not fire; a fifth service does, and the deepest path is the one shown.
    assert!(
        facts(
            &serde_json::from_str(&std::fs::read_to_string(fixture("sync-chain-depth.clean.json")).unwrap())
                .unwrap(),
            "sync-chain-depth"
        )
        .is_empty()
    );
    let mut v3 = v.clone();
    v3["services"]["d"]["endpoints"]["x"]["steps"] = json!([{"call": "e.x", "policy": "cd"}]);
    v3["services"]["e"] = json!({"replicas": 2, "endpoints": {"x": {}}});
    v3["services"]["a"]["endpoints"]["x"]["steps"] =
        json!([{"parallel": [{"call": "d.x", "policy": "cd"}, {"call": "b.x", "policy": "ab"}]}]);
    let f = &facts(&v3, "sync-chain-depth")[0];
    assert_eq!(f["depth"], 5);
    assert_eq!(f["path"], json!(["users", "a.x", "b.x", "c.x", "d.x", "e.x"]));
}

#[test]
fn amplification_factor_is_the_exact_product_at_the_leaf() {
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("retry-amplification.fires.json")).unwrap())
            .unwrap();
    let f = &facts(&v, "retry-amplification")[0];
    assert_eq!(f["factor"], 27);
    assert_eq!(f["factors"], json!([3, 3, 3]));
    assert_eq!(f["leaf"], "c.x");

    // A hedge adds its extra attempts to its layer (2 tries + 1 hedge = 3), 5 tries at
    // the leaf: 3 × 3 × 5 = 45; the worst path is chosen among branches.
    let mut v2 = v.clone();
    v2["policies"]["mid"]["retry"]["max_attempts"] = json!(2);
    v2["policies"]["mid"]["hedge"] = json!({"after": "50ms", "max_extra": 1});
    v2["policies"]["leaf"]["retry"]["max_attempts"] = json!(5);
    v2["policies"]["leaf"]["timeout"] = json!("100ms");
    v2["services"]["a"]["endpoints"]["x"]["steps"] =
        json!([{"parallel": [{"call": "c.x", "policy": "leaf"}, {"call": "b.x", "policy": "mid"}]}]);
    let f = &facts(&v2, "retry-amplification")[0];
    assert_eq!(f["factor"], 45);
    assert_eq!(f["factors"], json!([3, 3, 5]));
    assert_eq!(f["path"], json!(["users", "a.x", "b.x", "c.x"]));

    // One retrying layer is not amplification; a consumer group's redeliveries are a
    // layer: 4 deliveries × 3 attempts = 12.
    let mut v3 = v.clone();
    v3["policies"]["client"].as_object_mut().unwrap().remove("retry");
    v3["policies"]["mid"].as_object_mut().unwrap().remove("retry");
    assert!(facts(&v3, "retry-amplification").is_empty());
    v3["services"]["b"]["endpoints"]["on_event"] = json!({"steps": [{"call": "c.x", "policy": "leaf"}]});
    v3["topics"] =
        json!({"events": {"subscribers": [{"group": "g", "endpoint": "b.on_event", "max_attempts": 4}]}});
    let f = facts(&v3, "retry-amplification");
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0]["factor"], 12);
    assert_eq!(f[0]["leaf"], "c.x");
}

#[test]
fn timeout_inversion_compares_the_callee_budget_with_the_caller_wait() {
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("timeout-inversion.fires.json")).unwrap())
            .unwrap();
    let f = &facts(&v, "timeout-inversion")[0];
    // 3 × 300 ms + 50 ms + 100 ms of backoff against the client's 1 s.
    assert_eq!(f["callee_budget_ms"], json!(1050.0));
    assert_eq!(f["caller_wait_ms"], json!(1000.0));
    // Calls that fit one by one but not one after another.
    let mut v2 = v.clone();
    v2["policies"]["backend-client"] = json!({"timeout": "400ms"});
    v2["services"]["api"]["endpoints"]["get"]["steps"] = json!([
        {"call": "backend.work", "policy": "backend-client"},
        {"parallel": [{"call": "backend.work", "policy": "backend-client"}, {"call": "backend.work", "policy": "safe"}]},
        {"call": "backend.work", "policy": "backend-client"}]);
    let f = &facts(&v2, "timeout-inversion")[0];
    assert_eq!(f["callee_budget_ms"], json!(1200.0));
}

#[test]
fn chatty_counts_expected_calls_through_routes_parallel_branches_and_retries() {
    // api.get routes 25% to a (1 call below) and 75% to b (13 calls below); b's calls
    // retry: each attempt at items fails with 50% errors, 3 tries: 1 + 0.5 + 0.25.
    let v = json!({
        "duration": "10s",
        "services": {
            "api": {"replicas": 2, "endpoints": {"get": {"steps": [
                {"route": [{"to": "a.get", "weight": 1}, {"to": "b.get", "weight": 3}], "policy": "p"}]}}},
            "a": {"replicas": 2, "endpoints": {"get": {"steps": [{"call": "items.get", "policy": "p"}]}}},
            "b": {"replicas": 2, "endpoints": {"get": {"steps": [
                {"parallel": [{"call": "items.get", "policy": "r"}, {"call": "items.get", "policy": "r"}]},
                {"call": "items.get", "policy": "r"}, {"call": "items.get", "policy": "r"}]}}},
            "items": {"replicas": 2, "endpoints": {"get": {"errors": {"percent": 50}}}}
        },
        "policies": {"p": {"timeout": "1s"},
                     "r": {"timeout": "1s", "retry": {"max_attempts": 3, "backoff": {"constant": "10ms"}, "budget": {"percent": 20}}}},
        "workload": [{"name": "users", "target": "api.get", "arrival": {"poisson": {"rate": 10}}}]
    });
    let f = facts(&v, "chatty-endpoint");
    // b: the parallel step (2 calls × 1.75 attempts) always runs; each branch succeeds
    // with 1 − 0.5³ = 0.875, so the next step runs with 0.875², the last with 0.875³.
    let att = 1.75;
    let ok = 0.875_f64;
    let b = 2.0 * att + ok * ok * att + ok * ok * ok * att;
    assert!(b < 10.0);
    assert!(f.is_empty(), "{f:?}");
    // Four more parallel branches make b chatty (19 > 10 with the same arithmetic), and
    // then api.get, whose other calls are few, is not reported on its own.
    let mut v2 = v.clone();
    let branch = json!({"call": "items.get", "policy": "r"});
    for _ in 0..4 {
        v2["services"]["b"]["endpoints"]["get"]["steps"][0]["parallel"]
            .as_array_mut()
            .unwrap()
            .push(branch.clone());
    }
    let f = facts(&v2, "chatty-endpoint");
    assert_eq!(f.len(), 1, "{f:?}");
    let b6 = 6.0 * att + ok.powi(6) * att + ok.powi(7) * att;
    assert_eq!(f[0]["endpoint"], "b.get");
    assert!(
        (f[0]["calls_per_request"].as_f64().unwrap() - b6).abs() < 1e-9,
        "{} vs {b6}",
        f[0]["calls_per_request"]
    );
    // Without errors, retries add nothing: 11 calls fire, 10 do not (the fixtures).
    let f = facts(
        &serde_json::from_str(&std::fs::read_to_string(fixture("chatty-endpoint.fires.json")).unwrap())
            .unwrap(),
        "chatty-endpoint",
    );
    assert_eq!(f[0]["calls_per_request"], json!(11.0));
}

#[test]
fn sarif_validates_against_the_official_schema() {
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("sarif-schema-2.1.0.json")).unwrap()).unwrap();
    let mut schemas = boon::Schemas::new();
    let mut compiler = boon::Compiler::new();
    compiler.enable_format_assertions();
    let url = schema["id"].as_str().unwrap().to_string();
    compiler.add_resource(&url, schema).unwrap();
    let id = compiler.compile(&url, &mut schemas).unwrap();
    let mut files: Vec<String> = RULES.iter().map(|r| fixture(&format!("{}.fires.json", r.id))).collect();
    for e in std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "json") {
            files.push(p.display().to_string());
        }
    }
    let mut results = 0;
    for file in &files {
        let o = bin().args(["lint", file, "--format", "sarif"]).output().unwrap();
        let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
        if let Err(e) = schemas.validate(&v, id) {
            panic!("{file}: SARIF does not validate: {e:#}");
        }
        let run = &v["runs"][0];
        let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
        assert_eq!(rules.len(), RULES.len());
        for r in run["results"].as_array().unwrap() {
            results += 1;
            let i = r["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(r["ruleId"], rules[i]["id"]);
            assert!(rules[i]["helpUri"].as_str().unwrap().starts_with("https://"));
            let loc = &r["locations"][0]["physicalLocation"];
            assert!(loc["artifactLocation"]["uri"].as_str().unwrap().ends_with(".json"));
            assert!(loc["region"]["startLine"].as_u64().unwrap() >= 1);
            assert!(loc["region"]["startColumn"].as_u64().unwrap() >= 1);
        }
    }
    assert!(results >= RULES.len());
    // The schema is strict enough to catch a broken log.
    let bad = json!({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": [{"level": "loud", "message": {"text": "m"}}]}]});
    assert!(schemas.validate(&bad, id).is_err());
}

#[test]
fn exit_codes_deny_and_allow() {
    // Warnings only: 0 by default, 1 under --deny warning.
    let file = fixture("single-replica.fires.json");
    assert_eq!(bin().args(["lint", &file]).output().unwrap().status.code(), Some(0));
    assert_eq!(bin().args(["lint", &file, "--deny", "warning"]).output().unwrap().status.code(), Some(1));
    // An error: 1 by default.
    let o = bin().args(["lint", &fixture("dual-write.fires.json")]).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    let text = stdout(&o);
    assert!(text.starts_with("error[dual-write]: `orders.create` publishes"), "{text}");
    assert!(text.contains("dual-write.fires.json:"), "{text}");
    assert!(text.contains(" = help: write the message in the same transaction"), "{text}");
    assert!(text.contains("1 error"), "{text}");

    // `lint.allow` silences the rule: exit 0, the finding listed as allowed.
    let mut v: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("dual-write.fires.json")).unwrap()).unwrap();
    v["lint"] = json!({"allow": ["dual-write"]});
    let p = temp_scenario("lint-allow.json", &serde_json::to_string_pretty(&v).unwrap());
    let (out, code) = lint_json(p.to_str().unwrap(), &["--deny", "warning"]);
    assert_eq!(code, 0, "{out:#}");
    assert_eq!(out["findings"], json!([]));
    assert_eq!(out["allowed"][0]["rule"], "dual-write");
    assert_eq!(out["summary"]["allowed"], 1);
    let o = bin().args(["lint", p.to_str().unwrap(), "--format", "sarif"]).output().unwrap();
    let s: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(s["runs"][0]["results"][0]["suppressions"][0]["kind"], "inSource");

    // An unknown rule id is a located error (exit 2), for `lint` and `check` alike.
    v["lint"] = json!({"allow": ["dual-write", "single-replicas", 7]});
    let text = serde_json::to_string_pretty(&v).unwrap();
    let p = temp_scenario("lint-unknown.json", &text);
    for cmd in ["lint", "check"] {
        let o = bin().args([cmd, p.to_str().unwrap()]).output().unwrap();
        assert_eq!(o.status.code(), Some(2), "{cmd}");
        let err = stderr(&o);
        let line = text.lines().position(|l| l.contains("\"single-replicas\"")).unwrap() + 1;
        assert!(err.contains(&format!(":{line}:")), "{err}");
        assert!(
            err.contains(
                "/lint/allow/1: unknown lint rule `single-replicas` (did you mean `single-replica`?)"
            ),
            "{err}"
        );
        assert!(err.contains("/lint/allow/2: expected a lint rule id"), "{err}");
    }
    // An unknown key under `lint` too.
    v["lint"] = json!({"alow": []});
    let p = temp_scenario("lint-key.json", &serde_json::to_string_pretty(&v).unwrap());
    let o = bin().args(["lint", p.to_str().unwrap()]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("unknown key `alow`"), "{}", stderr(&o));
    // Not JSON, not there.
    let p = temp_scenario("lint-broken.json", "{\"duration\": \"1s\",}");
    assert_eq!(bin().args(["lint", p.to_str().unwrap()]).output().unwrap().status.code(), Some(2));
    assert_eq!(bin().args(["lint", "/nonexistent/x.json"]).output().unwrap().status.code(), Some(2));
}

#[test]
fn findings_point_at_the_line_and_column_of_their_json_path() {
    let file = fixture("single-replica.fires.json");
    let text = std::fs::read_to_string(&file).unwrap();
    let (v, _) = lint_json(&file, &[]);
    let f = &v["findings"][0];
    assert_eq!(f["path"], "/services/recs/replicas");
    let line = f["line"].as_u64().unwrap() as usize;
    let col = f["column"].as_u64().unwrap() as usize;
    let src = text.lines().nth(line - 1).unwrap();
    assert!(src[col - 1..].starts_with("\"replicas\": 1"), "{line}:{col}: {src}");
    // The text format shows that line with a mark under the key.
    let o = bin().args(["lint", &file]).output().unwrap();
    let out = stdout(&o);
    assert!(out.contains(&format!("--> {file}:{line}:{col}")), "{out}");
    assert!(out.contains(&format!("{line} | {}", src.trim_end())), "{out}");
    assert!(out.contains(&format!("{}^^^^^^^^^^", " ".repeat(col - 1))), "{out}");
}

/// What fires on each committed example (README, "Lint"): a change here is a change
/// of what users are told about the examples.
#[test]
fn committed_examples() {
    let expected: &[(&str, &[&str])] = &[
        ("cache-restart", &["single-replica"]),
        ("cascade", &["no-circuit-breaker"]),
        ("checkout-brownout", &["no-circuit-breaker", "timeout-inversion"]),
        ("checkout-saga", &["no-circuit-breaker", "retry-without-budget"]),
        ("checkout", &["no-circuit-breaker", "timeout-inversion"]),
        ("crashed-replica", &["single-replica"]),
        ("critical-checkout", &[]),
        ("email-queue", &[]),
        ("flash-sale", &[]),
        ("mmc", &["single-replica"]),
        ("order-events", &[]),
        ("order-saga", &["retry-without-budget"]),
        ("outbox", &[]),
        ("patterns-guide", &["no-circuit-breaker", "retry-without-budget", "timeout-inversion"]),
        ("retry-storm-adaptive", &[]),
        ("retry-storm", &["single-replica", "retry-without-budget"]),
        ("tail-at-scale", &["chatty-endpoint"]),
    ];
    // Every example scenario is listed: a new one states what lint says of it.
    let mut listed: Vec<&str> = expected.iter().map(|e| e.0).collect();
    listed.sort();
    let mut present: Vec<String> = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios"))
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.strip_suffix(".json").map(str::to_string))
        .collect();
    present.sort();
    assert_eq!(listed, present, "scenarios/*.json and the list differ");
    for (name, rules) in expected {
        let file = format!("{}/scenarios/{name}.json", env!("CARGO_MANIFEST_DIR"));
        let (v, code) = lint_json(&file, &[]);
        let mut got = rules_of(&v);
        got.sort();
        got.dedup();
        let mut want: Vec<String> = rules.iter().map(|s| s.to_string()).collect();
        want.sort();
        assert_eq!(got, want, "{name}");
        let errors = v["summary"]["errors"].as_u64().unwrap();
        assert_eq!(code, i32::from(errors > 0), "{name}");
    }
}

#[test]
fn help_examples_run() {
    let o = bin().args(["lint", "--help"]).output().unwrap();
    let help = stdout(&o);
    let mut n = 0;
    for line in help.lines().filter_map(|l| l.trim().strip_prefix("faultline ")) {
        let args: Vec<&str> = line.split_whitespace().collect();
        let o = bin().current_dir(env!("CARGO_MANIFEST_DIR")).args(&args).output().unwrap();
        assert!(matches!(o.status.code(), Some(0 | 1)), "{line}: {}", stderr(&o));
        n += 1;
    }
    assert_eq!(n, 3, "{help}");
}

/// An autoscaled service counts by its `min_replicas`: the flash sale's shop (3 to 12)
/// is not flagged; with `min_replicas` 1 it is, at that key.
#[test]
fn single_replica_reads_an_autoscaler_by_its_minimum() {
    let file = format!("{}/scenarios/flash-sale.json", env!("CARGO_MANIFEST_DIR"));
    let (v, _) = lint_json(&file, &[]);
    assert!(!rules_of(&v).contains(&"single-replica".to_string()), "{v:#}");
    let mut s: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    s["services"]["shop"]["autoscale"]["min_replicas"] = json!(1);
    let p = temp_scenario("lint-autoscale-min1.json", &serde_json::to_string_pretty(&s).unwrap());
    let (v, _) = lint_json(p.to_str().unwrap(), &[]);
    let f =
        v["findings"].as_array().unwrap().iter().find(|f| f["rule"] == "single-replica").expect("flagged");
    assert_eq!(f["path"], "/services/shop/autoscale/min_replicas", "{f:#}");
    assert!(f["message"].as_str().unwrap().contains("can scale down to one replica"), "{f:#}");
}
