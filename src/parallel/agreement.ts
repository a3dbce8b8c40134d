// What every rank of a job must agree on (its world size and the settings that shape the collectives),
// published in the store at start (native/src/dist.cpp compares the views) so a mismatch stops every
// rank at once with one line naming the ranks and the values, instead of a rendezvous that times out.

/** A rank's view of the job: `key=value` pairs, WORLD_SIZE first. */
export function jobView(
  worldSize: number,
  settings: Record<string, string | number | boolean | undefined> = {},
): string {
  const pairs: [string, unknown][] = [['WORLD_SIZE', worldSize], ...Object.entries(settings)];
  return pairs
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${String(v).replace(/[|\s]+/g, '_')}`)
    .join(' ');
}

function parseView(view: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const pair of view.split(' ')) {
    const eq = pair.indexOf('=');
    if (eq > 0) m.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
  return m;
}

/**
 * The one-line reason for the addon's "job mismatch|rankA|viewA|rankB|viewB" (null for any other
 * message): the ranks and every value they disagree on.
 */
export function describeJobMismatch(message: string): string | null {
  const parts = message.split('|');
  if (parts[0] !== 'job mismatch' || parts.length !== 5) return null;
  const [, rankA, viewA, rankB, viewB] = parts as [string, string, string, string, string];
  const a = parseView(viewA);
  const b = parseView(viewB);
  const keys = [...new Set([...a.keys(), ...b.keys()])].filter((k) => a.get(k) !== b.get(k));
  const diffs = keys.map((k) => `${k} ${a.get(k) ?? '(unset)'} vs ${b.get(k) ?? '(unset)'}`);
  return `rank ${rankA} and rank ${rankB} were started differently (${diffs.join(', ')}): every rank must get the same WORLD_SIZE and the same command`;
}

/** The flags whose values every rank must share (they shape the batches, the model and the collectives). */
export const AGREED_FLAGS = [
  '--preset',
  '--config',
  '--dataset',
  '--arch',
  '--dim',
  '--batch-size',
  '--images-per-class',
  '--sampler',
  '--loss',
  '--class-fraction',
  '--seed',
  '--num-steps',
  '--epochs-per-step',
  '--warmup-epochs',
  '--max-batches-per-epoch',
  '--eval-every',
  '--checkpoint',
  '--images',
  '--split',
];

/** The command's name and the agreed flags' values as given on its command line (argv after the script). */
export function commandSettings(argv: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  const command = argv.find((a) => !a.startsWith('-'));
  if (command !== undefined) out.command = command;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(0, eq) : a;
    if (!AGREED_FLAGS.includes(name)) continue;
    const value = eq > 0 ? a.slice(eq + 1) : argv[i + 1];
    if (value !== undefined) out[name.slice(2)] = value;
  }
  return out;
}
