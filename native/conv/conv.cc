// Convolution entry points. Each first cuts taps that only ever read padding, then runs the
// path conv2d_algo names (conv.h lists them and the order Auto tries them in). The batched
// path lives in this file: im2col + GEMM over chunks of images, the column matrix of G images side
// by side (K × G·P), so one threaded GEMM per chunk and group does the work of G small ones.
// G is as large as a ~32 MB column buffer allows; the copies around the GEMM (im2col, col2im,
// NCHW ↔ channel-major) are spread over images or channels. With one output pixel per image
// (ResNet's last stage at CIFAR sizes) the column matrix is laid out transposed, a row of K per
// image, so that each product reads and writes NCHW as it lies: Y = colᵀ·Wᵀ, dcolᵀ = dY·W and
// dW = dYᵀ·colᵀ, without the copies to and from channel-major.
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <vector>

#include "conv/conv.h"
#include "conv/columns.h"
#include "conv/conv_by_image.h"
#include "conv/dense_map.h"
#include "conv/few_channels.h"
#include "conv/conv_direct.h"
#include "conv/conv_lanes.h"
#include "conv/conv_grid.h"
#include "conv/geometry.h"
#include "conv/pointwise.h"
#include "conv/winograd.h"
#include "conv/work.h"
#include "gemm/gemm.h"

namespace cnn {

namespace {

// Floats of column buffer per chunk: big enough to batch small images, small enough for cache.
constexpr long kColumnBudget = 8L << 20;

struct Chunking {
  int P, K, cig, cog, images;
  bool rows;  // one output pixel per image: image i's columns are row i of a (images × K) matrix
  // Where image i's block of columns starts (col + i·istride) and the distance between its rows,
  // for G images side by side.
  long istride(long) const { return rows ? K : P; }
  long ldc(long g_images) const { return rows ? 1 : g_images * P; }
};

Chunking chunking(const Conv2dParams& p) {
  Chunking c;
  c.P = p.out_h() * p.out_w();
  c.cig = p.c_in / p.groups;
  c.cog = p.c_out / p.groups;
  c.K = c.cig * p.kh * p.kw;
  const long per_image = std::max<long>((long)c.K, (long)c.cog) * c.P;
  c.images = (int)std::max<long>(1, std::min<long>(p.n, kColumnBudget / std::max<long>(per_image, 1)));
  c.rows = c.P == 1;
  return c;
}

// Columns of images [n0, n0+g_images), group g: side by side, col (K × images·P), or with
// c.rows one row per image, col (images × K).
void fill_columns(const Conv2dParams& p, const Chunking& c, const float* x, int n0, int g_images, int g,
                  float* col, int threads) {
  const long ld = c.ldc(g_images);
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1 && g_images > 1)
  for (int i = 0; i < g_images; ++i) {
    const float* xg = x + ((long)(n0 + i) * p.c_in + g * c.cig) * p.h * p.w;
    float* ci = col + i * c.istride(g_images);
    if (p.pointwise()) {
      for (int k = 0; k < c.cig; ++k) copy_plane(ci + k * ld, xg + (long)k * c.P, c.P);
    } else {
      im2col(p, xg, c.cig, 0, c.P, ci, ld);
    }
  }
}

// Taps that read only padding for every output pixel (a 3×3 kernel over a 1×1 map uses only
// its centre) add nothing: the convolution equals one with the kernel cut to the taps that can
// land inside the image and the padding cut to match. Returns false when nothing can be cut.
bool trim_taps(const Conv2dParams& p, Conv2dParams* q, int* ki0, int* kj0) {
  auto used = [](int k, int dil, int pad, int out, int in, int stride, int* first, int* end) {
    *first = k, *end = 0;
    for (int t = 0; t < k; ++t) {
      int lo, hi;
      valid_range(out, in, stride, t * dil - pad, &lo, &hi);
      if (hi > lo) *first = std::min(*first, t), *end = t + 1;
    }
  };
  int ki1, kj1;
  used(p.kh, p.dil_h, p.pad_t, p.out_h(), p.h, p.stride_h, ki0, &ki1);
  used(p.kw, p.dil_w, p.pad_l, p.out_w(), p.w, p.stride_w, kj0, &kj1);
  if (ki1 <= *ki0 || kj1 <= *kj0 || (ki1 - *ki0 == p.kh && kj1 - *kj0 == p.kw)) return false;
  *q = p;
  q->kh = ki1 - *ki0, q->kw = kj1 - *kj0;
  q->pad_t = p.pad_t - *ki0 * p.dil_h, q->pad_b = p.pad_b - (p.kh - ki1) * p.dil_h;
  q->pad_l = p.pad_l - *kj0 * p.dil_w, q->pad_r = p.pad_r - (p.kw - kj1) * p.dil_w;
  return q->pad_t >= 0 && q->pad_b >= 0 && q->pad_l >= 0 && q->pad_r >= 0;
}

// w cut to q's taps, starting at tap (ki0, kj0) of p's kernel. Every call copies (the kernel
// cannot know whether w changed since the last), and the copy reads every cache line of w (9.4 MB
// for a 512-channel 3×3 cut to its centre: as long as the product itself on one thread), so the
// planes are split over the threads instead of leaving the other threads waiting.
const float* trimmed_weights(const Conv2dParams& p, const Conv2dParams& q, int ki0, int kj0, const float* w,
                             int threads) {
  thread_local std::vector<float> buf;
  const long planes = (long)p.c_out * (p.c_in / p.groups);
  float* out = grow(buf, planes * q.kh * q.kw);
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1 && planes >= 4096)
  for (long pl = 0; pl < planes; ++pl)
    for (int i = 0; i < q.kh; ++i)
      for (int j = 0; j < q.kw; ++j) out[(pl * q.kh + i) * q.kw + j] = w[(pl * p.kh + ki0 + i) * p.kw + kj0 + j];
  return out;
}

