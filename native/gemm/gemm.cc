// GEMM driver with the BLIS loop structure: jc (NC) → pc (KC, pack B) → ic (MC, pack A)
// → jr × ir register tiles on the ISA's micro-kernel. One OpenMP region per call; threads
// share the packed panels and split packing and tiles between them.
#include "gemm/gemm.h"

#include <omp.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace cnn {

static const GemmKernel& kernel_for(Isa isa) {
  switch (isa) {
#if defined(CNN_X86)
    case Isa::Avx2: return gemm_kernel_avx2;
    case Isa::Avx512: return gemm_kernel_avx512;
#endif
#if defined(CNN_ARM64)
    case Isa::Neon: return gemm_kernel_neon;
#endif
    default: return gemm_kernel_scalar;
  }
}

// Per-OS-thread, 64-byte aligned scratch that only grows, so steady-state calls never allocate.
namespace {
struct Scratch {
  float* ptr = nullptr;
  size_t cap = 0;
  ~Scratch() { std::free(ptr); }
  float* get(size_t floats) {
    if (floats > cap) {
      std::free(ptr);
      size_t bytes = (floats * sizeof(float) + 63) / 64 * 64;
      ptr = static_cast<float*>(std::aligned_alloc(64, bytes));
      cap = floats;
    }
    return ptr;
  }
};
}  // namespace

// Packs op(A)[i0 .. i0+mc) × [p0 .. p0+kc) panel `panel` (mr rows), zero-padding short panels.
static void pack_a_panel(bool transA, const float* A, int lda, int i0, int p0, int mc, int kc,
                         int mr, int panel, float* out) {
  const int r0 = panel * mr;
  const int rows = std::min(mr, mc - r0);
  float* dst = out + (long)panel * mr * kc;
  if (transA) {
    for (int p = 0; p < kc; ++p) {
      const float* src = A + (long)(p0 + p) * lda + i0 + r0;
      int i = 0;
      for (; i < rows; ++i) dst[p * mr + i] = src[i];
      for (; i < mr; ++i) dst[p * mr + i] = 0.0f;
    }
  } else {
    for (int i = 0; i < rows; ++i) {
      const float* src = A + (long)(i0 + r0 + i) * lda + p0;
      for (int p = 0; p < kc; ++p) dst[p * mr + i] = src[p];
    }
    for (int i = rows; i < mr; ++i)
      for (int p = 0; p < kc; ++p) dst[p * mr + i] = 0.0f;
  }
}

// Packs op(B)[p0 .. p0+kc) × [j0 .. j0+nc) panel `panel` (nr columns), zero-padding.
static void pack_b_panel(bool transB, const float* B, int ldb, int p0, int j0, int kc, int nc,
                         int nr, int panel, float* out) {
  const int c0 = panel * nr;
  const int cols = std::min(nr, nc - c0);
  float* dst = out + (long)panel * nr * kc;
  if (transB) {
    for (int j = 0; j < cols; ++j) {
      const float* src = B + (long)(j0 + c0 + j) * ldb + p0;
      for (int p = 0; p < kc; ++p) dst[p * nr + j] = src[p];
    }
    for (int j = cols; j < nr; ++j)
      for (int p = 0; p < kc; ++p) dst[p * nr + j] = 0.0f;
  } else {
    for (int p = 0; p < kc; ++p) {
      const float* src = B + (long)(p0 + p) * ldb + j0 + c0;
      int j = 0;
      for (; j < cols; ++j) dst[p * nr + j] = src[j];
      for (; j < nr; ++j) dst[p * nr + j] = 0.0f;
    }
  }
}

void sgemm_isa(Isa isa, bool transA, bool transB, int m, int n, int k, float alpha, const float* A,
               int lda, const float* B, int ldb, float beta, float* C, int ldc, int threads) {
  if (m <= 0 || n <= 0) return;
  const GemmKernel& K = kernel_for(isa);
  const int MR = K.mr, NR = K.nr;
  const int KC = std::min(K.kc, std::max(k, 1));
  const int MC = std::min(K.mc, (m + MR - 1) / MR * MR);
  const int NC = std::min(K.nc, (n + NR - 1) / NR * NR);
  // Below ~32^3 multiply-adds a second thread costs more than it saves.
  const double work = (double)m * n * std::max(k, 1);
  const int nt = work < 32768.0 ? 1 : std::max(1, threads);

  thread_local Scratch scratch_a, scratch_b;
  float* Ap = scratch_a.get((size_t)MC * KC);
  float* Bp = scratch_b.get((size_t)NC * KC);

#pragma omp parallel num_threads(nt) if (nt > 1)
  {
    if (beta != 1.0f) {
#pragma omp for schedule(static)
      for (int i = 0; i < m; ++i) {
        float* row = C + (long)i * ldc;
        if (beta == 0.0f) std::memset(row, 0, sizeof(float) * n);
        else for (int j = 0; j < n; ++j) row[j] *= beta;
      }
    }
    if (k > 0 && alpha != 0.0f) {
      for (int jc = 0; jc < n; jc += NC) {
        const int nc = std::min(NC, n - jc);
        const int npn = (nc + NR - 1) / NR;
        for (int pc = 0; pc < k; pc += KC) {
          const int kc = std::min(KC, k - pc);
#pragma omp for schedule(static)
          for (int jp = 0; jp < npn; ++jp) pack_b_panel(transB, B, ldb, pc, jc, kc, nc, NR, jp, Bp);
          for (int ic = 0; ic < m; ic += MC) {
            const int mc = std::min(MC, m - ic);
            const int npm = (mc + MR - 1) / MR;
#pragma omp for schedule(static)
            for (int ip = 0; ip < npm; ++ip) pack_a_panel(transA, A, lda, ic, pc, mc, kc, MR, ip, Ap);
#pragma omp for collapse(2) schedule(static)
            for (int jr = 0; jr < npn; ++jr) {
              for (int ir = 0; ir < npm; ++ir) {
                const float* a = Ap + (long)ir * MR * kc;
                const float* b = Bp + (long)jr * NR * kc;
                float* c = C + (long)(ic + ir * MR) * ldc + jc + jr * NR;
                const int rows = std::min(MR, mc - ir * MR);
                const int cols = std::min(NR, nc - jr * NR);
                if (rows == MR && cols == NR) {
                  K.micro(kc, a, b, c, ldc, alpha);
                } else {
                  alignas(64) float tile[16 * 32];
                  std::memset(tile, 0, sizeof(float) * MR * NR);
                  K.micro(kc, a, b, tile, NR, alpha);
                  for (int i = 0; i < rows; ++i)
                    for (int j = 0; j < cols; ++j) c[(long)i * ldc + j] += tile[i * NR + j];
                }
              }
            }
          }
        }
      }
    }
  }
}

void sgemm(bool transA, bool transB, int m, int n, int k, float alpha, const float* A, int lda,
           const float* B, int ldb, float beta, float* C, int ldc, int threads) {
  sgemm_isa(active_isa(), transA, transB, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc, threads);
}

}  // namespace cnn
