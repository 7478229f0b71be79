// The vector loops of convolutions with few input channels (few_channels.h), one set per ISA:
// output pixels along the vector lanes, a block of output channels in registers, every tap one
// vector load shared by the block's FMAs (its weight a broadcast).
#pragma once
#include "cpu/cpu.h"

namespace cnn {

struct FewChannelRows {
  int lanes;
  // `count` output rows of n pixels: row r's taps read src[t] + r·src_step, its outputs go to
  // out + r·out_step, out[co·stride + j] = clamp(bias[co] + Σ_t w[co·taps + t]·src[t][j] (+ res[co·stride + j]), lo, hi)
  // for j < n and co < channels (res laid out as out); bias and res may be null. Each tap's row is
  // read up to n rounded up to a multiple of `lanes`; out and res only below n.
  void (*rows)(int n, int count, long src_step, long out_step, int channels, int taps, const float* const* src,
               const float* w, const float* bias, float lo, float hi, const float* res, long stride, float* out);
};

extern const FewChannelRows few_channel_rows_portable;
#if defined(CNN_X86)
extern const FewChannelRows few_channel_rows_avx2;
extern const FewChannelRows few_channel_rows_avx512;
#endif

const FewChannelRows& few_channel_rows_for(Isa isa);

}  // namespace cnn
