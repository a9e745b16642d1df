//! `faultline compare`: every variant on the same seeds, key figures as a mean and a 95%
//! confidence interval across seeds, and each variant's difference to the first.
//!
//! The seeds are shared by all variants (common random numbers: the same arrivals and
//! the same service times), so the difference to the first variant is computed seed by
//! seed (a paired comparison) and its interval is usually much narrower than the
//! intervals of the two means.
//!
//! Memory does not grow with the number of runs beyond a few numbers per run: each run
//! is reduced, as soon as it finishes, to its key figures and the data of the overlay
//! charts ([`RunDigest`]), and the digests are folded into the comparison in run order
//! (variant by variant, seed by seed). Runs go in parallel on a rayon pool in chunks of
//! a bounded size, each chunk folded in index order before the next starts, so the
//! floating-point sums are always added in the same order and the result does not
//! depend on the number of threads.
//!
//! Each run's key figures are read from its [`Summary`], the same figures its
//! summary JSON and report show. This module computes statistics and their cells
//! ([`Comparison::tables`], [`to_json`]); the text table is laid out in
//! `report`, the Markdown and HTML in `html`, the overlay charts in `charts`.

use crate::charts::{RunCharts, VariantRuns};
use crate::model::{RunError, RunOutput};
use crate::report::Summary;
use crate::spec::Spec;
use rayon::prelude::*;
use serde_json::{Map, Value, json};

/// One figure of one variant: the value per seed.
#[derive(Clone, Debug)]
pub struct Figure {
    pub name: &'static str,
    pub unit: &'static str,
    pub per_seed: Vec<f64>,
}

/// The figures of one table, per variant (`[variant][figure]`).
pub type PerVariant = Vec<Vec<Figure>>;

/// One figure's name, unit and value in one run.
type Value1 = (&'static str, &'static str, f64);

/// A comparison: the variants, the seeds, and what their runs measured, folded run by
/// run ([`Comparison::add`]).
pub struct Comparison {
    pub scenario: String,
    pub description: String,
    pub seeds: Vec<u64>,
    pub variants: Vec<String>,
    /// One per variant (its runs differ from it only by their seed).
    pub specs: Vec<Spec>,
    /// Per workload of the first variant: its table.
    workload_tables: Vec<(String, PerVariant)>,
    /// Per saga of any variant: its table.
    saga_tables: Vec<(String, PerVariant)>,
    /// Per consumer group of any variant (`(topic, group)`): its table.
    group_tables: Vec<((String, String), PerVariant)>,
    /// Per variant: what the overlay charts need.
    charts: Vec<VariantRuns>,
    /// Events simulated, over every run.
    pub events: u64,
    /// Invariants the model broke, over every run (always empty unless it has a bug).
    pub violations: Vec<String>,
}

/// What a comparison keeps of one run: its figures for every table (in the order of
/// [`Comparison`]'s tables), its chart data, its events and violations.
pub struct RunDigest {
    tables: Vec<Vec<Value1>>,
    charts: RunCharts,
    events: u64,
    violations: Vec<String>,
}

/// One table of a comparison, as text cells: its heading, its header (`figure`, then
/// per variant its name and, after the first, `Δ NAME`), and one row per figure.
#[derive(Clone, Debug)]
pub struct Cells {
    pub heading: String,
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// `seeds 1..5`, `seed 7`: the seeds a comparison ran, as its tables label them.
pub fn seeds_label(seeds: &[u64]) -> String {
    match (seeds.first(), seeds.last()) {
        (Some(a), Some(b)) if seeds.len() > 1 => format!("seeds {a}..{b}"),
        (Some(a), _) => format!("seed {a}"),
        _ => "no seeds".into(),
    }
}

/// A run of a comparison that failed.
#[derive(Debug)]
pub struct RunFailure {
    pub variant: String,
    pub seed: u64,
    pub error: Failure,
}

/// Why a run failed.
#[derive(Debug)]
pub enum Failure {
    /// It hit one of its limits.
    Limit(RunError),
    /// The model panicked: a bug in faultline (the panic message is on standard error).
    Panic,
}

impl std::fmt::Display for RunFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.error {
            Failure::Limit(e) => write!(f, "variant {}, seed {}: {e}", self.variant, self.seed),
            Failure::Panic => write!(
                f,
                "variant {}, seed {}: internal error: the simulation panicked (a bug in faultline; please \
                 report it with the replay command)",
                self.variant, self.seed
            ),
        }
    }
}

