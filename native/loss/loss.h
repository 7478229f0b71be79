// Classification losses over logits (N, C) with integer class targets.
#pragma once
#include <cstdint>

namespace cnn {

enum class Reduction { None = 0, Mean = 1, Sum = 2 };

struct CrossEntropyParams {
  int64_t n, c;
  const int32_t* target;  // each in [0, c) or == ignore_index (checked by the caller)
  const float* weight;    // per-class weights (c) or null
  double label_smoothing;
  int64_t ignore_index;
  Reduction reduction;
};

// torch.nn.functional.cross_entropy: fused log-softmax + NLL with label smoothing, as
// (1-ε)·nll + ε/C·smooth, where smooth_i = -Σ_c w_c·logp_ic (0 on ignored rows). Mean divides
// both by Σ w[target] over non-ignored rows (their count without weights). out has n elements for None, else 1. lse (n) keeps each row's
// log-sum-exp for the backward pass.
void cross_entropy_forward(const CrossEntropyParams& p, const float* logits, float* out,
                           float* lse, int threads);
// dlogits from the upstream gradient (n elements for None, else 1).
void cross_entropy_backward(const CrossEntropyParams& p, const float* logits, const float* lse,
                            const float* grad_out, float* dlogits, int threads);

// torch.nn.functional.nll_loss over log-probabilities (N, C); same reductions and weights.
void nll_loss_forward(const CrossEntropyParams& p, const float* logp, float* out);
void nll_loss_backward(const CrossEntropyParams& p, const float* grad_out, float* dlogp);

// Rows whose target is among the k largest logits (ranks by the count of strictly larger
// logits, so ties count in the target's favour). NaN logits never count as correct.
int64_t accuracy_top_k(const float* logits, int64_t n, int64_t c, const int32_t* target,
                       int64_t k, int threads);

}  // namespace cnn
