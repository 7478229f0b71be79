// The channel-vector depthwise path (depthwise_lanes.h): items are one image's block of `lanes`
// channels. Forward: the block's planes go transposed into a zero-padded [H+pt+pb][W+pl+pr][lanes]
// buffer (on large maps, the rows of one band of output rows at a time), every output pixel is
// taps × vector FMA, and the outputs go back transposed, through the bias and epilogue, straight
// into y. The input gradient is the same sweep, gathering from dy
// laid out with zero margins: dx pixels go in stride classes, each with the taps that reach it
// (input_grad_geometry), so no pass scatters and none multiplies a stride's zeros. The weight
// gradient is a dot per tap over each image's pixels, summed per channel block over the whole
// batch on one thread (in float for runs of ~256 pixels, then in double), so every thread count
// gives the same bits.
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

// Padded map pixels up to which the gradients take the channel-vector path; past it the
// stride-phase rows are long enough to win (interleaved runs against them at 2 threads: 1.3-7x
// faster from 12×12 to 28×28, even at 32×32). The forward pass wins at every size measured
// (7×7 to 112×112, kernels 3, 5, 7: 1.07-4.6x), large maps in bands.
constexpr long kMaxBufferPixels = 1024;
// Pixels summed in float before the weight gradient's sums go into double.
constexpr int kFloatRun = 256;

std::atomic<int> g_mode{(int)DepthwiseSmall::Auto};

// Output pixels that read the same taps: out pixel at[q] sums, over i, weight vector first + i
// times buffer pixel base[q] + tap[i].
struct Sweep {
  int first = 0;
  std::vector<int> at, base, tap;
};

// Where each pixel of one pass goes: the source plane's pixels into the buffer (in_at), and the
// output pixels in sweeps; order[i] is the kernel tap of weight vector i.
struct Geometry {
  int in_pixels, buf_pixels, out_pixels;
  std::vector<int> in_at, order;
  std::vector<Sweep> sweeps;
  // Forward only: output rows go in bands of band_rows (all of them when the padded map fits the
  // buffer), each band packing just the input rows it reads (in_at, in_pixels: one band's).
  int band_rows = 0;
};

// Floats of the forward pass's buffer: a band of padded rows that stays in L1/L2 while every tap
// reads it.
constexpr long kBandFloats = 16L << 10;

// Padded rows that output rows [0, rows) read.
int rows_read(const Conv2dParams& p, int rows) { return (rows - 1) * p.stride_h + (p.kh - 1) * p.dil_h + 1; }

// Forward and weight gradient: x into its zero-padded map; output (oh, ow) reads from (oh·sh, ow·sw).
// With bands (forward), the buffer holds the padded rows of one band of output rows, the band's
// first at buffer row 0.
Geometry forward_geometry(const Conv2dParams& p, int lanes, bool bands) {
  Geometry g;
  const int Wp = p.w + p.pad_l + p.pad_r, OH = p.out_h(), OW = p.out_w(), Hp = p.h + p.pad_t + p.pad_b;
  int rows = OH;
  if (bands && (long)Hp * Wp * lanes > kBandFloats) {
    // At least 4 rows of output per row of overlap, so that re-packing the overlap stays cheap.
    const int fit = (int)std::max<long>(kBandFloats / ((long)Wp * lanes), 5L * (p.kh - 1) * p.dil_h + 1);
    rows = std::min(OH, std::max(1, (fit - (p.kh - 1) * p.dil_h - 1) / p.stride_h + 1));
  }
  g.band_rows = rows;
  const int in_rows = std::min(p.h, rows_read(p, rows));
  g.in_pixels = in_rows * p.w, g.out_pixels = rows * OW;
  g.buf_pixels = std::max(rows_read(p, rows), rows == OH ? Hp : 0) * Wp;
  for (int ih = 0; ih < in_rows; ++ih)
    for (int iw = 0; iw < p.w; ++iw) g.in_at.push_back(ih * Wp + iw + p.pad_l);
  Sweep s;
  for (int oh = 0; oh < rows; ++oh)
    for (int ow = 0; ow < OW; ++ow) s.at.push_back(oh * OW + ow), s.base.push_back(oh * p.stride_h * Wp + ow * p.stride_w);
  for (int ki = 0; ki < p.kh; ++ki)
    for (int kj = 0; kj < p.kw; ++kj) g.order.push_back(ki * p.kw + kj), s.tap.push_back(ki * p.dil_h * Wp + kj * p.dil_w);
  g.sweeps.push_back(s);
  return g;
}

