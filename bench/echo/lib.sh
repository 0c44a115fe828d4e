# shellcheck shell=bash
# Shared by bench/echo/run.sh and bench/echo/tracing.sh: start and stop echo
# servers, run loads against them, print tables. Sourced, not run; the caller
# sets `bin` (the echo_load directory) and `work` (a scratch directory).
# shellcheck disable=SC2154 # bin and work come from the caller

declare -A server_pid=() server_port=()

# start_server NAME [ENV=VALUE...] -- PROGRAM [ARGS...]: starts PROGRAM on a
# free loopback port with the given environment, as server NAME.
start_server() {
  local name=$1 out="$work/$1.out" envs=()
  shift
  while [[ $1 != -- ]]; do envs+=("$1"); shift; done
  shift
  : >"$out"
  env "${envs[@]}" "$@" --port 0 >"$out" 2>"$work/$name.err" &
  server_pid[$name]=$!
  for _ in $(seq 100); do  # 5 s at most
    server_port[$name]=$(awk '/^port /{print $2}' "$out")
    [[ -n ${server_port[$name]} ]] && return 0
    sleep 0.05
  done
  echo "$name did not start: $(cat "$work/$name.err")" >&2
  stop_server "$name"
  return 1
}

# stop_server NAME: SIGTERM (a traced server writes its end record), then
# SIGKILL if it has not gone within 10 s.
stop_server() {
  local pid=${server_pid[$1]:-}
  [[ -n $pid ]] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  unset "server_pid[$1]"
}

stop_all_servers() {
  local name
  for name in "${!server_pid[@]}"; do stop_server "$name"; done
}

# load NAME ARGS...: one bounded echo_load run against server NAME.
load() {
  local name=$1
  shift
  timeout 60 "$bin/echo_load" --port "${server_port[$name]}" --server-pid "${server_pid[$name]}" "$@"
}

# field KEY LINE: the value after KEY in an echo_load result line.
field() {
  awk -v k="$1" '{for (i = 1; i < NF; ++i) if ($i == k) print $(i + 1)}' <<<"$2"
}

# record NAME WORKLOAD ROUND LINE: appends the result line's figures to
# $work/results.tsv.
record() {
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$(field rtt_per_s "$4")" \
    "$(field mb_per_s "$4")" "$(field server_cpu_ns_per_rt "$4")" \
    "$(field server_main_cpu_ns_per_rt "$4")" >>"$work/results.tsv"
}

# print_table BASE: per workload, each server's medians over the rounds, and
# ratios to server BASE: of the medians, and the median of the per-round
# ratios (a server and BASE ran seconds apart within a round).
print_table() {
  python3 - "$work/results.tsv" "$1" <<'PY'
import collections, statistics, sys
data = collections.defaultdict(dict)  # (workload, server) -> round -> (rtt/s, MB/s, cpu ns, main thread cpu ns)
servers, workloads = [], []
for line in open(sys.argv[1]):
    server, workload, rnd, rtt, mb, cpu, main = line.rstrip("\n").split("\t")
    data[(workload, server)][rnd] = (float(rtt), float(mb), float(cpu or 0), float(main or 0))
    if server not in servers: servers.append(server)
    if workload not in workloads: workloads.append(workload)
base = sys.argv[2]
servers.sort(key=lambda s: s != base)  # the base first
med = statistics.median
for w in workloads:
    col = 1 if w.startswith("mb") else 0
    unit = "MB/s" if col else "round trips/s"
    print(f"\n{w}: {unit} (higher is better); server CPU ns per round trip, all threads and")
    print(f"the loop's thread (lower is better); ratios to {base}")
    print(f"  {'server':<18}{unit:>14}{'ratio':>7}{'per-round':>10}{'cpu/rt':>8}{'ratio':>7}{'per-round':>10}"
          f"{'loop/rt':>8}{'ratio':>7}{'per-round':>10}   all rounds ({unit})")
    b = data[(w, base)]
    for s in servers:
        d = data[(w, s)]
        if not d: continue
        v = med(x[col] for x in d.values())
        c = med(x[2] for x in d.values())
        m = med(x[3] for x in d.values())
        bv, bc = med(x[col] for x in b.values()), med(x[2] for x in b.values())
        bm = med(x[3] for x in b.values())
        def per_round(i):
            ratios = [d[r][i] / b[r][i] for r in d if r in b and b[r][i]]
            return med(ratios) if ratios else 0
        runs = " ".join(f"{x[col]:.0f}" for x in d.values())
        print(f"  {s:<18}{v:>14.0f}{v / bv:>7.3f}{per_round(col):>10.3f}{c:>8.0f}"
              f"{(c / bc if bc else 0):>7.3f}{per_round(2):>10.3f}{m:>8.0f}{(m / bm if bm else 0):>7.3f}"
              f"{per_round(3):>10.3f}   {runs}")
PY
}
