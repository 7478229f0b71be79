#include "conv/conv_lanes.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "conv/lanes_rows.h"
#include "conv/work.h"

namespace cnn {

namespace {

// The weights as the loops read them: per block of cb output channels, per input channel and
// tap, the block's cb weights side by side (zero past c_out).
void reorder_weights(const Conv2dParams& p, int cb, int blocks, const float* w, float* wt, int threads) {
  // Transposed in tiles, blocks shared out: single-float stores a row apart in one thread cost 512
  // channels on 7×7 ~3.5 ms a call, most of the call at batch 1. A grouped layer's output channel
  // has its group's c_in / groups input channels.
  const long taps = (long)(p.c_in / p.groups) * 9;
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1 && taps * p.c_out >= 65536)
  for (int blk = 0; blk < blocks; ++blk) {
    const int co0 = blk * cb, here = std::min(cb, p.c_out - co0);
    float* out = wt + (long)blk * taps * cb;
    const float* src = w + (long)co0 * taps;
    // In tiles of 16 taps: each channel's 16 taps are one cache line read, each tap's cb channels
    // a run written.
    for (long t0 = 0; t0 < taps; t0 += 16) {
      const long t1 = std::min(taps, t0 + 16);
      for (int j = 0; j < here; ++j)
        for (long t = t0; t < t1; ++t) out[t * cb + j] = src[j * taps + t];
      for (long t = t0; t < t1; ++t) std::fill(out + t * cb + here, out + (t + 1) * cb, 0.0f);
    }
  }
}

// reorder_weights for the input gradient's forward pass q (input_grad_as_forward): q's output
// channels are p's input channels c, its input channels p's output channels co, its kernel p's
// turned around, read from w in one pass (planes of p's output channels shared out).
void reorder_flipped_weights(const Conv2dParams& p, int cb, int blocks, const float* w, float* wt, int threads) {
  std::memset(wt, 0, sizeof(float) * (long)blocks * p.c_out * 9 * cb);
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1 && (long)p.c_in * p.c_out >= 4096)
  for (int co = 0; co < p.c_out; ++co)
    for (int c = 0; c < p.c_in; ++c) {
      const float* src = w + ((long)co * p.c_in + c) * 9;
      float* dst = wt + ((long)(c / cb) * p.c_out + co) * 9 * cb + c % cb;
      for (int t = 0; t < 9; ++t) dst[t * cb] = src[8 - t];
    }
}

// `images` images from x side by side, row by row (channels × H × R × W; images past the batch
// zero), so that one tile's pixels are compile-time offsets from one pointer.
void interleave(const Conv2dParams& p, const float* x, int images, int R, float* out) {
  const long plane = (long)p.h * p.w;
  for (int c = 0; c < p.c_in; ++c)
    for (int ih = 0; ih < p.h; ++ih) {
      float* row = out + ((long)c * p.h + ih) * R * p.w;
      for (int r = 0; r < R; ++r)
        if (r < images) std::memcpy(row + r * p.w, x + ((long)r * p.c_in + c) * plane + (long)ih * p.w, sizeof(float) * p.w);
        else std::memset(row + r * p.w, 0, sizeof(float) * p.w);
    }
}

// The blocks of output channels the loops take at a time on this ISA; cig input channels feed each.
// A grouped layer's blocks each lie inside one group (grouped_fits).
struct Blocking {
  int V, R, cb, blocks, cig;
};

Blocking blocking(const LanesRows& K, const Conv2dParams& p) {
  const int V = K.vectors(p.out_w(), p.c_out / p.groups), R = K.images(p.out_w(), V), cb = V * K.lanes;
  return {V, R, cb, (p.c_out + cb - 1) / cb, p.c_in / p.groups};
}

// Whether a grouped layer's groups are whole blocks of channels on this ISA (RegNet's groups of 8
// output channels fill an AVX2 vector; AVX-512's 16 lanes would mix two groups' inputs).
bool grouped_fits(const LanesRows& K, const Conv2dParams& p) {
  if (p.groups == 1) return true;
  if (p.c_in % p.groups || p.c_out % p.groups) return false;
  const int cog = p.c_out / p.groups;
  return cog % (K.vectors(p.out_w(), cog) * K.lanes) == 0;
}

