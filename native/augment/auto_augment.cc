// torchvision's auto-augment ops on uint8 tensors (see auto_augment.h). The pixel ops repeat
// torchvision's float32 arithmetic step by step (a product, then a sum, then truncation to uint8)
// so their results are exact; contraction into FMA would change the last bit and with it a
// truncated pixel, hence fp-contract=off.
#pragma GCC optimize("fp-contract=off")
#include "augment/auto_augment.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace cnn {

const char* const kAaOpNames[kAaOpCount] = {
    "Identity", "ShearX", "ShearY", "TranslateX", "TranslateY", "Rotate", "Brightness", "Color",
    "Contrast", "Sharpness", "Posterize", "Solarize", "AutoContrast", "Equalize", "Invert",
};

namespace {

// Python's math.degrees / math.radians.
constexpr double kRadToDeg = 180.0 / M_PI, kDegToRad = M_PI / 180.0;

// torchvision.transforms.functional._get_inverse_affine_matrix (scale 1): center, translate in
// pixels relative to the image center, angle and shear in degrees.
void inverse_affine(double cx, double cy, double angle, double tx, double ty, double shear_x, double shear_y,
                    double* m) {
  const double rot = angle * kDegToRad, sx = shear_x * kDegToRad, sy = shear_y * kDegToRad;
  const double a = std::cos(rot - sy) / std::cos(sy);
  const double b = -std::cos(rot - sy) * std::tan(sx) / std::cos(sy) - std::sin(rot);
  const double c = std::sin(rot - sy) / std::cos(sy);
  const double d = -std::sin(rot - sy) * std::tan(sx) / std::cos(sy) + std::cos(rot);
  m[0] = d; m[1] = -b; m[2] = 0.0; m[3] = -c; m[4] = a; m[5] = 0.0;
  m[2] += m[0] * (-cx - tx) + m[1] * (-cy - ty);
  m[5] += m[3] * (-cx - tx) + m[4] * (-cy - ty);
  m[2] += cx;
  m[5] += cy;
}

// functional_tensor.affine: an affine grid in float32 (_gen_affine_grid), then grid_sample
// (align_corners=False, zeros padding) with the optional fill mask, rounded back to uint8.
void affine(const uint8_t* src, int c, int h, int w, const double* matrix, bool bilinear, bool has_fill,
            const float* fill, uint8_t* dst) {
  float theta[6];
  for (int i = 0; i < 6; ++i) theta[i] = (float)matrix[i];
  const float hw = (float)(0.5 * w), hh = (float)(0.5 * h);
  // rescaled_theta = theta^T / [0.5 w, 0.5 h]: column 0 gives x, column 1 gives y.
  const float rx[3] = {theta[0] / hw, theta[1] / hw, theta[2] / hw};
  const float ry[3] = {theta[3] / hh, theta[4] / hh, theta[5] / hh};
  const int64_t plane = (int64_t)h * w;
  const float fw = (float)w, fh = (float)h;
  for (int y = 0; y < h; ++y) {
    const float by = (float)(-h * 0.5 + 0.5 + y);
    for (int x = 0; x < w; ++x) {
      const float bx = (float)(-w * 0.5 + 0.5 + x);
      const float gx = bx * rx[0] + by * rx[1] + rx[2];
      const float gy = bx * ry[0] + by * ry[1] + ry[2];
      const float ix = ((gx + 1.f) * fw - 1.f) / 2.f;
      const float iy = ((gy + 1.f) * fh - 1.f) / 2.f;
      const int64_t o = (int64_t)y * w + x;
      float value[4] = {0, 0, 0, 0};
      float mask = 0;
      // Beyond ±2^22 the rounding is inexact, but such a point is far outside the image anyway.
      const bool near = std::fabs(ix) < 4194304.f && std::fabs(iy) < 4194304.f;
      if (!bilinear) {
        const int sx = near ? (int)round_even(ix) : -1, sy = near ? (int)round_even(iy) : -1;
        if (sx >= 0 && sx < w && sy >= 0 && sy < h) {
          mask = 1;
          for (int ch = 0; ch < c; ++ch) value[ch] = src[ch * plane + (int64_t)sy * w + sx];
        }
        if (has_fill && mask < 0.5f)
          for (int ch = 0; ch < c; ++ch) value[ch] = fill[ch];
      } else if (near) {
        const float x0 = std::floor(ix), y0 = std::floor(iy);
        const float x1 = x0 + 1, y1 = y0 + 1;
        const float wts[4] = {(x1 - ix) * (y1 - iy), (ix - x0) * (y1 - iy), (x1 - ix) * (iy - y0), (ix - x0) * (iy - y0)};
        const int xs[4] = {(int)x0, (int)x1, (int)x0, (int)x1}, ys[4] = {(int)y0, (int)y0, (int)y1, (int)y1};
        for (int k = 0; k < 4; ++k) {
          if (xs[k] < 0 || xs[k] >= w || ys[k] < 0 || ys[k] >= h) continue;
          mask += wts[k];
          for (int ch = 0; ch < c; ++ch) value[ch] += src[ch * plane + (int64_t)ys[k] * w + xs[k]] * wts[k];
        }
      }
      // torchvision blends the zero-padded bilinear sample with the fill by the sampled mask.
      if (bilinear && has_fill)
        for (int ch = 0; ch < c; ++ch) value[ch] = value[ch] * mask + (1.f - mask) * fill[ch];
      for (int ch = 0; ch < c; ++ch) {
        const float r = round_even(value[ch]);
        dst[ch * plane + o] = (uint8_t)std::min(255.f, std::max(0.f, r));
      }
    }
  }
}

// _blend(img1, img2, ratio) for uint8: float32 products and sum, clamp, truncation.
inline uint8_t blend(float ratio, float one_minus, float a, float b) {
  const float pa = ratio * a;
  const float pb = one_minus * b;
  const float v = pa + pb;
  return (uint8_t)(v < 0.f ? 0.f : (v > 255.f ? 255.f : v));
}

// rgb_to_grayscale on uint8: float32 weighted sum truncated to uint8.
inline uint8_t gray_u8(uint8_t r, uint8_t g, uint8_t b) {
  const float pr = 0.2989f * r, pg = 0.587f * g, pb = 0.114f * b;
  const float s = pr + pg;
  return (uint8_t)(s + pb);
}

void blend_with_image(uint8_t* img, const uint8_t* other, int64_t n, double ratio) {
  const float r = (float)ratio, q = (float)(1.0 - ratio);
  for (int64_t i = 0; i < n; ++i) img[i] = blend(r, q, img[i], other[i]);
}

void brightness(uint8_t* img, int64_t n, double factor) {
  const float r = (float)factor, q = (float)(1.0 - factor);
  for (int64_t i = 0; i < n; ++i) img[i] = blend(r, q, img[i], 0.f);
}

void color(uint8_t* img, int c, int64_t plane, double factor, uint8_t* tmp) {
  if (c != 3) return;  // torchvision leaves one-channel images alone, as PIL
  for (int64_t i = 0; i < plane; ++i) tmp[i] = tmp[plane + i] = tmp[2 * plane + i] = gray_u8(img[i], img[plane + i], img[2 * plane + i]);
  blend_with_image(img, tmp, 3 * plane, factor);
}

void contrast(uint8_t* img, int c, int64_t plane, double factor) {
  // The mean of integers below 2^24 in total is exact in float32 whatever the summation order.
  double sum = 0;
  if (c == 3)
    for (int64_t i = 0; i < plane; ++i) sum += gray_u8(img[i], img[plane + i], img[2 * plane + i]);
  else
    for (int64_t i = 0; i < plane; ++i) sum += img[i];
  const float mean = (float)sum / (float)plane;
  const float r = (float)factor, q = (float)(1.0 - factor);
  for (int64_t i = 0; i < c * plane; ++i) img[i] = blend(r, q, img[i], mean);
}

// _blurred_degenerate_image: the 3×3 kernel [1 1 1; 1 5 1; 1 1 1] / 13 on the interior, rounded;
// the border keeps the image. Every sum is k/13, never within rounding error of a half.
void sharpness(uint8_t* img, int c, int h, int w, double factor, uint8_t* tmp) {
  if (h <= 2 || w <= 2) return;
  const float edge = 1.f / 13.f, center = 5.f / 13.f;
  const int64_t plane = (int64_t)h * w;
  std::memcpy(tmp, img, (size_t)(c * plane));
  for (int ch = 0; ch < c; ++ch) {
    const uint8_t* s = img + ch * plane;
    uint8_t* d = tmp + ch * plane;
    for (int y = 1; y < h - 1; ++y)
      for (int x = 1; x < w - 1; ++x) {
        float acc = 0;
        for (int dy = -1; dy <= 1; ++dy)
          for (int dx = -1; dx <= 1; ++dx)
            acc += s[(int64_t)(y + dy) * w + x + dx] * (dy == 0 && dx == 0 ? center : edge);
        d[(int64_t)y * w + x] = (uint8_t)round_even(acc);
      }
  }
  blend_with_image(img, tmp, c * plane, factor);
}

void posterize(uint8_t* img, int64_t n, double magnitude) {
  const int bits = std::min(8, std::max(0, (int)magnitude));
  const int mask = -(1 << (8 - bits));
  for (int64_t i = 0; i < n; ++i) img[i] = (uint8_t)(img[i] & mask);
}

void solarize(uint8_t* img, int64_t n, double threshold) {
  const float t = (float)threshold;
  for (int64_t i = 0; i < n; ++i)
    if ((float)img[i] >= t) img[i] = (uint8_t)(255 - img[i]);
}

void autocontrast(uint8_t* img, int c, int64_t plane) {
  for (int ch = 0; ch < c; ++ch) {
    uint8_t* p = img + ch * plane;
    const auto mm = std::minmax_element(p, p + plane);
    float lo = *mm.first;
    float scale = 255.f / ((float)*mm.second - lo);
    if (!std::isfinite(scale)) { lo = 0; scale = 1; }
    for (int64_t i = 0; i < plane; ++i) {
      const float v = ((float)p[i] - lo) * scale;
      p[i] = (uint8_t)(v < 0.f ? 0.f : (v > 255.f ? 255.f : v));
    }
  }
}

// functional_tensor._scale_channel: the histogram's cumulative sum, stepped by all but the
// last non-empty bin's count / 255.
void equalize(uint8_t* img, int c, int64_t plane) {
  for (int ch = 0; ch < c; ++ch) {
    uint8_t* p = img + ch * plane;
    int64_t hist[256] = {0};
    for (int64_t i = 0; i < plane; ++i) ++hist[p[i]];
    int64_t total = 0, last = 0;
    for (int v = 0; v < 256; ++v)
      if (hist[v]) { total += hist[v]; last = hist[v]; }
    const int64_t step = (total - last) / 255;
    if (step == 0) continue;
    uint8_t lut[256];
    int64_t cum = 0;
    for (int v = 0; v < 256; ++v) {
      lut[v] = (uint8_t)std::min<int64_t>(255, (cum + step / 2) / step);
      cum += hist[v];
    }
    for (int64_t i = 0; i < plane; ++i) p[i] = lut[p[i]];
  }
}

// The magnitude at a bin position: the table's value, or linear between the two nearest bins.
double magnitude_at(const std::vector<double>& m, double level) {
  const int last = (int)m.size() - 1;
  if (level <= 0) return m[0];
  if (level >= last) return m[last];
  const int i = (int)std::floor(level);
  const double f = level - i;
  return f == 0 ? m[i] : m[i] + (m[i + 1] - m[i]) * f;
}

}  // namespace

