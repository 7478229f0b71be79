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
  int blocks;  // items per run and group
  int run;     // images per item (their padded rows interleaved: one grid over all of them)
  long items;
};

// Output pixels per item from which a small image goes alone: fewer and runs of images make up
// the columns, so that the packed weights stream through once per 256 columns instead of once
// per image (512 channels by 3×3 are 9.4 MB) and the leftover column panel is one in several.
constexpr int kRunColumns = 256;
// Weights above this many floats (4 MB: 512 channels by 3×3 are 9.4 MB) stream from memory once
// per item: the batched path's one GEMM over a chunk of images reads them once per ~400+ columns
// (1 thread, 8 images of 7×7: batched 73-75% of peak, runs of 4 on the grid 64-66%).
constexpr long kRunWeights = 1L << 20;

// Items are runs of output rows of one image and group, at least `min_columns` grid columns
// when the image has that many, or (`runs`) whole small images side by side.
bool plan(const Conv2dParams& p, int threads, Grid* g, int min_columns = 0, bool runs = false) {
  if (p.stride_h != 1 || p.stride_w != 1 || p.pointwise()) return false;
  g->Hp = p.h + p.pad_t + p.pad_b, g->Wp = p.w + p.pad_l + p.pad_r;
  g->OH = p.out_h(), g->OW = p.out_w();
  g->cig = p.c_in / p.groups, g->cog = p.c_out / p.groups;
  g->K = g->cig * p.kh * p.kw;
  // The output channels are the GEMM's rows: fewer than a register tile and im2col (whose rows
  // are the taps in the backward pass) does better.
  if (g->OH * g->OW < kMinPixels || g->cog < 6) return false;
  // Where the ISA gathers the columns in registers (the forward pass's, padding skipped), runs
  // of small images go on the grid whatever their padding: it adds nothing to the products.
  const int P = g->OH * g->OW;
  const bool run_images = runs && P < kRunColumns && (long)g->cog * g->K <= kRunWeights && gemm_kernel_for(active_isa()).pack_gather;
  // Dropped grid columns are wasted work. im2col costs about 1/cog of the products instead, so
  // with few output channels up to half the grid may be dropped, else a fifth.
  if (!run_images && (g->cog <= 32 ? g->Wp > 2 * g->OW : 4 * g->Wp > 5 * g->OW)) return false;
  g->run = 1;
  if (run_images) {
    // Runs of about kRunColumns, their count rounded up to a multiple of the threads where the
    // images allow, so that the last round of items keeps every thread busy.
    long runs_n = (p.n + (kRunColumns + P - 1) / P - 1) / ((kRunColumns + P - 1) / P);
    runs_n = std::min<long>(p.n, (runs_n + threads - 1) / threads * threads);
    g->run = (int)((p.n + runs_n - 1) / runs_n);
  }
  // One k-block of the packed columns (at most 256 deep) stays in L2.
  const int cap = g->run > 1 ? g->OH : (int)std::max<long>({1, (min_columns + g->Wp - 1) / g->Wp, kItemColumnFloats / std::min(g->K, 256) / g->Wp});
  const int blocks = (g->OH + cap - 1) / cap;
  g->rows = (g->OH + blocks - 1) / blocks;
  g->blocks = (g->OH + g->rows - 1) / g->rows;
  g->items = (long)(p.n + g->run - 1) / g->run * p.groups * g->blocks;
  return threads == 1 || g->items >= 4L * threads || (g->run > 1 && g->items >= threads);
}

// Grid columns of output rows [oh0, oh1): the last row stops at OW.
int grid_columns(const Grid& g, int oh0, int oh1) { return (oh1 - oh0 - 1) * g.Wp + g.OW; }

// Images [i, i + images), group gi, padded into the calling thread's buffer unless it already
// holds them, rows interleaved (pad_planes).
const float* padded(const Conv2dParams& p, const Grid& g, const float* x, int i, int images, int gi, long* held) {
  thread_local std::vector<float> buf;
  float* out = grow(buf, (long)g.cig * g.Hp * images * g.Wp);
  const long key = (long)i * p.groups + gi;
  if (*held != key)
    pad_planes(p, g.cig, g.Hp, g.Wp, x + ((long)i * p.c_in + gi * g.cig) * p.h * p.w, out, images, (long)p.c_in * p.h * p.w), *held = key;
  return out;
}

// Packed weights beyond this many floats are packed by all the threads (512 channels by 3×3:
// 2.4M floats, a tenth of a batch of 8 7×7 images' products on one thread).
constexpr long kSharedPacking = 1L << 16;

