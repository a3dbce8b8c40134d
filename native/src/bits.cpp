// Bit operations for binary embeddings: per-byte popcount and an exact Hamming distance matrix.
#include <ATen/Parallel.h>

#include <cstring>

#include "common.h"

namespace ns {

NS_FN(popcount, {
  auto x = NS_T(0);
  TORCH_CHECK(x.scalar_type() == at::kByte, "popcount expects a uint8 tensor, got ", x.scalar_type());
  x = x.contiguous().to(at::kCPU);
  auto out = at::empty_like(x);
  const uint8_t* src = x.data_ptr<uint8_t>();
  uint8_t* dst = out.data_ptr<uint8_t>();
  at::parallel_for(0, x.numel(), 1 << 16, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) dst[i] = static_cast<uint8_t>(__builtin_popcount(src[i]));
  });
  return out;
})

static inline int32_t hamming(const uint8_t* a, const uint8_t* b, int64_t bytes) {
  int32_t d = 0;
  int64_t i = 0;
  for (; i + 8 <= bytes; i += 8) {
    uint64_t x, y;
    std::memcpy(&x, a + i, 8);
    std::memcpy(&y, b + i, 8);
    d += __builtin_popcountll(x ^ y);
  }
  for (; i < bytes; ++i) d += __builtin_popcount(static_cast<unsigned>(a[i] ^ b[i]));
  return d;
}

// hammingDistance(queries uint8 [n, B], gallery uint8 [m, B]) -> int32 [n, m]
NS_FN(hammingDistance, {
  auto q = NS_T(0);
  auto g = NS_T(1);
  TORCH_CHECK(q.scalar_type() == at::kByte && g.scalar_type() == at::kByte, "hammingDistance expects uint8 codes");
  TORCH_CHECK(q.dim() == 2 && g.dim() == 2 && q.size(1) == g.size(1),
              "hammingDistance expects [n, B] and [m, B] codes with the same B, got ", q.sizes(), " and ", g.sizes());
  q = q.contiguous().to(at::kCPU);
  g = g.contiguous().to(at::kCPU);
  const int64_t n = q.size(0), m = g.size(0), bytes = q.size(1);
  auto out = at::empty({n, m}, at::TensorOptions().dtype(at::kInt));
  const uint8_t* qp = q.data_ptr<uint8_t>();
  const uint8_t* gp = g.data_ptr<uint8_t>();
  int32_t* op = out.data_ptr<int32_t>();
  at::parallel_for(0, n, 1, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const uint8_t* qi = qp + i * bytes;
      int32_t* row = op + i * m;
      for (int64_t j = 0; j < m; ++j) row[j] = hamming(qi, gp + j * bytes, bytes);
    }
  });
  return out;
})

void registerBits(Registry& r) { r.insert(r.end(), {{"popcount", popcount}, {"hammingDistance", hammingDistance}}); }

}  // namespace ns
