// Choices between floats by bit masks instead of conditions. A conditional choice in an
// elementwise loop became a branch that mispredicted on random signs and kept the loop scalar
// (BatchNorm's fused backward ran 4x slower than BatchNorm's and ReLU's backward together; Leaky
// ReLU on 1M floats took 4.8 ms, where GCC would not move a float multiply that could trap across
// the choice). The masks vectorize. `static` and __builtin_memcpy: each per-ISA file that
// includes this gets its own copy, compiled with its own flags (norm_loops.inc).
#pragma once
#include <cstdint>

namespace cnn {

// g where keep, else +0 (exactly 0 even for an infinite or NaN g, as PyTorch's masks give).
static inline float keep_if(float g, bool keep) {
  uint32_t bits;
  __builtin_memcpy(&bits, &g, 4);
  bits &= -(uint32_t)keep;
  __builtin_memcpy(&g, &bits, 4);
  return g;
}

// a if take, else b, bit for bit.
static inline float choose(bool take, float a, float b) {
  uint32_t ia, ib;
  __builtin_memcpy(&ia, &a, 4);
  __builtin_memcpy(&ib, &b, 4);
  const uint32_t m = -(uint32_t)take, r = (ia & m) | (ib & ~m);
  float out;
  __builtin_memcpy(&out, &r, 4);
  return out;
}

}  // namespace cnn
