// Records the order of the durable-write steps (fsync of a file or a folder, rename) that src/ makes, by
// wrapping node:fs (syncBuiltinESMExports makes the ES-module imports see the wrappers). Linux: an fd's
// path comes from /proc/self/fd.
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { basename } from 'node:path';

export type FsStep = { op: 'fsync-file' | 'fsync-dir'; name: string } | { op: 'rename'; from: string; to: string };

/** Runs `fn` with fsyncSync and renameSync traced; returns the steps (names are base names). */
export async function traceDurableWrites(fn: () => unknown): Promise<FsStep[]> {
  const steps: FsStep[] = [];
  const { fsyncSync, renameSync } = fs;
  fs.fsyncSync = (fd: number) => {
    const dir = fs.fstatSync(fd).isDirectory();
    steps.push({ op: dir ? 'fsync-dir' : 'fsync-file', name: basename(fs.readlinkSync(`/proc/self/fd/${fd}`)) });
    fsyncSync(fd);
  };
  fs.renameSync = (from: fs.PathLike, to: fs.PathLike) => {
    steps.push({ op: 'rename', from: basename(String(from)), to: basename(String(to)) });
    renameSync(from, to);
  };
  syncBuiltinESMExports();
  try {
    await fn();
  } finally {
    fs.fsyncSync = fsyncSync;
    fs.renameSync = renameSync;
    syncBuiltinESMExports();
  }
  return steps;
}

/**
 * Checks that `target` was written temp -> fsync -> rename -> folder fsync: the temp file fsynced before
 * it was renamed to `target`, and the folder fsynced after. Returns the rename's position in `steps`.
 */
export function assertDurable(steps: readonly FsStep[], target: string, folder: string): number {
  const at = steps.findIndex((s) => s.op === 'rename' && s.to === target);
  if (at < 0) throw new Error(`${target} was not renamed into place: ${JSON.stringify(steps)}`);
  const tmp = (steps[at] as { from: string }).from;
  const synced = steps.findIndex((s, i) => i < at && s.op === 'fsync-file' && s.name === tmp);
  if (synced < 0) throw new Error(`${target}: its temp file ${tmp} was not fsynced before the rename`);
  const dir = steps.findIndex((s, i) => i > at && s.op === 'fsync-dir' && s.name === folder);
  if (dir < 0) throw new Error(`${target}: the folder ${folder} was not fsynced after the rename`);
  return at;
}
