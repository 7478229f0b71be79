// The narrow-map depthwise loops (narrow_rows.h) on AVX-512, in GCC vector extensions with its
// masked loads and stores.
#include "conv/narrow_rows.h"

#include <immintrin.h>

namespace {

using cnn::NarrowMap;

constexpr int L = 16;
typedef float Vec __attribute__((vector_size(L * 4), aligned(4)));  // unaligned loads

// Lanes [lo, hi) of a vector, as the masked loads and stores take them; masked-off lanes are
// neither read nor faulted on, and read as 0.
typedef __mmask16 Mask;
inline Mask lanes_between(int lo, int hi) { return hi <= lo ? (Mask)0 : (Mask)(((1u << hi) - 1) & ~((1u << lo) - 1)); }
inline Vec load(const float* p, Mask m) { return (Vec)_mm512_maskz_loadu_ps(m, p); }
inline void store(float* p, Vec v, Mask m) { _mm512_mask_storeu_ps(p, m, (__m512)v); }

inline Vec splat(float x) { return Vec{} + x; }
inline Vec clamp(Vec v, Vec lo, Vec hi) {  // NaN passes, as PyTorch's clamp lets it
  v = v < lo ? lo : v;
  return v > hi ? hi : v;
}

// Each kernel column's shift and the lanes it reads within the row; the output's lanes.
constexpr int kMaxKw = 3;  // depthwise_narrow_suits takes no wider kernel
struct Columns {
  int shift[kMaxKw];
  Mask mask[kMaxKw];
  Mask out;
};

// Input rows no pixel lies in: every lane a mask lets through reads within [0, in_w) (<= 32).
alignas(64) const float kZeros[64] = {};

// R output rows from oh: R independent sums hide the FMA latency, each tap's weight splat once.
template <int R>
inline void rows(const NarrowMap& m, const Columns& col, int oh, const float* xp, const float* wp, float bias,
                 const float* rp, Vec lo, Vec hi, float* yp) {
  Vec acc[R];
  for (int r = 0; r < R; ++r) acc[r] = splat(bias);
  for (int ki = 0; ki < m.kh; ++ki) {
    const float* in[R];
    for (int r = 0; r < R; ++r) {
      const int at = m.row_at[oh + r + ki * m.dh];
      in[r] = at < 0 ? kZeros : xp + at;
    }
    for (int kj = 0; kj < m.kw; ++kj) {
      const Vec wv = splat(wp[ki * m.kw + kj]);
      for (int r = 0; r < R; ++r) acc[r] += wv * load(in[r] + col.shift[kj], col.mask[kj]);
    }
  }
  for (int r = 0; r < R; ++r) {
    const long at = (long)(oh + r) * m.out_w;
    Vec v = acc[r];
    if (rp) v += load(rp + at, col.out);
    store(yp + at, clamp(v, lo, hi), col.out);
  }
}

}  // namespace

namespace cnn {

void narrow_planes_avx512(const NarrowMap& m, long q0, long q1, const float* x, const float* w, const float* b,
                          const float* res, float lo, float hi, float* y) {
  Columns col;
  for (int kj = 0; kj < m.kw; ++kj) {
    const int s = kj * m.dw - m.pl;
    col.shift[kj] = s;
    col.mask[kj] = lanes_between(s < 0 ? -s : 0, m.in_w - s < m.out_w ? m.in_w - s : m.out_w);
  }
  col.out = lanes_between(0, m.out_w);
  const Vec vlo = splat(lo), vhi = splat(hi);
  const int taps = m.kh * m.kw;
  for (long q = q0; q < q1; ++q) {
    const int c = (int)(q % m.channels);
    const float* xp = x + q * m.in_plane;
    const float* wp = w + (long)c * taps;
    const float* rp = res ? res + q * m.out_plane : nullptr;
    float* yp = y + q * m.out_plane;
    const float bias = b ? b[c] : 0.0f;
    int oh = 0;
    for (; oh + 8 <= m.out_h; oh += 8) rows<8>(m, col, oh, xp, wp, bias, rp, vlo, vhi, yp);
    if (oh + 4 <= m.out_h) rows<4>(m, col, oh, xp, wp, bias, rp, vlo, vhi, yp), oh += 4;
    if (oh + 2 <= m.out_h) rows<2>(m, col, oh, xp, wp, bias, rp, vlo, vhi, yp), oh += 2;
    if (oh < m.out_h) rows<1>(m, col, oh, xp, wp, bias, rp, vlo, vhi, yp);
  }
}

}  // namespace cnn
