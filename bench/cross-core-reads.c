// What a hand-off between the cores costs (issue 13's scaling): one thread writes a buffer, then
// either the same thread or the other one reads it back, one float a cache line. A training step
// hands every tensor on this way where consecutive kernels split their work differently
// (BatchNorm by channels, the convolutions by images), so about half of it comes from the other
// core's cache. On a virtual machine the answer depends on where the host put the two vCPUs:
// sharing an L3 the other core reads as fast as the writer, across L3s (through the IO die) at
// ~20 GB/s; run it a few times. Keeps each case's best of 30.
//   gcc -O2 -fopenmp bench/cross-core-reads.c -o /tmp/cross-core-reads && OMP_PROC_BIND=spread /tmp/cross-core-reads
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(void) {
  if (omp_get_num_procs() < 2) {
    fprintf(stderr, "cross-core-reads: needs 2 CPUs\n");
    return 1;
  }
  volatile float sink = 0.0f;
  for (long mb = 1; mb <= 16; mb *= 2) {
    const long n = mb * 1024 * 1024 / sizeof(float);
    float* a = aligned_alloc(64, n * sizeof(float));
    memset(a, 0, n * sizeof(float));
    double best[2] = {1e9, 1e9};  // [0]: the writer reads; [1]: the other thread reads
    for (int round = 0; round < 30; ++round)
      for (int other = 0; other < 2; ++other) {
        double seconds = 0.0;
#pragma omp parallel num_threads(2)
        {
          const int me = omp_get_thread_num();
          if (me == 0)
            for (long i = 0; i < n; ++i) a[i] = (float)i * 0.5f + (float)round;
#pragma omp barrier
          if (me == other) {
            const double t0 = now();
            float s = 0.0f;
            for (long i = 0; i < n; i += 16) s += a[i];
            sink = s;
            seconds = now() - t0;
          }
        }
        if (seconds < best[other]) best[other] = seconds;
      }
    printf("%3ld MB: the writer reads it in %.3f ms (%.1f GB/s), the other core in %.3f ms (%.1f GB/s): %.2fx\n", mb,
           best[0] * 1e3, mb / 1024.0 / best[0], best[1] * 1e3, mb / 1024.0 / best[1], best[1] / best[0]);
    free(a);
  }
  (void)sink;
  return 0;
}
