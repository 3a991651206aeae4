#!/usr/bin/env bash
# Installs and builds (scripts/setup.sh), then runs every test; exits with ctest's status.
# One test at a time: the end-to-end tests start, kill and time real programs.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/setup.sh || exit $?
ctest --test-dir build --output-on-failure -j1 "$@"
