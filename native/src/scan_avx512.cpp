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
  using V = __m512;
  static V zero() { return _mm512_setzero_ps(); }
  static V load(const float* p) { return _mm512_loadu_ps(p); }
  static V set1(float x) { return _mm512_set1_ps(x); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static V mul(V a, V b) { return _mm512_mul_ps(a, b); }
  static void store(float* p, V v) { _mm512_storeu_ps(p, v); }
  static uint32_t notLess(V s, V t) { return static_cast<uint32_t>(_mm512_cmp_ps_mask(s, t, _CMP_NLT_UQ)); }
  static constexpr int PanelQueries = 6;
  static constexpr int PanelQ = 4;
  // out[c * 16 + l] = rows[l][k0 + c] for c < count: 16 x 16 in registers (32-bit, 64-bit, then 128-bit
  // interleaves).
  static void transpose(const float* const* rows, int64_t k0, int count, float* out) {
    const __mmask16 m = static_cast<__mmask16>((1u << count) - 1);
    __m512 r[16], t[16];
#pragma GCC unroll 16
    for (int l = 0; l < 16; ++l) r[l] = _mm512_maskz_loadu_ps(m, rows[l] + k0);
#pragma GCC unroll 16
    for (int i = 0; i < 8; ++i) {
      t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
      t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
#pragma GCC unroll 16
    for (int i = 0; i < 4; ++i) {
      const __m512d a = _mm512_castps_pd(t[4 * i]), b = _mm512_castps_pd(t[4 * i + 1]);
      const __m512d c = _mm512_castps_pd(t[4 * i + 2]), d = _mm512_castps_pd(t[4 * i + 3]);
      r[4 * i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));      // columns 0, 4, 8, 12 of 4 rows
      r[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));  // 1, 5, 9, 13
      r[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));  // 2, 6, 10, 14
      r[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));  // 3, 7, 11, 15
    }
    // r[4i + j]: rows 4i..4i+3, columns j, j+4, j+8, j+12 in its 128-bit lanes.
#pragma GCC unroll 16
    for (int j = 0; j < 4; ++j) {
      t[2 * j] = _mm512_shuffle_f32x4(r[j], r[4 + j], 0x88);          // rows 0-7: columns j, j+8
      t[2 * j + 1] = _mm512_shuffle_f32x4(r[j], r[4 + j], 0xdd);      // rows 0-7: columns j+4, j+12
      t[8 + 2 * j] = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0x88);  // rows 8-15
      t[8 + 2 * j + 1] = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0xdd);
    }
#pragma GCC unroll 16
    for (int j = 0; j < 4; ++j) {
      r[j] = _mm512_shuffle_f32x4(t[2 * j], t[8 + 2 * j], 0x88);            // column j
      r[j + 8] = _mm512_shuffle_f32x4(t[2 * j], t[8 + 2 * j], 0xdd);        // column j + 8
      r[j + 4] = _mm512_shuffle_f32x4(t[2 * j + 1], t[8 + 2 * j + 1], 0x88);  // column j + 4
      r[j + 12] = _mm512_shuffle_f32x4(t[2 * j + 1], t[8 + 2 * j + 1], 0xdd);
    }
#pragma GCC unroll 16
    for (int c = 0; c < count; ++c) _mm512_storeu_ps(out + c * 16, r[c]);
  }
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
