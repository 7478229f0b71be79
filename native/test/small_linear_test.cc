// The small-layer kernels. linear_chain_forward (native/gemm/small_chain.h) on one ISA: against gemm_ref layer by
// layer, and bit for bit against the unfused path (sgemm with the bias as C and beta 1, then
// the clamp), on LeNet's head, odd widths, every row count from one to a few blocks, 1-3 threads.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdint>
#include <string>
#include <vector>

#include "gemm/gemm.h"
#include "gemm/small_chain.h"
#include "gemm/small_linear_grad.h"
#include "test/check.h"

using namespace cnn;

namespace {

struct Case {
  std::vector<int> widths;  // in, then each layer's out
  std::vector<float> lo, hi;
  bool bias;
};

// The layers one by one as ops.linear and the separate activation run them.
std::vector<float> unfused(Isa isa, int m, const std::vector<float>& x, const Case& c, const std::vector<std::vector<float>>& w,
                           const std::vector<std::vector<float>>& b) {
  std::vector<float> a = x;
  for (size_t l = 0; l + 1 < c.widths.size(); ++l) {
    const int in = c.widths[l], out = c.widths[l + 1];
    std::vector<float> y((size_t)m * out, 0.0f);
    if (c.bias) for (int i = 0; i < m; ++i) std::copy(b[l].begin(), b[l].end(), y.begin() + (long)i * out);
    sgemm_isa(isa, false, true, m, out, in, 1.0f, a.data(), in, w[l].data(), in, c.bias ? 1.0f : 0.0f, y.data(), out, 1);
    for (float& v : y) v = v < c.lo[l] ? c.lo[l] : v > c.hi[l] ? c.hi[l] : v;
    a.swap(y);
  }
  return a;
}

}  // namespace

void test_linear_chain(Isa isa, std::mt19937& rng) {
  const float inf = INFINITY;
  const Case cases[] = {
      {{256, 120, 84, 10}, {0, 0, -inf}, {inf, inf, inf}, true},  // LeNet's classifier
      {{37, 53, 7}, {0, -inf}, {6, inf}, false},                  // ReLU6, no bias, partial tiles
      {{5, 3}, {0}, {inf}, true},                                 // one layer narrower than a vector
      {{300, 33, 70, 1}, {-inf, 0, -inf}, {inf, inf, inf}, true}, // 300 inputs: two k blocks
  };
  for (const Case& c : cases) {
    const int count = (int)c.widths.size() - 1;
    std::vector<std::vector<float>> w(count), b(count), packed(count);
    std::vector<ChainLayer> layers(count);
    std::vector<const float*> weights(count);
    for (int l = 0; l < count; ++l) {
      const int in = c.widths[l], out = c.widths[l + 1];
      w[l] = random_vec((size_t)in * out, rng);
      b[l] = random_vec(out, rng);
      packed[l].assign(linear_chain_packed_floats(out, in) + 16, 0.0f);
      float* at = (float*)(((uintptr_t)packed[l].data() + 63) & ~(uintptr_t)63);
      sgemm_pack_bt(isa, out, in, w[l].data(), in, at);
      layers[l] = {in, out, at, c.bias ? b[l].data() : nullptr, c.lo[l], c.hi[l]};
      weights[l] = w[l].data();
    }
    for (int m : {1, 5, 12, 23, 24, 25, 64, 100, 128}) {
      const std::vector<float> x = random_vec((size_t)m * c.widths[0], rng);
      std::vector<float> want((size_t)m * c.widths.back());
      linear_chain_ref(m, x.data(), weights.data(), layers.data(), count, want.data());
      const std::vector<float> exact = unfused(isa, m, x, c, w, b);
      for (int threads = 1; threads <= 3; ++threads) {
        std::vector<float> got(want.size(), NAN);
        linear_chain_forward(isa, m, x.data(), layers.data(), count, got.data(), threads);
        char name[160];
        std::snprintf(name, sizeof name, "linear_chain[%s] widths %d..%d (%d layers) m=%d threads=%d", isa_name(isa),
                      c.widths[0], c.widths.back(), count, m, threads);
        // A float32 sum errs in proportion to its terms, not its result: the absolute slack scales
        // with the largest output (three layers of random weights reach the hundreds).
        float scale = 1.0f;
        for (float v : want) scale = std::max(scale, std::fabs(v));
        check_close(name, got, want, 1e-5f * scale, 1e-4f);
        check_close(std::string(name) + " = unfused", got, exact, 0.0f, 0.0f);
      }
    }
  }
}

