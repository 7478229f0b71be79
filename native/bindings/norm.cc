// Bindings for native/norm: batch normalization forward and backward. Each call is one object
// of named buffers and settings, read once into a plain struct.
#include <napi.h>

#include <string>

#include "bindings/registry.h"
#include "norm/norm.h"

namespace {

using namespace cnn_binding;

// activation: absent, 'relu' or 'relu6'.
cnn::NormActivation read_activation(const Fields& f) {
  if (!f.present("activation")) return cnn::NormActivation::None;
  const std::string name = f.string("activation");
  if (name == "relu") return cnn::NormActivation::Relu;
  if (name == "relu6") return cnn::NormActivation::Relu6;
  f.args().range_error(f.what("activation") + " must be 'relu' or 'relu6', not '" + name + "'");
  return cnn::NormActivation::None;
}

cnn::BatchNormShape read_shape(const Fields& f) {
  const auto shape = f.shape("shape");
  if (shape.size() < 2) f.args().range_error("expected a shape (N, C, ...) with at least 2 dimensions");
  cnn::BatchNormShape sh{shape[0], shape[1], 1};
  for (size_t d = 2; d < shape.size(); ++d) sh.s *= shape[d];
  return sh;
}

struct ForwardCall {
  cnn::BatchNormShape sh;
  const float *x, *weight, *bias;
  float *running_mean, *running_var;
  bool training;
  double momentum, eps;
  float *y, *save_mean, *save_invstd;
  cnn::NormActivation act;
  cnn::NormResidual res;
};

// {x, shape, weight|null, bias|null, runningMean|null, runningVar|null, training, momentum, eps,
//  y, saveMean, saveInvstd, activation?, residual?} — activation 'relu' | 'relu6': y = the activation of the
//  normalized value; residual (x's size): added to the normalized value before the activation;
//  coefficients? (2C floats): receives each channel's y = act(x·a + shift) coefficients, a then shift
ForwardCall read_forward(const Fields& f) {
  const Args& a = f.args();
  ForwardCall c;
  c.sh = read_shape(f);
  const int64_t total = c.sh.n * c.sh.c * c.sh.s;
  c.x = f.floats("x", total);
  c.weight = f.floats_or_null("weight", c.sh.c);
  c.bias = f.floats_or_null("bias", c.sh.c);
  c.running_mean = f.floats_or_null("runningMean", c.sh.c);
  c.running_var = f.floats_or_null("runningVar", c.sh.c);
  c.training = f.boolean("training");
  c.momentum = f.number("momentum", -kInf, kInf);
  c.eps = f.number("eps", 0, kInf);
  c.y = f.floats("y", total);
  c.save_mean = f.floats("saveMean", c.sh.c);
  c.save_invstd = f.floats("saveInvstd", c.sh.c);
  c.act = read_activation(f);
  c.res.residual = f.floats_or_null("residual", total);
  c.res.coefficients = f.floats_or_null("coefficients", 2 * c.sh.c);
  if ((c.running_mean == nullptr) != (c.running_var == nullptr))
    a.type_error("runningMean and runningVar must both be given or both be null");
  if (!c.training && !c.running_mean) a.type_error("running statistics are required when training is false");
  if (c.training && c.sh.n * c.sh.s == 1) a.range_error("expected more than 1 value per channel when training");
  return c;
}

// (call, threads)
Napi::Value BatchNormForward(const Args& a) {
  a.expect_count(2);
  const ForwardCall c = read_forward(a.object(0, "call"));
  cnn::batch_norm_forward(c.sh, c.x, c.weight, c.bias, c.running_mean, c.running_var, c.training, c.momentum, c.eps,
                          c.y, c.save_mean, c.save_invstd, a.threads(1), c.act, c.res);
  return a.undefined();
}

struct BackwardCall {
  cnn::BatchNormShape sh;
  const float *x, *dy, *weight, *save_mean, *save_invstd;
  bool training;
  float *dx, *dweight, *dbias;
  cnn::NormActivation act;
  cnn::NormResidual res;
};

// {x, dy, shape, weight|null, saveMean, saveInvstd, training, dx|null, dweight|null, dbias|null,
//  activation?, coefficients?, residual?, dresidual?} — the fused forward's activation, its
//  coefficients and residual: dy counts only where the activation passed the gradient, judged from
//  the pre-activation value recomputed from x, the coefficients and the residual; dresidual (with an
//  activation and a residual only) receives that masked gradient, the residual's
BackwardCall read_backward(const Fields& f) {
  BackwardCall c;
  c.sh = read_shape(f);
  const int64_t total = c.sh.n * c.sh.c * c.sh.s;
  c.x = f.floats("x", total);
  c.dy = f.floats("dy", total);
  c.weight = f.floats_or_null("weight", c.sh.c);
  c.save_mean = f.floats("saveMean", c.sh.c);
  c.save_invstd = f.floats("saveInvstd", c.sh.c);
  c.training = f.boolean("training");
  c.dx = f.floats_or_null("dx", total);
  c.dweight = f.floats_or_null("dweight", c.sh.c);
  c.dbias = f.floats_or_null("dbias", c.sh.c);
  c.act = read_activation(f);
  c.res.residual = f.floats_or_null("residual", total);
  c.res.dresidual = f.floats_or_null("dresidual", total);
  c.res.coefficients = f.floats_or_null("coefficients", 2 * c.sh.c);
  if (c.act != cnn::NormActivation::None && !c.res.coefficients)
    f.args().type_error("an activation needs the forward's coefficients (its mask is recomputed from them)");
  if (c.res.dresidual && (!c.res.residual || c.act == cnn::NormActivation::None))
    f.args().type_error("dresidual needs a residual and an activation (without one the residual's gradient is dy)");
  return c;
}

// (call, threads)
Napi::Value BatchNormBackward(const Args& a) {
  a.expect_count(2);
  const BackwardCall c = read_backward(a.object(0, "call"));
  cnn::batch_norm_backward(c.sh, c.x, c.dy, c.weight, c.save_mean, c.save_invstd, c.training, c.dx, c.dweight,
                           c.dbias, a.threads(1), c.act, c.res);
  return a.undefined();
}

const Registration rows({
    {"batchNormForward", BatchNormForward},
    {"batchNormBackward", BatchNormBackward},
});

}  // namespace
