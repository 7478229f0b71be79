// Winograd F(4×4, 3×3) (conv/winograd.h) against conv2d_ref on odd shapes, every epilogue (and
// max-pooled as it leaves the output transform, against its output pooled), 1-3 threads, on the
// active ISA. The tolerance is per output: kWinoErrorUnits float epsilons of
// Σ|w|·|x| + |b| + |residual| (conv2d_ref over absolute values), which bounds any summation's
// rounding; the direct paths stay within a few units, Winograd's transforms scale terms by up
// to 8 and 1/24 and were measured at up to ~30 units on these cases (see the constant).
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "conv/conv.h"
#include "conv/winograd.h"
#include "test/check.h"

using namespace cnn;

namespace {

constexpr double kWinoErrorUnits = 192;

struct Case {
  int n, c_in, c_out, h, w, pt, pb, pl, pr;
};

}  // namespace

void test_winograd(Isa isa, std::mt19937&) {
  std::mt19937 rng(13);  // its own stream: tests added before it leave its inputs as they were
  // Odd channels; maps of 1-32 pixels (partial tiles, one tile, tiles split over items by rows,
  // several images an item); padding 0, 1 and uneven; batch 1-5.
  const Case cases[] = {{1, 1, 1, 1, 1, 1, 1, 1, 1},      {2, 3, 5, 4, 4, 1, 1, 1, 1},      {1, 7, 9, 5, 7, 0, 0, 0, 0},
                        {3, 16, 16, 8, 8, 1, 1, 1, 1},    {5, 13, 11, 9, 13, 1, 1, 1, 1},   {2, 33, 17, 16, 16, 1, 1, 1, 1},
                        {1, 5, 70, 31, 31, 1, 1, 1, 1},   {4, 31, 29, 7, 12, 0, 0, 0, 0},   {2, 64, 64, 3, 3, 0, 0, 0, 0},
                        {1, 20, 8, 30, 17, 0, 0, 0, 0},   {3, 9, 40, 2, 6, 1, 1, 1, 1},     {2, 100, 64, 14, 14, 1, 1, 1, 1},
                        {2, 17, 19, 11, 10, 2, 0, 0, 2},  {1, 8, 24, 29, 23, 0, 1, 2, 1},
                        // Several whole images an item to fill the vectors, the last group short.
                        {3, 8, 8, 32, 32, 1, 1, 1, 1},    {5, 6, 10, 28, 28, 1, 1, 1, 1}};
  double worst_all = 0;
  for (const Case& k : cases)
    for (int variant = 0; variant < 4; ++variant) {
      Conv2dParams p{k.n, k.c_in, k.h, k.w, k.c_out, 3, 3, 1, 1, k.pt, k.pb, k.pl, k.pr, 1, 1, 1};
      if (p.out_h() < 1 || p.out_w() < 1) continue;
      const long ysize = (long)p.n * p.c_out * p.out_h() * p.out_w();
      auto x = random_vec((size_t)p.n * p.c_in * p.h * p.w, rng), w = random_vec((size_t)p.c_out * p.c_in * 9, rng);
      auto b = random_vec(p.c_out, rng), res = random_vec(ysize, rng);
      // variant 0: no bias, no epilogue; 1: bias + ReLU; 2: bias + residual + ReLU6; 3: residual only
      const bool with_bias = variant == 1 || variant == 2;
      ConvEpilogue e;
      if (variant == 1) e.lo = 0;
      if (variant == 2) e.lo = 0, e.hi = 6;
      if (variant >= 2) e.residual = res.data();
      std::vector<float> want(ysize), scale(ysize);
      conv2d_ref_forward(p, x.data(), w.data(), with_bias ? b.data() : nullptr, want.data());
      const auto ax = abs_of(x), aw = abs_of(w), ab = abs_of(b);
      conv2d_ref_forward(p, ax.data(), aw.data(), with_bias ? ab.data() : nullptr, scale.data());
      for (long i = 0; i < ysize; ++i) {
        if (e.residual) want[i] += res[i], scale[i] += std::fabs(res[i]);
        want[i] = want[i] < e.lo ? e.lo : want[i] > e.hi ? e.hi : want[i];
      }
      std::vector<float> u(winograd_weights_floats(p));
      winograd_transform_weights(p, w.data(), u.data(), 2);
      if (std::getenv("CNN_WINOGRAD_ERRORS")) {
        // The study behind kWinoErrorUnits: the default path's error on the same measure.
        std::vector<float> direct(ysize);
        conv2d_forward(p, x.data(), w.data(), with_bias ? b.data() : nullptr, direct.data(), 2, e);
        std::vector<float> wg(ysize);
        conv2d_forward_winograd(p, x.data(), w.data(), u.data(), with_bias ? b.data() : nullptr, wg.data(), 2, e);
        std::printf("# errors[%s] n=%d cin=%d cout=%d %dx%d: winograd %.1f, %s %.1f float epsilons of sum |w||x|\n", isa_name(isa), p.n,
                    p.c_in, p.c_out, p.h, p.w, worst_eps_units(wg, want, scale),
                    conv_algo_name(conv2d_algo(p, ConvPass::Forward, 2)), worst_eps_units(direct, want, scale));
      }
      std::vector<float> first;
      for (int threads : {1, 2, 3}) {
        std::vector<float> got(ysize, NAN);
        conv2d_forward_winograd(p, x.data(), w.data(), u.data(), with_bias ? b.data() : nullptr, got.data(), threads, e);
        char name[200];
        std::snprintf(name, sizeof name, "winograd[%s] n=%d cin=%d cout=%d %dx%d pad=%d,%d,%d,%d epilogue=%d threads=%d",
                      isa_name(isa), p.n, p.c_in, p.c_out, p.h, p.w, k.pt, k.pb, k.pl, k.pr, variant, threads);
        const double units = check_eps_units(name, got, want, scale, kWinoErrorUnits);
        if (units > worst_all) worst_all = units;
        // Untransformed weights (a pinned "winograd" without eval's cache) give the same bits.
        if (threads == 1) first = got;
        std::vector<float> fresh(ysize, NAN);
        conv2d_forward_winograd(p, x.data(), w.data(), nullptr, with_bias ? b.data() : nullptr, fresh.data(), threads, e);
        if (fresh == got && got == first) ++g_pass;
        else { std::printf("FAIL %s: not the same bits with fresh weights or another thread count\n", name); ++g_fail; }
        // Pooled as the tiles leave the output transform: got max-pooled 2 × 2 (floor), bit for bit.
        if (e.residual || p.out_h() < 2 || p.out_w() < 2) continue;
        const int oh = p.out_h(), ow = p.out_w(), ph = oh / 2, pw = ow / 2;
        std::vector<float> pooled((size_t)p.n * p.c_out * ph * pw), want_pooled(pooled.size());
        for (long plane = 0; plane < (long)p.n * p.c_out; ++plane)
          for (int i = 0; i < ph; ++i)
            for (int j = 0; j < pw; ++j) {
              const float* q = got.data() + (plane * oh + 2 * i) * ow + 2 * j;
              want_pooled[(plane * ph + i) * pw + j] = std::max(std::max(q[0], q[1]), std::max(q[ow], q[ow + 1]));
            }
        conv2d_forward_winograd_max_pool(p, x.data(), w.data(), u.data(), with_bias ? b.data() : nullptr, pooled.data(), threads, e.lo, e.hi);
        if (pooled == want_pooled) ++g_pass;
        else { std::printf("FAIL %s max-pooled: not the bits of the output pooled\n", name); ++g_fail; }
      }
    }
  // A broken kernel fails the check: one transformed weight 1% off.
  {
    Conv2dParams p{2, 16, 10, 10, 24, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    const long ysize = (long)p.n * p.c_out * p.out_h() * p.out_w();
    auto x = random_vec((size_t)p.n * p.c_in * p.h * p.w, rng), w = random_vec((size_t)p.c_out * p.c_in * 9, rng);
    std::vector<float> want(ysize), scale(ysize), got(ysize);
    conv2d_ref_forward(p, x.data(), w.data(), nullptr, want.data());
    const auto ax = abs_of(x), aw = abs_of(w);
    conv2d_ref_forward(p, ax.data(), aw.data(), nullptr, scale.data());
    std::vector<float> u(winograd_weights_floats(p));
    winograd_transform_weights(p, w.data(), u.data(), 1);
    u[u.size() / 2] *= 1.01f;
    conv2d_forward_winograd(p, x.data(), w.data(), u.data(), nullptr, got.data(), 2, {});
    const double units = worst_eps_units(got, want, scale);
    if (units > kWinoErrorUnits) ++g_pass;
    else { std::printf("FAIL winograd[%s]: a transformed weight 1%% off passed the check (%.3g units)\n", isa_name(isa), units); ++g_fail; }
    if (std::getenv("CNN_WINOGRAD_ERRORS")) std::printf("# winograd[%s] one weight 1%% off: %.1f float epsilons\n", isa_name(isa), units);
  }
  if (std::getenv("CNN_WINOGRAD_ERRORS")) std::printf("# winograd[%s] worst error %.1f float epsilons of sum |w||x|\n", isa_name(isa), worst_all);
}

// The input gradient by Winograd (training's path): conv2d_backward_input_winograd against
// conv2d_ref_backward_input on the same measure, pads 0-2 on each side, 1-3 threads with the
// same bits; pads over 2 are refused; Auto routes the shapes bench/winograd-crossover.mjs
// measured winning in training (per-call weights) there and the losing ones elsewhere.
void test_winograd_input_gradient(Isa isa, std::mt19937&) {
  std::mt19937 rng(29);
  const Case cases[] = {{2, 3, 5, 4, 4, 1, 1, 1, 1},   {1, 7, 9, 5, 7, 0, 0, 0, 0},  {3, 16, 16, 8, 8, 1, 1, 1, 1},
                        {2, 33, 17, 16, 16, 1, 1, 1, 1}, {2, 17, 19, 11, 10, 2, 0, 0, 2}, {1, 8, 24, 13, 9, 2, 2, 2, 2},
                        {2, 40, 12, 9, 6, 0, 1, 2, 1}};
  for (const Case& k : cases) {
    Conv2dParams p{k.n, k.c_in, k.h, k.w, k.c_out, 3, 3, 1, 1, k.pt, k.pb, k.pl, k.pr, 1, 1, 1};
    const long xsize = (long)p.n * p.c_in * p.h * p.w;
    auto dy = random_vec((size_t)p.n * p.c_out * p.out_h() * p.out_w(), rng), w = random_vec((size_t)p.c_out * p.c_in * 9, rng);
    std::vector<float> want(xsize), scale(xsize), first;
    conv2d_ref_backward_input(p, dy.data(), w.data(), want.data());
    const auto ady = abs_of(dy), aw = abs_of(w);
    conv2d_ref_backward_input(p, ady.data(), aw.data(), scale.data());
    for (int threads : {1, 2, 3}) {
      std::vector<float> got(xsize, NAN);
      conv2d_backward_input_winograd(p, dy.data(), w.data(), got.data(), threads);
      char name[200];
      std::snprintf(name, sizeof name, "winograd input gradient[%s] n=%d cin=%d cout=%d %dx%d pad=%d,%d,%d,%d threads=%d",
                    isa_name(isa), p.n, p.c_in, p.c_out, p.h, p.w, k.pt, k.pb, k.pl, k.pr, threads);
      check_eps_units(name, got, want, scale, kWinoErrorUnits);
      if (threads == 1) first = got;
      if (got == first) ++g_pass;
      else { std::printf("FAIL %s: not the bits of 1 thread\n", name); ++g_fail; }
    }
  }
  Conv2dParams q, wide{1, 4, 9, 9, 4, 3, 3, 1, 1, 3, 1, 1, 1, 1, 1, 1}, strided{1, 4, 9, 9, 4, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1};
  if (!winograd_input_gradient_params(wide, &q) && !winograd_input_gradient_params(strided, &q)) ++g_pass;
  else { std::printf("FAIL winograd input gradient: took a pad of 3 or stride 2\n"); ++g_fail; }
  // Auto, no cached weights (training): the crossover's winners take Winograd both passes, the losers do not.
  struct Route { Conv2dParams p; bool winograd; };
  const Route routes[] = {{{128, 32, 32, 32, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1}, true},
                          {{128, 64, 8, 8, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1}, true},
                          {{128, 128, 4, 4, 128, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1}, false},
                          {{64, 64, 7, 7, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1}, false},
                          {{16, 512, 7, 7, 512, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1}, false},
                          {{128, 16, 32, 32, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1}, false}};
  for (const Route& r : routes)
    for (ConvPass pass : {ConvPass::Forward, ConvPass::BackwardInput}) {
      // On AVX-512 the channels-in-lanes loops take both passes of rows up to 8 pixels (none of
      // these has over 128 × 128 channels, where Winograd would keep them).
      const bool lanes = isa == Isa::Avx512 && r.p.w <= 8;
      const ConvAlgo took = conv2d_algo(r.p, pass, 2);
      if ((took == ConvAlgo::Winograd) == (r.winograd && !lanes) && (!lanes || took == ConvAlgo::Lanes)) ++g_pass;
      else { std::printf("FAIL winograd route[%s] n=%d c=%d %dx%d pass=%d: took %s\n", isa_name(isa), r.p.n, r.p.c_in, r.p.h, r.p.w, (int)pass, conv_algo_name(conv2d_algo(r.p, pass, 2))); ++g_fail; }
    }
  // Through the entry point, Auto's input gradient is the Winograd call's, bit for bit.
  Conv2dParams p{4, 32, 16, 16, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1};
  auto dy = random_vec((size_t)p.n * p.c_out * 256, rng), w = random_vec((size_t)p.c_out * p.c_in * 9, rng);
  std::vector<float> a((size_t)p.n * p.c_in * 256), b(a.size());
  conv2d_backward_input(p, dy.data(), w.data(), a.data(), 2);
  conv2d_backward_input_winograd(p, dy.data(), w.data(), b.data(), 2);
  if (conv2d_algo(p, ConvPass::BackwardInput, 2) == ConvAlgo::Winograd && a == b) ++g_pass;
  else { std::printf("FAIL winograd input gradient[%s]: Auto's call is not the Winograd one\n", isa_name(isa)); ++g_fail; }
}
