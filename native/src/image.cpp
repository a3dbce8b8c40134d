// Image pipeline kernels on plain typed arrays (no tensors), so decode workers can call them too.
//  - imageResizeBilinear / imageResizeBicubic: Pillow's Image.resize(BILINEAR / BICUBIC) on 8-bit
//    images, bit for bit: a triangle (or Keys cubic, a = -0.5) filter whose support widens with the
//    downscale factor, 22-bit fixed-point weights, horizontal pass first with the intermediate rounded
//    to uint8 (Pillow's Resample.c). Only a window of the output is computed, so a following crop
//    costs nothing.
//  - imageToChw: crop + optional horizontal flip + scale + per-channel normalisation into float32 CHW,
//    computed in float32 in the same order as torchvision's ToTensor + Normalize.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

#include "common.h"

namespace ns {
namespace {

constexpr int kPrecisionBits = 22;
constexpr int32_t kHalf = 1 << (kPrecisionBits - 1);

struct Coefficients {
  int ksize = 0;
  std::vector<int32_t> bounds;  // first source index and tap count per output position
  std::vector<int32_t> weights;
};

// Pillow's filters (Resample.c): the triangle of BILINEAR (support 1) and the cubic convolution of
// BICUBIC with a = -0.5 (support 2).
enum class Filter { Bilinear, Bicubic };

double triangle(double x) {
  if (x < 0.0) x = -x;
  return x < 1.0 ? 1.0 - x : 0.0;
}

double keysCubic(double x) {
  constexpr double a = -0.5;
  if (x < 0.0) x = -x;
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

// Pillow's precompute_coeffs + normalize_coeffs_8bpc, with its exact floating-point steps (the tap's
// distance is multiplied by 1 / filterscale, as Pillow does, not divided by filterscale).
Coefficients resampleCoefficients(int inSize, int outSize, Filter filter) {
  const double scale = static_cast<double>(inSize) / outSize;
  const double filterScale = scale < 1.0 ? 1.0 : scale;
  const double support = (filter == Filter::Bicubic ? 2.0 : 1.0) * filterScale;
  const double ss = 1.0 / filterScale;
  Coefficients c;
  c.ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
  c.bounds.assign(static_cast<size_t>(outSize) * 2, 0);
  c.weights.assign(static_cast<size_t>(outSize) * c.ksize, 0);
  std::vector<double> row(c.ksize);
  for (int xx = 0; xx < outSize; ++xx) {
    const double center = (xx + 0.5) * scale;
    int xmin = static_cast<int>(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    int xmax = static_cast<int>(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    const int count = xmax - xmin;
    double total = 0.0;
    for (int x = 0; x < count; ++x) {
      const double d = (x + xmin - center + 0.5) * ss;
      const double w = filter == Filter::Bicubic ? keysCubic(d) : triangle(d);
      row[x] = w;
      total += w;
    }
    for (int x = 0; x < count; ++x) {
      double w = total != 0.0 ? row[x] / total : row[x];
      c.weights[static_cast<size_t>(xx) * c.ksize + x] =
          static_cast<int32_t>(w < 0 ? -0.5 + w * (1 << kPrecisionBits) : 0.5 + w * (1 << kPrecisionBits));
    }
    c.bounds[xx * 2] = xmin;
    c.bounds[xx * 2 + 1] = count;
  }
  return c;
}

inline uint8_t clip8(int32_t v) {
  if (v >= (1 << kPrecisionBits << 8)) return 255;
  if (v <= 0) return 0;
  return static_cast<uint8_t>(v >> kPrecisionBits);
}

// Every output position reads exactly ksize source pixels: windows that Pillow gives fewer taps are
// padded with zero weights (moved left at the right edge so that no read passes the row's end). A zero
// weight adds exactly 0, so the sums stay Pillow's, and every position has the same trip count.
// Returns false when the source is narrower than ksize (then the variable-count loop runs).
bool padToFixedTaps(Coefficients& c, int inSize) {
  const int k = c.ksize;
  if (k > inSize) return false;
  const size_t outSize = c.bounds.size() / 2;
  for (size_t xx = 0; xx < outSize; ++xx) {
    const int xmin = c.bounds[xx * 2];
    const int start = std::min(xmin, inSize - k);
    const int shift = xmin - start;
    const int count = c.bounds[xx * 2 + 1];
    int32_t* w = &c.weights[xx * k];
    if (shift > 0) {
      for (int t = count - 1; t >= 0; --t) w[t + shift] = w[t];
      for (int t = 0; t < shift; ++t) w[t] = 0;
    }
    c.bounds[xx * 2] = start;
    c.bounds[xx * 2 + 1] = k;
  }
  return true;
}

template <int CH>
void horizontalScalar(const uint8_t* srcRow, const Coefficients& c, int xx, uint8_t* o) {
  const int xmin = c.bounds[xx * 2];
  const int count = c.bounds[xx * 2 + 1];
  const int32_t* k = &c.weights[static_cast<size_t>(xx) * c.ksize];
  const uint8_t* p = srcRow + xmin * CH;
  int32_t s[CH];
  for (int ch = 0; ch < CH; ++ch) s[ch] = kHalf;
  for (int t = 0; t < count; ++t, p += CH) {
    for (int ch = 0; ch < CH; ++ch) s[ch] += p[ch] * k[t];
  }
  for (int ch = 0; ch < CH; ++ch) o[ch] = clip8(s[ch]);
}

template <int CH>
void horizontalPassScalar(const uint8_t* src, int srcWidth, const Coefficients& c, int x0, int width,
                          int rowStart, int rows, uint8_t* out) {
  for (int y = 0; y < rows; ++y) {
    const uint8_t* srcRow = src + static_cast<size_t>(y + rowStart) * srcWidth * CH;
    uint8_t* o = out + static_cast<size_t>(y) * width * CH;
    for (int xx = x0; xx < x0 + width; ++xx, o += CH) horizontalScalar<CH>(srcRow, c, xx, o);
  }
}

void verticalRowScalar(const uint8_t* src, int rowLen, const int32_t* k, int ymin, int count, int from,
                       uint8_t* o) {
  for (int i = from; i < rowLen; ++i) {
    int32_t acc = kHalf;
    for (int t = 0; t < count; ++t) acc += src[static_cast<size_t>(ymin + t) * rowLen + i] * k[t];
    o[i] = clip8(acc);
  }
}

#if defined(__x86_64__) && defined(__GNUC__)
#define NS_HAVE_AVX2_KERNELS 1

bool cpuHasAvx2() {
  static const bool has = __builtin_cpu_supports("avx2");
  return has;
}

// Pillow's clip8 on 8 sums: clamp(v >> 22, 0, 255), which is the same function.
__attribute__((target("avx2"))) inline __m256i clip8x8(__m256i v) {
  v = _mm256_srai_epi32(v, kPrecisionBits);
  return _mm256_min_epi32(_mm256_max_epi32(v, _mm256_setzero_si256()), _mm256_set1_epi32(255));
}

// RGB, two output pixels at a time: lanes 0-3 hold pixel A's R, G, B (and a byte of the next pixel,
// weighted but never stored), lanes 4-7 pixel B's. Same integer products and sums as the scalar loop.
// Each tap reads 4 bytes where 3 belong to it, so the image's last row goes through the scalar loop.
__attribute__((target("avx2"))) void horizontalPass3Avx2(const uint8_t* src, int srcWidth, int srcHeight,
                                                          const Coefficients& c, int x0, int width,
                                                          int rowStart, int rows, uint8_t* out) {
  const int k = c.ksize;
  const int pairs = width / 2;
  std::vector<int32_t> wpair(static_cast<size_t>(pairs) * k * 8);
  for (int j = 0; j < pairs; ++j) {
    const int32_t* ka = &c.weights[static_cast<size_t>(x0 + 2 * j) * k];
    const int32_t* kb = &c.weights[static_cast<size_t>(x0 + 2 * j + 1) * k];
    for (int t = 0; t < k; ++t) {
      int32_t* w = &wpair[(static_cast<size_t>(j) * k + t) * 8];
      for (int l = 0; l < 4; ++l) {
        w[l] = ka[t];
        w[4 + l] = kb[t];
      }
    }
  }
  const __m256i half = _mm256_set1_epi32(kHalf);
  for (int y = 0; y < rows; ++y) {
    const int sy = y + rowStart;
    const uint8_t* srcRow = src + static_cast<size_t>(sy) * srcWidth * 3;
    uint8_t* o = out + static_cast<size_t>(y) * width * 3;
    if (sy == srcHeight - 1) {
      for (int xx = x0; xx < x0 + width; ++xx, o += 3) horizontalScalar<3>(srcRow, c, xx, o);
      continue;
    }
    for (int j = 0; j < pairs; ++j, o += 6) {
      const uint8_t* pa = srcRow + c.bounds[(x0 + 2 * j) * 2] * 3;
      const uint8_t* pb = srcRow + c.bounds[(x0 + 2 * j + 1) * 2] * 3;
      const int32_t* w = &wpair[static_cast<size_t>(j) * k * 8];
      __m256i acc = half;
      for (int t = 0; t < k; ++t) {
        int32_t a, b;
        std::memcpy(&a, pa + 3 * t, 4);
        std::memcpy(&b, pb + 3 * t, 4);
        const __m256i px = _mm256_cvtepu8_epi32(_mm_unpacklo_epi32(_mm_cvtsi32_si128(a), _mm_cvtsi32_si128(b)));
        const __m256i wt = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + t * 8));
        acc = _mm256_add_epi32(acc, _mm256_mullo_epi32(px, wt));
      }
      const __m256i v = clip8x8(acc);
      const __m256i packed = _mm256_packus_epi16(_mm256_packs_epi32(v, v), _mm256_setzero_si256());
      const int32_t ra = _mm_cvtsi128_si32(_mm256_castsi256_si128(packed));
      const int32_t rb = _mm_cvtsi128_si32(_mm256_extracti128_si256(packed, 1));
      std::memcpy(o, &ra, 3);
      std::memcpy(o + 3, &rb, 3);
    }
    if (width % 2 == 1) horizontalScalar<3>(srcRow, c, x0 + width - 1, o);
  }
}

// 16 columns at a time; the rest of the row in the scalar loop.
__attribute__((target("avx2"))) void verticalPassAvx2(const uint8_t* src, int rowLen, const Coefficients& c,
                                                       int y0, int height, int rowStart, uint8_t* out) {
  const __m256i half = _mm256_set1_epi32(kHalf);
  for (int yy = y0; yy < y0 + height; ++yy) {
    const int ymin = c.bounds[yy * 2] - rowStart;
    const int count = c.bounds[yy * 2 + 1];
    const int32_t* k = &c.weights[static_cast<size_t>(yy) * c.ksize];
    uint8_t* o = out + static_cast<size_t>(yy - y0) * rowLen;
    int i = 0;
    for (; i + 16 <= rowLen; i += 16) {
      __m256i lo = half;
      __m256i hi = half;
      for (int t = 0; t < count; ++t) {
        const __m256i w = _mm256_set1_epi32(k[t]);
        const __m128i p =
            _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + static_cast<size_t>(ymin + t) * rowLen + i));
        lo = _mm256_add_epi32(lo, _mm256_mullo_epi32(_mm256_cvtepu8_epi32(p), w));
        hi = _mm256_add_epi32(hi, _mm256_mullo_epi32(_mm256_cvtepu8_epi32(_mm_srli_si128(p, 8)), w));
      }
      // packs/packus work within 128-bit halves: put the 16 results back in order before storing.
      const __m256i words = _mm256_permute4x64_epi64(_mm256_packs_epi32(clip8x8(lo), clip8x8(hi)), 0xd8);
      const __m128i bytes =
          _mm_packus_epi16(_mm256_castsi256_si128(words), _mm256_extracti128_si256(words, 1));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(o + i), bytes);
    }
    verticalRowScalar(src, rowLen, k, ymin, count, i, o);
  }
}
#endif

