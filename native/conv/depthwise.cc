// Depthwise convolution (one filter per channel, groups == Cin == Cout). Each input plane is
// zero-padded into stride phases: phase (a, b) holds padded pixels (r·sh + a, c·sw + b) at row r,
// column c of a Hq × Wq grid. Tap (ki, kj) of output pixel (oh, ow) then sits in phase
// ((ki·dh) mod sh, (kj·dw) mod sw) at grid offset oh·Wq + ow + off_t, for any stride and dilation,
// so the vector loops (depthwise_rows.h) read and write unit-stride runs only. Every pass runs
// over the whole grid at once (the forward pass computes the columns past OW and drops them; the
// backward passes give them dy = 0), so small maps still fill vectors. With non-finite inputs or
// weights, 0·∞ in those columns may turn a finite gradient into NaN where PyTorch's stays finite. Planes are spread over threads; the weight gradient over channels, so every
// channel's sums run in one order whatever the thread count.
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

struct Phases {
  int sh, sw, Hq, Wq, OH, OW, taps;
  long plane;                // floats per phase
  std::vector<int> phase;    // tap t's phase index a·sw + b
  std::vector<long> offset;  // tap t's offset in its phase grid

  explicit Phases(const Conv2dParams& p)
      : sh(p.stride_h), sw(p.stride_w), OH(p.out_h()), OW(p.out_w()), taps(p.kh * p.kw) {
    Hq = (p.h + p.pad_t + p.pad_b + sh - 1) / sh;
    Wq = (p.w + p.pad_l + p.pad_r + sw - 1) / sw;
    plane = (long)Hq * Wq;
    for (int ki = 0; ki < p.kh; ++ki)
      for (int kj = 0; kj < p.kw; ++kj) {
        const int dh = ki * p.dil_h, dw = kj * p.dil_w;
        phase.push_back((dh % sh) * sw + dw % sw);
        offset.push_back((long)(dh / sh) * Wq + dw / sw);
      }
  }
  long floats() const { return plane * sh * sw; }
  // Grid index of padded pixel (r, c) in its phase block: which phase and where.
  long at(int r, int c) const { return ((long)(r % sh) * sw + c % sw) * plane + (long)(r / sh) * Wq + c / sw; }
};

// Padded row r's run of phase column b: where its pixels start in `phases`, the first input
// column that lands there, and the first input column of any phase, so rows copy without division.
struct PhaseRow {
  long start;
  int iw0;
};
PhaseRow phase_row(const Conv2dParams& p, const Phases& ph, int r, int b) {
  int iw0 = ((b - p.pad_l) % ph.sw + ph.sw) % ph.sw;  // first iw with (iw + pad_l) mod sw == b
  return {ph.at(r, iw0 + p.pad_l), iw0};
}

// One H × W plane into its padded phases.
void split_phases(const Conv2dParams& p, const Phases& ph, const float* x, float* out) {
  std::memset(out, 0, sizeof(float) * ph.floats());
  for (int ih = 0; ih < p.h; ++ih) {
    const float* row = x + (long)ih * p.w;
    for (int b = 0; b < ph.sw; ++b) {
      const PhaseRow pr = phase_row(p, ph, ih + p.pad_t, b);
      float* d = out + pr.start;
      for (int iw = pr.iw0; iw < p.w; iw += ph.sw) *d++ = row[iw];
    }
  }
}

// The inverse: the H × W plane inside the padded phases.
void join_phases(const Conv2dParams& p, const Phases& ph, const float* in, float* x) {
  for (int ih = 0; ih < p.h; ++ih) {
    float* row = x + (long)ih * p.w;
    for (int b = 0; b < ph.sw; ++b) {
      const PhaseRow pr = phase_row(p, ph, ih + p.pad_t, b);
      const float* s = in + pr.start;
      for (int iw = pr.iw0; iw < p.w; iw += ph.sw) row[iw] = *s++;
    }
  }
}

// dy's OH × OW plane on the Wq-wide grid, zero in the columns past OW, so the backward passes
// run over the whole grid as the forward pass does (those columns add w·0 or x·0).
void dy_on_grid(const Phases& ph, const float* dy, float* out) {
  for (int oh = 0; oh < ph.OH; ++oh) {
    float* d = out + (long)oh * ph.Wq;
    std::memcpy(d, dy + (long)oh * ph.OW, sizeof(float) * ph.OW);
    std::memset(d + ph.OW, 0, sizeof(float) * (ph.Wq - ph.OW));
  }
}

// Tap t's run for output row oh (or the whole grid from oh = 0) inside phases `base`.
template <class T>
void tap_pointers(const Phases& ph, T* base, int oh, T** out) {
  for (int t = 0; t < ph.taps; ++t) out[t] = base + ph.phase[t] * ph.plane + (long)oh * ph.Wq + ph.offset[t];
}

}  // namespace

