//! What a tune found, in words and numbers: `tune.json`, the answer printed on standard
//! output, and the pieces the page ([`super::page`]) lays out. Every number is rounded
//! once, here, so the JSON, the text and the page agree.

use super::command::Setup;
use super::goal::{Goal, Source};
use super::race::{Fate, Race};
use super::space::Design;
use crate::charts::TuneClass;
use crate::compare::{Paired, mean_ci};
use crate::spec::MetricUnit;
use serde_json::{Map, Value};

/// Version of `tune.json`.
pub const FORMAT: u32 = 1;

/// The rule in one paragraph, as `tune.json` and the page state it.
pub const RULE: &str = "Successive halving over seeds with F-race eliminations: every candidate runs the first 2 \
seeds, the survivors 4, 8, ... and finally all N; after each rung a candidate stops when the 95% interval of a \
constraint's figure lies wholly on the failing side (clearly infeasible), or when, against an incumbent (meets \
every constraint by its means, not beaten on every objective's mean), the 95% paired interval of the difference \
seed by seed excludes zero on the worse side for every objective (clearly worse). A run is one (candidate, seed) \
pair; when the budget cannot give every survivor the next rung, the best-ranked that it can afford go on.";

/// Everything the outputs show.
pub struct Report {
    /// The arguments after `faultline` that reproduce it (without `--out`, `--jobs`).
    pub argv: Vec<String>,
    /// FNV-1a 64 of the scenario file, in hex.
    pub scenario_hash: String,
    pub scenario: String,
    pub description: String,
    /// `--variant` and the `--set`s every candidate ran with.
    pub variant: Option<String>,
    pub sets: Vec<String>,
    pub command: String,
    pub design: Design,
    pub pointers: Vec<String>,
    pub param_values: Vec<String>,
    pub points: Vec<Vec<String>>,
    pub goals: Vec<Goal>,
    pub seeds: Vec<u64>,
    pub budget: usize,
    pub race: Race,
}

fn quote(s: &str) -> String {
    if s.chars().all(|c| c.is_ascii_alphanumeric() || "/._-=:,".contains(c)) {
        s.to_string()
    } else {
        format!("'{s}'")
    }
}

impl Report {
    pub fn new(s: &Setup, race: Race) -> Report {
        let a = &s.args;
        let mut argv: Vec<String> = vec!["tune".into(), a.scenario.display().to_string()];
        let mut push = |k: &str, v: &str| argv.extend([k.to_string(), v.to_string()]);
        for p in &a.params {
            push("--param", p);
        }
        for o in &a.objectives {
            push("--objective", o);
        }
        for c in &a.constraints {
            push("--constraint", c);
        }
        push("--seeds", &a.seeds.to_string());
        if let Some(b) = a.budget {
            push("--budget", &b.to_string());
        }
        if let Design::LatinHypercube { samples } = s.design {
            push("--samples", &samples.to_string());
        }
        if let Some(v) = &a.variant {
            push("--variant", v);
        }
        for set in &a.sets {
            push("--set", set);
        }
        if a.no_thresholds {
            argv.push("--no-thresholds".into());
        }
        let command = std::iter::once("faultline".to_string())
            .chain(argv.iter().map(|x| quote(x)))
            .collect::<Vec<_>>()
            .join(" ");
        Report {
            argv,
            scenario_hash: s.hash.clone(),
            scenario: s.base.name.clone(),
            description: s.base.description.clone(),
            variant: a.variant.clone(),
            sets: a.sets.clone(),
            command,
            design: s.design,
            pointers: s.axes.iter().map(|x| x.pointer().to_string()).collect(),
            param_values: s.axes.iter().map(|x| x.describe()).collect(),
            points: s.points.clone(),
            goals: s.goals.clone(),
            seeds: s.seeds.clone(),
            budget: s.budget,
            race,
        }
    }

    pub fn full(&self) -> usize {
        self.points.len() * self.seeds.len()
    }

    /// A goal's mean and 95% half-width over the seeds a candidate ran.
    pub fn stat(&self, p: usize, g: usize) -> (f64, f64) {
        mean_ci(&self.race.column(p, g))
    }

