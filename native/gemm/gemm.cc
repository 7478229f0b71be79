// GEMM driver with the BLIS loop structure: jc (NC) → pc (KC, pack B) → ic (MC, pack A)
// → jr × ir register tiles on the ISA's micro-kernel. One OpenMP region per call.
//
// Threads form a tm × tn grid over C (rows in MR panels, columns in NR panels), chosen per call
// so that both square and short-wide (m = 64) shapes split evenly. Each thread packs its own A
// block into private scratch (it stays in that core's L2); the packed B block is shared when
// tm > 1 (packed cooperatively, two barriers per k-block) and private per column range when
// tm == 1 (no barriers at all). beta is applied by the first k-block's micro-kernel calls, so
// C is never swept separately.
#include "gemm/gemm.h"
#include "cpu/profile.h"

#include <omp.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <vector>
#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace cnn {

const GemmKernel& gemm_kernel_for(Isa isa) {
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

namespace {

// Per-OS-thread, 64-byte aligned scratch that only grows, so steady-state calls never allocate.
// OpenMP reuses its worker threads, so each worker keeps its own A buffer between calls.
struct Scratch {
  float* ptr = nullptr;
  size_t cap = 0;
  ~Scratch() { std::free(ptr); }
  float* get(size_t floats) {
    if (floats > cap) {
      std::free(ptr);
      // Large buffers on 2 MiB huge pages: packing writes panels kc·nr floats apart, one TLB
      // entry per 4 KiB page would not cover a packed B block.
      const size_t align = floats * sizeof(float) >= (1u << 20) ? (2u << 20) : 64;
      size_t bytes = (floats * sizeof(float) + align - 1) / align * align;
      ptr = static_cast<float*>(std::aligned_alloc(align, bytes));
#if defined(__linux__)
      if (align > 64) madvise(ptr, bytes, MADV_HUGEPAGE);
#endif
      cap = floats;
    }
    return ptr;
  }
};

int ceil_div(int a, int b) { return (a + b - 1) / b; }

// Part `i` of `units` split into `parts` contiguous ranges whose sizes differ by at most one.
void split(int units, int parts, int i, int* begin, int* end) {
  const int q = units / parts, r = units % parts;
  *begin = i * q + std::min(i, r);
  *end = *begin + q + (i < r ? 1 : 0);
}

// A cache block no larger than `cap` that cuts `len` into equal pieces (a multiple of `unit`),
// so the last block is never a sliver (k = 576 → 3 × 192, not 256 + 256 + 64).
int even_block(int len, int cap, int unit) {
  const int blocks = ceil_div(len, cap);
  return std::min(cap, ceil_div(ceil_div(len, blocks), unit) * unit);
}

// Copies one nr-float panel row; fixed sizes let the compiler inline the copy as vector moves.
void copy_row(float* dst, const float* src, int nr) {
  switch (nr) {
    case 4: std::memcpy(dst, src, 4 * sizeof(float)); break;  // a 2×2 map's plane (pointwise runs of images)
    case 6: std::memcpy(dst, src, 6 * sizeof(float)); break;  // AVX2's and NEON's mr (a transposed A panel)
    case 8: std::memcpy(dst, src, 8 * sizeof(float)); break;
    case 12: std::memcpy(dst, src, 12 * sizeof(float)); break;  // AVX-512's mr (a transposed A panel)
    case 16: std::memcpy(dst, src, 16 * sizeof(float)); break;
    case 32: std::memcpy(dst, src, 32 * sizeof(float)); break;
    default: std::memcpy(dst, src, nr * sizeof(float));
  }
}

}  // namespace

// Packs op(A) rows [i0, i0+rows) × k-range [p0, p0+kc) as mr-row panels, zero-padding the last.
static void pack_a(const GemmKernel& K, bool transA, const float* A, int lda, int i0, int rows,
                   int p0, int kc, float* out) {
  const ProfileScope timed(ProfileCategory::Packing);
  const int mr = K.mr;
  for (int r0 = 0; r0 < rows; r0 += mr) {
    const int h = std::min(mr, rows - r0);
    float* dst = out + (long)r0 * kc;
    if (!transA && h == mr && K.pack_a) {
      K.pack_a(A + (long)(i0 + r0) * lda + p0, lda, kc, dst);
    } else if (transA && h == mr) {
      // A full panel of op(A) = Aᵀ: each of its kc rows is mr floats of one row of A, in place.
      for (int p = 0; p < kc; ++p) copy_row(dst + p * mr, A + (long)(p0 + p) * lda + i0 + r0, mr);
    } else if (transA) {
      for (int p = 0; p < kc; ++p) {
        const float* src = A + (long)(p0 + p) * lda + i0 + r0;
        int i = 0;
        for (; i < h; ++i) dst[p * mr + i] = src[i];
        for (; i < mr; ++i) dst[p * mr + i] = 0.0f;
      }
    } else {
      for (int i = 0; i < h; ++i) {
        const float* src = A + (long)(i0 + r0 + i) * lda + p0;
        for (int p = 0; p < kc; ++p) dst[p * mr + i] = src[p];
      }
      for (int i = h; i < mr; ++i)
        for (int p = 0; p < kc; ++p) dst[p * mr + i] = 0.0f;
    }
  }
}

// Packs op(B) k-range [p0, p0+kc) × nr-column panels [jp0, jp1) of the nc-column block that
// starts at column j0, zero-padding the last panel. Panel jp starts at out + (jp − first)·stride.
// With `rows` (op(B) = B only), row p of B is rows[p] instead of B + p·ldb, and with seg > 0
// that row is seg-float segments seg_stride floats apart (a convolution's output rows read from
// its padded input rows, whose padding columns are skipped).
static void pack_b(const GemmKernel& K, bool transB, const float* B, int ldb, int p0, int j0,
                   int kc, int nc, int jp0, int jp1, int first, long stride, float* out,
                   const float* const* rows = nullptr, int seg = 0, long seg_stride = 0) {
  const ProfileScope timed(ProfileCategory::Packing);
  const int nr = K.nr;
  if (jp0 >= jp1) return;
  if (rows && transB) {
    // op(B) = Bᵀ with B's rows given: op(B)'s column j is rows[j], its row p at p / seg · seg_stride
    // + p % seg. The k-range's pieces (offset in a row, length) are the same in every row.
    thread_local std::vector<long> pieces;
    pieces.clear();
    for (int p = p0; p < p0 + kc;) {
      const int o = p % seg, len = std::min(seg - o, p0 + kc - p);
      pieces.push_back((long)(p / seg) * seg_stride + o), pieces.push_back(len);
      p += len;
    }
    for (int jp = jp0; jp < jp1; ++jp) {
      const int c0 = jp * nr, w = std::min(nr, nc - c0);
      float* dst = out + (jp - first) * stride;
      int j = 0;
      // Four rows at a time: each panel row gets 4 adjacent floats (one vector store) where one
      // row at a time stored single floats nr apart.
      for (; j + 4 <= w; j += 4) {
        const float *r0 = rows[j0 + c0 + j], *r1 = rows[j0 + c0 + j + 1], *r2 = rows[j0 + c0 + j + 2], *r3 = rows[j0 + c0 + j + 3];
        float* d = dst + j;
        for (size_t i = 0; i < pieces.size(); i += 2) {
          const long o = pieces[i];
          for (long q = o; q < o + pieces[i + 1]; ++q, d += nr) d[0] = r0[q], d[1] = r1[q], d[2] = r2[q], d[3] = r3[q];
        }
      }
      for (; j < w; ++j) {
        const float* row = rows[j0 + c0 + j];
        float* d = dst + j;
        for (size_t i = 0; i < pieces.size(); i += 2) {
          const float* src = row + pieces[i];
          for (long q = 0; q < pieces[i + 1]; ++q, d += nr) *d = src[q];
        }
      }
      for (int j = w; j < nr; ++j)
        for (int p = 0; p < kc; ++p) dst[p * nr + j] = 0.0f;
    }
    return;
  }
  if (rows && seg > 0 && seg != seg_stride) {
    // The ISA's gather packs a panel at a time where it can; the rest go piece by piece.
    thread_local std::vector<int> off, rest;
    rest.clear();
    const bool gather = K.pack_gather && (long)(j0 + nc) / seg * seg_stride < INT_MAX;  // offsets fit an int
    if (gather) off.resize(nr);
    for (int jp = jp0; jp < jp1; ++jp) {
      if (gather) {
        for (int j = 0, c = j0 + jp * nr; j < nr; ++j, ++c)
          off[j] = jp * nr + j < nc ? (int)((long)c / seg * seg_stride + c % seg) : -1;
        if (K.pack_gather(rows + p0, kc, off.data(), out + (jp - first) * stride)) continue;
      }
      rest.push_back(jp);
    }
    // Each panel's pieces (offset in a row, length) are the same in every row: found once.
    thread_local std::vector<long> pieces;
    pieces.clear();
    for (const int jp : rest) {
      int c = j0 + jp * nr, w = std::min(nr, nc - jp * nr);
      for (int s = c / seg, o = c % seg; w > 0; ++s, o = 0) {
        const int len = std::min(seg - o, w);
        pieces.push_back(s * seg_stride + o), pieces.push_back(len);
        w -= len;
      }
      pieces.push_back(-1);  // end of the panel
    }
    for (int p = 0; p < kc; ++p) {
      const float* row = rows[p0 + p];
      const long* piece = pieces.data();
      for (const int jp : rest) {
        float* dst = out + (jp - first) * stride + (long)p * nr;
        int j = 0;
        for (; *piece >= 0; piece += 2) copy_row(dst + j, row + piece[0], (int)piece[1]), j += (int)piece[1];
        for (; j < nr; ++j) dst[j] = 0.0f;
        ++piece;  // past the panel's end mark
      }
    }
    return;
  }
  if (transB) {
    for (int jp = jp0; jp < jp1; ++jp) {
      const int c0 = jp * nr;
      const int w = std::min(nr, nc - c0);
      float* dst = out + (jp - first) * stride;
      if (w == nr && K.pack_bt) {
        K.pack_bt(B + (long)(j0 + c0) * ldb + p0, ldb, kc, dst);
        continue;
      }
      for (int j = 0; j < w; ++j) {
        const float* src = B + (long)(j0 + c0 + j) * ldb + p0;
        for (int p = 0; p < kc; ++p) dst[p * nr + j] = src[p];
      }
      for (int j = w; j < nr; ++j)
        for (int p = 0; p < kc; ++p) dst[p * nr + j] = 0.0f;
    }
    return;
  }
  // Row by row, so B is read as long contiguous runs (a panel at a time would touch one cache
  // line in each of kc rows, which no hardware prefetcher follows).
  const int full1 = std::min(jp1, nc / nr);  // panels [jp0, full1) are nr columns wide
  for (int p = 0; p < kc; ++p) {
    const float* src = rows ? rows[p0 + p] + j0 : B + (long)(p0 + p) * ldb + j0;
    float* dst = out + (long)p * nr;
    // Two rows ahead: each row is many short copies, so start its misses early.
    const float* ahead = !rows ? src + 2L * ldb : p + 2 < kc ? rows[p0 + p + 2] + j0 : src;
    for (int jp = jp0; jp < full1; ++jp) {
      if (p + 2 < kc) __builtin_prefetch(ahead + jp * nr);
      copy_row(dst + (jp - first) * stride, src + jp * nr, nr);
    }
    if (full1 < jp1) {  // the ragged last panel
      const int c0 = full1 * nr, w = nc - c0;
      float* d = dst + (full1 - first) * stride;
      int j = 0;
      for (; j < w; ++j) d[j] = src[c0 + j];
      for (; j < nr; ++j) d[j] = 0.0f;
    }
  }
}

// C = beta·C, for products with nothing to add (beta 0 overwrites, as the kernels do).
static void scale_c(int m, int n, float beta, float* C, int ldc) {
  for (int i = 0; i < m; ++i) {
    float* row = C + (long)i * ldc;
    if (beta == 0.0f) std::memset(row, 0, sizeof(float) * n);
    else if (beta != 1.0f) for (int j = 0; j < n; ++j) row[j] *= beta;
  }
}

// C rows [0, mc) × column panels [jp0, jp1) of an nc-wide block += the packed A block (mc × kc,
// MR-row panels) times packed B panels (the first at Bp, `stride` floats apart), tile by tile.
static void macro_kernel(const GemmKernel& K, int kc, int mc, int nc, int jp0, int jp1,
                         const float* Ap, const float* Bp, long stride, float* C, long ldc,
                         float alpha, float beta) {
  const ProfileScope timed(ProfileCategory::GemmKernel);
  const int MR = K.mr, NR = K.nr;
  for (int jr = jp0; jr < jp1; ++jr) {
    const float* b = Bp + (long)(jr - jp0) * stride;
    const int cols = std::min(NR, nc - jr * NR);
    for (int ir = 0; ir < mc; ir += MR) {
      const float* a = Ap + (long)ir * kc;
      float* c = C + (long)ir * ldc + jr * NR;
      const int rows = std::min(MR, mc - ir);
      if (rows == MR && cols == NR) {
        K.micro(kc, a, b, c, ldc, alpha, beta);
      } else if (K.edge) {
        K.edge(kc, a, b, c, ldc, alpha, beta, rows, cols);
      } else {
        alignas(64) float tile[16 * 32];
        K.micro(kc, a, b, tile, NR, alpha, 0.0f);
        for (int i = 0; i < rows; ++i)
          for (int j = 0; j < cols; ++j) {
            float& dst = c[(long)i * ldc + j];
            dst = tile[i * NR + j] + (beta == 0.0f ? 0.0f : beta * dst);
          }
      }
    }
  }
}

// The cache blocks of a product with n columns and depth k: KC deep, NC wide (both set by n and k
// alone, so a right factor packed whole once fits every product with it).
struct BBlocks {
  int KC, NC, kblocks, jblocks, np;  // np: panels in one NC block
};

static BBlocks b_blocks(const GemmKernel& K, int n, int k) {
  BBlocks b;
  b.KC = even_block(k, K.kc, 1);
  b.NC = even_block(n, K.nc, K.nr);
  b.kblocks = ceil_div(k, b.KC), b.jblocks = ceil_div(n, b.NC), b.np = ceil_div(b.NC, K.nr);
  return b;
}

// Where block (jc, pc) of a right factor packed whole (sgemm_prepack_b) starts: the blocks one after
// another, each np panels NR·KC floats apart.
static long prepacked_block(const GemmKernel& K, const BBlocks& b, int jc, int pc) {
  return ((long)(jc / b.NC) * b.kblocks + pc / b.KC) * b.np * K.nr * b.KC;
}

// The threaded driver; with b_rows (op(B) = B), B's rows given as for sgemm_packed_rows; with
// b_pre, op(B) packed whole by sgemm_prepack_b for this ISA (its aligned start), else packed block
// by block.
static void threaded_driver(Isa isa, bool transA, bool transB, int m, int n, int k, float alpha, const float* A,
                            int lda, const float* B, int ldb, const float* const* b_rows, int seg, long seg_stride,
                            float beta, float* C, int ldc, int threads, const float* b_pre = nullptr) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0 || alpha == 0.0f) return scale_c(m, n, beta, C, ldc);
  const GemmKernel& K = gemm_kernel_for(isa);
  const int MR = K.mr, NR = K.nr;
  const BBlocks blocks = b_blocks(K, n, k);
  const int KC = blocks.KC, NC = blocks.NC;
  const int mp = ceil_div(m, MR), np = ceil_div(NC, NR);  // panels in m, in one NC block

  // Below ~32^3 multiply-adds a second thread costs more than it saves.
  int nt = (double)m * n * k < 32768.0 ? 1 : std::max(1, threads);
  nt = std::min(nt, mp * np);
  // The grid whose busiest thread has the fewest tiles; ties go to more row groups, which
  // duplicate less A packing. But a pure column split (tm = 1) wins when it is within 2% and
  // every thread gets >= 8 column panels: it needs no barriers (each thread packs its own B
  // columns, so a descheduled thread stalls no one), and re-packing all of A per thread then
  // costs <= 1/128 of the multiply-adds.
  int tm = 1, tn = nt;
  long best = -1;
  for (int cand = 1; cand <= nt; ++cand) {
    if (nt % cand) continue;
    const long load = (long)ceil_div(mp, cand) * ceil_div(np, nt / cand);
    if (best < 0 || load <= best) best = load, tm = cand, tn = nt / cand;
  }
  const long column_load = (long)mp * ceil_div(np, nt);
  if (np / nt >= 8 && column_load * 50 <= best * 51) tm = 1, tn = nt;
  const int rows_per = ceil_div(mp, tm) * MR;  // most rows any thread owns
  const int MC = even_block(rows_per, K.mc, MR);

  thread_local Scratch scratch_b;
  float* Bp = b_pre ? nullptr : scratch_b.get((size_t)NC * KC);

