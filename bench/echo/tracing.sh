#!/usr/bin/env bash
# What tracing costs on the echo benchmark (docs/performance.md, "What
# tracing costs"): tornado-cpp's echo server with 100 connections and 64-byte
# messages, in four builds/modes, each round running all four in an order
# that rotates from round to round:
#   off      built with -DTORNADO_TRACE=OFF (emission points compiled out)
#   no_sink  tracing compiled in, nothing attached
#   file     TORNADO_TRACE=file:/dev/shm/...        (file sink)
#   live     TORNADO_TRACE=unix:/dev/shm/....sock   with `tornado-trace record`
#            reading it into /dev/shm
# Each server is started afresh for its run and stopped after it; the traces'
# event and drop counts are printed, then the traces are deleted. Builds
# nothing; loopback only; every run bounded.
#
#   bench/echo/tracing.sh TRACED_BUILD NOTRACE_BUILD [ROUNDS=5]
# where each BUILD is a build directory (BUILD/bench/echo/echo_server_tornado,
# and TRACED_BUILD/core/tools/tornado-trace).
set -euo pipefail

if (($# < 2)) || [[ ! -x $1/bench/echo/echo_load || ! -x $2/bench/echo/echo_server_tornado ]]; then
  echo "usage: $0 TRACED_BUILD NOTRACE_BUILD [ROUNDS]" >&2
  exit 2
fi
bin=$(cd "$1/bench/echo" && pwd)
off=$(cd "$2/bench/echo" && pwd)/echo_server_tornado
tool=$(cd "$1/core/tools" && pwd)/tornado-trace
rounds=${3:-5}
duration=${ECHO_DURATION:-3}
work=$(mktemp -d)
shm=/dev/shm/tornado-echo-$$
# shellcheck source=bench/echo/lib.sh
source "$(dirname "$0")/lib.sh"
recorder=""
cleanup() {
  stop_all_servers
  [[ -n $recorder ]] && kill "$recorder" 2>/dev/null && wait "$recorder" 2>/dev/null
  rm -rf "$work" "$shm".*
}
trap cleanup EXIT

modes=(off no_sink file live)
echo "== $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== $rounds rounds of ${modes[*]} (rotating order), 100 connections x 64 B, ${duration} s after 0.5 s warm-up"
: >"$work/results.tsv"
for ((round = 1; round <= rounds; ++round)); do
  for ((i = 0; i < ${#modes[@]}; ++i)); do
    mode=${modes[(i + round) % ${#modes[@]}]}
    case $mode in
      off) start_server "$mode" -- "$off" ;;
      no_sink) start_server "$mode" -- "$bin/echo_server_tornado" ;;
      file) start_server "$mode" TORNADO_TRACE="file:$shm.trace" -- "$bin/echo_server_tornado" ;;
      live)
        "$tool" record "unix:$shm.sock" "$shm.trace" --wait 10 2>"$work/record.err" &
        recorder=$!
        sleep 0.2
        start_server "$mode" TORNADO_TRACE="unix:$shm.sock" -- "$bin/echo_server_tornado"
        # The program dials every 250 ms; wait until the reader has it.
        for _ in $(seq 40); do
          grep -q "waiting" "$work/record.err" && [[ -s $shm.trace ]] && break
          sleep 0.05
        done
        ;;
    esac
    line=$(load "$mode" --connections 100 --size 64 --duration "$duration")
    stop_server "$mode"
    if [[ $mode == live ]]; then
      wait "$recorder" || true  # it exits once the program has gone
      recorder=""
    fi
    note=""
    if [[ $mode == file || $mode == live ]]; then
      note=" | $("$tool" info "$shm.trace" 2>/dev/null | grep -E '^(events|dropped):' | tr -s ' ' | paste -sd' ' || true)"
      note+=" $(du -m "$shm.trace" | cut -f1) MB"
      rm -f "$shm.trace" "$shm.sock"
    fi
    record "$mode" rtt_100 "$round" "$line"
    echo "round $round $mode: $line$note"
  done
done
echo "== load after: $(cut -d' ' -f1-3 /proc/loadavg)"
print_table off
