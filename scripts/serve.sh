#!/usr/bin/env bash
# Installs what is needed, builds, and starts a node on the embedded default:
# in-memory SQLite, port 3000 (or $PORT), the examples/ project.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/configure.sh
cmake --build build -j"$(nproc)" --target sluice
exec build/sluice serve --project examples
