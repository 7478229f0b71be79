// Direct loops, one plane per OpenMP iteration: a pooling window never crosses planes, so the
// backward scatters need no atomics. These loops are memory-bound; they are also the reference.
#include "pool/pool.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "cpu/cpu.h"
#include "cpu/work_split.h"
#include "pool/pool_rows.h"

namespace cnn {

namespace {

// Parallel only when there is enough work to pay for waking the team.
inline bool worth_threads(int64_t planes, int64_t work) { return planes > 1 && work > 4096; }

// The forward passes read this many input floats (1 MiB) before they wake a second thread: below
// it one thread takes 30 us or less, and a region with a sleeping (passive) second thread cost
// 6-7 us more than one thread on LeNet's pools at b64 (2x2 on 64x6x24x24: 26.5 us on 1 thread,
// 33.3 on 2; on 64x16x8x8 12.7 and 18.8), so those run on the calling thread alone.
constexpr int64_t kParallelFloats = 1 << 18;

inline int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

inline int64_t bin_start(int64_t i, int64_t out, int64_t in) { return (i * in) / out; }
inline int64_t bin_end(int64_t i, int64_t out, int64_t in) { return ((i + 1) * in + out - 1) / out; }

}  // namespace

int64_t pool_output_size(int64_t in, int k, int pad, int stride, int dilation, bool ceil_mode) {
  int64_t out = floor_div(in + 2 * (int64_t)pad - (int64_t)dilation * (k - 1) - 1 + (ceil_mode ? stride - 1 : 0),
                          stride) + 1;
  if (ceil_mode && (out - 1) * stride >= in + pad) --out;
  return out;
}

// One max-pool window, clipped as ATen clips it: the first valid position seeds the index, -inf
// the value; a later tap wins only if greater or NaN (so the last NaN is kept). A window of
// padding only has no valid position: -inf and index -1.
static inline void max_window(const Pool2dParams& p, const float* xp, int64_t oh, int64_t ow, float* value,
                              int64_t* index) {
  int64_t ih0 = oh * p.stride_h - p.pad_h;
  const int64_t ih1 = std::min<int64_t>(ih0 + (int64_t)(p.kh - 1) * p.dil_h + 1, p.h);
  while (ih0 < 0) ih0 += p.dil_h;
  int64_t iw0 = ow * p.stride_w - p.pad_w;
  const int64_t iw1 = std::min<int64_t>(iw0 + (int64_t)(p.kw - 1) * p.dil_w + 1, p.w);
  while (iw0 < 0) iw0 += p.dil_w;
  float best = -std::numeric_limits<float>::infinity();
  int64_t best_i = (ih0 < ih1 && iw0 < iw1) ? ih0 * p.w + iw0 : -1;
  for (int64_t ih = ih0; ih < ih1; ih += p.dil_h)
    for (int64_t iw = iw0; iw < iw1; iw += p.dil_w) {
      const int64_t i = ih * p.w + iw;
      const float v = xp[i];
      if (v > best || std::isnan(v)) { best = v; best_i = i; }
    }
  *value = best;
  *index = best_i;
}

void max_pool2d_ref(const Pool2dParams& p, const float* x, float* y, float* idx, int threads) {
  const int64_t in_size = p.h * p.w, out_size = p.out_h * p.out_w;
#pragma omp parallel for num_threads(threads) schedule(dynamic, chunk_items(out_size * p.kh * p.kw)) \
    if (worth_threads(p.planes, p.planes * out_size * p.kh * p.kw))
  for (int64_t pl = 0; pl < p.planes; ++pl) {
    const float* xp = x + pl * in_size;
    for (int64_t oh = 0; oh < p.out_h; ++oh)
      for (int64_t ow = 0; ow < p.out_w; ++ow) {
        int64_t at;
        max_window(p, xp, oh, ow, &y[pl * out_size + oh * p.out_w + ow], &at);
        idx[pl * out_size + oh * p.out_w + ow] = (float)at;
      }
  }
}

namespace {

// Windows up to this many rows and taps a row take the vector loops; larger ones the reference's.
constexpr int kMaxRowTaps = 8;

bool vector_rows_fit(const Pool2dParams& p) {
  return (p.stride_w == 1 || p.stride_w == 2) && p.kh <= kMaxRowTaps && p.kw <= kMaxRowTaps;
}

// The plane geometry for the vector loops: the output columns whose windows lie inside the
// input horizontally ([col_begin, col_end)), and each output row's window rows inside the input
// (the same for every plane); x and y are set per plane.
struct PlaneGeometry {
  PoolPlane g;
  std::vector<long> row_first;
  std::vector<int> row_count;

