// The AVX-512 VNNI kernel of scan.h for int8 queries against i8 rows: vpdpbusd multiplies 4 unsigned
// bytes by 4 signed bytes and adds them into each 32-bit lane, 16 queries per vector. The queries are
// made unsigned (q8 + 128) and the rows stay signed as stored, so
//   sum (q8 + 128) v = dot8 + 128 * sum v,
// and each row's sum is taken once per tile. All in exact integers.
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
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma")

namespace ns {
namespace scan {
namespace {

constexpr int kLanes = 16;
constexpr int kRows = 8;

// Packed queries: blocks of 16; block b, group g (components 4g .. 4g+3), lane l at
// ((b * G + g) * 16 + l) * 4 bytes, G = ceil(dim / 4); padding is 128 (a zero query component).
int64_t groupsOf(int64_t dim) { return (dim + 3) / 4; }

int64_t packedBytes(int64_t nq, int64_t dim) { return (nq + kLanes - 1) / kLanes * groupsOf(dim) * kLanes * 4; }

void pack(const int8_t* q8, int64_t nq, int64_t dim, uint8_t* out) {
  const int64_t groups = groupsOf(dim);
  const int64_t blocks = (nq + kLanes - 1) / kLanes;
  std::fill(out, out + blocks * groups * kLanes * 4, uint8_t{128});
  for (int64_t q = 0; q < nq; ++q) {
    const int64_t b = q / kLanes, l = q % kLanes;
    for (int64_t j = 0; j < dim; ++j) {
      out[((b * groups + j / 4) * kLanes + l) * 4 + j % 4] = static_cast<uint8_t>(q8[q * dim + j] + 128);
    }
  }
}

// Bytes 4g .. 4g+3 of a row as one 32-bit lane value.
inline int32_t load4(const int8_t* p) {
  int32_t x;
  std::memcpy(&x, p, 4);
  return x;
}

// The last 1 to 3 bytes of a row, the rest zero.
inline int32_t loadTail(const int8_t* p, int64_t bytes) {
  int32_t x = 0;
  std::memcpy(&x, p, static_cast<size_t>(bytes));
  return x;
}

int32_t rowSum(const int8_t* v, int64_t dim) {
  // sad against zero sums unsigned bytes: v ^ 0x80 = v + 128.
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
  __m512i acc = _mm512_setzero_si512();
  int64_t j = 0;
  int64_t counted = 0;
  for (; j + 64 <= dim; j += 64, counted += 64) {
    acc = _mm512_add_epi64(acc, _mm512_sad_epu8(_mm512_xor_si512(_mm512_loadu_si512(v + j), flip),
                                                _mm512_setzero_si512()));
  }
  if (j < dim) {
    const __mmask64 m = ~0ULL >> (64 - (dim - j));
    acc = _mm512_add_epi64(acc, _mm512_sad_epu8(_mm512_maskz_mov_epi8(m, _mm512_xor_si512(
                                                                              _mm512_maskz_loadu_epi8(m, v + j), flip)),
                                                _mm512_setzero_si512()));
    counted += dim - j;
  }
  alignas(64) int64_t lanes[8];
  _mm512_store_si512(lanes, acc);
  int64_t sum = 0;
  for (int64_t x : lanes) sum += x;
  return static_cast<int32_t>(sum - 128 * counted);
}

template <int M>
inline void int8Micro(const Int8Job& job, const int8_t* const* rows, const int32_t* ids, const int32_t* sums,
                      const float* scales, int64_t block, int nvalid, Selection& sel) {
  const int64_t dim = job.dim;
  const int64_t groups = groupsOf(dim);
  const int64_t full = dim / 4;
  const uint8_t* q = job.packedQueries + block * groups * kLanes * 4;
  const int8_t* r[kRows];
#pragma GCC unroll 16
  for (int j = 0; j < kRows; ++j) r[j] = rows[j];
  __m512i acc[M][kRows];
#pragma GCC unroll 16
  for (int m = 0; m < M; ++m) {
#pragma GCC unroll 16
    for (int j = 0; j < kRows; ++j) acc[m][j] = _mm512_setzero_si512();
  }
  // Full groups of 4 components, then the last partial one (its missing bytes are zero).
  for (int64_t g = 0; g < groups; ++g) {
    const int64_t bytes = g < full ? 4 : dim - 4 * g;
    __m512i qv[M];
#pragma GCC unroll 16
    for (int m = 0; m < M; ++m) qv[m] = _mm512_loadu_si512(q + ((m * groups + g) * kLanes) * 4);
#pragma GCC unroll 16
    for (int j = 0; j < kRows; ++j) {
      const __m512i b = _mm512_set1_epi32(bytes == 4 ? load4(r[j] + 4 * g) : loadTail(r[j] + 4 * g, bytes));
#pragma GCC unroll 16
      for (int m = 0; m < M; ++m) acc[m][j] = _mm512_dpbusd_epi32(acc[m][j], qv[m], b);
    }
  }
  // Out of the registers (see floatMicro in scan_kernels.h).
  alignas(64) int32_t dots[M][kRows][kLanes];
#pragma GCC unroll 16
  for (int m = 0; m < M; ++m) {
#pragma GCC unroll 16
    for (int j = 0; j < kRows; ++j) _mm512_store_si512(dots[m][j], acc[m][j]);
  }
  const float* thresholds = sel.scoreThresholds();
  for (int m = 0; m < M; ++m) {
    const int64_t blk = block + m;
    const __m512 threshold = _mm512_loadu_ps(thresholds + blk * kLanes);
    const __m512 qs = _mm512_loadu_ps(job.queryScales + blk * kLanes);
    const int64_t left = job.nq - blk * kLanes;
    const uint32_t lanes = left >= kLanes ? 0xffffu : ((1u << left) - 1);
    for (int j = 0; j < nvalid; ++j) {
      const __m512i dot = _mm512_sub_epi32(_mm512_load_si512(dots[m][j]), _mm512_set1_epi32(128 * sums[j]));
      const __m512 s = _mm512_mul_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(dot), qs), _mm512_set1_ps(scales[j]));
      const uint32_t bits = static_cast<uint32_t>(_mm512_cmp_ps_mask(s, threshold, _CMP_NLT_UQ)) & lanes;
      if (bits == 0) continue;
      alignas(64) float out[kLanes];
      _mm512_store_ps(out, s);
      for (uint32_t rest = bits; rest != 0; rest &= rest - 1) {
        const int lane = __builtin_ctz(rest);
        sel.offerScore(blk * kLanes + lane, ids[j], out[lane]);
      }
    }
  }
}

void scanInt8(const Int8Job& job, Selection& sel, int64_t begin, int64_t end) {
  const int64_t dim = job.dim;
  const int64_t tile = std::max<int64_t>(kRows, (32768 / dim) / kRows * kRows);
  std::vector<int8_t> zeros(static_cast<size_t>(dim), 0);
  std::vector<const int8_t*> rows(static_cast<size_t>(tile + kRows), zeros.data());
  std::vector<int32_t> ids(static_cast<size_t>(tile + kRows), 0);
  std::vector<int32_t> sums(static_cast<size_t>(tile + kRows), 0);
  std::vector<float> scales(static_cast<size_t>(tile + kRows), 0.0f);
  const int64_t blocks = (job.nq + kLanes - 1) / kLanes;
  for (int64_t t0 = begin; t0 < end; t0 += tile) {
    const int64_t count = std::min(tile, end - t0);
    for (int64_t i = 0; i < count; ++i) {
      const int32_t row = job.rows.at(t0 + i);
      const int8_t* v = job.vectors + static_cast<size_t>(row) * static_cast<size_t>(dim);
      rows[static_cast<size_t>(i)] = v;
      ids[static_cast<size_t>(i)] = row;
      sums[static_cast<size_t>(i)] = rowSum(v, dim);
      scales[static_cast<size_t>(i)] = job.rowScales[row];
    }
    for (int64_t i = count; i < count + kRows; ++i) rows[static_cast<size_t>(i)] = zeros.data();
    for (int64_t b = 0; b < blocks;) {
      const int m = blocks - b >= 2 ? 2 : 1;
      for (int64_t j0 = 0; j0 < count; j0 += kRows) {
        const int nvalid = static_cast<int>(std::min<int64_t>(kRows, count - j0));
        const size_t at = static_cast<size_t>(j0);
        if (m == 2) {
          int8Micro<2>(job, rows.data() + at, ids.data() + at, sums.data() + at, scales.data() + at, b, nvalid, sel);
        } else {
          int8Micro<1>(job, rows.data() + at, ids.data() + at, sums.data() + at, scales.data() + at, b, nvalid, sel);
        }
      }
      b += m;
    }
  }
}

}  // namespace

const Int8Kernels kInt8Vnni{kLanes, packedBytes, pack, scanInt8};

}  // namespace scan
}  // namespace ns

#pragma GCC diagnostic pop
#pragma GCC pop_options
#endif  // NS_X86_SIMD
