// Exact k-nearest-neighbour selection for evaluation.
//
// Each query row keeps its best k candidates as a binary heap stored in two tensors of shape [n, k]:
// keys (float32 inner products, or int32 Hamming distances) and int32 gallery indices. The root of a
// row's heap is its worst kept candidate, so most candidates are rejected by one comparison.
// The order is total: a better key wins; equal keys -> the smaller gallery index wins. Because no two
// candidates of a row compare equal, the selected set and its sorted order do not depend on the order
// in which tiles are merged (nor on thread scheduling): ties are broken by gallery index, ascending.
//
//   knnMergeScores(keys f32 [n,k], ids i32 [n,k], tile f32 [r,c], rowStart, colStart, excludeSelf, transposed)
//     tile[i][j] is the score of heap row rowStart+i against gallery item colStart+j (transposed: heap
//     row rowStart+j against gallery item colStart+i). Larger scores are better.
//   knnMergeHamming(keys i32 [n,k], ids i32 [n,k], queries u8 [r,B], gallery u8 [c,B], rowStart, colStart,
//                   excludeSelf)
//     fused popcount(q xor g) + selection; smaller distances are better.
//   knnSortHeaps(keys, ids, largest): sorts every row best-first in place.
// excludeSelf skips the candidate whose gallery index equals the heap row (query set = gallery).
#include <ATen/Parallel.h>
#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <numeric>
#include <vector>

#include "common.h"

namespace ns {
namespace {

// true when (ka, ia) ranks strictly below (kb, ib).
template <typename K, bool Larger>
inline bool worse(K ka, int32_t ia, K kb, int32_t ib) {
  if (ka != kb) return Larger ? ka < kb : ka > kb;
  return ia > ib;
}

// Replaces the root (the worst kept candidate) and restores the heap: every parent ranks at or below
// its children.
template <typename K, bool Larger>
inline void replaceRoot(K* keys, int32_t* ids, int64_t k, K key, int32_t id) {
  int64_t i = 0;
  for (;;) {
    const int64_t l = 2 * i + 1;
    if (l >= k) break;
    const int64_t r = l + 1;
    const int64_t w = (r < k && worse<K, Larger>(keys[r], ids[r], keys[l], ids[l])) ? r : l;
    if (!worse<K, Larger>(keys[w], ids[w], key, id)) break;
    keys[i] = keys[w];
    ids[i] = ids[w];
    i = w;
  }
  keys[i] = key;
  ids[i] = id;
}

template <typename K, bool Larger>
inline void offer(K* keys, int32_t* ids, int64_t k, K key, int32_t id) {
  // Fast rejection first: strictly worse keys never need the index comparison.
  if (Larger ? key < keys[0] : key > keys[0]) return;
  if (worse<K, Larger>(keys[0], ids[0], key, id)) replaceRoot<K, Larger>(keys, ids, k, key, id);
}

void checkHeaps(const at::Tensor& keys, const at::Tensor& ids, at::ScalarType keyType, const char* fn) {
  TORCH_CHECK(keys.scalar_type() == keyType, fn, ": heap keys must be ", keyType, ", got ", keys.scalar_type());
  TORCH_CHECK(ids.scalar_type() == at::kInt, fn, ": heap indices must be int32, got ", ids.scalar_type());
  TORCH_CHECK(keys.dim() == 2 && keys.sizes() == ids.sizes(), fn, ": heaps must be [n, k] tensors of one shape, got ",
              keys.sizes(), " and ", ids.sizes());
  TORCH_CHECK(keys.device().is_cpu() && ids.device().is_cpu() && keys.is_contiguous() && ids.is_contiguous(), fn,
              ": heaps must be contiguous CPU tensors (they are updated in place)");
  TORCH_CHECK(keys.size(1) >= 1, fn, ": k must be at least 1");
}

void checkRange(int64_t start, int64_t count, int64_t limit, const char* what, const char* fn) {
  TORCH_CHECK(start >= 0 && start + count <= limit, fn, ": ", what, " ", start, "..", start + count,
              " out of range (", limit, ")");
}

// ---- Hamming distances of one query against a block of gallery codes ----
using HammingBlock = void (*)(const uint8_t* q, const uint8_t* g, int64_t count, int64_t bytes, int32_t* out);

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

HammingBlock pickHammingBlock() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vpopcntdq")) {
    return hammingBlockAvx512;
  }
  if (__builtin_cpu_supports("popcnt")) return hammingBlockPopcnt;
  return hammingBlockPortable;
}