    /// `PTR=VALUE, …` of a candidate.
    pub fn params_text(&self, p: usize) -> String {
        self.pointers
            .iter()
            .zip(&self.points[p])
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// A short label: `#3 · 20ms · 3`.
    pub fn label(&self, p: usize) -> String {
        format!("#{p} · {}", self.points[p].join(" · "))
    }

    pub fn class(&self, p: usize) -> TuneClass {
        match &self.race.fates[p] {
            Fate::Best => TuneClass::Best,
            Fate::Tied(_) | Fate::Front(_) => TuneClass::Tied,
            Fate::Behind(_) | Fate::Unmet { .. } => TuneClass::Ran,
            Fate::Infeasible { .. } | Fate::NoData { .. } => TuneClass::Infeasible,
            Fate::Worse { .. } => TuneClass::Worse,
            Fate::Budget { .. } => TuneClass::Budget,
        }
    }

    pub fn tied(&self) -> Vec<usize> {
        (0..self.points.len()).filter(|&p| matches!(self.race.fates[p], Fate::Tied(_))).collect()
    }

    /// With two objectives, the Pareto front (by means) among the candidates that ran
    /// to the end and meet the constraints: the best, and the others no one beats on
    /// both; empty with one objective.
    pub fn front(&self) -> Vec<usize> {
        let objs: Vec<usize> = (0..self.goals.len()).filter(|&g| self.goals[g].sense.is_some()).collect();
        let ok: Vec<usize> = (0..self.points.len())
            .filter(|&p| {
                matches!(self.race.fates[p], Fate::Best | Fate::Tied(_) | Fate::Front(_) | Fate::Behind(_))
            })
            .collect();
        if objs.len() < 2 {
            return Vec::new();
        }
        let cost = |p: usize, g: usize| super::goal::cost(&self.goals[g], self.stat(p, g).0);
        ok.iter()
            .copied()
            .filter(|&p| {
                !ok.iter().any(|&q| {
                    objs.iter().all(|&g| cost(q, g) <= cost(p, g))
                        && objs.iter().any(|&g| cost(q, g) < cost(p, g))
                })
            })
            .collect()
    }

    /// The winning configuration as a `variants` entry.
    pub fn variant_entry(&self) -> Option<Value> {
        let b = self.race.best?;
        let mut m = Map::new();
        // The `--set`s every candidate ran with, then the candidate's own values, as
        // `--set` reads a value (JSON, or else a string).
        let sets = self.sets.iter().filter_map(|s| s.split_once('='));
        for (k, v) in
            sets.chain(self.pointers.iter().zip(&self.points[b]).map(|(k, v)| (k.as_str(), v.as_str())))
        {
            let v = serde_json::from_str(v).unwrap_or_else(|_| Value::String(v.to_string()));
            // A value under an object set before goes inside it (`budget/percent=5` after
            // `budget={"percent": 20, ...}` reads as one budget of percent 5, not as two
            // overrides of which the later wins).
            if !fold_into(&mut m, k, &v) {
                m.insert(k.to_string(), v);
            }
        }
        let mut e = Map::new();
        e.insert("tuned".into(), Value::Object(m));
        Some(Value::Object(e))
    }

    /// The entry as text to paste inside `"variants": { … }`.
    pub fn variant_text(&self) -> Option<String> {
        let v = self.variant_entry()?;
        let s = serde_json::to_string_pretty(&v).ok()?;
        // Without the outer braces: the member itself.
        let inner: Vec<&str> = s.lines().collect();
        Some(
            inner[1..inner.len() - 1]
                .iter()
                .map(|l| l.strip_prefix("  ").unwrap_or(l))
                .collect::<Vec<_>>()
                .join("\n"),
        )
    }

    /// Why a candidate ended where it did, in words.
    pub fn why(&self, p: usize) -> String {
        let g0 = (0..self.goals.len()).find(|&g| self.goals[g].sense.is_some()).unwrap_or(0);
        let name = |g: usize| self.goals[g].text.clone();
        let diff = |g: usize, d: &Paired| {
            let u = self.goals[g].unit();
            // To the place the interval supports: two significant digits of its half-width.
            let at = |x: f64| match ci_decimals((d.hi - d.lo) / 2.0) {
                Some(k) => format!("{x:.k$}"),
                None => num(x),
            };
            let lo = signed(&at(d.lo));
            let hi = signed(&at(d.hi));
            format!(
                "{} {} (95% interval {lo} to {}, {} seeds)",
                if d.mean >= 0.0 { "by" } else { "ahead by" },
                with_unit(&at(d.mean.abs()), u),
                with_unit(&hi, u),
                d.n
            )
        };
        // A constraint's miss, `mean ± half, short by x` to the interval's place.
        let short = |goal: usize, mean: f64, half: f64, short: f64| {
            let u = self.goals[goal].unit();
            let by = match ci_decimals(half) {
                Some(k) => with_unit(&format!("{short:.k$}"), u),
                None => value(short, u),
            };
            format!("{}, short by {by}", value_pm(mean, half, u))
        };
        // A candidate judged at the last rung ran every seed: the race stopped it, but not
        // early.
        let n = self.seeds.len();
        let after = |seeds: usize| {
            if seeds == n {
                format!("ruled out after all {seeds} seeds")
            } else {
                format!("stopped after {seeds} seeds")
            }
        };
        match &self.race.fates[p] {
            Fate::Best => format!("best on {} among those meeting every constraint", name(g0)),
            Fate::Tied(d) => format!("tied with the best on {}: behind {}", name(g0), diff(g0, d)),
            Fate::Front(d) => format!("on the Pareto front; behind the best on {} {}", name(g0), diff(g0, d)),
            Fate::Behind(d) if d.n == 0 => "ran every seed".into(),
            Fate::Behind(d) => {
                format!("meets the constraints; behind the best on {} {}", name(g0), diff(g0, d))
            }
            Fate::Unmet { goal, mean, half, short: by } => format!(
                "fails {} on its mean ({}), though not clearly after all seeds",
                name(*goal),
                short(*goal, *mean, *half, *by)
            ),
            Fate::Infeasible { goal, mean, half, short: by, seeds } => {
                format!("{}: {} fails ({})", after(*seeds), name(*goal), short(*goal, *mean, *half, *by))
            }
            Fate::NoData { goal, seeds } => {
                format!("{}: {} measured nothing on some seed", after(*seeds), name(*goal))
            }
            Fate::Worse { by, diffs, seeds } => {
                let objs: Vec<usize> =
                    (0..self.goals.len()).filter(|&g| self.goals[g].sense.is_some()).collect();
                let parts: Vec<String> =
                    objs.iter().zip(diffs).map(|(&g, d)| format!("on {} {}", name(g), diff(g, d))).collect();
                format!("{}: worse than #{by} {}", after(*seeds), parts.join("; "))
            }
            Fate::Budget { rank, of, seeds } => {
                format!("{}: out of budget (ranked {rank} of {of})", after(*seeds))
            }
        }
    }
}

/// A figure with its unit: `17.16 ms`, `99.87%`, `58.3/s`, `0.25`: four significant
/// digits, for a figure with no interval to round it to (a bound, a single seed).
pub fn value(x: f64, u: MetricUnit) -> String {
    if !x.is_finite() {
        return "n/a".into();
    }
    with_unit(&num(x), u)
}

fn with_unit(n: &str, u: MetricUnit) -> String {
    match u {
        MetricUnit::Ms => format!("{n} ms"),
        MetricUnit::Percent => format!("{n}%"),
        MetricUnit::PerSecond => format!("{n}/s"),
        MetricUnit::Number => n.to_string(),
    }
}

pub use crate::compare::ci_decimals;

/// A mean and its 95% half-width to the place the interval supports, with the unit once:
/// `134.1 ± 1.5 ms`, `94.80 ± 0.16%`, `389 ± 300 ms`; `100% ± 0` when every seed gave
/// the same figure; the mean alone (four significant digits) without an interval.
pub fn value_pm(mean: f64, half: f64, u: MetricUnit) -> String {
    if let Some(t) = crate::sweep::page::mean_pm(mean, half) {
        return with_unit(&t, u);
    }
    if mean.is_finite() && half == 0.0 {
        return format!("{} ± 0", value(mean, u));
    }
    value(mean, u)
}

/// `+1.95`, `−0.25`, `0`: a number already written, signed, with a true minus.
fn signed(n: &str) -> String {
    let zero = n.trim_start_matches('-').chars().all(|c| c == '0' || c == '.');
    match n.strip_prefix('-') {
        _ if zero => n.trim_start_matches('-').to_string(),
        Some(rest) => format!("−{rest}"),
        None if n == "n/a" => n.to_string(),
        None => format!("+{n}"),
    }
}

/// Four significant digits, at most four decimals, no trailing zeros.
pub fn num(x: f64) -> String {
    if x == 0.0 {
        return "0".into();
    }
    let d = (3 - x.abs().log10().floor() as i32).clamp(0, 4) as usize;
    let s = format!("{x:.d$}");
    let s = if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s };
    if s == "-0" { "0".into() } else { s }
}

