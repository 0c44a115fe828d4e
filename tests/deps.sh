#!/usr/bin/env bash
# Installs the Debian 12 packages needed to build and test tornado-cpp, and only
# the ones that are missing. Calls apt only when something is missing.
#
#   tests/deps.sh        core, tests (the fuzzer too), benchmarks, tutorials
#   tests/deps.sh viz    also the visualizer (ImGui, GLFW) and headless GL (Xvfb, Mesa)
#   tests/deps.sh bench  also the peers bench/peers_bench.cc compares against
#                        (standalone asio, libuv) and Python Tornado for
#                        bench/python/, and nginx for bench/http/; benchmarks
#                        are run by hand
set -euo pipefail

packages=(
  build-essential g++ cmake ninja-build pkg-config
  libgtest-dev libgmock-dev googletest
  libbenchmark-dev libssl-dev libre2-dev
  openssl curl netcat-openbsd ca-certificates  # real peers in the stream tests
  wrk python3  # real HTTP peers: a load client, and Python's http.server
  doxygen  # the `docs` target (API reference), checked for warnings by a test
  clang libclang-rt-14-dev  # tests/fuzz/run.sh: clang++ and libFuzzer
)
for arg in "$@"; do
  case "$arg" in
    viz) packages+=(libimgui-dev libglfw3-dev xvfb libgl1-mesa-dri mesa-utils) ;;
    bench) packages+=(libasio-dev libuv1-dev python3-tornado nginx-light) ;;
    *) echo "deps.sh: unknown argument '$arg' (expected: viz, bench)" >&2; exit 2 ;;
  esac
done

is_installed() {
  [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" == "install ok installed" ]]
}

missing=()
for pkg in "${packages[@]}"; do
  is_installed "$pkg" || missing+=("$pkg")
done

if ((${#missing[@]} == 0)); then
  echo "deps: all ${#packages[@]} packages present"
  exit 0
fi

if ((EUID != 0)); then
  echo "deps: missing packages: ${missing[*]}" >&2
  echo "deps: run as root, or install them with:" >&2
  echo "  sudo apt-get update && sudo apt-get install --no-install-recommends ${missing[*]}" >&2
  exit 1
fi

echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends "${missing[@]}"