  explicit PlaneGeometry(const Pool2dParams& p) : row_first(p.out_h), row_count(p.out_h) {
    g = PoolPlane{nullptr, (long)p.w, (long)p.out_h, (long)p.out_w, p.kh, p.kw, p.stride_w, p.pad_w, p.dil_h, p.dil_w,
                  0, 0, row_first.data(), row_count.data(), nullptr};
    g.col_begin = std::min<long>((p.pad_w + p.stride_w - 1) / p.stride_w, g.out_w);
    const long last = g.w - 1 + p.pad_w - (long)(p.kw - 1) * p.dil_w;  // the last interior window's start + pad_w
    g.col_end = std::max(g.col_begin, last < 0 ? 0 : std::min<long>(last / p.stride_w + 1, g.out_w));
    for (int64_t oh = 0; oh < p.out_h; ++oh) {
      int64_t ih0 = oh * p.stride_h - p.pad_h;
      const int64_t ih1 = std::min<int64_t>(ih0 + (int64_t)(p.kh - 1) * p.dil_h + 1, p.h);
      while (ih0 < 0) ih0 += p.dil_h;
      row_first[oh] = (long)ih0;
      row_count[oh] = ih0 < ih1 ? (int)((ih1 - 1 - ih0) / p.dil_h + 1) : 0;
    }
  }
};

// Calls out(oh, ow) for every output the vector loops leave: the edge columns, and whole rows
// without input.
template <class F>
void each_edge_output(const PoolPlane& g, F out) {
  const bool any_interior = g.col_end > g.col_begin;
  for (int64_t oh = 0; oh < g.out_h; ++oh) {
    const bool inside = any_interior && g.row_count[oh] > 0;
    for (int64_t ow = 0; ow < g.out_w; ++ow) {
      if (inside && ow == g.col_begin) ow = g.col_end;
      if (ow < g.out_w) out(oh, ow);
    }
  }
}

inline float clamp_relu(float v, float lo, float hi) {
  v = v > lo ? v : lo;
  return v < hi ? v : hi;
}

// Whether planes one after another form one taller plane with the same windows: no vertical
// padding, and each output row's window inside its own stride_h band of input rows.
bool planes_stack(const Pool2dParams& p) {
  return p.pad_h == 0 && p.out_h * p.stride_h == p.h && (int64_t)(p.kh - 1) * p.dil_h < p.stride_h;
}

// Runs fn(g, first) for the planes of x and y, in groups of about kChunkFloats stacked into one
// taller plane g (planes first .. first + g.out_h / out_h) where stack allows it (fewer, longer
// calls for small planes), else one plane at a time; the groups are shared out by for_each_share.
template <class F>
void each_plane_group(const Pool2dParams& p, bool stack, const float* x, float* y, int threads, F fn) {
  const int64_t in_size = p.h * p.w, out_size = p.out_h * p.out_w;
  const int64_t group = stack ? std::max<int64_t>(1, kChunkFloats / (in_size + out_size)) : 1;
  Pool2dParams tall = p;
  tall.h = p.h * group;
  tall.out_h = p.out_h * group;
  const PlaneGeometry geometry(tall);
  const int64_t groups = (p.planes + group - 1) / group;
  for_each_share(groups, chunk_items(group * (in_size + out_size)), threads,
                 threads > 1 && groups > 1 && p.planes * in_size >= kParallelFloats, [&](int64_t gi) {
    const int64_t first = gi * group;
    PoolPlane g = geometry.g;
    g.x = x + first * in_size;
    g.y = y + first * out_size;
    g.out_h = (long)(p.out_h * std::min(group, p.planes - first));
    fn(g, first);
  });
}

}  // namespace

// The 2×2 / stride-2 window without padding or dilation (LeNet, VGG, simplecnn), with the
// reference's tie and NaN rules (a later tap wins only if greater or NaN) as lane-wise selects
// over the four taps of a row of outputs, which the compiler vectorizes; it beats the vector
// loops on this window, with or without indices. `at` is the winner's offset in the window
// (0, 1, w, w + 1); with clamp, each output as ReLU/ReLU6 would clamp it (clamp_relu). One plane
// (pl) per call, its sizes passed as values: as a lambda reading w through its captured reference,
// GCC turned the selects into branches in the threaded copy (2 threads on 128x32x32x32: 6.3 ms
// against 1.2 on one).
template <bool IDX, bool CLAMP>
static void max_pool2x2_plane(const float* x, float* y, float* idx, int64_t pl, int64_t in_size, int64_t out_h, int w,
                              int ow_n, float lo, float hi) {
  const int64_t out_size = out_h * ow_n;
  for (int64_t oh = 0; oh < out_h; ++oh) {
    const float* r0 = x + pl * in_size + 2 * oh * w;
    const float* r1 = r0 + w;
    float* yr = y + pl * out_size + oh * ow_n;
    float* ir = IDX ? idx + pl * out_size + oh * ow_n : nullptr;
    const int row0 = (int)(2 * oh * w);
    for (int ow = 0; ow < ow_n; ++ow) {
      float best = r0[2 * ow];
      int at = 0;
      const float b = r0[2 * ow + 1], c = r1[2 * ow], d = r1[2 * ow + 1];
      bool take = (b > best) | (b != b);
      best = take ? b : best, at = take ? 1 : at;
      take = (c > best) | (c != c);
      best = take ? c : best, at = take ? w : at;
      take = (d > best) | (d != d);
      best = take ? d : best, at = take ? w + 1 : at;
      if (CLAMP) best = clamp_relu(best, lo, hi);
      yr[ow] = best;
      if (IDX) ir[ow] = (float)(row0 + 2 * ow + at);
    }
  }
}

template <bool IDX, bool CLAMP>
static void max_pool2x2_forward(const Pool2dParams& p, const float* x, float* y, float* idx, int threads, float lo, float hi) {
  const int64_t in_size = p.h * p.w, out_size = p.out_h * p.out_w;
  for_each_share(p.planes, chunk_items(in_size + out_size), threads,
                 threads > 1 && p.planes > 1 && p.planes * in_size >= kParallelFloats, [&](int64_t pl) {
    max_pool2x2_plane<IDX, CLAMP>(x, y, idx, pl, in_size, p.out_h, (int)p.w, (int)p.out_w, lo, hi);
  });
}

// Values without argmax, plane by plane in two passes (PoolRows::max_plane_separable), each thread
// with its own scratch of h × out_w floats.
static void max_pool_separable(const Pool2dParams& p, const PoolRows& K, const float* x, float* y, int threads, float lo, float hi) {
  const bool clamp = lo > -std::numeric_limits<float>::infinity() || hi < std::numeric_limits<float>::infinity();
  const int64_t in_size = p.h * p.w, out_size = p.out_h * p.out_w;
  const PlaneGeometry geometry(p);
#pragma omp parallel num_threads(threads) if (threads > 1 && p.planes > 1 && p.planes * in_size >= kParallelFloats)
  {
    std::vector<float> scratch(p.h * std::max<int64_t>(p.out_w, 16));
#pragma omp for schedule(dynamic, chunk_items(in_size + out_size))
    for (int64_t pl = 0; pl < p.planes; ++pl) {
      PoolPlane g = geometry.g;
      g.x = x + pl * in_size;
      g.y = y + pl * out_size;
      K.max_plane_separable(g, (long)p.h, scratch.data(), clamp, lo, hi);
    }
  }
}

void max_pool2d_forward(const Pool2dParams& p, const float* x, float* y, float* idx, int threads, float lo, float hi) {
  const bool clamp = lo > -std::numeric_limits<float>::infinity() || hi < std::numeric_limits<float>::infinity();
  const int64_t in_size = p.h * p.w, out_size = p.out_h * p.out_w;
  if (!vector_rows_fit(p)) {
    std::vector<float> scratch(idx ? 0 : p.planes * out_size);
    max_pool2d_ref(p, x, y, idx ? idx : scratch.data(), threads);
    if (clamp)
      for (int64_t i = 0; i < p.planes * out_size; ++i) y[i] = clamp_relu(y[i], lo, hi);
    return;
  }
  if (p.kh == 2 && p.kw == 2 && p.stride_h == 2 && p.stride_w == 2 && p.pad_h == 0 && p.pad_w == 0 &&
      p.dil_h == 1 && p.dil_w == 1 && 2 * p.out_h <= p.h && 2 * p.out_w <= p.w) {
    if (idx) return (clamp ? max_pool2x2_forward<true, true> : max_pool2x2_forward<true, false>)(p, x, y, idx, threads, lo, hi);
    return (clamp ? max_pool2x2_forward<false, true> : max_pool2x2_forward<false, false>)(p, x, y, idx, threads, lo, hi);
  }
  const PoolRows& K = pool_rows_for(active_isa());
  if (!idx && p.dil_h == 1 && p.dil_w == 1 && !planes_stack(p)) return max_pool_separable(p, K, x, y, threads, lo, hi);
  each_plane_group(p, !idx && planes_stack(p), x, y, threads, [&](const PoolPlane& g, int64_t first) {
    float* ip = idx ? idx + first * out_size : nullptr;
    if (g.col_end > g.col_begin) K.max_plane(g, clamp, lo, hi, ip);
    each_edge_output(g, [&](int64_t oh, int64_t ow) {
      float v;
      int64_t at;
      max_window(p, g.x + oh / p.out_h * in_size, oh % p.out_h, ow, &v, &at);
      g.y[oh * p.out_w + ow] = clamp ? clamp_relu(v, lo, hi) : v;
      if (ip) ip[oh * p.out_w + ow] = (float)at;
    });
  });
}

void max_pool_backward(int64_t planes, int64_t in_size, int64_t out_size, const float* dy,
                       const float* idx, float* dx, int threads, const float* y) {
  for_each_share(planes, chunk_items(in_size + out_size), threads, worth_threads(planes, planes * (in_size + out_size)),
                 [&](int64_t pl) {
    float* dxp = dx + pl * in_size;
    std::memset(dxp, 0, sizeof(float) * in_size);
    const float* dyp = dy + pl * out_size;
    const float* ip = idx + pl * out_size;
    const float* yp = y ? y + pl * out_size : nullptr;
    for (int64_t o = 0; o < out_size; ++o) {
      const int64_t i = (int64_t)ip[o];
      if (i >= 0 && (!yp || yp[o] > 0.0f)) dxp[i] += dyp[o];
    }
  });
}

bool max_pool_pairs_backward(int64_t planes, int64_t h, int64_t w, int64_t oh, int64_t ow, const float* dy, const float* idx,
                             float* dx, int threads, const float* y) {
  // Plane positions as exact floats, windows inside the plane.
  if (oh < 1 || ow < 1 || 2 * oh > h || 2 * ow > w || h * w >= (1 << 24)) return false;
  const PoolRows& K = pool_rows_for(active_isa());
  const int64_t in_size = h * w, out_size = oh * ow;
  // The first plane alone first: another pool's indices (3×3, stride 2: ResNet's stem) almost
  // always fail there, before a pass over every plane is spent.
  if (!K.max_pairs_backward(dy, idx, y, h, w, oh, ow, dx)) return false;
  std::atomic<bool> ok{true};
  for_each_share(planes - 1, chunk_items(in_size + out_size), threads, worth_threads(planes, planes * (in_size + out_size)),
                 [&](int64_t i) {
    const int64_t pl = i + 1;
    if (!K.max_pairs_backward(dy + pl * out_size, idx + pl * out_size, y ? y + pl * out_size : nullptr, h, w, oh, ow,
                              dx + pl * in_size))
      ok.store(false, std::memory_order_relaxed);
  });
  return ok.load(std::memory_order_relaxed);
}

static bool index_ok(float v, float limit) { return v >= -1.0f && v < limit && (float)(int64_t)v == v; }

int64_t first_bad_index(const float* idx, int64_t n, int64_t limit, int threads) {
  const float lim = (float)limit;
  bool bad = false;
#pragma omp parallel for num_threads(threads) schedule(dynamic, kChunkFloats) reduction(|| : bad) if (threads > 1 && n > (1 << 16))
  for (int64_t i = 0; i < n; ++i) bad = !index_ok(idx[i], lim) || bad;
  if (bad)
    for (int64_t i = 0; i < n; ++i)
      if (!index_ok(idx[i], lim)) return i;
  return -1;
}

namespace {

// One average-pool window clipped as ATen clips it; returns false when it holds no input.
struct AvgWindow {
  int64_t ih0, ih1, iw0, iw1;
  float divisor;
};

inline bool avg_window(const Pool2dParams& p, bool count_include_pad, int divisor_override,
                       int64_t oh, int64_t ow, AvgWindow* win) {
  int64_t ih0 = oh * p.stride_h - p.pad_h, iw0 = ow * p.stride_w - p.pad_w;
  int64_t ih1 = std::min<int64_t>(ih0 + p.kh, p.h + p.pad_h);
  int64_t iw1 = std::min<int64_t>(iw0 + p.kw, p.w + p.pad_w);
  const int64_t pool_size = (ih1 - ih0) * (iw1 - iw0);
  ih0 = std::max<int64_t>(ih0, 0);
  iw0 = std::max<int64_t>(iw0, 0);
  ih1 = std::min<int64_t>(ih1, p.h);
  iw1 = std::min<int64_t>(iw1, p.w);
  if (ih0 >= ih1 || iw0 >= iw1) return false;
  int64_t divisor;
  if (divisor_override != 0) divisor = divisor_override;
  else if (count_include_pad) divisor = pool_size;
  else divisor = (ih1 - ih0) * (iw1 - iw0);
  *win = {ih0, ih1, iw0, iw1, (float)divisor};
  return true;
}

}  // namespace

// One average-pool output as the reference computes it (0 for a window holding no input).
static inline float avg_output(const Pool2dParams& p, bool count_include_pad, int divisor_override,
                               const float* xp, int64_t oh, int64_t ow) {
  AvgWindow win;
  if (!avg_window(p, count_include_pad, divisor_override, oh, ow, &win)) return 0.0f;
  float s = 0.0f;
  for (int64_t ih = win.ih0; ih < win.ih1; ++ih)
    for (int64_t iw = win.iw0; iw < win.iw1; ++iw) s += xp[ih * p.w + iw];
  return s / win.divisor;
}

void avg_pool2d_ref(const Pool2dParams& p, bool count_include_pad, int divisor_override,
                    const float* x, float* y, int threads) {
  const int64_t in_size = p.h * p.w, out_size = p.out_h * p.out_w;
#pragma omp parallel for num_threads(threads) schedule(dynamic, chunk_items(out_size * p.kh * p.kw)) \
    if (worth_threads(p.planes, p.planes * out_size * p.kh * p.kw))
  for (int64_t pl = 0; pl < p.planes; ++pl)
    for (int64_t oh = 0; oh < p.out_h; ++oh)
      for (int64_t ow = 0; ow < p.out_w; ++ow)
        y[pl * out_size + oh * p.out_w + ow] = avg_output(p, count_include_pad, divisor_override, x + pl * in_size, oh, ow);
}

void avg_pool2d_forward(const Pool2dParams& p, bool count_include_pad, int divisor_override,
                        const float* x, float* y, int threads) {
  if (!vector_rows_fit(p)) return avg_pool2d_ref(p, count_include_pad, divisor_override, x, y, threads);
  const PoolRows& K = pool_rows_for(active_isa());
  const bool stack = planes_stack(p);
  const int64_t in_size = p.h * p.w, rows = stack ? kChunkFloats / (in_size + p.out_h * p.out_w) + 1 : 1;
  // Interior windows of a row share its divisor: their rows are clipped alike (and stacked planes alike).
  std::vector<float> divisor(p.out_h * rows, 1.0f);
  const int64_t col_begin = std::min<int64_t>((p.pad_w + p.stride_w - 1) / p.stride_w, p.out_w);
  AvgWindow win;
  for (int64_t oh = 0; oh < p.out_h; ++oh)
    if (col_begin < p.out_w && avg_window(p, count_include_pad, divisor_override, oh, col_begin, &win))
      for (int64_t k = 0; k < rows; ++k) divisor[k * p.out_h + oh] = win.divisor;
  each_plane_group(p, stack, x, y, threads, [&](const PoolPlane& g, int64_t) {
    if (g.col_end > g.col_begin) K.sum_plane(g, divisor.data());
    each_edge_output(g, [&](int64_t oh, int64_t ow) {
      g.y[oh * p.out_w + ow] = avg_output(p, count_include_pad, divisor_override, g.x + oh / p.out_h * in_size, oh % p.out_h, ow);
    });
  });
}

void avg_pool2d_backward(const Pool2dParams& p, bool count_include_pad, int divisor_override,
                         const float* dy, float* dx, int threads) {
  const int64_t in_size = p.h * p.w, out_size = p.out_h * p.out_w;
#pragma omp parallel for num_threads(threads) schedule(dynamic, chunk_items(out_size * p.kh * p.kw)) \
    if (worth_threads(p.planes, p.planes * out_size * p.kh * p.kw))
  for (int64_t pl = 0; pl < p.planes; ++pl) {
    float* dxp = dx + pl * in_size;
    std::memset(dxp, 0, sizeof(float) * in_size);
    const float* dyp = dy + pl * out_size;
    for (int64_t oh = 0; oh < p.out_h; ++oh)
      for (int64_t ow = 0; ow < p.out_w; ++ow) {
        AvgWindow win;
        if (!avg_window(p, count_include_pad, divisor_override, oh, ow, &win)) continue;
        const float g = dyp[oh * p.out_w + ow] / win.divisor;
        for (int64_t ih = win.ih0; ih < win.ih1; ++ih)
          for (int64_t iw = win.iw0; iw < win.iw1; ++iw) dxp[ih * p.w + iw] += g;
      }
  }
}

namespace {

// Adaptive pooling's planes in groups of about kChunkFloats floats, shared out dynamically.
struct PlaneGroups {
  int64_t size, count;
  bool parallel;
  PlaneGroups(int64_t planes, int64_t in_size, int64_t out_size, int threads)
      : size(std::max<int64_t>(1, kChunkFloats / (in_size + out_size))), count((planes + size - 1) / size),
        parallel(threads > 1 && count > 1 && planes * in_size >= kParallelFloats) {}
};

}  // namespace

void adaptive_avg_pool2d_ref(int64_t planes, int64_t h, int64_t w, int64_t oh, int64_t ow,
                             const float* x, float* y, int threads) {
  const PlaneGroups groups(planes, h * w, oh * ow, threads);
  // Each cell's rows and columns, worked out once for every plane.
  std::vector<int64_t> rows(2 * oh), cols(2 * ow);
  for (int64_t i = 0; i < oh; ++i) rows[2 * i] = bin_start(i, oh, h), rows[2 * i + 1] = bin_end(i, oh, h);
  for (int64_t j = 0; j < ow; ++j) cols[2 * j] = bin_start(j, ow, w), cols[2 * j + 1] = bin_end(j, ow, w);
#pragma omp parallel for num_threads(threads) schedule(dynamic, groups.size) if (groups.parallel)
  for (int64_t pl = 0; pl < planes; ++pl) {
    const float* xp = x + pl * h * w;
    float* yp = y + pl * oh * ow;
    for (int64_t i = 0; i < oh; ++i) {
      const int64_t ih0 = rows[2 * i], ih1 = rows[2 * i + 1];
      for (int64_t j = 0; j < ow; ++j) {
        const int64_t iw0 = cols[2 * j], iw1 = cols[2 * j + 1];
        float s = 0.0f;
        for (int64_t ih = ih0; ih < ih1; ++ih)
          for (int64_t iw = iw0; iw < iw1; ++iw) s += xp[ih * w + iw];
        yp[i * ow + j] = s / (float)((ih1 - ih0) * (iw1 - iw0));
      }
    }
  }
}

void adaptive_avg_pool2d_forward(int64_t planes, int64_t h, int64_t w, int64_t oh, int64_t ow,
                                 const float* x, float* y, int threads) {
  if (oh == 1 && ow == 1) {
    const PlaneGroups groups(planes, h * w, 1, threads);
    const PoolRows& K = pool_rows_for(active_isa());
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1) if (groups.parallel)
    for (int64_t gi = 0; gi < groups.count; ++gi) {
      const int64_t first = gi * groups.size;
      K.plane_means(x + first * h * w, (long)std::min(groups.size, planes - first), (long)(h * w), y + first);
    }
    return;
  }
  if (h == 1 && w == 1) {
    // Every cell holds the plane's one float (VGG's 7×7 head on a 1×1 map): the reference's (0 + x) / 1.
    const PlaneGroups groups(planes, 1, oh * ow, threads);
#pragma omp parallel for num_threads(threads) schedule(dynamic, groups.size) if (groups.parallel)
    for (int64_t pl = 0; pl < planes; ++pl) std::fill_n(y + pl * oh * ow, oh * ow, 0.0f + x[pl]);
    return;
  }
  adaptive_avg_pool2d_ref(planes, h, w, oh, ow, x, y, threads);
}

