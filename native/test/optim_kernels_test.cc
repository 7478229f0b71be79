// The optimizer loops of each ISA against the plain scalar update rules, bit for bit (NaN for
// NaN): every
// option that changes the arithmetic (weight decay, momentum, a new buffer, Nesterov, maximize;
// Adam's coupled and decoupled decay, AMSGrad), inputs with NaN, ±∞ and ±0, lengths that leave
// a tail after the vectors and after the threads' chunks, on 1 and 3 threads.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "cpu/cpu.h"
#include "optim/optim.h"
#include "test/check.h"

using namespace cnn;

namespace {

void sgd_ref(std::vector<float>& param, const std::vector<float>& grad, std::vector<float>* buf, const SgdOptions& o) {
  for (size_t i = 0; i < param.size(); ++i) {
    float d = (o.maximize ? -1.0f : 1.0f) * grad[i];
    if (o.weight_decay != 0.0f) d = d + o.weight_decay * param[i];
    if (buf) {
      const float b = o.new_buffer ? d : (*buf)[i] * o.momentum + (1.0f - o.dampening) * d;
      (*buf)[i] = b;
      d = o.nesterov ? d + o.momentum * b : b;
    }
    param[i] = param[i] - o.lr * d;
  }
}

void adam_ref(std::vector<float>& param, const std::vector<float>& grad, std::vector<float>& m, std::vector<float>& v,
              std::vector<float>* vmax, const AdamOptions& o) {
  const float step_size = (float)(o.lr / (1.0 - std::pow(o.beta1, (double)o.step)));
  const float bias2_sqrt = (float)std::sqrt(1.0 - std::pow(o.beta2, (double)o.step));
  const float shrink = (float)(1.0 - o.lr * o.weight_decay);
  for (size_t i = 0; i < param.size(); ++i) {
    float g = (o.maximize ? -1.0f : 1.0f) * grad[i];
    float p = param[i];
    if (o.decoupled) p = p * shrink;
    if (!o.decoupled && o.weight_decay != 0.0) g = g + (float)o.weight_decay * p;
    const float mi = m[i] * (float)o.beta1 + (float)(1.0 - o.beta1) * g;
    float vi = v[i] * (float)o.beta2 + (float)(1.0 - o.beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    if (vmax) {
      vi = (vi > (*vmax)[i] || vi != vi) ? vi : (*vmax)[i];
      (*vmax)[i] = vi;
    }
    param[i] = p - step_size * (mi / (std::sqrt(vi) / bias2_sqrt + (float)o.eps));
  }
}

std::vector<float> with_specials(size_t n, std::mt19937& rng) {
  std::vector<float> x = random_vec(n, rng);
  const float special[] = {NAN, INFINITY, -INFINITY, 0.0f, -0.0f, 1e-30f};
  for (size_t k = 0; k < n; k += 97) x[k] = special[(k / 97) % 6];
  return x;
}

// Bit for bit, except that any NaN matches any NaN: the sign of a NaN an invalid operation makes
// differs between x86 (negative) and arm64 (positive) and between their scalar and vector units.
void check_same(const std::string& name, const std::vector<float>& got, const std::vector<float>& want) {
  for (size_t i = 0; i < got.size(); ++i)
    if (std::memcmp(&got[i], &want[i], sizeof(float)) != 0 && !(std::isnan(got[i]) && std::isnan(want[i]))) {
      std::printf("FAIL %s at %zu: %.9g, expected %.9g\n", name.c_str(), i, got[i], want[i]);
      ++g_fail;
      return;
    }
  ++g_pass;
}

}  // namespace

void test_optim_vectors(Isa isa, std::mt19937& rng) {
  const std::string tag = std::string(" (") + isa_name(isa) + ")";
  for (size_t n : {size_t(37), size_t(70001)})  // a vector tail; chunks over threads with a tail
    for (int threads : {1, 3}) {
      const std::vector<float> p0 = with_specials(n, rng), g = with_specials(n, rng), b0 = random_vec(n, rng);
      for (int flags = 0; flags < 32; ++flags) {
        SgdOptions o{0.1f, (flags & 1) ? 0.9f : 0.0f, (flags & 16) ? 0.25f : 0.0f, (flags & 2) ? 0.01f : 0.0f,
                     (flags & 4) != 0, (flags & 8) != 0, (flags & 16) != 0 && (flags & 4) == 0};
        std::vector<float> p = p0, want = p0, buf = b0, want_buf = b0;
        sgd_step(p.data(), g.data(), o.momentum != 0.0f ? buf.data() : nullptr, (int64_t)n, o, threads);
        sgd_ref(want, g, o.momentum != 0.0f ? &want_buf : nullptr, o);
        const std::string name = "sgd flags " + std::to_string(flags) + " n " + std::to_string(n) + tag;
        check_same(name, p, want);
        check_same(name + " buffer", buf, want_buf);
      }
      for (int flags = 0; flags < 16; ++flags) {
        AdamOptions o{0.01, 0.9, 0.999, 1e-8, (flags & 1) ? 0.05 : 0.0, 3, (flags & 2) != 0, (flags & 4) != 0, (flags & 8) != 0};
        std::vector<float> p = p0, want = p0, m = b0, v(n), vmax(n), wm = b0, wv(n), wvmax(n);
        for (size_t i = 0; i < n; ++i) v[i] = wv[i] = std::fabs(b0[i]) * 0.5f, vmax[i] = wvmax[i] = std::fabs(b0[i]) * 0.6f;
        adam_step(p.data(), g.data(), m.data(), v.data(), o.amsgrad ? vmax.data() : nullptr, (int64_t)n, o, threads);
        adam_ref(want, g, wm, wv, o.amsgrad ? &wvmax : nullptr, o);
        const std::string name = "adam flags " + std::to_string(flags) + " n " + std::to_string(n) + tag;
        check_same(name, p, want);
        check_same(name + " exp_avg", m, wm);
        check_same(name + " exp_avg_sq", v, wv);
        if (o.amsgrad) check_same(name + " max_exp_avg_sq", vmax, wvmax);
      }
    }
}
