// Depthwise convolution (one filter per channel, groups == Cin == Cout). Each input plane is
// zero-padded into stride phases: phase (a, b) holds padded pixels (r·sh + a, c·sw + b) at row r,
// column c of a Hq × Wq grid. Tap (ki, kj) of output pixel (oh, ow) then sits in phase
// ((ki·dh) mod sh, (kj·dw) mod sw) at grid offset oh·Wq + ow + off_t, for any stride and dilation,
// so the vector loops (depthwise_rows.h) read and write unit-stride runs only. A channel's planes
// from several images are stacked one after another in each phase, and every pass runs over the
// whole stack at once (the forward pass computes the rows and columns between outputs and drops
// them; the backward passes give them dy = 0), so small maps still make long vector runs. With
// non-finite inputs or weights, 0·∞ there may turn a finite gradient into NaN where PyTorch's
// stays finite. Items (a channel and a run of images) are spread over threads; the weight
// gradient over channels, so every channel's sums run in one order whatever the thread count.
// The forward pass of every map, and the gradients of small maps (up to a 32×32 padded plane,
// where the phase rows are short and the per-plane copies cost more than the FMAs), take the
// channel-vector path of depthwise_small.h instead; maps of 2 and 4 pixels read densely, the
// per-channel matrices of depthwise_planes.h.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>
#include <vector>

#include "conv/conv.h"
#include "conv/depthwise_3x3.h"
#include "conv/depthwise_planes.h"
#include "conv/depthwise_rows.h"
#include "conv/depthwise_small.h"
#include "conv/work.h"

namespace cnn {

namespace {

// Floats of one stack of phases: small enough to stay in L1/L2 while every tap reads it.
constexpr long kStackFloats = 8L << 10;

struct Phases {
  int sh, sw, Hq, Wq, OH, OW, taps;
  int stack;                 // images per item, their planes one after another in each phase
  int chunks;                // items per channel
  long plane;                // floats of one image in one phase
  long block;                // floats of one phase: stack planes
  long grid;                 // the run that covers every stacked output pixel
  std::vector<int> phase;    // tap t's phase index a·sw + b
  std::vector<long> offset;  // tap t's offset in its phase grid

