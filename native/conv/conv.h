// 2-D convolution (cross-correlation, as PyTorch), NCHW float32.
// x: N×Cin×H×W, w: Cout×(Cin/groups)×KH×KW, b: Cout or null, y: N×Cout×OH×OW.
#pragma once

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

// Fast paths: depthwise direct, stride 1 on the padded grid, 1×1 without im2col, else im2col +
// GEMM (conv.cc lists the order). All outputs overwritten.
void conv2d_forward(const Conv2dParams& p, const float* x, const float* w, const float* b, float* y,
                    int threads);
void conv2d_backward_input(const Conv2dParams& p, const float* dy, const float* w, float* dx,
                           int threads);
// db may be null.
void conv2d_backward_weight(const Conv2dParams& p, const float* x, const float* dy, float* dw,
                            float* db, int threads);

// Depthwise kernels (groups == Cin == Cout).
void depthwise_forward(const Conv2dParams& p, const float* x, const float* w, const float* b,
                       float* y, int threads);
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
