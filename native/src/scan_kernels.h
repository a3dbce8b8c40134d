// The float scan of scan.h, written once for the SIMD instruction sets: scan_avx2.cpp and scan_avx512.cpp
// include this file inside their target region and anonymous namespace, after defining `struct Isa`:
//   W (lanes: queries per vector), NR (rows per micro-kernel; two query vectors go with them),
//   V, zero(), load(const float*), set1(float), fma(a, b, c) = a * b + c rounded once, mul(a, b),
//   store(float*, V), notLess(s, t) (lane bits where !(s < t), NaN included),
//   decodeF16(const uint8_t* src, int64_t n, float* dst), decodeI8(const int8_t* src, int64_t n, float* dst),
//   PanelQueries (the most queries of the rows-across-lanes path), PanelQ (queries per panel micro-kernel),
//   transpose(rows, k0, count, out) (out[c * W + l] = rows[l][k0 + c] for c < count <= W).
// No include guard: each includer gets its own copy, compiled for its instruction set.
//
// The queries of a block lie across the lanes of a vector and a stored value is broadcast, so each lane
// accumulates one (query, row) dot product in the order of scan.h: fma over j = 0 .. dim-1, the same
// order as the scalar kernel. A tile of rows (about 32 KiB) is scanned by every block of queries in turn
// while it is in cache; float32 rows are read where they are stored, f16 and i8 ones are converted into
// a tile buffer first (exactly), and a row subset is only a list of row pointers.
//
// A batch of a few queries would leave most lanes empty; there the roles swap: a panel of W rows is
// transposed (component-major) and a query's value is broadcast, so the lanes hold W rows. Each lane
// still runs the same fma chain, so both paths give the same bits.

// Lanes of query block `block` that hold queries (the last block may be partly padding).
inline uint32_t laneMaskOf(int64_t block, int64_t nq) {
  const int64_t left = nq - block * Isa::W;
  return left >= Isa::W ? static_cast<uint32_t>((uint64_t{1} << Isa::W) - 1)
                        : static_cast<uint32_t>((uint64_t{1} << left) - 1);
}

inline void offerLanes(Isa::V scores, uint32_t bits, int64_t block, int32_t row, Selection& sel) {
  alignas(64) float s[Isa::W];
  Isa::store(s, scores);
  while (bits != 0) {
    const int lane = __builtin_ctz(bits);
    sel.offerScore(block * Isa::W + lane, row, s[lane]);
    bits &= bits - 1;
  }
}

struct FloatTile {
  const float* const* rows;  // NR pointers per group; missing rows point at zeros
  const int32_t* ids;
  const float* scales;  // per tile row, or null
  int64_t dim;
  int64_t nq;
};

// M query blocks (from `block`) against NR rows (nvalid of them real).
template <int M>
inline void floatMicro(const FloatTile& t, const float* queries, int64_t block, int64_t j0, int nvalid,
                       Selection& sel) {
  using V = Isa::V;
  constexpr int NR = Isa::NR;
  const int64_t dim = t.dim;
  const int64_t blockStride = dim * Isa::W;
  const float* q = queries + block * blockStride;
  const float* r[NR];
#pragma GCC unroll 16
  for (int j = 0; j < NR; ++j) r[j] = t.rows[j0 + j];
  V acc[M][NR];
#pragma GCC unroll 16
  for (int m = 0; m < M; ++m) {
#pragma GCC unroll 16
    for (int j = 0; j < NR; ++j) acc[m][j] = Isa::zero();
  }
  for (int64_t k = 0; k < dim; ++k) {
    V qv[M];
#pragma GCC unroll 16
    for (int m = 0; m < M; ++m) qv[m] = Isa::load(q + m * blockStride + k * Isa::W);
#pragma GCC unroll 16
    for (int j = 0; j < NR; ++j) {
      const V b = Isa::set1(r[j][k]);
#pragma GCC unroll 16
      for (int m = 0; m < M; ++m) acc[m][j] = Isa::fma(qv[m], b, acc[m][j]);
    }
  }
  // The sums leave the registers here, so that the accumulators are only ever indexed by constants
  // (a variable index would keep them all in memory).
  alignas(64) float sums[M][NR][Isa::W];
#pragma GCC unroll 16
  for (int m = 0; m < M; ++m) {
#pragma GCC unroll 16
    for (int j = 0; j < NR; ++j) Isa::store(sums[m][j], acc[m][j]);
  }
  const float* thresholds = sel.scoreThresholds();
  for (int m = 0; m < M; ++m) {
    const V threshold = Isa::load(thresholds + (block + m) * Isa::W);
    const uint32_t lanes = laneMaskOf(block + m, t.nq);
    for (int j = 0; j < nvalid; ++j) {
      V s = Isa::load(sums[m][j]);
      if (t.scales != nullptr) s = Isa::mul(s, Isa::set1(t.scales[j0 + j]));
      const uint32_t bits = Isa::notLess(s, threshold) & lanes;
      if (bits != 0) offerLanes(s, bits, block + m, t.ids[j0 + j], sel);
    }
  }
}

