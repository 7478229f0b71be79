// AVX2+FMA GEMM micro-kernel and packers. Self-contained on purpose: no templates or inline
// helpers shared with other translation units, so the linker can never hand this file's AVX
// code to others.
#include <immintrin.h>

#include "gemm/gemm.h"

namespace cnn {

// 6×16 tile: 12 ymm accumulators (6 rows × 2 ymm), B row in 2 ymm, A broadcast per row; k
// unrolled by 4. Ap is kc×6 packed, Bp kc×16 packed; C = alpha·Ap·Bp + beta·C (beta 0: C unread).
static void micro_6x16(int kc, const float* Ap, const float* Bp, float* C, long ldc, float alpha,
                       float beta) {
  // C is touched only after the k loop; start pulling its 6 rows (2 lines each) in now.
  for (int i = 0; i < 6; ++i) {
    _mm_prefetch((const char*)(C + i * ldc), _MM_HINT_T0);
    _mm_prefetch((const char*)(C + i * ldc + 15), _MM_HINT_T0);
  }
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
  __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
  __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
  __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
  __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
  __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
#define CNN_STEP(P)                                                                  \
  {                                                                                  \
    const __m256 b0 = _mm256_load_ps(Bp + (P) * 16);                                 \
    const __m256 b1 = _mm256_load_ps(Bp + (P) * 16 + 8);                             \
    __m256 a = _mm256_broadcast_ss(Ap + (P) * 6 + 0);                                \
    c00 = _mm256_fmadd_ps(a, b0, c00); c01 = _mm256_fmadd_ps(a, b1, c01);           \
    a = _mm256_broadcast_ss(Ap + (P) * 6 + 1);                                       \
    c10 = _mm256_fmadd_ps(a, b0, c10); c11 = _mm256_fmadd_ps(a, b1, c11);           \
    a = _mm256_broadcast_ss(Ap + (P) * 6 + 2);                                       \
    c20 = _mm256_fmadd_ps(a, b0, c20); c21 = _mm256_fmadd_ps(a, b1, c21);           \
    a = _mm256_broadcast_ss(Ap + (P) * 6 + 3);                                       \
    c30 = _mm256_fmadd_ps(a, b0, c30); c31 = _mm256_fmadd_ps(a, b1, c31);           \
    a = _mm256_broadcast_ss(Ap + (P) * 6 + 4);                                       \
    c40 = _mm256_fmadd_ps(a, b0, c40); c41 = _mm256_fmadd_ps(a, b1, c41);           \
    a = _mm256_broadcast_ss(Ap + (P) * 6 + 5);                                       \
    c50 = _mm256_fmadd_ps(a, b0, c50); c51 = _mm256_fmadd_ps(a, b1, c51);           \
  }
  int p = 0;
  for (; p + 4 <= kc; p += 4) {
    // The B panel stays in L1 across a column of tiles; A streams from L2, so fetch it ahead.
    _mm_prefetch((const char*)(Ap + 192), _MM_HINT_T0);
    _mm_prefetch((const char*)(Ap + 208), _MM_HINT_T0);
    CNN_STEP(0) CNN_STEP(1) CNN_STEP(2) CNN_STEP(3)
    Ap += 24;
    Bp += 64;
  }
  for (; p < kc; ++p) {
    CNN_STEP(0)
    Ap += 6;
    Bp += 16;
  }
#undef CNN_STEP
  const __m256 va = _mm256_set1_ps(alpha);
  float* r = C;
  if (beta == 0.0f) {
#define CNN_STORE_ROW(x0, x1)                                                  \
  _mm256_storeu_ps(r, _mm256_mul_ps(va, x0));                                  \
  _mm256_storeu_ps(r + 8, _mm256_mul_ps(va, x1));                              \
  r += ldc;
    CNN_STORE_ROW(c00, c01) CNN_STORE_ROW(c10, c11) CNN_STORE_ROW(c20, c21)
    CNN_STORE_ROW(c30, c31) CNN_STORE_ROW(c40, c41) CNN_STORE_ROW(c50, c51)
#undef CNN_STORE_ROW
  } else if (beta == 1.0f) {
#define CNN_STORE_ROW(x0, x1)                                                  \
  _mm256_storeu_ps(r, _mm256_fmadd_ps(va, x0, _mm256_loadu_ps(r)));            \
  _mm256_storeu_ps(r + 8, _mm256_fmadd_ps(va, x1, _mm256_loadu_ps(r + 8)));    \
  r += ldc;
    CNN_STORE_ROW(c00, c01) CNN_STORE_ROW(c10, c11) CNN_STORE_ROW(c20, c21)
    CNN_STORE_ROW(c30, c31) CNN_STORE_ROW(c40, c41) CNN_STORE_ROW(c50, c51)
#undef CNN_STORE_ROW
  } else {
    const __m256 vb = _mm256_set1_ps(beta);
#define CNN_STORE_ROW(x0, x1)                                                                   \
  _mm256_storeu_ps(r, _mm256_fmadd_ps(va, x0, _mm256_mul_ps(vb, _mm256_loadu_ps(r))));          \
  _mm256_storeu_ps(r + 8, _mm256_fmadd_ps(va, x1, _mm256_mul_ps(vb, _mm256_loadu_ps(r + 8))));  \
  r += ldc;
    CNN_STORE_ROW(c00, c01) CNN_STORE_ROW(c10, c11) CNN_STORE_ROW(c20, c21)
    CNN_STORE_ROW(c30, c31) CNN_STORE_ROW(c40, c41) CNN_STORE_ROW(c50, c51)
#undef CNN_STORE_ROW
  }
}

// In-register 8×8 transpose: r[i] holds row i on entry and column i on exit.
#define CNN_TRANSPOSE_8X8(r)                                                                  \
  {                                                                                           \
    const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);    \
    const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);    \
    const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);    \
    const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);    \
    const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);  \
    const __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);  \
    const __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);  \
    const __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);  \
    r[0] = _mm256_permute2f128_ps(u0, u4, 0x20); r[1] = _mm256_permute2f128_ps(u1, u5, 0x20); \
    r[2] = _mm256_permute2f128_ps(u2, u6, 0x20); r[3] = _mm256_permute2f128_ps(u3, u7, 0x20); \
    r[4] = _mm256_permute2f128_ps(u0, u4, 0x31); r[5] = _mm256_permute2f128_ps(u1, u5, 0x31); \
    r[6] = _mm256_permute2f128_ps(u2, u6, 0x31); r[7] = _mm256_permute2f128_ps(u3, u7, 0x31); \
  }

