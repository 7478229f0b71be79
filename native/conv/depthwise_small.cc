// The channel-vector depthwise path (depthwise_lanes.h): items are one image's block of `lanes`
// channels. Forward: the block's planes go transposed into a zero-padded [H+pt+pb][W+pl+pr][lanes]
// buffer, every output pixel is taps × vector FMA, and the outputs go back transposed, through
// the bias and epilogue, straight into y. The input gradient is the same sweep over dy placed at
// its stride positions in a zero grid with a (k−1)·dilation margin, the kernel flipped: a stride-1
// convolution of that grid (stride 2 wastes FMAs on the zeros but no pass is a scatter). The
// weight gradient is a dot per tap over each image's pixels, summed per channel block over the
// whole batch on one thread (in float for runs of ~256 pixels, then in double), so every thread
// count gives the same bits.
#include "conv/depthwise_small.h"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <vector>

#include "conv/depthwise_lanes.h"
#include "conv/work.h"

namespace cnn {

namespace {

// Buffer pixels (padded map) up to which the channel-vector path runs; past it the stride-phase
// rows are long enough to win (measured: see depthwise_small_suits).
constexpr long kMaxBufferPixels = 1024;
// Pixels summed in float before the weight gradient's sums go into double.
constexpr int kFloatRun = 256;

std::atomic<int> g_mode{(int)DepthwiseSmall::Auto};

// Where each pixel of one pass goes: the source plane's pixels into the buffer (in_at), and for
// each output pixel the buffer pixel its first tap reads (base) plus each tap's offset (tap).
struct Geometry {
  int taps, in_pixels, buf_pixels, out_pixels;
  std::vector<int> in_at, base, tap;
};

// Forward and weight gradient: x into its zero-padded map; output (oh, ow) reads from (oh·sh, ow·sw).
Geometry forward_geometry(const Conv2dParams& p) {
  Geometry g;
  const int Wp = p.w + p.pad_l + p.pad_r, OH = p.out_h(), OW = p.out_w();
  g.taps = p.kh * p.kw, g.in_pixels = p.h * p.w, g.out_pixels = OH * OW;
  g.buf_pixels = (p.h + p.pad_t + p.pad_b) * Wp;
  for (int ih = 0; ih < p.h; ++ih)
    for (int iw = 0; iw < p.w; ++iw) g.in_at.push_back((ih + p.pad_t) * Wp + iw + p.pad_l);
  for (int oh = 0; oh < OH; ++oh)
    for (int ow = 0; ow < OW; ++ow) g.base.push_back(oh * p.stride_h * Wp + ow * p.stride_w);
  for (int ki = 0; ki < p.kh; ++ki)
    for (int kj = 0; kj < p.kw; ++kj) g.tap.push_back(ki * p.dil_h * Wp + kj * p.dil_w);
  return g;
}

// Input gradient: dx(ih, iw) = Σ_t w[t]·dy at padded input position (ih + pt − ki·dh, iw + pl −
// kj·dw) where that is a stride multiple, else 0. dy sits at (oh·sh + Mh, ow·sw + Mw) of a zero
// grid with margins Mh = (kh−1)·dh, Mw = (kw−1)·dw, so dx(ih, iw) reads grid (ih + pt + ki'·dh,
// iw + pl + kj'·dw) with the flipped tap (ki', kj'). dy pixels past the grid feed only padding:
// they go to one spare pixel past it that no tap reads.
Geometry input_grad_geometry(const Conv2dParams& p) {
  Geometry g;
  const int Mh = (p.kh - 1) * p.dil_h, Mw = (p.kw - 1) * p.dil_w;
  const int Gh = p.h + p.pad_t + Mh, Gw = p.w + p.pad_l + Mw, OH = p.out_h(), OW = p.out_w();
  g.taps = p.kh * p.kw, g.in_pixels = OH * OW, g.out_pixels = p.h * p.w;
  g.buf_pixels = Gh * Gw + 1;
  for (int oh = 0; oh < OH; ++oh)
    for (int ow = 0; ow < OW; ++ow) {
      const int r = oh * p.stride_h + Mh, c = ow * p.stride_w + Mw;
      g.in_at.push_back(r < Gh && c < Gw ? r * Gw + c : Gh * Gw);
    }
  for (int ih = 0; ih < p.h; ++ih)
    for (int iw = 0; iw < p.w; ++iw) g.base.push_back((ih + p.pad_t) * Gw + iw + p.pad_l);
  for (int ki = 0; ki < p.kh; ++ki)
    for (int kj = 0; kj < p.kw; ++kj) g.tap.push_back(ki * p.dil_h * Gw + kj * p.dil_w);
  return g;
}

// The weights as lane vectors, [channel block][tap][lane], then each block's bias vector; lanes
// past the channels hold 0. flip reverses the taps (the input gradient's kernel).
const float* weight_lanes(const Conv2dParams& p, int lanes, const float* w, const float* b, bool flip) {
  thread_local std::vector<float> buf;
  const int taps = p.kh * p.kw, blocks = (p.c_in + lanes - 1) / lanes;
  float* out = grow(buf, (long)blocks * (taps + 1) * lanes);
  for (int cb = 0; cb < blocks; ++cb)
    for (int l = 0; l < lanes; ++l) {
      const int c = cb * lanes + l;
      float* o = out + (long)cb * (taps + 1) * lanes + l;
      for (int t = 0; t < taps; ++t) o[t * lanes] = c < p.c_in ? w[(long)c * taps + (flip ? taps - 1 - t : t)] : 0.0f;
      o[taps * lanes] = c < p.c_in && b ? b[c] : 0.0f;
    }
  return out;
}

// A 1×1 map whose kernel is cut to one tap that reads it: y = w·x + b per channel, and the
// channels of one image are contiguous.
bool one_pixel(const Conv2dParams& p) {
  return p.h == 1 && p.w == 1 && p.kh == 1 && p.kw == 1 && p.out_h() == 1 && p.out_w() == 1 && p.pad_t == 0 &&
         p.pad_l == 0;
}

// The next item's channel planes (one contiguous block) towards the cache while this one runs:
// the pack reads `lanes` planes a plane apart, more streams than the hardware prefetcher follows
// (a 16×16 map's forward pass ran at half the speed without this).
void prefetch_item(const Conv2dParams& p, int lanes, const float* src, long plane, long item, int blocks) {
  const int n = (int)(item / blocks), c0 = (int)(item % blocks) * lanes;
  const float* from = src + ((long)n * p.c_in + c0) * plane;
  const long floats = std::min(lanes, p.c_in - c0) * plane;
  for (long f = 0; f < floats; f += 16) __builtin_prefetch(from + f);
}

// A pass over items (image, channel block): the source block packed into the buffer, the taps
// swept, the result unpacked into dst through the epilogue.
void sweep(const Conv2dParams& p, const Geometry& g, const float* src, long src_plane, const float* wl,
           float* dst, long dst_plane, int threads, const ConvEpilogue& e) {
  const DepthwiseLanes& K = depthwise_lanes_for(active_isa());
  const int L = K.lanes, blocks = (p.c_in + L - 1) / L;
  const float* src_end = src + (long)p.n * p.c_in * src_plane;
  const float* res_end = e.residual ? e.residual + (long)p.n * p.c_in * dst_plane : nullptr;
  const long items = (long)p.n * blocks;
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    thread_local std::vector<float> buf_v, out_v;
    float* buf = grow(buf_v, (long)g.buf_pixels * L);
    float* out = grow(out_v, (long)(g.out_pixels + L) * L);  // unpack reads whole L-pixel runs
    std::memset(buf, 0, sizeof(float) * g.buf_pixels * L);  // the padding and the zero grid; items write only pixels
#pragma omp for schedule(static)
    for (long it = 0; it < items; ++it) {
      const int n = (int)(it / blocks), cb = (int)(it % blocks), c0 = cb * L;
      const int channels = std::min(L, p.c_in - c0);
      const long plane0 = (long)n * p.c_in + c0;
      const float* wb = wl + (long)cb * (g.taps + 1) * L;
      if (it + 1 < items) prefetch_item(p, L, src, src_plane, it + 1, blocks);
      K.pack(src + plane0 * src_plane, src_plane, channels, src_end, g.in_pixels, g.in_at.data(), buf);
      K.taps_fma(g.out_pixels, g.base.data(), g.taps, g.tap.data(), wb, wb + (long)g.taps * L, buf, out);
      K.unpack(out, g.out_pixels, channels, e.residual ? e.residual + plane0 * dst_plane : nullptr, res_end, e.lo,
               e.hi, dst + plane0 * dst_plane, dst_plane);
    }
  }
}

// The padded-buffer pixels a pass needs.
long buffer_pixels(const Conv2dParams& p, ConvPass pass) {
  if (pass == ConvPass::BackwardInput)
    return (long)(p.h + p.pad_t + (p.kh - 1) * p.dil_h) * (p.w + p.pad_l + (p.kw - 1) * p.dil_w) + 1;
  return (long)(p.h + p.pad_t + p.pad_b) * (p.w + p.pad_l + p.pad_r);
}

}  // namespace

