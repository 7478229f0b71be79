// im2col and col2im_add (conv/columns.h) on every active ISA against index loops written from
// the definition, on the shapes the vector kernels (conv/columns_small.h: whole small planes, and
// rows) take and on their neighbours that must fall back: planes of 4 to 16 floats, 1 to 25 taps,
// rows of 2 to 17 pixels, strides 1 to 3, dilation, asymmetric padding, whole images, whole rows
// and pixel ranges, columns side by side (ldc > pixels).
#include <cstdio>
#include <string>

#include "conv/columns.h"
#include "conv/columns_small.h"
#include "test/check.h"

using namespace cnn;

namespace {

// Input plane index of tap (ki, kj) at output pixel q, or -1 where it reads padding.
long tap_source(const Conv2dParams& p, int ki, int kj, int q) {
  const int ih = q / p.out_w() * p.stride_h + ki * p.dil_h - p.pad_t;
  const int iw = q % p.out_w() * p.stride_w + kj * p.dil_w - p.pad_l;
  return ih >= 0 && ih < p.h && iw >= 0 && iw < p.w ? (long)ih * p.w + iw : -1;
}

void check_columns(const Conv2dParams& p, int cig, int q0, int q1, long ldc, const std::string& label, std::mt19937& rng) {
  const int taps = p.kh * p.kw;
  const auto x = random_vec((size_t)cig * p.h * p.w, rng);
  std::vector<float> col(cig * taps * ldc, 7.0f), want = col;
  for (int c = 0; c < cig; ++c)
    for (int t = 0; t < taps; ++t)
      for (int q = q0; q < q1; ++q) {
        const long s = tap_source(p, t / p.kw, t % p.kw, q);
        want[(c * taps + t) * ldc + q - q0] = s < 0 ? 0.0f : x[c * p.h * p.w + s];
      }
  im2col(p, x.data(), cig, q0, q1, col.data(), ldc);
  char name[160];
  std::snprintf(name, sizeof name, "%s cig=%d %dx%d k%dx%d s%d,%d d%d,%d pad %d,%d,%d,%d q[%d,%d) ldc=%ld", label.c_str(), cig, p.h,
                p.w, p.kh, p.kw, p.stride_h, p.stride_w, p.dil_h, p.dil_w, p.pad_t, p.pad_b, p.pad_l, p.pad_r, q0, q1, ldc);
  check_close(std::string(name) + " im2col", col, want, 0.0f, 0.0f);  // copies: exact, and lanes past q1 untouched

  const auto src = random_vec(col.size(), rng);
  auto dx = random_vec(x.size(), rng), dx_want = dx;
  for (int c = 0; c < cig; ++c)
    for (int t = 0; t < taps; ++t)
      for (int q = q0; q < q1; ++q) {
        const long s = tap_source(p, t / p.kw, t % p.kw, q);
        if (s >= 0) dx_want[c * p.h * p.w + s] += src[(c * taps + t) * ldc + q - q0];
      }
  col2im_add(p, src.data(), cig, q0, q1, ldc, dx.data());
  check_close(std::string(name) + " col2im_add", dx, dx_want, 1e-5f, 1e-5f);  // summed in another order by rows
}

}  // namespace

void test_columns(Isa isa, std::mt19937& rng) {
  // n, cin, h, w, cout, kh, kw, sh, sw, pt, pb, pl, pr, dh, dw, groups (n, cout, groups unused)
  const Conv2dParams cases[] = {
      {1, 5, 4, 4, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},   // ResNet layer2 at CIFAR sizes: 16 in, 16 out
      {1, 7, 2, 2, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},   // layer3: 4 in, 4 out
      {1, 3, 4, 4, 1, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1},   // layer3's first, stride 2: 16 in, 4 out
      {1, 4, 4, 4, 1, 1, 1, 2, 2, 0, 0, 0, 0, 1, 1, 1},   // its downsample, 1×1 stride 2
      {1, 3, 3, 3, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},   // 9 pixels: partial vectors
      {1, 2, 3, 5, 1, 3, 3, 1, 1, 0, 1, 2, 1, 1, 1, 1},   // asymmetric padding, 15-float planes
      {1, 3, 4, 4, 1, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1, 1},   // 25 taps
      {1, 2, 4, 4, 1, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 1},   // dilation 2
      {1, 3, 2, 4, 1, 3, 3, 1, 2, 1, 1, 1, 1, 1, 1, 1},   // stride in one axis
      {1, 2, 4, 4, 1, 7, 7, 1, 1, 3, 3, 3, 3, 1, 1, 1},   // 49 taps: too many, falls back
      {1, 3, 8, 8, 1, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1},   // 64-float planes: fall back
      {1, 4, 1, 1, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},   // one pixel: falls back
      {1, 3, 2, 2, 1, 2, 2, 2, 2, 0, 0, 0, 0, 1, 1, 1},   // one pixel from 4 taps: falls back
      // By rows: 8×8 maps (ResNet's layer1), stride 2 from 8×8, the 7×7 stride-2 stem on 32×32
      // (16 outputs spanning 31 inputs: two loads), stride 3, dilation with asymmetric pads,
      // 16-pixel rows at stride 1, 17-pixel rows and a 35-input span (fall back)
      {1, 3, 8, 8, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
      {1, 2, 8, 8, 1, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1},
      {1, 2, 32, 32, 1, 7, 7, 2, 2, 3, 3, 3, 3, 1, 1, 1},
      {1, 2, 9, 14, 1, 3, 3, 2, 3, 1, 0, 2, 1, 1, 1, 1},
      {1, 2, 7, 11, 1, 5, 3, 1, 1, 3, 1, 0, 4, 2, 2, 1},
      {1, 2, 5, 16, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
      {1, 2, 4, 17, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
      {1, 2, 5, 36, 1, 5, 5, 1, 2, 2, 2, 1, 1, 1, 1, 1},
  };
  for (const auto& p : cases) {
    const int P = p.out_h() * p.out_w();
    const std::string label = std::string("columns[") + isa_name(isa) + "]";
    check_columns(p, p.c_in, 0, P, P, label, rng);
    check_columns(p, p.c_in, 0, P, 3L * P + 5, label, rng);  // an image among others side by side
    if (P > 2) check_columns(p, p.c_in, 1, P - 1, P, label, rng);  // a pixel range: the per-pixel loops
    const int OW = p.out_w(), OH = p.out_h();
    if (OH > 2) check_columns(p, p.c_in, OW, 2 * OW, 2 * OW + 3, label, rng);  // one whole row: by rows
  }
  // The small-plane kernels exist exactly where they are written.
  const bool want = isa == Isa::Avx512;
  if ((small_columns_for(isa) != nullptr) == want) ++g_pass;
  else { std::printf("FAIL small_columns_for(%s) %s\n", isa_name(isa), want ? "missing" : "unexpected"); ++g_fail; }
}
