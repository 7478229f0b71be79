#include "conv/conv_by_image.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "conv/columns.h"
#include "conv/few_channels.h"
#include "conv/planes.h"
#include "conv/work.h"
#include "gemm/gemm.h"

namespace cnn {

namespace {

struct Split {
  int P, K, cig, cog;
  int run;     // images per item: 1, or a run of whole small images (backward weight)
  int cols;    // output pixels per GEMM
  int blocks;  // items per run and group (1 when `whole`: the item loops over its blocks)
  long items;
};

// Columns per product below which small images go in runs: the packed weights stream through
// once per product, so a product of one 4×4 image would reread them for 16 columns.
constexpr int kMinColumns = 128;
// Output pixels per image from which runs of images beat the batched path: 2×2 maps (ResNet's
// layer3 at CIFAR sizes, 128 images of 256 channels: 1.1-1.2x on 1 and 2 threads; MobileNet's
// 1×1 layers there: 1.02-1.1x). One pixel per image takes the batched path, which then reads and
// writes NCHW in place.
constexpr int kMinImagePixels = 4;

// Items of `cols` output pixels of one image, or runs of `run` whole small images side by side
// (at least kMinDepth pixels when `deep`, else kMinColumns while the threads still get 4 items
// each). `whole` keeps each image in one item (backward input scatters into overlapping input
// regions, so two threads must not share an image).
bool plan(const Conv2dParams& p, int threads, bool whole, bool deep, Split* s) {
  s->P = p.out_h() * p.out_w();
  s->cig = p.c_in / p.groups;
  s->cog = p.c_out / p.groups;
  s->K = s->cig * p.kh * p.kw;
  if (s->P < kMinImagePixels) return false;
  const int want = ((deep ? kMinDepth : kMinColumns) + s->P - 1) / s->P;
  s->run = std::min(p.n, deep ? want : std::max(1, std::min(want, p.n * p.groups / (4 * threads))));
  const int cap = p.pointwise() || s->run > 1 ? s->P : (int)std::max<long>(16, kItemColumnFloats / s->K / 16 * 16);
  const int blocks = (s->P + cap - 1) / cap;
  s->cols = std::min(s->P, ((s->P + blocks - 1) / blocks + 15) / 16 * 16);
  s->blocks = whole ? 1 : (s->P + s->cols - 1) / s->cols;
  s->items = (long)(p.n + s->run - 1) / s->run * p.groups * s->blocks;
  // Enough items that a static split over the threads is nearly even.
  return threads == 1 || s->items >= 4L * threads;
}

// Packed weights beyond this many floats (4 MB: 512 channels by 3×3) stream from memory for
// every item of the forward and input-gradient passes; items narrower than kWideColumns then
// lose to the batched path, which streams them once per batch (1 thread, resnet18's 512-channel
// 3×3 at 4×4 and 7×7: 1.04-1.25x).
constexpr long kStreamedWeights = 1L << 20;
constexpr int kWideColumns = 512;

// The split for a pass: backward input keeps whole images; backward weight wants deep products.
bool plan_pass(const Conv2dParams& p, ConvPass pass, int threads, Split* s) {
  if (!plan(p, threads, pass == ConvPass::BackwardInput, pass == ConvPass::BackwardWeight, s)) return false;
  const long columns = s->run > 1 ? (long)s->run * s->P : s->cols;
  return pass == ConvPass::BackwardWeight || (long)s->cog * s->K <= kStreamedWeights || columns >= kWideColumns;
}

// Item `it` of the split: `images` images from i0, group g, output pixels [q0, q1).
struct Item {
  int i0, images, g, q0, q1;
};

Item item(const Conv2dParams& p, const Split& s, long it) {
  Item t;
  const int blk = (int)(it % s.blocks);
  t.g = (int)(it / s.blocks % p.groups);
  t.i0 = (int)(it / s.blocks / p.groups) * s.run;
  t.images = std::min(s.run, p.n - t.i0);
  t.q0 = blk * s.cols, t.q1 = std::min(s.P, t.q0 + s.cols);
  return t;
}

// Columns of a run of whole images side by side: col (K × images·P), image j at column j·P
// (the forward pass reads a pointwise run in place instead: plane_rows).
void run_columns(const Conv2dParams& p, const Split& s, const float* x, const Item& t, float* col) {
  const long ld = (long)t.images * s.P;
  for (int j = 0; j < t.images; ++j) {
    const float* xj = x + ((long)(t.i0 + j) * p.c_in + t.g * s.cig) * p.h * p.w;
    if (p.pointwise())
      for (int ci = 0; ci < s.cig; ++ci) copy_plane(col + ci * ld + (long)j * s.P, xj + (long)ci * s.P, s.P);
    else
      im2col(p, xj, s.cig, 0, s.P, col + (long)j * s.P, ld);
  }
}

// Row pointers to the first image's `channels` planes of P floats from `first`: with segments of
// P floats an image apart, sgemm_packed_rows reads a run of images side by side where they lie.
const float** plane_rows(const float* first, int channels, int P) {
  thread_local std::vector<const float*> rows;
  rows.resize(channels);
  for (int c = 0; c < channels; ++c) rows[c] = first + (long)c * P;
  return rows.data();
}

// A run's output-shaped planes (N × C_out × P) side by side: out (cog × images·P).
void gather_run(const Conv2dParams& p, const Split& s, const Item& t, const float* planes, float* out) {
  const long ld = (long)t.images * s.P;
  for (int j = 0; j < t.images; ++j)
    for (int co = 0; co < s.cog; ++co)
      copy_plane(out + co * ld + (long)j * s.P, planes + ((long)(t.i0 + j) * p.c_out + t.g * s.cog + co) * s.P, s.P);
}

// col[c·ld + j·(q1 − q0) + q − q0] = in's map of image j's plane c at pixel q, for the item's
// images j (x0 the first's channel 0) and pixels [q0, q1) of each: a pointwise item's B, mapped.
void map_columns(const ConvInputMap& in, int channels, long P, const float* x0, int images, int q0, int q1, float* col,
                 long ld) {
  const float lo = in.lo, hi = in.hi;
  for (int c = 0; c < channels; ++c) {
    const float a = in.scale[c], b = in.shift[c];
    for (int j = 0; j < images; ++j) {
      const float* src = x0 + j * in.image_stride + c * P;
      float* dst = col + c * ld + (long)j * (q1 - q0) - q0;
      for (int q = q0; q < q1; ++q) dst[q] = clamp_to(src[q] * a + b, lo, hi);
    }
  }
}

}  // namespace

bool conv_by_image_suits(const Conv2dParams& p, ConvPass pass, int threads) {
  Split s;
  return (pass == ConvPass::Forward && few_channels_suits(p)) || plan_pass(p, pass, threads, &s);
}

bool conv2d_forward_by_image(const Conv2dParams& p, const float* x, const float* w, const float* b,
                             float* y, int threads, const ConvEpilogue& e, const float* packed, const ConvInputMap* in) {
  if (in && (!p.pointwise() || p.groups != 1)) return false;
  // A few input channels (a stem): too shallow a product for the GEMM, direct loops instead.
  if (!in && conv2d_forward_few_channels(p, x, w, b, y, threads, e)) return true;
  Split s;
  if (!plan_pass(p, ConvPass::Forward, threads, &s)) return false;
  const long x_image = in ? in->image_stride : (long)p.c_in * p.h * p.w;
  const Isa isa = active_isa();
  long per_group = sgemm_packed_a_floats(isa, s.cog, s.K);
  const float* wp = cached_group_weights(isa, packed, p.groups, s.cog, s.K);
  if (!wp) wp = pack_group_weights(isa, p.groups, false, s.cog, s.K, w, s.K, &per_group);
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    thread_local std::vector<float> col_buf, out_buf;
#pragma omp for schedule(dynamic, 1)  // work.h: items handed out as threads come free
    for (long it = 0; it < s.items; ++it) {
      const Item t = item(p, s, it);
      const float* xg = x + t.i0 * x_image + (long)t.g * s.cig * p.h * p.w;
      const long cols = t.images > 1 ? (long)t.images * s.P : t.q1 - t.q0;
      // One image writes its output plane rows in place; a run goes through a buffer.
      float* out = y + ((long)t.i0 * p.c_out + t.g * s.cog) * s.P + t.q0;
      long ldc = s.P;
      if (t.images > 1) out = grow(out_buf, s.cog * cols), ldc = cols;
      const float* wg = wp + t.g * per_group;
      if (in) {
        // Mapped as copied into B (a run's images side by side, or one image's pixel range).
        float* col = grow(col_buf, s.K * cols);
        map_columns(*in, s.cig, s.P, xg, t.images, t.q0, t.q1, col, cols);
        sgemm_packed(isa, s.cog, (int)cols, s.K, 1.0f, wg, false, col, (int)cols, 0.0f, out, (int)ldc);
      } else if (t.images > 1 && p.pointwise()) {
        // A pointwise run multiplies its planes where they lie: B's rows, a segment per image.
        sgemm_packed_rows(isa, s.cog, (int)cols, s.K, 1.0f, wg, plane_rows(xg, s.cig, s.P), s.P, x_image, 0.0f, out,
                          (int)ldc);
      } else {
        const float* B = xg + t.q0;  // one image of a pointwise convolution: the planes as they are
        long ldb = s.P;
        if (!p.pointwise()) {
          float* col = grow(col_buf, s.K * cols);
          if (t.images > 1) run_columns(p, s, x, t, col);
          else im2col(p, xg, s.cig, t.q0, t.q1, col, cols);
          B = col, ldb = cols;
        }
        sgemm_packed(isa, s.cog, (int)cols, s.K, 1.0f, wg, false, B, (int)ldb, 0.0f, out, (int)ldc);
      }
      if (t.images == 1 && !b && !e.any()) continue;
      for (int j = 0; j < t.images; ++j)
        for (int co = 0; co < s.cog; ++co) {
          float* dst = y + ((long)(t.i0 + j) * p.c_out + t.g * s.cog + co) * s.P;
          const float* src = t.images > 1 ? out + co * ldc + (long)j * s.P - t.q0 : dst;
          const float bias = b ? b[t.g * s.cog + co] : 0.0f;
          epilogue_run(dst + t.q0, src + t.q0, t.q1 - t.q0, bias, e.residual ? e.residual + (dst - y) + t.q0 : nullptr, e);
        }
    }
  }
  return true;
}

