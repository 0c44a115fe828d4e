#!/usr/bin/env bash
# tool.trace: traces a real program with TORNADO_TRACE (no code change), then
# checks what tornado-trace makes of it: info on a complete file, one dump
# line per event, and Chrome JSON that parses; then the same program traced
# live into `tornado-trace record` over a unix socket.
set -euo pipefail
program=$1 tool=$2 work=$3
mkdir -p "$work"
trace="$work/sample.trace"
rm -f "$trace"
TORNADO_TRACE="file:$trace" "$program" >/dev/null
"$tool" info "$trace" > "$work/info.txt"
grep -q '^complete: *yes' "$work/info.txt" || { cat "$work/info.txt"; echo "FAIL: trace incomplete"; exit 1; }
events=$(sed -n 's/^events: *\([0-9]*\) .*/\1/p' "$work/info.txt")
lines=$("$tool" dump "$trace" | wc -l)
[[ "$events" -gt 0 && "$lines" -eq "$events" ]] || { echo "FAIL: info says $events events, dump printed $lines lines"; exit 1; }
fired=$("$tool" dump "$trace" --kind timer_fired | wc -l)
[[ "$fired" -ge 1 ]] || { echo "FAIL: --kind timer_fired printed nothing"; exit 1; }
"$tool" export --chrome "$trace" "$work/sample.json"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); ev=d["traceEvents"] if isinstance(d,dict) else d; assert any(e.get("ph")=="X" for e in ev), "no X slices"; print(len(ev), "chrome events")' "$work/sample.json"

# Live: tornado-trace record listens, the program dials it through TORNADO_TRACE.
live="$work/live.trace"
sock="$work/live.sock"
rm -f "$live" "$sock"
"$tool" record "unix:$sock" "$live" --wait 20 2> "$work/record.txt" &
recorder=$!
for _ in $(seq 100); do [[ -S "$sock" ]] && break; sleep 0.05; done
TORNADO_TRACE="unix:$sock" "$program" >/dev/null
wait "$recorder" || { cat "$work/record.txt"; echo "FAIL: record did not complete"; exit 1; }
"$tool" info "$live" > "$work/live-info.txt"
grep -q '^complete: *yes' "$work/live-info.txt" || { cat "$work/live-info.txt"; echo "FAIL: live trace incomplete"; exit 1; }
live_fired=$("$tool" dump "$live" --kind timer_fired | wc -l)
[[ "$live_fired" -eq "$fired" ]] || { echo "FAIL: live trace has $live_fired timer_fired, file trace $fired"; exit 1; }
echo "tool.trace: PASS ($events events; live: $(grep -c . "$work/record.txt") lines from record)"
