// The inverted residual block in eval mode, as one call: expand 1×1 (+ folded BN, activation) →
// depthwise (+ folded BN, activation) (→ squeeze-and-excitation) → project 1×1 (+ folded BN)
// (+ the block's input). MobileNetV2's (ReLU6), MobileNetV3's (ReLU or Hardswish, SE gated by
// Hardsigmoid) and EfficientNet's MBConv (SiLU, SE gated by Sigmoid).
// The expanded channels never leave the core that made them: each thread takes a run of whole
// images (or one image's band of output rows on large maps), expands them into channel-last
// pixels with one GEMM, runs the depthwise taps over those pixels (depthwise_pixels.h) and
// projects them back to NCHW with a second GEMM, all in cache, instead of writing the expanded
// tensor out and transposing it in and out of the depthwise kernel's layout per layer. A block
// without expansion at stride 1 stays on NCHW planes instead (bands of rows: depthwise along the
// rows, then the projection from the band's planes in cache).
#pragma once
#include "activation/gated.h"
#include "conv/conv.h"

namespace cnn {

// After a layer's clamp, where not kNoGate: a gated activation (gated.h: SiLU, Hardswish,
// Hardsigmoid) or, kSigmoidGate, the logistic sigmoid.
constexpr int kNoGate = -1, kSigmoidGate = kGatedKinds;

struct InvertedResidualParams {
  int n, c_in, hidden, c_out;
  // Channels of the squeeze-and-excitation's squeeze, or 0: none.
  int squeeze = 0;
  // The depthwise convolution over the expanded map (n, hidden channels, the block's h × w; its
  // c_in, c_out and groups are `hidden`). Without expansion hidden == c_in.
  Conv2dParams dw;
};

struct InvertedResidualWeights {
  const float* expand_w = nullptr;  // hidden × c_in, or null: no expansion
  const float* expand_b = nullptr;  // hidden, or null
  float expand_lo = -INFINITY, expand_hi = INFINITY;
  int expand_gate = kNoGate;
  const float* dw_w = nullptr;  // hidden × kh × kw
  const float* dw_b = nullptr;  // hidden, or null
  float dw_lo = -INFINITY, dw_hi = INFINITY;
  int dw_gate = kNoGate;
  // Squeeze-and-excitation (squeeze > 0): the depthwise output scaled per channel by
  // se_gate(fc2(act(fc1(its mean over each image's pixels)))), act the clamp then se_act_gate.
  const float* se_fc1_w = nullptr;  // squeeze × hidden
  const float* se_fc1_b = nullptr;  // squeeze, or null
  float se_lo = -INFINITY, se_hi = INFINITY;
  int se_act_gate = kNoGate;
  const float* se_fc2_w = nullptr;  // hidden × squeeze
  const float* se_fc2_b = nullptr;  // hidden, or null
  int se_gate = kSigmoidGate;
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