// Along one axis of the input gradient: padded position i + pad takes dy from output (i + pad −
// t·dil)/stride for each tap t that divides. Returns the margins of dy rows that reach before
// the first output (*before) and past the last (*after).
void dy_margins(int in, int pad, int k, int dil, int stride, int out, int* before, int* after) {
  int lo = 0, hi = out - 1;
  for (int i = 0; i < in; ++i)
    for (int t = 0; t < k; ++t)
      if ((i + pad - t * dil) % stride == 0) lo = std::min(lo, (i + pad - t * dil) / stride), hi = std::max(hi, (i + pad - t * dil) / stride);
  *before = -lo, *after = hi - (out - 1);
}

// Input gradient as a gather: dx(ih, iw) = Σ w(ki, kj)·dy((r − ki·dh)/sh, (c − kj·dw)/sw), r = ih +
// pt, c = iw + pl, over the taps where both divide. The taps that divide depend only on (r mod sh,
// c mod sw), so dx pixels go in sh·sw sweeps, each with its own taps: a tap with ki·dh = m·sh + (r
// mod sh) reads dy row r/sh − m. dy sits in a grid with zero margins for the rows and columns
// outside it that some tap reaches, so no FMA multiplies a stride's zeros.
Geometry input_grad_geometry(const Conv2dParams& p) {
  Geometry g;
  const int OH = p.out_h(), OW = p.out_w();
  int top, bottom, left, right;
  dy_margins(p.h, p.pad_t, p.kh, p.dil_h, p.stride_h, OH, &top, &bottom);
  dy_margins(p.w, p.pad_l, p.kw, p.dil_w, p.stride_w, OW, &left, &right);
  const int Dw = left + OW + right;
  g.in_pixels = OH * OW, g.out_pixels = p.h * p.w;
  g.buf_pixels = (top + OH + bottom) * Dw;
  for (int oh = 0; oh < OH; ++oh)
    for (int ow = 0; ow < OW; ++ow) g.in_at.push_back((oh + top) * Dw + ow + left);
  for (int a = 0; a < p.stride_h; ++a)
    for (int b = 0; b < p.stride_w; ++b) {
      Sweep s;
      s.first = (int)g.order.size();
      for (int ki = 0; ki < p.kh; ++ki)
        for (int kj = 0; kj < p.kw; ++kj)
          if (ki * p.dil_h % p.stride_h == a && kj * p.dil_w % p.stride_w == b) {
            g.order.push_back(ki * p.kw + kj);
            s.tap.push_back(-(ki * p.dil_h / p.stride_h) * Dw - kj * p.dil_w / p.stride_w);
          }
      for (int ih = 0; ih < p.h; ++ih)
        for (int iw = 0; iw < p.w; ++iw) {
          const int r = ih + p.pad_t, c = iw + p.pad_l;
          if (r % p.stride_h != a || c % p.stride_w != b) continue;
          s.at.push_back(ih * p.w + iw);
          s.base.push_back((r / p.stride_h + top) * Dw + c / p.stride_w + left);
        }
      if (!s.at.empty()) g.sweeps.push_back(s);
    }
  return g;
}

