// The fused inverted residual block (conv/inverted_residual.h) against the same block run layer
// by layer through conv2d_forward, on the active ISA and 1, 2 and 3 threads: MobileNetV2's block
// shapes at CIFAR sizes (with and without expansion, stride 2, the residual, 2×2 and 1×1 maps),
// channel counts off every lane count, 5×5 and dilated kernels with asymmetric pads, runs of
// images with a short last run, and maps large enough to go in bands of rows (shared out, or an
// image's bands in order on one thread, or with fewer images than threads), rows wide enough for
// the depthwise strips, and blocks without expansion on NCHW planes (stride 1, in bands) and
// channel-last (stride 2); and MobileNetV3's and EfficientNet's blocks: Hardswish or SiLU after
// the expansion and the depthwise layer, squeeze-and-excitation (ReLU then Hardsigmoid, SiLU then
// Sigmoid) over runs of whole images, with and without expansion, over whole images larger than a
// run, and over bands of fewer images than threads.
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "conv/inverted_residual.h"
#include "test/check.h"

using namespace cnn;

namespace {

// The block's activations: MobileNetV2's ReLU6; MobileNetV3's ReLU or Hardswish, its
// squeeze-and-excitation ReLU then Hardsigmoid; EfficientNet's SiLU, its SE SiLU then Sigmoid.
enum Kind { kRelu6, kReluSe, kHardswish, kHardswishSe, kSiluSe };

struct Case {
  int n, c_in, hidden, c_out, h, w, k, stride, pt, pb, pl, pr, dil;
  bool expand, residual;
  Kind kind = kRelu6;
  int squeeze = 0;
};

// Uniform ±1/√fan_in weights, so that the clamps cut some values and pass others.
std::vector<float> weights(size_t n, int fan_in, std::mt19937& rng) {
  std::vector<float> v = random_vec(n, rng);
  for (float& x : v) x /= std::sqrt((float)fan_in);
  return v;
}

}  // namespace

