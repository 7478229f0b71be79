// The loops of depthwise_narrow.h on AVX-512: one output row is one vector of 16 pixels, each tap
// one masked load of an input row (the lanes that would read outside it masked to 0) and one FMA,
// on NCHW planes as they lie. (AVX2's masked loads made the same loop on rows of 8 lose to the
// channel-vector path: 8×8 maps 0.59 against 0.43 ms, running the AVX2 kernels on an AVX-512 CPU.)
#pragma once

namespace cnn {

struct NarrowMap {
  int channels;              // planes go channel by channel: plane q is channel q % channels
  long in_plane, out_plane;  // floats a plane
  int in_w, out_h, out_w;    // in_w <= 32, out_w <= 16
  int kh, kw, pl, dh, dw;    // kernel (kw <= 3), left padding, dilation (stride 1)
  // Output row oh, tap row ki reads the input row at offset row_at[oh + ki·dh] in its plane, or
  // zeros where that is -1 (padding): out_h + (kh − 1)·dh entries.
  const int* row_at;
};

// Planes [q0, q1): y = clamp(b[c] + Σ_{ki,kj} w[c·kh·kw + ki·kw + kj]·x(row_at[oh + ki·dh], ow + kj·dw
// − pl) (+ res), lo, hi), x outside [0, in_w) read as 0. b and res (laid out as y) may be null.
// Compiled for AVX-512 only: callers check the active ISA first.
void narrow_planes_avx512(const NarrowMap& m, long q0, long q1, const float* x, const float* w, const float* b,
                          const float* res, float lo, float hi, float* y);

}  // namespace cnn
