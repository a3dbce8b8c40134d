// The threads of the search kernels (scan.cpp). The libtorch addon links parallel_aten.cpp, which runs
// on libtorch's intra-op threads (at::parallel_for, bounded by at::get_num_threads()); the search addon
// links search_parallel.cpp, which starts up to maxThreads std::threads for the call, so that it needs
// no libtorch. Callers must not depend on how the range is split: scan's results are the same at any
// split (its partitions are fixed by its own thread count; only where they run differs).
#pragma once

#include <cstdint>
#include <functional>

namespace ns {

// Calls fn(b, e) over disjoint ranges covering [begin, end), each of at least `grain` positions (the
// last may be shorter), on up to maxThreads threads at once, the caller's included; returns when all
// are done, rethrowing the first exception one of them threw.
void parallelFor(int64_t begin, int64_t end, int64_t grain, int64_t maxThreads,
                 const std::function<void(int64_t, int64_t)>& fn);

}  // namespace ns
