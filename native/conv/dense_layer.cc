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
