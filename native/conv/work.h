// Pieces shared by the convolutions that split work over images: scratch that only grows, the
// weights packed once per call, and a per-thread sum that gives the same bits every run.
#pragma once
#include <omp.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "conv/conv.h"
#include "conv/epilogue_rows.h"
#include "gemm/gemm.h"

namespace cnn {

// Floats of one item's column block, so that its packed copy and the packed weights fit a
// 512 KiB L2 together.
constexpr long kItemColumnFloats = 64L << 10;
// Below one GEMM column panel of output pixels per image, tiles would be mostly padding; such
// layers batch many images into one threaded GEMM instead.
constexpr int kMinPixels = 16;
// Backward weight sums over pixels, the GEMM's depth: fewer than this per item and reading and
// writing the dW accumulator costs more than the products, so small images go in runs.
constexpr int kMinDepth = 256;

// The forward epilogue's clamp; NaN passes through (both comparisons are false). Two plain selects,
// which GCC vectorizes: a nested one stays a branch per element.
inline float clamp_to(float v, float lo, float hi) {
  const float low = v < lo ? lo : v;
  return low > hi ? hi : low;
}

// Runs from this many floats go to the ISA's loop (epilogue_rows.h); shorter ones stay inline,
// where the call costs more than it saves (from 16 floats, Winograd's rows of 16-32 took simplecnn's
// eval 2-9% slower).
constexpr long kEpilogueDispatchFloats = 128;

// dst[q] = clamp(src[q] + bias (+ res[q])) for q < n: the epilogue over one run of outputs
// (src may be dst). res is the residual at dst's place, or null.
inline void epilogue_run(float* dst, const float* src, long n, float bias, const float* res, const ConvEpilogue& e) {
  if (n >= kEpilogueDispatchFloats) return epilogue_rows_for(active_isa()).run(dst, src, n, bias, res, e.lo, e.hi);
  // Locals: dst might alias e's fields as far as the compiler knows, which would stop it vectorizing.
  const float lo = e.lo, hi = e.hi;
  // In place through one pointer: with two equal ones the compiler's overlap check fails and
  // it runs its scalar fallback.
  if (dst == src) {
    if (res) for (long q = 0; q < n; ++q) dst[q] = clamp_to(dst[q] + bias + res[q], lo, hi);
    else for (long q = 0; q < n; ++q) dst[q] = clamp_to(dst[q] + bias, lo, hi);
    return;
  }
  if (res) for (long q = 0; q < n; ++q) dst[q] = clamp_to(src[q] + bias + res[q], lo, hi);
  else for (long q = 0; q < n; ++q) dst[q] = clamp_to(src[q] + bias, lo, hi);
}

// n floats from src to dst: a small map's plane (1, 4 or 16 floats: 1×1, 2×2, 4×4) as fixed-size
// copies the compiler inlines, where a memcpy call per plane cost more than the copy itself.
inline void copy_plane(float* dst, const float* src, long n) {
  switch (n) {
    case 1: *dst = *src; break;
    case 4: std::memcpy(dst, src, 4 * sizeof(float)); break;
    case 16: std::memcpy(dst, src, 16 * sizeof(float)); break;
    default: std::memcpy(dst, src, n * sizeof(float));
  }
}

// The first 64-byte boundary at or after p (the buffer holds 16 floats to spare).
inline float* aligned_64(float* p) { return (float*)(((uintptr_t)p + 63) & ~(uintptr_t)63); }

// Per-thread buffers that only grow, so steady-state steps do not allocate.
inline float* grow(std::vector<float>& v, long n) {
  if ((long)v.size() < n) v.resize(n);
  return v.data();
}

// The group planes x (channels × H × W) of `images` images `image_stride` floats apart, zero-padded
// into out with their rows interleaved (channels × Hp × images × Wp): row r of image j at
// (c·Hp + r)·images·Wp + j·Wp. One image gives channels × Hp × Wp.
inline void pad_planes(const Conv2dParams& p, int channels, int Hp, int Wp, const float* x, float* out, int images = 1,
                       long image_stride = 0) {
  const long row_stride = (long)images * Wp;
  for (int c = 0; c < channels; ++c) {
    float* plane = out + (long)c * Hp * row_stride;
    std::memset(plane, 0, sizeof(float) * p.pad_t * row_stride);
    for (int ih = 0; ih < p.h; ++ih)
      for (int j = 0; j < images; ++j) {
        float* row = plane + (long)(p.pad_t + ih) * row_stride + (long)j * Wp;
        std::memset(row, 0, sizeof(float) * p.pad_l);
        std::memcpy(row + p.pad_l, x + j * image_stride + ((long)c * p.h + ih) * p.w, sizeof(float) * p.w);
        std::memset(row + p.pad_l + p.w, 0, sizeof(float) * p.pad_r);
      }
    std::memset(plane + (long)(p.pad_t + p.h) * row_stride, 0, sizeof(float) * p.pad_b * row_stride);
  }
}

// The input gradient of a stride-1 convolution p as a forward one: dx[c, ih, iw] = Σ W[co, c, ki,
// kj] · dy[co, ih + pad_t − ki·dil, iw + pad_l − kj·dil] convolves dy padded by dil·(k − 1) − pad
// with the kernel flipped and in/out swapped. False where p is strided or a pad exceeds dil·(k − 1).
inline bool input_grad_as_forward(const Conv2dParams& p, Conv2dParams* q) {
  if (p.stride_h != 1 || p.stride_w != 1) return false;
  *q = p;
  q->c_in = p.c_out, q->h = p.out_h(), q->w = p.out_w(), q->c_out = p.c_in;
  q->pad_t = p.dil_h * (p.kh - 1) - p.pad_t, q->pad_b = p.dil_h * (p.kh - 1) - p.pad_b;
  q->pad_l = p.dil_w * (p.kw - 1) - p.pad_l, q->pad_r = p.dil_w * (p.kw - 1) - p.pad_r;
  return q->pad_t >= 0 && q->pad_b >= 0 && q->pad_l >= 0 && q->pad_r >= 0;
}

// op(A) = each group's m × k block of w (rows `ld` apart, groups m·ld apart), or its transpose,
// packed for sgemm_packed; shared read-only by the threads. Returns floats per group in *stride.
inline const float* pack_group_weights(Isa isa, int groups, bool transpose, int m, int k, const float* w,
                                       int ld, long* stride) {
  thread_local std::vector<float> packed;
  *stride = sgemm_packed_a_floats(isa, m, k);
  float* out = grow(packed, *stride * groups);
  const long group_floats = (long)(transpose ? k : m) * ld;
  for (int g = 0; g < groups; ++g) sgemm_pack_a(isa, transpose, m, k, w + g * group_floats, ld, out + g * *stride);
  return out;
}

// Eval's cached copy of the forward weights as pack_group_weights packs them (not transposed, m ×
// k per group), its last float its packed_tag (conv2d_pack_weights): packed where it was packed
// for isa, else null (the call packs its own).
inline const float* cached_group_weights(Isa isa, const float* packed, int groups, int m, int k) {
  return packed && packed[sgemm_packed_a_floats(isa, m, k) * groups] == packed_tag(isa, packed) ? packed : nullptr;
}

// A fused block's packed weights (floats of them, the last their packed_tag): eval's cached copy
// where it was packed for isa where it lies, else packed now by pack(base) into the calling
// thread's buffer (one per call site: each instantiation has its own).
template <class Pack>
const float* cached_or_packed(Isa isa, const float* cached, long floats, Pack pack) {
  if (cached && cached[floats - 1] == packed_tag(isa, cached)) return cached;
  thread_local std::vector<float> buf;
  float* base = grow(buf, floats);
  pack(base);
  return base;
}

// The passes whose items write disjoint outputs hand them out dynamically (`schedule(dynamic)`),
// each item computed whole by one thread, so the bits do not depend on who ran what: a static
// split makes the region wait for the last thread's whole share, and the second thread of a
// region starts ~60 us late when it has to be woken (more when the CPU is shared: issue 13),
// where with chunks the running thread takes over its items meanwhile.

// body(item, acc, thread) over items [0, items) split statically over the threads; each thread
// adds into its own zeroed `size`-float accumulator (thread 0 straight into out), and the copies
// are summed in thread order, so a given thread count always gives the same bits.
template <class Body>
void sum_over_items(long items, long size, float* out, int threads, Body body) {
  thread_local std::vector<float> partial_buf;
  float* partial = grow(partial_buf, size * (threads - 1));
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    // The team may be smaller than asked for (nested in another region): sum only its copies.
    const int t = omp_get_thread_num(), team = omp_get_num_threads();
    float* mine = t == 0 ? out : partial + (t - 1) * size;
    std::memset(mine, 0, sizeof(float) * size);
#pragma omp for schedule(static)
    for (long it = 0; it < items; ++it) body(it, mine, t);
#pragma omp for schedule(static)
    for (long e = 0; e < size; ++e)
      for (int u = 0; u < team - 1; ++u) out[e] += partial[u * size + e];
  }
}

}  // namespace cnn
