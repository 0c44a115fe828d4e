#!/usr/bin/env bash
# The whole test suite:
#   dev   preset: every test (unit, install, tutorials, docs) under ASan + UBSan
#   fuzz:         tests/fuzz/run.sh, libFuzzer on the trace decoder and HTTP parser (40 s)
#   tsan  preset: the cross-thread tests (ctest label `threads`) under TSan
# Both presets always run; the summary at the end lists each step's result and
# the exit status is nonzero if any step failed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

jobs="$(nproc 2>/dev/null || echo 2)"
results=()
failed=0

# run_step LABEL COMMAND...: runs the command, records "PASS/FAIL LABEL".
run_step() {
  local label="$1"
  shift
  printf '\n==> %s: %s\n' "$label" "$*"
  if "$@"; then
    results+=("PASS  $label")
  else
    results+=("FAIL  $label (exit $?)")
    failed=1
    return 1
  fi
}

# run_preset NAME: configure, build, test; stops at the first failing step.
run_preset() {
  local preset="$1"
  run_step "$preset: configure" cmake --preset "$preset" || return 0
  run_step "$preset: build" cmake --build --preset "$preset" --parallel "$jobs" || return 0
  run_step "$preset: test" ctest --preset "$preset" --parallel "$jobs" || return 0
}

deps_args=()
if [[ -f visualizer/CMakeLists.txt ]]; then
  deps_args+=(viz)  # the visualizer is built by default once it exists
fi
run_step "dependencies" tests/deps.sh "${deps_args[@]}" || { printf '\nFAIL: could not install dependencies\n'; exit 1; }
run_preset dev
# libFuzzer on the trace decoder and the HTTP request parser, 20 s each.
run_step "fuzz: trace decode, HTTP parser" tests/fuzz/run.sh 40 || true
run_preset tsan

printf '\n==== tests/run.sh summary ====\n'
printf '  %s\n' "${results[@]}"
if ((failed)); then
  printf 'RESULT: FAILED\n'
  exit 1
fi
printf 'RESULT: all passed\n'
