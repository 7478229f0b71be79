// Bindings for native/loss: cross entropy, NLL and top-k accuracy over (N, C) logits. The four
// loss calls share one parameter object, read once into cnn::CrossEntropyParams.
#include <napi.h>

#include <string>

#include "bindings/registry.h"
#include "loss/loss.h"

namespace {

using namespace cnn_binding;

// An Int32Array of exactly n class indices, each in [0, c) or ignore_index: anything else
// would index out of bounds.
const int32_t* read_targets(const Args& a, Napi::Value v, const std::string& what, int64_t n, int64_t c,
                            int64_t ignore_index) {
  auto arr = a.typed_of<int32_t>(v, what, napi_int32_array, "Int32Array");
  if ((int64_t)arr.ElementLength() != n)
    a.range_error("expected " + what + " to hold " + std::to_string(n) + " class indices but it holds " +
                  std::to_string(arr.ElementLength()));
  const int32_t* t = arr.Data();
  for (int64_t i = 0; i < n; ++i)
    if (t[i] != ignore_index && (t[i] < 0 || t[i] >= c))
      a.range_error("target " + std::to_string(t[i]) + " at index " + std::to_string(i) + " is out of bounds for " +
                    std::to_string(c) + " classes");
  return t;
}

int64_t logit_count(const Args& a, int64_t n, int64_t c) {
  a.check_size({n, c}, "logits");
  return n * c;
}

struct LossCall {
  cnn::CrossEntropyParams p;
  const float* input;  // logits (cross entropy) or log-probabilities (NLL)
};

// {input, n, c, target, weight|null, ignoreIndex, reduction[, labelSmoothing]}: reduction 0 none,
// 1 mean, 2 sum; labelSmoothing only for cross entropy.
LossCall read_loss(const Args& a, bool smoothing) {
  const Fields f = a.object(0, "params");
  LossCall call;
  cnn::CrossEntropyParams& p = call.p;
  p.n = f.integer("n", 0, kMaxIndex);
  p.c = f.integer("c", 1, kMaxIndex);
  call.input = f.floats("input", logit_count(a, p.n, p.c));
  p.weight = f.floats_or_null("weight", p.c);
  p.label_smoothing = smoothing ? f.number("labelSmoothing", 0, 1) : 0.0;
  p.ignore_index = f.integer("ignoreIndex", -2147483648LL, 2147483647LL);
  p.reduction = static_cast<cnn::Reduction>(f.integer("reduction", 0, 2));
  p.target = read_targets(a, f.get("target"), f.what("target"), p.n, p.c, p.ignore_index);
  return call;
}

int64_t out_size(const cnn::CrossEntropyParams& p) { return p.reduction == cnn::Reduction::None ? p.n : 1; }

// (params, out, lse, threads)
Napi::Value CrossEntropyForward(const Args& a) {
  a.expect_count(4);
  const LossCall c = read_loss(a, true);
  float* out = a.floats(1, "out", out_size(c.p));
  float* lse = a.floats(2, "lse", c.p.n);
  cnn::cross_entropy_forward(c.p, c.input, out, lse, a.threads(3));
  return a.undefined();
}

// (params, lse, gradOut, dinput, threads)
Napi::Value CrossEntropyBackward(const Args& a) {
  a.expect_count(5);
  const LossCall c = read_loss(a, true);
  const float* lse = a.floats(1, "lse", c.p.n);
  const float* grad_out = a.floats(2, "gradOut", out_size(c.p));
  float* dinput = a.floats(3, "dinput", c.p.n * c.p.c);
  cnn::cross_entropy_backward(c.p, c.input, lse, grad_out, dinput, a.threads(4));
  return a.undefined();
}

// (params, out)
Napi::Value NllLossForward(const Args& a) {
  a.expect_count(2);
  const LossCall c = read_loss(a, false);
  cnn::nll_loss_forward(c.p, c.input, a.floats(1, "out", out_size(c.p)));
  return a.undefined();
}

// (params, gradOut, dinput)
Napi::Value NllLossBackward(const Args& a) {
  a.expect_count(3);
  const LossCall c = read_loss(a, false);
  const float* grad_out = a.floats(1, "gradOut", out_size(c.p));
  float* dinput = a.floats(2, "dinput", c.p.n * c.p.c);
  cnn::nll_loss_backward(c.p, grad_out, dinput);
  return a.undefined();
}

// (logits, n, c, target, k, threads) → number of rows whose target is in the top k
Napi::Value AccuracyTopK(const Args& a) {
  a.expect_count(6);
  const int64_t n = a.integer(1, "n", 0, kMaxIndex);
  const int64_t c = a.integer(2, "c", 1, kMaxIndex);
  const float* logits = a.floats(0, "logits", logit_count(a, n, c));
  const int32_t* target = read_targets(a, a.info()[3], "target", n, c, -(1LL << 40));
  const int64_t k = a.integer(4, "k", 1, c);
  return Napi::Number::New(a.env(), (double)cnn::accuracy_top_k(logits, n, c, target, k, a.threads(5)));
}

const Registration rows({
    {"crossEntropyForward", CrossEntropyForward},
    {"crossEntropyBackward", CrossEntropyBackward},
    {"nllLossForward", NllLossForward},
    {"nllLossBackward", NllLossBackward},
    {"accuracyTopK", AccuracyTopK},
});

}  // namespace
