// A small network's eval forward pass in one call: convolutions (each clamped, optionally
// max-pooled 2×2) then a chain of Linear layers, as LeNet-5 is. Each thread takes a block of
// images and carries them through every layer with their activations in its L1/L2: no
// parallel region, barrier or output tensor per layer. Run layer by layer, LeNet's eval at batch
// 64 opened seven parallel regions for a few microseconds of work each, and at 2 threads on a
// loaded machine ran slower than at 1.
#pragma once
#include "conv/conv.h"
#include "cpu/cpu.h"
#include "gemm/small_chain.h"

namespace cnn {

struct SmallNetConv {
  Conv2dParams p;  // p.n: the batch
  const float* w;
  const float* b;  // or null
  float lo, hi;    // the clamp (ReLU: 0, ∞; none: -∞, ∞)
  bool pooled;     // then a 2×2 stride-2 max pool (floor mode)
};

// Whether small_net_forward computes these layers on `threads` threads: every convolution
// ungrouped and on the direct path (the one conv2d_forward takes for it, so that the result is the layers' own),
// each one's output the next one's input, the last one's the chain's (flattened).
bool small_net_suits(const SmallNetConv* convs, int nconv, const ChainLayer* layers, int nlayers, int threads);

// y (n × layers[nlayers-1].out) from x (n × convs[0]'s input); false, y untouched, where
// small_net_suits is false. The same arithmetic as the layers' own calls (conv2d_forward_direct,
// conv2d_forward_direct_max_pool, linear_chain_forward): the same bits.
bool small_net_forward(Isa isa, int n, const float* x, const SmallNetConv* convs, int nconv, const ChainLayer* layers,
                       int nlayers, float* y, int threads);

}  // namespace cnn