void set_depthwise_small(DepthwiseSmall mode) { g_mode.store((int)mode, std::memory_order_relaxed); }

bool depthwise_small_suits(const Conv2dParams& p, ConvPass pass) {
  if (!p.depthwise()) return false;
  switch ((DepthwiseSmall)g_mode.load(std::memory_order_relaxed)) {
    case DepthwiseSmall::Always: return true;
    case DepthwiseSmall::Never: return false;
    default: return one_pixel(p) || buffer_pixels(p, pass) <= kMaxBufferPixels;
  }
}

void depthwise_small_forward(const Conv2dParams& p, const float* x, const float* w, const float* b, float* y,
                             int threads, const ConvEpilogue& e) {
  if (one_pixel(p)) {
    const DepthwiseLanes& K = depthwise_lanes_for(active_isa());
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
    for (int n = 0; n < p.n; ++n) {
      const long at = (long)n * p.c_in;
      K.scale_shift(p.c_in, x + at, w, b, e.residual ? e.residual + at : nullptr, e.lo, e.hi, y + at);
    }
    return;
  }
  const Geometry g = forward_geometry(p);
  const float* wl = weight_lanes(p, depthwise_lanes_for(active_isa()).lanes, w, b, false);
  sweep(p, g, x, (long)p.h * p.w, wl, y, (long)p.out_h() * p.out_w(), threads, e);
}

