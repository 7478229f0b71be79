#include "conv/dense_layer.h"

#include <omp.h>

#include <algorithm>
#include <vector>

#include "gemm/gemm.h"

namespace cnn {

namespace {

// Rows of one block per thread at most: the block's mapped input, packed (rows × C) and its
// bottleneck (rows × mid) stay in L2 beside conv1's packed weights.
constexpr int kMaxBlockTiles = 8;
// Pixels per image at most: beyond these the dense map's zeros outweigh its products (dense_layer.h).
constexpr int kMaxPixels = 4;
// Below this many multiply-adds a second thread costs more than it saves (as the chain's cut).
constexpr double kMinParallelWork = 32768.0;

float* grow(std::vector<float>& v, long n) {
  if ((long)v.size() < n) v.resize(n);
  return v.data();
}

// Images [0, count) of f (the first's channel 0) as rows (image, pixel) of C channels, each mapped.
// P a constant: each row is a loop over channels P floats apart that vectorizes.
template <int P>
void gather_mapped(const DenseLayerSmall& d, const float* f, int count, float* a) {
  const int C = d.channels;
  const float *scale = d.scale, *shift = d.shift, lo = d.lo, hi = d.hi;
  const long image = (long)d.total * P;
  for (int i = 0; i < count; ++i)
    for (int q = 0; q < P; ++q) {
      const float* src = f + i * image + q;
      float* dst = a + ((long)i * P + q) * C;
      for (int c = 0; c < C; ++c) {
        // Two plain selects: GCC vectorizes them (a nested one stays a branch).
        const float v = src[(long)c * P] * scale[c] + shift[c], low = v < lo ? lo : v;
        dst[c] = low > hi ? hi : low;
      }
    }
}

typedef float V4 __attribute__((vector_size(16), aligned(4)));  // unaligned loads
typedef int I4 __attribute__((vector_size(16)));

inline V4 load4(const float* p) { return *(const V4*)p; }
inline void store4(float* p, V4 v) { *(V4*)p = v; }

// P = 4 (2×2 maps), four channels at a time: their 4 × 4 values transposed in registers, so each
// pixel's row takes one vector of four channels, where the loop above reads every fourth float.
template <>
void gather_mapped<4>(const DenseLayerSmall& d, const float* f, int count, float* a) {
  const int C = d.channels;
  const long image = (long)d.total * 4;
  const V4 lo = V4{} + d.lo, hi = V4{} + d.hi;
  auto map = [&](V4 v, V4 s, V4 t) {
    v = v * s + t;
    v = v < lo ? lo : v;
    return v > hi ? hi : v;
  };
  for (int i = 0; i < count; ++i) {
    const float* src = f + i * image;
    float* row = a + (long)i * 4 * C;
    int c = 0;
    for (; c + 4 <= C; c += 4) {
      const float* x = src + (long)c * 4;
      const V4 v0 = load4(x), v1 = load4(x + 4), v2 = load4(x + 8), v3 = load4(x + 12);
      const V4 t0 = __builtin_shuffle(v0, v1, I4{0, 4, 1, 5}), t1 = __builtin_shuffle(v2, v3, I4{0, 4, 1, 5});
      const V4 t2 = __builtin_shuffle(v0, v1, I4{2, 6, 3, 7}), t3 = __builtin_shuffle(v2, v3, I4{2, 6, 3, 7});
      const V4 s = load4(d.scale + c), t = load4(d.shift + c);
      store4(row + c, map(__builtin_shuffle(t0, t1, I4{0, 1, 4, 5}), s, t));
      store4(row + C + c, map(__builtin_shuffle(t0, t1, I4{2, 3, 6, 7}), s, t));
      store4(row + 2 * C + c, map(__builtin_shuffle(t2, t3, I4{0, 1, 4, 5}), s, t));
      store4(row + 3 * C + c, map(__builtin_shuffle(t2, t3, I4{2, 3, 6, 7}), s, t));
    }
    for (; c < C; ++c)
      for (int q = 0; q < 4; ++q) {
        const float v = src[(long)c * 4 + q] * d.scale[c] + d.shift[c], low = v < d.lo ? d.lo : v;
        row[(long)q * C + c] = low > d.hi ? d.hi : low;
      }
  }
}

using Gather = void (*)(const DenseLayerSmall&, const float*, int, float*);
constexpr Gather kGathers[] = {gather_mapped<1>, gather_mapped<2>, gather_mapped<3>, gather_mapped<4>};

}  // namespace

bool dense_layer_small_fits(const DenseLayerSmall& d) {
  return d.n >= 0 && d.pixels >= 1 && d.pixels <= kMaxPixels && d.conv1.in == d.channels && d.conv2.in == (long)d.pixels * d.conv1.out &&
         d.conv2.out % d.pixels == 0 && d.channels + d.conv2.out / d.pixels <= d.total;
}

void dense_layer_small_forward(Isa isa, const DenseLayerSmall& d, float* features, int threads) {
  if (d.n <= 0) return;
  const int C = d.channels, P = d.pixels, mid = d.conv1.out;
  const long image = (long)d.total * P;
  // Blocks of images whose pixel rows make at most kMaxBlockTiles register tiles, as many per
  // thread, handed out as threads free up.
  const int MR = gemm_kernel_for(isa).mr;
  const int per_block = std::max(1, kMaxBlockTiles * MR / P);
  const double work = (double)d.n * P * ((double)C * mid + (double)mid * d.conv2.out);
  const int nt = work < kMinParallelWork ? 1 : std::max(1, std::min(threads, d.n * P / MR));
  const int blocks = nt * ((d.n + (long)nt * per_block - 1) / ((long)nt * per_block));
  const int images = (d.n + blocks - 1) / blocks;
#pragma omp parallel num_threads(nt) if (nt > 1)
  {
    thread_local std::vector<float> a_buf, pack_buf, mid_buf;
    const long rows = (long)images * P;
    float* a = grow(a_buf, rows * C);
    float* Ap = grow(pack_buf, std::max(sgemm_packed_a_floats(isa, (int)rows, C), sgemm_packed_a_floats(isa, images, P * mid)));
    float* h = grow(mid_buf, rows * mid);
#pragma omp for schedule(dynamic, 1)
    for (int blk = 0; blk < blocks; ++blk) {
      const int i0 = blk * images, count = std::min(images, d.n - i0);
      if (count <= 0) continue;
      float* f = features + i0 * image;
      kGathers[P - 1](d, f, count, a);
      chain_layer_rows(isa, count * P, d.conv1, a, h, mid, Ap);
      // h is count × (P·mid) by image; the product lands in channels [C, C + G) of each image.
      chain_layer_rows(isa, count, d.conv2, h, f + (long)C * P, image, Ap);
    }
  }
}

}  // namespace cnn
