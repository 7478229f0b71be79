// Single-precision GEMM: C(m×n) = alpha·op(A)·op(B) + beta·C, all row-major.
// op(A) is m×k (A is k×m when transA), op(B) is k×n (B is n×k when transB).
#pragma once
#include <cstdint>

#include "cpu/cpu.h"

namespace cnn {

// The fast path, on the active ISA, with `threads` OpenMP threads.
void sgemm(bool transA, bool transB, int m, int n, int k, float alpha, const float* A, int lda,
           const float* B, int ldb, float beta, float* C, int ldc, int threads);

// The same on a named ISA (tests and `cnn doctor` compare every variant).
void sgemm_isa(Isa isa, bool transA, bool transB, int m, int n, int k, float alpha, const float* A,
               int lda, const float* B, int ldb, float beta, float* C, int ldc, int threads);

// C = alpha·A·B + beta·C on `threads` threads with B (k × n) given by rows as for
// sgemm_packed_rows below: a batch's grid of padded images, packed straight from them.
void sgemm_rows(Isa isa, int m, int n, int k, float alpha, const float* A, int lda, const float* const* rows, int seg,
                long seg_stride, float beta, float* C, int ldc, int threads);

// C = alpha·A·Bᵀ + beta·C the same way with B (n × k) given by rows: row j is rows[j], its
// column p at p / seg · seg_stride + p % seg (a convolution's weight gradient: dY times the
// transposed tap rows of a batch's padded images, with no column matrix).
void sgemm_rows_t(Isa isa, int m, int n, int k, float alpha, const float* A, int lda, const float* const* rows, int seg,
                  long seg_stride, float beta, float* C, int ldc, int threads);

// A left factor packed once for many single-threaded products: a convolution's weights, shared
// by threads that each take a slice of the images. Ap holds sgemm_packed_a_floats(isa, m, k).
long sgemm_packed_a_floats(Isa isa, int m, int k);
void sgemm_pack_a(Isa isa, bool transA, int m, int k, const float* A, int lda, float* Ap);
// Only the row panels of rows [r0, r1) (r0 a multiple of the ISA's mr), in the same places: threads
// can each pack a share of a large left factor.
void sgemm_pack_a_rows(Isa isa, bool transA, int m, int k, const float* A, int lda, int r0, int r1, float* Ap);
// The layout, for packers of their own: columns in k-blocks of this depth one after another
// (the last shorter), each block kc deep holding the mr-row panels in turn, panel i's column p at
// block start + i·mr·kc + p·mr (rows past m zero).
int sgemm_pack_a_depth(Isa isa, int k);
// C(m×n) = alpha·A·op(B) + beta·C on the calling thread, A packed by sgemm_pack_a (same isa, m, k).
void sgemm_packed(Isa isa, int m, int n, int k, float alpha, const float* Ap, bool transB,
                  const float* B, int ldb, float beta, float* C, int ldc);
// Only C's rows [r0, r1) of that product (r0 a multiple of the ISA's mr; C, Ap as for all of it):
// threads can each take a share of a left factor packed once.
void sgemm_packed_part(Isa isa, int m, int r0, int r1, int n, int k, float alpha, const float* Ap, bool transB,
                       const float* B, int ldb, float beta, float* C, int ldc);
// The same with B (k × n) given by rows: row p is n floats from rows[p], in segments of `seg`
// floats `seg_stride` apart (column j at rows[p][(j / seg)·seg_stride + j % seg]; seg = n: one run).
// A convolution's column matrix is rows of the padded image at shifted offsets, each output
// row a segment, so it is packed straight from the image, skipping the padding columns.
void sgemm_packed_rows(Isa isa, int m, int n, int k, float alpha, const float* Ap,
                       const float* const* rows, int seg, long seg_stride, float beta, float* C, int ldc);

// A right factor op(B) = Bᵀ (B is n × k, rows ldb apart) packed whole, k rows deep, into
// sgemm_packed_bt_floats(isa, n, k) floats at 64-byte aligned out; a product may start at any
// row p0 of it. The weight gradient's taps are shifted windows of one packed image.
long sgemm_packed_bt_floats(Isa isa, int n, int k);
void sgemm_pack_bt(Isa isa, int n, int k, const float* B, int ldb, float* out);
// C(m×n) = alpha·A·B + beta·C on the calling thread: A packed by sgemm_pack_a (same isa, m, k), B
// rows [p0, p0 + k) of factors packed by sgemm_pack_bt `depth` rows deep (p0 + k <= depth).
void sgemm_packed_both(Isa isa, int m, int n, int k, float alpha, const float* Ap, const float* Bp, int depth,
                       int p0, float beta, float* C, int ldc);

// The last float of a buffer packed once for many calls from its first 64-byte boundary (the
// panels the kernels load aligned): the ISA it was packed for and how far in that boundary lies,
// so that another ISA's packing, or a copy at another alignment, is not taken for it.
inline float packed_tag(Isa isa, const float* base) {
  return (float)((int)isa * 16 + (int)((-(uintptr_t)base & 63) / sizeof(float)));
}
// op(B) (k × n; B is n × k when transB) packed whole, once, for many products with it (eval's
// Linear weights): sgemm_prepacked_b_floats(isa, n, k) floats, from the first 64-byte boundary
// in them (16 to spare), the last its packed_tag.
long sgemm_prepacked_b_floats(Isa isa, int n, int k);
void sgemm_prepack_b(Isa isa, bool transB, int n, int k, const float* B, int ldb, float* out);
// Whether Bp is op(B) packed by sgemm_prepack_b for isa, n and k, where it lies (its tag).
bool sgemm_prepacked_fits(Isa isa, int n, int k, const float* Bp);
// sgemm on the active ISA with op(B) also given packed by sgemm_prepack_b (Bp; null, or packed for
// another ISA, packs B as sgemm does): the same bits as sgemm, without packing B per call.
void sgemm_prepacked(bool transA, bool transB, int m, int n, int k, float alpha, const float* A, int lda,
                     const float* B, int ldb, const float* Bp, float beta, float* C, int ldc, int threads);
// The same with op(B) only as packed by sgemm_prepack_b for isa, n and k (Bp: the buffer it was
// packed into), whose tag the caller has checked with its own: a fused block's weights kept in a
// buffer of several packings (convnext_mlp.h).
void sgemm_packed_b(Isa isa, bool transA, int m, int n, int k, float alpha, const float* A, int lda, const float* Bp,
                    float beta, float* C, int ldc, int threads);
// Triple loop with double accumulation: the reference every variant is tested against.
void gemm_ref(bool transA, bool transB, int m, int n, int k, float alpha, const float* A, int lda,
              const float* B, int ldb, float beta, float* C, int ldc);

// A register-blocked micro-kernel: C(mr×nr, ldc) = alpha · Ap(kc×mr packed) · Bp(kc×nr packed)
// + beta · C. Ap holds column p of the tile at Ap[p*mr .. p*mr+mr), Bp row p at
// Bp[p*nr .. p*nr+nr); Bp is 64-byte aligned (kernels may use aligned loads on it), Ap only
// float-aligned. beta == 0 overwrites C without reading it.
using GemmMicroKernel = void (*)(int kc, const float* Ap, const float* Bp, float* C, long ldc,
                                 float alpha, float beta);

// A leftover tile: the micro-kernel's product restricted to its first rows × cols (rows <= mr,
// cols <= nr, packed as for the full tile), C touched only there. Optional (nullptr: the driver
// computes a full tile into scratch and copies the part it needs).
using GemmEdgeKernel = void (*)(int kc, const float* Ap, const float* Bp, float* C, long ldc, float alpha,
                                float beta, int rows, int cols);

// Optional SIMD packers for the transposing copies (nullptr: the driver's portable loops).
// GemmPackA: one full mr-row panel of row-major A (A points at row i0, column p0) into
// out[p*mr + i]. GemmPackBT: one full nr-column panel of op(B) = Bᵀ (B points at row j0,
// column p0 of the n×k source) into out[p*nr + j].
using GemmPackA = void (*)(const float* A, long lda, int kc, float* out);
using GemmPackBT = void (*)(const float* B, long ldb, int kc, float* out);
// GemmPackGather: one full nr-column panel of rows[0 .. kc), column j of row p at rows[p][off[j]]
// (off increasing; -1 past the matrix's last column, packed as 0) into out[p*nr + j], out
// 64-byte aligned. A convolution's grid columns: output rows of a padded image, the padding
// between them skipped. False, having written nothing, where the offsets spread too far apart
// for the ISA's in-register gather (the driver's piecewise copies then pack the panel).
using GemmPackGather = bool (*)(const float* const* rows, int kc, const int* off, float* out);
// `iters` rounds of independent FMA chains, as many as the micro-kernel keeps accumulators, in
// the ISA's widest registers: the ceiling a micro-kernel can reach. Returns the flops done.
using FmaLoop = double (*)(long iters);

struct GemmKernel {
  int mr, nr;      // register tile
  int kc, mc, nc;  // cache blocks: kc×nr fits L1, mc×kc fits L2, kc×nc fits L3
  GemmMicroKernel micro;
  GemmEdgeKernel edge;
  GemmPackA pack_a;    // for op(A) = A
  GemmPackBT pack_bt;  // for op(B) = Bᵀ
  FmaLoop fma_loop;
  GemmPackGather pack_gather;  // B by rows of segments (nullptr: the piecewise copies)
};

const GemmKernel& gemm_kernel_for(Isa isa);

// The measured FMA peak in GFLOP/s of `threads` cores running the ISA's FMA loop at once
// (what `cnn bench ops` divides by): the best of many short rounds.
double fma_peak_gflops(Isa isa, int threads);

extern const GemmKernel gemm_kernel_scalar;
#if defined(CNN_X86)
extern const GemmKernel gemm_kernel_avx2;
extern const GemmKernel gemm_kernel_avx512;
#endif
#if defined(CNN_ARM64)
extern const GemmKernel gemm_kernel_neon;
#endif

}  // namespace cnn
