// AVX-512 GEMM micro-kernel. Self-contained on purpose: no templates or inline helpers shared
// with other translation units, so the linker can never hand this file's AVX-512 code to others.
#include <immintrin.h>

#include "gemm/gemm.h"

namespace cnn {

// 12×32 tile: 24 zmm accumulators (12 rows × 2 zmm), B row in 2 zmm, A broadcast per row.
// Ap is kc×12 packed, Bp kc×32 packed; C = alpha·Ap·Bp + beta·C (beta 0: C unread).
static void micro_12x32(int kc, const float* Ap, const float* Bp, float* C, long ldc, float alpha,
                        float beta) {
  __m512 c[12][2];
  for (int i = 0; i < 12; ++i) {
    _mm_prefetch((const char*)(C + i * ldc), _MM_HINT_T0);
    _mm_prefetch((const char*)(C + i * ldc + 31), _MM_HINT_T0);
    c[i][0] = c[i][1] = _mm512_setzero_ps();
  }
  for (int p = 0; p < kc; ++p) {
    const __m512 b0 = _mm512_load_ps(Bp);
    const __m512 b1 = _mm512_load_ps(Bp + 16);
#pragma GCC unroll 12
    for (int i = 0; i < 12; ++i) {
      const __m512 a = _mm512_set1_ps(Ap[i]);
      c[i][0] = _mm512_fmadd_ps(a, b0, c[i][0]);
      c[i][1] = _mm512_fmadd_ps(a, b1, c[i][1]);
    }
    Ap += 12;
    Bp += 32;
  }
  const __m512 va = _mm512_set1_ps(alpha);
  const __m512 vb = _mm512_set1_ps(beta);
#pragma GCC unroll 12
  for (int i = 0; i < 12; ++i) {
    float* r = C + i * ldc;
    __m512 x0 = _mm512_mul_ps(va, c[i][0]), x1 = _mm512_mul_ps(va, c[i][1]);
    if (beta != 0.0f) {
      x0 = _mm512_fmadd_ps(vb, _mm512_loadu_ps(r), x0);
      x1 = _mm512_fmadd_ps(vb, _mm512_loadu_ps(r + 16), x1);
    }
    _mm512_storeu_ps(r, x0);
    _mm512_storeu_ps(r + 16, x1);
  }
}

#include "gemm/pack_x86.inc"

namespace {

// A leftover tile (rows < 12 or columns < 32): the same loop on R rows and V zmm of columns,
// C read and written through lane masks, so an edge costs in proportion to its size and
// needs no copy through a scratch tile. Ap keeps the 12-row packing, Bp the 32-column one.
template <int R, int V>
void micro_edge(int kc, const float* Ap, const float* Bp, float* C, long ldc, float alpha, float beta,
                __mmask16 m0, __mmask16 m1) {
  __m512 c[R][V];
  for (int i = 0; i < R; ++i)
    for (int v = 0; v < V; ++v) c[i][v] = _mm512_setzero_ps();
  for (int p = 0; p < kc; ++p) {
    __m512 b[V];
    for (int v = 0; v < V; ++v) b[v] = _mm512_load_ps(Bp + 16 * v);
#pragma GCC unroll 12
    for (int i = 0; i < R; ++i) {
      const __m512 a = _mm512_set1_ps(Ap[i]);
      for (int v = 0; v < V; ++v) c[i][v] = _mm512_fmadd_ps(a, b[v], c[i][v]);
    }
    Ap += 12;
    Bp += 32;
  }
  const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
  for (int i = 0; i < R; ++i)
    for (int v = 0; v < V; ++v) {
      float* r = C + i * ldc + 16 * v;
      const __mmask16 m = v ? m1 : m0;
      __m512 x = _mm512_mul_ps(va, c[i][v]);
      if (beta != 0.0f) x = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m, r), x);
      _mm512_mask_storeu_ps(r, m, x);
    }
}

using EdgeTile = void (*)(int, const float*, const float*, float*, long, float, float, __mmask16, __mmask16);
#define CNN_EDGE_ROW(R) {micro_edge<R, 1>, micro_edge<R, 2>}
const EdgeTile kEdgeTiles[12][2] = {CNN_EDGE_ROW(1), CNN_EDGE_ROW(2), CNN_EDGE_ROW(3), CNN_EDGE_ROW(4),
                                    CNN_EDGE_ROW(5), CNN_EDGE_ROW(6), CNN_EDGE_ROW(7), CNN_EDGE_ROW(8),
                                    CNN_EDGE_ROW(9), CNN_EDGE_ROW(10), CNN_EDGE_ROW(11), CNN_EDGE_ROW(12)};
#undef CNN_EDGE_ROW

