// The loops of depthwise_3x3.h on AVX-512: each block of 16 pixels of an output row is one
// vector, each tap one masked load of an input row (the lanes that would read outside it masked
// to 0) and one FMA, on NCHW planes as they lie. (The same loops for AVX2, rows of 8 with its
// vmaskmov loads, lost to the channel-vector path on maps 5-8 wide, 128 images of 96 channels: 8×8
// 0.31-0.40 ms against 0.28, measured by running the AVX2 kernels on an AVX-512 CPU, whose AVX2
// masked loads may be slower than an AVX2 CPU's; wider maps were not tried on AVX2.)
#pragma once

namespace cnn {

// Output rows wider than this are not taken (the loops keep each block of 16 columns' masks).
constexpr int kDepthwise3x3MaxWidth = 256;

struct Depthwise3x3Map {
  int channels;              // planes go channel by channel: plane q is channel q % channels
  long in_plane, out_plane;  // floats a plane
  int in_w, out_h, out_w;    // out_w <= kDepthwise3x3MaxWidth
  int pl;                    // left padding, 0-2 (a 3×3 kernel, stride and dilation 1)
  // Output row oh, kernel row ki reads the input row at offset row_at[oh + ki] in its plane, or
  // `zeros` (in_w floats of 0) where that is -1 (padding): out_h + 2 entries.
  const int* row_at;
  const float* zeros;
};

// Compiled for AVX-512 only: callers check the active ISA first.
// Planes [q0, q1): y = clamp(b[c] + Σ_{ki,kj < 3} w[c·9 + ki·3 + kj]·x(row_at[oh + ki], ow + kj − pl)
// (+ res), lo, hi), x outside [0, in_w) read as 0. b and res (laid out as y) may be null.
void depthwise_3x3_planes_avx512(const Depthwise3x3Map& m, long q0, long q1, const float* x, const float* w,
                                 const float* b, const float* res, float lo, float hi, float* y);
// Channel c's weight gradient over images [0, images), planes laid out as for the forward pass
// (x its input, dy its output): total[ki·3 + kj] = Σ dy(oh, ow)·x(row_at[oh + ki], ow + kj − pl),
// total[9] = Σ dy, image by image in order.
void depthwise_3x3_weight_avx512(const Depthwise3x3Map& m, int images, int c, const float* x, const float* dy,
                                 double* total);

}  // namespace cnn
