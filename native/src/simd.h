// Which SIMD instruction sets this CPU runs, for the kernels that dispatch at run time (hamming.cpp,
// scan*.cpp). The levels are ordered: each one's kernels need the CPU features listed.
//
// The x86 kernels use target attributes, intrinsics and __builtin_cpu_supports; elsewhere (aarch64) only
// the scalar kernels exist. -DNORMSOFTMAX_NO_X86_SIMD selects the scalar kernels on x86 too, so that
// that build can be tested there.
#pragma once

#include <cstdint>

#if (defined(__x86_64__) || defined(_M_X64)) && !defined(NORMSOFTMAX_NO_X86_SIMD)
#define NS_X86_SIMD 1
#else
#define NS_X86_SIMD 0
#endif

namespace ns {

enum class SimdLevel : int {
  Scalar = 0,      // portable C++ (and the reference the others must equal)
  Avx2 = 1,        // AVX2 + FMA + F16C
  Avx512 = 2,      // AVX-512 F/BW/VL/DQ, with Avx2's features
  Avx512Vnni = 3,  // Avx512 + AVX-512 VNNI
};
constexpr int kSimdLevels = 4;

const char* simdLevelName(SimdLevel level);
bool simdLevelSupported(SimdLevel level);
SimdLevel bestSimdLevel();

}  // namespace ns
