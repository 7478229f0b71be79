#include "norm/layer_norm.h"
#include "cpu/work_split.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include <omp.h>

namespace cnn {

static constexpr int64_t kParallelMin = 1 << 14;

namespace {

// Mean and 1/sqrt(biased var + eps) of n contiguous values, summed in double (two passes: the
// shifted second pass keeps the variance exact when the mean is large).
void moments(const float* x, int64_t n, double eps, float* mean_out, float* rstd_out) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += x[i];
  const double m = s / (double)n;
  double v = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double t = x[i] - m;
    v += t * t;
  }
  *mean_out = (float)m;
  *rstd_out = (float)(1.0 / std::sqrt(v / (double)n + eps));
}

// Per-thread partial sums of dweight/dbias, added up in thread order (deterministic for a
// given thread count).
struct AffineSums {
  int64_t d;
  std::vector<double> sums;  // per thread: d dweight then d dbias
  AffineSums(int64_t d_, int threads) : d(d_), sums((size_t)(2 * d_ * threads), 0.0) {}
  double* of(int t) { return sums.data() + (size_t)(2 * d * t); }
  void write(float* dweight, float* dbias, int threads) {
    for (int64_t j = 0; j < d; ++j) {
      double w = 0, b = 0;
      for (int t = 0; t < threads; ++t) {
        w += of(t)[j];
        b += of(t)[d + j];
      }
      if (dweight) dweight[j] = (float)w;
      if (dbias) dbias[j] = (float)b;
    }
  }
};

}  // namespace

// The forward passes split rows dynamically (cpu/work_split.h): each row's statistics are its own.
// The backward passes keep their static split: each thread sums its rows into its own
// accumulators, and a fixed assignment keeps those sums, and so the gradients, the same run to run.
void layer_norm_forward(const float* x, const float* weight, const float* bias, float* y,
                        float* mean, float* rstd, int64_t outer, int64_t d, int64_t inner,
                        double eps, int threads) {
  const bool parallel = threads > 1 && outer * d * inner >= kParallelMin;
  if (inner == 1) {
#pragma omp parallel for num_threads(threads) schedule(dynamic, chunk_items(2 * d)) if (parallel)
    for (int64_t o = 0; o < outer; ++o) {
      const float* xr = x + o * d;
      float* yr = y + o * d;
      moments(xr, d, eps, &mean[o], &rstd[o]);
      const float m = mean[o], r = rstd[o];
      for (int64_t j = 0; j < d; ++j) {
        const float v = (xr[j] - m) * r;
        yr[j] = (weight ? v * weight[j] : v) + (bias ? bias[j] : 0.0f);
      }
    }
    return;
  }
  // Channel form: statistics run across rows of `inner` values, so the inner loops stream
  // whole rows and vectorize along them.
#pragma omp parallel num_threads(threads) if (parallel)
  {
    std::vector<double> s((size_t)inner), q((size_t)inner);
#pragma omp for schedule(dynamic, chunk_items(3 * d * inner))
    for (int64_t o = 0; o < outer; ++o) {
      const float* xo = x + o * d * inner;
      float* yo = y + o * d * inner;
      float* mo = mean + o * inner;
      float* ro = rstd + o * inner;
      std::fill(s.begin(), s.end(), 0.0);
      for (int64_t j = 0; j < d; ++j)
        for (int64_t i = 0; i < inner; ++i) s[i] += xo[j * inner + i];
      for (int64_t i = 0; i < inner; ++i) s[i] /= (double)d;
      std::fill(q.begin(), q.end(), 0.0);
      for (int64_t j = 0; j < d; ++j)
        for (int64_t i = 0; i < inner; ++i) {
          const double t = xo[j * inner + i] - s[i];
          q[i] += t * t;
        }
      for (int64_t i = 0; i < inner; ++i) {
        mo[i] = (float)s[i];
        ro[i] = (float)(1.0 / std::sqrt(q[i] / (double)d + eps));
      }
      for (int64_t j = 0; j < d; ++j) {
        const float w = weight ? weight[j] : 1.0f, b = bias ? bias[j] : 0.0f;
        const float* xr = xo + j * inner;
        float* yr = yo + j * inner;
        for (int64_t i = 0; i < inner; ++i) yr[i] = (xr[i] - mo[i]) * ro[i] * w + b;
      }
    }
  }
}

