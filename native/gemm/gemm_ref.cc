#include "gemm/gemm.h"

namespace cnn {

void gemm_ref(bool transA, bool transB, int m, int n, int k, float alpha, const float* A, int lda,
              const float* B, int ldb, float beta, float* C, int ldc) {
  for (int i = 0; i < m; ++i) {
    for (int j = 0; j < n; ++j) {
      double acc = 0.0;
      for (int p = 0; p < k; ++p) {
        double a = transA ? A[(long)p * lda + i] : A[(long)i * lda + p];
        double b = transB ? B[(long)j * ldb + p] : B[(long)p * ldb + j];
        acc += a * b;
      }
      float& c = C[(long)i * ldc + j];
      c = (float)(alpha * acc + (beta == 0.0f ? 0.0 : (double)beta * c));
    }
  }
}

}  // namespace cnn
