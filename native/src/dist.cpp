// Distributed training: a binding of libtorch's c10d (TCPStore + ProcessGroupGloo), not a look-alike,
// so a normsoftmax rank and a PyTorch rank can share one process group.
// Every rendezvous and collective is resolved on a background thread into a Promise: Node's event
// loop keeps running (progress bars, signals) while a rank waits for its peers.
// Built with -DUSE_C10D_GLOO (the c10d header is empty without it) when native/build.mjs finds the
// Gloo headers (Debian: libgloo-dev); otherwise distAvailable() says why and the rest throw.
#include <torch/version.h>

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common.h"

#ifdef NS_WITH_C10D_GLOO
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif

namespace ns {

namespace {

// Runs `work` on a libuv worker thread and settles a Promise on the JS thread: resolved with
// `done(env)` or rejected with the exception's message.
class BackgroundJob : public Napi::AsyncWorker {
 public:
  BackgroundJob(Napi::Env env, std::function<void()> work, std::function<Napi::Value(Napi::Env)> done)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), work_(std::move(work)),
        done_(std::move(done)) {}
  Napi::Promise promise() { return deferred_.Promise(); }

 protected:
  void Execute() override {
    try {
      work_();
    } catch (const c10::Error& e) {
      SetError(e.what_without_backtrace());
    } catch (const std::exception& e) {
      SetError(e.what());
    } catch (...) {
      SetError("unknown C++ exception");
    }
  }
  void OnOK() override { deferred_.Resolve(done_ ? done_(Env()) : Env().Undefined()); }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  std::function<void()> work_;
  std::function<Napi::Value(Napi::Env)> done_;
};

[[maybe_unused]] Napi::Value runInBackground(Napi::Env env, std::function<void()> work,
                            std::function<Napi::Value(Napi::Env)> done = nullptr) {
  auto* job = new BackgroundJob(env, std::move(work), std::move(done));
  auto promise = job->promise();
  job->Queue();
  return promise;
}

}  // namespace

#ifdef NS_WITH_C10D_GLOO