void adaptive_avg_pool2d_backward(int64_t planes, int64_t h, int64_t w, int64_t oh, int64_t ow,
                                  const float* dy, float* dx, int threads) {
  if (oh == 1 && ow == 1) {
    // Global average (the classifier heads'): each pixel gets its plane's gradient over the
    // count, the general loop's 0 + g, without working out bins (64-bit divisions) and a memset
    // per plane: MobileNetV2's 64x1280 1x1 planes spent more there than in the copy.
    const float count = (float)(h * w);
    const int64_t hw = h * w;
    if (hw == 1) {  // a plane per float: one flat loop the compiler vectorizes
#pragma omp parallel for num_threads(threads) schedule(dynamic, kChunkFloats) if (planes >= kParallelFloats)
      for (int64_t pl = 0; pl < planes; ++pl) dx[pl] = 0.0f + dy[pl] / count;
      return;
    }
#pragma omp parallel for num_threads(threads) schedule(dynamic, chunk_items(hw)) if (planes > 1 && planes * hw >= kParallelFloats)
    for (int64_t pl = 0; pl < planes; ++pl) std::fill_n(dx + pl * hw, hw, 0.0f + dy[pl] / count);
    return;
  }
#pragma omp parallel for num_threads(threads) schedule(dynamic, chunk_items(h * w)) if (worth_threads(planes, planes * h * w))
  for (int64_t pl = 0; pl < planes; ++pl) {
    float* dxp = dx + pl * h * w;
    std::memset(dxp, 0, sizeof(float) * h * w);
    const float* dyp = dy + pl * oh * ow;
    for (int64_t i = 0; i < oh; ++i) {
      const int64_t ih0 = bin_start(i, oh, h), ih1 = bin_end(i, oh, h);
      for (int64_t j = 0; j < ow; ++j) {
        const int64_t iw0 = bin_start(j, ow, w), iw1 = bin_end(j, ow, w);
        const float g = dyp[i * ow + j] / (float)((ih1 - ih0) * (iw1 - iw0));
        for (int64_t ih = ih0; ih < ih1; ++ih)
          for (int64_t iw = iw0; iw < iw1; ++iw) dxp[ih * w + iw] += g;
      }
    }
  }
}

