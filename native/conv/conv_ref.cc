#include <cstddef>
#include <vector>

#include "conv/conv.h"

namespace cnn {

void conv2d_ref_forward(const Conv2dParams& p, const float* x, const float* w, const float* b,
                        float* y) {
  const int OH = p.out_h(), OW = p.out_w();
  const int cig = p.c_in / p.groups, cog = p.c_out / p.groups;
  for (int n = 0; n < p.n; ++n)
    for (int co = 0; co < p.c_out; ++co) {
      const int g = co / cog;
      for (int oh = 0; oh < OH; ++oh)
        for (int ow = 0; ow < OW; ++ow) {
          double acc = b ? b[co] : 0.0;
          for (int ci = 0; ci < cig; ++ci)
            for (int ki = 0; ki < p.kh; ++ki) {
              const int ih = oh * p.stride_h - p.pad_t + ki * p.dil_h;
              if (ih < 0 || ih >= p.h) continue;
              for (int kj = 0; kj < p.kw; ++kj) {
                const int iw = ow * p.stride_w - p.pad_l + kj * p.dil_w;
                if (iw < 0 || iw >= p.w) continue;
                acc += (double)x[(((long)n * p.c_in + g * cig + ci) * p.h + ih) * p.w + iw] *
                       w[(((long)co * cig + ci) * p.kh + ki) * p.kw + kj];
              }
            }
          y[(((long)n * p.c_out + co) * OH + oh) * OW + ow] = (float)acc;
        }
    }
}

void conv2d_ref_backward_input(const Conv2dParams& p, const float* dy, const float* w, float* dx) {
  const int OH = p.out_h(), OW = p.out_w();
  const int cig = p.c_in / p.groups, cog = p.c_out / p.groups;
  std::vector<double> acc((std::size_t)p.n * p.c_in * p.h * p.w, 0.0);
  for (int n = 0; n < p.n; ++n)
    for (int co = 0; co < p.c_out; ++co) {
      const int g = co / cog;
      for (int oh = 0; oh < OH; ++oh)
        for (int ow = 0; ow < OW; ++ow) {
          const double d = dy[(((long)n * p.c_out + co) * OH + oh) * OW + ow];
          for (int ci = 0; ci < cig; ++ci)
            for (int ki = 0; ki < p.kh; ++ki) {
              const int ih = oh * p.stride_h - p.pad_t + ki * p.dil_h;
              if (ih < 0 || ih >= p.h) continue;
              for (int kj = 0; kj < p.kw; ++kj) {
                const int iw = ow * p.stride_w - p.pad_l + kj * p.dil_w;
                if (iw < 0 || iw >= p.w) continue;
                acc[(((std::size_t)n * p.c_in + g * cig + ci) * p.h + ih) * p.w + iw] +=
                    d * w[(((long)co * cig + ci) * p.kh + ki) * p.kw + kj];
              }
            }
        }
    }
  for (std::size_t i = 0; i < acc.size(); ++i) dx[i] = (float)acc[i];
}

void conv2d_ref_backward_weight(const Conv2dParams& p, const float* x, const float* dy, float* dw,
                                float* db) {
  const int OH = p.out_h(), OW = p.out_w();
  const int cig = p.c_in / p.groups, cog = p.c_out / p.groups;
  for (int co = 0; co < p.c_out; ++co) {
    const int g = co / cog;
    for (int ci = 0; ci < cig; ++ci)
      for (int ki = 0; ki < p.kh; ++ki)
        for (int kj = 0; kj < p.kw; ++kj) {
          double acc = 0.0;
          for (int n = 0; n < p.n; ++n)
            for (int oh = 0; oh < OH; ++oh) {
              const int ih = oh * p.stride_h - p.pad_t + ki * p.dil_h;
              if (ih < 0 || ih >= p.h) continue;
              for (int ow = 0; ow < OW; ++ow) {
                const int iw = ow * p.stride_w - p.pad_l + kj * p.dil_w;
                if (iw < 0 || iw >= p.w) continue;
                acc += (double)x[(((long)n * p.c_in + g * cig + ci) * p.h + ih) * p.w + iw] *
                       dy[(((long)n * p.c_out + co) * OH + oh) * OW + ow];
              }
            }
          dw[(((long)co * cig + ci) * p.kh + ki) * p.kw + kj] = (float)acc;
        }
    if (db) {
      double acc = 0.0;
      for (int n = 0; n < p.n; ++n)
        for (int i = 0; i < OH * OW; ++i) acc += dy[((long)n * p.c_out + co) * OH * OW + i];
      db[co] = (float)acc;
    }
  }
}

}  // namespace cnn
