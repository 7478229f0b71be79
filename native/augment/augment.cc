// Batch augmentation kernels (see augment.h). Per sample: uint8 → float/255 into scratch, then
// each op reads one scratch buffer and writes the other (or works in place).
#include "augment/augment.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <utility>

#include "augment/auto_augment.h"
#include "augment/rng.h"

namespace cnn {
namespace {

// Python's round(): half to even.
int round_half_even(double x) { return (int)std::nearbyint(x); }

int floor_mod(int a, int n) {
  int r = a % n;
  return r < 0 ? r + n : r;
}

// Source index of padded position i for an extent n, or -1 for the fill value.
int map_index(int i, int n, ImagePadMode mode) {
  if (i >= 0 && i < n) return i;
  switch (mode) {
    case ImagePadMode::Constant: return -1;
    case ImagePadMode::Edge: return i < 0 ? 0 : n - 1;
    case ImagePadMode::Reflect: {
      if (n == 1) return 0;
      const int period = 2 * n - 2;
      int k = floor_mod(i, period);
      return k >= n ? period - k : k;
    }
    case ImagePadMode::Symmetric: {
      const int period = 2 * n;
      int k = floor_mod(i, period);
      return k >= n ? period - 1 - k : k;
    }
  }
  return -1;
}

// dst(y, x) = padded(top + y, left + x), padded = src with pad_t rows / pad_l columns before it.
void pad_crop(const float* src, int c, int h, int w, int pad_t, int pad_l, ImagePadMode mode,
              const float* fill, int top, int left, int oh, int ow, float* dst) {
  std::vector<int> cols(ow);
  for (int x = 0; x < ow; ++x) cols[x] = map_index(left + x - pad_l, w, mode);
  for (int ch = 0; ch < c; ++ch) {
    const float* s = src + (int64_t)ch * h * w;
    float* d = dst + (int64_t)ch * oh * ow;
    for (int y = 0; y < oh; ++y) {
      const int sy = map_index(top + y - pad_t, h, mode);
      float* row = d + (int64_t)y * ow;
      if (sy < 0) {
        std::fill(row, row + ow, fill[ch]);
        continue;
      }
      const float* srow = s + (int64_t)sy * w;
      for (int x = 0; x < ow; ++x) row[x] = cols[x] >= 0 ? srow[cols[x]] : fill[ch];
    }
  }
}

// Antialiased bilinear taps (PIL / torch antialias=True): triangle filter widened by the scale.
struct Taps {
  std::vector<int> start, size;
  std::vector<double> weights;  // out × max_size
  int max_size = 0;
};

Taps compute_taps(int in, int out) {
  Taps t;
  const double scale = (double)in / out;
  const double support = scale >= 1.0 ? scale : 1.0;
  const double invscale = scale >= 1.0 ? 1.0 / scale : 1.0;
  t.max_size = (int)std::ceil(support) * 2 + 1;
  t.start.resize(out);
  t.size.resize(out);
  t.weights.assign((size_t)out * t.max_size, 0.0);
  for (int i = 0; i < out; ++i) {
    const double center = scale * (i + 0.5);
    const int xmin = std::max((int)(center - support + 0.5), 0);
    const int xmax = std::min((int)(center + support + 0.5), in);
    const int n = std::min(xmax - xmin, t.max_size);
    double total = 0;
    double* wt = &t.weights[(size_t)i * t.max_size];
    for (int j = 0; j < n; ++j) {
      const double x = std::fabs((j + xmin - center + 0.5) * invscale);
      wt[j] = x < 1.0 ? 1.0 - x : 0.0;
      total += wt[j];
    }
    if (total != 0)
      for (int j = 0; j < n; ++j) wt[j] /= total;
    t.start[i] = xmin;
    t.size[i] = n;
  }
  return t;
}

// src (c, h, w) → dst (c, oh, ow): horizontal pass into tmp (c, h, ow), then vertical.
void resize_bilinear(const float* src, int c, int h, int w, int oh, int ow, float* dst, float* tmp) {
  const Taps tx = compute_taps(w, ow), ty = compute_taps(h, oh);
  for (int ch = 0; ch < c; ++ch) {
    const float* s = src + (int64_t)ch * h * w;
    float* m = tmp + (int64_t)ch * h * ow;
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < ow; ++x) {
        const double* wt = &tx.weights[(size_t)x * tx.max_size];
        const float* p = s + (int64_t)y * w + tx.start[x];
        double acc = 0;
        for (int j = 0; j < tx.size[x]; ++j) acc += wt[j] * p[j];
        m[(int64_t)y * ow + x] = (float)acc;
      }
    float* d = dst + (int64_t)ch * oh * ow;
    for (int y = 0; y < oh; ++y) {
      const double* wt = &ty.weights[(size_t)y * ty.max_size];
      for (int x = 0; x < ow; ++x) {
        double acc = 0;
        for (int j = 0; j < ty.size[y]; ++j) acc += wt[j] * m[(int64_t)(ty.start[y] + j) * ow + x];
        d[(int64_t)y * ow + x] = (float)acc;
      }
    }
  }
}

void hflip(float* img, int c, int h, int w) {
  for (int64_t r = 0; r < (int64_t)c * h; ++r) std::reverse(img + r * w, img + r * w + w);
}

void vflip(float* img, int c, int h, int w) {
  for (int ch = 0; ch < c; ++ch)
    for (int y = 0; y < h / 2; ++y)
      std::swap_ranges(img + ((int64_t)ch * h + y) * w, img + ((int64_t)ch * h + y + 1) * w,
                       img + ((int64_t)ch * h + h - 1 - y) * w);
}

// torchvision's tensor rotate (expand=False): inverse-map each output pixel about the image
// center through grid_sample(align_corners=False); fill where the source falls outside.
void rotate(const float* src, int c, int h, int w, double angle, bool bilinear, const float* fill, float* dst) {
  const double r = -angle * M_PI / 180.0;
  const double cs = std::cos(r), sn = std::sin(r);
  const double cx = (w - 1) * 0.5, cy = (h - 1) * 0.5;
  const int64_t plane = (int64_t)h * w;
  for (int y = 0; y < h; ++y) {
    const double yc = y - cy;
    for (int x = 0; x < w; ++x) {
      const double xc = x - cx;
      const double ix = cs * xc + sn * yc + cx;
      const double iy = -sn * xc + cs * yc + cy;
      const int64_t o = (int64_t)y * w + x;
      if (!bilinear) {
        const int sx = (int)std::nearbyint(ix), sy = (int)std::nearbyint(iy);
        const bool in = sx >= 0 && sx < w && sy >= 0 && sy < h;
        for (int ch = 0; ch < c; ++ch)
          dst[ch * plane + o] = in ? src[ch * plane + (int64_t)sy * w + sx] : fill[ch];
        continue;
      }
      const int x0 = (int)std::floor(ix), y0 = (int)std::floor(iy);
      const double fx = ix - x0, fy = iy - y0;
      const int xs[2] = {x0, x0 + 1}, ys[2] = {y0, y0 + 1};
      const double wx[2] = {1 - fx, fx}, wy[2] = {1 - fy, fy};
      double mask = 0;
      double acc[kAugMaxChannels] = {0, 0, 0, 0};
      for (int a = 0; a < 2; ++a)
        for (int b = 0; b < 2; ++b) {
          if (ys[a] < 0 || ys[a] >= h || xs[b] < 0 || xs[b] >= w) continue;
          const double wgt = wy[a] * wx[b];
          mask += wgt;
          for (int ch = 0; ch < c; ++ch) acc[ch] += wgt * src[ch * plane + (int64_t)ys[a] * w + xs[b]];
        }
      // torchvision blends the zero-padded sample with the fill by the sampled mask.
      for (int ch = 0; ch < c; ++ch) dst[ch * plane + o] = (float)(acc[ch] * mask + (1 - mask) * fill[ch]);
    }
  }
}

inline float clamp01(float v) { return v < 0.f ? 0.f : (v > 1.f ? 1.f : v); }
inline float gray_of(float r, float g, float b) { return 0.2989f * r + 0.587f * g + 0.114f * b; }

void adjust_brightness(float* img, int64_t n, float f) {
  for (int64_t i = 0; i < n; ++i) img[i] = clamp01(f * img[i]);
}

void adjust_contrast(float* img, int c, int64_t plane, float f) {
  double sum = 0;
  if (c == 3)
    for (int64_t i = 0; i < plane; ++i) sum += gray_of(img[i], img[plane + i], img[2 * plane + i]);
  else
    for (int64_t i = 0; i < plane; ++i) sum += img[i];
  const float mean = (float)(sum / plane);
  for (int64_t i = 0; i < c * plane; ++i) img[i] = clamp01(f * img[i] + (1 - f) * mean);
}

void adjust_saturation(float* img, int c, int64_t plane, float f) {
  if (c != 3) return;
  for (int64_t i = 0; i < plane; ++i) {
    const float g = gray_of(img[i], img[plane + i], img[2 * plane + i]);
    for (int ch = 0; ch < 3; ++ch) img[ch * plane + i] = clamp01(f * img[ch * plane + i] + (1 - f) * g);
  }
}

// torchvision's _rgb2hsv / _hsv2rgb on float tensors.
void adjust_hue(float* img, int c, int64_t plane, float f) {
  if (c != 3) return;
  for (int64_t i = 0; i < plane; ++i) {
    const float r = img[i], g = img[plane + i], b = img[2 * plane + i];
    const float maxc = std::max(r, std::max(g, b)), minc = std::min(r, std::min(g, b));
    const bool eqc = maxc == minc;
    const float cr = maxc - minc;
    const float s = cr / (eqc ? 1.f : maxc);
    const float div = eqc ? 1.f : cr;
    const float rc = (maxc - r) / div, gc = (maxc - g) / div, bc = (maxc - b) / div;
    float hh;
    if (maxc == r) hh = bc - gc;
    else if (maxc == g) hh = 2.f + rc - bc;
    else hh = 4.f + gc - rc;
    hh = std::fmod(hh / 6.f + 1.f, 1.f);
    hh = hh + f;
    hh = hh - std::floor(hh);  // Python-style % 1.0
    const float v = maxc;
    const float h6 = hh * 6.f;
    const float fi = std::floor(h6);
    const float fr = h6 - fi;
    const int k = floor_mod((int)fi, 6);
    const float p = clamp01(v * (1.f - s)), q = clamp01(v * (1.f - s * fr)), t = clamp01(v * (1.f - s * (1.f - fr)));
    float o[3];
    switch (k) {
      case 0: o[0] = v; o[1] = t; o[2] = p; break;
      case 1: o[0] = q; o[1] = v; o[2] = p; break;
      case 2: o[0] = p; o[1] = v; o[2] = t; break;
      case 3: o[0] = p; o[1] = q; o[2] = v; break;
      case 4: o[0] = t; o[1] = p; o[2] = v; break;
      default: o[0] = v; o[1] = p; o[2] = q; break;
    }
    img[i] = o[0];
    img[plane + i] = o[1];
    img[2 * plane + i] = o[2];
  }
}

void to_grayscale(float* img, int c, int64_t plane) {
  if (c != 3) return;
  for (int64_t i = 0; i < plane; ++i) {
    const float g = gray_of(img[i], img[plane + i], img[2 * plane + i]);
    img[i] = img[plane + i] = img[2 * plane + i] = g;
  }
}

// torchvision's RandomResizedCrop.get_params / RandomErasing.get_params share this sampling.
bool sample_box(Rng& rng, int h, int w, const double* scale, const double* ratio, bool resized_crop,
                int* bh, int* bw) {
  const double area = (double)h * w;
  const double lr0 = std::log(ratio[0]), lr1 = std::log(ratio[1]);
  for (int attempt = 0; attempt < 10; ++attempt) {
    const double target = area * rng.uniform(scale[0], scale[1]);
    const double aspect = std::exp(rng.uniform(lr0, lr1));
    if (resized_crop) {
      const int cw = round_half_even(std::sqrt(target * aspect));
      const int ch = round_half_even(std::sqrt(target / aspect));
      if (cw > 0 && cw <= w && ch > 0 && ch <= h) { *bh = ch; *bw = cw; return true; }
    } else {
      const int eh = round_half_even(std::sqrt(target * aspect));
      const int ew = round_half_even(std::sqrt(target / aspect));
      if (eh < h && ew < w) { *bh = eh; *bw = ew; return true; }
    }
  }
  return false;
}

// The auto-augment ops work on uint8 images, as torchvision's: the [0,1] floats are rounded to
// pixel values (exact for images that were only cropped or flipped) and back. bytes holds 2·c·h·w.
// The op draws from its own generator, seeded by the sample's next draw, so that one image can be
// augmented alone exactly as inside a pipeline (native autoAugmentImage).
void auto_augment(const AutoAugmentSpec& s, Rng& rng, float* img, int c, int h, int w, uint8_t* bytes) {
  Rng own(rng.next());
  AaApplied applied[64];
  const int n = aa_sample(s, own, applied, 64);
  if (n == 0) return;
  const int64_t size = (int64_t)c * h * w;
  for (int64_t i = 0; i < size; ++i) bytes[i] = (uint8_t)round_even(clamp01(img[i]) * 255.f);
  for (int k = 0; k < n; ++k) aa_apply(applied[k].op, applied[k].magnitude, s, bytes, c, h, w, bytes + size);
  for (int64_t i = 0; i < size; ++i) img[i] = (float)bytes[i] / 255.f;
}

}  // namespace

