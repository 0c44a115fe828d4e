#!/usr/bin/env bash
# Regenerates the screenshots in docs/images/ that docs/visualizer.md shows,
# with tornado-viz's headless mode under Xvfb (software OpenGL).
# tutorials/make_images.sh runs it along with every other picture's maker.
#
#   visualizer/app/make_doc_images.sh [BUILD_DIR]   (default build/dev)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="$(cd "${1:-$root/build/dev}" && pwd)"
viz="$build/visualizer/app/tornado-viz"
images="$root/docs/images"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$images"
cd "$work"  # so the toolbar shows short file names

shoot() {  # shoot TRACE OUT.png [tornado-viz options...]
  local trace="$1" png="$2"
  shift 2
  LIBGL_ALWAYS_SOFTWARE=1 xvfb-run -a -s "-screen 0 1920x1200x24" \
    "$viz" "$trace" --headless --size 1280x800 --screenshot "$png" "$@"
}

# A value from a --dump-state file: json_get FILE PYTHON-EXPRESSION-ON-d
json_get() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }

# The kitchen demo: a queue, a lock, a pipe, and one blocking callback.
TORNADO_TRACE="file:kitchen.trace" "$build/visualizer/app/tornado-viz-demo" > /dev/null 2>&1
shoot kitchen.trace "$work/unused.png" --dump-state "$work/end.json"
block=$(json_get "$work/end.json" 'd["callbacks"]["blocking"][0]["index"]')
shoot kitchen.trace "$images/viz-blocking.png" --at-event $((block + 40))  # the next iteration: late timers fired
shoot kitchen.trace "$images/viz-overview.png" --at-event $((block / 2))

# Tutorial 02: just before the greeting timer fires, with the first tick pending.
TORNADO_TRACE="file:t02.trace" "$build/tutorials/tutorial-02-ioloop" > /dev/null 2>&1
shoot t02.trace "$work/unused.png" --dump-state "$work/t02.json"
greeting=$(json_get "$work/t02.json" \
  '[r["index"] for r in d["callbacks"]["recent"] if r["name"].startswith("greeting")][0]')
shoot t02.trace "$images/viz-tutorial-02.png" --at-event $((greeting - 1))
echo "wrote $images/viz-overview.png viz-blocking.png viz-tutorial-02.png"
