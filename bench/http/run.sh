#!/usr/bin/env bash
# The HTTP benchmark (docs/performance.md, "HTTP server"): tutorial 11's
# hello-world handler (GET / answers the 13-byte body "Hello, world!") under
# wrk, beside nginx with one worker (`return 200 "Hello, world!"`) and Python
# Tornado 6 (bench/http/hello_tornado.py) serving the same body. All servers
# run at once, each on its own loopback port; every round runs wrk against
# each server in turn, in an order that rotates from round to round, so the
# servers are always measured seconds apart:
#   c1    wrk -t1 -c1   -d3s   one keep-alive connection, one request at a time
#   c100  wrk -t1 -c100 -d3s   100 keep-alive connections
# Each run also reads the server's CPU time (utime + stime in /proc/PID/stat,
# of its process and its children: nginx's worker) before and after, and
# reports it per request: wrk and the servers share the machine's cores, so
# requests/s depend on who else runs, CPU per request much less.
#
# tornado_cpp is the tutorial as a user runs it, `tutorial-11-http --port P`,
# its access log (one line per request on stderr) going to a file.
# tornado_cpp_quiet is the same program with `--quiet`, as nginx runs
# with `access_log off` and Python Tornado logs nothing unless configured to.
#
# Builds nothing: BUILD_DIR must hold tutorials/tutorial-11-http (build it
# Release). Loopback only; every wrk run is bounded, and every server is
# stopped on exit (SIGTERM, then SIGKILL), also on Ctrl-C.
#
#   bench/http/run.sh BUILD_DIR [ROUNDS=5]
#
# Environment: HTTP_DURATION (seconds per run, default 3), PYTHON (an
# interpreter with Tornado 6, default /usr/bin/python3).
set -euo pipefail

if (($# < 1)) || [[ ! -x $1/tutorials/tutorial-11-http ]]; then
  echo "usage: $0 BUILD_DIR [ROUNDS]   (BUILD_DIR/tutorials/tutorial-11-http must exist)" >&2
  exit 2
fi
tutorial=$(cd "$1" && pwd)/tutorials/tutorial-11-http
rounds=${2:-5}
duration=${HTTP_DURATION:-3}
python=${PYTHON:-/usr/bin/python3}
here=$(cd "$(dirname "$0")" && pwd)
for tool in wrk nginx curl "$python"; do
  command -v "$tool" >/dev/null || { echo "$0: $tool not found (tests/deps.sh bench)" >&2; exit 2; }
done
work=$(mktemp -d)
declare -A server_pid=() server_port=()

stop_all_servers() {
  local name pid
  for name in "${!server_pid[@]}"; do
    pid=${server_pid[$name]}
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    unset "server_pid[$name]"
  done
}
trap 'stop_all_servers; rm -rf "$work"' EXIT
trap 'exit 130' INT  # exit through the EXIT trap (once the wrk running now ends)
trap 'exit 143' TERM

free_port() {
  "$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

write_nginx_conf() {  # PORT: one worker, the 13 bytes, no access log, long keep-alive
  mkdir -p "$work/nginx"
  cat >"$work/nginx/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  default_type text/plain;
  keepalive_requests 1000000;
  keepalive_timeout 60s;
  client_body_temp_path $work/nginx/body;
  proxy_temp_path $work/nginx/proxy;
  fastcgi_temp_path $work/nginx/fastcgi;
  uwsgi_temp_path $work/nginx/uwsgi;
  scgi_temp_path $work/nginx/scgi;
  server {
    listen 127.0.0.1:$1;
    location / { return 200 "Hello, world!"; }
  }
}
EOF
}

# start NAME: starts server NAME on a free port and waits until it answers
# GET / with exactly "Hello, world!" (5 s at most).
start() {
  local name=$1 port body
  port=$(free_port)
  case $name in
    tornado_cpp) "$tutorial" --port "$port" >"$work/$name.out" 2>"$work/$name.err" & ;;
    tornado_cpp_quiet)
      "$tutorial" --port "$port" --quiet >"$work/$name.out" 2>"$work/$name.err" &
      ;;
    nginx)
      write_nginx_conf "$port"
      nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -e "$work/nginx/error.log" \
        >"$work/$name.out" 2>"$work/$name.err" &
      ;;
    python) "$python" "$here/hello_tornado.py" "$port" >"$work/$name.out" 2>"$work/$name.err" & ;;
  esac
  server_pid[$name]=$! server_port[$name]=$port
  for _ in $(seq 100); do
    body=$(curl -s --max-time 1 "http://127.0.0.1:$port/" || true)
    [[ $body == "Hello, world!" ]] && return 0
    sleep 0.05
  done
  echo "$name did not answer on port $port: $(cat "$work/$name.err")" >&2
  exit 1
}

