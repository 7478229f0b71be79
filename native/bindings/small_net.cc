// Bindings for native/conv/small_net.h: a small network's eval forward pass in one call.
#include <napi.h>

#include <cmath>
#include <string>
#include <vector>

#include "bindings/chain_layers.h"
#include "bindings/conv_geometry.h"
#include "bindings/registry.h"
#include "conv/small_net.h"

namespace {

using namespace cnn_binding;

// params.convs[k]: a convolution's parameters (as conv2dForward's) with its weight, bias (or
// null), clamp [lo, hi] and whether a 2×2 max pool follows.
cnn::SmallNetConv read_net_conv(const Args& a, Napi::Value v, uint32_t k) {
  const Fields f(a, v, "params.convs[" + std::to_string(k) + "]");
  cnn::SmallNetConv c;
  c.p = read_conv_params(a, f);
  c.w = f.floats("weight", (int64_t)c.p.c_out * (c.p.c_in / c.p.groups) * c.p.kh * c.p.kw);
  c.b = f.floats_or_null("bias", c.p.c_out);
  double clamp[2];
  f.range("clamp", -INFINITY, INFINITY, clamp);
  c.lo = (float)clamp[0], c.hi = (float)clamp[1];
  c.pooled = f.boolean("pooled");
  return c;
}

// ({convs: [...], layers: [...linearChainForward's layers]}, x, y, threads) → whether it ran: y
// (n × the last layer's outFeatures) from x (n × the first convolution's input), each
// convolution's output the next one's input and the last one's, flattened, the first layer's;
// false, y untouched, where a convolution would not take the direct path or the shapes do not
// follow on (then the caller runs the layers one by one).
Napi::Value SmallNetForward(const Args& a) {
  a.expect_count(4);
  const Fields f = a.object(0, "params");
  const Napi::Value cv = f.get("convs");
  if (!cv.IsArray()) a.type_error("expected an array of convolution objects for params.convs");
  const Napi::Array arr = cv.As<Napi::Array>();
  if (arr.Length() < 1 || arr.Length() > 16) a.range_error("params.convs must hold 1 to 16 convolutions");
  // The layers first: reading them packs fresh weights, which the caller's cache then holds
  // as packed even if a convolution's fields are refused.
  const std::vector<cnn::ChainLayer> layers = read_chain_layers(a, f);
  std::vector<cnn::SmallNetConv> convs;
  for (uint32_t k = 0; k < arr.Length(); ++k) convs.push_back(read_net_conv(a, arr.Get(k), k));
  const cnn::Conv2dParams& p = convs.front().p;
  const float* x = a.floats(1, "x", (int64_t)p.n * p.c_in * p.h * p.w);
  a.check_size({p.n, layers.back().out}, "y size");
  float* y = a.floats(2, "y", (int64_t)p.n * layers.back().out);
  const bool ran = cnn::small_net_forward(cnn::active_isa(), p.n, x, convs.data(), (int)convs.size(), layers.data(),
                                          (int)layers.size(), y, a.threads(3));
  return Napi::Boolean::New(a.env(), ran);
}

const Registration rows({
    {"smallNetForward", SmallNetForward},
});

}  // namespace