template <int M>
inline void floatBlocks(const FloatTile& t, const float* queries, int64_t block, int64_t count, Selection& sel) {
  for (int64_t j0 = 0; j0 < count; j0 += Isa::NR) {
    const int nvalid = static_cast<int>(std::min<int64_t>(Isa::NR, count - j0));
    floatMicro<M>(t, queries, block, j0, nvalid, sel);
  }
}

// ---- a few queries: rows across the lanes ----
constexpr int kPanels = 4;  // panels of W rows per tile: independent chains for one query

// Q queries (from q0) against the kPanels transposed panels of a tile (count rows real).
template <int Q>
inline void panelMicro(const FloatJob& job, const float* panels, const int32_t* ids, const float* scales,
                       int64_t count, int64_t q0, Selection& sel) {
  using V = Isa::V;
  constexpr int W = Isa::W;
  const int64_t dim = job.dim;
  const float* x[Q];
#pragma GCC unroll 8
  for (int i = 0; i < Q; ++i) {
    // The packed queries' lane layout: query q, component j at ((q / W) * dim + j) * W + q % W.
    const int64_t q = q0 + i;
    x[i] = job.packedQueries + (q / W) * dim * W + q % W;
  }
  V acc[Q][kPanels];
#pragma GCC unroll 8
  for (int i = 0; i < Q; ++i) {
#pragma GCC unroll 8
    for (int p = 0; p < kPanels; ++p) acc[i][p] = Isa::zero();
  }
  for (int64_t k = 0; k < dim; ++k) {
    V v[kPanels];
#pragma GCC unroll 8
    for (int p = 0; p < kPanels; ++p) v[p] = Isa::load(panels + (p * dim + k) * W);
#pragma GCC unroll 8
    for (int i = 0; i < Q; ++i) {
      const V b = Isa::set1(x[i][k * W]);
#pragma GCC unroll 8
      for (int p = 0; p < kPanels; ++p) acc[i][p] = Isa::fma(b, v[p], acc[i][p]);
    }
  }
  alignas(64) float sums[Q][kPanels][W];
#pragma GCC unroll 8
  for (int i = 0; i < Q; ++i) {
#pragma GCC unroll 8
    for (int p = 0; p < kPanels; ++p) Isa::store(sums[i][p], acc[i][p]);
  }
  const float* thresholds = sel.scoreThresholds();
  for (int i = 0; i < Q; ++i) {
    const V threshold = Isa::set1(thresholds[q0 + i]);
    for (int p = 0; p < kPanels && p * W < count; ++p) {
      const int64_t valid = std::min<int64_t>(W, count - p * W);
      V s = Isa::load(sums[i][p]);
      if (scales != nullptr) s = Isa::mul(s, Isa::load(scales + p * W));
      uint32_t bits = Isa::notLess(s, threshold) & static_cast<uint32_t>((uint64_t{1} << valid) - 1);
      if (bits == 0) continue;
      alignas(64) float out[W];
      Isa::store(out, s);
      for (; bits != 0; bits &= bits - 1) {
        const int lane = __builtin_ctz(bits);
        sel.offerScore(q0 + i, ids[p * W + lane], out[lane]);
      }
    }
  }
}

