#!/usr/bin/env bash
# Regenerates the tutorials' pictures, docs/images/tutorial-NN.png: records
# each step's --demo with TORNADO_TRACE and renders one moment of it with the
# headless visualizer (under xvfb-run, so no display is needed).
#
#   tutorials/make_images.sh [BUILD_DIR]   default build/release, which must
#                                          hold tornado-viz, tornado-trace and
#                                          the tutorial programs
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
build=${1:-build/release}
viz=$build/visualizer/app/tornado-viz
tool=$build/core/tools/tornado-trace
work=$build/tutorial-images  # the traces stay there, for tornado-viz or tornado-trace
mkdir -p "$work"

# shot STEP [PATTERN N]: the whole run of tutorial-STEP, or the moment just
# after the Nth event of `tornado-trace dump` whose line matches PATTERN.
shot() {
  local step=$1 pattern=${2:-} nth=${3:-1} trace="$work/$1.trace" at=() n out
  TORNADO_TRACE="file:$trace" "$build/tutorials/tutorial-$step" --demo > /dev/null 2> "$work/$step.err"
  if [[ -n $pattern ]]; then
    n=$("$tool" dump "$trace" | grep -n -E -- "$pattern" | sed -n "${nth}p" | cut -d: -f1)
    [[ -n $n ]] || { echo "$step: no event #$nth matches '$pattern'" >&2; exit 1; }
    at=(--at-event "$n")
  fi
  out="docs/images/tutorial-${step%%-*}.png"
  xvfb-run -a "$viz" "$trace" --headless --size 1280x800 --screenshot "$out" "${at[@]}"
  echo "wrote $out"
}

shot 03-futures                                   # three loops, six streams, all closed
shot 04-blocking                                  # the Blocking tab: slow_handler and its victim
shot 06-locks 'waiter_enqueued +loop=1 object=1 ' 3  # 'permits': two holders, three waiters
shot 10-subprocess                                # pipe streams and each child's exit fd
