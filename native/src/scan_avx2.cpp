// The AVX2 + FMA + F16C kernels of scan.h: float queries 8 per vector (scan_kernels.h); int8 queries as
// 16-bit pairs multiplied and added in pairs (vpmaddwd), 8 queries per vector, exact integer sums.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "scan.h"

#if NS_X86_SIMD
#include <immintrin.h>

#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")

namespace ns {
namespace scan {
namespace {

struct Isa {
  static constexpr int W = 8;
  static constexpr int NR = 6;
  using V = __m256;
  static V zero() { return _mm256_setzero_ps(); }
  static V load(const float* p) { return _mm256_loadu_ps(p); }
  static V set1(float x) { return _mm256_set1_ps(x); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static V mul(V a, V b) { return _mm256_mul_ps(a, b); }
  static void store(float* p, V v) { _mm256_storeu_ps(p, v); }
  static uint32_t notLess(V s, V t) {
    return static_cast<uint32_t>(_mm256_movemask_ps(_mm256_cmp_ps(s, t, _CMP_NLT_UQ)));
  }
  static constexpr int PanelQueries = 2;
  static constexpr int PanelQ = 2;
  // out[c * 8 + l] = rows[l][k0 + c] for c < count: 8 x 8 in registers.
  static void transpose(const float* const* rows, int64_t k0, int count, float* out) {
    alignas(32) static const int32_t firsts[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
    const __m256i m = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(firsts + 8 - count));
    __m256 r[8], t[8];
#pragma GCC unroll 16
    for (int l = 0; l < 8; ++l) r[l] = _mm256_maskload_ps(rows[l] + k0, m);
#pragma GCC unroll 16
    for (int i = 0; i < 4; ++i) {
      t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
      t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
#pragma GCC unroll 16
    for (int i = 0; i < 2; ++i) {
      r[4 * i] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], 0x44);      // columns 0, 4 of 4 rows
      r[4 * i + 1] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], 0xee);  // 1, 5
      r[4 * i + 2] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0x44);  // 2, 6
      r[4 * i + 3] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0xee);  // 3, 7
    }
#pragma GCC unroll 16
    for (int j = 0; j < 4; ++j) {
      t[j] = _mm256_permute2f128_ps(r[j], r[4 + j], 0x20);      // column j
      t[j + 4] = _mm256_permute2f128_ps(r[j], r[4 + j], 0x31);  // column j + 4
    }
#pragma GCC unroll 16
    for (int c = 0; c < count; ++c) _mm256_storeu_ps(out + c * 8, t[c]);
  }
  static void decodeF16(const uint8_t* src, int64_t n, float* dst) {
    int64_t j = 0;
    for (; j + 8 <= n; j += 8) {
      _mm256_storeu_ps(dst + j, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + 2 * j))));
    }
    for (; j < n; ++j) {
      uint16_t h;
      std::memcpy(&h, src + 2 * j, 2);
      dst[j] = halfToFloat(h);
    }
  }
  static void decodeI8(const int8_t* src, int64_t n, float* dst) {
    int64_t j = 0;
    for (; j + 8 <= n; j += 8) {
      int64_t eight;
      std::memcpy(&eight, src + j, 8);
      _mm256_storeu_ps(dst + j, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_cvtsi64_si128(eight))));
    }
    for (; j < n; ++j) dst[j] = static_cast<float>(src[j]);
  }
};

#include "scan_kernels.h"

// ---- int8 queries: 16-bit pairs ----
// Packed queries: blocks of 8; block b, pair g (components 2g, 2g+1), lane l at ((b * G + g) * 8 + l) * 2
// int16 values, G = ceil(dim / 2), zero-padded. A tile's rows are widened to int16 (padded to 2G).
constexpr int kLanes8 = 8;
constexpr int kRows8 = 4;

int64_t pairsOf(int64_t dim) { return (dim + 1) / 2; }

int64_t packedBytes(int64_t nq, int64_t dim) {
  return (nq + kLanes8 - 1) / kLanes8 * pairsOf(dim) * kLanes8 * 2 * 2;
}

void pack(const int8_t* q8, int64_t nq, int64_t dim, uint8_t* out) {
  const int64_t pairs = pairsOf(dim);
  const int64_t blocks = (nq + kLanes8 - 1) / kLanes8;
  int16_t* o = reinterpret_cast<int16_t*>(out);
  std::fill(o, o + blocks * pairs * kLanes8 * 2, int16_t{0});
  for (int64_t q = 0; q < nq; ++q) {
    const int64_t b = q / kLanes8, l = q % kLanes8;
    for (int64_t j = 0; j < dim; ++j) o[((b * pairs + j / 2) * kLanes8 + l) * 2 + j % 2] = q8[q * dim + j];
  }
}

inline int32_t load32(const int16_t* p) {
  int32_t x;
  std::memcpy(&x, p, 4);
  return x;
}

