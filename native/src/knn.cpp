// Exact k-nearest-neighbour selection for evaluation.
//
// Each query row keeps its best candidates in a reservoir (as faiss' ReservoirTopN): one int64 state row
// [threshold, count, slots...] with 2k slots. A candidate is packed into one 64-bit word that orders
// exactly as the ranking rule:
//   high 32 bits: the key mapped to an unsigned integer that grows as the candidate gets worse
//                 (Hamming: the distance; inner product: the float's order-preserving bits, inverted);
//   low 32 bits:  the gallery index.
// So "better" is "smaller word": a better key wins; equal keys -> the smaller gallery index wins. This is
// a total order (indices are distinct), so the selected set and its sorted order do not depend on the
// order in which tiles are merged, nor on thread scheduling: ties are broken by gallery index, ascending.
// A word below the row's threshold is appended; when the slots are full, nth_element keeps the k best and
// the threshold drops to the k-th best, so most candidates are rejected by one comparison and an
// accepted one costs O(1) amortised (a binary heap costs a mispredicted branch per level).
//
//   knnMergeScores(state i64 [n,2+2k], tile f32 [r,c], k, rowStart, colStart, excludeSelf, transposed)
//     tile[i][j] is the score of query row rowStart+i against gallery item colStart+j (transposed: query
//     row rowStart+j against gallery item colStart+i). Larger scores are better.
//   knnMergeHamming(state i64 [n,2+2k], queries u8 [r,B], gallery u8 [c,B], k, rowStart, colStart, excludeSelf)
//     fused popcount(q xor g) + selection; smaller distances are better.
//   knnFinish(state, k, scores) -> int32 [2, n, k]: rows sorted best first; [0] the keys (float32 bits when
//     scores, else distances), [1] the gallery indices. Empty slots (k > candidates) keep index -1.
// excludeSelf skips the candidate whose gallery index equals the query row (query set = gallery).
#include <ATen/Parallel.h>

// The popcnt and AVX-512 Hamming kernels are x86-only (target attributes, intrinsics, CPU dispatch);
// elsewhere (aarch64) the portable kernel runs. -DNORMSOFTMAX_NO_X86_SIMD selects the portable path on
// x86 too, so that it can be built and tested there.
#if (defined(__x86_64__) || defined(_M_X64)) && !defined(NORMSOFTMAX_NO_X86_SIMD)
#define NS_X86_SIMD 1
#include <immintrin.h>
#else
#define NS_X86_SIMD 0
#endif

#include <algorithm>
#include <cstring>
#include <limits>
#include <vector>

#include "common.h"

namespace ns {
namespace {

constexpr uint64_t kEmpty = std::numeric_limits<uint64_t>::max();

inline uint64_t packDistance(int32_t distance, int64_t id) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(distance)) << 32) | static_cast<uint32_t>(id);
}

// Float bits mapped so that unsigned order = float order (+0 and -0 made equal), then inverted so that
// larger scores give smaller words.
inline uint32_t scoreRank(float score) {
  if (score == 0.0f) score = 0.0f;
  uint32_t u;
  std::memcpy(&u, &score, 4);
  u = (u & 0x80000000u) ? ~u : (u | 0x80000000u);
  return ~u;
}

