// Binding for native/conv/inverted_residual.h: the block's sizes and its depthwise geometry in one
// parameter object, its three layers' folded weights, biases and clamps in one call object.
#include <napi.h>

#include <cmath>
#include <string>

#include "bindings/conv_geometry.h"
#include "bindings/registry.h"
#include "conv/inverted_residual.h"

namespace {

using namespace cnn_binding;

// {n, cIn, hidden, cOut, squeeze?, h, w, kh, kw, strideH, strideW, padT, padB, padL, padR, dilH, dilW}
cnn::InvertedResidualParams read_block(const Args& a, size_t i) {
  const Fields f = a.object(i, "params");
  cnn::InvertedResidualParams p;
  p.n = conv_field(f, "n", 1), p.c_in = conv_field(f, "cIn", 1), p.hidden = conv_field(f, "hidden", 1);
  p.c_out = conv_field(f, "cOut", 1);
  if (f.present("squeeze")) p.squeeze = conv_field(f, "squeeze", 1);
  cnn::Conv2dParams& d = p.dw;
  d.n = p.n, d.c_in = d.c_out = d.groups = p.hidden;
  read_conv_geometry(a, f, d);
  a.check_size({p.n, p.c_in, d.h, d.w}, "block input");
  a.check_size({p.n, p.hidden, d.h, d.w}, "expanded map");
  a.check_size({p.n, p.c_out, d.out_h(), d.out_w()}, "block output");
  a.check_size({p.hidden, p.c_in}, "expand weight");
  a.check_size({p.hidden, d.kh, d.kw}, "depthwise weight");
  a.check_size({p.hidden, p.c_out}, "project weight");
  a.check_size({p.hidden, p.squeeze}, "squeeze-and-excitation weight");
  return p;
}

// A clamp field [lo, hi], or none.
void read_clamp(const Fields& f, const char* name, float* lo, float* hi) {
  if (!f.present(name)) return;
  double r[2];
  f.range(name, -INFINITY, INFINITY, r);
  *lo = (float)r[0], *hi = (float)r[1];
}

// A gate field: absent, or 'silu', 'hardswish', 'hardsigmoid' or 'sigmoid'.
int read_gate(const Fields& f, const char* name) {
  if (!f.present(name)) return cnn::kNoGate;
  const std::string g = f.string(name);
  if (g == "silu") return (int)cnn::Gated::kSilu;
  if (g == "hardswish") return (int)cnn::Gated::kHardswish;
  if (g == "hardsigmoid") return (int)cnn::Gated::kHardsigmoid;
  if (g == "sigmoid") return cnn::kSigmoidGate;
  f.args().range_error(f.what(name) + " must be 'silu', 'hardswish', 'hardsigmoid' or 'sigmoid', not '" + g + "'");
}

// layers: {expandWeight | null, expandBias | null, expandClamp?, expandGate?, dwWeight, dwBias | null,
// dwClamp?, dwGate?, seFc1Weight?, seFc1Bias?, seClamp?, seActGate?, seFc2Weight?, seFc2Bias?,
// seGate?, projectWeight, projectBias | null, packed?}. Without expandWeight, hidden must equal
// cIn; the seFc weights come with params.squeeze (seGate defaults to 'sigmoid').
cnn::InvertedResidualWeights read_layers(const Args& a, size_t i, const cnn::InvertedResidualParams& p) {
  const cnn::Conv2dParams& d = p.dw;
  const Fields l = a.object(i, "layers");
  cnn::InvertedResidualWeights w;
  w.expand_w = l.floats_or_null("expandWeight", (int64_t)p.hidden * p.c_in);
  if (!w.expand_w && p.hidden != p.c_in)
    a.range_error("hidden (" + std::to_string(p.hidden) + ") must equal cIn (" + std::to_string(p.c_in) + ") without expandWeight");
  w.expand_b = l.floats_or_null("expandBias", p.hidden);
  read_clamp(l, "expandClamp", &w.expand_lo, &w.expand_hi);
  w.expand_gate = read_gate(l, "expandGate");
  w.dw_w = l.floats("dwWeight", (int64_t)p.hidden * d.kh * d.kw);
  w.dw_b = l.floats_or_null("dwBias", p.hidden);
  read_clamp(l, "dwClamp", &w.dw_lo, &w.dw_hi);
  w.dw_gate = read_gate(l, "dwGate");
  if (p.squeeze > 0) {
    w.se_fc1_w = l.floats("seFc1Weight", (int64_t)p.squeeze * p.hidden);
    w.se_fc1_b = l.floats_or_null("seFc1Bias", p.squeeze);
    read_clamp(l, "seClamp", &w.se_lo, &w.se_hi);
    w.se_act_gate = read_gate(l, "seActGate");
    w.se_fc2_w = l.floats("seFc2Weight", (int64_t)p.hidden * p.squeeze);
    w.se_fc2_b = l.floats_or_null("seFc2Bias", p.hidden);
    if (l.present("seGate")) w.se_gate = read_gate(l, "seGate");
  } else if (l.present("seFc1Weight") || l.present("seFc2Weight")) {
    a.range_error("squeeze-and-excitation weights need params.squeeze");
  }
  w.project_w = l.floats("projectWeight", (int64_t)p.c_out * p.hidden);
  w.project_b = l.floats_or_null("projectBias", p.c_out);
  // layers.packed: the weights packed by invertedResidualPack (eval's cache).
  w.packed = l.floats_or_null("packed", cnn::inverted_residual_packed_floats(p));
  return w;
}

// (params, layers, x, residual | null, y, threads)
Napi::Value InvertedResidualForward(const Args& a) {
  a.expect_count(6);
  const cnn::InvertedResidualParams p = read_block(a, 0);
  const cnn::Conv2dParams& d = p.dw;
  const cnn::InvertedResidualWeights w = read_layers(a, 1, p);
  const int64_t out = (int64_t)p.n * p.c_out * d.out_h() * d.out_w();
  const float* x = a.floats(2, "x", (int64_t)p.n * p.c_in * d.h * d.w);
  const float* residual = a.floats_or_null(3, "residual", out);
  float* y = a.floats(4, "y", out);
  cnn::inverted_residual_forward(p, w, x, residual, y, a.threads(5));
  return a.undefined();
}

// (params) → the floats invertedResidualPack writes, for the active ISA.
Napi::Value InvertedResidualPackedFloats(const Args& a) {
  a.expect_count(1);
  return Napi::Number::New(a.env(), (double)cnn::inverted_residual_packed_floats(read_block(a, 0)));
}

// (params, layers, packed): the block's weights as its items multiply them, for the active ISA.
Napi::Value InvertedResidualPack(const Args& a) {
  a.expect_count(3);
  const cnn::InvertedResidualParams p = read_block(a, 0);
  const cnn::InvertedResidualWeights w = read_layers(a, 1, p);
  cnn::inverted_residual_pack(p, w, a.floats(2, "packed", cnn::inverted_residual_packed_floats(p)));
  return a.undefined();
}

const Registration rows({{"invertedResidualForward", InvertedResidualForward},
                         {"invertedResidualPackedFloats", InvertedResidualPackedFloats},
                         {"invertedResidualPack", InvertedResidualPack}});

}  // namespace
