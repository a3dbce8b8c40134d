// Image pipeline kernels on plain typed arrays (no tensors), so decode workers can call them too.
//  - imageResizeBilinear: Pillow's Image.resize(BILINEAR) on 8-bit images, bit for bit: a triangle
//    filter whose support widens with the downscale factor, 22-bit fixed-point weights, horizontal
//    pass first with the intermediate rounded to uint8 (Pillow's Resample.c). Only a window of the
//    output is computed, so a following crop costs nothing.
//  - imageToChw: crop + optional horizontal flip + scale + per-channel normalisation into float32 CHW,
//    computed in float32 in the same order as torchvision's ToTensor + Normalize.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

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

Coefficients bilinearCoefficients(int inSize, int outSize) {
  const double scale = static_cast<double>(inSize) / outSize;
  const double filterScale = scale < 1.0 ? 1.0 : scale;
  const double support = filterScale;  // the triangle's support is 1
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
      double a = std::fabs((x + xmin - center + 0.5) / filterScale);
      double w = a < 1.0 ? 1.0 - a : 0.0;
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

template <int CH>
void horizontalPass(const uint8_t* src, int srcWidth, const Coefficients& c, int x0, int width, int rowStart,
                    int rows, uint8_t* out) {
  for (int y = 0; y < rows; ++y) {
    const uint8_t* srcRow = src + static_cast<size_t>(y + rowStart) * srcWidth * CH;
    uint8_t* o = out + static_cast<size_t>(y) * width * CH;
    for (int xx = x0; xx < x0 + width; ++xx) {
      const int xmin = c.bounds[xx * 2];
      const int count = c.bounds[xx * 2 + 1];
      const int32_t* k = &c.weights[static_cast<size_t>(xx) * c.ksize];
      const uint8_t* p = srcRow + xmin * CH;
      int32_t s[CH];
      for (int ch = 0; ch < CH; ++ch) s[ch] = kHalf;
      for (int t = 0; t < count; ++t, p += CH) {
        for (int ch = 0; ch < CH; ++ch) s[ch] += p[ch] * k[t];
      }
      for (int ch = 0; ch < CH; ++ch) *o++ = clip8(s[ch]);
    }
  }
}

void verticalPass(const uint8_t* src, int rowLen, const Coefficients& c, int y0, int height, int rowStart,
                  uint8_t* out) {
  std::vector<int32_t> acc(rowLen);
  for (int yy = y0; yy < y0 + height; ++yy) {
    const int ymin = c.bounds[yy * 2] - rowStart;
    const int count = c.bounds[yy * 2 + 1];
    const int32_t* k = &c.weights[static_cast<size_t>(yy) * c.ksize];
    std::fill(acc.begin(), acc.end(), kHalf);
    for (int t = 0; t < count; ++t) {
      const int32_t w = k[t];
      if (w == 0) continue;
      const uint8_t* p = src + static_cast<size_t>(ymin + t) * rowLen;
      int32_t* a = acc.data();
      for (int i = 0; i < rowLen; ++i) a[i] += p[i] * w;
    }
    uint8_t* o = out + static_cast<size_t>(yy - y0) * rowLen;
    for (int i = 0; i < rowLen; ++i) o[i] = clip8(acc[i]);
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

}  // namespace

// imageResizeBilinear(src u8 HWC, width, height, channels 1|3, outWidth, outHeight, x, y, w, h) -> u8 HWC (w x h)
NS_FN_VALUE(imageResizeBilinear, {
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
    cv = bilinearCoefficients(height, outH);
    rowStart = cv.bounds[y * 2];
    rowEnd = cv.bounds[(y + h - 1) * 2] + cv.bounds[(y + h - 1) * 2 + 1];
  }
  std::vector<uint8_t> tmp(static_cast<size_t>(rowEnd - rowStart) * w * ch);
  if (outW != width) {
    auto ch_ = bilinearCoefficients(width, outW);
    if (ch == 3) horizontalPass<3>(s, width, ch_, x, w, rowStart, rowEnd - rowStart, tmp.data());
    else horizontalPass<1>(s, width, ch_, x, w, rowStart, rowEnd - rowStart, tmp.data());
  } else {
    copyRect(s, width, ch, x, rowStart, w, rowEnd - rowStart, tmp.data());
  }
  if (needV) verticalPass(tmp.data(), w * ch, cv, y, h, rowStart, out.Data());
  else std::memcpy(out.Data(), tmp.data(), tmp.size());
  return out;
})

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
  const uint8_t* s = src.Data();
  float* o = out.Data() + offset;
  for (int c = 0; c < outCh; ++c) {
    const int sc = srcCh == 1 ? 0 : (bgr ? 2 - c : c);
    const float m = static_cast<float>(meanArr[c]);
    const float sd = static_cast<float>(stdArr[c]);
    float* oc = o + plane * c;
    for (int r = 0; r < h; ++r) {
      const uint8_t* row = s + (static_cast<size_t>(y + r) * width + x) * srcCh + sc;
      float* orow = oc + static_cast<size_t>(r) * w;
      for (int col = 0; col < w; ++col) {
        const int from = flip ? w - 1 - col : col;
        const float v = static_cast<float>(row[static_cast<size_t>(from) * srcCh]) / divisor;
        orow[col] = (v - m) / sd;
      }
    }
  }
  return info.Env().Undefined();
})

void registerImage(Registry& r) {
  r.insert(r.end(), {{"imageResizeBilinear", imageResizeBilinear}, {"imageToChw", imageToChw}});
}

}  // namespace ns
