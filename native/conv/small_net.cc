#include "conv/small_net.h"

#include <omp.h>

#include <algorithm>
#include <vector>

#include "conv/conv_direct.h"
#include "conv/work.h"
#include "gemm/gemm.h"

namespace cnn {

namespace {

// Register tiles of the chain's rows per block of images at most (as linear_chain_forward's).
constexpr int kMaxBlockTiles = 4;
// Blocks per thread with more than one thread.
constexpr int kBlocksPerThread = 4;

// The channels × height × width a convolution's output has after its pool.
long out_floats(const SmallNetConv& c) {
  const int oh = c.p.out_h(), ow = c.p.out_w();
  return c.pooled ? (long)c.p.c_out * (oh / 2) * (ow / 2) : (long)c.p.c_out * oh * ow;
}

bool shapes_chain(const SmallNetConv* convs, int nconv, const ChainLayer* layers, int nlayers) {
  if (nconv < 1 || nlayers < 1) return false;
  for (int k = 0; k < nconv; ++k) {
    const SmallNetConv& c = convs[k];
    // Ungrouped only: the grouped direct loops per image are untested here.
    if (c.p.groups != 1 || (c.pooled && (c.p.out_h() < 2 || c.p.out_w() < 2))) return false;
    if (k + 1 < nconv) {
      const Conv2dParams& q = convs[k + 1].p;
      const int oh = c.p.out_h() / (c.pooled ? 2 : 1), ow = c.p.out_w() / (c.pooled ? 2 : 1);
      if (q.c_in != c.p.c_out || q.h != oh || q.w != ow || q.n != c.p.n) return false;
    }
  }
  for (int l = 1; l < nlayers; ++l)
    if (layers[l].in != layers[l - 1].out) return false;
  return out_floats(convs[nconv - 1]) == layers[0].in;
}

// Each convolution prepared for image-by-image passes; false where one is not on the direct path.
bool prepare(const SmallNetConv* convs, int nconv, const ChainLayer* layers, int nlayers, int threads,
             std::vector<DirectImageConv>* plans) {
  if (!shapes_chain(convs, nconv, layers, nlayers)) return false;
  plans->resize(nconv);
  for (int k = 0; k < nconv; ++k)
    if (conv2d_algo(convs[k].p, ConvPass::Forward, threads) != ConvAlgo::Direct ||
        !direct_image_conv_prepare(convs[k].p, convs[k].w, convs[k].b, convs[k].lo, convs[k].hi, convs[k].pooled, &(*plans)[k]))
      return false;
  return true;
}

}  // namespace

bool small_net_suits(const SmallNetConv* convs, int nconv, const ChainLayer* layers, int nlayers, int threads) {
  std::vector<DirectImageConv> plans;
  return prepare(convs, nconv, layers, nlayers, threads, &plans);
}

bool small_net_forward(Isa isa, int n, const float* x, const SmallNetConv* convs, int nconv, const ChainLayer* layers,
                       int nlayers, float* y, int threads) {
  std::vector<DirectImageConv> plans;
  if (!prepare(convs, nconv, layers, nlayers, threads, &plans)) return false;
  if (n <= 0) return true;
  long widest_map = 0;
  for (const DirectImageConv& d : plans) widest_map = std::max(widest_map, direct_image_conv_out_floats(d));
  int widest = 0;
  for (int l = 0; l < nlayers; ++l) widest = std::max({widest, layers[l].in, layers[l].out});
  const long image_in = (long)convs[0].p.c_in * convs[0].p.h * convs[0].p.w, features = layers[0].in, classes = layers[nlayers - 1].out;
  // One thread: blocks of whole register tiles of the chain (kMaxBlockTiles), each block's
  // weights read once per block. More: kBlocksPerThread blocks per thread, handed out as
  // threads free up (a thread the OS stalls leaves its blocks to the others), in equal blocks
  // of images rather than whole tiles (LeNet at batch 64 on 2 threads: 8 blocks of 8 images
  // where 12-image tiles gave one thread 36 images and the other 28).
  const int MR = gemm_kernel_for(isa).mr, nt = std::max(1, std::min(threads, n));
  const int block = nt == 1 ? std::min(n, kMaxBlockTiles * MR)
                            : std::min(kMaxBlockTiles * MR, (n + kBlocksPerThread * nt - 1) / (kBlocksPerThread * nt));
  const int blocks = (n + block - 1) / block;
#pragma omp parallel num_threads(nt) if (nt > 1)
  {
    thread_local std::vector<float> pad_buf, out_buf, map_buf, feat_buf, pack_buf, act_buf;
    float* maps = grow(map_buf, 2 * widest_map);
    float* feat = grow(feat_buf, (long)block * features);
    float* Ap = grow(pack_buf, (long)((block + MR - 1) / MR * MR) * widest);  // packs whole tiles
    float* act = grow(act_buf, 2L * block * widest);
#pragma omp for schedule(dynamic, 1)
    for (int blk = 0; blk < blocks; ++blk) {
      const int i0 = blk * block, rows = std::min(block, n - i0);
      for (int j = 0; j < rows; ++j) {
        const float* in = x + (long)(i0 + j) * image_in;
        for (int k = 0; k < nconv; ++k) {
          // The last convolution writes its image's row of the chain's input (the flatten).
          float* out = k + 1 == nconv ? feat + (long)j * features : maps + (k % 2) * widest_map;
          direct_image_conv_run(plans[k], in, out, pad_buf, out_buf);
          in = out;
        }
      }
      linear_chain_rows(isa, rows, feat, layers, nlayers, y + (long)i0 * classes, Ap, act, (long)block * widest);
    }
  }
  return true;
}

}  // namespace cnn
