// What the N-API functions of both addons share, without libtorch: the table of exported functions,
// integer and boolean arguments, and a guard that turns C++ exceptions into JS errors. The libtorch
// addon's helpers (tensor handles, its own guard that also catches c10::Error) are in common.h; the
// search addon (search_addon.cpp) is built from files that include only this header, so that loading it
// never loads libtorch.
#pragma once

#include <napi.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace ns {

using Registry = std::vector<std::pair<const char*, Napi::Function::Callback>>;

// A JS number that is an integer in int64's range: Int64Value() would truncate 1.5 to 1, turn NaN
// into 0 and saturate 1e300.
int64_t intArg(const Napi::CallbackInfo& info, size_t i);
bool boolArg(const Napi::CallbackInfo& info, size_t i);

// "argument i: expected <expected>" (a TypeError).
Napi::Error argError(const Napi::CallbackInfo& info, size_t i, const char* expected);
// True, with *out set, when d is an integer in int64's range.
bool toInt64(double d, int64_t* out);
// "argument i: expected <expected> (in int64 range), got d" (a RangeError).
Napi::Error notAnInteger(const Napi::CallbackInfo& info, size_t i, double d, const char* expected);

// The exports of a Registry, each a function of its name.
Napi::Object exportAll(Napi::Env env, Napi::Object exports, const Registry& r);

}  // namespace ns

// For functions that call no libtorch: any C++ exception reaches JS as an Error with its message.
#define NS_STD_GUARD_BEGIN try {
#define NS_STD_GUARD_END                                            \
  }                                                                 \
  catch (const Napi::Error&) {                                      \
    throw;                                                          \
  }                                                                 \
  catch (const std::exception& e) {                                 \
    throw Napi::Error::New(info.Env(), e.what());                   \
  }
