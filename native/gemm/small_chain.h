// A run of small fully connected layers (eval's Linear → ReLU → Linear → … classifier heads) in
// one parallel region: each thread takes a few rows of the batch at a time and carries them
// through every layer, so the activations stay in its L1/L2 and the layers need no barrier
// between them; the weights come packed once (sgemm_pack_bt) and are read from L2 by every row
// block. LeNet's 256→120→84→10 head on 64 images is 2.7M multiply-adds: as three threaded
// GEMM calls, repacking the weights and opening a parallel region each, its overhead was as
// large as the products.
#pragma once
#include "cpu/cpu.h"

namespace cnn {

// Layer l: y = clamp(x·Wᵀ + b, lo, hi) with x (rows × in), W (out × in) given as packed (its
// transpose packed whole by sgemm_pack_bt on the same ISA, 64-byte aligned), b (out) or null.
struct ChainLayer {
  int in, out;
  const float* packed;
  const float* bias;
  float lo, hi;
};

// Floats sgemm_pack_bt needs for a layer of out × in on any ISA this build has (a buffer that
// fits whichever ISA is active later).
long linear_chain_packed_floats(int out, int in);

// y (m × layers[count-1].out) from x (m × layers[0].in); layers[l].in == layers[l-1].out.
void linear_chain_forward(Isa isa, int m, const float* x, const ChainLayer* layers, int count, float* y, int threads);

// rows (at most a block) of x through every layer on the calling thread, into y: the body of
// linear_chain_forward's parallel loop, for callers with their own (small_net.h). Ap holds rows ×
// the widest layer's inputs (packed), act two buffers of act_floats (>= rows × widest) each.
void linear_chain_rows(Isa isa, int rows, const float* x, const ChainLayer* layers, int count, float* y, float* Ap, float* act,
                       long act_floats);

// One layer on rows of x (rows × L.in, contiguous) into y (rows L.out wide, ldy apart), on the
// calling thread: pack, bias, product, clamp. Ap holds rows × L.in (packed).
void chain_layer_rows(Isa isa, int rows, const ChainLayer& L, const float* x, float* y, long ldy, float* Ap);

// The same layer by layer through sgemm_isa and plain loops: the reference the tests compare with.
void linear_chain_ref(int m, const float* x, const float* const* weights, const ChainLayer* layers, int count, float* y);

}  // namespace cnn
