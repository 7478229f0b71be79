// The fused ConvNeXt block tail (convnext_mlp.h). Items are runs of whole images, or on maps whose
// hidden pixels outgrow kRunFloats, one image's bands of pixels. Per item, on one thread:
//   Z (pixels × c, channel-last) = the item's NCHW planes turned, each row normalized;
//   H (pixels × hidden) = GELU(Z · W1ᵀ + b1), W1 packed once with LayerNorm's affine folded in;
//   Y (c × pixels) = W2 · Hᵀ, W2 packed once with γ folded in, written straight into NCHW rows
//   (through a scratch block when the item holds several images), then + b2 + x.
#include "conv/convnext_mlp.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "activation/gated_rows.h"
#include "conv/depthwise_pixels.h"
#include "conv/planes.h"
#include "conv/work.h"
#include "gemm/gemm.h"

namespace cnn {

namespace {

// Floats of hidden pixels per item, and up to which an item is a run of whole images (as
// inverted_residual.cc): with Z, the packed left factor and the packed weights it stays in L2.
constexpr long kItemFloats = 64L << 10;
constexpr long kRunFloats = 128L << 10;
constexpr long kMinBandPixels = 16;

struct Packed {
  float* fc1_bt;  // (W1 · diag(ln_w))ᵀ packed by sgemm_pack_bt, 64-byte aligned
  float* b1;      // b1 + W1 · ln_b
  float* fc2_a;   // diag(γ) · W2 packed by sgemm_pack_a
  float* b2;      // γ ⊙ b2
  float* tag;     // their packed_tag
};

Packed layout(Isa isa, const ConvnextMlpParams& p, float* base) {
  Packed s;
  s.fc1_bt = aligned_64(base);
  s.b1 = s.fc1_bt + sgemm_packed_bt_floats(isa, p.hidden, p.c);
  s.fc2_a = s.b1 + p.hidden;
  s.b2 = s.fc2_a + sgemm_packed_a_floats(isa, p.c, p.hidden);
  s.tag = base + convnext_mlp_packed_floats(p) - 1;
  return s;
}

Packed share(Isa isa, const ConvnextMlpParams& p, const ConvnextMlpWeights& w) {
  const float* base = cached_or_packed(isa, w.packed, convnext_mlp_packed_floats(p), [&](float* out) { convnext_mlp_pack(p, w, out); });
  return layout(isa, p, const_cast<float*>(base));
}

// Each of `rows` rows of c floats in place: (z − mean) / √(var + eps), biased variance (LayerNorm).
void normalize_rows(float* z, long rows, int c, float eps) {
  for (long r = 0; r < rows; ++r) {
    float* __restrict zr = z + r * c;
    float sum = 0.0f;
    for (int k = 0; k < c; ++k) sum += zr[k];
    const float mean = sum / (float)c;
    float sq = 0.0f;
    for (int k = 0; k < c; ++k) sq += (zr[k] - mean) * (zr[k] - mean);
    const float rstd = 1.0f / std::sqrt(sq / (float)c + eps);
    for (int k = 0; k < c; ++k) zr[k] = (zr[k] - mean) * rstd;
  }
}

}  // namespace

long convnext_mlp_packed_floats(const ConvnextMlpParams& p) {
  const Isa isa = active_isa();
  return 16 + sgemm_packed_bt_floats(isa, p.hidden, p.c) + p.hidden + sgemm_packed_a_floats(isa, p.c, p.hidden) + p.c + 1;
}

void convnext_mlp_pack(const ConvnextMlpParams& p, const ConvnextMlpWeights& w, float* out) {
  const Isa isa = active_isa();
  const Packed s = layout(isa, p, out);
  std::vector<float> w1((size_t)p.hidden * p.c), w2((size_t)p.c * p.hidden);
  for (int h = 0; h < p.hidden; ++h) {
    double b = w.fc1_b ? w.fc1_b[h] : 0.0;
    for (int k = 0; k < p.c; ++k) {
      const float wk = w.fc1_w[(long)h * p.c + k];
      w1[(size_t)h * p.c + k] = w.ln_w ? wk * w.ln_w[k] : wk;
      if (w.ln_b) b += (double)wk * w.ln_b[k];
    }
    s.b1[h] = (float)b;
  }
  for (int k = 0; k < p.c; ++k) {
    const float g = w.scale ? w.scale[k] : 1.0f;
    for (int h = 0; h < p.hidden; ++h) w2[(size_t)k * p.hidden + h] = g * w.fc2_w[(long)k * p.hidden + h];
    s.b2[k] = g * (w.fc2_b ? w.fc2_b[k] : 0.0f);
  }
  sgemm_pack_bt(isa, p.hidden, p.c, w1.data(), p.c, s.fc1_bt);
  sgemm_pack_a(isa, false, p.c, p.hidden, w2.data(), p.hidden, s.fc2_a);
  *s.tag = packed_tag(isa, out);
}

void convnext_mlp_forward(const ConvnextMlpParams& p, const ConvnextMlpWeights& w, const float* d, const float* x, float* y,
                          int threads) {
  const Isa isa = active_isa();
  const Packed f = share(isa, p, w);
  const DepthwisePixels& K = depthwise_pixels_for(isa);
  const GatedRows& G = gated_rows_for(isa);
  const int C = p.c, Hd = p.hidden;
  const long HW = p.pixels, per_image = HW * Hd;
  // Runs of whole images (at least two items a thread), or bands of one image's pixels.
  int run = 1;
  long band = HW, bands = 1;
  if (per_image <= kRunFloats) {
    run = (int)std::max<long>(1, std::min<long>(kRunFloats / per_image, (p.n + 2L * threads - 1) / (2L * threads)));
  } else {
    band = std::min(HW, std::max(kMinBandPixels, kItemFloats / Hd));
    bands = (HW + band - 1) / band;
  }
  const long items = bands > 1 ? p.n * bands : (p.n + run - 1) / run;
#pragma omp parallel num_threads(threads) if (threads > 1 && items > 1)
  {
    thread_local std::vector<float> z_v, ap_v, h_v, o_v;
    const ConvEpilogue none;
#pragma omp for schedule(dynamic)
    for (long it = 0; it < items; ++it) {
      const int i0 = bands > 1 ? (int)(it / bands) : (int)it * run;
      const int images = bands > 1 ? 1 : std::min(run, p.n - i0);
      const long q0 = bands > 1 ? (it % bands) * band : 0, per = std::min(band, HW - q0), P = images * per;
      float* Z = grow(z_v, P * C);
      for (int i = 0; i < images; ++i) transpose_planes(d + (long)(i0 + i) * C * HW + q0, HW, C, per, Z + i * per * C);
      normalize_rows(Z, P, C, p.eps);
      float* ap = grow(ap_v, sgemm_packed_a_floats(isa, (int)P, C));
      sgemm_pack_a(isa, false, (int)P, C, Z, C, ap);
      float* H = grow(h_v, P * Hd);
      sgemm_packed_both(isa, (int)P, Hd, C, 1.0f, ap, f.fc1_bt, C, 0, 0.0f, H, Hd);
      K.bias_clamp(P, Hd, f.b1, -INFINITY, INFINITY, H);
      G.forward(Gated::kGeluErf, H, H, P * Hd);
      // One image: the product lands in y's pixels q0.. of every channel; several: in scratch.
      float* yi = y + (long)i0 * C * HW + q0;
      float* out = images == 1 ? yi : grow(o_v, (long)C * P);
      sgemm_packed(isa, C, (int)P, Hd, 1.0f, f.fc2_a, true, H, Hd, 0.0f, out, images == 1 ? (int)HW : (int)P);
      for (int i = 0; i < images; ++i)
        for (int c = 0; c < C; ++c) {
          float* dst = yi + ((long)i * C + c) * HW;
          const float* src = images == 1 ? dst : out + c * P + i * per;
          epilogue_run(dst, src, per, f.b2[c], x + (dst - y), none);
        }
    }
  }
}

}  // namespace cnn
