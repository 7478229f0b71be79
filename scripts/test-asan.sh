#!/usr/bin/env bash
# The kernel tests and the whole test suite under AddressSanitizer + UndefinedBehaviorSanitizer:
# the kernels, the addon and kernel_tests are built with CNN_SANITIZE=ON into build-asan/ (the
# normal build/ is left alone), and every node process loads that addon (CNN_NATIVE_BUILD) with
# libasan preloaded, since node itself is not instrumented. Any report fails the run.
# Usage: npm run test:asan [-- test files or folders under dist/test/] (default: all of them).
set -euo pipefail
cd "$(dirname "$0")/.."
npx cmake-js build --out build-asan --CDCNN_SANITIZE=ON --parallel 2 >/dev/null
npm run build >/dev/null
export CNN_NATIVE_BUILD="$PWD/build-asan/Release"
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# The kernel tests are ours from main() to exit: leaks count there.
LSAN_OPTIONS="suppressions=$PWD/native/test/lsan.supp" ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
  "$CNN_NATIVE_BUILD/kernel_tests" | tail -1
# Node keeps much of its heap to the end by design, so leak checking stays off for it (and for
# the processes the tests start, which inherit these settings); V8 handles SIGSEGV itself.
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:handle_segv=0:allow_user_segv_handler=1
export LD_PRELOAD="$(g++ -print-file-name=libasan.so)"
node --test --test-concurrency=1 "${@:-dist/test/}"
