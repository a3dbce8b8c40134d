// In-browser embedding: the dropped image is decoded here (createImageBitmap + canvas), prepared as the
// server's pipeline does (preprocess.js) and embedded by onnxruntime-web (WASM, served by this server:
// /ort/), so only its vector goes to /api/search. One WASM thread unless the page is cross-origin isolated.
import { prepareImage } from './preprocess.js';

let session = null;
let ort = null;

async function load(info) {
  if (session) return;
  ort = await import(`${info.browserEmbed.runtime}ort.wasm.min.mjs`);
  ort.env.wasm.wasmPaths = info.browserEmbed.runtime;
  ort.env.wasm.numThreads = self.crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1;
  ort.env.wasm.proxy = false;
  const r = await fetch(info.browserEmbed.model);
  if (!r.ok) throw new Error(`the model: ${r.status} ${r.statusText}`);
  const bytes = new Uint8Array(await r.arrayBuffer());
  session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
}

/** RGBA pixels of an image file, as decoded by the browser, without colour-space conversion. */
async function decode(file) {
  const bitmap = await createImageBitmap(file, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  return ctx.getImageData(0, 0, canvas.width, canvas.height);
}

/** The file's unit-length embedding (Float32Array of info.browserEmbed.dim). */
export async function embedInBrowser(file, info) {
  await load(info);
  const input = prepareImage(
    await decode(file),
    info.browserEmbed.preprocessing,
    info.embedder.resize,
    info.embedder.crop,
  );
  const tensor = new ort.Tensor('float32', input.data, input.shape);
  const out = await session.run({ images: tensor });
  return out.embeddings.data;
}

/** Loads the runtime and the model ahead of the first query (errors surface at the first query). */
export function preload(info) {
  load(info).catch(() => {});
}
