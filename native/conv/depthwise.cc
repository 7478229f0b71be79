// Depthwise convolution (one filter per channel): direct loops over each plane, channels and
// images spread over threads. The inner loop runs along the output row so it vectorizes.
#include <omp.h>

#include <algorithm>
#include <cstring>

#include "conv/conv.h"
#include "conv/geometry.h"

namespace cnn {

void depthwise_forward(const Conv2dParams& p, const float* x, const float* w, const float* b,
                       float* y, int threads) {
  const int OH = p.out_h(), OW = p.out_w(), C = p.c_in;
  const long planes = (long)p.n * C;
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
  for (long nc = 0; nc < planes; ++nc) {
    const int c = (int)(nc % C);
    const float* xp = x + nc * p.h * p.w;
    float* yp = y + nc * OH * OW;
    const float* wc = w + (long)c * p.kh * p.kw;
    std::fill(yp, yp + (long)OH * OW, b ? b[c] : 0.0f);
    for (int ki = 0; ki < p.kh; ++ki)
      for (int kj = 0; kj < p.kw; ++kj) {
        const float wv = wc[ki * p.kw + kj];
        const int offh = ki * p.dil_h - p.pad_t, offw = kj * p.dil_w - p.pad_l;
        int oh0, oh1, ow0, ow1;
        valid_range(OH, p.h, p.stride_h, offh, &oh0, &oh1);
        valid_range(OW, p.w, p.stride_w, offw, &ow0, &ow1);
        for (int oh = oh0; oh < oh1; ++oh) {
          float* d = yp + (long)oh * OW;
          const float* s = xp + ((long)oh * p.stride_h + offh) * p.w + offw;
          if (p.stride_w == 1) for (int ow = ow0; ow < ow1; ++ow) d[ow] += wv * s[ow];
          else for (int ow = ow0; ow < ow1; ++ow) d[ow] += wv * s[(long)ow * p.stride_w];
        }
      }
  }
}

void depthwise_backward_input(const Conv2dParams& p, const float* dy, const float* w, float* dx,
                              int threads) {
  const int OH = p.out_h(), OW = p.out_w(), C = p.c_in;
  const long planes = (long)p.n * C;
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
  for (long nc = 0; nc < planes; ++nc) {
    const int c = (int)(nc % C);
    const float* dyp = dy + nc * OH * OW;
    float* dxp = dx + nc * p.h * p.w;
    const float* wc = w + (long)c * p.kh * p.kw;
    std::memset(dxp, 0, sizeof(float) * (long)p.h * p.w);
    for (int ki = 0; ki < p.kh; ++ki)
      for (int kj = 0; kj < p.kw; ++kj) {
        const float wv = wc[ki * p.kw + kj];
        const int offh = ki * p.dil_h - p.pad_t, offw = kj * p.dil_w - p.pad_l;
        int oh0, oh1, ow0, ow1;
        valid_range(OH, p.h, p.stride_h, offh, &oh0, &oh1);
        valid_range(OW, p.w, p.stride_w, offw, &ow0, &ow1);
        for (int oh = oh0; oh < oh1; ++oh) {
          const float* s = dyp + (long)oh * OW;
          float* d = dxp + ((long)oh * p.stride_h + offh) * p.w + offw;
          if (p.stride_w == 1) for (int ow = ow0; ow < ow1; ++ow) d[ow] += wv * s[ow];
          else for (int ow = ow0; ow < ow1; ++ow) d[(long)ow * p.stride_w] += wv * s[ow];
        }
      }
  }
}

void depthwise_backward_weight(const Conv2dParams& p, const float* x, const float* dy, float* dw,
                               float* db, int threads) {
  const int OH = p.out_h(), OW = p.out_w(), C = p.c_in;
  const int taps = p.kh * p.kw;
  // Parallel over channels: each channel's taps are summed over all images by one thread.
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
  for (int c = 0; c < C; ++c) {
    for (int t = 0; t < taps; ++t) {
      const int ki = t / p.kw, kj = t % p.kw;
      const int offh = ki * p.dil_h - p.pad_t, offw = kj * p.dil_w - p.pad_l;
      int oh0, oh1, ow0, ow1;
      valid_range(OH, p.h, p.stride_h, offh, &oh0, &oh1);
      valid_range(OW, p.w, p.stride_w, offw, &ow0, &ow1);
      double acc = 0.0;
      for (int n = 0; n < p.n; ++n) {
        const float* xp = x + ((long)n * C + c) * p.h * p.w;
        const float* dyp = dy + ((long)n * C + c) * OH * OW;
        for (int oh = oh0; oh < oh1; ++oh) {
          const float* s = xp + ((long)oh * p.stride_h + offh) * p.w + offw;
          const float* d = dyp + (long)oh * OW;
          float row = 0.0f;
          if (p.stride_w == 1) for (int ow = ow0; ow < ow1; ++ow) row += s[ow] * d[ow];
          else for (int ow = ow0; ow < ow1; ++ow) row += s[(long)ow * p.stride_w] * d[ow];
          acc += row;
        }
      }
      dw[(long)c * taps + t] = (float)acc;
    }
    if (db) {
      double acc = 0.0;
      for (int n = 0; n < p.n; ++n) {
        const float* d = dy + ((long)n * C + c) * OH * OW;
        for (int i = 0; i < OH * OW; ++i) acc += d[i];
      }
      db[c] = (float)acc;
    }
  }
}

}  // namespace cnn
