// Exact search over stored vectors, batched (scan.cpp): what the driver and the per-instruction-set
// kernels (scan_scalar.cpp, scan_avx2.cpp, scan_avx512.cpp, scan_vnni.cpp) share.
//
// Scores. Every path computes each (query, row) score in the same order, so that they agree to the bit:
//   float queries: dot = fma(q[d-1], v[d-1], ... fma(q[1], v[1], fma(q[0], v[0], 0)) ...) in float32, v the
//     stored value as a float (f16 and i8 convert exactly); score = dot, or dot * rowScale[row] when row
//     scales are given (i8 always has them).
//   int8 queries (i8 storage): q8 = round(q / qs) with qs = max|q| / 127 (as src/search/precision.ts
//     quantises vectors); dot8 = sum q8[j] * v[j] in integers (exact);
//     score = (float(dot8) * qs) * rowScale[row] in float32.
// Ranking: score descending, then row ascending (topk.h), as evaluation's k-NN; a NaN score is made the
// canonical quiet NaN, which ranks above +infinity (as evaluation ranks a positive NaN).
#pragma once

#include <cstdint>
#include <vector>

#include "simd.h"
#include "topk.h"

namespace ns {
namespace scan {

// The rows a scan visits: positions [begin, end) of either every row (subset null: position = row) or an
// ascending subset of rows.
struct RowList {
  const int32_t* subset;
  int64_t count;
  int32_t at(int64_t i) const { return subset != nullptr ? subset[i] : static_cast<int32_t>(i); }
};

// The best k rows of each query of a batch among the rows one partition visits. The thresholds are
// lower bounds below which a candidate cannot enter (a fast first test, done with SIMD; the exact test
// is the reservoir's), padded with -infinity (+max for distances) to a whole number of 64 lanes.
class Selection {
 public:
  Selection(int64_t nq, int64_t k, const int32_t* selfRows);
  const float* scoreThresholds() const { return scoreThreshold_.data(); }
  const int32_t* distanceThresholds() const { return distanceThreshold_.data(); }
  void offerScore(int64_t q, int32_t row, float score);
  void offerDistance(int64_t q, int32_t row, int32_t distance);
  // The kept words of query q (unsorted, at most 2k of them).
  const uint64_t* words(int64_t q, int64_t* count) const;

 private:
  int64_t k_;
  int64_t stride_;
  const int32_t* selfRows_;
  std::vector<uint64_t> state_;
  std::vector<float> scoreThreshold_;
  std::vector<int32_t> distanceThreshold_;
};

constexpr int64_t kThresholdPad = 64;

// Float queries against f32, f16 or i8 storage. The queries come packed by packFloatQueries: blocks of
// `lanes` queries, each block dim x lanes floats (block b, component j, lane l at
// (b * dim + j) * lanes + l), zero-padded to whole blocks.
enum class Stored : int { F32 = 0, F16 = 1, I8 = 2 };

struct FloatJob {
  const uint8_t* vectors;  // n x dim values, row-major, little-endian, any alignment
  Stored stored;
  int64_t dim;
  const float* rowScales;  // null, or one per stored row
  const float* packedQueries;
  int64_t nq;
  RowList rows;
};

// int8 queries against i8 storage; the queries come packed by the kernels' packInt8Queries.
struct Int8Job {
  const int8_t* vectors;
  int64_t dim;
  const float* rowScales;     // one per stored row
  const uint8_t* packedQueries;
  const float* queryScales;   // qs of each query, zero-padded to a whole number of kThresholdPad lanes
  int64_t nq;
  RowList rows;
};

// Positions [begin, end) of job.rows, offered to sel.
struct FloatKernels {
  int lanes;
  void (*scan)(const FloatJob& job, Selection& sel, int64_t begin, int64_t end);
};

struct Int8Kernels {
  int lanes;
  // Bytes of the packed queries and the packing itself (q8: nq x dim, row-major).
  int64_t (*packedBytes)(int64_t nq, int64_t dim);
  void (*pack)(const int8_t* q8, int64_t nq, int64_t dim, uint8_t* out);
  void (*scan)(const Int8Job& job, Selection& sel, int64_t begin, int64_t end);
};

// The kernels of each instruction set (the x86 ones exist only where NS_X86_SIMD).
extern const FloatKernels kFloatScalar;
extern const Int8Kernels kInt8Scalar;
#if NS_X86_SIMD
extern const FloatKernels kFloatAvx2;
extern const Int8Kernels kInt8Avx2;
extern const FloatKernels kFloatAvx512;
extern const Int8Kernels kInt8Vnni;
#endif

// Exact conversion of IEEE half bits to float (subnormals, infinities and NaNs included).
float halfToFloat(uint16_t h);

}  // namespace scan
}  // namespace ns
