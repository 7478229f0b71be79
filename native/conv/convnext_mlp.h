// ConvNeXt's block after its depthwise convolution, in eval mode, as one call:
//   y = x + γ ⊙ (W2 · GELU(W1 · LayerNorm_C(d) + b1) + b2)   for every pixel,
// d (the depthwise output), x (the block's input) and y NCHW. Layer by layer the channels go
// channel-last (a permute), through LayerNorm, the first Linear, GELU and the second Linear as
// whole tensors four times the input's size, back to NCHW (a permute), then through the layer
// scale and the residual add: seven passes over memory. Here each thread takes a run of whole
// images (or one image's band of pixels on large maps): turns its pixels channel-last, normalizes
// them, multiplies them by W1 with GELU over the product in cache, and multiplies W2 by that into
// NCHW rows, adding the bias and the residual as it stores; where the two weights outgrow the
// cache (the last two stages), the batch goes whole through threaded products instead, which read
// each weight once. LayerNorm's affine and the layer scale are folded into the weights when they
// are packed (convnext_mlp_pack), laid out for the path the block's sizes choose.
#pragma once

namespace cnn {

struct ConvnextMlpParams {
  int n, c, hidden;  // channels in and out, and W1's outputs (4·c in ConvNeXt)
  long pixels;       // per image (H·W)
  float eps;         // LayerNorm's
};

struct ConvnextMlpWeights {
  const float* ln_w = nullptr;  // c, or null (1)
  const float* ln_b = nullptr;  // c, or null (0)
  const float* fc1_w;           // hidden × c
  const float* fc1_b = nullptr;  // hidden, or null
  const float* fc2_w;           // c × hidden
  const float* fc2_b = nullptr;  // c, or null
  const float* scale = nullptr;  // γ: c, or null (1)
  // The weights folded and packed by convnext_mlp_pack (eval's cache), or null to make them per
  // call; packed for another ISA or copied to another alignment (its packed_tag), ignored.
  const float* packed = nullptr;
};

// Floats of the folded, packed weights for the active ISA, and the packing.
long convnext_mlp_packed_floats(const ConvnextMlpParams& p);
void convnext_mlp_pack(const ConvnextMlpParams& p, const ConvnextMlpWeights& w, float* out);

// y = x + γ ⊙ mlp(d), all n × c × pixels.
void convnext_mlp_forward(const ConvnextMlpParams& p, const ConvnextMlpWeights& w, const float* d, const float* x, float* y,
                          int threads);

}  // namespace cnn