std::string aug_prepare(AugPipeline& p) {
  int c = p.c, h = p.h, w = p.w;
  int64_t scratch = (int64_t)c * h * w;
  auto grow = [&](int64_t v) { scratch = std::max(scratch, v); };
  for (size_t k = 0; k < p.ops.size(); ++k) {
    const AugOp& op = p.ops[k];
    const std::string at = "op " + std::to_string(k) + ": ";
    switch (op.kind) {
      case AugKind::RandomCrop: {
        int ph = h + op.pad_t + op.pad_b, pw = w + op.pad_l + op.pad_r;
        grow((int64_t)c * ph * pw);
        if (op.pad_if_needed) {
          if (pw < op.out_w) pw += 2 * (op.out_w - pw);
          if (ph < op.out_h) ph += 2 * (op.out_h - ph);
        }
        if (ph < op.out_h || pw < op.out_w)
          return at + "RandomCrop of " + std::to_string(op.out_h) + "x" + std::to_string(op.out_w) +
                 " is larger than the padded image " + std::to_string(ph) + "x" + std::to_string(pw);
        h = op.out_h; w = op.out_w;
        break;
      }
      case AugKind::CenterCrop:
        h = op.out_h; w = op.out_w;
        break;
      case AugKind::Resize:
      case AugKind::RandomResizedCrop:
        grow((int64_t)c * h * op.out_w);
        h = op.out_h; w = op.out_w;
        break;
      case AugKind::ColorJitter:
      case AugKind::Grayscale:
      case AugKind::AutoAugment:
        if (c != 1 && c != 3) return at + "color transforms need 1 or 3 channels but the image has " + std::to_string(c);
        break;
      default:
        break;
    }
    grow((int64_t)c * h * w);
  }
  p.out_c = c; p.out_h = h; p.out_w = w;
  p.scratch = scratch;
  return "";
}

