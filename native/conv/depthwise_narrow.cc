// Depthwise convolution of narrow maps, one vector per output row (depthwise_narrow.h).
#include "conv/depthwise_narrow.h"

#include <omp.h>

#include <vector>

#include "conv/depthwise_small.h"
#include "cpu/cpu.h"
#include "conv/narrow_rows.h"
#include "conv/work.h"

namespace cnn {

namespace {

// Output rows narrower than this fill too little of a vector (interleaved against the
// channel-vector path, 128 images at 2 threads: 3×3 on 16×16 0.25-0.35 ms against 0.50-0.62, 14×14
// 0.45-0.64 against 0.58-0.73, 10×10 0.29-0.45 against 0.29; and 5×5 and 7×7 kernels gained nothing).
constexpr int kMinWidth = 14;

// Output floats of a pass below which one thread does it alone (waking a second costs about what
// a quarter million floats' worth of these loops takes).
constexpr long kParallelFloats = 1L << 18;

// One pass as a forward convolution at stride 1: an in_h × in_w map into out_h × out_w through a
// kh × kw kernel, padded by pt, pl.
struct Pass {
  int in_h, in_w, out_h, out_w, pt, pl;
};

// The forward pass; the input gradient reads dy as its input, padded so that every output pixel
// sees the taps that reached it (pt' = (kh − 1)·dh − pt).
Pass pass_of(const Conv2dParams& p, ConvPass pass) {
  if (pass == ConvPass::Forward) return {p.h, p.w, p.out_h(), p.out_w(), p.pad_t, p.pad_l};
  return {p.out_h(), p.out_w(), p.h, p.w, (p.kh - 1) * p.dil_h - p.pad_t, (p.kw - 1) * p.dil_w - p.pad_l};
}

// src's planes through the loops into dst, split over the threads.
void run(const Conv2dParams& p, const Pass& s, const float* src, const float* w, const float* b, float* dst,
         int threads, const ConvEpilogue& e) {
  std::vector<int> row_at((size_t)s.out_h + (p.kh - 1) * p.dil_h);
  for (size_t j = 0; j < row_at.size(); ++j) {
    const int ih = (int)j - s.pt;
    row_at[j] = ih >= 0 && ih < s.in_h ? ih * s.in_w : -1;
  }
  const NarrowMap m{p.c_in, (long)s.in_h * s.in_w, (long)s.out_h * s.out_w, s.in_w, s.out_h, s.out_w,
                    p.kh, p.kw, s.pl, p.dil_h, p.dil_w, row_at.data()};
  const long planes = (long)p.n * p.c_in;
  const bool parallel = threads > 1 && planes > 1 && planes * m.out_plane >= kParallelFloats;
#pragma omp parallel num_threads(threads) if (parallel)
  {
    const int t = omp_get_thread_num(), team = omp_get_num_threads();
    const long q0 = planes * t / team, q1 = planes * (t + 1) / team;
#if defined(CNN_X86)
    if (q1 > q0) narrow_planes_avx512(m, q0, q1, src, w, b, e.residual, e.lo, e.hi, dst);
#endif
  }
}

}  // namespace

bool depthwise_narrow_suits(const Conv2dParams& p, ConvPass pass) {
  const int reach_h = (p.kh - 1) * p.dil_h, reach_w = (p.kw - 1) * p.dil_w;
  // Padding past the kernel's reach would turn the input gradient's padding negative.
  if (active_isa() != Isa::Avx512 || pass == ConvPass::BackwardWeight || !p.depthwise() || p.stride_h != 1 ||
      p.stride_w != 1 || !depthwise_small_auto() || p.kh > 3 || p.kw > 3 || p.pad_t > reach_h || p.pad_b > reach_h ||
      p.pad_l > reach_w || p.pad_r > reach_w)
    return false;
  const Pass s = pass_of(p, pass);
  return s.out_w >= kMinWidth && s.out_w <= 16 && s.in_w <= 32;
}

bool depthwise_narrow_forward(const Conv2dParams& p, const float* x, const float* w, const float* b, float* y,
                              int threads, const ConvEpilogue& e) {
  if (!depthwise_narrow_suits(p, ConvPass::Forward)) return false;
  run(p, pass_of(p, ConvPass::Forward), x, w, b, y, threads, e);
  return true;
}

bool depthwise_narrow_backward_input(const Conv2dParams& p, const float* dy, const float* w, float* dx, int threads) {
  if (!depthwise_narrow_suits(p, ConvPass::BackwardInput)) return false;
  // Each channel's kernel turned around: dx(i, j) = Σ w(ki, kj)·dy(i + pt − ki·dh, j + pl − kj·dw).
  thread_local std::vector<float> flipped;
  const int taps = p.kh * p.kw;
  float* f = grow(flipped, (long)p.c_in * taps);
  for (long c = 0; c < p.c_in; ++c)
    for (int t = 0; t < taps; ++t) f[c * taps + t] = w[c * taps + taps - 1 - t];
  run(p, pass_of(p, ConvPass::BackwardInput), dy, f, nullptr, dx, threads, ConvEpilogue{});
  return true;
}

}  // namespace cnn
