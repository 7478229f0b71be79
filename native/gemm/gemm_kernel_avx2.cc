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

#include "gemm/pack_x86.inc"

namespace {

// A leftover tile (rows < 6 or columns < 16): the same loop on R rows and V ymm of columns,
// C read and written through lane masks, so an edge costs in proportion to its size and
// needs no copy through a scratch tile. Ap keeps the 6-row packing, Bp the 16-column one.
template <int R, int V>
void micro_edge(int kc, const float* Ap, const float* Bp, float* C, long ldc, float alpha, float beta,
                __m256i m0, __m256i m1) {
  __m256 c[R][V];
  for (int i = 0; i < R; ++i)
    for (int v = 0; v < V; ++v) c[i][v] = _mm256_setzero_ps();
  for (int p = 0; p < kc; ++p) {
    __m256 b[V];
    for (int v = 0; v < V; ++v) b[v] = _mm256_load_ps(Bp + 8 * v);
#pragma GCC unroll 6
    for (int i = 0; i < R; ++i) {
      const __m256 a = _mm256_broadcast_ss(Ap + i);
      for (int v = 0; v < V; ++v) c[i][v] = _mm256_fmadd_ps(a, b[v], c[i][v]);
    }
    Ap += 6;
    Bp += 16;
  }
  const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
  for (int i = 0; i < R; ++i)
    for (int v = 0; v < V; ++v) {
      float* r = C + i * ldc + 8 * v;
      const __m256i m = v ? m1 : m0;
      __m256 x = _mm256_mul_ps(va, c[i][v]);
      if (beta != 0.0f) x = _mm256_fmadd_ps(vb, _mm256_maskload_ps(r, m), x);
      _mm256_maskstore_ps(r, m, x);
    }
}

using EdgeTile = void (*)(int, const float*, const float*, float*, long, float, float, __m256i, __m256i);
#define CNN_EDGE_ROW(R) {micro_edge<R, 1>, micro_edge<R, 2>}
const EdgeTile kEdgeTiles[6][2] = {CNN_EDGE_ROW(1), CNN_EDGE_ROW(2), CNN_EDGE_ROW(3),
                                   CNN_EDGE_ROW(4), CNN_EDGE_ROW(5), CNN_EDGE_ROW(6)};
#undef CNN_EDGE_ROW

}  // namespace

static void edge_6x16(int kc, const float* Ap, const float* Bp, float* C, long ldc, float alpha, float beta,
                      int rows, int cols) {
  const int wide = cols > 8;
  kEdgeTiles[rows - 1][wide](kc, Ap, Bp, C, ldc, alpha, beta, first_lanes(wide ? 8 : cols),
                             first_lanes(wide ? cols - 8 : 0));
}

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

const GemmKernel gemm_kernel_avx2 = {6, 16, 256, 144, 4080, micro_6x16, edge_6x16, pack_a_panel<6>, pack_bt_panel<16>, fma_loop_12, nullptr};

}  // namespace cnn