bool conv2d_backward_input_by_image(const Conv2dParams& p, const float* dy, const float* w,
                                    float* dx, int threads) {
  Split s;
  if (!plan_pass(p, ConvPass::BackwardInput, threads, &s)) return false;
  const Isa isa = active_isa();
  long per_group;
  const float* wp = pack_group_weights(isa, p.groups, true, s.K, s.cog, w, s.K, &per_group);
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    thread_local std::vector<float> col_buf;
#pragma omp for schedule(dynamic, 1)  // work.h: items handed out as threads come free
    for (long it = 0; it < s.items; ++it) {
      const Item t = item(p, s, it);
      const float* wg = wp + t.g * per_group;
      float* dxg = dx + ((long)t.i0 * p.c_in + t.g * s.cig) * p.h * p.w;
      if (t.images > 1) {
        // dcol (K × images·P) = Wᵀ · dY of the run side by side, scattered back per image.
        const long ld = (long)t.images * s.P;
        // dY's planes are B's rows where they lie, a segment per image (no gathered copy).
        const float** rows = plane_rows(dy + ((long)t.i0 * p.c_out + t.g * s.cog) * s.P, s.cog, s.P);
        float* col = grow(col_buf, s.K * ld);
        sgemm_packed_rows(isa, s.K, (int)ld, s.cog, 1.0f, wg, rows, s.P, (long)p.c_out * s.P, 0.0f, col, (int)ld);
        for (int j = 0; j < t.images; ++j) {
          float* dxj = dxg + (long)j * p.c_in * p.h * p.w;
          if (p.pointwise()) {
            for (int ci = 0; ci < s.cig; ++ci) copy_plane(dxj + (long)ci * s.P, col + ci * ld + (long)j * s.P, s.P);
          } else {
            std::memset(dxj, 0, sizeof(float) * s.cig * p.h * p.w);
            col2im_add(p, col + (long)j * s.P, s.cig, 0, s.P, ld, dxj);
          }
        }
        continue;
      }
      const float* dyg = dy + ((long)t.i0 * p.c_out + t.g * s.cog) * s.P;
      if (p.pointwise()) {
        sgemm_packed(isa, s.K, s.P, s.cog, 1.0f, wg, false, dyg, s.P, 0.0f, dxg, s.P);
        continue;
      }
      std::memset(dxg, 0, sizeof(float) * s.cig * p.h * p.w);
      float* col = grow(col_buf, (long)s.K * s.cols);
      for (int q0 = 0; q0 < s.P; q0 += s.cols) {
        const int q1 = std::min(s.P, q0 + s.cols);
        sgemm_packed(isa, s.K, q1 - q0, s.cog, 1.0f, wg, false, dyg + q0, s.P, 0.0f, col, s.cols);
        col2im_add(p, col, s.cig, q0, q1, s.cols, dxg);
      }
    }
  }
  return true;
}

