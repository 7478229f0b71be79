// Depthwise convolution of 2- and 4-pixel maps as a dense matrix per channel (depthwise_planes.h).
#include "conv/depthwise_planes.h"

#include <omp.h>

#include <algorithm>
#include <vector>

#include "conv/depthwise_lanes.h"
#include "conv/depthwise_small.h"
#include "conv/work.h"

namespace cnn {

namespace {

// Floats of a pass below which one thread does it alone: a 2×2 layer of 384 channels at batch
// 64 (98K floats) takes some 10 us on one core, about what waking a second one costs.
constexpr long kParallelFloats = 1L << 18;

// The kernel tap through which output pixel o reads input pixel i (both row-major in a P-pixel
// map), or -1 where none does.
int tap_of(const Conv2dParams& p, int o, int i) {
  const int oh = o / p.out_w(), ow = o % p.out_w(), ih = i / p.w, iw = i % p.w;
  const int r = ih + p.pad_t - oh * p.stride_h, c = iw + p.pad_l - ow * p.stride_w;
  if (r < 0 || c < 0 || r % p.dil_h || c % p.dil_w) return -1;
  const int ki = r / p.dil_h, kj = c / p.dil_w;
  return ki < p.kh && kj < p.kw ? ki * p.kw + kj : -1;
}

int plane_pixels(const Conv2dParams& p) { return p.h * p.w; }

// tap_of for every pair of a map of at most 4 pixels, at[o·P + i], worked out once per call (its
// divisions per weight float cost more than the pass itself).
struct PlaneTaps {
  int P, at[16];
  explicit PlaneTaps(const Conv2dParams& p) : P(plane_pixels(p)) {
    for (int o = 0; o < P; ++o)
      for (int i = 0; i < P; ++i) at[o * P + i] = tap_of(p, o, i);
  }
  int operator()(int o, int i) const { return at[o * P + i]; }
};

// wt[k·P + j] lane g·P + q: channel k·G + g's weight between pixel q of the vector's planes and
// pixel j of the source's (forward: q the output pixel, j the input's; transposed, the input
// gradient: q the input pixel, j the output's). Absent channels get 0. bias (may be null): lane
// g·P + q of vector k is b[k·G + g].
const float* weight_planes(const Conv2dParams& p, int lanes, const float* w, bool transposed, const float* b,
                           const float** bias) {
  thread_local std::vector<float> buf;
  const int P = plane_pixels(p), G = lanes / P, groups = (p.c_in + G - 1) / G, taps = p.kh * p.kw;
  const PlaneTaps tap(p);
  float* wt = grow(buf, (long)groups * (P + 1) * lanes);
  float* bv = wt + (long)groups * P * lanes;
  for (int k = 0; k < groups; ++k)
    for (int g = 0; g < G; ++g) {
      const int c = k * G + g;
      for (int q = 0; q < P; ++q) {
        for (int j = 0; j < P; ++j)
          wt[((long)k * P + j) * lanes + g * P + q] = c < p.c_in ? w[(long)c * taps + (transposed ? tap(j, q) : tap(q, j))] : 0.0f;
        bv[(long)k * lanes + g * P + q] = c < p.c_in && b ? b[c] : 0.0f;
      }
    }
  *bias = b ? bv : nullptr;
  return wt;
}

// [first, end) of n items for thread t of team.
void share(long n, int t, int team, long* first, long* end) { *first = n * t / team, *end = n * (t + 1) / team; }

// src's planes mixed into dst (plane_mix) over the images, split over the threads.
void mix(const Conv2dParams& p, const float* src, const float* wt, const float* bias, float* dst, int threads,
         const ConvEpilogue& e) {
  const DepthwiseLanes& K = depthwise_lanes_for(active_isa());
  const int P = plane_pixels(p);
  const long per_image = (long)p.c_in * P;
  const bool parallel = threads > 1 && p.n > 1 && p.n * per_image >= kParallelFloats;
#pragma omp parallel num_threads(threads) if (parallel)
  {
    long n0, n1;
    share(p.n, omp_get_thread_num(), omp_get_num_threads(), &n0, &n1);
    if (n1 > n0)
      K.plane_mix(P, n1 - n0, p.c_in, src + n0 * per_image, wt, bias, e.residual ? e.residual + n0 * per_image : nullptr,
                  e.lo, e.hi, dst + n0 * per_image);
  }
}

}  // namespace

bool depthwise_planes_suits(const Conv2dParams& p) {
  const int P = plane_pixels(p);
  if (!p.depthwise() || (P != 2 && P != 4) || p.out_h() * p.out_w() != P || !depthwise_small_auto()) return false;
  for (int o = 0; o < P; ++o)
    for (int i = 0; i < P; ++i)
      if (tap_of(p, o, i) < 0) return false;
  return true;
}

bool depthwise_planes_forward(const Conv2dParams& p, const float* x, const float* w, const float* b, float* y,
                              int threads, const ConvEpilogue& e) {
  if (!depthwise_planes_suits(p)) return false;
  const float* bias;
  const float* wt = weight_planes(p, depthwise_lanes_for(active_isa()).lanes, w, false, b, &bias);
  mix(p, x, wt, bias, y, threads, e);
  return true;
}

bool depthwise_planes_backward_input(const Conv2dParams& p, const float* dy, const float* w, float* dx, int threads) {
  if (!depthwise_planes_suits(p)) return false;
  const float* bias;
  const float* wt = weight_planes(p, depthwise_lanes_for(active_isa()).lanes, w, true, nullptr, &bias);
  mix(p, dy, wt, nullptr, dx, threads, ConvEpilogue{});
  return true;
}

bool depthwise_planes_backward_weight(const Conv2dParams& p, const float* x, const float* dy, float* dw, float* db,
                                      int threads) {
  if (!depthwise_planes_suits(p)) return false;
  const DepthwiseLanes& K = depthwise_lanes_for(active_isa());
  const int L = K.lanes, P = plane_pixels(p), G = L / P, groups = (p.c_in + G - 1) / G, taps = p.kh * p.kw;
  const PlaneTaps tap(p);
  const bool parallel = threads > 1 && groups > 1 && (long)p.n * p.c_in * P >= kParallelFloats;
#pragma omp parallel num_threads(threads) if (parallel)
  {
    long k0, k1;
    share(groups, omp_get_thread_num(), omp_get_num_threads(), &k0, &k1);
    thread_local std::vector<double> acc_v, tap_v;
    acc_v.assign((size_t)(k1 - k0) * (P + 1) * L, 0.0);
    tap_v.resize(taps);
    double* t = tap_v.data();
    double* acc = acc_v.data();
    // Image by image through this thread's groups: each group's sums take the images in order.
    if (k1 > k0) K.plane_outer(P, p.n, p.c_in, (int)k0, (int)k1, x, dy, acc);
    // Lane g·P + o of sum i is Σ dy[c][o]·x[c][i]: it adds to tap(o, i) of channel c; sum P's
    // lanes to the bias. Each tap's pairs in order of o.
    for (long k = k0; k < k1; ++k) {
      const double* a = acc + (k - k0) * (P + 1) * L;
      for (int g = 0; g < G; ++g) {
        const long c = k * G + g;
        if (c >= p.c_in) break;
        std::fill(t, t + taps, 0.0);
        double bias = 0.0;
        for (int o = 0; o < P; ++o) {
          for (int i = 0; i < P; ++i) t[tap(o, i)] += a[(long)i * L + g * P + o];
          bias += a[(long)P * L + g * P + o];
        }
        for (int j = 0; j < taps; ++j) dw[c * taps + j] = (float)t[j];
        if (db) db[c] = (float)bias;
      }
    }
  }
  return true;
}

}  // namespace cnn
