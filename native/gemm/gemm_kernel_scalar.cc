// Portable GEMM micro-kernel; the compiler may vectorize it with the baseline ISA only.
#include "gemm/gemm.h"

namespace cnn {

// 4×8 tile, accumulators in a local array. Ap is kc×4 packed, Bp kc×8 packed;
// C = alpha·Ap·Bp + beta·C (beta 0: C unread).
static void micro_4x8(int kc, const float* Ap, const float* Bp, float* C, long ldc, float alpha,
                      float beta) {
  float acc[4][8] = {};
  for (int p = 0; p < kc; ++p) {
    const float* a = Ap + p * 4;
    const float* b = Bp + p * 8;
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 8; ++j) acc[i][j] += a[i] * b[j];
  }
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 8; ++j)
      C[i * ldc + j] = alpha * acc[i][j] + (beta == 0.0f ? 0.0f : beta * C[i * ldc + j]);
}

// 32 independent multiply-add chains (the tile's accumulator count) in portable code: what
// the baseline ISA gives the scalar micro-kernel.
static volatile float fma_sink;
static double fma_loop_32(long iters) {
  float acc[32];
  for (int i = 0; i < 32; ++i) acc[i] = (float)i;
  for (long it = 0; it < iters; ++it)
    for (int i = 0; i < 32; ++i) acc[i] = acc[i] * 0.999999f + 1e-7f;
  float s = 0.0f;
  for (int i = 0; i < 32; ++i) s += acc[i];
  fma_sink = s;
  return (double)iters * 32 * 2;
}

const GemmKernel gemm_kernel_scalar = {4, 8, 256, 128, 2048, micro_4x8, nullptr, nullptr, nullptr, fma_loop_32, nullptr};

}  // namespace cnn