// The inverse for the weight gradient: dwq (q's taps) into dw (p's), the cut taps zero. Each
// thread clears and fills its own range of planes (one memset each: per-plane ones cost more).
void untrim_weight_grad(const Conv2dParams& p, const Conv2dParams& q, int ki0, int kj0, const float* dwq, float* dw,
                        int threads) {
  const long planes = (long)p.c_out * (p.c_in / p.groups);
#pragma omp parallel num_threads(threads) if (threads > 1 && planes >= 4096)
  {
    const int t = omp_get_thread_num(), team = omp_get_num_threads();
    const long begin = planes * t / team, end = planes * (t + 1) / team;
    std::memset(dw + begin * p.kh * p.kw, 0, sizeof(float) * (end - begin) * p.kh * p.kw);
    for (long pl = begin; pl < end; ++pl)
      for (int i = 0; i < q.kh; ++i)
        for (int j = 0; j < q.kw; ++j) dw[(pl * p.kh + ki0 + i) * p.kw + kj0 + j] = dwq[(pl * q.kh + i) * q.kw + j];
  }
}

std::atomic<int> g_override{(int)ConvAlgo::Auto};
std::atomic<bool> g_winograd_training{true};

constexpr const char* kAlgoNames[] = {"auto", "depthwise", "grid", "by-image", "batched", "direct", "winograd", "dense-map", "lanes"};

// Output pixels per image from which 1×1 convolutions (stride 1, no padding) take the direct
// loops where those suit; on smaller maps runs of images multiplied by one GEMM each (by-image)
// win every pass (MobileNetV2's 1×1 layers at 3×32×32, batch 64, 2 threads, 16×16 and 8×8 maps:
// forward 1.6-2.1x, input gradient 1.1-2.4x, weight gradient 1.3-2.2x), while from 28×28 the
// direct weight gradient wins.
constexpr int kDirectMinPointwisePixels = 257;

// c_in · c_out above which Winograd, where it wins, takes 3×3 layers the channels-in-lanes loops fit.
constexpr long kLanesMaxChannelsOverWinograd = 128L * 128;