// The weight gradient's product as dWᵀ (K × cog) = col · dYᵀ where that takes 5% fewer register
// tiles than dW = dY · colᵀ: output channels a multiple of the tile's width fill every panel where
// K ends in a ragged one, or cog in ragged rows (the stem's 64 × 147 on 12×32 tiles: 26 against
// 30; 64 → 64 3×3: 96 against 108). Each tile adds the same products in the same order either way.
static bool weight_product_transposed(const Conv2dParams& p) {
  const GemmKernel& k = gemm_kernel_for(active_isa());
  const long cog = p.c_out / p.groups, K = (long)p.c_in / p.groups * p.kh * p.kw;
  auto tiles = [&](long m, long n) { return (m + k.mr - 1) / k.mr * ((n + k.nr - 1) / k.nr); };
  return tiles(K, cog) * 20 <= tiles(cog, K) * 19;
}

bool conv2d_backward_weight_by_image(const Conv2dParams& p, const float* x, const float* dy,
                                     float* dw, int threads) {
  Split s;
  if (!plan_pass(p, ConvPass::BackwardWeight, threads, &s)) return false;
  const bool transposed = weight_product_transposed(p);
  thread_local std::vector<float> col_buf, dy_buf, dwt_buf;  // one each per OpenMP thread
  float* sums = transposed ? grow(dwt_buf, (long)p.c_out * s.K) : dw;
  sum_over_items(s.items, (long)p.c_out * s.K, sums, threads, [&](long it, float* mine, int) {
    const Item t = item(p, s, it);
    const float* xg = x + ((long)t.i0 * p.c_in + t.g * s.cig) * p.h * p.w;
    // A run of images is laid side by side: dY (cog × images·P) and col (K × images·P).
    const float *D = dy + ((long)t.i0 * p.c_out + t.g * s.cog) * s.P + t.q0, *X = xg + t.q0;
    int depth = t.q1 - t.q0, ldd = s.P, ldx = s.P;
    if (t.images > 1) {
      depth = ldd = ldx = t.images * s.P;
      float* dyc = grow(dy_buf, (long)s.cog * depth);
      float* col = grow(col_buf, (long)s.K * depth);
      gather_run(p, s, t, dy, dyc);
      run_columns(p, s, x, t, col);
      D = dyc, X = col;
    } else if (!p.pointwise()) {
      float* col = grow(col_buf, (long)s.K * s.cols);
      im2col(p, xg, s.cig, t.q0, t.q1, col, s.cols);
      X = col, ldx = s.cols;
    }
    float* acc = mine + (long)t.g * s.cog * s.K;
    // dW_g (cog × K) += dY (cog × depth) · colᵀ (depth × K), or its transpose.
    if (transposed) sgemm(false, true, s.K, s.cog, depth, 1.0f, X, ldx, D, ldd, 1.0f, acc, s.cog, 1);
    else sgemm(false, true, s.cog, s.K, depth, 1.0f, D, ldd, X, ldx, 1.0f, acc, s.K, 1);
  });
  // Each group's K × cog sum back to cog × K.
  if (transposed)
    for (int g = 0; g < p.groups; ++g)
      transpose_planes(sums + (long)g * s.cog * s.K, s.cog, s.K, s.cog, dw + (long)g * s.cog * s.K);
  return true;
}

}  // namespace cnn
