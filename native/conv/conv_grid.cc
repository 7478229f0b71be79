#include "conv/conv_grid.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "conv/work.h"
#include "gemm/gemm.h"

namespace cnn {

namespace {

struct Grid {
  int Hp, Wp, OH, OW;
  int cig, cog, K;
  int rows;    // output rows per item
  int blocks;  // items per image and group
  long items;
};

// Items are runs of output rows of one image and group, at least `min_columns` grid columns
// when the image has that many.
bool plan(const Conv2dParams& p, int threads, Grid* g, int min_columns = 0) {
  if (p.stride_h != 1 || p.stride_w != 1 || p.pointwise()) return false;
  g->Hp = p.h + p.pad_t + p.pad_b, g->Wp = p.w + p.pad_l + p.pad_r;
  g->OH = p.out_h(), g->OW = p.out_w();
  g->cig = p.c_in / p.groups, g->cog = p.c_out / p.groups;
  g->K = g->cig * p.kh * p.kw;
  // The output channels are the GEMM's rows: fewer than a register tile and im2col (whose rows
  // are the taps in the backward pass) does better.
  if (g->OH * g->OW < kMinPixels || g->cog < 6) return false;
  // Dropped grid columns are wasted work. im2col costs about 1/cog of the products instead, so
  // with few output channels up to half the grid may be dropped, else a fifth.
  if (g->cog <= 32 ? g->Wp > 2 * g->OW : 4 * g->Wp > 5 * g->OW) return false;
  // One k-block of the packed columns (at most 256 deep) stays in L2.
  const int cap = (int)std::max<long>({1, (min_columns + g->Wp - 1) / g->Wp, kItemColumnFloats / std::min(g->K, 256) / g->Wp});
  const int blocks = (g->OH + cap - 1) / cap;
  g->rows = (g->OH + blocks - 1) / blocks;
  g->blocks = (g->OH + g->rows - 1) / g->rows;
  g->items = (long)p.n * p.groups * g->blocks;
  return threads == 1 || g->items >= 4L * threads;
}

// Grid columns of output rows [oh0, oh1): the last row stops at OW.
int grid_columns(const Grid& g, int oh0, int oh1) { return (oh1 - oh0 - 1) * g.Wp + g.OW; }

// Image i, group gi, padded into the calling thread's buffer unless it already holds it.
const float* padded(const Conv2dParams& p, const Grid& g, const float* x, int i, int gi, long* held) {
  thread_local std::vector<float> buf;
  float* out = grow(buf, (long)g.cig * g.Hp * g.Wp);
  const long key = (long)i * p.groups + gi;
  if (*held != key) pad_planes(p, g.cig, g.Hp, g.Wp, x + ((long)i * p.c_in + gi * g.cig) * p.h * p.w, out), *held = key;
  return out;
}

}  // namespace

bool conv2d_forward_grid(const Conv2dParams& p, const float* x, const float* w, const float* b, float* y,
                         int threads, const ConvEpilogue& e) {
  Grid g;
  if (!plan(p, threads, &g)) return false;
  const Isa isa = active_isa();
  long per_group;
  const float* wp = pack_group_weights(isa, p.groups, false, g.cog, g.K, w, g.K, &per_group);
  const long plane = (long)g.Hp * g.Wp;
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    long held = -1;  // which image's padded planes this thread holds
    thread_local std::vector<const float*> tap_rows;
    tap_rows.resize(g.K);
    // work.h: items handed out as threads come free, an image's blocks together (one padded
    // copy per image) when the images alone give every thread several.
#pragma omp for schedule(dynamic, p.n * p.groups >= 4 * threads ? g.blocks : 1)
    for (long it = 0; it < g.items; ++it) {
      const int blk = (int)(it % g.blocks), gi = (int)(it / g.blocks % p.groups), i = (int)(it / g.blocks / p.groups);
      const int oh0 = blk * g.rows, oh1 = std::min(g.OH, oh0 + g.rows), n = (oh1 - oh0) * g.OW;
      const float* xp = padded(p, g, x, i, gi, &held);
      for (int c = 0; c < g.cig; ++c)
        for (int ki = 0; ki < p.kh; ++ki)
          for (int kj = 0; kj < p.kw; ++kj)
            tap_rows[(c * p.kh + ki) * p.kw + kj] = xp + c * plane + (long)(oh0 + ki * p.dil_h) * g.Wp + kj * p.dil_w;
      // Output rows [oh0, oh1) of each channel lie together in y, so the product goes straight
      // there; its columns are packed OW at a time from the padded rows, skipping the padding.
      float* out = y + (((long)i * p.c_out + gi * g.cog) * g.OH + oh0) * g.OW;
      sgemm_packed_rows(isa, g.cog, n, g.K, 1.0f, wp + gi * per_group, tap_rows.data(), g.OW, g.Wp, 0.0f, out,
                        g.OH * g.OW);
      if (!b && !e.any()) continue;
      for (int co = 0; co < g.cog; ++co) {
        float* d = out + (long)co * g.OH * g.OW;
        epilogue_run(d, d, n, b ? b[gi * g.cog + co] : 0.0f, e.residual ? e.residual + (d - y) : nullptr, e);
      }
    }
  }
  return true;
}

