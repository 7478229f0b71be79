// What the kernel test files share: the pass/fail counters, random inputs and the comparison.
#pragma once
#include <random>
#include <string>
#include <vector>

#include "cpu/cpu.h"

extern int g_pass, g_fail;

std::vector<float> random_vec(size_t n, std::mt19937& rng);
// Fails (one line) at the first element outside atol + rtol·|want|.
void check_close(const std::string& name, const std::vector<float>& got, const std::vector<float>& want, float atol, float rtol);
// |v| per element: a reference run over absolute values gives the sum that scales a rounding bound.
std::vector<float> abs_of(const std::vector<float>& v);
// The largest |got − want| in float epsilons of scale, per element; NaN is the worst.
double worst_eps_units(const std::vector<float>& got, const std::vector<float>& want, const std::vector<float>& scale);
// Fails (one line) where worst_eps_units exceeds limit.
double check_eps_units(const std::string& name, const std::vector<float>& got, const std::vector<float>& want,
                       const std::vector<float>& scale, double limit);

// The vector pooling loops of one ISA against the direct loops (pool_kernels_test.cc).
void test_pool_vectors(cnn::Isa isa);
void test_adaptive_avg_vectors(cnn::Isa isa);
// The optimizer loops of one ISA (the active one) against the scalar update rules (optim_kernels_test.cc).
void test_optim_vectors(cnn::Isa isa, std::mt19937& rng);
// Batch normalization's per-channel and channel-blocked loops against the formulas (norm_kernels_test.cc).
void test_batch_norm_paths(std::mt19937& rng);
// for_each_share runs every item once, at every team size and nested (work_split_test.cc).
void test_work_split();
// Broadcast binary ops against an index loop (eltwise_kernels_test.cc).
void test_binary_broadcast(std::mt19937& rng);
// The active ISA's dropout masks against counter_uint32 (dropout_kernels_test.cc).
void test_dropout_masks(cnn::Isa isa);
// The fused inverted residual block against its layers one by one, on the active ISA (inverted_residual_test.cc).
void test_inverted_residual(cnn::Isa isa);
// ConvNeXt's fused block tail against its layers in double precision.
void test_convnext_mlp(cnn::Isa isa);
// The few-input-channel forward loops on the active ISA against conv2d_ref (few_channels_test.cc).
void test_few_channels(cnn::Isa isa);
// im2col/col2im_add on the active ISA against index loops (columns_kernels_test.cc).
void test_columns(cnn::Isa isa, std::mt19937& rng);
// Winograd F(4×4, 3×3) on the active ISA against conv2d_ref (winograd_kernels_test.cc).
void test_winograd(cnn::Isa isa, std::mt19937& rng);
void test_winograd_input_gradient(cnn::Isa isa, std::mt19937& rng);
// The dynamically split convolution passes: the 1-thread bits at 2 and 3 threads (conv_split_test.cc).
void test_conv_dynamic_split(cnn::Isa isa);
// The dense map of whole images on the active ISA against conv2d_ref, and its shape choice (dense_map_test.cc).
void test_dense_map(cnn::Isa isa);
// Issue 16's layer kernels (layer_kernels_test.cc).
void test_layer_kernels(std::mt19937& rng);
// linear_chain_forward on one ISA against gemm_ref and the unfused layers (small_linear_test.cc).
void test_linear_chain(cnn::Isa isa, std::mt19937& rng);
// linear_backward on one ISA against gemm_ref and the unfused calls (small_linear_test.cc).
void test_linear_backward(cnn::Isa isa, std::mt19937& rng);
// DenseNet's eval layer on tiny maps on the active ISA against its layers through conv2d_ref (dense_layer_test.cc).
void test_dense_layer(cnn::Isa isa);
// small_net_forward on one ISA (the active one) against the layers' own calls and the references (small_net_test.cc).
void test_small_net(cnn::Isa isa);
// max_pool_pairs_backward on the active ISA against max_pool_backward (pool_pairs_test.cc).
void test_max_pool_pairs_backward(cnn::Isa isa);