void depthwise_small_backward_input(const Conv2dParams& p, const float* dy, const float* w, float* dx,
                                    int threads) {
  if (one_pixel(p)) {
    const DepthwiseLanes& K = depthwise_lanes_for(active_isa());
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
    for (int n = 0; n < p.n; ++n) {
      const long at = (long)n * p.c_in;
      K.scale_shift(p.c_in, dy + at, w, nullptr, nullptr, -INFINITY, INFINITY, dx + at);
    }
    return;
  }
  const Geometry g = input_grad_geometry(p);
  const float* wl = weight_lanes(p, depthwise_lanes_for(active_isa()).lanes, w, nullptr, true);
  sweep(p, g, dy, (long)p.out_h() * p.out_w(), wl, dx, (long)p.h * p.w, threads, ConvEpilogue{});
}

void depthwise_small_backward_weight(const Conv2dParams& p, const float* x, const float* dy, float* dw, float* db,
                                     int threads) {
  const DepthwiseLanes& K = depthwise_lanes_for(active_isa());
  const int L = K.lanes, blocks = (p.c_in + L - 1) / L;
  const Geometry g = forward_geometry(p);
  std::vector<int> identity(g.out_pixels);
  for (int q = 0; q < g.out_pixels; ++q) identity[q] = q;
  const long x_plane = (long)p.h * p.w, dy_plane = g.out_pixels;
  const float *x_end = x + (long)p.n * p.c_in * x_plane, *dy_end = dy + (long)p.n * p.c_in * dy_plane;
  const int sums = (g.taps + 1) * L;  // each tap's, then the bias's
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    thread_local std::vector<float> buf_v, dy_v, acc_v;
    thread_local std::vector<double> total_v;
    float* buf = grow(buf_v, (long)g.buf_pixels * L);
    float* dyb = grow(dy_v, (long)g.out_pixels * L);
    float* acc = grow(acc_v, sums);
    total_v.resize(sums);
    double* total = total_v.data();
    std::memset(buf, 0, sizeof(float) * g.buf_pixels * L);
#pragma omp for schedule(static)
    for (int cb = 0; cb < blocks; ++cb) {
      const int c0 = cb * L, channels = std::min(L, p.c_in - c0);
      std::fill(total, total + sums, 0.0);
      std::fill(acc, acc + sums, 0.0f);
      int run = 0;
      for (int n = 0; n < p.n; ++n) {
        const long plane0 = (long)n * p.c_in + c0;
        if (n + 1 < p.n) {
          prefetch_item(p, L, x, x_plane, (long)(n + 1) * blocks + cb, blocks);
          prefetch_item(p, L, dy, dy_plane, (long)(n + 1) * blocks + cb, blocks);
        }
        K.pack(x + plane0 * x_plane, x_plane, channels, x_end, g.in_pixels, g.in_at.data(), buf);
        K.pack(dy + plane0 * dy_plane, dy_plane, channels, dy_end, g.out_pixels, identity.data(), dyb);
        K.taps_dot(g.out_pixels, g.base.data(), g.taps, g.tap.data(), buf, dyb, acc);
        if ((run += g.out_pixels) >= kFloatRun || n == p.n - 1) {
          for (int i = 0; i < sums; ++i) total[i] += acc[i];
          std::fill(acc, acc + sums, 0.0f);
          run = 0;
        }
      }
      for (int l = 0; l < channels; ++l) {
        for (int t = 0; t < g.taps; ++t) dw[(long)(c0 + l) * g.taps + t] = (float)total[t * L + l];
        if (db) db[c0 + l] = (float)total[g.taps * L + l];
      }
    }
  }
}

}  // namespace cnn
