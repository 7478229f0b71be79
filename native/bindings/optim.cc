// Bindings for native/optim: fused SGD and Adam/AdamW steps over one parameter tensor.
#include <napi.h>

#include <cmath>
#include <string>

#include "bindings/registry.h"
#include "optim/optim.h"

namespace {

using namespace cnn_binding;

// Hyper-parameters may be any number but NaN (PyTorch checks their ranges in the optimizer).
double hyper(const Fields& o, const char* name) { return o.number(name, -kInf, kInf); }

// The leading (param, grad) of a step, of one length n.
struct ParamGrad {
  int64_t n;
  float* param;
  const float* grad;
};

ParamGrad read_param_grad(const Args& a) {
  const Pointwise b = a.pointwise(0, {"param", "grad"});
  return {b.n, b.at[0], b.at[1]};
}

// (param, grad, momentumBuffer|null, {lr, momentum, dampening, weightDecay, nesterov, maximize, newBuffer}, threads)
Napi::Value SgdStep(const Args& a) {
  a.expect_count(5);
  const auto [n, param, grad] = read_param_grad(a);
  const Fields opt = a.object(3, "options");
  cnn::SgdOptions o;
  o.lr = (float)hyper(opt, "lr");
  o.momentum = (float)hyper(opt, "momentum");
  o.dampening = (float)hyper(opt, "dampening");
  o.weight_decay = (float)hyper(opt, "weightDecay");
  o.nesterov = opt.boolean("nesterov");
  o.maximize = opt.boolean("maximize");
  o.new_buffer = opt.boolean("newBuffer");
  float* buf = a.floats_or_null(2, "momentumBuffer", n);
  if ((buf == nullptr) != (o.momentum == 0.0f))
    a.type_error(o.momentum == 0.0f ? "a momentum buffer needs a non-zero momentum"
                                    : "a non-zero momentum needs a momentum buffer");
  cnn::sgd_step(param, grad, buf, n, o, a.threads(4));
  return a.undefined();
}

// (param, grad, state {expAvg, expAvgSq, maxExpAvgSq|null},
//  options {lr, beta1, beta2, eps, weightDecay, step, amsgrad, decoupled, maximize}, threads)
Napi::Value AdamStep(const Args& a) {
  a.expect_count(5);
  const auto [n, param, grad] = read_param_grad(a);
  const Fields state = a.object(2, "state");
  float* m = state.floats("expAvg", n);
  float* v = state.floats("expAvgSq", n);
  float* vmax = state.floats_or_null("maxExpAvgSq", n);
  const Fields opt = a.object(3, "options");
  cnn::AdamOptions o;
  o.lr = hyper(opt, "lr");
  o.beta1 = hyper(opt, "beta1");
  o.beta2 = hyper(opt, "beta2");
  o.eps = hyper(opt, "eps");
  o.weight_decay = hyper(opt, "weightDecay");
  const double step = opt.number("step", 1, 9007199254740991.0);
  if (step != std::floor(step)) a.range_error("options.step must be a positive integer but is " + std::to_string(step));
  o.step = (int64_t)step;
  o.amsgrad = opt.boolean("amsgrad");
  o.decoupled = opt.boolean("decoupled");
  o.maximize = opt.boolean("maximize");
  if ((vmax != nullptr) != o.amsgrad)
    a.type_error(o.amsgrad ? "amsgrad needs maxExpAvgSq" : "maxExpAvgSq is only used with amsgrad");
  cnn::adam_step(param, grad, m, v, vmax, n, o, a.threads(4));
  return a.undefined();
}

const Registration rows({
    {"sgdStep", SgdStep},
    {"adamStep", AdamStep},
});

}  // namespace