const HammingBlock hammingBlock = pickHammingBlock();

NS_INPLACE(knnMergeScores, {
  auto& keys = NS_T(0);
  auto& ids = NS_T(1);
  auto tile = NS_T(2).contiguous();
  const int64_t rowStart = NS_INT(3), colStart = NS_INT(4);
  const bool excludeSelf = NS_BOOL(5), transposed = NS_BOOL(6);
  checkHeaps(keys, ids, at::kFloat, "knnMergeScores");
  TORCH_CHECK(tile.scalar_type() == at::kFloat && tile.dim() == 2 && tile.device().is_cpu(),
              "knnMergeScores: the score tile must be a 2-d float32 CPU tensor, got ", tile.sizes(), " ",
              tile.scalar_type());
  const int64_t n = keys.size(0), k = keys.size(1);
  const int64_t heapRows = transposed ? tile.size(1) : tile.size(0);
  const int64_t galleryCols = transposed ? tile.size(0) : tile.size(1);
  checkRange(rowStart, heapRows, n, "heap rows", "knnMergeScores");
  TORCH_CHECK(colStart >= 0 && colStart + galleryCols <= std::numeric_limits<int32_t>::max(),
              "knnMergeScores: gallery indices must fit in int32");
  float* kp = keys.data_ptr<float>();
  int32_t* ip = ids.data_ptr<int32_t>();
  const float* sp = tile.data_ptr<float>();
  const int64_t cols = tile.size(1);
  if (!transposed) {
    at::parallel_for(0, heapRows, 1, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        const int64_t row = rowStart + i;
        float* hk = kp + row * k;
        int32_t* hi = ip + row * k;
        const float* s = sp + i * cols;
        for (int64_t j = 0; j < galleryCols; ++j) {
          const int64_t id = colStart + j;
          if (excludeSelf && id == row) continue;
          offer<float, true>(hk, hi, k, s[j], static_cast<int32_t>(id));
        }
      }
    });
  } else {
    // Heap row j reads column j: walk 16 adjacent columns together so each tile row is read once per block.
    constexpr int64_t kBlock = 16;
    const int64_t blocks = (heapRows + kBlock - 1) / kBlock;
    at::parallel_for(0, blocks, 1, [&](int64_t b, int64_t e) {
      for (int64_t blk = b; blk < e; ++blk) {
        const int64_t j0 = blk * kBlock, j1 = std::min(j0 + kBlock, heapRows);
        for (int64_t i = 0; i < galleryCols; ++i) {
          const int64_t id = colStart + i;
          const float* s = sp + i * cols;
          for (int64_t j = j0; j < j1; ++j) {
            const int64_t row = rowStart + j;
            if (excludeSelf && id == row) continue;
            offer<float, true>(kp + row * k, ip + row * k, k, s[j], static_cast<int32_t>(id));
          }
        }
      }
    });
  }
  return keys;
})

