#!/bin/sh
# Lints an OpenAPI document with the pinned Redocly CLI under the rules of
# redocly.yaml beside this script. Exit 0 when it passes, 1 when it does not,
# 3 when the CLI is not installed (run scripts/install-test-tools.sh).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
if [ $# -ne 1 ]; then
  echo "usage: $0 openapi.json" >&2
  exit 2
fi
cli="$here/node_modules/@redocly/cli/bin/cli.js"
if [ ! -f "$cli" ]; then
  echo "Redocly CLI is not installed in $here: run scripts/install-test-tools.sh" >&2
  exit 3
fi
# Offline and quiet: no usage telemetry, no update check.
REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true \
  exec node "$cli" lint --config "$here/redocly.yaml" "$1"
