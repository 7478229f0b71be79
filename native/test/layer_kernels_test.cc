// Issue 16's layer kernels against scalar references computed here in double: SiLU, GELU (erf
// and tanh), Hardswish, Hardsigmoid, Sigmoid (with their far tails), LayerNorm (trailing dims and channels-last-2d's NCHW form),
// GroupNorm, the SE / layer-scale channel factors, concatenation by rows and the NCHW<->NHWC
// transpose, forward and backward. Sizes are odd and come below and above the kernels' OpenMP
// threshold (16384 elements), on 1 and 3 threads. These kernels have one compiled body each
// (no per-ISA variants; the dispatcher's choice reaches only GEMM), so they run once per
// variant the CPU supports with that variant active, as the rest of the program would.
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "activation/activation.h"
#include "activation/gated.h"
#include "cpu/cpu.h"
#include "eltwise/channels.h"
#include "norm/layer_norm.h"
#include "test/check.h"

using namespace cnn;

namespace {

// f(x) and f'(x) in double, with PyTorch's choices at the kinks (see gated.h).
double gated_ref(Gated kind, double x, bool derivative) {
  const double pi = 3.14159265358979323846;
  switch (kind) {
    case Gated::kSilu: {
      const double s = 1 / (1 + std::exp(-x));
      return derivative ? s * (1 + x * (1 - s)) : x * s;
    }
    case Gated::kGeluErf: {
      const double cdf = 0.5 * std::erfc(-x / std::sqrt(2.0));  // not 1 + erf, which cancels for x < 0
      return derivative ? cdf + x * std::exp(-0.5 * x * x) / std::sqrt(2 * pi) : x * cdf;
    }
    case Gated::kGeluTanh: {
      const double beta = std::sqrt(2 / pi), kappa = 0.044715;
      const double t = std::tanh(beta * (x + kappa * x * x * x));
      // ½x(1 + t) as x·σ(2u): 1 + t cancels for x < 0.
      return derivative ? 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * beta * (1 + 3 * kappa * x * x)
                        : x / (1 + std::exp(-2 * beta * (x + kappa * x * x * x)));
    }
    case Gated::kHardswish:
      if (derivative) return x < -3 ? 0 : x < 3 ? x / 3 + 0.5 : 1;
      return x * std::fmin(std::fmax(x + 3, 0.0), 6.0) / 6;
    case Gated::kHardsigmoid:
      if (derivative) return x > -3 && x < 3 ? 1.0 / 6 : 0;
      return std::fmin(std::fmax(x + 3, 0.0), 6.0) / 6;
  }
  return NAN;
}

const char* gated_name(Gated kind) {
  static const char* names[] = {"silu", "gelu", "gelu_tanh", "hardswish", "hardsigmoid"};
  return names[(int)kind];
}

std::vector<float> scaled(std::vector<float> v, float by) {
  for (auto& x : v) x *= by;
  return v;
}

void test_gated(std::mt19937& rng, const std::string& label) {
  for (int64_t n : {1, 7, 1000, 20011})
    for (int threads : {1, 3}) {
      // Over [-6, 6], with the kinks -3, 0 and 3 hit exactly.
      auto x = scaled(random_vec(n, rng), 6.0f);
      const float kinks[] = {-3.0f, 0.0f, 3.0f};
      for (int k = 0; k < 3 && k < n; ++k) x[(size_t)(k * n) / 3] = kinks[k];
      auto dy = random_vec(n, rng);
      for (int kind = 0; kind < kGatedKinds; ++kind) {
        const Gated g = (Gated)kind;
        std::vector<float> y(n), dx(n), y_ref(n), dx_ref(n);
        for (int64_t i = 0; i < n; ++i) {
          y_ref[i] = (float)gated_ref(g, x[i], false);
          dx_ref[i] = (float)(dy[i] * gated_ref(g, x[i], true));
        }
        gated_forward(g, x.data(), y.data(), n, threads);
        gated_backward(g, x.data(), dy.data(), dx.data(), n, threads);
        char name[128];
        std::snprintf(name, sizeof name, "%s[%s] n=%lld threads=%d", gated_name(g), label.c_str(), (long long)n, threads);
        check_close(std::string(name) + " forward", y, y_ref, 2e-6f, 2e-6f);
        check_close(std::string(name) + " backward", dx, dx_ref, 2e-6f, 2e-6f);
      }
      std::vector<float> s(n), s_ref(n);
      for (int64_t i = 0; i < n; ++i) s_ref[i] = (float)(1 / (1 + std::exp(-(double)x[i])));
      sigmoid_forward(x.data(), s.data(), n, threads);
      check_close("sigmoid[" + label + "] n=" + std::to_string(n) + " threads=" + std::to_string(threads), s, s_ref, 2e-6f, 2e-6f);
    }
}

// The vector loops' exp saturates at e^±88 and their erfc keeps its relative accuracy: far
// tails, in place (y = x, dx = dy), and NaN passing through.
void test_gated_tails(const std::string& label) {
  std::vector<float> x;
  for (float v : {0.0f, 10.0f, 20.0f, 50.0f, 87.4f, 87.6f, 88.7f, 88.8f, 100.0f, 1e4f, 1e30f}) x.push_back(v), x.push_back(-v);
  for (int k = 0; k <= 90; ++k) x.push_back(-3.0f - k * 0.1f);  // [-12, -3]: the negative tail, relatively
  const int64_t n = (int64_t)x.size();
  for (int kind = -1; kind < kGatedKinds; ++kind) {  // -1: Sigmoid
    const Gated g = (Gated)kind;
    const std::string name = std::string(kind < 0 ? "sigmoid" : gated_name(g)) + "[" + label + "] tails";
    std::vector<float> y = x, y_ref(n), dx(n, 1.0f), dx_ref(n);
    for (int64_t i = 0; i < n; ++i) {
      y_ref[i] = (float)(kind < 0 ? 1 / (1 + std::exp(-(double)x[i])) : gated_ref(g, x[i], false));
      dx_ref[i] = kind < 0 ? 0.0f : (float)gated_ref(g, x[i], true);
    }
    if (kind < 0) {
      sigmoid_forward(y.data(), y.data(), n, 1);
    } else {
      gated_forward(g, y.data(), y.data(), n, 1);
      gated_backward(g, x.data(), dx.data(), dx.data(), n, 1);
      check_close(name + " backward", dx, dx_ref, 2e-6f, 2e-5f);
    }
    check_close(name + " forward", y, y_ref, 1e-30f, 2e-5f);
    const float nan = NAN;
    float out = 0.0f;
    if (kind < 0) sigmoid_forward(&nan, &out, 1, 1);
    else gated_forward(g, &nan, &out, 1, 1);
    check_close(name + " NaN", {std::isnan(out) ? 1.0f : 0.0f}, {1.0f}, 0, 0);
  }
}

// Normalization over sets of `count` values: element e of set k is x[at(k, e)], scaled by the
// affine entry aff(k, e). Forward and backward in double, as the layer's definition says.
struct NormRef {
  std::vector<float> y, mean, rstd, dx, dweight, dbias;
};

template <class At, class Aff>
NormRef norm_ref(const std::vector<float>& x, const std::vector<float>& dy, const float* w, const float* b,
                 int64_t sets, int64_t count, int64_t affine, double eps, At at, Aff aff) {
  NormRef r{std::vector<float>(x.size()), std::vector<float>(sets), std::vector<float>(sets), std::vector<float>(x.size()),
            std::vector<float>(affine), std::vector<float>(affine)};
  std::vector<double> dw(affine, 0.0), db(affine, 0.0);
  for (int64_t k = 0; k < sets; ++k) {
    double m = 0, v = 0;
    for (int64_t e = 0; e < count; ++e) m += x[at(k, e)];
    m /= count;
    for (int64_t e = 0; e < count; ++e) v += (x[at(k, e)] - m) * (x[at(k, e)] - m);
    const double rstd = 1 / std::sqrt(v / count + eps);
    r.mean[k] = (float)m;
    r.rstd[k] = (float)rstd;
    double g_mean = 0, gx_mean = 0;  // mean of w·dy and of w·dy·x̂ over the set
    for (int64_t e = 0; e < count; ++e) {
      const int64_t i = at(k, e), j = aff(k, e);
      const double xhat = (x[i] - m) * rstd, g = dy[i] * (w ? w[j] : 1.0);
      r.y[i] = (float)(xhat * (w ? w[j] : 1.0) + (b ? b[j] : 0.0));
      g_mean += g / count;
      gx_mean += g * xhat / count;
      dw[j] += dy[i] * xhat;
      db[j] += dy[i];
    }
    for (int64_t e = 0; e < count; ++e) {
      const int64_t i = at(k, e), j = aff(k, e);
      const double xhat = (x[i] - m) * rstd, g = dy[i] * (w ? w[j] : 1.0);
      r.dx[i] = (float)(rstd * (g - g_mean - xhat * gx_mean));
    }
  }
  for (int64_t j = 0; j < affine; ++j) {
    r.dweight[j] = (float)dw[j];
    r.dbias[j] = (float)db[j];
  }
  return r;
}

void check_norm(const std::string& name, const std::vector<float>& x, const NormRef& want, const NormRef& got, bool affine) {
  // Kernels apply (x − mean)·rstd as x·rstd − mean·rstd: float rounding of x·rstd, large where
  // the variance is 0 (a set of one value, rstd = 1/√eps), bounds y's error.
  double rstd = 0, magnitude = 0;
  // Plain comparisons, not an fmax reduction: GCC 12's arm64 vectorizer crashes on that one.
  for (float r : want.rstd) rstd = r > rstd ? r : rstd;
  for (float v : x) magnitude = std::fabs(v) > magnitude ? std::fabs(v) : magnitude;
  const double scale = rstd * magnitude;
  check_close(name + " y", got.y, want.y, 1e-5f + 2e-7f * (float)scale, 1e-5f);
  check_close(name + " mean", got.mean, want.mean, 1e-6f, 1e-5f);
  check_close(name + " rstd", got.rstd, want.rstd, 1e-6f, 1e-5f);
  check_close(name + " dx", got.dx, want.dx, 1e-4f, 1e-4f);
  if (!affine) return;
  check_close(name + " dweight", got.dweight, want.dweight, 1e-4f, 1e-4f);
  check_close(name + " dbias", got.dbias, want.dbias, 1e-4f, 1e-4f);
}

void test_layer_norm(std::mt19937& rng, const std::string& label) {
  // (outer, d, inner): inner 1 is F.layer_norm over trailing dims, inner > 1 LayerNorm2d over NCHW channels.
  const int64_t shapes[][3] = {{1, 1, 1}, {3, 17, 1}, {257, 129, 1}, {2, 7, 13}, {1, 3, 1}, {3, 96, 61}, {5, 1, 9}};
  for (auto& s : shapes)
    for (bool affine : {true, false})
      for (int threads : {1, 3}) {
        const int64_t outer = s[0], d = s[1], inner = s[2];
        // An offset mean, so a one-pass variance would lose digits.
        auto x = random_vec(outer * d * inner, rng);
        for (auto& v : x) v = 3.0f + 2.0f * v;
        auto dy = random_vec(x.size(), rng), w = random_vec(d, rng), b = random_vec(d, rng);
        const float* wp = affine ? w.data() : nullptr;
        const float* bp = affine ? b.data() : nullptr;
        const double eps = 1e-6;
        const NormRef want = norm_ref(x, dy, wp, bp, outer * inner, d, d, eps,
                                      [&](int64_t k, int64_t e) { return (k / inner * d + e) * inner + k % inner; },
                                      [](int64_t, int64_t e) { return e; });
        NormRef got{std::vector<float>(x.size()), std::vector<float>(outer * inner), std::vector<float>(outer * inner),
                    std::vector<float>(x.size()), std::vector<float>(d), std::vector<float>(d)};
        layer_norm_forward(x.data(), wp, bp, got.y.data(), got.mean.data(), got.rstd.data(), outer, d, inner, eps, threads);
        layer_norm_backward(x.data(), dy.data(), wp, got.mean.data(), got.rstd.data(), got.dx.data(),
                            affine ? got.dweight.data() : nullptr, affine ? got.dbias.data() : nullptr, outer, d, inner, threads);
        char name[128];
        std::snprintf(name, sizeof name, "layer_norm[%s] (%lld, %lld, %lld) affine=%d threads=%d", label.c_str(),
                      (long long)outer, (long long)d, (long long)inner, affine, threads);
        check_norm(name, x, want, got, affine);
      }
}

void test_group_norm(std::mt19937& rng, const std::string& label) {
  // (n, c, s, groups)
  const int64_t shapes[][4] = {{2, 6, 5, 3}, {1, 5, 1, 5}, {4, 12, 7, 1}, {3, 32, 199, 8}, {1, 9, 13, 3}};
  for (auto& sh : shapes)
    for (bool affine : {true, false})
      for (int threads : {1, 3}) {
        const int64_t n = sh[0], c = sh[1], s = sh[2], groups = sh[3], per = c / groups;
        auto x = random_vec(n * c * s, rng);
        for (auto& v : x) v = -2.0f + 1.5f * v;
        auto dy = random_vec(x.size(), rng), w = random_vec(c, rng), b = random_vec(c, rng);
        const float* wp = affine ? w.data() : nullptr;
        const float* bp = affine ? b.data() : nullptr;
        const double eps = 1e-5;
        // Set k = (sample, group) holds channels group·per … + per − 1, each with s values: contiguous in NCHW.
        const NormRef want = norm_ref(x, dy, wp, bp, n * groups, per * s, c, eps,
                                      [&](int64_t k, int64_t e) { return k * per * s + e; },
                                      [&](int64_t k, int64_t e) { return (k % groups) * per + e / s; });
        NormRef got{std::vector<float>(x.size()), std::vector<float>(n * groups), std::vector<float>(n * groups),
                    std::vector<float>(x.size()), std::vector<float>(c), std::vector<float>(c)};
        group_norm_forward(x.data(), wp, bp, got.y.data(), got.mean.data(), got.rstd.data(), n, c, s, groups, eps, threads);
        group_norm_backward(x.data(), dy.data(), wp, got.mean.data(), got.rstd.data(), got.dx.data(),
                            affine ? got.dweight.data() : nullptr, affine ? got.dbias.data() : nullptr, n, c, s, groups, threads);
        char name[128];
        std::snprintf(name, sizeof name, "group_norm[%s] n=%lld c=%lld s=%lld groups=%lld affine=%d threads=%d", label.c_str(),
                      (long long)n, (long long)c, (long long)s, (long long)groups, affine, threads);
        check_norm(name, x, want, got, affine);
      }
}

// Squeeze-and-excitation's per-sample factors (N, C, 1, 1) and layer scale's per-channel (C, 1, 1).
void test_channel_scale(std::mt19937& rng, const std::string& label) {
  const int64_t shapes[][3] = {{1, 1, 1}, {3, 5, 7}, {2, 9, 1}, {4, 64, 97}, {5, 3, 11}};
  for (auto& sh : shapes)
    for (bool per_sample : {true, false})
      for (int threads : {1, 3}) {
        const int64_t outer = sh[0], c = sh[1], inner = sh[2];
        const int64_t factors = per_sample ? outer * c : c;
        auto x = random_vec(outer * c * inner, rng), s = random_vec(factors, rng), dy = random_vec(x.size(), rng);
        std::vector<float> y(x.size()), dx(x.size()), ds(factors), y_ref(x.size()), dx_ref(x.size()), ds_ref(factors);
        std::vector<double> ds_acc(factors, 0.0);
        for (int64_t o = 0; o < outer; ++o)
          for (int64_t j = 0; j < c; ++j)
            for (int64_t i = 0; i < inner; ++i) {
              const int64_t at = (o * c + j) * inner + i, k = per_sample ? o * c + j : j;
              y_ref[at] = x[at] * s[k];
              dx_ref[at] = dy[at] * s[k];
              ds_acc[k] += (double)dy[at] * x[at];
            }
        for (int64_t k = 0; k < factors; ++k) ds_ref[k] = (float)ds_acc[k];
        channel_scale_forward(x.data(), s.data(), y.data(), outer, c, inner, per_sample, threads);
        channel_scale_backward(x.data(), s.data(), dy.data(), dx.data(), ds.data(), outer, c, inner, per_sample, threads);
        char name[128];
        std::snprintf(name, sizeof name, "channel_scale[%s] (%lld, %lld, %lld) per_sample=%d threads=%d", label.c_str(),
                      (long long)outer, (long long)c, (long long)inner, per_sample, threads);
        check_close(std::string(name) + " y", y, y_ref, 0, 0);
        check_close(std::string(name) + " dx", dx, dx_ref, 0, 0);
        check_close(std::string(name) + " ds", ds, ds_ref, 1e-5f, 1e-5f);
      }
}

// DenseNet's torch.cat along channels: each input (n, c_k, hw) copied as n rows into the output
// (n, Σc, hw) at its channel offset, and its gradient read back the same way.
void test_concat(std::mt19937& rng, const std::string& label) {
  const std::vector<std::vector<int64_t>> cases = {{1, 1, 1, 1}, {2, 3, 5, 1, 7}, {8, 48, 32, 17, 49}, {3, 4, 9}};
  for (const auto& cs : cases)
    for (int threads : {1, 3}) {
      const int64_t n = cs[0], hw = cs.back();
      const std::vector<int64_t> chans(cs.begin() + 1, cs.end() - 1);
      int64_t total = 0;
      for (int64_t c : chans) total += c;
      std::vector<std::vector<float>> inputs;
      for (int64_t c : chans) inputs.push_back(random_vec(n * c * hw, rng));
      auto dy = random_vec(n * total * hw, rng);
      std::vector<float> y(dy.size(), NAN), y_ref(dy.size());
      int64_t offset = 0;
      for (size_t k = 0; k < chans.size(); ++k) {
        const int64_t c = chans[k];
        for (int64_t s = 0; s < n; ++s)
          for (int64_t e = 0; e < c * hw; ++e) y_ref[(s * total + offset) * hw + e] = inputs[k][s * c * hw + e];
        copy_rows(inputs[k].data(), c * hw, y.data() + offset * hw, total * hw, c * hw, n, threads);
        std::vector<float> dx(inputs[k].size()), dx_ref(inputs[k].size());
        for (int64_t s = 0; s < n; ++s)
          for (int64_t e = 0; e < c * hw; ++e) dx_ref[s * c * hw + e] = dy[(s * total + offset) * hw + e];
        copy_rows(dy.data() + offset * hw, total * hw, dx.data(), c * hw, c * hw, n, threads);
        char name[128];
        std::snprintf(name, sizeof name, "concat[%s] input %zu of %zu n=%lld hw=%lld threads=%d backward", label.c_str(), k,
                      chans.size(), (long long)n, (long long)hw, threads);
        check_close(name, dx, dx_ref, 0, 0);
        offset += c;
      }
      char name[128];
      std::snprintf(name, sizeof name, "concat[%s] %zu inputs n=%lld channels=%lld hw=%lld threads=%d forward", label.c_str(),
                    chans.size(), (long long)n, (long long)total, (long long)hw, threads);
      check_close(name, y, y_ref, 0, 0);
    }
}

// ConvNeXt's permutes: NCHW -> NHWC is a batched transpose, and its backward the transpose back.
void test_transpose(std::mt19937& rng, const std::string& label) {
  const int64_t shapes[][3] = {{1, 1, 1}, {2, 17, 33}, {3, 96, 61}, {1, 5, 16}, {4, 16, 3}};
  for (auto& sh : shapes)
    for (int threads : {1, 3}) {
      const int64_t batch = sh[0], rows = sh[1], cols = sh[2];
      auto x = random_vec(batch * rows * cols, rng);
      std::vector<float> y(x.size()), y_ref(x.size()), back(x.size());
      for (int64_t b = 0; b < batch; ++b)
        for (int64_t r = 0; r < rows; ++r)
          for (int64_t c = 0; c < cols; ++c) y_ref[(b * cols + c) * rows + r] = x[(b * rows + r) * cols + c];
      transpose_batched(x.data(), y.data(), batch, rows, cols, threads);
      transpose_batched(y.data(), back.data(), batch, cols, rows, threads);
      char name[128];
      std::snprintf(name, sizeof name, "transpose[%s] (%lld, %lld, %lld) threads=%d", label.c_str(), (long long)batch,
                    (long long)rows, (long long)cols, threads);
      check_close(std::string(name) + " forward", y, y_ref, 0, 0);
      check_close(std::string(name) + " backward", back, x, 0, 0);
    }
}

}  // namespace

void test_layer_kernels(std::mt19937& rng) {
  const Isa before = active_isa();
  for (Isa isa : supported_isas()) {
    set_active_isa(isa);
    const std::string label = isa_name(isa);
    test_gated(rng, label);
    test_gated_tails(label);
    test_layer_norm(rng, label);
    test_group_norm(rng, label);
    test_channel_scale(rng, label);
    test_concat(rng, label);
    test_transpose(rng, label);
  }
  set_active_isa(before);
}
