// `data download`: fetch a benchmark's archives into --root, resuming partial downloads, verifying checksums
// and unpacking. An archive is unpacked only after its checksum matches, into a temporary folder that is then
// renamed into place, so --root never holds a half-unpacked dataset.
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { checksumMismatch } from './checksum.js';
import { DownloadError } from './errors.js';
import { extractArchive } from './extract.js';
import { megabyteProgress } from './megabyte-progress.js';
import { downloadResumable } from './resumable.js';
import { DOWNLOADS, type DownloadableName, type DownloadFile, downloadFiles } from './sources.js';

export { DownloadError } from './errors.js';
export { DOWNLOADS, type DownloadableName, type DownloadFile, INSHOP_MANUAL_STEPS, TABLE_ENV } from './sources.js';

export interface DownloadOptions {
  /** Keep the archives after unpacking (default: delete them). */
  keepArchive?: boolean;
  /** Messages for people (default: stderr). */
  log?: (line: string) => void;
  /** No progress bar or lines. */
  quiet?: boolean;
  retries?: number;
  idleTimeoutMs?: number;
}

export interface DownloadResult {
  /** Paths under root that this call put in place. */
  added: string[];
  /** Paths that were already there, so their downloads were skipped. */
  present: string[];
}

export function isDownloadable(name: string): name is DownloadableName {
  return Object.hasOwn(DOWNLOADS, name);
}

export async function downloadDataset(name: string, root: string, opts: DownloadOptions = {}): Promise<DownloadResult> {
  if (!isDownloadable(name)) {
    throw new DownloadError(`cannot download "${name}"; downloadable: ${Object.keys(DOWNLOADS).join(', ')}`);
  }
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const dir = resolve(root);
  mkdirSync(dir, { recursive: true });
  const result: DownloadResult = { added: [], present: [] };
  for (const file of downloadFiles(name)) {
    const target = join(dir, file.provides);
    if (existsSync(target)) {
      log(`${target} is already there; not downloading ${file.file}`);
      result.present.push(target);
      continue;
    }
    const archive = await fetchVerified(file, dir, log, opts);
    if (file.extract) {
      await unpack(archive, file, dir);
      if (!opts.keepArchive) rmSync(archive);
    } else if (archive !== target) {
      renameSync(archive, target);
    }
    log(`${target} is ready`);
    result.added.push(target);
  }
  return result;
}

/** The archive in `dir`, downloaded (or resumed) and checked; a download that fails its checksum is deleted. */
async function fetchVerified(file: DownloadFile, dir: string, log: (line: string) => void, opts: DownloadOptions) {
  const archive = join(dir, file.file);
  if (existsSync(archive)) {
    const bad = await checksumMismatch(archive, file);
    if (bad) {
      throw new DownloadError(
        `${archive}: checksum mismatch (${bad}); left as is and not unpacked; delete it and run again`,
      );
    }
    return archive;
  }
  const part = `${archive}.part`;
  log(`${existsSync(part) ? 'resuming' : 'downloading'} ${file.url}`);
  await downloadResumable(file.url, part, {
    retries: opts.retries,
    idleTimeoutMs: opts.idleTimeoutMs,
    log,
    progress: opts.quiet ? undefined : megabyteProgress(file.file),
  });
  const bad = await checksumMismatch(part, file);
  if (bad) {
    rmSync(part);
    throw new DownloadError(
      `${file.file}: checksum mismatch (${bad}); the download was deleted and nothing was unpacked; run again to download it afresh`,
    );
  }
  renameSync(part, archive);
  return archive;
}

async function unpack(archive: string, file: DownloadFile, dir: string): Promise<void> {
  const staging = join(dir, `.${file.file}.unpacking`);
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging);
  try {
    await extractArchive(archive, file.extract!, staging);
    if (!existsSync(join(staging, file.provides))) {
      throw new DownloadError(`${archive} does not contain ${file.provides}; nothing was unpacked`);
    }
    for (const entry of readdirSync(staging)) {
      if (!existsSync(join(dir, entry))) renameSync(join(staging, entry), join(dir, entry));
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}
