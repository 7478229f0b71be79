// Bindings for native/conv/dense_layer.h: DenseNet's eval layer on tiny maps in one call.
#include <napi.h>

#include <cmath>
#include <string>

#include "bindings/chain_layers.h"
#include "bindings/registry.h"
#include "conv/dense_layer.h"

namespace {

using namespace cnn_binding;

// ({n, channels, total, pixels, scale, shift, inputClamp: [lo, hi], layers: [conv1, conv2]}, features,
// threads): channels [channels, channels + G) of each of the n images in features (n × total × pixels)
// from its first `channels` (dense_layer_small_forward). conv1 and conv2 are linearChainForward's
// layers: conv1 channels → mid on each pixel, conv2 pixels·mid → G·pixels on each image.
Napi::Value DenseLayerSmallForward(const Args& a) {
  a.expect_count(3);
  const Fields f = a.object(0, "params");
  cnn::DenseLayerSmall d;
  d.n = (int)f.integer("n", 0, kMaxIndex);
  d.channels = (int)f.integer("channels", 1, kMaxIndex);
  d.total = (int)f.integer("total", 1, kMaxIndex);
  d.pixels = (int)f.integer("pixels", 1, kMaxIndex);
  a.check_size({d.n, d.total, d.pixels}, "features size");
  d.scale = f.floats("scale", d.channels);
  d.shift = f.floats("shift", d.channels);
  double clamp[2];
  f.range("inputClamp", -INFINITY, INFINITY, clamp);
  d.lo = (float)clamp[0], d.hi = (float)clamp[1];
  const Napi::Value lv = f.get("layers");
  if (!lv.IsArray() || lv.As<Napi::Array>().Length() != 2) a.type_error("expected " + f.what("layers") + " to be an array of two layer objects");
  const Napi::Array layers = lv.As<Napi::Array>();
  d.conv1 = read_chain_layer(a, layers.Get(0u), 0, d.channels);
  a.check_size({d.pixels, d.conv1.out}, "conv2 input size");
  d.conv2 = read_chain_layer(a, layers.Get(1u), 1, d.pixels * d.conv1.out);
  if (!cnn::dense_layer_small_fits(d))
    a.range_error(f.what("layers") + "[1].outFeatures (" + std::to_string(d.conv2.out) + ") must be a multiple of " + f.what("pixels") +
                  " whose channels fit after the first " + std::to_string(d.channels) + " of " + std::to_string(d.total));
  float* features = a.floats(1, "features", (int64_t)d.n * d.total * d.pixels);
  cnn::dense_layer_small_forward(cnn::active_isa(), d, features, a.threads(2));
  return a.undefined();
}

const Registration rows({
    {"denseLayerSmallForward", DenseLayerSmallForward},
});

}  // namespace
