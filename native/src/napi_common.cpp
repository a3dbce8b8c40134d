// Argument decoding shared by both addons (napi_common.h).
#include "napi_common.h"

#include <cmath>
#include <sstream>

namespace ns {

Napi::Error argError(const Napi::CallbackInfo& info, size_t i, const char* expected) {
  return Napi::TypeError::New(info.Env(), "argument " + std::to_string(i) + ": expected " + expected);
}

bool toInt64(double d, int64_t* out) {
  if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0) || d != std::trunc(d)) return false;
  *out = static_cast<int64_t>(d);
  return true;
}

Napi::Error notAnInteger(const Napi::CallbackInfo& info, size_t i, double d, const char* expected) {
  std::ostringstream got;
  got.precision(17);
  got << d;
  return Napi::RangeError::New(info.Env(), "argument " + std::to_string(i) + ": expected " + expected +
                                               " (in int64 range), got " + got.str());
}

int64_t intArg(const Napi::CallbackInfo& info, size_t i) {
  if (i >= info.Length() || !info[i].IsNumber()) throw argError(info, i, "an integer");
  const double d = info[i].As<Napi::Number>().DoubleValue();
  int64_t v = 0;
  if (!toInt64(d, &v)) throw notAnInteger(info, i, d, "an integer");
  return v;
}

bool boolArg(const Napi::CallbackInfo& info, size_t i) {
  if (i >= info.Length() || !info[i].IsBoolean()) throw argError(info, i, "a boolean");
  return info[i].As<Napi::Boolean>().Value();
}

Napi::Object exportAll(Napi::Env env, Napi::Object exports, const Registry& r) {
  for (const auto& [name, fn] : r) exports.Set(name, Napi::Function::New(env, fn, name));
  return exports;
}

}  // namespace ns
