// parallelFor (parallel.h) for the libtorch addon: libtorch's intra-op threads, as scan.cpp ran before
// the search addon existed (at most at::get_num_threads() at once; maxThreads is not needed).
#include <ATen/Parallel.h>

#include "parallel.h"

namespace ns {

void parallelFor(int64_t begin, int64_t end, int64_t grain, int64_t /*maxThreads*/,
                 const std::function<void(int64_t, int64_t)>& fn) {
  at::parallel_for(begin, end, grain, [&](int64_t b, int64_t e) { fn(b, e); });
}

}  // namespace ns
