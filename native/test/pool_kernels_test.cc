// The vector pooling loops of each ISA against the direct loops (max_pool2d_ref, avg_pool2d_ref),
// bit for bit: values, argmax indices (ties and NaN are frequent in these inputs), with and
// without indices (the two-pass row/column maxima where the dilation is 1), with the fused
// ReLU/ReLU6 clamp, on 1 and 3 threads, over window shapes that
// take the vector loops (stride 1 and 2, padding, dilation, ceil mode, rows shorter than a
// vector, rows of one vector) and some that do not (stride 3, windows wider than 8).
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "cpu/cpu.h"
#include "pool/pool.h"
#include "test/check.h"

using namespace cnn;

namespace {

struct PoolCase {
  int64_t h, w;
  int kh, kw, sh, sw, ph, pw, dh, dw;
  bool ceil;
};

const PoolCase kCases[] = {
    {24, 24, 2, 2, 2, 2, 0, 0, 1, 1, false},   // LeNet-5, simplecnn, VGG
    {9, 7, 2, 2, 2, 2, 0, 0, 1, 1, false},     // odd sizes: the last row and column unused
    {9, 7, 2, 2, 2, 2, 0, 0, 1, 1, true},      // ceil mode: a clipped last window
    {70, 70, 2, 2, 2, 2, 0, 0, 1, 1, false},   // 35 outputs: 16 + 16 + an overlapping 16
    {112, 112, 3, 3, 2, 2, 1, 1, 1, 1, false}, // the ResNet stem
    {16, 16, 3, 3, 2, 2, 1, 1, 1, 1, false},
    {33, 35, 3, 3, 2, 2, 1, 1, 1, 1, true},
    {20, 20, 3, 3, 1, 1, 1, 1, 1, 1, false},   // stride 1
    {6, 5, 2, 2, 1, 1, 0, 0, 1, 1, false},
    {13, 19, 3, 2, 2, 1, 1, 0, 2, 1, false},   // stride and dilation in one axis
    {17, 40, 3, 3, 2, 2, 1, 1, 2, 2, true},    // dilation 2
    {40, 40, 5, 5, 2, 2, 2, 2, 1, 1, false},
    {5, 3, 3, 3, 2, 2, 1, 1, 1, 1, false},     // rows shorter than any vector
    {12, 15, 7, 7, 1, 2, 3, 3, 1, 1, true},    // rows in one vector, 7 taps (the most they take there)
    {10, 16, 3, 8, 1, 1, 1, 0, 1, 1, false},   // and 8 taps (the general loops)
    {8, 1, 2, 1, 2, 1, 0, 0, 1, 1, false},
    {30, 30, 3, 3, 3, 3, 0, 0, 1, 1, false},   // stride 3: the direct loop
    {20, 20, 9, 9, 1, 1, 4, 4, 1, 1, false},   // a 9×9 window: the direct loop
    {240, 240, 2, 2, 2, 2, 0, 0, 1, 1, false}, // planes large enough to share among threads
    {240, 240, 3, 3, 2, 2, 1, 1, 1, 1, false},
};

// Values from a few levels so that windows hold ties, with NaN and ±inf here and there.
std::vector<float> tied_values(size_t n, std::mt19937& rng) {
  std::uniform_int_distribution<int> level(-4, 4), special(0, 60);
  std::vector<float> v(n);
  for (auto& x : v) {
    const int s = special(rng);
    x = s == 0 ? NAN : s == 1 ? INFINITY : s == 2 ? -INFINITY : 0.5f * (float)level(rng);
  }
  return v;
}

void check_bits(const std::string& name, const std::vector<float>& got, const std::vector<float>& want) {
  for (size_t i = 0; i < want.size(); ++i) {
    if (std::memcmp(&got[i], &want[i], sizeof(float)) != 0 && !(std::isnan(got[i]) && std::isnan(want[i]))) {
      std::printf("FAIL %s: element %zu is %g, expected %g\n", name.c_str(), i, got[i], want[i]);
      ++g_fail;
      return;
    }
  }
  ++g_pass;
}

float relu_clamp(float v, float lo, float hi) {
  v = v > lo ? v : lo;
  return v < hi ? v : hi;
}

}  // namespace