impl std::error::Error for RunFailure {}

/// Names in the order the variants list them: the first variant's, then any another
/// adds.
fn names_in_order<T: PartialEq>(specs: &[Spec], of: impl Fn(&Spec) -> Vec<T>) -> Vec<T> {
    let mut names: Vec<T> = Vec::new();
    for spec in specs {
        for n in of(spec) {
            if !names.contains(&n) {
                names.push(n);
            }
        }
    }
    names
}

impl Comparison {
    /// A comparison of `variants` (`specs[v]` is variant `v`'s spec) on `seeds`, with no
    /// run folded in yet. `specs` must not be empty.
    pub fn new(variants: Vec<String>, specs: Vec<Spec>, seeds: Vec<u64>) -> Comparison {
        let first = &specs[0];
        let empty = || variants.iter().map(|_| Vec::new()).collect::<PerVariant>();
        let workload_tables = first.workloads.iter().map(|w| (w.name.clone(), empty())).collect();
        let saga_tables = names_in_order(&specs, |s| s.sagas.iter().map(|g| g.name.clone()).collect())
            .into_iter()
            .map(|n| (n, empty()))
            .collect();
        let group_tables = names_in_order(&specs, |s| {
            s.topics.iter().flat_map(|t| t.groups.iter().map(|g| (t.name.clone(), g.name.clone()))).collect()
        })
        .into_iter()
        .map(|k| (k, empty()))
        .collect();
        let charts =
            variants.iter().zip(&specs).map(|(v, s)| VariantRuns::new(v.clone(), s.clone())).collect();
        Comparison {
            scenario: first.name.clone(),
            description: first.description.clone(),
            seeds,
            variants,
            workload_tables,
            saga_tables,
            group_tables,
            charts,
            specs,
            events: 0,
            violations: Vec::new(),
        }
    }

    /// Reduces `out`, a run of variant `v`, to what the comparison keeps of it.
    pub fn digest(&self, v: usize, out: &RunOutput) -> RunDigest {
        let spec = &self.specs[v];
        let summary = Summary::of(spec, out);
        let mut tables = Vec::new();
        for (wl, _) in &self.workload_tables {
            tables.push(workload_figures(&summary, wl));
        }
        for (name, _) in &self.saga_tables {
            tables.push(saga_figures_of(&summary, name));
        }
        for ((topic, group), _) in &self.group_tables {
            tables.push(group_figures_of(&summary, topic, group));
        }
        RunDigest {
            tables,
            charts: RunCharts::of(spec, out),
            events: out.events,
            violations: out.violations.clone(),
        }
    }

    /// Folds in the digest of the next run of variant `v`. Runs must come variant by
    /// variant in the order of `variants`, seed by seed in the order of `seeds`.
    pub fn fold(&mut self, v: usize, d: RunDigest) {
        let tables = self
            .workload_tables
            .iter_mut()
            .map(|t| &mut t.1)
            .chain(self.saga_tables.iter_mut().map(|t| &mut t.1))
            .chain(self.group_tables.iter_mut().map(|t| &mut t.1));
        for (per_variant, values) in tables.zip(d.tables) {
            let figs = &mut per_variant[v];
            for (i, (name, unit, x)) in values.into_iter().enumerate() {
                if figs.len() <= i {
                    figs.push(Figure { name, unit, per_seed: Vec::new() });
                }
                figs[i].per_seed.push(x);
            }
        }
        self.charts[v].add(d.charts);
        self.events = self.events.saturating_add(d.events);
        self.violations.extend(d.violations);
    }

    /// Digests and folds in the next run of variant `v` (see [`Comparison::fold`]).
    pub fn add(&mut self, v: usize, out: &RunOutput) {
        let d = self.digest(v, out);
        self.fold(v, d);
    }

    /// The chart data, variant by variant.
    pub fn variant_runs(&self) -> &[VariantRuns] {
        &self.charts
    }

    /// Every table of the comparison as cells, in order: the workloads first
    /// (`workload NAME`), then the sagas (`saga NAME`), then the consumer groups
    /// (`consumer group TOPIC/GROUP`). The text, Markdown and HTML renderings lay these
    /// out.
    pub fn tables(&self) -> Vec<Cells> {
        tables(self)
            .into_iter()
            .map(|(heading, per_variant)| {
                let (header, rows) = table_rows(self, per_variant);
                Cells { heading, header, rows }
            })
            .collect()
    }
}

