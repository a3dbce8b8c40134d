#include "common.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <deque>
#include <sstream>

namespace ns {

Stats& stats() {
  static Stats s;
  return s;
}

static int64_t storageBytes(const at::Tensor& t) {
  if (!t.defined() || !t.has_storage() || !t.device().is_cpu()) return 0;
  return static_cast<int64_t>(t.storage().nbytes());
}

// Tensor handles are BigInts: (generation << 32) | slot. Numbers stay free for scalar operands,
// and a stale handle (its slot freed and reused) is recognised by its generation. A BigInt costs
// a fraction of what an External with a finalizer did (~1.4 us per tensor, most of a small op);
// the GC backstop is a FinalizationRegistry on the JS side (src/tensor/tensor.ts).
namespace {

struct Slot {
  at::Tensor tensor;
  int64_t bytes = 0;        // CPU storage bytes, counted in memory()
  bool gcOwned = false;     // bytes also reported to V8 (see handOverToGc)
  uint32_t generation = 1;
};

// One table per JS environment (main thread or worker). A deque keeps references to slots valid
// while new tensors are added, so a tensor argument may be held across wrap().
constexpr int64_t kReportBatch = 256 * 1024;

struct HandleTable {
  std::deque<Slot> slots;
  std::vector<uint32_t> freeSlots;
  int64_t unreportedBytes = 0;  // owed to V8 by GC-owned tensors but not yet passed on

