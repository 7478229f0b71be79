// The fused ConvNeXt block tail (convnext_mlp.h). Where the two Linear layers' weights fit in
// cache beside an item (the first stages), items are runs of whole images, or on maps whose
// hidden pixels outgrow kRunFloats, one image's bands of pixels. Per item, on one thread:
//   Z (pixels × c, channel-last) = the item's NCHW planes turned, each row normalized;
//   H (pixels × hidden) = GELU(Z · W1ᵀ + b1), W1 packed once with LayerNorm's affine folded in;
//   Y (c × pixels) = W2 · Hᵀ, W2 packed once with γ folded in, written straight into NCHW rows
//   (through a scratch block when the item holds several images), then + b2 + x.
// Where they do not (the last stages: 2 × 384 × 1536 and 2 × 768 × 3072 floats), every item would
// stream both weights from memory for a few dozen pixels, so the batch goes whole (in chunks of
// images) through the same steps as threaded products: Z for all its pixels, H = GELU(Z · W1ᵀ +
// b1), Yᵀ = H · W2ᵀ, each thread reading its share of a weight once.
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
// Floats of both weights above which the batch goes whole (the file's comment): 2 MiB, twice L2.
constexpr long kWholeBatchWeightFloats = 512L << 10;
// Floats of H per chunk of images on the whole-batch path.
constexpr long kChunkFloats = 2L << 20;

bool whole_batch(const ConvnextMlpParams& p) { return 2L * p.c * p.hidden > kWholeBatchWeightFloats; }

struct Packed {
  // Per item: (W1 · diag(ln_w))ᵀ packed by sgemm_pack_bt (64-byte aligned) and diag(γ) · W2 by
  // sgemm_pack_a. Whole batch: the same two as right factors, by sgemm_prepack_b.
  float* fc1;
  float* b1;   // b1 + W1 · ln_b
  float* fc2;
  float* b2;   // γ ⊙ b2
  float* tag;  // their packed_tag
};

long fc1_floats(Isa isa, const ConvnextMlpParams& p) {
  return whole_batch(p) ? sgemm_prepacked_b_floats(isa, p.hidden, p.c) : sgemm_packed_bt_floats(isa, p.hidden, p.c);
}

long fc2_floats(Isa isa, const ConvnextMlpParams& p) {
  return whole_batch(p) ? sgemm_prepacked_b_floats(isa, p.c, p.hidden) : sgemm_packed_a_floats(isa, p.c, p.hidden);
}

Packed layout(Isa isa, const ConvnextMlpParams& p, float* base) {
  Packed s;
  s.fc1 = whole_batch(p) ? base : aligned_64(base);
  s.b1 = s.fc1 + fc1_floats(isa, p);
  s.fc2 = s.b1 + p.hidden;
  s.b2 = s.fc2 + fc2_floats(isa, p);
  s.tag = base + convnext_mlp_packed_floats(p) - 1;
  return s;
}

Packed share(Isa isa, const ConvnextMlpParams& p, const ConvnextMlpWeights& w) {
  const float* base = cached_or_packed(isa, w.packed, convnext_mlp_packed_floats(p), [&](float* out) { convnext_mlp_pack(p, w, out); });
  return layout(isa, p, const_cast<float*>(base));
}

// Σ v[k] for k < c in 8 running sums (vectorized; one sum in order was a chain of scalar adds).
template <class Term>
float sum_of(int c, Term term) {
  float acc[8] = {};
  int k = 0;
  for (; k + 8 <= c; k += 8)
    for (int j = 0; j < 8; ++j) acc[j] += term(k + j);
  for (; k < c; ++k) acc[k & 7] += term(k);
  return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
}

// Each of `rows` rows of c floats in place: (z − mean) / √(var + eps), biased variance (LayerNorm).
void normalize_rows(float* z, long rows, int c, float eps) {
  for (long r = 0; r < rows; ++r) {
    float* __restrict zr = z + r * c;
    const float mean = sum_of(c, [&](int k) { return zr[k]; }) / (float)c;
    const float sq = sum_of(c, [&](int k) { return (zr[k] - mean) * (zr[k] - mean); });
    const float rstd = 1.0f / std::sqrt(sq / (float)c + eps);
    for (int k = 0; k < c; ++k) zr[k] = (zr[k] - mean) * rstd;
  }
}

