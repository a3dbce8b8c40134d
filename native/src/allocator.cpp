// Process-wide malloc policy, set once when the addon is first loaded in the process.
//
// glibc serves large blocks with mmap and returns freed heap tops to the kernel, so a training step
// that frees its activations (tens of MB each) faults every page back in on the next step: ~26k
// page faults per step of a ResNet-18 layer1 block, ~15% of its CPU time. Keeping freed blocks
// in the heap (as PyTorch's CUDA caching allocator does on the GPU) removes that; the process keeps
// its peak heap instead of shrinking between steps. Users who set glibc's MALLOC_MMAP_THRESHOLD_ or
// MALLOC_TRIM_THRESHOLD_ (or the glibc.malloc tunables) themselves, or NORMSOFTMAX_SYSTEM_MALLOC=1,
// keep glibc's defaults.
//
// mallopt can refuse a setting, and the two interact:
//  - some glibc versions refuse an M_MMAP_THRESHOLD above HEAP_MAX_SIZE / 2 (32 MiB on 64-bit), others
//    accept it (Debian 12's glibc 2.36 takes 256 MiB): a refused 256 MiB falls back to that cap;
//  - any accepted M_MMAP_THRESHOLD or M_TRIM_THRESHOLD turns off glibc's dynamic threshold (which
//    raises the mmap threshold to the size of freed mmapped blocks). Setting the trim threshold alone,
//    after a refused mmap threshold, would pin that threshold at 128 KiB and mmap every tensor: worse
//    than the defaults. So the trim threshold is set only once an mmap threshold was accepted.
// allocatorPolicy() reports each mallopt call and its result.
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "common.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace ns {
namespace {

struct Setting {
  const char* name;
  int64_t value;
  bool accepted;
};

struct Policy {
  bool active = false;
  std::string note;
  std::vector<Setting> settings;
};

Policy& policy() {
  static Policy p;
  return p;
}

constexpr int64_t kMmapThreshold = int64_t{256} << 20;  // blocks up to this size come from the heap
constexpr int64_t kTrimThreshold = int64_t{1} << 30;    // give heap memory back only above 1 GiB free at the top
// glibc's DEFAULT_MMAP_THRESHOLD_MAX (HEAP_MAX_SIZE / 2), the most that every glibc accepts.
constexpr int64_t kOldGlibcCap = int64_t{4} * 1024 * 1024 * static_cast<int64_t>(sizeof(long));

bool tunablesSet() {
  const char* t = std::getenv("GLIBC_TUNABLES");
  return t != nullptr && (std::strstr(t, "glibc.malloc.mmap_threshold") != nullptr ||
                          std::strstr(t, "glibc.malloc.trim_threshold") != nullptr);
}

Policy apply() {
  Policy p;
#if defined(__GLIBC__)
  if (std::getenv("NORMSOFTMAX_SYSTEM_MALLOC") != nullptr) {
    p.note = "glibc defaults (NORMSOFTMAX_SYSTEM_MALLOC is set)";
    return p;
  }
  if (std::getenv("MALLOC_MMAP_THRESHOLD_") != nullptr || std::getenv("MALLOC_TRIM_THRESHOLD_") != nullptr ||
      tunablesSet()) {
    p.note = "your glibc malloc settings (MALLOC_*_THRESHOLD_ or GLIBC_TUNABLES)";
    return p;
  }
  bool mmapSet = false;
  for (int64_t value : {kMmapThreshold, kOldGlibcCap}) {
    const bool ok = mallopt(M_MMAP_THRESHOLD, static_cast<int>(value)) == 1;
    p.settings.push_back({"M_MMAP_THRESHOLD", value, ok});
    if (ok) {
      mmapSet = true;
      break;
    }
  }
  if (!mmapSet) {
    p.note = "glibc defaults (mallopt refused M_MMAP_THRESHOLD)";
    return p;
  }
  const bool trimOk = mallopt(M_TRIM_THRESHOLD, static_cast<int>(kTrimThreshold)) == 1;
  p.settings.push_back({"M_TRIM_THRESHOLD", kTrimThreshold, trimOk});
  p.active = trimOk;
  p.note = trimOk ? "large blocks kept in the heap" : "mallopt refused M_TRIM_THRESHOLD";
#else
  p.note = "the C library's defaults (not glibc)";
#endif
  return p;
}

// allocatorPolicy() -> { active, note, settings: [{ name, value, accepted }] }
NS_FN_VALUE(allocatorPolicy, {
  const Policy& p = policy();
  auto env = info.Env();
  auto o = Napi::Object::New(env);
  o.Set("active", Napi::Boolean::New(env, p.active));
  o.Set("note", Napi::String::New(env, p.note));
  auto arr = Napi::Array::New(env, p.settings.size());
  for (size_t k = 0; k < p.settings.size(); ++k) {
    auto s = Napi::Object::New(env);
    s.Set("name", Napi::String::New(env, p.settings[k].name));
    s.Set("value", Napi::Number::New(env, static_cast<double>(p.settings[k].value)));
    s.Set("accepted", Napi::Boolean::New(env, p.settings[k].accepted));
    arr.Set(static_cast<uint32_t>(k), s);
  }
  o.Set("settings", arr);
  return o;
})

}  // namespace

// Every JS environment (the main thread, each worker) runs the addon's init; the policy is the
// process's, so only the first applies it.
void configureAllocator() {
  static std::once_flag once;
  std::call_once(once, [] { policy() = apply(); });
}

void registerAllocator(Registry& r) { r.insert(r.end(), {{"allocatorPolicy", allocatorPolicy}}); }

}  // namespace ns
