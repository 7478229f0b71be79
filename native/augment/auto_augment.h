// AutoAugment, RandAugment and TrivialAugmentWide on uint8 CHW images: torchvision's op set
// (torchvision/transforms/autoaugment.py _apply_op) with the uint8-tensor semantics of its
// functional ops, and the three ways of choosing ops. The magnitude tables come from the caller
// (src/data/auto-augment.ts builds them as torchvision's _augmentation_space does).
#pragma once
#include <cstdint>
#include <vector>

#include "augment/rng.h"

namespace cnn {

enum class AaOp : int {
  Identity, ShearX, ShearY, TranslateX, TranslateY, Rotate, Brightness, Color, Contrast, Sharpness,
  Posterize, Solarize, AutoContrast, Equalize, Invert,
};
constexpr int kAaOpCount = 15;
// torchvision's op names, indexed by AaOp.
extern const char* const kAaOpNames[kAaOpCount];

// One op of an augmentation space: its magnitude per bin (empty: the op takes none), signed or not.
struct AaSpaceOp {
  AaOp op = AaOp::Identity;
  bool is_signed = false;
  std::vector<double> magnitudes;
};

// One step of an AutoAugment sub-policy: applied with probability p at a fixed magnitude.
struct AaStep {
  AaOp op = AaOp::Identity;
  double p = 0;
  double magnitude = 0;
  bool is_signed = false;
};

enum class AaMode {
  Policy,   // AutoAugment: one sub-policy at random, each step with its probability
  Trivial,  // TrivialAugmentWide: one op, one bin, both uniform
  Rand,     // RandAugment: num_ops ops with replacement at one level (Gaussian noise optional)
};

struct AutoAugmentSpec {
  AaMode mode = AaMode::Trivial;
  std::vector<AaSpaceOp> space;               // Trivial, Rand
  std::vector<std::vector<AaStep>> policies;  // Policy
  int num_ops = 2;                            // Rand
  // Rand: the level as a bin position (may fall between bins), the std of the noise added per
  // application (0: none) and the largest level the noise may reach; the lower bound is 0.
  double level = 0, level_std = 0, level_max = 0;
  bool bilinear = false;
  bool has_fill = false;  // false: torchvision's fill=None (zeros, no mask blend)
  float fill[4] = {0, 0, 0, 0};  // pixel units 0..255
};

struct AaApplied {
  AaOp op;
  double magnitude;
};

// The ops one sample gets, drawn from rng in torchvision's order; returns how many (at most
// `max`, written to out).
int aa_sample(const AutoAugmentSpec& s, Rng& rng, AaApplied* out, int max);

// Most ops one sample can get under this spec (sizes the buffer of aa_sample).
int aa_max_applied(const AutoAugmentSpec& s);

// Round half to even for |v| < 2^22 in the default rounding mode, as std::nearbyint but inline:
// baseline x86-64 has no rounding instruction, and the libm call dominated these kernels.
inline float round_even(float v) {
  const float magic = 12582912.f;  // 1.5 · 2^23: adding it leaves no fraction bits
  return (v + magic) - magic;
}

// One op on a uint8 image (c·h·w, c = 1 or 3) in place; tmp holds c·h·w bytes.
void aa_apply(AaOp op, double magnitude, const AutoAugmentSpec& s, uint8_t* img, int c, int h, int w, uint8_t* tmp);

}  // namespace cnn
