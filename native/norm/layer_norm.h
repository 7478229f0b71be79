// Layer and group normalization (per-sample statistics, biased variance, no running stats).
#pragma once
#include <cstdint>

namespace cnn {

// x viewed as (outer, d, inner): each (o, i) is normalized over its d values. inner == 1 is
// F.layer_norm over the trailing dims (d = their product, weight/bias indexed by d); inner > 1
// is ConvNeXt's LayerNorm2d over the channels of NCHW (outer N, d C, inner H·W). weight and
// bias (d values) may be null. mean and rstd = 1/sqrt(var + eps) get outer·inner values.
void layer_norm_forward(const float* x, const float* weight, const float* bias, float* y,
                        float* mean, float* rstd, int64_t outer, int64_t d, int64_t inner,
                        double eps, int threads);
// dx, dweight, dbias may be null; dweight/dbias are overwritten, not accumulated into.
void layer_norm_backward(const float* x, const float* dy, const float* weight, const float* mean,
                         const float* rstd, float* dx, float* dweight, float* dbias,
                         int64_t outer, int64_t d, int64_t inner, int threads);

// x (n, c, s) in `groups` groups of c/groups channels: each (sample, group) is normalized over
// its (c/groups)·s values, then scaled and shifted per channel. mean/rstd get n·groups values.
void group_norm_forward(const float* x, const float* weight, const float* bias, float* y,
                        float* mean, float* rstd, int64_t n, int64_t c, int64_t s, int64_t groups,
                        double eps, int threads);
void group_norm_backward(const float* x, const float* dy, const float* weight, const float* mean,
                         const float* rstd, float* dx, float* dweight, float* dbias, int64_t n,
                         int64_t c, int64_t s, int64_t groups, int threads);

}  // namespace cnn