// The weights as lane vectors, [channel block][weight vector][lane] in g.order's taps, then each
// block's bias vector; lanes past the channels hold 0.
const float* weight_lanes(const Conv2dParams& p, const Geometry& g, int lanes, const float* w, const float* b) {
  thread_local std::vector<float> buf;
  const int taps = p.kh * p.kw, vectors = (int)g.order.size(), blocks = (p.c_in + lanes - 1) / lanes;
  float* out = grow(buf, (long)blocks * (vectors + 1) * lanes);
  for (int cb = 0; cb < blocks; ++cb)
    for (int l = 0; l < lanes; ++l) {
      const int c = cb * lanes + l;
      float* o = out + (long)cb * (vectors + 1) * lanes + l;
      for (int i = 0; i < vectors; ++i) o[i * lanes] = c < p.c_in ? w[(long)c * taps + g.order[i]] : 0.0f;
      o[vectors * lanes] = c < p.c_in && b ? b[c] : 0.0f;
    }
  return out;
}

// A 1×1 map whose kernel is cut to one tap that reads it: y = w·x + b per channel, and the
// channels of one image are contiguous.
bool one_pixel(const Conv2dParams& p) {
  return p.h == 1 && p.w == 1 && p.kh == 1 && p.kw == 1 && p.out_h() == 1 && p.out_w() == 1 && p.pad_t == 0 &&
         p.pad_l == 0;
}

// Floats [from, from + floats) of each of a block's channel planes towards the cache while other
// work runs: the pack reads `lanes` planes a plane apart, more streams than the hardware
// prefetcher follows (a 16×16 map's forward pass ran at half the speed without this).
void prefetch_planes(const float* block, long plane, int channels, long from, long floats) {
  for (int l = 0; l < channels; ++l)
    for (long f = 0; f < floats; f += 16) __builtin_prefetch(block + l * plane + from + f);
}

// Input rows [*ih0, *ih0 + *count) that output rows [o0, o0 + rows) read, and the buffer row the
// first goes to (*at; the buffer's row 0 is padded row o0·sh).
void band_rows(const Conv2dParams& p, int o0, int rows, int* ih0, int* count, int* at) {
  const int pr0 = o0 * p.stride_h;
  *ih0 = std::max(0, pr0 - p.pad_t);
  *count = std::min(p.h, pr0 - p.pad_t + rows_read(p, rows)) - *ih0;
  *at = *ih0 + p.pad_t - pr0;
  if (*count <= 0) *count = 0, *at = 0;
}

// Packs the input rows of output rows [o0, o0 + rows) into buf, and zeroes the buffer rows that
// are padding this time but may hold pixels from this thread's last call (last: its first row
// and count).
void pack_band(const DepthwiseLanes& K, const Conv2dParams& p, const Geometry& g, const float* block, long plane,
               int channels, const float* end, int o0, int rows, float* buf, int last[2]) {
  const int Wp = p.w + p.pad_l + p.pad_r;
  const long row = (long)Wp * K.lanes, buf_rows = g.buf_pixels / Wp;
  int ih0, count, at;
  band_rows(p, o0, rows, &ih0, &count, &at);
  if (at != last[0] || count != last[1]) {
    std::memset(buf, 0, sizeof(float) * at * row);
    std::memset(buf + (at + count) * row, 0, sizeof(float) * (buf_rows - at - count) * row);
    last[0] = at, last[1] = count;
  }
  if (count > 0) K.pack(block + (long)ih0 * p.w, plane, channels, end, count * p.w, g.in_at.data(), buf + at * row);
}