// The path for p, whose taps are already cut; u: whether Winograd-transformed weights are at hand.
ConvAlgo choose(const Conv2dParams& p, ConvPass pass, int threads, bool u = false) {
  // Whether Winograd beats the other paths on q, a forward pass: without cached weights (training)
  // the transform in every call needs more tiles to pay.
  auto winograd_wins = [&](const Conv2dParams& q) {
    return u ? conv_winograd_wins(q, threads) : g_winograd_training.load(std::memory_order_relaxed) && conv_winograd_wins_per_call(q, threads);
  };
  auto suits = [&](ConvAlgo a) {
    switch (a) {
      case ConvAlgo::Depthwise: return p.depthwise();
      case ConvAlgo::Lanes: {
        // The input gradient goes as the forward pass q.
        Conv2dParams q = p;
        if (pass == ConvPass::BackwardWeight || (pass == ConvPass::BackwardInput && (p.groups != 1 || !input_grad_as_forward(p, &q))) ||
            !conv_lanes_fits(q))
          return false;
        if (conv_algo_override() == ConvAlgo::Lanes) return true;
        // Where Winograd wins (eval's cached transforms, or training's per call), it keeps the
        // layers above 128 × 128 channels: eval 4×4 256 → 256 7.8 against the lanes' 8.7 ms, 7×7
        // 512 → 512 9.2 against 16.7; training 8×8 256 → 256 31.6 against 39.2 (its input
        // gradient 17.0 against 21.2). Up to 128 × 128 the lanes win (eval 4×4 2.3 against 2.7 ms,
        // training 8×8 64 → 64 1.5 against 2.1; the input gradient below).
        if ((long)q.c_in * q.c_out > kLanesMaxChannelsOverWinograd && winograd_wins(q))
          return false;
        return conv_lanes_wins(q, threads);
      }
      case ConvAlgo::Winograd: {
        // The input gradient goes as the forward pass q.
        Conv2dParams q = p;
        const bool fits = pass == ConvPass::Forward ? conv_winograd_fits(p)
                          : pass == ConvPass::BackwardInput && winograd_input_gradient_params(p, &q);
        if (!fits || conv_algo_override() == ConvAlgo::Winograd) return fits;
        return winograd_wins(q);
      }
      case ConvAlgo::Direct:
        return (!p.pointwise() || p.out_h() * p.out_w() >= kDirectMinPointwisePixels) && conv_direct_suits(p, pass, threads);
      case ConvAlgo::Grid: return conv_grid_suits(p, pass, threads);
      case ConvAlgo::ByImage:
        return conv_by_image_suits(p, pass, threads) &&
               !(pass == ConvPass::BackwardWeight && conv_algo_override() == ConvAlgo::Auto && conv_grid_batched_weight_wins(p));
      case ConvAlgo::DenseMap: return false;  // taken before taps are cut, or not at all
      default: return true;
    }
  };
  const ConvAlgo forced = conv_algo_override();
  if (forced != ConvAlgo::Auto) return suits(forced) ? forced : ConvAlgo::Batched;
  // The input gradient takes the lanes first too (bench/input-gradient-paths.mjs, 2 threads,
  // AVX-512, the lanes against what Auto took before): 64 → 64 on 8×8 at batch 128 1.38 against
  // Winograd's 2.31 ms, 64 → 128 on 8×8 2.70 against 4.27, 128 on 4×4 1.38 against the grid's
  // 2.10, 256 on 4×4 2.94 against 3.98, 32 → 16 on 8×8 0.22 against the direct loops' 0.34.
  for (ConvAlgo a : {ConvAlgo::Depthwise, ConvAlgo::Lanes, ConvAlgo::Winograd})
    if (suits(a)) return a;
  // A stem's forward pass (few input channels, 16+ output channels): by-image's few-channel loops
  // (few_channels.h) beat the grid and GEMM paths, and the direct loops too (stride 1, ms at 2
  // threads: 128 × 3 → 32 on 32×32 1.08 against 1.55, 3 → 24 5×5 1.52 against 1.89, 16 × 3 → 32
  // on 224×224 7.5 against 9.1; on one thread 7-22% in one run, level for 3 → 32 in another).
  // Such a stem followed by a 2×2 max pool then runs unfused, its pool a pass of its own (the
  // direct loops' pooled stores would round the sums differently): 2.0 ms against the pooled
  // direct loops' 1.2 for 3 → 32, but no zoo model has one (LeNet's 6 channels stay on the direct
  // loops; VGG's 64 were never on them).
  if (pass == ConvPass::Forward && few_channels_wins(p)) return ConvAlgo::ByImage;
  if (pass == ConvPass::Forward && few_channels_short_patches(p)) return ConvAlgo::Batched;
  for (ConvAlgo a : {ConvAlgo::Direct, ConvAlgo::Grid, ConvAlgo::ByImage})
    if (suits(a)) return a;
  return ConvAlgo::Batched;
}

}  // namespace

const char* conv_algo_name(ConvAlgo algo) { return kAlgoNames[(int)algo]; }

