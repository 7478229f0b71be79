// N-API bindings only: every argument is checked here and turned into plain C++ values
// before a kernel sees it, so no call from JavaScript can touch memory it does not own.
#include <napi.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "conv/conv.h"
#include "cpu/cpu.h"
#include "eltwise/eltwise.h"
#include "gemm/gemm.h"
#include "bindings/args.h"
#include "bindings/registry.h"

namespace {

using namespace cnn_binding;

// ---- CPU ---------------------------------------------------------------------------------

Napi::Value CpuInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("model", cnn::cpu_model());
  auto feats = cnn::cpu_features();
  Napi::Array f = Napi::Array::New(env, feats.size());
  for (size_t i = 0; i < feats.size(); ++i) f.Set((uint32_t)i, feats[i]);
  o.Set("features", f);
  auto isas = cnn::supported_isas();
  Napi::Array s = Napi::Array::New(env, isas.size());
  for (size_t i = 0; i < isas.size(); ++i) s.Set((uint32_t)i, cnn::isa_name(isas[i]));
  o.Set("supported", s);
  o.Set("best", cnn::isa_name(cnn::best_isa()));
  o.Set("active", cnn::isa_name(cnn::active_isa()));
  return o;
}

Napi::Value SetIsa(const Napi::CallbackInfo& info) {
  Args a(info, "setIsa");
  a.expect_count(1);
  std::string name = a.string(0, "isa");
  cnn::Isa isa;
  if (!cnn::parse_isa(name, &isa))
    a.range_error("unknown kernel variant '" + name + "' (expected scalar, neon, avx2 or avx512)");
  if (!cnn::set_active_isa(isa))
    a.range_error("this CPU does not support the '" + name + "' kernels (best here: " +
                  cnn::isa_name(cnn::best_isa()) + ")");
  return info.Env().Undefined();
}

// ---- GEMM --------------------------------------------------------------------------------

struct GemmArgs {
  bool ta, tb;
  int m, n, k;
  float alpha, beta;
  const float *A, *B;
  float* C;
  int lda, ldb, ldc;
};

// (transA, transB, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc)
GemmArgs read_gemm(const Args& a) {
  GemmArgs g;
  g.ta = a.boolean(0, "transA");
  g.tb = a.boolean(1, "transB");
  g.m = (int)a.integer(2, "m", 0, kMaxIndex);
  g.n = (int)a.integer(3, "n", 0, kMaxIndex);
  g.k = (int)a.integer(4, "k", 0, kMaxIndex);
  g.alpha = a.number(5, "alpha");
  const int64_t a_rows = g.ta ? g.k : g.m, a_cols = g.ta ? g.m : g.k;
  const int64_t b_rows = g.tb ? g.n : g.k, b_cols = g.tb ? g.k : g.n;
  g.lda = (int)a.integer(7, "lda", std::max<int64_t>(1, a_cols), kMaxIndex);
  g.ldb = (int)a.integer(9, "ldb", std::max<int64_t>(1, b_cols), kMaxIndex);
  g.beta = a.number(10, "beta");
  g.ldc = (int)a.integer(12, "ldc", std::max<int64_t>(1, g.n), kMaxIndex);
  auto need = [](int64_t rows, int64_t cols, int64_t ld) { return rows == 0 || cols == 0 ? 0 : (rows - 1) * ld + cols; };
  g.A = a.floats(6, "A", need(a_rows, a_cols, g.lda), false);
  g.B = a.floats(8, "B", need(b_rows, b_cols, g.ldb), false);
  g.C = a.floats(11, "C", need(g.m, g.n, g.ldc), false);
  return g;
}

Napi::Value Gemm(const Napi::CallbackInfo& info) {
  Args a(info, "gemm");
  a.expect_count(14);
  GemmArgs g = read_gemm(a);
  int threads = a.threads(13);
  cnn::sgemm(g.ta, g.tb, g.m, g.n, g.k, g.alpha, g.A, g.lda, g.B, g.ldb, g.beta, g.C, g.ldc, threads);
  return info.Env().Undefined();
}

Napi::Value GemmRef(const Napi::CallbackInfo& info) {
  Args a(info, "gemmRef");
  a.expect_count(13);
  GemmArgs g = read_gemm(a);
  cnn::gemm_ref(g.ta, g.tb, g.m, g.n, g.k, g.alpha, g.A, g.lda, g.B, g.ldb, g.beta, g.C, g.ldc);
  return info.Env().Undefined();
}

// ---- Convolution -------------------------------------------------------------------------