#pragma omp parallel num_threads(nt) if (nt > 1)
  {
    const int t = nt > 1 ? omp_get_thread_num() : 0;
    const int ti = t / tn, tj = t % tn;
    int ip0, ip1;
    split(mp, tm, ti, &ip0, &ip1);
    const int r0 = ip0 * MR, r1 = std::min(m, ip1 * MR);
    thread_local Scratch scratch_a;
    float* Ap = scratch_a.get((size_t)MC * KC);
    // The column split packs into a private buffer: blocks of different widths split their
    // panels differently, so a shared buffer would let a thread already on the next block
    // overwrite panels a slower thread is still reading. Shared packing (tm > 1) waits at
    // barriers instead.
    thread_local Scratch scratch_own_b;
    float* Bmine = tm == 1 && !b_pre ? scratch_own_b.get((size_t)ceil_div(np, tn) * NR * KC) : Bp;

    for (int jc = 0; jc < n; jc += NC) {
      const int nc = std::min(NC, n - jc);
      const int npn = ceil_div(nc, NR);
      int jp0, jp1;
      split(npn, tn, tj, &jp0, &jp1);
      for (int pc = 0; pc < k; pc += KC) {
        const int kc = std::min(KC, k - pc);
        const float beta_k = pc == 0 ? beta : 1.0f;
        if (b_pre) {
          // Packed once for every product: each thread reads its panels where they lie.
          const float* Bk = b_pre + prepacked_block(K, blocks, jc, pc) + (long)jp0 * NR * KC;
          for (int ic = r0; ic < r1; ic += MC) {
            const int mc = std::min(MC, r1 - ic);
            pack_a(K, transA, A, lda, ic, mc, pc, kc, Ap);
            macro_kernel(K, kc, mc, nc, jp0, jp1, Ap, Bk, (long)NR * KC, C + (long)ic * ldc + jc, ldc, alpha, beta_k);
          }
          continue;
        }
        if (tm == 1) {
          pack_b(K, transB, B, ldb, pc, jc, kc, nc, jp0, jp1, jp0, (long)NR * KC, Bmine, b_rows, seg, seg_stride);
        } else {
          int b0, b1;
          split(npn, nt, t, &b0, &b1);
          pack_b(K, transB, B, ldb, pc, jc, kc, nc, b0, b1, 0, (long)NR * KC, Bp, b_rows, seg, seg_stride);
#pragma omp barrier
        }
        for (int ic = r0; ic < r1; ic += MC) {
          const int mc = std::min(MC, r1 - ic);
          pack_a(K, transA, A, lda, ic, mc, pc, kc, Ap);
          macro_kernel(K, kc, mc, nc, jp0, jp1, Ap, Bmine + (tm == 1 ? 0 : (long)jp0 * NR * KC),
                       (long)NR * KC, C + (long)ic * ldc + jc, ldc, alpha, beta_k);
        }
        // The next k-block repacks the shared B; wait until every thread is done reading it
        // (after the last block, the end of the parallel region waits anyway).
        if (tm > 1 && (pc + KC < k || jc + NC < n)) {
#pragma omp barrier
        }
      }
    }
  }
}