// dx = rstd·(g - mean(g) - x̂·mean(g·x̂)) with g = dy·weight over each normalized set;
// dweight = Σ dy·x̂, dbias = Σ dy over everything else.
void layer_norm_backward(const float* x, const float* dy, const float* weight, const float* mean,
                         const float* rstd, float* dx, float* dweight, float* dbias,
                         int64_t outer, int64_t d, int64_t inner, int threads) {
  const bool parallel = threads > 1 && outer * d * inner >= kParallelMin;
  const int team = parallel ? threads : 1;
  const bool affine_grads = dweight || dbias;
  AffineSums sums(affine_grads ? d : 0, team);
#pragma omp parallel num_threads(team) if (parallel)
  {
    double* acc = sums.of(omp_get_thread_num());
    std::vector<double> a((size_t)inner), b((size_t)inner);
#pragma omp for schedule(static)
    for (int64_t o = 0; o < outer; ++o) {
      const float* xo = x + o * d * inner;
      const float* go = dy + o * d * inner;
      const float* mo = mean + o * inner;
      const float* ro = rstd + o * inner;
      if (affine_grads)
        for (int64_t j = 0; j < d; ++j)
          for (int64_t i = 0; i < inner; ++i) {
            const float xh = (xo[j * inner + i] - mo[i]) * ro[i];
            acc[j] += (double)go[j * inner + i] * xh;
            acc[d + j] += go[j * inner + i];
          }
      if (!dx) continue;
      std::fill(a.begin(), a.end(), 0.0);
      std::fill(b.begin(), b.end(), 0.0);
      for (int64_t j = 0; j < d; ++j) {
        const float w = weight ? weight[j] : 1.0f;
        for (int64_t i = 0; i < inner; ++i) {
          const float g = go[j * inner + i] * w;
          a[i] += g;
          b[i] += (double)g * ((xo[j * inner + i] - mo[i]) * ro[i]);
        }
      }
      for (int64_t i = 0; i < inner; ++i) {
        a[i] /= (double)d;
        b[i] /= (double)d;
      }
      float* dxo = dx + o * d * inner;
      for (int64_t j = 0; j < d; ++j) {
        const float w = weight ? weight[j] : 1.0f;
        for (int64_t i = 0; i < inner; ++i) {
          const float xh = (xo[j * inner + i] - mo[i]) * ro[i];
          dxo[j * inner + i] = ro[i] * (go[j * inner + i] * w - (float)a[i] - xh * (float)b[i]);
        }
      }
    }
  }
  if (affine_grads) sums.write(dweight, dbias, team);
}

void group_norm_forward(const float* x, const float* weight, const float* bias, float* y,
                        float* mean, float* rstd, int64_t n, int64_t c, int64_t s, int64_t groups,
                        double eps, int threads) {
  const int64_t cg = c / groups, block = cg * s;
  const bool parallel = threads > 1 && n * c * s >= kParallelMin;
#pragma omp parallel for num_threads(threads) schedule(dynamic, chunk_items(2 * block)) if (parallel)
  for (int64_t ng = 0; ng < n * groups; ++ng) {
    const float* xb = x + ng * block;
    float* yb = y + ng * block;
    moments(xb, block, eps, &mean[ng], &rstd[ng]);
    const float m = mean[ng], r = rstd[ng];
    const int64_t c0 = (ng % groups) * cg;
    for (int64_t k = 0; k < cg; ++k) {
      const float w = weight ? weight[c0 + k] * r : r;
      const float b = (bias ? bias[c0 + k] : 0.0f) - m * w;
      for (int64_t i = 0; i < s; ++i) yb[k * s + i] = xb[k * s + i] * w + b;
    }
  }
}

void group_norm_backward(const float* x, const float* dy, const float* weight, const float* mean,
                         const float* rstd, float* dx, float* dweight, float* dbias, int64_t n,
                         int64_t c, int64_t s, int64_t groups, int threads) {
  const int64_t cg = c / groups, block = cg * s;
  const bool parallel = threads > 1 && n * c * s >= kParallelMin;
  const int team = parallel ? threads : 1;
  const bool affine_grads = dweight || dbias;
  AffineSums sums(affine_grads ? c : 0, team);
#pragma omp parallel num_threads(team) if (parallel)
  {
    double* acc = sums.of(omp_get_thread_num());
#pragma omp for schedule(static)
    for (int64_t ng = 0; ng < n * groups; ++ng) {
      const float* xb = x + ng * block;
      const float* gb = dy + ng * block;
      const float m = mean[ng], r = rstd[ng];
      const int64_t c0 = (ng % groups) * cg;
      double a = 0, b = 0;
      for (int64_t k = 0; k < cg; ++k) {
        double sg = 0, sgx = 0;
        for (int64_t i = 0; i < s; ++i) {
          sg += gb[k * s + i];
          sgx += (double)gb[k * s + i] * ((xb[k * s + i] - m) * r);
        }
        if (affine_grads) {
          acc[c0 + k] += sgx;
          acc[c + c0 + k] += sg;
        }
        const double w = weight ? weight[c0 + k] : 1.0;
        a += w * sg;
        b += w * sgx;
      }
      if (!dx) continue;
      const float am = (float)(a / (double)block), bm = (float)(b / (double)block);
      float* db = dx + ng * block;
      for (int64_t k = 0; k < cg; ++k) {
        const float w = weight ? weight[c0 + k] : 1.0f;
        for (int64_t i = 0; i < s; ++i) {
          const float xh = (xb[k * s + i] - m) * r;
          db[k * s + i] = r * (gb[k * s + i] * w - am - xh * bm);
        }
      }
    }
  }
  if (affine_grads) sums.write(dweight, dbias, team);
}

}  // namespace cnn