void adaptive_max_pool2d_forward(int64_t planes, int64_t h, int64_t w, int64_t oh, int64_t ow,
                                 const float* x, float* y, float* idx, int threads) {
#pragma omp parallel for num_threads(threads) schedule(dynamic, chunk_items(h * w)) if (worth_threads(planes, planes * h * w))
  for (int64_t pl = 0; pl < planes; ++pl) {
    const float* xp = x + pl * h * w;
    float* yp = y + pl * oh * ow;
    float* ip = idx + pl * oh * ow;
    for (int64_t i = 0; i < oh; ++i) {
      const int64_t ih0 = bin_start(i, oh, h), ih1 = bin_end(i, oh, h);
      for (int64_t j = 0; j < ow; ++j) {
        const int64_t iw0 = bin_start(j, ow, w), iw1 = bin_end(j, ow, w);
        // Bins are never empty (h, w >= 1); same seeding and NaN rule as max_pool2d.
        float best = -std::numeric_limits<float>::infinity();
        int64_t best_i = ih0 * w + iw0;
        for (int64_t ih = ih0; ih < ih1; ++ih)
          for (int64_t iw = iw0; iw < iw1; ++iw) {
            const float v = xp[ih * w + iw];
            if (v > best || std::isnan(v)) { best = v; best_i = ih * w + iw; }
          }
        yp[i * ow + j] = best;
        ip[i * ow + j] = (float)best_i;
      }
    }
  }
}

}  // namespace cnn
