// Convolution by im2col + GEMM, per image and group. With at least as many images as threads,
// images are spread over threads (single-threaded GEMMs, per-thread scratch); otherwise images
// run in turn and the GEMM takes the threads. 1×1/stride-1/unpadded convolutions use the input
// as the column matrix directly.
#include <omp.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "conv/conv.h"
#include "conv/geometry.h"
#include "gemm/gemm.h"

namespace cnn {

namespace {


// col (cig*KH*KW × OH*OW) from one image's group planes x (cig × H × W).
void im2col(const Conv2dParams& p, const float* x, int cig, float* col) {
  const int OH = p.out_h(), OW = p.out_w();
  for (int c = 0; c < cig; ++c)
    for (int ki = 0; ki < p.kh; ++ki)
      for (int kj = 0; kj < p.kw; ++kj) {
        float* dst = col + ((long)(c * p.kh + ki) * p.kw + kj) * OH * OW;
        const int offh = ki * p.dil_h - p.pad_t, offw = kj * p.dil_w - p.pad_l;
        int oh0, oh1, ow0, ow1;
        valid_range(OH, p.h, p.stride_h, offh, &oh0, &oh1);
        valid_range(OW, p.w, p.stride_w, offw, &ow0, &ow1);
        std::memset(dst, 0, sizeof(float) * (long)oh0 * OW);
        for (int oh = oh0; oh < oh1; ++oh) {
          float* d = dst + (long)oh * OW;
          const float* s = x + ((long)c * p.h + oh * p.stride_h + offh) * p.w + offw;
          for (int ow = 0; ow < ow0; ++ow) d[ow] = 0.0f;
          if (p.stride_w == 1) std::memcpy(d + ow0, s + ow0, sizeof(float) * (ow1 - ow0));
          else for (int ow = ow0; ow < ow1; ++ow) d[ow] = s[(long)ow * p.stride_w];
          for (int ow = ow1; ow < OW; ++ow) d[ow] = 0.0f;
        }
        std::memset(dst + (long)oh1 * OW, 0, sizeof(float) * (long)(OH - oh1) * OW);
      }
}

// dx (cig × H × W) += col2im(col).
void col2im_add(const Conv2dParams& p, const float* col, int cig, float* dx) {
  const int OH = p.out_h(), OW = p.out_w();
  for (int c = 0; c < cig; ++c)
    for (int ki = 0; ki < p.kh; ++ki)
      for (int kj = 0; kj < p.kw; ++kj) {
        const float* src = col + ((long)(c * p.kh + ki) * p.kw + kj) * OH * OW;
        const int offh = ki * p.dil_h - p.pad_t, offw = kj * p.dil_w - p.pad_l;
        int oh0, oh1, ow0, ow1;
        valid_range(OH, p.h, p.stride_h, offh, &oh0, &oh1);
        valid_range(OW, p.w, p.stride_w, offw, &ow0, &ow1);
        for (int oh = oh0; oh < oh1; ++oh) {
          const float* s = src + (long)oh * OW;
          float* d = dx + ((long)c * p.h + oh * p.stride_h + offh) * p.w + offw;
          if (p.stride_w == 1) for (int ow = ow0; ow < ow1; ++ow) d[ow] += s[ow];
          else for (int ow = ow0; ow < ow1; ++ow) d[(long)ow * p.stride_w] += s[ow];
        }
      }
}

// Images spread over threads when there are enough of them to keep every thread busy.
inline bool split_images(const Conv2dParams& p, int threads) { return threads > 1 && p.n >= threads; }

}  // namespace

void conv2d_forward(const Conv2dParams& p, const float* x, const float* w, const float* b, float* y,
                    int threads) {
  if (p.depthwise()) return depthwise_forward(p, x, w, b, y, threads);
  const int OH = p.out_h(), OW = p.out_w(), P = OH * OW;
  const int cig = p.c_in / p.groups, cog = p.c_out / p.groups, K = cig * p.kh * p.kw;
  const bool outer = split_images(p, threads);
  const int gemm_threads = outer ? 1 : threads;
#pragma omp parallel num_threads(outer ? threads : 1) if (outer)
  {
    std::vector<float> col(p.pointwise() ? 0 : (size_t)K * P);
#pragma omp for schedule(static)
    for (int n = 0; n < p.n; ++n) {
      for (int g = 0; g < p.groups; ++g) {
        const float* xg = x + ((long)n * p.c_in + g * cig) * p.h * p.w;
        float* yg = y + ((long)n * p.c_out + g * cog) * P;
        const float* B = xg;
        if (!p.pointwise()) {
          im2col(p, xg, cig, col.data());
          B = col.data();
        }
        float beta = 0.0f;
        if (b) {
          for (int co = 0; co < cog; ++co) std::fill(yg + (long)co * P, yg + (long)(co + 1) * P, b[g * cog + co]);
          beta = 1.0f;
        }
        sgemm(false, false, cog, P, K, 1.0f, w + (long)g * cog * K, K, B, P, beta, yg, P, gemm_threads);
      }
    }
  }
}

void conv2d_backward_input(const Conv2dParams& p, const float* dy, const float* w, float* dx,
                           int threads) {
  if (p.depthwise()) return depthwise_backward_input(p, dy, w, dx, threads);
  const int OH = p.out_h(), OW = p.out_w(), P = OH * OW;
  const int cig = p.c_in / p.groups, cog = p.c_out / p.groups, K = cig * p.kh * p.kw;
  const bool outer = split_images(p, threads);
  const int gemm_threads = outer ? 1 : threads;
#pragma omp parallel num_threads(outer ? threads : 1) if (outer)
  {
    std::vector<float> col(p.pointwise() ? 0 : (size_t)K * P);
#pragma omp for schedule(static)
    for (int n = 0; n < p.n; ++n) {
      for (int g = 0; g < p.groups; ++g) {
        const float* dyg = dy + ((long)n * p.c_out + g * cog) * P;
        float* dxg = dx + ((long)n * p.c_in + g * cig) * p.h * p.w;
        const float* wg = w + (long)g * cog * K;
        if (p.pointwise()) {
          sgemm(true, false, K, P, cog, 1.0f, wg, K, dyg, P, 0.0f, dxg, P, gemm_threads);
        } else {
          sgemm(true, false, K, P, cog, 1.0f, wg, K, dyg, P, 0.0f, col.data(), P, gemm_threads);
          std::memset(dxg, 0, sizeof(float) * (long)cig * p.h * p.w);
          col2im_add(p, col.data(), cig, dxg);
        }
      }
    }
  }
}

void conv2d_backward_weight(const Conv2dParams& p, const float* x, const float* dy, float* dw,
                            float* db, int threads) {
  if (p.depthwise()) return depthwise_backward_weight(p, x, dy, dw, db, threads);
  const int OH = p.out_h(), OW = p.out_w(), P = OH * OW;
  const int cig = p.c_in / p.groups, cog = p.c_out / p.groups, K = cig * p.kh * p.kw;
  const long wsize = (long)p.c_out * K;
  const bool outer = split_images(p, threads);
  const int nt = outer ? threads : 1;
  const int gemm_threads = outer ? 1 : threads;
  // Each thread sums its images' weight gradients privately; the partials are added at the end.
  std::vector<float> partial((size_t)(nt - 1) * wsize);
  std::memset(dw, 0, sizeof(float) * wsize);
#pragma omp parallel num_threads(nt) if (outer)
  {
    const int t = omp_get_thread_num();
    float* acc = t == 0 ? dw : partial.data() + (long)(t - 1) * wsize;
    if (t > 0) std::memset(acc, 0, sizeof(float) * wsize);
    std::vector<float> col(p.pointwise() ? 0 : (size_t)K * P);
#pragma omp for schedule(static)
    for (int n = 0; n < p.n; ++n) {
      for (int g = 0; g < p.groups; ++g) {
        const float* xg = x + ((long)n * p.c_in + g * cig) * p.h * p.w;
        const float* dyg = dy + ((long)n * p.c_out + g * cog) * P;
        const float* B = xg;
        if (!p.pointwise()) {
          im2col(p, xg, cig, col.data());
          B = col.data();
        }
        sgemm(false, true, cog, K, P, 1.0f, dyg, P, B, P, 1.0f, acc + (long)g * cog * K, K, gemm_threads);
      }
    }
  }
  for (int t = 1; t < nt; ++t) {
    const float* src = partial.data() + (long)(t - 1) * wsize;
    for (long i = 0; i < wsize; ++i) dw[i] += src[i];
  }
  if (db) {
    for (int co = 0; co < p.c_out; ++co) {
      double acc = 0.0;
      for (int n = 0; n < p.n; ++n) {
        const float* d = dy + ((long)n * p.c_out + co) * P;
        for (int i = 0; i < P; ++i) acc += d[i];
      }
      db[co] = (float)acc;
    }
  }
}

}  // namespace cnn
