// Exact search over stored vectors, batched: the N-API functions and the driver of the scan kernels
// (scan.h). The stored matrix is read where it lies (any ArrayBuffer or SharedArrayBuffer behind a typed
// array), never copied. Its rows are split into one contiguous range per partition; the partitions run
// in parallel (parallel.h: libtorch's intra-op threads in the libtorch addon, std::threads in the search
// addon, which is built from this file without libtorch), each keeps its own top-k of every query, and
// the partitions' top-k are merged at the end. Since candidates are ranked by a total order (score or
// distance, then row), the result does not depend on the partitions, the tiles, the threads or the
// instruction set.
//
//   scanInnerProduct(vectors, n, dim, stored, rowScales | null, queries f32 [nq, dim], nq, k,
//                    subset i32 | null, selfRows i32 [nq] | null, int8Queries, threads, level,
//                    outRows i32 [nq, k], outScores f32 [nq, k])
//   scanHamming(codes, n, bytes, queries u8 [nq, bytes], nq, k, subset | null, selfRows | null, threads,
//               level, outRows i32 [nq, k], outDistances i32 [nq, k])
//   scanSimdLevels() -> the names of the levels this CPU runs, lowest first
// Every argument is checked (again: src/tensor/kernels/scan.ts checks them first, with better messages).
// Where fewer than k rows qualify, the remaining slots get row -1 and score NaN (distance -1).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "hamming.h"
#include "napi_common.h"
#include "parallel.h"
#include "scan.h"

