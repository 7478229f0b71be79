#include "eltwise/channels.h"
#include "cpu/work_split.h"

#include <algorithm>
#include <cstring>
#include <vector>

namespace cnn {

static constexpr int64_t kParallelMin = 1 << 14;

void channel_scale_forward(const float* x, const float* s, float* y, int64_t outer, int64_t c,
                           int64_t inner, bool per_sample, int threads) {
  const bool parallel = threads > 1 && outer * c * inner >= kParallelMin;
#pragma omp parallel for num_threads(threads) schedule(dynamic, chunk_items(inner)) if (parallel)
  for (int64_t oc = 0; oc < outer * c; ++oc) {
    const float f = s[per_sample ? oc : oc % c];
    const float* xr = x + oc * inner;
    float* yr = y + oc * inner;
    for (int64_t i = 0; i < inner; ++i) yr[i] = xr[i] * f;
  }
}

void channel_scale_backward(const float* x, const float* s, const float* dy, float* dx, float* ds,
                            int64_t outer, int64_t c, int64_t inner, bool per_sample, int threads) {
  const bool parallel = threads > 1 && outer * c * inner >= kParallelMin;
  if (dx) channel_scale_forward(dy, s, dx, outer, c, inner, per_sample, threads);
  if (!ds) return;
  auto dot = [inner](const float* a, const float* b) {
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};  // 8 independent sums: not latency-bound
    int64_t i = 0;
    for (; i + 8 <= inner; i += 8)
      for (int k = 0; k < 8; ++k) acc[k] += a[i + k] * b[i + k];
    double total = 0;
    for (int k = 0; k < 8; ++k) total += acc[k];
    for (; i < inner; ++i) total += (double)a[i] * b[i];
    return total;
  };
  if (per_sample) {
#pragma omp parallel for num_threads(threads) schedule(dynamic, chunk_items(2 * inner)) if (parallel)
    for (int64_t oc = 0; oc < outer * c; ++oc) ds[oc] = (float)dot(dy + oc * inner, x + oc * inner);
  } else {
    // One channel per iteration, every sample inside it: no two threads write the same ds[j].
#pragma omp parallel for num_threads(threads) schedule(dynamic, chunk_items(2 * outer * inner)) if (parallel)
    for (int64_t j = 0; j < c; ++j) {
      double total = 0;
      for (int64_t o = 0; o < outer; ++o) total += dot(dy + (o * c + j) * inner, x + (o * c + j) * inner);
      ds[j] = (float)total;
    }
  }
}

void copy_rows(const float* src, int64_t src_stride, float* dst, int64_t dst_stride,
               int64_t block, int64_t count, int threads) {
  const bool parallel = threads > 1 && block * count >= kParallelMin;
#pragma omp parallel for num_threads(threads) schedule(dynamic, chunk_items(block)) if (parallel)
  for (int64_t r = 0; r < count; ++r)
    std::memcpy(dst + r * dst_stride, src + r * src_stride, (size_t)block * sizeof(float));
}

namespace {

// out[i] = clamp(in[i]·a[i] + b[i], lo, hi), in two plain selects (NaN passes through) that GCC
// vectorizes; a nested one stays a branch.
void affine_run(const float* in, float* out, int64_t n, const float* a, const float* b, float lo, float hi) {
  for (int64_t i = 0; i < n; ++i) {
    const float v = in[i] * a[i] + b[i], low = v < lo ? lo : v;
    out[i] = low > hi ? hi : low;
  }
}

}  // namespace

void copy_rows_affine(const float* src, int64_t src_stride, float* dst, int64_t dst_stride, int64_t channels,
                      int64_t inner, int64_t count, const float* scale, const float* shift, float lo, float hi,
                      int threads) {
  const int64_t block = channels * inner;
  const bool parallel = threads > 1 && count * block >= kParallelMin;
  // Small planes (a 2×2 or 1×1 map): the factors spread to one per float of a row, so each row
  // is one vector loop rather than a loop per plane a few floats long.
  if (inner < 16) {
    thread_local std::vector<float> spread_buf;
    if ((int64_t)spread_buf.size() < 2 * block) spread_buf.resize(2 * block);
    float* spread = spread_buf.data();
    for (int64_t c = 0; c < channels; ++c)
      for (int64_t i = 0; i < inner; ++i) spread[c * inner + i] = scale[c], spread[block + c * inner + i] = shift[c];
    const float* a = spread;
    const float* b = spread + block;
#pragma omp parallel for num_threads(threads) schedule(dynamic, chunk_items(block)) if (parallel)
    for (int64_t r = 0; r < count; ++r) affine_run(src + r * src_stride, dst + r * dst_stride, block, a, b, lo, hi);
    return;
  }
#pragma omp parallel for num_threads(threads) schedule(dynamic, chunk_items(inner)) if (parallel)
  for (int64_t q = 0; q < count * channels; ++q) {
    const int64_t r = q / channels, c = q % channels;
    const float* in = src + r * src_stride + c * inner;
    float* out = dst + r * dst_stride + c * inner;
    const float a = scale[c], b = shift[c];
    for (int64_t i = 0; i < inner; ++i) {
      const float v = in[i] * a + b, low = v < lo ? lo : v;
      out[i] = low > hi ? hi : low;
    }
  }
}

