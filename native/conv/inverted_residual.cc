// The fused inverted residual block (inverted_residual.h). Items are runs of whole images, or on
// maps whose expanded pixels outgrow kRunFloats (and without squeeze-and-excitation, whose mean
// needs every pixel of an image), or with fewer images than threads, bands of output rows: one
// image's bands in order where the batch gives every thread two images (the input rows a band
// shares with the last stay expanded and move to the buffer's start), else single bands (those
// rows expanded twice; with squeeze-and-excitation in two passes around the scales: Plan::se_bands).
// Per item and band, on one thread:
//   expand:    H (pixels × hidden, channel-last) = Xᵀ · W_eᵀ, X the item's NCHW planes read as a
//              transposed left factor, W_e packed once per call; then bias and clamp over H;
//   depthwise: D (output pixels × hidden) from H, taps × vector FMA, bias and clamp (then a gated
//              activation over D, and the squeeze-and-excitation's per-image scaling);
//   project:   Y (c_out × output pixels) = W_p · Dᵀ, W_p packed once, written straight into NCHW
//              (through a scratch block when the item holds several images), then bias and residual.
#include "conv/inverted_residual.h"

#include <omp.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "activation/activation.h"
#include "activation/gated_rows.h"
#include "conv/depthwise_pixels.h"
#include "conv/depthwise_rows.h"
#include "conv/planes.h"
#include "conv/work.h"
#include "gemm/gemm.h"

