#include "common.h"

#include <ATen/CPUGeneratorImpl.h>

namespace ns {

Stats& stats() {
  static Stats s;
  return s;
}

static int64_t storageBytes(const at::Tensor& t) {
  if (!t.defined() || !t.has_storage() || !t.device().is_cpu()) return 0;
  return static_cast<int64_t>(t.storage().nbytes());
}

void release(Napi::Env env, Holder* h) {
  if (!h->tensor.defined()) return;
  if (h->reportedBytes != 0) {
    Napi::MemoryManagement::AdjustExternalMemory(env, -h->reportedBytes);
    stats().reportedBytes -= h->reportedBytes;
    h->reportedBytes = 0;
  }
  stats().liveHandles -= 1;
  h->tensor.reset();
}

Napi::Value wrap(Napi::Env env, at::Tensor t) {
  if (!t.defined()) return env.Null();
  auto* h = new Holder{std::move(t), 0};
  h->reportedBytes = storageBytes(h->tensor);
  if (h->reportedBytes != 0) {
    Napi::MemoryManagement::AdjustExternalMemory(env, h->reportedBytes);
    stats().reportedBytes += h->reportedBytes;
  }
  stats().liveHandles += 1;
  return Napi::External<Holder>::New(env, h, [](Napi::Env e, Holder* p) {
    release(e, p);
    delete p;
  });
}

Napi::Value wrapList(Napi::Env env, const std::vector<at::Tensor>& ts) {
  auto arr = Napi::Array::New(env, ts.size());
  for (size_t i = 0; i < ts.size(); ++i) arr.Set(static_cast<uint32_t>(i), wrap(env, ts[i]));
  return arr;
}

static Napi::Error argError(const Napi::CallbackInfo& info, size_t i, const char* expected) {
  return Napi::TypeError::New(info.Env(), "argument " + std::to_string(i) + ": expected " + expected);
}

at::Tensor& tensorArg(const Napi::CallbackInfo& info, size_t i) {
  if (i >= info.Length() || !info[i].IsExternal()) throw argError(info, i, "a tensor handle");
  auto* h = info[i].As<Napi::External<Holder>>().Data();
  if (!h->tensor.defined()) throw Napi::Error::New(info.Env(), "tensor used after dispose()");
  return h->tensor;
}

bool isMissing(const Napi::CallbackInfo& info, size_t i) {
  return i >= info.Length() || info[i].IsUndefined() || info[i].IsNull();
}

c10::optional<at::Tensor> optTensorArg(const Napi::CallbackInfo& info, size_t i) {
  if (isMissing(info, i)) return c10::nullopt;
  return tensorArg(info, i);
}

std::vector<at::Tensor> tensorListArg(const Napi::CallbackInfo& info, size_t i) {
  if (i >= info.Length() || !info[i].IsArray()) throw argError(info, i, "an array of tensors");
  auto arr = info[i].As<Napi::Array>();
  std::vector<at::Tensor> out;
  out.reserve(arr.Length());
  for (uint32_t k = 0; k < arr.Length(); ++k) {
    Napi::Value v = arr.Get(k);
    if (!v.IsExternal()) throw argError(info, i, "an array of tensors");
    auto* h = v.As<Napi::External<Holder>>().Data();
    if (!h->tensor.defined()) throw Napi::Error::New(info.Env(), "tensor used after dispose()");
    out.push_back(h->tensor);
  }
  return out;
}

std::vector<int64_t> intsArg(const Napi::CallbackInfo& info, size_t i) {
  if (i >= info.Length() || !info[i].IsArray()) throw argError(info, i, "an array of integers");
  auto arr = info[i].As<Napi::Array>();
  std::vector<int64_t> out(arr.Length());
  for (uint32_t k = 0; k < arr.Length(); ++k) {
    Napi::Value v = arr.Get(k);
    if (!v.IsNumber()) throw argError(info, i, "an array of integers");
    out[k] = v.As<Napi::Number>().Int64Value();
  }
  return out;
}

c10::optional<std::vector<int64_t>> optIntsArg(const Napi::CallbackInfo& info, size_t i) {
  if (isMissing(info, i)) return c10::nullopt;
  return intsArg(info, i);
}

int64_t intArg(const Napi::CallbackInfo& info, size_t i) {
  if (i >= info.Length() || !info[i].IsNumber()) throw argError(info, i, "an integer");
  return info[i].As<Napi::Number>().Int64Value();
}

double doubleArg(const Napi::CallbackInfo& info, size_t i) {
  if (i >= info.Length() || !info[i].IsNumber()) throw argError(info, i, "a number");
  return info[i].As<Napi::Number>().DoubleValue();
}

c10::optional<double> optDoubleArg(const Napi::CallbackInfo& info, size_t i) {
  if (isMissing(info, i)) return c10::nullopt;
  return doubleArg(info, i);
}

bool boolArg(const Napi::CallbackInfo& info, size_t i) {
  if (i >= info.Length() || !info[i].IsBoolean()) throw argError(info, i, "a boolean");
  return info[i].As<Napi::Boolean>().Value();
}

std::string stringArg(const Napi::CallbackInfo& info, size_t i) {
  if (i >= info.Length() || !info[i].IsString()) throw argError(info, i, "a string");
  return info[i].As<Napi::String>().Utf8Value();
}

bool isNumber(const Napi::CallbackInfo& info, size_t i) { return i < info.Length() && info[i].IsNumber(); }

// Integral JS numbers become integer scalars (so int tensors stay int), others doubles:
// the same promotion rules as Python's int/float.
at::Scalar scalarArg(const Napi::CallbackInfo& info, size_t i) {
  if (i < info.Length() && info[i].IsBoolean()) return at::Scalar(info[i].As<Napi::Boolean>().Value());
  double d = doubleArg(info, i);
  if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.007199254740992e15) {
    return at::Scalar(static_cast<int64_t>(d));
  }
  return at::Scalar(d);
}