/// How the candidates were chosen, in words.
pub fn design_text(r: &Report) -> String {
    match r.design {
        Design::Grid => format!("the grid: {} candidates", r.points.len()),
        Design::LatinHypercube { samples } => format!(
            "a Latin hypercube of {samples} samples (seed {}): {} distinct candidates",
            r.seeds.first().copied().unwrap_or(0),
            r.points.len()
        ),
    }
}

pub fn goal_kind(g: &Goal) -> (&'static str, &'static str) {
    let kind = match g.sense {
        Some(s) => s.word(),
        None => "constraint",
    };
    let from = match g.source {
        Source::Cli if g.sense.is_some() => "--objective",
        Source::Cli => "--constraint",
        Source::Scenario => "thresholds",
    };
    (kind, from)
}

/// The answer, as `tune` prints it and the page opens with.
pub fn answer_text(r: &Report) -> String {
    let mut s = String::new();
    match r.race.best {
        Some(b) => {
            s += &format!("best: #{b}: {}\n", r.params_text(b));
            for (g, goal) in r.goals.iter().enumerate() {
                let (m, h) = r.stat(b, g);
                s += &format!(
                    "  {}: {} (mean ± 95% interval over {} seeds)\n",
                    goal.text,
                    value_pm(m, h, goal.unit()),
                    r.race.seeds_run(b)
                );
            }
            let tied = r.tied();
            if tied.is_empty() {
                s += "tied with it: none (every other candidate is clearly behind, or fails a constraint)\n";
            } else {
                let t: Vec<String> = tied.iter().map(|&p| format!("#{p} ({})", r.params_text(p))).collect();
                s += &format!("tied with it: {}\n", t.join(", "));
            }
            let front: Vec<String> = r
                .front()
                .into_iter()
                .filter(|&p| p != b)
                .map(|p| format!("#{p} ({})", r.params_text(p)))
                .collect();
            if !front.is_empty() {
                s += &format!("also on the Pareto front of the two objectives: {}\n", front.join(", "));
            }
            if let Some(v) = r.variant_text() {
                let on_top = match &r.variant {
                    Some(n) => format!("; it goes with variant {n}'s overrides, merge them"),
                    None => String::new(),
                };
                s += &format!("as a variant (paste into the scenario's \"variants\"{on_top}):\n{v}\n");
            }
        }
        None => s += "no candidate meets every constraint: see each candidate's reason\n",
    }
    s += &format!(
        "runs: {} (candidate × seed pairs) of a budget of {}; every candidate on every seed would be {}\n",
        r.race.runs,
        r.budget,
        r.full()
    );
    s
}