// linear_backward against gemm_ref and sum_to_shape's double sums, and bit for bit against the
// three unfused calls it replaces (sgemm for dx and dW, a double column sum for db), with every
// subset of the gradients wanted, empty batches and layers included, at 1-3 threads (128×512×40:
// each product alone above the cut to run threaded; 64×256×120 only both together).
void test_linear_backward(Isa isa, std::mt19937& rng) {
  struct Shape { int m, in, out; };
  for (const Shape s : {Shape{128, 512, 40}, Shape{64, 256, 120}, Shape{64, 84, 10}, Shape{5, 37, 13}, Shape{1, 3, 70}, Shape{0, 4, 3}, Shape{3, 0, 2}}) {
    const std::vector<float> x = random_vec((size_t)s.m * s.in, rng), w = random_vec((size_t)s.out * s.in, rng),
                             dy = random_vec((size_t)s.m * s.out, rng);
    std::vector<float> dx_ref((size_t)s.m * s.in), dw_ref((size_t)s.out * s.in), db_ref(s.out);
    gemm_ref(false, false, s.m, s.in, s.out, 1.0f, dy.data(), s.out, w.data(), s.in, 0.0f, dx_ref.data(), s.in);
    gemm_ref(true, false, s.out, s.in, s.m, 1.0f, dy.data(), s.out, x.data(), s.in, 0.0f, dw_ref.data(), s.in);
    std::vector<float> dx_exact(dx_ref.size(), 0.0f), dw_exact(dw_ref.size(), 0.0f);
    sgemm_isa(isa, false, false, s.m, s.in, s.out, 1.0f, dy.data(), s.out, w.data(), s.in, 0.0f, dx_exact.data(), s.in, 1);
    sgemm_isa(isa, true, false, s.out, s.in, s.m, 1.0f, dy.data(), s.out, x.data(), s.in, 0.0f, dw_exact.data(), s.in, 1);
    for (int j = 0; j < s.out; ++j) {
      double acc = 0;
      for (int i = 0; i < s.m; ++i) acc += dy[(size_t)i * s.out + j];
      db_ref[j] = (float)acc;
    }
    for (int wanted = 1; wanted < 8; ++wanted)
      for (int threads = 1; threads <= 3; ++threads) {
        std::vector<float> dx(dx_ref.size(), NAN), dw(dw_ref.size(), NAN), db(db_ref.size(), NAN);
        linear_backward(isa, s.m, s.in, s.out, x.data(), w.data(), dy.data(), wanted & 1 ? dx.data() : nullptr,
                        wanted & 2 ? dw.data() : nullptr, wanted & 4 ? db.data() : nullptr, threads);
        char name[160];
        std::snprintf(name, sizeof name, "linear_backward[%s] m=%d in=%d out=%d wanted=%d threads=%d", isa_name(isa), s.m, s.in, s.out,
                      wanted, threads);
        if (wanted & 1) check_close(std::string(name) + " dx", dx, dx_ref, 1e-4f, 1e-4f), check_close(std::string(name) + " dx = unfused", dx, dx_exact, 0, 0);
        if (wanted & 2) check_close(std::string(name) + " dw", dw, dw_ref, 1e-4f, 1e-4f), check_close(std::string(name) + " dw = unfused", dw, dw_exact, 0, 0);
        if (wanted & 4) check_close(std::string(name) + " db", db, db_ref, 0, 0);
      }
  }
}
