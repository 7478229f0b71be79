// The small-plane column kernels (columns_small.h) on AVX-512: one zmm holds a plane, vpermps
// with a zeroing mask makes each tap's row. Plain loops and intrinsics only (no shared inline
// code: see toolchain.md on per-ISA translation units).
// GCC 12's headers leave the upper half of the 512 → 256/128-bit casts "undefined" and then warn
// that it may be used uninitialized (GCC bug 105593, fixed in 13): a false positive.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include "conv/columns_small.h"

namespace cnn {

namespace {

// The permutation for table row `lanes`: indices, and the mask of lanes that take a value.
__m512i lane_indices(const int* lanes, __mmask16* take) {
  int idx[kSmallColumnLanes];
  unsigned m = 0;
  for (int q = 0; q < kSmallColumnLanes; ++q) {
    idx[q] = lanes[q] < 0 ? 0 : lanes[q];
    if (lanes[q] >= 0) m |= 1u << q;
  }
  *take = (__mmask16)m;
  return _mm512_loadu_si512(idx);
}

// n floats (n <= 16) in and out; whole 4-, 8- and 16-float runs without masks, which AMD's cores
// store slowly.
__m512 load_n(const float* p, int n) {
  switch (n) {
    case 16: return _mm512_loadu_ps(p);
    case 8: return _mm512_zextps256_ps512(_mm256_loadu_ps(p));
    case 4: return _mm512_zextps128_ps512(_mm_loadu_ps(p));
    default: return _mm512_maskz_loadu_ps((__mmask16)((1u << n) - 1), p);
  }
}

void store_n(float* p, int n, __m512 v) {
  switch (n) {
    case 16: return _mm512_storeu_ps(p, v);
    case 8: return _mm256_storeu_ps(p, _mm512_castps512_ps256(v));
    case 4: return _mm_storeu_ps(p, _mm512_castps512_ps128(v));
    default: return _mm512_mask_storeu_ps(p, (__mmask16)((1u << n) - 1), v);
  }
}

void im2col_small(const SmallColumnTaps& s, int cig, const float* x, float* col, long ldc) {
  __m512i idx[kSmallColumnTaps];
  __mmask16 take[kSmallColumnTaps];
  for (int t = 0; t < s.taps; ++t) idx[t] = lane_indices(s.from[t], &take[t]);
  for (int c = 0; c < cig; ++c) {
    const __m512 plane = load_n(x + (long)c * s.hw, s.hw);
    float* row = col + (long)c * s.taps * ldc;
    for (int t = 0; t < s.taps; ++t, row += ldc) store_n(row, s.P, _mm512_maskz_permutexvar_ps(take[t], idx[t], plane));
  }
}

void col2im_add_small(const SmallColumnTaps& s, int cig, const float* col, long ldc, float* dx) {
  __m512i idx[kSmallColumnTaps];
  __mmask16 take[kSmallColumnTaps];
  for (int t = 0; t < s.taps; ++t) idx[t] = lane_indices(s.to[t], &take[t]);
  for (int c = 0; c < cig; ++c) {
    float* plane = dx + (long)c * s.hw;
    __m512 acc = load_n(plane, s.hw);
    const float* row = col + (long)c * s.taps * ldc;
    for (int t = 0; t < s.taps; ++t, row += ldc)
      acc = _mm512_add_ps(acc, _mm512_maskz_permutexvar_ps(take[t], idx[t], load_n(row, s.P)));
    store_n(plane, s.hw, acc);
  }
}

}  // namespace

const SmallColumns small_columns_avx512 = {im2col_small, col2im_add_small};

}  // namespace cnn
