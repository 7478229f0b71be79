#include "conv/conv_direct.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "conv/direct_rows.h"
#include "conv/work.h"

namespace cnn {

namespace {

// Channels in the product's rows up to which the direct loops beat the GEMM paths (1 thread,
// private microbenchmark: 32 output channels at 32x32 forward 1.24-1.3x, input gradient 1.15x,
// weight gradient 1.03-1.6x; at 64 even forward and 1.35x slower for the weight gradient).
constexpr int kMaxChannels = 32;
// Grid columns per item: the item's accumulator rows and source planes stay in L2.
constexpr long kItemColumns = 8L << 10;
// Floats readable past a padded image: the loops round every run up to whole vectors.
constexpr long kSlack = 64;
// Zero columns shared by adjacent rows (plan) at most: the last row's taps then read at most this
// far past the planes, within kSlack with a vector to spare.
constexpr int kMaxSharedPad = 32;
// Images per run of the weight gradient.
constexpr long kRunImages = 8;
// Grid columns per image below which most vector lanes would run empty (two AVX-512 vectors;
// a 2×2 map has 6): such maps take the GEMM paths, which put many images side by side.
constexpr long kMinGridColumns = 32;

using Plan = DirectPlan;

// Items are runs of output rows of one image and group: whole images when there are enough of
// them for the threads, else each image cut into row blocks.
bool plan(const Conv2dParams& p, int threads, int channels, Plan* g) {
  if (p.stride_h != 1 || p.stride_w != 1 || channels > kMaxChannels) return false;
  g->Hp = p.h + p.pad_t + p.pad_b, g->Wp = p.w + p.pad_l + p.pad_r;
  g->OH = p.out_h(), g->OW = p.out_w();
  g->cig = p.c_in / p.groups, g->cog = p.c_out / p.groups;
  g->K = g->cig * p.kh * p.kw;
  if (g->OH < 1 || g->OW < 1 || g->Wp > 2 * g->OW || (long)(g->OH - 1) * g->Wp + g->OW < kMinGridColumns) return false;
  // One run of zeros between rows serves as one row's right padding and the next one's left
  // (taps that run past a row's end read the next row's left zeros): max(pad_l, pad_r) columns
  // instead of their sum, so fewer grid columns are computed and dropped. The input gradient's
  // flipped convolution pads by k − 1 both sides: LeNet's second layer's grid row shrinks from 16
  // to 12 columns, none dropped. Where the output row would not fit, or the last row's run past
  // the planes would outgrow the slack, the padding stays whole.
  const int shared = std::min(p.pad_l, p.pad_r);
  if (shared <= p.dil_w * (p.kw - 1) && shared <= kMaxSharedPad) g->Wp -= shared;
  g->plane = (long)g->Hp * g->Wp;
  const long images = (long)p.n * p.groups;
  const int for_threads = images >= 4L * threads ? 1 : (int)std::min<long>(g->OH, (4L * threads + images - 1) / images);
  const int for_cache = (int)((g->OH + std::max<long>(1, kItemColumns / g->Wp) - 1) / std::max<long>(1, kItemColumns / g->Wp));
  const int blocks = std::max(for_threads, for_cache);
  g->rows = (g->OH + blocks - 1) / blocks;
  g->blocks = (g->OH + g->rows - 1) / g->rows;
  g->items = images * g->blocks;
  return threads == 1 || g->items >= 2L * threads;
}

// Where tap (c, ki, kj) sits in a list of taps: the weights' order (c, ki, kj), or kernel rows
// first, (ki, c, kj), so that the taps of a range of kernel rows are one run of the list.
long tap_index(const Conv2dParams& p, int cig, bool rows_first, int c, int ki, int kj) {
  return rows_first ? ((long)ki * cig + c) * p.kw + kj : ((long)c * p.kh + ki) * p.kw + kj;
}

// Each tap's offset from a grid column in the padded planes, in the order tap_index gives.
const long* tap_offsets(const Conv2dParams& p, const Plan& g, bool rows_first) {
  thread_local std::vector<long> off;
  off.resize(g.K);
  for (int c = 0; c < g.cig; ++c)
    for (int ki = 0; ki < p.kh; ++ki)
      for (int kj = 0; kj < p.kw; ++kj)
        off[tap_index(p, g.cig, rows_first, c, ki, kj)] = c * g.plane + (long)ki * p.dil_h * g.Wp + (long)kj * p.dil_w;
  return off.data();
}

// The kernel rows [*lo, *hi) whose taps of output row oh land inside the image, not its padding.
void rows_inside(const Conv2dParams& p, int oh, int* lo, int* hi) {
  *lo = std::max(0, (p.pad_t - oh + p.dil_h - 1) / p.dil_h);
  const int last = p.pad_t + p.h - 1 - oh;  // padded rows below this one that still hold the image
  *hi = last < 0 ? 0 : std::min(p.kh, last / p.dil_h + 1);
  *hi = std::max(*hi, *lo);
}

// One image's group planes x zero-padded into out as the plan lays them out: rows Wp apart, pad_l
// zeros before each row's pixels and the rest of the Wp after them (which the shared columns
// make fewer than pad_r).
// Inline loops, not memset/memcpy: LeNet's rows are 8-28 floats, where a library call per run
// cost more than the copy.
void pad_as_planned(const Conv2dParams& p, const Plan& g, const float* x, float* out) {
  const int right = g.Wp - p.w - p.pad_l;
  for (int c = 0; c < g.cig; ++c)
    for (int r = 0; r < g.Hp; ++r) {
      float* row = out + c * g.plane + (long)r * g.Wp;
      const int ih = r - p.pad_t;
      if (ih < 0 || ih >= p.h) {
        for (int q = 0; q < g.Wp; ++q) row[q] = 0.0f;
        continue;
      }
      const float* src = x + ((long)c * p.h + ih) * p.w;
      for (int q = 0; q < p.pad_l; ++q) row[q] = 0.0f;
      for (int q = 0; q < p.w; ++q) row[p.pad_l + q] = src[q];
      for (int q = 0; q < right; ++q) row[p.pad_l + p.w + q] = 0.0f;
    }
}

// Image i, group gi, padded into the calling thread's buffer (zeros past it) unless it holds it.
const float* padded(const Conv2dParams& p, const Plan& g, const float* x, int i, int gi, std::vector<float>& buf,
                    long* held) {
  float* out = grow(buf, g.cig * g.plane + kSlack);
  const long key = (long)i * p.groups + gi;
  if (*held != key) {
    pad_as_planned(p, g, x + ((long)i * p.c_in + gi * g.cig) * p.h * p.w, out);
    std::memset(out + g.cig * g.plane, 0, sizeof(float) * kSlack);
    *held = key;
  }
  return out;
}

long round_up(long n, int unit) { return (n + unit - 1) / unit * unit; }

// The 2×2, stride-2 max pool of one image's output rows [oh0, oh1) (oh0 even) of channels
// [0, cog) as they sit in the grid (channel co at out + co·ldo, rows Wp apart), into the
// image-and-group's pooled planes y (PH × PW each), and where idx is not null each maximum's
// flat position in its OH × OW plane: the max pool kernel's fold (a later value wins if greater
// or NaN) in its window order, so values and positions equal pooling the stored output.
void pool_out(const Plan& g, const float* out, long ldo, int oh0, int oh1, float* y, float* idx) {
  const int PH = g.OH / 2, PW = g.OW / 2, ph0 = oh0 / 2, rows = std::min(PH, oh1 / 2) - ph0;
  if (rows <= 0) return;
  const long at = (long)ph0 * PW;
  direct_rows_for(active_isa()).max_pool_pairs(out, ldo, g.Wp, g.cog, rows, PW, y + at, (long)PH * PW, idx ? idx + at : nullptr,
                                               (float)(2 * ph0 * g.OW), (float)g.OW);
}

// Output rows [blk·g.rows, …) of image i, group gi, from its padded planes xp, into y (or, with
// `pooled`, max-pooled 2×2 into it, g.rows even, each maximum's position in pooled_idx unless
// that is null), the block computed in out_buf: one item of forward_taps.
void forward_item(const Conv2dParams& p, const Plan& g, const DirectRows& R, const long* off, const float* wt, const float* b,
                  const ConvEpilogue& e, const float* xp, int i, int gi, int blk, float* y, float* pooled, float* pooled_idx,
                  std::vector<float>& out_buf) {
  const long row_taps = (long)g.cig * p.kw;
  const int oh0 = blk * g.rows, oh1 = std::min(g.OH, oh0 + g.rows);
  // Each band of rows overwrites up to a vector past its end (the next band's start, or the
  // vector to spare at the end of each channel's run).
  const long n = (long)(oh1 - oh0 - 1) * g.Wp + g.OW, ldo = round_up(n, R.lanes) + R.lanes;
  float* out = grow(out_buf, g.cog * ldo);
  // The loops add the bias and clamp, unless a residual must come first: then the clamp
  // waits for the copy out of the grid.
  const bool clamp_here = !e.residual;
  // A band takes rows of the same kernel rows, and at least 3 vectors of columns, so that
  // the loops keep their register blocks (its kernel rows then cover all of its rows').
  for (int r0 = oh0, r1; r0 < oh1; r0 = r1) {
    int lo, hi, lo1, hi1;
    rows_inside(p, r0, &lo, &hi);
    for (r1 = r0 + 1; r1 < oh1; ++r1) {
      rows_inside(p, r1, &lo1, &hi1);
      if ((lo1 != lo || hi1 != hi) && (long)(r1 - r0) * g.Wp >= 3L * R.lanes) break;
      lo = std::min(lo, lo1), hi = std::max(hi, hi1);
    }
    const long c0 = (long)(r0 - oh0) * g.Wp, t0 = lo * row_taps;
    R.forward((long)(r1 - r0 - 1) * g.Wp + g.OW, g.cog, (int)((hi - lo) * row_taps), wt + ((long)gi * g.K + t0) * g.cog,
              b ? b + gi * g.cog : nullptr, clamp_here ? e.lo : -INFINITY, clamp_here ? e.hi : INFINITY,
              xp + (long)oh0 * g.Wp + c0, off + t0, out + c0, ldo);
  }
  if (pooled) {
    const long at = ((long)i * p.c_out + gi * g.cog) * (g.OH / 2) * (g.OW / 2);
    pool_out(g, out, ldo, oh0, oh1, pooled + at, pooled_idx ? pooled_idx + at : nullptr);
    return;
  }
  for (int co = 0; co < g.cog; ++co)
    for (int oh = oh0; oh < oh1; ++oh) {
      float* d = y + (((long)i * p.c_out + gi * g.cog + co) * g.OH + oh) * g.OW;
      const float* s = out + co * ldo + (long)(oh - oh0) * g.Wp;
      // An inline loop: a call to memmove per row of a few floats cost more than the copy.
      if (clamp_here) for (int q = 0; q < g.OW; ++q) d[q] = s[q];
      else epilogue_run(d, s, g.OW, 0.0f, e.residual + (d - y), e);
    }
}

// The forward pass of p (planned as g) with each group's weights tap-major, kernel rows first:
// wt[g][tap_index(rows_first)][co]. Output rows whose top or bottom kernel rows read only the
// zero padding skip those taps (the input gradient's flipped convolution pads by k − 1: LeNet's
// second layer does a third of the work there). With `pooled`, the output (clamped, no residual)
// is max-pooled 2×2 into it as it leaves the grid instead of stored in y (g.rows even), with each
// maximum's position in pooled_idx unless that is null.
void forward_taps(const Conv2dParams& p, const Plan& g, const float* x, const float* wt, const float* b, float* y,
                  int threads, const ConvEpilogue& e, float* pooled = nullptr, float* pooled_idx = nullptr) {
  const DirectRows& R = direct_rows_for(active_isa());
  const long* off = tap_offsets(p, g, true);
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    thread_local std::vector<float> pad_buf, out_buf;
    long held = -1;
#pragma omp for schedule(static)
    for (long it = 0; it < g.items; ++it) {
      const int blk = (int)(it % g.blocks), gi = (int)(it / g.blocks % p.groups), i = (int)(it / g.blocks / p.groups);
      const float* xp = padded(p, g, x, i, gi, pad_buf, &held);
      forward_item(p, g, R, off, wt, b, e, xp, i, gi, blk, y, pooled, pooled_idx, out_buf);
    }
  }
}

// Each group's weights tap-major, kernel rows first (forward_taps' order), in wt_buf (by default a thread's buffer).
const float* forward_weights(const Conv2dParams& p, const Plan& g, const float* w, std::vector<float>* into = nullptr) {
  thread_local std::vector<float> wt_buf;
  float* wt = grow(into ? *into : wt_buf, (long)p.c_out * g.K);
  for (int gi = 0; gi < p.groups; ++gi)
    for (int co = 0; co < g.cog; ++co)
      for (int c = 0; c < g.cig; ++c)
        for (int ki = 0; ki < p.kh; ++ki)
          for (int kj = 0; kj < p.kw; ++kj)
            wt[((long)gi * g.K + tap_index(p, g.cig, true, c, ki, kj)) * g.cog + co] =
                w[((long)gi * g.cog + co) * g.K + tap_index(p, g.cig, false, c, ki, kj)];
  return wt;
}

}  // namespace