  explicit Phases(const Conv2dParams& p)
      : sh(p.stride_h), sw(p.stride_w), OH(p.out_h()), OW(p.out_w()), taps(p.kh * p.kw) {
    Hq = (p.h + p.pad_t + p.pad_b + sh - 1) / sh;
    Wq = (p.w + p.pad_l + p.pad_r + sw - 1) / sw;
    plane = (long)Hq * Wq;
    stack = (int)std::max<long>(1, std::min<long>(p.n, kStackFloats / (plane * sh * sw)));
    chunks = (p.n + stack - 1) / stack;
    block = plane * stack;
    grid = (stack - 1) * plane + (long)(OH - 1) * Wq + OW;
    for (int ki = 0; ki < p.kh; ++ki)
      for (int kj = 0; kj < p.kw; ++kj) {
        const int dh = ki * p.dil_h, dw = kj * p.dil_w;
        phase.push_back((dh % sh) * sw + dw % sw);
        offset.push_back((long)(dh / sh) * Wq + dw / sw);
      }
  }
  long floats() const { return block * sh * sw; }
  // Index of padded pixel (r, c) of stacked image s: which phase and where in it.
  long at(int s, int r, int c) const {
    return ((long)(r % sh) * sw + c % sw) * block + s * plane + (long)(r / sh) * Wq + c / sw;
  }
  // Images [*i0, *i0 + return) of item chunk.
  int images(const Conv2dParams& p, int chunk, int* i0) const {
    *i0 = chunk * stack;
    return std::min(stack, p.n - *i0);
  }
};

// Phase column b of every padded row: the first input column that lands in it, how many do,
// and the offset of the first in its phase row.
struct PhaseColumn {
  int b, iw0, cols;
  long offset;
};

std::vector<PhaseColumn> phase_columns(const Conv2dParams& p, const Phases& ph) {
  std::vector<PhaseColumn> columns;
  for (int b = 0; b < ph.sw; ++b) {
    const int iw0 = ((b - p.pad_l) % ph.sw + ph.sw) % ph.sw;  // first iw with (iw + pad_l) mod sw == b
    if (iw0 < p.w) columns.push_back({b, iw0, (p.w - 1 - iw0) / ph.sw + 1, (long)(iw0 + p.pad_l) / ph.sw});
  }
  return columns;
}

// Calls copy(phase_row, input_row, cols) for every input row of channel c of images [i0, i0 +
// count), in order, and every phase column: the input row's pixels iw0, iw0 + sw, ... (cols of
// them) sit one after another at phase_row. Row after row, so each is read while in cache, and
// the phase row found by counting, not dividing.
template <class F>
void each_phase_row(const Conv2dParams& p, const Phases& ph, const std::vector<PhaseColumn>& columns, int c, int i0,
                    int count, F copy) {
  for (int s = 0; s < count; ++s) {
    const long image = ((long)(i0 + s) * p.c_in + c) * p.h * p.w;
    int a = p.pad_t % ph.sh;  // padded row ih + pad_t is row q of phase row a
    long q = p.pad_t / ph.sh;
    for (int ih = 0; ih < p.h; ++ih) {
      const long row = (long)a * ph.sw * ph.block + s * ph.plane + q * ph.Wq;
      for (const PhaseColumn& col : columns) copy(row + col.b * ph.block + col.offset, image + (long)ih * p.w + col.iw0, col.cols);
      if (++a == ph.sh) a = 0, ++q;
    }
  }
}

// Channel c of images [i0, i0 + count) into their padded phases. Only the pixels are written:
// the padding must already be zero (no pass writes it). Rows are short: plain loops, not memcpy,
// with the common strides fixed so that the compiler vectorizes them.
void split_phases(const Conv2dParams& p, const Phases& ph, const std::vector<PhaseColumn>& columns, const float* x,
                  int c, int i0, int count, float* out) {
  auto strided = [&](auto sw) {
    each_phase_row(p, ph, columns, c, i0, count, [&](long at, long from, int cols) {
      float* __restrict d = out + at;
      const float* __restrict src = x + from;
      for (int k = 0; k < cols; ++k) d[k] = src[(long)k * sw];
    });
  };
  if (ph.sw == 1) strided(std::integral_constant<int, 1>());
  else if (ph.sw == 2) strided(std::integral_constant<int, 2>());
  else strided(ph.sw);
}

// The inverse: channel c of images [i0, i0 + count) out of the padded phases.
void join_phases(const Conv2dParams& p, const Phases& ph, const std::vector<PhaseColumn>& columns, const float* in,
                 int c, int i0, int count, float* x) {
  each_phase_row(p, ph, columns, c, i0, count, [&](long at, long to, int cols) {
    for (int k = 0; k < cols; ++k) x[to + (long)k * ph.sw] = in[at + k];
  });
}

// dy of channel c, images [i0, i0 + count), stacked on the grid, zero between the outputs.
void dy_on_grid(const Conv2dParams& p, const Phases& ph, const float* dy, int c, int i0, int count, float* out) {
  std::memset(out, 0, sizeof(float) * ph.block);
  for (int s = 0; s < count; ++s) {
    const float* d = dy + ((long)(i0 + s) * p.c_out + c) * ph.OH * ph.OW;
    for (int oh = 0; oh < ph.OH; ++oh) std::memcpy(out + s * ph.plane + (long)oh * ph.Wq, d + (long)oh * ph.OW, sizeof(float) * ph.OW);
  }
}

// Each tap's run inside the phases at `base`.
template <class T>
void tap_pointers(const Phases& ph, T* base, T** out) {
  for (int t = 0; t < ph.taps; ++t) out[t] = base + ph.phase[t] * ph.block + ph.offset[t];
}

}  // namespace

void depthwise_forward(const Conv2dParams& p, const float* x, const float* w, const float* b, float* y,
                       int threads, const ConvEpilogue& e) {
  if (depthwise_planes_forward(p, x, w, b, y, threads, e)) return;
  if (depthwise_3x3_forward(p, x, w, b, y, threads, e)) return;
  if (depthwise_small_suits(p, ConvPass::Forward)) return depthwise_small_forward(p, x, w, b, y, threads, e);
  const Phases ph(p);
  const std::vector<PhaseColumn> columns = phase_columns(p, ph);
  const DepthwiseRows& K = depthwise_rows_for(active_isa());
  const long items = (long)p.c_in * ph.chunks;
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    thread_local std::vector<float> phase_buf, out_buf;
    thread_local std::vector<const float*> src;
    float* in = grow(phase_buf, ph.floats());
    float* out = grow(out_buf, ph.block);
    std::memset(in, 0, sizeof(float) * ph.floats());  // the padding; items write only pixels
    src.resize(ph.taps);
#pragma omp for schedule(static)
    for (long it = 0; it < items; ++it) {
      const int c = (int)(it / ph.chunks);
      int i0;
      const int count = ph.images(p, (int)(it % ph.chunks), &i0);
      split_phases(p, ph, columns, x, c, i0, count, in);
      tap_pointers(ph, (const float*)in, src.data());
      // Where one image's grid is as wide as its output, the grid is the output; the clamp is
      // the vector loop's unless a residual comes before it.
      const bool direct = count == 1 && ph.Wq == ph.OW && !e.residual;
      float* y0 = y + ((long)i0 * p.c_out + c) * ph.OH * ph.OW;
      const long n = count == ph.stack ? ph.grid : (count - 1) * ph.plane + (long)(ph.OH - 1) * ph.Wq + ph.OW;
      const float lo = e.residual ? -INFINITY : e.lo, hi = e.residual ? INFINITY : e.hi;
      K.taps_fma(n, ph.taps, src.data(), w + (long)c * ph.taps, b ? b[c] : 0.0f, lo, hi, direct ? y0 : out);
      if (direct) continue;
      for (int s = 0; s < count; ++s) {
        const long at = ((long)(i0 + s) * p.c_out + c) * ph.OH * ph.OW;
        for (int oh = 0; oh < ph.OH; ++oh) {
          float* d = y + at + (long)oh * ph.OW;
          const float* from = out + s * ph.plane + (long)oh * ph.Wq;
          if (e.residual) epilogue_run(d, from, ph.OW, 0.0f, e.residual + at + (long)oh * ph.OW, e);
          else std::memcpy(d, from, sizeof(float) * ph.OW);
        }
      }
    }
  }
}

