// The per-sample generator of the augmenter: the TypeScript Generator (src/tensor/random.ts) bit
// for bit, so native and reference draw the same numbers from the same seed.
#pragma once
#include <cmath>
#include <cstdint>

namespace cnn {

// splitmix32 seeding, xoshiro128**; normal() is Box-Muller with a spare.
class Rng {
 public:
  explicit Rng(uint32_t seed) {
    uint32_t x = seed;
    for (int i = 0; i < 4; ++i) {
      x += 0x9e3779b9u;
      uint32_t z = x;
      z = (z ^ (z >> 16)) * 0x85ebca6bu;
      z = (z ^ (z >> 13)) * 0xc2b2ae35u;
      s_[i] = z ^ (z >> 16);
    }
    if (!s_[0] && !s_[1] && !s_[2] && !s_[3]) s_[0] = 1;
  }
  uint32_t next() {
    const uint32_t result = rotl(s_[1] * 5u, 7) * 9u;
    const uint32_t t = s_[1] << 9;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 11);
    return result;
  }
  double random() { return next() / 4294967296.0; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * random(); }
  int randint(int n) { return (int)std::floor(random() * n); }
  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u = 0;
    while (u == 0) u = random();
    const double v = random();
    const double r = std::sqrt(-2 * std::log(u));
    spare_ = r * std::sin(2 * M_PI * v);
    has_spare_ = true;
    return r * std::cos(2 * M_PI * v);
  }

 private:
  static uint32_t rotl(uint32_t x, int k) { return (x << k) | (x >> (32 - k)); }
  uint32_t s_[4];
  bool has_spare_ = false;
  double spare_ = 0;
};

}  // namespace cnn