namespace cnn {

namespace {

// Floats of expanded pixels per item: with the depthwise output, the packed left factor and the
// packed weights it stays inside a 1 MiB L2.
constexpr long kItemFloats = 64L << 10;
// Floats of expanded pixels up to which an item is a run of whole images, not bands: twice an item,
// so that 14×14 maps (384 and 576 channels) go whole and 7×7 ones two images a run, widening the
// projection's 196- and 49-pixel products that leave a short column panel (MobileNetV2 at
// 16×3×224×224, 1 thread, CPU ms per block against 64K, interleaved: the 14×14 and 7×7 blocks
// 5-10% faster, e.g. 160 → 960 → 320 on 7×7 4.50-4.73 → 4.03-4.30; at 128×3×32×32 within noise).
constexpr long kRunFloats = 128L << 10;
// Output rows per band at least, so that re-expanding the rows two bands share stays cheap.
constexpr int kMinBandRows = 4;

struct Plan {
  int run;       // images per item
  int rows;      // output rows per band
  int bands;     // bands per image
  bool rolling;  // an item is one image's bands in order, each expanding only the rows the last did not
  // Squeeze-and-excitation over bands (few images): every band's depthwise output and channel
  // sums first, then each image's scales, then every band's projection.
  bool se_bands;
  long items;
};

Plan plan(const InvertedResidualParams& p, int threads) {
  const Conv2dParams& d = p.dw;
  const int OH = d.out_h();
  const long per_image = (long)d.h * d.w * p.hidden;
  Plan s;
  s.rolling = false;
  // Fewer images than threads (batch 1 at 224×224: the 14×14 and 7×7 blocks) would leave all but
  // one thread idle as runs of whole images: those maps go in bands too, re-expanding the rows
  // two bands share; with squeeze-and-excitation, whose scales need every pixel, in two passes
  // (se_bands).
  const bool few_images = p.n < threads && OH > kMinBandRows;
  s.se_bands = p.squeeze > 0 && few_images;
  if (!few_images && (p.squeeze > 0 || per_image <= kRunFloats)) {
    // As many images as fit, but at least two items a thread, handed out dynamically.
    const int share = (p.n + 2 * threads - 1) / (2 * threads);
    s.run = std::max(1, std::min((int)(kRunFloats / per_image), share));
    s.rows = OH, s.bands = 1;
    s.items = (p.n + s.run - 1) / s.run;
    return s;
  }
  const int fit = (int)std::max<long>(1, kItemFloats / ((long)d.w * p.hidden)), reach = (d.kh - 1) * d.dil_h + 1;
  s.run = 1;
  s.rows = std::min(OH, std::max(kMinBandRows, fit >= reach ? (fit - reach) / d.stride_h + 1 : 1));
  // Few images: at least two bands a thread where the rows allow.
  if (few_images) s.rows = std::min(s.rows, std::max(kMinBandRows, (OH * p.n + 2 * threads - 1) / (2 * threads)));
  s.bands = (OH + s.rows - 1) / s.rows;
  // With two images a thread, each thread runs whole images band after band and expands every
  // input row once; fewer images share out their bands, expanding the rows two bands read twice.
  s.rolling = s.bands > 1 && p.n >= 2 * threads;
  s.items = s.rolling ? p.n : (long)p.n * s.bands;
  return s;
}

// A block without expansion at stride 1 stays on NCHW planes: per image and band of output rows,
// each channel's input rows go zero-padded into a small buffer, the depthwise taps run along its
// rows (depthwise_rows.h), and the band's depthwise planes, in cache, are the projection's right
// factor read where they lie (rows of the padded width, the padding columns skipped). The
// channel-last route would transpose the input in and the depthwise output back for nothing:
// there is no expanded map to keep in cache.
bool on_planes(const InvertedResidualParams& p, const InvertedResidualWeights& w) {
  return !w.expand_w && p.dw.stride_h == 1 && p.dw.stride_w == 1 && p.squeeze == 0 && w.dw_gate == kNoGate;
}

// A gate (kNoGate, a Gated kind, kSigmoidGate) over y[0, n) in place, on the calling thread.
void gate_rows(const GatedRows& G, int gate, float* y, long n) {
  if (gate == kSigmoidGate) G.sigmoid(y, y, n);
  else if (gate != kNoGate) G.forward((Gated)gate, y, y, n);
}

// The same over the threads (the layer-by-layer path).
void gate_all(int gate, float* y, long n, int threads) {
  if (gate == kSigmoidGate) sigmoid_forward(y, y, n, threads);
  else if (gate != kNoGate) gated_forward((Gated)gate, y, y, n, threads);
}

// rows × cols in place: + b[col] (b may be null), clamped to [lo, hi], then the gate.
void bias_act_rows(const DepthwisePixels& K, const GatedRows& G, int rows, int cols, const float* b, float lo, float hi, int gate,
                   float* y) {
  K.bias_clamp(rows, cols, b, lo, hi, y);
  gate_rows(G, gate, y, (long)rows * cols);
}

void planes_forward(Isa isa, const InvertedResidualParams& p, const InvertedResidualWeights& w, const float* project_a,
                    const float* x, const float* residual, float* y, int threads) {
  const Conv2dParams& d = p.dw;
  const DepthwiseRows& K = depthwise_rows_for(isa);
  const int OH = d.out_h(), OW = d.out_w(), C = p.hidden, taps = d.kh * d.kw;
  const int Wp = d.w + d.pad_l + d.pad_r, reach = (d.kh - 1) * d.dil_h + 1;
  const long HW = (long)d.h * d.w, OHW = (long)OH * OW;
  // Output rows per band: the band's depthwise planes within kItemFloats.
  const int rows = (int)std::max<long>(1, std::min<long>(OH, kItemFloats / ((long)C * Wp)));
  const int bands = (OH + rows - 1) / rows;
  const long plane = (long)rows * Wp, padded = (long)(rows + reach - 1) * Wp;
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    thread_local std::vector<float> pad_v, d_v;
    thread_local std::vector<const float*> src_v, rows_v;
    float* buf = grow(pad_v, padded);
    float* D = grow(d_v, (long)C * plane);
    src_v.resize(taps), rows_v.resize(C);
    const ConvEpilogue none;
#pragma omp for schedule(dynamic)
    for (long it = 0; it < (long)p.n * bands; ++it) {
      const int i = (int)(it / bands), o0 = (int)(it % bands) * rows, o1 = std::min(OH, o0 + rows), m = o1 - o0;
      // Padded rows [o0, o0 + m + reach - 1) are buffer rows from 0; input row r is padded row r + pad_t.
      const int r0 = std::max(0, o0 - d.pad_t), r1 = std::min(d.h, o0 + m + reach - 1 - d.pad_t);
      const long n = (long)(m - 1) * Wp + OW;
      for (int t = 0; t < taps; ++t) src_v[t] = buf + (long)(t / d.kw) * d.dil_h * Wp + (t % d.kw) * d.dil_w;
      // Zero once a band: every channel writes the same rows' image columns, so the padding and
      // the rows outside the image stay zero across channels.
      std::memset(buf, 0, sizeof(float) * (m + reach - 1) * Wp);
      for (int c = 0; c < C; ++c) {
        const float* xc = x + ((long)i * C + c) * HW;
        for (int r = r0; r < r1; ++r) std::memcpy(buf + (long)(r + d.pad_t - o0) * Wp + d.pad_l, xc + (long)r * d.w, sizeof(float) * d.w);
        K.taps_fma(n, taps, src_v.data(), w.dw_w + (long)c * taps, w.dw_b ? w.dw_b[c] : 0.0f, w.dw_lo, w.dw_hi, D + c * plane);
        rows_v[c] = D + c * plane;
      }
      float* yi = y + (long)i * p.c_out * OHW + (long)o0 * OW;
      sgemm_packed_rows(isa, p.c_out, m * OW, C, 1.0f, project_a, rows_v.data(), OW, Wp, 0.0f, yi, (int)OHW);
      for (int co = 0; co < p.c_out; ++co) {
        float* dst = yi + (long)co * OHW;
        epilogue_run(dst, dst, (long)m * OW, w.project_b ? w.project_b[co] : 0.0f, residual ? residual + (dst - y) : nullptr, none);
      }
    }
  }
}

PixelMap pixel_map(const Conv2dParams& d) {
  return PixelMap{d.h, d.w, d.c_in, d.kh, d.kw, d.stride_h, d.stride_w, d.pad_t, d.pad_l, d.dil_h, d.dil_w,
                  d.out_h(), d.out_w()};
}

// The factors shared by every item, in one buffer (inverted_residual_pack): eval's cached copy,
// or made once per call on the calling thread.
struct Shared {
  float* expand_bt = nullptr;  // W_eᵀ packed by sgemm_pack_bt (64-byte aligned), or null: no expansion
  float* dw_taps = nullptr;    // [tap][hidden]
  float* project_a = nullptr;  // W_p packed by sgemm_pack_a
  float* se_fc1_bt = nullptr;  // the squeeze-and-excitation's fc1ᵀ and fc2ᵀ as expand_bt, or null: none
  float* se_fc2_bt = nullptr;
  float* tag = nullptr;  // their packed_tag
};

// Floats of the packed factors, as layout places them.
long shared_floats(Isa isa, const InvertedResidualParams& p) {
  const long se = p.squeeze > 0 ? sgemm_packed_bt_floats(isa, p.squeeze, p.hidden) + sgemm_packed_bt_floats(isa, p.hidden, p.squeeze) + 32 : 0;
  return sgemm_packed_bt_floats(isa, p.hidden, p.c_in) + 16 + (long)p.dw.kh * p.dw.kw * p.hidden +
         sgemm_packed_a_floats(isa, p.c_out, p.hidden) + se + 1;
}

// Where each factor lies in a buffer of shared_floats from base: the packed expand weights at the
// first 64-byte boundary (16 floats to spare), the taps, the packed project weights, the
// squeeze-and-excitation's at the next boundaries, and the tag in the last float.
Shared layout(Isa isa, const InvertedResidualParams& p, bool expand, float* base) {
  Shared s;
  float* at = base;
  if (expand) s.expand_bt = aligned_64(base), at += sgemm_packed_bt_floats(isa, p.hidden, p.c_in) + 16;
  s.dw_taps = at, at += (long)p.dw.kh * p.dw.kw * p.hidden;
  s.project_a = at, at += sgemm_packed_a_floats(isa, p.c_out, p.hidden);
  if (p.squeeze > 0) {
    s.se_fc1_bt = aligned_64(at), at = s.se_fc1_bt + sgemm_packed_bt_floats(isa, p.squeeze, p.hidden);
    s.se_fc2_bt = aligned_64(at);
  }
  s.tag = base + shared_floats(isa, p) - 1;
  return s;
}

// mid (images × squeeze) = act(mean · fc1ᵀ + b1), gate (images × hidden) = se_gate(mid · fc2ᵀ + b2):
// the squeeze-and-excitation's scales for `images` images whose channel means are the rows of
// mean, both products on the calling thread against the shared packed weights; ap (packing of the
// left factors) holds sgemm_packed_a_floats(isa, images, max(hidden, squeeze)).
void se_scales(Isa isa, const DepthwisePixels& K, const GatedRows& G, const InvertedResidualParams& p, const InvertedResidualWeights& w,
               const Shared& f, int images, const float* mean, float* mid, float* gate, float* ap) {
  const int C = p.hidden, S = p.squeeze;
  sgemm_pack_a(isa, false, images, C, mean, C, ap);
  sgemm_packed_both(isa, images, S, C, 1.0f, ap, f.se_fc1_bt, C, 0, 0.0f, mid, S);
  bias_act_rows(K, G, images, S, w.se_fc1_b, w.se_lo, w.se_hi, w.se_act_gate, mid);
  sgemm_pack_a(isa, false, images, S, mid, S, ap);
  sgemm_packed_both(isa, images, C, S, 1.0f, ap, f.se_fc2_bt, S, 0, 0.0f, gate, C);
  bias_act_rows(K, G, images, C, w.se_fc2_b, -INFINITY, INFINITY, w.se_gate, gate);
}

// D (images × pixels × hidden, channel-last) scaled by its squeeze-and-excitation; scratch holds
// images · (2·hidden + squeeze) floats, ap as for se_scales.
void squeeze_excite(Isa isa, const DepthwisePixels& K, const GatedRows& G, const InvertedResidualParams& p,
                    const InvertedResidualWeights& w, const Shared& f, int images, long pixels, float* D, float* scratch, float* ap) {
  const int C = p.hidden;
  float* mean = scratch;
  float* gate = mean + (long)images * C;
  float* mid = gate + (long)images * C;
  const float inv = 1.0f / (float)pixels;
  for (int i = 0; i < images; ++i) {
    float* m = mean + (long)i * C;
    K.channel_sums(pixels, C, D + (long)i * pixels * C, m);
    for (int c = 0; c < C; ++c) m[c] *= inv;
  }
  se_scales(isa, K, G, p, w, f, images, mean, mid, gate, ap);
  for (int i = 0; i < images; ++i) K.scale_channels(pixels, C, gate + (long)i * C, D + (long)i * pixels * C);
}

Shared share(Isa isa, const InvertedResidualParams& p, const InvertedResidualWeights& w) {
  const float* base =
      cached_or_packed(isa, w.packed, inverted_residual_packed_floats(p), [&](float* out) { inverted_residual_pack(p, w, out); });
  return layout(isa, p, w.expand_w != nullptr, const_cast<float*>(base));
}

}  // namespace

