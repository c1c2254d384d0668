/* workloads.h: the bench's items (W3's costs, W4's inputs), the same in every C program. */
#ifndef PPOOL_BENCH_WORKLOADS_H
#define PPOOL_BENCH_WORKLOADS_H
#include <stddef.h>
#include <stdint.h>

/* splitmix64: the next number of the sequence whose state is *s. */
static inline uint64_t bench_splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* W3 (imbalanced): n/10 items of 10 ms, the rest 0.2 ms, in a fixed order (Fisher-Yates driven by
 * splitmix64 seeded 42, as mp_pool.py's w3_costs). Writes ms[0..n) and returns their sum. */
static inline double bench_w3_costs(double *ms, size_t n)
{
    double total = 0;
    for (size_t i = 0; i < n; i++) ms[i] = i < n / 10 ? 10.0 : 0.2;
    uint64_t s = 42;
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)(bench_splitmix64(&s) % i);
        double t = ms[i - 1];
        ms[i - 1] = ms[j];
        ms[j] = t;
    }
    for (size_t i = 0; i < n; i++) total += ms[i];
    return total;
}

/* W3ramp (the first W3): item i costs 2 ms * i / n, 1 ms on average. */
static inline double bench_w3ramp_ms(size_t i, size_t n)
{
    return 2.0 * (double)i / (double)n;
}

/* W4's item i: distinct 1 MiB, word k is splitmix64's finaliser of (i, k). */
static inline void bench_fill_w4(uint64_t *w, size_t i, size_t words)
{
    for (size_t k = 0; k < words; k++) {
        uint64_t z = ((uint64_t)i << 20 | k) * 0x9e3779b97f4a7c15u;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
        w[k] = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    }
}

/* W4's result: the sum of the item's 64-bit words. */
static inline uint64_t bench_sum64(const void *p, size_t len)
{
    const uint64_t *w = p;
    uint64_t s = 0;
    for (size_t i = 0; i < len / sizeof *w; i++) s += w[i];
    return s;
}
#endif
