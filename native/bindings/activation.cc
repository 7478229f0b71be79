// Bindings for native/activation: pointwise activations and (log-)softmax.
#include <napi.h>

#include "activation/activation.h"
#include "bindings/registry.h"

namespace {

using namespace cnn_binding;

// (x, y, slope, threads)
Napi::Value LeakyReluForward(const Args& a) {
  a.expect_count(4);
  const Pointwise b = a.pointwise(0, {"x", "y"});
  cnn::leaky_relu_forward(b.at[0], b.at[1], b.n, (float)a.number(2, "slope"), a.threads(3));
  return a.undefined();
}

// (x, dy, dx, slope, threads)
Napi::Value LeakyReluBackward(const Args& a) {
  a.expect_count(5);
  const Pointwise b = a.pointwise(0, {"x", "dy", "dx"});
  cnn::leaky_relu_backward(b.at[0], b.at[1], b.at[2], b.n, (float)a.number(3, "slope"), a.threads(4));
  return a.undefined();
}

using UnaryForward = void (*)(const float*, float*, int64_t, int);
using UnaryBackward = void (*)(const float*, const float*, float*, int64_t, int);

// (x, y, threads)
template <UnaryForward F>
Napi::Value Forward(const Args& a) {
  a.expect_count(3);
  const Pointwise b = a.pointwise(0, {"x", "y"});
  F(b.at[0], b.at[1], b.n, a.threads(2));
  return a.undefined();
}

// (y, dy, dx, threads): from the forward output y.
template <UnaryBackward F>
Napi::Value Backward(const Args& a) {
  a.expect_count(4);
  const Pointwise b = a.pointwise(0, {"y", "dy", "dx"});
  F(b.at[0], b.at[1], b.at[2], b.n, a.threads(3));
  return a.undefined();
}

struct Axis {
  int64_t outer, dim, inner, total;
};

// shape and a non-negative dim < rank → (outer, dim, inner)
Axis read_axis(const Args& a, size_t shape_i, size_t dim_i) {
  const auto shape = a.shape(shape_i, "shape");
  if (shape.empty()) a.range_error("expected a shape with at least 1 dimension");
  const int64_t d = a.integer(dim_i, "dim", 0, (int64_t)shape.size() - 1);
  Axis ax{1, shape[d], 1, numel(shape)};
  for (int64_t i = 0; i < d; ++i) ax.outer *= shape[i];
  for (size_t i = d + 1; i < shape.size(); ++i) ax.inner *= shape[i];
  return ax;
}

// (x, shape, dim, y, log, threads)
Napi::Value SoftmaxForward(const Args& a) {
  a.expect_count(6);
  const Axis ax = read_axis(a, 1, 2);
  const float* x = a.floats(0, "x", ax.total);
  float* y = a.floats(3, "y", ax.total);
  const bool log = a.boolean(4, "log");
  cnn::softmax_forward(x, y, ax.outer, ax.dim, ax.inner, log, a.threads(5));
  return a.undefined();
}

// (y, dy, shape, dim, dx, log, threads)
Napi::Value SoftmaxBackward(const Args& a) {
  a.expect_count(7);
  const Axis ax = read_axis(a, 2, 3);
  const float* y = a.floats(0, "y", ax.total);
  const float* dy = a.floats(1, "dy", ax.total);
  float* dx = a.floats(4, "dx", ax.total);
  const bool log = a.boolean(5, "log");
  cnn::softmax_backward(y, dy, dx, ax.outer, ax.dim, ax.inner, log, a.threads(6));
  return a.undefined();
}

const Registration rows({
    {"leakyReluForward", LeakyReluForward},
    {"leakyReluBackward", LeakyReluBackward},
    {"sigmoidForward", Forward<cnn::sigmoid_forward>},
    {"sigmoidBackward", Backward<cnn::sigmoid_backward>},
    {"tanhForward", Forward<cnn::tanh_forward>},
    {"tanhBackward", Backward<cnn::tanh_backward>},
    {"softmaxForward", SoftmaxForward},
    {"softmaxBackward", SoftmaxBackward},
});

}  // namespace
