#!/usr/bin/env bash
# Regenerates every picture the Markdown shows, all in docs/images/, with the
# headless visualizer under xvfb-run (no display needed):
#   tutorial-NN.png   a tutorial step: its --demo recorded with TORNADO_TRACE,
#                     rendered at one moment (the `shot` lines below)
#   readme-echo.png   the README's: step 5's echo server and its clients run
#                     live under tornado-viz, as tutorials/run.sh does
#   viz-*.png         docs/visualizer.md's, by visualizer/app/make_doc_images.sh
# The docs.links test checks that every picture shown exists and every
# picture in docs/images is shown somewhere.
#
#   tutorials/make_images.sh [BUILD_DIR]   default build/release, which must
#     hold tornado-viz, tornado-viz-demo, tornado-trace and the tutorial programs
#     (cmake --preset release && cmake --build --preset release)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
build=${1:-build/release}
viz=$build/visualizer/app/tornado-viz
tool=$build/core/tools/tornado-trace
work=$build/tutorial-images  # the traces stay there, for tornado-viz or tornado-trace
for program in "$viz" "$viz-demo" "$tool"; do
  [[ -x $program ]] || { echo "make_images.sh: $program is not built" >&2; exit 2; }
done
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
shot 05-echo 'stream_closed' 1                   # the first client hung up; the others still talk
shot 06-locks 'waiter_enqueued +loop=1 object=1 ' 3  # 'permits': two holders, three waiters
shot 07-spider 'waiter_enqueued .*crawl' 1        # crawl waits in join(); two workers in get()
shot 08-chat 'stream_closed .*Reached maximum write buffer size'  # the server drops the slow client
shot 09-tls 'tls_handshake_finished' 4            # STARTTLS done: the failed and echoed pairs above
shot 10-subprocess                                # pipe streams and each child's exit fd
shot 11-http 'stream_connected +loop=1 ' 3        # three fetches in flight
shot 12-cores 'stream_closed' 20                  # the client halfway: 20 connections answered

# The README's picture: the end of a live session, like the main job's.
LIBGL_ALWAYS_SOFTWARE=1 xvfb-run -a -s "-screen 0 1920x1200x24" \
  "$viz" --headless --size 1280x800 --screenshot docs/images/readme-echo.png \
  -- "$build/tutorials/tutorial-05-echo" --demo > /dev/null
echo "wrote docs/images/readme-echo.png"

visualizer/app/make_doc_images.sh "$build"  # docs/visualizer.md's pictures
