// What loadStateDict found wrong, as data and as one readable line.
import { InputError } from '../util/errors.js';

export interface ShapeMismatch {
  key: string;
  expected: readonly number[];
  got: readonly number[];
}

export interface StateDictReport {
  /** Keys the module has that the state dict lacks. */
  missing: string[];
  /** Keys the state dict has that the module lacks. */
  unexpected: string[];
  /** Keys present in both with different shapes. */
  mismatched: ShapeMismatch[];
}

const LISTED = 8;

function listKeys(keys: readonly string[]): string {
  const shown = keys.slice(0, LISTED).join(', ');
  return keys.length > LISTED ? `${shown}, ... and ${keys.length - LISTED} more` : shown;
}

const shapeText = (s: readonly number[]) => `[${s.join(', ')}]`;

export function describeReport(r: StateDictReport): string {
  const parts: string[] = [];
  if (r.missing.length > 0) parts.push(`missing ${r.missing.length} key(s): ${listKeys(r.missing)}`);
  if (r.unexpected.length > 0) parts.push(`unexpected ${r.unexpected.length} key(s): ${listKeys(r.unexpected)}`);
  if (r.mismatched.length > 0) {
    const items = r.mismatched.map((m) => `${m.key} (expected ${shapeText(m.expected)}, got ${shapeText(m.got)})`);
    parts.push(`wrong shape for ${r.mismatched.length} key(s): ${listKeys(items)}`);
  }
  return parts.join('; ');
}

export function isCleanReport(r: StateDictReport): boolean {
  return r.missing.length === 0 && r.unexpected.length === 0 && r.mismatched.length === 0;
}

/** Thrown by a strict loadStateDict; the message is one line, the lists are on the error. */
export class StateDictError extends InputError implements StateDictReport {
  readonly missing: string[];
  readonly unexpected: string[];
  readonly mismatched: ShapeMismatch[];

  constructor(report: StateDictReport, context = 'state dict does not match the model') {
    super(`${context}: ${describeReport(report)}`);
    this.name = 'StateDictError';
    this.missing = report.missing;
    this.unexpected = report.unexpected;
    this.mismatched = report.mismatched;
  }
}
