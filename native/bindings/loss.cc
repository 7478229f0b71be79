// Bindings for native/loss: cross entropy, NLL and top-k accuracy over (N, C) logits.
#include <napi.h>

#include <string>

#include "bindings/args.h"
#include "loss/loss.h"

namespace {

using namespace cnn_binding;

// An Int32Array of exactly n class indices.
const int32_t* read_targets(const Args& a, const Napi::CallbackInfo& info, size_t i, int64_t n) {
  Napi::Value v = info[i];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
    a.type_error("expected an Int32Array for target");
  auto arr = v.As<Napi::Int32Array>();
  if ((int64_t)arr.ElementLength() != n)
    a.range_error("expected target to hold " + std::to_string(n) + " class indices but it holds " +
                  std::to_string(arr.ElementLength()));
  return arr.Data();
}

// Every target is a class index or ignore_index; anything else would index out of bounds.
void check_targets(const Args& a, const int32_t* t, int64_t n, int64_t c, int64_t ignore_index) {
  for (int64_t i = 0; i < n; ++i)
    if (t[i] != ignore_index && (t[i] < 0 || t[i] >= c))
      a.range_error("target " + std::to_string(t[i]) + " at index " + std::to_string(i) +
                    " is out of bounds for " + std::to_string(c) + " classes");
}

// Common prefix: (logits, n, c, target, weight|null, labelSmoothing, ignoreIndex, reduction)
cnn::CrossEntropyParams read_params(const Args& a, const Napi::CallbackInfo& info, const float** logits) {
  cnn::CrossEntropyParams p;
  p.n = a.integer(1, "n", 0, kMaxIndex);
  p.c = a.integer(2, "c", 1, kMaxIndex);
  if (p.n * p.c > (1LL << 36)) a.range_error("logits are too large");
  *logits = a.floats(0, "logits", p.n * p.c);
  p.target = read_targets(a, info, 3, p.n);
  p.weight = a.floats_or_null(4, "weight", p.c);
  p.label_smoothing = a.number(5, "labelSmoothing");
  if (!(p.label_smoothing >= 0 && p.label_smoothing <= 1))
    a.range_error("labelSmoothing must be between 0 and 1");
  p.ignore_index = a.integer(6, "ignoreIndex", -2147483648LL, 2147483647LL);
  p.reduction = static_cast<cnn::Reduction>(a.integer(7, "reduction", 0, 2));
  check_targets(a, p.target, p.n, p.c, p.ignore_index);
  return p;
}

int64_t out_size(const cnn::CrossEntropyParams& p) { return p.reduction == cnn::Reduction::None ? p.n : 1; }

// (...prefix, out, lse, threads)
Napi::Value CrossEntropyForward(const Napi::CallbackInfo& info) {
  Args a(info, "crossEntropyForward");
  a.expect_count(11);
  const float* logits;
  cnn::CrossEntropyParams p = read_params(a, info, &logits);
  float* out = a.floats(8, "out", out_size(p));
  float* lse = a.floats(9, "lse", p.n);
  cnn::cross_entropy_forward(p, logits, out, lse, a.threads(10));
  return info.Env().Undefined();
}

// (...prefix, lse, gradOut, dlogits, threads)
Napi::Value CrossEntropyBackward(const Napi::CallbackInfo& info) {
  Args a(info, "crossEntropyBackward");
  a.expect_count(12);
  const float* logits;
  cnn::CrossEntropyParams p = read_params(a, info, &logits);
  const float* lse = a.floats(8, "lse", p.n);
  const float* grad_out = a.floats(9, "gradOut", out_size(p));
  float* dlogits = a.floats(10, "dlogits", p.n * p.c);
  cnn::cross_entropy_backward(p, logits, lse, grad_out, dlogits, a.threads(11));
  return info.Env().Undefined();
}

// (...prefix with logp for logits and labelSmoothing 0, out)
Napi::Value NllLossForward(const Napi::CallbackInfo& info) {
  Args a(info, "nllLossForward");
  a.expect_count(9);
  const float* logp;
  cnn::CrossEntropyParams p = read_params(a, info, &logp);
  float* out = a.floats(8, "out", out_size(p));
  cnn::nll_loss_forward(p, logp, out);
  return info.Env().Undefined();
}

// (...prefix, gradOut, dlogp)
Napi::Value NllLossBackward(const Napi::CallbackInfo& info) {
  Args a(info, "nllLossBackward");
  a.expect_count(10);
  const float* logp;
  cnn::CrossEntropyParams p = read_params(a, info, &logp);
  const float* grad_out = a.floats(8, "gradOut", out_size(p));
  float* dlogp = a.floats(9, "dlogp", p.n * p.c);
  cnn::nll_loss_backward(p, grad_out, dlogp);
  return info.Env().Undefined();
}

// (logits, n, c, target, k, threads) → number of rows whose target is in the top k
Napi::Value AccuracyTopK(const Napi::CallbackInfo& info) {
  Args a(info, "accuracyTopK");
  a.expect_count(6);
  const int64_t n = a.integer(1, "n", 0, kMaxIndex);
  const int64_t c = a.integer(2, "c", 1, kMaxIndex);
  if (n * c > (1LL << 36)) a.range_error("logits are too large");
  const float* logits = a.floats(0, "logits", n * c);
  const int32_t* target = read_targets(a, info, 3, n);
  check_targets(a, target, n, c, -(1LL << 40));
  const int64_t k = a.integer(4, "k", 1, c);
  const int64_t correct = cnn::accuracy_top_k(logits, n, c, target, k, a.threads(5));
  return Napi::Number::New(info.Env(), (double)correct);
}

}  // namespace

void register_loss_bindings(Napi::Env env, Napi::Object exports) {
  exports.Set("crossEntropyForward", Napi::Function::New(env, CrossEntropyForward));
  exports.Set("crossEntropyBackward", Napi::Function::New(env, CrossEntropyBackward));
  exports.Set("nllLossForward", Napi::Function::New(env, NllLossForward));
  exports.Set("nllLossBackward", Napi::Function::New(env, NllLossBackward));
  exports.Set("accuracyTopK", Napi::Function::New(env, AccuracyTopK));
}