// Reads {n, cIn, h, w, cOut, kh, kw, strideH, strideW, padT, padB, padL, padR, dilH, dilW, groups}.
cnn::Conv2dParams read_conv(const Args& a, const Napi::CallbackInfo& info, size_t i) {
  if (!info[i].IsObject() || info[i].IsArray()) a.type_error("expected a convolution parameter object");
  Napi::Object o = info[i].As<Napi::Object>();
  auto field = [&](const char* name, int64_t lo) -> int {
    Napi::Value v = o.Get(name);
    if (!v.IsNumber()) a.type_error(std::string("expected a number for params.") + name);
    double d = v.As<Napi::Number>().DoubleValue();
    if (!std::isfinite(d) || d != std::floor(d) || d < (double)lo || d > 1e8)
      a.range_error(std::string("params.") + name + " must be an integer >= " + std::to_string(lo) +
                    " but is " + std::to_string(d));
    return (int)d;
  };
  cnn::Conv2dParams p;
  p.n = field("n", 1); p.c_in = field("cIn", 1); p.h = field("h", 1); p.w = field("w", 1);
  p.c_out = field("cOut", 1); p.kh = field("kh", 1); p.kw = field("kw", 1);
  p.stride_h = field("strideH", 1); p.stride_w = field("strideW", 1);
  p.pad_t = field("padT", 0); p.pad_b = field("padB", 0); p.pad_l = field("padL", 0); p.pad_r = field("padR", 0);
  p.dil_h = field("dilH", 1); p.dil_w = field("dilW", 1); p.groups = field("groups", 1);
  if (p.c_in % p.groups || p.c_out % p.groups)
    a.range_error("groups (" + std::to_string(p.groups) + ") must divide cIn (" + std::to_string(p.c_in) +
                  ") and cOut (" + std::to_string(p.c_out) + ")");
  const int64_t eff_h = (int64_t)p.dil_h * (p.kh - 1) + 1, eff_w = (int64_t)p.dil_w * (p.kw - 1) + 1;
  if ((int64_t)p.h + p.pad_t + p.pad_b < eff_h || (int64_t)p.w + p.pad_l + p.pad_r < eff_w)
    a.range_error("kernel (" + std::to_string(eff_h) + "x" + std::to_string(eff_w) +
                  " with dilation) is larger than the padded input");
  const int64_t K = (int64_t)(p.c_in / p.groups) * p.kh * p.kw, P = (int64_t)p.out_h() * p.out_w();
  if ((int64_t)p.n * p.c_in * p.h * p.w > (1LL << 36) || K * P > kMaxIndex || (int64_t)p.n * p.c_out * P > (1LL << 36))
    a.range_error("convolution is too large");
  return p;
}

int64_t x_size(const cnn::Conv2dParams& p) { return (int64_t)p.n * p.c_in * p.h * p.w; }
int64_t w_size(const cnn::Conv2dParams& p) { return (int64_t)p.c_out * (p.c_in / p.groups) * p.kh * p.kw; }
int64_t y_size(const cnn::Conv2dParams& p) { return (int64_t)p.n * p.c_out * p.out_h() * p.out_w(); }

// (params, x, w, b|null, y[, threads])
Napi::Value ConvForwardImpl(const Napi::CallbackInfo& info, bool ref) {
  Args a(info, ref ? "conv2dRefForward" : "conv2dForward");
  a.expect_count(ref ? 5 : 6);
  cnn::Conv2dParams p = read_conv(a, info, 0);
  const float* x = a.floats(1, "x", x_size(p));
  const float* w = a.floats(2, "w", w_size(p));
  const float* b = a.floats_or_null(3, "b", p.c_out);
  float* y = a.floats(4, "y", y_size(p));
  if (ref) cnn::conv2d_ref_forward(p, x, w, b, y);
  else cnn::conv2d_forward(p, x, w, b, y, a.threads(5));
  return info.Env().Undefined();
}
Napi::Value ConvForward(const Napi::CallbackInfo& info) { return ConvForwardImpl(info, false); }
Napi::Value ConvRefForward(const Napi::CallbackInfo& info) { return ConvForwardImpl(info, true); }

// (params, dy, w, dx[, threads])
Napi::Value ConvBackwardInputImpl(const Napi::CallbackInfo& info, bool ref) {
  Args a(info, ref ? "conv2dRefBackwardInput" : "conv2dBackwardInput");
  a.expect_count(ref ? 4 : 5);
  cnn::Conv2dParams p = read_conv(a, info, 0);
  const float* dy = a.floats(1, "dy", y_size(p));
  const float* w = a.floats(2, "w", w_size(p));
  float* dx = a.floats(3, "dx", x_size(p));
  if (ref) cnn::conv2d_ref_backward_input(p, dy, w, dx);
  else cnn::conv2d_backward_input(p, dy, w, dx, a.threads(4));
  return info.Env().Undefined();
}
Napi::Value ConvBackwardInput(const Napi::CallbackInfo& info) { return ConvBackwardInputImpl(info, false); }
Napi::Value ConvRefBackwardInput(const Napi::CallbackInfo& info) { return ConvBackwardInputImpl(info, true); }

