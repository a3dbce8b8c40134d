// Where the benchmark archives live and what they must hash to. The table can be replaced (tests, mirrors) by
// pointing NORMSOFTMAX_DOWNLOAD_TABLE at a JSON file of the same shape: {"cub": [{url, file, md5, ...}], ...}.
import { readFileSync } from 'node:fs';
import { DownloadError } from './errors.js';

export interface DownloadFile {
  url: string;
  /** Name the download is saved under in --root. */
  file: string;
  /** Expected digests (hex); at least one. */
  md5?: string;
  sha256?: string;
  /** Unpack into --root afterwards; otherwise the file itself is the result. */
  extract?: 'tar.gz' | 'zip';
  /** What exists in --root once this file is in place (its presence means: nothing to do). */
  provides: string;
}

export type DownloadableName = 'cub' | 'cars196' | 'sop';

export const DOWNLOADS: Record<DownloadableName, DownloadFile[]> = {
  cub: [
    {
      url: 'https://data.caltech.edu/records/65de6-vp158/files/CUB_200_2011.tgz?download=1',
      file: 'CUB_200_2011.tgz',
      md5: '97eceeb196236b17998738112f37df78',
      extract: 'tar.gz',
      provides: 'CUB_200_2011',
    },
  ],
  cars196: [
    {
      url: 'http://ai.stanford.edu/~jkrause/car196/car_ims.tgz',
      file: 'car_ims.tgz',
      md5: 'd5c8f0aa497503f355e17dc7886c3f14',
      extract: 'tar.gz',
      provides: 'car_ims',
    },
    {
      url: 'http://ai.stanford.edu/~jkrause/car196/cars_annos.mat',
      file: 'cars_annos.mat',
      md5: 'b407c6086d669747186bd1d764ff9dbc',
      provides: 'cars_annos.mat',
    },
  ],
  sop: [
    {
      url: 'http://ftp.cs.stanford.edu/cs/cvgl/Stanford_Online_Products.zip',
      file: 'Stanford_Online_Products.zip',
      md5: '7f73d41a2f44250d4779881525aea32e',
      extract: 'zip',
      provides: 'Stanford_Online_Products',
    },
  ],
};

export const INSHOP_MANUAL_STEPS = [
  'In-Shop (DeepFashion) cannot be downloaded automatically: it is shared through Google Drive after accepting',
  "the authors' terms. To set it up by hand:",
  '  1. Open https://mmlab.ie.cuhk.edu.hk/projects/DeepFashion/InShopRetrieval.html and follow its download link.',
  '  2. From "In-shop Clothes Retrieval Benchmark", download Img/img.zip and Eval/list_eval_partition.txt',
  '     (if an archive asks for a password, the DeepFashion page says how to request it).',
  '  3. Unpack so that ROOT/img/WOMEN/... and ROOT/Eval/list_eval_partition.txt exist:',
  '       mkdir -p ROOT/Eval && unzip img.zip -d ROOT && mv list_eval_partition.txt ROOT/Eval/',
  '  4. Check it: normsoftmax data check --dataset inshop --root ROOT',
  '     (expected: 25,882 train images; 14,218 query and 12,612 gallery images)',
];

export const TABLE_ENV = 'NORMSOFTMAX_DOWNLOAD_TABLE';

/** The files to fetch for a dataset, from the built-in table or the one NORMSOFTMAX_DOWNLOAD_TABLE names. */
export function downloadFiles(name: DownloadableName): DownloadFile[] {
  const tablePath = process.env[TABLE_ENV];
  if (!tablePath) return DOWNLOADS[name];
  let table: unknown;
  try {
    table = JSON.parse(readFileSync(tablePath, 'utf8'));
  } catch (e) {
    throw new DownloadError(`${TABLE_ENV}=${tablePath}: cannot read it as JSON (${(e as Error).message})`);
  }
  const files = (table as Record<string, unknown>)?.[name];
  if (!Array.isArray(files) || !files.every(isDownloadFile)) {
    throw new DownloadError(
      `${TABLE_ENV}=${tablePath}: "${name}" must be a list of {url, file, md5 or sha256, provides}`,
    );
  }
  return files;
}

function isDownloadFile(f: unknown): f is DownloadFile {
  const o = f as Record<string, unknown>;
  return (
    typeof o === 'object' &&
    o !== null &&
    typeof o.url === 'string' &&
    typeof o.file === 'string' &&
    typeof o.provides === 'string' &&
    (typeof o.md5 === 'string' || typeof o.sha256 === 'string') &&
    (o.extract === undefined || o.extract === 'tar.gz' || o.extract === 'zip')
  );
}
