// Bindings for native/gemm: C = alpha·op(A)·op(B) + beta·C, row-major with leading dimensions.
#include <napi.h>

#include <algorithm>
#include <string>

#include "bindings/chain_layers.h"
#include "bindings/registry.h"
#include "gemm/gemm.h"
#include "gemm/small_chain.h"
#include "gemm/small_linear_grad.h"

#include <cstdint>
#include <vector>

namespace {

using namespace cnn_binding;

struct GemmCall {
  bool ta, tb;
  int m, n, k;
  float alpha, beta;
  const float *A, *B;
  float* C;
  int lda, ldb, ldc;
};

// (params {transA, transB, m, n, k, alpha, beta, lda, ldb, ldc}, A, B, C, ...)
GemmCall read_gemm(const Args& a) {
  const Fields f = a.object(0, "params");
  GemmCall g;
  g.ta = f.boolean("transA");
  g.tb = f.boolean("transB");
  g.m = (int)f.integer("m", 0, kMaxIndex);
  g.n = (int)f.integer("n", 0, kMaxIndex);
  g.k = (int)f.integer("k", 0, kMaxIndex);
  g.alpha = (float)f.number("alpha");
  g.beta = (float)f.number("beta");
  const int64_t a_rows = g.ta ? g.k : g.m, a_cols = g.ta ? g.m : g.k;
  const int64_t b_rows = g.tb ? g.n : g.k, b_cols = g.tb ? g.k : g.n;
  g.lda = (int)f.integer("lda", std::max<int64_t>(1, a_cols), kMaxIndex);
  g.ldb = (int)f.integer("ldb", std::max<int64_t>(1, b_cols), kMaxIndex);
  g.ldc = (int)f.integer("ldc", std::max<int64_t>(1, g.n), kMaxIndex);
  auto need = [](int64_t rows, int64_t cols, int64_t ld) { return rows == 0 || cols == 0 ? 0 : (rows - 1) * ld + cols; };
  g.A = a.floats(1, "A", need(a_rows, a_cols, g.lda), false);
  g.B = a.floats(2, "B", need(b_rows, b_cols, g.ldb), false);
  g.C = a.floats(3, "C", need(g.m, g.n, g.ldc), false);
  return g;
}

// (params, A, B, C, threads); params.packedB: op(B) packed by gemmPackB (eval's cache of a Linear
// layer's weights), multiplied as it is where it was packed for the active ISA.
Napi::Value Gemm(const Args& a) {
  a.expect_count(5);
  const GemmCall g = read_gemm(a);
  const float* packed = a.object(0, "params").floats_or_null("packedB", cnn::sgemm_prepacked_b_floats(cnn::active_isa(), g.n, g.k));
  cnn::sgemm_prepacked(g.ta, g.tb, g.m, g.n, g.k, g.alpha, g.A, g.lda, g.B, g.ldb, packed, g.beta, g.C, g.ldc, a.threads(4));
  return a.undefined();
}

// (n, k) → the floats gemmPackB writes for op(B) of n columns and depth k, on the active ISA.
Napi::Value GemmPackedFloats(const Args& a) {
  a.expect_count(2);
  const int n = (int)a.integer(0, "n", 0, kMaxIndex), k = (int)a.integer(1, "k", 0, kMaxIndex);
  return Napi::Number::New(a.env(), (double)cnn::sgemm_prepacked_b_floats(cnn::active_isa(), n, k));
}

// ({transB, n, k, ldb}, B, out): op(B) packed whole for gemm's params.packedB, on the active ISA.
Napi::Value GemmPackB(const Args& a) {
  a.expect_count(3);
  const Fields f = a.object(0, "params");
  const bool tb = f.boolean("transB");
  const int n = (int)f.integer("n", 0, kMaxIndex), k = (int)f.integer("k", 0, kMaxIndex);
  const int64_t rows = tb ? n : k, cols = tb ? k : n;
  const int ldb = (int)f.integer("ldb", std::max<int64_t>(1, cols), kMaxIndex);
  const float* B = a.floats(1, "B", rows == 0 || cols == 0 ? 0 : (rows - 1) * ldb + cols, false);
  float* out = a.floats(2, "out", cnn::sgemm_prepacked_b_floats(cnn::active_isa(), n, k));
  cnn::sgemm_prepack_b(cnn::active_isa(), tb, n, k, B, ldb, out);
  return a.undefined();
}

// (params, A, B, C)
Napi::Value GemmRef(const Args& a) {
  a.expect_count(4);
  const GemmCall g = read_gemm(a);
  cnn::gemm_ref(g.ta, g.tb, g.m, g.n, g.k, g.alpha, g.A, g.lda, g.B, g.ldb, g.beta, g.C, g.ldc);
  return a.undefined();
}

// (isa, threads) → GFLOP/s of the ISA's FMA loop on `threads` threads at once.
Napi::Value FmaPeak(const Args& a) {
  a.expect_count(2);
  const cnn::Isa isa = a.choice<cnn::Isa>(0, "isa", cnn::parse_isa, "kernel variant", "scalar, neon, avx2 or avx512");
  if (!cnn::isa_supported(isa)) a.range_error(std::string("this CPU does not support the '") + cnn::isa_name(isa) + "' kernels");
  return Napi::Number::New(a.env(), cnn::fma_peak_gflops(isa, a.threads(1)));
}

// ({m, layers: [{inFeatures, outFeatures, weight, bias, clamp: [lo, hi], packed, fresh}]}, x, y, threads):
// y = each layer's clamp(x·Wᵀ + b) in turn (linear_chain_forward).
Napi::Value LinearChainForward(const Args& a) {
  a.expect_count(4);
  const Fields f = a.object(0, "params");
  const int m = (int)f.integer("m", 0, kMaxIndex);
  const std::vector<cnn::ChainLayer> layers = read_chain_layers(a, f);
  a.check_size({m, layers.front().in}, "x size");
  a.check_size({m, layers.back().out}, "y size");
  const float* x = a.floats(1, "x", (int64_t)m * layers.front().in);
  float* y = a.floats(2, "y", (int64_t)m * layers.back().out);
  cnn::linear_chain_forward(cnn::active_isa(), m, x, layers.data(), (int)layers.size(), y, a.threads(3));
  return a.undefined();
}

// (outFeatures, inFeatures) → the Float32Array length a layer's `packed` buffer needs.
Napi::Value LinearChainPackedLength(const Args& a) {
  a.expect_count(2);
  const int out = (int)a.integer(0, "outFeatures", 1, kMaxIndex), in = (int)a.integer(1, "inFeatures", 1, kMaxIndex);
  a.check_size({out, in}, "weight size");
  return Napi::Number::New(a.env(), (double)(cnn::linear_chain_packed_floats(out, in) + kPackedExtra));
}

// ({m, inFeatures, outFeatures}, x, w, dy, dx, dw, db, threads): a Linear layer's gradients,
// each of dx, dw, db null where not wanted (linear_backward).
Napi::Value LinearBackward(const Args& a) {
  a.expect_count(8);
  const Fields f = a.object(0, "params");
  const int m = (int)f.integer("m", 0, kMaxIndex), in = (int)f.integer("inFeatures", 0, kMaxIndex),
            out = (int)f.integer("outFeatures", 0, kMaxIndex);
  a.check_size({m, in}, "x size");
  a.check_size({m, out}, "dy size");
  a.check_size({out, in}, "w size");
  const float* x = a.floats(1, "x", (int64_t)m * in);
  const float* w = a.floats(2, "w", (int64_t)out * in);
  const float* dy = a.floats(3, "dy", (int64_t)m * out);
  float* dx = a.floats_or_null(4, "dx", (int64_t)m * in);
  float* dw = a.floats_or_null(5, "dw", (int64_t)out * in);
  float* db = a.floats_or_null(6, "db", out);
  cnn::linear_backward(cnn::active_isa(), m, in, out, x, w, dy, dx, dw, db, a.threads(7));
  return a.undefined();
}

const Registration rows({
    {"gemm", Gemm},
    {"gemmPackedFloats", GemmPackedFloats},
    {"gemmPackB", GemmPackB},
    {"gemmRef", GemmRef},
    {"fmaPeak", FmaPeak},
    {"linearChainForward", LinearChainForward},
    {"linearChainPackedLength", LinearChainPackedLength},
    {"linearBackward", LinearBackward},
});

}  // namespace
