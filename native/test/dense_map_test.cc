// The dense map of whole images (conv/dense_map.h) against conv2d_ref, on the active ISA, 1-3
// threads: every shape class the shape choice gives it (1×1 maps under 3×3 and 1×1 kernels, stride
// 2 from 2×2 to 1×1, 2×2 maps under 3×3 pad 1) and what else it fits (3×3 maps, 5×5 and 3×5
// kernels, dilation, asymmetric padding), batch 1, 2, 5 and 128, bias on and off, each epilogue,
// Wd made per call and given (eval's cache). The tolerance is per element: kDenseErrorUnits float
// epsilons of the same sum over absolute values (conv2d_ref on |x|, |w|, ...), which bounds any
// order of summation's rounding.
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "conv/conv.h"
#include "conv/dense_map.h"
#include "test/check.h"

using namespace cnn;

namespace {

constexpr double kDenseErrorUnits = 64;

// n, cin, h, w, cout, kh, kw, sh, sw, pt, pb, pl, pr, dh, dw, groups
const Conv2dParams kCases[] = {
    {5, 24, 1, 1, 10, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},   // 3×3 on 1×1 maps (ResNet's layer4 at 32×32)
    {2, 7, 1, 1, 9, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1},     // 1×1 on 1×1
    {5, 12, 2, 2, 14, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1},   // stride 2 from 2×2 to 1×1
    {1, 16, 2, 2, 20, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},   // 3×3 pad 1 on 2×2 (layer3 at 32×32)
    {2, 33, 2, 2, 17, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
    {128, 24, 2, 2, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
    {128, 40, 1, 1, 24, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
    {5, 9, 3, 3, 11, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},    // 3×3 maps
    {2, 6, 3, 3, 5, 3, 3, 2, 1, 1, 0, 0, 1, 1, 1, 1},     // stride in one axis, asymmetric pads
    {2, 5, 2, 3, 7, 3, 5, 1, 1, 1, 1, 2, 2, 1, 1, 1},     // 3×5 kernel on 2×3
    {5, 4, 3, 3, 6, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 1},     // dilation 2: taps skip pixels
    {2, 8, 4, 4, 3, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1, 1},     // 5×5 on 4×4
    {1, 3, 2, 2, 4, 2, 2, 1, 1, 0, 0, 0, 0, 1, 1, 1},     // a kernel as large as the map, no padding
    // Groups of 8+ input channels, one Wd block each (ResNeXt's grouped 3×3 at 2×2 and 1×1 maps)
    {9, 64, 2, 2, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 4},
    {5, 48, 2, 2, 36, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 3},   // stride 2 to 1×1, groups of 16 in, 12 out
    {7, 80, 1, 1, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 10},
    {3, 27, 3, 3, 18, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 3},   // 3×3 maps, groups of 9 in
};

}  // namespace

void test_dense_map(Isa isa) {
  std::mt19937 rng(16);  // its own stream: tests added before it leave its inputs as they were
  for (const Conv2dParams& p : kCases) {
    if (!conv_dense_map_fits(p)) { std::printf("FAIL dense map: a case it does not fit\n"); ++g_fail; continue; }
    const size_t xs = (size_t)p.n * p.c_in * p.h * p.w, ws = (size_t)p.c_out * (p.c_in / p.groups) * p.kh * p.kw;
    const size_t ys = (size_t)p.n * p.c_out * p.out_h() * p.out_w();
    const auto x = random_vec(xs, rng), w = random_vec(ws, rng), b = random_vec(p.c_out, rng), dy = random_vec(ys, rng);
    const auto res = random_vec(ys, rng);
    const auto ax = abs_of(x), aw = abs_of(w), ab = abs_of(b), ady = abs_of(dy);
    std::vector<float> wd(dense_map_weights_floats(p));
    dense_map_weights(p, w.data(), wd.data(), 2);
    std::vector<float> dx_ref(xs), dx_scale(xs), dw_ref(ws), dw_scale(ws), db_ref(p.c_out), db_scale(p.c_out);
    conv2d_ref_backward_input(p, dy.data(), w.data(), dx_ref.data());
    conv2d_ref_backward_input(p, ady.data(), aw.data(), dx_scale.data());
    conv2d_ref_backward_weight(p, x.data(), dy.data(), dw_ref.data(), db_ref.data());
    conv2d_ref_backward_weight(p, ax.data(), ady.data(), dw_scale.data(), db_scale.data());
    for (int variant = 0; variant < 4; ++variant) {
      // 0: no bias, no epilogue; 1: bias + ReLU; 2: bias + residual + ReLU6; 3: residual only
      const bool with_bias = variant == 1 || variant == 2;
      ConvEpilogue e;
      if (variant == 1) e.lo = 0;
      if (variant == 2) e.lo = 0, e.hi = 6;
      if (variant >= 2) e.residual = res.data();
      std::vector<float> want(ys), scale(ys);
      conv2d_ref_forward(p, x.data(), w.data(), with_bias ? b.data() : nullptr, want.data());
      conv2d_ref_forward(p, ax.data(), aw.data(), with_bias ? ab.data() : nullptr, scale.data());
      for (size_t i = 0; i < ys; ++i) {
        if (e.residual) want[i] += res[i], scale[i] += std::fabs(res[i]);
        want[i] = want[i] < e.lo ? e.lo : want[i] > e.hi ? e.hi : want[i];
      }
      for (int threads : {1, 2, 3})
        for (const float* given : {(const float*)nullptr, (const float*)wd.data()}) {
          char name[200];
          std::snprintf(name, sizeof name, "dense map[%s] n=%d cin=%d cout=%d groups=%d %dx%d k%dx%d s%d,%d pad %d,%d,%d,%d dil %d epilogue=%d threads=%d %s",
                        isa_name(isa), p.n, p.c_in, p.c_out, p.groups, p.h, p.w, p.kh, p.kw, p.stride_h, p.stride_w, p.pad_t, p.pad_b, p.pad_l,
                        p.pad_r, p.dil_h, variant, threads, given ? "cached" : "built");
          std::vector<float> y(ys, NAN);
          conv2d_forward_dense_map(p, x.data(), w.data(), given, with_bias ? b.data() : nullptr, y.data(), threads, e);
          check_eps_units(std::string(name) + " forward", y, want, scale, kDenseErrorUnits);
          if (given) {
            // Eval's packed Wd: the bits of the per-call packing; packed from doubled weights, it
            // shows it was multiplied (a grouped layer's packing holds a tag per group).
            std::vector<float> packed(dense_map_packed_floats(p)), yp(ys, NAN), w2(w);
            dense_map_pack(p, w.data(), packed.data(), threads);
            conv2d_forward_dense_map(p, x.data(), w.data(), nullptr, with_bias ? b.data() : nullptr, yp.data(), threads, e, packed.data());
            check_close(std::string(name) + " packed: equal bits", yp, y, 0.0f, 0.0f);
            for (float& v : w2) v *= 2.0f;
            dense_map_pack(p, w2.data(), packed.data(), threads);
            conv2d_forward_dense_map(p, x.data(), w.data(), nullptr, with_bias ? b.data() : nullptr, yp.data(), threads, e, packed.data());
            if (yp != y) ++g_pass;
            else { std::printf("FAIL %s: the packed Wd was not used\n", name); ++g_fail; }
          }
          if (variant) continue;
          std::vector<float> dx(xs, NAN), dw(ws, NAN), db(p.c_out, NAN), dw_alone(ws, NAN);
          conv2d_backward_input_dense_map(p, dy.data(), w.data(), given, dx.data(), threads);
          check_eps_units(std::string(name) + " dx", dx, dx_ref, dx_scale, kDenseErrorUnits);
          if (given) {
            // Training hands the forward's Wd to the input gradient: the same bits as one built here.
            std::vector<float> dx_built(xs, NAN);
            conv2d_backward_input_dense_map(p, dy.data(), w.data(), nullptr, dx_built.data(), threads);
            if (dx == dx_built) ++g_pass;
            else { std::printf("FAIL %s: dx with the given Wd differs from one built per call\n", name); ++g_fail; }
            continue;
          }
          conv2d_backward_weight_dense_map(p, x.data(), dy.data(), dw.data(), db.data(), threads);
          check_eps_units(std::string(name) + " dw", dw, dw_ref, dw_scale, kDenseErrorUnits);
          check_eps_units(std::string(name) + " db", db, db_ref, db_scale, kDenseErrorUnits);
          conv2d_backward_weight_dense_map(p, x.data(), dy.data(), dw_alone.data(), nullptr, threads);
          if (dw_alone == dw) ++g_pass;
          else { std::printf("FAIL %s: dw differs without db\n", name); ++g_fail; }
        }
    }
  }
  // The shape choice: ResNet's layers on maps no larger than the kernel at 3×32×32 take the dense
  // map in every pass (training batch sizes), 3×3 maps and small batches on 2×2 keep their paths
  // except in eval with Wd at hand, grouped layers take it as ungrouped ones do (ResNeXt's), depthwise
  // layers never, and the pin takes it wherever it fits.
  const Conv2dParams r18_layer3{128, 256, 2, 2, 256, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1};
  const Conv2dParams r18_layer4_down{128, 256, 2, 2, 512, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1};
  const Conv2dParams r50_layer4{64, 512, 1, 1, 512, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1};
  Conv2dParams small_batch = r18_layer3, map3 = r18_layer3, grouped = r50_layer4, depthwise = r50_layer4;
  small_batch.n = 16, map3.h = map3.w = 3, grouped.groups = 4, depthwise.groups = 512;
  bool ok = true;
  for (ConvPass pass : {ConvPass::Forward, ConvPass::BackwardInput, ConvPass::BackwardWeight}) {
    for (const Conv2dParams& p : {r18_layer3, r18_layer4_down, r50_layer4}) ok &= conv2d_algo(p, pass, 2) == ConvAlgo::DenseMap;
    ok &= conv2d_algo(small_batch, pass, 2) != ConvAlgo::DenseMap && conv2d_algo(map3, pass, 2) != ConvAlgo::DenseMap;
    ok &= conv2d_algo(grouped, pass, 2) == ConvAlgo::DenseMap && conv2d_algo(depthwise, pass, 2) != ConvAlgo::DenseMap;
    set_conv_algo(ConvAlgo::DenseMap);
    ok &= conv2d_algo(small_batch, pass, 2) == ConvAlgo::DenseMap && conv2d_algo(map3, pass, 2) == ConvAlgo::DenseMap;
    ok &= conv2d_algo(grouped, pass, 2) == ConvAlgo::DenseMap && conv2d_algo(depthwise, pass, 2) == ConvAlgo::Batched;
    set_conv_algo(ConvAlgo::Batched);
    ok &= conv2d_algo(r18_layer3, pass, 2) == ConvAlgo::Batched;
    set_conv_algo(ConvAlgo::Auto);
  }
  ok &= conv2d_algo(small_batch, ConvPass::Forward, 2, true) == ConvAlgo::DenseMap;
  if (ok) ++g_pass;
  else { std::printf("FAIL dense map[%s]: the shape choice\n", isa_name(isa)); ++g_fail; }
  // A broken Wd fails the check: its largest entry 1% off (x constant, so every image reads it in full).
  {
    const Conv2dParams& p = kCases[4];
    const size_t xs = (size_t)p.n * p.c_in * p.h * p.w, ys = (size_t)p.n * p.c_out * p.out_h() * p.out_w();
    const std::vector<float> x(xs, 0.5f), w = random_vec((size_t)p.c_out * p.c_in * 9, rng);
    std::vector<float> wd(dense_map_weights_floats(p)), want(ys), scale(ys), got(ys);
    dense_map_weights(p, w.data(), wd.data(), 1);
    size_t largest = 0;
    for (size_t i = 0; i < wd.size(); ++i) largest = std::fabs(wd[i]) > std::fabs(wd[largest]) ? i : largest;
    wd[largest] *= 1.01f;
    conv2d_ref_forward(p, x.data(), w.data(), nullptr, want.data());
    conv2d_ref_forward(p, abs_of(x).data(), abs_of(w).data(), nullptr, scale.data());
    conv2d_forward_dense_map(p, x.data(), w.data(), wd.data(), nullptr, got.data(), 1, {});
    const double units = worst_eps_units(got, want, scale);
    if (units > kDenseErrorUnits) ++g_pass;
    else { std::printf("FAIL dense map[%s]: a Wd entry 1%% off passed the check (%.3g units)\n", isa_name(isa), units); ++g_fail; }
  }
}
