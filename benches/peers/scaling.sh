#!/usr/bin/env bash
# Events per second against requests in flight: faultline on an M/M/infinity station
# (scenarios/mminf.json) with about 1e2, 1e4 and 1e6 requests in flight, the same
# events in each run.
#
# usage: benches/peers/scaling.sh [path/to/faultline]     (from the project root)
#   env: RUNS (1; the median wall time is kept), SIZES ("1e2 1e4 1e6")
#
# The station gets 1,000,000 Poisson arrivals per simulated second for 20 s (2e7
# requests, 2 events each: arrival and service end, so about 4e7 events whatever the
# size); only the mean service time changes, so that requests in flight = rate x
# mean = 1e6/s x (100 us, 10 ms, 1 s). Two replicas of 1e6 workers each: no request
# ever waits (faultline's concurrency is at most 1e6 a replica). With a 1 s mean the
# station fills over the first few seconds, so the run's average is a little under
# 1e6; "at end" is the count the summary reports still in flight at 20 s.
#
# Columns: events = faultline's own count (summary JSON `events`); wall s = the whole
# process (/usr/bin/time: load, run, summary); CPU s = user + system time of the
# process, the figure to trust on a shared machine (wall includes waiting for a core);
# peak RSS = /usr/bin/time's maximum resident set size.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
faultline=${1:-target/release/faultline}
runs=${RUNS:-1}
sizes=${SIZES:-1e2 1e4 1e6}
scenario="$here/scenarios/mminf.json"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for size in $sizes; do
  # mean service time in microseconds at 1e6 arrivals per second
  mean_us=$(python3 -c "print(round(float('$size')))")   # size / 1e6 per s, in us
  for r in $(seq "$runs"); do
    /usr/bin/time -f '{"wall": %e, "user": %U, "sys": %S, "rss_kb": %M}' -o "$tmp/time" \
      "$faultline" run "$scenario" --json \
      --set "/services/station/endpoints/serve/latency/exponential/mean=${mean_us}us" \
      > "$tmp/out.json" 2> "$tmp/err" || { cat "$tmp/err" >&2; exit 1; }
    python3 - "$size" "$mean_us" "$tmp/out.json" "$tmp/time" "$tmp/err" >> "$tmp/rows" <<'EOF'
import json, sys
size, mean_us, out, tm, err = sys.argv[1:]
s, t = json.load(open(out)), json.load(open(tm))
w = s["workloads"]["load"]
print(json.dumps({"size": size, "mean_us": float(mean_us), "events": s["events"],
                  "in_flight_end": w["in_flight"], "latency_mean_ms": w["latency_ms"]["mean"],
                  "wall": t["wall"], "cpu": t["user"] + t["sys"], "rss_mb": t["rss_kb"] / 1024,
                  "stderr": open(err).read().strip().splitlines()[-1]}))
EOF
  done
done

python3 - "$tmp/rows" "$runs" <<'EOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
runs = int(sys.argv[2])
by = {}
for r in rows:
    by.setdefault(r["size"], []).append(r)
print(f"| in flight (rate x mean) | at end | service mean | events | wall s | events/s (wall) | CPU s | events/CPU-s | vs smallest | peak RSS MB |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
base = None
for size, rs in by.items():
    rs.sort(key=lambda r: r["wall"])
    r = rs[len(rs) // 2]  # median by wall time
    cpu = statistics.median(x["cpu"] for x in rs)
    eps_cpu = r["events"] / cpu
    base = base or eps_cpu
    mean = f"{r['mean_us'] / 1e3:g} ms" if r["mean_us"] >= 1000 else f"{r['mean_us']:g} us"
    print(f"| {float(size):,.0f} | {r['in_flight_end']:,} | {mean} | {r['events']:,} | {r['wall']:.1f} | "
          f"{r['events'] / r['wall'] / 1e6:.2f} M | {cpu:.1f} | {eps_cpu / 1e6:.2f} M | {eps_cpu / base:.2f}x | "
          f"{r['rss_mb']:.0f} |")
print()
print(f"median of {runs} run(s) per size; faultline's own stderr line per run:")
for r in rows:
    print("  " + r["stderr"])
EOF