void test_inverted_residual(Isa isa) {
  std::mt19937 rng(77);
  const Case cases[] = {
      {6, 32, 32, 16, 16, 16, 3, 1, 1, 1, 1, 1, 1, false, false},  // MobileNetV2's first block
      {5, 16, 96, 24, 16, 16, 3, 2, 1, 1, 1, 1, 1, true, false},   // expand, stride 2
      {7, 24, 144, 24, 8, 8, 3, 1, 1, 1, 1, 1, 1, true, true},     // residual, a short last run
      {9, 64, 384, 64, 2, 2, 3, 1, 1, 1, 1, 1, 1, true, true},
      {5, 96, 576, 160, 2, 2, 3, 2, 1, 1, 1, 1, 1, true, false},  // 2×2 → 1×1
      {11, 160, 960, 160, 1, 1, 3, 1, 1, 1, 1, 1, 1, true, true},  // 1×1 maps: the centre tap
      {3, 5, 19, 7, 7, 9, 5, 2, 2, 1, 0, 2, 1, true, false},        // odd channels, 5×5, asymmetric pads
      {4, 6, 21, 6, 9, 8, 3, 1, 2, 2, 2, 2, 2, true, true},         // dilation 2
      {2, 13, 13, 9, 5, 6, 3, 1, 1, 1, 1, 1, 1, false, false},      // no expansion, odd channels
      {1, 3, 17, 3, 3, 3, 7, 1, 3, 3, 3, 3, 1, true, true},         // 7×7 kernel on a 3×3 map
      // Bands of rows: stride 1 and 2, the first and last band reading padding, a short last band
      {2, 8, 96, 8, 45, 47, 3, 1, 1, 1, 1, 1, 1, true, true},
      {2, 12, 144, 20, 41, 39, 3, 2, 1, 1, 1, 1, 1, true, false},
      {1, 16, 320, 16, 30, 33, 5, 1, 2, 2, 2, 2, 1, true, true},
      {1, 32, 32, 16, 60, 58, 3, 1, 1, 1, 1, 1, 1, false, false},
      // Each image's bands in order on one thread (two images a thread), keeping the rows the
      // next band shares: stride 2 with an uneven pad, a dilated 5×5 reaching 8 rows
      {7, 8, 80, 8, 44, 41, 3, 2, 1, 0, 1, 1, 1, true, false},
      {6, 6, 128, 6, 36, 33, 5, 1, 4, 4, 4, 4, 2, true, true},
      // Rows wide enough for the depthwise strips of 8 pixels (and a 4-pixel and single-pixel
      // rest): MobileNetV2's 144 channels at stride 1 and 2, a 5×5 at stride 2 off every lane count
      {2, 24, 144, 24, 11, 26, 3, 1, 1, 1, 1, 1, 1, true, true},
      {3, 24, 144, 32, 14, 29, 3, 2, 1, 1, 1, 1, 1, true, false},
      {2, 8, 40, 8, 20, 37, 5, 2, 2, 2, 2, 2, 1, true, false},
      // Fewer images than threads on maps a run would take whole: bands shared out (MobileNetV2's
      // 14×14 and 7×7 blocks at batch 1, a stride-2 block with a short last band)
      {1, 64, 384, 64, 14, 14, 3, 1, 1, 1, 1, 1, 1, true, true},
      {1, 160, 960, 160, 7, 7, 3, 1, 1, 1, 1, 1, 1, true, true},
      {2, 24, 144, 32, 20, 20, 3, 2, 1, 1, 1, 1, 1, true, false},
      // Without expansion at stride 1, on NCHW planes in bands of rows: the residual over two
      // bands, a dilated 5×5 with asymmetric pads; at stride 2 the channel-last route
      {3, 24, 24, 24, 70, 45, 3, 1, 1, 1, 1, 1, 1, false, true},
      {2, 40, 40, 12, 50, 31, 5, 1, 4, 3, 4, 2, 2, false, false},
      {3, 7, 7, 9, 9, 9, 3, 2, 1, 1, 1, 1, 1, false, false},
      // MobileNetV3 (SE without expansion at stride 2, Hardswish with and without SE, 1×1 maps
      // with a 5×5 kernel) and EfficientNet (SiLU, SE; odd channels; whole images past a run)
      {5, 16, 16, 16, 16, 16, 3, 2, 1, 1, 1, 1, 1, false, false, kReluSe, 8},
      {7, 24, 88, 24, 4, 4, 3, 1, 1, 1, 1, 1, 1, true, true, kHardswish},
      {9, 96, 576, 96, 1, 1, 5, 1, 2, 2, 2, 2, 1, true, true, kHardswishSe, 144},
      {6, 40, 240, 40, 2, 2, 5, 1, 2, 2, 2, 2, 1, true, true, kHardswishSe, 64},
      {6, 16, 96, 24, 16, 16, 3, 2, 1, 1, 1, 1, 1, true, false, kSiluSe, 4},
      {5, 32, 32, 16, 16, 16, 3, 1, 1, 1, 1, 1, 1, false, false, kSiluSe, 8},
      {3, 5, 19, 7, 7, 9, 5, 2, 2, 1, 0, 2, 1, true, false, kSiluSe, 3},
      {2, 16, 96, 16, 45, 47, 3, 1, 1, 1, 1, 1, 1, true, true, kSiluSe, 4},
      // Squeeze-and-excitation over bands with fewer images than threads: stride 2, a 5×5 with
      // the residual, no expansion
      {1, 16, 96, 24, 28, 27, 3, 2, 1, 1, 1, 1, 1, true, false, kSiluSe, 4},
      {1, 40, 240, 40, 14, 14, 5, 1, 2, 2, 2, 2, 1, true, true, kHardswishSe, 64},
      {1, 32, 32, 16, 20, 20, 3, 1, 1, 1, 1, 1, 1, false, false, kSiluSe, 8},
  };
  for (const Case& c : cases) {
    InvertedResidualParams p;
    p.n = c.n, p.c_in = c.c_in, p.hidden = c.hidden, p.c_out = c.c_out, p.squeeze = c.squeeze;
    p.dw = Conv2dParams{c.n, c.hidden, c.h, c.w, c.hidden, c.k, c.k, c.stride, c.stride, c.pt, c.pb, c.pl, c.pr, c.dil, c.dil, c.hidden};
    const long out = (long)c.n * c.c_out * p.dw.out_h() * p.dw.out_w();
    const auto x = random_vec((size_t)c.n * c.c_in * c.h * c.w, rng), res = random_vec(out, rng);
    const auto ew = weights((size_t)c.hidden * c.c_in, c.c_in, rng), eb = weights(c.hidden, 4, rng);
    const auto dw = weights((size_t)c.hidden * c.k * c.k, c.k * c.k, rng), db = weights(c.hidden, 4, rng);
    const auto pw = weights((size_t)c.c_out * c.hidden, c.hidden, rng), pb = weights(c.c_out, 4, rng);
    const auto s1w = weights((size_t)c.squeeze * c.hidden, c.hidden, rng), s1b = weights(c.squeeze, 4, rng);
    const auto s2w = weights((size_t)c.hidden * c.squeeze, c.squeeze, rng), s2b = weights(c.hidden, 4, rng);
    InvertedResidualWeights wt;
    const float hi = c.kind == kRelu6 ? 6.0f : INFINITY, lo = c.kind == kRelu6 || c.kind == kReluSe ? 0.0f : -INFINITY;
    const int gate = c.kind == kSiluSe ? (int)Gated::kSilu : c.kind == kHardswish || c.kind == kHardswishSe ? (int)Gated::kHardswish : kNoGate;
    if (c.expand) wt.expand_w = ew.data(), wt.expand_b = eb.data(), wt.expand_lo = lo, wt.expand_hi = hi, wt.expand_gate = gate;
    wt.dw_w = dw.data(), wt.dw_b = db.data(), wt.dw_lo = lo, wt.dw_hi = hi, wt.dw_gate = gate;
    if (c.squeeze > 0) {
      wt.se_fc1_w = s1w.data(), wt.se_fc1_b = s1b.data(), wt.se_fc2_w = s2w.data(), wt.se_fc2_b = s2b.data();
      if (c.kind == kSiluSe) wt.se_act_gate = (int)Gated::kSilu, wt.se_gate = kSigmoidGate;
      else wt.se_lo = 0.0f, wt.se_gate = (int)Gated::kHardsigmoid;
    }
    wt.project_w = pw.data(), wt.project_b = pb.data();
    std::vector<float> want(out);
    inverted_residual_unfused(p, wt, x.data(), c.residual ? res.data() : nullptr, want.data(), 1);
    // A pinned convolution path runs the layers one by one: the unfused values bit for bit.
    set_conv_algo(ConvAlgo::Batched);
    std::vector<float> pinned(out, NAN);
    inverted_residual_forward(p, wt, x.data(), c.residual ? res.data() : nullptr, pinned.data(), 2);
    set_conv_algo(ConvAlgo::Auto);
    std::vector<float> pinned_want(out);
    set_conv_algo(ConvAlgo::Batched);
    inverted_residual_unfused(p, wt, x.data(), c.residual ? res.data() : nullptr, pinned_want.data(), 2);
    set_conv_algo(ConvAlgo::Auto);
    check_close(std::string("inverted residual pinned batched ") + isa_name(isa), pinned, pinned_want, 0.0f, 0.0f);
    for (int threads : {1, 2, 3}) {
      std::vector<float> got(out, NAN);
      inverted_residual_forward(p, wt, x.data(), c.residual ? res.data() : nullptr, got.data(), threads);
      // Float sums in other orders (GEMM blocking, FMA contraction) over at most 960 products of
      // values below 6: 1e-4 absolute and relative.
      check_close(std::string("inverted residual ") + isa_name(isa) + " " + std::to_string(c.c_in) + "-" +
                      std::to_string(c.hidden) + "-" + std::to_string(c.c_out) + " " + std::to_string(c.h) + "x" +
                      std::to_string(c.w) + " threads " + std::to_string(threads),
                  got, want, 1e-4f, 1e-4f);
    }
    // Eval's cached packing gives the bits of the per-call one; doubled, it shows the call
    // multiplied it; tagged for another ISA, it is ignored.
    std::vector<float> packed(inverted_residual_packed_floats(p)), plain(out), got(out, NAN);
    inverted_residual_pack(p, wt, packed.data());
    inverted_residual_forward(p, wt, x.data(), c.residual ? res.data() : nullptr, plain.data(), 2);
    InvertedResidualWeights cached = wt;
    cached.packed = packed.data();
    const std::string name = std::string("inverted residual packed ") + isa_name(isa) + " " + std::to_string(c.c_in) + "-" +
                             std::to_string(c.hidden) + "-" + std::to_string(c.c_out);
    inverted_residual_forward(p, cached, x.data(), c.residual ? res.data() : nullptr, got.data(), 2);
    check_close(name + " equal bits", got, plain, 0.0f, 0.0f);
    for (size_t i = 0; i + 1 < packed.size(); ++i) packed[i] *= 2.0f;  // every weight doubled, the tag kept
    inverted_residual_forward(p, cached, x.data(), c.residual ? res.data() : nullptr, got.data(), 2);
    if (got == plain) std::printf("FAIL %s: the packed weights were not used\n", name.c_str()), ++g_fail;
    else ++g_pass;
    packed.back() = (float)((int)isa * 16 + 16);  // another ISA's tag
    inverted_residual_forward(p, cached, x.data(), c.residual ? res.data() : nullptr, got.data(), 2);
    check_close(name + " another ISA's tag ignored", got, plain, 0.0f, 0.0f);
  }
}
