// JPEG decoding with the system's libjpeg-turbo, the library Pillow decodes with, called straight from
// the calling thread (a decode worker): about half the CPU time of a sharp/libvips decode of a small
// photo, and no hop to libuv's thread pool. Only clean baseline/progressive gray or colour (YCbCr/RGB)
// files take this path: anything else (CMYK, a warning such as a truncated file, an error) answers null
// and the caller decodes with sharp, so errors and unusual files behave exactly as before.
// libjpeg is opened with dlopen at first use rather than linked, so the addon builds and loads on a
// machine without it (the op then answers null everywhere).
#include "common.h"

#if __has_include(<jpeglib.h>) && __has_include(<dlfcn.h>)
#define NS_HAVE_JPEG 1
#include <dlfcn.h>

#include <csetjmp>
#include <cstdio>
#include <mutex>

#include <jpeglib.h>
#else
#define NS_HAVE_JPEG 0
#endif

namespace ns {
namespace {

#if NS_HAVE_JPEG

struct JpegApi {
  decltype(&jpeg_std_error) stdError = nullptr;
  decltype(&jpeg_CreateDecompress) create = nullptr;
  decltype(&jpeg_mem_src) memSrc = nullptr;
  decltype(&jpeg_read_header) readHeader = nullptr;
  decltype(&jpeg_start_decompress) start = nullptr;
  decltype(&jpeg_read_scanlines) readScanlines = nullptr;
  decltype(&jpeg_finish_decompress) finish = nullptr;
  decltype(&jpeg_destroy_decompress) destroy = nullptr;
  bool ok = false;
};

const JpegApi& api() {
  static JpegApi a;
  static std::once_flag once;
  std::call_once(once, [] {
    void* h = nullptr;
    for (const char* name : {"libjpeg.so.62", "libjpeg.so"}) {
      h = dlopen(name, RTLD_NOW | RTLD_LOCAL);
      if (h) break;
    }
    if (!h) return;
    auto sym = [h](auto& fn, const char* name) { fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(dlsym(h, name)); };
    sym(a.stdError, "jpeg_std_error");
    sym(a.create, "jpeg_CreateDecompress");
    sym(a.memSrc, "jpeg_mem_src");
    sym(a.readHeader, "jpeg_read_header");
    sym(a.start, "jpeg_start_decompress");
    sym(a.readScanlines, "jpeg_read_scanlines");
    sym(a.finish, "jpeg_finish_decompress");
    sym(a.destroy, "jpeg_destroy_decompress");
    a.ok = a.stdError && a.create && a.memSrc && a.readHeader && a.start && a.readScanlines && a.finish && a.destroy;
  });
  return a;
}

struct ErrorManager {
  jpeg_error_mgr pub;
  jmp_buf jump;
  bool warned;
};

void onError(j_common_ptr cinfo) {
  longjmp(reinterpret_cast<ErrorManager*>(cinfo->err)->jump, 1);
}

// Any warning (a corrupt or truncated stream) sends the file to sharp, which decides as before.
void onMessage(j_common_ptr cinfo, int level) {
  if (level < 0) reinterpret_cast<ErrorManager*>(cinfo->err)->warned = true;
}

void silent(j_common_ptr) {}

// The decoder state; the setjmp in each phase keeps libjpeg's longjmp within one C-like frame.
struct Decoder {
  jpeg_decompress_struct cinfo;
  ErrorManager err;
  bool created = false;

  ~Decoder() {
    if (created) api().destroy(&cinfo);
  }

