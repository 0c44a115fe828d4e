#!/usr/bin/env bash
# The main job: build the release preset, then run the sample echo server
# (tutorials/05-echo, which starts its own clients with --demo) under
# tornado-viz. With a display the visualizer opens live on it; with none
# (CI, ssh) the session is recorded headless under Xvfb and leaves a
# screenshot, the panels' state as JSON, the recording, and a Perfetto trace
# in build/release/viz-demo/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

sample=tutorial-05-echo
out=build/release/viz-demo

tests/deps.sh viz
cmake --preset release
cmake --build --preset release --parallel "$(nproc 2>/dev/null || echo 2)" \
  --target "$sample" tornado-viz tornado-trace

printf '\n==> tornado-viz -- build/release/tutorials/%s --demo\n\n' "$sample"
visualizer/app/run_demo.sh --build build/release --out "$out" -- \
  "build/release/tutorials/$sample" --demo

if [[ -z "${DISPLAY:-}" ]]; then
  for f in session.trace screenshot.png state.json session.perfetto.json; do
    [[ -s "$out/$f" ]] || { printf '\nFAIL: %s/%s was not written\n' "$out" "$f" >&2; exit 1; }
  done
  build/release/core/tools/tornado-trace info "$out/session.trace"
  printf '\nScreenshot: %s\nPerfetto:   %s (open in https://ui.perfetto.dev)\n' \
    "$(realpath "$out/screenshot.png")" "$(realpath "$out/session.perfetto.json")"
fi
