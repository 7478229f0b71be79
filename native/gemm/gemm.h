// Single-precision GEMM: C(m×n) = alpha·op(A)·op(B) + beta·C, all row-major.
// op(A) is m×k (A is k×m when transA), op(B) is k×n (B is n×k when transB).
#pragma once
#include "cpu/cpu.h"

namespace cnn {

// The fast path, on the active ISA, with `threads` OpenMP threads.
void sgemm(bool transA, bool transB, int m, int n, int k, float alpha, const float* A, int lda,
           const float* B, int ldb, float beta, float* C, int ldc, int threads);

// The same on a named ISA (tests and `cnn doctor` compare every variant).
void sgemm_isa(Isa isa, bool transA, bool transB, int m, int n, int k, float alpha, const float* A,
               int lda, const float* B, int ldb, float beta, float* C, int ldc, int threads);

// Triple loop with double accumulation: the reference every variant is tested against.
void gemm_ref(bool transA, bool transB, int m, int n, int k, float alpha, const float* A, int lda,
              const float* B, int ldb, float beta, float* C, int ldc);

// A register-blocked micro-kernel: C(mr×nr, ldc) = alpha · Ap(kc×mr packed) · Bp(kc×nr packed)
// + beta · C. Ap holds column p of the tile at Ap[p*mr .. p*mr+mr), Bp row p at
// Bp[p*nr .. p*nr+nr), both 64-byte aligned. beta == 0 overwrites C without reading it.
using GemmMicroKernel = void (*)(int kc, const float* Ap, const float* Bp, float* C, long ldc,
                                 float alpha, float beta);

struct GemmKernel {
  int mr, nr;      // register tile
  int kc, mc, nc;  // cache blocks: kc×nr fits L1, mc×kc fits L2, kc×nc fits L3
  GemmMicroKernel micro;
};

extern const GemmKernel gemm_kernel_scalar;
#if defined(CNN_X86)
extern const GemmKernel gemm_kernel_avx2;
extern const GemmKernel gemm_kernel_avx512;
#endif
#if defined(CNN_ARM64)
extern const GemmKernel gemm_kernel_neon;
#endif

}  // namespace cnn
