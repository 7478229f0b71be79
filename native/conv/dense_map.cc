// Dense-map convolutions (dense_map.h). Wd is built from a table that names, for each output
// pixel p and input pixel q, the tap joining them (or none); the passes are one threaded GEMM
// each, with the batch as the product's rows, and light sweeps around them split over threads.
// Grouped layers have one Wd block per group (cog·P × cig·HW): in NCHW group g's input and output
// are column ranges of the batch's matrices, so each group is one GEMM on strided submatrices,
// the groups shared out over the threads.
#include "conv/dense_map.h"

#include <omp.h>

#include <cstring>
#include <vector>

#include "conv/work.h"
#include "cpu/profile.h"
#include "gemm/gemm.h"

namespace cnn {

namespace {

// tap[p·HW + q]: the kernel tap (ki·KW + kj) that joins output pixel p to input pixel q, or -1.
// With dilation >= 1 at most one tap per axis lands on a given input pixel.
const int* tap_table(const Conv2dParams& p) {
  thread_local std::vector<int> table;
  const int P = p.out_h() * p.out_w(), HW = p.h * p.w;
  table.assign((size_t)P * HW, -1);
  for (int oh = 0; oh < p.out_h(); ++oh)
    for (int ow = 0; ow < p.out_w(); ++ow)
      for (int ki = 0; ki < p.kh; ++ki)
        for (int kj = 0; kj < p.kw; ++kj) {
          const int ih = oh * p.stride_h - p.pad_t + ki * p.dil_h, iw = ow * p.stride_w - p.pad_l + kj * p.dil_w;
          if (ih < 0 || ih >= p.h || iw < 0 || iw >= p.w) continue;
          table[(size_t)(oh * p.out_w() + ow) * HW + ih * p.w + iw] = ki * p.kw + kj;
        }
  return table.data();
}

// Group g's part of p as an ungrouped convolution (its channels): its input columns start at
// g·cig·HW of the batch's rows, its output columns at g·cog·P, its taps at g·cog·cig·taps.
Conv2dParams one_group(const Conv2dParams& p) {
  Conv2dParams q = p;
  q.c_in = p.c_in / p.groups, q.c_out = p.c_out / p.groups, q.groups = 1;
  return q;
}

// Floats of one group's Wd.
long group_floats(const Conv2dParams& q) { return (long)q.c_in * q.h * q.w * q.c_out * q.out_h() * q.out_w(); }

}  // namespace

// The output map is bounded too, so that Wd stays within (output pixels) × the weights' size.
// Groups of fewer than kMinGroupChannels input channels (depthwise layers) stay on their own paths:
// a GEMM per group of one or a few channels would be all overhead.
constexpr int kMinGroupChannels = 8;

bool conv_dense_map_fits(const Conv2dParams& p) {
  const int taps = p.kh * p.kw;
  return (p.groups == 1 || p.c_in / p.groups >= kMinGroupChannels) && p.h * p.w <= taps && p.out_h() * p.out_w() <= taps;
}

// Measured with bench/dense-map-crossover.mjs (2 threads, shared 2-core AVX2 machine; ratios over the
// best other path): with one output pixel per image the dense map is the trimmed kernel's own product
// without its column copy, and wins every pass at every batch tried (1x1 maps 512 channels, n = 1-128:
// 1.3-4x; stride 2 from 2x2, n = 64, 128: 1.1-2.1x). With more output pixels it wins where the map
// has at most half the kernel's taps (2x2 under 3x3: 16 products per channel pair for im2col's 36;
// 3x3 maps lose, 0.5-0.95x) and the batch repays building Wd per call (256 channels: n = 16 0.44-0.75x,
// n = 32 ~1.0x, n = 64 1.3-1.5x, n = 128 1.75-2.6x), or, eval's cached Wd, from n = 8 (n = 4 0.86x,
// n = 8 1.09x, n = 16 1.2-1.7x).
constexpr int kMinBatchBuilt = 48, kMinBatchCached = 8;

bool conv_dense_map_wins(const Conv2dParams& p, ConvPass pass, int, bool cached) {
  if (!conv_dense_map_fits(p)) return false;
  if (p.out_h() * p.out_w() == 1) return true;
  if (2 * p.h * p.w > p.kh * p.kw) return false;
  return p.n >= (cached && pass == ConvPass::Forward ? kMinBatchCached : kMinBatchBuilt);
}

// gemm(g, inner) for each group g: one group runs its threaded GEMM on the calling thread (an
// OpenMP region around it, even an inactive one, would make the GEMM's region a nested one, with
// threads created for it on every call: 23 -> ~60 us for a 128 x 128 x 32 product); several are
// shared out, a single-threaded GEMM each.
template <class Gemm>
void for_groups(const Conv2dParams& p, int threads, const Gemm& gemm) {
  if (p.groups == 1) return gemm(0, threads);
#pragma omp parallel for num_threads(threads) schedule(dynamic) if (threads > 1)
  for (int g = 0; g < p.groups; ++g) gemm(g, 1);
}

long dense_map_weights_floats(const Conv2dParams& p) { return p.groups * group_floats(one_group(p)); }

namespace {

// Wd's rows from w's taps for one group, input pixel q of channel ci in column q·q_step + ci·ci_step.
void dense_rows(const Conv2dParams& p, const float* w, float* wd, int threads, long q_step, long ci_step) {
  const ProfileScope timed(ProfileCategory::Im2col);  // --profile: a re-layout, as im2col and Winograd's transforms
  const int P = p.out_h() * p.out_w(), HW = p.h * p.w, taps = p.kh * p.kw;
  const long K = (long)p.c_in * HW;
  const int* tap = tap_table(p);
  // Row co·P + o reads only output channel co's weights (in L1). Per input pixel q the tap is one
  // for every input channel: a strided copy or a strided zero fill, with no test per element.
#pragma omp parallel for collapse(2) num_threads(threads) schedule(static) if (threads > 1 && K * P * p.c_out >= 65536)
  for (int co = 0; co < p.c_out; ++co)
    for (int o = 0; o < P; ++o) {
      float* row = wd + ((long)co * P + o) * K;
      const float* wc = w + (long)co * p.c_in * taps;
      for (int q = 0; q < HW; ++q) {
        const int t = tap[o * HW + q];
        float* d = row + q * q_step;
        if (t < 0) {
          for (int ci = 0; ci < p.c_in; ++ci) d[ci * ci_step] = 0.0f;
        } else {
          const float* s = wc + t;
          for (int ci = 0; ci < p.c_in; ++ci) d[ci * ci_step] = s[(long)ci * taps];
        }
      }
    }
}

}  // namespace

void dense_map_weights(const Conv2dParams& p, const float* w, float* wd, int threads) {
  if (p.groups > 1) {
    const Conv2dParams q = one_group(p);
    const long wg = (long)q.c_out * q.c_in * q.kh * q.kw;
    for (int g = 0; g < p.groups; ++g) dense_map_weights(q, w + g * wg, wd + g * group_floats(q), threads);
    return;
  }
  dense_rows(p, w, wd, threads, 1, (long)p.h * p.w);
}

void dense_map_weights_by_pixel(const Conv2dParams& p, const float* w, float* wd, int threads) {
  dense_rows(p, w, wd, threads, p.c_in, 1);
}

// wd as given (the cached or the training forward's), or w made dense here for this call.
static const float* given_or_made(const Conv2dParams& p, const float* w, const float* wd, long floats, int threads) {
  if (wd) return wd;
  thread_local std::vector<float> buf;
  float* made = grow(buf, floats);
  dense_map_weights(p, w, made, threads);
  return made;
}

// Each group's Wd packed whole, one after another (each with its own tag).
long dense_map_packed_floats(const Conv2dParams& p) {
  const Conv2dParams q = one_group(p);
  return p.groups * sgemm_prepacked_b_floats(active_isa(), q.c_out * q.out_h() * q.out_w(), q.c_in * q.h * q.w);
}

void dense_map_pack(const Conv2dParams& p, const float* w, float* out, int threads) {
  const Conv2dParams q = one_group(p);
  const long K = (long)q.c_in * q.h * q.w, N = (long)q.c_out * q.out_h() * q.out_w();
  const long packed = sgemm_prepacked_b_floats(active_isa(), (int)N, (int)K);
  thread_local std::vector<float> buf;
  float* wd = grow(buf, p.groups * K * N);
  dense_map_weights(p, w, wd, threads);
  for (int g = 0; g < p.groups; ++g) sgemm_prepack_b(active_isa(), true, (int)N, (int)K, wd + g * K * N, (int)K, out + g * packed);
}

void conv2d_forward_dense_map(const Conv2dParams& p, const float* x, const float* w, const float* wd, const float* b,
                              float* y, int threads, const ConvEpilogue& e, const float* packed) {
  const Conv2dParams q = one_group(p);
  const int P = p.out_h() * p.out_w();
  const long K = (long)q.c_in * p.h * p.w, N = (long)q.c_out * P, ldx = K * p.groups, ldy = N * p.groups;
  const long stride = sgemm_prepacked_b_floats(active_isa(), (int)N, (int)K);
  bool cached = packed != nullptr;
  for (int g = 0; cached && g < p.groups; ++g) cached = sgemm_prepacked_fits(active_isa(), (int)N, (int)K, packed + g * stride);
  if (!cached) wd = given_or_made(p, w, wd, p.groups * K * N, threads);
  for_groups(p, threads, [&](int g, int inner) {
    if (cached) {
      sgemm_prepacked(false, true, p.n, (int)N, (int)K, 1.0f, x + g * K, (int)ldx, nullptr, (int)K, packed + g * stride, 0.0f,
                      y + g * N, (int)ldy, inner);
    } else {
      sgemm(false, true, p.n, (int)N, (int)K, 1.0f, x + g * K, (int)ldx, wd + g * K * N, (int)K, 0.0f, y + g * N, (int)ldy, inner);
    }
  });
  if (!b && !e.any()) return;
#pragma omp parallel for collapse(2) num_threads(threads) schedule(static) if (threads > 1 && p.n * ldy >= 16384)
  for (int i = 0; i < p.n; ++i)
    for (int co = 0; co < p.c_out; ++co) {
      float* d = y + (long)i * ldy + (long)co * P;
      epilogue_run(d, d, P, b ? b[co] : 0.0f, e.residual ? e.residual + (d - y) : nullptr, e);
    }
}

void conv2d_backward_input_dense_map(const Conv2dParams& p, const float* dy, const float* w, const float* wd, float* dx,
                                     int threads) {
  const Conv2dParams q = one_group(p);
  const long K = (long)q.c_in * p.h * p.w, N = (long)q.c_out * p.out_h() * p.out_w(), ldx = K * p.groups, ldy = N * p.groups;
  wd = given_or_made(p, w, wd, p.groups * K * N, threads);
  for_groups(p, threads, [&](int g, int inner) {
    sgemm(false, false, p.n, (int)K, (int)N, 1.0f, dy + g * N, (int)ldy, wd + g * K * N, (int)K, 0.0f, dx + g * K, (int)ldx, inner);
  });
}

void conv2d_backward_weight_dense_map(const Conv2dParams& p, const float* x, const float* dy, float* dw, float* db,
                                      int threads) {
  const Conv2dParams q = one_group(p);
  const int P = p.out_h() * p.out_w(), HW = p.h * p.w, taps = p.kh * p.kw;
  const long K = (long)q.c_in * HW, N = (long)q.c_out * P, ldx = K * p.groups, ldy = N * p.groups;
  thread_local std::vector<float> buf;
  float* dwd = grow(buf, p.groups * K * N);
  for_groups(p, threads, [&](int g, int inner) {
    sgemm(true, false, (int)N, (int)K, p.n, 1.0f, dy + g * N, (int)ldy, x + g * K, (int)ldx, 0.0f, dwd + g * K * N, (int)K, inner);
  });
  const ProfileScope timed(ProfileCategory::Im2col);
  const int* tap = tap_table(p);
  // Output channel co's rows of dWd (in its group's block) fold into its own taps, both read and
  // written in order.
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1 && p.groups * K * N >= 65536)
  for (int co = 0; co < p.c_out; ++co) {
    float* dwc = dw + (long)co * q.c_in * taps;
    std::memset(dwc, 0, sizeof(float) * q.c_in * taps);
    // Per (o, q) one tap for every input channel: strided adds, each entry's terms in (o, q) order.
    for (int o = 0; o < P; ++o) {
      const float* row = dwd + (co / q.c_out) * K * N + ((long)(co % q.c_out) * P + o) * K;
      for (int j = 0; j < HW; ++j) {
        const int t = tap[o * HW + j];
        if (t < 0) continue;
        float* d = dwc + t;
        const float* s = row + j;
        for (int ci = 0; ci < q.c_in; ++ci) d[(long)ci * taps] += s[(long)ci * HW];
      }
    }
  }
  if (!db) return;
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1 && p.n * ldy >= 16384)
  for (int co = 0; co < p.c_out; ++co) {
    double acc = 0.0;
    for (int i = 0; i < p.n; ++i)
      for (int o = 0; o < P; ++o) acc += dy[(long)i * ldy + (long)co * P + o];
    db[co] = (float)acc;
  }
}

}  // namespace cnn