void depthwise_backward_input(const Conv2dParams& p, const float* dy, const float* w, float* dx, int threads) {
  if (depthwise_planes_backward_input(p, dy, w, dx, threads)) return;
  if (depthwise_3x3_backward_input(p, dy, w, dx, threads)) return;
  if (depthwise_small_suits(p, ConvPass::BackwardInput)) return depthwise_small_backward_input(p, dy, w, dx, threads);
  const Phases ph(p);
  const std::vector<PhaseColumn> columns = phase_columns(p, ph);
  const DepthwiseRows& K = depthwise_rows_for(active_isa());
  const long items = (long)p.c_in * ph.chunks;
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    thread_local std::vector<float> phase_buf, dy_buf;
    thread_local std::vector<float*> dst;
    float* acc = grow(phase_buf, ph.floats());
    float* dyg = grow(dy_buf, ph.block);
    dst.resize(ph.taps);
#pragma omp for schedule(static)
    for (long it = 0; it < items; ++it) {
      const int c = (int)(it / ph.chunks);
      int i0;
      const int count = ph.images(p, (int)(it % ph.chunks), &i0);
      std::memset(acc, 0, sizeof(float) * ph.floats());
      dy_on_grid(p, ph, dy, c, i0, count, dyg);
      // The stacked grid scatters into every tap's run of the padded phases.
      tap_pointers(ph, acc, dst.data());
      K.taps_axpy(ph.grid, ph.taps, dst.data(), w + (long)c * ph.taps, dyg);
      join_phases(p, ph, columns, acc, c, i0, count, dx);
    }
  }
}

void depthwise_backward_weight(const Conv2dParams& p, const float* x, const float* dy, float* dw, float* db,
                               int threads) {
  if (depthwise_planes_backward_weight(p, x, dy, dw, db, threads)) return;
  if (depthwise_3x3_backward_weight(p, x, dy, dw, db, threads)) return;
  if (depthwise_small_suits(p, ConvPass::BackwardWeight)) return depthwise_small_backward_weight(p, x, dy, dw, db, threads);
  const Phases ph(p);
  const std::vector<PhaseColumn> columns = phase_columns(p, ph);
  const DepthwiseRows& K = depthwise_rows_for(active_isa());
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    thread_local std::vector<float> phase_buf, dy_buf, sums_buf, ones_buf;
    thread_local std::vector<const float*> src;
    thread_local std::vector<double> total_buf;
    float* in = grow(phase_buf, ph.floats());
    float* dyg = grow(dy_buf, ph.block);
    // The bias gradient is one more tap, over a run of ones.
    const int taps = ph.taps + (db ? 1 : 0);
    float* sums = grow(sums_buf, taps);
    float* ones = grow(ones_buf, ph.grid);
    std::fill(ones, ones + ph.grid, 1.0f);
    src.resize(taps);
    total_buf.resize(taps);
    double* total = total_buf.data();
#pragma omp for schedule(static)
    for (int c = 0; c < p.c_in; ++c) {
      // Each stack is summed in float, stacks in double.
      for (int t = 0; t < taps; ++t) total[t] = 0.0;
      for (int chunk = 0; chunk < ph.chunks; ++chunk) {
        int i0;
        const int count = ph.images(p, chunk, &i0);
        // Zeroed each time: planes past count are read too (against dy = 0), and must hold 0.
        std::memset(in, 0, sizeof(float) * ph.floats());
        split_phases(p, ph, columns, x, c, i0, count, in);
        dy_on_grid(p, ph, dy, c, i0, count, dyg);
        tap_pointers(ph, (const float*)in, src.data());
        if (db) src[ph.taps] = ones;
        K.taps_dot(ph.grid, taps, src.data(), dyg, sums);
        for (int t = 0; t < taps; ++t) total[t] += sums[t];
      }
      for (int t = 0; t < ph.taps; ++t) dw[(long)c * ph.taps + t] = (float)total[t];
      if (db) db[c] = (float)total[ph.taps];
    }
  }
}

}  // namespace cnn
