#!/usr/bin/env bash
# tool.trace: traces a real program with TORNADO_TRACE (no code change), then
# checks what tornado-trace makes of it: info on a complete file, one dump
# line per event, and Chrome JSON that parses.
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
echo "tool.trace: PASS ($events events)"
