// NEON GEMM micro-kernel.
#include <arm_neon.h>

#include "gemm/gemm.h"

namespace cnn {

// 8×8 tile: 16 q-register accumulators, B row in 2 q, A in 2 q used by lane.
// Ap is kc×8 packed, Bp kc×8 packed; C = alpha·Ap·Bp + beta·C (beta 0: C unread).
static void micro_8x8(int kc, const float* Ap, const float* Bp, float* C, long ldc, float alpha,
                      float beta) {
  float32x4_t c[8][2];
  for (int i = 0; i < 8; ++i) c[i][0] = c[i][1] = vdupq_n_f32(0.0f);
  for (int p = 0; p < kc; ++p) {
    const float32x4_t b0 = vld1q_f32(Bp), b1 = vld1q_f32(Bp + 4);
    const float32x4_t a0 = vld1q_f32(Ap), a1 = vld1q_f32(Ap + 4);
    c[0][0] = vfmaq_laneq_f32(c[0][0], b0, a0, 0); c[0][1] = vfmaq_laneq_f32(c[0][1], b1, a0, 0);
    c[1][0] = vfmaq_laneq_f32(c[1][0], b0, a0, 1); c[1][1] = vfmaq_laneq_f32(c[1][1], b1, a0, 1);
    c[2][0] = vfmaq_laneq_f32(c[2][0], b0, a0, 2); c[2][1] = vfmaq_laneq_f32(c[2][1], b1, a0, 2);
    c[3][0] = vfmaq_laneq_f32(c[3][0], b0, a0, 3); c[3][1] = vfmaq_laneq_f32(c[3][1], b1, a0, 3);
    c[4][0] = vfmaq_laneq_f32(c[4][0], b0, a1, 0); c[4][1] = vfmaq_laneq_f32(c[4][1], b1, a1, 0);
    c[5][0] = vfmaq_laneq_f32(c[5][0], b0, a1, 1); c[5][1] = vfmaq_laneq_f32(c[5][1], b1, a1, 1);
    c[6][0] = vfmaq_laneq_f32(c[6][0], b0, a1, 2); c[6][1] = vfmaq_laneq_f32(c[6][1], b1, a1, 2);
    c[7][0] = vfmaq_laneq_f32(c[7][0], b0, a1, 3); c[7][1] = vfmaq_laneq_f32(c[7][1], b1, a1, 3);
    Ap += 8;
    Bp += 8;
  }
  const float32x4_t va = vdupq_n_f32(alpha), vb = vdupq_n_f32(beta);
  for (int i = 0; i < 8; ++i) {
    float* r = C + i * ldc;
    float32x4_t x0 = vmulq_f32(va, c[i][0]), x1 = vmulq_f32(va, c[i][1]);
    if (beta != 0.0f) {
      x0 = vfmaq_f32(x0, vb, vld1q_f32(r));
      x1 = vfmaq_f32(x1, vb, vld1q_f32(r + 4));
    }
    vst1q_f32(r, x0);
    vst1q_f32(r + 4, x1);
  }
}

// 16 independent q-register chains (the tile's accumulator count), so FMA latency never stalls.
static volatile float fma_sink;
static double fma_loop_16(long iters) {
  float32x4_t acc[16];
  for (int i = 0; i < 16; ++i) acc[i] = vdupq_n_f32((float)i);
  const float32x4_t a = vdupq_n_f32(0.999999f), b = vdupq_n_f32(1e-7f);
  for (long it = 0; it < iters; ++it) {
#pragma GCC unroll 16
    for (int i = 0; i < 16; ++i) acc[i] = vfmaq_f32(b, acc[i], a);
  }
  float s = 0.0f;
  for (int i = 0; i < 16; ++i) s += vaddvq_f32(acc[i]);
  fma_sink = s;
  return (double)iters * 16 * 4 * 2;
}

const GemmKernel gemm_kernel_neon = {8, 8, 256, 128, 2048, micro_8x8, nullptr, nullptr, nullptr, fma_loop_16, nullptr};

}  // namespace cnn
