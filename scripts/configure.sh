#!/usr/bin/env bash
# Configures build/ the one way both README commands use it (Release, the
# build users get), so running scripts/serve.sh then scripts/test.sh compiles
# each file once. SLUICE_WERROR=ON in the environment makes warnings errors
# (CI and developers); a user's build never stops on a compiler's warning.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DSLUICE_WERROR="${SLUICE_WERROR:-OFF}" >/dev/null
