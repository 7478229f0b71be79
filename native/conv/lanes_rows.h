// The vector loops of the channels-in-lanes convolution (conv_lanes.h), one set per ISA: a block
// of output channels in the lanes of each accumulator, one accumulator per output pixel, every
// input value broadcast to all of them. Pixels whose taps fall on the zero padding skip those
// taps, which on small maps is much of the work (a 3×3 on 4×4 reads padding in 44 of 144 taps).
#pragma once
#include "cpu/cpu.h"

namespace cnn {

struct LanesRows {
  int lanes;  // floats per vector
  // Vectors of output channels per block for a layer of c_out channels whose rows are w pixels
  // wide (1 ≤ w ≤ kLanesMaxWidth): 1 or 2. Images per tile for v vectors: as many accumulators as
  // the registers hold.
  int (*vectors)(int w, int c_out);
  int (*images)(int w, int v);
  // One output row of w pixels of a tile of images(w, v) images, 3×3 kernel, stride s (1 or 2),
  // padding 1, input rows s·w wide: for r < images(w, v), q < w and co < cb = v·lanes,
  //   out[(r·w + q)·ldo + co] = clamp(bias[co] + Σ_c Σ_{ki0≤ki<ki1} Σ_kj w[((c·3 + ki)·3 + kj)·cb + co]
  //                                   · src[c·ldc + (ki − 1)·ldr + r·s·w + s·q + kj − 1], lo, hi)
  // over channels c < channels and the kj whose column s·q + kj − 1 lies in [0, s·w).
  // src is the input row's first pixel of image 0 (for output row oh, input row s·oh); the rows of
  // a channel's images lie side by side (image r's at r·s·w), ldr floats between rows, ldc between
  // channels. bias may be null.
  void (*row)(int v, int w, int s, int channels, int ki0, int ki1, const float* src, long ldr, long ldc, const float* wt,
              const float* bias, float lo, float hi, float* out, long ldo);
};

// The widest row the loops take.
constexpr int kLanesMaxWidth = 8;

extern const LanesRows lanes_rows_portable;
#if defined(CNN_X86)
extern const LanesRows lanes_rows_avx2;
extern const LanesRows lanes_rows_avx512;
#endif

const LanesRows& lanes_rows_for(Isa isa);

}  // namespace cnn
