// The running top-k of the exact k-NN kernels (knn.cpp for evaluation, scan.cpp for search), shared so
// that both rank candidates by the same rule.
//
// A candidate is packed into one 64-bit word that orders exactly as the ranking rule:
//   high 32 bits: the key mapped to an unsigned integer that grows as the candidate gets worse
//                 (Hamming: the distance; inner product: the float's order-preserving bits, inverted);
//   low 32 bits:  the row (gallery index).
// So "better" is "smaller word": a better key wins; equal keys -> the smaller row wins. This is a total
// order (rows are distinct), so the selected set and its sorted order do not depend on the order in which
// candidates arrive, nor on tiling or thread scheduling. (-0 and +0 count as equal.)
//
// Each query keeps its best candidates in a reservoir (as faiss' ReservoirTopN): one row
// [threshold, count, slots...] with 2k slots. A word below the row's threshold is appended; when the
// slots are full, nth_element keeps the k best and the threshold drops to the k-th best, so most
// candidates are rejected by one comparison and an accepted one costs O(1) amortised.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>

namespace ns {

constexpr uint64_t kEmptyWord = std::numeric_limits<uint64_t>::max();

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
  // Whether the word was kept (for now).
  bool offer(uint64_t word) {
    if (word >= row[0]) return false;
    uint64_t& count = row[1];
    row[2 + count] = word;
    if (++count == static_cast<uint64_t>(capacity)) shrink(capacity);
    return true;
  }
};

}  // namespace ns