void horizontalPass(int ch, const uint8_t* src, int srcWidth, int srcHeight, Coefficients& c, int x0, int width,
                    int rowStart, int rows, uint8_t* out) {
#ifdef NS_HAVE_AVX2_KERNELS
  if (ch == 3 && cpuHasAvx2() && padToFixedTaps(c, srcWidth)) {
    horizontalPass3Avx2(src, srcWidth, srcHeight, c, x0, width, rowStart, rows, out);
    return;
  }
#endif
  if (ch == 3) horizontalPassScalar<3>(src, srcWidth, c, x0, width, rowStart, rows, out);
  else horizontalPassScalar<1>(src, srcWidth, c, x0, width, rowStart, rows, out);
}

void verticalPass(const uint8_t* src, int rowLen, const Coefficients& c, int y0, int height, int rowStart,
                  uint8_t* out) {
#ifdef NS_HAVE_AVX2_KERNELS
  if (cpuHasAvx2()) {
    verticalPassAvx2(src, rowLen, c, y0, height, rowStart, out);
    return;
  }
#endif
  for (int yy = y0; yy < y0 + height; ++yy) {
    verticalRowScalar(src, rowLen, &c.weights[static_cast<size_t>(yy) * c.ksize], c.bounds[yy * 2] - rowStart,
                      c.bounds[yy * 2 + 1], 0, out + static_cast<size_t>(yy - y0) * rowLen);
  }
}

