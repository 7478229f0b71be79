// libjpeg-turbo's decoder driven for one crop: DCT-scaled, cropped, skipped, then PIL's filter.
// libjpeg reports errors through error_exit, which must not return: it longjmps back to the
// phase that called into the library. Each phase is a function holding no C++ object with a
// destructor, so the jump skips nothing that needs cleaning up.
#include "image/jpeg_crop.h"

#include <csetjmp>
#include <cstdio>
#include <algorithm>
#include <cmath>
#include <vector>

#include <jpeglib.h>
#include <jerror.h>

namespace cnn {
namespace {

// sharp's limitInputPixels in src/data/crop-decode.ts: refuse pixel floods before decoding.
constexpr double kMaxInputPixels = 16384.0 * 16384.0;
// libvips (sharp's failOn: 'error') gives up on a truncated file or after this many warnings.
constexpr long kMaxWarnings = 100;

struct ErrorManager {
  jpeg_error_mgr pub;
  jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

void on_error(j_common_ptr cinfo) {
  auto* e = reinterpret_cast<ErrorManager*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, e->message);
  longjmp(e->jump, 1);
}

// Warnings (level -1) are corrupt-data notices: libjpeg fills in and goes on, as PIL does, except
// at a truncated file (the rest of the image would be grey) or when they never stop.
void on_message(j_common_ptr cinfo, int level) {
  if (level >= 0) return;
  auto* e = reinterpret_cast<ErrorManager*>(cinfo->err);
  if (cinfo->err->msg_code == JWRN_JPEG_EOF || ++cinfo->err->num_warnings >= kMaxWarnings) {
    (*cinfo->err->format_message)(cinfo, e->message);
    longjmp(e->jump, 1);
  }
}

struct Decoder {
  jpeg_decompress_struct cinfo;
  ErrorManager err;
};

// Phase 1: the header, then the output size at 1/denom scale. False on a libjpeg error.
bool read_header(Decoder& d, const uint8_t* data, size_t size) {
  if (setjmp(d.err.jump)) return false;
  jpeg_mem_src(&d.cinfo, data, (unsigned long)size);
  jpeg_read_header(&d.cinfo, TRUE);
  return true;
}

bool set_scale(Decoder& d, int denom) {
  if (setjmp(d.err.jump)) return false;
  d.cinfo.scale_num = 1;
  d.cinfo.scale_denom = (unsigned)denom;
  d.cinfo.out_color_space = JCS_EXT_RGBX;
  jpeg_calc_output_dimensions(&d.cinfo);
  return true;
}

// Phase 2: rows [y0, y0 + rows) of columns [*x0, *x0 + *xw) (widened by libjpeg to whole
// blocks; the widened values come back) into buf as RGBX pixels, `stride` pixels a row.
bool decode_rows(Decoder& d, JDIMENSION* x0, JDIMENSION* xw, int y0, int rows, uint32_t* buf, size_t stride) {
  if (setjmp(d.err.jump)) return false;
  jpeg_start_decompress(&d.cinfo);
  if (*x0 != 0 || *xw != d.cinfo.output_width) jpeg_crop_scanline(&d.cinfo, x0, xw);
  if (y0 > 0) jpeg_skip_scanlines(&d.cinfo, (JDIMENSION)y0);
  for (int r = 0; r < rows; ++r) {
    JSAMPROW row = reinterpret_cast<JSAMPROW>(buf + (size_t)r * stride);
    if (jpeg_read_scanlines(&d.cinfo, &row, 1) != 1) ERREXIT(&d.cinfo, JERR_INPUT_EOF);
  }
  return true;
}

// PIL's antialiased bilinear taps along one axis (ImagingResample's precompute_coeffs), for
// `out` outputs whose centres map to offset + scale·(i + ½) in the source, the filter clipped
// to [lo, hi).
struct AxisTaps {
  std::vector<int> start, size;
  std::vector<float> weights;  // out × max_size
  int max_size = 0;
  int first = 0, end = 0;      // the source range any tap reads
};

AxisTaps axis_taps(double offset, double scale, int out, int lo, int hi) {
  AxisTaps t;
  const double support = std::max(scale, 1.0);
  const double inv = 1.0 / support;
  t.max_size = (int)std::ceil(support) * 2 + 1;
  t.start.resize(out);
  t.size.resize(out);
  t.weights.assign((size_t)out * t.max_size, 0.f);
  t.first = hi;
  t.end = lo;
  std::vector<double> w(t.max_size);
  for (int i = 0; i < out; ++i) {
    const double center = offset + scale * (i + 0.5);
    const int xmin = std::max((int)std::floor(center - support + 0.5), lo);
    const int xmax = std::min((int)std::floor(center + support + 0.5), hi);
    const int n = std::max(0, std::min(xmax - xmin, t.max_size));
    double total = 0;
    for (int j = 0; j < n; ++j) {
      const double x = std::fabs((j + xmin - center + 0.5) * inv);
      w[j] = x < 1.0 ? 1.0 - x : 0.0;
      total += w[j];
    }
    for (int j = 0; j < n; ++j) t.weights[(size_t)i * t.max_size + j] = (float)(total != 0 ? w[j] / total : 0.0);
    t.start[i] = xmin;
    t.size[i] = n;
    if (n > 0) {
      t.first = std::min(t.first, xmin);
      t.end = std::max(t.end, xmin + n);
    }
  }
  if (t.first >= t.end) t.first = t.end = lo;
  return t;
}

// Non-negative weights only (a triangle filter): round half up, then saturate.
inline uint8_t to_u8(float v) {
  const int r = (int)(v + 0.5f);
  return (uint8_t)(r > 255 ? 255 : r);
}

// Buffers reused by the calls on one thread: allocating them per image (hundreds of KB, so
// mmap'd afresh) cost more in page faults than the resampling itself.
template <typename T>
T* scratch(std::vector<T>& v, size_t n) {
  if (v.size() < n) v.resize(n);
  return v.data();
}

struct Scratch {
  std::vector<uint32_t> window, columns, filtered, mid, levels;
  std::vector<float> acc;
};
thread_local Scratch tls;

// Pixels (4 bytes, RGBX) of a rows × cols block at src (row stride src_stride pixels) → its
// transpose at dst (cols × rows), in bands of 16 rows so that each column's writes are 64
// contiguous bytes rather than one pixel per cache line.
void transpose_pixels(const uint32_t* src, size_t src_stride, int rows, int cols, uint32_t* dst) {
  constexpr int kBand = 16;
  for (int r0 = 0; r0 < rows; r0 += kBand) {
    const int band = std::min(kBand, rows - r0);
    for (int c = 0; c < cols; ++c) {
      const uint32_t* s = src + (size_t)r0 * src_stride + c;
      uint32_t* d = dst + (size_t)c * rows + r0;
      for (int r = 0; r < band; ++r) d[r] = s[(size_t)r * src_stride];
    }
  }
}

// One pass of the filter along the rows of a `lines` × len block (line l at src + l·len): output
// line i is the weighted sum of lines taps.start[i] − first ... over whole lines, so the inner
// loop runs along contiguous bytes and vectorizes. Rounded to uint8 as PIL stores each pass.
void filter_lines(const uint8_t* src, size_t len, int first, const AxisTaps& taps, int count, uint8_t* dst, float* acc) {
  for (int i = 0; i < count; ++i) {
    std::fill(acc, acc + len, 0.f);
    const float* w = &taps.weights[(size_t)i * taps.max_size];
    for (int j = 0; j < taps.size[i]; ++j) {
      const uint8_t* line = src + (size_t)(taps.start[i] + j - first) * len;
      const float wj = w[j];
      for (size_t k = 0; k < len; ++k) acc[k] += wj * line[k];
    }
    uint8_t* d = dst + (size_t)i * len;
    for (size_t k = 0; k < len; ++k) d[k] = to_u8(acc[k]);
  }
}

// The decoded window (rows of ty's range, RGBX pixels, row y at buf + (y − y0)·stride, column x
// at x − x0) → out, CHW: horizontal pass, then vertical, each rounded to uint8 as PIL does. The
// horizontal pass runs on the transposed window, so both passes filter whole lines (the 4th byte
// rides along: whole pixels make the transposes plain 32-bit moves).
void resample(const uint32_t* buf, size_t stride, int x0, int y0, const AxisTaps& tx, const AxisTaps& ty, const JpegCrop& c) {
  const int out_h = c.out_h, out_w = c.out_w;
  const int rows = ty.end - ty.first, cols = tx.end - tx.first;
  uint32_t* columns = scratch(tls.columns, (size_t)cols * rows);
  uint32_t* filtered = scratch(tls.filtered, (size_t)out_w * rows);
  uint32_t* mid = scratch(tls.mid, (size_t)rows * out_w);
  uint32_t* levels = scratch(tls.levels, (size_t)out_h * out_w);
  float* acc = scratch(tls.acc, 4 * (size_t)std::max(rows, out_w));
  transpose_pixels(buf + (size_t)(ty.first - y0) * stride + (tx.first - x0), stride, rows, cols, columns);
  filter_lines(reinterpret_cast<const uint8_t*>(columns), 4 * (size_t)rows, tx.first, tx, out_w, reinterpret_cast<uint8_t*>(filtered), acc);
  transpose_pixels(filtered, rows, out_w, rows, mid);
  filter_lines(reinterpret_cast<const uint8_t*>(mid), 4 * (size_t)out_w, ty.first, ty, out_h, reinterpret_cast<uint8_t*>(levels), acc);
  const size_t plane = (size_t)out_h * out_w;
  for (int y = 0; y < out_h; ++y) {
    for (int ch = 0; ch < 3; ++ch) {
      const uint8_t* src = reinterpret_cast<const uint8_t*>(levels + (size_t)y * out_w) + ch;
      const size_t at = ch * plane + (size_t)y * out_w;
      if (c.out_f) {
        // The augmenter's ToTensor then Normalize, operation for operation, so both give the same bits.
        const float m = c.mean[ch], s = c.std[ch];
        float* dst = c.out_f + at;
        if (c.flip)
          for (int x = 0; x < out_w; ++x) dst[out_w - 1 - x] = ((float)src[4 * x] / 255.f - m) / s;
        else
          for (int x = 0; x < out_w; ++x) dst[x] = ((float)src[4 * x] / 255.f - m) / s;
      } else {
        uint8_t* dst = c.out + at;
        if (c.flip)
          for (int x = 0; x < out_w; ++x) dst[out_w - 1 - x] = src[4 * x];
        else
          for (int x = 0; x < out_w; ++x) dst[x] = src[4 * x];
      }
    }
  }
}

JpegStatus fail(std::string* message, const std::string& why) {
  *message = why;
  return JpegStatus::Failed;
}

JpegStatus decode(Decoder& d, const JpegCrop& c, std::string* message) {
  if (!read_header(d, c.data, c.size)) return fail(message, d.err.message);
  const J_COLOR_SPACE space = d.cinfo.jpeg_color_space;
  if (space != JCS_GRAYSCALE && space != JCS_YCbCr && space != JCS_RGB) return JpegStatus::Unsupported;
  const int W = (int)d.cinfo.image_width, H = (int)d.cinfo.image_height;
  if ((double)W * H > kMaxInputPixels) return fail(message, "the image has more pixels than the limit of 16384x16384");
  constexpr double kSlack = 1e-6;  // fractional centre-crop boxes may touch the edge within rounding
  if (!(c.top >= -kSlack && c.left >= -kSlack && c.top + c.height <= H + kSlack && c.left + c.width <= W + kSlack))
    return fail(message, "the crop box lies outside the " + std::to_string(W) + "x" + std::to_string(H) + " image");
  // Shrink-on-load: the largest DCT scale divisor that keeps the box at least the output size.
  int denom = 8;
  while (denom > 1 && (c.height / denom < c.out_h || c.width / denom < c.out_w)) denom /= 2;
  if (!set_scale(d, denom)) return fail(message, d.err.message);
  const int SW = (int)d.cinfo.output_width, SH = (int)d.cinfo.output_height;
  // In the scaled image, original coordinate v is v / denom (each output pixel is a block of denom²).
  auto clip_lo = [&](double v) { return std::max(0, (int)std::floor(v / denom + kSlack)); };
  auto clip_hi = [&](double v, int size) { return std::min(size, (int)std::ceil(v / denom - kSlack)); };
  const AxisTaps tx = c.clip_to_image
      ? axis_taps(c.left / denom, c.width / c.out_w / denom, c.out_w, 0, SW)
      : axis_taps(c.left / denom, c.width / c.out_w / denom, c.out_w, clip_lo(c.left), clip_hi(c.left + c.width, SW));
  const AxisTaps ty = c.clip_to_image
      ? axis_taps(c.top / denom, c.height / c.out_h / denom, c.out_h, 0, SH)
      : axis_taps(c.top / denom, c.height / c.out_h / denom, c.out_h, clip_lo(c.top), clip_hi(c.top + c.height, SH));
  if (tx.end <= tx.first || ty.end <= ty.first) return fail(message, "the crop box is empty");
  JDIMENSION x0 = (JDIMENSION)tx.first, xw = (JDIMENSION)(tx.end - tx.first);
  const size_t stride = (size_t)SW;  // pixels: room for the widest window libjpeg may widen to
  const int rows = ty.end - ty.first;
  uint32_t* buf = scratch(tls.window, stride * rows);
  if (!decode_rows(d, &x0, &xw, ty.first, rows, buf, stride)) return fail(message, d.err.message);
  resample(buf, stride, (int)x0, ty.first, tx, ty, c);
  return JpegStatus::Ok;
}

}  // namespace

JpegStatus jpeg_decode_crop(const JpegCrop& c, std::string* message) {
  if (c.size < 3 || c.data[0] != 0xff || c.data[1] != 0xd8 || c.data[2] != 0xff) return JpegStatus::Unsupported;
  Decoder d;
  d.cinfo.err = jpeg_std_error(&d.err.pub);
  d.err.pub.error_exit = on_error;
  d.err.pub.emit_message = on_message;
  d.err.message[0] = 0;
  jpeg_create_decompress(&d.cinfo);
  JpegStatus status;
  try {
    status = decode(d, c, message);
  } catch (const std::exception& e) {  // std::bad_alloc for the window
    status = fail(message, e.what());
  }
  jpeg_destroy_decompress(&d.cinfo);
  return status;
}

void jpeg_decode_crops(const JpegCrop* crops, int n, int threads, JpegStatus* status, std::string* messages) {
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
  for (int k = 0; k < n; ++k) status[k] = jpeg_decode_crop(crops[k], &messages[k]);
}

#define CNN_STR2(x) #x
#define CNN_STR(x) CNN_STR2(x)
const char* jpeg_decoder_name() {
#ifdef LIBJPEG_TURBO_VERSION
  return "libjpeg-turbo " CNN_STR(LIBJPEG_TURBO_VERSION);
#else
  return "libjpeg " CNN_STR(JPEG_LIB_VERSION);
#endif
}

}  // namespace cnn
