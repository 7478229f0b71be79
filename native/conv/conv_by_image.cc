#include "conv/conv_by_image.h"

#include <omp.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "conv/columns.h"
#include "gemm/gemm.h"

namespace cnn {

namespace {

// Floats of one item's column matrix: with the GEMM's packed copy of it and the packed weights
// beside it, it still fits a 512 KiB L2.
constexpr long kItemColumnFloats = 32L << 10;
// Fewer output pixels per image than this and packing overhead per item outweighs the cache
// win; such layers batch many images into one threaded GEMM instead.
constexpr int kMinPixels = 196;

struct Split {
  int P, K, cig, cog;
  int cols, blocks;  // output pixels per item, items per image and group
  long items;
};

// Items of `cols` output pixels; `whole` keeps each image in one item (backward input scatters
// into overlapping input regions, so two threads must not share an image).
bool plan(const Conv2dParams& p, int threads, bool whole, Split* s) {
  s->P = p.out_h() * p.out_w();
  s->cig = p.c_in / p.groups;
  s->cog = p.c_out / p.groups;
  s->K = s->cig * p.kh * p.kw;
  if (s->P < kMinPixels) return false;
  const int cap = p.pointwise() ? s->P : (int)std::max<long>(16, kItemColumnFloats / s->K / 16 * 16);
  const int blocks = (s->P + cap - 1) / cap;
  s->cols = std::min(s->P, ((s->P + blocks - 1) / blocks + 15) / 16 * 16);
  s->blocks = (s->P + s->cols - 1) / s->cols;
  const long per_image = whole ? 1 : s->blocks;
  s->items = (long)p.n * p.groups * per_image;
  // Enough items that a static split over the threads is nearly even.
  return threads == 1 || s->items >= 4L * threads;
}

float* grow(std::vector<float>& v, long n) {
  if ((long)v.size() < n) v.resize(n);
  return v.data();
}

// The weights of every group packed once (op(A) = W or Wᵀ), shared read-only by the threads.
const float* pack_weights(Isa isa, const Split& s, int groups, bool transpose, const float* w) {
  thread_local std::vector<float> packed;
  const int m = transpose ? s.K : s.cog, k = transpose ? s.cog : s.K;
  const long per_group = sgemm_packed_a_floats(isa, m, k);
  float* out = grow(packed, per_group * groups);
  for (int g = 0; g < groups; ++g)
    sgemm_pack_a(isa, transpose, m, k, w + (long)g * s.cog * s.K, s.K, out + g * per_group);
  return out;
}

}  // namespace

bool conv2d_forward_by_image(const Conv2dParams& p, const float* x, const float* w, const float* b,
                             float* y, int threads) {
  Split s;
  if (!plan(p, threads, false, &s)) return false;
  const Isa isa = active_isa();
  const float* wp = pack_weights(isa, s, p.groups, false, w);
  const long per_group = sgemm_packed_a_floats(isa, s.cog, s.K);
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
  if (!plan(p, threads, true, &s)) return false;
  const Isa isa = active_isa();
  const float* wp = pack_weights(isa, s, p.groups, true, w);
  const long per_group = sgemm_packed_a_floats(isa, s.K, s.cog);
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
  if (!plan(p, threads, false, &s)) return false;
  // Thread t sums its items into its own copy of dW (thread 0 into dw itself); the copies are
  // added in thread order, so a given thread count always gives the same bits.
  const long wsize = (long)p.c_out * s.K;
  thread_local std::vector<float> partial_buf;
  float* partial = grow(partial_buf, wsize * (threads - 1));
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    const int t = threads > 1 ? omp_get_thread_num() : 0;
    float* mine = t == 0 ? dw : partial + (t - 1) * wsize;
    std::memset(mine, 0, sizeof(float) * wsize);
    thread_local std::vector<float> col_buf;
#pragma omp for schedule(static)
    for (long it = 0; it < s.items; ++it) {
      const int blk = (int)(it % s.blocks), g = (int)(it / s.blocks % p.groups), i = (int)(it / s.blocks / p.groups);
      const int q0 = blk * s.cols, q1 = std::min(s.P, q0 + s.cols);
      const float* xg = x + ((long)i * p.c_in + g * s.cig) * p.h * p.w;
      const float* B = xg + q0;
      int ldb = s.P;
      if (!p.pointwise()) {
        float* col = grow(col_buf, (long)s.K * s.cols);
        im2col(p, xg, s.cig, q0, q1, col, s.cols);
        B = col, ldb = s.cols;
      }
      // dW_g (cog × K) += dY block (cog × pixels) · colᵀ (pixels × K)
      sgemm(false, true, s.cog, s.K, q1 - q0, 1.0f, dy + ((long)i * p.c_out + g * s.cog) * s.P + q0, s.P, B, ldb,
            1.0f, mine + (long)g * s.cog * s.K, s.K, 1);
    }
#pragma omp for schedule(static)
    for (long e = 0; e < wsize; ++e)
      for (int u = 0; u < threads - 1; ++u) dw[e] += partial[u * wsize + e];
  }
  return true;
}

}  // namespace cnn