inline void scanPanels(const FloatJob& job, const float* const* rows, const int32_t* ids, const float* scales,
                       int64_t count, float* panels, Selection& sel) {
  constexpr int W = Isa::W;
  const int64_t dim = job.dim;
  for (int p = 0; p < kPanels; ++p) {
    for (int64_t k0 = 0; k0 < dim; k0 += W) {
      Isa::transpose(rows + p * W, k0, static_cast<int>(std::min<int64_t>(W, dim - k0)), panels + (p * dim + k0) * W);
    }
  }
  for (int64_t q0 = 0; q0 < job.nq;) {
    const int64_t left = job.nq - q0;
    if (Isa::PanelQ >= 4 && left >= 4) {
      panelMicro<Isa::PanelQ >= 4 ? 4 : 1>(job, panels, ids, scales, count, q0, sel);
      q0 += Isa::PanelQ >= 4 ? 4 : 1;
    } else if (left >= 2) {
      panelMicro<2>(job, panels, ids, scales, count, q0, sel);
      q0 += 2;
    } else {
      panelMicro<1>(job, panels, ids, scales, count, q0, sel);
      q0 += 1;
    }
  }
}

void scanFloatTiles(const FloatJob& job, Selection& sel, int64_t begin, int64_t end) {
  constexpr int NR = Isa::NR;
  const int64_t dim = job.dim;
  const bool byPanels = job.nq <= Isa::PanelQueries;
  // Float32 rows are read in place, except by panels: the transposition reads 16 rows at once, which the
  // hardware prefetchers do not follow; a copy first reads them in order.
  const bool direct = !byPanels && job.stored == Stored::F32 &&
                      reinterpret_cast<uintptr_t>(job.vectors) % alignof(float) == 0;
  const int64_t tile = byPanels ? kPanels * Isa::W : std::max<int64_t>(NR, (32768 / (dim * 4)) / NR * NR);
  std::vector<float> panels(byPanels ? static_cast<size_t>(kPanels * Isa::W * dim) : 0);
  std::vector<float> buffer(direct ? 0 : static_cast<size_t>(tile * dim));
  std::vector<float> zeros(static_cast<size_t>(dim), 0.0f);
  std::vector<const float*> rows(static_cast<size_t>(tile + NR), zeros.data());
  std::vector<int32_t> ids(static_cast<size_t>(tile + NR), 0);
  std::vector<float> scales(job.rowScales != nullptr ? static_cast<size_t>(tile + NR) : 0);
  const int64_t blocks = (job.nq + Isa::W - 1) / Isa::W;
  const size_t valueBytes = job.stored == Stored::F32 ? 4 : job.stored == Stored::F16 ? 2 : 1;
  FloatTile t{rows.data(), ids.data(), job.rowScales != nullptr ? scales.data() : nullptr, dim, job.nq};
  for (int64_t t0 = begin; t0 < end; t0 += tile) {
    const int64_t count = std::min(tile, end - t0);
    for (int64_t i = 0; i < count; ++i) {
      const int32_t row = job.rows.at(t0 + i);
      const uint8_t* src = job.vectors + static_cast<size_t>(row) * static_cast<size_t>(dim) * valueBytes;
      ids[i] = row;
      if (job.rowScales != nullptr) scales[i] = job.rowScales[row];
      if (direct) {
        rows[i] = reinterpret_cast<const float*>(src);
        continue;
      }
      float* dst = buffer.data() + i * dim;
      if (job.stored == Stored::F32) {
        std::memcpy(dst, src, static_cast<size_t>(dim) * 4);
      } else if (job.stored == Stored::F16) {
        Isa::decodeF16(src, dim, dst);
      } else {
        Isa::decodeI8(reinterpret_cast<const int8_t*>(src), dim, dst);
      }
      rows[i] = dst;
    }
    for (int64_t i = count; i < tile + NR; ++i) rows[i] = zeros.data();
    if (byPanels) {
      scanPanels(job, rows.data(), ids.data(), t.scales, count, panels.data(), sel);
      continue;
    }
    for (int64_t b = 0; b < blocks;) {
      if (blocks - b >= 2) {
        floatBlocks<2>(t, job.packedQueries, b, count, sel);
        b += 2;
      } else {
        floatBlocks<1>(t, job.packedQueries, b, count, sel);
        b += 1;
      }
    }
  }
}
