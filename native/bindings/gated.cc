// Bindings for native/activation/gated: SiLU, GELU (erf, tanh), Hardswish, Hardsigmoid.
#include <napi.h>

#include "activation/gated.h"
#include "bindings/registry.h"

namespace {

using namespace cnn_binding;

cnn::Gated read_kind(const Args& a, size_t i) {
  return static_cast<cnn::Gated>(a.integer(i, "kind", 0, cnn::kGatedKinds - 1));
}

// (kind, x, y, threads)
Napi::Value GatedForward(const Args& a) {
  a.expect_count(4);
  const cnn::Gated kind = read_kind(a, 0);
  const int64_t n = a.length(1, "x");
  const float* x = a.floats(1, "x", n);
  float* y = a.floats(2, "y", n);
  cnn::gated_forward(kind, x, y, n, a.threads(3));
  return a.undefined();
}

// (kind, x, dy, dx, threads)
Napi::Value GatedBackward(const Args& a) {
  a.expect_count(5);
  const cnn::Gated kind = read_kind(a, 0);
  const int64_t n = a.length(1, "x");
  const float* x = a.floats(1, "x", n);
  const float* dy = a.floats(2, "dy", n);
  float* dx = a.floats(3, "dx", n);
  cnn::gated_backward(kind, x, dy, dx, n, a.threads(4));
  return a.undefined();
}

const Registration rows({
    {"gatedForward", GatedForward},
    {"gatedBackward", GatedBackward},
});

}  // namespace
