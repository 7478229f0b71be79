// DenseNet's eval layer on tiny maps (conv/dense_layer.h) on the active ISA against its layers one
// by one through conv2d_ref (the input map, the 1×1 convolution and its clamp, the k×k convolution
// and its clamp): 1×1, 2×2 and 1×2 maps, DenseNet-121's widths (conv1 deeper than one k block),
// odd widths, batches of 1 to 128 (blocks of whole and partial register tiles), with and without
// the second convolution's bias and clamp; the channels around the new ones stay as they were, and
// 2 and 3 threads give the 1-thread bits (each image's sums do not depend on its block).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "conv/conv.h"
#include "conv/dense_layer.h"
#include "conv/dense_map.h"
#include "gemm/gemm.h"
#include "test/check.h"

using namespace cnn;

namespace {

struct Case {
  int n, channels, total, h, w, mid, growth, k;
  bool bias2;    // conv2 has a bias and a ReLU6 clamp
};

void expect(bool ok, const std::string& what) {
  if (ok) { ++g_pass; return; }
  std::printf("FAIL dense_layer_small: %s\n", what.c_str());
  ++g_fail;
}

float clampf(float v, float lo, float hi) { return v < lo ? lo : v > hi ? hi : v; }

// The packed buffer of a chain layer (out × in weights), 64-byte aligned inside `buf`.
const float* pack(Isa isa, int out, int in, const std::vector<float>& w, std::vector<float>& buf) {
  buf.assign(linear_chain_packed_floats(out, in) + 16, 0.0f);
  float* at = (float*)(((uintptr_t)buf.data() + 63) & ~(uintptr_t)63);
  sgemm_pack_bt(isa, out, in, w.data(), in, at);
  return at;
}

}  // namespace

void test_dense_layer(Isa isa) {
  std::mt19937 rng(41);
  const Case cases[] = {
      {128, 40, 72, 1, 1, 24, 16, 3, false},
      {5, 7, 9, 1, 1, 5, 2, 3, true},
      {128, 24, 56, 2, 2, 16, 8, 3, false},
      {13, 33, 50, 2, 2, 20, 17, 3, true},
      {9, 10, 20, 1, 2, 12, 6, 3, false},
      {1, 3, 4, 2, 2, 2, 1, 3, true},
      {128, 992, 1024, 1, 1, 128, 32, 3, false},  // DenseNet-121's last layer at 32×32
      {37, 300, 352, 2, 2, 128, 32, 3, false},    // its block 3
      {24, 16, 24, 2, 2, 8, 8, 1, true},          // a 1×1 second convolution
  };
  for (const Case& c : cases) {
    const int P = c.h * c.w, pad = c.k / 2;
    const Conv2dParams p1{c.n, c.channels, c.h, c.w, c.mid, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1};
    const Conv2dParams p2{c.n, c.mid, c.h, c.w, c.growth, c.k, c.k, 1, 1, pad, pad, pad, pad, 1, 1, 1};
    const std::vector<float> features = random_vec((size_t)c.n * c.total * P, rng);
    const std::vector<float> scale = random_vec(c.channels, rng), shift = random_vec(c.channels, rng);
    const std::vector<float> w1 = random_vec((size_t)c.mid * c.channels, rng), b1 = random_vec(c.mid, rng);
    const std::vector<float> w2 = random_vec((size_t)c.growth * c.mid * c.k * c.k, rng), b2 = random_vec(c.growth, rng);
    const float lo2 = c.bias2 ? 0.0f : -INFINITY, hi2 = c.bias2 ? 6.0f : INFINITY;

    // The layers one by one.
    std::vector<float> mapped((size_t)c.n * c.channels * P), h((size_t)c.n * c.mid * P), y((size_t)c.n * c.growth * P);
    for (int i = 0; i < c.n; ++i)
      for (int ch = 0; ch < c.channels; ++ch)
        for (int q = 0; q < P; ++q)
          mapped[((size_t)i * c.channels + ch) * P + q] =
              clampf(features[((size_t)i * c.total + ch) * P + q] * scale[ch] + shift[ch], 0.0f, INFINITY);
    conv2d_ref_forward(p1, mapped.data(), w1.data(), b1.data(), h.data());
    for (float& v : h) v = clampf(v, 0.0f, INFINITY);
    conv2d_ref_forward(p2, h.data(), w2.data(), c.bias2 ? b2.data() : nullptr, y.data());
    std::vector<float> want = features;
    for (int i = 0; i < c.n; ++i)
      for (int g = 0; g < c.growth; ++g)
        for (int q = 0; q < P; ++q) want[((size_t)i * c.total + c.channels + g) * P + q] = clampf(y[((size_t)i * c.growth + g) * P + q], lo2, hi2);

    // The fused call: conv2 as the dense map by pixel, its bias once per output pixel.
    std::vector<float> wd(dense_map_weights_floats(p2)), b2d((size_t)c.growth * P), buf1, buf2;
    dense_map_weights_by_pixel(p2, w2.data(), wd.data(), 1);
    for (int g = 0; g < c.growth; ++g) std::fill_n(b2d.begin() + (long)g * P, P, b2[g]);
    DenseLayerSmall d{c.n, c.channels, c.total, P, scale.data(), shift.data(), 0.0f, INFINITY, {}, {}};
    d.conv1 = {c.channels, c.mid, pack(isa, c.mid, c.channels, w1, buf1), b1.data(), 0.0f, INFINITY};
    d.conv2 = {P * c.mid, c.growth * P, pack(isa, c.growth * P, P * c.mid, wd, buf2), c.bias2 ? b2d.data() : nullptr, lo2, hi2};
    expect(dense_layer_small_fits(d), "a case it does not fit");
    float most = 1.0f;
    for (float v : want) most = std::max(most, std::fabs(v));
    std::vector<float> first;
    for (int threads = 1; threads <= 3; ++threads) {
      std::vector<float> got = features;
      dense_layer_small_forward(isa, d, got.data(), threads);
      char name[200];
      std::snprintf(name, sizeof name, "dense_layer_small[%s] n=%d C=%d of %d %dx%d mid=%d G=%d k=%d threads=%d", isa_name(isa), c.n,
                    c.channels, c.total, c.h, c.w, c.mid, c.growth, c.k, threads);
      check_close(name, got, want, 2e-5f * most, 1e-4f);
      if (threads == 1) first = got;
      else check_close(std::string(name) + " = 1 thread", got, first, 0.0f, 0.0f);
    }
  }
  // Shapes that do not agree are refused.
  DenseLayerSmall bad{4, 8, 12, 4, nullptr, nullptr, 0, 0, {8, 16, nullptr, nullptr, 0, 0}, {64, 16, nullptr, nullptr, 0, 0}};
  expect(dense_layer_small_fits(bad), "4 pixels, 8 + 4 channels of 12 refused");
  bad.conv2.out = 18;
  expect(!dense_layer_small_fits(bad), "18 outputs on 4 pixels taken");
  bad.conv2.out = 24;
  expect(!dense_layer_small_fits(bad), "8 + 6 channels of 12 taken");
  bad.conv2.out = 16, bad.conv2.in = 60;
  expect(!dense_layer_small_fits(bad), "conv2 of 60 inputs after 4 pixels of 16 taken");
}