// Planes of at most this many floats map an image at a time (a loop per plane costs more than its work).
constexpr int64_t kSpreadPlane = 16;

void affine_avg_pool_2x2(const float* x, int64_t count, int64_t channels, int64_t h, int64_t w, const float* scale,
                         const float* shift, float lo, float hi, float* y, int threads) {
  const int64_t oh = h / 2, ow = w / 2, planes = count * channels;
  const int64_t plane = h * w, block = channels * plane;
  const bool parallel = threads > 1 && planes * plane >= kParallelMin;
  // Each window's four values summed in the reference's order (row by row), then divided by 4.
  auto pool_rows = [&](const float* m, float* out) {
    for (int64_t i = 0; i < oh; ++i)
      for (int64_t j = 0; j < ow; ++j)
        out[i * ow + j] = (m[2 * i * w + 2 * j] + m[2 * i * w + 2 * j + 1] + m[(2 * i + 1) * w + 2 * j] + m[(2 * i + 1) * w + 2 * j + 1]) / 4.0f;
  };
  if (plane <= kSpreadPlane) {
    // Small planes (DenseNet's last transitions at CIFAR sizes: 4×4, 2×2): an image at a time, its factors spread
    // to one per float so that mapping it is one vector loop, then each plane pooled from there.
    std::vector<float> spread(2 * block);
    for (int64_t c = 0; c < channels; ++c)
      std::fill_n(spread.begin() + c * plane, plane, scale[c]), std::fill_n(spread.begin() + block + c * plane, plane, shift[c]);
#pragma omp parallel num_threads(threads) if (parallel)
    {
      thread_local std::vector<float> mapped_buf;
      if ((int64_t)mapped_buf.size() < block) mapped_buf.resize(block);
      float* m = mapped_buf.data();
#pragma omp for schedule(dynamic, chunk_items(block))
      for (int64_t r = 0; r < count; ++r) {
        affine_run(x + r * block, m, block, spread.data(), spread.data() + block, lo, hi);
        for (int64_t c = 0; c < channels; ++c) pool_rows(m + c * plane, y + (r * channels + c) * oh * ow);
      }
    }
    return;
  }
#pragma omp parallel num_threads(threads) if (parallel)
  {
    // A plane mapped into a buffer first (a loop that vectorizes), then pooled from there.
    thread_local std::vector<float> mapped_buf;
    if ((int64_t)mapped_buf.size() < plane) mapped_buf.resize(plane);
    float* m = mapped_buf.data();
#pragma omp for schedule(dynamic, chunk_items(plane))
    for (int64_t q = 0; q < planes; ++q) {
      const float a = scale[q % channels], b = shift[q % channels];
      const float* in = x + q * plane;
      for (int64_t k = 0; k < plane; ++k) {
        const float v = in[k] * a + b, low = v < lo ? lo : v;
        m[k] = low > hi ? hi : low;
      }
      pool_rows(m, y + q * oh * ow);
    }
  }
}

// 16×16 tiles: a tile's reads and writes both stay within a few cache lines per row.
void transpose_batched(const float* x, float* y, int64_t batch, int64_t rows, int64_t cols, int threads) {
  constexpr int64_t T = 16;
  const int64_t row_tiles = (rows + T - 1) / T, col_tiles = (cols + T - 1) / T;
  const bool parallel = threads > 1 && batch * rows * cols >= kParallelMin;
#pragma omp parallel for num_threads(threads) schedule(dynamic, chunk_items(16 * cols)) if (parallel)
  for (int64_t t = 0; t < batch * row_tiles; ++t) {
    const int64_t b = t / row_tiles, r0 = (t % row_tiles) * T, r1 = std::min(rows, r0 + T);
    const float* xb = x + b * rows * cols;
    float* yb = y + b * rows * cols;
    for (int64_t ct = 0; ct < col_tiles; ++ct) {
      const int64_t c0 = ct * T, c1 = std::min(cols, c0 + T);
      for (int64_t c = c0; c < c1; ++c)
        for (int64_t r = r0; r < r1; ++r) yb[c * rows + r] = xb[r * cols + c];
    }
  }
}

}  // namespace cnn