/// Runs of one chunk in flight per thread, about: enough to keep every thread busy
/// while the slowest run of a chunk finishes, few enough that memory stays bounded.
const RUNS_PER_THREAD: usize = 4;

/// Runs every variant on every seed and folds the runs into a comparison;
/// `specs[v]` is variant `v`'s spec, and its run on seed `s` is that spec with its seed
/// replaced (the seed is applied last when a scenario loads, so this is the spec
/// loading with `--seed s` gives). `tick` is called once per finished run (for a
/// progress bar), from any thread. Call it inside the rayon pool to run on; the result
/// does not depend on its number of threads. The first run that fails, in run order,
/// is the error.
pub fn run_all(
    specs: Vec<Spec>,
    variants: Vec<String>,
    seeds: Vec<u64>,
    tick: &(dyn Fn() + Sync),
) -> Result<Comparison, RunFailure> {
    let mut c = Comparison::new(variants, specs, seeds);
    let pairs: Vec<(usize, u64)> =
        (0..c.variants.len()).flat_map(|v| c.seeds.iter().map(move |&s| (v, s))).collect();
    let chunk = (RUNS_PER_THREAD * rayon::current_num_threads()).max(1);
    for part in pairs.chunks(chunk) {
        let digests: Vec<Result<RunDigest, RunFailure>> = part
            .par_iter()
            .map(|&(v, seed)| {
                let mut spec = c.specs[v].clone();
                spec.seed = seed;
                // A panic in one run fails that run, named, rather than the process.
                let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    crate::model::run(&spec).map(|out| c.digest(v, &out))
                }));
                tick();
                let failed = |error| RunFailure { variant: c.variants[v].clone(), seed, error };
                match r {
                    Ok(Ok(d)) => Ok(d),
                    Ok(Err(e)) => Err(failed(Failure::Limit(e))),
                    Err(_) => Err(failed(Failure::Panic)),
                }
            })
            .collect();
        for (d, &(v, _)) in digests.into_iter().zip(part) {
            c.fold(v, d?);
        }
    }
    Ok(c)
}

/// Student's t quantile at 0.975 for `dof` degrees of freedom (95% two-sided).
pub fn t975(dof: usize) -> f64 {
    const T: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145,
        2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048,
        2.045, 2.042,
    ];
    match dof {
        0 => f64::NAN,
        d if d <= 30 => T[d - 1],
        d if d <= 60 => 2.000 + 0.042 * (60 - d) as f64 / 30.0,
        _ => 1.96,
    }
}

/// Mean and the half-width of its 95% confidence interval (NaN half-width with one
/// seed). NaN values (a figure a seed could not measure) are left out.
pub fn mean_ci(xs: &[f64]) -> (f64, f64) {
    let v: Vec<f64> = xs.iter().copied().filter(|x| !x.is_nan()).collect();
    let n = v.len();
    if n == 0 {
        return (f64::NAN, f64::NAN);
    }
    let m = v.iter().sum::<f64>() / n as f64;
    if n == 1 {
        return (m, f64::NAN);
    }
    let var = v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1) as f64;
    (m, t975(n - 1) * (var / n as f64).sqrt())
}

/// The key figures of workload `name` in one run; `NaN` when the variant has no such
/// workload or the run no figures for it.
fn workload_figures(s: &Summary, name: &str) -> Vec<Value1> {
    let Some(f) = s.workloads.get(name) else {
        let names = [
            ("success", "%"),
            ("goodput", "req/s"),
            ("p50", "ms"),
            ("p99", "ms"),
            ("p99.9", "ms"),
            ("retries/request", ""),
            ("hedges/request", ""),
            ("breaker open", "replica-s"),
        ];
        return names.into_iter().map(|(n, u)| (n, u, f64::NAN)).collect();
    };
    let ended = f.ok + f.failed.total();
    let q = |p: fn(&crate::report::summary::Quantiles) -> f64| f.latency_ms.get(p).unwrap_or(f64::NAN);
    // Retries and hedges on every edge, per request this workload offered (the edges are
    // shared by all workloads; with one workload this is exact).
    let offered_all: u64 = s.workloads.all().map(|(_, w)| w.offered).sum();
    let retries: u64 = s.calls.all().map(|(_, e)| e.retries).sum();
    let hedges: u64 = s.calls.all().map(|(_, e)| e.hedges).sum();
    let breaker_open: f64 = s.calls.all().map(|(_, e)| e.breaker.open_s).sum();
    vec![
        ("success", "%", if ended > 0 { 100.0 * f.ok as f64 / ended as f64 } else { f64::NAN }),
        ("goodput", "req/s", f.ok as f64 / s.window_s.max(1e-9)),
        ("p50", "ms", q(|l| l.p50)),
        ("p99", "ms", q(|l| l.p99)),
        ("p99.9", "ms", q(|l| l.p999)),
        ("retries/request", "", if offered_all > 0 { retries as f64 / offered_all as f64 } else { 0.0 }),
        ("hedges/request", "", if offered_all > 0 { hedges as f64 / offered_all as f64 } else { 0.0 }),
        ("breaker open", "replica-s", breaker_open),
    ]
}

