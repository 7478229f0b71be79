// Bindings for native/optim: fused SGD and Adam/AdamW steps over one parameter tensor.
#include <napi.h>

#include <cmath>
#include <string>

#include "bindings/args.h"
#include "optim/optim.h"

namespace {

using namespace cnn_binding;

// Reads the named properties of an options object, throwing TypeError on a missing or mistyped one.
class Options {
 public:
  Options(const Args& a, const Napi::CallbackInfo& info, size_t i) : a_(a) {
    Napi::Value v = info[i];
    if (!v.IsObject() || v.IsArray() || v.IsTypedArray()) a.type_error("expected an options object");
    obj_ = v.As<Napi::Object>();
  }
  double number(const char* key) const {
    Napi::Value v = obj_.Get(key);
    if (!v.IsNumber()) a_.type_error(std::string("expected a number for options.") + key);
    double d = v.As<Napi::Number>().DoubleValue();
    if (std::isnan(d)) a_.range_error(std::string("options.") + key + " is NaN");
    return d;
  }
  bool boolean(const char* key) const {
    Napi::Value v = obj_.Get(key);
    if (!v.IsBoolean()) a_.type_error(std::string("expected a boolean for options.") + key);
    return v.As<Napi::Boolean>().Value();
  }

 private:
  const Args& a_;
  Napi::Object obj_;
};

int64_t length_of(const Args& a, const Napi::CallbackInfo& info, size_t i, const char* name) {
  a.floats(i, name, 0, false);
  return (int64_t)info[i].As<Napi::Float32Array>().ElementLength();
}

// (param, grad, momentumBuffer|null, {lr, momentum, dampening, weightDecay, nesterov, maximize, newBuffer}, threads)
Napi::Value SgdStep(const Napi::CallbackInfo& info) {
  Args a(info, "sgdStep");
  a.expect_count(5);
  const int64_t n = length_of(a, info, 0, "param");
  float* param = a.floats(0, "param", n);
  const float* grad = a.floats(1, "grad", n);
  Options opt(a, info, 3);
  cnn::SgdOptions o;
  o.lr = (float)opt.number("lr");
  o.momentum = (float)opt.number("momentum");
  o.dampening = (float)opt.number("dampening");
  o.weight_decay = (float)opt.number("weightDecay");
  o.nesterov = opt.boolean("nesterov");
  o.maximize = opt.boolean("maximize");
  o.new_buffer = opt.boolean("newBuffer");
  float* buf = a.floats_or_null(2, "momentumBuffer", n);
  if ((buf == nullptr) != (o.momentum == 0.0f))
    a.type_error(o.momentum == 0.0f ? "a momentum buffer needs a non-zero momentum"
                                    : "a non-zero momentum needs a momentum buffer");
  const int threads = a.threads(4);
  cnn::sgd_step(param, grad, buf, n, o, threads);
  return info.Env().Undefined();
}

// (param, grad, expAvg, expAvgSq, maxExpAvgSq|null,
//  {lr, beta1, beta2, eps, weightDecay, step, amsgrad, decoupled, maximize}, threads)
Napi::Value AdamStep(const Napi::CallbackInfo& info) {
  Args a(info, "adamStep");
  a.expect_count(7);
  const int64_t n = length_of(a, info, 0, "param");
  float* param = a.floats(0, "param", n);
  const float* grad = a.floats(1, "grad", n);
  float* m = a.floats(2, "expAvg", n);
  float* v = a.floats(3, "expAvgSq", n);
  Options opt(a, info, 5);
  cnn::AdamOptions o;
  o.lr = opt.number("lr");
  o.beta1 = opt.number("beta1");
  o.beta2 = opt.number("beta2");
  o.eps = opt.number("eps");
  o.weight_decay = opt.number("weightDecay");
  const double step = opt.number("step");
  if (step != std::floor(step) || step < 1 || step > 9007199254740991.0)
    a.range_error("options.step must be a positive integer but is " + std::to_string(step));
  o.step = (int64_t)step;
  o.amsgrad = opt.boolean("amsgrad");
  o.decoupled = opt.boolean("decoupled");
  o.maximize = opt.boolean("maximize");
  float* vmax = a.floats_or_null(4, "maxExpAvgSq", n);
  if ((vmax != nullptr) != o.amsgrad)
    a.type_error(o.amsgrad ? "amsgrad needs maxExpAvgSq" : "maxExpAvgSq is only used with amsgrad");
  const int threads = a.threads(6);
  cnn::adam_step(param, grad, m, v, vmax, n, o, threads);
  return info.Env().Undefined();
}

}  // namespace

void register_optim_bindings(Napi::Env env, Napi::Object exports) {
  exports.Set("sgdStep", Napi::Function::New(env, SgdStep));
  exports.Set("adamStep", Napi::Function::New(env, AdamStep));
}