void sgemm_isa(Isa isa, bool transA, bool transB, int m, int n, int k, float alpha, const float* A,
               int lda, const float* B, int ldb, float beta, float* C, int ldc, int threads) {
  threaded_driver(isa, transA, transB, m, n, k, alpha, A, lda, B, ldb, nullptr, 0, 0, beta, C, ldc, threads);
}

void sgemm_rows(Isa isa, int m, int n, int k, float alpha, const float* A, int lda, const float* const* rows, int seg,
                long seg_stride, float beta, float* C, int ldc, int threads) {
  if (seg <= 0 || seg_stride < seg) seg = n, seg_stride = n;
  threaded_driver(isa, false, false, m, n, k, alpha, A, lda, nullptr, 0, rows, seg, seg_stride, beta, C, ldc, threads);
}

void sgemm_rows_t(Isa isa, int m, int n, int k, float alpha, const float* A, int lda, const float* const* rows, int seg,
                  long seg_stride, float beta, float* C, int ldc, int threads) {
  if (seg <= 0 || seg_stride < seg) seg = k, seg_stride = k;
  threaded_driver(isa, false, true, m, n, k, alpha, A, lda, nullptr, 0, rows, seg, seg_stride, beta, C, ldc, threads);
}

long sgemm_packed_a_floats(Isa isa, int m, int k) {
  const GemmKernel& K = gemm_kernel_for(isa);
  return (long)ceil_div(m, K.mr) * K.mr * k;
}

