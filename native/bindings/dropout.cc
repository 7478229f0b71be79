// Bindings for native/dropout: counter-based masks and their application.
#include <napi.h>

#include <string>

#include "bindings/registry.h"
#include "dropout/dropout.h"

namespace {

using namespace cnn_binding;

// (seed, p, mask, threads): mask[i] = 1/(1-p) with probability 1-p, else 0.
Napi::Value DropoutMask(const Args& a) {
  a.expect_count(4);
  const uint32_t seed = (uint32_t)a.integer(0, "seed", 0, 0xffffffffLL);
  const double p = a.number(1, "p");
  if (!(p >= 0 && p <= 1)) a.range_error("dropout probability has to be between 0 and 1, but got " + std::to_string(p));
  const int64_t n = a.length(2, "mask");
  float* mask = a.floats(2, "mask", n);
  const float scale = p < 1 ? 1.0f / (float)(1.0 - p) : 0.0f;
  cnn::dropout_mask(seed, 1.0 - p, scale, mask, n, a.threads(3));
  return a.undefined();
}

// (x, mask, group, y, threads): y[i] = x[i]·mask[i / group]
Napi::Value DropoutApply(const Args& a) {
  a.expect_count(5);
  const int64_t m = a.length(1, "mask");
  const float* mask = a.floats(1, "mask", m);
  const int64_t group = a.integer(2, "group", 1, kMaxIndex);
  a.check_size({m, group}, "x");
  const float* x = a.floats(0, "x", m * group);
  float* y = a.floats(3, "y", m * group);
  cnn::dropout_apply(x, mask, group, y, m * group, a.threads(4));
  return a.undefined();
}

const Registration rows({
    {"dropoutMask", DropoutMask},
    {"dropoutApply", DropoutApply},
});

}  // namespace
