#include "norm/norm.h"
#include "cpu/work_split.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

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

template <NormActivation kAct>
inline float activate(float v) {
  if constexpr (kAct == NormActivation::Relu) return v > 0.0f ? v : 0.0f;  // as relu_forward
  else if constexpr (kAct == NormActivation::Relu6) return v < 0.0f ? 0.0f : (v > 6.0f ? 6.0f : v);  // as hardtanh_forward(0, 6)
  else return v;
}

// Channel c's invstd from its batch mean and centered sum of squares; updates its running stats.
double batch_invstd(int64_t c, double mean, double sq, int64_t M, double momentum, double eps, float* running_mean,
                    float* running_var) {
  const double var = M > 0 ? sq / (double)M : 0.0;  // two passes: the centered sum does not cancel
  if (running_mean) running_mean[c] = (float)((1.0 - momentum) * running_mean[c] + momentum * mean);
  if (running_var) {
    const double unbiased = M > 1 ? sq / (double)(M - 1) : NAN;
    running_var[c] = (float)((1.0 - momentum) * running_var[c] + momentum * unbiased);
  }
  return 1.0 / std::sqrt(var + eps);
}

// Saves channel c's mean and invstd and returns y = x·a + shift's coefficients, a = w·invstd and
// shift = bias - mean·a: one fused multiply-add per element.
void channel_affine(int64_t c, double mean, double invstd, const float* weight, const float* bias, float* save_mean,
                    float* save_invstd, float* a, float* shift) {
  save_mean[c] = (float)mean;
  save_invstd[c] = (float)invstd;
  const double w = weight ? weight[c] : 1.0, b = bias ? bias[c] : 0.0;
  *a = (float)(w * invstd), *shift = (float)(b - mean * w * invstd);
}

// Planes of at most kSmallPlane elements (the late layers of CIFAR-sized networks; 1 for
// BatchNorm1d) take the blocked loops: a block of channels is one contiguous run of channels·S
// floats in every image, and the loops run along it with each element's channel scalars spread
// out beside it, so they vectorize, instead of calling per-plane loops of 1-32 elements N·C
// times. Each channel's sums still run in one order whatever the blocking and thread count.
constexpr int64_t kSmallPlane = 64;
constexpr int64_t kBlockFloats = 2048;

struct ChannelBlocks {
  int64_t channels, count;
  ChannelBlocks(int64_t C, int64_t S, int threads)
      : channels(std::max<int64_t>(1, std::min<int64_t>(kBlockFloats / S, (C + 4 * threads - 1) / (4 * threads)))),
        count((C + channels - 1) / channels) {}
};

// A thread's buffer that only grows, so steady-state steps do not allocate.
template <class T>
T* grow(std::vector<T>& v, int64_t n) {
  if ((int64_t)v.size() < n) v.resize(n);
  return v.data();
}

// The per-block scratch of one thread: double sums and per-element channel scalars.
struct BlockScratch {
  double *sum, *sum2, *mean;
  float *a, *b, *c, *d;
  explicit BlockScratch(int64_t n) {
    thread_local std::vector<double> doubles;
    thread_local std::vector<float> floats;
    double* dp = grow(doubles, 3 * n);
    float* fp = grow(floats, 4 * n);
    sum = dp, sum2 = dp + n, mean = dp + 2 * n, a = fp, b = fp + n, c = fp + 2 * n, d = fp + 3 * n;
  }
};

// Σ over n of f(p_n, i) into acc[i] for the block's run [0, L) of every image.
template <class F>
void sum_over_images(const float* x, int64_t N, int64_t image, int64_t L, double* acc, F f) {
  std::fill(acc, acc + L, 0.0);
  for (int64_t n = 0; n < N; ++n) {
    const float* p = x + n * image;
#pragma omp simd
    for (int64_t i = 0; i < L; ++i) acc[i] += f(p, i);
  }
}

// Σ_s acc[(c - c0)·S + s]: channel c's total.
inline double channel_total(const double* acc, int64_t c, int64_t S) {
  double t = 0;
  for (int64_t s = 0; s < S; ++s) t += acc[c * S + s];
  return t;
}

template <class T>
void spread(T* out, int64_t c, int64_t S, T v) {
  std::fill(out + c * S, out + (c + 1) * S, v);
}

