// Depthwise 3×3 convolution at stride 1, row by row (depthwise_3x3.h).
#include "conv/depthwise_3x3.h"

#include <omp.h>

#include <algorithm>
#include <vector>

#include "conv/depthwise_3x3_rows.h"
#include "conv/depthwise_small.h"
#include "conv/work.h"
#include "cpu/cpu.h"

namespace cnn {

namespace {

// Output rows narrower than this fill too little of a vector. Interleaved against the
// channel-vector path, 128 images of 96-192 channels at 2 threads, best of 300 forward calls:
// 12×12 0.29-0.34 ms against 0.80-1.25, 8×8 0.20 against 0.38-0.40 (0.31-0.38 against 0.37-0.41 in
// a later pair of rounds), 7×7 0.22 against 0.31-0.33,
// 6×6 0.34-0.41 against 0.45-0.53, but 5×5 0.29-0.39 against 0.25-0.27. Wider rows, best of
// 60-200 calls, two rounds, forward and input gradient (before: the channel-vector path forward,
// the stride-phase rows for the input gradient): 8 images of 144 channels on 56×56 2.2-2.5 and
// 4.0-4.5 ms → 1.0-1.2 and 0.9-1.2; 192 on 28×28 0.57-0.71 and 0.58-0.75 → 0.25 and 0.25-0.26; 32
// on 112×112 2.0-2.1 and 3.2-3.7 → 1.3-1.4 and 1.4-1.5; 128 images of 32 on 32×32 3.1-3.3 and
// 5.5-5.8 → 0.8-1.2 and 0.8-1.2; on 16×16 0.53-0.58 and 0.57-0.58 → 0.25-0.31 and 0.26-0.31.
// The weight gradient, against the stride-phase rows (best of 50-100 calls): 56×56 as above
// 2.7-3.3 → 1.6-2.6 ms over three rounds, 112×112 2.3 → 1.2-1.3 and 32×32 3.8 → 2.1-2.4 over two.
constexpr int kMinWidth = 7;

// Output floats of a pass below which one thread does it alone (waking a second costs about what
// a quarter million floats' worth of these loops takes).
constexpr long kParallelFloats = 1L << 18;
constexpr long kChunkFloats = 1L << 14;

// One pass as a forward convolution at stride 1: an in_h × in_w map into out_h × out_w through the
// 3×3 kernel, padded by pt, pl.
struct Pass {
  int in_h, in_w, out_h, out_w, pt, pl;
};

// The forward pass; the input gradient reads dy as its input, padded so that every output pixel
// sees the taps that reached it (pt' = 2 − pt); the weight gradient reads the forward pass's planes.
Pass pass_of(const Conv2dParams& p, ConvPass pass) {
  if (pass != ConvPass::BackwardInput) return {p.h, p.w, p.out_h(), p.out_w(), p.pad_t, p.pad_l};
  return {p.out_h(), p.out_w(), p.h, p.w, 2 - p.pad_t, 2 - p.pad_l};
}

// A pass's map for the loops, with the row offsets and the zero row it points to.
struct Geometry {
  std::vector<int> row_at;
  std::vector<float> zeros;
  Depthwise3x3Map m;
  Geometry(const Conv2dParams& p, const Pass& s) : row_at((size_t)s.out_h + 2), zeros((size_t)s.in_w, 0.0f) {
    for (size_t j = 0; j < row_at.size(); ++j) {
      const int ih = (int)j - s.pt;
      row_at[j] = ih >= 0 && ih < s.in_h ? ih * s.in_w : -1;
    }
    m = {p.c_in, (long)s.in_h * s.in_w, (long)s.out_h * s.out_w, s.in_w, s.out_h, s.out_w, s.pl, row_at.data(), zeros.data()};
  }
};

// src's planes through the loops into dst, in chunks handed out as threads come free.
void run(const Conv2dParams& p, const Pass& s, const float* src, const float* w, const float* b, float* dst,
         int threads, const ConvEpilogue& e) {
  const Geometry g(p, s);
  const long planes = (long)p.n * p.c_in;
  const bool parallel = threads > 1 && planes > 1 && planes * g.m.out_plane >= kParallelFloats;
  // Chunks of about 16K output floats handed out as threads come free (work.h).
  const long per = std::max(1L, kChunkFloats / g.m.out_plane), chunks = (planes + per - 1) / per;
#pragma omp parallel for num_threads(threads) schedule(dynamic) if (parallel)
  for (long i = 0; i < chunks; ++i) {
#if defined(CNN_X86)
    depthwise_3x3_planes_avx512(g.m, i * per, std::min(planes, (i + 1) * per), src, w, b, e.residual, e.lo, e.hi, dst);
#endif
  }
}

}  // namespace

bool depthwise_3x3_suits(const Conv2dParams& p, ConvPass pass) {
  // Padding past the kernel's reach would turn the input gradient's padding negative.
  if (active_isa() != Isa::Avx512 || !p.depthwise() || p.kh != 3 || p.kw != 3 || p.stride_h != 1 || p.stride_w != 1 ||
      p.dil_h != 1 || p.dil_w != 1 || !depthwise_small_auto() || p.pad_t > 2 || p.pad_b > 2 || p.pad_l > 2 || p.pad_r > 2)
    return false;
  // The weight gradient's sums take each channel's planes an image apart; on maps the
  // channel-vector path takes (padded up to 32×32), its blocks of 16 neighbouring planes read
  // faster (128 images of 96 channels on 8×8: 0.27-0.37 ms against 1.07-1.08).
  if (pass == ConvPass::BackwardWeight && depthwise_small_suits(p, pass)) return false;
  const Pass s = pass_of(p, pass);
  return s.out_w >= kMinWidth && s.out_w <= kDepthwise3x3MaxWidth;
}

bool depthwise_3x3_forward(const Conv2dParams& p, const float* x, const float* w, const float* b, float* y,
                           int threads, const ConvEpilogue& e) {
  if (!depthwise_3x3_suits(p, ConvPass::Forward)) return false;
  run(p, pass_of(p, ConvPass::Forward), x, w, b, y, threads, e);
  return true;
}

bool depthwise_3x3_backward_input(const Conv2dParams& p, const float* dy, const float* w, float* dx, int threads) {
  if (!depthwise_3x3_suits(p, ConvPass::BackwardInput)) return false;
  // Each channel's kernel turned around: dx(i, j) = Σ w(ki, kj)·dy(i + pt − ki, j + pl − kj).
  thread_local std::vector<float> flipped;
  float* f = grow(flipped, (long)p.c_in * 9);
  for (long c = 0; c < p.c_in; ++c)
    for (int t = 0; t < 9; ++t) f[c * 9 + t] = w[c * 9 + 8 - t];
  run(p, pass_of(p, ConvPass::BackwardInput), dy, f, nullptr, dx, threads, ConvEpilogue{});
  return true;
}

bool depthwise_3x3_backward_weight(const Conv2dParams& p, const float* x, const float* dy, float* dw, float* db,
                                   int threads) {
  if (!depthwise_3x3_suits(p, ConvPass::BackwardWeight)) return false;
  const Geometry g(p, pass_of(p, ConvPass::BackwardWeight));
  const bool parallel = threads > 1 && p.c_in > 1 && (long)p.n * p.c_in * g.m.out_plane >= kParallelFloats;
  // Each channel's sums over the images on one thread, in image order: the same bits at any thread count.
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1) if (parallel)
  for (int c = 0; c < p.c_in; ++c) {
    double total[10] = {};
#if defined(CNN_X86)
    depthwise_3x3_weight_avx512(g.m, p.n, c, x, dy, total);
#endif
    for (int t = 0; t < 9; ++t) dw[(long)c * 9 + t] = (float)total[t];
    if (db) db[c] = (float)total[9];
  }
  return true;
}

}  // namespace cnn
