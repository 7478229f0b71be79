// ConvNeXt's fused block tail (conv/convnext_mlp.h) against the layers written out in double
// precision (LayerNorm over each pixel's channels, the two products, erf GELU, the layer scale
// and the residual), on the active ISA and 1, 2 and 3 threads: ConvNeXt-Tiny's stage shapes at
// CIFAR sizes (runs of whole images, a short last run, 1×1 maps; the last two stages' whole batch,
// also in chunks), channel counts off every lane count, maps whose hidden pixels go in bands (a
// short last band), the affine, biases and scale absent; then eval's cached packing: the per-call
// bits, used (doubled, it changes the output), and ignored when tagged for another ISA.
#include <cmath>
#include <string>
#include <vector>

#include "conv/convnext_mlp.h"
#include "test/check.h"

using namespace cnn;

namespace {

struct Case {
  int n, c, hidden;
  long pixels;
  bool affine;  // LayerNorm's affine, the biases and the layer scale present
};

std::vector<float> reference(const ConvnextMlpParams& p, const ConvnextMlpWeights& w, const std::vector<float>& d,
                             const std::vector<float>& x) {
  std::vector<float> y(x.size());
  std::vector<double> z(p.c), h(p.hidden);
  for (int i = 0; i < p.n; ++i)
    for (long q = 0; q < p.pixels; ++q) {
      const auto at = [&](int c) { return ((long)i * p.c + c) * p.pixels + q; };
      double mean = 0, var = 0;
      for (int c = 0; c < p.c; ++c) mean += d[at(c)];
      mean /= p.c;
      for (int c = 0; c < p.c; ++c) var += (d[at(c)] - mean) * (d[at(c)] - mean);
      const double rstd = 1.0 / std::sqrt(var / p.c + p.eps);
      for (int c = 0; c < p.c; ++c) z[c] = (d[at(c)] - mean) * rstd * (w.ln_w ? w.ln_w[c] : 1.0) + (w.ln_b ? w.ln_b[c] : 0.0);
      for (int k = 0; k < p.hidden; ++k) {
        double s = w.fc1_b ? w.fc1_b[k] : 0.0;
        for (int c = 0; c < p.c; ++c) s += (double)w.fc1_w[(long)k * p.c + c] * z[c];
        h[k] = 0.5 * s * std::erfc(-s / std::sqrt(2.0));
      }
      for (int c = 0; c < p.c; ++c) {
        double s = w.fc2_b ? w.fc2_b[c] : 0.0;
        for (int k = 0; k < p.hidden; ++k) s += (double)w.fc2_w[(long)c * p.hidden + k] * h[k];
        y[at(c)] = (float)(x[at(c)] + (w.scale ? w.scale[c] : 1.0) * s);
      }
    }
  return y;
}

}  // namespace

void test_convnext_mlp(Isa isa) {
  std::mt19937 rng(91);
  const Case cases[] = {
      {7, 96, 384, 64, true},     // stage 1 at 32×32: runs of whole images, a short last run
      {5, 192, 768, 16, true},    // stage 2
      {9, 768, 3072, 1, true},    // stage 4: 1×1 maps, the batch whole (weights past L2)
      {5, 384, 1536, 4, true},    // stage 3: the batch whole, turned back from 2×2 maps
      {3, 272, 1000, 720, true},  // the batch whole in chunks of images (2, then 1)
      {3, 13, 37, 45, false},     // odd channels, no affine, biases or scale
      {2, 24, 96, 1500, true},    // hidden pixels past a run: bands, a short last one
      {1, 7, 29, 2000, false},
  };
  for (const Case& c : cases) {
    const ConvnextMlpParams p{c.n, c.c, c.hidden, c.pixels, 1e-6f};
    const size_t size = (size_t)c.n * c.c * c.pixels;
    const auto d = random_vec(size, rng), x = random_vec(size, rng);
    auto scaled = [&](size_t n, float by) {
      auto v = random_vec(n, rng);
      for (float& e : v) e *= by;
      return v;
    };
    const auto lw = scaled(c.c, 1.0f), lb = scaled(c.c, 0.5f), b2 = scaled(c.c, 0.5f), g = scaled(c.c, 1.0f);
    const auto w1 = scaled((size_t)c.hidden * c.c, 1.0f / std::sqrt((float)c.c)), b1 = scaled(c.hidden, 0.5f);
    const auto w2 = scaled((size_t)c.c * c.hidden, 1.0f / std::sqrt((float)c.hidden));
    ConvnextMlpWeights w;
    w.fc1_w = w1.data(), w.fc2_w = w2.data();
    if (c.affine) w.ln_w = lw.data(), w.ln_b = lb.data(), w.fc1_b = b1.data(), w.fc2_b = b2.data(), w.scale = g.data();
    const auto want = reference(p, w, d, x);
    const std::string name = std::string("convnext mlp ") + isa_name(isa) + " " + std::to_string(c.c) + "-" + std::to_string(c.hidden) +
                             " " + std::to_string(c.pixels) + " px";
    for (int threads : {1, 2, 3}) {
      std::vector<float> got(size, NAN);
      convnext_mlp_forward(p, w, d.data(), x.data(), got.data(), threads);
      // Float sums over up to 3072 products of values of order 1: 2e-4 absolute and relative.
      check_close(name + " threads " + std::to_string(threads), got, want, 2e-4f, 2e-4f);
    }
    std::vector<float> packed(convnext_mlp_packed_floats(p)), plain(size), got(size, NAN);
    convnext_mlp_pack(p, w, packed.data());
    convnext_mlp_forward(p, w, d.data(), x.data(), plain.data(), 2);
    ConvnextMlpWeights cached = w;
    cached.packed = packed.data();
    convnext_mlp_forward(p, cached, d.data(), x.data(), got.data(), 2);
    check_close(name + " packed, equal bits", got, plain, 0.0f, 0.0f);
    for (size_t i = 0; i + 1 < packed.size(); ++i) packed[i] *= 2.0f;  // every weight doubled, the tag kept
    convnext_mlp_forward(p, cached, d.data(), x.data(), got.data(), 2);
    if (got == plain) std::printf("FAIL %s: the packed weights were not used\n", name.c_str()), ++g_fail;
    else ++g_pass;
    packed.back() = (float)((int)isa * 16 + 16);  // another ISA's tag
    convnext_mlp_forward(p, cached, d.data(), x.data(), got.data(), 2);
    check_close(name + " another ISA's tag ignored", got, plain, 0.0f, 0.0f);
  }
}