at::ScalarType dtypeArg(const Napi::CallbackInfo& info, size_t i) {
  int64_t code = intArg(info, i);
  switch (static_cast<at::ScalarType>(code)) {
    case at::kByte:
    case at::kChar:
    case at::kShort:
    case at::kInt:
    case at::kLong:
    case at::kHalf:
    case at::kFloat:
    case at::kDouble:
    case at::kBool:
    case at::kBFloat16:
      return static_cast<at::ScalarType>(code);
    default:
      throw Napi::TypeError::New(info.Env(), "unsupported dtype code " + std::to_string(code));
  }
}

c10::optional<at::ScalarType> optDtypeArg(const Napi::CallbackInfo& info, size_t i) {
  if (isMissing(info, i)) return c10::nullopt;
  return dtypeArg(info, i);
}

at::Device deviceArg(const Napi::CallbackInfo& info, size_t i) {
  if (isMissing(info, i)) return at::Device(at::kCPU);
  auto device = at::Device(stringArg(info, i));
  // Without this check, creating on a missing CUDA device fails deep in the dispatcher with a
  // page-long message that never says CUDA is unavailable.
  if (device.is_cuda()) {
    auto count = static_cast<int64_t>(torch::cuda::device_count());
    if (count == 0) {
      throw Napi::Error::New(info.Env(), "device '" + device.str() +
                                             "' requested but CUDA is not available (cuda.deviceCount() is 0)");
    }
    if (device.has_index() && device.index() >= count) {
      throw Napi::Error::New(info.Env(), "device '" + device.str() + "' requested but only " +
                                             std::to_string(count) + " CUDA device(s) exist");
    }
  }
  return device;
}

at::TensorOptions optionsArg(const Napi::CallbackInfo& info, size_t dtypeIndex, size_t deviceIndex) {
  auto opts = at::TensorOptions().device(deviceArg(info, deviceIndex));
  if (!isMissing(info, dtypeIndex)) opts = opts.dtype(dtypeArg(info, dtypeIndex));
  return opts;
}

c10::optional<at::Generator> generatorArg(const Napi::CallbackInfo& info, size_t i) {
  if (isMissing(info, i)) return c10::nullopt;
  if (!info[i].IsExternal()) throw argError(info, i, "a generator handle");
  return *info[i].As<Napi::External<at::Generator>>().Data();
}

}  // namespace ns

static Napi::Object init(Napi::Env env, Napi::Object exports) {
  ns::Registry r;
  ns::registerCreation(r);
  ns::registerShape(r);
  ns::registerPointwise(r);
  ns::registerReduce(r);
  ns::registerNn(r);
  ns::registerAutograd(r);
  ns::registerRuntime(r);
  ns::registerBits(r);
  ns::registerImage(r);
  ns::registerKnn(r);
  for (auto& [name, fn] : r) exports.Set(name, Napi::Function::New(env, fn, name));
  return exports;
}

NODE_API_MODULE(normsoftmax, init)