/// Per workload of the first variant, per figure, per variant: the values across seeds.
pub fn figures(c: &Comparison) -> &[(String, PerVariant)] {
    &c.workload_tables
}

/// The key figures of the saga `name` in one run: each outcome as a share of the sagas
/// started, and the orphaned effects per 1000 sagas started. `NaN` when the variant has
/// no such saga or no saga started.
fn saga_figures_of(s: &Summary, name: &str) -> Vec<Value1> {
    let f = s.sagas.get(name).filter(|f| f.started > 0);
    let share = |n: Option<u64>, per: f64| match (n, f) {
        (Some(n), Some(f)) => per * n as f64 / f.started as f64,
        _ => f64::NAN,
    };
    vec![
        ("completed", "%", share(f.map(|f| f.completed), 100.0)),
        ("compensated", "%", share(f.map(|f| f.compensated), 100.0)),
        ("compensation failed", "%", share(f.map(|f| f.compensation_failed), 100.0)),
        ("abandoned", "%", share(f.map(|f| f.abandoned), 100.0)),
        ("orphaned", "per 1000 sagas", share(f.map(|f| f.orphaned), 1000.0)),
    ]
}

/// The key figures of consumer group `group` of `topic` in one run; `NaN` when the
/// variant has no such group (a run without figures for it reads as zeros, as in its
/// summary).
fn group_figures_of(s: &Summary, topic: &str, group: &str) -> Vec<Value1> {
    let f = s.topics.get(topic).and_then(|t| t.groups.get(group));
    let count = |n: Option<u64>| n.map_or(f64::NAN, |n| n as f64);
    vec![
        ("delivered", "messages", count(f.map(|f| f.delivered))),
        ("duplicates", "messages", count(f.map(|f| f.duplicates))),
        ("dead-lettered", "messages", count(f.map(|f| f.dead_lettered))),
        ("max lag", "messages", count(f.map(|f| f.max_lag))),
        ("p99", "ms", f.and_then(|f| f.latency_ms.get(|l| l.p99)).unwrap_or(f64::NAN)),
    ]
}

/// Per saga of any variant, per figure, per variant: the values across seeds.
pub fn saga_figures(c: &Comparison) -> &[(String, PerVariant)] {
    &c.saga_tables
}

/// Per consumer group of any variant (`(topic, group)`), per figure, per variant: the
/// values across seeds.
pub fn group_figures(c: &Comparison) -> &[((String, String), PerVariant)] {
    &c.group_tables
}

/// Every table of a comparison, in order: `(heading, figures per variant)`, the
/// workloads first, then the sagas (`saga NAME`), then the consumer groups
/// (`consumer group TOPIC/GROUP`).
fn tables(c: &Comparison) -> Vec<(String, &PerVariant)> {
    let mut out: Vec<(String, &PerVariant)> =
        figures(c).iter().map(|(wl, f)| (format!("workload {wl}"), f)).collect();
    out.extend(saga_figures(c).iter().map(|(n, f)| (format!("saga {n}"), f)));
    out.extend(group_figures(c).iter().map(|((t, g), f)| (format!("consumer group {t}/{g}"), f)));
    out
}

fn fmt_val(x: f64, unit: &str) -> String {
    if x.is_nan() {
        return "-".into();
    }
    let digits = if unit == "%" {
        2
    } else if x.abs() >= 100.0 {
        0
    } else if x.abs() >= 10.0 {
        1
    } else {
        2
    };
    format!("{x:.digits$}")
}

fn fmt_ci(m: f64, hw: f64, unit: &str) -> String {
    if hw.is_nan() { fmt_val(m, unit) } else { format!("{} ± {}", fmt_val(m, unit), fmt_val(hw, unit)) }
}

/// Paired differences to the first variant, seed by seed.
fn diff(a: &[f64], b: &[f64]) -> Vec<f64> {
    a.iter().zip(b).map(|(x, y)| y - x).collect()
}

