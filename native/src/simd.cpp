// CPU feature detection for the dispatching kernels (simd.h).
#include "simd.h"

namespace ns {

namespace {

bool detect(SimdLevel level) {
  if (level == SimdLevel::Scalar) return true;
#if NS_X86_SIMD
  __builtin_cpu_init();
  const bool avx2 =
      __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
  if (level == SimdLevel::Avx2) return avx2;
  const bool avx512 = avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
  if (level == SimdLevel::Avx512) return avx512;
  if (level == SimdLevel::Avx512Vnni) return avx512 && __builtin_cpu_supports("avx512vnni");
#endif
  return false;
}

struct Support {
  bool levels[kSimdLevels];
  Support() {
    for (int i = 0; i < kSimdLevels; ++i) levels[i] = detect(static_cast<SimdLevel>(i));
  }
};

const Support& support() {
  static const Support s;
  return s;
}

}  // namespace

const char* simdLevelName(SimdLevel level) {
  switch (level) {
    case SimdLevel::Scalar:
      return "scalar";
    case SimdLevel::Avx2:
      return "avx2";
    case SimdLevel::Avx512:
      return "avx512";
    case SimdLevel::Avx512Vnni:
      return "avx512-vnni";
  }
  return "unknown";
}

bool simdLevelSupported(SimdLevel level) {
  const int i = static_cast<int>(level);
  return i >= 0 && i < kSimdLevels && support().levels[i];
}

SimdLevel bestSimdLevel() {
  for (int i = kSimdLevels - 1; i > 0; --i) {
    if (support().levels[i]) return static_cast<SimdLevel>(i);
  }
  return SimdLevel::Scalar;
}

}  // namespace ns
