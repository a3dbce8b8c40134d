// Autocast: libtorch's automatic mixed precision switch (what torch.autocast drives), per device type.
// Its state is thread-local in libtorch: a worker thread that runs a forward must set it itself.
// libtorch 2.4 replaced the per-device functions (set_cpu_enabled, set_autocast_cpu_dtype, ...) by
// ones taking a DeviceType; both are supported.
#include <ATen/autocast_mode.h>
#include <torch/version.h>

#include "common.h"

#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
#define NS_AUTOCAST_BY_DEVICE_TYPE 1
#endif

namespace ns {
namespace {

// "cpu" or "cuda" (the TypeScript wrapper checks the name first).
at::DeviceType autocastDeviceArg(const Napi::CallbackInfo& info, size_t i) {
  std::string name = stringArg(info, i);
  if (name == "cpu") return at::kCPU;
  if (name == "cuda") return at::kCUDA;
  throw Napi::TypeError::New(info.Env(), "autocast: expected device type 'cpu' or 'cuda', got '" + name + "'");
}

bool autocastEnabled(at::DeviceType d) {
#ifdef NS_AUTOCAST_BY_DEVICE_TYPE
  return at::autocast::is_autocast_enabled(d);
#else
  return d == at::kCPU ? at::autocast::is_cpu_enabled() : at::autocast::is_enabled();
#endif
}

void setAutocastEnabled(at::DeviceType d, bool enabled) {
#ifdef NS_AUTOCAST_BY_DEVICE_TYPE
  at::autocast::set_autocast_enabled(d, enabled);
#else
  if (d == at::kCPU) at::autocast::set_cpu_enabled(enabled);
  else at::autocast::set_enabled(enabled);
#endif
}

at::ScalarType autocastDtype(at::DeviceType d) {
#ifdef NS_AUTOCAST_BY_DEVICE_TYPE
  return at::autocast::get_autocast_dtype(d);
#else
  return d == at::kCPU ? at::autocast::get_autocast_cpu_dtype() : at::autocast::get_autocast_gpu_dtype();
#endif
}

void setAutocastDtype(at::DeviceType d, at::ScalarType dtype) {
#ifdef NS_AUTOCAST_BY_DEVICE_TYPE
  at::autocast::set_autocast_dtype(d, dtype);
#else
  if (d == at::kCPU) at::autocast::set_autocast_cpu_dtype(dtype);
  else at::autocast::set_autocast_gpu_dtype(dtype);
#endif
}

}  // namespace

// autocastState(deviceType) -> { enabled, dtype (code) } of this thread.
NS_FN_VALUE(autocastState, {
  auto d = autocastDeviceArg(info, 0);
  auto o = Napi::Object::New(info.Env());
  o.Set("enabled", Napi::Boolean::New(info.Env(), autocastEnabled(d)));
  o.Set("dtype", Napi::Number::New(info.Env(), static_cast<double>(autocastDtype(d))));
  return o;
})
// autocastSet(deviceType, enabled, dtype): the dtype is that of the lower-precision ops (kBFloat16 or kHalf).
NS_FN_VALUE(autocastSet, {
  auto d = autocastDeviceArg(info, 0);
  bool enabled = NS_BOOL(1);
  auto dtype = dtypeArg(info, 2);
  if (dtype != at::kBFloat16 && dtype != at::kHalf) {
    throw Napi::TypeError::New(info.Env(), "autocast: the dtype must be bfloat16 or float16");
  }
  setAutocastDtype(d, dtype);
  setAutocastEnabled(d, enabled);
  return info.Env().Undefined();
})
// Nesting depth of autocast regions (shared by all device types, as in torch.autocast): returns the new depth.
NS_FN_VALUE(autocastIncrementNesting,
            { return Napi::Number::New(info.Env(), static_cast<double>(at::autocast::increment_nesting())); })
NS_FN_VALUE(autocastDecrementNesting,
            { return Napi::Number::New(info.Env(), static_cast<double>(at::autocast::decrement_nesting())); })
// Frees the lower-precision copies of weights cached inside an autocast region (torch.autocast does this
// when the outermost region ends).
NS_FN_VALUE(autocastClearCache, {
  at::autocast::clear_cache();
  return info.Env().Undefined();
})

void registerAutocast(Registry& r) {
  r.insert(r.end(), {{"autocastState", autocastState},
                     {"autocastSet", autocastSet},
                     {"autocastIncrementNesting", autocastIncrementNesting},
                     {"autocastDecrementNesting", autocastDecrementNesting},
                     {"autocastClearCache", autocastClearCache}});
}

}  // namespace ns
