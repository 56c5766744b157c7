#!/usr/bin/env bash
# Builds and runs the libFuzzer targets of fuzz/ (docs/fuzzing.md).
#
#   scripts/fuzz.sh --list            the targets
#   scripts/fuzz.sh TARGET SECONDS    fuzzes one target for SECONDS
#   scripts/fuzz.sh all SECONDS       each target in turn, SECONDS each
#
# Installs what is needed (scripts/install-deps.sh with clang-14,
# libclang-rt-14-dev and llvm-14), configures
# build-fuzz/ with clang-14 (-DSLUICE_FUZZ=ON, -O1 -g, ASan + UBSan + coverage
# for libFuzzer), builds only the targets asked for (and so only the libraries
# they link) with -j"${SLUICE_JOBS:-$(nproc)}", copies fuzz/corpus/TARGET into
# build-fuzz/corpus/TARGET (new inputs go there; the repository's seeds stay as
# they are) and runs the target on it with -max_total_time=SECONDS -timeout=10
# -rss_limit_mb=2048 and fuzz/dict/TARGET.dict when there is one. Exits
# non-zero on any crash, leak, timeout, out-of-memory or sanitizer report and
# names the input libFuzzer saved (build-fuzz/artifacts/TARGET/). Logs go to
# build-fuzz/logs/TARGET.log. Extra libFuzzer flags: SLUICE_FUZZ_ARGS.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
  echo "usage: $0 TARGET SECONDS | all SECONDS | --list" >&2
  exit 2
}

targets() {
  for source in fuzz/*_fuzz.cpp; do
    basename "$source" _fuzz.cpp
  done
}

if [ "${1:-}" = "--list" ]; then
  targets
  exit 0
fi
[ "$#" -eq 2 ] || usage
target=$1
seconds=$2
[[ "$seconds" =~ ^[0-9]+$ ]] && [ "$seconds" -gt 0 ] || usage
if [ "$target" = "all" ]; then
  mapfile -t selected < <(targets)
elif [[ " $(targets | tr '\n' ' ') " == *" $target "* ]]; then
  selected=("$target")
else
  echo "$0: no fuzz target '$target'; the targets are:" >&2
  targets >&2
  exit 2
fi

# Packages: the project's and the fuzzing toolchain (llvm-14 for
# llvm-symbolizer, so reports name lines).
scripts/install-deps.sh clang-14 libclang-rt-14-dev llvm-14

build=build-fuzz
CC=clang-14 CXX=clang++-14 cmake -S . -B "$build" -DSLUICE_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" -DSLUICE_BUILD_TESTS=OFF -DSLUICE_BUILD_BENCH=OFF \
  -DSLUICE_WERROR=OFF >/dev/null
build_targets=()
for name in "${selected[@]}"; do build_targets+=("${name}_fuzz"); done
cmake --build "$build" -j"${SLUICE_JOBS:-$(nproc)}" --target "${build_targets[@]}"

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"
if [ -x /usr/lib/llvm-14/bin/llvm-symbolizer ]; then
  export ASAN_SYMBOLIZER_PATH=/usr/lib/llvm-14/bin/llvm-symbolizer
fi

failed=()
summary=()
for name in "${selected[@]}"; do
  corpus="$build/corpus/$name"
  artifacts="$build/artifacts/$name"
  log="$build/logs/$name.log"
  mkdir -p "$corpus" "$artifacts" "$(dirname "$log")"
  if [ -d "fuzz/corpus/$name" ]; then cp -R "fuzz/corpus/$name/." "$corpus/"; fi
  args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
        -artifact_prefix="$artifacts/")
  if [ -f "fuzz/dict/$name.dict" ]; then args+=(-dict="fuzz/dict/$name.dict"); fi
  # shellcheck disable=SC2206  # SLUICE_FUZZ_ARGS is a list of flags
  args+=(${SLUICE_FUZZ_ARGS:-})

  echo "== fuzzing $name for ${seconds}s (log: $log)"
  status=0
  SLUICE_FUZZ_NOTES="$artifacts" "$build/fuzz/${name}_fuzz" "${args[@]}" "$corpus" >"$log" 2>&1 ||
    status=$?
  tail -n 25 "$log"
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
  summary+=("$name: status ${status}, ${execs:-?} execs, cov ${cov:-?}, corpus $(ls "$corpus" | wc -l) files")
  if [ "$status" -ne 0 ] || grep -qE 'ERROR: (libFuzzer|AddressSanitizer|LeakSanitizer)|runtime error:' "$log"; then
    failed+=("$name")
    echo "!! $name failed (exit status $status); the input that did it:" >&2
    grep -E 'Test unit written to|^artifact_prefix' "$log" >&2 || echo "   (no input saved; see $log)" >&2
  fi
  # Contracts broken without a crash (fuzz/fuzz_support.hpp note()): the run
  # went on to the end, but it fails.
  if grep -qE '^== sluice fuzz note:' "$log"; then
    failed+=("$name")
    echo "!! $name broke a contract without crashing:" >&2
    grep -A1 -E '^== sluice fuzz note:' "$log" >&2
  fi
done

echo "== summary"
printf '%s\n' "${summary[@]}"
if [ "${#failed[@]}" -gt 0 ]; then
  echo "fuzzing found problems in: ${failed[*]} (see build-fuzz/logs/ and build-fuzz/artifacts/)" >&2
  exit 1
fi