NS_INPLACE(knnMergeHamming, {
  auto& keys = NS_T(0);
  auto& ids = NS_T(1);
  auto q = NS_T(2).contiguous();
  auto g = NS_T(3).contiguous();
  const int64_t rowStart = NS_INT(4), colStart = NS_INT(5);
  const bool excludeSelf = NS_BOOL(6);
  checkHeaps(keys, ids, at::kInt, "knnMergeHamming");
  TORCH_CHECK(q.scalar_type() == at::kByte && g.scalar_type() == at::kByte && q.dim() == 2 && g.dim() == 2 &&
                  q.size(1) == g.size(1) && q.device().is_cpu() && g.device().is_cpu(),
              "knnMergeHamming: codes must be uint8 CPU tensors [r, B] and [c, B] with the same B, got ", q.sizes(),
              " and ", g.sizes());
  const int64_t n = keys.size(0), k = keys.size(1);
  const int64_t rows = q.size(0), count = g.size(0), bytes = q.size(1);
  checkRange(rowStart, rows, n, "heap rows", "knnMergeHamming");
  TORCH_CHECK(colStart >= 0 && colStart + count <= std::numeric_limits<int32_t>::max(),
              "knnMergeHamming: gallery indices must fit in int32");
  int32_t* kp = keys.data_ptr<int32_t>();
  int32_t* ip = ids.data_ptr<int32_t>();
  const uint8_t* qp = q.data_ptr<uint8_t>();
  const uint8_t* gp = g.data_ptr<uint8_t>();
  // Gallery blocks of ~128 KiB stay in cache while a thread's queries pass over them.
  const int64_t block = std::max<int64_t>(16, std::min<int64_t>(4096, (128 << 10) / std::max<int64_t>(bytes, 1)));
  at::parallel_for(0, rows, 16, [&](int64_t b, int64_t e) {
    std::vector<int32_t> dist(static_cast<size_t>(block));
    for (int64_t j0 = 0; j0 < count; j0 += block) {
      const int64_t len = std::min(block, count - j0);
      for (int64_t i = b; i < e; ++i) {
        const int64_t row = rowStart + i;
        hammingBlock(qp + i * bytes, gp + j0 * bytes, len, bytes, dist.data());
        int32_t* hk = kp + row * k;
        int32_t* hi = ip + row * k;
        for (int64_t j = 0; j < len; ++j) {
          const int64_t id = colStart + j0 + j;
          if (excludeSelf && id == row) continue;
          offer<int32_t, false>(hk, hi, k, dist[static_cast<size_t>(j)], static_cast<int32_t>(id));
        }
      }
    }
  });
  return keys;
})

template <typename K, bool Larger>
void sortRows(at::Tensor& keys, at::Tensor& ids) {
  const int64_t n = keys.size(0), k = keys.size(1);
  K* kp = keys.data_ptr<K>();
  int32_t* ip = ids.data_ptr<int32_t>();
  at::parallel_for(0, n, 64, [&](int64_t b, int64_t e) {
    std::vector<int64_t> order(static_cast<size_t>(k));
    std::vector<K> kk(static_cast<size_t>(k));
    std::vector<int32_t> ii(static_cast<size_t>(k));
    for (int64_t r = b; r < e; ++r) {
      K* rk = kp + r * k;
      int32_t* ri = ip + r * k;
      std::iota(order.begin(), order.end(), 0);
      std::sort(order.begin(), order.end(),
                [&](int64_t a, int64_t c) { return worse<K, Larger>(rk[c], ri[c], rk[a], ri[a]); });
      for (int64_t t = 0; t < k; ++t) {
        kk[static_cast<size_t>(t)] = rk[order[static_cast<size_t>(t)]];
        ii[static_cast<size_t>(t)] = ri[order[static_cast<size_t>(t)]];
      }
      std::copy(kk.begin(), kk.end(), rk);
      std::copy(ii.begin(), ii.end(), ri);
    }
  });
}

NS_INPLACE(knnSortHeaps, {
  auto& keys = NS_T(0);
  auto& ids = NS_T(1);
  const bool largest = NS_BOOL(2);
  TORCH_CHECK(keys.scalar_type() == at::kFloat || keys.scalar_type() == at::kInt,
              "knnSortHeaps: keys must be float32 or int32, got ", keys.scalar_type());
  checkHeaps(keys, ids, keys.scalar_type(), "knnSortHeaps");
  if (keys.scalar_type() == at::kFloat) {
    if (largest) sortRows<float, true>(keys, ids);
    else sortRows<float, false>(keys, ids);
  } else {
    if (largest) sortRows<int32_t, true>(keys, ids);
    else sortRows<int32_t, false>(keys, ids);
  }
  return keys;
})

}  // namespace

void registerKnn(Registry& r) {
  r.insert(r.end(), {{"knnMergeScores", knnMergeScores},
                     {"knnMergeHamming", knnMergeHamming},
                     {"knnSortHeaps", knnSortHeaps}});
}

}  // namespace ns
