// Hamming distances of one query code against a block of gallery codes (popcount of the XOR), for the
// exact k-NN kernels (knn.cpp, scan.cpp). Portable, popcnt and AVX-512 VPOPCNTDQ kernels, chosen at run
// time; all give the same integers.
#pragma once

#include <cstdint>

#include "simd.h"

namespace ns {

// out[j] = popcount(q xor g[j]) for the `count` codes of `bytes` bytes each that start at g.
using HammingBlock = void (*)(const uint8_t* q, const uint8_t* g, int64_t count, int64_t bytes, int32_t* out);

struct HammingKernel {
  HammingBlock fn;
  const char* name;  // "avx512-vpopcntdq", "popcnt" or "portable"
};

// The fastest kernel this CPU runs (evaluation's k-NN).
const HammingKernel& bestHammingKernel();
// The kernel of a SIMD level (simdLevelSupported(level) must hold): scalar -> portable, avx2 -> popcnt,
// avx512 and up -> AVX-512 VPOPCNTDQ where the CPU has it, else popcnt.
HammingKernel hammingKernelFor(SimdLevel level);

}  // namespace ns
