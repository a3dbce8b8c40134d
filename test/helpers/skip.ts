// The one way a test skips for something about the machine. Every skip carries a reason and one of two kinds:
// - 'cannot-apply': the test cannot apply on this machine (no CUDA on a CPU machine, the real data-set
//   archives not here, a glibc policy on another libc). A skip, under CI too.
// - 'must-install': something CI installs is missing (the Gloo headers, jpeglib.h, Chromium, the reference
//   Python). A skip locally; under CI an Error, so that a green CI means every such test ran.
// The result is node:test's `skip` option: false (run the test) or the reason, which the report prints.

export type SkipKind = 'cannot-apply' | 'must-install';

type Env = Readonly<Record<string, string | undefined>>;

/** Whether CI is set (as scripts/install.sh reads it: any non-empty value). */
export const underCi = (env: Env = process.env): boolean => (env.CI ?? '') !== '';

/**
 * `missing` is false, null, undefined or '' when the test applies here, else what is missing, in words.
 * Returns node:test's skip option; throws for a 'must-install' skip when CI is set.
 */
export function skipFor(
  kind: SkipKind,
  missing: string | false | null | undefined,
  env: Env = process.env,
): string | false {
  if (missing === false || missing === null || missing === undefined || missing === '') return false;
  if (kind === 'cannot-apply') return `cannot apply on this machine: ${missing}`;
  if (underCi(env)) {
    throw new Error(
      `CI is set, but ${missing}; CI must install it (bash scripts/install.sh), so this test may not skip`,
    );
  }
  return `not installed here (CI installs it): ${missing}`;
}

/** A test that cannot apply on this machine when `missing` is set: skipped, under CI too. */
export const cannotApplyHere = (missing: string | false | null | undefined): string | false =>
  skipFor('cannot-apply', missing);

/** A test that needs something CI installs: skipped when `missing` is set, an Error under CI. */
export const needsInstalled = (missing: string | false | null | undefined, env: Env = process.env): string | false =>
  skipFor('must-install', missing, env);
