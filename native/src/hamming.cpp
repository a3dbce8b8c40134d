// Hamming distance kernels (hamming.h).
#include "hamming.h"

#include <cstring>

#if NS_X86_SIMD
#include <immintrin.h>
#endif

namespace ns {
namespace {

void hammingBlockPortable(const uint8_t* q, const uint8_t* g, int64_t count, int64_t bytes, int32_t* out) {
  for (int64_t j = 0; j < count; ++j, g += bytes) {
    int32_t d = 0;
    int64_t b = 0;
    for (; b + 8 <= bytes; b += 8) {
      uint64_t x, y;
      std::memcpy(&x, q + b, 8);
      std::memcpy(&y, g + b, 8);
      d += __builtin_popcountll(x ^ y);
    }
    for (; b < bytes; ++b) d += __builtin_popcount(static_cast<unsigned>(q[b] ^ g[b]));
    out[j] = d;
  }
}

#if NS_X86_SIMD
__attribute__((target("popcnt"))) void hammingBlockPopcnt(const uint8_t* q, const uint8_t* g, int64_t count,
                                                           int64_t bytes, int32_t* out) {
  for (int64_t j = 0; j < count; ++j, g += bytes) {
    uint64_t d0 = 0, d1 = 0;
    int64_t b = 0;
    for (; b + 16 <= bytes; b += 16) {
      uint64_t x0, y0, x1, y1;
      std::memcpy(&x0, q + b, 8);
      std::memcpy(&y0, g + b, 8);
      std::memcpy(&x1, q + b + 8, 8);
      std::memcpy(&y1, g + b + 8, 8);
      d0 += static_cast<uint64_t>(__builtin_popcountll(x0 ^ y0));
      d1 += static_cast<uint64_t>(__builtin_popcountll(x1 ^ y1));
    }
    for (; b < bytes; ++b) d0 += static_cast<uint64_t>(__builtin_popcount(static_cast<unsigned>(q[b] ^ g[b])));
    out[j] = static_cast<int32_t>(d0 + d1);
  }
}

// AVX-512 VPOPCNTDQ: 64 bytes per instruction; four gallery codes at a time share the query loads
// and one horizontal reduction each.
__attribute__((target("avx512f,avx512bw,avx512vpopcntdq"))) void hammingBlockAvx512(const uint8_t* q,
                                                                                       const uint8_t* g,
                                                                                       int64_t count, int64_t bytes,
                                                                                       int32_t* out) {
  const int64_t full = bytes / 64;
  const int64_t tail = bytes % 64;
  const __mmask64 tailMask = tail == 0 ? 0 : (~0ULL >> (64 - tail));
  int64_t j = 0;
  for (; j + 4 <= count; j += 4) {
    const uint8_t* g0 = g + (j + 0) * bytes;
    const uint8_t* g1 = g + (j + 1) * bytes;
    const uint8_t* g2 = g + (j + 2) * bytes;
    const uint8_t* g3 = g + (j + 3) * bytes;
    __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
    for (int64_t c = 0; c < full; ++c) {
      const __m512i x = _mm512_loadu_si512(q + c * 64);
      a0 = _mm512_add_epi64(a0, _mm512_popcnt_epi64(_mm512_xor_si512(x, _mm512_loadu_si512(g0 + c * 64))));
      a1 = _mm512_add_epi64(a1, _mm512_popcnt_epi64(_mm512_xor_si512(x, _mm512_loadu_si512(g1 + c * 64))));
      a2 = _mm512_add_epi64(a2, _mm512_popcnt_epi64(_mm512_xor_si512(x, _mm512_loadu_si512(g2 + c * 64))));
      a3 = _mm512_add_epi64(a3, _mm512_popcnt_epi64(_mm512_xor_si512(x, _mm512_loadu_si512(g3 + c * 64))));
    }
    if (tail != 0) {
      const int64_t o = full * 64;
      const __m512i x = _mm512_maskz_loadu_epi8(tailMask, q + o);
      a0 = _mm512_add_epi64(a0, _mm512_popcnt_epi64(_mm512_xor_si512(x, _mm512_maskz_loadu_epi8(tailMask, g0 + o))));
      a1 = _mm512_add_epi64(a1, _mm512_popcnt_epi64(_mm512_xor_si512(x, _mm512_maskz_loadu_epi8(tailMask, g1 + o))));
      a2 = _mm512_add_epi64(a2, _mm512_popcnt_epi64(_mm512_xor_si512(x, _mm512_maskz_loadu_epi8(tailMask, g2 + o))));
      a3 = _mm512_add_epi64(a3, _mm512_popcnt_epi64(_mm512_xor_si512(x, _mm512_maskz_loadu_epi8(tailMask, g3 + o))));
    }
    out[j + 0] = static_cast<int32_t>(_mm512_reduce_add_epi64(a0));
    out[j + 1] = static_cast<int32_t>(_mm512_reduce_add_epi64(a1));
    out[j + 2] = static_cast<int32_t>(_mm512_reduce_add_epi64(a2));
    out[j + 3] = static_cast<int32_t>(_mm512_reduce_add_epi64(a3));
  }
  for (; j < count; ++j) {
    const uint8_t* gj = g + j * bytes;
    __m512i a = _mm512_setzero_si512();
    for (int64_t c = 0; c < full; ++c) {
      a = _mm512_add_epi64(
          a, _mm512_popcnt_epi64(_mm512_xor_si512(_mm512_loadu_si512(q + c * 64), _mm512_loadu_si512(gj + c * 64))));
    }
    if (tail != 0) {
      const int64_t o = full * 64;
      a = _mm512_add_epi64(a, _mm512_popcnt_epi64(_mm512_xor_si512(_mm512_maskz_loadu_epi8(tailMask, q + o),
                                                                   _mm512_maskz_loadu_epi8(tailMask, gj + o))));
    }
    out[j] = static_cast<int32_t>(_mm512_reduce_add_epi64(a));
  }
}

bool hasVpopcntdq() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vpopcntdq");
}

HammingKernel pickHammingBlock() {
  __builtin_cpu_init();
  if (hasVpopcntdq()) return {hammingBlockAvx512, "avx512-vpopcntdq"};
  if (__builtin_cpu_supports("popcnt")) return {hammingBlockPopcnt, "popcnt"};
  return {hammingBlockPortable, "portable"};
}
#else
HammingKernel pickHammingBlock() { return {hammingBlockPortable, "portable"}; }
#endif  // NS_X86_SIMD

}  // namespace

const HammingKernel& bestHammingKernel() {
  static const HammingKernel best = pickHammingBlock();
  return best;
}

HammingKernel hammingKernelFor(SimdLevel level) {
#if NS_X86_SIMD
  if (level >= SimdLevel::Avx512 && hasVpopcntdq()) return {hammingBlockAvx512, "avx512-vpopcntdq"};
  if (level >= SimdLevel::Avx2) return {hammingBlockPopcnt, "popcnt"};
#endif
  return {hammingBlockPortable, "portable"};
}

}  // namespace ns