namespace {

// The forward grid convolution that computes dx, or false when it does not suit.
bool backward_input_as_forward(const Conv2dParams& p, int threads, Conv2dParams* out) {
  if (p.pointwise()) return false;
  Conv2dParams q;
  if (!input_grad_as_forward(p, &q)) return false;
  // An unpadded kernel shrinks the image, so dx has more pixels than dy and the flipped
  // convolution multiplies the wide zero border; im2col's products stay on dy's pixels.
  if ((long)p.h * p.w * 4 > (long)q.h * q.w * 5) return false;
  Grid g;
  *out = q;
  return plan(q, threads, &g);
}

// Each tap's product has the group's input channels as its columns: fewer than a GEMM panel
// and most of the tile would be padding. And its depth is the item's grid columns: small
// images give short products that the batched runs of the im2col path beat.
bool backward_weight_plan(const Conv2dParams& p, int threads, Grid* g) {
  return plan(p, threads, g, kMinDepth) && g->cig >= 16 && g->OH * g->Wp >= kMinDepth;
}

}  // namespace

bool conv_grid_suits(const Conv2dParams& p, ConvPass pass, int threads) {
  Grid g;
  Conv2dParams q;
  switch (pass) {
    case ConvPass::Forward: return plan(p, threads, &g);
    case ConvPass::BackwardInput: return backward_input_as_forward(p, threads, &q);
    case ConvPass::BackwardWeight: return backward_weight_plan(p, threads, &g);
  }
  return false;
}

bool conv2d_backward_input_grid(const Conv2dParams& p, const float* dy, const float* w, float* dx,
                                int threads) {
  Conv2dParams q;
  if (!backward_input_as_forward(p, threads, &q)) return false;
  const int cig = p.c_in / p.groups, cog = p.c_out / p.groups, taps = p.kh * p.kw;
  thread_local std::vector<float> flipped_buf;
  float* flipped = grow(flipped_buf, (long)p.c_out * cig * taps);
  // Blocks of 16 input channels: each output channel's weights for them are one contiguous read
  // (a channel at a time read 9 floats per cache line fetched), written to 16 rows. Over the
  // threads: 256 channels' copy cost 5% of their input gradient on one thread.
  const int cblocks = (cig + 15) / 16;
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1 && (long)p.c_out * cig * taps >= 65536)
  for (long gb = 0; gb < (long)p.groups * cblocks; ++gb) {
    const int gi = (int)(gb / cblocks), c0 = (int)(gb % cblocks) * 16, c1 = std::min(cig, c0 + 16);
    for (int co = 0; co < cog; ++co) {
      const float* src = w + (((long)gi * cog + co) * cig + c0) * taps;
      for (int c = c0; c < c1; ++c, src += taps) {
        float* dst = flipped + (((long)gi * cig + c) * cog + co) * taps;
        for (int t = 0; t < taps; ++t) dst[t] = src[taps - 1 - t];
      }
    }
  }
  return conv2d_forward_grid(q, dy, flipped, nullptr, dx, threads);
}