// A leftover tile of at most 8 columns, transposed: C's columns in the accumulators, A's 12 rows in
// the lanes (one masked load of the packed column), each B element broadcast. Its cost follows the
// columns where the row-major edge tile pays 12 FMAs a step for any width up to 16: COLS chains,
// so a step takes one FMA latency (4 cycles) instead of 6. The same operations in the same order
// as the full tile (one chain per element from zero, then alpha, then beta), so a product's bits
// never depend on where the column panels fall (Winograd's thread counts rely on it).
template <int COLS>
void micro_edge_narrow(int kc, const float* Ap, const float* Bp, float* C, long ldc, float alpha, float beta, int rows) {
  __m512 c[COLS];
#pragma GCC unroll 8
  for (int j = 0; j < COLS; ++j) c[j] = _mm512_setzero_ps();
  for (int p = 0; p < kc; ++p, Ap += 12, Bp += 32) {
    const __m512 a = _mm512_maskz_loadu_ps(0x0FFF, Ap);
#pragma GCC unroll 8
    for (int j = 0; j < COLS; ++j) c[j] = _mm512_fmadd_ps(a, _mm512_set1_ps(Bp[j]), c[j]);
  }
  alignas(64) float t[COLS][16];
  const __m512 va = _mm512_set1_ps(alpha);
#pragma GCC unroll 8
  for (int j = 0; j < COLS; ++j) _mm512_store_ps(t[j], _mm512_mul_ps(va, c[j]));
  for (int i = 0; i < rows; ++i)
    for (int j = 0; j < COLS; ++j) {
      float& d = C[i * ldc + j];
      d = beta == 0.0f ? t[j][i] : _mm_cvtss_f32(_mm_fmadd_ss(_mm_set_ss(beta), _mm_set_ss(d), _mm_set_ss(t[j][i])));
    }
}

using NarrowTile = void (*)(int, const float*, const float*, float*, long, float, float, int);
const NarrowTile kNarrowTiles[8] = {micro_edge_narrow<1>, micro_edge_narrow<2>, micro_edge_narrow<3>, micro_edge_narrow<4>,
                                    micro_edge_narrow<5>, micro_edge_narrow<6>, micro_edge_narrow<7>, micro_edge_narrow<8>};

}  // namespace

static void edge_12x32(int kc, const float* Ap, const float* Bp, float* C, long ldc, float alpha, float beta,
                       int rows, int cols) {
  if (cols <= 8) return kNarrowTiles[cols - 1](kc, Ap, Bp, C, ldc, alpha, beta, rows);
  const int wide = cols > 16;
  const __mmask16 m0 = wide ? 0xFFFF : (__mmask16)((1u << cols) - 1);
  const __mmask16 m1 = wide ? (__mmask16)((1u << (cols - 16)) - 1) : 0;
  kEdgeTiles[rows - 1][wide](kc, Ap, Bp, C, ldc, alpha, beta, m0, m1);
}

// A panel of 32 grid columns, 16 lanes at a time: each half's columns lie within 32 floats of
// its first (a few output rows of a padded image, the padding between them skipped), so a row's
// half is two masked loads from there and one two-source permute; lanes past the matrix are 0.
// Masked-off lanes are never read, so nothing past the last needed float is touched.
static bool pack_gather_32(const float* const* rows, int kc, const int* off, float* out) {
  struct Half {
    int base;
    __m512i idx;
    __mmask16 lo, hi, keep;
    bool straight;  // the 16 columns are 16 consecutive floats: one load
  } h[2];
  for (int v = 0; v < 2; ++v) {
    const int* o = off + 16 * v;
    Half& x = h[v];
    x.keep = 0;
    int last = -1;
    for (int l = 0; l < 16; ++l)
      if (o[l] >= 0) x.keep |= (__mmask16)(1u << l), last = o[l];
    x.base = x.keep ? o[0] : 0;
    const int span = x.keep ? last - x.base + 1 : 0;
    if (span > 32) return false;
    alignas(64) int rel[16];
    for (int l = 0; l < 16; ++l) rel[l] = o[l] >= 0 ? o[l] - x.base : 0;
    x.idx = _mm512_load_si512(rel);
    x.lo = (__mmask16)(span >= 16 ? 0xFFFF : (1u << span) - 1);
    x.hi = (__mmask16)(span > 16 ? (1u << (span - 16)) - 1 : 0);
    x.straight = x.keep == 0xFFFF && span == 16;
  }
  for (int p = 0; p < kc; ++p) {
    const float* r = rows[p];
    for (int v = 0; v < 2; ++v) {
      const Half& x = h[v];
      __m512 val;
      if (x.straight) {
        val = _mm512_loadu_ps(r + x.base);
      } else {
        const __m512 a = _mm512_maskz_loadu_ps(x.lo, r + x.base), b = _mm512_maskz_loadu_ps(x.hi, r + x.base + 16);
        val = _mm512_maskz_permutex2var_ps(x.keep, a, x.idx, b);
      }
      _mm512_store_ps(out + (long)p * 32 + 16 * v, val);
    }
  }
  return true;
}

// kc·32 floats of B (32 KiB) stay in L1/L2 across a column of tiles; mc·kc of A in L2.
// 24 independent zmm chains (the tile's accumulator count), so FMA latency never stalls.
static volatile float fma_sink;
static double fma_loop_24(long iters) {
  __m512 acc[24];
  for (int i = 0; i < 24; ++i) acc[i] = _mm512_set1_ps((float)i);
  const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
  for (long it = 0; it < iters; ++it) {
#pragma GCC unroll 24
    for (int i = 0; i < 24; ++i) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
  }
  __m512 s = acc[0];
  for (int i = 1; i < 24; ++i) s = _mm512_add_ps(s, acc[i]);
  fma_sink = _mm512_cvtss_f32(s);
  return (double)iters * 24 * 16 * 2;
}

const GemmKernel gemm_kernel_avx512 = {12, 32, 256, 144, 4096, micro_12x32, edge_12x32, pack_a_panel<12>, pack_bt_panel<32>, fma_loop_24, pack_gather_32};

}  // namespace cnn
