#!/usr/bin/env bash
# ctest `install.consumer`: installs a build tree into a scratch prefix, then
# checks that a program outside the tree can use it in the two documented ways:
#   1. CMake:      find_package(tornado-cpp CONFIG REQUIRED) + tornado::core
#   2. pkg-config: c++ $(pkg-config --cflags tornado-cpp) main.cc $(pkg-config --libs tornado-cpp)
# Both programs must run and print "consumer ok".
set -euo pipefail

usage() {
  echo "usage: $0 --build-dir DIR --work-dir DIR --consumer DIR --cxx COMPILER" \
       "[--config CFG] [--generator GEN] [--flags 'SANITIZER FLAGS']" >&2
  exit 2
}

build_dir="" work_dir="" consumer="" cxx="" config="" generator="" flags=""
while (($#)); do
  (($# >= 2)) || usage
  case "$1" in
    --build-dir) build_dir="$2" ;;
    --work-dir) work_dir="$2" ;;
    --consumer) consumer="$2" ;;
    --cxx) cxx="$2" ;;
    --config) config="$2" ;;
    --generator) generator="$2" ;;
    --flags) flags="$2" ;;
    *) usage ;;
  esac
  shift 2
done
[[ -n "$build_dir" && -n "$work_dir" && -n "$consumer" && -n "$cxx" ]] || usage

read -r -a flag_array <<< "$flags"
prefix="$work_dir/prefix"
step() { printf '\n== %s\n' "$*"; }

expect_consumer_ok() {
  local output
  output="$("$1")"
  printf '%s\n' "$output"
  if [[ "$output" != *"consumer ok"* ]]; then
    echo "FAIL: $1 did not print 'consumer ok'" >&2
    exit 1
  fi
}

rm -rf "$work_dir"
mkdir -p "$work_dir"

step "install $build_dir into $prefix"
install_args=(--install "$build_dir" --prefix "$prefix")
[[ -n "$config" ]] && install_args+=(--config "$config")
cmake "${install_args[@]}"

step "CMake consumer: find_package(tornado-cpp) from $prefix"
configure_args=(-S "$consumer" -B "$work_dir/cmake-build"
  -DCMAKE_CXX_COMPILER="$cxx"
  -DCMAKE_PREFIX_PATH="$prefix"
  -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
  -DCMAKE_CXX_FLAGS="$flags"
  -DCMAKE_EXE_LINKER_FLAGS="$flags")
[[ -n "$generator" ]] && configure_args+=(-G "$generator")
[[ -n "$config" ]] && configure_args+=(-DCMAKE_BUILD_TYPE="$config")
cmake "${configure_args[@]}"
found_dir="$(sed -n 's/^tornado-cpp_DIR:PATH=//p' "$work_dir/cmake-build/CMakeCache.txt")"
if [[ "$found_dir" != "$prefix"/* ]]; then
  echo "FAIL: find_package found tornado-cpp in '$found_dir', not under $prefix" >&2
  exit 1
fi
cmake --build "$work_dir/cmake-build"
expect_consumer_ok "$work_dir/cmake-build/app"

step "pkg-config consumer"
pc_file="$(find "$prefix" -name tornado-cpp.pc -print -quit)"
[[ -n "$pc_file" ]] || { echo "FAIL: no tornado-cpp.pc under $prefix" >&2; exit 1; }
PKG_CONFIG_PATH="$(dirname "$pc_file")"
export PKG_CONFIG_PATH
read -r -a pc_cflags <<< "$(pkg-config --cflags tornado-cpp)"
read -r -a pc_libs <<< "$(pkg-config --libs tornado-cpp)"
set -x
"$cxx" "${flag_array[@]}" "${pc_cflags[@]}" "$consumer/main.cc" -o "$work_dir/app-pkg-config" \
  "${pc_libs[@]}"
{ set +x; } 2>/dev/null
# A shared build (BUILD_SHARED_LIBS=ON) has no rpath here; let the loader find it.
LD_LIBRARY_PATH="$(pkg-config --variable=libdir tornado-cpp)${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
  expect_consumer_ok "$work_dir/app-pkg-config"

step "install.consumer: OK"
