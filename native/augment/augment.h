// Batch augmentation on uint8 CHW images: a pipeline of torchvision-style transforms, applied
// per sample on float scratch in [0,1] (tensor semantics), written as float32 NCHW.
// Each sample draws from its own generator seeded with its uint32 seed, so a batch is
// reproducible whatever the thread count. The draw order is the TypeScript reference's
// (src/data/functional.ts, src/data/transforms.ts); keep both in step.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "augment/auto_augment.h"

namespace cnn {

constexpr int kAugMaxChannels = 4;

enum class AugKind {
  RandomCrop,        // pad (explicit, then pad-if-needed), then a random crop
  CenterCrop,        // zero-pads when the crop is larger than the image, as torchvision
  Resize,            // bilinear with antialias (PIL semantics) to a fixed size
  RandomResizedCrop, // torchvision's 10 attempts, center-crop fallback, then Resize
  HorizontalFlip,    // with probability p
  VerticalFlip,
  Rotation,          // uniform angle in degrees, counter-clockwise about the center
  ColorJitter,       // random order per call; brightness, contrast, saturation, hue
  Grayscale,         // with probability p; keeps the channel count
  Normalize,
  Erasing,           // RandomErasing on the (normalized) float image
  AutoAugment,       // AutoAugment / RandAugment / TrivialAugmentWide on the image as uint8
};

enum class ImagePadMode { Constant = 0, Edge = 1, Reflect = 2, Symmetric = 3 };

struct AugOp {
  AugKind kind = AugKind::Normalize;
  double p = 1.0;
  int out_h = 0, out_w = 0;                 // crop / resize target
  int pad_l = 0, pad_t = 0, pad_r = 0, pad_b = 0;
  bool pad_if_needed = false;
  ImagePadMode mode = ImagePadMode::Constant;
  float fill[kAugMaxChannels] = {0, 0, 0, 0}; // in [0,1] image units
  double scale[2] = {0, 0}, ratio[2] = {0, 0}; // RandomResizedCrop / Erasing
  double degrees[2] = {0, 0};
  bool bilinear = false;                     // Rotation interpolation
  bool has_jitter[4] = {false, false, false, false};  // brightness, contrast, saturation, hue
  double jitter[4][2] = {{0, 0}, {0, 0}, {0, 0}, {0, 0}};
  float mean[kAugMaxChannels] = {0, 0, 0, 0}, std[kAugMaxChannels] = {1, 1, 1, 1};
  bool erase_random = false;                 // value 'random': standard normal noise
  float erase_value[kAugMaxChannels] = {0, 0, 0, 0};
  AutoAugmentSpec auto_augment;
};

struct AugPipeline {
  int c = 0, h = 0, w = 0;           // input image shape
  std::vector<AugOp> ops;
  int out_c = 0, out_h = 0, out_w = 0;
  int64_t scratch = 0;               // floats per scratch buffer
};

// Walks the shapes through the ops, fills out_* and scratch; returns an empty string when the
// pipeline is valid for this input, else a message naming the op that cannot apply.
std::string aug_prepare(AugPipeline& p);

// One sample: src (c·h·w uint8) → out (out_c·out_h·out_w float). a, b, t: scratch buffers.
void aug_sample(const AugPipeline& p, const uint8_t* src, uint32_t seed, float* out,
                float* a, float* b, float* t);

// n samples: image k is images + indices[k]·c·h·w; seeds[k] its seed.
void aug_batch(const AugPipeline& p, const uint8_t* images, const int32_t* indices, int n,
               const uint32_t* seeds, float* out, int threads);

}  // namespace cnn
