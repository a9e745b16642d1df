#!/usr/bin/env bash
# Side-by-side speed of faultline and its peers on the same models, in one run:
# mmc (M/M/4) and chain (three M/M/8 stations in tandem with 0.1 ms hops).
#
# usage: benches/peers/run.sh [path/to/faultline]     (from the project root)
#   env: RUNS (3), N (1000000 measured customers for the peers), PEERS_WORK (build
#        and venv folder, default ~/.cache/faultline-peers), MODELS ("mmc chain")
# Prints one JSON line per engine and model, then a markdown table. faultline runs
# scenarios/MODEL.json: a front service that calls three stations in turn is the
# peers' tandem (see README.md). Its customers are set by the scenario's duration
# (about 1,010,000 with warm-up), not by N.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=${PEERS_WORK:-$HOME/.cache/faultline-peers}
mkdir -p "$work"
N=${N:-1000000}; WARMUP=${WARMUP:-10000}
models=${MODELS:-mmc chain}
out="$work/results-$(date +%Y%m%d-%H%M%S).jsonl"

# Build and install first, so that no build overlaps a timed run.
for p in rust_raw nexosim; do
  (cd "$here/$p" && CARGO_TARGET_DIR="$work/target-$p" cargo build --release -q)
done
if [ ! -x "$work/venv/bin/python" ]; then
  python3 -m venv "$work/venv"
  "$work/venv/bin/pip" install -q simpy==4.1.2
fi

bench() { python3 "$here/common/bench.py" "$@" | tee -a "$out"; }
faultline=
if [ $# -ge 1 ]; then
  faultline=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
fi
for m in $models; do
  if [ -n "$faultline" ]; then
    bench faultline "$m" -- python3 "$here/faultline_adapter.py" "$faultline" "$here/scenarios/$m.json"
  fi
  bench rust_raw "$m" -- "$work/target-rust_raw/release/rust_raw_peer" "$m" "$N" "$WARMUP" 42
  bench nexosim "$m" -- "$work/target-nexosim/release/nexosim_peer" "$m" "$N" "$WARMUP" 42 1
  bench simpy "$m" -- "$work/venv/bin/python" "$here/simpy/models.py" "$m" "$N" "$WARMUP"
done
echo
python3 "$here/common/table.py" "$out"
echo
echo "results: $out"