void copyRect(const uint8_t* src, int srcWidth, int ch, int x, int y, int w, int h, uint8_t* out) {
  for (int r = 0; r < h; ++r) {
    std::memcpy(out + static_cast<size_t>(r) * w * ch, src + (static_cast<size_t>(y + r) * srcWidth + x) * ch,
                static_cast<size_t>(w) * ch);
  }
}

int checkedInt(const Napi::CallbackInfo& info, size_t i, const char* what, int64_t lo, int64_t hi) {
  int64_t v = intArg(info, i);
  if (v < lo || v > hi) {
    throw Napi::RangeError::New(info.Env(), std::string(what) + " = " + std::to_string(v) + " is out of range [" +
                                                std::to_string(lo) + ", " + std::to_string(hi) + "]");
  }
  return static_cast<int>(v);
}

Napi::Uint8Array bytesArg(const Napi::CallbackInfo& info, size_t i, size_t minLength, const char* what) {
  if (!info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    throw Napi::TypeError::New(info.Env(), std::string(what) + ": expected a Uint8Array");
  }
  auto a = info[i].As<Napi::Uint8Array>();
  if (a.ElementLength() < minLength) {
    throw Napi::RangeError::New(info.Env(), std::string(what) + " holds " + std::to_string(a.ElementLength()) +
                                                " bytes, expected " + std::to_string(minLength));
  }
  return a;
}

