#!/usr/bin/env bash
# Builds the kernel tests for arm64 (the NEON variant) with a cross compiler and runs them under
# qemu: the NEON kernels get checked against the references on an x86-64 machine.
# Needs: apt-get install -y g++-aarch64-linux-gnu qemu-user
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# CMake's own kernel_tests target, so the sources and per-file flags are the ones CMakeLists lists.
cmake -S . -B "$out" -DCMAKE_SYSTEM_NAME=Linux -DCMAKE_SYSTEM_PROCESSOR=aarch64 \
  -DCMAKE_CXX_COMPILER=aarch64-linux-gnu-g++ \
  -DCMAKE_BUILD_TYPE=Release -DCNN_MPI=OFF -DCNN_JPEG=OFF >/dev/null
cmake --build "$out" --target kernel_tests --parallel 2 >/dev/null
qemu-aarch64 -L /usr/aarch64-linux-gnu "$out/Release/kernel_tests"
