// Process-wide allocator settings for tensor memory.
#pragma once

namespace cnn {

// Tensors are large, short-lived typed arrays. glibc would serve each from a fresh mmap and
// hand it back on free, so every op paid page faults on its output; keeping them in the heap
// (up to 256 MiB each) makes a LeNet training step about 20% faster. No-op off glibc.
void keep_tensor_memory_in_heap();

}  // namespace cnn
