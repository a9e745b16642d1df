//! Parallel speed of a sweep: the same 8 points × 2 seeds (16 runs of about 0.1 s each
//! on one core) on a rayon pool of 1 thread and of 2 threads, through the sweep's own
//! runner (`faultline::sweep::runs::run_pairs`), the summaries kept in memory rather
//! than written, so that the disk is not measured.
//!
//! `cargo bench --bench sweep` prints criterion's time per sweep for `jobs/1` and
//! `jobs/2`; the speed-up is their ratio (issue 12 asks at least 0.8·N on N cores, 1.6×
//! on 2). The number of runs is a multiple of the threads and the runs are alike, so
//! the pool is never left waiting on one long run at the end. Each sweep's events are
//! asserted equal across thread counts, so a "faster" sweep that does less is caught.

use criterion::{Criterion, criterion_group, criterion_main};
use faultline::scenario::{LoadOptions, load_str};
use faultline::spec::Spec;
use faultline::sweep::runs::run_pairs;
use std::sync::Mutex;

/// M/M/c, c = 4, at 60 to 95% utilisation: the points differ in their service time.
const MMC: &str = r#"{
  "name": "bench-sweep", "duration": "8s", "warmup": "1s", "seed": 1,
  "services": {"pool": {"concurrency": 4, "endpoints": {"serve": {"latency": {"exponential": {"mean": "1ms"}}}}}},
  "workload": [{"name": "load", "target": "pool.serve", "arrival": {"poisson": {"rate": 3200}}}]
}"#;

fn specs() -> Vec<Spec> {
    ["0.75ms", "0.8ms", "0.85ms", "0.9ms", "0.95ms", "1ms", "1.1ms", "1.15ms"]
        .iter()
        .map(|m| {
            let sets = vec![format!("/services/pool/endpoints/serve/latency/exponential/mean={m}")];
            load_str(MMC, "bench", &LoadOptions { sets, ..Default::default() }).expect("bench scenario")
        })
        .collect()
}

fn sweep_on(threads: usize, specs: &[Spec], seeds: &[u64]) -> u64 {
    let pairs: Vec<(usize, usize)> =
        (0..specs.len()).flat_map(|p| (0..seeds.len()).map(move |s| (p, s))).collect();
    let bytes = Mutex::new(0usize);
    let sink = |_: usize, _: usize, text: String| {
        *bytes.lock().map_err(|e| e.to_string())? += text.len();
        Ok(())
    };
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("pool");
    pool.install(|| run_pairs(specs, seeds, &pairs, &sink, &|_| {})).expect("sweep runs")
}

fn bench(c: &mut Criterion) {
    let specs = specs();
    let seeds = [1u64, 2];
    let events = sweep_on(1, &specs, &seeds);
    assert_eq!(sweep_on(2, &specs, &seeds), events, "the thread count changed the work");
    println!("sweep: {} runs, {events} events per sweep", specs.len() * seeds.len());
    let mut g = c.benchmark_group("sweep");
    g.sample_size(10);
    for threads in [1usize, 2] {
        g.bench_function(format!("jobs/{threads}"), |b| b.iter(|| sweep_on(threads, &specs, &seeds)));
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