bool conv2d_backward_weight_grid(const Conv2dParams& p, const float* x, const float* dy, float* dw,
                                 int threads) {
  Grid g;
  if (!backward_weight_plan(p, threads, &g)) return false;
  const Isa isa = active_isa();
  const long plane = (long)g.Hp * g.Wp;
  const int taps = p.kh * p.kw;
  thread_local std::vector<float> dy_buf, packed_buf, tap_major_buf, image_buf;
  std::vector<long> held(threads, -1);
  // Summed tap-major, [group][tap][co][c], so that each tap's product adds straight into its own
  // block (beta 1) instead of being scattered 9 floats apart; one pass at the end reorders.
  float* dw_taps = grow(tap_major_buf, (long)p.c_out * g.K);
  sum_over_items(g.items, (long)p.c_out * g.K, dw_taps, threads, [&](long it, float* mine, int t) {
    const int blk = (int)(it % g.blocks), gi = (int)(it / g.blocks % p.groups), i = (int)(it / g.blocks / p.groups);
    const int oh0 = blk * g.rows, oh1 = std::min(g.OH, oh0 + g.rows), n = grid_columns(g, oh0, oh1);
    const float* xp = padded(p, g, x, i, gi, &held[t]);
    // dY on the grid, zero in the dropped columns, packed once for all taps.
    float* dyg = grow(dy_buf, (long)g.cog * n);
    for (int co = 0; co < g.cog; ++co)
      for (int r = 0; r < oh1 - oh0; ++r) {
        float* dst = dyg + (long)co * n + (long)r * g.Wp;
        std::memcpy(dst, dy + (((long)i * p.c_out + gi * g.cog + co) * g.OH + oh0 + r) * g.OW, sizeof(float) * g.OW);
        if (oh0 + r + 1 < oh1) std::memset(dst + g.OW, 0, sizeof(float) * (g.Wp - g.OW));
      }
    float* dyp = grow(packed_buf, sgemm_packed_a_floats(isa, g.cog, n));
    sgemm_pack_a(isa, false, g.cog, n, dyg, n, dyp);
    // The item's padded planes from row oh0 on, as far as the last tap reaches, transposed into
    // GEMM panels once: each tap's factor is the same panels from its own offset on.
    const int span = n + (p.kh - 1) * p.dil_h * g.Wp + (p.kw - 1) * p.dil_w;
    float* image = aligned_64(grow(image_buf, sgemm_packed_bt_floats(isa, g.cig, span) + 16));
    sgemm_pack_bt(isa, g.cig, span, xp + (long)oh0 * g.Wp, (int)plane, image);
    // Tap (ki, kj): dW[:, :, ki, kj] (cog × cig) += dY (cog × n) · (the tap's shifted planes)ᵀ.
    for (int ki = 0; ki < p.kh; ++ki)
      for (int kj = 0; kj < p.kw; ++kj) {
        float* acc = mine + (long)gi * g.cog * g.K + (long)(ki * p.kw + kj) * g.cog * g.cig;
        sgemm_packed_both(isa, g.cog, g.cig, n, 1.0f, dyp, image, span, ki * p.dil_h * g.Wp + kj * p.dil_w, 1.0f, acc,
                          g.cig);
      }
  });
  for (int gi = 0; gi < p.groups; ++gi) {
    const float* src = dw_taps + (long)gi * g.cog * g.K;
    float* dst = dw + (long)gi * g.cog * g.K;
    for (int t = 0; t < taps; ++t)
      for (int co = 0; co < g.cog; ++co)
        for (int c = 0; c < g.cig; ++c) dst[((long)co * g.cig + c) * taps + t] = src[((long)t * g.cog + co) * g.cig + c];
  }
  return true;
}

}  // namespace cnn