bool conv_direct_suits(const Conv2dParams& p, ConvPass pass, int threads) {
  Plan g;
  Conv2dParams q;
  switch (pass) {
    case ConvPass::Forward:
    case ConvPass::BackwardWeight: return plan(p, threads, p.c_out / p.groups, &g);
    case ConvPass::BackwardInput: return input_grad_as_forward(p, &q) && plan(q, threads, q.c_out / q.groups, &g);
  }
  return false;
}

bool conv2d_forward_direct(const Conv2dParams& p, const float* x, const float* w, const float* b, float* y,
                           int threads, const ConvEpilogue& e) {
  Plan g;
  if (!plan(p, threads, p.c_out / p.groups, &g)) return false;
  forward_taps(p, g, x, forward_weights(p, g, w), b, y, threads, e);
  return true;
}

bool conv2d_forward_direct_max_pool(const Conv2dParams& p, const float* x, const float* w, const float* b, float* y,
                                    int threads, float lo, float hi, float* idx) {
  Plan g;
  if (conv2d_algo(p, ConvPass::Forward, threads) != ConvAlgo::Direct || !plan(p, threads, p.c_out / p.groups, &g) ||
      g.OH < 2 || g.OW < 2)
    return false;
  // A pooling window's two rows in one item.
  if (g.rows % 2) {
    g.rows += 1;
    g.blocks = (g.OH + g.rows - 1) / g.rows;
    g.items = (long)p.n * p.groups * g.blocks;
  }
  ConvEpilogue e;
  e.lo = lo, e.hi = hi;
  forward_taps(p, g, x, forward_weights(p, g, w), b, nullptr, threads, e, y, idx);
  return true;
}

