#!/usr/bin/env bash
# Installs what is needed, builds everything, and runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/install-test-tools.sh
scripts/configure.sh
cmake --build build -j"$(nproc)"
scripts/with-postgres.sh ctest --test-dir build --output-on-failure --timeout 600 -j2
