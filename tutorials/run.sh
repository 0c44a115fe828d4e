#!/usr/bin/env bash
# The main job: build the release preset and run the sample program
# (tutorials/02-ioloop), which shows the loop at work and writes a trace.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

sample=tutorial-02-ioloop
trace="build/release/sample-trace.txt"

if [[ -f visualizer/CMakeLists.txt ]]; then
  tests/deps.sh viz  # configuring the visualizer needs its packages
else
  tests/deps.sh
fi
cmake --preset release
cmake --build --preset release --parallel "$(nproc 2>/dev/null || echo 2)" --target "$sample" tornado-trace

printf '\n==> running build/release/tutorials/%s %s\n\n' "$sample" "$trace"
rm -f "$trace"
"build/release/tutorials/$sample" "$trace"

if [[ ! -s "$trace" ]]; then
  printf '\nFAIL: %s wrote no trace to %s\n' "$sample" "$trace" >&2
  exit 1
fi
printf '\nTrace written to %s (%s bytes)\n' "$(realpath "$trace")" "$(wc -c < "$trace")"

# The same program traced with no code change: TORNADO_TRACE records a binary
# trace, which tornado-trace summarises and turns into Perfetto/Chrome JSON.
binary="build/release/sample.trace"
json="build/release/sample-trace.json"
printf '\n==> TORNADO_TRACE=file:%s build/release/tutorials/%s\n' "$binary" "$sample"
TORNADO_TRACE="file:$binary" "build/release/tutorials/$sample" >/dev/null
build/release/core/tools/tornado-trace info "$binary"
build/release/core/tools/tornado-trace export --chrome "$binary" "$json"
printf '\nOpen %s in https://ui.perfetto.dev or chrome://tracing\n' "$(realpath "$json")"