bool parse_conv_algo(const std::string& name, ConvAlgo* out) {
  for (int i = 0; i < (int)(sizeof kAlgoNames / sizeof *kAlgoNames); ++i)
    if (name == kAlgoNames[i]) return *out = (ConvAlgo)i, true;
  return false;
}

void set_conv_algo(ConvAlgo algo) { g_override.store((int)algo, std::memory_order_relaxed); }

void set_winograd_training(bool on) { g_winograd_training.store(on, std::memory_order_relaxed); }

ConvAlgo conv_algo_override() { return (ConvAlgo)g_override.load(std::memory_order_relaxed); }

bool conv2d_takes_dense_map(const Conv2dParams& p, ConvPass pass, int threads, bool cached) {
  const ConvAlgo forced = conv_algo_override();
  if (forced == ConvAlgo::DenseMap) return conv_dense_map_fits(p);
  return forced == ConvAlgo::Auto && conv_dense_map_wins(p, pass, threads, cached);
}

ConvAlgo conv2d_algo(const Conv2dParams& p, ConvPass pass, int threads, bool cached) {
  if (conv2d_takes_dense_map(p, pass, threads, cached)) return ConvAlgo::DenseMap;
  Conv2dParams q;
  int ki0, kj0;
  // Cut taps leave no 3×3 kernel: the transformed weights no longer apply.
  if (trim_taps(p, &q, &ki0, &kj0)) return choose(q, pass, threads);
  return choose(p, pass, threads, cached);
}

// Each group's Cout/groups × Cin/groups·KH·KW weights as sgemm_pack_a packs them, then their packed_tag.
static long packed_weights_floats(const Conv2dParams& p) {
  return sgemm_packed_a_floats(active_isa(), p.c_out / p.groups, p.c_in / p.groups * p.kh * p.kw) * p.groups + 1;
}

long conv2d_packed_weights_floats(const Conv2dParams& p, int threads) {
  Conv2dParams q;
  int ki0, kj0;
  // Cut taps change the weights the call packs; few input channels take direct loops.
  if (trim_taps(p, &q, &ki0, &kj0) || few_channels_suits(p)) return 0;
  const ConvAlgo algo = conv2d_algo(p, ConvPass::Forward, threads, true);
  if (algo == ConvAlgo::ByImage || algo == ConvAlgo::Grid) return packed_weights_floats(p);
  // The batched path takes them where a whole chunk has fewer columns than output channels (the
  // weights outweigh the columns each thread would pack in their place), but not on the padded
  // grid it takes for other stride-1 layers.
  const Chunking c = chunking(p);
  const bool grid = !p.pointwise() && p.stride_h == 1 && p.stride_w == 1;
  return algo == ConvAlgo::Batched && !grid && !c.rows && (long)c.images * c.P < c.cog ? packed_weights_floats(p) : 0;
}

long conv2d_packed_weights_capacity(const Conv2dParams& p) { return packed_weights_floats(p); }

void conv2d_pack_weights(const Conv2dParams& p, const float* w, float* out) {
  const Isa isa = active_isa();
  const int cog = p.c_out / p.groups, K = p.c_in / p.groups * p.kh * p.kw;
  const long per_group = sgemm_packed_a_floats(isa, cog, K);
  for (int g = 0; g < p.groups; ++g) sgemm_pack_a(isa, false, cog, K, w + (long)g * cog * K, K, out + g * per_group);
  out[per_group * p.groups] = packed_tag(isa, out);
}

