// The search addon (native/build/normsoftmax_search.node): the exact search kernels alone (scan*.cpp,
// hamming.cpp, simd.cpp), on std::threads (search_parallel.cpp) and without libtorch, and mapFile
// (search_mmap.cpp: an index's vectors memory-mapped), so that a process
// that only searches an index (search --id, the usearch engine's worker) starts in a fraction of the
// time: loading libtorch costs ~0.7 s. The libtorch addon exports the same functions, built from the
// same objects (src/tensor/search-native.ts falls back to it where this file is absent).
#include "napi_common.h"

namespace ns {
void registerScan(Registry& r);  // scan.cpp
void registerMmap(Registry& r);  // search_mmap.cpp
}  // namespace ns

static Napi::Object init(Napi::Env env, Napi::Object exports) {
  ns::Registry r;
  ns::registerScan(r);
  ns::registerMmap(r);
  return ns::exportAll(env, exports, r);
}

NODE_API_MODULE(normsoftmax_search, init)