inline float rankScore(uint32_t rank) {
  uint32_t u = ~rank;
  u = (u & 0x80000000u) ? (u & 0x7fffffffu) : ~u;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

inline uint64_t packScore(float score, int64_t id) {
  return (static_cast<uint64_t>(scoreRank(score)) << 32) | static_cast<uint32_t>(id);
}

// One row of the selection state: [threshold word, count, slots[capacity]].
struct Reservoir {
  uint64_t* row;
  int64_t k;
  int64_t capacity;

  // Keeps the k best of the first `count` slots and lowers the threshold to the k-th best.
  void shrink(int64_t count) {
    uint64_t* slots = row + 2;
    std::nth_element(slots, slots + (k - 1), slots + count);
    row[0] = slots[k - 1];
    row[1] = static_cast<uint64_t>(k);
  }
  void offer(uint64_t word) {
    if (word >= row[0]) return;
    uint64_t& count = row[1];
    row[2 + count] = word;
    if (++count == static_cast<uint64_t>(capacity)) shrink(capacity);
  }
};

int64_t capacityOf(const at::Tensor& state) { return state.size(1) - 2; }

void checkState(const at::Tensor& state, const char* fn) {
  TORCH_CHECK(state.scalar_type() == at::kLong && state.dim() == 2 && state.size(1) >= 4, fn,
              ": the selection state must be an int64 [n, 2 + 2k] tensor, got ", state.scalar_type(), " ",
              state.sizes());
  TORCH_CHECK(state.device().is_cpu() && state.is_contiguous(), fn,
              ": the selection state must be a contiguous CPU tensor (it is updated in place)");
}

void checkRange(int64_t start, int64_t count, int64_t limit, const char* what, const char* fn) {
  TORCH_CHECK(start >= 0 && start + count <= limit, fn, ": ", what, " ", start, "..", start + count,
              " out of range (", limit, ")");
}

// ---- Hamming distances of one query against a block of gallery codes ----
using HammingBlock = void (*)(const uint8_t* q, const uint8_t* g, int64_t count, int64_t bytes, int32_t* out);

struct HammingKernel {
  HammingBlock fn;
  const char* name;
};

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

HammingKernel pickHammingBlock() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vpopcntdq")) {
    return {hammingBlockAvx512, "avx512-vpopcntdq"};
  }
  if (__builtin_cpu_supports("popcnt")) return {hammingBlockPopcnt, "popcnt"};
  return {hammingBlockPortable, "portable"};
}
#else
HammingKernel pickHammingBlock() { return {hammingBlockPortable, "portable"}; }
#endif  // NS_X86_SIMD

const HammingKernel hammingKernel = pickHammingBlock();
const HammingBlock hammingBlock = hammingKernel.fn;

NS_INPLACE(knnMergeScores, {
  auto& state = NS_T(0);
  auto tile = NS_T(1).contiguous();
  const int64_t k = NS_INT(2), rowStart = NS_INT(3), colStart = NS_INT(4);
  const bool excludeSelf = NS_BOOL(5), transposed = NS_BOOL(6);
  checkState(state, "knnMergeScores");
  TORCH_CHECK(tile.scalar_type() == at::kFloat && tile.dim() == 2 && tile.device().is_cpu(),
              "knnMergeScores: the score tile must be a 2-d float32 CPU tensor, got ", tile.sizes(), " ",
              tile.scalar_type());
  const int64_t n = state.size(0), capacity = capacityOf(state);
  TORCH_CHECK(k >= 1 && 2 * k <= capacity, "knnMergeScores: k = ", k, " does not fit the state (", capacity, " slots)");
  const int64_t heapRows = transposed ? tile.size(1) : tile.size(0);
  const int64_t galleryCols = transposed ? tile.size(0) : tile.size(1);
  checkRange(rowStart, heapRows, n, "query rows", "knnMergeScores");
  TORCH_CHECK(colStart >= 0 && colStart + galleryCols <= std::numeric_limits<int32_t>::max(),
              "knnMergeScores: gallery indices must fit in int32");
  uint64_t* sp0 = reinterpret_cast<uint64_t*>(state.data_ptr<int64_t>());
  const int64_t stride = state.size(1);
  const float* sp = tile.data_ptr<float>();
  const int64_t cols = tile.size(1);
  if (!transposed) {
    at::parallel_for(0, heapRows, 1, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        const int64_t row = rowStart + i;
        Reservoir res{sp0 + row * stride, k, capacity};
        const float* s = sp + i * cols;
        for (int64_t j = 0; j < galleryCols; ++j) {
          const int64_t id = colStart + j;
          if (excludeSelf && id == row) continue;
          res.offer(packScore(s[j], id));
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
            Reservoir{sp0 + row * stride, k, capacity}.offer(packScore(s[j], id));
          }
        }
      }
    });
  }
  return state;
})

