// Bindings for native/conv/small_net.h: a small network's eval forward pass in one call.
#include <napi.h>

#include <cmath>
#include <memory>
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

// A parameter object's fields as read at its first call, kept on the object (napi_wrap): LeNet's
// ~70 fields cost 11 us to read, 4% of an eval batch of 64 at 1 thread and more at 2. Later calls
// with the same object read only each layer's `fresh`. Its typed arrays are held by reference, so
// a field replaced after the first call is not seen (small-network.ts builds a new object whenever
// anything it holds changes) but never leaves a pointer into freed memory.
struct ParsedNet {
  std::vector<cnn::SmallNetConv> convs;
  std::vector<cnn::ChainLayer> layers;
  std::vector<ChainLayerSource> sources;
  std::vector<Napi::Reference<Napi::Value>> held;
};

void hold(ParsedNet* net, Napi::Value owner, const char* field) {
  const Napi::Value v = owner.As<Napi::Object>().Get(field);
  if (v.IsTypedArray()) net->held.push_back(Napi::Persistent(v));
}

// Reads and checks params' fields, packing the layers' weights where fresh.
ParsedNet* parse(const Args& a, const Fields& f) {
  const Napi::Value cv = f.get("convs");
  if (!cv.IsArray()) a.type_error("expected an array of convolution objects for params.convs");
  const Napi::Array arr = cv.As<Napi::Array>();
  if (arr.Length() < 1 || arr.Length() > 16) a.range_error("params.convs must hold 1 to 16 convolutions");
  auto net = std::make_unique<ParsedNet>();
  // The layers first: reading them packs fresh weights, which the caller's cache then holds
  // as packed even if a convolution's fields are refused.
  net->layers = read_chain_layers(a, f, &net->sources);
  for (uint32_t k = 0; k < arr.Length(); ++k) net->convs.push_back(read_net_conv(a, arr.Get(k), k));
  for (uint32_t k = 0; k < arr.Length(); ++k) hold(net.get(), arr.Get(k), "weight"), hold(net.get(), arr.Get(k), "bias");
  const Napi::Array layers = f.get("layers").As<Napi::Array>();
  for (uint32_t l = 0; l < layers.Length(); ++l)
    for (const char* field : {"weight", "bias", "packed"}) hold(net.get(), layers.Get(l), field);
  return net.release();
}

// ({convs: [...], layers: [...linearChainForward's layers]}, x, y, threads) → whether it ran: y
// (n × the last layer's outFeatures) from x (n × the first convolution's input), each
// convolution's output the next one's input and the last one's, flattened, the first layer's;
// false, y untouched, where a convolution would not take the direct path or the shapes do not
// follow on (then the caller runs the layers one by one). params' fields are read at its first
// call; later calls read only each layer's `fresh` (ParsedNet).
Napi::Value SmallNetForward(const Args& a) {
  a.expect_count(4);
  const Fields f = a.object(0, "params");
  const napi_env env = a.env();
  const napi_value obj = a.info()[0];
  ParsedNet* net = nullptr;
  std::unique_ptr<ParsedNet> unkept;  // where the object cannot hold it (a Proxy): this call's only
  if (napi_unwrap(env, obj, reinterpret_cast<void**>(&net)) != napi_ok || !net) {
    net = parse(a, f);
    if (napi_wrap(env, obj, net, [](napi_env, void* data, void*) { delete static_cast<ParsedNet*>(data); }, nullptr, nullptr) != napi_ok)
      unkept.reset(net);
  } else {
    const Napi::Value lv = f.get("layers");
    if (!lv.IsArray() || lv.As<Napi::Array>().Length() != net->layers.size())
      a.range_error("params.layers changed after the first call with these params");
    const Napi::Array arr = lv.As<Napi::Array>();
    for (uint32_t l = 0; l < arr.Length(); ++l)
      pack_chain_layer(net->layers[l], net->sources[l], Fields(a, arr.Get(l), "params.layers[" + std::to_string(l) + "]").boolean("fresh"));
  }
  const cnn::Conv2dParams& p = net->convs.front().p;
  const float* x = a.floats(1, "x", (int64_t)p.n * p.c_in * p.h * p.w);
  a.check_size({p.n, net->layers.back().out}, "y size");
  float* y = a.floats(2, "y", (int64_t)p.n * net->layers.back().out);
  const bool ran = cnn::small_net_forward(cnn::active_isa(), p.n, x, net->convs.data(), (int)net->convs.size(), net->layers.data(),
                                          (int)net->layers.size(), y, a.threads(3));
  return Napi::Boolean::New(a.env(), ran);
}

const Registration rows({
    {"smallNetForward", SmallNetForward},
});

}  // namespace
