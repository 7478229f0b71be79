#include "eltwise/eltwise.h"
#include "cpu/bit_select.h"
#include "cpu/work_split.h"

#include <omp.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace cnn {

// Below this many elements a thread team costs more than the loop.
static constexpr int64_t kParallelMin = 1 << 15;

// Merges each axis into the next inner one where both inputs step over it as one run with it
// (always for same-shape operands; the output is contiguous), so the inner loop is as long as
// the layout allows: a residual add of N×C×2×2 maps is one loop, not N·C·2 loops of 2.
static int coalesce(const int64_t* shape, const int64_t* a_strides, const int64_t* b_strides, int ndim,
                    int64_t* s, int64_t* sa, int64_t* sb) {
  int n = 0;
  for (int d = 0; d < ndim; ++d) {
    if (shape[d] == 1) continue;
    if (n > 0 && sa[n - 1] == a_strides[d] * shape[d] && sb[n - 1] == b_strides[d] * shape[d]) {
      s[n - 1] *= shape[d], sa[n - 1] = a_strides[d], sb[n - 1] = b_strides[d];
      continue;
    }
    s[n] = shape[d], sa[n] = a_strides[d], sb[n] = b_strides[d], ++n;
  }
  return n;
}

// out[j] = f(a[j·sa], b[j·sb]) for j in [j0, j1): one piece of a row, with the operation and the
// common strides (both 1; one operand a scalar along the row) as loops of their own, which
// vectorize. A switch on the operation per element kept a broadcast row (N×C×H×W times N×C×1×1)
// scalar: 1.24 ms on 128×64×16×16 on one thread, 0.25 after.
template <class F>
static void binary_row(const float* pa, const float* pb, float* po, int64_t j0, int64_t j1, int64_t sa, int64_t sb, F f) {
  if (sa == 1 && sb == 1) {
    for (int64_t j = j0; j < j1; ++j) po[j] = f(pa[j], pb[j]);
  } else if (sa == 1 && sb == 0) {
    const float v = pb[0];
    for (int64_t j = j0; j < j1; ++j) po[j] = f(pa[j], v);
  } else if (sa == 0 && sb == 1) {
    const float v = pa[0];
    for (int64_t j = j0; j < j1; ++j) po[j] = f(v, pb[j]);
  } else {
    for (int64_t j = j0; j < j1; ++j) po[j] = f(pa[j * sa], pb[j * sb]);
  }
}

static void binary_run(BinaryOp op, const float* pa, const float* pb, float* po, int64_t j0, int64_t j1, int64_t sa,
                       int64_t sb) {
  switch (op) {
    case BinaryOp::Add: return binary_row(pa, pb, po, j0, j1, sa, sb, [](float x, float y) { return x + y; });
    case BinaryOp::Sub: return binary_row(pa, pb, po, j0, j1, sa, sb, [](float x, float y) { return x - y; });
    case BinaryOp::Mul: return binary_row(pa, pb, po, j0, j1, sa, sb, [](float x, float y) { return x * y; });
    case BinaryOp::Div: return binary_row(pa, pb, po, j0, j1, sa, sb, [](float x, float y) { return x / y; });
  }
}

void binary_broadcast(BinaryOp op, const float* a, const int64_t* a_strides_in, const float* b,
                      const int64_t* b_strides_in, float* out, const int64_t* shape_in, int ndim_in,
                      int threads) {
  int64_t shape[kMaxDims], a_strides[kMaxDims], b_strides[kMaxDims];
  const int ndim = coalesce(shape_in, a_strides_in, b_strides_in, ndim_in, shape, a_strides, b_strides);
  int64_t total = 1;
  for (int d = 0; d < ndim; ++d) total *= shape[d];
  if (total == 0) return;
  // The innermost axis runs as a plain loop; the outer index is decoded per row.
  const int64_t inner = ndim ? shape[ndim - 1] : 1;
  const int64_t sa = ndim ? a_strides[ndim - 1] : 0, sb = ndim ? b_strides[ndim - 1] : 0;
  const int64_t rows = total / inner;
  // Work items are pieces of rows, so a long merged run is still shared between threads.
  const int64_t piece = std::min<int64_t>(inner, kChunkFloats), pieces = (inner + piece - 1) / piece;
  for_each_share(rows * pieces, chunk_items(piece), threads, threads > 1 && total >= kParallelMin, [&](int64_t item) {
    const int64_t r = item / pieces, j0 = item % pieces * piece, j1 = std::min(inner, j0 + piece);
    int64_t rem = r, oa = 0, ob = 0;
    for (int d = ndim - 2; d >= 0; --d) {
      const int64_t i = rem % shape[d];
      rem /= shape[d];
      oa += i * a_strides[d];
      ob += i * b_strides[d];
    }
    binary_run(op, a + oa, b + ob, out + r * inner, j0, j1, sa, sb);
  });
}

void sum_to_shape(const float* x, const int64_t* shape, int ndim, float* out,
                  const int64_t* target) {
  int64_t total = 1, out_total = 1;
  int64_t out_strides[kMaxDims];
  for (int d = ndim - 1; d >= 0; --d) {
    out_strides[d] = target[d] == 1 ? 0 : out_total;
    out_total *= target[d];
    total *= shape[d];
  }
  double* acc = new double[out_total > 0 ? out_total : 1]();
  int64_t idx[kMaxDims] = {0};
  int64_t o = 0;
  for (int64_t i = 0; i < total; ++i) {
    acc[o] += x[i];
    for (int d = ndim - 1; d >= 0; --d) {
      ++idx[d];
      o += out_strides[d];
      if (idx[d] < shape[d]) break;
      o -= idx[d] * out_strides[d];
      idx[d] = 0;
    }
  }
  for (int64_t i = 0; i < out_total; ++i) out[i] = (float)acc[i];
  delete[] acc;
}

