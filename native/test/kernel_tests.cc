// Runs the C++ kernels directly: every ISA variant this CPU supports against gemm_ref and
// conv2d_ref on odd shapes. Prints one line per failure and "N passed, M failed".
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <random>
#include <string>
#include <vector>

#include "activation/activation.h"
#include "augment/augment.h"
#include "conv/conv.h"
#include "conv/conv_by_image.h"
#include "conv/conv_grid.h"
#include "conv/conv_direct.h"
#include "conv/conv_lanes.h"
#include "conv/lanes_rows.h"
#include "conv/depthwise_3x3.h"
#include "conv/depthwise_planes.h"
#include "conv/depthwise_small.h"
#include "conv/pointwise.h"
#include "conv/epilogue_rows.h"
#include "conv/work.h"
#include "dropout/dropout.h"
#include "eltwise/eltwise.h"
#include "norm/norm.h"
#include "optim/optim.h"
#include "cpu/cpu.h"
#include "gemm/gemm.h"
#include "pad/pad.h"
#include "pool/pool.h"
#include "test/check.h"

using namespace cnn;

int g_pass = 0, g_fail = 0;

std::vector<float> random_vec(size_t n, std::mt19937& rng) {
  std::uniform_real_distribution<float> d(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

void check_close(const std::string& name, const std::vector<float>& got,
                 const std::vector<float>& want, float atol, float rtol) {
  for (size_t i = 0; i < want.size(); ++i) {
    if (!(std::fabs(got[i] - want[i]) <= atol + rtol * std::fabs(want[i]))) {
      std::printf("FAIL %s: element %zu is %g, expected %g\n", name.c_str(), i, got[i], want[i]);
      ++g_fail;
      return;
    }
  }
  ++g_pass;
}

std::vector<float> abs_of(const std::vector<float>& v) {
  std::vector<float> a(v.size());
  for (size_t i = 0; i < v.size(); ++i) a[i] = std::fabs(v[i]);
  return a;
}

double worst_eps_units(const std::vector<float>& got, const std::vector<float>& want, const std::vector<float>& scale) {
  double worst = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    const double units = std::fabs((double)got[i] - want[i]) / (1.1920929e-7 * (scale[i] + 1e-30));
    if (!(units <= worst)) worst = units;
  }
  return worst;
}

double check_eps_units(const std::string& name, const std::vector<float>& got, const std::vector<float>& want,
                       const std::vector<float>& scale, double limit) {
  const double worst = worst_eps_units(got, want, scale);
  if (worst <= limit) ++g_pass;
  else { std::printf("FAIL %s: error %.3g float epsilons of the sum over absolute values (limit %g)\n", name.c_str(), worst, limit); ++g_fail; }
  return worst;
}

static void test_gemm(Isa isa, std::mt19937& rng) {
  const int shapes[][3] = {{1, 1, 1},   {7, 5, 3},    {13, 17, 19}, {6, 16, 256},
                           {12, 32, 1}, {33, 65, 257}, {100, 37, 300}, {64, 200, 576},
                           {150, 4100, 20}, {5, 3, 0},
                           // several MC row blocks and k blocks; several NC column blocks;
                           // more threads than row panels; a ragged 8-wide k tail
                           {300, 50, 600}, {20, 4200, 9}, {64, 576, 40}, {97, 130, 1030}};
  for (auto& s : shapes) {
    const int m = s[0], n = s[1], k = s[2];
    for (int ta = 0; ta < 2; ++ta)
      for (int tb = 0; tb < 2; ++tb)
        for (int threads : {1, 3}) {
          const int lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 1, ldc = n + 2;
          auto A = random_vec((size_t)(ta ? k : m) * lda + 1, rng);
          auto B = random_vec((size_t)(tb ? n : k) * ldb + 1, rng);
          auto C0 = random_vec((size_t)m * ldc, rng);
          for (float beta : {0.0f, 0.5f, 1.0f}) {
            auto want = C0, got = C0;
            gemm_ref(ta, tb, m, n, k, 1.5f, A.data(), lda, B.data(), ldb, beta, want.data(), ldc);
            sgemm_isa(isa, ta, tb, m, n, k, 1.5f, A.data(), lda, B.data(), ldb, beta, got.data(), ldc, threads);
            char name[160];
            std::snprintf(name, sizeof name, "gemm[%s] m=%d n=%d k=%d ta=%d tb=%d beta=%g threads=%d",
                          isa_name(isa), m, n, k, ta, tb, beta, threads);
            check_close(name, got, want, 1e-4f * (1 + k / 64), 1e-4f);
          }
        }
  }
}

// Leftover tiles: every row count below two register tiles (AVX-512's is 12 rows) against
// column counts around the vector widths, with C wider than the product so that a masked store
// that strays past the tile shows up as a changed element there.
static void test_gemm_edges(Isa isa, std::mt19937& rng) {
  const int k = 19;
  for (int m = 1; m <= 25; ++m)
    for (int n : {1, 3, 7, 8, 9, 15, 16, 17, 24, 31, 33, 40}) {
      const int ldc = n + 5;
      auto A = random_vec((size_t)m * k, rng), B = random_vec((size_t)k * n, rng);
      auto C0 = random_vec((size_t)m * ldc, rng);
      for (float beta : {0.0f, 0.5f}) {
        auto want = C0, got = C0;
        gemm_ref(false, false, m, n, k, 1.5f, A.data(), k, B.data(), n, beta, want.data(), ldc);
        sgemm_isa(isa, false, false, m, n, k, 1.5f, A.data(), k, B.data(), n, beta, got.data(), ldc, 1);
        char name[96];
        std::snprintf(name, sizeof name, "gemm edge[%s] m=%d n=%d beta=%g", isa_name(isa), m, n, beta);
        check_close(name, got, want, 1e-4f, 1e-4f);
      }
    }
}

// Races show up only sometimes, so repeat the shapes that exposed two: column blocks of
// unequal width under the barrier-free column split (6×18432×25), and k blocks of unequal
// depth (33×65×257), against one reference each.
static void test_gemm_races(Isa isa, std::mt19937& rng) {
  const int shapes[][3] = {{6, 18432, 25}, {33, 65, 257}};
  for (auto& s : shapes) {
    const int m = s[0], n = s[1], k = s[2];
    auto A = random_vec((size_t)m * k, rng), B = random_vec((size_t)k * n, rng);
    std::vector<float> want((size_t)m * n), got((size_t)m * n);
    gemm_ref(false, false, m, n, k, 1.0f, A.data(), k, B.data(), n, 0.0f, want.data(), n);
    int bad = 0;
    for (int rep = 0; rep < 40; ++rep)
      for (int threads : {2, 3}) {
        sgemm_isa(isa, false, false, m, n, k, 1.0f, A.data(), k, B.data(), n, 0.0f, got.data(), n, threads);
        for (size_t i = 0; i < want.size(); ++i)
          if (!(std::fabs(got[i] - want[i]) <= 1e-4f * (1 + std::fabs(want[i])))) { ++bad; break; }
      }
    char name[96];
    std::snprintf(name, sizeof name, "gemm[%s] m=%d n=%d k=%d repeated on 2 and 3 threads", isa_name(isa), m, n, k);
    if (bad) { std::printf("FAIL %s: %d of 80 runs wrong\n", name, bad); ++g_fail; } else { ++g_pass; }
  }
}

// A packed once (sgemm_pack_a), then products on one thread with B strided, transposed, or
// given by row pointers at scattered offsets, against gemm_ref.
static void test_gemm_packed(Isa isa, std::mt19937& rng) {
  const int shapes[][3] = {{1, 1, 1}, {7, 5, 3}, {32, 442, 288}, {13, 33, 600}, {150, 20, 9}, {6, 4100, 25}, {5, 3, 0}};
  // Segmented rows (mode >= 3): segment and stride. 7 of 10: several segments per 16 columns
  // (AVX-512's gather by permutes); 56 of 58 (a 56-wide map padded by 1): most 16-column runs in
  // one segment (one load), the rest across a 2-float gap; 14 of 16 and 7 of 9 (ResNet's 14×14 and
  // 7×7 maps); 3 of 40: segments too far apart for the permutes (the piecewise copies).
  const int segments[][2] = {{7, 10}, {56, 58}, {14, 16}, {7, 9}, {3, 40}};
  for (auto& s : shapes) {
    const int m = s[0], n = s[1], k = s[2];
    for (int ta = 0; ta < 2; ++ta) {
      const int lda = (ta ? m : k) + 2;
      auto A = random_vec((size_t)(ta ? k : m) * lda, rng);
      std::vector<float> Ap(sgemm_packed_a_floats(isa, m, k));
      sgemm_pack_a(isa, ta, m, k, A.data(), lda, Ap.data());
      // B strided, Bᵀ strided, B by rows, B by rows of segments
      for (int mode = 0; mode < 8; ++mode) {
        const bool tb = mode == 1;
        const int seg = mode >= 3 ? segments[mode - 3][0] : n, seg_stride = mode >= 3 ? segments[mode - 3][1] : n;
        const int ldb = mode >= 3 ? (n / seg + 1) * seg_stride : (tb ? k : n) + 3, ldc = n + 1;
        // The segmented modes draw from their own generator: the later tests' inputs stay as they were.
        std::mt19937 own(m * 131 + n + (mode - 3) * 7919);
        std::mt19937& r = mode >= 3 ? own : rng;
        auto B = random_vec((size_t)(tb ? n : k) * ldb, r);
        auto want = random_vec((size_t)m * ldc, r), got = want;
        if (mode >= 2) {
          // Rows in reverse order inside B's storage: rows[p] = row k − 1 − p.
          std::vector<const float*> rows(k);
          for (int p = 0; p < k; ++p) rows[p] = B.data() + (long)(k - 1 - p) * ldb;
          std::vector<float> Bv((size_t)k * n);  // the matrix the rows describe
          for (int p = 0; p < k; ++p)
            for (int j = 0; j < n; ++j) Bv[(size_t)p * n + j] = rows[p][j / seg * seg_stride + j % seg];
          gemm_ref(ta, false, m, n, k, 0.5f, A.data(), lda, Bv.data(), n, 0.25f, want.data(), ldc);
          sgemm_packed_rows(isa, m, n, k, 0.5f, Ap.data(), rows.data(), seg, seg_stride, 0.25f, got.data(), ldc);
        } else {
          gemm_ref(ta, tb, m, n, k, 0.5f, A.data(), lda, B.data(), ldb, 0.25f, want.data(), ldc);
          sgemm_packed(isa, m, n, k, 0.5f, Ap.data(), tb, B.data(), ldb, 0.25f, got.data(), ldc);
        }
        char name[128];
        std::snprintf(name, sizeof name, "gemm_packed[%s] m=%d n=%d k=%d transA=%d mode=%d", isa_name(isa), m, n, k, ta, mode);
        check_close(name, got, want, 1e-4f, 1e-4f);
      }
    }
  }
}

// Both factors packed (A by sgemm_pack_a, Bᵀ whole by sgemm_pack_bt), products starting at rows
// p0 of the packed B (a tap's window): against gemm_ref on the window, over several k blocks,
// ragged column panels and row tiles. Its own random stream, so later tests' inputs stay put.
static void test_gemm_packed_both(Isa isa) {
  std::mt19937 rng(11);
  const int shapes[][4] = {{64, 40, 600, 37}, {13, 33, 9, 5}, {7, 8, 300, 0}};  // m, n, k, p0
  for (auto& s : shapes) {
    const int m = s[0], n = s[1], k = s[2], p0 = s[3], depth = k + p0 + 3, ldb = depth + 2, ldc = n + 1;
    auto A = random_vec((size_t)m * k, rng), B = random_vec((size_t)n * ldb, rng);  // B: n × depth
    std::vector<float> Ap(sgemm_packed_a_floats(isa, m, k));
    sgemm_pack_a(isa, false, m, k, A.data(), k, Ap.data());
    std::vector<float> Bp(sgemm_packed_bt_floats(isa, n, depth) + 16);
    float* bp = (float*)(((uintptr_t)Bp.data() + 63) & ~(uintptr_t)63);
    sgemm_pack_bt(isa, n, depth, B.data(), ldb, bp);
    auto want = random_vec((size_t)m * ldc, rng), got = want;
    gemm_ref(false, true, m, n, k, 0.5f, A.data(), k, B.data() + p0, ldb, 0.25f, want.data(), ldc);
    sgemm_packed_both(isa, m, n, k, 0.5f, Ap.data(), bp, depth, p0, 0.25f, got.data(), ldc);
    char name[96];
    std::snprintf(name, sizeof name, "gemm_packed_both[%s] m=%d n=%d k=%d p0=%d", isa_name(isa), m, n, k, p0);
    check_close(name, got, want, 1e-4f, 1e-4f);
  }
}

// n, cin, h, w, cout, kh, kw, sh, sw, pt, pb, pl, pr, dh, dw, groups
static const Conv2dParams kConvCases[] = {
    {2, 3, 9, 11, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
    {1, 4, 8, 8, 6, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1},   // pointwise
    {3, 6, 7, 9, 6, 3, 3, 2, 1, 1, 0, 2, 1, 1, 1, 6},   // depthwise, stride in one axis
    {5, 6, 10, 10, 4, 3, 2, 1, 2, 2, 1, 0, 1, 2, 1, 2}, // groups + dilation + asymmetric pad
    {2, 17, 5, 5, 19, 5, 5, 1, 1, 0, 0, 0, 0, 1, 1, 1}, // 1×1 output, odd channels
    {4, 9, 12, 6, 18, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 9}, // depthwise multiplier 2 (grouped path)
    {2, 16, 16, 16, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
    // Split by image: several pixel blocks per image, ragged rows, 8+ items
    {9, 40, 23, 29, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
    {8, 12, 41, 37, 10, 5, 3, 2, 1, 2, 1, 0, 2, 1, 2, 2},  // strides, groups, dilation, pads
    {8, 5, 20, 21, 9, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1},    // pointwise
    {8, 1, 28, 28, 6, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1, 1},    // LeNet's first layer
    // Grid path: asymmetric pads, dilation, groups, 16+ channels per group (dW by taps)
    {8, 40, 19, 23, 12, 3, 3, 1, 1, 2, 1, 1, 2, 2, 1, 2},
    {8, 32, 24, 30, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},    // dW by taps over 8-row items
    {9, 16, 12, 12, 8, 3, 3, 1, 1, 3, 3, 3, 3, 1, 1, 1},   // pad > dil·(k − 1): dx not by grid
    // Runs of small images side by side (4×4 maps: 3×3, pointwise, strided with groups; 2×2 maps)
    {32, 16, 4, 4, 24, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
    {24, 8, 4, 4, 12, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1},
    {16, 8, 7, 7, 8, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 2},
    {24, 16, 2, 2, 20, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},    // 2×2 maps, 3×3 and pointwise
    {20, 12, 2, 2, 10, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1},
    // Taps over padding only: 3×3 on 1×1 (centre), stride 2 on 2×2 (2×2 of 3×3), 5×3 on 1×4
    {6, 24, 1, 1, 10, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
    {5, 12, 2, 2, 14, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1},
    {4, 6, 1, 4, 9, 5, 3, 1, 1, 2, 2, 1, 1, 1, 1, 3},
    {4, 8, 1, 1, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 8},     // depthwise on a 1×1 map
    // One output pixel per image (column rows per image): 1×1 stride 2 on 2×2, grouped 3×3 valid on 3×3
    {7, 10, 2, 2, 12, 1, 1, 2, 2, 0, 0, 0, 0, 1, 1, 1},
    {5, 8, 3, 3, 6, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1, 2},
    // Depthwise by stride phases: row tails past 16 and 32 lanes, both strides, dilation with
    // asymmetric pads, 5×5 and 7×7 (EfficientNet, ConvNeXt), a grid wider than the output
    {3, 5, 17, 35, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 5},
    {2, 7, 19, 23, 7, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 7},
    {2, 4, 21, 18, 4, 5, 5, 2, 3, 2, 1, 3, 0, 2, 1, 4},
    {3, 6, 15, 13, 6, 5, 5, 2, 2, 2, 2, 2, 2, 1, 1, 6},
    {2, 3, 14, 14, 3, 7, 7, 1, 1, 3, 3, 3, 3, 1, 1, 3},
    {5, 9, 4, 4, 9, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 9},
    {2, 6, 9, 11, 6, 3, 3, 1, 1, 0, 0, 0, 0, 2, 2, 6},
    // Depthwise stacks of images: 8 then 3 (stride 1), 7 then 2 (stride 2)
    {11, 3, 30, 30, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 3},
    {9, 2, 33, 33, 2, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 2},
};

// A convolution pass's error bound, in float epsilons of the sum over the absolute values of the
// terms each output adds (the reference run on |x|, |w|, |dy|). The paths sum in float, in blocks
// and orders of their own: the worst case over every case, path and thread count on the scalar,
// AVX2 and AVX-512 kernels was 2.8 units (forward 2.5, dx 2.8, dW 2.2, db 1.0), and NEON's pass
// under it too. A 0.01% error in one tap of dW fails 1,011 cases at this bound; at the fixed
// 1e-3 + 1e-4·|want| it replaced, none.
constexpr double kConvErrorUnits = 16;

// One case against conv2d_ref, all three passes; returns the paths they took.
static void check_conv(const Conv2dParams& p, int threads, const std::string& label, std::mt19937& rng,
                       ConvAlgo ran[3]) {
  const size_t xs = (size_t)p.n * p.c_in * p.h * p.w;
  const size_t ws = (size_t)p.c_out * (p.c_in / p.groups) * p.kh * p.kw;
  const size_t ys = (size_t)p.n * p.c_out * p.out_h() * p.out_w();
  auto x = random_vec(xs, rng), w = random_vec(ws, rng), b = random_vec(p.c_out, rng);
  auto dy = random_vec(ys, rng);
  const auto ax = abs_of(x), aw = abs_of(w), ab = abs_of(b), ady = abs_of(dy);
  const ConvPass passes[3] = {ConvPass::Forward, ConvPass::BackwardInput, ConvPass::BackwardWeight};
  for (int i = 0; i < 3; ++i) ran[i] = conv2d_algo(p, passes[i], threads);
  char name[200];
  std::snprintf(name, sizeof name, "conv[%s] cin=%d cout=%d %dx%d k%dx%d s%d,%d g%d threads=%d paths %s/%s/%s",
                label.c_str(), p.c_in, p.c_out, p.h, p.w, p.kh, p.kw, p.stride_h, p.stride_w, p.groups, threads,
                conv_algo_name(ran[0]), conv_algo_name(ran[1]), conv_algo_name(ran[2]));
  std::vector<float> y_ref(ys), y(ys), y_scale(ys), dx_ref(xs), dx(xs), dx_scale(xs), dw_ref(ws), dw(ws), dw_scale(ws),
      db_ref(p.c_out), db(p.c_out), db_scale(p.c_out);
  conv2d_ref_forward(p, x.data(), w.data(), b.data(), y_ref.data());
  conv2d_ref_forward(p, ax.data(), aw.data(), ab.data(), y_scale.data());
  conv2d_forward(p, x.data(), w.data(), b.data(), y.data(), threads);
  check_eps_units(std::string(name) + " forward", y, y_ref, y_scale, kConvErrorUnits);
  // The epilogue equals the reference plus the residual, clamped: with a bias and a residual
  // (ReLU6-like both sides), without either (ReLU's open top), with a residual alone.
  const auto residual = random_vec(ys, rng);
  struct { bool bias, residual; float lo, hi; } epilogues[] = {{true, true, 0.0f, 0.5f}, {false, false, 0.0f, INFINITY},
                                                               {false, true, -INFINITY, INFINITY}};
  for (const auto& c : epilogues) {
    const float* bias = c.bias ? b.data() : nullptr;
    ConvEpilogue e;
    e.lo = c.lo, e.hi = c.hi, e.residual = c.residual ? residual.data() : nullptr;
    conv2d_ref_forward(p, x.data(), w.data(), bias, y_ref.data());
    conv2d_ref_forward(p, ax.data(), aw.data(), c.bias ? ab.data() : nullptr, y_scale.data());
    for (size_t i = 0; i < ys; ++i) {
      y_ref[i] = std::min(std::max(y_ref[i] + (c.residual ? residual[i] : 0.0f), c.lo), c.hi);
      if (c.residual) y_scale[i] += std::fabs(residual[i]);
    }
    conv2d_forward(p, x.data(), w.data(), bias, y.data(), threads, e);
    check_eps_units(std::string(name) + " forward epilogue bias=" + std::to_string(c.bias) + " residual=" + std::to_string(c.residual),
                    y, y_ref, y_scale, kConvErrorUnits);
  }
  conv2d_ref_backward_input(p, dy.data(), w.data(), dx_ref.data());
  conv2d_ref_backward_input(p, ady.data(), aw.data(), dx_scale.data());
  conv2d_backward_input(p, dy.data(), w.data(), dx.data(), threads);
  check_eps_units(std::string(name) + " dx", dx, dx_ref, dx_scale, kConvErrorUnits);
  conv2d_ref_backward_weight(p, x.data(), dy.data(), dw_ref.data(), db_ref.data());
  conv2d_ref_backward_weight(p, ax.data(), ady.data(), dw_scale.data(), db_scale.data());
  conv2d_backward_weight(p, x.data(), dy.data(), dw.data(), db.data(), threads);
  check_eps_units(std::string(name) + " dw", dw, dw_ref, dw_scale, kConvErrorUnits);
  check_eps_units(std::string(name) + " db", db, db_ref, db_scale, kConvErrorUnits);
}

static void test_conv(Isa isa, std::mt19937& rng) {
  ConvAlgo ran[3];
  for (const auto& p : kConvCases)
    for (int threads : {1, 2, 4}) check_conv(p, threads, isa_name(isa), rng, ran);
}

// Each case on the paths that build column matrices (auto, by-image, batched) at each thread count.
template <size_t N>
static void check_conv_paths(const Conv2dParams (&cases)[N], std::initializer_list<int> thread_counts, const std::string& label,
                             std::mt19937& rng) {
  for (ConvAlgo algo : {ConvAlgo::Auto, ConvAlgo::ByImage, ConvAlgo::Batched}) {
    set_conv_algo(algo);
    ConvAlgo ran[3];
    for (const auto& p : cases)
      for (int threads : thread_counts) check_conv(p, threads, label + " " + conv_algo_name(algo), rng, ran);
  }
  set_conv_algo(ConvAlgo::Auto);
}

// The epilogue's ISA loop (epilogue_rows.h) against work.h's scalar clamp: runs of 0-40 floats
// (whole vectors and tails), with and without the residual, in place and not, unclamped, ReLU and
// ReLU6; NaN passes the clamp.
static void test_epilogue_rows(Isa isa) {
  const EpilogueRows& K = epilogue_rows_for(isa);
  std::mt19937 rng(41);
  const float inf = INFINITY, clamps[][2] = {{-inf, inf}, {0, inf}, {0, 6}};
  int bad = 0;
  for (long n = 0; n <= 40; ++n)
    for (const auto& c : clamps)
      for (int with_res = 0; with_res < 2; ++with_res)
        for (int in_place = 0; in_place < 2; ++in_place) {
          std::vector<float> src = random_vec(n + 1, rng), res = random_vec(n + 1, rng);
          for (float& v : src) v *= 10;
          if (n > 3) src[3] = NAN;
          std::vector<float> want(n + 1, 7.0f), got(n + 1, 7.0f);
          for (long q = 0; q < n; ++q) want[q] = clamp_to(with_res ? src[q] + 0.25f + res[q] : src[q] + 0.25f, c[0], c[1]);
          float* dst = in_place ? src.data() : got.data();
          K.run(dst, src.data(), n, 0.25f, with_res ? res.data() : nullptr, c[0], c[1]);
          if (in_place) { got.assign(src.begin(), src.begin() + n); got.push_back(7.0f); }
          if (std::memcmp(got.data(), want.data(), sizeof(float) * (n + 1)) != 0) ++bad;
        }
  if (bad == 0) ++g_pass;
  else { std::printf("FAIL epilogue_rows[%s]: %d runs not the scalar clamp's bits\n", isa_name(isa), bad); ++g_fail; }
}

// A pointwise forward pass by image reading its input through a map (conv2d_forward_by_image's
// ConvInputMap: DenseNet's norm1 → relu1 → conv1) against the reference on the mapped leading
// channels: runs of small images (2×2, 4×4, 8×8 maps; ragged on one thread), one image an item
// (17×19), images a wider stride apart, odd channels, with and without clamps and bias, at 1-3 threads; 3×3 and
// grouped layers declined. Its own random stream, so the later tests' inputs stay as they were.
static void test_conv_mapped(Isa isa) {
  std::mt19937 rng(29);
  const int shapes[][6] = {{14, 13, 2, 2, 11, 20}, {14, 24, 4, 4, 17, 24}, {14, 9, 8, 8, 33, 9}, {12, 21, 17, 19, 10, 30}};
  for (const auto& sh : shapes) {
    const Conv2dParams p{sh[0], sh[1], sh[2], sh[3], sh[4], 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1};
    const long plane = (long)p.h * p.w, stride = sh[5] * plane;
    const auto x = random_vec((size_t)(p.n * stride), rng), w = random_vec((size_t)p.c_out * p.c_in, rng), b = random_vec(p.c_out, rng),
               scale = random_vec(p.c_in, rng), shift = random_vec(p.c_in, rng);
    for (int threads : {1, 2, 3})
      for (int variant = 0; variant < 2; ++variant) {
        const float lo = variant ? 0.0f : -INFINITY, hi = variant ? 0.75f : INFINITY;
        const ConvInputMap in{scale.data(), shift.data(), lo, hi, stride};
        std::vector<float> mapped((size_t)p.n * p.c_in * plane), want((size_t)p.n * p.c_out * plane), got(want.size(), NAN);
        for (int i = 0; i < p.n; ++i)
          for (int c = 0; c < p.c_in; ++c)
            for (long q = 0; q < plane; ++q)
              mapped[(i * p.c_in + c) * plane + q] = std::min(std::max(x[i * stride + c * plane + q] * scale[c] + shift[c], lo), hi);
        conv2d_ref_forward(p, mapped.data(), w.data(), variant ? b.data() : nullptr, want.data());
        ConvEpilogue e;
        if (variant) {
          e.lo = 0.0f;
          for (auto& v : want) v = std::max(v, 0.0f);
        }
        char name[160];
        std::snprintf(name, sizeof name, "mapped by image[%s] n=%d cin=%d %dx%d cout=%d threads=%d variant=%d", isa_name(isa), p.n, p.c_in,
                      p.h, p.w, p.c_out, threads, variant);
        if (!conv2d_forward_by_image(p, x.data(), w.data(), variant ? b.data() : nullptr, got.data(), threads, e, nullptr, &in)) {
          std::printf("FAIL %s: declined\n", name);
          ++g_fail;
          continue;
        }
        check_close(name, got, want, 1e-4f, 1e-4f);
      }
  }
  Conv2dParams spatial{4, 8, 8, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1}, grouped{4, 8, 8, 8, 8, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 2};
  std::vector<float> ones(8192, 1.0f), y(2048, 7.0f);
  const ConvInputMap in{ones.data(), ones.data(), -INFINITY, INFINITY, 512};
  for (const auto& p : {spatial, grouped})
    if (!conv2d_forward_by_image(p, ones.data(), ones.data(), nullptr, y.data(), 1, {}, nullptr, &in) && y == std::vector<float>(2048, 7.0f)) ++g_pass;
    else { std::printf("FAIL mapped by image[%s] took k%d groups %d\n", isa_name(isa), p.kh, p.groups); ++g_fail; }
}

// The channels-in-lanes loops (conv_lanes.h) against the reference on every row width they take
// (1-8; 1 only by a direct call: the path's callers cut a 1-wide map's outer taps first), one
// and several rows (the first and last skip a kernel row), ragged tiles of images, channel
// blocks with a partial last one, each epilogue, at 1-3 threads; and Auto takes them for
// DenseNet's 3×3 layers (128 → 32 on 8×8, 4×4). Its own random stream, so the later tests'
// inputs stay as they were.
static void test_conv_lanes(Isa isa) {
  std::mt19937 rng(23);
  const int shapes[][5] = {{3, 5, 1, 1, 7},  {5, 6, 2, 2, 33}, {7, 9, 3, 3, 20}, {4, 3, 4, 4, 40}, {3, 7, 5, 5, 17},
                           {2, 4, 6, 6, 36}, {3, 8, 7, 7, 9},  {2, 10, 8, 8, 32}, {5, 4, 1, 8, 16}, {13, 3, 2, 2, 65}};
  for (const auto& s : shapes) {
    const Conv2dParams p{s[0], s[1], s[2], s[3], s[4], 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    const size_t ys = (size_t)p.n * p.c_out * p.h * p.w;
    const auto x = random_vec((size_t)p.n * p.c_in * p.h * p.w, rng), w = random_vec((size_t)p.c_out * p.c_in * 9, rng),
               b = random_vec(p.c_out, rng), residual = random_vec(ys, rng);
    struct { bool bias, residual; float lo, hi; } epilogues[] = {
        {true, false, -INFINITY, INFINITY}, {true, true, 0.0f, 0.5f}, {false, false, 0.0f, INFINITY}, {false, true, -INFINITY, INFINITY}};
    for (int threads : {1, 2, 3})
      for (const auto& c : epilogues) {
        std::vector<float> y_ref(ys), y(ys, NAN);
        conv2d_ref_forward(p, x.data(), w.data(), c.bias ? b.data() : nullptr, y_ref.data());
        for (size_t i = 0; i < ys; ++i) y_ref[i] = std::min(std::max(y_ref[i] + (c.residual ? residual[i] : 0.0f), c.lo), c.hi);
        ConvEpilogue e;
        e.lo = c.lo, e.hi = c.hi, e.residual = c.residual ? residual.data() : nullptr;
        char name[160];
        std::snprintf(name, sizeof name, "lanes[%s] n=%d cin=%d %dx%d cout=%d threads=%d bias=%d residual=%d clamp=%g..%g", isa_name(isa),
                      p.n, p.c_in, p.h, p.w, p.c_out, threads, c.bias, c.residual, c.lo, c.hi);
        if (!conv2d_forward_lanes(p, x.data(), w.data(), c.bias ? b.data() : nullptr, y.data(), threads, e)) {
          std::printf("FAIL %s: declined\n", name);
          ++g_fail;
          continue;
        }
        check_close(name, y, y_ref, 1e-4f, 1e-4f);
      }
    // The input gradient as the forward pass it is (its own random stream: the shapes' inputs stay as they were).
    std::mt19937 rng_dy(41);
    const auto dy = random_vec(ys, rng_dy);
    std::vector<float> dx_ref(x.size());
    conv2d_ref_backward_input(p, dy.data(), w.data(), dx_ref.data());
    for (int threads : {1, 2, 3}) {
      std::vector<float> dx(x.size(), NAN);
      char name[160];
      std::snprintf(name, sizeof name, "lanes input gradient[%s] n=%d cin=%d %dx%d cout=%d threads=%d", isa_name(isa), p.n, p.c_in, p.h,
                    p.w, p.c_out, threads);
      if (!conv2d_backward_input_lanes(p, dy.data(), w.data(), dx.data(), threads)) {
        std::printf("FAIL %s: declined\n", name);
        ++g_fail;
        continue;
      }
      check_close(name, dx, dx_ref, 1e-4f, 1e-4f);
    }
  }
  Conv2dParams wide{2, 4, 9, 9, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1}, strided = wide, grouped = wide;
  // Groups of 2 output channels: no block of lanes lies inside one group on any ISA. Stride 2 on an
  // odd map: the loops read every last pixel's third tap.
  Conv2dParams odd = wide;
  strided.h = strided.w = 8, strided.stride_w = 2, grouped.h = grouped.w = 8, grouped.groups = 4;
  odd.h = odd.w = 7, odd.stride_h = odd.stride_w = 2;
  std::vector<float> none(4096, 1.0f);
  for (const auto& p : {wide, strided, grouped, odd})
    if (conv_lanes_fits(p) || conv2d_forward_lanes(p, none.data(), none.data(), nullptr, none.data(), 1) ||
        conv2d_backward_input_lanes(p, none.data(), none.data(), none.data(), 1)) {
      std::printf("FAIL lanes[%s] took %dx%d stride %d groups %d\n", isa_name(isa), p.h, p.w, p.stride_w, p.groups);
      ++g_fail;
    } else ++g_pass;
  // AVX2's rows of 8 pixels, one vector of channels a tile, lost to the direct loops.
  for (int hw : {8, 4}) {
    const Conv2dParams p{128, 128, hw, hw, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    if ((conv2d_algo(p, ConvPass::Forward, 2) == ConvAlgo::Lanes) == (hw == 4 || isa == Isa::Avx512)) ++g_pass;
    else { std::printf("FAIL lanes[%s]: Auto took %s for 128 -> 32 on %dx%d\n", isa_name(isa), conv_algo_name(conv2d_algo(p, ConvPass::Forward, 2)), hw, hw); ++g_fail; }
  }
  // ResNet's last stage at 224 (512 channels on 7×7): its input gradient goes by the lanes on AVX-512.
  const Conv2dParams last{8, 512, 7, 7, 512, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1};
  if ((conv2d_algo(last, ConvPass::BackwardInput, 2) == ConvAlgo::Lanes) == (isa == Isa::Avx512)) ++g_pass;
  else { std::printf("FAIL lanes[%s]: Auto took %s for the input gradient of 512 on 7x7\n", isa_name(isa), conv_algo_name(conv2d_algo(last, ConvPass::BackwardInput, 2))); ++g_fail; }
}

// Grouped layers whose groups are whole blocks of lanes (one or two vectors of output channels a
// group: RegNet's groups of 8 on AVX2) take the channels-in-lanes loops forward, each block reading
// its own group's input channels, at stride 1 and, on even maps, 2 (ungrouped layers too, and odd
// channel counts), with and without a residual at 1-3 threads; their input gradient is declined.
static void test_conv_lanes_grouped(Isa isa) {
  std::mt19937 rng(43);
  const int L = lanes_rows_for(isa).lanes;
  // n, cig, output side, cog (in vectors, or a channel count where groups is 1), groups, stride
  const int shapes[][6] = {{3, 5, 4, 1, 3, 1}, {2, 3, 8, 2, 2, 1}, {5, 4, 1, 1, 2, 1}, {4, 2, 7, 2, 3, 1}, {3, 6, 2, 1, 4, 1},
                           {3, 5, 4, 1, 3, 2}, {2, 3, 8, 2, 2, 2}, {5, 4, 1, 1, 2, 2}, {4, 2, 7, 2, 3, 2}, {2, 7, 4, 21, 1, 2},
                           {3, 4, 8, 37, 1, 2}};
  for (const auto& s : shapes) {
    const int groups = s[4], stride = s[5], side = s[2] * stride, cog = groups == 1 ? s[3] : s[3] * L;
    const Conv2dParams p{s[0], s[1] * groups, side, side, cog * groups, 3, 3, stride, stride, 1, 1, 1, 1, 1, 1, groups};
    const size_t ys = (size_t)p.n * p.c_out * p.out_h() * p.out_w();
    const auto x = random_vec((size_t)p.n * p.c_in * p.h * p.w, rng), w = random_vec((size_t)p.c_out * s[1] * 9, rng),
               b = random_vec(p.c_out, rng), residual = random_vec(ys, rng);
    for (int threads : {1, 2, 3})
      for (bool with_residual : {false, true}) {
        std::vector<float> y_ref(ys), y(ys, NAN);
        conv2d_ref_forward(p, x.data(), w.data(), b.data(), y_ref.data());
        for (size_t i = 0; i < ys; ++i) y_ref[i] = std::max(y_ref[i] + (with_residual ? residual[i] : 0.0f), 0.0f);
        ConvEpilogue e;
        e.lo = 0.0f, e.residual = with_residual ? residual.data() : nullptr;
        char name[160];
        std::snprintf(name, sizeof name, "lanes grouped[%s] n=%d cin=%d %dx%d cout=%d groups=%d stride=%d threads=%d residual=%d",
                      isa_name(isa), p.n, p.c_in, p.h, p.w, p.c_out, groups, stride, threads, with_residual);
        if (!conv_lanes_fits(p) || !conv2d_forward_lanes(p, x.data(), w.data(), b.data(), y.data(), threads, e)) {
          std::printf("FAIL %s: declined\n", name);
          ++g_fail;
          continue;
        }
        check_close(name, y, y_ref, 1e-4f, 1e-4f);
      }
    if (groups == 1) continue;  // ungrouped stride 2: no input gradient as a forward pass at all
    std::vector<float> none(x.size() + ys + w.size(), 1.0f);
    if (conv2d_backward_input_lanes(p, none.data(), none.data(), none.data(), 1) ||
        conv2d_algo(p, ConvPass::BackwardInput, 2) == ConvAlgo::Lanes) {
      std::printf("FAIL lanes grouped[%s]: took the input gradient of groups=%d\n", isa_name(isa), groups);
      ++g_fail;
    } else ++g_pass;
  }
  // RegNetY-400MF's 104 channels in groups of 8 on 4×4 maps: Auto takes the lanes where groups are whole blocks
  // (one AVX2 vector, two baseline ones; never AVX-512's 16 lanes).
  const Conv2dParams regnet{128, 104, 4, 4, 104, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 13};
  if ((conv2d_algo(regnet, ConvPass::Forward, 2) == ConvAlgo::Lanes) == (isa != Isa::Avx512)) ++g_pass;
  else { std::printf("FAIL lanes grouped[%s]: Auto took %s for RegNet's 104 in groups of 8 on 4x4\n", isa_name(isa), conv_algo_name(conv2d_algo(regnet, ConvPass::Forward, 2))); ++g_fail; }
}

// The grid over runs of small images, their padded rows interleaved (conv_grid.cc; where the ISA
// gathers columns in registers, AVX-512): a ragged last run (7 images of 7×7 in runs of 4),
// dilation with asymmetric pads and groups, 4×4 maps, odd channel counts above the direct loops'; every
// pass and epilogue at 1-3 threads. On AVX-512 the forward and input-gradient passes must take
// the grid, or the channels-in-lanes loops where those fit (the grid then checked pinned). Its own
// random stream, so the later tests' inputs stay as they were.
static void test_conv_grid_runs(Isa isa) {
  std::mt19937 rng(17);
  const Conv2dParams cases[] = {{7, 35, 7, 7, 37, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
                                {5, 68, 5, 6, 70, 3, 3, 1, 1, 2, 1, 1, 2, 2, 1, 2},
                                {10, 33, 4, 4, 34, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1}};
  for (const auto& p : cases)
    for (int threads : {1, 2, 3}) {
      ConvAlgo ran[3];
      check_conv(p, threads, std::string(isa_name(isa)) + " grid runs", rng, ran);
      if (isa != Isa::Avx512) continue;
      // The forward and input-gradient passes on 3×3 rows of up to 8 pixels go by the
      // channels-in-lanes loops: the grid's are then checked pinned.
      const bool lanes = conv_lanes_fits(p);
      bool pinned_grid = true;
      if (lanes) {
        set_conv_algo(ConvAlgo::Grid);
        ConvAlgo pinned[3];
        check_conv(p, threads, std::string(isa_name(isa)) + " grid runs pinned", rng, pinned);
        set_conv_algo(ConvAlgo::Auto);
        pinned_grid = pinned[0] == ConvAlgo::Grid && pinned[1] == ConvAlgo::Grid;
      }
      char name[120];
      std::snprintf(name, sizeof name, "grid runs[%s] cin=%d %dx%d n=%d threads=%d take the grid", isa_name(isa), p.c_in, p.h, p.w,
                    p.n, threads);
      const ConvAlgo want = lanes ? ConvAlgo::Lanes : ConvAlgo::Grid;
      if (ran[0] == want && ran[1] == want && pinned_grid) ++g_pass;
      else { std::printf("FAIL %s: paths %s/%s\n", name, conv_algo_name(ran[0]), conv_algo_name(ran[1])); ++g_fail; }
    }
}

// sgemm_prepacked (the active ISA) with op(B) packed whole by sgemm_prepack_b gives sgemm's bits:
// ragged panels, several k and column blocks (n and k past the ISA's nc and kc), transB both ways,
// beta 0 and 1, 1-3 threads; doubled, the packing shows it was multiplied; another ISA's, or a copy
// at another alignment, is ignored (sgemm packs B itself).
static void test_gemm_prepacked(Isa isa) {
  std::mt19937 rng(29);
  const GemmKernel& K = gemm_kernel_for(isa);
  const int shapes[][3] = {{5, 7, 3}, {37, 100, 61}, {64, 2 * K.nc + 40, 96}, {50, 70, 3 * K.kc + 17}};
  for (const auto& s : shapes)
    for (bool tb : {true, false})
      for (float beta : {0.0f, 1.0f})
        for (int threads : {1, 2, 3}) {
          const int m = s[0], n = s[1], k = s[2], ldb = tb ? k : n;
          auto A = random_vec((size_t)m * k, rng), B = random_vec((size_t)n * k, rng), C0 = random_vec((size_t)m * n, rng);
          std::vector<float> packed(sgemm_prepacked_b_floats(isa, n, k) + 1);  // one to spare: a copy one float on
          sgemm_prepack_b(isa, tb, n, k, B.data(), ldb, packed.data());
          std::vector<float> want = C0, got = C0;
          sgemm(false, tb, m, n, k, 1.0f, A.data(), k, B.data(), ldb, beta, want.data(), n, threads);
          sgemm_prepacked(false, tb, m, n, k, 1.0f, A.data(), k, B.data(), ldb, packed.data(), beta, got.data(), n, threads);
          char name[160];
          std::snprintf(name, sizeof name, "gemm prepacked[%s] %dx%dx%d transB=%d beta=%g threads=%d", isa_name(isa), m, n, k, tb, beta, threads);
          check_close(std::string(name) + " equal bits", got, want, 0.0f, 0.0f);
          for (size_t i = 0; i + 2 < packed.size(); ++i) packed[i] *= 2.0f;  // in place: the tag holds its alignment
          got = C0;
          sgemm_prepacked(false, tb, m, n, k, 1.0f, A.data(), k, B.data(), ldb, packed.data(), beta, got.data(), n, threads);
          if (got == want) std::printf("FAIL %s: the packing was not used\n", name), ++g_fail;
          else ++g_pass;
          sgemm_prepack_b(isa, tb, n, k, B.data(), ldb, packed.data());
          std::vector<float> shifted(packed.size());
          std::copy(packed.begin(), packed.end() - 1, shifted.begin() + 1);  // the same floats one further on
          got = C0;
          sgemm_prepacked(false, tb, m, n, k, 1.0f, A.data(), k, B.data(), ldb, shifted.data() + 1, beta, got.data(), n, threads);
          check_close(std::string(name) + " a copy at another alignment ignored", got, want, 0.0f, 0.0f);
          packed[packed.size() - 2] += 16.0f;  // another ISA's tag
          got = C0;
          sgemm_prepacked(false, tb, m, n, k, 1.0f, A.data(), k, B.data(), ldb, packed.data(), beta, got.data(), n, threads);
          check_close(std::string(name) + " another ISA's packing ignored", got, want, 0.0f, 0.0f);
        }
}

// Eval's cached packed weights (conv2d_pack_weights) on the by-image and grid forward paths, and
// on the batched one for pointwise or strided layers with fewer columns than output channels
// (shared out by rows), give the bits of the call that packs its own, with the epilogue, grouped,
// at 1-3 threads; packed for another ISA (the tag), they are ignored and the call packs its own
// (doubled, they show which weights a call multiplied); where the path is none of those,
// conv2d_packed_weights_floats is 0.
static void test_conv_packed_weights(Isa isa) {
  std::mt19937 rng(23);
  const Conv2dParams cases[] = {{6, 24, 16, 16, 24, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1},  // by image (stride 2)
                                {8, 40, 4, 4, 36, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1},    // by image, pointwise runs
                                {4, 32, 8, 8, 48, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 2},    // by image, 2 groups
                                {7, 35, 7, 7, 37, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},    // the grid (AVX-512)
                                {5, 68, 5, 6, 70, 3, 3, 1, 1, 2, 1, 1, 2, 2, 1, 2},    // the grid, dilated, 2 groups
                                {1, 320, 7, 7, 1280, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1},  // batched by rows (batch 1)
                                {1, 48, 9, 9, 140, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 2}};  // strided, 2 groups
  for (const auto& p : cases)
    for (int threads : {1, 2, 3}) {
      const size_t ys = (size_t)p.n * p.c_out * p.out_h() * p.out_w();
      auto x = random_vec((size_t)p.n * p.c_in * p.h * p.w, rng), w = random_vec((size_t)p.c_out * (p.c_in / p.groups) * p.kh * p.kw, rng);
      auto b = random_vec(p.c_out, rng), residual = random_vec(ys, rng);
      const ConvAlgo algo = conv2d_algo(p, ConvPass::Forward, threads, true);
      const long floats = conv2d_packed_weights_floats(p, threads);
      char name[160];
      std::snprintf(name, sizeof name, "packed weights[%s] cin=%d cout=%d %dx%d g%d threads=%d path %s", isa_name(isa), p.c_in, p.c_out,
                    p.h, p.w, p.groups, threads, conv_algo_name(algo));
      const bool few_columns = (long)p.n * p.out_h() * p.out_w() < p.c_out / p.groups && p.out_h() * p.out_w() > 1;
      const bool by_rows = algo == ConvAlgo::Batched && few_columns && (p.pointwise() || p.stride_h > 1);
      const bool packs = algo == ConvAlgo::ByImage || algo == ConvAlgo::Grid || by_rows;
      if ((floats > 0) != packs) { std::printf("FAIL %s: %ld floats\n", name, floats); ++g_fail; continue; }
      ++g_pass;
      if (!packs) continue;
      std::vector<float> packed(floats);
      conv2d_pack_weights(p, w.data(), packed.data());
      ConvEpilogue e;
      e.lo = 0.0f, e.hi = 0.5f, e.residual = residual.data();
      std::vector<float> want(ys), got(ys, NAN), other(ys, NAN);
      conv2d_forward(p, x.data(), w.data(), b.data(), want.data(), threads, e);
      conv2d_forward(p, x.data(), w.data(), b.data(), got.data(), threads, e, {nullptr, nullptr, nullptr, packed.data()});
      check_close(std::string(name) + " equal bits", got, want, 0.0f, 0.0f);
      // Doubled packed weights change the output: the call multiplied them, not w.
      for (long i = 0; i + 1 < floats; ++i) packed[i] *= 2.0f;
      conv2d_forward(p, x.data(), w.data(), b.data(), other.data(), threads, e, {nullptr, nullptr, nullptr, packed.data()});
      if (other == want) { std::printf("FAIL %s: the packed weights were not used\n", name); ++g_fail; }
      else ++g_pass;
      packed.back() += 16.0f;  // another ISA's tag
      conv2d_forward(p, x.data(), w.data(), b.data(), other.data(), threads, e, {nullptr, nullptr, nullptr, packed.data()});
      check_close(std::string(name) + " another ISA's packing ignored", other, want, 0.0f, 0.0f);
    }
}

// The batched path's stride-1 forward pass over a chunk's padded images (conv2d_forward_grid_batched,
// AVX-512; elsewhere it declines) against conv2d_ref with each epilogue: 7×7 maps of odd channel
// counts, dilation with asymmetric pads and groups, 2×2 maps (16 columns span 8 rows), 1-3 threads.
static void test_conv_grid_batched(Isa isa) {
  std::mt19937 rng(19);
  const Conv2dParams cases[] = {{5, 37, 7, 7, 29, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
                                {4, 24, 6, 5, 18, 3, 3, 1, 1, 2, 1, 1, 2, 2, 1, 2},
                                {9, 20, 2, 2, 13, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1}};
  for (const auto& p : cases)
    for (int threads : {1, 2, 3}) {
      const size_t ys = (size_t)p.n * p.c_out * p.out_h() * p.out_w();
      auto x = random_vec((size_t)p.n * p.c_in * p.h * p.w, rng), w = random_vec((size_t)p.c_out * (p.c_in / p.groups) * p.kh * p.kw, rng);
      auto b = random_vec(p.c_out, rng), residual = random_vec(ys, rng);
      struct { bool bias, residual; float lo, hi; } epilogues[] = {{false, false, -INFINITY, INFINITY}, {true, true, 0.0f, 0.5f}, {true, false, 0.0f, INFINITY}};
      for (const auto& c : epilogues) {
        ConvEpilogue e;
        e.lo = c.lo, e.hi = c.hi, e.residual = c.residual ? residual.data() : nullptr;
        std::vector<float> want(ys), got(ys, NAN);
        conv2d_ref_forward(p, x.data(), w.data(), c.bias ? b.data() : nullptr, want.data());
        for (size_t i = 0; i < ys; ++i) want[i] = std::min(std::max(want[i] + (c.residual ? residual[i] : 0.0f), c.lo), c.hi);
        char name[160];
        std::snprintf(name, sizeof name, "grid batched[%s] cin=%d cout=%d %dx%d g%d threads=%d bias=%d residual=%d", isa_name(isa), p.c_in,
                      p.c_out, p.h, p.w, p.groups, threads, c.bias, c.residual);
        const bool ran = conv2d_forward_grid_batched(p, x.data(), w.data(), c.bias ? b.data() : nullptr, got.data(), threads, e);
        if (ran != (isa == Isa::Avx512)) { std::printf("FAIL %s: ran=%d\n", name, ran); ++g_fail; continue; }
        if (ran) check_close(name, got, want, 1e-4f, 1e-4f);
        else ++g_pass;
      }
    }
}

// The batched path's stride-1 weight gradient packed straight from a chunk's padded rows
// (conv2d_backward_weight_grid_batched, every ISA) against conv2d_ref: 7×7 maps of odd channel
// counts whose product's k-blocks end mid-row, dilation with asymmetric pads and groups, 2×2 maps;
// each in one chunk and in chunks of 2 images (the later ones adding to dW), 1-3 threads.
static void test_conv_grid_batched_weight(Isa isa) {
  std::mt19937 rng(23);
  const Conv2dParams cases[] = {{9, 37, 7, 7, 29, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
                                {5, 24, 6, 5, 18, 3, 3, 1, 1, 2, 1, 1, 2, 2, 1, 2},
                                {9, 20, 2, 2, 13, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1}};
  for (const auto& p : cases) {
    const size_t ys = (size_t)p.n * p.c_out * p.out_h() * p.out_w(), ws = (size_t)p.c_out * (p.c_in / p.groups) * p.kh * p.kw;
    auto x = random_vec((size_t)p.n * p.c_in * p.h * p.w, rng), dy = random_vec(ys, rng);
    std::vector<float> want(ws), db(p.c_out);
    conv2d_ref_backward_weight(p, x.data(), dy.data(), want.data(), db.data());
    const long two_images = 2L * (p.c_in / p.groups) * (p.h + p.pad_t + p.pad_b) * (p.w + p.pad_l + p.pad_r);
    for (long chunk : {0L, two_images})
      for (int threads : {1, 2, 3}) {
        std::vector<float> got(ws, NAN);
        char name[160];
        std::snprintf(name, sizeof name, "grid batched weight[%s] cin=%d cout=%d %dx%d g%d chunk=%ld threads=%d", isa_name(isa),
                      p.c_in, p.c_out, p.h, p.w, p.groups, chunk, threads);
        if (!conv2d_backward_weight_grid_batched(p, x.data(), dy.data(), got.data(), threads, chunk)) {
          std::printf("FAIL %s: declined\n", name);
          ++g_fail;
          continue;
        }
        check_close(name, got, want, 1e-4f, 1e-4f);
      }
  }
}

// Stride 2 across rows wide enough (OW >= 16) for the row-segment im2col and col2im (vector
// gathers and scatter-adds): one pad side 0, the other 2, and a dilated case; on each path that
// uses them. Its own random stream, so the later tests' inputs stay as they were.
static void test_conv_stride2(Isa isa) {
  std::mt19937 rng(7);
  const Conv2dParams cases[] = {{4, 5, 35, 37, 7, 3, 3, 2, 2, 1, 1, 0, 2, 1, 1, 1},
                                {3, 4, 30, 44, 6, 3, 3, 2, 2, 2, 1, 2, 1, 2, 2, 1}};
  check_conv_paths(cases, {1, 2}, isa_name(isa), rng);
}

// 1×1 convolutions over runs of small images, multiplied where the planes lie (B's rows an image
// apart, conv_by_image.cc): 2×2 and 4×4 maps (MobileNetV2's at 3×32×32), grouped, 3×3 maps whose
// planes straddle the 32-column panels, and a ragged last run; on each path that builds columns,
// 1 to 3 threads. Its own random stream, so the later tests' inputs stay as they were.
static void test_conv_pointwise_runs(Isa isa) {
  std::mt19937 rng(13);
  // n, cin, h, w, cout, kh, kw, sh, sw, pt, pb, pl, pr, dh, dw, groups
  const Conv2dParams cases[] = {{40, 24, 2, 2, 36, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1},
                                {24, 20, 4, 4, 13, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1},
                                {16, 12, 2, 2, 8, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 4},
                                {18, 10, 3, 3, 14, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1},
                                {37, 9, 2, 2, 11, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1}};
  check_conv_paths(cases, {1, 2, 3}, isa_name(isa), rng);
}

// ResNet's small maps at CIFAR sizes and their neighbours, whose column matrices come from whole
// planes in one vector or by rows (conv/columns_small.h): 3×3 on 4×4 and 2×2, stride 2 from 4×4,
// the 1×1 stride-2 downsample, 3×3 maps (partial vectors), 5×5 kernels, dilation, groups,
// asymmetric padding, 8×8 maps, stride 2 from 8×8, the 7×7 stride-2 stem, more images than a run; on each path that builds columns, 1 to 3 threads. Its own
// random stream, so the later tests' inputs stay as they were.
static void test_conv_small_planes(Isa isa) {
  std::mt19937 rng(11);
  const Conv2dParams cases[] = {{19, 24, 4, 4, 20, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
                                {21, 20, 2, 2, 24, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
                                {17, 16, 4, 4, 24, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1},
                                {18, 16, 4, 4, 20, 1, 1, 2, 2, 0, 0, 0, 0, 1, 1, 1},
                                {9, 12, 3, 3, 14, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2},
                                {7, 10, 4, 4, 12, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1, 1},
                                {8, 8, 4, 4, 16, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 2},
                                {6, 6, 3, 5, 8, 3, 3, 1, 1, 0, 1, 2, 1, 1, 1, 1},
                                // by rows: 8×8 maps, stride 2 from 8×8, the 7×7 stride-2 stem
                                {10, 16, 8, 8, 20, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
                                {9, 12, 8, 8, 24, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1},
                                {3, 3, 32, 32, 16, 7, 7, 2, 2, 3, 3, 3, 3, 1, 1, 1}};
  check_conv_paths(cases, {1, 2, 3}, std::string(isa_name(isa)) + " small planes", rng);
}

// Kernels cut to the taps that reach the image, with enough weight planes (Cout × Cin/groups >=
// 4096) that the cut weights and the weight gradient's zero-filled taps are split over the threads:
// 3×3 on 1×1 maps (the centre), stride 2 on 2×2 maps (2×2 of 3×3), grouped; 1 to 3 threads.
static void test_conv_trimmed_threads(Isa isa) {
  std::mt19937 rng(13);
  const Conv2dParams cases[] = {{3, 80, 1, 1, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
                                {4, 72, 2, 2, 64, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1},
                                {2, 96, 1, 1, 192, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2}};
  ConvAlgo ran[3];
  for (const auto& p : cases)
    for (int threads : {1, 2, 3}) check_conv(p, threads, std::string(isa_name(isa)) + " trimmed", rng, ran);
}

// The direct loops (few output channels) for every channel count 1..33: each register block and
// its remainders on every ISA (up to 8 channels by up to 6 vectors), past the 32 where the GEMM
// paths take over; 1×1, 3×3 and 5×5 kernels on odd sizes, with padding (asymmetric too),
// dilation, groups and the epilogues; stride 2 where the other paths run; whole images and
// images cut into row blocks (1 to 3 threads over 1 to 3 images), and runs of whole images in
// the weight gradient. Each pass must run direct.
static void test_conv_direct(Isa isa, std::mt19937& rng) {
  int direct[3] = {0, 0, 0};
  for (int cout = 1; cout <= 33; ++cout) {
    const int k = 1 + 2 * (cout % 3), groups = cout % 4 == 0 ? 2 : 1, dil = k == 3 && cout % 5 == 2 ? 2 : 1;
    const int stride = cout % 7 == 6 ? 2 : 1, pad = cout % 2 ? k / 2 * dil : 0;
    const Conv2dParams p = {1 + cout % 3, groups * (1 + cout % 5), 9 + cout % 4, 9 + cout % 7, cout, k, k, stride, stride,
                            pad, cout % 8 == 1 ? 0 : pad, pad, pad + (cout % 8 == 3), dil, dil, groups};
    ConvAlgo ran[3];
    check_conv(p, 1 + cout % 3, std::string(isa_name(isa)) + " direct", rng, ran);
    for (int i = 0; i < 3; ++i) direct[i] += ran[i] == ConvAlgo::Direct;
  }
  // The weight gradient's runs of whole images, the last one short: 11 images in runs of 2
  // (LeNet's second layer), 21 in runs of 5 (grouped, padded). Then rows sharing their zero
  // columns: left padding past the kernel's span (3 of 2, shared 1) and a dilated 5×5 padded by
  // exactly its span both sides (shared 8: grid rows as wide as the output's).
  const Conv2dParams runs[] = {{11, 6, 12, 12, 16, 5, 5, 1, 1, 0, 0, 0, 0, 1, 1, 1},
                               {21, 4, 7, 9, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2},
                               {2, 3, 10, 13, 5, 3, 3, 1, 1, 1, 2, 3, 1, 1, 1, 1},
                               {1, 2, 9, 9, 4, 5, 5, 1, 1, 8, 8, 8, 8, 2, 2, 1}};
  for (const auto& p : runs) {
    ConvAlgo ran[3];
    check_conv(p, 1, std::string(isa_name(isa)) + " direct runs", rng, ran);
    for (int i = 0; i < 3; ++i) direct[i] += ran[i] == ConvAlgo::Direct;
  }
  for (int i = 0; i < 3; ++i) {
    if (direct[i] > 0) { ++g_pass; continue; }
    std::printf("FAIL %s: no case ran the direct path in pass %d\n", isa_name(isa), i);
    ++g_fail;
  }
}

// Eval's conv → ReLU/ReLU6 → 2×2 max pool in one pass (conv2d_forward_direct_max_pool) equals
// the clamped convolution then PyTorch's max fold (a later value wins if greater or NaN), bit for
// bit, and so do the maxima's positions it keeps for training: LeNet's two layers, odd sizes (last row and column dropped), padding, dilation, groups, one
// image cut into row blocks (odd block heights made even), 1-3 threads; a NaN input stays NaN;
// with 33 output channels (a GEMM path), or on a stem Auto gives the few-channel loops, it declines
// and leaves y alone.
static void test_conv_direct_pool(Isa isa, std::mt19937& rng) {
  const Conv2dParams cases[] = {{3, 1, 28, 28, 6, 5, 5, 1, 1, 0, 0, 0, 0, 1, 1, 1},
                                {5, 6, 12, 12, 16, 5, 5, 1, 1, 0, 0, 0, 0, 1, 1, 1},
                                {2, 3, 11, 9, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
                                {1, 4, 13, 17, 10, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 2},
                                {1, 5, 32, 32, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
                                {2, 2, 9, 49, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1}};
  for (const auto& p : cases)
    for (int threads : {1, 2, 3})
      for (float hi : {INFINITY, 0.5f}) {
        const int OH = p.out_h(), OW = p.out_w(), PH = OH / 2, PW = OW / 2;
        auto x = random_vec((size_t)p.n * p.c_in * p.h * p.w, rng);
        if (threads == 3) x[x.size() / 2] = NAN;
        const auto w = random_vec((size_t)p.c_out * (p.c_in / p.groups) * p.kh * p.kw, rng), b = random_vec(p.c_out, rng);
        std::vector<float> y((size_t)p.n * p.c_out * OH * OW), want((size_t)p.n * p.c_out * PH * PW), got(want.size(), 7.0f);
        std::vector<float> want_at(want.size()), got_at(want.size()), got2(want.size());
        ConvEpilogue e;
        e.lo = 0.0f, e.hi = hi;
        conv2d_forward(p, x.data(), w.data(), b.data(), y.data(), threads, e);
        for (long plane = 0; plane < (long)p.n * p.c_out; ++plane)
          for (int ph = 0; ph < PH; ++ph)
            for (int pw = 0; pw < PW; ++pw) {
              float best = -INFINITY;
              int at = 0;
              for (int r = 0; r < 2; ++r)
                for (int c = 0; c < 2; ++c) {
                  const float v = y[(plane * OH + 2 * ph + r) * OW + 2 * pw + c];
                  if (v > best || v != v) best = v, at = (2 * ph + r) * OW + 2 * pw + c;
                }
              want[(plane * PH + ph) * PW + pw] = best;
              want_at[(plane * PH + ph) * PW + pw] = (float)at;
            }
        char name[160];
        std::snprintf(name, sizeof name, "conv pool[%s] cin=%d cout=%d %dx%d k%d g%d threads=%d hi=%g", isa_name(isa), p.c_in,
                      p.c_out, p.h, p.w, p.kh, p.groups, threads, hi);
        // Without positions, then with them (training's forward): the same values both times.
        const bool ran = conv2d_forward_direct_max_pool(p, x.data(), w.data(), b.data(), got.data(), threads, 0.0f, hi) &&
                         conv2d_forward_direct_max_pool(p, x.data(), w.data(), b.data(), got2.data(), threads, 0.0f, hi, got_at.data());
        bool same = ran && got_at == want_at;
        for (size_t i = 0; same && i < want.size(); ++i)
          for (const float v : {got[i], got2[i]})
            same = same && (std::memcmp(&v, &want[i], sizeof(float)) == 0 || (v != v && want[i] != want[i]));
        if (same) { ++g_pass; continue; }
        std::printf("FAIL %s: %s\n", name, ran ? "values differ from conv then pool" : "did not run");
        ++g_fail;
      }
  // 33 output channels (a GEMM path) and a stem of 3 → 32 (Auto's few-channel loops, whose sums
  // the pooled direct loops would not match bit for bit) decline.
  const Conv2dParams wide = {2, 4, 10, 10, 33, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1}, stem = {2, 3, 32, 32, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1};
  for (const Conv2dParams& p : {wide, stem}) {
    const auto x = random_vec((size_t)p.n * p.c_in * p.h * p.w, rng), w = random_vec((size_t)p.c_out * p.c_in * 9, rng);
    std::vector<float> y((size_t)p.n * p.c_out * (p.out_h() / 2) * (p.out_w() / 2), 7.0f);
    if (!conv2d_forward_direct_max_pool(p, x.data(), w.data(), nullptr, y.data(), 2, 0.0f, INFINITY) &&
        std::all_of(y.begin(), y.end(), [](float v) { return v == 7.0f; })) {
      ++g_pass;
    } else {
      std::printf("FAIL %s: conv pool with %d -> %d channels ran or touched y\n", isa_name(isa), p.c_in, p.c_out);
      ++g_fail;
    }
  }
}

// Depthwise convolutions on small maps, each through the channel-vector path (depthwise_small.h)
// and through the stride-phase path: 1×1, 2×2, 3×3, 5×5, 7×7 maps and MobileNet's 8×8 and 16×16,
// channel counts off the 4/8/16 lanes, strides 1, 2, 3 and one axis only, dilation 2, kernels 1,
// 2, 3, 5, 7, asymmetric pads and pads past dil·(k − 1), and large maps (the forward pass in
// bands). Its own random stream.
static void test_depthwise_small(Isa isa) {
  std::mt19937 rng(13);
  // n, cin, h, w, cout, kh, kw, sh, sw, pt, pb, pl, pr, dh, dw, groups
  const Conv2dParams cases[] = {
      {5, 37, 1, 1, 37, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 37},   // 1×1 map: the centre tap only
      {3, 19, 1, 1, 19, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 19},
      {4, 21, 2, 2, 21, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 21},
      {3, 23, 2, 2, 23, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 23},   // 2×2 → 1×1
      {3, 17, 3, 3, 17, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 17},
      {2, 9, 3, 3, 9, 5, 5, 2, 2, 2, 2, 2, 2, 1, 1, 9},
      {2, 33, 5, 5, 33, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1, 33},
      {3, 11, 5, 5, 11, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 11},   // dilation 2
      {2, 9, 7, 7, 9, 7, 7, 1, 1, 3, 3, 3, 3, 1, 1, 9},
      {2, 40, 7, 7, 40, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 40},
      {3, 16, 4, 4, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 16},
      {2, 24, 8, 8, 24, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 24},
      {2, 45, 8, 8, 45, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 45},
      {2, 20, 16, 16, 20, 3, 3, 2, 2, 0, 1, 0, 1, 1, 1, 20},  // TF-style 'same' stride 2
      {2, 13, 6, 5, 13, 3, 3, 2, 1, 1, 0, 2, 1, 1, 1, 13},    // stride in one axis, asymmetric pads
      {2, 5, 3, 3, 5, 3, 3, 1, 1, 3, 3, 3, 3, 1, 1, 5},       // pad > dil·(k − 1): dy past the grid
      {2, 6, 7, 7, 6, 2, 2, 3, 3, 0, 0, 0, 0, 1, 1, 6},       // stride 3, even kernel
      {2, 7, 6, 9, 7, 5, 3, 1, 2, 2, 1, 0, 2, 1, 2, 7},
      {37, 19, 4, 4, 19, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 19},  // weight gradient sums past one float run
      // Maps past the buffer: the forward pass in bands of rows (the first and last with padding
      // rows, a short last band), on every ISA's lane count (4 lanes band past 64×64)
      {2, 5, 70, 66, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 5},
      {2, 6, 67, 71, 6, 3, 3, 2, 2, 0, 1, 1, 0, 1, 1, 6},
      {1, 3, 66, 70, 3, 5, 5, 1, 1, 4, 4, 4, 4, 2, 2, 3},
      {1, 4, 65, 65, 4, 3, 3, 2, 2, 3, 3, 3, 3, 1, 1, 4},
      {1, 17, 40, 37, 17, 7, 7, 1, 1, 3, 3, 3, 3, 1, 1, 17},
  };
  for (DepthwiseSmall mode : {DepthwiseSmall::Always, DepthwiseSmall::Never}) {
    set_depthwise_small(mode);
    const std::string label = std::string(isa_name(isa)) + (mode == DepthwiseSmall::Always ? " channel-vector" : " phases");
    for (const auto& p : cases)
      for (int threads : {1, 2, 3}) {
        ConvAlgo ran[3];
        check_conv(p, threads, label, rng, ran);
        const bool pinned = depthwise_small_suits(p, ConvPass::Forward) == (mode == DepthwiseSmall::Always);
        if (pinned && ran[0] == ConvAlgo::Depthwise && ran[1] == ConvAlgo::Depthwise && ran[2] == ConvAlgo::Depthwise) ++g_pass;
        else { std::printf("FAIL depthwise %s: cin=%d %dx%d ran %s\n", label.c_str(), p.c_in, p.h, p.w, conv_algo_name(ran[0])); ++g_fail; }
      }
  }
  // The weight gradient sums each channel block over the batch on one thread: the same bits
  // whatever the thread count.
  set_depthwise_small(DepthwiseSmall::Always);
  for (Conv2dParams p : {cases[12], cases[9]}) {
    p.n = 37;
    const size_t xs = (size_t)p.n * p.c_in * p.h * p.w, ys = (size_t)p.n * p.c_out * p.out_h() * p.out_w();
    const auto x = random_vec(xs, rng), dy = random_vec(ys, rng);
    std::vector<float> dw[2], db[2];
    for (int i = 0; i < 2; ++i) {
      dw[i].resize((size_t)p.c_out * p.kh * p.kw), db[i].resize(p.c_out);
      conv2d_backward_weight(p, x.data(), dy.data(), dw[i].data(), db[i].data(), i == 0 ? 1 : 3);
    }
    if (dw[0] == dw[1] && db[0] == db[1]) ++g_pass;
    else { std::printf("FAIL depthwise %s cin=%d: dw on 1 and 3 threads differ\n", isa_name(isa), p.c_in); ++g_fail; }
  }
  set_depthwise_small(DepthwiseSmall::Auto);
}

// Depthwise convolutions of 2- and 4-pixel maps as a dense matrix per channel
// (depthwise_planes.h), through conv2d_* (every pass and epilogue against the reference) and
// called directly, bit for bit what conv2d_* gave: channel counts that leave a partial last group
// on every lane count, 1×2 and 2×1 maps, a 5×5 kernel (cut to its 3×3 centre by conv2d_*, the
// full kernel when called directly), MobileNetV2's 384 channels, and a batch large enough to split
// over the threads, whose weight gradient must not depend on the thread count. Maps where an
// output pixel misses an input pixel (a 2×2 kernel, dilation 2) and stride 2 decline, leaving the
// outputs alone. Its own random stream.
static void test_depthwise_planes(Isa isa) {
  std::mt19937 rng(29);
  // n, cin, h, w, cout, kh, kw, sh, sw, pt, pb, pl, pr, dh, dw, groups
  const Conv2dParams cases[] = {
      {4, 21, 2, 2, 21, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 21}, {3, 384, 2, 2, 384, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 384},
      {5, 7, 1, 2, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 7},    {3, 9, 2, 1, 9, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 9},
      {2, 13, 2, 2, 13, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1, 13}, {70, 960, 2, 2, 960, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 960},
  };
  for (const auto& p : cases)
    for (int threads : {1, 2, 3}) {
      ConvAlgo ran[3];
      const std::string label = std::string(isa_name(isa)) + " depthwise planes";
      check_conv(p, threads, label, rng, ran);
      // Direct calls give conv2d_*'s bits: the path conv2d_* took was this one.
      const size_t xs = (size_t)p.n * p.c_in * p.h * p.w, ws = (size_t)p.c_in * p.kh * p.kw;
      const auto x = random_vec(xs, rng), w = random_vec(ws, rng), b = random_vec(p.c_in, rng), dy = random_vec(xs, rng);
      std::vector<float> y[2], dx[2], dw[2], db[2];
      for (auto* v : {y, dx}) v[0].assign(xs, 0.0f), v[1].assign(xs, 0.0f);
      for (int i = 0; i < 2; ++i) dw[i].assign(ws, 0.0f), db[i].assign(p.c_in, 0.0f);
      conv2d_forward(p, x.data(), w.data(), b.data(), y[0].data(), threads);
      conv2d_backward_input(p, dy.data(), w.data(), dx[0].data(), threads);
      conv2d_backward_weight(p, x.data(), dy.data(), dw[0].data(), db[0].data(), threads);
      const bool took = depthwise_planes_suits(p) &&
                        depthwise_planes_forward(p, x.data(), w.data(), b.data(), y[1].data(), threads, ConvEpilogue{}) &&
                        depthwise_planes_backward_input(p, dy.data(), w.data(), dx[1].data(), threads) &&
                        depthwise_planes_backward_weight(p, x.data(), dy.data(), dw[1].data(), db[1].data(), threads);
      // The uncut 5×5 kernel called directly differs from conv2d_*'s cut one only in its zero outer taps.
      const bool cut = p.kh == 5;
      if (took && (cut || (y[0] == y[1] && dx[0] == dx[1] && dw[0] == dw[1])) && db[0] == db[1]) ++g_pass;
      else { std::printf("FAIL %s cin=%d %dx%d k%d threads=%d: %s\n", label.c_str(), p.c_in, p.h, p.w, p.kh, threads, took ? "bits differ from conv2d_*" : "declined"); ++g_fail; }
      if (threads > 1 || p.n < 70) continue;
      std::vector<float> dw3(ws), db3(p.c_in);
      depthwise_planes_backward_weight(p, x.data(), dy.data(), dw3.data(), db3.data(), 3);
      if (dw3 == dw[1] && db3 == db[1]) ++g_pass;
      else { std::printf("FAIL %s cin=%d: dw on 1 and 3 threads differ\n", label.c_str(), p.c_in); ++g_fail; }
    }
  const Conv2dParams declined[] = {{2, 5, 2, 2, 5, 2, 2, 1, 1, 1, 0, 1, 0, 1, 1, 5},
                                   {2, 5, 2, 2, 5, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 5},
                                   {2, 5, 2, 2, 5, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 5},
                                   {2, 5, 3, 3, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 5}};
  for (const auto& p : declined) {
    std::vector<float> x(p.n * p.c_in * p.h * p.w, 1.0f), w(p.c_in * p.kh * p.kw, 1.0f), y(p.n * p.c_in * p.out_h() * p.out_w(), 7.0f);
    const bool ran = depthwise_planes_suits(p) || depthwise_planes_forward(p, x.data(), w.data(), nullptr, y.data(), 2, ConvEpilogue{});
    if (!ran && std::all_of(y.begin(), y.end(), [](float v) { return v == 7.0f; })) ++g_pass;
    else { std::printf("FAIL depthwise planes[%s] k%d s%d d%d %dx%d: did not decline\n", isa_name(isa), p.kh, p.stride_h, p.dil_h, p.h, p.w); ++g_fail; }
  }
  // Pinned to another depthwise path, it declines (those tests reach theirs).
  set_depthwise_small(DepthwiseSmall::Always);
  if (!depthwise_planes_suits(cases[0])) ++g_pass;
  else { std::printf("FAIL depthwise planes[%s]: taken while the channel-vector path is pinned\n", isa_name(isa)); ++g_fail; }
  set_depthwise_small(DepthwiseSmall::Auto);
}

// Depthwise 3×3 convolutions at stride 1 row by row (depthwise_3x3.h), through conv2d_* (every
// pass and epilogue against the reference) and called directly, bit for bit what conv2d_* gave
// (the weight gradient also on 1 and 3 threads alike):
// MobileNetV2's 16×16 layer, rows of every count the loops tile (4, 2, 1), widths 7-16 and rows
// of several vectors (33 and 56: a last block of 1 and 8 lanes), asymmetric padding, padding 2 and
// none; each pass taken on AVX-512 where its output rows are 7-256 pixels, declined on the other
// ISAs, and for rows of 6, dilation 2 and 1×3, 5×5 and 7×7 kernels; the weight gradient where the
// forward pass is taken on maps the channel-vector path leaves (33×40, 37×23). Stride 2, rows past 256, padding past the kernel's reach and a pinned
// depthwise path decline, leaving the outputs alone. Its own random stream.
static void test_depthwise_3x3(Isa isa) {
  std::mt19937 rng(31);
  // n, cin, h, w, cout, kh, kw, sh, sw, pt, pb, pl, pr, dh, dw, groups
  const Conv2dParams cases[] = {
      {3, 32, 16, 16, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 32},   {2, 19, 13, 14, 19, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 19},
      {3, 7, 11, 9, 7, 3, 3, 1, 1, 2, 2, 2, 2, 1, 1, 7},       {4, 6, 7, 16, 6, 3, 3, 1, 1, 2, 0, 0, 2, 1, 1, 6},
      {2, 4, 3, 18, 4, 3, 3, 1, 1, 1, 1, 0, 0, 1, 1, 4},       {5, 17, 9, 7, 17, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 17},
      {3, 21, 8, 8, 21, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 21},     {2, 3, 9, 56, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 3},
      {2, 5, 5, 33, 5, 3, 3, 1, 1, 1, 0, 2, 1, 1, 1, 5},       {3, 6, 33, 40, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 6},
      {2, 4, 37, 23, 4, 3, 3, 1, 1, 0, 2, 1, 1, 1, 1, 4},       {2, 5, 6, 6, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 5},
      {3, 7, 15, 15, 7, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 7},      {2, 5, 9, 16, 5, 1, 3, 1, 1, 0, 0, 1, 1, 1, 1, 5},
      {3, 9, 16, 16, 9, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1, 9},      {2, 5, 14, 14, 5, 7, 7, 1, 1, 3, 3, 3, 3, 1, 1, 5},
  };
  // Each pass's output rows must be 7-256 pixels: the forward pass's out_w, the input gradient's w.
  const auto fits = [&](const Conv2dParams& p, int width) {
    return isa == Isa::Avx512 && p.kh == 3 && p.kw == 3 && p.dil_h == 1 && p.dil_w == 1 && width >= 7 && width <= 256;
  };
  for (const auto& p : cases) {
    const bool forward = depthwise_3x3_suits(p, ConvPass::Forward), input = depthwise_3x3_suits(p, ConvPass::BackwardInput),
               weight = depthwise_3x3_suits(p, ConvPass::BackwardWeight);
    if (forward == fits(p, p.out_w()) && input == fits(p, p.w) && weight == (forward && !depthwise_small_suits(p, ConvPass::BackwardWeight))) ++g_pass;
    else { std::printf("FAIL depthwise 3x3[%s] %dx%d k%d: taken forward %d, input gradient %d, weight gradient %d\n", isa_name(isa), p.h, p.w, p.kh, forward, input, weight); ++g_fail; }
    for (int threads : {1, 2, 3}) {
      ConvAlgo ran[3];
      const std::string label = std::string(isa_name(isa)) + " depthwise 3x3";
      check_conv(p, threads, label, rng, ran);
      const size_t xs = (size_t)p.n * p.c_in * p.h * p.w, ys = (size_t)p.n * p.c_in * p.out_h() * p.out_w(), ws = (size_t)p.c_in * p.kh * p.kw;
      const auto x = random_vec(xs, rng), w = random_vec(ws, rng), b = random_vec(p.c_in, rng), dy = random_vec(ys, rng), res = random_vec(ys, rng);
      std::vector<float> y[2], dx[2], dw[3], db[3];
      for (int i = 0; i < 2; ++i) y[i].assign(ys, 0.0f), dx[i].assign(xs, 0.0f);
      for (int i = 0; i < 3; ++i) dw[i].assign(ws, 0.0f), db[i].assign(p.c_in, 0.0f);
      ConvEpilogue e;
      e.lo = -0.5f, e.hi = 0.5f, e.residual = res.data();
      conv2d_forward(p, x.data(), w.data(), b.data(), y[0].data(), threads, e);
      conv2d_backward_input(p, dy.data(), w.data(), dx[0].data(), threads);
      conv2d_backward_weight(p, x.data(), dy.data(), dw[0].data(), db[0].data(), threads);
      // Called directly where taken, each pass gives conv2d_*'s bits (conv2d_* took this path),
      // and the weight gradient on 3 threads gives 1 thread's.
      const bool same =
          (!forward || (depthwise_3x3_forward(p, x.data(), w.data(), b.data(), y[1].data(), threads, e) && y[0] == y[1])) &&
          (!input || (depthwise_3x3_backward_input(p, dy.data(), w.data(), dx[1].data(), threads) && dx[0] == dx[1])) &&
          (!weight || (depthwise_3x3_backward_weight(p, x.data(), dy.data(), dw[1].data(), db[1].data(), threads) &&
                       depthwise_3x3_backward_weight(p, x.data(), dy.data(), dw[2].data(), db[2].data(), threads == 1 ? 3 : 1) &&
                       dw[0] == dw[1] && db[0] == db[1] && dw[1] == dw[2] && db[1] == db[2]));
      if (same) ++g_pass;
      else { std::printf("FAIL %s %dx%d k%d threads=%d: bits differ from conv2d_* or between thread counts\n", label.c_str(), p.h, p.w, p.kh, threads); ++g_fail; }
    }
  }
  // Stride 2, rows past 256 pixels, padding past a 3×3 kernel's reach: declined.
  const Conv2dParams declined[] = {{2, 5, 24, 24, 5, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 5},
                                   {2, 5, 4, 257, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 5},
                                   {2, 5, 6, 10, 5, 3, 3, 1, 1, 3, 1, 1, 1, 1, 1, 5}};
  for (const auto& p : declined) {
    std::vector<float> x(p.n * p.c_in * p.h * p.w, 1.0f), w(p.c_in * p.kh * p.kw, 1.0f), y(p.n * p.c_in * p.out_h() * p.out_w(), 7.0f);
    const bool ran = depthwise_3x3_suits(p, ConvPass::Forward) || depthwise_3x3_suits(p, ConvPass::BackwardInput) ||
                     depthwise_3x3_suits(p, ConvPass::BackwardWeight) ||
                     depthwise_3x3_forward(p, x.data(), w.data(), nullptr, y.data(), 2, ConvEpilogue{});
    if (!ran && std::all_of(y.begin(), y.end(), [](float v) { return v == 7.0f; })) ++g_pass;
    else { std::printf("FAIL depthwise 3x3[%s] s%d %dx%d pad %d: did not decline\n", isa_name(isa), p.stride_h, p.h, p.w, p.pad_t); ++g_fail; }
  }
  set_depthwise_small(DepthwiseSmall::Always);
  if (!depthwise_3x3_suits(cases[0], ConvPass::Forward)) ++g_pass;
  else { std::printf("FAIL depthwise 3x3[%s]: taken while the channel-vector path is pinned\n", isa_name(isa)); ++g_fail; }
  set_depthwise_small(DepthwiseSmall::Auto);
}

// The 1×1 weight gradient with pixels in the lanes (pointwise.h), through conv2d_backward_weight
// (check_conv, all passes) and called directly, at 1-3 threads: MobileNetV2's 16×16 layers, odd
// channel counts (partial register tiles), planes with a partial last vector on every lane count
// (108 and 105 pixels), more images than one group, and the largest weights it takes. It declines
// 8×8 maps and larger weights, leaving dw alone. Its own random stream.
static void test_pointwise_weight(Isa isa) {
  std::mt19937 rng(17);
  // n, cin, h, w, cout, kh, kw, sh, sw, pt, pb, pl, pr, dh, dw, groups
  const Conv2dParams cases[] = {
      {4, 16, 16, 16, 96, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1}, {3, 32, 16, 16, 16, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1},
      {5, 17, 9, 12, 23, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1}, {7, 13, 7, 15, 6, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1},
      {11, 64, 10, 10, 64, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1},
  };
  for (const auto& p : cases)
    for (int threads : {1, 2, 3}) {
      ConvAlgo ran[3];
      check_conv(p, threads, std::string(isa_name(isa)) + " pointwise", rng, ran);
      const size_t xs = (size_t)p.n * p.c_in * p.h * p.w, ys = (size_t)p.n * p.c_out * p.h * p.w;
      const auto x = random_vec(xs, rng), dy = random_vec(ys, rng);
      std::vector<float> want((size_t)p.c_out * p.c_in), scale(want.size()), got(want.size(), NAN);
      conv2d_ref_backward_weight(p, x.data(), dy.data(), want.data(), nullptr);
      conv2d_ref_backward_weight(p, abs_of(x).data(), abs_of(dy).data(), scale.data(), nullptr);
      char name[120];
      std::snprintf(name, sizeof name, "pointwise_backward_weight[%s] cin=%d cout=%d %dx%d n=%d threads=%d", isa_name(isa),
                    p.c_in, p.c_out, p.h, p.w, p.n, threads);
      if (pointwise_weight_suits(p) && pointwise_backward_weight(p, x.data(), dy.data(), got.data(), threads)) ++g_pass;
      else { std::printf("FAIL %s: declined\n", name); ++g_fail; }
      check_eps_units(name, got, want, scale, kConvErrorUnits);
    }
  const Conv2dParams declined[] = {{4, 24, 8, 8, 144, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1},
                                   {2, 65, 10, 10, 64, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1},
                                   {2, 16, 17, 17, 16, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1},
                                   {2, 16, 16, 16, 16, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 2}};
  for (const auto& p : declined) {
    std::vector<float> x((size_t)p.n * p.c_in * p.h * p.w, 1.0f), dy((size_t)p.n * p.c_out * p.h * p.w, 1.0f), dw(16, 7.0f);
    if (!pointwise_weight_suits(p) && !pointwise_backward_weight(p, x.data(), dy.data(), dw.data(), 2) &&
        dw == std::vector<float>(16, 7.0f)) ++g_pass;
    else { std::printf("FAIL pointwise_backward_weight[%s] took cin=%d cout=%d %dx%d g%d\n", isa_name(isa), p.c_in, p.c_out, p.h, p.w, p.groups); ++g_fail; }
  }
}

// Each path pinned with the override (as CNN_CONV_ALGO does) over the same odd shapes: a forced
// path runs every shape it suits, the batched path the rest, and each path must run some case
// of each pass, so none goes untested.
static void test_conv_algos(std::mt19937& rng) {
  for (ConvAlgo algo : {ConvAlgo::Depthwise, ConvAlgo::Direct, ConvAlgo::Grid, ConvAlgo::ByImage, ConvAlgo::Batched, ConvAlgo::DenseMap,
                        ConvAlgo::Lanes}) {
    set_conv_algo(algo);
    int pinned[3] = {0, 0, 0};
    for (const auto& p : kConvCases)
      for (int threads : {1, 3}) {
        ConvAlgo ran[3];
        check_conv(p, threads, std::string("CNN_CONV_ALGO=") + conv_algo_name(algo), rng, ran);
        for (int i = 0; i < 3; ++i) {
          pinned[i] += ran[i] == algo;
          if (ran[i] != algo && ran[i] != ConvAlgo::Batched) {
            std::printf("FAIL CNN_CONV_ALGO=%s ran %s\n", conv_algo_name(algo), conv_algo_name(ran[i]));
            ++g_fail;
          }
        }
      }
    // The channels-in-lanes loops serve the forward pass alone.
    for (int i = 0; i < (algo == ConvAlgo::Lanes ? 1 : 3); ++i) {
      if (pinned[i] > 0) { ++g_pass; continue; }
      std::printf("FAIL CNN_CONV_ALGO=%s: no case ran it in pass %d\n", conv_algo_name(algo), i);
      ++g_fail;
    }
  }
  set_conv_algo(ConvAlgo::Auto);
  ConvAlgo algo;
  if (parse_conv_algo("by-image", &algo) && algo == ConvAlgo::ByImage && !parse_conv_algo("im2col", &algo)) ++g_pass;
  else { std::printf("FAIL parse_conv_algo\n"); ++g_fail; }
}

static double dot(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += (double)a[i] * b[i];
  return s;
}

static void check_adjoint(const std::string& name, double lhs, double rhs) {
  if (std::fabs(lhs - rhs) <= 1e-4 * (1 + std::fabs(lhs))) { ++g_pass; return; }
  std::printf("FAIL %s: <f(x), dy> = %g but <x, f'(dy)> = %g\n", name.c_str(), lhs, rhs);
  ++g_fail;
}

// Pooling and padding checked against each other: padded pooling equals unpadded pooling of a
// padded input, and every backward is the adjoint of its forward, on 1 and 3 threads.
static void test_pool_pad(std::mt19937& rng) {
  const int64_t planes = 6, h = 9, w = 8;
  auto x = random_vec(planes * h * w, rng);
  for (int threads : {1, 3}) {
    const std::string t = " threads=" + std::to_string(threads);
    for (PadMode mode : {PadMode::Zeros, PadMode::Reflect, PadMode::Replicate, PadMode::Circular}) {
      Pad2dParams pp{planes, h, w, 2, 1, 3, 0, mode};
      std::vector<float> y(planes * pp.out_h() * pp.out_w()), dx(x.size());
      auto dy = random_vec(y.size(), rng);
      pad2d_forward(pp, x.data(), 0.0f, y.data(), threads);
      pad2d_backward(pp, dy.data(), dx.data(), threads);
      check_adjoint("pad2d mode=" + std::to_string((int)mode) + t, dot(y, dy), dot(x, dx));
    }
    for (bool ceil : {false, true}) {
      Pool2dParams p{planes, h, w, 3, 3, 2, 2, 1, 1, 2, 1, 0, 0};
      p.out_h = pool_output_size(h, 3, 1, 2, 2, ceil);
      p.out_w = pool_output_size(w, 3, 1, 2, 1, ceil);
      // The same pooling without padding over an input padded with -inf.
      Pad2dParams pp{planes, h, w, 1, 1 + 2, 1, 1 + 2, PadMode::Zeros};
      std::vector<float> xp(planes * pp.out_h() * pp.out_w());
      pad2d_forward(pp, x.data(), -INFINITY, xp.data(), threads);
      Pool2dParams q = p;
      q.h = pp.out_h(); q.w = pp.out_w(); q.pad_h = q.pad_w = 0;
      std::vector<float> y(planes * p.out_h * p.out_w), idx(y.size()), yq(y.size()), idxq(y.size());
      max_pool2d_forward(p, x.data(), y.data(), idx.data(), threads);
      max_pool2d_forward(q, xp.data(), yq.data(), idxq.data(), threads);
      check_close("max_pool2d padded = unpadded of -inf padded, ceil=" + std::to_string(ceil) + t, y, yq, 0, 0);
      std::vector<float> dx(x.size());
      auto dy = random_vec(y.size(), rng);
      max_pool_backward(planes, h * w, p.out_h * p.out_w, dy.data(), idx.data(), dx.data(), threads);
      check_adjoint("max_pool backward" + t, dot(y, dy), dot(x, dx));
      // With ReLU's mask from the pooled values: dy zeroed where y <= 0, then the plain scatter.
      std::vector<float> dy_kept(dy), dx_relu(x.size()), dx_want(x.size());
      for (size_t i = 0; i < y.size(); ++i) dy_kept[i] = y[i] > 0.0f ? dy[i] : 0.0f;
      max_pool_backward(planes, h * w, p.out_h * p.out_w, dy_kept.data(), idx.data(), dx_want.data(), threads);
      max_pool_backward(planes, h * w, p.out_h * p.out_w, dy.data(), idx.data(), dx_relu.data(), threads, y.data());
      check_close("max_pool backward with ReLU's mask" + t, dx_relu, dx_want, 0, 0);
      Pool2dParams a = p;
      a.dil_h = a.dil_w = 1;
      a.out_h = pool_output_size(h, 3, 1, 2, 1, ceil);
      a.out_w = pool_output_size(w, 3, 1, 2, 1, ceil);
      for (int divisor : {0, 4})
        for (bool incl : {false, true}) {
          std::vector<float> ya(planes * a.out_h * a.out_w), dxa(x.size());
          auto dya = random_vec(ya.size(), rng);
          avg_pool2d_forward(a, incl, divisor, x.data(), ya.data(), threads);
          avg_pool2d_backward(a, incl, divisor, dya.data(), dxa.data(), threads);
          check_adjoint("avg_pool2d incl=" + std::to_string(incl) + " divisor=" + std::to_string(divisor) + t,
                        dot(ya, dya), dot(x, dxa));
        }
    }
    for (int64_t oh : {1, 4, 13})
      for (int64_t ow : {1, 3, 8}) {
        std::vector<float> y(planes * oh * ow), idx(y.size()), dx(x.size());
        auto dy = random_vec(y.size(), rng);
        if (ow == 1 && oh == 1) dy[0] = -0.0f;  // the general loop's 0 + g gives +0
        adaptive_avg_pool2d_forward(planes, h, w, oh, ow, x.data(), y.data(), threads);
        adaptive_avg_pool2d_backward(planes, h, w, oh, ow, dy.data(), dx.data(), threads);
        check_adjoint("adaptive_avg_pool2d" + t, dot(y, dy), dot(x, dx));
        if (oh == 1 && ow == 1) {
          // The global average's gradient, bit for bit the general loop's: 0 + dy / count per pixel.
          std::vector<float> want(x.size());
          for (int64_t pl = 0; pl < planes; ++pl)
            for (int64_t s = 0; s < h * w; ++s) want[pl * h * w + s] = 0.0f + dy[pl] / (float)(h * w);
          check_close("adaptive_avg_pool2d global backward" + t, dx, want, 0, 0);
          if (std::signbit(dx[0])) { std::printf("FAIL adaptive_avg_pool2d global backward%s: -0 kept\n", t.c_str()); ++g_fail; }
          else ++g_pass;
        }
        if (oh == 1 && ow == 1) {
          // Over 1×1 planes (a plane per float: its own loop), with a -0 and ±inf.
          std::vector<float> dy1 = random_vec(41, rng), dx1(41), want(41);
          dy1[3] = -0.0f, dy1[7] = INFINITY, dy1[8] = -INFINITY;
          adaptive_avg_pool2d_backward(41, 1, 1, 1, 1, dy1.data(), dx1.data(), threads);
          for (int i = 0; i < 41; ++i) want[i] = 0.0f + dy1[i] / 1.0f;
          if (std::memcmp(dx1.data(), want.data(), sizeof(float) * 41) == 0) ++g_pass;
          else { std::printf("FAIL adaptive_avg_pool2d 1x1 planes backward%s: bits differ from 0 + dy / 1\n", t.c_str()); ++g_fail; }
        }
        adaptive_max_pool2d_forward(planes, h, w, oh, ow, x.data(), y.data(), idx.data(), threads);
        max_pool_backward(planes, h * w, oh * ow, dy.data(), idx.data(), dx.data(), threads);
        check_adjoint("adaptive_max_pool2d" + t, dot(y, dy), dot(x, dx));
      }
  }
}

// Softmax over a strided axis (inner > 1) against the contiguous-row path on a transposed copy;
// batch norm output has zero mean and unit variance per channel; dropout keeps about 1-p.
static void test_norm_activation_dropout(std::mt19937& rng) {
  const int64_t outer = 3, dim = 7, inner = 5;
  auto x = random_vec(outer * dim * inner, rng);
  std::vector<float> xt(x.size());  // (outer, inner, dim)
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t d = 0; d < dim; ++d)
      for (int64_t j = 0; j < inner; ++j) xt[(o * inner + j) * dim + d] = x[(o * dim + d) * inner + j];
  for (bool log : {false, true}) {
    std::vector<float> y(x.size()), yt(x.size()), back(x.size());
    softmax_forward(x.data(), y.data(), outer, dim, inner, log, 2);
    softmax_forward(xt.data(), yt.data(), outer * inner, dim, 1, log, 2);
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t d = 0; d < dim; ++d)
        for (int64_t j = 0; j < inner; ++j) back[(o * dim + d) * inner + j] = yt[(o * inner + j) * dim + d];
    check_close(log ? "log_softmax strided axis" : "softmax strided axis", y, back, 1e-6f, 1e-5f);
  }

  const BatchNormShape sh{4, 3, 10};
  auto bx = random_vec(sh.n * sh.c * sh.s, rng);
  std::vector<float> by(bx.size()), mean(sh.c), invstd(sh.c);
  batch_norm_forward(sh, bx.data(), nullptr, nullptr, nullptr, nullptr, true, 0.1, 0.0, by.data(),
                     mean.data(), invstd.data(), 2);
  std::vector<float> moments, zero_one;
  for (int64_t c = 0; c < sh.c; ++c) {
    double s = 0, sq = 0;
    for (int64_t n = 0; n < sh.n; ++n)
      for (int64_t k = 0; k < sh.s; ++k) {
        const double v = by[(n * sh.c + c) * sh.s + k];
        s += v;
        sq += v * v;
      }
    moments.push_back((float)(s / (sh.n * sh.s)));
    moments.push_back((float)(sq / (sh.n * sh.s)));
    zero_one.push_back(0.0f);
    zero_one.push_back(1.0f);
  }
  check_close("batch_norm normalizes each channel", moments, zero_one, 1e-5f, 1e-5f);

  const int64_t n = 100000;
  std::vector<float> mask(n);
  dropout_mask(12345, 0.7, 1.0f / 0.7f, mask.data(), n, 2);
  int64_t kept = 0;
  for (float m : mask) kept += m != 0.0f;
  check_close("dropout keep rate", {(float)kept / n}, {0.7f}, 0.01f, 0.0f);
}

// Augmentation: a sample depends only on its image and seed (not on the thread count or its
// place in the batch); the per-sample generator is the TypeScript Generator's stream.
static void test_augment(std::mt19937& rng) {
  AugPipeline p;
  p.c = 3; p.h = 12; p.w = 10;
  AugOp crop; crop.kind = AugKind::RandomCrop; crop.out_h = 12; crop.out_w = 10;
  crop.pad_l = crop.pad_t = crop.pad_r = crop.pad_b = 3; crop.mode = ImagePadMode::Reflect;
  AugOp flip; flip.kind = AugKind::HorizontalFlip; flip.p = 0.5;
  AugOp rot; rot.kind = AugKind::Rotation; rot.degrees[0] = -30; rot.degrees[1] = 30;
  AugOp jit; jit.kind = AugKind::ColorJitter;
  for (int j = 0; j < 4; ++j) { jit.has_jitter[j] = true; jit.jitter[j][0] = j == 3 ? -0.2 : 0.6; jit.jitter[j][1] = j == 3 ? 0.2 : 1.4; }
  AugOp erase; erase.kind = AugKind::Erasing; erase.p = 0.7; erase.scale[0] = 0.02; erase.scale[1] = 0.33;
  erase.ratio[0] = 0.3; erase.ratio[1] = 3.3; erase.erase_random = true;
  p.ops = {crop, flip, rot, jit, erase};
  if (!aug_prepare(p).empty()) { std::printf("FAIL augment: prepare\n"); ++g_fail; return; }
  const int n = 17, per = 3 * 12 * 10;
  std::vector<uint8_t> images((size_t)n * per);
  for (auto& v : images) v = (uint8_t)(rng() & 255);
  std::vector<int32_t> idx(n), rev(n);
  std::vector<uint32_t> seeds(n), rev_seeds(n);
  for (int k = 0; k < n; ++k) { idx[k] = k; seeds[k] = (uint32_t)rng(); }
  for (int k = 0; k < n; ++k) { rev[k] = idx[n - 1 - k]; rev_seeds[k] = seeds[n - 1 - k]; }
  std::vector<float> one((size_t)n * per), three((size_t)n * per), back((size_t)n * per);
  aug_batch(p, images.data(), idx.data(), n, seeds.data(), one.data(), 1);
  aug_batch(p, images.data(), idx.data(), n, seeds.data(), three.data(), 3);
  aug_batch(p, images.data(), rev.data(), n, rev_seeds.data(), back.data(), 2);
  check_close("augment threads 1 vs 3", three, one, 0, 0);
  std::vector<float> unreversed((size_t)n * per);
  for (int k = 0; k < n; ++k) std::copy(back.begin() + (size_t)(n - 1 - k) * per, back.begin() + (size_t)(n - k) * per, unreversed.begin() + (size_t)k * per);
  check_close("augment sample independent of batch position", unreversed, one, 0, 0);

  // Normalize alone is exact arithmetic: (x/255 - mean) / std.
  AugPipeline q;
  q.c = 1; q.h = 2; q.w = 2;
  AugOp norm; norm.kind = AugKind::Normalize; norm.mean[0] = 0.5f; norm.std[0] = 0.25f;
  q.ops = {norm};
  aug_prepare(q);
  const uint8_t px[4] = {0, 51, 204, 255};
  const int32_t zero = 0;
  const uint32_t seed = 1;
  std::vector<float> out(4), want = {-2.0f, (0.2f - 0.5f) / 0.25f, (0.8f - 0.5f) / 0.25f, 2.0f};
  aug_batch(q, px, &zero, 1, &seed, out.data(), 1);
  check_close("augment normalize", out, want, 1e-6f, 0);
}

static void check_bytes(const std::string& name, const std::vector<uint8_t>& got, const std::vector<uint8_t>& want) {
  for (size_t i = 0; i < want.size(); ++i)
    if (got[i] != want[i]) {
      std::printf("FAIL %s: byte %zu is %d, expected %d\n", name.c_str(), i, got[i], want[i]);
      ++g_fail;
      return;
    }
  ++g_pass;
}

// The auto-augment ops by their algebra (torchvision's values are checked from JS against
// fixtures): identities, inverses and closed forms, and the op counts each mode draws.
static void test_auto_augment(std::mt19937& rng) {
  const int c = 3, h = 7, w = 9, n = c * h * w;
  std::vector<uint8_t> img(n), tmp(n);
  for (auto& v : img) v = (uint8_t)(rng() & 255);
  AutoAugmentSpec s;
  auto run = [&](AaOp op, double m) {
    std::vector<uint8_t> x = img;
    aa_apply(op, m, s, x.data(), c, h, w, tmp.data());
    return x;
  };
  for (AaOp op : {AaOp::Identity, AaOp::ShearX, AaOp::ShearY, AaOp::TranslateX, AaOp::TranslateY, AaOp::Rotate})
    check_bytes(std::string("auto-augment ") + kAaOpNames[(int)op] + " at 0 is the identity", run(op, 0), img);
  for (AaOp op : {AaOp::Brightness, AaOp::Color, AaOp::Contrast, AaOp::Sharpness})
    check_bytes(std::string("auto-augment ") + kAaOpNames[(int)op] + " factor 1 is the identity", run(op, 0), img);
  check_bytes("auto-augment Posterize 8 bits is the identity", run(AaOp::Posterize, 8), img);
  check_bytes("auto-augment Solarize above 255 is the identity", run(AaOp::Solarize, 256), img);
  std::vector<uint8_t> inv(n), post(n), sol(n), dark(n);
  for (int i = 0; i < n; ++i) {
    inv[i] = (uint8_t)(255 - img[i]);
    post[i] = (uint8_t)(img[i] & 0xf0);
    sol[i] = img[i] >= 128 ? inv[i] : img[i];
    dark[i] = (uint8_t)(0.5f * img[i]);
  }
  check_bytes("auto-augment Invert", run(AaOp::Invert, 0), inv);
  check_bytes("auto-augment Posterize 4 bits", run(AaOp::Posterize, 4.7), post);
  check_bytes("auto-augment Solarize 128", run(AaOp::Solarize, 128), sol);
  check_bytes("auto-augment Brightness 0.5 truncates", run(AaOp::Brightness, -0.5), dark);
  // A whole-pixel translation moves the image and fills the uncovered column with zeros.
  std::vector<uint8_t> moved = run(AaOp::TranslateX, 2.9), shifted(n, 0);
  for (int ch = 0; ch < c; ++ch)
    for (int y = 0; y < h; ++y)
      for (int x = 2; x < w; ++x) shifted[(ch * h + y) * w + x] = img[(ch * h + y) * w + x - 2];
  check_bytes("auto-augment TranslateX 2.9 moves 2 pixels right", moved, shifted);
  // Rotating by 180° about the centre of an odd-sized image reverses it.
  std::vector<uint8_t> odd(3 * 7 * 7), turned(odd.size()), want(odd.size());
  for (auto& v : odd) v = (uint8_t)(rng() & 255);
  for (int ch = 0; ch < 3; ++ch)
    for (int i = 0; i < 49; ++i) want[ch * 49 + i] = odd[ch * 49 + 48 - i];
  turned = odd;
  aa_apply(AaOp::Rotate, 180, s, turned.data(), 3, 7, 7, tmp.data());
  check_bytes("auto-augment Rotate 180", turned, want);
  // AutoContrast stretches each channel to 0..255; Equalize of a two-valued channel maps the
  // lower value to 0.
  // torchvision multiplies by 255 / (max - min) in float32 and truncates to uint8, so the top
  // lands on 254 for the ranges where that product rounds just below 255.
  std::vector<uint8_t> stretched = run(AaOp::AutoContrast, 0);
  bool full = true;
  for (int ch = 0; ch < c; ++ch) {
    const auto in = std::minmax_element(img.begin() + ch * h * w, img.begin() + (ch + 1) * h * w);
    const float range = (float)*in.second - (float)*in.first;
    const uint8_t top = (uint8_t)(range * (255.f / range));
    const auto mm = std::minmax_element(stretched.begin() + ch * h * w, stretched.begin() + (ch + 1) * h * w);
    full = full && *mm.first == 0 && *mm.second == top && top >= 254;
  }
  if (full) ++g_pass; else { std::printf("FAIL auto-augment AutoContrast range\n"); ++g_fail; }

  // Op counts: Trivial one, Rand num_ops, Policy at most a sub-policy's steps.
  AutoAugmentSpec trivial;
  trivial.mode = AaMode::Trivial;
  trivial.space = {{AaOp::Invert, false, {}}, {AaOp::Rotate, true, {0, 10, 20}}};
  AutoAugmentSpec rand = trivial;
  rand.mode = AaMode::Rand;
  rand.num_ops = 3;
  rand.level = 1.5;
  AutoAugmentSpec policy;
  policy.mode = AaMode::Policy;
  policy.policies = {{{AaOp::Invert, 1.0, 0, false}, {AaOp::Rotate, 0.0, 30, true}}};
  bool counts = true, between = true;
  for (uint32_t seed = 0; seed < 200; ++seed) {
    AaApplied a[8];
    Rng r1(seed), r2(seed), r3(seed);
    counts = counts && aa_sample(trivial, r1, a, 8) == 1;
    const int k = aa_sample(rand, r2, a, 8);
    counts = counts && k == 3;
    for (int i = 0; i < k; ++i)
      if (a[i].op == AaOp::Rotate) between = between && std::fabs(a[i].magnitude) == 15;
    counts = counts && aa_sample(policy, r3, a, 8) == 1 && a[0].op == AaOp::Invert;
  }
  if (counts && between) ++g_pass;
  else { std::printf("FAIL auto-augment op counts / interpolated level\n"); ++g_fail; }
}

// Optimizer steps against closed forms: Adam's first step moves each weight by lr·g/(|g|+eps)
// (bias corrections cancel); SGD's first momentum step is plain SGD, its second adds momentum.
static void test_optim(std::mt19937& rng) {
  const int64_t n = 70000;  // above the threading threshold
  std::vector<float> p = random_vec(n, rng), g = random_vec(n, rng);
  std::vector<float> m(n, 0.0f), v(n, 0.0f), want(n);
  AdamOptions a{0.01, 0.9, 0.999, 1e-8, 0.0, 1, false, false, false};
  for (int64_t i = 0; i < n; ++i) want[i] = p[i] - 0.01f * g[i] / (std::fabs(g[i]) + 1e-8f);
  adam_step(p.data(), g.data(), m.data(), v.data(), nullptr, n, a, 2);
  check_close("adam first step", p, want, 1e-6f, 1e-5f);
  std::vector<float> q = random_vec(n, rng), buf(n), w2(n);
  SgdOptions s{0.1f, 0.9f, 0.0f, 0.0f, false, false, true};
  for (int64_t i = 0; i < n; ++i) w2[i] = q[i] - 0.1f * g[i] - 0.1f * (0.9f * g[i] + g[i]);
  sgd_step(q.data(), g.data(), buf.data(), n, s, 2);
  s.new_buffer = false;
  sgd_step(q.data(), g.data(), buf.data(), n, s, 1);
  check_close("sgd momentum two steps", q, w2, 1e-6f, 1e-5f);
}

// Each non-finite kind at each position class (first, inside a block, block edge, last) of
// small and multi-block arrays: the first bad array index, from 1 and from 3 threads.
static void test_first_nonfinite() {
  const int64_t sizes[] = {0, 1, 7, 65536, 65537, 200003};
  std::vector<std::vector<float>> arrays;
  for (int64_t n : sizes) arrays.emplace_back(n, 0.5f);
  std::vector<const float*> ptr;
  std::vector<int64_t> len;
  for (auto& v : arrays) { ptr.push_back(v.data()); len.push_back((int64_t)v.size()); }
  auto check = [&](const std::string& name, int64_t want) {
    for (int threads : {1, 3}) {
      const int64_t got = first_nonfinite(ptr.data(), len.data(), (int64_t)ptr.size(), threads);
      if (got == want) ++g_pass;
      else { std::printf("FAIL first_nonfinite %s (%d threads): %lld, expected %lld\n", name.c_str(), threads, (long long)got, (long long)want); ++g_fail; }
    }
  };
  check("all finite", -1);
  const float bad[] = {NAN, INFINITY, -INFINITY};
  for (size_t a = 1; a < arrays.size(); ++a)
    for (int64_t pos : {int64_t(0), len[a] / 2, std::min<int64_t>(len[a] - 1, 65536), len[a] - 1})
      for (float b : bad) {
        const float keep = arrays[a][pos];
        arrays[a][pos] = b;
        arrays.back()[len.back() - 1] = NAN;  // a later bad array must not win
        check("array " + std::to_string(a) + " at " + std::to_string(pos), (int64_t)a);
        arrays.back()[len.back() - 1] = 0.5f;
        arrays[a][pos] = keep;
      }
  arrays[2][3] = 3.4e38f;  // the largest floats are finite
  check("large finite", -1);
}

int main() {
  std::mt19937 rng(1234);
  for (Isa isa : supported_isas()) {
    std::printf("# kernel variant %s\n", isa_name(isa));
    test_gemm(isa, rng);
    test_gemm_edges(isa, rng);
    test_gemm_races(isa, rng);
    test_gemm_packed(isa, rng);
    test_gemm_packed_both(isa);
    test_linear_chain(isa, rng);
    test_linear_backward(isa, rng);
    set_active_isa(isa);  // convolution dispatches its GEMMs through the active variant
    test_gemm_prepacked(isa);
    test_conv(isa, rng);
    test_conv_stride2(isa);
    test_conv_grid_runs(isa);
    test_conv_lanes_grouped(isa);
    test_conv_lanes(isa);
    test_epilogue_rows(isa);
    test_conv_mapped(isa);
    test_conv_packed_weights(isa);
    test_conv_grid_batched(isa);
    test_conv_grid_batched_weight(isa);
    test_conv_small_planes(isa);
    test_conv_pointwise_runs(isa);
    test_few_channels(isa);
    test_conv_trimmed_threads(isa);
    test_conv_dynamic_split(isa);
    test_columns(isa, rng);
    test_conv_direct(isa, rng);
    test_conv_direct_pool(isa, rng);
    test_small_net(isa);
    test_winograd(isa, rng);
    test_winograd_input_gradient(isa, rng);
    test_dense_map(isa);
    test_dense_layer(isa);
    test_depthwise_small(isa);
    test_depthwise_planes(isa);
    test_depthwise_3x3(isa);
    test_pointwise_weight(isa);
    test_inverted_residual(isa);
    test_convnext_mlp(isa);
    test_pool_vectors(isa);  // pooling dispatches through the active variant
    test_max_pool_pairs_backward(isa);
    test_adaptive_avg_vectors(isa);
    test_optim_vectors(isa, rng);  // so do the optimizers
    test_batch_norm_paths(rng);    // and batch normalization
    test_dropout_masks(isa);       // and dropout's draws
  }
  test_conv_algos(rng);
  test_pool_pad(rng);
  test_norm_activation_dropout(rng);
  test_augment(rng);
  test_auto_augment(rng);
  test_optim(rng);
  test_binary_broadcast(rng);
  test_work_split();
  test_first_nonfinite();
  test_layer_kernels(rng);
  std::printf("%d passed, %d failed\n", g_pass, g_fail);
  return g_fail == 0 ? 0 : 1;
}
