// Bindings for native/norm/layer_norm: LayerNorm (trailing dims or NCHW channels), GroupNorm.
#include <napi.h>

#include <cmath>

#include "bindings/registry.h"
#include "norm/layer_norm.h"

namespace {

using namespace cnn_binding;

struct Extents {
  int64_t a, b, c;  // (outer, d, inner) for layer norm; (n, c, s) for group norm
  int64_t total() const { return a * b * c; }
};

Extents read_extents(const Args& a, size_t i, const char* na, const char* nb, const char* nc) {
  Extents e{a.integer(i, na, 1, kMaxIndex), a.integer(i + 1, nb, 1, kMaxIndex), a.integer(i + 2, nc, 1, kMaxIndex)};
  if (e.a * e.b > kMaxIndex || e.total() > ((int64_t)1 << 36)) a.range_error("tensor is too large");
  return e;
}

double read_eps(const Args& a, size_t i) {
  const double eps = a.number(i, "eps");
  if (!(eps >= 0) || !std::isfinite(eps)) a.range_error("eps must be a finite non-negative number");
  return eps;
}

// (x, weight|null, bias|null, outer, d, inner, eps, y, mean, rstd, threads)
Napi::Value LayerNormForward(const Args& a) {
  a.expect_count(11);
  const Extents e = read_extents(a, 3, "outer", "d", "inner");
  const float* x = a.floats(0, "x", e.total());
  const float* w = a.floats_or_null(1, "weight", e.b);
  const float* b = a.floats_or_null(2, "bias", e.b);
  const double eps = read_eps(a, 6);
  float* y = a.floats(7, "y", e.total());
  float* mean = a.floats(8, "mean", e.a * e.c);
  float* rstd = a.floats(9, "rstd", e.a * e.c);
  cnn::layer_norm_forward(x, w, b, y, mean, rstd, e.a, e.b, e.c, eps, a.threads(10));
  return a.undefined();
}

// (x, dy, weight|null, mean, rstd, outer, d, inner, dx|null, dweight|null, dbias|null, threads)
Napi::Value LayerNormBackward(const Args& a) {
  a.expect_count(12);
  const Extents e = read_extents(a, 5, "outer", "d", "inner");
  const float* x = a.floats(0, "x", e.total());
  const float* dy = a.floats(1, "dy", e.total());
  const float* w = a.floats_or_null(2, "weight", e.b);
  const float* mean = a.floats(3, "mean", e.a * e.c);
  const float* rstd = a.floats(4, "rstd", e.a * e.c);
  float* dx = a.floats_or_null(8, "dx", e.total());
  float* dw = a.floats_or_null(9, "dweight", e.b);
  float* db = a.floats_or_null(10, "dbias", e.b);
  cnn::layer_norm_backward(x, dy, w, mean, rstd, dx, dw, db, e.a, e.b, e.c, a.threads(11));
  return a.undefined();
}

int64_t read_groups(const Args& a, size_t i, const Extents& e) {
  const int64_t g = a.integer(i, "groups", 1, kMaxIndex);
  if (e.b % g) a.range_error("groups (" + std::to_string(g) + ") must divide c (" + std::to_string(e.b) + ")");
  return g;
}

// (x, weight|null, bias|null, n, c, s, groups, eps, y, mean, rstd, threads)
Napi::Value GroupNormForward(const Args& a) {
  a.expect_count(12);
  const Extents e = read_extents(a, 3, "n", "c", "s");
  const int64_t g = read_groups(a, 6, e);
  const float* x = a.floats(0, "x", e.total());
  const float* w = a.floats_or_null(1, "weight", e.b);
  const float* b = a.floats_or_null(2, "bias", e.b);
  const double eps = read_eps(a, 7);
  float* y = a.floats(8, "y", e.total());
  float* mean = a.floats(9, "mean", e.a * g);
  float* rstd = a.floats(10, "rstd", e.a * g);
  cnn::group_norm_forward(x, w, b, y, mean, rstd, e.a, e.b, e.c, g, eps, a.threads(11));
  return a.undefined();
}

// (x, dy, weight|null, mean, rstd, n, c, s, groups, dx|null, dweight|null, dbias|null, threads)
Napi::Value GroupNormBackward(const Args& a) {
  a.expect_count(13);
  const Extents e = read_extents(a, 5, "n", "c", "s");
  const int64_t g = read_groups(a, 8, e);
  const float* x = a.floats(0, "x", e.total());
  const float* dy = a.floats(1, "dy", e.total());
  const float* w = a.floats_or_null(2, "weight", e.b);
  const float* mean = a.floats(3, "mean", e.a * g);
  const float* rstd = a.floats(4, "rstd", e.a * g);
  float* dx = a.floats_or_null(9, "dx", e.total());
  float* dw = a.floats_or_null(10, "dweight", e.b);
  float* db = a.floats_or_null(11, "dbias", e.b);
  cnn::group_norm_backward(x, dy, w, mean, rstd, dx, dw, db, e.a, e.b, e.c, g, a.threads(12));
  return a.undefined();
}

const Registration rows({
    {"layerNormForward", LayerNormForward},
    {"layerNormBackward", LayerNormBackward},
    {"groupNormForward", GroupNormForward},
    {"groupNormBackward", GroupNormBackward},
});

}  // namespace