template <NormActivation kAct>
void forward_blocked(const BatchNormShape& sh, const float* x, const float* weight, const float* bias,
                     float* running_mean, float* running_var, bool use_batch_stats, double momentum, double eps,
                     float* y, float* save_mean, float* save_invstd, int threads) {
  const int64_t N = sh.n, C = sh.c, S = sh.s, M = N * S;
  const ChannelBlocks blocks(C, S, threads);
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1) if (threads > 1 && blocks.count > 1)
  for (int64_t blk = 0; blk < blocks.count; ++blk) {
    const int64_t c0 = blk * blocks.channels, nc = std::min(blocks.channels, C - c0), L = nc * S;
    const BlockScratch t(blocks.channels * S);
    const float* xb = x + c0 * S;
    if (use_batch_stats) {
      sum_over_images(xb, N, C * S, L, t.sum, [](const float* p, int64_t i) { return (double)p[i]; });
      for (int64_t c = 0; c < nc; ++c) spread(t.mean, c, S, M > 0 ? channel_total(t.sum, c, S) / (double)M : 0.0);
      const double* mean = t.mean;
      sum_over_images(xb, N, C * S, L, t.sum2, [mean](const float* p, int64_t i) {
        const double d = p[i] - mean[i];
        return d * d;
      });
    }
    for (int64_t c = 0; c < nc; ++c) {
      const int64_t ch = c0 + c;
      const double mean = use_batch_stats ? t.mean[c * S] : running_mean[ch];
      const double invstd = use_batch_stats
          ? batch_invstd(ch, mean, channel_total(t.sum2, c, S), M, momentum, eps, running_mean, running_var)
          : 1.0 / std::sqrt((double)running_var[ch] + eps);
      float a, shift;
      channel_affine(ch, mean, invstd, weight, bias, save_mean, save_invstd, &a, &shift);
      spread(t.a, c, S, a);
      spread(t.b, c, S, shift);
    }
    for (int64_t n = 0; n < N; ++n) {
      const float* p = xb + n * C * S;
      float* q = y + (n * C + c0) * S;
      const float *a = t.a, *shift = t.b;
#pragma omp simd
      for (int64_t i = 0; i < L; ++i) q[i] = activate<kAct>(p[i] * a[i] + shift[i]);
    }
  }
}

template <NormActivation kAct>
void backward_blocked(const BatchNormShape& sh, const float* x, const float* dy, const float* yr, const float* weight,
                      const float* save_mean, const float* save_invstd, bool use_batch_stats, float* dx,
                      float* dweight, float* dbias, int threads) {
  const int64_t N = sh.n, C = sh.c, S = sh.s, M = N * S;
  const ChannelBlocks blocks(C, S, threads);
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1) if (threads > 1 && blocks.count > 1)
  for (int64_t blk = 0; blk < blocks.count; ++blk) {
    const int64_t c0 = blk * blocks.channels, nc = std::min(blocks.channels, C - c0), L = nc * S, image = C * S;
    const BlockScratch t(blocks.channels * S);
    const float* xb = x + c0 * S;
    const float* gb = dy + c0 * S;
    const float* yb = kAct != NormActivation::None ? yr + c0 * S : nullptr;
    for (int64_t c = 0; c < nc; ++c) spread(t.mean, c, S, (double)save_mean[c0 + c]);
    // Σdy and Σdy·(x - mean) per element of the run, as plane_grad_sums per plane.
    std::fill(t.sum, t.sum + L, 0.0);
    std::fill(t.sum2, t.sum2 + L, 0.0);
    for (int64_t n = 0; n < N; ++n) {
      const int64_t at = n * image;
      const float *p = xb + at, *g = gb + at, *yy = yb ? yb + at : nullptr;
      double *sg = t.sum, *sgx = t.sum2;
      const double* mean = t.mean;
#pragma omp simd
      for (int64_t i = 0; i < L; ++i) {
        const float gi = grad_at<kAct>(g, yy, i);
        sg[i] += gi;
        sgx[i] += (double)gi * (p[i] - mean[i]);
      }
    }
    for (int64_t c = 0; c < nc; ++c) {
      const int64_t ch = c0 + c;
      const double sum_dy = channel_total(t.sum, c, S), sum_dy_xc = channel_total(t.sum2, c, S);
      const double invstd = save_invstd[ch];
      if (dbias) dbias[ch] = (float)sum_dy;
      if (dweight) dweight[ch] = (float)(sum_dy_xc * invstd);
      const float k = (float)((weight ? weight[ch] : 1.0) * invstd);
      const bool full = use_batch_stats && M > 0;
      spread(t.a, c, S, k);
      spread(t.b, c, S, full ? (float)(sum_dy / M) : 0.0f);
      spread(t.c, c, S, full ? (float)(sum_dy_xc / M * invstd * invstd) : 0.0f);
      spread(t.d, c, S, save_mean[ch]);
    }
    if (!dx) continue;
    for (int64_t n = 0; n < N; ++n) {
      const int64_t at = n * image;
      const float *p = xb + at, *g = gb + at, *yy = yb ? yb + at : nullptr;
      const float *k = t.a, *mean_dy = t.b, *proj = t.c, *m = t.d;
      float* q = dx + at + c0 * S;
      if (use_batch_stats && M > 0) {
        // dx = w·invstd·(dy - mean(dy) - (x - mean)·invstd²·mean(dy·(x - mean))), as backward_channels
#pragma omp simd
        for (int64_t i = 0; i < L; ++i) q[i] = k[i] * (grad_at<kAct>(g, yy, i) - mean_dy[i] - (p[i] - m[i]) * proj[i]);
      } else {
#pragma omp simd
        for (int64_t i = 0; i < L; ++i) q[i] = k[i] * grad_at<kAct>(g, yy, i);
      }
    }
  }
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

