#!/usr/bin/env bash
# Runs bench/sync_bench (C++) and bench/python/sync_bench.py (Tornado 6 and
# asyncio) back to back and prints tables of medians with ratios, so every
# figure comes from the same run on the same machine. Builds nothing.
#
#   bench/python/compare.sh BUILD_DIR/bench/sync_bench [REPETITIONS]
#
# Needs Debian's python3 with python3-tornado (tests/deps.sh bench); set
# PYTHON to use another interpreter.
set -euo pipefail

if (($# < 1)) || [[ ! -x "$1" ]]; then
  echo "usage: $0 PATH/TO/sync_bench [REPETITIONS]" >&2
  exit 2
fi
bench=$1
repetitions=${2:-5}
python=${PYTHON:-/usr/bin/python3}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')," \
  "load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== C++: $bench"
"$bench" --benchmark_repetitions="$repetitions" --benchmark_report_aggregates_only=true \
  --benchmark_out="$work/cpp.json" --benchmark_out_format=json
echo "== Python: $python $here/sync_bench.py"
"$python" "$here/sync_bench.py" --repetitions "$repetitions" >"$work/python.txt"
echo "== load after: $(cut -d' ' -f1-3 /proc/loadavg)"

# Medians in ns per operation, and how many times slower each Python runtime
# is than C++. CPU time is the comparison; wall time shows how much a busy
# machine stretched the run.
"$python" - "$work/cpp.json" "$work/python.txt" <<'PY'
import json, sys

names = {"BM_LockUncontended": "lock_uncontended", "BM_LockHandOff": "lock_hand_off",
         "BM_QueuePingPong": "queue_ping_pong"}
scale = {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}
cpp = {}
for b in json.load(open(sys.argv[1]))["benchmarks"]:
    if b.get("aggregate_name") == "median" and b["run_name"] in names:
        wall = b["real_time"] * scale[b["time_unit"]] / b["ops"]
        cpp[names[b["run_name"]]] = (b["per_op"] * 1e9, wall)  # per_op is in seconds
py = {}
for line in open(sys.argv[2]):
    workload, runtime, cpu, wall = line.split()
    py.setdefault(workload, {})[runtime] = (float(cpu), float(wall))

runtimes = ["tornado", "tornado_async", "asyncio"]
for column, title in ((0, "CPU"), (1, "wall")):
    print()
    print(f"median {title} ns per operation (ratio = Python / C++)")
    print(f"{'workload':<18}{'C++':>9}" + "".join(f"{r:>15}{'ratio':>8}" for r in runtimes))
    for workload in names.values():
        base = cpp[workload][column]
        row = f"{workload:<18}{base:>9.1f}"
        for r in runtimes:
            ns = py[workload][r][column]
            row += f"{ns:>15.1f}{ns / base:>7.0f}x"
        print(row)
PY