namespace {

// One chunk of each elementwise loop below, its scalars passed as values: as a lambda's body
// reading them through captured references, GCC left some of these loops scalar in the threaded
// copy (2 threads: ReLU backward on 1M floats 518 us against 83). They may run in place
// (y == x): `simd` tells the compiler that iteration i only reads and writes element i, so they
// vectorize without a runtime overlap check (which sent in-place calls to a scalar loop). It is
// not on the parallel loop itself any more: an `if` clause there applies to its simd part too,
// and on one thread (or below kParallelMin) ran the loop unvectorized (ReLU on 1M floats, one
// thread: 5.1 ms against 0.10).
void relu_rows(const float* x, float* y, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

void relu_backward_rows(const float* x, const float* dy, float* dx, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) dx[i] = keep_if(dy[i], x[i] > 0.0f);
}

void hardtanh_rows(const float* x, float* y, int64_t n, float lo, float hi) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] < lo ? lo : (x[i] > hi ? hi : x[i]);
}

void hardtanh_backward_rows(const float* x, const float* dy, float* dx, int64_t n, float lo, float hi) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) dx[i] = keep_if(dy[i], (x[i] > lo) & (x[i] < hi));
}

void axpy_rows(float alpha, const float* x, float* y, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) y[i] += alpha * x[i];
}

void scale_rows(float alpha, const float* x, float* y, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) y[i] = alpha * x[i];
}

}  // namespace

void relu_forward(const float* x, float* y, int64_t n, int threads) {
  for_each_chunk(n, threads, kParallelMin, [&](int64_t at, int64_t len) { relu_rows(x + at, y + at, len); });
}

void relu_backward(const float* x, const float* dy, float* dx, int64_t n, int threads) {
  for_each_chunk(n, threads, kParallelMin,
                 [&](int64_t at, int64_t len) { relu_backward_rows(x + at, dy + at, dx + at, len); });
}

void hardtanh_forward(const float* x, float* y, int64_t n, float lo, float hi, int threads) {
  for_each_chunk(n, threads, kParallelMin, [&](int64_t at, int64_t len) { hardtanh_rows(x + at, y + at, len, lo, hi); });
}

void hardtanh_backward(const float* x, const float* dy, float* dx, int64_t n, float lo, float hi, int threads) {
  for_each_chunk(n, threads, kParallelMin,
                 [&](int64_t at, int64_t len) { hardtanh_backward_rows(x + at, dy + at, dx + at, len, lo, hi); });
}

void axpy(float alpha, const float* x, float* y, int64_t n, int threads) {
  for_each_chunk(n, threads, kParallelMin, [&](int64_t at, int64_t len) { axpy_rows(alpha, x + at, y + at, len); });
}

void scale(float alpha, const float* x, float* y, int64_t n, int threads) {
  for_each_chunk(n, threads, kParallelMin, [&](int64_t at, int64_t len) { scale_rows(alpha, x + at, y + at, len); });
}

double sum_squares(const float* x, int64_t n) {
  double acc = 0.0;
#pragma omp simd reduction(+ : acc)
  for (int64_t i = 0; i < n; ++i) acc += (double)x[i] * x[i];
  return acc;
}

double sum(const float* x, int64_t n) {
  double acc = 0.0;
  for (int64_t i = 0; i < n; ++i) acc += x[i];
  return acc;
}

// A float is NaN or infinite exactly when its exponent bits are all ones; OR-ing that test over
// a block has no branch, so it vectorizes and runs at memory speed.
static bool block_finite(const float* x, int64_t n) {
  uint32_t bad = 0;
#pragma omp simd reduction(| : bad)
  for (int64_t i = 0; i < n; ++i) {
    uint32_t bits;
    std::memcpy(&bits, x + i, sizeof bits);
    bad |= (uint32_t)((bits & 0x7f800000u) == 0x7f800000u);
  }
  return bad == 0;
}

int64_t first_nonfinite(const float* const* arrays, const int64_t* lengths, int64_t count, int threads) {
  // Work items are blocks of at most kBlock elements of one array, so small and large arrays
  // share the threads evenly; the answer is the smallest array index with a bad block.
  constexpr int64_t kBlock = 1 << 16;
  std::vector<int64_t> first_block(count + 1, 0);
  for (int64_t a = 0; a < count; ++a) first_block[a + 1] = first_block[a] + (lengths[a] + kBlock - 1) / kBlock;
  const int64_t blocks = first_block[count];
  int64_t first = count;
#pragma omp parallel for num_threads(threads) schedule(dynamic, 4) reduction(min : first) if (threads > 1 && blocks > 1)
  for (int64_t b = 0; b < blocks; ++b) {
    const int64_t a = std::upper_bound(first_block.begin(), first_block.end(), b) - first_block.begin() - 1;
    if (a >= first) continue;
    const int64_t start = (b - first_block[a]) * kBlock;
    if (!block_finite(arrays[a] + start, std::min(kBlock, lengths[a] - start))) first = std::min(first, a);
  }
  return first == count ? -1 : first;
}

}  // namespace cnn
