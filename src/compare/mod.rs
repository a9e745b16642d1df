//! `faultline compare`: every variant on the same seeds, key figures as a mean and a 95%
//! confidence interval across seeds, and each variant's difference to the first.
//!
//! The seeds are shared by all variants (common random numbers: the same arrivals and
//! the same service times), so the difference to the baseline (the first variant) is
//! computed seed by seed (a paired comparison, [`stats::paired`]) and its interval is
//! usually much narrower than the intervals of the two means. Each figure knows which
//! way is better ([`Better`]); the best variant is the one with the best mean, and its
//! margin over the runner-up is a paired difference too.
//!
//! A workload's retries, hedges and breaker time count only the call edges its
//! requests traverse ([`reach`]). Each variant's overrides are worded from its pointers
//! and its resolved spec ([`words`]); threshold verdicts are tallied over the seeds.
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

mod bands;
mod cells;
mod json;
pub mod reach;
mod run_figures;
mod runs;
mod stats;
mod verdict;
pub mod words;

pub use bands::{BandFold, BandPoint, BandRun};
pub use cells::{
    Cells, Mark, ci_decimals, delta_cell, fmt_hw, fmt_pm, fmt_signed, fmt_val, table_list, table_rows,
};
pub use json::to_json;
pub use runs::{Failure, RunFailure, run_all};
pub use stats::{Better, Paired, Verdict, best, mean_ci, paired, t975};
pub use verdict::{Headline, ThresholdTally, headlines, winner_of};

use crate::charts::{RunCharts, VariantRuns};
use crate::model::RunOutput;
use crate::report::Summary;
use crate::report::summary::ThresholdVerdict;
use crate::spec::Spec;
use run_figures::{group_figures_of, saga_figures_of, workload_figures};

/// How a workload's retries, hedges and breaker time are attributed, as the page and
/// `compare.json` state it.
pub const ATTRIBUTION: &str = "retries/request, hedges/request and breaker open count only the call edges \
this workload's requests traverse (its client edge, then every call, parallel and route step reachable from its \
target, and a saga's action and compensation calls; not the consumers of what it publishes), per request it \
offered; an edge that several workloads traverse counts in each of them";

/// One figure of one variant: the value per seed.
#[derive(Clone, Debug)]
pub struct Figure {
    pub name: &'static str,
    pub unit: &'static str,
    /// Which way is better.
    pub better: Better,
    pub per_seed: Vec<f64>,
}

/// The figures of one table, per variant (`[variant][figure]`).
pub type PerVariant = Vec<Vec<Figure>>;

/// One figure's name, unit, direction and value in one run.
pub(crate) type Value1 = (&'static str, &'static str, Better, f64);

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
    /// Per variant: the per-interval mean and spread across seeds of the over-time
    /// charts (their confidence bands).
    bands: Vec<BandFold>,
    /// Per variant: each threshold's verdicts over the seeds, in file order.
    pub thresholds: Vec<Vec<ThresholdTally>>,
    /// Per variant: what it changes, in words (empty for none). Set by
    /// [`Comparison::set_changes`].
    pub changes: Vec<Vec<String>>,
    /// What every variant shares (`--set` overrides), in words.
    pub common_changes: Vec<String>,
    /// The command that reproduces this comparison, when known (the CLI sets it).
    pub command: Option<String>,
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
    bands: BandRun,
    thresholds: Vec<ThresholdVerdict>,
    events: u64,
    violations: Vec<String>,
}

/// `seeds 1..5`, `seed 7`: the seeds a comparison ran, as its tables label them.
pub fn seeds_label(seeds: &[u64]) -> String {
    match (seeds.first(), seeds.last()) {
        (Some(a), Some(b)) if seeds.len() > 1 => format!("seeds {a}..{b}"),
        (Some(a), _) => format!("seed {a}"),
        _ => "no seeds".into(),
    }
}

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
        let bands = variants.iter().map(|_| BandFold::default()).collect();
        let thresholds = variants.iter().map(|_| Vec::new()).collect();
        let changes = variants.iter().map(|_| Vec::new()).collect();
        Comparison {
            scenario: first.name.clone(),
            description: first.description.clone(),
            seeds,
            variants,
            workload_tables,
            saga_tables,
            group_tables,
            charts,
            bands,
            thresholds,
            changes,
            common_changes: Vec::new(),
            command: None,
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
            tables.push(workload_figures(spec, &summary, wl));
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
            bands: BandRun::of(spec, out),
            thresholds: summary.thresholds.clone(),
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
            for (i, (name, unit, better, x)) in values.into_iter().enumerate() {
                if figs.len() <= i {
                    figs.push(Figure { name, unit, better, per_seed: Vec::new() });
                }
                figs[i].per_seed.push(x);
            }
        }
        self.charts[v].add(d.charts);
        self.bands[v].add(d.bands);
        verdict::tally(&mut self.thresholds[v], &d.thresholds);
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

    /// The confidence bands of the over-time charts, variant by variant.
    pub fn bands(&self) -> &[BandFold] {
        &self.bands
    }

    /// Words what each variant changes: `overrides[v]` are variant `v`'s `(pointer,
    /// value)` overrides (see [`words::variant_overrides`]), `common` the `--set`
    /// overrides every variant shares; each is read against the variant's spec.
    pub fn set_changes(
        &mut self,
        overrides: &[Vec<(String, serde_json::Value)>],
        common: &[(String, serde_json::Value)],
    ) {
        for (v, list) in overrides.iter().enumerate().take(self.specs.len()) {
            self.changes[v] = list.iter().map(|(p, x)| words::override_words(&self.specs[v], p, x)).collect();
        }
        self.common_changes =
            common.iter().map(|(p, x)| words::override_words(&self.specs[0], p, x)).collect();
    }

    /// The baseline every paired difference is taken against: the first variant.
    pub fn baseline(&self) -> &str {
        &self.variants[0]
    }

    /// Every table of the comparison as cells, in order: the workloads first
    /// (`workload NAME`), then the sagas (`saga NAME`), then the consumer groups
    /// (`consumer group TOPIC/GROUP`). The text, Markdown and HTML renderings lay these
    /// out.
    pub fn tables(&self) -> Vec<Cells> {
        cells::all_cells(self)
    }
}

/// Per workload of the first variant, per figure, per variant: the values across seeds.
pub fn figures(c: &Comparison) -> &[(String, PerVariant)] {
    &c.workload_tables
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