  Slot* find(uint64_t handle) {
    uint64_t index = handle & 0xffffffffu;
    if (index >= slots.size()) return nullptr;
    Slot& s = slots[index];
    return s.generation == static_cast<uint32_t>(handle >> 32) && s.tensor.defined() ? &s : nullptr;
  }
};

// At environment teardown V8 is going away: free the tensors without reporting to it.
void deleteTable(Napi::Env, HandleTable* table) {
  for (auto& s : table->slots) {
    if (!s.tensor.defined()) continue;
    stats().reportedBytes -= s.bytes;
    stats().liveHandles -= 1;
  }
  delete table;
}

HandleTable& handles(Napi::Env env) {
  auto* table = env.GetInstanceData<HandleTable>();
  if (table == nullptr) {
    table = new HandleTable();
    env.SetInstanceData<HandleTable, deleteTable>(table);
  }
  return *table;
}

// The handle in v (argument i of the call); a TypeError naming what was expected otherwise.
uint64_t handleValue(const Napi::CallbackInfo& info, napi_value v, size_t i, const char* expected) {
  int64_t handle = 0;
  bool lossless = false;
  if (v == nullptr || napi_get_value_bigint_int64(info.Env(), v, &handle, &lossless) != napi_ok) {
    throw argError(info, i, expected);
  }
  return static_cast<uint64_t>(handle);
}

napi_value argAt(const Napi::CallbackInfo& info, size_t i) {
  return i < info.Length() ? static_cast<napi_value>(info[i]) : nullptr;
}

// Tells V8 about native bytes in batches: a call per tensor showed in small-op profiles, and V8
// only needs the total to within a fraction of a megabyte to schedule collections.
void reportExternal(Napi::Env env, HandleTable& table, int64_t delta) {
  table.unreportedBytes += delta;
  if (table.unreportedBytes >= kReportBatch || table.unreportedBytes <= -kReportBatch) {
    Napi::MemoryManagement::AdjustExternalMemory(env, table.unreportedBytes);
    table.unreportedBytes = 0;
  }
}

void releaseSlot(Napi::Env env, Slot& s, HandleTable& table, uint32_t index) {
  if (s.gcOwned && s.bytes != 0) reportExternal(env, table, -s.bytes);
  stats().reportedBytes -= s.bytes;
  s.bytes = 0;
  s.gcOwned = false;
  stats().liveHandles -= 1;
  s.tensor.reset();
  s.generation = s.generation == 0x7fffffffu ? 1 : s.generation + 1;
  table.freeSlots.push_back(index);
}

}  // namespace

bool releaseHandle(const Napi::CallbackInfo& info, size_t i) {
  uint64_t handle = handleValue(info, argAt(info, i), i, "a tensor handle");
  auto& table = handles(info.Env());
  Slot* s = table.find(handle);
  if (s == nullptr) return false;
  releaseSlot(info.Env(), *s, table, static_cast<uint32_t>(handle & 0xffffffffu));
  return true;
}

bool isLiveHandle(const Napi::CallbackInfo& info, size_t i) {
  return handles(info.Env()).find(handleValue(info, argAt(info, i), i, "a tensor handle")) != nullptr;
}

void handOverToGc(const Napi::CallbackInfo& info, size_t i) {
  if (i >= info.Length() || !info[i].IsArray()) throw argError(info, i, "an array of tensor handles");
  auto arr = info[i].As<Napi::Array>();
  auto& table = handles(info.Env());
  uint32_t length = arr.Length();
  for (uint32_t k = 0; k < length; ++k) {
    Slot* s = table.find(handleValue(info, arr.Get(k), i, "an array of tensor handles"));
    if (s == nullptr || s->gcOwned) continue;
    s->gcOwned = true;
    if (s->bytes != 0) reportExternal(info.Env(), table, s->bytes);
  }
}

Napi::Value wrap(Napi::Env env, at::Tensor t) {
  if (!t.defined()) return env.Null();
  auto& table = handles(env);
  uint32_t index;
  if (!table.freeSlots.empty()) {
    index = table.freeSlots.back();
    table.freeSlots.pop_back();
  } else {
    if (table.slots.size() >= 0xffffffffu) throw Napi::Error::New(env, "too many live tensors");
    index = static_cast<uint32_t>(table.slots.size());
    table.slots.emplace_back();
  }
  Slot& s = table.slots[index];
  s.tensor = std::move(t);
  s.bytes = storageBytes(s.tensor);
  stats().reportedBytes += s.bytes;
  stats().liveHandles += 1;
  uint64_t handle = (static_cast<uint64_t>(s.generation) << 32) | index;
  return Napi::BigInt::New(env, static_cast<int64_t>(handle));
}

Napi::Value wrapList(Napi::Env env, const std::vector<at::Tensor>& ts) {
  auto arr = Napi::Array::New(env, ts.size());
  for (size_t i = 0; i < ts.size(); ++i) arr.Set(static_cast<uint32_t>(i), wrap(env, ts[i]));
  return arr;
}


static at::Tensor& lookup(const Napi::CallbackInfo& info, napi_value v, size_t i, const char* expected) {
  Slot* s = handles(info.Env()).find(handleValue(info, v, i, expected));
  if (s == nullptr) throw Napi::Error::New(info.Env(), "tensor used after dispose()");
  return s->tensor;
}

at::Tensor& tensorArg(const Napi::CallbackInfo& info, size_t i) {
  return lookup(info, argAt(info, i), i, "a tensor handle");
}

// One napi_typeof per check: each N-API call costs a few nanoseconds on every small op.
static napi_valuetype typeAt(const Napi::CallbackInfo& info, size_t i) {
  napi_valuetype type = napi_undefined;
  if (i < info.Length()) napi_typeof(info.Env(), info[i], &type);
  return type;
}

bool isMissing(const Napi::CallbackInfo& info, size_t i) {
  napi_valuetype type = typeAt(info, i);
  return type == napi_undefined || type == napi_null;
}

c10::optional<at::Tensor> optTensorArg(const Napi::CallbackInfo& info, size_t i) {
  if (isMissing(info, i)) return c10::nullopt;
  return tensorArg(info, i);
}

std::vector<at::Tensor> tensorListArg(const Napi::CallbackInfo& info, size_t i) {
  if (i >= info.Length() || !info[i].IsArray()) throw argError(info, i, "an array of tensors");
  auto arr = info[i].As<Napi::Array>();
  uint32_t length = arr.Length();
  std::vector<at::Tensor> out;
  out.reserve(length);
  for (uint32_t k = 0; k < length; ++k) out.push_back(lookup(info, arr.Get(k), i, "an array of tensors"));
  return out;
}

std::vector<int64_t> intsArg(const Napi::CallbackInfo& info, size_t i) {
  if (i >= info.Length() || !info[i].IsArray()) throw argError(info, i, "an array of integers");
  auto arr = info[i].As<Napi::Array>();
  std::vector<int64_t> out(arr.Length());
  for (uint32_t k = 0; k < out.size(); ++k) {
    napi_value v = nullptr;
    double d = 0.0;
    if (napi_get_element(info.Env(), arr, k, &v) != napi_ok || napi_get_value_double(info.Env(), v, &d) != napi_ok) {
      throw argError(info, i, "an array of integers");
    }
    if (!toInt64(d, &out[k])) throw notAnInteger(info, i, d, "an array of integers");
  }
  return out;
}

c10::optional<std::vector<int64_t>> optIntsArg(const Napi::CallbackInfo& info, size_t i) {
  if (isMissing(info, i)) return c10::nullopt;
  return intsArg(info, i);
}

double doubleArg(const Napi::CallbackInfo& info, size_t i) {
  if (i >= info.Length() || !info[i].IsNumber()) throw argError(info, i, "a number");
  return info[i].As<Napi::Number>().DoubleValue();
}

c10::optional<double> optDoubleArg(const Napi::CallbackInfo& info, size_t i) {
  if (isMissing(info, i)) return c10::nullopt;
  return doubleArg(info, i);
}

std::string stringArg(const Napi::CallbackInfo& info, size_t i) {
  if (i >= info.Length() || !info[i].IsString()) throw argError(info, i, "a string");
  return info[i].As<Napi::String>().Utf8Value();
}

bool isNumber(const Napi::CallbackInfo& info, size_t i) { return typeAt(info, i) == napi_number; }

// Integral JS numbers become integer scalars (so int tensors stay int), others doubles:
// the same promotion rules as Python's int/float.
at::Scalar scalarArg(const Napi::CallbackInfo& info, size_t i) {
  napi_valuetype type = typeAt(info, i);
  if (type == napi_boolean) return at::Scalar(info[i].As<Napi::Boolean>().Value());
  if (type != napi_number) throw argError(info, i, "a number");
  double d = info[i].As<Napi::Number>().DoubleValue();
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

void registerAutocast(Registry& r);  // autocast.cpp (declared here so common.h, and every object, stays as is)
void registerJpeg(Registry& r);  // jpeg.cpp (declared here so common.h, and every object, stays as is)

void registerDist(Registry& r);  // dist.cpp (declared here so common.h, and every object, stays as is)

}  // namespace ns

static Napi::Object init(Napi::Env env, Napi::Object exports) {
  ns::configureAllocator();
  ns::Registry r;
  ns::registerCreation(r);
  ns::registerShape(r);
  ns::registerPointwise(r);
  ns::registerReduce(r);
  ns::registerNn(r);
  ns::registerAutograd(r);
  ns::registerRuntime(r);
  ns::registerBits(r);
  ns::registerHandles(r);
  ns::registerImage(r);
  ns::registerJpeg(r);
  ns::registerKnn(r);
  ns::registerScan(r);
  ns::registerAllocator(r);
  ns::registerDist(r);
  ns::registerAutocast(r);
  return ns::exportAll(env, exports, r);
}

NODE_API_MODULE(normsoftmax, init)
