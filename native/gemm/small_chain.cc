#include "gemm/small_chain.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "gemm/gemm.h"

namespace cnn {

namespace {

// Below this many multiply-adds a second thread costs more than it saves (as sgemm's cut).
constexpr double kMinParallelWork = 32768.0;
// Rows per block at most (in whole register tiles).
constexpr int kMaxBlockRows = 72;

float* grow(std::vector<float>& v, long n) {
  if ((long)v.size() < n) v.resize(n);
  return v.data();
}

// Every row of c (rows × n, rows ldc apart) set to b: the product is then added to it (beta 1), as
// ops.linear does, so the sums round in the same order as the unfused layer's.
void fill_bias(int rows, int n, float* c, long ldc, const float* b) {
  for (int i = 0; i < rows; ++i) std::copy(b, b + n, c + i * ldc);
}

// rows × n of c clamped to [lo, hi] in place (NaN passes, as ReLU's kernel lets it).
void clamp_rows(int rows, int n, float* c, long ldc, float lo, float hi) {
  if (lo == -INFINITY && hi == INFINITY) return;
  for (int i = 0; i < rows; ++i)
    for (float *v = c + i * ldc, *end = v + n; v < end; ++v) {
      const float low = *v < lo ? lo : *v;  // two plain selects vectorize; a nested one stays a branch
      *v = low > hi ? hi : low;
    }
}

}  // namespace

long linear_chain_packed_floats(int out, int in) {
  long most = sgemm_packed_bt_floats(Isa::Scalar, out, in);
#if defined(CNN_X86)
  most = std::max({most, sgemm_packed_bt_floats(Isa::Avx2, out, in), sgemm_packed_bt_floats(Isa::Avx512, out, in)});
#endif
#if defined(CNN_ARM64)
  most = std::max(most, sgemm_packed_bt_floats(Isa::Neon, out, in));
#endif
  return most;
}

void linear_chain_forward(Isa isa, int m, const float* x, const ChainLayer* layers, int count, float* y, int threads) {
  if (m <= 0 || count <= 0) return;
  const int MR = gemm_kernel_for(isa).mr;
  int widest = 0;
  double work = 0;
  for (int l = 0; l < count; ++l) widest = std::max({widest, layers[l].in, layers[l].out}), work += (double)layers[l].in * layers[l].out;
  // Row blocks of at most kMaxBlockRows (a block's activations stay in L2; every block streams all
  // the packed weights past them, so fewer blocks read them fewer times), the same number for every
  // thread, of equal rows whether or not whole tiles (simplecnn's head at batch 128 on 2 threads:
  // blocks of 4 whole tiles gave one thread 96 rows and the other 32, 1.05-1.10 ms; 4 blocks of
  // 32 rows 0.98, 2 of 64 0.70 on AVX-512); more blocks than threads are handed out as threads
  // free up.
  const int tiles = (m + MR - 1) / MR, most_tiles = std::max(1, kMaxBlockRows / MR);
  const int nt = work * m < kMinParallelWork ? 1 : std::max(1, std::min(threads, tiles));
  const int each = (tiles + nt - 1) / nt, per_thread = (each + most_tiles - 1) / most_tiles;
  const int block = (m + nt * per_thread - 1) / (nt * per_thread), blocks = (m + block - 1) / block;
#pragma omp parallel num_threads(nt) if (nt > 1)
  {
    thread_local std::vector<float> pack_buf, act_buf;
    float* Ap = grow(pack_buf, (long)(block + MR - 1) / MR * MR * widest);  // packing rounds rows up to whole tiles
    float* act = grow(act_buf, 2L * block * widest);
    // Dynamic: a thread that the OS stalls leaves its blocks to the others.
#pragma omp for schedule(dynamic, 1)
    for (int blk = 0; blk < blocks; ++blk) {
      const int r0 = blk * block, rows = std::min(block, m - r0);
      linear_chain_rows(isa, rows, x + (long)r0 * layers[0].in, layers, count, y + (long)r0 * layers[count - 1].out, Ap, act,
                        (long)block * widest);
    }
  }
}

void chain_layer_rows(Isa isa, int rows, const ChainLayer& L, const float* x, float* y, long ldy, float* Ap) {
  sgemm_pack_a(isa, false, rows, L.in, x, L.in, Ap);
  if (L.bias) fill_bias(rows, L.out, y, ldy, L.bias);
  sgemm_packed_both(isa, rows, L.out, L.in, 1.0f, Ap, L.packed, L.in, 0, L.bias ? 1.0f : 0.0f, y, (int)ldy);
  clamp_rows(rows, L.out, y, ldy, L.lo, L.hi);
}

void linear_chain_rows(Isa isa, int rows, const float* x, const ChainLayer* layers, int count, float* y, float* Ap, float* act,
                       long act_floats) {
  const float* in = x;
  for (int l = 0; l < count; ++l) {
    float* out = l == count - 1 ? y : act + (l % 2) * act_floats;
    chain_layer_rows(isa, rows, layers[l], in, out, layers[l].out, Ap);
    in = out;
  }
}

void linear_chain_ref(int m, const float* x, const float* const* weights, const ChainLayer* layers, int count, float* y) {
  std::vector<float> a(x, x + (long)m * layers[0].in), b;
  for (int l = 0; l < count; ++l) {
    const ChainLayer& L = layers[l];
    b.assign((long)m * L.out, 0.0f);
    if (L.bias) fill_bias(m, L.out, b.data(), L.out, L.bias);
    gemm_ref(false, true, m, L.out, L.in, 1.0f, a.data(), L.in, weights[l], L.in, L.bias ? 1.0f : 0.0f, b.data(), L.out);
    clamp_rows(m, L.out, b.data(), L.out, L.lo, L.hi);
    a.swap(b);
  }
  std::copy(a.begin(), a.end(), y);
}

}  // namespace cnn
