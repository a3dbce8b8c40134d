// The AVX-512 float kernel of scan.h: 16 queries per vector (scan_kernels.h).
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "scan.h"

#if NS_X86_SIMD
#include <immintrin.h>

#pragma GCC push_options
// GCC 12 reports its own AVX-512 intrinsics (their undefined merge sources) under -Wall: bug 105593.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,f16c")

namespace ns {
namespace scan {
namespace {

struct Isa {
  static constexpr int W = 16;
  static constexpr int NR = 8;
  static constexpr int MaxM = 2;
  using V = __m512;
  static V zero() { return _mm512_setzero_ps(); }
  static V load(const float* p) { return _mm512_loadu_ps(p); }
  static V set1(float x) { return _mm512_set1_ps(x); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static V mul(V a, V b) { return _mm512_mul_ps(a, b); }
  static void store(float* p, V v) { _mm512_storeu_ps(p, v); }
  static uint32_t notLess(V s, V t) { return static_cast<uint32_t>(_mm512_cmp_ps_mask(s, t, _CMP_NLT_UQ)); }
  static void decodeF16(const uint8_t* src, int64_t n, float* dst) {
    int64_t j = 0;
    for (; j + 16 <= n; j += 16) {
      _mm512_storeu_ps(dst + j, _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + 2 * j))));
    }
    if (j < n) {
      const __mmask16 m = static_cast<__mmask16>((1u << (n - j)) - 1);
      _mm512_mask_storeu_ps(dst + j, m, _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, src + 2 * j)));
    }
  }
  static void decodeI8(const int8_t* src, int64_t n, float* dst) {
    int64_t j = 0;
    for (; j + 16 <= n; j += 16) {
      _mm512_storeu_ps(dst + j, _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(
                                    _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + j)))));
    }
    if (j < n) {
      const __mmask16 m = static_cast<__mmask16>((1u << (n - j)) - 1);
      _mm512_mask_storeu_ps(dst + j, m, _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(m, src + j))));
    }
  }
};

#include "scan_kernels.h"

}  // namespace

const FloatKernels kFloatAvx512{Isa::W, scanFloatTiles};

}  // namespace scan
}  // namespace ns

#pragma GCC diagnostic pop
#pragma GCC pop_options
#endif  // NS_X86_SIMD