// Packs 6 rows of row-major A into out[p*6 + i], 8 columns at a time through a transpose
// (the scalar gather is the slow part of packing A for row-major NN/NT products).
static void pack_a_6(const float* A, long lda, int kc, float* out) {
  int p = 0;
  for (; p + 8 <= kc; p += 8) {
    __m256 r[8];
    for (int i = 0; i < 6; ++i) r[i] = _mm256_loadu_ps(A + i * lda + p);
    r[6] = r[7] = _mm256_setzero_ps();
    CNN_TRANSPOSE_8X8(r)
    for (int q = 0; q < 8; ++q) {
      float* d = out + (p + q) * 6;
      _mm_storeu_ps(d, _mm256_castps256_ps128(r[q]));
      _mm_storel_pi((__m64*)(d + 4), _mm256_extractf128_ps(r[q], 1));
    }
  }
  for (; p < kc; ++p)
    for (int i = 0; i < 6; ++i) out[p * 6 + i] = A[i * lda + p];
}

// Packs 16 rows of the n×k source of op(B) = Bᵀ into out[p*16 + j], as two 8×8 transposes
// per 8 columns of k.
static void pack_bt_16(const float* B, long ldb, int kc, float* out) {
  int p = 0;
  for (; p + 8 <= kc; p += 8) {
    for (int h = 0; h < 2; ++h) {
      __m256 r[8];
      for (int j = 0; j < 8; ++j) r[j] = _mm256_loadu_ps(B + (h * 8 + j) * ldb + p);
      CNN_TRANSPOSE_8X8(r)
      for (int q = 0; q < 8; ++q) _mm256_store_ps(out + (p + q) * 16 + h * 8, r[q]);
    }
  }
  for (; p < kc; ++p)
    for (int j = 0; j < 16; ++j) out[p * 16 + j] = B[j * ldb + p];
}
#undef CNN_TRANSPOSE_8X8

// kc·16 floats of B (16 KiB) stay in L1 across a column of tiles; mc·kc of A (144 KiB) in L2.
// 12 independent ymm chains (the tile's accumulator count), so FMA latency never stalls.
static volatile float fma_sink;
static double fma_loop_12(long iters) {
  __m256 acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = _mm256_set1_ps((float)i);
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  for (long it = 0; it < iters; ++it) {
#pragma GCC unroll 12
    for (int i = 0; i < 12; ++i) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
  }
  __m256 s = acc[0];
  for (int i = 1; i < 12; ++i) s = _mm256_add_ps(s, acc[i]);
  fma_sink = _mm256_cvtss_f32(s);
  return (double)iters * 12 * 8 * 2;
}

const GemmKernel gemm_kernel_avx2 = {6, 16, 256, 144, 4080, micro_6x16, pack_a_6, pack_bt_16, fma_loop_12};

}  // namespace cnn
