// The few-input-channel forward loops (conv/few_channels.h) against conv2d_ref, on the active ISA
// and 1, 2 and 3 threads, through each epilogue (bias, residual, clamp): MobileNetV2's stem at
// 32×32, odd maps with asymmetric padding, 1 to 4 input channels, strides of 1 to 3 in either
// axis, dilation, output channels off every register block (13, 9, 7), rows shorter than a vector
// and several vectors plus a tail, a batch smaller than the threads (bands of rows), the 7×7 stride-2
// stems of ResNet and DenseNet (147 and, with four channels, 196 taps). Then which
// shapes the loops take, and that Auto routes a stem's forward pass to them.
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "conv/conv.h"
#include "conv/few_channels.h"
#include "test/check.h"

using namespace cnn;

namespace {

// n, cin, h, w, cout, kh, kw, sh, sw, pt, pb, pl, pr, dh, dw, groups
const Conv2dParams kCases[] = {
    {4, 3, 32, 32, 32, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1},   // MobileNetV2's stem
    {2, 3, 37, 45, 13, 3, 3, 2, 2, 1, 0, 1, 2, 1, 1, 1},   // odd maps, asymmetric padding
    {3, 1, 20, 50, 9, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1, 1},    // one channel, 5×5, 50-pixel rows
    {2, 4, 19, 23, 7, 3, 3, 3, 2, 0, 2, 1, 1, 2, 1, 1},    // four channels, stride 3×2, dilated rows
    {1, 2, 9, 9, 16, 3, 3, 1, 3, 1, 1, 1, 1, 1, 2, 1},     // one image: bands; stride 3, dilated columns
    {5, 3, 6, 7, 17, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1},     // 4-pixel rows
    {2, 3, 16, 70, 24, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},   // stride 1, 70-pixel rows
    {3, 3, 32, 32, 64, 7, 7, 2, 2, 3, 3, 3, 3, 1, 1, 1},   // ResNet's and DenseNet's 7×7 stem at 32×32 (147 taps)
    {1, 4, 40, 36, 19, 7, 7, 2, 2, 3, 3, 3, 3, 1, 1, 1},   // four channels of 7×7: the most taps taken (196); bands
};

void check_case(const Conv2dParams& p, int threads, const char* isa, std::mt19937& rng) {
  const size_t xs = (size_t)p.n * p.c_in * p.h * p.w, ws = (size_t)p.c_out * p.c_in * p.kh * p.kw;
  const size_t ys = (size_t)p.n * p.c_out * p.out_h() * p.out_w();
  const auto x = random_vec(xs, rng), w = random_vec(ws, rng), b = random_vec(p.c_out, rng), residual = random_vec(ys, rng);
  struct { bool bias, residual; float lo, hi; } epilogues[] = {{true, false, -INFINITY, INFINITY}, {false, false, 0.0f, 6.0f},
                                                               {true, true, 0.0f, 0.5f}, {false, true, -INFINITY, INFINITY}};
  for (const auto& c : epilogues) {
    std::vector<float> want(ys), got(ys, NAN);
    const float* bias = c.bias ? b.data() : nullptr;
    conv2d_ref_forward(p, x.data(), w.data(), bias, want.data());
    for (size_t i = 0; i < ys; ++i) want[i] = std::fmin(std::fmax(want[i] + (c.residual ? residual[i] : 0.0f), c.lo), c.hi);
    ConvEpilogue e;
    e.lo = c.lo, e.hi = c.hi, e.residual = c.residual ? residual.data() : nullptr;
    char name[200];
    std::snprintf(name, sizeof name, "few_channels[%s] cin=%d cout=%d %dx%d k%dx%d s%d,%d d%d,%d n=%d threads=%d bias=%d residual=%d clamp=[%g, %g]",
                  isa, p.c_in, p.c_out, p.h, p.w, p.kh, p.kw, p.stride_h, p.stride_w, p.dil_h, p.dil_w, p.n, threads, c.bias,
                  c.residual, c.lo, c.hi);
    if (!conv2d_forward_few_channels(p, x.data(), w.data(), bias, got.data(), threads, e)) {
      std::printf("FAIL %s: refused\n", name);
      ++g_fail;
      continue;
    }
    check_close(name, got, want, 1e-4f, 1e-4f);
  }
}

void expect(bool ok, const std::string& what) {
  if (ok) { ++g_pass; return; }
  std::printf("FAIL few_channels: %s\n", what.c_str());
  ++g_fail;
}

}  // namespace

void test_few_channels(Isa isa) {
  std::mt19937 rng(17);
  for (const Conv2dParams& p : kCases)
    for (int threads : {1, 2, 3}) check_case(p, threads, isa_name(isa), rng);
  // Which shapes the loops take: 5 input channels, groups and 197 taps go elsewhere, untouched.
  const Conv2dParams five{2, 5, 8, 8, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1}, grouped{2, 4, 8, 8, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2},
      wide{2, 1, 12, 200, 16, 1, 197, 1, 1, 0, 0, 0, 0, 1, 1, 1};
  for (const Conv2dParams* p : {&five, &grouped, &wide}) {
    std::vector<float> y(16, 1.0f);
    expect(!few_channels_suits(*p) && !conv2d_forward_few_channels(*p, nullptr, nullptr, nullptr, y.data(), 1, ConvEpilogue()) &&
               y[0] == 1.0f, "a shape it does not suit was taken");
  }
  // Auto: a stem's forward pass (16+ output channels) runs these loops (by-image), its gradients
  // their own paths; LeNet's first layer (6 output channels) stays on the direct loops.
  const Conv2dParams stem{64, 3, 32, 32, 32, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1}, lenet{64, 1, 28, 28, 6, 5, 5, 1, 1, 0, 0, 0, 0, 1, 1, 1};
  expect(few_channels_wins(stem) && conv2d_algo(stem, ConvPass::Forward, 2) == ConvAlgo::ByImage, "Auto does not take the stem");
  expect(!few_channels_wins(lenet) && conv2d_algo(lenet, ConvPass::Forward, 2) == ConvAlgo::Direct, "LeNet's first layer left the direct loops");
}