// Each group's cog × K weights packed for sgemm_packed (floats per group in *per_group), the
// row panels shared out over the threads when there are many.
const float* pack_weights(Isa isa, const Grid& g, int groups, const float* w, int threads, long* per_group) {
  thread_local std::vector<float> buf;
  *per_group = sgemm_packed_a_floats(isa, g.cog, g.K);
  float* out = grow(buf, *per_group * groups);
  const int mr = gemm_kernel_for(isa).mr, panels = (g.cog + mr - 1) / mr;
  const long per = *per_group;
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1 && per * groups >= kSharedPacking)
  for (long gp = 0; gp < (long)groups * panels; ++gp) {
    const int gi = (int)(gp / panels), r0 = (int)(gp % panels) * mr;
    sgemm_pack_a_rows(isa, false, g.cog, g.K, w + (long)gi * g.cog * g.K, g.K, r0, r0 + mr, out + gi * per);
  }
  return out;
}

// The grid forward pass with each group's weights packed (wp, per_group floats apart).
void forward_packed(const Conv2dParams& p, const Grid& g, const float* x, const float* wp, long per_group, const float* b,
                    float* y, int threads, const ConvEpilogue& e) {
  const Isa isa = active_isa();
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    long held = -1;  // which images' padded planes this thread holds
    thread_local std::vector<const float*> tap_rows;
    thread_local std::vector<float> out_buf;
    tap_rows.resize(g.K);
    // work.h: items handed out as threads come free, an image's blocks together (one padded
    // copy per image) when the images alone give every thread several.
#pragma omp for schedule(dynamic, p.n * p.groups >= 4 * threads ? g.blocks : 1)
    for (long it = 0; it < g.items; ++it) {
      const int blk = (int)(it % g.blocks), gi = (int)(it / g.blocks % p.groups), i = (int)(it / g.blocks / p.groups) * g.run;
      const int images = std::min(g.run, p.n - i);
      const int oh0 = blk * g.rows, oh1 = std::min(g.OH, oh0 + g.rows), n = (oh1 - oh0) * images * g.OW;
      const float* xp = padded(p, g, x, i, images, gi, &held);
      // Grid row r of a run is row r of each of its images in turn: output column (oh, j, ow)
      // reads offset ((oh·images + j)·Wp + ow), OW-float segments Wp apart as for one image.
      const long row = (long)images * g.Wp, plane = g.Hp * row;
      for (int c = 0; c < g.cig; ++c)
        for (int ki = 0; ki < p.kh; ++ki)
          for (int kj = 0; kj < p.kw; ++kj)
            tap_rows[(c * p.kh + ki) * p.kw + kj] = xp + c * plane + (oh0 + ki * p.dil_h) * row + kj * p.dil_w;
      if (images == 1) {
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
        continue;
      }
      // A run's product (cog × (oh, j, ow)) goes through a buffer, each row of OW to its image.
      float* out = grow(out_buf, (long)g.cog * n);
      sgemm_packed_rows(isa, g.cog, n, g.K, 1.0f, wp + gi * per_group, tap_rows.data(), g.OW, g.Wp, 0.0f, out, n);
      for (int co = 0; co < g.cog; ++co) {
        const float bias = b ? b[gi * g.cog + co] : 0.0f;
        const float* src = out + (long)co * n;
        for (int oh = oh0; oh < oh1; ++oh)
          for (int j = 0; j < images; ++j, src += g.OW) {
            float* d = y + (((long)(i + j) * p.c_out + gi * g.cog + co) * g.OH + oh) * g.OW;
            if (!b && !e.any()) std::memcpy(d, src, sizeof(float) * g.OW);
            else epilogue_run(d, src, g.OW, bias, e.residual ? e.residual + (d - y) : nullptr, e);
          }
      }
    }
  }
}

}  // namespace

bool conv2d_forward_grid(const Conv2dParams& p, const float* x, const float* w, const float* b, float* y,
                         int threads, const ConvEpilogue& e, const float* packed) {
  Grid g;
  if (!plan(p, threads, &g, 0, true)) return false;
  const Isa isa = active_isa();
  long per_group = sgemm_packed_a_floats(isa, g.cog, g.K);
  const float* wp = cached_group_weights(isa, packed, p.groups, g.cog, g.K);
  if (!wp) wp = pack_weights(isa, g, p.groups, w, threads, &per_group);
  forward_packed(p, g, x, wp, per_group, b, y, threads, e);
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
  return plan(q, threads, &g, 0, true);
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
    case ConvPass::Forward: return plan(p, threads, &g, 0, true);
    case ConvPass::BackwardInput: return backward_input_as_forward(p, threads, &q);
    case ConvPass::BackwardWeight: return backward_weight_plan(p, threads, &g);
  }
  return false;
}

