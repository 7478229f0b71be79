// Bindings for native/norm/layer_norm: LayerNorm (trailing dims or NCHW channels), GroupNorm.
#include <napi.h>

#include <cmath>

#include "bindings/registry.h"
#include "norm/layer_norm.h"

namespace {

using namespace cnn_binding;

// Layer and group norm see x as (a, b, c): (outer, d, inner) normalized over d for layer norm,
// (n, c, s) normalized per (sample, group) for group norm; `stats` values of mean and rstd.
struct NormCall {
  int64_t a, b, c, groups, stats;
  double eps;
  const float *x, *dy, *weight, *bias, *mean_in, *rstd_in;
  float *y, *mean, *rstd, *dx, *dweight, *dbias;
  int64_t total() const { return a * b * c; }
};

// The extents named na, nb, nc, then groups (group norm: groups > 0 must divide c).
NormCall read_extents(const Fields& f, const char* na, const char* nb, const char* nc, bool grouped) {
  const Args& a = f.args();
  NormCall k{};
  k.a = f.integer(na, 1, kMaxIndex);
  k.b = f.integer(nb, 1, kMaxIndex);
  k.c = f.integer(nc, 1, kMaxIndex);
  if (k.a * k.b > kMaxIndex || k.total() > ((int64_t)1 << 36)) a.range_error("tensor is too large");
  k.groups = grouped ? f.integer("groups", 1, kMaxIndex) : 1;
  if (k.b % k.groups)
    a.range_error("groups (" + std::to_string(k.groups) + ") must divide c (" + std::to_string(k.b) + ")");
  k.stats = grouped ? k.a * k.groups : k.a * k.c;
  return k;
}

// {x, weight|null, bias|null, <extents>, eps, y, mean, rstd}
NormCall read_forward(const Fields& f, NormCall k) {
  k.x = f.floats("x", k.total());
  k.weight = f.floats_or_null("weight", k.b);
  k.bias = f.floats_or_null("bias", k.b);
  k.eps = f.number("eps");
  if (!(k.eps >= 0) || !std::isfinite(k.eps)) f.args().range_error("eps must be a finite non-negative number");
  k.y = f.floats("y", k.total());
  k.mean = f.floats("mean", k.stats);
  k.rstd = f.floats("rstd", k.stats);
  return k;
}

// {x, dy, weight|null, mean, rstd, <extents>, dx|null, dweight|null, dbias|null}
NormCall read_backward(const Fields& f, NormCall k) {
  k.x = f.floats("x", k.total());
  k.dy = f.floats("dy", k.total());
  k.weight = f.floats_or_null("weight", k.b);
  k.mean_in = f.floats("mean", k.stats);
  k.rstd_in = f.floats("rstd", k.stats);
  k.dx = f.floats_or_null("dx", k.total());
  k.dweight = f.floats_or_null("dweight", k.b);
  k.dbias = f.floats_or_null("dbias", k.b);
  return k;
}

// The kernels, called with a read NormCall.
void layer_norm_forward(const NormCall& k, int threads) {
  cnn::layer_norm_forward(k.x, k.weight, k.bias, k.y, k.mean, k.rstd, k.a, k.b, k.c, k.eps, threads);
}
void layer_norm_backward(const NormCall& k, int threads) {
  cnn::layer_norm_backward(k.x, k.dy, k.weight, k.mean_in, k.rstd_in, k.dx, k.dweight, k.dbias, k.a, k.b, k.c, threads);
}
void group_norm_forward(const NormCall& k, int threads) {
  cnn::group_norm_forward(k.x, k.weight, k.bias, k.y, k.mean, k.rstd, k.a, k.b, k.c, k.groups, k.eps, threads);
}
void group_norm_backward(const NormCall& k, int threads) {
  cnn::group_norm_backward(k.x, k.dy, k.weight, k.mean_in, k.rstd_in, k.dx, k.dweight, k.dbias, k.a, k.b, k.c,
                           k.groups, threads);
}

using NormKernel = void (*)(const NormCall&, int);

// (call, threads): layer norm's call holds {outer, d, inner}, group norm's {n, c, s, groups};
// forward adds {x, weight, bias, eps, y, mean, rstd}, backward {x, dy, weight, mean, rstd, dx, dweight, dbias}.
template <NormKernel K, bool Grouped, bool Forward>
Napi::Value Norm(const Args& a) {
  a.expect_count(2);
  const Fields f = a.object(0, "call");
  const NormCall extents = Grouped ? read_extents(f, "n", "c", "s", true) : read_extents(f, "outer", "d", "inner", false);
  K(Forward ? read_forward(f, extents) : read_backward(f, extents), a.threads(1));
  return a.undefined();
}

const Registration rows({
    {"layerNormForward", Norm<layer_norm_forward, false, true>},
    {"layerNormBackward", Norm<layer_norm_backward, false, false>},
    {"groupNormForward", Norm<group_norm_forward, true, true>},
    {"groupNormBackward", Norm<group_norm_backward, true, false>},
});

}  // namespace