// A pass over items (image, channel block): the source block packed into the buffer (band by
// band where g.band_rows is set), the taps swept, the result unpacked into dst through the
// epilogue.
void sweep(const Conv2dParams& p, const Geometry& g, const float* src, long src_plane, const float* wl,
           float* dst, long dst_plane, int threads, const ConvEpilogue& e) {
  const DepthwiseLanes& K = depthwise_lanes_for(active_isa());
  const int L = K.lanes, blocks = (p.c_in + L - 1) / L, vectors = (int)g.order.size();
  // Without bands: one band of one "row" holding every output pixel.
  const int out_rows = g.band_rows ? p.out_h() : 1, rows = g.band_rows ? g.band_rows : 1;
  const long row_pixels = g.out_pixels / rows;
  const float* src_end = src + (long)p.n * p.c_in * src_plane;
  const long items = (long)p.n * blocks;
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    thread_local std::vector<float> buf_v, out_v;
    float* buf = grow(buf_v, (long)g.buf_pixels * L);
    float* out = grow(out_v, (long)(g.out_pixels + L) * L);  // unpack reads whole L-pixel runs
    std::memset(buf, 0, sizeof(float) * g.buf_pixels * L);  // the padding and the zero grid; items write only pixels
    int last[2] = {-1, -1};
#pragma omp for schedule(static)
    for (long it = 0; it < items; ++it) {
      const int n = (int)(it / blocks), cb = (int)(it % blocks), c0 = cb * L;
      const int channels = std::min(L, p.c_in - c0);
      const long plane0 = (long)n * p.c_in + c0;
      const float* block = src + plane0 * src_plane;
      const float* wb = wl + (long)cb * (vectors + 1) * L;
      for (int o0 = 0; o0 < out_rows; o0 += rows) {
        const int band = std::min(rows, out_rows - o0);
        int ih0 = 0, count = 0, at;
        if (o0 + rows < out_rows) {  // the next band's rows
          band_rows(p, o0 + rows, std::min(rows, out_rows - o0 - rows), &ih0, &count, &at);
          prefetch_planes(block, src_plane, channels, (long)ih0 * p.w, (long)count * p.w);
        } else if (it + 1 < items) {  // the next item's first band
          const int c1 = (int)((it + 1) % blocks) * L;
          if (g.band_rows) band_rows(p, 0, rows, &ih0, &count, &at);
          prefetch_planes(src + ((it + 1) / blocks * p.c_in + c1) * src_plane, src_plane, std::min(L, p.c_in - c1),
                          (long)ih0 * p.w, g.band_rows ? (long)count * p.w : src_plane);
        }
        if (g.band_rows) pack_band(K, p, g, block, src_plane, channels, src_end, o0, band, buf, last);
        else K.pack(block, src_plane, channels, src_end, g.in_pixels, g.in_at.data(), buf);
        const long done = o0 * row_pixels, pixels = band * row_pixels;
        for (const Sweep& sw : g.sweeps)
          K.taps_fma((int)std::min<long>(sw.at.size(), pixels), sw.at.data(), sw.base.data(), (int)sw.tap.size(),
                     sw.tap.data(), wb + (long)sw.first * L, wb + (long)vectors * L, buf, out);
        K.unpack(out, (int)pixels, channels, e.residual ? e.residual + plane0 * dst_plane + done : nullptr, e.lo, e.hi,
                 dst + plane0 * dst_plane + done, dst_plane);
      }
    }
  }
}

// The padded map's pixels: the forward pass's buffer, and the measure of all three passes' work
// per plane.
long padded_pixels(const Conv2dParams& p) { return (long)(p.h + p.pad_t + p.pad_b) * (p.w + p.pad_l + p.pad_r); }

}  // namespace

void set_depthwise_small(DepthwiseSmall mode) { g_mode.store((int)mode, std::memory_order_relaxed); }

bool depthwise_small_auto() { return (DepthwiseSmall)g_mode.load(std::memory_order_relaxed) == DepthwiseSmall::Auto; }

