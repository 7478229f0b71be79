// Bindings for native/dropout: counter-based masks and their application.
#include <napi.h>

#include <cmath>

#include "bindings/args.h"
#include "dropout/dropout.h"

namespace {

using namespace cnn_binding;

// (seed, p, mask, threads): mask[i] = 1/(1-p) with probability 1-p, else 0.
Napi::Value DropoutMask(const Napi::CallbackInfo& info) {
  Args a(info, "dropoutMask");
  a.expect_count(4);
  const uint32_t seed = (uint32_t)a.integer(0, "seed", 0, 0xffffffffLL);
  Napi::Value pv = info[1];
  if (!pv.IsNumber()) a.type_error("expected a number for p");
  const double p = pv.As<Napi::Number>().DoubleValue();
  if (!(p >= 0 && p <= 1)) a.range_error("dropout probability has to be between 0 and 1, but got " + std::to_string(p));
  a.floats(2, "mask", 0, false);
  const int64_t n = (int64_t)info[2].As<Napi::Float32Array>().ElementLength();
  float* mask = a.floats(2, "mask", n);
  const float scale = p < 1 ? 1.0f / (float)(1.0 - p) : 0.0f;
  cnn::dropout_mask(seed, 1.0 - p, scale, mask, n, a.threads(3));
  return info.Env().Undefined();
}

// (x, mask, group, y, threads): y[i] = x[i]·mask[i / group]
Napi::Value DropoutApply(const Napi::CallbackInfo& info) {
  Args a(info, "dropoutApply");
  a.expect_count(5);
  a.floats(1, "mask", 0, false);
  const int64_t m = (int64_t)info[1].As<Napi::Float32Array>().ElementLength();
  const float* mask = a.floats(1, "mask", m);
  const int64_t group = a.integer(2, "group", 1, kMaxIndex);
  const float* x = a.floats(0, "x", m * group);
  float* y = a.floats(3, "y", m * group);
  cnn::dropout_apply(x, mask, group, y, m * group, a.threads(4));
  return info.Env().Undefined();
}

}  // namespace

void register_dropout_bindings(Napi::Env env, Napi::Object exports) {
  exports.Set("dropoutMask", Napi::Function::New(env, DropoutMask));
  exports.Set("dropoutApply", Napi::Function::New(env, DropoutApply));
}
