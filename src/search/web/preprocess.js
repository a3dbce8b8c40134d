// The server's image pipeline in the browser, for in-browser embedding: decoded RGBA pixels -> the
// model's float32 NCHW input. The resize is a port of Pillow's Image.resize(BILINEAR or BICUBIC) on 8-bit
// images (fixed-point coefficients, horizontal then vertical pass), which our pipeline reproduces bit for
// bit (src/data/image/kernels.ts), to a square or with the shorter side to the size (torchvision's
// Resize(int), as the ViTs' publishers evaluate); then the centre crop (Python's round-half-even offsets),
// the colour order and (x * range / 255 - mean) / std in float32. Given the same decoded pixels, the input
// is the server's.

const PRECISION_BITS = 32 - 8 - 2;
const ONE = 2 ** PRECISION_BITS;
const HALF = 2 ** (PRECISION_BITS - 1);

function bilinear(x) {
  const a = x < 0 ? -x : x;
  return a < 1 ? 1 - a : 0;
}

/** Keys' cubic with a = -0.5, Pillow's bicubic_filter. */
function bicubic(x) {
  const a = -0.5;
  const t = x < 0 ? -x : x;
  if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
  if (t < 2) return (((t - 5) * t + 8) * t - 4) * a;
  return 0;
}

const FILTERS = { bilinear: { f: bilinear, support: 1 }, bicubic: { f: bicubic, support: 2 } };

/** Pillow's precompute_coeffs + normalize_coeffs_8bpc for one axis. */
function coefficients(inSize, outSize, filter) {
  const { f, support: reach } = FILTERS[filter];
  const scale = inSize / outSize;
  const filterscale = Math.max(scale, 1);
  const support = reach * filterscale;
  const ss = 1 / filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const kk = new Float64Array(outSize * ksize);
  const pre = new Float64Array(ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      const w = f((x + xmin - center + 0.5) * ss);
      pre[x] = w;
      ww += w;
    }
    for (let x = 0; x < xmax; x++) {
      const k = ww !== 0 ? pre[x] / ww : pre[x];
      kk[xx * ksize + x] = k < 0 ? Math.trunc(-0.5 + k * ONE) : Math.trunc(0.5 + k * ONE);
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { bounds, kk, ksize };
}

function clip8(v) {
  if (v >= ONE * 256) return 255;
  if (v <= 0) return 0;
  return Math.floor(v / ONE);
}

/** Interleaved 8-bit pixels (channels c) resized to outW x outH as Pillow does with this filter. */
export function resizePillow(src, w, h, c, outW, outH, filter = 'bilinear') {
  if (!(filter in FILTERS)) throw new Error(`unknown resize filter ${filter}`);
  let data = src;
  let width = w;
  if (outW !== w) {
    const { bounds, kk, ksize } = coefficients(w, outW, filter);
    const out = new Uint8Array(outW * h * c);
    for (let y = 0; y < h; y++) {
      for (let xx = 0; xx < outW; xx++) {
        const xmin = bounds[xx * 2];
        const xmax = bounds[xx * 2 + 1];
        for (let ch = 0; ch < c; ch++) {
          let ss = HALF;
          for (let x = 0; x < xmax; x++) ss += data[(y * w + x + xmin) * c + ch] * kk[xx * ksize + x];
          out[(y * outW + xx) * c + ch] = clip8(ss);
        }
      }
    }
    data = out;
    width = outW;
  }
  if (outH !== h) {
    const { bounds, kk, ksize } = coefficients(h, outH, filter);
    const out = new Uint8Array(width * outH * c);
    for (let yy = 0; yy < outH; yy++) {
      const ymin = bounds[yy * 2];
      const ymax = bounds[yy * 2 + 1];
      for (let x = 0; x < width; x++) {
        for (let ch = 0; ch < c; ch++) {
          let ss = HALF;
          for (let y = 0; y < ymax; y++) ss += data[((y + ymin) * width + x) * c + ch] * kk[yy * ksize + y];
          out[(yy * width + x) * c + ch] = clip8(ss);
        }
      }
    }
    data = out;
  }
  return data;
}

/** Python's round(): halves to the even neighbour (torchvision's CenterCrop). */
function roundHalfEven(x) {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** torchvision's Resize(n) size: the shorter side to n, the longer to int(n * long / short). */
export function shorterSideSize(w, h, n) {
  if (w <= h) return [n, Math.trunc((n * h) / w)];
  return [Math.trunc((n * w) / h), n];
}

/** Pillow's L: ITU-R 601-2 luma in fixed point. */
const luma = (r, g, b) => (r * 19595 + g * 38470 + b * 7471 + 0x8000) >>> 16;

/**
 * rgba: ImageData-like {data, width, height}; p: the model's preprocessing metadata; resize/crop: the
 * index's (0: none). Returns {data: Float32Array, shape: [1, C, H, W]}.
 */
export function prepareImage(rgba, p, resize, crop) {
  const gray = p.colorOrder === 'gray';
  const c = gray ? 1 : 3;
  const n = rgba.width * rgba.height;
  const px = new Uint8Array(n * c);
  const d = rgba.data;
  for (let i = 0; i < n; i++) {
    if (gray) px[i] = luma(d[i * 4], d[i * 4 + 1], d[i * 4 + 2]);
    else for (let ch = 0; ch < 3; ch++) px[i * 3 + ch] = d[i * 4 + ch];
  }
  // Small-input models (28x28) have their queries resized to the input size, as the server does.
  const r = p.resize === null ? p.size : Math.max(resize, 0);
  const shorter = p.resize !== null && p.resizeMode === 'shorter';
  const [rw, rh] = r <= 0 ? [rgba.width, rgba.height] : shorter ? shorterSideSize(rgba.width, rgba.height, r) : [r, r];
  const same = rw === rgba.width && rh === rgba.height;
  const filter = p.resize !== null && p.filter === 'bicubic' ? 'bicubic' : 'bilinear';
  const resized = same ? px : resizePillow(px, rgba.width, rgba.height, c, rw, rh, filter);
  const cw = p.resize !== null && crop > 0 ? crop : rw;
  const ch = p.resize !== null && crop > 0 ? crop : rh;
  if (cw > rw || ch > rh) throw new Error(`image is ${rw}x${rh}, smaller than the ${cw}x${ch} crop`);
  const top = roundHalfEven((rh - ch) / 2);
  const left = roundHalfEven((rw - cw) / 2);
  const out = new Float32Array(c * cw * ch);
  const f = Math.fround;
  const divisor = p.range === 255 ? 1 : 255;
  for (let k = 0; k < c; k++) {
    // BGR models take the channels reversed.
    const from = p.colorOrder === 'BGR' ? 2 - k : k;
    const mean = f(p.mean[k]);
    const std = f(p.std[k]);
    for (let y = 0; y < ch; y++) {
      for (let x = 0; x < cw; x++) {
        const v = resized[((y + top) * rw + x + left) * c + from];
        out[(k * ch + y) * cw + x] = f(f(f(v / divisor) - mean) / std);
      }
    }
  }
  return { data: out, shape: [1, c, ch, cw] };
}
