// Per-category timers for `--profile`: how much of a step the GEMM micro-kernels, the packing of
// GEMM operands and im2col/col2im take. Off by default: a scope then costs one relaxed load.
// Only the thread that turned profiling on is timed (the JS thread, which is thread 0 of every
// OpenMP team it opens): its time inside a category is the step's wall time there when the
// threads are balanced, and summing several threads' overlapping time would double count.
#pragma once
#include <atomic>
#include <chrono>
#include <cstdint>

namespace cnn {

enum class ProfileCategory { GemmKernel = 0, Packing, Im2col, Count };

namespace profile_detail {
extern std::atomic<bool> enabled;
bool timed_thread();
void add(ProfileCategory c, int64_t ns);
}  // namespace profile_detail

// Turns the timers on (timing the calling thread) or off; the totals stay until reset.
void profile_enable(bool on);
// Seconds per category since the last reset, then (when reset) zero again.
void profile_read(double* seconds, bool reset);

class ProfileScope {
 public:
  explicit ProfileScope(ProfileCategory c) : category_(c) {
    if (profile_detail::enabled.load(std::memory_order_relaxed) && profile_detail::timed_thread())
      start_ = std::chrono::steady_clock::now().time_since_epoch().count();
  }
  ~ProfileScope() {
    if (start_ >= 0) profile_detail::add(category_, std::chrono::steady_clock::now().time_since_epoch().count() - start_);
  }
  ProfileScope(const ProfileScope&) = delete;
  ProfileScope& operator=(const ProfileScope&) = delete;

 private:
  ProfileCategory category_;
  int64_t start_ = -1;
};

}  // namespace cnn