template <int M>
inline void int8Micro(const Int8Job& job, const int16_t* const* rows, const int32_t* ids, const float* scales,
                      int64_t block, int nvalid, Selection& sel) {
  const int64_t pairs = pairsOf(job.dim);
  const int16_t* q = reinterpret_cast<const int16_t*>(job.packedQueries) + block * pairs * kLanes8 * 2;
  const int16_t* r[kRows8];
#pragma GCC unroll 16
  for (int j = 0; j < kRows8; ++j) r[j] = rows[j];
  __m256i acc[M][kRows8];
#pragma GCC unroll 16
  for (int m = 0; m < M; ++m) {
#pragma GCC unroll 16
    for (int j = 0; j < kRows8; ++j) acc[m][j] = _mm256_setzero_si256();
  }
  for (int64_t g = 0; g < pairs; ++g) {
    __m256i qv[M];
#pragma GCC unroll 16
    for (int m = 0; m < M; ++m) {
      qv[m] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + ((m * pairs + g) * kLanes8) * 2));
    }
#pragma GCC unroll 16
    for (int j = 0; j < kRows8; ++j) {
      const __m256i b = _mm256_set1_epi32(load32(r[j] + 2 * g));
#pragma GCC unroll 16
      for (int m = 0; m < M; ++m) acc[m][j] = _mm256_add_epi32(acc[m][j], _mm256_madd_epi16(qv[m], b));
    }
  }
  // Out of the registers (see floatMicro in scan_kernels.h).
  alignas(32) int32_t dots[M][kRows8][kLanes8];
#pragma GCC unroll 16
  for (int m = 0; m < M; ++m) {
#pragma GCC unroll 16
    for (int j = 0; j < kRows8; ++j) _mm256_store_si256(reinterpret_cast<__m256i*>(dots[m][j]), acc[m][j]);
  }
  const float* thresholds = sel.scoreThresholds();
  for (int m = 0; m < M; ++m) {
    const int64_t blk = block + m;
    const __m256 threshold = _mm256_loadu_ps(thresholds + blk * kLanes8);
    const __m256 qs = _mm256_loadu_ps(job.queryScales + blk * kLanes8);
    const int64_t left = job.nq - blk * kLanes8;
    const uint32_t lanes = left >= kLanes8 ? 0xffu : ((1u << left) - 1);
    for (int j = 0; j < nvalid; ++j) {
      const __m256i dot = _mm256_load_si256(reinterpret_cast<const __m256i*>(dots[m][j]));
      const __m256 s = _mm256_mul_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(dot), qs), _mm256_set1_ps(scales[j]));
      const uint32_t bits = static_cast<uint32_t>(_mm256_movemask_ps(_mm256_cmp_ps(s, threshold, _CMP_NLT_UQ))) & lanes;
      if (bits == 0) continue;
      alignas(32) float out[kLanes8];
      _mm256_store_ps(out, s);
      for (uint32_t rest = bits; rest != 0; rest &= rest - 1) {
        const int lane = __builtin_ctz(rest);
        sel.offerScore(blk * kLanes8 + lane, ids[j], out[lane]);
      }
    }
  }
}

void scanInt8(const Int8Job& job, Selection& sel, int64_t begin, int64_t end) {
  const int64_t dim = job.dim;
  const int64_t width = pairsOf(dim) * 2;
  const int64_t tile = std::max<int64_t>(kRows8, (32768 / (width * 2)) / kRows8 * kRows8);
  std::vector<int16_t> buffer(static_cast<size_t>((tile + kRows8) * width), int16_t{0});
  std::vector<const int16_t*> rows(static_cast<size_t>(tile + kRows8));
  std::vector<int32_t> ids(static_cast<size_t>(tile + kRows8), 0);
  std::vector<float> scales(static_cast<size_t>(tile + kRows8), 0.0f);
  const int64_t blocks = (job.nq + kLanes8 - 1) / kLanes8;
  for (int64_t i = 0; i < tile + kRows8; ++i) rows[static_cast<size_t>(i)] = buffer.data() + i * width;
  for (int64_t t0 = begin; t0 < end; t0 += tile) {
    const int64_t count = std::min(tile, end - t0);
    for (int64_t i = 0; i < count; ++i) {
      const int32_t row = job.rows.at(t0 + i);
      const int8_t* src = job.vectors + static_cast<size_t>(row) * static_cast<size_t>(dim);
      int16_t* dst = buffer.data() + i * width;
      int64_t j = 0;
      for (; j + 16 <= dim; j += 16) {
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + j),
                            _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + j))));
      }
      for (; j < dim; ++j) dst[j] = src[j];
      ids[static_cast<size_t>(i)] = row;
      scales[static_cast<size_t>(i)] = job.rowScales[row];
    }
    for (int64_t b = 0; b < blocks;) {
      const int m = blocks - b >= 2 ? 2 : 1;
      for (int64_t j0 = 0; j0 < count; j0 += kRows8) {
        const int nvalid = static_cast<int>(std::min<int64_t>(kRows8, count - j0));
        const size_t at = static_cast<size_t>(j0);
        if (m == 2) {
          int8Micro<2>(job, rows.data() + at, ids.data() + at, scales.data() + at, b, nvalid, sel);
        } else {
          int8Micro<1>(job, rows.data() + at, ids.data() + at, scales.data() + at, b, nvalid, sel);
        }
      }
      b += m;
    }
  }
}

}  // namespace

const FloatKernels kFloatAvx2{Isa::W, scanFloatTiles};
const Int8Kernels kInt8Avx2{kLanes8, packedBytes, pack, scanInt8};

}  // namespace scan
}  // namespace ns

#pragma GCC pop_options
#endif  // NS_X86_SIMD
