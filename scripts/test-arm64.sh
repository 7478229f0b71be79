#!/usr/bin/env bash
# Builds the kernel tests for arm64 (NEON variant) with a cross compiler and runs them under
# qemu: the NEON kernels get checked against the references on an x86-64 machine.
# Needs: apt-get install -y g++-aarch64-linux-gnu qemu-user
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
# Every kernel source CMake lists, minus the x86 SIMD files, plus the NEON one.
mapfile -t sources < <(sed -n '/^set(KERNEL_SOURCES/,/^)/p' CMakeLists.txt | grep -o 'native/[^ )]*\.cc')
aarch64-linux-gnu-g++ -std=c++17 -O2 -fopenmp -DCNN_ARM64=1 -Inative \
  "${sources[@]}" native/gemm/gemm_kernel_neon.cc native/test/kernel_tests.cc -o "$out/kernel_tests"
qemu-aarch64 -L /usr/aarch64-linux-gnu "$out/kernel_tests"