long inverted_residual_packed_floats(const InvertedResidualParams& p) { return shared_floats(active_isa(), p); }

void inverted_residual_pack(const InvertedResidualParams& p, const InvertedResidualWeights& w, float* out) {
  const Isa isa = active_isa();
  const Shared s = layout(isa, p, w.expand_w != nullptr, out);
  if (w.expand_w) sgemm_pack_bt(isa, p.hidden, p.c_in, w.expand_w, p.c_in, s.expand_bt);
  const int k = p.dw.kh * p.dw.kw;
  for (int c = 0; c < p.hidden; ++c)
    for (int i = 0; i < k; ++i) s.dw_taps[(long)i * p.hidden + c] = w.dw_w[(long)c * k + i];
  sgemm_pack_a(isa, false, p.c_out, p.hidden, w.project_w, p.hidden, s.project_a);
  if (p.squeeze > 0) {
    sgemm_pack_bt(isa, p.squeeze, p.hidden, w.se_fc1_w, p.hidden, s.se_fc1_bt);
    sgemm_pack_bt(isa, p.hidden, p.squeeze, w.se_fc2_w, p.squeeze, s.se_fc2_bt);
  }
  *s.tag = packed_tag(isa, out);
}

void inverted_residual_forward(const InvertedResidualParams& p, const InvertedResidualWeights& w, const float* x,
                               const float* residual, float* y, int threads) {
  // A pinned convolution path (CNN_CONV_ALGO) is meant to run every convolution: layer by layer.
  if (conv_algo_override() != ConvAlgo::Auto) return inverted_residual_unfused(p, w, x, residual, y, threads);
  const Isa isa = active_isa();
  const Shared f = share(isa, p, w);
  if (on_planes(p, w)) return planes_forward(isa, p, w, f.project_a, x, residual, y, threads);
  const DepthwisePixels& K = depthwise_pixels_for(isa);
  const GatedRows& G = gated_rows_for(isa);
  const Conv2dParams& d = p.dw;
  const Plan s = plan(p, threads);
  const PixelMap map = pixel_map(d);
  const int OH = d.out_h(), OW = d.out_w(), C = p.hidden, reach = (d.kh - 1) * d.dil_h + 1;
  const long HW = (long)d.h * d.w, OHW = (long)OH * OW, row = (long)d.w * C;
  // se_bands: the images' depthwise outputs, each band's channel sums, each image's scales.
  thread_local std::vector<float> se_bands_v;
  float *se_d = nullptr, *se_sums = nullptr, *se_gate = nullptr;
  if (s.se_bands) {
    se_d = grow(se_bands_v, (long)p.n * (OHW + s.bands + 1) * C);
    se_sums = se_d + (long)p.n * OHW * C, se_gate = se_sums + (long)p.n * s.bands * C;
  }
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    thread_local std::vector<float> xg_v, ap_v, h_v, d_v, o_v, se_v;
    // Input rows [a, b) of images [i0, i0 + images) into H, channel-last, image after image
    // (several images: every row of each).
    auto expand = [&](int i0, int images, int a, int b, float* H) {
      const long m = (long)images * (b - a) * d.w;
      if (m <= 0) return;
      const float* xi = x + (long)i0 * p.c_in * HW + (long)a * d.w;
      if (!w.expand_w) {  // no expansion: the input itself, transposed to channel-last
        for (int i = 0; i < images; ++i) transpose_planes(xi + (long)i * p.c_in * HW, HW, C, m / images, H + i * (m / images) * C);
        return;
      }
      const float* A = xi;
      long lda = HW;
      if (images > 1) {  // the run's planes side by side: c_in × (images · HW)
        float* g = grow(xg_v, (long)p.c_in * m);
        for (int i = 0; i < images; ++i)
          for (int c = 0; c < p.c_in; ++c) std::memcpy(g + c * m + i * HW, xi + ((long)i * p.c_in + c) * HW, sizeof(float) * HW);
        A = g, lda = m;
      }
      float* ap = grow(ap_v, sgemm_packed_a_floats(isa, (int)m, p.c_in));
      sgemm_pack_a(isa, true, (int)m, p.c_in, A, (int)lda, ap);
      sgemm_packed_both(isa, (int)m, C, p.c_in, 1.0f, ap, f.expand_bt, p.c_in, 0, 0.0f, H, C);
      K.bias_clamp(m, C, w.expand_b, w.expand_lo, w.expand_hi, H);
      gate_rows(G, w.expand_gate, H, m * C);
    };
    // Output rows [o0, o1) of images [i0, i0 + images) from H (each image's input rows from r0,
    // in_pix pixels an image): the depthwise taps into D (channel-last).
    auto depthwise = [&](int images, int r0, long in_pix, int o0, int o1, const float* H, float* D) {
      const long out_pix = (long)(o1 - o0) * OW;
      for (int i = 0; i < images; ++i)
        K.forward(map, H + i * in_pix * C, r0, o0, o1, f.dw_taps, w.dw_b, w.dw_lo, w.dw_hi, D + i * out_pix * C);
      gate_rows(G, w.dw_gate, D, images * out_pix * C);
    };
    // The projection of those rows' D into y through its bias and the residual.
    auto project = [&](int i0, int images, int o0, int o1, const float* D) {
      const long out_pix = (long)(o1 - o0) * OW, cols = images * out_pix;
      // One image: the product lands in y's rows o0..o1 of every channel; several: in scratch.
      float* yi = y + (long)i0 * p.c_out * OHW + (long)o0 * OW;
      float* out = images == 1 ? yi : grow(o_v, (long)p.c_out * cols);
      sgemm_packed(isa, p.c_out, (int)cols, C, 1.0f, f.project_a, true, D, C, 0.0f, out, images == 1 ? (int)OHW : (int)cols);
      const ConvEpilogue none;
      for (int i = 0; i < images; ++i)
        for (int co = 0; co < p.c_out; ++co) {
          float* dst = yi + ((long)i * p.c_out + co) * OHW;
          const float* src = images == 1 ? dst : out + co * cols + i * out_pix;
          epilogue_run(dst, src, out_pix, w.project_b ? w.project_b[co] : 0.0f, residual ? residual + (dst - y) : nullptr, none);
        }
    };
    auto finish = [&](int i0, int images, int r0, long in_pix, int o0, int o1, const float* H) {
      const long out_pix = (long)(o1 - o0) * OW;
      float* D = grow(d_v, images * out_pix * C);
      depthwise(images, r0, in_pix, o0, o1, H, D);
      // Squeeze-and-excitation comes with whole images here (plan).
      if (p.squeeze > 0) {
        float* scratch = grow(se_v, (long)images * (2 * C + p.squeeze));
        squeeze_excite(isa, K, G, p, w, f, images, out_pix, D, scratch, grow(ap_v, sgemm_packed_a_floats(isa, images, std::max(C, p.squeeze))));
      }
      project(i0, images, o0, o1, D);
    };
    // Input rows [r0, r1) of band `band` (output rows [o0, o1)).
    auto band_rows = [&](int band, int* o0, int* o1, int* r0, int* r1) {
      *o0 = band * s.rows, *o1 = std::min(OH, *o0 + s.rows);
      *r0 = std::max(0, *o0 * d.stride_h - d.pad_t), *r1 = std::min(d.h, (*o1 - 1) * d.stride_h - d.pad_t + reach);
    };
    if (s.se_bands) {
      // Every band's expansion and depthwise output (kept, channel-last, per image in se_d) and
      // its channel sums; then each image's scales from its bands' sums in order; then every
      // band's scaling and projection.
#pragma omp for schedule(dynamic)
      for (long it = 0; it < s.items; ++it) {
        const int i = (int)(it / s.bands);
        int o0, o1, r0, r1;
        band_rows((int)(it % s.bands), &o0, &o1, &r0, &r1);
        float* H = grow(h_v, (long)std::max(0, r1 - r0) * row);
        expand(i, 1, r0, r1, H);
        float* D = se_d + ((long)i * OHW + (long)o0 * OW) * C;
        depthwise(1, r0, (long)std::max(0, r1 - r0) * d.w, o0, o1, H, D);
        K.channel_sums((long)(o1 - o0) * OW, C, D, se_sums + it * C);
      }
#pragma omp for schedule(static)
      for (int i = 0; i < p.n; ++i) {
        float* mean = se_sums + (long)i * s.bands * C;  // the image's first band's sums, then its mean
        for (int b = 1; b < s.bands; ++b)
          for (int c = 0; c < C; ++c) mean[c] += mean[(long)b * C + c];
        for (int c = 0; c < C; ++c) mean[c] *= 1.0f / (float)OHW;
        float* scratch = grow(se_v, 2L * C + p.squeeze);
        se_scales(isa, K, G, p, w, f, 1, mean, scratch + 2 * C, se_gate + (long)i * C, grow(ap_v, sgemm_packed_a_floats(isa, 1, std::max(C, p.squeeze))));
      }
#pragma omp for schedule(dynamic)
      for (long it = 0; it < s.items; ++it) {
        const int i = (int)(it / s.bands);
        int o0, o1, r0, r1;
        band_rows((int)(it % s.bands), &o0, &o1, &r0, &r1);
        float* D = se_d + ((long)i * OHW + (long)o0 * OW) * C;
        K.scale_channels((long)(o1 - o0) * OW, C, se_gate + (long)i * C, D);
        project(i, 1, o0, o1, D);
      }
    } else {
#pragma omp for schedule(dynamic)
      for (long it = 0; it < s.items; ++it) {
        if (s.bands == 1) {  // a run of whole images
          const int i0 = (int)it * s.run, images = std::min(s.run, p.n - i0);
          float* H = grow(h_v, (long)images * HW * C);
          expand(i0, images, 0, d.h, H);
          finish(i0, images, 0, HW, 0, OH, H);
          continue;
        }
        // Bands of one image: the band's input rows [r0, r1), those the last band expanded kept.
        const int i = (int)(s.rolling ? it : it / s.bands);
        const int b0 = s.rolling ? 0 : (int)(it % s.bands), b1 = s.rolling ? s.bands : b0 + 1;
        float* H = grow(h_v, (long)std::min(d.h, (s.rows - 1) * d.stride_h + reach) * row);
        int have0 = 0, have1 = 0;
        for (int band = b0; band < b1; ++band) {
          int o0, o1, r0, r1;
          band_rows(band, &o0, &o1, &r0, &r1);
          int from = r0;
          if (r0 >= have0 && r0 < have1 && have1 <= r1) {
            std::memmove(H, H + (r0 - have0) * row, sizeof(float) * (have1 - r0) * row);
            from = have1;
          }
          expand(i, 1, from, r1, H + (long)(from - r0) * row);
          finish(i, 1, r0, (long)std::max(0, r1 - r0) * d.w, o0, o1, H);
          have0 = r0, have1 = std::max(r0, r1);
        }
      }
    }
  }
}

