// What `--resume` allows to differ between a checkpoint's config and this run's, driven by the one schema
// (config-schema.ts): every key is compared; a key whose entry has no `onResume` must keep its value (so a
// new key is checked without anyone listing it), one with a reason may change and the run says so. A key
// the checkpoint's config lacks (written before the key existed) had its default then: the value that
// reproduces what that run did.
import { InputError } from '../util/errors.js';
import { fieldOf, flagOf, TRAIN_KEYS, type TrainConfig, type TrainKey } from './config-schema.js';

export interface ResumeChanges {
  /** One line per key this run changes harmlessly: the flag, both values and why it may change. */
  accepted: string[];
  /** The first key that may not change, as the one-line error, or null. */
  refused: string | null;
}

/** A value as a user writes it after its flag. */
export function flagValue(value: unknown): string {
  if (value === null || value === undefined) return 'none';
  if (Array.isArray(value)) return value.join(',');
  return String(value);
}

/** The checkpoint's value of a key: its default when the checkpoint predates the key. */
function savedValue(saved: Partial<TrainConfig>, key: TrainKey): unknown {
  return Object.hasOwn(saved, key) ? saved[key] : fieldOf(key).default;
}

/** Compares every schema key of the checkpoint's config with this run's. */
export function resumeChanges(saved: Partial<TrainConfig>, now: TrainConfig, path: string): ResumeChanges {
  const accepted: string[] = [];
  let refused: string | null = null;
  const before = Object.fromEntries(TRAIN_KEYS.map((k) => [k, savedValue(saved, k)]));
  for (const key of TRAIN_KEYS) {
    const was = before[key];
    const is = now[key];
    if (JSON.stringify(was) === JSON.stringify(is)) continue;
    const rule = fieldOf(key).onResume;
    const why = typeof rule === 'function' ? rule(before, now) : (rule ?? null);
    const flag = flagOf(key);
    if (why === null) {
      refused ??=
        `--resume ${path}: ${flag} is ${flagValue(was)} in the checkpoint, ${flagValue(is)} in this run; ` +
        'a resumed run keeps it (start a new run in another --out to change it)';
    } else {
      accepted.push(`--resume: ${flag} ${flagValue(is)} (the checkpoint has ${flagValue(was)}): accepted, ${why}`);
    }
  }
  return { accepted, refused };
}

/** Throws the one-line InputError of the first key that may not change; returns the accepted changes' lines. */
export function checkResumable(saved: Partial<TrainConfig>, now: TrainConfig, path: string): string[] {
  const { accepted, refused } = resumeChanges(saved, now, path);
  if (refused !== null) throw new InputError(refused);
  return accepted;
}
