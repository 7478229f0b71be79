// The depthwise convolution over channel-last pixels ([row][column][channel], one pixel's
// channels contiguous): every output pixel is taps × one vector FMA per run of channels, with
// nothing transposed. The inverted residual block's eval path (inverted_residual.h) keeps its
// expanded channels in this layout between its two 1×1 products. One set of loops per ISA.
#pragma once
#include "cpu/cpu.h"

namespace cnn {

// A plain struct (no inline members), so that no ISA's copy of a function can stand in for another's.
struct PixelMap {
  int h, w, channels;       // the input map
  int kh, kw, sh, sw;       // kernel and stride
  int pt, pl, dh, dw;       // padding (top, left) and dilation
  int out_h, out_w;
};

struct DepthwisePixels {
  // out[((oh − o0)·out_w + ow)·C + c] = clamp(b[c] + Σ w[(ki·kw + kj)·C + c]·in[((ih − r0)·w + iw)·C + c],
  // lo, hi) over the taps whose (ih, iw) lies inside the map, for output rows oh in [o0, o1), c < C.
  // `in` holds input rows from r0 on, every row any of those outputs reads.
  void (*forward)(const PixelMap& m, const float* in, int r0, int o0, int o1, const float* w, const float* b,
                  float lo, float hi, float* out);
  // y[q·C + c] = clamp(y[q·C + c] + b[c], lo, hi) for q < pixels, c < C (b may be null).
  void (*bias_clamp)(long pixels, int channels, const float* b, float lo, float hi, float* y);
  // sums[c] = Σ_q y[q·C + c] for c < C (squeeze-and-excitation's pooling).
  void (*channel_sums)(long pixels, int channels, const float* y, float* sums);
  // y[q·C + c] *= s[c] for q < pixels, c < C.
  void (*scale_channels)(long pixels, int channels, const float* s, float* y);
};

extern const DepthwisePixels depthwise_pixels_portable;
#if defined(CNN_X86)
extern const DepthwisePixels depthwise_pixels_avx2;
extern const DepthwisePixels depthwise_pixels_avx512;
#endif

const DepthwisePixels& depthwise_pixels_for(Isa isa);

}  // namespace cnn
