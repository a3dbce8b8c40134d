// parallelFor (parallel.h) for the search addon, without libtorch: the range is cut into up to
// maxThreads chunks of at least `grain` positions; the caller runs the first, a std::thread each of the
// others (started for the call: a scan is milliseconds, a thread's start some microseconds). A thread
// that cannot be started leaves its chunk to the caller.
#include <algorithm>
#include <exception>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

#include "parallel.h"

namespace ns {

void parallelFor(int64_t begin, int64_t end, int64_t grain, int64_t maxThreads,
                 const std::function<void(int64_t, int64_t)>& fn) {
  if (end <= begin) return;
  const int64_t range = end - begin;
  const int64_t g = std::max<int64_t>(1, grain);
  const int64_t tasks = std::max<int64_t>(1, std::min<int64_t>(maxThreads, (range + g - 1) / g));
  if (tasks == 1) {
    fn(begin, end);
    return;
  }
  const int64_t chunk = (range + tasks - 1) / tasks;
  std::exception_ptr failure;
  std::mutex failureLock;
  auto runChunk = [&](int64_t t) {
    const int64_t b = begin + t * chunk, e = std::min(end, b + chunk);
    if (b >= e) return;
    try {
      fn(b, e);
    } catch (...) {
      std::lock_guard<std::mutex> hold(failureLock);
      if (!failure) failure = std::current_exception();
    }
  };
  std::vector<std::thread> threads;
  std::vector<int64_t> leftOver;
  threads.reserve(static_cast<size_t>(tasks - 1));
  for (int64_t t = 1; t < tasks; ++t) {
    try {
      threads.emplace_back(runChunk, t);
    } catch (const std::system_error&) {
      leftOver.push_back(t);
    }
  }
  runChunk(0);
  for (int64_t t : leftOver) runChunk(t);
  for (std::thread& th : threads) th.join();
  if (failure) std::rethrow_exception(failure);
}

}  // namespace ns
