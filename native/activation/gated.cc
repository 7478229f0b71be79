#include "activation/gated.h"
#include "cpu/work_split.h"

#include <algorithm>
#include <cmath>

namespace cnn {

// Below this many elements a thread team costs more than the loop.
static constexpr int64_t kParallelMin = 1 << 14;

namespace {

constexpr float kSqrtHalf = 0.70710678118654752440f;      // 1/√2
constexpr float kInvSqrt2Pi = 0.39894228040143267794f;    // 1/√(2π)
constexpr float kTanhBeta = 0.79788456080286535588f;      // √(2/π)
constexpr float kTanhKappa = 0.044715f;

// One functor per kind so each loop is a plain, branch-free body the compiler can unroll.
struct Silu {
  static float f(float x) { return x / (1.0f + std::exp(-x)); }
  static float df(float x) {
    const float s = 1.0f / (1.0f + std::exp(-x));
    return s * (1.0f + x * (1.0f - s));
  }
};
struct GeluErf {
  static float f(float x) { return 0.5f * x * (1.0f + std::erf(x * kSqrtHalf)); }
  static float df(float x) {
    return 0.5f * (1.0f + std::erf(x * kSqrtHalf)) + x * kInvSqrt2Pi * std::exp(-0.5f * x * x);
  }
};
struct GeluTanh {
  static float f(float x) { return 0.5f * x * (1.0f + std::tanh(kTanhBeta * (x + kTanhKappa * x * x * x))); }
  static float df(float x) {
    const float t = std::tanh(kTanhBeta * (x + kTanhKappa * x * x * x));
    return 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * kTanhBeta * (1.0f + 3.0f * kTanhKappa * x * x);
  }
};
struct Hardswish {
  static float f(float x) { return x * std::min(std::max(x + 3.0f, 0.0f), 6.0f) * (1.0f / 6.0f); }
  // PyTorch's vectorized kernel (what all but a tensor's last few elements go through) takes
  // 1 at x = 3; its scalar tail takes 1.5 there.
  static float df(float x) { return x < -3.0f ? 0.0f : x < 3.0f ? x * (1.0f / 3.0f) + 0.5f : 1.0f; }
};
struct Hardsigmoid {
  static float f(float x) { return std::min(std::max(x + 3.0f, 0.0f), 6.0f) * (1.0f / 6.0f); }
  static float df(float x) { return x > -3.0f && x < 3.0f ? 1.0f / 6.0f : 0.0f; }
};

template <class F>
void forward(const float* x, float* y, int64_t n, int threads) {
#pragma omp parallel for simd num_threads(threads) schedule(dynamic, kChunkFloats) if (threads > 1 && n >= kParallelMin)
  for (int64_t i = 0; i < n; ++i) y[i] = F::f(x[i]);
}

template <class F>
void backward(const float* x, const float* dy, float* dx, int64_t n, int threads) {
#pragma omp parallel for simd num_threads(threads) schedule(dynamic, kChunkFloats) if (threads > 1 && n >= kParallelMin)
  for (int64_t i = 0; i < n; ++i) dx[i] = dy[i] * F::df(x[i]);
}

}  // namespace

void gated_forward(Gated kind, const float* x, float* y, int64_t n, int threads) {
  switch (kind) {
    case Gated::kSilu: return forward<Silu>(x, y, n, threads);
    case Gated::kGeluErf: return forward<GeluErf>(x, y, n, threads);
    case Gated::kGeluTanh: return forward<GeluTanh>(x, y, n, threads);
    case Gated::kHardswish: return forward<Hardswish>(x, y, n, threads);
    case Gated::kHardsigmoid: return forward<Hardsigmoid>(x, y, n, threads);
  }
}

void gated_backward(Gated kind, const float* x, const float* dy, float* dx, int64_t n, int threads) {
  switch (kind) {
    case Gated::kSilu: return backward<Silu>(x, dy, dx, n, threads);
    case Gated::kGeluErf: return backward<GeluErf>(x, dy, dx, n, threads);
    case Gated::kGeluTanh: return backward<GeluTanh>(x, dy, dx, n, threads);
    case Gated::kHardswish: return backward<Hardswish>(x, dy, dx, n, threads);
    case Gated::kHardsigmoid: return backward<Hardsigmoid>(x, dy, dx, n, threads);
  }
}

}  // namespace cnn
