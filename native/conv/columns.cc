#include "conv/columns.h"

#include <algorithm>
#include <cstring>

#include "conv/geometry.h"

namespace cnn {

// Output pixels run row by row: pixel q is (q / OW, q % OW), so [q0, q1) is a ragged first row,
// whole rows, and a ragged last row; each row segment is one contiguous copy when stride is 1.
void im2col(const Conv2dParams& p, const float* x, int cig, int q0, int q1, float* col, long ldc) {
  const int OW = p.out_w();
  for (int c = 0; c < cig; ++c)
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
          else for (int ow = lo; ow < hi; ++ow) d[ow] = s[(long)ow * p.stride_w];
          for (int ow = hi; ow < b; ++ow) d[ow] = 0.0f;
        }
      }
}

void col2im_add(const Conv2dParams& p, const float* col, int cig, int q0, int q1, long ldc, float* dx) {
  const int OW = p.out_w();
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
          else for (int ow = lo; ow < hi; ++ow) d[(long)ow * p.stride_w] += s[ow];
        }
      }
}

}  // namespace cnn