// k-blocks one after another; block pc holds all MR-row panels of its kc columns, the
// layout pack_a gives one block, so sgemm_packed can hand any row range to the macro-kernel.
void sgemm_pack_a(Isa isa, bool transA, int m, int k, const float* A, int lda, float* out) {
  sgemm_pack_a_rows(isa, transA, m, k, A, lda, 0, m, out);
}

void sgemm_pack_a_rows(Isa isa, bool transA, int m, int k, const float* A, int lda, int r0, int r1, float* out) {
  r1 = std::min(r1, m);
  if (r1 <= r0 || k <= 0) return;
  const GemmKernel& K = gemm_kernel_for(isa);
  const int KC = even_block(k, K.kc, 1), rows = ceil_div(m, K.mr) * K.mr;
  for (int pc = 0; pc < k; pc += KC) {
    const int kc = std::min(KC, k - pc);
    pack_a(K, transA, A, lda, r0, r1 - r0, pc, kc, out + (long)pc * rows + (long)r0 * kc);
  }
}

int sgemm_pack_a_depth(Isa isa, int k) { return even_block(k, gemm_kernel_for(isa).kc, 1); }

long sgemm_packed_bt_floats(Isa isa, int n, int k) {
  const GemmKernel& K = gemm_kernel_for(isa);
  return (long)ceil_div(n, K.nr) * K.nr * k;
}

