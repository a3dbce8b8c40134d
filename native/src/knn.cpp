// Exact k-nearest-neighbour selection for evaluation.
//
// Each query row keeps its best candidates in a reservoir of packed (key, gallery index) words, ranked
// by key then gallery index ascending (topk.h, shared with the search kernels of scan.cpp): a total order,
// so the selected set and its sorted order do not depend on the order in which tiles are merged, nor on
// thread scheduling: ties are broken by gallery index, ascending. The state is an int64 tensor with one
// reservoir row [threshold, count, 2k slots] per query.
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

#include <algorithm>
#include <cstring>
#include <limits>
#include <vector>

#include "common.h"
#include "hamming.h"
#include "topk.h"

namespace ns {
namespace {

constexpr uint64_t kEmpty = kEmptyWord;

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

const HammingBlock hammingBlock = bestHammingKernel().fn;

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

const char* hammingKernelName() { return bestHammingKernel().name; }

void registerKnn(Registry& r) {
  r.insert(r.end(), {{"knnMergeScores", knnMergeScores},
                     {"knnMergeHamming", knnMergeHamming},
                     {"knnFinish", knnFinish}});
}

}  // namespace ns
