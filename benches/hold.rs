//! The pending-set scaling figure: the classic *hold* model on the scheduler alone.
//!
//! N events are kept pending; each hold operation pops the earliest and schedules one
//! new event at `now + Exp(1 ms)` (so N stays constant). The `lanes` variant sends a
//! quarter of the new events through one of four lanes with fixed delays (0.5, 1, 2 and
//! 4 ms), as the model's timeouts do. Criterion's time per iteration is the time of one
//! hold operation, for the binary heap alone (the scheduler before issue 10), the radix
//! heap alone, and the adaptive queue (`Scheduler::new()`).
//!
//! `cargo bench --bench hold` runs the criterion benchmarks. For repeatable instruction
//! counts, `HOLD_OPS=<ops> HOLD_CASE=<kind>/<variant>/<n> target/release/deps/hold-*` runs
//! one case outside criterion (e.g. under `valgrind --tool=callgrind`): the difference
//! between two op counts, divided by it, is the cost of one hold operation.

use criterion::{BenchmarkId, Criterion, criterion_group};
use faultline::engine::{QueueKind, Scheduler};
use std::hint::black_box;

/// A 16-byte event, the size of the model's.
type Ev = (u64, u64);

const MEAN_NS: f64 = 1e6;
const LANE_DELAYS: [u64; 4] = [500_000, 1_000_000, 2_000_000, 4_000_000];

/// Pre-drawn exponential delays (drawing is not what is measured) and a cursor.
struct Draws {
    exp: Vec<u64>,
    i: usize,
}

impl Draws {
    fn new() -> Self {
        // xorshift64*, then inversion: deterministic and independent of the crate's rng.
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let exp = (0..1 << 16)
            .map(|_| {
                x ^= x >> 12;
                x ^= x << 25;
                x ^= x >> 27;
                let u = (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64;
                (-(1.0 - u).ln() * MEAN_NS) as u64
            })
            .collect();
        Draws { exp, i: 0 }
    }

    #[inline(always)]
    fn next(&mut self) -> u64 {
        self.i = (self.i + 1) & 0xFFFF;
        self.exp[self.i]
    }
}

struct Hold {
    s: Scheduler<Ev>,
    d: Draws,
    lanes: bool,
    n: u64,
}

impl Hold {
    fn new(kind: QueueKind, lanes: bool, n: usize) -> Self {
        let mut s = Scheduler::with_queue(kind);
        for _ in 0..LANE_DELAYS.len() {
            s.add_lane();
        }
        let mut h = Hold { s, d: Draws::new(), lanes, n: 0 };
        for _ in 0..n {
            h.schedule();
        }
        // Let the pending set reach its steady shape.
        for _ in 0..n.min(200_000) {
            h.op();
        }
        h
    }

    #[inline(always)]
    fn schedule(&mut self) {
        self.n += 1;
        let delay = self.d.next();
        if self.lanes && self.n.is_multiple_of(4) {
            let l = (self.n / 4 % 4) as usize;
            self.s.after_in_lane(l as u32, LANE_DELAYS[l], (self.n, delay));
        } else {
            self.s.after(delay, (self.n, delay));
        }
    }

    #[inline(always)]
    fn op(&mut self) {
        let e = self.s.pop().expect("the hold model keeps events pending");
        black_box(e);
        self.schedule();
    }
}

const KINDS: [(&str, QueueKind); 3] =
    [("binary", QueueKind::Binary), ("radix", QueueKind::Radix), ("adaptive", QueueKind::Adaptive)];

fn hold(c: &mut Criterion) {
    for (variant, lanes) in [("plain", false), ("lanes", true)] {
        let mut g = c.benchmark_group(format!("hold-{variant}"));
        for n in [100usize, 10_000, 1_000_000] {
            g.sample_size(if n >= 1_000_000 { 10 } else { 30 });
            for (name, kind) in KINDS {
                let mut h = Hold::new(kind, lanes, n);
                g.bench_with_input(BenchmarkId::new(name, n), &n, |b, _| b.iter(|| h.op()));
            }
        }
        g.finish();
    }
}

criterion_group!(benches, hold);

fn main() {
    if let (Ok(ops), Ok(case)) = (std::env::var("HOLD_OPS"), std::env::var("HOLD_CASE")) {
        let ops: u64 = ops.parse().expect("HOLD_OPS is a count");
        let parts: Vec<&str> = case.split('/').collect();
        let kind = KINDS.iter().find(|k| k.0 == parts[0]).expect("kind: binary, radix or adaptive").1;
        let lanes = parts[1] == "lanes";
        let n: usize = parts[2].parse().expect("n");
        let mut h = Hold::new(kind, lanes, n);
        let t = std::time::Instant::now();
        for _ in 0..ops {
            h.op();
        }
        let ns = t.elapsed().as_nanos() as f64 / ops.max(1) as f64;
        println!("{case}: {ops} hold operations, {ns:.1} ns each (wall clock), now {}", h.s.now());
        return;
    }
    benches();
    criterion::Criterion::default().configure_from_args().final_summary();
}
