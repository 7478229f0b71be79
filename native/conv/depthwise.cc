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
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "conv/conv.h"
#include "conv/depthwise_rows.h"
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

// Where padded row r's pixels of phase column b start in stacked image s, and the first input
// column that lands there, so rows copy without division.
struct PhaseRow {
  long start;
  int iw0;
};
PhaseRow phase_row(const Conv2dParams& p, const Phases& ph, int s, int r, int b) {
  const int iw0 = ((b - p.pad_l) % ph.sw + ph.sw) % ph.sw;  // first iw with (iw + pad_l) mod sw == b
  return {ph.at(s, r, iw0 + p.pad_l), iw0};
}

// Channel c of images [i0, i0 + count) into their padded phases.
void split_phases(const Conv2dParams& p, const Phases& ph, const float* x, int c, int i0, int count, float* out) {
  std::memset(out, 0, sizeof(float) * ph.floats());
  for (int s = 0; s < count; ++s) {
    const float* xp = x + ((long)(i0 + s) * p.c_in + c) * p.h * p.w;
    for (int ih = 0; ih < p.h; ++ih) {
      const float* row = xp + (long)ih * p.w;
      for (int b = 0; b < ph.sw; ++b) {
        const PhaseRow pr = phase_row(p, ph, s, ih + p.pad_t, b);
        float* d = out + pr.start;
        for (int iw = pr.iw0; iw < p.w; iw += ph.sw) *d++ = row[iw];
      }
    }
  }
}

// The inverse: channel c of images [i0, i0 + count) out of the padded phases.
void join_phases(const Conv2dParams& p, const Phases& ph, const float* in, int c, int i0, int count, float* x) {
  for (int s = 0; s < count; ++s) {
    float* xp = x + ((long)(i0 + s) * p.c_in + c) * p.h * p.w;
    for (int ih = 0; ih < p.h; ++ih) {
      float* row = xp + (long)ih * p.w;
      for (int b = 0; b < ph.sw; ++b) {
        const PhaseRow pr = phase_row(p, ph, s, ih + p.pad_t, b);
        const float* src = in + pr.start;
        for (int iw = pr.iw0; iw < p.w; iw += ph.sw) row[iw] = *src++;
      }
    }
  }
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
  const Phases ph(p);
  const DepthwiseRows& K = depthwise_rows_for(active_isa());
  const long items = (long)p.c_in * ph.chunks;
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    thread_local std::vector<float> phase_buf, out_buf;
    thread_local std::vector<const float*> src;
    float* in = grow(phase_buf, ph.floats());
    float* out = grow(out_buf, ph.block);
    src.resize(ph.taps);
#pragma omp for schedule(static)
    for (long it = 0; it < items; ++it) {
      const int c = (int)(it / ph.chunks);
      int i0;
      const int count = ph.images(p, (int)(it % ph.chunks), &i0);
      split_phases(p, ph, x, c, i0, count, in);
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
  const Phases ph(p);
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
      join_phases(p, ph, acc, c, i0, count, dx);
    }
  }
}

void depthwise_backward_weight(const Conv2dParams& p, const float* x, const float* dy, float* dw, float* db,
                               int threads) {
  const Phases ph(p);
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
        split_phases(p, ph, x, c, i0, count, in);
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
