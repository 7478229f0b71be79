// The MPI world of one training job, as plain C++ over MPI (no Node headers): initialise once,
// all-reduce sums in place (blocking or not), broadcast from a root, abort the whole job.
// Every call comes from one thread (MPI_THREAD_FUNNELED); the kernels' OpenMP teams never call MPI.
#pragma once
#include <cstdint>
#include <string>

namespace cnn::dist {

struct WorldInfo {
  int rank, size;
  // Ranks on this node: the kernels' threads divide this node's cores between them.
  int local_rank, local_size;
  // The MPI_THREAD_* level the library provided.
  int thread_level;
};

// The library's own version string; callable before init.
std::string library_version();
// "single", "funneled", "serialized" or "multiple".
const char* thread_level_name(int level);
bool is_initialized();
// MPI_Init_thread asking for FUNNELED; throws std::runtime_error if the library gives less.
WorldInfo init();
WorldInfo info();

// In place, element-wise sum over all ranks.
void allreduce_sum(float* buf, int64_t n);
void allreduce_sum(double* buf, int64_t n);
// Starts a non-blocking in-place sum; returns a handle for test/wait. The buffer must stay
// untouched until the handle completes.
int iallreduce_sum(float* buf, int64_t n);
// True when the operation is done (the handle is then free); also drives MPI's progress.
bool test(int handle);
void wait(int handle);
void broadcast(float* buf, int64_t n, int root);
void broadcast(double* buf, int64_t n, int root);
void barrier();
[[noreturn]] void abort_job(int code);
void finalize();

}  // namespace cnn::dist