void sgemm_pack_bt(Isa isa, int n, int k, const float* B, int ldb, float* out) {
  if (n <= 0 || k <= 0) return;
  const GemmKernel& K = gemm_kernel_for(isa);
  pack_b(K, true, B, ldb, 0, 0, k, n, 0, ceil_div(n, K.nr), 0, (long)K.nr * k, out);
}

void sgemm_packed_both(Isa isa, int m, int n, int k, float alpha, const float* Ap, const float* Bp, int depth,
                       int p0, float beta, float* C, int ldc) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) return scale_c(m, n, beta, C, ldc);
  const GemmKernel& K = gemm_kernel_for(isa);
  const int MR = K.mr, NR = K.nr;
  const int KC = even_block(k, K.kc, 1), rows = ceil_div(m, MR) * MR, MC = even_block(rows, K.mc, MR);
  for (int pc = 0; pc < k; pc += KC) {
    const int kc = std::min(KC, k - pc);
    for (int ic = 0; ic < m; ic += MC)
      macro_kernel(K, kc, std::min(MC, m - ic), n, 0, ceil_div(n, NR), Ap + (long)pc * rows + (long)ic * kc,
                   Bp + (long)(p0 + pc) * NR, (long)NR * depth, C + (long)ic * ldc, ldc, alpha, pc == 0 ? beta : 1.0f);
  }
}