// Parallel over channels: each channel's statistics are one thread's private double sums.
template <NormActivation kAct>
void forward_channels(const BatchNormShape& sh, const float* x, const float* weight, const float* bias,
                      float* running_mean, float* running_var, bool use_batch_stats, double momentum, double eps,
                      float* y, float* save_mean, float* save_invstd, int threads) {
  const int64_t N = sh.n, C = sh.c, S = sh.s, M = N * S;
  const bool parallel = threads > 1 && N * C * S >= (1 << 14) && C > 1;
#pragma omp parallel for num_threads(threads) schedule(dynamic, chunk_items(N * S)) if (parallel)
  for (int64_t c = 0; c < C; ++c) {
    double mean, invstd;
    if (use_batch_stats) {
      double sum = 0;
      for (int64_t n = 0; n < N; ++n) sum += plane_sum(x + (n * C + c) * S, S);
      mean = M > 0 ? sum / (double)M : 0.0;
      double sq = 0;
      for (int64_t n = 0; n < N; ++n) sq += plane_sq_dev(x + (n * C + c) * S, S, mean);
      invstd = batch_invstd(c, mean, sq, M, momentum, eps, running_mean, running_var);
    } else {
      mean = running_mean[c];
      invstd = 1.0 / std::sqrt((double)running_var[c] + eps);
    }
    float a, shift;
    channel_affine(c, mean, invstd, weight, bias, save_mean, save_invstd, &a, &shift);
    for (int64_t n = 0; n < N; ++n) {
      const float* p = x + (n * C + c) * S;
      float* q = y + (n * C + c) * S;
      for (int64_t s = 0; s < S; ++s) q[s] = activate<kAct>(p[s] * a + shift);
    }
  }
}

template <NormActivation kAct>
void forward(const BatchNormShape& sh, const float* x, const float* weight, const float* bias, float* running_mean,
             float* running_var, bool use_batch_stats, double momentum, double eps, float* y, float* save_mean,
             float* save_invstd, int threads) {
  auto path = sh.s <= kSmallPlane ? forward_blocked<kAct> : forward_channels<kAct>;
  path(sh, x, weight, bias, running_mean, running_var, use_batch_stats, momentum, eps, y, save_mean, save_invstd, threads);
}

template <NormActivation kAct>
void backward(const BatchNormShape& sh, const float* x, const float* dy, const float* yr, const float* weight,
              const float* save_mean, const float* save_invstd, bool use_batch_stats, float* dx, float* dweight,
              float* dbias, int threads) {
  auto path = sh.s <= kSmallPlane ? backward_blocked<kAct> : backward_channels<kAct>;
  path(sh, x, dy, yr, weight, save_mean, save_invstd, use_batch_stats, dx, dweight, dbias, threads);
}

}  // namespace

void batch_norm_forward(const BatchNormShape& sh, const float* x, const float* weight,
                        const float* bias, float* running_mean, float* running_var,
                        bool use_batch_stats, double momentum, double eps, float* y,
                        float* save_mean, float* save_invstd, int threads, NormActivation act) {
  switch (act) {
    case NormActivation::Relu:
      return forward<NormActivation::Relu>(sh, x, weight, bias, running_mean, running_var, use_batch_stats, momentum, eps, y, save_mean, save_invstd, threads);
    case NormActivation::Relu6:
      return forward<NormActivation::Relu6>(sh, x, weight, bias, running_mean, running_var, use_batch_stats, momentum, eps, y, save_mean, save_invstd, threads);
    default:
      return forward<NormActivation::None>(sh, x, weight, bias, running_mean, running_var, use_batch_stats, momentum, eps, y, save_mean, save_invstd, threads);
  }
}

void batch_norm_backward(const BatchNormShape& sh, const float* x, const float* dy,
                         const float* weight, const float* save_mean, const float* save_invstd,
                         bool use_batch_stats, float* dx, float* dweight, float* dbias,
                         int threads, NormActivation act, const float* act_output) {
  switch (act) {
    case NormActivation::Relu:
      return backward<NormActivation::Relu>(sh, x, dy, act_output, weight, save_mean, save_invstd, use_batch_stats, dx, dweight, dbias, threads);
    case NormActivation::Relu6:
      return backward<NormActivation::Relu6>(sh, x, dy, act_output, weight, save_mean, save_invstd, use_batch_stats, dx, dweight, dbias, threads);
    default:
      return backward<NormActivation::None>(sh, x, dy, nullptr, weight, save_mean, save_invstd, use_batch_stats, dx, dweight, dbias, threads);
  }
}

}  // namespace cnn
