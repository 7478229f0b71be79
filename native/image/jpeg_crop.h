// One JPEG file's bytes → the crop a model sees, uint8 CHW RGB, with libjpeg-turbo: the header
// is read, the image is decoded at the smallest DCT scale (1/8, 1/4, 1/2, 1) that keeps the box
// at least as large as the output (shrink-on-load), only the rows and columns the resampling
// filter touches are decoded (jpeg_crop_scanline, jpeg_skip_scanlines), then the box is resized
// with PIL's antialiased bilinear filter (torchvision's default on PIL images), rounded to uint8
// after each pass as PIL does, mirrored when asked and optionally normalized to floats.
// Plain C++: no Node headers.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace cnn {

struct JpegCrop {
  const uint8_t* data = nullptr;  // the file's bytes
  size_t size = 0;
  // The box in the original image's pixels (top, left, height, width), resized to out_h × out_w.
  // Random crops: an integer box, and the filter stops at its edges (crop, then resize).
  // Resize + CenterCrop: the centre of the resized image mapped back (fractional), and the
  // filter stops at the image's edges (resize the whole image, then crop).
  double top = 0, left = 0, height = 0, width = 0;
  bool clip_to_image = false;
  int out_h = 0, out_w = 0;
  bool flip = false;         // mirrored left-right (RandomHorizontalFlip)
  // 3 × out_h × out_w, CHW: uint8 levels into out, or, when out_f is set, ToTensor + Normalize's
  // floats (v / 255 − mean) / std into out_f, computed as the augmenter computes them.
  uint8_t* out = nullptr;
  float* out_f = nullptr;
  const float* mean = nullptr;
  const float* std = nullptr;
};

enum class JpegStatus : int32_t {
  Ok = 0,
  Unsupported = 1,  // not a JPEG, or CMYK/YCCK: the caller decodes it another way
  Failed = 2,       // corrupt or truncated: *message says why
};

JpegStatus jpeg_decode_crop(const JpegCrop& crop, std::string* message);

// n crops, images spread over `threads` OpenMP threads.
void jpeg_decode_crops(const JpegCrop* crops, int n, int threads, JpegStatus* status, std::string* messages);

// "libjpeg-turbo 2.1.5".
const char* jpeg_decoder_name();

}  // namespace cnn