NS_INPLACE(knnMergeHamming, {
  auto& state = NS_T(0);
  auto q = NS_T(1).contiguous();
  auto g = NS_T(2).contiguous();
  const int64_t k = NS_INT(3), rowStart = NS_INT(4), colStart = NS_INT(5);
  const bool excludeSelf = NS_BOOL(6);
  checkState(state, "knnMergeHamming");
  TORCH_CHECK(q.scalar_type() == at::kByte && g.scalar_type() == at::kByte && q.dim() == 2 && g.dim() == 2 &&
                  q.size(1) == g.size(1) && q.device().is_cpu() && g.device().is_cpu(),
              "knnMergeHamming: codes must be uint8 CPU tensors [r, B] and [c, B] with the same B, got ", q.sizes(),
              " and ", g.sizes());
  const int64_t n = state.size(0), capacity = capacityOf(state), stride = state.size(1);
  TORCH_CHECK(k >= 1 && 2 * k <= capacity, "knnMergeHamming: k = ", k, " does not fit the state (", capacity,
              " slots)");
  const int64_t rows = q.size(0), count = g.size(0), bytes = q.size(1);
  checkRange(rowStart, rows, n, "query rows", "knnMergeHamming");
  TORCH_CHECK(colStart >= 0 && colStart + count <= std::numeric_limits<int32_t>::max(),
              "knnMergeHamming: gallery indices must fit in int32");
  uint64_t* sp0 = reinterpret_cast<uint64_t*>(state.data_ptr<int64_t>());
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
        Reservoir res{sp0 + row * stride, k, capacity};
        for (int64_t j = 0; j < len; ++j) {
          const int64_t id = colStart + j0 + j;
          if (excludeSelf && id == row) continue;
          res.offer(packDistance(dist[static_cast<size_t>(j)], id));
        }
      }
    }
  });
  return state;
})

NS_FN(knnFinish, {
  auto& state = NS_T(0);
  const int64_t k = NS_INT(1);
  const bool scores = NS_BOOL(2);
  checkState(state, "knnFinish");
  const int64_t n = state.size(0), capacity = capacityOf(state), stride = state.size(1);
  TORCH_CHECK(k >= 1 && 2 * k <= capacity, "knnFinish: k = ", k, " does not fit the state (", capacity, " slots)");
  auto out = at::empty({2, n, k}, at::TensorOptions().dtype(at::kInt));
  uint64_t* sp0 = reinterpret_cast<uint64_t*>(state.data_ptr<int64_t>());
  int32_t* keys = out.data_ptr<int32_t>();
  int32_t* ids = keys + n * k;
  at::parallel_for(0, n, 16, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      Reservoir res{sp0 + r * stride, k, capacity};
      if (static_cast<int64_t>(res.row[1]) > k) res.shrink(static_cast<int64_t>(res.row[1]));
      uint64_t* slots = res.row + 2;
      const int64_t count = static_cast<int64_t>(res.row[1]);
      std::sort(slots, slots + count);
      for (int64_t t = 0; t < k; ++t) {
        const uint64_t w = t < count ? slots[t] : kEmpty;
        const uint32_t high = static_cast<uint32_t>(w >> 32);
        if (scores) {
          const float f = w == kEmpty ? -std::numeric_limits<float>::infinity() : rankScore(high);
          std::memcpy(keys + r * k + t, &f, 4);
        } else {
          keys[r * k + t] = w == kEmpty ? std::numeric_limits<int32_t>::max() : static_cast<int32_t>(high);
        }
        ids[r * k + t] = w == kEmpty ? -1 : static_cast<int32_t>(w & 0xffffffffu);
      }
    }
  });
  return out;
})

}  // namespace

const char* hammingKernelName() { return hammingKernel.name; }

void registerKnn(Registry& r) {
  r.insert(r.end(), {{"knnMergeScores", knnMergeScores},
                     {"knnMergeHamming", knnMergeHamming},
                     {"knnFinish", knnFinish}});
}

}  // namespace ns
