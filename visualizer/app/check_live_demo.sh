#!/usr/bin/env bash
# viz.live_demo: tornado-viz runs tornado-viz-demo live, headless, for a few
# seconds: the reader thread decodes while the UI thread ingests and draws.
# Under the tsan preset this is the app's cross-thread check (a ThreadSanitizer
# report makes tornado-viz exit nonzero). The dump must show one live session
# whose loop ran.
set -euo pipefail
viz=$1 demo=$2 out=$3
mkdir -p "$out"
rm -f "$out/state.json"
LIBGL_ALWAYS_SOFTWARE=1 xvfb-run -a -s "-screen 0 1280x800x24" \
  "$viz" --headless --dump-state "$out/state.json" --after-seconds 3 -- "$demo"
grep -q '"sessions": *1' "$out/state.json" || { echo "FAIL: no live session in the dump"; exit 1; }
grep -q '"iterations_total": *[1-9]' "$out/state.json" || { echo "FAIL: the loop's iterations are missing"; exit 1; }
echo "viz.live_demo: PASS"