  bool header(const uint8_t* data, size_t size, int scaleDenom) {
    const JpegApi& a = api();
    cinfo.err = a.stdError(&err.pub);
    err.pub.error_exit = onError;
    err.pub.emit_message = onMessage;
    err.pub.output_message = silent;
    err.warned = false;
    if (setjmp(err.jump)) return false;
    a.create(&cinfo, JPEG_LIB_VERSION, sizeof(cinfo));
    created = true;
    a.memSrc(&cinfo, data, static_cast<unsigned long>(size));
    if (a.readHeader(&cinfo, TRUE) != JPEG_HEADER_OK) return false;
    if (cinfo.jpeg_color_space == JCS_GRAYSCALE && cinfo.num_components == 1) {
      cinfo.out_color_space = JCS_GRAYSCALE;
    } else if ((cinfo.jpeg_color_space == JCS_YCbCr || cinfo.jpeg_color_space == JCS_RGB) &&
               cinfo.num_components == 3) {
      cinfo.out_color_space = JCS_RGB;
    } else {
      return false;  // CMYK, YCCK, ...: sharp + colour.ts
    }
    cinfo.scale_num = 1;
    cinfo.scale_denom = static_cast<unsigned int>(scaleDenom);
    a.start(&cinfo);
    return !err.warned;
  }

  bool pixels(uint8_t* out) {
    const JpegApi& a = api();
    if (setjmp(err.jump)) return false;
    const size_t stride = static_cast<size_t>(cinfo.output_width) * cinfo.output_components;
    while (cinfo.output_scanline < cinfo.output_height) {
      JSAMPROW row = out + static_cast<size_t>(cinfo.output_scanline) * stride;
      if (a.readScanlines(&cinfo, &row, 1) != 1) return false;
    }
    a.finish(&cinfo);
    return !err.warned;
  }
};

#endif

}  // namespace

// imageDecodeJpegAvailable() -> whether libjpeg could be loaded.
NS_FN_VALUE(imageDecodeJpegAvailable, {
#if NS_HAVE_JPEG
  return Napi::Boolean::New(info.Env(), api().ok);
#else
  return Napi::Boolean::New(info.Env(), false);
#endif
})

// imageDecodeJpeg(bytes u8, scaleDenom 1|2|4|8) -> {data u8 HWC, width, height, channels 1|3} | null
NS_FN_VALUE(imageDecodeJpeg, {
  Napi::Env env = info.Env();
  if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
    throw Napi::TypeError::New(env, "imageDecodeJpeg: bytes must be a Uint8Array");
  auto bytes = info[0].As<Napi::Uint8Array>();
  const int64_t scale = intArg(info, 1);
  if (scale != 1 && scale != 2 && scale != 4 && scale != 8)
    throw Napi::RangeError::New(env, "imageDecodeJpeg: scaleDenom must be 1, 2, 4 or 8");
#if NS_HAVE_JPEG
  if (!api().ok || bytes.ElementLength() < 4) return env.Null();
  Decoder d;
  if (!d.header(bytes.Data(), bytes.ElementLength(), static_cast<int>(scale))) return env.Null();
  const size_t w = d.cinfo.output_width;
  const size_t h = d.cinfo.output_height;
  const size_t c = static_cast<size_t>(d.cinfo.output_components);
  // Past sharp's default limitInputPixels (0x3FFF x 0x3FFF) sharp decides, as it did before.
  if (w == 0 || h == 0 || w * h > static_cast<size_t>(0x3FFF) * 0x3FFF) return env.Null();
  auto out = Napi::Uint8Array::New(env, w * h * c);
  if (!d.pixels(out.Data())) return env.Null();
  Napi::Object result = Napi::Object::New(env);
  result.Set("data", out);
  result.Set("width", Napi::Number::New(env, static_cast<double>(w)));
  result.Set("height", Napi::Number::New(env, static_cast<double>(h)));
  result.Set("channels", Napi::Number::New(env, static_cast<double>(c)));
  return result;
#else
  return env.Null();
#endif
})

void registerJpeg(Registry& r) {
  r.insert(r.end(), {{"imageDecodeJpegAvailable", imageDecodeJpegAvailable}, {"imageDecodeJpeg", imageDecodeJpeg}});
}

}  // namespace ns
