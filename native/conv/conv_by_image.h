// Convolution split over images: each thread takes a run of images (or blocks of one image's
// output pixels) and multiplies them on its own with a single-threaded GEMM, so an item's column
// matrix stays in that core's L2. Suits images with many output pixels (early layers), where
// the im2col matrix of a whole batch would stream through memory several times.
#pragma once
#include "conv/conv.h"

namespace cnn {

// Whether splitting over images suits the shape (enough output pixels per image, enough items
// for the threads). Each entry point returns false, having done nothing, where not.
bool conv_by_image_suits(const Conv2dParams& p, ConvPass pass, int threads);
// The bias and the epilogue applied per item, right after its product. packed: w packed by
// conv2d_pack_weights (eval's cache), or null to pack it in the call. With `in` (pointwise, one
// group), each item maps its input as it copies it for the product: false, having done nothing,
// for any other shape.
bool conv2d_forward_by_image(const Conv2dParams& p, const float* x, const float* w, const float* b,
                             float* y, int threads, const ConvEpilogue& e = {}, const float* packed = nullptr,
                             const ConvInputMap* in = nullptr);
bool conv2d_backward_input_by_image(const Conv2dParams& p, const float* dy, const float* w,
                                    float* dx, int threads);
// dW only; the bias gradient is the caller's.
bool conv2d_backward_weight_by_image(const Conv2dParams& p, const float* x, const float* dy,
                                     float* dw, int threads);

}  // namespace cnn
