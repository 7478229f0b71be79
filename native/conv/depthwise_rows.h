// The vector loops of the depthwise convolution, one set per ISA. The driver (depthwise.cc) lays
// each padded input plane out as stride phases, so that every tap of every stride reads a
// contiguous run: these loops only ever see unit-stride rows.
#pragma once
#include "cpu/cpu.h"

namespace cnn {

struct DepthwiseRows {
  // out[j] = clamp(bias + Σ_t w[t]·src[t][j], lo, hi) for j < n.
  void (*taps_fma)(long n, int taps, const float* const* src, const float* w, float bias, float lo, float hi,
                   float* out);
  // dst[t][j] += w[t]·src[j] for j < n, tap after tap (the taps' runs may overlap).
  void (*taps_axpy)(long n, int taps, float* const* dst, const float* w, const float* src);
  // acc[t] = Σ_j src[t][j]·dy[j] for j < n.
  void (*taps_dot)(long n, int taps, const float* const* src, const float* dy, float* acc);
};

extern const DepthwiseRows depthwise_rows_portable;
#if defined(CNN_X86)
extern const DepthwiseRows depthwise_rows_avx2;
extern const DepthwiseRows depthwise_rows_avx512;
#endif

const DepthwiseRows& depthwise_rows_for(Isa isa);

}  // namespace cnn
