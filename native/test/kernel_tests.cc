// Runs the C++ kernels directly: every ISA variant this CPU supports against gemm_ref and
// conv2d_ref on odd shapes. Prints one line per failure and "N passed, M failed".
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "augment/augment.h"
#include "conv/conv.h"
#include "cpu/cpu.h"
#include "gemm/gemm.h"

using namespace cnn;

static int g_pass = 0, g_fail = 0;

static std::vector<float> random_vec(size_t n, std::mt19937& rng) {
  std::uniform_real_distribution<float> d(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

static void check_close(const std::string& name, const std::vector<float>& got,
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

static void test_gemm(Isa isa, std::mt19937& rng) {
  const int shapes[][3] = {{1, 1, 1},   {7, 5, 3},    {13, 17, 19}, {6, 16, 256},
                           {12, 32, 1}, {33, 65, 257}, {100, 37, 300}, {64, 200, 576},
                           {150, 4100, 20}, {5, 3, 0}};
  for (auto& s : shapes) {
    const int m = s[0], n = s[1], k = s[2];
    for (int ta = 0; ta < 2; ++ta)
      for (int tb = 0; tb < 2; ++tb)
        for (int threads : {1, 3}) {
          const int lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 1, ldc = n + 2;
          auto A = random_vec((size_t)(ta ? k : m) * lda + 1, rng);
          auto B = random_vec((size_t)(tb ? n : k) * ldb + 1, rng);
          auto C0 = random_vec((size_t)m * ldc, rng);
          for (float beta : {0.0f, 0.5f}) {
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

static void test_conv(Isa isa, std::mt19937& rng) {
  // n, cin, h, w, cout, kh, kw, sh, sw, pt, pb, pl, pr, dh, dw, groups
  const Conv2dParams cases[] = {
      {2, 3, 9, 11, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
      {1, 4, 8, 8, 6, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1},   // pointwise
      {3, 6, 7, 9, 6, 3, 3, 2, 1, 1, 0, 2, 1, 1, 1, 6},   // depthwise, stride in one axis
      {5, 6, 10, 10, 4, 3, 2, 1, 2, 2, 1, 0, 1, 2, 1, 2}, // groups + dilation + asymmetric pad
      {2, 17, 5, 5, 19, 5, 5, 1, 1, 0, 0, 0, 0, 1, 1, 1}, // 1×1 output, odd channels
      {4, 9, 12, 6, 18, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 9}, // depthwise multiplier 2 (grouped path)
      {2, 16, 16, 16, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
  };
  for (const auto& p : cases) {
    const size_t xs = (size_t)p.n * p.c_in * p.h * p.w;
    const size_t ws = (size_t)p.c_out * (p.c_in / p.groups) * p.kh * p.kw;
    const size_t ys = (size_t)p.n * p.c_out * p.out_h() * p.out_w();
    auto x = random_vec(xs, rng), w = random_vec(ws, rng), b = random_vec(p.c_out, rng);
    auto dy = random_vec(ys, rng);
    for (int threads : {1, 2, 4}) {
      char name[160];
      std::snprintf(name, sizeof name, "conv[%s] cin=%d cout=%d %dx%d k%dx%d s%d,%d g%d threads=%d",
                    isa_name(isa), p.c_in, p.c_out, p.h, p.w, p.kh, p.kw, p.stride_h, p.stride_w,
                    p.groups, threads);
      std::vector<float> y_ref(ys), y(ys), dx_ref(xs), dx(xs), dw_ref(ws), dw(ws), db_ref(p.c_out), db(p.c_out);
      conv2d_ref_forward(p, x.data(), w.data(), b.data(), y_ref.data());
      conv2d_forward(p, x.data(), w.data(), b.data(), y.data(), threads);
      check_close(std::string(name) + " forward", y, y_ref, 1e-4f, 1e-4f);
      conv2d_ref_backward_input(p, dy.data(), w.data(), dx_ref.data());
      conv2d_backward_input(p, dy.data(), w.data(), dx.data(), threads);
      check_close(std::string(name) + " dx", dx, dx_ref, 1e-4f, 1e-4f);
      conv2d_ref_backward_weight(p, x.data(), dy.data(), dw_ref.data(), db_ref.data());
      conv2d_backward_weight(p, x.data(), dy.data(), dw.data(), db.data(), threads);
      check_close(std::string(name) + " dw", dw, dw_ref, 1e-3f, 1e-4f);
      check_close(std::string(name) + " db", db, db_ref, 1e-3f, 1e-4f);
    }
  }
}


// Augmentation: a sample depends only on its image and seed (not on the thread count or its
// place in the batch); the per-sample generator is the TypeScript Generator's stream.
static void test_augment(std::mt19937& rng) {
  AugPipeline p;
  p.c = 3; p.h = 12; p.w = 10;
  AugOp crop; crop.kind = AugKind::RandomCrop; crop.out_h = 12; crop.out_w = 10;
  crop.pad_l = crop.pad_t = crop.pad_r = crop.pad_b = 3; crop.mode = PadMode::Reflect;
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

int main() {
  std::mt19937 rng(1234);
  for (Isa isa : supported_isas()) {
    std::printf("# kernel variant %s\n", isa_name(isa));
    test_gemm(isa, rng);
    set_active_isa(isa);  // convolution dispatches its GEMMs through the active variant
    test_conv(isa, rng);
  }
  test_augment(rng);
  std::printf("%d passed, %d failed\n", g_pass, g_fail);
  return g_fail == 0 ? 0 : 1;
}