void depthwise_forward(const Conv2dParams& p, const float* x, const float* w, const float* b, float* y,
                       int threads, float lo, float hi) {
  const Phases ph(p);
  const DepthwiseRows& K = depthwise_rows_for(active_isa());
  const long planes = (long)p.n * p.c_in, grid = (long)(ph.OH - 1) * ph.Wq + ph.OW;
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    thread_local std::vector<float> phase_buf, out_buf;
    thread_local std::vector<const float*> src;
    float* in = grow(phase_buf, ph.floats());
    float* out = grow(out_buf, grid);
    src.resize(ph.taps);
#pragma omp for schedule(static)
    for (long nc = 0; nc < planes; ++nc) {
      const int c = (int)(nc % p.c_in);
      split_phases(p, ph, x + nc * p.h * p.w, in);
      tap_pointers(ph, (const float*)in, 0, src.data());
      float* yp = y + nc * ph.OH * ph.OW;
      // Where the grid is as wide as the output, it is the output.
      const bool direct = ph.Wq == ph.OW;
      K.taps_fma(grid, ph.taps, src.data(), w + (long)c * ph.taps, b ? b[c] : 0.0f, lo, hi, direct ? yp : out);
      if (!direct)
        for (int oh = 0; oh < ph.OH; ++oh) std::memcpy(yp + (long)oh * ph.OW, out + (long)oh * ph.Wq, sizeof(float) * ph.OW);
    }
  }
}

void depthwise_backward_input(const Conv2dParams& p, const float* dy, const float* w, float* dx, int threads) {
  const Phases ph(p);
  const DepthwiseRows& K = depthwise_rows_for(active_isa());
  const long planes = (long)p.n * p.c_in, grid = (long)(ph.OH - 1) * ph.Wq + ph.OW;
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    thread_local std::vector<float> phase_buf, dy_buf;
    thread_local std::vector<float*> dst;
    float* acc = grow(phase_buf, ph.floats());
    float* dyg = grow(dy_buf, (long)ph.OH * ph.Wq);
    dst.resize(ph.taps);
#pragma omp for schedule(static)
    for (long nc = 0; nc < planes; ++nc) {
      const int c = (int)(nc % p.c_in);
      std::memset(acc, 0, sizeof(float) * ph.floats());
      dy_on_grid(ph, dy + nc * ph.OH * ph.OW, dyg);
      // The grid scatters into every tap's run of the padded phases.
      tap_pointers(ph, acc, 0, dst.data());
      K.taps_axpy(grid, ph.taps, dst.data(), w + (long)c * ph.taps, dyg);
      join_phases(p, ph, acc, dx + nc * p.h * p.w);
    }
  }
}

void depthwise_backward_weight(const Conv2dParams& p, const float* x, const float* dy, float* dw, float* db,
                               int threads) {
  const Phases ph(p);
  const DepthwiseRows& K = depthwise_rows_for(active_isa());
  const int C = p.c_in;
  const long grid = (long)(ph.OH - 1) * ph.Wq + ph.OW;
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    thread_local std::vector<float> phase_buf, dy_buf, plane_buf, ones_buf;
    thread_local std::vector<const float*> src;
    thread_local std::vector<double> sum_buf;
    float* in = grow(phase_buf, ph.floats());
    float* dyg = grow(dy_buf, (long)ph.OH * ph.Wq);
    // The bias gradient is one more tap, over a plane of ones.
    const int taps = ph.taps + (db ? 1 : 0);
    float* plane = grow(plane_buf, taps);
    float* ones = grow(ones_buf, grid);
    std::fill(ones, ones + grid, 1.0f);
    src.resize(taps);
    sum_buf.resize(taps);
    double* sum = sum_buf.data();
#pragma omp for schedule(static)
    for (int c = 0; c < C; ++c) {
      // Each plane is summed in float, planes in double.
      for (int t = 0; t < taps; ++t) sum[t] = 0.0;
      for (int n = 0; n < p.n; ++n) {
        const long nc = (long)n * C + c;
        split_phases(p, ph, x + nc * p.h * p.w, in);
        dy_on_grid(ph, dy + nc * ph.OH * ph.OW, dyg);
        tap_pointers(ph, (const float*)in, 0, src.data());
        if (db) src[ph.taps] = ones;
        K.taps_dot(grid, taps, src.data(), dyg, plane);
        for (int t = 0; t < taps; ++t) sum[t] += plane[t];
      }
      for (int t = 0; t < ph.taps; ++t) dw[(long)c * ph.taps + t] = (float)sum[t];
      if (db) db[c] = (float)sum[ph.taps];
    }
  }
}

}  // namespace cnn
