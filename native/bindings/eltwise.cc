// Bindings for native/eltwise: broadcasting binary ops, reductions and the pointwise ops
// whose length comes from their first array.
#include <napi.h>

#include <string>
#include <vector>

#include "bindings/registry.h"
#include "eltwise/eltwise.h"

namespace {

using namespace cnn_binding;

static_assert(cnn::kMaxDims >= kMaxShapeDims, "eltwise kernels must take every shape the boundary accepts");

// The strides that broadcast `s` (right-aligned) to `out`, 0 on broadcast axes.
void broadcast_strides(const Args& a, const std::vector<int64_t>& s, const std::vector<int64_t>& out,
                       int64_t* st, const char* name) {
  const int nd = (int)out.size(), off = nd - (int)s.size();
  int64_t stride = 1;
  for (int d = nd - 1; d >= 0; --d) {
    const int64_t ext = d >= off ? s[d - off] : 1;
    if (ext != out[d] && ext != 1) a.range_error(std::string(name) + " cannot broadcast to outShape");
    st[d] = ext == 1 ? 0 : stride;
    stride *= ext;
  }
}

// (params {op, aShape, bShape, outShape}, a, b, out, threads): op 0 add, 1 sub, 2 mul, 3 div.
Napi::Value Binary(const Args& a) {
  a.expect_count(5);
  const Fields f = a.object(0, "params");
  const int op = (int)f.integer("op", 0, 3);
  const auto as = f.shape("aShape"), bs = f.shape("bShape"), os = f.shape("outShape");
  const float* pa = a.floats(1, "a", numel(as));
  const float* pb = a.floats(2, "b", numel(bs));
  float* po = a.floats(3, "out", numel(os));
  if (as.size() > os.size() || bs.size() > os.size()) a.range_error("operand has more dimensions than out");
  int64_t sa[cnn::kMaxDims], sb[cnn::kMaxDims];
  broadcast_strides(a, as, os, sa, "aShape");
  broadcast_strides(a, bs, os, sb, "bShape");
  cnn::binary_broadcast(static_cast<cnn::BinaryOp>(op), pa, sa, pb, sb, po, os.data(), (int)os.size(), a.threads(4));
  return a.undefined();
}

// (x, shape, out, target): sums x over the axes where target (same rank) has extent 1.
Napi::Value SumToShape(const Args& a) {
  a.expect_count(4);
  const auto s = a.shape(1, "shape"), t = a.shape(3, "target");
  if (s.size() != t.size()) a.range_error("shape and target must have the same rank");
  for (size_t d = 0; d < s.size(); ++d)
    if (t[d] != s[d] && t[d] != 1) a.range_error("target extents must equal shape's or be 1");
  const float* x = a.floats(0, "x", numel(s));
  float* out = a.floats(2, "out", numel(t));
  cnn::sum_to_shape(x, s.data(), (int)s.size(), out, t.data());
  return a.undefined();
}

// (x, y, threads)
Napi::Value ReluForward(const Args& a) {
  a.expect_count(3);
  const Pointwise b = a.pointwise(0, {"x", "y"});
  cnn::relu_forward(b.at[0], b.at[1], b.n, a.threads(2));
  return a.undefined();
}

// (x, dy, dx, threads)
Napi::Value ReluBackward(const Args& a) {
  a.expect_count(4);
  const Pointwise b = a.pointwise(0, {"x", "dy", "dx"});
  cnn::relu_backward(b.at[0], b.at[1], b.at[2], b.n, a.threads(3));
  return a.undefined();
}

// (x, y, lo, hi, threads)
Napi::Value HardtanhForward(const Args& a) {
  a.expect_count(5);
  const Pointwise b = a.pointwise(0, {"x", "y"});
  const float lo = (float)a.number(2, "lo"), hi = (float)a.number(3, "hi");
  if (!(lo <= hi)) a.range_error("lo must not exceed hi");
  cnn::hardtanh_forward(b.at[0], b.at[1], b.n, lo, hi, a.threads(4));
  return a.undefined();
}

// (x, dy, dx, lo, hi, threads)
Napi::Value HardtanhBackward(const Args& a) {
  a.expect_count(6);
  const Pointwise b = a.pointwise(0, {"x", "dy", "dx"});
  cnn::hardtanh_backward(b.at[0], b.at[1], b.at[2], b.n, (float)a.number(3, "lo"), (float)a.number(4, "hi"), a.threads(5));
  return a.undefined();
}

using AlphaOp = void (*)(float, const float*, float*, int64_t, int);

// (alpha, x, y, threads): axpy y += alpha·x, scale y = alpha·x
template <AlphaOp F>
Napi::Value WithAlpha(const Args& a) {
  a.expect_count(4);
  const Pointwise b = a.pointwise(1, {"x", "y"});
  F((float)a.number(0, "alpha"), b.at[0], b.at[1], b.n, a.threads(3));
  return a.undefined();
}

// (x) → the sum of x, accumulated in double
Napi::Value Sum(const Args& a) {
  a.expect_count(1);
  const int64_t n = a.length(0, "x");
  return Napi::Number::New(a.env(), cnn::sum(a.floats(0, "x", n), n));
}

// (x) → the sum of x's squares, accumulated in double
Napi::Value SumSquares(const Args& a) {
  a.expect_count(1);
  const int64_t n = a.length(0, "x");
  return Napi::Number::New(a.env(), cnn::sum_squares(a.floats(0, "x", n), n));
}

// (arrays: Float32Array[], threads) → index of the first array holding NaN or ±Inf, or -1
Napi::Value FirstNonFinite(const Args& a) {
  a.expect_count(2);
  Napi::Value v = a.info()[0];
  if (!v.IsArray()) a.type_error("expected an array of Float32Arrays for arrays");
  Napi::Array list = v.As<Napi::Array>();
  const uint32_t count = list.Length();
  std::vector<const float*> data(count);
  std::vector<int64_t> lengths(count);
  for (uint32_t i = 0; i < count; ++i) {
    auto arr = a.typed_of<float>(list.Get(i), "arrays[" + std::to_string(i) + "]", napi_float32_array, "Float32Array");
    data[i] = arr.Data();
    lengths[i] = (int64_t)arr.ElementLength();
  }
  const int threads = a.threads(1);
  return Napi::Number::New(a.env(), (double)cnn::first_nonfinite(data.data(), lengths.data(), count, threads));
}

const Registration rows({
    {"binary", Binary},
    {"sumToShape", SumToShape},
    {"reluForward", ReluForward},
    {"reluBackward", ReluBackward},
    {"hardtanhForward", HardtanhForward},
    {"hardtanhBackward", HardtanhBackward},
    {"axpy", WithAlpha<cnn::axpy>},
    {"scale", WithAlpha<cnn::scale>},
    {"sum", Sum},
    {"sumSquares", SumSquares},
    {"firstNonFinite", FirstNonFinite},
});

}  // namespace