void inverted_residual_unfused(const InvertedResidualParams& p, const InvertedResidualWeights& w, const float* x,
                               const float* residual, float* y, int threads) {
  const Conv2dParams& d = p.dw;
  std::vector<float> h, dw((size_t)p.n * p.hidden * d.out_h() * d.out_w());
  const float* expanded = x;
  if (w.expand_w) {
    h.resize((size_t)p.n * p.hidden * d.h * d.w);
    const Conv2dParams e{p.n, p.c_in, d.h, d.w, p.hidden, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1};
    ConvEpilogue ee;
    ee.lo = w.expand_lo, ee.hi = w.expand_hi;
    conv2d_forward(e, x, w.expand_w, w.expand_b, h.data(), threads, ee);
    gate_all(w.expand_gate, h.data(), (long)h.size(), threads);
    expanded = h.data();
  }
  ConvEpilogue de;
  de.lo = w.dw_lo, de.hi = w.dw_hi;
  conv2d_forward(d, expanded, w.dw_w, w.dw_b, dw.data(), threads, de);
  gate_all(w.dw_gate, dw.data(), (long)dw.size(), threads);
  if (p.squeeze > 0) {  // per image: channel means of the NCHW planes, the scales, the planes scaled
    const int C = p.hidden;
    const long plane = (long)d.out_h() * d.out_w();
    std::vector<float> mean((size_t)p.n * C), mid((size_t)p.n * p.squeeze), gate((size_t)p.n * C);
    for (long pl = 0; pl < (long)p.n * C; ++pl) {
      double sum = 0;
      for (long q = 0; q < plane; ++q) sum += dw[pl * plane + q];
      mean[pl] = (float)(sum / plane);
    }
    const DepthwisePixels& K = depthwise_pixels_for(active_isa());
    const GatedRows& G = gated_rows_for(active_isa());
    sgemm(false, true, p.n, p.squeeze, C, 1.0f, mean.data(), C, w.se_fc1_w, C, 0.0f, mid.data(), p.squeeze, threads);
    bias_act_rows(K, G, p.n, p.squeeze, w.se_fc1_b, w.se_lo, w.se_hi, w.se_act_gate, mid.data());
    sgemm(false, true, p.n, C, p.squeeze, 1.0f, mid.data(), p.squeeze, w.se_fc2_w, p.squeeze, 0.0f, gate.data(), C, threads);
    bias_act_rows(K, G, p.n, C, w.se_fc2_b, -INFINITY, INFINITY, w.se_gate, gate.data());
    for (long pl = 0; pl < (long)p.n * C; ++pl)
      for (long q = 0; q < plane; ++q) dw[pl * plane + q] *= gate[pl];
  }
  const Conv2dParams pr{p.n, p.hidden, d.out_h(), d.out_w(), p.c_out, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1};
  ConvEpilogue pe;
  pe.residual = residual;
  conv2d_forward(pr, dw.data(), w.project_w, w.project_b, y, threads, pe);
}

}  // namespace cnn