int aa_max_applied(const AutoAugmentSpec& s) {
  if (s.mode == AaMode::Trivial) return 1;
  if (s.mode == AaMode::Rand) return s.num_ops;
  size_t most = 0;
  for (const auto& p : s.policies) most = std::max(most, p.size());
  return (int)most;
}

int aa_sample(const AutoAugmentSpec& s, Rng& rng, AaApplied* out, int max) {
  int n = 0;
  if (s.mode == AaMode::Policy) {
    // AutoAugment.get_params: the sub-policy, then every step's probability, then its sign.
    const auto& steps = s.policies[rng.randint((int)s.policies.size())];
    const size_t k = steps.size();
    std::vector<double> probs(k);
    std::vector<int> signs(k);
    for (double& p : probs) p = rng.random();
    for (int& v : signs) v = rng.randint(2);
    for (size_t i = 0; i < k && n < max; ++i) {
      if (!(probs[i] <= steps[i].p)) continue;
      const double m = steps[i].is_signed && signs[i] == 0 ? -steps[i].magnitude : steps[i].magnitude;
      out[n++] = {steps[i].op, m};
    }
    return n;
  }
  const int rounds = s.mode == AaMode::Trivial ? 1 : s.num_ops;
  for (int r = 0; r < rounds && n < max; ++r) {
    const AaSpaceOp& op = s.space[rng.randint((int)s.space.size())];
    double m = 0;
    if (!op.magnitudes.empty()) {
      if (s.mode == AaMode::Trivial) {
        m = op.magnitudes[rng.randint((int)op.magnitudes.size())];
      } else {
        double level = s.level;
        // timm's magnitude_std: Gaussian noise per application, clipped to [0, max].
        if (s.level_std > 0) level = std::min(s.level_max, std::max(0.0, level + s.level_std * rng.normal()));
        m = magnitude_at(op.magnitudes, level);
      }
    }
    if (op.is_signed && rng.randint(2) == 1) m = -m;
    out[n++] = {op.op, m};
  }
  return n;
}