/// Every output file: the charts, `tune.json`, `tune.md`, `tune.html`.
pub fn files(r: &Report) -> Vec<(String, String)> {
    let charts = super::page::charts(r);
    let mut out: Vec<(String, String)> = charts.iter().map(|c| (c.file.clone(), c.svg.clone())).collect();
    out.push(("tune.json".into(), super::json::to_json(r)));
    out.push(("tune.md".into(), super::page::markdown(r, &charts)));
    out.push(("tune.html".into(), super::page::html(r, &charts)));
    out
}

/// Puts `value` at pointer `key` inside an earlier entry of `m` whose pointer is a
/// prefix of `key` and whose value is an object holding the rest of the path but its
/// last token; false when there is none.
fn fold_into(m: &mut Map<String, Value>, key: &str, value: &Value) -> bool {
    for (k, v) in m.iter_mut() {
        let Some(rest) = key.strip_prefix(k.as_str()).filter(|r| r.starts_with('/')) else { continue };
        let (parent, last) = rest.rsplit_once('/').expect("rest starts with /");
        let target = if parent.is_empty() { Some(&mut *v) } else { v.pointer_mut(parent) };
        if let Some(Value::Object(o)) = target {
            o.insert(last.replace("~1", "/").replace("~0", "~"), value.clone());
            return true;
        }
    }
    false
}

#[cfg(test)]
mod fold_tests {
    use super::fold_into;
    use serde_json::{Map, Value, json};

    #[test]
    fn a_value_under_an_object_set_before_goes_inside_it() {
        let mut m = Map::new();
        m.insert("/policies/c/retry/budget".into(), json!({"percent": 20, "min_per_second": 10}));
        assert!(fold_into(&mut m, "/policies/c/retry/budget/percent", &json!(5)));
        assert!(!fold_into(&mut m, "/policies/c/timeout", &json!("100ms")));
        // A sibling whose name starts alike is not under it.
        assert!(!fold_into(&mut m, "/policies/c/retry/budgets", &json!(1)));
        assert_eq!(
            Value::Object(m),
            json!({"/policies/c/retry/budget": {"percent": 5, "min_per_second": 10}})
        );
    }
}
