#!/usr/bin/env bash
# Runs a program under tornado-viz. With a display, the window opens and the
# session is also saved; with none ($DISPLAY unset), the session is recorded
# headless under Xvfb and leaves a screenshot, the panels' state as JSON and a
# Perfetto trace beside the recording.
#
#   visualizer/app/run_demo.sh [--build DIR] [--out DIR] [--seconds S] -- PROGRAM ARGS...
#
#   --build DIR   the build tree with tornado-viz and tornado-trace (default build/dev)
#   --out DIR     where the outputs go (default ./viz-demo)
#   --seconds S   headless: stop after S seconds (for a server that never exits);
#                 without it, the recording ends when the program does
#
# Outputs: OUT/session.trace, and with no display also OUT/screenshot.png,
# OUT/state.json and OUT/session.perfetto.json (open in ui.perfetto.dev).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="$here/build/dev"
out="$PWD/viz-demo"
seconds=""
while [[ $# -gt 0 && "$1" != "--" ]]; do
  case "$1" in
    --build) build="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    *) echo "run_demo.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
if [[ $# -lt 2 ]]; then
  echo "usage: run_demo.sh [--build DIR] [--out DIR] [--seconds S] -- PROGRAM ARGS..." >&2
  exit 2
fi
shift  # the --

viz="$build/visualizer/app/tornado-viz"
trace_tool="$build/core/tools/tornado-trace"
for tool in "$viz" "$trace_tool"; do
  [[ -x "$tool" ]] || { echo "run_demo.sh: $tool is not built" >&2; exit 2; }
done
mkdir -p "$out"

if [[ -n "${DISPLAY:-}" ]]; then
  exec "$viz" --save "$out/session.trace" -- "$@"
fi

if ! command -v xvfb-run > /dev/null; then
  echo "run_demo.sh: no display and no xvfb-run (tests/deps.sh viz installs it)" >&2
  exit 2
fi
args=(--headless --save "$out/session.trace" --screenshot "$out/screenshot.png"
      --dump-state "$out/state.json")
[[ -n "$seconds" ]] && args+=(--after-seconds "$seconds")
LIBGL_ALWAYS_SOFTWARE=1 xvfb-run -a -s "-screen 0 1920x1200x24" "$viz" "${args[@]}" -- "$@"
"$trace_tool" export --chrome "$out/session.trace" "$out/session.perfetto.json"
echo "run_demo.sh: wrote $out/session.trace, screenshot.png, state.json, session.perfetto.json"
