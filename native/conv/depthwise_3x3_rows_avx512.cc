// The depthwise 3×3 row loops (depthwise_3x3_rows.h) on AVX-512, in GCC vector extensions with its
// masked loads and stores.
#include "conv/depthwise_3x3_rows.h"

#include <immintrin.h>

namespace {

using cnn::Depthwise3x3Map;

constexpr int L = 16;
typedef float Vec __attribute__((vector_size(L * 4), aligned(4)));  // unaligned loads

// Lanes [lo, hi) of a vector, as the masked loads and stores take them; masked-off lanes are
// neither read nor faulted on, and read as 0.
typedef __mmask16 Mask;
inline Mask lanes_between(int lo, int hi) { return hi <= lo ? (Mask)0 : (Mask)(((1u << hi) - 1) & ~((1u << lo) - 1)); }
inline Vec load(const float* p, Mask m) { return (Vec)_mm512_maskz_loadu_ps(m, p); }
inline void store(float* p, Vec v, Mask m) { _mm512_mask_storeu_ps(p, m, (__m512)v); }

inline Vec splat(float x) { return (Vec)_mm512_set1_ps(x); }
constexpr int kMaxBlocks = cnn::kDepthwise3x3MaxWidth / L;

inline Vec clamp(Vec v, Vec lo, Vec hi) {  // NaN passes, as PyTorch's clamp lets it
  v = v < lo ? lo : v;
  return v > hi ? hi : v;
}

// A plane's 3×3 weights splat once, its bias and clamp, and the columns: each block of L output
// columns, with the lanes each kernel column reads within the input row (shift kj − pl) and the
// lanes of the output.
struct Plane {
  Vec w[9], bias, lo, hi;
  int shift[3], blocks;
  Mask mask[kMaxBlocks][3], out[kMaxBlocks];
};

// Output row oh's kernel row ki reads input row j = oh + ki of the plane at xp, or zeros (padding).
inline const float* input_row(const Depthwise3x3Map& m, const float* xp, int j) {
  const int at = m.row_at[j];
  return at < 0 ? m.zeros : xp + at;
}

// R output rows from oh (R independent sums hide the FMA latency): each of the R + 2 input rows
// they read located once, then, block by block of columns, every tap one masked load and one FMA.
template <int R>
inline void rows(const Depthwise3x3Map& m, const Plane& k, int oh, const float* xp, const float* rp, float* yp) {
  const float* in[R + 2];
#pragma GCC unroll 10
  for (int j = 0; j < R + 2; ++j) in[j] = input_row(m, xp, oh + j);
  for (int cb = 0; cb < k.blocks; ++cb) {
    const int col = cb * L;
    Vec acc[R];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) acc[r] = k.bias;
#pragma GCC unroll 3
    for (int ki = 0; ki < 3; ++ki)
#pragma GCC unroll 3
      for (int kj = 0; kj < 3; ++kj)
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) acc[r] += k.w[ki * 3 + kj] * load(in[r + ki] + col + k.shift[kj], k.mask[cb][kj]);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const long at = (long)(oh + r) * m.out_w + col;
      Vec v = acc[r];
      if (rp) v += load(rp + at, k.out[cb]);
      store(yp + at, clamp(v, k.lo, k.hi), k.out[cb]);
    }
  }
}

// The column blocks of m's output rows into k: the shifts, each block's masks.
void columns(const Depthwise3x3Map& m, Plane* k) {
  k->blocks = (m.out_w + L - 1) / L;
  for (int kj = 0; kj < 3; ++kj) k->shift[kj] = kj - m.pl;
  for (int cb = 0; cb < k->blocks; ++cb) {
    const int col = cb * L, n = m.out_w - col < L ? m.out_w - col : L;
    for (int kj = 0; kj < 3; ++kj) {
      // Lanes whose input column col + lane + shift lies in [0, in_w).
      const int first = -(col + k->shift[kj]), end = m.in_w - col - k->shift[kj];
      k->mask[cb][kj] = lanes_between(first > 0 ? first : 0, end < n ? end : n);
    }
    k->out[cb] = lanes_between(0, n);
  }
}

}  // namespace

namespace cnn {

void depthwise_3x3_planes_avx512(const Depthwise3x3Map& m, long q0, long q1, const float* x, const float* w,
                                 const float* b, const float* res, float lo, float hi, float* y) {
  Plane k;
  columns(m, &k);
  k.lo = splat(lo), k.hi = splat(hi);
  for (long q = q0; q < q1; ++q) {
    const int c = (int)(q % m.channels);
    for (int t = 0; t < 9; ++t) k.w[t] = splat(w[(long)c * 9 + t]);
    k.bias = splat(b ? b[c] : 0.0f);
    const float* xp = x + q * m.in_plane;
    const float* rp = res ? res + q * m.out_plane : nullptr;
    float* yp = y + q * m.out_plane;
    int oh = 0;
    for (; oh + 4 <= m.out_h; oh += 4) rows<4>(m, k, oh, xp, rp, yp);
    if (oh + 2 <= m.out_h) rows<2>(m, k, oh, xp, rp, yp), oh += 2;
    if (oh < m.out_h) rows<1>(m, k, oh, xp, rp, yp);
  }
}

void depthwise_3x3_weight_avx512(const Depthwise3x3Map& m, int images, int c, const float* x, const float* dy,
                                 double* total) {
  Plane k;
  columns(m, &k);
  for (int t = 0; t < 10; ++t) total[t] = 0.0;
  // Each tap's products summed in float lanes over runs of about 256 vectors (rows of several
  // images on small maps), the runs' lanes then in double, in order.
  Vec acc[10] = {};
  int run = 0;
  const auto flush = [&] {
    for (int t = 0; t < 10; ++t) {
      double sum = 0.0;
      for (int l = 0; l < L; ++l) sum += acc[t][l];
      total[t] += sum;
      acc[t] = Vec{};
    }
    run = 0;
  };
  for (int n = 0; n < images; ++n) {
    const long q = (long)n * m.channels + c;
    const float* xp = x + q * m.in_plane;
    const float* gp = dy + q * m.out_plane;
    for (int oh = 0; oh < m.out_h; ++oh) {
      const float* in[3] = {input_row(m, xp, oh), input_row(m, xp, oh + 1), input_row(m, xp, oh + 2)};
      for (int cb = 0; cb < k.blocks; ++cb) {
        const int col = cb * L;
        const Vec g = load(gp + (long)oh * m.out_w + col, k.out[cb]);
#pragma GCC unroll 3
        for (int ki = 0; ki < 3; ++ki)
#pragma GCC unroll 3
          for (int kj = 0; kj < 3; ++kj) acc[ki * 3 + kj] += g * load(in[ki] + col + k.shift[kj], k.mask[cb][kj]);
        acc[9] += g;
      }
      run += k.blocks;
      if (run >= 256) flush();
    }
  }
  flush();
}

}  // namespace cnn
