// Batch normalization, forward and backward, against the textbook formulas in double: plane
// sizes on both sides of the switch between the per-channel loops and the channel-blocked ones
// (1, 4, 7, 64, 1024, 1025 elements), channel counts that leave partial blocks, the fused ReLU and
// ReLU6, batch and running statistics, with and without the affine parameters, with and without a
// residual added before the activation (its gradient too), in the active ISA's loops (run for
// each); on 2 and 3 threads the results must equal 1 thread's bit for bit (each channel's sums run
// in one order).
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "norm/norm.h"
#include "test/check.h"

using namespace cnn;

namespace {

struct Grads {
  std::vector<float> y, mean, invstd, rmean, rvar, dx, dw, db, dr;
};

// r: the residual added before the activation, or null.
Grads run(const BatchNormShape& sh, const std::vector<float>& x, const std::vector<float>& dy, const std::vector<float>* w,
          const std::vector<float>* b, const std::vector<float>* r, bool train, NormActivation act, int threads) {
  const int64_t len = sh.n * sh.c * sh.s;
  Grads g{std::vector<float>(len), std::vector<float>(sh.c), std::vector<float>(sh.c), std::vector<float>(sh.c, 0.25f),
          std::vector<float>(sh.c, 1.5f), std::vector<float>(len), std::vector<float>(sh.c), std::vector<float>(sh.c),
          std::vector<float>(len)};
  std::vector<float> coef(2 * sh.c);
  NormResidual res;
  res.coefficients = coef.data();
  if (r) res.residual = r->data(), res.dresidual = g.dr.data();
  batch_norm_forward(sh, x.data(), w ? w->data() : nullptr, b ? b->data() : nullptr, g.rmean.data(), g.rvar.data(), train,
                     0.1, 1e-5, g.y.data(), g.mean.data(), g.invstd.data(), threads, act, res);
  batch_norm_backward(sh, x.data(), dy.data(), w ? w->data() : nullptr, g.mean.data(),
                      g.invstd.data(), train, g.dx.data(), g.dw.data(), g.db.data(), threads, act, res);
  if (r && act == NormActivation::None) g.dr = dy;  // the residual's gradient is dy itself (not written)
  return g;
}

// Channel c's mean and biased variance: the batch's in training, else the fixed running ones.
void channel_stats(const BatchNormShape& sh, const std::vector<float>& x, int64_t c, bool train, double* mean, double* var) {
  const int64_t N = sh.n, C = sh.c, S = sh.s;
  *mean = 0.25, *var = 1.5;
  if (!train) return;
  auto at = [&](int64_t n, int64_t s) { return x[(n * C + c) * S + s]; };
  double sum = 0, sq = 0;
  for (int64_t n = 0; n < N; ++n) for (int64_t s = 0; s < S; ++s) sum += at(n, s);
  *mean = sum / (N * S);
  for (int64_t n = 0; n < N; ++n) for (int64_t s = 0; s < S; ++s) sq += (at(n, s) - *mean) * (at(n, s) - *mean);
  *var = sq / (N * S);
}

// The formulas in double: z = (x - mean)/sqrt(var + eps)·w + b, y = act(z); the gradient passes
// where the activation does; dx through mean and variance with batch statistics.
Grads reference(const BatchNormShape& sh, const std::vector<float>& x, const std::vector<float>& dy, const std::vector<float>* w,
                const std::vector<float>* b, const std::vector<float>* r, bool train, NormActivation act) {
  const int64_t N = sh.n, C = sh.c, S = sh.s, M = N * S;
  Grads g{std::vector<float>(N * C * S), std::vector<float>(C), std::vector<float>(C), std::vector<float>(C),
          std::vector<float>(C), std::vector<float>(N * C * S), std::vector<float>(C), std::vector<float>(C),
          std::vector<float>(N * C * S)};
  for (int64_t c = 0; c < C; ++c) {
    auto at = [&](int64_t n, int64_t s) { return (n * C + c) * S + s; };
    double mean, var;
    channel_stats(sh, x, c, train, &mean, &var);
    if (train) {
      g.rmean[c] = (float)(0.9 * 0.25 + 0.1 * mean);
      g.rvar[c] = (float)(0.9 * 1.5 + 0.1 * (M > 1 ? var * M / (M - 1) : NAN));
    } else {
      g.rmean[c] = 0.25f, g.rvar[c] = 1.5f;
    }
    const double invstd = 1.0 / std::sqrt(var + 1e-5), wc = w ? (*w)[c] : 1.0, bc = b ? (*b)[c] : 0.0;
    g.mean[c] = (float)mean, g.invstd[c] = (float)invstd;
    double sg = 0, sgx = 0;
    std::vector<double> gz(N * S);
    for (int64_t n = 0; n < N; ++n)
      for (int64_t s = 0; s < S; ++s) {
        const double z = (x[at(n, s)] - mean) * invstd * wc + bc + (r ? (*r)[at(n, s)] : 0.0);
        const bool pass = act == NormActivation::None || (z > 0 && (act == NormActivation::Relu || z < 6));
        g.y[at(n, s)] = (float)(act == NormActivation::None ? z : std::min(std::max(z, 0.0), act == NormActivation::Relu6 ? 6.0 : INFINITY));
        gz[n * S + s] = pass ? dy[at(n, s)] : 0.0;
        g.dr[at(n, s)] = (float)gz[n * S + s];
        sg += gz[n * S + s];
        sgx += gz[n * S + s] * (x[at(n, s)] - mean);
      }
    g.db[c] = (float)sg, g.dw[c] = (float)(sgx * invstd);
    for (int64_t n = 0; n < N; ++n)
      for (int64_t s = 0; s < S; ++s)
        g.dx[at(n, s)] = (float)(train ? wc * invstd * (gz[n * S + s] - sg / M - (x[at(n, s)] - mean) * invstd * invstd * sgx / M)
                                       : wc * invstd * gz[n * S + s]);
  }
  return g;
}

// Moves the inputs whose pre-activation z lies within 1e-3 of ReLU's or ReLU6's edge away from it
// (the residual where there is one, else x): there float and double may fall on opposite sides,
// and the gradient then flips between dy and 0 at that element (one in 189,440 did on NEON once the
// random stream shifted). Eval's statistics are fixed; a batch's move by far less than 1e-3, and
// the loop checks again after each round. Draws nothing from the random stream.
void keep_off_edges(const BatchNormShape& sh, std::vector<float>& x, const std::vector<float>* w, const std::vector<float>* b,
                    std::vector<float>* r, bool train, NormActivation act) {
  if (act == NormActivation::None) return;
  const int64_t N = sh.n, C = sh.c, S = sh.s;
  for (int round = 0; round < 4; ++round) {
    bool moved = false;
    for (int64_t c = 0; c < C; ++c) {
      double mean, var;
      channel_stats(sh, x, c, train, &mean, &var);
      const double scale = (w ? (*w)[c] : 1.0) / std::sqrt(var + 1e-5), shift = b ? (*b)[c] : 0.0;
      for (int64_t n = 0; n < N; ++n)
        for (int64_t s = 0; s < S; ++s) {
          const int64_t i = (n * C + c) * S + s;
          const double z = (x[i] - mean) * scale + shift + (r ? (*r)[i] : 0.0);
          if (std::fabs(z) >= 1e-3 && (act != NormActivation::Relu6 || std::fabs(z - 6.0) >= 1e-3)) continue;
          if (r) (*r)[i] += 0.01f;
          else x[i] += (float)(0.01 / scale);
          moved = true;
        }
    }
    if (!moved) return;
  }
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

}  // namespace

void test_batch_norm_paths(std::mt19937& rng) {
  const NormActivation acts[] = {NormActivation::None, NormActivation::Relu, NormActivation::Relu6};
  std::vector<BatchNormShape> shapes;
  for (int64_t S : {1, 4, 7, 64, 1024, 1025})
    for (int64_t C : {1, 3, 37})
      for (int64_t N : {1, 2, 5}) shapes.push_back({N, C, S});
  // Batches long enough that the blocked loops prefetch images ahead, runs that end inside a
  // prefetch chunk and a 16-float piece (490 floats a run), and batches of whole and partial
  // groups of the images the first passes take together (12, 16 and the 1, 2, 5 above).
  shapes.push_back({12, 37, 49});
  shapes.push_back({16, 96, 4});
  for (const BatchNormShape& sh : shapes)
        for (int variant = 0; variant < 24; ++variant) {
          const int64_t N = sh.n, C = sh.c, S = sh.s;
          const bool train = variant % 2 == 0, affine = variant / 2 % 2 == 0, residual = variant >= 12;
          const NormActivation act = acts[variant / 4 % 3];
          if (train && N * S == 1) continue;  // one value per channel: no variance to normalize by
          // Two values per channel: their variance can be tiny, and y = x·(w·invstd) + shift (PyTorch's
          // CPU form too) then loses digits to float rounding of terms up to 1/sqrt(eps) times larger.
          if (train && N * S == 2) continue;
          std::vector<float> x = random_vec(N * C * S, rng), dy = random_vec(N * C * S, rng);
          for (float& v : x) v = v * 4.0f + 1.0f;  // some values past ReLU6's 6 and below 0
          std::vector<float> w = random_vec(C, rng), b = random_vec(C, rng);
          for (float& v : w) v += 1.5f;
          const std::vector<float>* wp = affine ? &w : nullptr;
          const std::vector<float>* bp = affine ? &b : nullptr;
          std::vector<float> r = random_vec(N * C * S, rng);
          for (float& v : r) v *= 3.0f;
          std::vector<float>* rp = residual ? &r : nullptr;
          keep_off_edges(sh, x, wp, bp, rp, train, act);
          const Grads one = run(sh, x, dy, wp, bp, rp, train, act, 1), three = run(sh, x, dy, wp, bp, rp, train, act, 3);
          const Grads want = reference(sh, x, dy, wp, bp, rp, train, act);
          const std::string name = "batch_norm N" + std::to_string(N) + " C" + std::to_string(C) + " S" + std::to_string(S) +
                                   " variant " + std::to_string(variant);
          check_close(name + " y", one.y, want.y, 2e-5f, 2e-5f);
          check_close(name + " running mean", one.rmean, want.rmean, 1e-6f, 1e-6f);
          if (train && N * S > 1) check_close(name + " running var", one.rvar, want.rvar, 1e-5f, 1e-5f);
          check_close(name + " dx", one.dx, want.dx, 5e-5f, 1e-4f);
          check_close(name + " dweight", one.dw, want.dw, 5e-5f, 1e-4f);
          check_close(name + " dbias", one.db, want.db, 5e-5f, 1e-4f);
          if (residual) check_close(name + " dresidual", one.dr, want.dr, 0.0f, 0.0f);
          for (int threads : {2, 3}) {
            const Grads many = threads == 3 ? three : run(sh, x, dy, wp, bp, rp, train, act, threads);
            const bool det = same_bits(one.y, many.y) && same_bits(one.dx, many.dx) && same_bits(one.dw, many.dw) &&
                             same_bits(one.db, many.db) && same_bits(one.rvar, many.rvar) && same_bits(one.dr, many.dr) &&
                             same_bits(one.mean, many.mean) && same_bits(one.invstd, many.invstd);
            if (det) ++g_pass;
            else { std::printf("FAIL %s: %d threads differ from 1\n", name.c_str(), threads); ++g_fail; }
          }
        }
}
