// Where a sample's pixels come from: an image file (decoded with sharp) or the dataset's readRaw.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { RawImage, Sample } from '../types.js';
import { BadImageError, firstLine } from './bad-image-error.js';
import { type DecodedPixels, toPipelinePixels } from './colour.js';
import { decodeImage } from './decode.js';
import type { Pixels } from './pixels.js';
import type { Size } from './transform-config.js';

export interface ReadOptions {
  /**
   * Read the file on this thread (decode workers): an asynchronous read hands it to the fs thread pool
   * and leaves this thread idle meanwhile (about 0.4 ms of a 4 ms image here), time a worker that only
   * decodes cannot fill.
   */
  sync?: boolean;
  /** JPEGs decoded at reduced size, at least this big (Pillow's draft; see decode.ts). */
  draftTo?: Size;
}

export async function readImageFile(path: string, options: ReadOptions = {}): Promise<DecodedPixels> {
  let bytes: Uint8Array;
  try {
    bytes = options.sync ? readFileSync(path) : await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new BadImageError(
      path,
      code === 'ENOENT' ? 'image file not found' : `cannot read image file (${firstLine(e)})`,
    );
  }
  if (bytes.length === 0) throw new BadImageError(path, 'image file is empty');
  return decodeImage(bytes, path, { draftTo: options.draftTo });
}

export function rawToDecoded(raw: RawImage, path: string): DecodedPixels {
  const { width, height, channels } = raw;
  const ok =
    Number.isInteger(width) &&
    Number.isInteger(height) &&
    width > 0 &&
    height > 0 &&
    [1, 3, 4].includes(channels) &&
    raw.data?.length === width * height * channels;
  if (!ok) throw new BadImageError(path, `raw pixels do not match ${width}x${height}x${channels}`);
  return { data: raw.data, width, height, channels, cmyk: false };
}

/** The sample's pixels converted for the pipeline (1 or 3 channels); BadImageError when unusable. */
export async function loadPixels(
  sample: Sample,
  readRaw: ((s: Sample) => RawImage) | undefined,
  outChannels: 1 | 3,
  options: ReadOptions = {},
): Promise<Pixels> {
  let decoded: DecodedPixels;
  if (readRaw) {
    try {
      decoded = rawToDecoded(readRaw(sample), sample.path);
    } catch (e) {
      throw e instanceof BadImageError ? e : new BadImageError(sample.path, `cannot read pixels (${firstLine(e)})`);
    }
  } else {
    decoded = await readImageFile(sample.path, options);
  }
  try {
    return toPipelinePixels(decoded, outChannels);
  } catch (e) {
    throw new BadImageError(sample.path, firstLine(e));
  }
}