bool conv2d_backward_input_direct(const Conv2dParams& p, const float* dy, const float* w, float* dx,
                                  int threads) {
  Conv2dParams q;
  Plan g;
  if (!input_grad_as_forward(p, &q) || !plan(q, threads, q.c_out / q.groups, &g)) return false;
  // q's taps are (co, ki, kj) of p flipped, its output channels p's input channels c.
  const int cig = p.c_in / p.groups, cog = p.c_out / p.groups, taps = p.kh * p.kw;
  thread_local std::vector<float> wt_buf;
  float* wt = grow(wt_buf, (long)p.c_out * cig * taps);
  for (int gi = 0; gi < p.groups; ++gi)
    for (int co = 0; co < cog; ++co)
      for (int c = 0; c < cig; ++c)
        for (int ki = 0; ki < p.kh; ++ki)
          for (int kj = 0; kj < p.kw; ++kj)
            wt[((long)gi * g.K + tap_index(q, cog, true, co, ki, kj)) * cig + c] =
                w[(((long)gi * cog + co) * cig + c) * taps + (p.kh - 1 - ki) * p.kw + p.kw - 1 - kj];
  forward_taps(q, g, dy, wt, nullptr, dx, threads, {});
  return true;
}

bool conv2d_backward_weight_direct(const Conv2dParams& p, const float* x, const float* dy, float* dw,
                                   int threads) {
  Plan g;
  if (!plan(p, threads, p.c_out / p.groups, &g)) return false;
  const DirectRows& R = direct_rows_for(active_isa());
  const long* off = tap_offsets(p, g, false), size = (long)p.c_out * g.K;
  // Whole small images go through the loops in runs (a run's planes and dy stay in L2), as long
  // as the threads still get 4 runs each.
  const long src_image = g.cig * g.plane + kSlack, n_max = (long)(g.rows - 1) * g.Wp + g.OW;
  const long dy_image = g.cog * round_up(n_max, R.lanes);
  const int run = g.blocks > 1 ? 1
                               : (int)std::max<long>(1, std::min<long>({kRunImages, kItemColumns * 8 / (src_image + dy_image),
                                                                        p.n / (4L * threads)}));
  const long runs_per_group = g.blocks > 1 ? (long)p.n * g.blocks : (p.n + run - 1) / run, runs = runs_per_group * p.groups;
  // One range of runs per thread, its sums kept a vector per weight until the range ends.
  sum_over_items(threads, size, dw, threads, [&](long part, float* mine, int) {
    thread_local std::vector<float> pad_buf, dy_buf, sum_buf;
    float* sums = grow(sum_buf, size * R.lanes);
    std::memset(sums, 0, sizeof(float) * size * R.lanes);
    float* xp = grow(pad_buf, run * src_image);
    float* dyg = grow(dy_buf, run * dy_image);
    for (long r = runs * part / threads; r < runs * (part + 1) / threads; ++r) {
      const int gi = (int)(r / runs_per_group);
      const long k = r % runs_per_group;
      const int blk = g.blocks > 1 ? (int)(k % g.blocks) : 0, i0 = g.blocks > 1 ? (int)(k / g.blocks) : (int)k * run;
      const int images = g.blocks > 1 ? 1 : std::min(run, p.n - i0);
      const int oh0 = blk * g.rows, oh1 = std::min(g.OH, oh0 + g.rows);
      const long n = (long)(oh1 - oh0 - 1) * g.Wp + g.OW, ldy = round_up(n, R.lanes);
      for (int j = 0; j < images; ++j) {
        const int i = i0 + j;
        float* xj = xp + j * src_image;
        pad_as_planned(p, g, x + ((long)i * p.c_in + gi * g.cig) * p.h * p.w, xj);
        std::memset(xj + g.cig * g.plane, 0, sizeof(float) * kSlack);
        // dY on the grid: zero in the dropped columns and past the run (inline loops, as padding).
        for (int co = 0; co < g.cog; ++co) {
          float* grid = dyg + j * dy_image + co * ldy;
          const float* src = dy + (((long)i * p.c_out + gi * g.cog + co) * g.OH + oh0) * g.OW;
          for (int oh = oh0; oh < oh1; ++oh) {
            float* row = grid + (long)(oh - oh0) * g.Wp;
            for (int q = 0; q < g.OW; ++q) row[q] = src[(long)(oh - oh0) * g.OW + q];
            if (oh + 1 < oh1) for (int q = g.OW; q < g.Wp; ++q) row[q] = 0.0f;
          }
          for (long q = n; q < ldy; ++q) grid[q] = 0.0f;
        }
      }
      R.weight_grad(n, images, g.cog, g.K, dyg, ldy, dy_image, xp + (long)oh0 * g.Wp, src_image, off,
                    sums + (long)gi * g.cog * g.K * R.lanes, g.K);
    }
    for (long e = 0; e < size; ++e) {
      float s = 0.0f;
      for (int l = 0; l < R.lanes; ++l) s += sums[e * R.lanes + l];
      mine[e] += s;
    }
  });
  return true;
}