/// Rows of the table for one workload: figure, then per variant "mean ± ci" and, after
/// the first, "Δ mean ± ci".
pub fn table_rows(c: &Comparison, per_variant: &[Vec<Figure>]) -> (Vec<String>, Vec<Vec<String>>) {
    let mut header = vec!["figure".to_string()];
    for (i, v) in c.variants.iter().enumerate() {
        header.push(v.clone());
        if i > 0 {
            header.push(format!("Δ {v}"));
        }
    }
    let mut rows = Vec::new();
    for (k, fig) in per_variant[0].iter().enumerate() {
        let label =
            if fig.unit.is_empty() { fig.name.to_string() } else { format!("{} ({})", fig.name, fig.unit) };
        let mut row = vec![label];
        for (v, figs) in per_variant.iter().enumerate() {
            let (m, hw) = mean_ci(&figs[k].per_seed);
            row.push(fmt_ci(m, hw, fig.unit));
            if v > 0 {
                let d = diff(&per_variant[0][k].per_seed, &figs[k].per_seed);
                let (dm, dhw) = mean_ci(&d);
                let sign = if dm > 0.0 { "+" } else { "" };
                row.push(if dm.is_nan() {
                    "-".into()
                } else if dhw.is_nan() {
                    format!("{sign}{}", fmt_val(dm, fig.unit))
                } else {
                    format!("{sign}{} ± {}", fmt_val(dm, fig.unit), fmt_val(dhw, fig.unit))
                });
            }
        }
        rows.push(row);
    }
    (header, rows)
}

/// Per variant, per figure: mean, ci95, per-seed values and the paired difference to
/// the first variant.
fn variants_json(c: &Comparison, per_variant: &[Vec<Figure>]) -> Value {
    let mut vars = Map::new();
    for (v, figs) in per_variant.iter().enumerate() {
        let mut fm = Map::new();
        for (k, f) in figs.iter().enumerate() {
            let (m, hw) = mean_ci(&f.per_seed);
            let d = diff(&per_variant[0][k].per_seed, &f.per_seed);
            let (dm, dhw) = mean_ci(&d);
            let num = |x: f64| if x.is_nan() { Value::Null } else { json!((x * 1e6).round() / 1e6) };
            fm.insert(
                f.name.to_string(),
                json!({"unit": f.unit, "mean": num(m), "ci95": num(hw),
                       "per_seed": f.per_seed.iter().map(|x| num(*x)).collect::<Vec<_>>(),
                       "diff_mean": num(dm), "diff_ci95": num(dhw)}),
            );
        }
        vars.insert(c.variants[v].clone(), Value::Object(fm));
    }
    Value::Object(vars)
}

/// The comparison as JSON: per workload, per variant, per figure: mean, ci95, per-seed
/// values and the paired difference to the first variant. When the scenario has sagas
/// or topics, `sagas` (`{saga: {variant: {figure: …}}}`) and `topics` (`{topic:
/// {"groups": {group: {variant: {figure: …}}}}}`) follow in the same form.
pub fn to_json(c: &Comparison) -> Value {
    let mut workloads = Map::new();
    for (wl, per_variant) in figures(c) {
        workloads.insert(wl.clone(), variants_json(c, per_variant));
    }
    let mut out =
        json!({"scenario": c.scenario, "seeds": c.seeds, "variants": c.variants, "workloads": workloads});
    let sagas = saga_figures(c);
    if !sagas.is_empty() {
        let mut m = Map::new();
        for (name, per_variant) in sagas {
            m.insert(name.clone(), variants_json(c, per_variant));
        }
        out["sagas"] = Value::Object(m);
    }
    let groups = group_figures(c);
    if !groups.is_empty() {
        let mut topics = Map::new();
        for ((topic, group), per_variant) in groups {
            let entry = topics.entry(topic.clone()).or_insert_with(|| json!({"groups": {}}));
            entry["groups"][group] = variants_json(c, per_variant);
        }
        out["topics"] = Value::Object(topics);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ci_of_a_known_sample() {
        // 1..=5: mean 3, sd sqrt(2.5), se sqrt(0.5), t(4) = 2.776.
        let (m, hw) = mean_ci(&[1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!(m, 3.0);
        assert!((hw - 2.776 * 0.5f64.sqrt()).abs() < 1e-9);
        assert!(mean_ci(&[7.0]).1.is_nan());
        assert_eq!(mean_ci(&[f64::NAN, 2.0, 4.0]).0, 3.0);
    }
}