// (params, x, dy, dw, db|null[, threads])
Napi::Value ConvBackwardWeightImpl(const Napi::CallbackInfo& info, bool ref) {
  Args a(info, ref ? "conv2dRefBackwardWeight" : "conv2dBackwardWeight");
  a.expect_count(ref ? 5 : 6);
  cnn::Conv2dParams p = read_conv(a, info, 0);
  const float* x = a.floats(1, "x", x_size(p));
  const float* dy = a.floats(2, "dy", y_size(p));
  float* dw = a.floats(3, "dw", w_size(p));
  float* db = a.floats_or_null(4, "db", p.c_out);
  if (ref) cnn::conv2d_ref_backward_weight(p, x, dy, dw, db);
  else cnn::conv2d_backward_weight(p, x, dy, dw, db, a.threads(5));
  return info.Env().Undefined();
}
Napi::Value ConvBackwardWeight(const Napi::CallbackInfo& info) { return ConvBackwardWeightImpl(info, false); }
Napi::Value ConvRefBackwardWeight(const Napi::CallbackInfo& info) { return ConvBackwardWeightImpl(info, true); }

// ---- Elementwise -------------------------------------------------------------------------

// (op, a, aShape, b, bShape, out, outShape, threads): shapes broadcast as in PyTorch.
Napi::Value Binary(const Napi::CallbackInfo& info) {
  Args a(info, "binary");
  a.expect_count(8);
  int op = (int)a.integer(0, "op", 0, 3);
  auto as = a.shape(2, "aShape"), bs = a.shape(4, "bShape"), os = a.shape(6, "outShape");
  const float* pa = a.floats(1, "a", numel(as));
  const float* pb = a.floats(3, "b", numel(bs));
  float* po = a.floats(5, "out", numel(os));
  const int nd = (int)os.size();
  if (as.size() > os.size() || bs.size() > os.size()) a.range_error("operand has more dimensions than out");
  int64_t sa[cnn::kMaxDims], sb[cnn::kMaxDims];
  auto strides = [&](const std::vector<int64_t>& s, int64_t* st, const char* name) {
    int64_t stride = 1;
    const int off = nd - (int)s.size();
    for (int d = nd - 1; d >= 0; --d) {
      int64_t ext = d >= off ? s[d - off] : 1;
      if (ext != os[d] && ext != 1)
        a.range_error(std::string(name) + " cannot broadcast to outShape");
      st[d] = ext == 1 ? 0 : stride;
      stride *= ext;
    }
  };
  strides(as, sa, "aShape");
  strides(bs, sb, "bShape");
  cnn::binary_broadcast(static_cast<cnn::BinaryOp>(op), pa, sa, pb, sb, po, os.data(), nd, a.threads(7));
  return info.Env().Undefined();
}

// (x, shape, out, target): sums x over the axes where target (same rank) has extent 1.
Napi::Value SumToShape(const Napi::CallbackInfo& info) {
  Args a(info, "sumToShape");
  a.expect_count(4);
  auto s = a.shape(1, "shape"), t = a.shape(3, "target");
  if (s.size() != t.size()) a.range_error("shape and target must have the same rank");
  for (size_t d = 0; d < s.size(); ++d)
    if (t[d] != s[d] && t[d] != 1) a.range_error("target extents must equal shape's or be 1");
  const float* x = a.floats(0, "x", numel(s));
  float* out = a.floats(2, "out", numel(t));
  cnn::sum_to_shape(x, s.data(), (int)s.size(), out, t.data());
  return info.Env().Undefined();
}

// Checks (x, y) of equal length, reading threads at `ti`.
Napi::Value ReluForward(const Napi::CallbackInfo& info) {
  Args a(info, "reluForward");
  a.expect_count(3);
  const float* x = a.floats(0, "x", 0, false);
  int64_t n = info[0].As<Napi::Float32Array>().ElementLength();
  float* y = a.floats(1, "y", n);
  cnn::relu_forward(x, y, n, a.threads(2));
  return info.Env().Undefined();
}

Napi::Value ReluBackward(const Napi::CallbackInfo& info) {
  Args a(info, "reluBackward");
  a.expect_count(4);
  const float* x = a.floats(0, "x", 0, false);
  int64_t n = info[0].As<Napi::Float32Array>().ElementLength();
  const float* dy = a.floats(1, "dy", n);
  float* dx = a.floats(2, "dx", n);
  cnn::relu_backward(x, dy, dx, n, a.threads(3));
  return info.Env().Undefined();
}

