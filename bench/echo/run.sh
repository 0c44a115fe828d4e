#!/usr/bin/env bash
# The echo benchmark (docs/performance.md, "Echo server"). Builds nothing: give
# it the directory holding the binaries (BUILD/bench/echo). All servers run at
# once, each on its own loopback port; every round runs each workload against
# each server in turn, in an order that rotates from round to round, so a
# server and the floor are always measured seconds apart:
#   rtt_1    1 connection, 64-byte messages, round trips/s
#   rtt_100  100 connections, 64-byte messages, round trips/s
#   mb_64k   1 connection, 64 KiB messages, MB/s echoed
# Each load also reports the server's CPU time per round trip. Then (unless
# ECHO_MEMORY=0) each server, started afresh, gets N idle connections that
# never sent anything, then N that each echoed one 64-byte message, and its
# resident memory growth per connection is reported. Loopback only; every run
# is bounded (echo_load stops by itself, and is killed after 60 s if not).
#
#   bench/echo/run.sh BUILD/bench/echo [ROUNDS=5] [IDLE_CONNECTIONS=10000]
set -euo pipefail

if (($# < 1)) || [[ ! -x $1/echo_load ]]; then
  echo "usage: $0 BUILD/bench/echo [ROUNDS] [IDLE_CONNECTIONS]" >&2
  exit 2
fi
bin=$(cd "$1" && pwd)
rounds=${2:-5}
idle=${3:-10000}
duration=${ECHO_DURATION:-2}
work=$(mktemp -d)
# shellcheck source=bench/echo/lib.sh
source "$(dirname "$0")/lib.sh"
trap 'stop_all_servers; rm -rf "$work"' EXIT

# tornado runs on TCPServer; tornado_netutil is the same coroutine accepted by
# add_accept_handler directly (what TCPServer adds per connection, apart).
servers=(epoll_c tornado tornado_netutil)
[[ -x $bin/echo_server_libuv ]] && servers+=(libuv)
start() {
  case $1 in
    tornado_netutil) start_server "$1" -- "$bin/echo_server_tornado" --accept-handler ;;
    *) start_server "$1" -- "$bin/echo_server_$1" ;;
  esac
}
workloads=("rtt_1:--connections 1 --size 64" "rtt_100:--connections 100 --size 64"
  "mb_64k:--connections 1 --size 65536")

echo "== $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== $rounds rounds of ${servers[*]} (rotating order), ${duration} s per load after 0.5 s warm-up"
for name in "${servers[@]}"; do start "$name"; done
: >"$work/results.tsv"
for ((round = 1; round <= rounds; ++round)); do
  for workload in "${workloads[@]}"; do
    for ((i = 0; i < ${#servers[@]}; ++i)); do
      name=${servers[(i + round) % ${#servers[@]}]}
      # shellcheck disable=SC2086 # the workload's options split on purpose
      line=$(load "$name" ${workload#*:} --duration "$duration")
      record "$name" "${workload%%:*}" "$round" "$line"
      echo "round $round ${workload%%:*} $name: $line"
    done
  done
done
stop_all_servers
echo "== load after: $(cut -d' ' -f1-3 /proc/loadavg)"
print_table epoll_c

[[ ${ECHO_MEMORY:-1} == 0 ]] && exit 0
echo
echo "== resident memory growth per idle connection, $idle connections (bytes)"
for name in "${servers[@]}"; do
  for ping in "" --ping; do
    start "$name"
    line=$(load "$name" --idle "$idle" $ping)
    stop_server "$name"
    echo "$name ${ping:---no-message}: $line"
  done
done
