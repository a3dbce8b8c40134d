// The one way tests find the reference Python (PyTorch, torchvision, faiss, scikit-learn) that makes or
// checks golden fixtures: $NORMSOFTMAX_PYTHON, else Debian's /usr/bin/python3 (what scripts/install.sh
// --with-reference installs into). A parity test without it is skipped, saying why; with CI set it fails
// instead, so that a green CI means every parity test ran (a 'must-install' skip of ./skip.ts).
import { spawnSync } from 'node:child_process';
import { needsInstalled } from './skip.js';

export const REFERENCE_PYTHON = process.env.NORMSOFTMAX_PYTHON ?? '/usr/bin/python3';

const known = new Map<string, boolean>();

function hasModule(name: string): boolean {
  let ok = known.get(name);
  if (ok === undefined) {
    ok = spawnSync(REFERENCE_PYTHON, ['-c', `import ${name}`], { stdio: 'ignore' }).status === 0;
    known.set(name, ok);
  }
  return ok;
}

/**
 * false when the reference Python has every module, else the reason to skip (for node:test's `skip`).
 * Throws when CI is set and a module is missing: CI installs the reference, so a skip there is a fault.
 */
export function referenceSkip(modules: readonly string[], purpose: string): string | false {
  const missing = modules.filter((m) => !hasModule(m));
  if (missing.length === 0) return false;
  return needsInstalled(
    `${REFERENCE_PYTHON} lacks ${missing.join(', ')} (bash scripts/install.sh --with-reference installs it), so ${purpose} cannot run`,
  );
}

/** Runs a reference script; throws with its stderr when it fails. Returns stdout. */
export function runReference(args: readonly string[], o: { input?: string; timeoutMs?: number } = {}): string {
  const r = spawnSync(REFERENCE_PYTHON, args, {
    input: o.input,
    encoding: 'utf8',
    timeout: o.timeoutMs ?? 600_000,
    maxBuffer: 1 << 30,
  });
  if (r.status !== 0) {
    throw new Error(`${REFERENCE_PYTHON} ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr.slice(-2000)}`);
  }
  return r.stdout;
}