bool direct_image_conv_prepare(const Conv2dParams& p, const float* w, const float* b, float lo, float hi, bool pooled,
                               DirectImageConv* c) {
  // Whole images, one at a time on one thread: planned as a batch that gives each of one
  // thread's items a whole image (or the cache's row blocks), then for one image.
  Conv2dParams q = p;
  q.n = 4;
  Plan g;
  if (!plan(q, 1, q.c_out / q.groups, &g) || (pooled && (g.OH < 2 || g.OW < 2))) return false;
  q.n = 1;
  if (pooled && g.rows % 2) g.rows += 1, g.blocks = (g.OH + g.rows - 1) / g.rows;
  g.items = (long)q.groups * g.blocks;
  c->p = q, c->g = g, c->bias = b, c->pooled = pooled;
  c->e = ConvEpilogue{};
  c->e.lo = lo, c->e.hi = hi;
  const long* off = tap_offsets(q, g, true);
  c->off.assign(off, off + g.K);
  forward_weights(q, g, w, &c->wt);
  // Vector products per tap, unpadded and pooled: the grid's (its channels × vectors, and a
  // tenth more for its separate pool pass), channels in the lanes' (channel vectors × the
  // windows' pixels) and the pooling phases' (4 phases × vectors of pooled pixels × channels).
  const int lanes = direct_rows_for(active_isa()).lanes, PH = g.OH / 2, PW = g.OW / 2;
  const long grid = (long)g.cog * (((long)(g.OH - 1) * g.Wp + g.OW + lanes - 1) / lanes) * 11 / 10;
  const long by_channel = (long)(g.cog + lanes - 1) / lanes * 4 * PH * PW;
  const long by_phase = 4L * (((long)PH * PW + lanes - 1) / lanes) * g.cog;
  c->cp = 0, c->phases = false;
  const bool unpadded = pooled && q.groups == 1 && !q.pad_t && !q.pad_b && !q.pad_l && !q.pad_r;
  if (unpadded && by_channel <= std::min(grid, by_phase)) {
    c->cp = (int)round_up(g.cog, lanes);
    c->wl.assign((size_t)g.K * c->cp, 0.0f);
    for (int t = 0; t < g.K; ++t)
      for (int co = 0; co < g.cog; ++co) c->wl[(size_t)t * c->cp + co] = c->wt[(size_t)t * g.cog + co];
    c->bl.assign(c->cp, 0.0f);
    if (b) std::copy(b, b + g.cog, c->bl.begin());
  } else if (unpadded && q.dil_h == 1 && q.dil_w == 1 && by_phase <= grid) {
    c->phases = true;
    c->rows = PH + q.kh / 2, c->dcs = q.kw / 2 + 1;
    const long plane = (long)c->rows * PW;
    c->phase_off.resize(4L * g.K);
    for (int k = 0; k < 4; ++k)
      for (int ch = 0; ch < g.cig; ++ch)
        for (int ki = 0; ki < q.kh; ++ki)
          for (int kj = 0; kj < q.kw; ++kj) {
            const int a = (k >> 1) + ki, bb = (k & 1) + kj;
            c->phase_off[4 * tap_index(q, g.cig, true, ch, ki, kj) + k] =
                (((long)(ch * 2 + a % 2) * 2 + bb % 2) * c->dcs + bb / 2) * plane + (long)(a / 2) * PW;
          }
  }
  return true;
}