namespace {

struct Group {
  c10::intrusive_ptr<c10d::Store> store;  // the group's store (with PyTorch's prefixes)
  c10::intrusive_ptr<c10d::ProcessGroupGloo> pg;
  std::chrono::milliseconds timeout;
};

std::mutex groupsMutex;
std::unordered_map<int64_t, std::shared_ptr<Group>> groups;
int64_t nextGroupId = 1;

std::shared_ptr<Group> groupArg(const Napi::CallbackInfo& info, size_t i) {
  int64_t id = intArg(info, i);
  std::lock_guard<std::mutex> lock(groupsMutex);
  auto it = groups.find(id);
  if (it == groups.end()) throw Napi::Error::New(info.Env(), "distributed: no such process group (destroyed?)");
  return it->second;
}

std::string field(const Napi::Object& o, const char* name, const std::string& fallback = "") {
  auto v = o.Get(name);
  return v.IsString() ? v.As<Napi::String>().Utf8Value() : fallback;
}
int64_t intField(const Napi::Object& o, const char* name, int64_t fallback) {
  auto v = o.Get(name);
  return v.IsNumber() ? v.As<Napi::Number>().Int64Value() : fallback;
}
bool boolField(const Napi::Object& o, const char* name) {
  auto v = o.Get(name);
  return v.IsBoolean() && v.As<Napi::Boolean>().Value();
}

struct InitOptions {
  std::string masterAddr;
  int port = 29500;
  int rank = 0;
  int worldSize = 1;
  bool hostStore = true;       // rank 0 hosts the TCPStore (false under torchrun's agent store)
  std::string storePrefix;     // torchrun's agent store: "/worker/attempt_<restart count>"
  std::string ifname;          // GLOO_SOCKET_IFNAME (comma-separated interfaces)
  std::string hostname;        // the address Gloo binds to when no interface is named
  int64_t timeoutMs = 300000;
  int threads = 2;             // Gloo worker threads of the process group
  std::string announce;        // this rank's view of the job ("key=value ..."), compared across ranks
};

std::string asString(const std::vector<uint8_t>& bytes) { return std::string(bytes.begin(), bytes.end()); }
std::vector<uint8_t> asBytes(const std::string& s) { return std::vector<uint8_t>(s.begin(), s.end()); }

// Every rank publishes its view of the job (world size, the settings that must agree) in a slot of
// the store and reads the others' until its world size of ranks agree: a mismatch stops every rank
// at start with both views ("job mismatch|rankA|viewA|rankB|viewB") instead of a Gloo connect that
// waits out the timeout. The rank that sees it first records it, so the others stop too.
void checkJobAgreement(c10d::Store& store, const InitOptions& o, std::chrono::milliseconds timeout) {
  const std::string base = "normsoftmax/job/";
  const std::string mismatchKey = base + "mismatch";
  const int64_t slot = store.add(base + "count", 1) - 1;
  store.set(base + std::to_string(slot), asBytes(std::to_string(o.rank) + "|" + o.announce));
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::vector<std::string> seen;
  while (true) {
    if (store.check({mismatchKey})) throw std::runtime_error(asString(store.get(mismatchKey)));
    const int64_t count = store.add(base + "count", 0);
    while (static_cast<int64_t>(seen.size()) < count) seen.push_back(asString(store.get(base + std::to_string(seen.size()))));
    for (const auto& s : seen) {
      if (s.substr(s.find('|') + 1) == o.announce) continue;
      const std::string message = "job mismatch|" + std::to_string(o.rank) + "|" + o.announce + "|" + s;
      store.set(mismatchKey, asBytes(message));
      // The store's host stays up a moment so the other ranks can read why.
      if (o.hostStore && o.rank == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1500));
      throw std::runtime_error(message);
    }
    if (count >= o.worldSize) return;
    if (std::chrono::steady_clock::now() > deadline) {
      throw std::runtime_error("timed out waiting for the ranks to join: " + std::to_string(count) + " of " +
                               std::to_string(o.worldSize) + " joined");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// The rendezvous of torch.distributed.init_process_group("gloo", init_method="tcp://...") in
// PyTorch 1.13, step for step, so that a Python rank can join the same group: a TCPStore (world
// size workers, waited for), the prefixes "default_pg" then the group name "0", the store-based
// barrier on "store_based_barrier_key:1" under "default_pg", then the group's sequence number.
std::shared_ptr<Group> rendezvous(const InitOptions& o) {
  auto timeout = std::chrono::milliseconds(o.timeoutMs);
  c10d::TCPStoreOptions so;
  so.port = static_cast<std::uint16_t>(o.port);
  so.isServer = o.hostStore && o.rank == 0;
  so.numWorkers = static_cast<std::size_t>(o.worldSize);
  // With an announcement the agreement check below is the wait for the workers: a store host that
  // waited for more workers than exist could not say why.
  so.waitWorkers = o.announce.empty() || !so.isServer;
  so.timeout = timeout;
  so.multiTenant = true;
  c10::intrusive_ptr<c10d::Store> store = c10::make_intrusive<c10d::TCPStore>(o.masterAddr, so);
  if (!o.storePrefix.empty()) store = c10::make_intrusive<c10d::PrefixStore>(o.storePrefix, store);
  store->setTimeout(timeout);
  if (!o.announce.empty()) checkJobAgreement(*store, o, timeout);
  auto defaultStore = c10::make_intrusive<c10d::PrefixStore>("default_pg", store);
  auto groupStore = c10::make_intrusive<c10d::PrefixStore>("0", defaultStore);

  auto options = c10d::ProcessGroupGloo::Options::create(timeout);
  if (!o.ifname.empty()) {
    size_t start = 0;
    while (start <= o.ifname.size()) {
      size_t end = o.ifname.find(',', start);
      if (end == std::string::npos) end = o.ifname.size();
      if (end > start) {
        options->devices.push_back(
            c10d::ProcessGroupGloo::createDeviceForInterface(o.ifname.substr(start, end - start)));
      }
      start = end + 1;
    }
  } else if (!o.hostname.empty()) {
    options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(o.hostname));
  } else {
    options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
  }
  options->threads = std::max(1, o.threads);
  auto pg = c10::make_intrusive<c10d::ProcessGroupGloo>(groupStore, o.rank, o.worldSize, options);

#if TORCH_VERSION_MAJOR < 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR < 1)
  // PyTorch 2.1 dropped this barrier from init_process_group (TORCH_DIST_INIT_BARRIER); the Gloo
  // group's full-mesh connect above already waits for every rank.
  const std::string barrierKey = "store_based_barrier_key:1";
  defaultStore->add(barrierKey, 1);
  auto start = std::chrono::steady_clock::now();
  while (defaultStore->add(barrierKey, 0) != o.worldSize) {
    if (std::chrono::steady_clock::now() - start > timeout) {
      throw std::runtime_error("timed out in the store-based barrier after " + std::to_string(o.timeoutMs / 1000) +
                               " s: not every rank joined (world size " + std::to_string(o.worldSize) + ")");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
#endif
  pg->setSequenceNumberForGroup();
  auto group = std::make_shared<Group>();
  group->store = groupStore;
  group->pg = pg;
  group->timeout = timeout;
  return group;
}

// Waits for every work item in order; the first failure is rethrown (after the rest finished or
// failed, so no tensor is written after the promise settles).
void waitAll(const std::vector<c10::intrusive_ptr<c10d::Work>>& works, std::chrono::milliseconds timeout) {
  std::string firstError;
  for (const auto& w : works) {
    try {
      w->wait(timeout);
    } catch (const c10::Error& e) {
      if (firstError.empty()) firstError = e.what_without_backtrace();
    } catch (const std::exception& e) {
      if (firstError.empty()) firstError = e.what();
    }
  }
  if (!firstError.empty()) throw std::runtime_error(firstError);
}

c10d::ReduceOp reduceOpArg(const Napi::CallbackInfo& info, size_t i) {
  auto name = stringArg(info, i);
  if (name == "sum") return c10d::ReduceOp::SUM;
  if (name == "max") return c10d::ReduceOp::MAX;
  if (name == "min") return c10d::ReduceOp::MIN;
  if (name == "product") return c10d::ReduceOp::PRODUCT;
  throw Napi::Error::New(info.Env(), "distributed: unknown reduce op " + name);
}

}  // namespace

NS_FN_VALUE(distAvailable, { return Napi::String::New(info.Env(), ""); })

// distInit({masterAddr, port, rank, worldSize, hostStore, storePrefix, ifname, hostname, timeoutMs,
// threads, announce}) -> Promise<group id>
NS_FN_VALUE(distInit, {
  if (!info[0].IsObject()) throw Napi::Error::New(info.Env(), "distInit: expected an options object");
  auto obj = info[0].As<Napi::Object>();
  InitOptions o;
  o.masterAddr = field(obj, "masterAddr", "127.0.0.1");
  o.port = static_cast<int>(intField(obj, "port", 29500));
  o.rank = static_cast<int>(intField(obj, "rank", 0));
  o.worldSize = static_cast<int>(intField(obj, "worldSize", 1));
  o.hostStore = boolField(obj, "hostStore");
  o.storePrefix = field(obj, "storePrefix");
  o.ifname = field(obj, "ifname");
  o.hostname = field(obj, "hostname");
  o.timeoutMs = intField(obj, "timeoutMs", 300000);
  o.threads = static_cast<int>(intField(obj, "threads", 2));
  o.announce = field(obj, "announce");
  auto result = std::make_shared<std::shared_ptr<Group>>();
  return runInBackground(
      info.Env(), [o, result]() { *result = rendezvous(o); },
      [result](Napi::Env env) -> Napi::Value {
        std::lock_guard<std::mutex> lock(groupsMutex);
        int64_t id = nextGroupId++;
        groups[id] = *result;
        return Napi::Number::New(env, static_cast<double>(id));
      });
})

// distAllreduce(group, tensors, op) -> Promise<void>: each tensor reduced in place across ranks
// (one collective per tensor; c10d's list form would also reduce the list's tensors together).
NS_FN_VALUE(distAllreduce, {
  auto group = groupArg(info, 0);
  auto tensors = tensorListArg(info, 1);
  auto op = reduceOpArg(info, 2);
  std::vector<c10::intrusive_ptr<c10d::Work>> works;
  for (auto& t : tensors) {
    std::vector<at::Tensor> one{t};
    c10d::AllreduceOptions opts;
    opts.reduceOp = op;
    works.push_back(group->pg->allreduce(one, opts));
  }
  return runInBackground(info.Env(), [group, works]() { waitAll(works, group->timeout); });
})

// distBroadcast(group, tensors, root) -> Promise<void>: each tensor overwritten with root's.
NS_FN_VALUE(distBroadcast, {
  auto group = groupArg(info, 0);
  auto tensors = tensorListArg(info, 1);
  auto root = intArg(info, 2);
  std::vector<c10::intrusive_ptr<c10d::Work>> works;
  for (auto& t : tensors) {
    std::vector<at::Tensor> one{t};
    c10d::BroadcastOptions opts;
    opts.rootRank = root;
    works.push_back(group->pg->broadcast(one, opts));
  }
  return runInBackground(info.Env(), [group, works]() { waitAll(works, group->timeout); });
})

// distAllgather(group, input, outputs) -> Promise<void>: outputs[r] receives rank r's input.
NS_FN_VALUE(distAllgather, {
  auto group = groupArg(info, 0);
  std::vector<at::Tensor> input{tensorArg(info, 1)};
  std::vector<std::vector<at::Tensor>> outputs{tensorListArg(info, 2)};
  auto work = group->pg->allgather(outputs, input);
  return runInBackground(info.Env(), [group, work]() { waitAll({work}, group->timeout); });
})

NS_FN_VALUE(distBarrier, {
  auto group = groupArg(info, 0);
  auto work = group->pg->barrier();
  return runInBackground(info.Env(), [group, work]() { waitAll({work}, group->timeout); });
})

// distStoreSet(group, key, value) / distStoreGet(group, key) -> Promise: strings in the group's
// store (used to compare run settings across ranks at start).
NS_FN_VALUE(distStoreSet, {
  auto group = groupArg(info, 0);
  auto key = stringArg(info, 1);
  auto value = stringArg(info, 2);
  return runInBackground(info.Env(), [group, key, value]() {
    group->store->set(key, std::vector<uint8_t>(value.begin(), value.end()));
  });
})
NS_FN_VALUE(distStoreGet, {
  auto group = groupArg(info, 0);
  auto key = stringArg(info, 1);
  auto value = std::make_shared<std::string>();
  return runInBackground(
      info.Env(),
      [group, key, value]() {
        auto bytes = group->store->get(key);
        value->assign(bytes.begin(), bytes.end());
      },
      [value](Napi::Env env) -> Napi::Value { return Napi::String::New(env, *value); });
})

NS_FN_VALUE(distDestroy, {
  int64_t id = intArg(info, 0);
  std::lock_guard<std::mutex> lock(groupsMutex);
  groups.erase(id);
  return info.Env().Undefined();
})

#else  // !NS_WITH_C10D_GLOO

#define NS_DIST_UNAVAILABLE                                                                        \
  "distributed training is unavailable: the addon was built without c10d's Gloo backend (the Gloo " \
  "headers were not found; on Debian/Ubuntu: sudo apt-get install libgloo-dev, then npm run build:native)"

NS_FN_VALUE(distAvailable, { return Napi::String::New(info.Env(), NS_DIST_UNAVAILABLE); })
NS_FN_VALUE(distUnavailable, { throw Napi::Error::New(info.Env(), NS_DIST_UNAVAILABLE); })
#define distInit distUnavailable
#define distAllreduce distUnavailable
#define distBroadcast distUnavailable
#define distAllgather distUnavailable
#define distBarrier distUnavailable
#define distStoreSet distUnavailable
#define distStoreGet distUnavailable
#define distDestroy distUnavailable

#endif

void registerDist(Registry& r) {
  r.insert(r.end(), {{"distAvailable", distAvailable},
                     {"distInit", distInit},
                     {"distAllreduce", distAllreduce},
                     {"distBroadcast", distBroadcast},
                     {"distAllgather", distAllgather},
                     {"distBarrier", distBarrier},
                     {"distStoreSet", distStoreSet},
                     {"distStoreGet", distStoreGet},
                     {"distDestroy", distDestroy}});
}

}  // namespace ns
