// Bindings for native/norm: batch normalization forward and backward.
#include <napi.h>

#include "bindings/args.h"
#include "norm/norm.h"

namespace {

using namespace cnn_binding;

cnn::BatchNormShape read_bn_shape(const Args& a, size_t i) {
  auto shape = a.shape(i, "shape");
  if (shape.size() < 2) a.range_error("expected a shape (N, C, ...) with at least 2 dimensions");
  cnn::BatchNormShape sh{shape[0], shape[1], 1};
  for (size_t d = 2; d < shape.size(); ++d) sh.s *= shape[d];
  return sh;
}

// (x, shape, weight|null, bias|null, runningMean|null, runningVar|null, training, momentum,
//  eps, y, saveMean, saveInvstd, threads)
Napi::Value BatchNormForward(const Napi::CallbackInfo& info) {
  Args a(info, "batchNormForward");
  a.expect_count(13);
  cnn::BatchNormShape sh = read_bn_shape(a, 1);
  const int64_t total = sh.n * sh.c * sh.s;
  const float* x = a.floats(0, "x", total);
  const float* w = a.floats_or_null(2, "weight", sh.c);
  const float* b = a.floats_or_null(3, "bias", sh.c);
  float* rm = a.floats_or_null(4, "runningMean", sh.c);
  float* rv = a.floats_or_null(5, "runningVar", sh.c);
  const bool training = a.boolean(6, "training");
  const double momentum = a.number(7, "momentum");
  const double eps = a.number(8, "eps");
  float* y = a.floats(9, "y", total);
  float* save_mean = a.floats(10, "saveMean", sh.c);
  float* save_invstd = a.floats(11, "saveInvstd", sh.c);
  const int threads = a.threads(12);
  if ((rm == nullptr) != (rv == nullptr)) a.type_error("runningMean and runningVar must both be given or both be null");
  if (!training && !rm) a.type_error("running statistics are required when training is false");
  if (!(eps >= 0)) a.range_error("eps must be a non-negative number");
  if (training && sh.n * sh.s == 1) a.range_error("expected more than 1 value per channel when training");
  cnn::batch_norm_forward(sh, x, w, b, rm, rv, training, momentum, eps, y, save_mean, save_invstd, threads);
  return info.Env().Undefined();
}

// (x, dy, shape, weight|null, saveMean, saveInvstd, training, dx|null, dweight|null,
//  dbias|null, threads)
Napi::Value BatchNormBackward(const Napi::CallbackInfo& info) {
  Args a(info, "batchNormBackward");
  a.expect_count(11);
  cnn::BatchNormShape sh = read_bn_shape(a, 2);
  const int64_t total = sh.n * sh.c * sh.s;
  const float* x = a.floats(0, "x", total);
  const float* dy = a.floats(1, "dy", total);
  const float* w = a.floats_or_null(3, "weight", sh.c);
  const float* save_mean = a.floats(4, "saveMean", sh.c);
  const float* save_invstd = a.floats(5, "saveInvstd", sh.c);
  const bool training = a.boolean(6, "training");
  float* dx = a.floats_or_null(7, "dx", total);
  float* dw = a.floats_or_null(8, "dweight", sh.c);
  float* db = a.floats_or_null(9, "dbias", sh.c);
  const int threads = a.threads(10);
  cnn::batch_norm_backward(sh, x, dy, w, save_mean, save_invstd, training, dx, dw, db, threads);
  return info.Env().Undefined();
}

}  // namespace

void register_norm_bindings(Napi::Env env, Napi::Object exports) {
  exports.Set("batchNormForward", Napi::Function::New(env, BatchNormForward));
  exports.Set("batchNormBackward", Napi::Function::New(env, BatchNormBackward));
}