// resize(src u8 HWC, width, height, channels 1|3, outWidth, outHeight, x, y, w, h) -> u8 HWC (w x h)
Napi::Value resize(const Napi::CallbackInfo& info, Filter filter) {
  const int width = checkedInt(info, 1, "width", 1, 1 << 16);
  const int height = checkedInt(info, 2, "height", 1, 1 << 16);
  const int ch = checkedInt(info, 3, "channels", 1, 3);
  if (ch == 2) throw Napi::RangeError::New(info.Env(), "channels must be 1 or 3");
  auto src = bytesArg(info, 0, static_cast<size_t>(width) * height * ch, "src");
  const int outW = checkedInt(info, 4, "outWidth", 1, 1 << 16);
  const int outH = checkedInt(info, 5, "outHeight", 1, 1 << 16);
  const int x = checkedInt(info, 6, "x", 0, outW - 1);
  const int y = checkedInt(info, 7, "y", 0, outH - 1);
  const int w = checkedInt(info, 8, "w", 1, outW - x);
  const int h = checkedInt(info, 9, "h", 1, outH - y);
  auto out = Napi::Uint8Array::New(info.Env(), static_cast<size_t>(w) * h * ch);
  const uint8_t* s = src.Data();

  // Source rows the vertical pass reads for output rows [y, y+h).
  Coefficients cv;
  int rowStart = y;
  int rowEnd = y + h;
  const bool needV = outH != height;
  if (needV) {
    cv = resampleCoefficients(height, outH, filter);
    rowStart = cv.bounds[y * 2];
    rowEnd = cv.bounds[(y + h - 1) * 2] + cv.bounds[(y + h - 1) * 2 + 1];
  }
  std::vector<uint8_t> tmp(static_cast<size_t>(rowEnd - rowStart) * w * ch);
  if (outW != width) {
    auto ch_ = resampleCoefficients(width, outW, filter);
    horizontalPass(ch, s, width, height, ch_, x, w, rowStart, rowEnd - rowStart, tmp.data());
  } else {
    copyRect(s, width, ch, x, rowStart, w, rowEnd - rowStart, tmp.data());
  }
  if (needV) verticalPass(tmp.data(), w * ch, cv, y, h, rowStart, out.Data());
  else std::memcpy(out.Data(), tmp.data(), tmp.size());
  return out;
}

}  // namespace

// imageResizeBilinear(src u8 HWC, width, height, channels 1|3, outWidth, outHeight, x, y, w, h) -> u8 HWC (w x h)
NS_FN_VALUE(imageResizeBilinear, { return resize(info, Filter::Bilinear); })
// imageResizeBicubic: the same arguments, Pillow's BICUBIC filter.
NS_FN_VALUE(imageResizeBicubic, { return resize(info, Filter::Bicubic); })

