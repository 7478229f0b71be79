// Winograd F(4×4, 3×3) forward (winograd.h). The batch's tiles are cut into items of whole
// images (small maps) or runs of tile rows of one image (large ones), about kItemTiles each, split
// dynamically over the threads. Each thread does an item from end to end in its own buffers, which
// stay in its cache: every input channel's tiles transformed into V (36 × Cin × T), 36 GEMMs
// M_ξ = U_ξ · V_ξ (Cout × T) against the weights packed once for every thread, and every output
// channel's tiles transformed back into y through the epilogue. Within an item, tiles go by tile
// row, then image, then tile: the images' tile rows lie side by side in the vector lanes
// (winograd_tiles.h), so maps one or two tiles wide fill them too.
#include "conv/winograd.h"

#include <omp.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "conv/winograd_tiles.h"
#include "conv/work.h"
#include "cpu/profile.h"
#include "gemm/gemm.h"

namespace cnn {

namespace {

// Floats of an item's V and M, 36 × (Cin + Cout) × T, that fit a core's share of cache with the
// packed weights streaming past; items get at least kMinItemTiles tiles (GEMM columns) whatever the
// channels, and at most kMaxItemTiles.
constexpr long kItemFloats = 256L << 10;
constexpr int kMinItemTiles = 64, kMaxItemTiles = 256;
// The transformed weights open with a header: a tag and the ISA they are packed for.
constexpr int kHeader = 16;
constexpr float kTag = 20161109.0f;
// Weight planes transformed together (winograd_transform_weights): a cache line of each matrix.
constexpr long kPlaneBlock = 16;

inline long round_up(long n, int lanes) { return (n + lanes - 1) / lanes * lanes; }

struct Tiling {
  int oh, ow, th, tw;  // output size; tiles down and across
  int images;          // images per item
  int rows;            // tile rows per item
  int chunks;          // items per group of images: runs of tile rows
  long items;
};

// Items of whole images where one fits, else runs of one image's tile rows. The transforms take
// a tile row of each of an item's images side by side in their vectors: where those would not
// fill one vector, items take as many images as do, whatever the cache budget (32 × 32 maps, 8
// tiles across, 2 images an item on AVX-512: 32 channels at batch 128 on 2 threads 8.3 → 7.0 ms;
// 28 × 28, 128 channels at batch 16, 2 images: 6.0-6.4 → 4.9-5.2 ms, where 3 measured 5.6-5.9).
Tiling tiling(const Conv2dParams& p, int threads, int lanes) {
  Tiling t;
  t.oh = p.out_h(), t.ow = p.out_w();
  t.th = (t.oh + kWinoOut - 1) / kWinoOut, t.tw = (t.ow + kWinoOut - 1) / kWinoOut;
  const long tiles = (long)p.n * t.th * t.tw, per_image = (long)t.th * t.tw;
  long want = std::clamp(kItemFloats / ((long)kWinoPoints * (p.c_in + p.c_out)), (long)kMinItemTiles, (long)kMaxItemTiles);
  want = std::max(1L, std::min(want, (tiles + threads - 1) / threads));  // every thread gets work
  if (per_image <= want) {
    long images = want / per_image;
    if (images * t.tw < lanes)  // the count up to a vector's worth that leaves fewest lanes idle
      for (long g = images + 1; (g - 1) * t.tw < lanes; ++g)
        if (g * t.tw * round_up(images * t.tw, lanes) > images * t.tw * round_up(g * t.tw, lanes)) images = g;
    t.images = (int)std::min<long>(p.n, images), t.rows = t.th;
  } else {
    t.images = 1, t.rows = (int)std::max<long>(1, want / t.tw);
  }
  t.chunks = (t.th + t.rows - 1) / t.rows;
  t.items = (long)(p.n + t.images - 1) / t.images * t.chunks;
  return t;
}

// Channel ci of images [n0, n0 + g), zero-padded, padded rows [r0, r0 + rows), as phase rows:
// split[(r·6 + c)·ldp + k·tw + s] = padded x of image n0 + k at row r0 + r, column 4·s + c.
void split_planes(const Conv2dParams& p, const Tiling& t, const WinogradTiles& K, const float* x, int ci, int n0, int g,
                  int r0, int rows, float* split, long ldp) {
  thread_local std::vector<float> row_buf;
  // split_row reads 4 floats a tile through whole vectors, one vector past the tiles.
  const long width = 4 * (t.tw / K.lanes * K.lanes + K.lanes);
  float* row = grow(row_buf, width);
  const int left = std::min<long>(p.pad_l, width), cols = (int)std::min<long>(p.w, width - left);
  for (int k = 0; k < g; ++k) {
    const float* plane = x + ((long)(n0 + k) * p.c_in + ci) * p.h * p.w;
    for (int r = 0; r < rows; ++r) {
      const int ih = r0 + r - p.pad_t;
      if (ih >= 0 && ih < p.h && cols > 0) {
        std::memset(row, 0, sizeof(float) * left);
        std::memcpy(row + left, plane + (long)ih * p.w, sizeof(float) * cols);
        std::memset(row + left + cols, 0, sizeof(float) * (width - left - cols));
      } else {
        std::memset(row, 0, sizeof(float) * width);
      }
      K.split_row(t.tw, row, split + (long)r * kWinoIn * ldp + (long)k * t.tw, ldp);
    }
  }
}

// G of F(4×4, 3×3): rows for the points 0, −1, 1, −2, 2, ∞ as the input transform orders them.
constexpr double kG[kWinoIn][3] = {{1.0 / 4, 0, 0},
                                   {-1.0 / 6, -1.0 / 6, -1.0 / 6},
                                   {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                                   {1.0 / 24, 1.0 / 12, 1.0 / 6},
                                   {1.0 / 24, -1.0 / 12, 1.0 / 6},
                                   {0, 0, 1}};

}  // namespace

bool conv_winograd_fits(const Conv2dParams& p) {
  return p.groups == 1 && p.kh == 3 && p.kw == 3 && p.stride_h == 1 && p.stride_w == 1 && p.dil_h == 1 &&
         p.dil_w == 1;
}

// Measured with bench/winograd-crossover.mjs (2 threads, AVX-512, eval's ReLU epilogue, ~0.4
// GFLOP per case, Winograd against the direct loops, the grid or the GEMM paths, whichever Auto
// takes): maps under 4×4 lose (0.56-0.82x at 2×2 and 3×3: one tile computes 16 outputs to keep 4 or
// 9); up to 14×14, 64 channels win (1.5-3.7x from 7×7; on 4×4, where this took 256 until the other
// paths' eval caches, 64 to 256 channels 1.21-1.83x, and resnet18's eval at 3×32×32, batch 128,
// best of 4 interleaved rounds, 3,288 → 3,415 img/s; 32 channels there 0.65x, 128 → 32 0.67x);
// from 16×16, 32 (1.03-1.6x; 0.77-0.96x on 7×7 to 14×14); with fewer channels the direct loops
// win (0.3-0.97x). The weights it reads are 4× the direct ones: with fewer than 16 tiles in the
// call (512 channels, 1-5 images of 4×4 to 8×8) that traffic loses (0.47-0.73x).
bool conv_winograd_wins(const Conv2dParams& p, int threads) {
  if (!conv_winograd_fits(p)) return false;
  const int channels = std::min(p.c_in, p.c_out), map = std::min(p.out_h(), p.out_w());
  const long tiles = (long)p.n * ((p.out_h() + kWinoOut - 1) / kWinoOut) * ((p.out_w() + kWinoOut - 1) / kWinoOut);
  if (tiles < 16 || map < kWinoOut) return false;
  return channels >= (map < 16 ? 64 : 32);
}

// Training transforms the weights in every call (they change every step). Measured with
// `bench/winograd-crossover.mjs train` (2 threads, AVX-512, forward and input gradient against
// the path Auto takes otherwise), eval's crossover holds from 8×8 maps: 64+ channels on 8×8 win
// 1.1-1.45x, 32+ from 16×16 1.08-1.9x; 7×7 maps break even (their tiles cover 8×8), 4×4 maps lose
// (0.73-0.85x), and with fewer tiles than channels the per-call transform loses (512 channels on
// 7×7 at batch 16: 0.54x).
bool conv_winograd_wins_per_call(const Conv2dParams& p, int threads) {
  const long tiles = (long)p.n * ((p.out_h() + kWinoOut - 1) / kWinoOut) * ((p.out_w() + kWinoOut - 1) / kWinoOut);
  return conv_winograd_wins(p, threads) && std::min(p.out_h(), p.out_w()) >= 8 && tiles >= std::min(p.c_in, p.c_out);
}

bool winograd_input_gradient_params(const Conv2dParams& p, Conv2dParams* q) {
  if (!conv_winograd_fits(p) || std::max({p.pad_t, p.pad_b, p.pad_l, p.pad_r}) > 2) return false;
  *q = p;
  q->c_in = p.c_out, q->c_out = p.c_in, q->h = p.out_h(), q->w = p.out_w();
  q->pad_t = 2 - p.pad_t, q->pad_b = 2 - p.pad_b, q->pad_l = 2 - p.pad_l, q->pad_r = 2 - p.pad_r;
  return true;
}

void conv2d_backward_input_winograd(const Conv2dParams& p, const float* dy, const float* w, float* dx, int threads) {
  Conv2dParams q;
  if (!winograd_input_gradient_params(p, &q)) throw std::invalid_argument("conv2d_backward_input_winograd: not a 3x3 stride-1 layer padded at most 2");
  // q's weights: w[co][ci] turned 180 degrees, at [ci][co].
  thread_local std::vector<float> flipped_buf;
  float* flipped = grow(flipped_buf, (long)p.c_in * p.c_out * 9);
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1 && (long)p.c_in * p.c_out >= 4096)
  for (int ci = 0; ci < p.c_in; ++ci)
    for (int co = 0; co < p.c_out; ++co) {
      const float* src = w + ((long)co * p.c_in + ci) * 9;
      float* dst = flipped + ((long)ci * p.c_out + co) * 9;
      for (int k = 0; k < 9; ++k) dst[k] = src[8 - k];
    }
  conv2d_forward_winograd(q, dy, flipped, nullptr, nullptr, dx, threads, {});
}

long winograd_weights_floats(const Conv2dParams& p) {
  return kHeader + kWinoPoints * sgemm_packed_a_floats(active_isa(), p.c_out, p.c_in);
}

void winograd_transform_weights(const Conv2dParams& p, const float* w, float* u, int threads) {
  const Isa isa = active_isa();
  const long planes = (long)p.c_out * p.c_in, packed = sgemm_packed_a_floats(isa, p.c_out, p.c_in);
  thread_local std::vector<float> plain_buf;
  float* plain = grow(plain_buf, kWinoPoints * planes);
#pragma omp parallel num_threads(threads) if (threads > 1 && planes >= 1024)
  {
    // A block of planes at a time, each of the 36 matrices' rows written whole: one plane at a time
    // stored 36 floats an exact multiple of 4 KiB apart (64 × 64 channels), which share a cache set,
    // and took 1.24 ms for 64 × 64 channels where the block takes 0.2.
#pragma omp for schedule(static)
    for (long blk = 0; blk < (planes + kPlaneBlock - 1) / kPlaneBlock; ++blk) {
      const long pl0 = blk * kPlaneBlock, count = std::min(kPlaneBlock, planes - pl0);
      float block[kWinoPoints][kPlaneBlock];
      for (long i = 0; i < count; ++i) {
        const float* g = w + (pl0 + i) * 9;
        double gt[3][kWinoIn];  // g Gᵀ
        for (int a = 0; a < 3; ++a)
          for (int l = 0; l < kWinoIn; ++l) gt[a][l] = kG[l][0] * g[a * 3] + kG[l][1] * g[a * 3 + 1] + kG[l][2] * g[a * 3 + 2];
        for (int k = 0; k < kWinoIn; ++k)
          for (int l = 0; l < kWinoIn; ++l)
            block[k * kWinoIn + l][i] = (float)(kG[k][0] * gt[0][l] + kG[k][1] * gt[1][l] + kG[k][2] * gt[2][l]);
      }
      for (int xi = 0; xi < kWinoPoints; ++xi) std::memcpy(plain + xi * planes + pl0, block[xi], count * sizeof(float));
    }
#pragma omp for schedule(static)
    for (int xi = 0; xi < kWinoPoints; ++xi)
      sgemm_pack_a(isa, false, p.c_out, p.c_in, plain + xi * planes, p.c_in, u + kHeader + xi * packed);
  }
  std::fill(u, u + kHeader, 0.0f);
  u[0] = kTag, u[1] = (float)(int)isa;
}

namespace {

// One item's tiles: images [n0, n0 + g), tile rows [tr0, tr0 + rows) of each.
struct Item {
  int n0, g, tr0, rows;
};

// What every item shares: the layer, its tiling, the ISA's transforms and the buffers' strides.
struct Plan {
  const Conv2dParams& p;
  Tiling t;
  const WinogradTiles& K;
  long ldb, ldp, ldo;  // V's and M's rows, phase rows, output transform rows
  long v_xi, m_xi;     // floats from one ξ's matrix to the next in V and M
  bool pooled;         // y max-pooled 2 × 2 with stride 2 (⌊OH/2⌋ × ⌊OW/2⌋ a plane)
};

// V[ξ][ci][tile] for every input channel of the item's tiles. The input transform writes whole
// vectors: past a tile row into the next one's place (written after it) and past the last into
// the row's spare vector.
void transform_inputs(const Plan& pl, const Item& it, const float* x, float* split, float* V) {
  const ProfileScope timed(ProfileCategory::Im2col);
  const long run = (long)it.g * pl.t.tw;
  for (int ci = 0; ci < pl.p.c_in; ++ci) {
    split_planes(pl.p, pl.t, pl.K, x, ci, it.n0, it.g, kWinoOut * it.tr0, kWinoOut * it.rows + 2, split, pl.ldp);
    for (int r = 0; r < it.rows; ++r)
      pl.K.input(run, split + (long)r * kWinoOut * kWinoIn * pl.ldp, pl.ldp, V + (long)ci * pl.ldb + r * run, pl.v_xi);
  }
}

// y for every output channel of the item's tiles from M[ξ][co][tile], through the epilogue.
void transform_outputs(const Plan& pl, const Item& it, const float* M, const float* b, float* y, const ConvEpilogue& e,
                       float* out, float* row) {
  const ProfileScope timed(ProfileCategory::Im2col);
  const Conv2dParams& p = pl.p;
  const Tiling& t = pl.t;
  const long run = (long)it.g * t.tw;
  if (pl.pooled) {
    const int ph = t.oh / 2, pw = t.ow / 2;
    for (int co = 0; co < p.c_out; ++co) {
      const float bias = b ? b[co] : 0.0f;
      for (int r = 0; r < it.rows; ++r) {
        const int tr = it.tr0 + r;
        pl.K.output_pooled(run, M + (long)co * pl.ldb + r * run, pl.m_xi, out, pl.ldo);
        for (int k = 0; k < it.g; ++k)
          for (int i = 0; i < 2 && tr * 2 + i < ph; ++i) {
            pl.K.join_pooled_row(t.tw, out + (long)i * 2 * pl.ldo + (long)k * t.tw, pl.ldo, row);
            epilogue_run(y + (((long)(it.n0 + k) * p.c_out + co) * ph + tr * 2 + i) * pw, row, pw, bias, nullptr, e);
          }
      }
    }
    return;
  }
  for (int co = 0; co < p.c_out; ++co) {
    const float bias = b ? b[co] : 0.0f;
    for (int r = 0; r < it.rows; ++r) {
      const int tr = it.tr0 + r;
      pl.K.output(run, M + (long)co * pl.ldb + r * run, pl.m_xi, out, pl.ldo);
      for (int k = 0; k < it.g; ++k)
        for (int i = 0; i < kWinoOut && tr * kWinoOut + i < t.oh; ++i) {
          pl.K.join_row(t.tw, out + (long)i * kWinoOut * pl.ldo + (long)k * t.tw, pl.ldo, row);
          const long at = (((long)(it.n0 + k) * p.c_out + co) * t.oh + tr * kWinoOut + i) * t.ow;
          epilogue_run(y + at, row, t.ow, bias, e.residual ? e.residual + at : nullptr, e);
        }
    }
  }
}

}  // namespace

namespace {

void forward(const Conv2dParams& p, const float* x, const float* w, const float* u, const float* b, float* y,
             int threads, const ConvEpilogue& e, bool pooled) {
  const Isa isa = active_isa();
  const WinogradTiles& K = winograd_tiles_for(isa);
  const int L = K.lanes;
  // Weights transformed for another ISA (the variant switched since) are transformed again here.
  if (!u || u[0] != kTag || u[1] != (float)(int)isa) {
    thread_local std::vector<float> u_buf;
    float* fresh = grow(u_buf, winograd_weights_floats(p));
    winograd_transform_weights(p, w, fresh, threads);
    u = fresh;
  }
  const long packed = sgemm_packed_a_floats(isa, p.c_out, p.c_in);
  const Tiling t = tiling(p, threads, L);
  const long run = (long)t.images * t.tw, ldb = round_up(t.rows * run, L) + L;
  // The transforms keep 36 streams of V or M going at once, one per ξ: 16 floats more between
  // them than the matrices need puts them in different cache sets (at powers of two apart, a few
  // KB each, they would evict one another from L1).
  const Plan pl{p, t, K, ldb, round_up(run, L) + 2L * L, round_up(run, L), (long)p.c_in * ldb + 16, (long)p.c_out * ldb + 16, pooled};
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1) if (threads > 1 && t.items > 1)
  for (long item = 0; item < t.items; ++item) {
    Item it;
    it.n0 = (int)(item / t.chunks) * t.images;
    it.g = std::min(t.images, p.n - it.n0);
    it.tr0 = (int)(item % t.chunks) * t.rows;
    it.rows = std::min(t.rows, t.th - it.tr0);
    thread_local std::vector<float> v_buf, m_buf, split_buf, out_buf, row_buf;
    float* V = grow(v_buf, kWinoPoints * pl.v_xi);
    float* M = grow(m_buf, kWinoPoints * pl.m_xi);
    transform_inputs(pl, it, x, grow(split_buf, (long)(kWinoOut * t.rows + 2) * kWinoIn * pl.ldp), V);
    const int T = it.rows * it.g * t.tw;
    for (int xi = 0; xi < kWinoPoints; ++xi)
      sgemm_packed(isa, p.c_out, T, p.c_in, 1.0f, u + kHeader + xi * packed, false, V + xi * pl.v_xi, (int)ldb, 0.0f,
                   M + xi * pl.m_xi, (int)ldb);
    // join_row reads whole vectors: up to L − 1 floats past the last image's run.
    transform_outputs(pl, it, M, b, y, e, grow(out_buf, (long)kWinoOut * kWinoOut * pl.ldo + L),
                      grow(row_buf, 4 * (round_up(t.tw, L) + L)));
  }
}

}  // namespace

void conv2d_forward_winograd(const Conv2dParams& p, const float* x, const float* w, const float* u, const float* b,
                             float* y, int threads, const ConvEpilogue& e) {
  forward(p, x, w, u, b, y, threads, e, false);
}

void conv2d_forward_winograd_max_pool(const Conv2dParams& p, const float* x, const float* w, const float* u,
                                      const float* b, float* y, int threads, float lo, float hi) {
  if (!conv_winograd_fits(p) || p.out_h() < 2 || p.out_w() < 2)
    throw std::invalid_argument("conv2d_forward_winograd_max_pool: not a 3x3 stride-1 layer with a 2x2 output");
  ConvEpilogue e;
  e.lo = lo, e.hi = hi;
  forward(p, x, w, u, b, y, threads, e, true);
}

}  // namespace cnn
