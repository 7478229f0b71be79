// small_net_forward (native/conv/small_net.h) on the active ISA: bit for bit against the layers'
// own calls (conv2d_forward_direct_max_pool or conv2d_forward with the clamp, then
// linear_chain_forward) and close to the references (conv2d_ref_forward, the pool, gemm_ref),
// for LeNet-5, padded convolutions with ReLU6 and without a pool, output channel counts around
// the vector widths and an odd map through the pooling phases, batches 1, 2, 5, 64, 100 and 1-3 threads; where a convolution is not
// on the direct path (33 channels, a pinned algorithm) it does nothing.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "conv/conv.h"
#include "conv/conv_direct.h"
#include "conv/small_net.h"
#include "gemm/gemm.h"
#include "gemm/small_chain.h"
#include "test/check.h"

using namespace cnn;

namespace {

struct ConvSpec { int c_in, h, w, c_out, k, pad; float lo, hi; bool pooled; };
struct Net { const char* name; std::vector<ConvSpec> convs; std::vector<int> widths; };  // widths: each Linear's out

Conv2dParams params_of(const ConvSpec& s, int n) {
  return {n, s.c_in, s.h, s.w, s.c_out, s.k, s.k, 1, 1, s.pad, s.pad, s.pad, s.pad, 1, 1, 1};
}

// The 2×2 max pool (floor mode) of planes of oh × ow, NaN winning as the max pool kernel's fold.
std::vector<float> pool(const std::vector<float>& y, long planes, int oh, int ow) {
  std::vector<float> out((size_t)planes * (oh / 2) * (ow / 2));
  for (long c = 0; c < planes; ++c)
    for (int ph = 0; ph < oh / 2; ++ph)
      for (int pw = 0; pw < ow / 2; ++pw) {
        float best = -INFINITY;
        for (int r = 0; r < 2; ++r)
          for (int q = 0; q < 2; ++q) {
            const float v = y[(c * oh + 2 * ph + r) * ow + 2 * pw + q];
            if (v > best || v != v) best = v;
          }
        out[(c * (oh / 2) + ph) * (ow / 2) + pw] = best;
      }
  return out;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

}  // namespace

// Its own random stream: the shared one's later draws (other tests' inputs) stay as they were.
void test_small_net(Isa isa) {
  std::mt19937 rng(1313);
  const float inf = INFINITY;
  const Net nets[] = {
      {"lenet5", {{1, 28, 28, 6, 5, 0, 0, inf, true}, {6, 12, 12, 16, 5, 0, 0, inf, true}}, {120, 84, 10}},
      {"padded relu6, unpooled", {{3, 16, 18, 8, 3, 1, 0, 6, true}, {8, 8, 9, 17, 3, 1, -inf, inf, false}}, {33, 7}},
      {"channels around the lanes", {{2, 20, 20, 16, 5, 0, 0, inf, true}, {16, 8, 8, 31, 3, 0, 0, inf, true}}, {10}},
      // The pooling phases with 2 input channels, 7 output channels (a partial block of them on
      // every ISA), 6×7 pooled pixels (a partial vector) and an odd row and column dropped.
      {"phases, odd map", {{2, 15, 17, 7, 3, 0, -inf, inf, true}}, {9}},
  };
  for (const Net& net : nets) {
    const int nconv = (int)net.convs.size(), nlayers = (int)net.widths.size();
    // Weights, and the chain's layers packed for this ISA.
    std::vector<std::vector<float>> cw(nconv), cb(nconv), lw(nlayers), lb(nlayers), packed(nlayers);
    std::vector<ChainLayer> layers(nlayers);
    std::vector<const float*> weights(nlayers);
    for (int k = 0; k < nconv; ++k) {
      const ConvSpec& s = net.convs[k];
      cw[k] = random_vec((size_t)s.c_out * s.c_in * s.k * s.k, rng), cb[k] = random_vec(s.c_out, rng);
    }
    const ConvSpec& last = net.convs.back();
    const Conv2dParams lp = params_of(last, 1);
    int in = last.c_out * (last.pooled ? (lp.out_h() / 2) * (lp.out_w() / 2) : lp.out_h() * lp.out_w());
    for (int l = 0; l < nlayers; ++l) {
      const int out = net.widths[l];
      lw[l] = random_vec((size_t)out * in, rng), lb[l] = random_vec(out, rng);
      packed[l].assign(linear_chain_packed_floats(out, in) + 16, 0.0f);
      float* at = (float*)(((uintptr_t)packed[l].data() + 63) & ~(uintptr_t)63);
      sgemm_pack_bt(isa, out, in, lw[l].data(), in, at);
      layers[l] = {in, out, at, lb[l].data(), l + 1 < nlayers ? 0.0f : -inf, inf};
      weights[l] = lw[l].data();
      in = out;
    }
    const int classes = net.widths.back();
    for (int n : {1, 2, 5, 64, 100})
      for (int threads = 1; threads <= 3; ++threads) {
        std::vector<SmallNetConv> convs(nconv);
        bool direct = true;
        for (int k = 0; k < nconv; ++k) {
          const ConvSpec& s = net.convs[k];
          convs[k] = {params_of(s, n), cw[k].data(), cb[k].data(), s.lo, s.hi, s.pooled};
          direct = direct && conv2d_algo(convs[k].p, ConvPass::Forward, threads) == ConvAlgo::Direct;
        }
        const ConvSpec& first = net.convs[0];
        auto x = random_vec((size_t)n * first.c_in * first.h * first.w, rng);
        // The layers one by one (their own calls), and the references.
        std::vector<float> a = x, r = x;
        for (int k = 0; k < nconv; ++k) {
          const SmallNetConv& c = convs[k];
          const int oh = c.p.out_h(), ow = c.p.out_w();
          std::vector<float> full((size_t)n * c.p.c_out * oh * ow), out;
          if (c.pooled) {
            out.assign(full.size() / 4 + 1, NAN);
            out.resize((size_t)n * c.p.c_out * (oh / 2) * (ow / 2));
            conv2d_forward_direct_max_pool(c.p, a.data(), c.w, c.b, out.data(), threads, c.lo, c.hi);
          } else {
            ConvEpilogue e;
            e.lo = c.lo, e.hi = c.hi;
            out.resize(full.size());
            conv2d_forward(c.p, a.data(), c.w, c.b, out.data(), threads, e);
          }
          a.swap(out);
          conv2d_ref_forward(c.p, r.data(), c.w, c.b, full.data());
          for (float& v : full) v = v < c.lo ? c.lo : v > c.hi ? c.hi : v;
          r = c.pooled ? pool(full, (long)n * c.p.c_out, oh, ow) : full;
        }
        std::vector<float> unfused((size_t)n * classes), ref((size_t)n * classes), got((size_t)n * classes, 7.0f);
        linear_chain_forward(isa, n, a.data(), layers.data(), nlayers, unfused.data(), threads);
        linear_chain_ref(n, r.data(), weights.data(), layers.data(), nlayers, ref.data());
        const bool ran = small_net_forward(isa, n, x.data(), convs.data(), nconv, layers.data(), nlayers, got.data(), threads);
        char name[160];
        std::snprintf(name, sizeof name, "small_net[%s] %s n=%d threads=%d", isa_name(isa), net.name, n, threads);
        if (ran != direct) {
          std::printf("FAIL %s: %s\n", name, ran ? "ran with a convolution off the direct path" : "did not run");
          ++g_fail;
          continue;
        }
        if (!ran) {
          check_close(std::string(name) + " untouched", got, std::vector<float>(got.size(), 7.0f), 0, 0);
          continue;
        }
        if (same_bits(got, unfused)) ++g_pass;
        else std::printf("FAIL %s: differs from the layers' own calls\n", name), ++g_fail;
        float scale = 1.0f;
        for (float v : ref) scale = std::max(scale, std::fabs(v));
        check_close(name, got, ref, 1e-5f * scale, 1e-4f);
      }
  }
  // 33 output channels (the direct loops take at most 32), and LeNet under a pinned algorithm: nothing runs.
  const ConvSpec wide = {1, 12, 12, 33, 3, 0, 0, inf, true};
  std::vector<float> w = random_vec(33 * 9, rng), b = random_vec(33, rng), x = random_vec(2 * 144, rng), y(2 * 4, 7.0f);
  std::vector<float> lwt = random_vec(33 * 25 * 4, rng), lpk(linear_chain_packed_floats(4, 33 * 25) + 16);
  float* at = (float*)(((uintptr_t)lpk.data() + 63) & ~(uintptr_t)63);
  sgemm_pack_bt(isa, 4, 33 * 25, lwt.data(), 33 * 25, at);
  const ChainLayer head = {33 * 25, 4, at, nullptr, -inf, inf};
  SmallNetConv c = {params_of(wide, 2), w.data(), b.data(), 0, inf, true};
  bool ok = !small_net_forward(isa, 2, x.data(), &c, 1, &head, 1, y.data(), 2);
  set_conv_algo(ConvAlgo::Batched);
  SmallNetConv lenet1 = {params_of({1, 12, 12, 4, 3, 0, 0, inf, true}, 2), w.data(), b.data(), 0, inf, true};
  const ChainLayer head2 = {4 * 25, 4, at, nullptr, -inf, inf};
  ok = ok && !small_net_forward(isa, 2, x.data(), &lenet1, 1, &head2, 1, y.data(), 2);
  set_conv_algo(ConvAlgo::Auto);
  ok = ok && small_net_forward(isa, 2, x.data(), &lenet1, 1, &head2, 1, y.data(), 2);
  if (ok) ++g_pass;
  else std::printf("FAIL small_net[%s]: ran off the direct path, or not on it\n", isa_name(isa)), ++g_fail;
}
