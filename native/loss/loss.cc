#include "loss/loss.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace cnn {

static constexpr int64_t kParallelMin = 1 << 15;

static inline bool ignored(const CrossEntropyParams& p, int64_t i) {
  return p.target[i] == p.ignore_index;
}

// Σ weight[target] over non-ignored rows (their count without weights).
static double target_weight_sum(const CrossEntropyParams& p) {
  double w = 0;
  for (int64_t i = 0; i < p.n; ++i)
    if (!ignored(p, i)) w += p.weight ? p.weight[p.target[i]] : 1.0;
  return w;
}

void cross_entropy_forward(const CrossEntropyParams& p, const float* logits, float* out,
                           float* lse, int threads) {
  const int64_t N = p.n, C = p.c;
  const double eps = p.label_smoothing;
  double nll_sum = 0, smooth_sum = 0;
  const bool parallel = threads > 1 && N * C >= kParallelMin;
#pragma omp parallel for num_threads(threads) schedule(static) reduction(+ : nll_sum, smooth_sum) if (parallel)
  for (int64_t i = 0; i < N; ++i) {
    const float* x = logits + i * C;
    float mx = -std::numeric_limits<float>::infinity();
    for (int64_t c = 0; c < C; ++c) mx = std::max(mx, x[c]);
    if (std::isinf(mx) && mx < 0) mx = 0;
    double s = 0;
    for (int64_t c = 0; c < C; ++c) s += std::exp((double)x[c] - mx);
    const double l = std::log(s) + mx;
    lse[i] = (float)l;
    double nll = 0, smooth = 0;
    if (!ignored(p, i)) {
      const int32_t t = p.target[i];
      nll = -(p.weight ? (double)p.weight[t] : 1.0) * ((double)x[t] - l);
      if (eps > 0) {
        for (int64_t c = 0; c < C; ++c) smooth -= (p.weight ? (double)p.weight[c] : 1.0) * ((double)x[c] - l);
      }
    }
    if (p.reduction == Reduction::None) out[i] = (float)((1 - eps) * nll + eps / C * smooth);
    nll_sum += nll;
    smooth_sum += smooth;
  }
  if (p.reduction == Reduction::Sum) {
    out[0] = (float)((1 - eps) * nll_sum + eps / C * smooth_sum);
  } else if (p.reduction == Reduction::Mean) {
    // Both terms divide by Σ w[target] over non-ignored rows (their count without weights);
    // 0 when every target is ignored gives NaN, as in PyTorch.
    const double w = target_weight_sum(p);
    out[0] = (float)(((1 - eps) * nll_sum + eps / C * smooth_sum) / w);
  }
}

void cross_entropy_backward(const CrossEntropyParams& p, const float* logits, const float* lse,
                            const float* grad_out, float* dlogits, int threads) {
  const int64_t N = p.n, C = p.c;
  const double eps = p.label_smoothing;
  const double div = p.reduction == Reduction::Mean ? target_weight_sum(p) : 1.0;
  double weight_total = 0;
  for (int64_t c = 0; c < C; ++c) weight_total += p.weight ? p.weight[c] : 1.0;
  const bool parallel = threads > 1 && N * C >= kParallelMin;
#pragma omp parallel for num_threads(threads) schedule(static) if (parallel)
  for (int64_t i = 0; i < N; ++i) {
    float* d = dlogits + i * C;
    if (ignored(p, i)) {
      std::fill(d, d + C, 0.0f);
      continue;
    }
    const double g = p.reduction == Reduction::None ? grad_out[i] : grad_out[0];
    const int32_t t = p.target[i];
    // d nll/dx_c = w_t·(p_c - [c = t]); d smooth/dx_c = p_c·Σw - w_c
    const double a = g * (1 - eps) / div * (p.weight ? p.weight[t] : 1.0);
    const double b = eps > 0 ? g * eps / C / div : 0.0;
    const float* x = logits + i * C;
    const double l = lse[i];
    for (int64_t c = 0; c < C; ++c) {
      const double prob = std::exp((double)x[c] - l);
      double v = a * prob + b * (prob * weight_total - (p.weight ? p.weight[c] : 1.0));
      if (c == t) v -= a;
      d[c] = (float)v;
    }
  }
}

void nll_loss_forward(const CrossEntropyParams& p, const float* logp, float* out) {
  double total = 0;
  for (int64_t i = 0; i < p.n; ++i) {
    double v = 0;
    if (!ignored(p, i)) {
      const int32_t t = p.target[i];
      v = -(p.weight ? (double)p.weight[t] : 1.0) * logp[i * p.c + t];
    }
    if (p.reduction == Reduction::None) out[i] = (float)v;
    total += v;
  }
  if (p.reduction == Reduction::Sum) out[0] = (float)total;
  if (p.reduction == Reduction::Mean) out[0] = (float)(total / target_weight_sum(p));
}

void nll_loss_backward(const CrossEntropyParams& p, const float* grad_out, float* dlogp) {
  const double div = p.reduction == Reduction::Mean ? target_weight_sum(p) : 1.0;
  std::fill(dlogp, dlogp + p.n * p.c, 0.0f);
  for (int64_t i = 0; i < p.n; ++i) {
    if (ignored(p, i)) continue;
    const int32_t t = p.target[i];
    const double g = p.reduction == Reduction::None ? grad_out[i] : grad_out[0];
    dlogp[i * p.c + t] = (float)(-g * (p.weight ? p.weight[t] : 1.0) / div);
  }
}

int64_t accuracy_top_k(const float* logits, int64_t n, int64_t c, const int32_t* target,
                       int64_t k, int threads) {
  int64_t correct = 0;
#pragma omp parallel for num_threads(threads) schedule(static) reduction(+ : correct) if (threads > 1 && n * c >= kParallelMin)
  for (int64_t i = 0; i < n; ++i) {
    const float* x = logits + i * c;
    const int32_t t = target[i];
    if (t < 0 || t >= c || std::isnan(x[t])) continue;
    int64_t larger = 0;
    for (int64_t j = 0; j < c && larger < k; ++j) larger += x[j] > x[t] || std::isnan(x[j]);
    correct += larger < k;
  }
  return correct;
}

}  // namespace cnn