void aug_sample(const AugPipeline& p, const uint8_t* src, uint32_t seed, float* out, float* a, float* b, float* t) {
  Rng rng(seed);
  int c = p.c, h = p.h, w = p.w;
  for (int64_t i = 0, n = (int64_t)c * h * w; i < n; ++i) a[i] = (float)src[i] / 255.f;
  float* cur = a;
  float* other = b;
  static const float kZeros[kAugMaxChannels] = {0, 0, 0, 0};
  for (const AugOp& op : p.ops) {
    const int64_t plane = (int64_t)h * w;
    switch (op.kind) {
      case AugKind::RandomCrop: {
        int pt = op.pad_t, pl = op.pad_l;
        int ph = h + pt + op.pad_b, pw = w + pl + op.pad_r;
        if (op.pad_if_needed && (pw < op.out_w || ph < op.out_h)) {
          // Padding twice with reflect is not one wider reflect: materialize the first pad.
          if (pt || pl || op.pad_b || op.pad_r) {
            pad_crop(cur, c, h, w, pt, pl, op.mode, op.fill, 0, 0, ph, pw, other);
            std::swap(cur, other);
            h = ph; w = pw;
          }
          pt = ph < op.out_h ? op.out_h - ph : 0;
          pl = pw < op.out_w ? op.out_w - pw : 0;
          ph = h + 2 * pt; pw = w + 2 * pl;
        }
        int top = 0, left = 0;
        if (!(ph == op.out_h && pw == op.out_w)) {
          top = rng.randint(ph - op.out_h + 1);
          left = rng.randint(pw - op.out_w + 1);
        }
        pad_crop(cur, c, h, w, pt, pl, op.mode, op.fill, top, left, op.out_h, op.out_w, other);
        std::swap(cur, other);
        h = op.out_h; w = op.out_w;
        break;
      }
      case AugKind::CenterCrop: {
        const int pt = op.out_h > h ? (op.out_h - h) / 2 : 0, pl = op.out_w > w ? (op.out_w - w) / 2 : 0;
        const int ph = op.out_h > h ? op.out_h : h, pw = op.out_w > w ? op.out_w : w;
        const int top = round_half_even((ph - op.out_h) / 2.0), left = round_half_even((pw - op.out_w) / 2.0);
        pad_crop(cur, c, h, w, pt, pl, ImagePadMode::Constant, kZeros, top, left, op.out_h, op.out_w, other);
        std::swap(cur, other);
        h = op.out_h; w = op.out_w;
        break;
      }
      case AugKind::Resize:
        resize_bilinear(cur, c, h, w, op.out_h, op.out_w, other, t);
        std::swap(cur, other);
        h = op.out_h; w = op.out_w;
        break;
      case AugKind::RandomResizedCrop: {
        int ch = h, cw = w, top = 0, left = 0;
        if (sample_box(rng, h, w, op.scale, op.ratio, true, &ch, &cw)) {
          top = rng.randint(h - ch + 1);
          left = rng.randint(w - cw + 1);
        } else {
          const double in_ratio = (double)w / h;
          if (in_ratio < op.ratio[0]) { cw = w; ch = round_half_even(cw / op.ratio[0]); }
          else if (in_ratio > op.ratio[1]) { ch = h; cw = round_half_even(ch * op.ratio[1]); }
          else { cw = w; ch = h; }
          top = (h - ch) / 2;
          left = (w - cw) / 2;
        }
        pad_crop(cur, c, h, w, 0, 0, ImagePadMode::Constant, kZeros, top, left, ch, cw, other);
        resize_bilinear(other, c, ch, cw, op.out_h, op.out_w, cur, t);
        h = op.out_h; w = op.out_w;
        break;
      }
      case AugKind::HorizontalFlip:
        if (rng.random() < op.p) hflip(cur, c, h, w);
        break;
      case AugKind::VerticalFlip:
        if (rng.random() < op.p) vflip(cur, c, h, w);
        break;
      case AugKind::Rotation: {
        const double angle = rng.uniform(op.degrees[0], op.degrees[1]);
        rotate(cur, c, h, w, angle, op.bilinear, op.fill, other);
        std::swap(cur, other);
        break;
      }
      case AugKind::ColorJitter: {
        int order[4] = {0, 1, 2, 3};
        for (int k = 3; k > 0; --k) std::swap(order[k], order[rng.randint(k + 1)]);
        double factor[4] = {0, 0, 0, 0};
        for (int k = 0; k < 4; ++k)
          if (op.has_jitter[k]) factor[k] = rng.uniform(op.jitter[k][0], op.jitter[k][1]);
        for (int k : order) {
          if (!op.has_jitter[k]) continue;
          const float f = (float)factor[k];
          if (k == 0) adjust_brightness(cur, c * plane, f);
          else if (k == 1) adjust_contrast(cur, c, plane, f);
          else if (k == 2) adjust_saturation(cur, c, plane, f);
          else adjust_hue(cur, c, plane, f);
        }
        break;
      }
      case AugKind::Grayscale:
        if (rng.random() < op.p) to_grayscale(cur, c, plane);
        break;
      case AugKind::Normalize:
        for (int ch = 0; ch < c; ++ch) {
          float* d = cur + ch * plane;
          const float m = op.mean[ch], s = op.std[ch];
          for (int64_t i = 0; i < plane; ++i) d[i] = (d[i] - m) / s;
        }
        break;
      case AugKind::Erasing: {
        if (!(rng.random() < op.p)) break;
        int eh = 0, ew = 0;
        if (!sample_box(rng, h, w, op.scale, op.ratio, false, &eh, &ew)) break;
        // torchvision draws the noise before the position.
        std::vector<float> noise;
        if (op.erase_random) {
          noise.resize((size_t)c * eh * ew);
          for (float& v : noise) v = (float)rng.normal();
        }
        const int top = rng.randint(h - eh + 1), left = rng.randint(w - ew + 1);
        for (int ch = 0; ch < c; ++ch)
          for (int y = 0; y < eh; ++y)
            for (int x = 0; x < ew; ++x)
              cur[ch * plane + (int64_t)(top + y) * w + left + x] =
                  op.erase_random ? noise[((size_t)ch * eh + y) * ew + x] : op.erase_value[ch];
        break;
      }
      case AugKind::AutoAugment:
        auto_augment(op.auto_augment, rng, cur, c, h, w, reinterpret_cast<uint8_t*>(other));
        break;
    }
  }
  std::memcpy(out, cur, sizeof(float) * (size_t)c * h * w);
}

void aug_batch(const AugPipeline& p, const uint8_t* images, const int32_t* indices, int n,
               const uint32_t* seeds, float* out, int threads) {
  const int64_t in_size = (int64_t)p.c * p.h * p.w, out_size = (int64_t)p.out_c * p.out_h * p.out_w;
#pragma omp parallel num_threads(threads) if (threads > 1 && n > 1)
  {
    std::vector<float> a(p.scratch), b(p.scratch), t(p.scratch);
// Dynamic chunks: a thread descheduled on a busy machine does not hold up the batch.
#pragma omp for schedule(dynamic, 8)
    for (int k = 0; k < n; ++k)
      aug_sample(p, images + indices[k] * in_size, seeds[k], out + k * out_size, a.data(), b.data(), t.data());
  }
}

}  // namespace cnn