// imageToChw(src u8 HWC, width, height, srcChannels 1|3, x, y, w, h, flip, outChannels 1|3, divisor,
//            mean Float64Array, std Float64Array, bgr, out Float32Array, outOffset) -> undefined
// out[c][r][col] = (src[y+r][x+col'][c'] / divisor - mean[c]) / std[c], col' mirrored when flip,
// c' = 2-c when bgr; a 1-channel source is replicated into 3 output channels.
NS_FN_VALUE(imageToChw, {
  const int width = checkedInt(info, 1, "width", 1, 1 << 16);
  const int height = checkedInt(info, 2, "height", 1, 1 << 16);
  const int srcCh = checkedInt(info, 3, "srcChannels", 1, 3);
  auto src = bytesArg(info, 0, static_cast<size_t>(width) * height * srcCh, "src");
  const int x = checkedInt(info, 4, "x", 0, width - 1);
  const int y = checkedInt(info, 5, "y", 0, height - 1);
  const int w = checkedInt(info, 6, "w", 1, width - x);
  const int h = checkedInt(info, 7, "h", 1, height - y);
  const bool flip = boolArg(info, 8);
  const int outCh = checkedInt(info, 9, "outChannels", 1, 3);
  if (srcCh == 2 || outCh == 2 || (srcCh == 3 && outCh == 1)) {
    throw Napi::RangeError::New(info.Env(), "imageToChw: unsupported channels " + std::to_string(srcCh) + " -> " +
                                                std::to_string(outCh));
  }
  const float divisor = static_cast<float>(doubleArg(info, 10));
  // As<Float64Array> does not check: a Float32Array would be read as doubles, past its end.
  for (size_t k : {size_t{11}, size_t{12}}) {
    if (!info[k].IsTypedArray() || info[k].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array)
      throw Napi::TypeError::New(info.Env(), "imageToChw: mean and std must be Float64Arrays");
  }
  auto meanArr = info[11].As<Napi::Float64Array>();
  auto stdArr = info[12].As<Napi::Float64Array>();
  if (meanArr.ElementLength() != static_cast<size_t>(outCh) || stdArr.ElementLength() != static_cast<size_t>(outCh))
    throw Napi::RangeError::New(info.Env(), "imageToChw: mean and std need one value per output channel");
  const bool bgr = boolArg(info, 13);
  if (!info[14].IsTypedArray() || info[14].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    throw Napi::TypeError::New(info.Env(), "imageToChw: out must be a Float32Array");
  auto out = info[14].As<Napi::Float32Array>();
  const int64_t offset = intArg(info, 15);
  const size_t plane = static_cast<size_t>(w) * h;
  if (offset < 0 || static_cast<size_t>(offset) + plane * outCh > out.ElementLength())
    throw Napi::RangeError::New(info.Env(), "imageToChw: out is too small for the image at this offset");

  // Data() of a typed array works for SharedArrayBuffer-backed arrays too.
  // Each output value depends only on the byte and the channel: a 256-entry table per channel, filled
  // with the same float32 operations (divide, subtract, divide), gives the same bits for a lookup.
  const uint8_t* s = src.Data();
  float* o = out.Data() + offset;
  float table[256];
  for (int c = 0; c < outCh; ++c) {
    const int sc = srcCh == 1 ? 0 : (bgr ? 2 - c : c);
    const float m = static_cast<float>(meanArr[c]);
    const float sd = static_cast<float>(stdArr[c]);
    for (int b = 0; b < 256; ++b) table[b] = (static_cast<float>(b) / divisor - m) / sd;
    float* oc = o + plane * c;
    for (int r = 0; r < h; ++r) {
      const uint8_t* row = s + (static_cast<size_t>(y + r) * width + x) * srcCh + sc;
      float* orow = oc + static_cast<size_t>(r) * w;
      if (flip) {
        for (int col = 0; col < w; ++col) orow[col] = table[row[static_cast<size_t>(w - 1 - col) * srcCh]];
      } else {
        for (int col = 0; col < w; ++col) orow[col] = table[row[static_cast<size_t>(col) * srcCh]];
      }
    }
  }
  return info.Env().Undefined();
})

void registerImage(Registry& r) {
  r.insert(r.end(), {{"imageResizeBilinear", imageResizeBilinear},
                     {"imageResizeBicubic", imageResizeBicubic},
                     {"imageToChw", imageToChw}});
}

}  // namespace ns