void conv2d_forward(const Conv2dParams& p, const float* x, const float* w, const float* b, float* y,
                    int threads, const ConvEpilogue& e, const ConvWeightCaches& caches) {
  const float *winograd_u = caches.winograd_u, *packed_w = caches.packed;
  if (conv2d_takes_dense_map(p, ConvPass::Forward, threads, caches.dense_wd || caches.dense_packed))
    return conv2d_forward_dense_map(p, x, w, caches.dense_wd, b, y, threads, e, caches.dense_packed);
  Conv2dParams q;
  int ki0, kj0;
  if (trim_taps(p, &q, &ki0, &kj0)) return conv2d_forward(q, x, trimmed_weights(p, q, ki0, kj0, w, threads), b, y, threads, e);
  switch (choose(p, ConvPass::Forward, threads, winograd_u != nullptr)) {
    case ConvAlgo::Depthwise: return depthwise_forward(p, x, w, b, y, threads, e);
    case ConvAlgo::Lanes: if (conv2d_forward_lanes(p, x, w, b, y, threads, e, caches.lanes)) return; break;
    case ConvAlgo::Winograd: return conv2d_forward_winograd(p, x, w, winograd_u, b, y, threads, e);
    case ConvAlgo::Direct: if (conv2d_forward_direct(p, x, w, b, y, threads, e)) return; break;
    case ConvAlgo::Grid: if (conv2d_forward_grid(p, x, w, b, y, threads, e, packed_w)) return; break;
    case ConvAlgo::ByImage: if (conv2d_forward_by_image(p, x, w, b, y, threads, e, packed_w)) return; break;
    default: break;
  }
  // Stride 1: the chunk's padded images are B's rows where they lie, no column matrix (the pinned
  // batched path keeps im2col, so tests still reach it on every ISA).
  const bool by_grid = conv_algo_override() == ConvAlgo::Auto;
  if (by_grid && conv2d_forward_grid_batched(p, x, w, b, y, threads, e)) return;
  const Chunking c = chunking(p);
  // Eval's packed weights where they were packed for the batched path (conv2d_packed_weights_floats).
  const Isa isa = active_isa();
  const int mr = gemm_kernel_for(isa).mr;
  const long per_group = sgemm_packed_a_floats(isa, c.cog, c.K);
  const float* packed_groups = c.rows ? nullptr : cached_group_weights(isa, packed_w, p.groups, c.cog, c.K);
  thread_local std::vector<float> col_buf, out_buf;
  for (int n0 = 0; n0 < p.n; n0 += c.images) {
    const int g_images = std::min(c.images, p.n - n0);
    const long ld = (long)g_images * c.P;
    float* col = grow(col_buf, (long)c.K * ld);
    float* out = grow(out_buf, (long)c.cog * ld);
    // Row co of the product (cog × images·P), image i's part, back to NCHW through the epilogue.
    auto to_nchw = [&](int g, int i, int co) {
      const float* s = out + (long)co * ld + (long)i * c.P;
      float* d = y + ((long)(n0 + i) * p.c_out + g * c.cog + co) * c.P;
      epilogue_run(d, s, c.P, b ? b[g * c.cog + co] : 0.0f, e.residual ? e.residual + (d - y) : nullptr, e);
    };
    for (int g = 0; g < p.groups; ++g) {
      fill_columns(p, c, x, n0, g_images, g, col, threads);
      if (c.rows) {
        // Y (images × cog, rows c_out apart) = colᵀ · W_gᵀ, in place in y; then the epilogue.
        float* yg = y + (long)n0 * p.c_out + g * c.cog;
        sgemm(false, true, g_images, c.cog, c.K, 1.0f, col, c.K, w + (long)g * c.cog * c.K, c.K, 0.0f, yg, p.c_out, threads);
        if (!b && !e.any()) continue;
        const float lo = e.lo, hi = e.hi;
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
        for (int i = 0; i < g_images; ++i)
          for (int co = 0; co < c.cog; ++co) {
            float* d = yg + (long)i * p.c_out + co;
            const float* res = e.residual ? e.residual + (d - y) : nullptr;
            *d = clamp_to(*d + (b ? b[g * c.cog + co] : 0.0f) + (res ? *res : 0.0f), lo, hi);
          }
        continue;
      }
      if (packed_groups) {
        // Eval's packed weights, shared out by rows: each thread reads its share of them once (a
        // threaded product of so few columns splits them by columns, and every thread packs all
        // the weights: MobileNetV2's last 1×1 layer at batch 1 ran slower on 2 threads than 1).
        // Chunks of rows handed out dynamically, each through the epilogue as it is done, so the
        // first thread does not wait for a second that has to be woken.
        const float* wg = packed_groups + g * per_group;
        const int panels = (c.cog + mr - 1) / mr, chunks = threads == 1 ? 1 : std::min(panels, 4 * threads);
#pragma omp parallel for num_threads(threads) schedule(dynamic) if (threads > 1)
        for (int ch = 0; ch < chunks; ++ch) {
          const int r0 = (int)((long)panels * ch / chunks) * mr, r1 = std::min(c.cog, (int)((long)panels * (ch + 1) / chunks) * mr);
          sgemm_packed_part(isa, c.cog, r0, r1, (int)ld, c.K, 1.0f, wg, false, col, (int)ld, 0.0f, out, (int)ld);
          for (int co = r0; co < r1; ++co)
            for (int i = 0; i < g_images; ++i) to_nchw(g, i, co);
        }
        continue;
      }
      sgemm(false, false, c.cog, (int)ld, c.K, 1.0f, w + (long)g * c.cog * c.K, c.K, col, (int)ld, 0.0f, out, (int)ld, threads);
#pragma omp parallel for collapse(2) num_threads(threads) schedule(static) if (threads > 1)
      for (int i = 0; i < g_images; ++i)
        for (int co = 0; co < c.cog; ++co) to_nchw(g, i, co);
    }
  }
}