// One thread, A prepacked (m rows), C's rows [r0, r1) (r0 a multiple of mr); B as a strided
// matrix or (rows) as row pointers.
static void packed_driver(Isa isa, int m, int n, int k, float alpha, const float* Ap, bool transB,
                          const float* B, int ldb, const float* const* b_rows, int seg, long seg_stride,
                          float beta, float* C, int ldc, int r0 = 0, int r1 = -1) {
  if (r1 < 0 || r1 > m) r1 = m;
  if (r1 <= r0 || n <= 0) return;
  if (k <= 0) return scale_c(r1 - r0, n, beta, C + (long)r0 * ldc, ldc);
  const GemmKernel& K = gemm_kernel_for(isa);
  const int MR = K.mr, NR = K.nr;
  const int KC = even_block(k, K.kc, 1), NC = even_block(n, K.nc, NR);
  const int rows = ceil_div(m, MR) * MR, MC = even_block(ceil_div(r1 - r0, MR) * MR, K.mc, MR);
  thread_local Scratch scratch_b;
  float* Bp = scratch_b.get((size_t)NC * KC);
  for (int jc = 0; jc < n; jc += NC) {
    const int nc = std::min(NC, n - jc), npn = ceil_div(nc, NR);
    for (int pc = 0; pc < k; pc += KC) {
      const int kc = std::min(KC, k - pc);
      pack_b(K, transB, B, ldb, pc, jc, kc, nc, 0, npn, 0, (long)NR * KC, Bp, b_rows, seg, seg_stride);
      for (int ic = r0; ic < r1; ic += MC)
        macro_kernel(K, kc, std::min(MC, r1 - ic), nc, 0, npn, Ap + (long)pc * rows + (long)ic * kc, Bp,
                     (long)NR * KC, C + (long)ic * ldc + jc, ldc, alpha, pc == 0 ? beta : 1.0f);
    }
  }
}

