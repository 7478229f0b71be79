// dW (Cout × Cin) = Σ_n dY_n (Cout × P) · X_nᵀ (P × Cin) with pixels in the vector lanes
// (DepthwiseLanes::pixel_dots): every (co, ci) keeps a vector of partial sums, one per lane, over
// the images of a thread; a tile of them stays in registers over a group of images small enough
// for L2, and the lanes and the threads' copies are summed at the end, in a fixed order (a given
// thread count always gives the same bits).
#include "conv/pointwise.h"

#include <omp.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "conv/depthwise_lanes.h"
#include "conv/work.h"

namespace cnn {

namespace {

// Map pixels the path takes: past 8×8, where the GEMM's runs of images measured as fast or faster
// (MobileNetV2's 8×8 layers, 2 threads: 96→24 0.13 vs 0.13-0.16 ms, 144→24 0.14-0.21 vs 0.22 ms),
// up to 16×16 (from 257 pixels the direct loops take 1×1 layers).
constexpr int kMinPlanePixels = 65, kMaxPlanePixels = 256;
// Weights (Cout·Cin) up to which each thread's sums (16 floats each on AVX-512) stay in L2: 256 KB.
constexpr long kMaxWeights = 4096;
// Floats of one group of images' planes (dY and X), read by every tile while they stay in L2.
constexpr long kGroupFloats = 64L << 10;

}  // namespace

bool pointwise_weight_suits(const Conv2dParams& p) {
  const long P = (long)p.h * p.w;
  return p.pointwise() && p.groups == 1 && P >= kMinPlanePixels && P <= kMaxPlanePixels && (long)p.c_out * p.c_in <= kMaxWeights;
}

bool pointwise_backward_weight(const Conv2dParams& p, const float* x, const float* dy, float* dw, int threads) {
  if (!pointwise_weight_suits(p)) return false;
  const DepthwiseLanes& K = depthwise_lanes_for(active_isa());
  const long P = (long)p.h * p.w, weights = (long)p.c_out * p.c_in, size = weights * K.lanes;
  const int group = (int)std::max<long>(1, kGroupFloats / ((p.c_in + p.c_out) * P));
  thread_local std::vector<float> sums_buf;
  float* sums = grow(sums_buf, size * threads);
  int team = 1;
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    // The team may be smaller than asked for (nested in another region).
    const int t = omp_get_thread_num(), n = omp_get_num_threads();
#pragma omp single
    team = n;
    float* mine = sums + t * size;
    std::memset(mine, 0, sizeof(float) * size);
    const int i0 = (int)((long)p.n * t / n), i1 = (int)((long)p.n * (t + 1) / n);
    for (int g = i0; g < i1; g += group)
      K.pixel_dots(p.c_out, p.c_in, std::min(group, i1 - g), P, dy + (long)g * p.c_out * P, (long)p.c_out * P,
                   x + (long)g * p.c_in * P, (long)p.c_in * P, mine, p.c_in);
#pragma omp barrier
#pragma omp for schedule(static)
    for (long e = 0; e < weights; ++e) {
      float total = 0.0f;
      for (int u = 0; u < team; ++u) {
        const float* v = sums + u * size + e * K.lanes;
        float s = 0.0f;
        for (int l = 0; l < K.lanes; ++l) s += v[l];
        total += s;
      }
      dw[e] = total;
    }
  }
  return true;
}

}  // namespace cnn
