#!/usr/bin/env bash
# Installs the Debian packages ckpt needs to build and test (only those missing), then
# configures and builds the project into build/. Safe to run again and again.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

packages=(
  # build
  build-essential cmake pkg-config libunwind-dev libspdlog-dev libfmt-dev catch2 libcli11-dev
  libzstd-dev libxxhash-dev libsystemd-dev ccache
  # the checkpoint service (libraries/cps): etcd's JSON gateway over libcurl, nlohmann-json; etcd
  # itself for `ckptctl cps serve` and the tests (tests/cps)
  libcurl4-openssl-dev nlohmann-json3-dev etcd-server etcd-client
  # the fuzz targets (tests/fuzz): clang with libFuzzer's runtime (and the sanitizers')
  clang libclang-rt-dev
  # programs the end-to-end tests run (tests/e2e) and the test harness itself
  python3 perl bc gzip xz-utils sqlite3 mawk util-linux
  # the application-level libraries (libraries/): the SQLite stores
  libsqlite3-dev
  # the multi-threaded programs of tests/threads (coreutils sort is essential)
  zstd openjdk-17-jdk-headless nodejs
)

missing=()
if command -v dpkg >/dev/null 2>&1; then
  for p in "${packages[@]}"; do
    if ! dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed'; then
      missing+=("$p")
    fi
  done
else
  echo "setup.sh: no dpkg here; not installing packages (needed: ${packages[*]})" >&2
fi

if ((${#missing[@]})); then
  echo "setup.sh: installing ${missing[*]}"
  sudo=()
  if [[ $(id -u) -ne 0 ]]; then sudo=(sudo); fi
  "${sudo[@]}" apt-get update -q
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j2
