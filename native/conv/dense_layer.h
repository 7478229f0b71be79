// DenseNet's layer in eval (BN → ReLU → 1×1 conv → BN → ReLU → k×k conv, the second BN folded
// into the first conv, the ReLU its clamp) on maps of a few pixels (its last blocks at CIFAR
// sizes: 2×2 and 1×1) as one call with one parallel region. Each thread takes a block of images
// and carries it through both products: it reads the block's features through the first BN → ReLU
// as it gathers them into pixel rows, multiplies them by the 1×1 weights, and multiplies each
// image's pixels by the second convolution as a dense map of the whole image (dense_map.h, columns
// by pixel), writing the new channels straight after the features they came from. Layer by layer
// the same work took a copy, a product, a clamp and a dense map, each a parallel region of its
// own on a few microseconds of work.
#pragma once
#include "cpu/cpu.h"
#include "gemm/small_chain.h"

namespace cnn {

struct DenseLayerSmall {
  int n;         // images
  int channels;  // C: the leading channels each image's layer reads
  int total;     // channels per image in the features
  int pixels;    // P = H·W
  // The input map per channel c < C: clamp(v·scale[c] + shift[c], lo, hi).
  const float *scale, *shift;
  float lo, hi;
  ChainLayer conv1;  // C → mid on each pixel (a row per image and pixel)
  ChainLayer conv2;  // P·mid (pixel-major) → G·P (channel-major, NCHW's order) per image
};

// Whether the shapes agree (and P <= 4): conv1.in == C, conv2.in == P·conv1.out, conv2.out a multiple of P,
// and C + conv2.out / P <= total.
bool dense_layer_small_fits(const DenseLayerSmall& d);
// features (n × total × P, NCHW): channels [C, C + G) of every image from channels [0, C).
void dense_layer_small_forward(Isa isa, const DenseLayerSmall& d, float* features, int threads);

}  // namespace cnn