bool depthwise_small_suits(const Conv2dParams& p, ConvPass pass) {
  if (!p.depthwise()) return false;
  switch ((DepthwiseSmall)g_mode.load(std::memory_order_relaxed)) {
    case DepthwiseSmall::Always: return true;
    case DepthwiseSmall::Never: return false;
    default: return pass == ConvPass::Forward || one_pixel(p) || padded_pixels(p) <= kMaxBufferPixels;
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
  const int lanes = depthwise_lanes_for(active_isa()).lanes;
  const Geometry g = forward_geometry(p, lanes, true);
  const float* wl = weight_lanes(p, g, lanes, w, b);
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
  const float* wl = weight_lanes(p, g, depthwise_lanes_for(active_isa()).lanes, w, nullptr);
  sweep(p, g, dy, (long)p.out_h() * p.out_w(), wl, dx, (long)p.h * p.w, threads, ConvEpilogue{});
}

void depthwise_small_backward_weight(const Conv2dParams& p, const float* x, const float* dy, float* dw, float* db,
                                     int threads) {
  if (one_pixel(p)) {
    // dw[c] = Σ_n x[n][c]·dy[n][c], db[c] = Σ_n dy[n][c] along each image's contiguous channels,
    // in double, over runs of channels spread on the threads.
    constexpr int kRun = 64;
    const int runs = (p.c_in + kRun - 1) / kRun;
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
    for (int r = 0; r < runs; ++r) {
      const int c0 = r * kRun, count = std::min(kRun, p.c_in - c0);
      double sw[kRun] = {}, sb[kRun] = {};
      for (int n = 0; n < p.n; ++n) {
        const float *xn = x + (long)n * p.c_in + c0, *dn = dy + (long)n * p.c_in + c0;
        for (int c = 0; c < count; ++c) sw[c] += (double)xn[c] * dn[c], sb[c] += dn[c];
      }
      for (int c = 0; c < count; ++c) {
        dw[c0 + c] = (float)sw[c];
        if (db) db[c0 + c] = (float)sb[c];
      }
    }
    return;
  }
  const DepthwiseLanes& K = depthwise_lanes_for(active_isa());
  const int L = K.lanes, blocks = (p.c_in + L - 1) / L;
  const Geometry g = forward_geometry(p, L, false);
  const long x_plane = (long)p.h * p.w, dy_plane = g.out_pixels;
  const float *x_end = x + (long)p.n * p.c_in * x_plane, *dy_end = dy + (long)p.n * p.c_in * dy_plane;
  const Sweep& sw = g.sweeps[0];
  const int taps = (int)sw.tap.size(), sums = (taps + 1) * L;  // each tap's, then the bias's
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
    int last[2] = {-1, -1};
#pragma omp for schedule(static)
    for (int cb = 0; cb < blocks; ++cb) {
      const int c0 = cb * L, channels = std::min(L, p.c_in - c0);
      std::fill(total, total + sums, 0.0);
      std::fill(acc, acc + sums, 0.0f);
      int run = 0;
      for (int n = 0; n < p.n; ++n) {
        const long plane0 = (long)n * p.c_in + c0;
        if (n + 1 < p.n) {
          prefetch_planes(x + (plane0 + p.c_in) * x_plane, x_plane, channels, 0, x_plane);
          prefetch_planes(dy + (plane0 + p.c_in) * dy_plane, dy_plane, channels, 0, dy_plane);
        }
        pack_band(K, p, g, x + plane0 * x_plane, x_plane, channels, x_end, 0, p.out_h(), buf, last);
        K.pack(dy + plane0 * dy_plane, dy_plane, channels, dy_end, g.out_pixels, sw.at.data(), dyb);  // at: 0, 1, 2, ...
        K.taps_dot(g.out_pixels, sw.base.data(), taps, sw.tap.data(), buf, dyb, acc);
        if ((run += g.out_pixels) >= kFloatRun || n == p.n - 1) {
          for (int i = 0; i < sums; ++i) total[i] += acc[i];
          std::fill(acc, acc + sums, 0.0f);
          run = 0;
        }
      }
      for (int l = 0; l < channels; ++l) {
        for (int t = 0; t < taps; ++t) dw[(long)(c0 + l) * taps + t] = (float)total[t * L + l];
        if (db) db[c0 + l] = (float)total[taps * L + l];
      }
    }
  }
}

}  // namespace cnn
