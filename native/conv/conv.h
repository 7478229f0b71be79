// 2-D convolution (cross-correlation, as PyTorch), NCHW float32.
// x: N×Cin×H×W, w: Cout×(Cin/groups)×KH×KW, b: Cout or null, y: N×Cout×OH×OW.
#pragma once
#include <cmath>
#include <string>

namespace cnn {

struct Conv2dParams {
  int n, c_in, h, w;
  int c_out, kh, kw;
  int stride_h, stride_w;
  int pad_t, pad_b, pad_l, pad_r;  // per side, so 'same' with an even kernel pads right/bottom
  int dil_h, dil_w;
  int groups;
  int out_h() const { return (h + pad_t + pad_b - dil_h * (kh - 1) - 1) / stride_h + 1; }
  int out_w() const { return (w + pad_l + pad_r - dil_w * (kw - 1) - 1) / stride_w + 1; }
  bool depthwise() const { return groups == c_in && c_out == c_in && groups > 1; }
  bool pointwise() const {
    return kh == 1 && kw == 1 && stride_h == 1 && stride_w == 1 && pad_t == 0 && pad_b == 0 &&
           pad_l == 0 && pad_r == 0;
  }
};

// The ways a convolution can be computed. Auto picks, in this order, the first that suits the
// shape: depthwise direct (groups == Cin == Cout), output channels in the lanes for 3×3 forward
// and input-gradient passes on small maps where that measured faster (conv_lanes.h), Winograd F(4×4, 3×3) for 3×3 stride-1 forward
// and input-gradient passes where it measured faster (winograd.h), direct loops for few output
// channels (stride 1, conv_direct.h), the padded grid (stride 1, conv_grid.h), one GEMM per image or pixel block
// (conv_by_image.h), else the batched im2col + GEMM, which computes every shape. Before all of
// them, and before any taps are cut, a map no larger than the kernel may go as one dense GEMM over
// whole images (dense_map.h) where that wins.
enum class ConvAlgo { Auto = 0, Depthwise, Grid, ByImage, Batched, Direct, Winograd, DenseMap, Lanes };
enum class ConvPass { Forward, BackwardInput, BackwardWeight };

// "auto", "depthwise", "grid", "by-image", "batched", "direct", "winograd", "dense-map", "lanes"
const char* conv_algo_name(ConvAlgo algo);
// False when the name is unknown.
bool parse_conv_algo(const std::string& name, ConvAlgo* out);
// Forces one path for every convolution it suits (the rest take the batched path); Auto
// restores the choice by shape. Process-wide (CNN_CONV_ALGO).
void set_conv_algo(ConvAlgo algo);
// Whether Auto may take Winograd where the call transforms the weights itself (training's
// passes; on by default). Off, only eval's cached transforms take it.
void set_winograd_training(bool on);
ConvAlgo conv_algo_override();
// The path a call with these arguments takes (after cutting taps that only read padding);
// cached: whether the call brings the weights re-laid out by eval's cache (Winograd-transformed,
// or made dense for the dense map).
ConvAlgo conv2d_algo(const Conv2dParams& p, ConvPass pass, int threads, bool cached = false);
// Whether this pass takes the dense map (conv2d_algo's first choice, on p as given).
bool conv2d_takes_dense_map(const Conv2dParams& p, ConvPass pass, int threads, bool cached = false);

// What the forward pass does to each output as it stores it, after the bias: add the residual
// (a ResNet block's identity) and clamp to [lo, hi] (ReLU: 0, ∞; ReLU6: 0, 6); NaN passes
// through the clamp, as PyTorch's lets it. Eval fusion's tail of a layer, in one sweep.
struct ConvEpilogue {
  float lo = -INFINITY, hi = INFINITY;
  const float* residual = nullptr;  // N × Cout × OH × OW, as y
  bool any() const { return residual || lo > -INFINITY || hi < INFINITY; }
};

// What a pointwise forward pass does to each input value as it reads it (conv2d_forward_by_image):
// clamp(x·scale[c] + shift[c], lo, hi), eval's BatchNorm → ReLU before the convolution (DenseNet's
// layers, whose input is never rewritten whole), from images image_stride floats apart (the
// leading c_in channels of a larger tensor).
struct ConvInputMap {
  const float* scale;
  const float* shift;
  float lo, hi;
  long image_stride;
};

// Eval's copies of w re-laid out for one path, made once per weight version and kept (each null
// where not given); a call uses the one for the path it takes.
struct ConvWeightCaches {
  const float* winograd_u = nullptr;    // winograd_transform_weights (winograd.h): Auto may then take Winograd on more shapes
  const float* dense_wd = nullptr;      // dense_map_weights (dense_map.h; also the training forward's, built for both passes)
  const float* dense_packed = nullptr;  // dense_map_pack: the dense map packed for the GEMM
  const float* packed = nullptr;        // conv2d_pack_weights: by image and the grid
  const float* lanes = nullptr;         // conv_lanes_reorder (conv_lanes.h): the channels-in-lanes loops
};

// The entry points, dispatching on conv2d_algo. All outputs overwritten. The forward pass adds
// the bias and applies the epilogue in the sweep that stores each block of output right after
// its product, while it is still in cache. Without caches.winograd_u the call transforms the
// weights itself: Auto then takes Winograd on fewer shapes (conv_winograd_wins_per_call), and not
// at all with set_winograd_training(false). With a dense map given (made or packed), Auto takes it
// from fewer images.
void conv2d_forward(const Conv2dParams& p, const float* x, const float* w, const float* b, float* y,
                    int threads, const ConvEpilogue& e = {}, const ConvWeightCaches& caches = {});
// Floats of w packed for the forward call's GEMM where that call (on these threads, given eval's
// other caches) goes by image or the grid and packs its weights, else 0: eval caches them only where they serve.
long conv2d_packed_weights_floats(const Conv2dParams& p, int threads);
// The floats conv2d_pack_weights writes for p (whether or not a call would take them).
long conv2d_packed_weights_capacity(const Conv2dParams& p);
void conv2d_pack_weights(const Conv2dParams& p, const float* w, float* out);
// dense_wd: w made dense by dense_map_weights (the training forward's, built once for both
// passes) for a call that takes the dense map, or null to make it per call.
void conv2d_backward_input(const Conv2dParams& p, const float* dy, const float* w, float* dx,
                           int threads, const float* dense_wd = nullptr);
// db may be null.
void conv2d_backward_weight(const Conv2dParams& p, const float* x, const float* dy, float* dw,
                            float* db, int threads);

// Depthwise kernels (groups == Cin == Cout); the forward pass applies the epilogue too.
void depthwise_forward(const Conv2dParams& p, const float* x, const float* w, const float* b,
                       float* y, int threads, const ConvEpilogue& e = {});
void depthwise_backward_input(const Conv2dParams& p, const float* dy, const float* w, float* dx,
                              int threads);
void depthwise_backward_weight(const Conv2dParams& p, const float* x, const float* dy, float* dw,
                               float* db, int threads);

// Direct loops with double accumulation: the references.
void conv2d_ref_forward(const Conv2dParams& p, const float* x, const float* w, const float* b,
                        float* y);
void conv2d_ref_backward_input(const Conv2dParams& p, const float* dy, const float* w, float* dx);
void conv2d_ref_backward_weight(const Conv2dParams& p, const float* x, const float* dy, float* dw,
                                float* db);

}  // namespace cnn