namespace ns {
namespace scan {

// ---- Selection ----

namespace {

int64_t paddedLanes(int64_t nq) { return (nq + kThresholdPad - 1) / kThresholdPad * kThresholdPad; }

float canonicalScore(float s) { return std::isnan(s) ? std::numeric_limits<float>::quiet_NaN() : s; }

}  // namespace

Selection::Selection(int64_t nq, int64_t k, const int32_t* selfRows)
    : k_(k),
      stride_(2 + 2 * k),
      selfRows_(selfRows),
      state_(static_cast<size_t>(nq * (2 + 2 * k)), 0),
      scoreThreshold_(static_cast<size_t>(paddedLanes(nq)), -std::numeric_limits<float>::infinity()),
      distanceThreshold_(static_cast<size_t>(paddedLanes(nq)), std::numeric_limits<int32_t>::max()) {
  for (int64_t q = 0; q < nq; ++q) state_[static_cast<size_t>(q * stride_)] = kEmptyWord;
}

void Selection::offerScore(int64_t q, int32_t row, float score) {
  if (selfRows_ != nullptr && selfRows_[q] == row) return;
  Reservoir res{state_.data() + q * stride_, k_, 2 * k_};
  if (res.offer(packScore(canonicalScore(score), row)) && res.row[0] != kEmptyWord) {
    scoreThreshold_[static_cast<size_t>(q)] = rankScore(static_cast<uint32_t>(res.row[0] >> 32));
  }
}

void Selection::offerDistance(int64_t q, int32_t row, int32_t distance) {
  if (selfRows_ != nullptr && selfRows_[q] == row) return;
  Reservoir res{state_.data() + q * stride_, k_, 2 * k_};
  if (res.offer(packDistance(distance, row)) && res.row[0] != kEmptyWord) {
    distanceThreshold_[static_cast<size_t>(q)] = static_cast<int32_t>(res.row[0] >> 32);
  }
}

const uint64_t* Selection::words(int64_t q, int64_t* count) const {
  const uint64_t* row = state_.data() + q * stride_;
  *count = static_cast<int64_t>(row[1]);
  return row + 2;
}

namespace {

// ---- arguments ----

struct View {
  const uint8_t* data;
  size_t bytes;
  napi_typedarray_type type;
};

Napi::Error argError(const Napi::CallbackInfo& info, const std::string& message) {
  return Napi::RangeError::New(info.Env(), message);
}

View viewArg(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* what) {
  if (!info[i].IsTypedArray()) throw Napi::TypeError::New(info.Env(), std::string(fn) + ": " + what + " must be a typed array");
  napi_typedarray_type type;
  size_t length;
  void* data;
  napi_value buffer;
  size_t offset;
  if (napi_get_typedarray_info(info.Env(), info[i], &type, &length, &data, &buffer, &offset) != napi_ok) {
    throw Napi::TypeError::New(info.Env(), std::string(fn) + ": " + what + " could not be read");
  }
  const size_t size = info[i].As<Napi::TypedArray>().ElementSize();
  return {static_cast<const uint8_t*>(data), length * size, type};
}

const char* typeNameOf(napi_typedarray_type type) {
  switch (type) {
    case napi_int32_array:
      return "Int32Array";
    case napi_float32_array:
      return "Float32Array";
    case napi_uint8_array:
      return "Uint8Array";
    default:
      return "typed array";
  }
}

size_t elementSize(napi_typedarray_type type) {
  switch (type) {
    case napi_int8_array:
    case napi_uint8_array:
    case napi_uint8_clamped_array:
      return 1;
    case napi_int16_array:
    case napi_uint16_array:
      return 2;
    case napi_int32_array:
    case napi_uint32_array:
    case napi_float32_array:
      return 4;
    default:
      return 8;
  }
}

// A typed array of `type` holding exactly `count` elements.
View exactArg(const Napi::CallbackInfo& info, size_t i, napi_typedarray_type type, int64_t count, const char* fn,
              const char* what) {
  const View v = viewArg(info, i, fn, what);
  if (v.type != type) {
    throw Napi::TypeError::New(info.Env(), std::string(fn) + ": " + what + " must be a " + typeNameOf(type));
  }
  if (v.bytes != static_cast<size_t>(count) * elementSize(type)) {
    throw argError(info, std::string(fn) + ": " + what + " holds " + std::to_string(v.bytes / elementSize(type)) +
                             " values, expected " + std::to_string(count));
  }
  return v;
}

bool isNull(const Napi::CallbackInfo& info, size_t i) { return info[i].IsNull() || info[i].IsUndefined(); }

int64_t intIn(const Napi::CallbackInfo& info, size_t i, int64_t lo, int64_t hi, const char* fn, const char* what) {
  const int64_t v = intArg(info, i);
  if (v < lo || v > hi) {
    throw argError(info, std::string(fn) + ": " + what + " = " + std::to_string(v) + " is out of range [" +
                             std::to_string(lo) + ", " + std::to_string(hi) + "]");
  }
  return v;
}

// An ascending subset of [0, n), copied (a SharedArrayBuffer may change under us).
std::vector<int32_t> subsetArg(const Napi::CallbackInfo& info, size_t i, int64_t n, const char* fn) {
  const View v = viewArg(info, i, fn, "subset");
  if (v.type != napi_int32_array) throw Napi::TypeError::New(info.Env(), std::string(fn) + ": subset must be an Int32Array");
  std::vector<int32_t> rows(v.bytes / 4);
  if (!rows.empty()) std::memcpy(rows.data(), v.data, v.bytes);
  for (size_t j = 0; j < rows.size(); ++j) {
    if (rows[j] < 0 || rows[j] >= n || (j > 0 && rows[j] <= rows[j - 1])) {
      throw argError(info, std::string(fn) + ": subset must hold ascending rows in [0, " + std::to_string(n) +
                               "), got " + std::to_string(rows[j]) + " at " + std::to_string(j));
    }
  }
  return rows;
}

std::vector<int32_t> selfRowsArg(const Napi::CallbackInfo& info, size_t i, int64_t nq, int64_t n, const char* fn) {
  const View v = exactArg(info, i, napi_int32_array, nq, fn, "selfRows");
  std::vector<int32_t> rows(static_cast<size_t>(nq));
  if (!rows.empty()) std::memcpy(rows.data(), v.data, v.bytes);
  for (int32_t r : rows) {
    if (r < -1 || r >= n) {
      throw argError(info, std::string(fn) + ": selfRows must be rows in [0, " + std::to_string(n) +
                               ") or -1, got " + std::to_string(r));
    }
  }
  return rows;
}

SimdLevel levelArg(const Napi::CallbackInfo& info, size_t i, const char* fn) {
  const auto level = static_cast<SimdLevel>(intIn(info, i, 0, kSimdLevels - 1, fn, "level"));
  if (!simdLevelSupported(level)) {
    throw argError(info, std::string(fn) + ": this CPU does not run the " + simdLevelName(level) + " kernels");
  }
  return level;
}

const FloatKernels& floatKernelsFor(SimdLevel level) {
#if NS_X86_SIMD
  if (level >= SimdLevel::Avx512) return kFloatAvx512;
  if (level == SimdLevel::Avx2) return kFloatAvx2;
#endif
  (void)level;
  return kFloatScalar;
}

const Int8Kernels& int8KernelsFor(SimdLevel level) {
#if NS_X86_SIMD
  if (level == SimdLevel::Avx512Vnni) return kInt8Vnni;
  if (level >= SimdLevel::Avx2) return kInt8Avx2;
#endif
  (void)level;
  return kInt8Scalar;
}

// ---- the driver ----

constexpr int64_t kMinRowsPerPartition = 4096;

struct Output {
  int32_t* rows;
  float* scores;        // inner product
  int32_t* distances;   // Hamming
};

// Runs scan(sel, begin, end) over up to `threads` contiguous ranges of `count` positions, then writes
// each query's k best (sorted) to out.
template <class Scan>
void runPartitions(int64_t count, int64_t threads, int64_t nq, int64_t k, const int32_t* selfRows, const Output& out,
                   const Scan& scan) {
  const int64_t parts =
      std::max<int64_t>(1, std::min<int64_t>(threads, (count + kMinRowsPerPartition - 1) / kMinRowsPerPartition));
  // No query can have more than `count` hits: a larger k costs no selection memory.
  const int64_t kept = std::max<int64_t>(1, std::min(k, count));
  std::vector<Selection> selections;
  selections.reserve(static_cast<size_t>(parts));
  for (int64_t p = 0; p < parts; ++p) selections.emplace_back(nq, kept, selfRows);
  auto runOne = [&](int64_t p) {
    const int64_t begin = count * p / parts, end = count * (p + 1) / parts;
    if (begin < end) scan(selections[static_cast<size_t>(p)], begin, end);
  };
  if (parts == 1) {
    runOne(0);
  } else {
    parallelFor(0, parts, 1, parts, [&](int64_t b, int64_t e) {
      for (int64_t p = b; p < e; ++p) runOne(p);
    });
  }
  parallelFor(0, nq, 64, threads, [&](int64_t b, int64_t e) {
    std::vector<uint64_t> words;
    for (int64_t q = b; q < e; ++q) {
      words.clear();
      for (const Selection& s : selections) {
        int64_t n;
        const uint64_t* w = s.words(q, &n);
        words.insert(words.end(), w, w + n);
      }
      const int64_t found = std::min<int64_t>(k, static_cast<int64_t>(words.size()));
      if (found > 0 && static_cast<int64_t>(words.size()) > found) {
        std::nth_element(words.begin(), words.begin() + (found - 1), words.end());
      }
      std::sort(words.begin(), words.begin() + found);
      for (int64_t t = 0; t < k; ++t) {
        const size_t at = static_cast<size_t>(q * k + t);
        if (t < found) {
          const uint64_t w = words[static_cast<size_t>(t)];
          out.rows[at] = static_cast<int32_t>(w & 0xffffffffu);
          const uint32_t key = static_cast<uint32_t>(w >> 32);
          if (out.scores != nullptr) out.scores[at] = rankScore(key);
          if (out.distances != nullptr) out.distances[at] = static_cast<int32_t>(key);
        } else {
          out.rows[at] = -1;
          if (out.scores != nullptr) out.scores[at] = std::numeric_limits<float>::quiet_NaN();
          if (out.distances != nullptr) out.distances[at] = -1;
        }
      }
    }
  });
}

// JavaScript's Math.round (halves toward +infinity), exactly.
double roundHalfUp(double x) {
  const double f = std::floor(x);
  return x - f >= 0.5 ? f + 1 : f;
}

// q8 = round(q / qs), qs = max|q| / 127, as src/search/precision.ts quantises stored vectors.
void quantizeQueries(const float* q, int64_t nq, int64_t dim, int8_t* q8, float* scales) {
  for (int64_t i = 0; i < nq; ++i) {
    const float* x = q + i * dim;
    float max = 0.0f;
    for (int64_t j = 0; j < dim; ++j) max = std::max(max, std::fabs(x[j]));
    const float scale = static_cast<float>(static_cast<double>(max) / 127.0);
    scales[i] = scale;
    for (int64_t j = 0; j < dim; ++j) {
      double r = scale == 0.0f ? 0.0 : roundHalfUp(static_cast<double>(x[j]) / static_cast<double>(scale));
      if (std::isnan(r)) r = 0.0;  // only for non-finite queries, which scan.ts refuses
      q8[i * dim + j] = static_cast<int8_t>(std::max(-127.0, std::min(127.0, r)));
    }
  }
}

constexpr int64_t kMaxRows = std::numeric_limits<int32_t>::max();
constexpr int64_t kMaxDim = 65536;
constexpr int64_t kMaxK = 1 << 20;
constexpr int64_t kMaxThreads = 1024;
constexpr int64_t kMaxQueries = 1 << 24;

Napi::Value scanInnerProduct(const Napi::CallbackInfo& info) {
  NS_STD_GUARD_BEGIN
  const char* fn = "scanInnerProduct";
  if (info.Length() != 15) throw Napi::TypeError::New(info.Env(), "scanInnerProduct: expected 15 arguments");
  const int64_t n = intIn(info, 1, 0, kMaxRows, fn, "n");
  const int64_t dim = intIn(info, 2, 1, kMaxDim, fn, "dim");
  const auto stored = static_cast<Stored>(intIn(info, 3, 0, 2, fn, "stored"));
  const View vectors = viewArg(info, 0, fn, "vectors");
  const size_t valueBytes = stored == Stored::F32 ? 4 : stored == Stored::F16 ? 2 : 1;
  if (vectors.bytes != static_cast<size_t>(n) * static_cast<size_t>(dim) * valueBytes) {
    throw argError(info, std::string(fn) + ": vectors hold " + std::to_string(vectors.bytes) + " bytes, " +
                             std::to_string(n) + " x " + std::to_string(dim) + " values need " +
                             std::to_string(static_cast<size_t>(n) * static_cast<size_t>(dim) * valueBytes));
  }
  const float* rowScales = nullptr;
  if (!isNull(info, 4)) {
    rowScales = reinterpret_cast<const float*>(exactArg(info, 4, napi_float32_array, n, fn, "rowScales").data);
  } else if (stored == Stored::I8) {
    throw argError(info, std::string(fn) + ": i8 vectors need their rowScales");
  }
  const int64_t nq = intIn(info, 6, 0, kMaxQueries, fn, "nq");
  const View queries = exactArg(info, 5, napi_float32_array, nq * dim, fn, "queries");
  const int64_t k = intIn(info, 7, 1, kMaxK, fn, "k");
  std::vector<int32_t> subset;
  const bool hasSubset = !isNull(info, 8);
  if (hasSubset) subset = subsetArg(info, 8, n, fn);
  std::vector<int32_t> selfRows;
  if (!isNull(info, 9)) selfRows = selfRowsArg(info, 9, nq, n, fn);
  const bool int8Queries = boolArg(info, 10);
  if (int8Queries && stored != Stored::I8) throw argError(info, std::string(fn) + ": int8 queries need i8 vectors");
  const int64_t threads = intIn(info, 11, 1, kMaxThreads, fn, "threads");
  const SimdLevel level = levelArg(info, 12, fn);
  int32_t* outRows =
      reinterpret_cast<int32_t*>(const_cast<uint8_t*>(exactArg(info, 13, napi_int32_array, nq * k, fn, "outRows").data));
  float* outScores =
      reinterpret_cast<float*>(const_cast<uint8_t*>(exactArg(info, 14, napi_float32_array, nq * k, fn, "outScores").data));
  if (nq == 0) return info.Env().Undefined();

  const RowList rows{hasSubset ? subset.data() : nullptr, hasSubset ? static_cast<int64_t>(subset.size()) : n};
  const int32_t* self = selfRows.empty() ? nullptr : selfRows.data();
  const Output out{outRows, outScores, nullptr};
  // A copy of the queries: they are packed for the kernels (and a shared buffer may change under us).
  std::vector<float> q(static_cast<size_t>(nq * dim));
  if (!q.empty()) std::memcpy(q.data(), queries.data, queries.bytes);
  if (int8Queries) {
    const Int8Kernels& kernels = int8KernelsFor(level);
    std::vector<int8_t> q8(static_cast<size_t>(nq * dim));
    std::vector<float> scales(static_cast<size_t>(paddedLanes(nq)), 0.0f);
    quantizeQueries(q.data(), nq, dim, q8.data(), scales.data());
    std::vector<uint8_t> packed(static_cast<size_t>(kernels.packedBytes(nq, dim)));
    kernels.pack(q8.data(), nq, dim, packed.data());
    const Int8Job job{reinterpret_cast<const int8_t*>(vectors.data), dim, rowScales, packed.data(), scales.data(), nq,
                      rows};
    runPartitions(rows.count, threads, nq, k, self, out,
                  [&](Selection& sel, int64_t b, int64_t e) { kernels.scan(job, sel, b, e); });
  } else {
    const FloatKernels& kernels = floatKernelsFor(level);
    const int64_t lanes = kernels.lanes;
    const int64_t blocks = (nq + lanes - 1) / lanes;
    std::vector<float> packed(static_cast<size_t>(blocks * lanes * dim), 0.0f);
    for (int64_t i = 0; i < nq; ++i) {
      const int64_t b = i / lanes, l = i % lanes;
      for (int64_t j = 0; j < dim; ++j) packed[static_cast<size_t>((b * dim + j) * lanes + l)] = q[static_cast<size_t>(i * dim + j)];
    }
    const FloatJob job{vectors.data, stored, dim, rowScales, packed.data(), nq, rows};
    runPartitions(rows.count, threads, nq, k, self, out,
                  [&](Selection& sel, int64_t b, int64_t e) { kernels.scan(job, sel, b, e); });
  }
  return info.Env().Undefined();
  NS_STD_GUARD_END
}

Napi::Value scanHamming(const Napi::CallbackInfo& info) {
  NS_STD_GUARD_BEGIN
  const char* fn = "scanHamming";
  if (info.Length() != 12) throw Napi::TypeError::New(info.Env(), "scanHamming: expected 12 arguments");
  const int64_t n = intIn(info, 1, 0, kMaxRows, fn, "n");
  const int64_t bytes = intIn(info, 2, 1, kMaxDim, fn, "bytes");
  const View codes = viewArg(info, 0, fn, "codes");
  if (codes.bytes != static_cast<size_t>(n) * static_cast<size_t>(bytes)) {
    throw argError(info, std::string(fn) + ": codes hold " + std::to_string(codes.bytes) + " bytes, " +
                             std::to_string(n) + " codes of " + std::to_string(bytes) + " bytes need " +
                             std::to_string(n * bytes));
  }
  const int64_t nq = intIn(info, 4, 0, kMaxQueries, fn, "nq");
  const View queries = exactArg(info, 3, napi_uint8_array, nq * bytes, fn, "queries");
  const int64_t k = intIn(info, 5, 1, kMaxK, fn, "k");
  std::vector<int32_t> subset;
  const bool hasSubset = !isNull(info, 6);
  if (hasSubset) subset = subsetArg(info, 6, n, fn);
  std::vector<int32_t> selfRows;
  if (!isNull(info, 7)) selfRows = selfRowsArg(info, 7, nq, n, fn);
  const int64_t threads = intIn(info, 8, 1, kMaxThreads, fn, "threads");
  const SimdLevel level = levelArg(info, 9, fn);
  int32_t* outRows =
      reinterpret_cast<int32_t*>(const_cast<uint8_t*>(exactArg(info, 10, napi_int32_array, nq * k, fn, "outRows").data));
  int32_t* outDistances = reinterpret_cast<int32_t*>(
      const_cast<uint8_t*>(exactArg(info, 11, napi_int32_array, nq * k, fn, "outDistances").data));
  if (nq == 0) return info.Env().Undefined();

  const RowList rows{hasSubset ? subset.data() : nullptr, hasSubset ? static_cast<int64_t>(subset.size()) : n};
  const int32_t* self = selfRows.empty() ? nullptr : selfRows.data();
  std::vector<uint8_t> q(static_cast<size_t>(nq * bytes));
  std::memcpy(q.data(), queries.data, q.size());
  const HammingBlock hamming = hammingKernelFor(level).fn;
  // Blocks of ~64 KiB of codes stay in cache while every query passes over them.
  const int64_t block = std::max<int64_t>(16, std::min<int64_t>(4096, (64 << 10) / bytes));
  runPartitions(rows.count, threads, nq, k, self, Output{outRows, nullptr, outDistances},
                [&](Selection& sel, int64_t begin, int64_t end) {
                  std::vector<uint8_t> gathered(hasSubset ? static_cast<size_t>(block * bytes) : 0);
                  std::vector<int32_t> dist(static_cast<size_t>(block));
                  const int32_t* thresholds = sel.distanceThresholds();
                  for (int64_t b0 = begin; b0 < end; b0 += block) {
                    const int64_t count = std::min(block, end - b0);
                    const uint8_t* g = codes.data + static_cast<size_t>(b0) * static_cast<size_t>(bytes);
                    if (hasSubset) {
                      for (int64_t j = 0; j < count; ++j) {
                        std::memcpy(gathered.data() + j * bytes,
                                    codes.data + static_cast<size_t>(rows.at(b0 + j)) * static_cast<size_t>(bytes),
                                    static_cast<size_t>(bytes));
                      }
                      g = gathered.data();
                    }
                    for (int64_t i = 0; i < nq; ++i) {
                      hamming(q.data() + i * bytes, g, count, bytes, dist.data());
                      for (int64_t j = 0; j < count; ++j) {
                        const int32_t d = dist[static_cast<size_t>(j)];
                        if (d <= thresholds[i]) sel.offerDistance(i, rows.at(b0 + j), d);
                      }
                    }
                  }
                });
  return info.Env().Undefined();
  NS_STD_GUARD_END
}

Napi::Value scanSimdLevels(const Napi::CallbackInfo& info) {
  NS_STD_GUARD_BEGIN
  auto out = Napi::Array::New(info.Env());
  uint32_t at = 0;
  for (int i = 0; i < kSimdLevels; ++i) {
    const auto level = static_cast<SimdLevel>(i);
    if (simdLevelSupported(level)) out.Set(at++, Napi::String::New(info.Env(), simdLevelName(level)));
  }
  return out;
  NS_STD_GUARD_END
}

}  // namespace
}  // namespace scan

void registerScan(Registry& r) {
  r.insert(r.end(), {{"scanInnerProduct", scan::scanInnerProduct},
                     {"scanHamming", scan::scanHamming},
                     {"scanSimdLevels", scan::scanSimdLevels}});
}

}  // namespace ns
