#include "conv/conv_by_image.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "conv/columns.h"
#include "conv/work.h"
#include "gemm/gemm.h"

namespace cnn {

namespace {

struct Split {
  int P, K, cig, cog;
  int run;     // images per item: 1, or a run of whole small images (backward weight)
  int cols;    // output pixels per GEMM
  int blocks;  // items per run and group (1 when `whole`: the item loops over its blocks)
  long items;
};

// Items of `cols` output pixels of one image, or runs of `run` whole images when `deep` asks
// for kMinDepth pixels per item. `whole` keeps each image in one item (backward input scatters
// into overlapping input regions, so two threads must not share an image).
bool plan(const Conv2dParams& p, int threads, bool whole, bool deep, Split* s) {
  s->P = p.out_h() * p.out_w();
  s->cig = p.c_in / p.groups;
  s->cog = p.c_out / p.groups;
  s->K = s->cig * p.kh * p.kw;
  if (s->P < kMinPixels) return false;
  s->run = deep ? std::min(p.n, (kMinDepth + s->P - 1) / s->P) : 1;
  const int cap = p.pointwise() || s->run > 1 ? s->P : (int)std::max<long>(16, kItemColumnFloats / s->K / 16 * 16);
  const int blocks = (s->P + cap - 1) / cap;
  s->cols = std::min(s->P, ((s->P + blocks - 1) / blocks + 15) / 16 * 16);
  s->blocks = whole ? 1 : (s->P + s->cols - 1) / s->cols;
  s->items = (long)(p.n + s->run - 1) / s->run * p.groups * s->blocks;
  // Enough items that a static split over the threads is nearly even.
  return threads == 1 || s->items >= 4L * threads;
}

}  // namespace

bool conv2d_forward_by_image(const Conv2dParams& p, const float* x, const float* w, const float* b,
                             float* y, int threads) {
  Split s;
  if (!plan(p, threads, false, false, &s)) return false;
  const Isa isa = active_isa();
  long per_group;
  const float* wp = pack_group_weights(isa, p.groups, false, s.cog, s.K, w, s.K, &per_group);
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    thread_local std::vector<float> col_buf;
#pragma omp for schedule(static)
    for (long it = 0; it < s.items; ++it) {
      const int blk = (int)(it % s.blocks), g = (int)(it / s.blocks % p.groups), i = (int)(it / s.blocks / p.groups);
      const int q0 = blk * s.cols, q1 = std::min(s.P, q0 + s.cols);
      const float* xg = x + ((long)i * p.c_in + g * s.cig) * p.h * p.w;
      float* yg = y + ((long)i * p.c_out + g * s.cog) * s.P;
      const float* B = xg + q0;  // a pointwise convolution multiplies the planes as they are
      int ldb = s.P;
      if (!p.pointwise()) {
        float* col = grow(col_buf, (long)s.K * s.cols);
        im2col(p, xg, s.cig, q0, q1, col, s.cols);
        B = col, ldb = s.cols;
      }
      sgemm_packed(isa, s.cog, q1 - q0, s.K, 1.0f, wp + g * per_group, false, B, ldb, 0.0f, yg + q0, s.P);
      if (b)
        for (int co = 0; co < s.cog; ++co) {
          float* row = yg + (long)co * s.P;
          const float bias = b[g * s.cog + co];
          for (int q = q0; q < q1; ++q) row[q] += bias;
        }
    }
  }
  return true;
}

bool conv2d_backward_input_by_image(const Conv2dParams& p, const float* dy, const float* w,
                                    float* dx, int threads) {
  Split s;
  if (!plan(p, threads, true, false, &s)) return false;
  const Isa isa = active_isa();
  long per_group;
  const float* wp = pack_group_weights(isa, p.groups, true, s.K, s.cog, w, s.K, &per_group);
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    thread_local std::vector<float> col_buf;
#pragma omp for schedule(static)
    for (long it = 0; it < s.items; ++it) {
      const int g = (int)(it % p.groups), i = (int)(it / p.groups);
      const float* dyg = dy + ((long)i * p.c_out + g * s.cog) * s.P;
      float* dxg = dx + ((long)i * p.c_in + g * s.cig) * p.h * p.w;
      if (p.pointwise()) {
        sgemm_packed(isa, s.K, s.P, s.cog, 1.0f, wp + g * per_group, false, dyg, s.P, 0.0f, dxg, s.P);
        continue;
      }
      std::memset(dxg, 0, sizeof(float) * s.cig * p.h * p.w);
      float* col = grow(col_buf, (long)s.K * s.cols);
      for (int q0 = 0; q0 < s.P; q0 += s.cols) {
        const int q1 = std::min(s.P, q0 + s.cols);
        sgemm_packed(isa, s.K, q1 - q0, s.cog, 1.0f, wp + g * per_group, false, dyg + q0, s.P, 0.0f, col, s.cols);
        col2im_add(p, col, s.cig, q0, q1, s.cols, dxg);
      }
    }
  }
  return true;
}

bool conv2d_backward_weight_by_image(const Conv2dParams& p, const float* x, const float* dy,
                                     float* dw, int threads) {
  Split s;
  if (!plan(p, threads, false, true, &s)) return false;
  thread_local std::vector<float> col_buf, dy_buf;  // one pair per OpenMP thread
  sum_over_items(s.items, (long)p.c_out * s.K, dw, threads, [&](long it, float* mine, int) {
    const int blk = (int)(it % s.blocks), g = (int)(it / s.blocks % p.groups);
    const int i0 = (int)(it / s.blocks / p.groups) * s.run, images = std::min(s.run, p.n - i0);
    const int q0 = blk * s.cols, q1 = std::min(s.P, q0 + s.cols);
    const float* xg = x + ((long)i0 * p.c_in + g * s.cig) * p.h * p.w;
    const float* dyg = dy + ((long)i0 * p.c_out + g * s.cog) * s.P;
    // A run of images is laid side by side: dY (cog × images·P) and col (K × images·P).
    const float *A = dyg + q0, *B = xg + q0;
    int depth = q1 - q0, lda = s.P, ldb = s.P;
    if (images > 1) {
      depth = images * s.P, lda = ldb = depth;
      float* dyc = grow(dy_buf, (long)s.cog * depth);
      float* col = grow(col_buf, (long)s.K * depth);
      for (int j = 0; j < images; ++j) {
        for (int co = 0; co < s.cog; ++co)
          std::memcpy(dyc + (long)co * depth + j * s.P, dyg + ((long)j * p.c_out + co) * s.P, sizeof(float) * s.P);
        const float* xj = xg + (long)j * p.c_in * p.h * p.w;
        if (p.pointwise())
          for (int ci = 0; ci < s.cig; ++ci) std::memcpy(col + (long)ci * depth + j * s.P, xj + (long)ci * s.P, sizeof(float) * s.P);
        else
          im2col(p, xj, s.cig, 0, s.P, col + j * s.P, depth);
      }
      A = dyc, B = col;
    } else if (!p.pointwise()) {
      float* col = grow(col_buf, (long)s.K * s.cols);
      im2col(p, xg, s.cig, q0, q1, col, s.cols);
      B = col, ldb = s.cols;
    }
    // dW_g (cog × K) += dY (cog × depth) · colᵀ (depth × K)
    sgemm(false, true, s.cog, s.K, depth, 1.0f, A, lda, B, ldb, 1.0f, mine + (long)g * s.cog * s.K, s.K, 1);
  });
  return true;
}

}  // namespace cnn
