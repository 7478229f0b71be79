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

// Bits l < 32 for which input column iw0 + l lies inside [0, w).
unsigned inside_lanes(int iw0, int w) {
  unsigned m = 0;
  for (int l = 0; l < kRowColumnSpan; ++l)
    if (iw0 + l >= 0 && iw0 + l < w) m |= 1u << l;
  return m;
}

// The input row pointer of output row oh, tap row ki, column offset iw0, or null where the tap
// reads a padding row. The pointer may lie before the row: its lanes there are masked off.
const float* tap_row(const RowColumnShape& r, const float* plane, int oh, int ki, int iw0) {
  const int ih = oh * r.stride_h + ki * r.dil_h - r.pad_t;
  return ih < 0 || ih >= r.h ? nullptr : plane + (long)ih * r.w + iw0;
}

void im2col_rows(const RowColumnShape& r, int cig, const float* x, float* col, long ldc) {
  const bool plain = r.stride_w == 1, two = (r.ow - 1) * r.stride_w + 1 > 16;
  int pick[16];
  for (int o = 0; o < 16; ++o) pick[o] = o < r.ow ? o * r.stride_w : 0;
  const __m512i idx = _mm512_loadu_si512(pick);
  unsigned inside[kRowColumnWidth];
  for (int kj = 0; kj < r.kw; ++kj) inside[kj] = inside_lanes(kj * r.dil_w - r.pad_l, r.w);
  const __m512 zero = _mm512_setzero_ps();
  for (int c = 0; c < cig; ++c) {
    const float* plane = x + (long)c * r.h * r.w;
    for (int ki = 0; ki < r.kh; ++ki)
      for (int kj = 0; kj < r.kw; ++kj) {
        float* d = col + ((long)(c * r.kh + ki) * r.kw + kj) * ldc;
        const unsigned m = inside[kj];
        for (int oh = r.oh0; oh < r.oh1; ++oh, d += r.ow) {
          const float* s = tap_row(r, plane, oh, ki, kj * r.dil_w - r.pad_l);
          if (!s) { store_n(d, r.ow, zero); continue; }
          const __m512 lo = _mm512_maskz_loadu_ps((__mmask16)m, s);
          if (plain) { store_n(d, r.ow, lo); continue; }
          const __m512 hi = two ? _mm512_maskz_loadu_ps((__mmask16)(m >> 16), s + 16) : zero;
          store_n(d, r.ow, _mm512_permutex2var_ps(lo, idx, hi));
        }
      }
  }
}

// The adjoint, one input row at a time: every (tap, output row) that reads input row ih adds its
// column row, moved to the input columns it read, into a register (two for rows past 16), which
// then adds into dx once. Adding each tap straight into dx instead reloads what the previous
// tap's masked store just wrote, which AMD's cores do not forward: 1.5x slower than per-pixel loops.
void col2im_add_rows(const RowColumnShape& r, int cig, const float* col, long ldc, float* dx) {
  // Tap column kj puts output lane o at input column o·stride_w + kj·dil_w − pad_l: for each
  // input lane l of the row's two halves, the output lane it takes, and which lanes take one.
  __m512i idx[kRowColumnWidth][2];
  __mmask16 take[kRowColumnWidth][2];
  for (int kj = 0; kj < r.kw; ++kj)
    for (int half = 0; half < 2; ++half) {
      int from[16];
      unsigned m = 0;
      for (int l = 0; l < 16; ++l) {
        const int rel = half * 16 + l - (kj * r.dil_w - r.pad_l);
        const bool hit = half * 16 + l < r.w && rel >= 0 && rel % r.stride_w == 0 && rel / r.stride_w < r.ow;
        from[l] = hit ? rel / r.stride_w : 0;
        if (hit) m |= 1u << l;
      }
      idx[kj][half] = _mm512_loadu_si512(from);
      take[kj][half] = (__mmask16)m;
    }
  const bool two = r.w > 16;
  const __mmask16 row_lo = (__mmask16)(two ? 0xffffu : (1u << r.w) - 1), row_hi = (__mmask16)(two ? (1u << (r.w - 16)) - 1 : 0);
  for (int c = 0; c < cig; ++c)
    for (int ih = 0; ih < r.h; ++ih) {
      __m512 lo = _mm512_setzero_ps(), hi = _mm512_setzero_ps();
      bool any = false;
      for (int ki = 0; ki < r.kh; ++ki) {
        const int num = ih + r.pad_t - ki * r.dil_h;
        if (num < 0 || num % r.stride_h) continue;
        const int oh = num / r.stride_h;
        if (oh < r.oh0 || oh >= r.oh1) continue;
        any = true;
        const float* src = col + ((long)(c * r.kh + ki) * r.kw) * ldc + (long)(oh - r.oh0) * r.ow;
        for (int kj = 0; kj < r.kw; ++kj, src += ldc) {
          const __m512 v = load_n(src, r.ow);
          lo = _mm512_add_ps(lo, _mm512_maskz_permutexvar_ps(take[kj][0], idx[kj][0], v));
          if (two) hi = _mm512_add_ps(hi, _mm512_maskz_permutexvar_ps(take[kj][1], idx[kj][1], v));
        }
      }
      if (!any) continue;
      float* d = dx + ((long)c * r.h + ih) * r.w;
      _mm512_mask_storeu_ps(d, row_lo, _mm512_add_ps(_mm512_maskz_loadu_ps(row_lo, d), lo));
      if (two) _mm512_mask_storeu_ps(d + 16, row_hi, _mm512_add_ps(_mm512_maskz_loadu_ps(row_hi, d + 16), hi));
    }
}

}  // namespace

const SmallColumns small_columns_avx512 = {im2col_small, col2im_add_small, im2col_rows, col2im_add_rows};

}  // namespace cnn
