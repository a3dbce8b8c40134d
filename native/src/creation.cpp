// Tensor creation, host transfer and random number generation.
#include <ATen/CPUGeneratorImpl.h>

#include <cstring>

#include "common.h"

namespace ns {

// fromBuffer(typedArray, shape, dtypeCode, device): copies the bytes into a new tensor.
NS_FN(fromBuffer, {
  if (!info[0].IsTypedArray()) throw Napi::TypeError::New(info.Env(), "argument 0: expected a TypedArray");
  auto arr = info[0].As<Napi::TypedArray>();
  auto shape = NS_INTS(1);
  auto dtype = dtypeArg(info, 2);
  auto out = at::empty(shape, at::TensorOptions().dtype(dtype));
  size_t bytes = out.numel() * out.element_size();
  if (bytes != arr.ByteLength()) {
    throw Napi::RangeError::New(info.Env(), "data has " + std::to_string(arr.ByteLength()) +
                                                " bytes but shape and dtype need " + std::to_string(bytes));
  }
  auto* src = static_cast<uint8_t*>(arr.ArrayBuffer().Data()) + arr.ByteOffset();
  if (bytes > 0) std::memcpy(out.data_ptr(), src, bytes);
  auto device = deviceArg(info, 3);
  return device.is_cpu() ? out : out.to(device);
})

// toBuffer(t): a copy of the contiguous CPU bytes as an ArrayBuffer.
NS_FN_VALUE(toBuffer, {
  auto t = NS_T(0).detach().to(at::kCPU).contiguous();
  size_t bytes = t.numel() * t.element_size();
  auto buf = Napi::ArrayBuffer::New(info.Env(), bytes);
  if (bytes > 0) std::memcpy(buf.Data(), t.data_ptr(), bytes);
  return buf;
})

NS_FN_VALUE(item, {
  auto t = NS_T(0);
  if (t.numel() != 1) throw Napi::RangeError::New(info.Env(), "item() needs a tensor with one element, got " + std::to_string(t.numel()));
  return Napi::Number::New(info.Env(), t.item<double>());
})

NS_FN(empty, { return at::empty(NS_INTS(0), optionsArg(info, 1, 2)); })
NS_FN(zeros, { return at::zeros(NS_INTS(0), optionsArg(info, 1, 2)); })
NS_FN(ones, { return at::ones(NS_INTS(0), optionsArg(info, 1, 2)); })
NS_FN(full, { return at::full(NS_INTS(0), NS_SCALAR(1), optionsArg(info, 2, 3)); })
NS_FN(arange, { return at::arange(NS_SCALAR(0), NS_SCALAR(1), NS_SCALAR(2), optionsArg(info, 3, 4)); })
NS_FN(linspace, { return at::linspace(NS_SCALAR(0), NS_SCALAR(1), NS_INT(2), optionsArg(info, 3, 4)); })
NS_FN(eye, { return at::eye(NS_INT(0), optionsArg(info, 1, 2)); })
NS_FN(emptyLike, { return at::empty_like(NS_T(0)); })
NS_FN(zerosLike, { return at::zeros_like(NS_T(0)); })
NS_FN(onesLike, { return at::ones_like(NS_T(0)); })

// Random creation: (shape, dtype, device, generator?)
NS_FN(rand, { return at::rand(NS_INTS(0), generatorArg(info, 3), optionsArg(info, 1, 2)); })
NS_FN(randn, { return at::randn(NS_INTS(0), generatorArg(info, 3), optionsArg(info, 1, 2)); })
// uniform(shape, low, high, dtype, device, generator?)
NS_FN(uniform, {
  return at::empty(NS_INTS(0), optionsArg(info, 3, 4)).uniform_(NS_DOUBLE(1), NS_DOUBLE(2), generatorArg(info, 5));
})
// normal(shape, mean, std, dtype, device, generator?)
NS_FN(normal, {
  return at::empty(NS_INTS(0), optionsArg(info, 3, 4)).normal_(NS_DOUBLE(1), NS_DOUBLE(2), generatorArg(info, 5));
})
// randint(low, high, shape, dtype, device, generator?)
NS_FN(randint, {
  auto opts = optionsArg(info, 3, 4);
  if (isMissing(info, 3)) opts = opts.dtype(at::kLong);
  return at::randint(NS_INT(0), NS_INT(1), NS_INTS(2), generatorArg(info, 5), opts);
})
// randperm(n, device, generator?)
NS_FN(randperm, {
  return at::randperm(NS_INT(0), generatorArg(info, 2), at::TensorOptions().dtype(at::kLong).device(deviceArg(info, 1)));
})
// In-place fills used by initialisers: uniform_(t, low, high, gen?), normal_(t, mean, std, gen?)
NS_INPLACE(uniformInplace, { return NS_T(0).uniform_(NS_DOUBLE(1), NS_DOUBLE(2), generatorArg(info, 3)); })
NS_INPLACE(normalInplace, { return NS_T(0).normal_(NS_DOUBLE(1), NS_DOUBLE(2), generatorArg(info, 3)); })
NS_FN(bernoulli, { return at::bernoulli(NS_T(0), generatorArg(info, 1)); })
// multinomial(probs, n, replacement, gen?)
NS_FN(multinomial, { return at::multinomial(NS_T(0), NS_INT(1), NS_BOOL(2), generatorArg(info, 3)); })

NS_FN_VALUE(manualSeed, {
  torch::manual_seed(static_cast<uint64_t>(NS_INT(0)));
  return info.Env().Undefined();
})

// Generators are CPU generators; their state is a uint8 tensor that can be saved and restored.
NS_FN_VALUE(generatorNew, {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(static_cast<uint64_t>(NS_INT(0)));
  return Napi::External<at::Generator>::New(info.Env(), new at::Generator(gen),
                                            [](Napi::Env, at::Generator* g) { delete g; });
})

NS_FN_VALUE(generatorDefault, {
  return Napi::External<at::Generator>::New(info.Env(), new at::Generator(at::detail::getDefaultCPUGenerator()),
                                            [](Napi::Env, at::Generator* g) { delete g; });
})

static at::Generator& genArg(const Napi::CallbackInfo& info, size_t i) {
  if (!info[i].IsExternal()) throw Napi::TypeError::New(info.Env(), "expected a generator handle");
  return *info[i].As<Napi::External<at::Generator>>().Data();
}

NS_FN_VALUE(generatorSeed, {
  auto& g = genArg(info, 0);
  std::lock_guard<std::mutex> lock(g.mutex());
  g.set_current_seed(static_cast<uint64_t>(NS_INT(1)));
  return info.Env().Undefined();
})

NS_FN(generatorGetState, {
  auto& g = genArg(info, 0);
  std::lock_guard<std::mutex> lock(g.mutex());
  return g.get_state();
})

NS_FN_VALUE(generatorSetState, {
  auto& g = genArg(info, 0);
  std::lock_guard<std::mutex> lock(g.mutex());
  g.set_state(NS_T(1));
  return info.Env().Undefined();
})

void registerCreation(Registry& r) {
  r.insert(r.end(), {{"fromBuffer", fromBuffer}, {"toBuffer", toBuffer}, {"item", item},
                     {"empty", empty}, {"zeros", zeros}, {"ones", ones}, {"full", full},
                     {"arange", arange}, {"linspace", linspace}, {"eye", eye},
                     {"emptyLike", emptyLike}, {"zerosLike", zerosLike}, {"onesLike", onesLike},
                     {"rand", rand}, {"randn", randn}, {"uniform", uniform}, {"normal", normal},
                     {"randint", randint}, {"randperm", randperm}, {"uniformInplace", uniformInplace},
                     {"normalInplace", normalInplace}, {"bernoulli", bernoulli}, {"multinomial", multinomial},
                     {"manualSeed", manualSeed}, {"generatorNew", generatorNew},
                     {"generatorDefault", generatorDefault}, {"generatorSeed", generatorSeed},
                     {"generatorGetState", generatorGetState}, {"generatorSetState", generatorSetState}});
}

}  // namespace ns
