#!/usr/bin/env bash
# Fuzzes trace::decode() and the HTTP request parser with libFuzzer for a
# bounded time (SECONDS shared between the two) and prints one summary line
# per target ("fuzz: trace_decode PASS ..." or "... FAIL ...").
#
#   tests/fuzz/run.sh [SECONDS]    default 20; each target also capped at 5,000,000 inputs
#
# The main build uses g++, and libFuzzer comes with clang, so this compiles
# the few sources decode() needs (trace_file.cc, trace.cc, trace_clock.cc,
# name.cc) straight with clang++ -fsanitize=fuzzer,address,undefined. The seed corpus is a few
# small valid traces written at run time by make_seeds.cc; http_parse_fuzz.cc
# builds from core/src/http's parsers and starts from a few requests written
# here. Work files go to
# $TORNADO_FUZZ_DIR (default build/fuzz); a crashing input is kept there.
# Needs clang and libclang-rt-14-dev (tests/deps.sh installs them).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

seconds="${1:-20}"
work="${TORNADO_FUZZ_DIR:-build/fuzz}"
cxx="${CLANGXX:-clang++}"
sources=(core/src/trace_file.cc core/src/trace.cc core/src/trace_clock.cc core/src/name.cc)
# source_location_compat.h: clang 14 with libstdc++ 12 has no std::source_location.
flags=(-std=c++20 -g -O1 -fno-omit-frame-pointer -Icore/include
  -include tests/fuzz/source_location_compat.h)
sanitize=(-fsanitize=address,undefined -fno-sanitize-recover=all)

target=trace_decode
fail() {
  printf 'fuzz: %s FAIL: %s\n' "$target" "$*"
  exit 1
}

command -v "$cxx" > /dev/null || fail "$cxx not found (tests/deps.sh installs clang)"
rm -rf "$work/obj" "$work/corpus" "$work/http_corpus"
mkdir -p "$work/obj" "$work/corpus" "$work/http_corpus" "$work/crashes"

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

# Runs "$work/$1_fuzz" on corpus $2 for $3 seconds and prints its summary line.
run_target() {
  local name="$1" corpus_dir="$2" budget="$3" log="$work/$1_fuzz.log" status=0
  target="$name"
  "$work/${name}_fuzz" "$corpus_dir" -max_total_time="$budget" -runs=5000000 -timeout=10 \
    -artifact_prefix="$work/crashes/" -print_final_stats=1 > "$log" 2>&1 || status=$?
  local runs corpus
  runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)"
  corpus="$(find "$corpus_dir" -type f | wc -l)"
  if ((status != 0)); then
    tail -n 40 "$log"
    local crash
    crash="$(find "$work/crashes" -type f -newer "$work/${name}_fuzz" -print -quit)"
    fail "exit $status after ${runs:-?} inputs; input kept in ${crash:-$work/crashes}; log $log"
  fi
  printf 'fuzz: %s PASS: %s inputs in %ss, no crash (corpus %s files)\n' \
    "$name" "${runs:-?}" "$budget" "$corpus"
}

# The HTTP parsers need nothing else from the library.
target=http_parse
http_sources=(core/src/http/headers.cc core/src/http/start_line.cc core/src/http/url.cc
  core/src/http/chunked.cc)
"$cxx" "${flags[@]}" -Icore/src "${sanitize[@]}" -fsanitize=fuzzer tests/fuzz/http_parse_fuzz.cc \
  "${http_sources[@]}" -o "$work/http_parse_fuzz" || fail "building the fuzz target"
printf 'GET /a?x=1&y=%%20 HTTP/1.1\r\nHost: h\r\nX: 1\r\n  folded\r\n\r\n' > "$work/http_corpus/get"
printf 'POST / HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\nhello' > "$work/http_corpus/post"
printf 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4;e=1\r\nWiki\r\n0\r\nT: 1\r\n\r\n' \
  > "$work/http_corpus/chunked"

# The time budget is shared: half each, rounded up.
run_target trace_decode "$work/corpus" "$(((seconds + 1) / 2))"
run_target http_parse "$work/http_corpus" "$(((seconds + 1) / 2))"