// Σ of n floats in 8 independent lanes, which the compiler keeps in vector registers (a single
// double chain ran at one add per FMA latency: a tenth of a 64-channel 3×3 weight gradient).
// The lanes go into the double every 512 floats, so float rounding never builds up over a large image.
static double sum_floats(const float* d, long n) {
  double s = 0.0;
  long i = 0;
  while (i + 8 <= n) {
    float lanes[8] = {};
    for (const long end = std::min(n, i + 512); i + 8 <= end; i += 8)
      for (int l = 0; l < 8; ++l) lanes[l] += d[i + l];
    for (int l = 0; l < 8; ++l) s += lanes[l];
  }
  for (; i < n; ++i) s += d[i];
  return s;
}

// Gathers dy of images [n0, n0+g_images) and group g into channel-major (cog × images·P).
static void gather_dy(const Conv2dParams& p, const Chunking& c, const float* dy, int n0, int g_images,
                      int g, float* out, int threads) {
  const long ld = (long)g_images * c.P;
#pragma omp parallel for collapse(2) num_threads(threads) schedule(static) if (threads > 1)
  for (int i = 0; i < g_images; ++i)
    for (int co = 0; co < c.cog; ++co)
      copy_plane(out + (long)co * ld + (long)i * c.P, dy + ((long)(n0 + i) * p.c_out + g * c.cog + co) * c.P, c.P);
}

void conv2d_backward_input(const Conv2dParams& p, const float* dy, const float* w, float* dx,
                           int threads, const float* dense_wd) {
  if (conv2d_takes_dense_map(p, ConvPass::BackwardInput, threads)) return conv2d_backward_input_dense_map(p, dy, w, dense_wd, dx, threads);
  Conv2dParams q;
  int ki0, kj0;
  if (trim_taps(p, &q, &ki0, &kj0)) return conv2d_backward_input(q, dy, trimmed_weights(p, q, ki0, kj0, w, threads), dx, threads);
  switch (choose(p, ConvPass::BackwardInput, threads)) {
    case ConvAlgo::Depthwise: return depthwise_backward_input(p, dy, w, dx, threads);
    case ConvAlgo::Lanes: if (conv2d_backward_input_lanes(p, dy, w, dx, threads)) return; break;
    case ConvAlgo::Winograd: return conv2d_backward_input_winograd(p, dy, w, dx, threads);
    case ConvAlgo::Direct: if (conv2d_backward_input_direct(p, dy, w, dx, threads)) return; break;
    case ConvAlgo::Grid: if (conv2d_backward_input_grid(p, dy, w, dx, threads)) return; break;
    case ConvAlgo::ByImage: if (conv2d_backward_input_by_image(p, dy, w, dx, threads)) return; break;
    default: break;
  }
  const Chunking c = chunking(p);
  thread_local std::vector<float> col_buf, dy_buf;
  for (int n0 = 0; n0 < p.n; n0 += c.images) {
    const int g_images = std::min(c.images, p.n - n0);
    const long ld = (long)g_images * c.P;
    float* col = grow(col_buf, (long)c.K * ld);
    float* dyc = grow(dy_buf, (long)c.cog * ld);
    for (int g = 0; g < p.groups; ++g) {
      const float* wg = w + (long)g * c.cog * c.K;
      if (c.rows) {
        // dcolᵀ (images × K) = dY (images × cog, rows c_out apart) · W_g
        sgemm(false, false, g_images, c.K, c.cog, 1.0f, dy + (long)n0 * p.c_out + g * c.cog, p.c_out, wg, c.K, 0.0f, col,
              c.K, threads);
      } else {
        gather_dy(p, c, dy, n0, g_images, g, dyc, threads);
        sgemm(true, false, c.K, (int)ld, c.cog, 1.0f, wg, c.K, dyc, (int)ld, 0.0f, col, (int)ld, threads);
      }
      const long ldc = c.ldc(g_images);
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1 && g_images > 1)
      for (int i = 0; i < g_images; ++i) {
        float* dxg = dx + ((long)(n0 + i) * p.c_in + g * c.cig) * p.h * p.w;
        const float* ci = col + i * c.istride(g_images);
        if (p.pointwise()) {
          for (int k = 0; k < c.cig; ++k) copy_plane(dxg + (long)k * c.P, ci + k * ldc, c.P);
        } else {
          std::memset(dxg, 0, sizeof(float) * (long)c.cig * p.h * p.w);
          col2im_add(p, ci, c.cig, 0, c.P, ldc, dxg);
        }
      }
    }
  }
}