long direct_image_conv_out_floats(const DirectImageConv& c) {
  return c.pooled ? (long)c.p.c_out * (c.g.OH / 2) * (c.g.OW / 2) : (long)c.p.c_out * c.g.OH * c.g.OW;
}

void direct_image_conv_run(const DirectImageConv& c, const float* x, float* y, std::vector<float>& pad_buf,
                           std::vector<float>& out_buf) {
  const DirectRows& R = direct_rows_for(active_isa());
  if (c.phases) {
    // The image's pooling phases as planes, then every channel's pooled planes in one sweep
    // (straight into y when they are whole vectors).
    const int PW = c.g.OW / 2;
    const long pp = (long)(c.g.OH / 2) * PW, ldo = round_up(pp, R.lanes);
    float* planes = grow(pad_buf, (long)c.g.cig * 4 * c.dcs * c.rows * PW + R.lanes);
    R.phase_planes(x, c.g.cig, c.p.h, c.p.w, c.rows, PW, c.dcs, planes);
    const bool direct = ldo == pp;
    float* out = direct ? y : grow(out_buf, (long)c.g.cog * ldo);
    R.pooled_phases(pp, c.g.cog, c.g.K, c.wt.data(), c.bias, c.e.lo, c.e.hi, planes, c.phase_off.data(), out, ldo);
    if (!direct)
      for (int co = 0; co < c.g.cog; ++co) std::copy(out + co * ldo, out + co * ldo + pp, y + co * pp);
    return;
  }
  if (c.cp) {
    // Unpadded: the image is its own grid. Windows × channels, then channel planes.
    const int windows = (c.g.OH / 2) * (c.g.OW / 2);
    float* out = grow(out_buf, (long)windows * c.cp);
    R.pooled_channels(c.g.OH / 2, c.g.OW / 2, c.g.Wp, c.cp, c.g.K, c.wl.data(), c.bias ? c.bl.data() : nullptr, c.e.lo, c.e.hi, x,
                      c.off.data(), out, c.cp);
    for (int co = 0; co < c.g.cog; ++co)
      for (int q = 0; q < windows; ++q) y[(long)co * windows + q] = out[(long)q * c.cp + co];
    return;
  }
  for (int gi = 0; gi < c.p.groups; ++gi) {
    long held = -1;
    const float* xp = padded(c.p, c.g, x, 0, gi, pad_buf, &held);
    for (int blk = 0; blk < c.g.blocks; ++blk)
      forward_item(c.p, c.g, R, c.off.data(), c.wt.data(), c.bias, c.e, xp, 0, gi, blk, c.pooled ? nullptr : y,
                   c.pooled ? y : nullptr, nullptr, out_buf);
  }
}

}  // namespace cnn
