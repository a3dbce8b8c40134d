// Shared helpers of the addon: tensor handles, argument decoding and error translation.
// Every exported function is wrapped in NS_GUARD so that libtorch exceptions reach JS as Errors.
#pragma once

#include <napi.h>
#include <torch/torch.h>

#include "napi_common.h"

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

namespace ns {

struct Stats {
  std::atomic<int64_t> liveHandles{0};
  std::atomic<int64_t> reportedBytes{0};
};
Stats& stats();

// A tensor handle for JS (a BigInt naming a slot of a per-environment table, which is the addon's
// instance data); null for an undefined tensor. Several handles may share one storage (views);
// each counts its storage size in memory() until released.
// V8 is told about a tensor's bytes only once it is handed over to the garbage collector (no scope
// owns it): a scope's tensors stay reachable until the scope frees them, so reporting them would
// only trigger collections that cannot free anything.
Napi::Value wrap(Napi::Env env, at::Tensor t);
Napi::Value wrapList(Napi::Env env, const std::vector<at::Tensor>& ts);
// Frees the tensor behind handle argument i; false when it was already freed (a stale handle).
bool releaseHandle(const Napi::CallbackInfo& info, size_t i);
bool isLiveHandle(const Napi::CallbackInfo& info, size_t i);
// Reports the bytes of the live tensors in handle array argument i to V8 (once per tensor).
void handOverToGc(const Napi::CallbackInfo& info, size_t i);

at::Tensor& tensorArg(const Napi::CallbackInfo& info, size_t i);
c10::optional<at::Tensor> optTensorArg(const Napi::CallbackInfo& info, size_t i);
std::vector<at::Tensor> tensorListArg(const Napi::CallbackInfo& info, size_t i);
std::vector<int64_t> intsArg(const Napi::CallbackInfo& info, size_t i);
c10::optional<std::vector<int64_t>> optIntsArg(const Napi::CallbackInfo& info, size_t i);
double doubleArg(const Napi::CallbackInfo& info, size_t i);
c10::optional<double> optDoubleArg(const Napi::CallbackInfo& info, size_t i);
std::string stringArg(const Napi::CallbackInfo& info, size_t i);
at::Scalar scalarArg(const Napi::CallbackInfo& info, size_t i);
bool isNumber(const Napi::CallbackInfo& info, size_t i);
bool isMissing(const Napi::CallbackInfo& info, size_t i);
at::ScalarType dtypeArg(const Napi::CallbackInfo& info, size_t i);
c10::optional<at::ScalarType> optDtypeArg(const Napi::CallbackInfo& info, size_t i);
at::Device deviceArg(const Napi::CallbackInfo& info, size_t i);
at::TensorOptions optionsArg(const Napi::CallbackInfo& info, size_t dtypeIndex, size_t deviceIndex);
c10::optional<at::Generator> generatorArg(const Napi::CallbackInfo& info, size_t i);

// Sets the process's malloc policy for large tensors (allocator.cpp); the first load in the process
// applies it, later loads (worker threads) do nothing.
void configureAllocator();
// The Hamming distance kernel knn.cpp dispatches to ("avx512-vpopcntdq", "popcnt" or "portable").
const char* hammingKernelName();

void registerCreation(Registry& r);
void registerShape(Registry& r);
void registerPointwise(Registry& r);
void registerReduce(Registry& r);
void registerNn(Registry& r);
void registerAutograd(Registry& r);
void registerRuntime(Registry& r);
void registerBits(Registry& r);
void registerHandles(Registry& r);
void registerImage(Registry& r);
void registerKnn(Registry& r);
void registerScan(Registry& r);
void registerAllocator(Registry& r);

}  // namespace ns

#define NS_GUARD_BEGIN try {
#define NS_GUARD_END                                                         \
  }                                                                          \
  catch (const Napi::Error&) {                                               \
    throw;                                                                   \
  }                                                                          \
  catch (const c10::Error& e) {                                              \
    throw Napi::Error::New(info.Env(), e.what_without_backtrace());          \
  }                                                                          \
  catch (const std::exception& e) {                                          \
    throw Napi::Error::New(info.Env(), e.what());                            \
  }

// Defines an exported function whose body returns an at::Tensor (or any Napi::Value via NS_FN_VALUE).
#define NS_FN(name, ...)                                                    \
  static Napi::Value name(const Napi::CallbackInfo& info) {                  \
    NS_GUARD_BEGIN                                                           \
    return ::ns::wrap(info.Env(), [&]() -> at::Tensor { __VA_ARGS__ }());           \
    NS_GUARD_END                                                             \
  }

// An in-place update: runs body for its effect and returns undefined (the JS object is reused).
#define NS_INPLACE(name, ...)                                               \
  static Napi::Value name(const Napi::CallbackInfo& info) {                  \
    NS_GUARD_BEGIN                                                           \
    [&]() -> at::Tensor { __VA_ARGS__ }();                                          \
    return info.Env().Undefined();                                           \
    NS_GUARD_END                                                             \
  }

#define NS_FN_VALUE(name, ...)                                              \
  static Napi::Value name(const Napi::CallbackInfo& info) {                  \
    NS_GUARD_BEGIN                                                           \
    __VA_ARGS__                                                              \
    NS_GUARD_END                                                             \
  }

#define NS_T(i) ::ns::tensorArg(info, i)
#define NS_OPT_T(i) ::ns::optTensorArg(info, i)
#define NS_INTS(i) ::ns::intsArg(info, i)
#define NS_INT(i) ::ns::intArg(info, i)
#define NS_DOUBLE(i) ::ns::doubleArg(info, i)
#define NS_BOOL(i) ::ns::boolArg(info, i)
#define NS_SCALAR(i) ::ns::scalarArg(info, i)
