// The convolution passes whose items are handed out dynamically (work.h): by-image forward and
// input gradient, grid forward and the input gradient it computes as a forward pass. Each item is
// computed whole by one thread, so 2 and 3 threads must give the 1-thread bits, whichever thread
// ran what; and the 1-thread result matches conv2d_ref. Shapes: ResNet's 8×8 and 4×4 maps at
// 3×32×32, a map split into several row blocks per image with a batch smaller than the threads'
// items (blocks handed out one at a time) and with a larger batch (an image's blocks together),
// grouped, strided (by-image only).
#include <algorithm>
#include <cstdio>
#include <iterator>
#include <string>
#include <vector>

#include "conv/conv.h"
#include "test/check.h"

using namespace cnn;

namespace {

// n, cin, h, w, cout, kh, kw, sh, sw, pt, pb, pl, pr, dh, dw, groups
const Conv2dParams kCases[] = {
    {16, 64, 8, 8, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},    // ResNet's layer1 at 3×32×32
    {24, 32, 4, 4, 48, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},    // layer2's 4×4 maps
    {2, 32, 40, 40, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},   // row blocks, two images
    {13, 32, 40, 40, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},  // row blocks, an image's together
    {7, 24, 12, 12, 36, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 3},   // groups
};
// By-image only (the grid needs stride 1): stride 2.
const Conv2dParams kByImageCases[] = {{9, 16, 15, 15, 24, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1}};

void check_same_bits(const std::string& name, const std::vector<float>& got, const std::vector<float>& want) {
  if (got == want) return (void)++g_pass;
  std::printf("FAIL %s: differs from the 1-thread bits\n", name.c_str());
  ++g_fail;
}

}  // namespace

void test_conv_dynamic_split(Isa isa) {
  std::mt19937 rng(29);  // its own stream: the other tests' inputs stay as they were
  for (ConvAlgo algo : {ConvAlgo::ByImage, ConvAlgo::Grid}) {
    set_conv_algo(algo);
    std::vector<Conv2dParams> cases(std::begin(kCases), std::end(kCases));
    if (algo == ConvAlgo::ByImage) cases.insert(cases.end(), std::begin(kByImageCases), std::end(kByImageCases));
    for (const Conv2dParams& p : cases) {
      const size_t xs = (size_t)p.n * p.c_in * p.h * p.w, ws = (size_t)p.c_out * (p.c_in / p.groups) * p.kh * p.kw;
      const size_t ys = (size_t)p.n * p.c_out * p.out_h() * p.out_w();
      const auto x = random_vec(xs, rng), w = random_vec(ws, rng), b = random_vec(p.c_out, rng), dy = random_vec(ys, rng);
      const auto res = random_vec(ys, rng);
      ConvEpilogue e;
      e.lo = 0.0f, e.residual = res.data();  // bias + residual + ReLU: the epilogue runs per item too
      std::vector<float> y1(ys), dx1(xs);
      conv2d_forward(p, x.data(), w.data(), b.data(), y1.data(), 1, e);
      conv2d_backward_input(p, dy.data(), w.data(), dx1.data(), 1);
      char label[160];
      std::snprintf(label, sizeof label, "dynamic split[%s %s] n=%d cin=%d cout=%d %dx%d s%d g%d", isa_name(isa),
                    conv_algo_name(algo), p.n, p.c_in, p.c_out, p.h, p.w, p.stride_h, p.groups);
      std::vector<float> y_ref(ys), dx_ref(xs);
      conv2d_ref_forward(p, x.data(), w.data(), b.data(), y_ref.data());
      for (size_t i = 0; i < ys; ++i) y_ref[i] = std::max(y_ref[i] + res[i], 0.0f);
      conv2d_ref_backward_input(p, dy.data(), w.data(), dx_ref.data());
      check_close(std::string(label) + " forward", y1, y_ref, 1e-4f, 1e-4f);
      check_close(std::string(label) + " dx", dx1, dx_ref, 1e-4f, 1e-4f);
      // A pass is compared where the path under test runs at 1 thread and at `threads` (a split
      // with too few items per thread gives way to another path); every case compares some.
      const bool forward_1 = conv2d_algo(p, ConvPass::Forward, 1) == algo, input_1 = conv2d_algo(p, ConvPass::BackwardInput, 1) == algo;
      int compared = 0;
      for (int threads : {2, 3}) {
        std::vector<float> y(ys), dx(xs);
        if (forward_1 && conv2d_algo(p, ConvPass::Forward, threads) == algo) {
          conv2d_forward(p, x.data(), w.data(), b.data(), y.data(), threads, e);
          check_same_bits(std::string(label) + " forward threads=" + std::to_string(threads), y, y1);
          ++compared;
        }
        if (input_1 && conv2d_algo(p, ConvPass::BackwardInput, threads) == algo) {
          conv2d_backward_input(p, dy.data(), w.data(), dx.data(), threads);
          check_same_bits(std::string(label) + " dx threads=" + std::to_string(threads), dx, dx1);
          ++compared;
        }
      }
      if (compared == 0) { std::printf("FAIL %s: no pass takes the path at 2 or 3 threads\n", label); ++g_fail; }
    }
  }
  set_conv_algo(ConvAlgo::Auto);
}