// The whole-batch path (the file's comment), a chunk of images at a time.
void whole_batch_forward(Isa isa, const ConvnextMlpParams& p, const Packed& f, const float* d, const float* x, float* y,
                         int threads) {
  const DepthwisePixels& K = depthwise_pixels_for(isa);
  const GatedRows& G = gated_rows_for(isa);
  const int C = p.c, Hd = p.hidden;
  const long HW = p.pixels;
  const int chunk = (int)std::max<long>(1, std::min<long>(p.n, kChunkFloats / (HW * Hd)));
  // Rows of H per item of the bias and GELU pass.
  const long gelu_rows = std::max<long>(1, (16L << 10) / Hd);
  thread_local std::vector<float> z_v, h_v;
  float* Z = grow(z_v, chunk * HW * C);  // then Yᵀ
  float* H = grow(h_v, chunk * HW * Hd);
  for (int i0 = 0; i0 < p.n; i0 += chunk) {
    const int images = std::min(chunk, p.n - i0);
    const long P = images * HW;
#pragma omp parallel for num_threads(threads) schedule(dynamic) if (threads > 1 && images > 1)
    for (int i = 0; i < images; ++i) {
      transpose_planes(d + (long)(i0 + i) * C * HW, HW, C, HW, Z + i * HW * C);
      normalize_rows(Z + i * HW * C, HW, C, p.eps);
    }
    sgemm_packed_b(isa, false, (int)P, Hd, C, 1.0f, Z, C, f.fc1, 0.0f, H, Hd, threads);
#pragma omp parallel for num_threads(threads) schedule(dynamic) if (threads > 1 && P > gelu_rows)
    for (long r0 = 0; r0 < P; r0 += gelu_rows) {
      const long rows = std::min(gelu_rows, P - r0);
      K.bias_clamp(rows, Hd, f.b1, -INFINITY, INFINITY, H + r0 * Hd);
      G.forward(Gated::kGeluErf, H + r0 * Hd, H + r0 * Hd, rows * Hd);
    }
    sgemm_packed_b(isa, false, (int)P, C, Hd, 1.0f, H, Hd, f.fc2, 0.0f, Z, C, threads);
    // y = x + b2 + Yᵀ turned back to NCHW.
#pragma omp parallel for num_threads(threads) schedule(dynamic) if (threads > 1 && images > 1)
    for (int i = 0; i < images; ++i) {
      const long at = (long)(i0 + i) * C * HW;
      float* __restrict yi = y + at;
      const float* __restrict xi = x + at;
      const float* __restrict t = Z + i * HW * C;
      for (long q = 0; q < HW; ++q)
        for (int c = 0; c < C; ++c) yi[c * HW + q] = xi[c * HW + q] + (f.b2[c] + t[q * C + c]);
    }
  }
}

}  // namespace

long convnext_mlp_packed_floats(const ConvnextMlpParams& p) {
  const Isa isa = active_isa();
  return 16 + fc1_floats(isa, p) + p.hidden + fc2_floats(isa, p) + p.c + 1;
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
  if (whole_batch(p)) {
    sgemm_prepack_b(isa, true, p.hidden, p.c, w1.data(), p.c, s.fc1);
    sgemm_prepack_b(isa, true, p.c, p.hidden, w2.data(), p.hidden, s.fc2);
  } else {
    sgemm_pack_bt(isa, p.hidden, p.c, w1.data(), p.c, s.fc1);
    sgemm_pack_a(isa, false, p.c, p.hidden, w2.data(), p.hidden, s.fc2);
  }
  *s.tag = packed_tag(isa, out);
}

void convnext_mlp_forward(const ConvnextMlpParams& p, const ConvnextMlpWeights& w, const float* d, const float* x, float* y,
                          int threads) {
  const Isa isa = active_isa();
  const Packed f = share(isa, p, w);
  if (whole_batch(p)) return whole_batch_forward(isa, p, f, d, x, y, threads);
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
      sgemm_packed_both(isa, (int)P, Hd, C, 1.0f, ap, f.fc1, C, 0, 0.0f, H, Hd);
      K.bias_clamp(P, Hd, f.b1, -INFINITY, INFINITY, H);
      G.forward(Gated::kGeluErf, H, H, P * Hd);
      // One image: the product lands in y's pixels q0.. of every channel; several: in scratch.
      float* yi = y + (long)i0 * C * HW + q0;
      float* out = images == 1 ? yi : grow(o_v, (long)C * P);
      sgemm_packed(isa, C, (int)P, Hd, 1.0f, f.fc2, true, H, Hd, 0.0f, out, images == 1 ? (int)HW : (int)P);
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
