// How much of a streaming loop's speed a second thread adds, from data in cache to data in main
// memory (the bound on scaling the memory-bound parts of a training step: Adam, BatchNorm, the
// activations read back in backward): g++ -O3 -march=native -fopenmp bench/memory-bandwidth.cc -o /tmp/memory-bandwidth && /tmp/memory-bandwidth
// Each size runs y = 1.5·x + y (two streams read, one written) at 1 and 2 threads in turns,
// keeping each one's best; GB/s counts the three streams.
#include <omp.h>

#include <algorithm>
#include <cstdio>
#include <vector>

int main() {
  for (long floats : {1L << 17, 1L << 19, 1L << 21, 1L << 22, 1L << 23, 1L << 25, 1L << 27}) {
    std::vector<float> x(floats, 1.0f), y(floats, 0.0f);
    const int rounds = floats >= (1L << 25) ? 10 : 100;
    double best[3] = {1e9, 1e9, 1e9};
    for (int r = 0; r < rounds; ++r)
      for (int threads : {1, 2}) {
        const double start = omp_get_wtime();
#pragma omp parallel for num_threads(threads) schedule(static)
        for (long i = 0; i < floats; ++i) y[i] = 1.5f * x[i] + y[i];
        best[threads] = std::min(best[threads], omp_get_wtime() - start);
      }
    const double bytes = 3.0 * 4 * floats;
    std::printf("%8.1f MB a stream: 1 thread %6.1f GB/s, 2 threads %6.1f GB/s (%.2fx)\n", 4.0 * floats / 1e6,
                bytes / best[1] / 1e9, bytes / best[2] / 1e9, best[1] / best[2]);
  }
}
