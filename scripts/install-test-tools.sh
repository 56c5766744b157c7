#!/usr/bin/env bash
# Installs the test-only tools: Node.js and npm (Debian packages, when missing)
# and the pinned OpenAPI linter of tests/tools/openapi (npm ci, when missing),
# which tests/e2e/openapi_test.cpp runs on the served GET /openapi.json.
set -euo pipefail
cd "$(dirname "$0")/.."

run_as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "installing: nodejs npm"
  run_as_root apt-get update -qq
  run_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    nodejs npm
fi

# Redocly CLI 2 runs on Node.js 20.19+ (20.x) or 22.12+.
if ! node -e '
  const [major, minor] = process.versions.node.split(".").map(Number);
  process.exit((major === 20 && minor >= 19) || (major === 22 && minor >= 12) || major > 22 ? 0 : 1);'
then
  echo "Node.js $(node --version) is too old for tests/tools/openapi (Redocly CLI needs" \
       "20.19+ or 22.12+): install a newer nodejs package" >&2
  exit 1
fi

if [ ! -f tests/tools/openapi/node_modules/@redocly/cli/bin/cli.js ]; then
  npm ci --prefix tests/tools/openapi --no-audit --no-fund
fi
