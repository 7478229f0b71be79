#include "norm/norm.h"
#include "cpu/work_split.h"

#include <cmath>
#include <cstdint>
#include <cstring>

namespace cnn {

namespace {

// Plane sums in double with 8 independent partial sums: one running sum would wait out the add
// latency on every element (a 4-cycle chain), the partial sums pipeline and vectorize.
constexpr int kLanes = 8;

double reduce(const double* a) {
  return ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
}

// Σ p[s]
double plane_sum(const float* p, int64_t S) {
  double a[kLanes] = {0};
  int64_t s = 0;
  for (; s + kLanes <= S; s += kLanes)
    for (int j = 0; j < kLanes; ++j) a[j] += p[s + j];
  for (; s < S; ++s) a[s % kLanes] += p[s];
  return reduce(a);
}

// Σ (p[s] − mean)²
double plane_sq_dev(const float* p, int64_t S, double mean) {
  double a[kLanes] = {0};
  int64_t s = 0;
  for (; s + kLanes <= S; s += kLanes)
    for (int j = 0; j < kLanes; ++j) {
      const double d = p[s + j] - mean;
      a[j] += d * d;
    }
  for (; s < S; ++s) a[s % kLanes] += (p[s] - mean) * (p[s] - mean);
  return reduce(a);
}

// The gradient reaching the normalization: dy, or (fused activation) dy where the activation
// passes it, else exactly 0 even for an infinite dy (relu_backward's and hardtanh_backward's
// masks, read from the output: 0 < z ⟺ 0 < y, and 0 < z < 6 ⟺ 0 < y < 6 for y = clamp(z)).
// A bit mask instead of a condition, as relu_backward: the compiler turned a conditional
// choice into a branch that mispredicted on half the elements and kept the loops scalar (the
// fused backward ran 4x slower than BatchNorm's and ReLU's backward together).
inline float keep_if(float g, bool keep) {
  uint32_t bits;
  std::memcpy(&bits, &g, 4);
  bits &= -(uint32_t)keep;
  std::memcpy(&g, &bits, 4);
  return g;
}

template <NormActivation kAct>
inline float grad_at(const float* g, const float* y, int64_t s) {
  if constexpr (kAct == NormActivation::Relu) return keep_if(g[s], y[s] > 0.0f);
  else if constexpr (kAct == NormActivation::Relu6) return keep_if(g[s], (y[s] > 0.0f) & (y[s] < 6.0f));
  else return g[s];
}

// Σ g[s] and Σ g[s]·(p[s] − mean), added to *sum_g and *sum_gx.
template <NormActivation kAct>
void plane_grad_sums(const float* p, const float* g, const float* y, int64_t S, double mean, double* sum_g, double* sum_gx) {
  double a[kLanes] = {0}, b[kLanes] = {0};
  int64_t s = 0;
  for (; s + kLanes <= S; s += kLanes)
    for (int j = 0; j < kLanes; ++j) {
      const float gj = grad_at<kAct>(g, y, s + j);
      a[j] += gj;
      b[j] += (double)gj * (p[s + j] - mean);
    }
  for (; s < S; ++s) {
    const float gs = grad_at<kAct>(g, y, s);
    a[s % kLanes] += gs;
    b[s % kLanes] += (double)gs * (p[s] - mean);
  }
  *sum_g += reduce(a);
  *sum_gx += reduce(b);
}

template <NormActivation kAct>
void backward_channels(const BatchNormShape& sh, const float* x, const float* dy, const float* yr,
                       const float* weight, const float* save_mean, const float* save_invstd,
                       bool use_batch_stats, float* dx, float* dweight, float* dbias, int threads) {
  const int64_t N = sh.n, C = sh.c, S = sh.s, M = N * S;
  const bool parallel = threads > 1 && N * C * S >= (1 << 14) && C > 1;
#pragma omp parallel for num_threads(threads) schedule(dynamic, chunk_items(N * S)) if (parallel)
  for (int64_t c = 0; c < C; ++c) {
    const double mean = save_mean[c], invstd = save_invstd[c];
    double sum_dy = 0, sum_dy_xc = 0;  // Σdy and Σdy·(x - mean)
    for (int64_t n = 0; n < N; ++n) {
      const int64_t o = (n * C + c) * S;
      plane_grad_sums<kAct>(x + o, dy + o, kAct != NormActivation::None ? yr + o : nullptr, S, mean, &sum_dy, &sum_dy_xc);
    }
    if (dbias) dbias[c] = (float)sum_dy;
    if (dweight) dweight[c] = (float)(sum_dy_xc * invstd);
    if (!dx) continue;
    const double w = weight ? weight[c] : 1.0;
    const float k = (float)(w * invstd);
    if (use_batch_stats && M > 0) {
      // dx = w·invstd·(dy - mean(dy) - (x - mean)·invstd²·mean(dy·(x - mean)))
      const float mean_dy = (float)(sum_dy / M);
      const float proj = (float)(sum_dy_xc / M * invstd * invstd);
      const float m = (float)mean;
      for (int64_t n = 0; n < N; ++n) {
        const int64_t o = (n * C + c) * S;
        const float* p = x + o;
        const float* g = dy + o;
        const float* y = kAct != NormActivation::None ? yr + o : nullptr;
        float* q = dx + o;
        for (int64_t s = 0; s < S; ++s) q[s] = k * (grad_at<kAct>(g, y, s) - mean_dy - (p[s] - m) * proj);
      }
    } else {
      for (int64_t n = 0; n < N; ++n) {
        const int64_t o = (n * C + c) * S;
        const float* g = dy + o;
        const float* y = kAct != NormActivation::None ? yr + o : nullptr;
        float* q = dx + o;
        for (int64_t s = 0; s < S; ++s) q[s] = k * grad_at<kAct>(g, y, s);
      }
    }
  }
}

}  // namespace

// Parallel over channels: each channel's statistics are one thread's private double sums.
void batch_norm_forward(const BatchNormShape& sh, const float* x, const float* weight,
                        const float* bias, float* running_mean, float* running_var,
                        bool use_batch_stats, double momentum, double eps, float* y,
                        float* save_mean, float* save_invstd, int threads, NormActivation act) {
  const int64_t N = sh.n, C = sh.c, S = sh.s, M = N * S;
  const bool parallel = threads > 1 && N * C * S >= (1 << 14) && C > 1;
#pragma omp parallel for num_threads(threads) schedule(dynamic, chunk_items(N * S)) if (parallel)
  for (int64_t c = 0; c < C; ++c) {
    double mean, invstd;
    if (use_batch_stats) {
      double sum = 0;
      for (int64_t n = 0; n < N; ++n) sum += plane_sum(x + (n * C + c) * S, S);
      mean = M > 0 ? sum / (double)M : 0.0;
      // Two passes: the centered sum of squares does not cancel catastrophically.
      double sq = 0;
      for (int64_t n = 0; n < N; ++n) sq += plane_sq_dev(x + (n * C + c) * S, S, mean);
      const double var = M > 0 ? sq / (double)M : 0.0;
      invstd = 1.0 / std::sqrt(var + eps);
      if (running_mean) {
        running_mean[c] = (float)((1.0 - momentum) * running_mean[c] + momentum * mean);
      }
      if (running_var) {
        const double unbiased = M > 1 ? sq / (double)(M - 1) : NAN;
        running_var[c] = (float)((1.0 - momentum) * running_var[c] + momentum * unbiased);
      }
    } else {
      mean = running_mean[c];
      invstd = 1.0 / std::sqrt((double)running_var[c] + eps);
    }
    save_mean[c] = (float)mean;
    save_invstd[c] = (float)invstd;
    // y = x·a + b' with a = w·invstd, b' = bias - mean·a: one fused multiply-add per element.
    const double w = weight ? weight[c] : 1.0, b = bias ? bias[c] : 0.0;
    const float a = (float)(w * invstd), shift = (float)(b - mean * w * invstd);
    for (int64_t n = 0; n < N; ++n) {
      const float* p = x + (n * C + c) * S;
      float* q = y + (n * C + c) * S;
      if (act == NormActivation::Relu) {
        for (int64_t s = 0; s < S; ++s) {
          const float v = p[s] * a + shift;
          q[s] = v > 0.0f ? v : 0.0f;  // as relu_forward
        }
      } else if (act == NormActivation::Relu6) {
        for (int64_t s = 0; s < S; ++s) {
          const float v = p[s] * a + shift;
          q[s] = v < 0.0f ? 0.0f : (v > 6.0f ? 6.0f : v);  // as hardtanh_forward(0, 6)
        }
      } else {
        for (int64_t s = 0; s < S; ++s) q[s] = p[s] * a + shift;
      }
    }
  }
}

void batch_norm_backward(const BatchNormShape& sh, const float* x, const float* dy,
                         const float* weight, const float* save_mean, const float* save_invstd,
                         bool use_batch_stats, float* dx, float* dweight, float* dbias,
                         int threads, NormActivation act, const float* act_output) {
  switch (act) {
    case NormActivation::Relu:
      return backward_channels<NormActivation::Relu>(sh, x, dy, act_output, weight, save_mean, save_invstd, use_batch_stats, dx, dweight, dbias, threads);
    case NormActivation::Relu6:
      return backward_channels<NormActivation::Relu6>(sh, x, dy, act_output, weight, save_mean, save_invstd, use_batch_stats, dx, dweight, dbias, threads);
    default:
      return backward_channels<NormActivation::None>(sh, x, dy, nullptr, weight, save_mean, save_invstd, use_batch_stats, dx, dweight, dbias, threads);
  }
}

}  // namespace cnn
