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
# The kernel tests run once, inside the suite (test/native/kernel-tests.test.ts), which turns leak
# checking on for them: they are ours from main() to exit. These are their suppressions.
export LSAN_OPTIONS="suppressions=$PWD/native/test/lsan.supp"
# Node keeps much of its heap to the end by design, so leak checking stays off for it (and for
# the processes the tests start, which inherit these settings); V8 handles SIGSEGV itself.
# With libasan preloaded every malloc of node, zlib, libvips and onnxruntime goes through ASan's
# allocator: its default 256 MB quarantine of freed blocks put the fuzz targets at 610-690 MB of
# RSS against the suite's 512 MB bound (16 MB: 170-270 MB), and recording 30 frames per malloc
# made the CLI tests a quarter slower. A freed block stays poisoned through 16 MB of later frees,
# which still catches a kernel or binding that uses a buffer it has just released.
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:handle_segv=0:allow_user_segv_handler=1:quarantine_size_mb=16:malloc_context_size=5
export LD_PRELOAD="$(g++ -print-file-name=libasan.so)"
# As npm test: set, so cnn does not start each CLI process twice (its restart for huge pages, which
# ASan's allocator would not use anyway); the tests that unset it still run the restart under ASan.
export GLIBC_TUNABLES=glibc.malloc.hugetlb=1
node --test --test-concurrency=1 "${@:-dist/test/}"