// Floats of the weights reordered for blocking bk.
long reordered_floats(const Blocking& bk) { return (long)bk.blocks * bk.cig * 9 * bk.cb; }

// The forward pass on weights (and bias) reordered for blocking bk.
void forward_reordered(const LanesRows& K, const Blocking& bk, const Conv2dParams& p, const float* x, const float* wt,
                       const float* bias, float* y, int threads, const ConvEpilogue& e) {
  // H × W: the output map; the input's rows are S·W wide (conv_lanes_fits).
  const int W = p.out_w(), H = p.out_h(), S = p.stride_h, V = bk.V, R = bk.R, cb = bk.cb, blocks = bk.blocks, cig = bk.cig,
            cog = p.c_out / p.groups;
  const long image = (long)p.c_in * p.h * p.w, plane = (long)p.h * p.w, tiles = (p.n + R - 1) / R, items = tiles * H;
  // Without a residual the loops clamp; with one the clamp waits for the sum.
  const bool clamp_here = !e.residual;
  const float lo = clamp_here ? e.lo : -INFINITY, hi = clamp_here ? e.hi : INFINITY;
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    thread_local std::vector<float> in_buf, out_buf;
    long held = -1;
    float* out = grow(out_buf, (long)R * W * cb);
#pragma omp for schedule(static)
    for (long it = 0; it < items; ++it) {
      const long tile = it / H;
      const int oh = (int)(it % H), n0 = (int)(tile * R), images = std::min(R, p.n - n0);
      const float* src = x + n0 * image;
      long ldr = p.w, ldc = plane;
      if (R > 1) {
        if (held != tile) interleave(p, src, images, R, grow(in_buf, image * R)), held = tile;
        src = in_buf.data(), ldr = (long)R * p.w, ldc = plane * R;
      }
      // Stride 2 reads input rows 2·oh − 1 .. 2·oh + 1, the last inside an even map.
      const int ki1 = S == 1 && oh == H - 1 ? 2 : 3;
      for (int blk = 0; blk < blocks; ++blk) {
        const long first_in = (long)(blk * cb / cog) * cig;  // the block's group's first input channel
        K.row(V, W, S, cig, oh == 0 ? 1 : 0, ki1, src + first_in * ldc + (long)S * oh * ldr, ldr, ldc, wt + (long)blk * cig * 9 * cb,
              bias ? bias + (long)blk * cb : nullptr, lo, hi, out, cb);
        const int co1 = std::min(p.c_out, (blk + 1) * cb);
        for (int r = 0; r < images; ++r)
          for (int co = blk * cb; co < co1; ++co) {
            const long at = (((long)(n0 + r) * p.c_out + co) * H + oh) * W;
            const float* s = out + (long)r * W * cb + (co - blk * cb);
            if (clamp_here) for (int q = 0; q < W; ++q) y[at + q] = s[q * cb];
            else for (int q = 0; q < W; ++q) y[at + q] = clamp_to(s[q * cb] + e.residual[at + q], e.lo, e.hi);
          }
      }
    }
  }
}

}  // namespace

bool conv_lanes_fits(const Conv2dParams& p) {
  const bool stride = (p.stride_h == 1 && p.stride_w == 1) || (p.stride_h == 2 && p.stride_w == 2 && p.h % 2 == 0 && p.w % 2 == 0);
  return stride && p.kh == 3 && p.kw == 3 && p.dil_h == 1 && p.dil_w == 1 && p.pad_t == 1 && p.pad_b == 1 && p.pad_l == 1 &&
         p.pad_r == 1 && p.h >= 1 && p.w >= 1 && p.out_w() <= kLanesMaxWidth && grouped_fits(lanes_rows_for(active_isa()), p);
}

