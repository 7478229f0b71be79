// AVX2+FMA GEMM micro-kernel. Self-contained on purpose: no templates or inline helpers shared
// with other translation units, so the linker can never hand this file's AVX code to others.
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

// kc·16 floats of B (16 KiB) stay in L1 across a column of tiles; mc·kc of A (144 KiB) in L2.
const GemmKernel gemm_kernel_avx2 = {6, 16, 256, 144, 4080, micro_6x16};

}  // namespace cnn
