// Each output row and column maps to one input row and column (or to none, for the constant
// border), so both directions are a gather/scatter through two small index tables per call.
#include "pad/pad.h"

#include <cstring>
#include <vector>

namespace cnn {

namespace {

// Input coordinate that output coordinate o (of in + before + after) copies; -1 for constant.
int64_t source(int64_t o, int64_t in, int64_t before, PadMode mode) {
  int64_t i = o - before;
  if (i >= 0 && i < in) return i;
  switch (mode) {
    case PadMode::Zeros:
      return -1;
    case PadMode::Reflect:
      return i < 0 ? -i : 2 * (in - 1) - i;
    case PadMode::Replicate:
      return i < 0 ? 0 : in - 1;
    case PadMode::Circular:
      return ((i % in) + in) % in;
  }
  return -1;
}

std::vector<int64_t> table(int64_t in, int64_t before, int64_t after, PadMode mode) {
  std::vector<int64_t> t((size_t)(in + before + after));
  for (size_t o = 0; o < t.size(); ++o) t[o] = source((int64_t)o, in, before, mode);
  return t;
}

inline bool worth_threads(int64_t planes, int64_t work) { return planes > 1 && work > 16384; }

}  // namespace

const char* pad2d_check(const Pad2dParams& p) {
  if (p.left < 0 || p.right < 0 || p.top < 0 || p.bottom < 0) return "padding must be non-negative";
  switch (p.mode) {
    case PadMode::Zeros:
      return "";
    case PadMode::Reflect:
      if (p.left >= p.w || p.right >= p.w || p.top >= p.h || p.bottom >= p.h)
        return "reflect padding must be smaller than the input dimension it pads";
      return "";
    case PadMode::Replicate:
      if ((p.h == 0 && p.top + p.bottom > 0) || (p.w == 0 && p.left + p.right > 0))
        return "replicate padding needs a non-empty input";
      return "";
    case PadMode::Circular:
      if (p.left > p.w || p.right > p.w || p.top > p.h || p.bottom > p.h)
        return "circular padding must not be larger than the input dimension it pads";
      if ((p.h == 0 && p.top + p.bottom > 0) || (p.w == 0 && p.left + p.right > 0))
        return "circular padding needs a non-empty input";
      return "";
  }
  return "unknown padding mode";
}

void pad2d_forward(const Pad2dParams& p, const float* x, float value, float* y, int threads) {
  const auto rows = table(p.h, p.top, p.bottom, p.mode), cols = table(p.w, p.left, p.right, p.mode);
  const int64_t oh = p.out_h(), ow = p.out_w(), in_size = p.h * p.w;
#pragma omp parallel for num_threads(threads) if (worth_threads(p.planes, p.planes * oh * ow))
  for (int64_t pl = 0; pl < p.planes; ++pl) {
    const float* xp = x + pl * in_size;
    float* yp = y + pl * oh * ow;
    for (int64_t r = 0; r < oh; ++r) {
      float* yr = yp + r * ow;
      const int64_t sr = rows[(size_t)r];
      if (sr < 0) {
        for (int64_t c = 0; c < ow; ++c) yr[c] = value;
        continue;
      }
      const float* xr = xp + sr * p.w;
      for (int64_t c = 0; c < ow; ++c) {
        const int64_t sc = cols[(size_t)c];
        yr[c] = sc < 0 ? value : xr[sc];
      }
    }
  }
}

void pad2d_backward(const Pad2dParams& p, const float* dy, float* dx, int threads) {
  const auto rows = table(p.h, p.top, p.bottom, p.mode), cols = table(p.w, p.left, p.right, p.mode);
  const int64_t oh = p.out_h(), ow = p.out_w(), in_size = p.h * p.w;
#pragma omp parallel for num_threads(threads) if (worth_threads(p.planes, p.planes * oh * ow))
  for (int64_t pl = 0; pl < p.planes; ++pl) {
    float* dxp = dx + pl * in_size;
    std::memset(dxp, 0, sizeof(float) * in_size);
    const float* dyp = dy + pl * oh * ow;
    for (int64_t r = 0; r < oh; ++r) {
      const int64_t sr = rows[(size_t)r];
      if (sr < 0) continue;
      float* dxr = dxp + sr * p.w;
      const float* dyr = dyp + r * ow;
      for (int64_t c = 0; c < ow; ++c) {
        const int64_t sc = cols[(size_t)c];
        if (sc >= 0) dxr[sc] += dyr[c];
      }
    }
  }
}

}  // namespace cnn