void aa_apply(AaOp op, double magnitude, const AutoAugmentSpec& s, uint8_t* img, int c, int h, int w, uint8_t* tmp) {
  const int64_t plane = (int64_t)h * w, n = c * plane;
  double matrix[6];
  // F.affine's tensor center [0, 0] (shears) is (-w/2, -h/2) relative to the image center.
  switch (op) {
    case AaOp::Identity:
      return;
    case AaOp::ShearX:
      inverse_affine(-w * 0.5, -h * 0.5, 0, 0, 0, std::atan(magnitude) * kRadToDeg, 0, matrix);
      break;
    case AaOp::ShearY:
      inverse_affine(-w * 0.5, -h * 0.5, 0, 0, 0, 0, std::atan(magnitude) * kRadToDeg, matrix);
      break;
    case AaOp::TranslateX:
      inverse_affine(0, 0, 0, (double)(int)magnitude, 0, 0, 0, matrix);
      break;
    case AaOp::TranslateY:
      inverse_affine(0, 0, 0, 0, (double)(int)magnitude, 0, 0, matrix);
      break;
    case AaOp::Rotate:
      inverse_affine(0, 0, -magnitude, 0, 0, 0, 0, matrix);
      break;
    case AaOp::Brightness: brightness(img, n, 1.0 + magnitude); return;
    case AaOp::Color: color(img, c, plane, 1.0 + magnitude, tmp); return;
    case AaOp::Contrast: contrast(img, c, plane, 1.0 + magnitude); return;
    case AaOp::Sharpness: sharpness(img, c, h, w, 1.0 + magnitude, tmp); return;
    case AaOp::Posterize: posterize(img, n, magnitude); return;
    case AaOp::Solarize: solarize(img, n, magnitude); return;
    case AaOp::AutoContrast: autocontrast(img, c, plane); return;
    case AaOp::Equalize: equalize(img, c, plane); return;
    case AaOp::Invert:
      for (int64_t i = 0; i < n; ++i) img[i] = (uint8_t)(255 - img[i]);
      return;
  }
  affine(img, c, h, w, matrix, s.bilinear, s.has_fill, s.fill, tmp);
  std::memcpy(img, tmp, (size_t)n);
}

}  // namespace cnn
