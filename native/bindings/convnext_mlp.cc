// Binding for native/conv/convnext_mlp.h: the block's sizes in one parameter object, its
// LayerNorm, two Linear layers and layer scale in one call object.
#include <napi.h>

#include "bindings/conv_geometry.h"
#include "bindings/registry.h"
#include "conv/convnext_mlp.h"

namespace {

using namespace cnn_binding;

// {n, c, hidden, pixels, eps}
cnn::ConvnextMlpParams read_params(const Args& a, size_t i) {
  const Fields f = a.object(i, "params");
  cnn::ConvnextMlpParams p;
  p.n = conv_field(f, "n", 1), p.c = conv_field(f, "c", 1), p.hidden = conv_field(f, "hidden", 1);
  p.pixels = f.integer("pixels", 1, kMaxIndex);
  p.eps = (float)f.number("eps", 0.0, 1e30);
  a.check_size({p.n, p.c, p.pixels}, "block input");
  a.check_size({p.n, p.hidden, p.pixels}, "hidden map");
  a.check_size({p.hidden, p.c}, "Linear weight");
  return p;
}

// {lnWeight?, lnBias?, fc1Weight, fc1Bias?, fc2Weight, fc2Bias?, scale?, packed?}
cnn::ConvnextMlpWeights read_layers(const Args& a, size_t i, const cnn::ConvnextMlpParams& p) {
  const Fields l = a.object(i, "layers");
  cnn::ConvnextMlpWeights w;
  w.ln_w = l.floats_or_null("lnWeight", p.c), w.ln_b = l.floats_or_null("lnBias", p.c);
  w.fc1_w = l.floats("fc1Weight", (int64_t)p.hidden * p.c), w.fc1_b = l.floats_or_null("fc1Bias", p.hidden);
  w.fc2_w = l.floats("fc2Weight", (int64_t)p.c * p.hidden), w.fc2_b = l.floats_or_null("fc2Bias", p.c);
  w.scale = l.floats_or_null("scale", p.c);
  // layers.packed: the weights folded and packed by convnextMlpPack (eval's cache).
  w.packed = l.floats_or_null("packed", cnn::convnext_mlp_packed_floats(p));
  return w;
}

// (params, layers, d, x, y, threads): y = x + γ ⊙ mlp(d)
Napi::Value ConvnextMlpForward(const Args& a) {
  a.expect_count(6);
  const cnn::ConvnextMlpParams p = read_params(a, 0);
  const cnn::ConvnextMlpWeights w = read_layers(a, 1, p);
  const int64_t size = (int64_t)p.n * p.c * p.pixels;
  const float* d = a.floats(2, "d", size);
  const float* x = a.floats(3, "x", size);
  float* y = a.floats(4, "y", size);
  cnn::convnext_mlp_forward(p, w, d, x, y, a.threads(5));
  return a.undefined();
}

// (params) → the floats convnextMlpPack writes, for the active ISA.
Napi::Value ConvnextMlpPackedFloats(const Args& a) {
  a.expect_count(1);
  return Napi::Number::New(a.env(), (double)cnn::convnext_mlp_packed_floats(read_params(a, 0)));
}

// (params, layers, packed): the weights folded and packed, for the active ISA.
Napi::Value ConvnextMlpPack(const Args& a) {
  a.expect_count(3);
  const cnn::ConvnextMlpParams p = read_params(a, 0);
  const cnn::ConvnextMlpWeights w = read_layers(a, 1, p);
  cnn::convnext_mlp_pack(p, w, a.floats(2, "packed", cnn::convnext_mlp_packed_floats(p)));
  return a.undefined();
}

const Registration rows({{"convnextMlpForward", ConvnextMlpForward},
                         {"convnextMlpPackedFloats", ConvnextMlpPackedFloats},
                         {"convnextMlpPack", ConvnextMlpPack}});

}  // namespace
