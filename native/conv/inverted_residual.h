// MobileNetV2's inverted residual block in eval mode, as one call: expand 1×1 (+ folded BN,
// clamp) → depthwise (+ folded BN, clamp) → project 1×1 (+ folded BN) (+ the block's input).
// The expanded channels never leave the core that made them: each thread takes a run of whole
// images (or one image's band of output rows on large maps), expands them into channel-last
// pixels with one GEMM, runs the depthwise taps over those pixels (depthwise_pixels.h) and
// projects them back to NCHW with a second GEMM, all in cache, instead of writing the expanded
// tensor out and transposing it in and out of the depthwise kernel's layout per layer. A block
// without expansion at stride 1 stays on NCHW planes instead (bands of rows: depthwise along the
// rows, then the projection from the band's planes in cache).
#pragma once
#include "conv/conv.h"

namespace cnn {

struct InvertedResidualParams {
  int n, c_in, hidden, c_out;
  // The depthwise convolution over the expanded map (n, hidden channels, the block's h × w; its
  // c_in, c_out and groups are `hidden`). Without expansion hidden == c_in.
  Conv2dParams dw;
};

struct InvertedResidualWeights {
  const float* expand_w = nullptr;  // hidden × c_in, or null: no expansion
  const float* expand_b = nullptr;  // hidden, or null
  float expand_lo = -INFINITY, expand_hi = INFINITY;
  const float* dw_w = nullptr;  // hidden × kh × kw
  const float* dw_b = nullptr;  // hidden, or null
  float dw_lo = -INFINITY, dw_hi = INFINITY;
  const float* project_w = nullptr;  // c_out × hidden
  const float* project_b = nullptr;  // c_out, or null
  // The three weights as every item multiplies them (inverted_residual_pack: eval's cache), or
  // null to make them per call; packed for another ISA, or copied to another alignment (its
  // packed_tag), ignored.
  const float* packed = nullptr;
};

// Floats of the packed weights for the active ISA (whether or not the block expands), and the
// packing. Making them per call ran on one thread while the other waited: 5% of mobilenet_v2's eval.
long inverted_residual_packed_floats(const InvertedResidualParams& p);
void inverted_residual_pack(const InvertedResidualParams& p, const InvertedResidualWeights& w, float* out);

// y (n × c_out × OH × OW) = project(dw(expand(x))) (+ residual, laid out as y); x is n × c_in × h × w.
// Where a convolution path is pinned (set_conv_algo), the layers run one by one through it.
void inverted_residual_forward(const InvertedResidualParams& p, const InvertedResidualWeights& w, const float* x,
                               const float* residual, float* y, int threads);

// The same, layer by layer through conv2d_forward (the unfused path, for the tests).
void inverted_residual_unfused(const InvertedResidualParams& p, const InvertedResidualWeights& w, const float* x,
                               const float* residual, float* y, int threads);

}  // namespace cnn