void sgemm_packed(Isa isa, int m, int n, int k, float alpha, const float* Ap, bool transB,
                  const float* B, int ldb, float beta, float* C, int ldc) {
  packed_driver(isa, m, n, k, alpha, Ap, transB, B, ldb, nullptr, 0, 0, beta, C, ldc);
}

void sgemm_packed_part(Isa isa, int m, int r0, int r1, int n, int k, float alpha, const float* Ap, bool transB,
                       const float* B, int ldb, float beta, float* C, int ldc) {
  packed_driver(isa, m, n, k, alpha, Ap, transB, B, ldb, nullptr, 0, 0, beta, C, ldc, r0, r1);
}

void sgemm_packed_rows(Isa isa, int m, int n, int k, float alpha, const float* Ap,
                       const float* const* rows, int seg, long seg_stride, float beta, float* C, int ldc) {
  if (seg <= 0 || seg_stride < seg) seg = n, seg_stride = n;
  packed_driver(isa, m, n, k, alpha, Ap, false, nullptr, 0, rows, seg, seg_stride, beta, C, ldc);
}

void sgemm(bool transA, bool transB, int m, int n, int k, float alpha, const float* A, int lda,
           const float* B, int ldb, float beta, float* C, int ldc, int threads) {
  sgemm_isa(active_isa(), transA, transB, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc, threads);
}

long sgemm_prepacked_b_floats(Isa isa, int n, int k) {
  if (n <= 0 || k <= 0) return 1;
  const GemmKernel& K = gemm_kernel_for(isa);
  const BBlocks b = b_blocks(K, n, k);
  return (long)b.jblocks * b.kblocks * b.np * K.nr * b.KC + 16 + 1;  // + the alignment slack and the tag
}

// The first 64-byte boundary at or after p: the micro-kernels load B's panels aligned.
static float* aligned_64(float* p) { return (float*)(((uintptr_t)p + 63) & ~(uintptr_t)63); }

void sgemm_prepack_b(Isa isa, bool transB, int n, int k, const float* B, int ldb, float* out) {
  const long floats = sgemm_prepacked_b_floats(isa, n, k);
  out[floats - 1] = packed_tag(isa, out);
  if (n <= 0 || k <= 0) return;
  const GemmKernel& K = gemm_kernel_for(isa);
  const BBlocks b = b_blocks(K, n, k);
  float* base = aligned_64(out);
  for (int jc = 0; jc < n; jc += b.NC) {
    const int nc = std::min(b.NC, n - jc);
    for (int pc = 0; pc < k; pc += b.KC)
      pack_b(K, transB, B, ldb, pc, jc, std::min(b.KC, k - pc), nc, 0, ceil_div(nc, K.nr), 0, (long)K.nr * b.KC,
             base + prepacked_block(K, b, jc, pc));
  }
}

bool sgemm_prepacked_fits(Isa isa, int n, int k, const float* Bp) {
  return Bp && Bp[sgemm_prepacked_b_floats(isa, n, k) - 1] == packed_tag(isa, Bp);
}

void sgemm_prepacked(bool transA, bool transB, int m, int n, int k, float alpha, const float* A, int lda,
                     const float* B, int ldb, const float* Bp, float beta, float* C, int ldc, int threads) {
  const Isa isa = active_isa();
  const bool packed = sgemm_prepacked_fits(isa, n, k, Bp);
  threaded_driver(isa, transA, transB, m, n, k, alpha, A, lda, B, ldb, nullptr, 0, 0, beta, C, ldc, threads,
                  packed ? aligned_64(const_cast<float*>(Bp)) : nullptr);
}

void sgemm_packed_b(Isa isa, bool transA, int m, int n, int k, float alpha, const float* A, int lda, const float* Bp,
                    float beta, float* C, int ldc, int threads) {
  threaded_driver(isa, transA, true, m, n, k, alpha, A, lda, nullptr, 0, nullptr, 0, 0, beta, C, ldc, threads,
                  aligned_64(const_cast<float*>(Bp)));
}

}  // namespace cnn
