// mapFile(path): a whole file memory-mapped as an ArrayBuffer (search addon only), so that an index's
// vectors are searched where they lie in the page cache instead of being read into the heap: the process's
// resident memory is then the pages its searches touch. The mapping is private and copy-on-write (a stray
// write changes this process's copy, never the file, and cannot fault), and it ends when the ArrayBuffer
// is collected. An empty file gives an empty ArrayBuffer. Errors name the file and errno's text.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "napi_common.h"

namespace ns {
namespace {

std::string failure(const char* what, const std::string& path) {
  return std::string(what) + " " + path + ": " + std::strerror(errno);
}

Napi::Value mapFile(const Napi::CallbackInfo& info) {
  NS_STD_GUARD_BEGIN
  if (info.Length() < 1 || !info[0].IsString()) throw argError(info, 0, "a file path");
  const std::string path = info[0].As<Napi::String>().Utf8Value();
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Napi::Error::New(info.Env(), failure("cannot open", path));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const std::string message = failure("cannot stat", path);
    ::close(fd);
    throw Napi::Error::New(info.Env(), message);
  }
  const size_t length = static_cast<size_t>(st.st_size);
  if (length == 0) {
    ::close(fd);
    return Napi::ArrayBuffer::New(info.Env(), 0);
  }
  void* data = ::mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  const std::string message = data == MAP_FAILED ? failure("cannot map", path) : std::string();
  ::close(fd);  // the mapping keeps the file
  if (data == MAP_FAILED) throw Napi::Error::New(info.Env(), message);
  auto* hint = new size_t(length);
  return Napi::ArrayBuffer::New(
      info.Env(), data, length,
      [](Napi::Env, void* p, size_t* bytes) {
        ::munmap(p, *bytes);
        delete bytes;
      },
      hint);
  NS_STD_GUARD_END
}

}  // namespace

void registerMmap(Registry& r) { r.push_back({"mapFile", mapFile}); }

}  // namespace ns