bool conv_lanes_wins(const Conv2dParams& p, int threads) {
  (void)threads;
  // Measured on AVX-512 (2 threads, 128 images, eval and training forward, against the path Auto
  // took before): 16-512 output channels on 4×4-8×8 maps 1.14-1.7x (DenseNet's 128 → 32: 8×8
  // 3.7 -> 2.6 ms, 4×4 1.14 -> 0.71), 7×7 maps 1.07-1.48x; 8 channels, half of each vector empty,
  // 0.68x. AVX2's one vector of 8 channels for rows of 8 (16 registers) lost to the direct loops
  // (0.83-0.85x); its 4×4 rows won 1.4-2.6x.
  // Grouped layers (whole groups per block) beat or match every other path on 2×2-8×8 maps: the others
  // multiply each group's few channels as a GEMM of a few rows. AVX2, 2 threads, 128 images, RegNet's
  // groups of 8: 104 channels on 4×4 2.7 -> 0.7 ms, 104 on 8×8 2.8-3.1 -> 2.1-2.3, 48 on 8×8 level (0.87-1.34
  // before, 0.88-0.95 after); the
  // baseline ISA (SSE2, two vectors a group) 104 on 4×4 2.7 -> 0.9. Stride 2 (grouped only; ungrouped
  // stride-2 layers were not measured), AVX2, base and new in turns: 48 on 16×16 6.2 -> 4.0 ms, 104 on
  // 8×8 3.4-5.0 -> 1.4, 208 on 4×4 1.9-3.6 -> 0.9.
  const Isa isa = active_isa();
  return conv_lanes_fits(p) && (p.groups > 1 || (p.stride_h == 1 && p.c_out >= 16 && (isa == Isa::Avx512 || p.w <= 4)));
}

long conv_lanes_weights_floats(const Conv2dParams& p) {
  return reordered_floats(blocking(lanes_rows_for(active_isa()), p)) + 1;
}

void conv_lanes_reorder(const Conv2dParams& p, const float* w, float* out, int threads) {
  const Blocking bk = blocking(lanes_rows_for(active_isa()), p);
  reorder_weights(p, bk.cb, bk.blocks, w, out, threads);
  out[reordered_floats(bk)] = (float)((int)active_isa() + 1);
}

bool conv2d_forward_lanes(const Conv2dParams& p, const float* x, const float* w, const float* b, float* y, int threads,
                          const ConvEpilogue& e, const float* reordered) {
  if (!conv_lanes_fits(p)) return false;
  const LanesRows& K = lanes_rows_for(active_isa());
  const Blocking bk = blocking(K, p);
  thread_local std::vector<float> wt_buf, bias_buf;
  const long floats = reordered_floats(bk);
  const float* wt = reordered;
  // A copy laid out for another ISA (its channel blocks differ) is not used.
  if (!wt || wt[floats] != (float)((int)active_isa() + 1)) {
    float* fresh = grow(wt_buf, floats);
    reorder_weights(p, bk.cb, bk.blocks, w, fresh, threads);
    wt = fresh;
  }
  float* bias = nullptr;
  if (b) {
    bias = grow(bias_buf, (long)bk.blocks * bk.cb);
    std::fill(bias, bias + (long)bk.blocks * bk.cb, 0.0f);
    std::copy(b, b + p.c_out, bias);
  }
  forward_reordered(K, bk, p, x, wt, bias, y, threads, e);
  return true;
}

bool conv2d_backward_input_lanes(const Conv2dParams& p, const float* dy, const float* w, float* dx, int threads) {
  Conv2dParams q;
  // The flipped weights are laid out for ungrouped layers only.
  if (p.groups != 1 || !input_grad_as_forward(p, &q) || !conv_lanes_fits(q)) return false;
  const LanesRows& K = lanes_rows_for(active_isa());
  const Blocking bk = blocking(K, q);
  thread_local std::vector<float> wt_buf;
  float* wt = grow(wt_buf, (long)bk.blocks * q.c_in * 9 * bk.cb);
  reorder_flipped_weights(p, bk.cb, bk.blocks, w, wt, threads);
  forward_reordered(K, bk, q, dy, wt, nullptr, dx, threads, {});
  return true;
}

}  // namespace cnn