void conv2d_backward_weight(const Conv2dParams& p, const float* x, const float* dy, float* dw,
                            float* db, int threads) {
  if (conv2d_takes_dense_map(p, ConvPass::BackwardWeight, threads)) return conv2d_backward_weight_dense_map(p, x, dy, dw, db, threads);
  Conv2dParams q;
  int ki0, kj0;
  if (trim_taps(p, &q, &ki0, &kj0)) {
    // The cut taps' gradient is zero.
    thread_local std::vector<float> buf;
    const long planes = (long)p.c_out * (p.c_in / p.groups);
    float* dwq = grow(buf, planes * q.kh * q.kw);
    conv2d_backward_weight(q, x, dy, dwq, db, threads);
    untrim_weight_grad(p, q, ki0, kj0, dwq, dw, threads);
    return;
  }
  const ConvAlgo algo = choose(p, ConvPass::BackwardWeight, threads);
  if (algo == ConvAlgo::Depthwise) return depthwise_backward_weight(p, x, dy, dw, db, threads);
  const Chunking c = chunking(p);
  thread_local std::vector<float> col_buf, dy_buf;
  // 1×1 layers on 8×8 to 16×16 maps read each image's planes in place (pointwise.h) where the
  // shape would go to a GEMM path by itself (a pinned path still runs as pinned).
  const bool gemm_path = algo == ConvAlgo::ByImage || algo == ConvAlgo::Batched;
  const bool done = (gemm_path && conv_algo_override() == ConvAlgo::Auto && pointwise_backward_weight(p, x, dy, dw, threads)) ||
                    (algo == ConvAlgo::Direct && conv2d_backward_weight_direct(p, x, dy, dw, threads)) ||
                    (algo == ConvAlgo::Grid && conv2d_backward_weight_grid(p, x, dy, dw, threads)) ||
                    (algo == ConvAlgo::ByImage && conv2d_backward_weight_by_image(p, x, dy, dw, threads)) ||
                    (algo == ConvAlgo::Batched && conv_algo_override() == ConvAlgo::Auto &&
                     conv2d_backward_weight_grid_batched(p, x, dy, dw, threads));
  for (int n0 = 0; n0 < p.n && !done; n0 += c.images) {
    const int g_images = std::min(c.images, p.n - n0);
    const long ld = (long)g_images * c.P;
    float* col = grow(col_buf, (long)c.K * ld);
    float* dyc = grow(dy_buf, (long)c.cog * ld);
    for (int g = 0; g < p.groups; ++g) {
      fill_columns(p, c, x, n0, g_images, g, col, threads);
      float* dwg = dw + (long)g * c.cog * c.K;
      const float beta = n0 == 0 ? 0.0f : 1.0f;  // the first chunk overwrites
      if (c.rows) {
        // dW_g (cog × K) (+)= dYᵀ (dY: images × cog, rows c_out apart) · col (images × K)
        sgemm(true, false, c.cog, c.K, g_images, 1.0f, dy + (long)n0 * p.c_out + g * c.cog, p.c_out, col, c.K, beta, dwg,
              c.K, threads);
        continue;
      }
      gather_dy(p, c, dy, n0, g_images, g, dyc, threads);
      // dW_g (cog × K) (+)= dY_g (cog × images·P) · colᵀ
      sgemm(false, true, c.cog, c.K, (int)ld, 1.0f, dyc, (int)ld, col, (int)ld, beta, dwg, c.K, threads);
    }
  }
  if (db) {
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
    for (int co = 0; co < p.c_out; ++co) {
      double acc = 0.0;
      for (int n = 0; n < p.n; ++n) acc += sum_floats(dy + ((long)n * p.c_out + co) * c.P, c.P);
      db[co] = (float)acc;
    }
  }
}

}  // namespace cnn
