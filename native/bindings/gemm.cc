// Bindings for native/gemm: C = alpha·op(A)·op(B) + beta·C, row-major with leading dimensions.
#include <napi.h>

#include <algorithm>

#include "bindings/registry.h"
#include "gemm/gemm.h"

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

// (transA, transB, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc, ...)
GemmCall read_gemm(const Args& a) {
  GemmCall g;
  g.ta = a.boolean(0, "transA");
  g.tb = a.boolean(1, "transB");
  g.m = (int)a.integer(2, "m", 0, kMaxIndex);
  g.n = (int)a.integer(3, "n", 0, kMaxIndex);
  g.k = (int)a.integer(4, "k", 0, kMaxIndex);
  g.alpha = (float)a.number(5, "alpha");
  const int64_t a_rows = g.ta ? g.k : g.m, a_cols = g.ta ? g.m : g.k;
  const int64_t b_rows = g.tb ? g.n : g.k, b_cols = g.tb ? g.k : g.n;
  g.lda = (int)a.integer(7, "lda", std::max<int64_t>(1, a_cols), kMaxIndex);
  g.ldb = (int)a.integer(9, "ldb", std::max<int64_t>(1, b_cols), kMaxIndex);
  g.beta = (float)a.number(10, "beta");
  g.ldc = (int)a.integer(12, "ldc", std::max<int64_t>(1, g.n), kMaxIndex);
  auto need = [](int64_t rows, int64_t cols, int64_t ld) { return rows == 0 || cols == 0 ? 0 : (rows - 1) * ld + cols; };
  g.A = a.floats(6, "A", need(a_rows, a_cols, g.lda), false);
  g.B = a.floats(8, "B", need(b_rows, b_cols, g.ldb), false);
  g.C = a.floats(11, "C", need(g.m, g.n, g.ldc), false);
  return g;
}

// (..., threads)
Napi::Value Gemm(const Args& a) {
  a.expect_count(14);
  const GemmCall g = read_gemm(a);
  cnn::sgemm(g.ta, g.tb, g.m, g.n, g.k, g.alpha, g.A, g.lda, g.B, g.ldb, g.beta, g.C, g.ldc, a.threads(13));
  return a.undefined();
}

Napi::Value GemmRef(const Args& a) {
  a.expect_count(13);
  const GemmCall g = read_gemm(a);
  cnn::gemm_ref(g.ta, g.tb, g.m, g.n, g.k, g.alpha, g.A, g.lda, g.B, g.ldb, g.beta, g.C, g.ldc);
  return a.undefined();
}

const Registration rows({
    {"gemm", Gemm},
    {"gemmRef", GemmRef},
});

}  // namespace
