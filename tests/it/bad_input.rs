//! Broken scenarios through the binary: each must exit 2 with a message that names the
//! JSON path (and, where the path exists in the file, its line), never a panic.

use crate::common::*;

const BASE: &str = r#"{
  "name": "base",
  "duration": "10s",
  "services": {
    "api": {
      "replicas": 2,
      "concurrency": 4,
      "endpoints": {
        "get": {"latency": {"exponential": {"mean": "5ms"}}, "steps": [{"call": "db.query", "policy": "p"}]}
      }
    },
    "db": {"endpoints": {"query": {"latency": {"lognormal": {"p50": "2ms", "p99": "20ms"}}}}}
  },
  "policies": {"p": {"timeout": "100ms"}},
  "workload": [{"name": "users", "target": "api.get", "arrival": {"poisson": {"rate": 100}}}],
  "variants": {"ok": {"/policies/p/timeout": "50ms"}}
}"#;

/// (what, the broken text, a fragment the error must contain)
fn cases() -> Vec<(&'static str, String, &'static str)> {
    let r = |from: &str, to: &str| {
        assert!(BASE.contains(from), "bad test: {from}");
        BASE.replacen(from, to, 1)
    };
    vec![
        ("not JSON", "{\"name\": ".to_string(), "line"),
        (
            "unknown top-level key",
            r("\"duration\": \"10s\",", "\"duration\": \"10s\", \"duraton\": \"1s\","),
            "duraton",
        ),
        ("unknown service key", r("\"replicas\": 2,", "\"replica\": 2,"), "/services/api"),
        ("bare-number duration", r("\"duration\": \"10s\"", "\"duration\": 10"), "/duration"),
        ("duration without unit", r("\"duration\": \"10s\"", "\"duration\": \"10\""), "/duration"),
        ("bad duration unit", r("\"duration\": \"10s\"", "\"duration\": \"10 parsecs\""), "/duration"),
        ("zero replicas", r("\"replicas\": 2", "\"replicas\": 0"), "/services/api/replicas"),
        ("zero concurrency", r("\"concurrency\": 4", "\"concurrency\": 0"), "/services/api/concurrency"),
        ("p99 below p50", r("\"p99\": \"20ms\"", "\"p99\": \"1ms\""), "/services/db/endpoints/query/latency"),
        (
            "negative mean",
            r("\"mean\": \"5ms\"", "\"mean\": \"-5ms\""),
            "/services/api/endpoints/get/latency",
        ),
        (
            "unknown endpoint",
            r("\"call\": \"db.query\"", "\"call\": \"db.qeury\""),
            "/services/api/endpoints/get/steps/0",
        ),
        (
            "unknown service in call",
            r("\"call\": \"db.query\"", "\"call\": \"dbx.query\""),
            "/services/api/endpoints/get/steps/0",
        ),
        (
            "unknown policy",
            r("\"policy\": \"p\"", "\"policy\": \"q\""),
            "/services/api/endpoints/get/steps/0",
        ),
        (
            "unknown workload target",
            r("\"target\": \"api.get\"", "\"target\": \"api.put\""),
            "/workload/0/target",
        ),
        ("non-positive rate", r("\"rate\": 100", "\"rate\": 0"), "/workload/0/arrival"),
        ("negative rate", r("\"rate\": 100", "\"rate\": -3"), "/workload/0/arrival"),
        (
            "percent above 100",
            r("\"endpoints\": {\"query\": {", "\"endpoints\": {\"query\": {\"errors\": {\"percent\": 120}, "),
            "/services/db/endpoints/query/errors",
        ),
        (
            "warmup not shorter than duration",
            r("\"duration\": \"10s\",", "\"duration\": \"10s\", \"warmup\": \"10s\","),
            "/warmup",
        ),
        (
            "variant pointer to nowhere",
            r("\"/policies/p/timeout\"", "\"/policies/nope/timeout\""),
            "/variants/ok",
        ),
        ("name with capitals", r("\"users\"", "\"Users\""), "/workload/0/name"),
        (
            "optional outside parallel",
            r("\"policy\": \"p\"}", "\"policy\": \"p\", \"optional\": true}"),
            "/services/api/endpoints/get/steps/0",
        ),
        (
            "a call cycle",
            r(
                "\"query\": {\"latency\": {\"lognormal\": {\"p50\": \"2ms\", \"p99\": \"20ms\"}}}",
                "\"query\": {\"latency\": {\"constant\": \"1ms\"}, \"steps\": [{\"call\": \"api.get\"}]}",
            ),
            "cycle",
        ),
        ("wrong type", r("\"concurrency\": 4", "\"concurrency\": \"four\""), "/services/api/concurrency"),
        (
            "unknown distribution",
            r("{\"exponential\": {\"mean\": \"5ms\"}}", "{\"poisson\": {\"mean\": \"5ms\"}}"),
            "/services/api/endpoints/get/latency",
        ),
        (
            "unknown load balancer",
            r("{\"timeout\": \"100ms\"}", "{\"timeout\": \"100ms\", \"load_balancer\": \"fastest\"}"),
            "/policies/p/load_balancer",
        ),
        (
            "crash of a replica that does not exist",
            r(
                "\"variants\"",
                "\"faults\": [{\"crash\": {\"target\": \"db#3\", \"start\": \"1s\"}}], \"variants\"",
            ),
            "/faults/0",
        ),
        ("missing duration", r("\"duration\": \"10s\",", ""), "duration"),
        // Bounds that match the model's counters and clock.
        (
            "retries beyond 16-bit tries",
            r("{\"timeout\": \"100ms\"}", "{\"timeout\": \"100ms\", \"retry\": {\"max_attempts\": 65536}}"),
            "/policies/p/retry/max_attempts: expected at most 10000, found 65536",
        ),
        (
            "a duration beyond 10 years",
            r("\"duration\": \"10s\"", "\"duration\": \"100000h\""),
            "at most 10 years",
        ),
        (
            "a timeout beyond 10 years",
            r("\"timeout\": \"100ms\"", "\"timeout\": \"18446744073709551615ns\""),
            "/policies/p/timeout",
        ),
        (
            "a rate beyond one per nanosecond",
            r("\"rate\": 100", "\"rate\": 1e12"),
            "at most 1000000000 per second",
        ),
        (
            "a huge lognormal sigma",
            r("{\"p50\": \"2ms\", \"p99\": \"20ms\"}", "{\"p50\": \"2ms\", \"sigma\": 1e300}"),
            "/services/db/endpoints/query/latency/lognormal/sigma",
        ),
        (
            "percent 150",
            r(
                "\"endpoints\": {\"query\": {",
                "\"endpoints\": {\"query\": {\"declines\": {\"percent\": 150}, ",
            ),
            "percentages from 0 to 100",
        ),
        (
            "percent written as a string",
            r(
                "\"endpoints\": {\"query\": {",
                "\"endpoints\": {\"query\": {\"errors\": {\"percent\": \"5%\"}, ",
            ),
            "write the number without `%`: 5",
        ),
        (
            "threshold in the wrong unit",
            r("\"variants\"", "\"thresholds\": {\"users\": [\"p99 < 99%\"]}, \"variants\""),
            "/thresholds/users/0: bad threshold \"p99 < 99%\": p99 is a latency",
        ),
        (
            "threshold on an unknown workload",
            r("\"variants\"", "\"thresholds\": {\"user\": [\"p99 < 1s\"]}, \"variants\""),
            "/thresholds/user: unknown threshold scope `user` (did you mean `users`?)",
        ),
    ]
}

