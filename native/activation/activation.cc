#include "activation/activation.h"
#include "activation/gated_rows.h"
#include "cpu/bit_select.h"
#include "cpu/work_split.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace cnn {

// Below this many elements a thread team costs more than the loop.
static constexpr int64_t kParallelMin = 1 << 15;

namespace {

// One chunk of each loop, its scalars passed as values, `simd` inside and not on the parallel
// loop: see eltwise.cc's relu_rows. tanh stays scalar: a vectorized tanhf (libmvec) would not
// round as libm's does. Leaky ReLU chooses by bit masks (cpu/bit_select.h).
void leaky_relu_rows(const float* x, float* y, int64_t n, float slope) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) y[i] = choose(x[i] > 0, x[i], x[i] * slope);
}

void leaky_relu_backward_rows(const float* x, const float* dy, float* dx, int64_t n, float slope) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) dx[i] = choose(x[i] > 0, dy[i], dy[i] * slope);
}

void sigmoid_backward_rows(const float* y, const float* dy, float* dx, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) dx[i] = dy[i] * (1.0f - y[i]) * y[i];
}

void tanh_rows(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = std::tanh(x[i]);
}

void tanh_backward_rows(const float* y, const float* dy, float* dx, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) dx[i] = dy[i] * (1.0f - y[i] * y[i]);
}

}  // namespace

void leaky_relu_forward(const float* x, float* y, int64_t n, float slope, int threads) {
  for_each_chunk(n, threads, kParallelMin, [&](int64_t at, int64_t len) { leaky_relu_rows(x + at, y + at, len, slope); });
}

void leaky_relu_backward(const float* x, const float* dy, float* dx, int64_t n, float slope, int threads) {
  for_each_chunk(n, threads, kParallelMin,
                 [&](int64_t at, int64_t len) { leaky_relu_backward_rows(x + at, dy + at, dx + at, len, slope); });
}

// Per ISA (gated_rows.inc): libm's expf does not vectorize.
void sigmoid_forward(const float* x, float* y, int64_t n, int threads) {
  const GatedRows& rows = gated_rows_for(active_isa());
  for_each_chunk(n, threads, kParallelMin, [&](int64_t at, int64_t len) { rows.sigmoid(x + at, y + at, len); });
}

void sigmoid_backward(const float* y, const float* dy, float* dx, int64_t n, int threads) {
  for_each_chunk(n, threads, kParallelMin,
                 [&](int64_t at, int64_t len) { sigmoid_backward_rows(y + at, dy + at, dx + at, len); });
}

void tanh_forward(const float* x, float* y, int64_t n, int threads) {
  for_each_chunk(n, threads, kParallelMin, [&](int64_t at, int64_t len) { tanh_rows(x + at, y + at, len); });
}

void tanh_backward(const float* y, const float* dy, float* dx, int64_t n, int threads) {
  for_each_chunk(n, threads, kParallelMin,
                 [&](int64_t at, int64_t len) { tanh_backward_rows(y + at, dy + at, dx + at, len); });
}

// A contiguous row (inner == 1).
static void softmax_row(const float* x, float* y, int64_t dim, bool log) {
  float mx = -std::numeric_limits<float>::infinity();
  for (int64_t d = 0; d < dim; ++d) mx = std::max(mx, x[d]);
  if (std::isinf(mx) && mx < 0) mx = 0;  // an all -inf row gives NaN as in PyTorch, not a crash
  double sum = 0;
  if (log) {
    for (int64_t d = 0; d < dim; ++d) sum += std::exp((double)(x[d] - mx));
    // (x - max) - log Σ: subtracting the max first keeps the small result exact for big logits.
    const float log_sum = (float)std::log(sum);
    for (int64_t d = 0; d < dim; ++d) y[d] = (x[d] - mx) - log_sum;
  } else {
    for (int64_t d = 0; d < dim; ++d) {
      const float e = std::exp(x[d] - mx);
      y[d] = e;
      sum += e;
    }
    const float inv = (float)(1.0 / sum);
    for (int64_t d = 0; d < dim; ++d) y[d] *= inv;
  }
}

// A block (dim, inner) with inner > 1: the inner axis runs innermost so memory is read in order.
static void softmax_block(const float* x, float* y, int64_t dim, int64_t inner, bool log,
                          std::vector<float>& mx, std::vector<double>& sum) {
  std::fill(mx.begin(), mx.end(), -std::numeric_limits<float>::infinity());
  std::fill(sum.begin(), sum.end(), 0.0);
  for (int64_t d = 0; d < dim; ++d)
    for (int64_t j = 0; j < inner; ++j) mx[j] = std::max(mx[j], x[d * inner + j]);
  for (int64_t j = 0; j < inner; ++j)
    if (std::isinf(mx[j]) && mx[j] < 0) mx[j] = 0;
  for (int64_t d = 0; d < dim; ++d)
    for (int64_t j = 0; j < inner; ++j) sum[j] += std::exp((double)(x[d * inner + j] - mx[j]));
  if (log) {
    for (int64_t j = 0; j < inner; ++j) sum[j] = std::log(sum[j]);
    for (int64_t d = 0; d < dim; ++d)
      for (int64_t j = 0; j < inner; ++j)
        y[d * inner + j] = (x[d * inner + j] - mx[j]) - (float)sum[j];
  } else {
    for (int64_t d = 0; d < dim; ++d)
      for (int64_t j = 0; j < inner; ++j)
        y[d * inner + j] = (float)(std::exp((double)(x[d * inner + j] - mx[j])) / sum[j]);
  }
}

void softmax_forward(const float* x, float* y, int64_t outer, int64_t dim, int64_t inner,
                     bool log, int threads) {
  if (dim == 0) return;
  const bool parallel = threads > 1 && outer > 1 && outer * dim * inner >= kParallelMin;
#pragma omp parallel num_threads(threads) if (parallel)
  {
    std::vector<float> mx(inner > 1 ? inner : 0);
    std::vector<double> sum(inner > 1 ? inner : 0);
#pragma omp for schedule(dynamic, chunk_items(dim * inner))
    for (int64_t o = 0; o < outer; ++o) {
      const float* xo = x + o * dim * inner;
      float* yo = y + o * dim * inner;
      if (inner == 1) softmax_row(xo, yo, dim, log);
      else softmax_block(xo, yo, dim, inner, log, mx, sum);
    }
  }
}

void softmax_backward(const float* y, const float* dy, float* dx, int64_t outer, int64_t dim,
                      int64_t inner, bool log, int threads) {
  if (dim == 0) return;
  const bool parallel = threads > 1 && outer > 1 && outer * dim * inner >= kParallelMin;
#pragma omp parallel num_threads(threads) if (parallel)
  {
    std::vector<double> acc(inner);
#pragma omp for schedule(dynamic, chunk_items(dim * inner))
    for (int64_t o = 0; o < outer; ++o) {
      const float* yo = y + o * dim * inner;
      const float* go = dy + o * dim * inner;
      float* xo = dx + o * dim * inner;
      std::fill(acc.begin(), acc.end(), 0.0);
      for (int64_t d = 0; d < dim; ++d)
        for (int64_t j = 0; j < inner; ++j)
          acc[j] += log ? (double)go[d * inner + j] : (double)go[d * inner + j] * yo[d * inner + j];
      for (int64_t d = 0; d < dim; ++d)
        for (int64_t j = 0; j < inner; ++j) {
          const int64_t i = d * inner + j;
          xo[i] = log ? go[i] - std::exp(yo[i]) * (float)acc[j] : yo[i] * (go[i] - (float)acc[j]);
        }
    }
  }
}

}  // namespace cnn
