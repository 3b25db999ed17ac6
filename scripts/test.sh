#!/usr/bin/env bash
# Installs dependencies, builds, and runs every test: once under
# AddressSanitizer + UndefinedBehaviorSanitizer, then in an optimized build.
# The output ends with ctest's summary.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh
JOBS=$(nproc)

echo "== sanitizer build (ASan + UBSan) =="
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DOP_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$JOBS"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
	ctest --test-dir build-asan --output-on-failure -j2

echo "== optimized build (RelWithDebInfo, as scripts/demo.sh builds) =="
cmake -S . -B build-test -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-test -j"$JOBS"
ctest --test-dir build-test --output-on-failure -j2
