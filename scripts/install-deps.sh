#!/usr/bin/env bash
# Installs the Debian (bookworm) packages Sluice builds and tests with, and
# any further packages named as arguments (scripts/fuzz.sh asks for clang's).
set -euo pipefail

packages=(
  build-essential cmake pkg-config git curl ca-certificates
  libcaf-dev libboost-dev libboost-system-dev libssl-dev
  libsqlite3-dev libpqxx-dev postgresql libmsgpack-cxx-dev libspdlog-dev nlohmann-json3-dev
  libtomlplusplus-dev libcli11-dev prometheus-cpp-dev
  catch2 python3
  bubblewrap  # isolates local sandbox commands (docs/security-tools.md)
  "$@"
)

run_as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing: ${missing[*]}"
  run_as_root apt-get update -qq
  run_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}"
fi