namespace {

// dx's weights for the forward grid, packed for sgemm_packed as sgemm_pack_a packs (gemm.h: the
// layout) but straight from w: row c, column (co, t) = w[co, c, taps − 1 − t], so a panel's mr rows
// for one output channel are one contiguous run of w (mr·taps floats) and its taps columns one
// contiguous run of the packed panel. The runs of successive output channels lie Cin·taps floats
// apart, a stride no hardware prefetcher follows: each run is fetched a few channels ahead.
// Over the threads by panels. Returns the floats per group in *per_group.
const float* pack_flipped(Isa isa, const Conv2dParams& p, const float* w, int threads, long* per_group) {
  thread_local std::vector<float> buf;
  const int cig = p.c_in / p.groups, cog = p.c_out / p.groups, taps = p.kh * p.kw, k = cog * taps;
  const int mr = gemm_kernel_for(isa).mr, panels = (cig + mr - 1) / mr, depth = sgemm_pack_a_depth(isa, k);
  const long rows = (long)panels * mr, per = rows * k, ahead = 4L * cig * taps;
  *per_group = per;
  float* out = grow(buf, per * p.groups);
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1 && per * p.groups >= kSharedPacking)
  for (long gp = 0; gp < (long)p.groups * panels; ++gp) {
    const int gi = (int)(gp / panels), c0 = (int)(gp % panels) * mr, h = std::min(mr, cig - c0);
    const float* wg = w + ((long)gi * cog * cig + c0) * taps;
    int co = 0, t = 0;  // column (co, t), counted along without dividing
    for (int blk = 0; blk * depth < k; ++blk) {
      const int kc = std::min(depth, k - blk * depth);
      float* dst = out + gi * per + (long)blk * depth * rows + (long)c0 * kc;
      for (int j = 0; j < kc; ++j, dst += mr) {
        const float* src = wg + (long)co * cig * taps;
        if (t == 0 && co + 4 < cog)
          for (long f = 0; f < (long)h * taps; f += 16) __builtin_prefetch(src + ahead + f);
        src += taps - 1 - t;
        int i = 0;
        for (; i < h; ++i) dst[i] = src[(long)i * taps];
        for (; i < mr; ++i) dst[i] = 0.0f;
        if (++t == taps) t = 0, ++co;
      }
    }
  }
  return out;
}

}  // namespace

bool conv2d_backward_input_grid(const Conv2dParams& p, const float* dy, const float* w, float* dx,
                                int threads) {
  Conv2dParams q;
  if (!backward_input_as_forward(p, threads, &q)) return false;
  Grid g;
  plan(q, threads, &g, 0, true);
  long per_group;
  const float* wp = pack_flipped(active_isa(), p, w, threads, &per_group);
  forward_packed(q, g, dy, wp, per_group, nullptr, dx, threads, {});
  return true;
}

namespace {

// Floats of padded images per chunk of the batched grid (as the batched path's column budget).
constexpr long kBatchedGridFloats = 8L << 20;

bool batched_grid_suits(const Conv2dParams& p) {
  return p.stride_h == 1 && p.stride_w == 1 && !p.pointwise() && p.out_h() * p.out_w() > 1 &&
         gemm_kernel_for(active_isa()).pack_gather;
}

// The batched grid's geometry: chunks of `chunk` images, each group's planes padded with their
// rows interleaved (pad_planes) into one grid whose column (oh, j, ow) is offset
// ((oh·images + j)·Wp + ow) of each tap's row: OW-float segments Wp apart.
struct BatchedGrid {
  int Hp, Wp, OH, OW, P, cig, cog, K, chunk;

  BatchedGrid(const Conv2dParams& p, long chunk_floats) {
    Hp = p.h + p.pad_t + p.pad_b, Wp = p.w + p.pad_l + p.pad_r, OH = p.out_h(), OW = p.out_w(), P = OH * OW;
    cig = p.c_in / p.groups, cog = p.c_out / p.groups, K = cig * p.kh * p.kw;
    const long per_image = std::max<long>((long)cig * Hp * Wp, (long)cog * P);
    chunk = (int)std::max<long>(1, std::min<long>(p.n, chunk_floats / per_image));
  }

