#include "conv/columns.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "conv/columns_small.h"
#include "conv/geometry.h"
#include "cpu/profile.h"

namespace cnn {

namespace {

// Narrower outputs than this go through per-tap offset tables: their row segments are too short
// for the segment-wise copies to pay for their bookkeeping.
constexpr int kNarrow = 16;

// What the tap tables below depend on: each is built once per thread for the last geometry it
// saw, not per image (a batch calls im2col once per image with the same geometry).
struct TapKey {
  int h, w, kh, kw, stride_h, stride_w, pad_t, pad_l, dil_h, dil_w, q0, q1;
  static TapKey of(const Conv2dParams& p, int q0, int q1) {
    return {p.h, p.w, p.kh, p.kw, p.stride_h, p.stride_w, p.pad_t, p.pad_l, p.dil_h, p.dil_w, q0, q1};
  }
  bool operator==(const TapKey& o) const { return std::memcmp(this, &o, sizeof o) == 0; }
};

// For every tap (ki, kj) and pixel q in [q0, q1): the tap's offset inside an input plane, or −1
// where it reads padding. Shared by all channels; in the calling thread's buffer.
const int* tap_offsets(const Conv2dParams& p, int q0, int q1) {
  thread_local std::vector<int> buf;
  thread_local TapKey built{};
  const TapKey key = TapKey::of(p, q0, q1);
  if (!buf.empty() && built == key) return buf.data();
  const int OW = p.out_w(), n = q1 - q0;
  buf.resize((size_t)p.kh * p.kw * n);
  for (int ki = 0; ki < p.kh; ++ki)
    for (int kj = 0; kj < p.kw; ++kj) {
      int* off = buf.data() + (long)(ki * p.kw + kj) * n;
      for (int q = q0; q < q1; ++q) {
        const int ih = q / OW * p.stride_h + ki * p.dil_h - p.pad_t;
        const int iw = q % OW * p.stride_w + kj * p.dil_w - p.pad_l;
        off[q - q0] = ih >= 0 && ih < p.h && iw >= 0 && iw < p.w ? ih * p.w + iw : -1;
      }
    }
  built = key;
  return buf.data();
}

// The tap tables of columns_small.h for whole images [q0, q1) = [0, P), or null where the
// active ISA has no small-plane kernels or the planes do not fit one vector. One output pixel
// (a row of K per image: the batched path's layout) is a single gather per tap either way.
const SmallColumns* small_columns(const Conv2dParams& p, int q0, int q1, const SmallColumnTaps** taps) {
  const SmallColumns* k = small_columns_for(active_isa());
  const int P = p.out_h() * p.out_w(), nt = p.kh * p.kw;
  if (!k || q0 != 0 || q1 != P || P < 4 || P > kSmallColumnLanes || p.h * p.w > kSmallColumnLanes || nt > kSmallColumnTaps) return nullptr;
  thread_local SmallColumnTaps s;
  thread_local TapKey built{};
  const TapKey key = TapKey::of(p, q0, q1);
  *taps = &s;
  if (built == key) return k;
  s.taps = nt, s.hw = p.h * p.w, s.P = P;
  const int* offs = tap_offsets(p, 0, P);
  for (int t = 0; t < nt; ++t) {
    for (int l = 0; l < kSmallColumnLanes; ++l) s.from[t][l] = -1, s.to[t][l] = -1;
    for (int q = 0; q < P; ++q)
      if ((s.from[t][q] = offs[t * P + q]) >= 0) s.to[t][offs[t * P + q]] = q;
  }
  built = key;
  return k;
}

// The row kernels of columns_small.h for pixels [q0, q1) when they are whole output rows of 8 to
// 16 pixels whose taps span at most 32 inputs of rows at most 32 wide, else null.
const SmallColumns* row_columns(const Conv2dParams& p, int q0, int q1, RowColumnShape* r) {
  const SmallColumns* k = small_columns_for(active_isa());
  const int OW = p.out_w();
  if (!k || OW < 8 || OW > 16 || (OW - 1) * p.stride_w >= kRowColumnSpan || p.w > kRowColumnSpan || p.kw > kRowColumnWidth ||
      q0 % OW || q1 % OW)
    return nullptr;
  *r = {p.h, p.w, OW, p.kh, p.kw, p.stride_h, p.stride_w, p.dil_h, p.dil_w, p.pad_t, p.pad_l, q0 / OW, q1 / OW};
  return k;
}

typedef float Vec4 __attribute__((vector_size(16), aligned(4)));  // unaligned loads and stores

// d[i] = s[2i] for i in [0, n): four outputs from two loads and a shuffle. The vector loop stops
// one vector early, so it never reads past s[2(n − 1)].
void gather_stride2(float* d, const float* s, int n) {
  int i = 0;
  for (; i + 4 < n; i += 4) {
    const Vec4 a = *(const Vec4*)(s + 2 * i), b = *(const Vec4*)(s + 2 * i + 4);
    *(Vec4*)(d + i) = __builtin_shufflevector(a, b, 0, 2, 4, 6);
  }
  for (; i < n; ++i) d[i] = s[2 * i];
}

// d[2i] += s[i] for i in [0, n), the odd d[2i + 1] rewritten unchanged (+0); stops one vector
// early as gather_stride2 does, so it never touches d past d[2(n − 1)].
void scatter_add_stride2(float* d, const float* s, int n) {
  int i = 0;
  const Vec4 zero = {0, 0, 0, 0};
  for (; i + 4 < n; i += 4) {
    const Vec4 v = *(const Vec4*)(s + i);
    *(Vec4*)(d + 2 * i) += __builtin_shufflevector(v, zero, 0, 4, 1, 5);
    *(Vec4*)(d + 2 * i + 4) += __builtin_shufflevector(v, zero, 2, 6, 3, 7);
  }
  for (; i < n; ++i) d[2 * i] += s[i];
}

}  // namespace

// Output pixels run row by row: pixel q is (q / OW, q % OW), so [q0, q1) is a ragged first row,
// whole rows, and a ragged last row; each row segment is one contiguous copy when stride is 1.
void im2col(const Conv2dParams& p, const float* x, int cig, int q0, int q1, float* col, long ldc) {
  const ProfileScope timed(ProfileCategory::Im2col);
  const int OW = p.out_w();
  const SmallColumnTaps* small;
  if (const SmallColumns* k = small_columns(p, q0, q1, &small)) return k->im2col(*small, cig, x, col, ldc);
  RowColumnShape rows;
  if (const SmallColumns* k = row_columns(p, q0, q1, &rows)) return k->im2col_rows(rows, cig, x, col, ldc);
  if (OW < kNarrow) {
    const int taps = p.kh * p.kw, n = q1 - q0;
    const int* offs = tap_offsets(p, q0, q1);
    for (int c = 0; c < cig; ++c) {
      const float* plane = x + (long)c * p.h * p.w;
      for (int t = 0; t < taps; ++t) {
        float* dst = col + ((long)c * taps + t) * ldc;
        const int* off = offs + (long)t * n;
        for (int q = 0; q < n; ++q) dst[q] = off[q] >= 0 ? plane[off[q]] : 0.0f;
      }
    }
    return;
  }
  const long plane = (long)p.h * p.w;
  for (int c = 0; c < cig; ++c) {
    // The next channel's plane, a line at a time: a strided convolution reads every other
    // row, a pattern the hardware prefetchers do not follow, and the image is read only here.
    if (c + 1 < cig)
      for (long i = 0; i < plane; i += 16) __builtin_prefetch(x + (c + 1) * plane + i);
    for (int ki = 0; ki < p.kh; ++ki)
      for (int kj = 0; kj < p.kw; ++kj) {
        float* dst = col + ((long)(c * p.kh + ki) * p.kw + kj) * ldc;
        const int offh = ki * p.dil_h - p.pad_t, offw = kj * p.dil_w - p.pad_l;
        int ow0, ow1;
        valid_range(OW, p.w, p.stride_w, offw, &ow0, &ow1);
        for (int oh = q0 / OW; oh * OW < q1; ++oh) {
          const int a = std::max(q0 - oh * OW, 0), b = std::min(q1 - oh * OW, OW);  // ow segment
          float* d = dst + (oh * OW - q0);  // d[ow] for ow in [a, b)
          const int ih = oh * p.stride_h + offh;
          if (ih < 0 || ih >= p.h) {
            std::memset(d + a, 0, sizeof(float) * (b - a));
            continue;
          }
          const float* s = x + ((long)c * p.h + ih) * p.w + offw;
          const int lo = std::clamp(ow0, a, b), hi = std::clamp(ow1, lo, b);
          for (int ow = a; ow < lo; ++ow) d[ow] = 0.0f;
          if (p.stride_w == 1) std::memcpy(d + lo, s + lo, sizeof(float) * (hi - lo));
          else if (p.stride_w == 2) gather_stride2(d + lo, s + 2L * lo, hi - lo);
          else for (int ow = lo; ow < hi; ++ow) d[ow] = s[(long)ow * p.stride_w];
          for (int ow = hi; ow < b; ++ow) d[ow] = 0.0f;
        }
      }
  }
}

void col2im_add(const Conv2dParams& p, const float* col, int cig, int q0, int q1, long ldc, float* dx) {
  const ProfileScope timed(ProfileCategory::Im2col);
  const int OW = p.out_w();
  const SmallColumnTaps* small;
  if (const SmallColumns* k = small_columns(p, q0, q1, &small)) return k->col2im_add(*small, cig, col, ldc, dx);
  RowColumnShape rows;
  if (const SmallColumns* k = row_columns(p, q0, q1, &rows)) return k->col2im_add_rows(rows, cig, col, ldc, dx);
  if (OW < kNarrow) {
    const int taps = p.kh * p.kw, n = q1 - q0;
    const int* offs = tap_offsets(p, q0, q1);
    for (int c = 0; c < cig; ++c) {
      float* plane = dx + (long)c * p.h * p.w;
      for (int t = 0; t < taps; ++t) {
        const float* src = col + ((long)c * taps + t) * ldc;
        const int* off = offs + (long)t * n;
        for (int q = 0; q < n; ++q)
          if (off[q] >= 0) plane[off[q]] += src[q];
      }
    }
    return;
  }
  for (int c = 0; c < cig; ++c)
    for (int ki = 0; ki < p.kh; ++ki)
      for (int kj = 0; kj < p.kw; ++kj) {
        const float* src = col + ((long)(c * p.kh + ki) * p.kw + kj) * ldc;
        const int offh = ki * p.dil_h - p.pad_t, offw = kj * p.dil_w - p.pad_l;
        int ow0, ow1;
        valid_range(OW, p.w, p.stride_w, offw, &ow0, &ow1);
        for (int oh = q0 / OW; oh * OW < q1; ++oh) {
          const int ih = oh * p.stride_h + offh;
          if (ih < 0 || ih >= p.h) continue;
          const int a = std::max(q0 - oh * OW, 0), b = std::min(q1 - oh * OW, OW);
          const int lo = std::clamp(ow0, a, b), hi = std::clamp(ow1, lo, b);
          const float* s = src + (oh * OW - q0);
          float* d = dx + ((long)c * p.h + ih) * p.w + offw;
          if (p.stride_w == 1) for (int ow = lo; ow < hi; ++ow) d[ow] += s[ow];
          else if (p.stride_w == 2) scatter_add_stride2(d + 2L * lo, s + lo, hi - lo);
          else for (int ow = lo; ow < hi; ++ow) d[(long)ow * p.stride_w] += s[ow];
        }
      }
}

const SmallColumns* small_columns_for(Isa isa) {
#if defined(CNN_X86)
  if (isa == Isa::Avx512) return &small_columns_avx512;
#endif
  (void)isa;
  return nullptr;
}

}  // namespace cnn
