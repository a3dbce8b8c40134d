// The scalar kernels of scan.h: the reference that every SIMD kernel must equal to the bit, and the
// kernels of CPUs without them. Written for clarity, one (query, row) pair at a time.
#include <cmath>
#include <cstring>
#include <vector>

#include "scan.h"

namespace ns {
namespace scan {

float halfToFloat(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exponent = (h >> 10) & 0x1fu;
  uint32_t mantissa = h & 0x3ffu;
  uint32_t bits;
  if (exponent == 0x1f) {
    // Infinity, or a NaN made quiet (as F16C converts it).
    bits = sign | 0x7f800000u | (mantissa << 13) | (mantissa != 0 ? 0x400000u : 0);
  } else if (exponent != 0) {
    bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
  } else if (mantissa == 0) {
    bits = sign;
  } else {
    // Subnormal half: normalise (mantissa * 2^-24).
    exponent = 113;
    do {
      mantissa <<= 1;
      --exponent;
    } while ((mantissa & 0x400u) == 0);
    bits = sign | (exponent << 23) | ((mantissa & 0x3ffu) << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

namespace {

void decodeRow(const FloatJob& job, int32_t row, float* out) {
  const size_t dim = static_cast<size_t>(job.dim);
  const size_t at = static_cast<size_t>(row) * dim;
  if (job.stored == Stored::F32) {
    std::memcpy(out, job.vectors + at * 4, dim * 4);
  } else if (job.stored == Stored::F16) {
    for (size_t j = 0; j < dim; ++j) {
      uint16_t h;
      std::memcpy(&h, job.vectors + (at + j) * 2, 2);
      out[j] = halfToFloat(h);
    }
  } else {
    const int8_t* v = reinterpret_cast<const int8_t*>(job.vectors) + at;
    for (size_t j = 0; j < dim; ++j) out[j] = static_cast<float>(v[j]);
  }
}

void scanFloat(const FloatJob& job, Selection& sel, int64_t begin, int64_t end) {
  const int64_t dim = job.dim;
  std::vector<float> v(static_cast<size_t>(dim));
  const float* thresholds = sel.scoreThresholds();
  for (int64_t i = begin; i < end; ++i) {
    const int32_t row = job.rows.at(i);
    decodeRow(job, row, v.data());
    for (int64_t q = 0; q < job.nq; ++q) {
      const float* x = job.packedQueries + q * dim;  // one lane: the queries as given
      float s = 0.0f;
      for (int64_t j = 0; j < dim; ++j) s = std::fma(x[j], v[static_cast<size_t>(j)], s);
      if (job.rowScales != nullptr) s = s * job.rowScales[row];
      if (!(s < thresholds[q])) sel.offerScore(q, row, s);
    }
  }
}

int64_t packedBytes(int64_t nq, int64_t dim) { return nq * dim; }

void pack(const int8_t* q8, int64_t nq, int64_t dim, uint8_t* out) {
  std::memcpy(out, q8, static_cast<size_t>(nq * dim));
}

void scanInt8(const Int8Job& job, Selection& sel, int64_t begin, int64_t end) {
  const int64_t dim = job.dim;
  const int8_t* queries = reinterpret_cast<const int8_t*>(job.packedQueries);
  const float* thresholds = sel.scoreThresholds();
  for (int64_t i = begin; i < end; ++i) {
    const int32_t row = job.rows.at(i);
    const int8_t* v = job.vectors + static_cast<size_t>(row) * static_cast<size_t>(dim);
    for (int64_t q = 0; q < job.nq; ++q) {
      const int8_t* x = queries + q * dim;
      int32_t dot = 0;
      for (int64_t j = 0; j < dim; ++j) dot += static_cast<int32_t>(x[j]) * static_cast<int32_t>(v[j]);
      float s = static_cast<float>(dot) * job.queryScales[q];
      s = s * job.rowScales[row];
      if (!(s < thresholds[q])) sel.offerScore(q, row, s);
    }
  }
}

}  // namespace

const FloatKernels kFloatScalar{1, scanFloat};
const Int8Kernels kInt8Scalar{1, packedBytes, pack, scanInt8};

}  // namespace scan
}  // namespace ns