void test_pool_vectors(Isa isa) {
  std::mt19937 rng(77);  // its own stream: the tests after it keep their inputs
  const int64_t planes = 5;
  for (const PoolCase& c : kCases) {
    Pool2dParams p{planes, c.h, c.w, c.kh, c.kw, c.sh, c.sw, c.ph, c.pw, c.dh, c.dw, 0, 0};
    p.out_h = pool_output_size(c.h, c.kh, c.ph, c.sh, c.dh, c.ceil);
    p.out_w = pool_output_size(c.w, c.kw, c.pw, c.sw, c.dw, c.ceil);
    char shape[160];
    std::snprintf(shape, sizeof shape, "[%s] %lldx%lld k%dx%d s%dx%d p%dx%d d%dx%d ceil=%d", isa_name(isa),
                  (long long)c.h, (long long)c.w, c.kh, c.kw, c.sh, c.sw, c.ph, c.pw, c.dh, c.dw, (int)c.ceil);
    const auto x = tied_values(planes * c.h * c.w, rng);
    const size_t out_n = planes * p.out_h * p.out_w;
    std::vector<float> want(out_n), want_idx(out_n);
    max_pool2d_ref(p, x.data(), want.data(), want_idx.data(), 1);
    for (int threads : {1, 3}) {
      const std::string t = std::string(shape) + " threads=" + std::to_string(threads);
      std::vector<float> y(out_n, 7.0f), idx(out_n, 7.0f);
      max_pool2d_forward(p, x.data(), y.data(), idx.data(), threads);
      check_bits("max_pool2d values " + t, y, want);
      check_bits("max_pool2d indices " + t, idx, want_idx);
      for (auto [lo, hi] : {std::pair<float, float>{-INFINITY, INFINITY}, {0.0f, INFINITY}, {0.0f, 6.0f}}) {
        std::vector<float> clamped(out_n), y2(out_n, 7.0f);
        for (size_t i = 0; i < out_n; ++i) clamped[i] = std::isinf(lo) ? want[i] : relu_clamp(want[i], lo, hi);
        max_pool2d_forward(p, x.data(), y2.data(), nullptr, threads, lo, hi);
        check_bits("max_pool2d without indices, clamp " + std::to_string(lo) + ".." + std::to_string(hi) + " " + t, y2, clamped);
      }
    }
    if (c.dh != 1 || c.dw != 1) continue;
    p.dil_h = p.dil_w = 1;
    for (int divisor : {0, 3})
      for (bool incl : {false, true}) {
        // Sums of tied levels are exact either way; random values check the summation order.
        const auto xa = random_vec(planes * c.h * c.w, rng);
        std::vector<float> want_avg(out_n), avg(out_n, 7.0f);
        avg_pool2d_ref(p, incl, divisor, xa.data(), want_avg.data(), 1);
        for (int threads : {1, 3}) {
          avg_pool2d_forward(p, incl, divisor, xa.data(), avg.data(), threads);
          check_bits("avg_pool2d incl=" + std::to_string(incl) + " divisor=" + std::to_string(divisor) + " " + shape +
                         " threads=" + std::to_string(threads), avg, want_avg);
        }
      }
  }
}

// Global average pooling (the vector loops, L planes a vector) and other adaptive sizes against
// the direct loop, bit for bit: plane counts that leave a partial vector or none, 1×1 planes (a
// load a vector) and larger ones, on 1 and 3 threads.
void test_adaptive_avg_vectors(Isa isa) {
  std::mt19937 rng(78);
  struct Case { int64_t planes, h, w, oh, ow; };
  const Case cases[] = {
      {4096, 1, 1, 1, 1},  // ResNet / MobileNet heads at 32×32: 1×1 maps
      {3, 1, 1, 1, 1},     // fewer planes than any vector
      {37, 7, 7, 1, 1},    // the ResNet head at 224
      {530, 2, 3, 1, 1},
      {61, 4, 4, 1, 1},
      {9, 1, 1, 7, 7},     // VGG's 7×7 head on a 1×1 map: every cell the one input
      {11, 13, 10, 3, 4},  // overlapping cells of uneven sizes
      {300000, 1, 1, 1, 1},  // enough floats to share among threads
      {6000, 7, 7, 1, 1},
      {6000, 1, 1, 7, 7},
      {700, 20, 20, 3, 3},
      {35, 8, 8, 1, 1},     // whole blocks of every width, no float left over
      {23, 17, 19, 1, 1},   // many blocks, then a tail of 3 (16 lanes), 3 (8) or 3 (4)
      {18, 3, 5, 1, 1},     // fewer floats a plane than a 16-lane block
  };
  for (const Case& c : cases) {
    const auto x = random_vec(c.planes * c.h * c.w, rng);
    const size_t out_n = c.planes * c.oh * c.ow;
    std::vector<float> want(out_n);
    adaptive_avg_pool2d_ref(c.planes, c.h, c.w, c.oh, c.ow, x.data(), want.data(), 1);
    for (int threads : {1, 3}) {
      std::vector<float> y(out_n, 7.0f);
      adaptive_avg_pool2d_forward(c.planes, c.h, c.w, c.oh, c.ow, x.data(), y.data(), threads);
      char name[160];
      std::snprintf(name, sizeof name, "adaptive_avg_pool2d [%s] %lld planes %lldx%lld -> %lldx%lld threads=%d", isa_name(isa),
                    (long long)c.planes, (long long)c.h, (long long)c.w, (long long)c.oh, (long long)c.ow, threads);
      check_bits(name, y, want);
    }
  }
}