# cpu_ns PID: utime + stime of PID and its children, in ns.
cpu_ns() {
  local ticks=0 pid hz
  hz=$(getconf CLK_TCK)
  for pid in "$1" $(pgrep -P "$1" || true); do
    # Fields 14 and 15; the name (field 2) may hold spaces, so cut after ')'.
    ticks=$((ticks + $(sed 's/.*) //' "/proc/$pid/stat" | awk '{print $12 + $13}')))
  done
  echo $((ticks * 1000000000 / hz))
}

# measure NAME CONNECTIONS ROUND: one wrk run; appends a line to results.tsv.
measure() {
  local name=$1 conns=$2 round=$3 pid=${server_pid[$1]} before after out
  before=$(cpu_ns "$pid")
  out=$(timeout $((duration + 30)) wrk -t1 -c"$conns" -d"${duration}s" \
    "http://127.0.0.1:${server_port[$name]}/")
  after=$(cpu_ns "$pid")
  awk -v s="$name" -v w="c$conns" -v r="$round" -v cpu=$((after - before)) '
    /requests in/ { n = $1 }
    /Requests\/sec:/ { rps = $2 }
    /Socket errors:/ { gsub(",", ""); errors = $4 + $6 + $8 + $10 }
    /Non-2xx/ { bad = $NF }
    END { printf "%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\n", s, w, r, rps, n ? cpu / n : 0, n, errors, bad }
  ' <<<"$out" >>"$work/results.tsv"
  tail -1 "$work/results.tsv" | awk -F'\t' '{printf "round %s %s %-18s %10.0f req/s %7.0f ns cpu/req  (%d requests, %d socket errors, %d non-2xx)\n", $3, $2, $1, $4, $5, $6, $7, $8}'
}

servers=(tornado_cpp tornado_cpp_quiet nginx python)
echo "== $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2), $(nginx -v 2>&1 | cut -d' ' -f3)," \
  "Python $("$python" -c 'import sys, tornado; print(sys.version.split()[0], "Tornado", tornado.version)')"
echo "== $rounds rounds of ${servers[*]} (rotating order), wrk -t1 -c1 and -c100, ${duration} s each"
for name in "${servers[@]}"; do start "$name"; done
for name in "${servers[@]}"; do  # warm-up, not counted
  timeout 30 wrk -t1 -c100 -d1s "http://127.0.0.1:${server_port[$name]}/" >/dev/null
done
: >"$work/results.tsv"
for ((round = 1; round <= rounds; ++round)); do
  for conns in 1 100; do
    for ((i = 0; i < ${#servers[@]}; ++i)); do
      measure "${servers[(i + round) % ${#servers[@]}]}" "$conns" "$round"
    done
  done
done
echo "== load after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== access log lines written by tornado_cpp: $(wc -l <"$work/tornado_cpp.err")," \
  "by tornado_cpp_quiet: $(wc -l <"$work/tornado_cpp_quiet.err")"

# Per workload: each server's medians over the rounds; then each tornado-cpp
# variant against nginx and Python: the ratio of the medians, the median of
# the per-round ratios (the two ran seconds apart within a round), and the
# ratio of CPU per request.
"$python" - "$work/results.tsv" <<'PY'
import collections, statistics, sys
rows = collections.defaultdict(dict)  # (workload, server) -> round -> (req/s, cpu ns/req)
servers, workloads, errors = [], [], 0
for line in open(sys.argv[1]):
    server, workload, rnd, rps, cpu, n, err, bad = line.rstrip("\n").split("\t")
    rows[(workload, server)][rnd] = (float(rps), float(cpu))
    errors += int(err) + int(bad)
    servers += [server] if server not in servers else []
    workloads += [workload] if workload not in workloads else []
med = statistics.median
for w in workloads:
    print(f"\n{w}: medians of {len(rows[(w, servers[0])])} rounds")
    print(f"  {'server':<18}{'req/s':>9}{'cpu ns/req':>12}   all rounds (req/s)")
    for s in servers:
        d = rows[(w, s)].values()
        runs = " ".join(f"{x[0]:.0f}" for x in d)
        print(f"  {s:<18}{med(x[0] for x in d):>9.0f}{med(x[1] for x in d):>12.0f}   {runs}")
    print(f"  {'ratio':<32}{'req/s':>7}{'per-round':>10}{'cpu/req':>9}")
    for a in (s for s in servers if s.startswith("tornado_cpp")):
        for b in ("nginx", "python"):
            da, db = rows[(w, a)], rows[(w, b)]
            rps = med(x[0] for x in da.values()) / med(x[0] for x in db.values())
            per_round = med(da[r][0] / db[r][0] for r in da if r in db)
            cpu = med(x[1] for x in da.values()) / med(x[1] for x in db.values())
            print(f"  {a + ' / ' + b:<32}{rps:>7.2f}{per_round:>10.2f}{cpu:>9.2f}")
print(f"\nsocket errors and non-2xx responses, all runs: {errors}")
PY