#[test]
fn broken_scenarios_exit_2_naming_the_path() {
    let cases = cases();
    assert!(cases.len() >= 20);
    let mut failures = Vec::new();
    for (i, (what, text, needle)) in cases.iter().enumerate() {
        let p = temp_scenario(&format!("bad-{i}"), text);
        let o = bin().arg("check").arg(&p).output().unwrap();
        let err = stderr(&o);
        if o.status.code() != Some(2) || !err.contains(needle) || err.contains("panicked") {
            failures.push(format!("{what}: exit {:?}, stderr:\n{err}", o.status.code()));
        }
        // `run` reports the same problems with the same status.
        let o = bin().arg("run").arg(&p).output().unwrap();
        if o.status.code() != Some(2) {
            failures.push(format!("{what}: run exited {:?}", o.status.code()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n---\n"));
}

#[test]
fn problems_are_collected_and_reported_together_with_lines() {
    let text =
        BASE.replacen("\"replicas\": 2", "\"replicas\": 0", 1).replacen("\"rate\": 100", "\"rate\": -1", 1);
    let p = temp_scenario("two-problems", &text);
    let o = bin().arg("check").arg(&p).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("/services/api/replicas"), "{err}");
    assert!(err.contains("/workload/0/arrival"), "{err}");
    // The replicas line is line 6 of BASE.
    assert!(err.contains(":6:"), "expected the line of the problem: {err}");
}

#[test]
fn bad_arguments_exit_2() {
    let o = bin().args(["run", "scenarios/mmc.json", "--variant", "nope"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let o = bin().args(["run", "scenarios/mmc.json", "--set", "/services/nope/replicas=2"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let o = bin().args(["run", "does-not-exist.json"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let o = bin().args(["frobnicate"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn every_unknown_key_is_reported_at_once_with_its_line() {
    let text = BASE
        .replacen("\"replicas\": 2,", "\"replica\": 2, \"colour\": \"red\",", 1)
        .replacen("\"duration\": \"10s\",", "\"duration\": \"10s\", \"duraton\": \"1s\",", 1)
        .replacen("{\"timeout\": \"100ms\"}", "{\"timeout\": \"100ms\", \"retries\": 3}", 1)
        .replacen("\"concurrency\": 4", "\"concurrency\": \"four\"", 1)
        .replacen("\"rate\": 100", "\"rate\": -1", 1);
    let p = temp_scenario("many-unknown", &text);
    let o = bin().arg("check").arg(&p).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    for want in [
        ":3:22: /duraton: unknown key `duraton` (did you mean `duration`?)",
        ":6:7: /services/api/replica: unknown key `replica` (did you mean `replicas`?)",
        ":6:21: /services/api/colour: unknown key `colour`",
        ":7:22: /services/api/concurrency: expected a whole number",
        "/policies/p/retries: unknown key `retries`; expected one of: timeout, deadline, retry,",
        "/workload/0/arrival/poisson/rate: expected a rate greater than 0",
    ] {
        assert!(err.contains(want), "{want}:\n{err}");
    }
    // In the order of the file.
    let lines: Vec<usize> = err.lines().filter_map(|l| l.split(':').nth(1)?.parse().ok()).collect();
    assert!(lines.len() == 6 && lines.is_sorted(), "{err}");
}

#[test]
fn set_creates_a_missing_limits_object() {
    // BASE has no `limits`: the override creates it, as the limit's own message advises.
    let p = temp_scenario("set-limits", BASE);
    let o = bin().arg("run").arg(&p).args(["--set", "/limits/max_events=50"]).output().unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("max_events"), "{}", stderr(&o));
    let o = bin()
        .arg("run")
        .arg(&p)
        .args(["--set", "/limits/max_in_flight=100000", "--set", "/network/latency/constant=1ms"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // Never a service from a typo.
    let o = bin().arg("run").arg(&p).args(["--set", "/services/apii/replicas=3"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("/services/apii/replicas: --set"), "{}", stderr(&o));
}

#[test]
fn syntax_errors_name_the_character_and_its_container() {
    let r = |from: &str, to: &str| {
        assert!(BASE.contains(from), "bad test: {from}");
        BASE.replacen(from, to, 1)
    };
    let cases = [
        (
            "trailing comma in an object",
            r("\"concurrency\": 4,", "\"concurrency\": 4,\n      \"endpoints_\": 1,}, \"x\": {"),
            ":8:",
            "/services/api: invalid JSON: trailing comma after the last member of object /services/api",
        ),
        (
            "trailing comma in an array",
            r(
                "{\"call\": \"db.query\", \"policy\": \"p\"}]",
                "{\"call\": \"db.query\", \"policy\": \"p\"},]",
            ),
            ":9:107:",
            "/services/api/endpoints/get/steps: invalid JSON: trailing comma after the last item of array",
        ),
        (
            "a missing comma",
            r("\"replicas\": 2,", "\"replicas\": 2"),
            ":7:7:",
            "expected `,` or `}` after the member \"replicas\" of object /services/api",
        ),
        (
            "an unterminated string",
            r("\"name\": \"base\",", "\"name\": \"base,"),
            ":2:11:",
            "unterminated string",
        ),
        (
            "a truncated file",
            BASE[..BASE.find("\"policies\"").unwrap()].to_string(),
            ":14:3:",
            "the file ends inside the top-level object",
        ),
    ];
    for (what, text, at, msg) in cases {
        let p = temp_scenario(&format!("syntax-{}", what.replace(' ', "-")), &text);
        let o = bin().arg("check").arg(&p).output().unwrap();
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{what}: {err}");
        assert!(err.contains(at) && err.contains(msg), "{what}: wanted {at} {msg}:\n{err}");
        assert_eq!(err.lines().count(), 1, "{what}: {err}");
    }
}
