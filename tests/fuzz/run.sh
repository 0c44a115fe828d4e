#!/usr/bin/env bash
# Fuzzes trace::decode() with libFuzzer for a bounded time and prints one
# summary line ("fuzz: trace_decode PASS ..." or "... FAIL ...").
#
#   tests/fuzz/run.sh [SECONDS]    default 20; also capped at 5,000,000 inputs
#
# The main build uses g++, and libFuzzer comes with clang, so this compiles
# the few sources decode() needs (trace_file.cc, trace.cc, name.cc) straight
# with clang++ -fsanitize=fuzzer,address,undefined. The seed corpus is a few
# small valid traces written at run time by make_seeds.cc. Work files go to
# $TORNADO_FUZZ_DIR (default build/fuzz); a crashing input is kept there.
# Needs clang and libclang-rt-14-dev (tests/deps.sh installs them).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

seconds="${1:-20}"
work="${TORNADO_FUZZ_DIR:-build/fuzz}"
cxx="${CLANGXX:-clang++}"
sources=(core/src/trace_file.cc core/src/trace.cc core/src/name.cc)
# source_location_compat.h: clang 14 with libstdc++ 12 has no std::source_location.
flags=(-std=c++20 -g -O1 -fno-omit-frame-pointer -Icore/include
  -include tests/fuzz/source_location_compat.h)
sanitize=(-fsanitize=address,undefined -fno-sanitize-recover=all)

fail() {
  printf 'fuzz: trace_decode FAIL: %s\n' "$*"
  exit 1
}

command -v "$cxx" > /dev/null || fail "$cxx not found (tests/deps.sh installs clang)"
rm -rf "$work/obj" "$work/corpus"
mkdir -p "$work/obj" "$work/corpus" "$work/crashes"

# The library sources once, with coverage for the fuzzer; both programs link them.
objects=()
for source in "${sources[@]}"; do
  object="$work/obj/$(basename "$source" .cc).o"
  "$cxx" "${flags[@]}" "${sanitize[@]}" -fsanitize=fuzzer-no-link -c "$source" -o "$object" ||
    fail "compiling $source"
  objects+=("$object")
done
"$cxx" "${flags[@]}" "${sanitize[@]}" -fsanitize=fuzzer tests/fuzz/trace_decode_fuzz.cc \
  "${objects[@]}" -o "$work/trace_decode_fuzz" || fail "building the fuzz target"
"$cxx" "${flags[@]}" "${sanitize[@]}" tests/fuzz/make_seeds.cc "${objects[@]}" \
  -o "$work/make_seeds" || fail "building make_seeds"
"$work/make_seeds" "$work/corpus" || fail "writing the seed corpus"

log="$work/trace_decode_fuzz.log"
status=0
"$work/trace_decode_fuzz" "$work/corpus" -max_total_time="$seconds" -runs=5000000 -timeout=10 \
  -artifact_prefix="$work/crashes/" -print_final_stats=1 > "$log" 2>&1 || status=$?

runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)"
corpus="$(find "$work/corpus" -type f | wc -l)"
if ((status != 0)); then
  tail -n 40 "$log"
  crash="$(find "$work/crashes" -type f -newer "$work/trace_decode_fuzz" -print -quit)"
  fail "exit $status after ${runs:-?} inputs; input kept in ${crash:-$work/crashes}; log $log"
fi
printf 'fuzz: trace_decode PASS: %s inputs in %ss, no crash (corpus %s files)\n' \
  "${runs:-?}" "$seconds" "$corpus"
