//! Wall time of the real topologies (issue 15): each `scenarios/real/*.json` runs its 60
//! simulated seconds at its load, as committed, and must take under a second of wall
//! time on one core in release. The bound is checked here, in a bench, not in a timed
//! test (a loaded CI machine would make such a test flaky).
//!
//! `cargo bench --bench real` prints, per topology, its events per run and criterion's
//! time per run; a run over one second is reported on standard error. Each run's event
//! count is asserted equal to the first, so a "faster" run that does less is caught.

use criterion::{Criterion, criterion_group, criterion_main};
use faultline::scenario::{LoadOptions, load_file};
use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The wall-time bound of one 60-simulated-second run.
const BOUND: Duration = Duration::from_secs(1);

fn scenarios() -> Vec<PathBuf> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/real");
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("scenarios/real")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    v.sort();
    v
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("real");
    g.sample_size(10);
    for path in scenarios() {
        let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or("?").to_string();
        let spec = load_file(&path, &LoadOptions::default()).expect("real topology loads");
        assert_eq!(spec.duration_ns, 60_000_000_000, "{name}: the real topologies run 60 simulated seconds");
        let t = Instant::now();
        let first = faultline::model::run(&spec).expect("real topology runs");
        let wall = t.elapsed();
        let events = first.events;
        eprintln!("{name}: {events} events in {:.3} s wall for 60 simulated seconds", wall.as_secs_f64());
        if wall > BOUND {
            eprintln!("{name}: OVER THE BOUND: {:.3} s > {:.3} s", wall.as_secs_f64(), BOUND.as_secs_f64());
        }
        g.bench_function(name.as_str(), |b| {
            b.iter(|| {
                let o = faultline::model::run(black_box(&spec)).expect("run");
                assert_eq!(o.events, events);
                o
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
