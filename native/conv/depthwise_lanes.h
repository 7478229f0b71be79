// The depthwise convolution of small maps, vectorized across channels: one image's block of
// `lanes` channels is transposed into a buffer of pixels, each pixel a vector of those channels
// ([pixel][lane], small enough for L1), so every output pixel is taps × one vector FMA with
// per-channel weight vectors, whatever the stride, dilation or map size (rows of 2 or 1 pixels
// waste nothing). One set of loops per ISA; the driver (depthwise_small.cc) builds the index
// tables that say where each pixel goes and which buffer pixels each tap reads.
#pragma once
#include "cpu/cpu.h"

namespace cnn {

struct DepthwiseLanes {
  int lanes;  // channels per vector: 16 (AVX-512), 8 (AVX2), 4 (baseline)
  // buf[at[q]·lanes + l] = src[l·plane + q] for q < pixels, l < channels; lanes past channels get
  // 0. src_end bounds the array src is in (whole-vector reads past a plane stay below it).
  void (*pack)(const float* src, long plane, int channels, const float* src_end, int pixels, const int* at,
               float* buf);
  // out[at[q]·lanes + l] = bias[l] + Σ_t w[t·lanes + l]·buf[(base[q] + tap[t])·lanes + l] for q < pixels.
  void (*taps_fma)(int pixels, const int* at, const int* base, int taps, const int* tap, const float* w,
                   const float* bias, const float* buf, float* out);
  // dst[l·plane + q] = clamp(out[q·lanes + l] (+ res[l·plane + q]), lo, hi) for q < pixels, l <
  // channels; res (laid out as dst) may be null. out holds lanes pixels to spare.
  void (*unpack)(const float* out, int pixels, int channels, const float* res, float lo, float hi, float* dst,
                 long plane);
  // acc[t·lanes + l] += Σ_q dy[q·lanes + l]·buf[(base[q] + tap[t])·lanes + l] for t < taps, and
  // acc[taps·lanes + l] += Σ_q dy[q·lanes + l] (the bias gradient).
  void (*taps_dot)(int pixels, const int* base, int taps, const int* tap, const float* buf, const float* dy,
                   float* acc);
  // y[j] = clamp(x[j]·w[j] (+ b[j]) (+ res[j]), lo, hi) for j < n: a 1×1 map whose kernel is cut
  // to its centre, one vector multiply-add per element. b and res may be null.
  void (*scale_shift)(long n, const float* x, const float* w, const float* b, const float* res, float lo, float hi,
                      float* y);
  // The 1×1 convolution's weight gradient (pointwise.h) shares these loops, with pixels in the
  // lanes: acc[(i·ld_acc + j)·lanes + l] += Σ_m Σ_{q ≡ l mod lanes} a[m·a_image + i·P + q]·b[m·b_image
  // + j·P + q] over images m < images, q < P, i < rows, j < cols: each image's planes read in place.
  void (*pixel_dots)(int rows, int cols, int images, long P, const float* a, long a_image, const float* b,
                     long b_image, float* acc, long ld_acc);
  // Depthwise on planes of P = 2 or 4 pixels (depthwise_planes.h), lanes over the NCHW floats as
  // they lie: a vector holds G = lanes/P whole planes, group k the channels [k·G, k·G + G) of an
  // image (fewer in the last group, its lanes past them read and written as 0 / not at all).
  // plane_mix, for images n < images and groups k: dst = clamp(bias[k] + Σ_i wt[k·P + i] ⊙
  // (pixel i of each lane's plane of src) (+ res), lo, hi), each vector of wt and bias `lanes`
  // floats; bias and res (laid out as dst) may be null.
  void (*plane_mix)(int P, long images, int C, const float* src, const float* wt, const float* bias,
                    const float* res, float lo, float hi, float* dst);
  // plane_outer, for groups [k0, k1) over images n < images, in order: acc[(k − k0)·(P + 1) + i] +=
  // dy ⊙ (pixel i of each lane's plane of x) for i < P, and acc[(k − k0)·(P + 1) + P] += dy, each
  // a vector of `lanes` doubles (summed in float over runs of 16 images, the runs in double).
  void (*plane_outer)(int P, long images, int C, int k0, int k1, const float* x, const float* dy, double* acc);
};

extern const DepthwiseLanes depthwise_lanes_portable;
#if defined(CNN_X86)
extern const DepthwiseLanes depthwise_lanes_avx2;
extern const DepthwiseLanes depthwise_lanes_avx512;
#endif

const DepthwiseLanes& depthwise_lanes_for(Isa isa);

}  // namespace cnn