// (x, y, lo, hi, threads)
Napi::Value HardtanhForward(const Napi::CallbackInfo& info) {
  Args a(info, "hardtanhForward");
  a.expect_count(5);
  const float* x = a.floats(0, "x", 0, false);
  int64_t n = info[0].As<Napi::Float32Array>().ElementLength();
  float* y = a.floats(1, "y", n);
  float lo = a.number(2, "lo"), hi = a.number(3, "hi");
  if (!(lo <= hi)) a.range_error("lo must not exceed hi");
  cnn::hardtanh_forward(x, y, n, lo, hi, a.threads(4));
  return info.Env().Undefined();
}

// (x, dy, dx, lo, hi, threads)
Napi::Value HardtanhBackward(const Napi::CallbackInfo& info) {
  Args a(info, "hardtanhBackward");
  a.expect_count(6);
  const float* x = a.floats(0, "x", 0, false);
  int64_t n = info[0].As<Napi::Float32Array>().ElementLength();
  const float* dy = a.floats(1, "dy", n);
  float* dx = a.floats(2, "dx", n);
  cnn::hardtanh_backward(x, dy, dx, n, a.number(3, "lo"), a.number(4, "hi"), a.threads(5));
  return info.Env().Undefined();
}

// (alpha, x, y, threads): y += alpha·x
Napi::Value Axpy(const Napi::CallbackInfo& info) {
  Args a(info, "axpy");
  a.expect_count(4);
  float alpha = a.number(0, "alpha");
  const float* x = a.floats(1, "x", 0, false);
  int64_t n = info[1].As<Napi::Float32Array>().ElementLength();
  float* y = a.floats(2, "y", n);
  cnn::axpy(alpha, x, y, n, a.threads(3));
  return info.Env().Undefined();
}

// (alpha, x, y, threads): y = alpha·x
Napi::Value Scale(const Napi::CallbackInfo& info) {
  Args a(info, "scale");
  a.expect_count(4);
  float alpha = a.number(0, "alpha");
  const float* x = a.floats(1, "x", 0, false);
  int64_t n = info[1].As<Napi::Float32Array>().ElementLength();
  float* y = a.floats(2, "y", n);
  cnn::scale(alpha, x, y, n, a.threads(3));
  return info.Env().Undefined();
}

Napi::Value Sum(const Napi::CallbackInfo& info) {
  Args a(info, "sum");
  a.expect_count(1);
  const float* x = a.floats(0, "x", 0, false);
  int64_t n = info[0].As<Napi::Float32Array>().ElementLength();
  return Napi::Number::New(info.Env(), cnn::sum(x, n));
}

// Tensors are large, short-lived typed arrays. glibc would serve each from a fresh mmap and
// hand it back on free, so every op paid page faults on its output; keeping them in the heap
// (up to 256 MiB each) makes a LeNet training step about 20% faster.
void keep_tensor_memory_in_heap() {
#if defined(__GLIBC__)
  mallopt(M_MMAP_THRESHOLD, 256 << 20);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
#endif
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  keep_tensor_memory_in_heap();
  exports.Set("cpuInfo", Napi::Function::New(env, CpuInfo));
  exports.Set("setIsa", Napi::Function::New(env, SetIsa));
  exports.Set("gemm", Napi::Function::New(env, Gemm));
  exports.Set("gemmRef", Napi::Function::New(env, GemmRef));
  exports.Set("conv2dForward", Napi::Function::New(env, ConvForward));
  exports.Set("conv2dBackwardInput", Napi::Function::New(env, ConvBackwardInput));
  exports.Set("conv2dBackwardWeight", Napi::Function::New(env, ConvBackwardWeight));
  exports.Set("conv2dRefForward", Napi::Function::New(env, ConvRefForward));
  exports.Set("conv2dRefBackwardInput", Napi::Function::New(env, ConvRefBackwardInput));
  exports.Set("conv2dRefBackwardWeight", Napi::Function::New(env, ConvRefBackwardWeight));
  exports.Set("binary", Napi::Function::New(env, Binary));
  exports.Set("sumToShape", Napi::Function::New(env, SumToShape));
  exports.Set("reluForward", Napi::Function::New(env, ReluForward));
  exports.Set("reluBackward", Napi::Function::New(env, ReluBackward));
  exports.Set("hardtanhForward", Napi::Function::New(env, HardtanhForward));
  exports.Set("hardtanhBackward", Napi::Function::New(env, HardtanhBackward));
  exports.Set("axpy", Napi::Function::New(env, Axpy));
  exports.Set("scale", Napi::Function::New(env, Scale));
  exports.Set("sum", Napi::Function::New(env, Sum));
  register_family_bindings(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(cnn, Init)
