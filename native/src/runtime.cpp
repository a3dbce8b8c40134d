// Runtime: handle disposal, memory accounting, threads, CUDA queries and version.
#include <torch/version.h>

#include "common.h"

namespace ns {

// Disposing a stale handle (already freed) does nothing.
NS_FN_VALUE(dispose, {
  releaseHandle(info, 0);
  return info.Env().Undefined();
})
NS_FN_VALUE(isDisposed, { return Napi::Boolean::New(info.Env(), !isLiveHandle(info, 0)); })
NS_FN_VALUE(memory, {
  auto o = Napi::Object::New(info.Env());
  o.Set("liveTensors", Napi::Number::New(info.Env(), static_cast<double>(stats().liveHandles.load())));
  o.Set("bytes", Napi::Number::New(info.Env(), static_cast<double>(stats().reportedBytes.load())));
  return o;
})
NS_FN_VALUE(setNumThreads, {
  at::set_num_threads(static_cast<int>(NS_INT(0)));
  return info.Env().Undefined();
})
NS_FN_VALUE(getNumThreads, { return Napi::Number::New(info.Env(), at::get_num_threads()); })
NS_FN_VALUE(cudaIsAvailable, { return Napi::Boolean::New(info.Env(), torch::cuda::is_available()); })
NS_FN_VALUE(cudaDeviceCount, { return Napi::Number::New(info.Env(), static_cast<double>(torch::cuda::device_count())); })
NS_FN_VALUE(cudaSynchronize, {
  if (torch::cuda::is_available()) torch::cuda::synchronize(isMissing(info, 0) ? -1 : NS_INT(0));
  return info.Env().Undefined();
})
NS_FN_VALUE(version, {
  auto o = Napi::Object::New(info.Env());
  o.Set("torch", Napi::String::New(info.Env(), TORCH_VERSION));
  o.Set("parallel", Napi::String::New(info.Env(), at::get_parallel_info()));
  o.Set("hammingKernel", Napi::String::New(info.Env(), hammingKernelName()));
  return o;
})

void registerRuntime(Registry& r) {
  r.insert(r.end(), {{"dispose", dispose}, {"isDisposed", isDisposed}, {"memory", memory},
                     {"setNumThreads", setNumThreads}, {"getNumThreads", getNumThreads},
                     {"cudaIsAvailable", cudaIsAvailable}, {"cudaDeviceCount", cudaDeviceCount},
                     {"cudaSynchronize", cudaSynchronize}, {"version", version}});
}

}  // namespace ns
