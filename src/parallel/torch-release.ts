// torchrun and the addon's libtorch must come from the same PyTorch release: the TCPStore wire protocol
// changed between 1.x and 2.x, and a rank of one cannot talk to a store of the other (it hangs).
// Under torchrun's agent store the release of the torchrun that started us is read from its Python's
// package metadata (fast: torch itself is not imported) and compared before the store is opened.
import { spawnSync } from 'node:child_process';
import { readlinkSync } from 'node:fs';

const majorMinor = (v: string): [number, number] | null => {
  const m = /^(\d+)\.(\d+)/.exec(v.trim());
  return m ? [Number(m[1]), Number(m[2])] : null;
};

export interface ReleaseCheck {
  /** A mismatch that cannot work (another major release): stop with this line. */
  error: string | null;
  /** Another minor release of the same major: may work, said once. */
  warning: string | null;
}

/** The decision, given torchrun's PyTorch version (null: unknown) and the addon's libtorch version. */
export function checkTorchrunRelease(torchrun: string | null, libtorch: string): ReleaseCheck {
  const a = torchrun === null ? null : majorMinor(torchrun);
  const b = majorMinor(libtorch);
  if (a === null || b === null) return { error: null, warning: null };
  const line = `torchrun from PyTorch ${torchrun?.trim()} with normsoftmax built on libtorch ${libtorch}`;
  if (a[0] !== b[0]) return { error: `${line}: use torchrun from the same release`, warning: null };
  if (a[1] !== b[1])
    return { error: null, warning: `warning: ${line}; if the ranks do not join, use torchrun from the same release` };
  return { error: null, warning: null };
}

/**
 * The PyTorch version of the torchrun that started this process (its parent, the elastic agent, a
 * Python process), or null when it cannot be told (not Linux, not Python, no package metadata).
 */
export function torchrunTorchVersion(parentPid: number = process.ppid): string | null {
  let python: string;
  try {
    python = readlinkSync(`/proc/${parentPid}/exe`);
  } catch {
    return null;
  }
  if (!/python/i.test(python)) return null;
  const r = spawnSync(python, ['-c', "import importlib.metadata as m; print(m.version('torch'))"], {
    encoding: 'utf8',
    timeout: 15_000,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const v = r.status === 0 ? r.stdout.trim() : '';
  return v === '' ? null : v;
}