  // body(n0, images, gi, tap_rows) for each chunk of images and each group, with that chunk's group
  // planes padded and tap_rows holding each tap's row of their grid, in the weights' (c, ki, kj) order.
  template <class Body>
  void for_each_chunk(const Conv2dParams& p, const float* x, int threads, Body body) const {
    thread_local std::vector<float> pad_buf;
    thread_local std::vector<const float*> tap_rows;
    tap_rows.resize(K);
    for (int n0 = 0; n0 < p.n; n0 += chunk) {
      const int images = std::min(chunk, p.n - n0);
      const long row = (long)images * Wp, plane = Hp * row;
      float* xp = grow(pad_buf, cig * plane);
      for (int gi = 0; gi < p.groups; ++gi) {
        const float* xg = x + ((long)n0 * p.c_in + gi * cig) * p.h * p.w;
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1 && cig >= 2 * threads)
        for (int c = 0; c < cig; ++c)
          pad_planes(p, 1, Hp, Wp, xg + (long)c * p.h * p.w, xp + c * plane, images, (long)p.c_in * p.h * p.w);
        for (int c = 0; c < cig; ++c)
          for (int ki = 0; ki < p.kh; ++ki)
            for (int kj = 0; kj < p.kw; ++kj)
              tap_rows[(c * p.kh + ki) * p.kw + kj] = xp + c * plane + ki * p.dil_h * row + kj * p.dil_w;
        body(n0, images, gi, tap_rows.data());
      }
    }
  }
};

}  // namespace

bool conv2d_forward_grid_batched(const Conv2dParams& p, const float* x, const float* w, const float* b, float* y,
                                 int threads, const ConvEpilogue& e) {
  if (!batched_grid_suits(p)) return false;
  const Isa isa = active_isa();
  const BatchedGrid g(p, kBatchedGridFloats);
  const int OW = g.OW, P = g.P, cog = g.cog, K = g.K;
  thread_local std::vector<float> out_buf;
  g.for_each_chunk(p, x, threads, [&](int n0, int images, int gi, const float* const* tap_rows) {
    const long ld = (long)images * P;
    float* out = grow(out_buf, cog * ld);
    // out (cog × (oh, image, ow)), the grid's columns.
    sgemm_rows(isa, cog, (int)ld, K, 1.0f, w + (long)gi * cog * K, K, tap_rows, OW, g.Wp, 0.0f, out, (int)ld, threads);
#pragma omp parallel for collapse(2) num_threads(threads) schedule(static) if (threads > 1)
    for (int j = 0; j < images; ++j)
      for (int co = 0; co < cog; ++co) {
        float* d = y + ((long)(n0 + j) * p.c_out + gi * cog + co) * P;
        const float* src = out + co * ld + (long)j * OW;
        const float bias = b ? b[gi * cog + co] : 0.0f;
        for (int oh = 0; oh < g.OH; ++oh, d += OW, src += (long)images * OW) {
          if (!b && !e.any()) std::memcpy(d, src, sizeof(float) * OW);
          else epilogue_run(d, src, OW, bias, e.residual ? e.residual + (d - y) : nullptr, e);
        }
      }
  });
  return true;
}

bool conv_grid_batched_weight_suits(const Conv2dParams& p) {
  return p.stride_h == 1 && p.stride_w == 1 && !p.pointwise() && p.out_h() * p.out_w() > 1;
}

bool conv_grid_batched_weight_wins(const Conv2dParams& p) {
  return conv_grid_batched_weight_suits(p) && (long)(p.c_out / p.groups) * (p.c_in / p.groups) * p.kh * p.kw > kRunWeights;
}

bool conv2d_backward_weight_grid_batched(const Conv2dParams& p, const float* x, const float* dy, float* dw, int threads,
                                         long chunk_floats) {
  if (!conv_grid_batched_weight_suits(p)) return false;
  const Isa isa = active_isa();
  const BatchedGrid g(p, chunk_floats > 0 ? chunk_floats : kBatchedGridFloats);
  const int OW = g.OW, P = g.P, cog = g.cog, K = g.K;
  thread_local std::vector<float> dy_buf;
  g.for_each_chunk(p, x, threads, [&](int n0, int images, int gi, const float* const* tap_rows) {
    const long ld = (long)images * P;
    float* dyc = grow(dy_buf, cog * ld);
    // dY in the grid's column order (cog × (oh, image, ow)).
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1 && cog >= 2 * threads)
    for (int co = 0; co < cog; ++co)
      for (int j = 0; j < images; ++j) {
        const float* src = dy + ((long)(n0 + j) * p.c_out + gi * cog + co) * P;
        float* dst = dyc + co * ld + (long)j * OW;
        for (int oh = 0; oh < g.OH; ++oh) std::memcpy(dst + (long)oh * images * OW, src + (long)oh * OW, sizeof(float) * OW);
      }
    sgemm_rows_t(isa, cog, K, (int)ld, 1.0f, dyc, (int)ld, tap_rows, OW, g.Wp, n0 == 0 ? 0.0f : 1.0f, dw + (long)gi * cog * K,
                 K, threads);
  });
  return true;
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
    const float* xp = padded(p, g, x, i, 1, gi, &held[t]);
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
