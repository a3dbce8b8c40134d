// The regular files of a tar archive (ustar with pax extended headers, as Python's tarfile writes), as
// views into its bytes: enough for the first torch.save format (legacy-tar-format.ts).
import type { Fail } from './legacy-records.js';

const BLOCK = 512;
const latin1 = new TextDecoder('latin1');

/** Whether `bytes` start with a ustar header (its magic at byte 257). */
export function isTar(bytes: Uint8Array): boolean {
  return bytes.length >= BLOCK && latin1.decode(bytes.subarray(257, 262)) === 'ustar';
}

function text(header: Uint8Array, at: number, length: number): string {
  const field = header.subarray(at, at + length);
  const nul = field.indexOf(0);
  return latin1.decode(nul < 0 ? field : field.subarray(0, nul));
}

/** A numeric field: octal text, or base-256 when its first byte has the high bit set (GNU, large sizes). */
function number(header: Uint8Array, at: number, length: number): number | null {
  const field = header.subarray(at, at + length);
  if ((field[0] as number) & 0x80) {
    let v = (field[0] as number) & 0x7f;
    for (let i = 1; i < length; i++) v = v * 256 + (field[i] as number);
    return Number.isSafeInteger(v) ? v : null;
  }
  const digits = text(header, at, length).trim();
  return /^[0-7]+$/.test(digits) ? Number.parseInt(digits, 8) : digits === '' ? 0 : null;
}

/** The key=value records of a pax extended header ("<length> <key>=<value>\n" each). */
function paxRecords(data: Uint8Array): Map<string, string> {
  const records = new Map<string, string>();
  const all = new TextDecoder().decode(data);
  let at = 0;
  while (at < all.length) {
    const space = all.indexOf(' ', at);
    const length = Number.parseInt(all.slice(at, space), 10);
    if (space < 0 || !(length > 0)) break;
    const record = all.slice(space + 1, at + length - 1);
    const eq = record.indexOf('=');
    if (eq > 0) records.set(record.slice(0, eq), record.slice(eq + 1));
    at += length;
  }
  return records;
}

/** Name -> contents of every regular file; throws (via fail) on a bad header or a truncated archive. */
export function tarEntries(bytes: Uint8Array, fail: Fail): Map<string, Uint8Array> {
  const entries = new Map<string, Uint8Array>();
  let pax = new Map<string, string>();
  let at = 0;
  while (at + BLOCK <= bytes.length) {
    const header = bytes.subarray(at, at + BLOCK);
    if (header.every((b) => b === 0)) return entries;
    const stored = number(header, 148, 8);
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : (header[i] as number);
    if (stored !== sum) throw fail(`tar header at byte ${at} has a bad checksum (corrupt or not a tar archive)`);
    const size = pax.has('size') ? Number(pax.get('size')) : number(header, 124, 12);
    if (size === null || !Number.isSafeInteger(size) || size < 0) throw fail(`tar header at byte ${at} has a bad size`);
    const start = at + BLOCK;
    if (start + size > bytes.length) throw fail(`tar entry at byte ${at} runs past the end of the file (truncated)`);
    const data = bytes.subarray(start, start + size);
    const type = String.fromCharCode(header[156] as number);
    if (type === 'x') {
      pax = paxRecords(data);
    } else {
      if (type === '0' || type === '\0') {
        const prefix = text(header, 345, 155);
        const name = text(header, 0, 100);
        entries.set(pax.get('path') ?? (prefix ? `${prefix}/${name}` : name), data);
      }
      if (type !== 'g') pax = new Map();
    }
    at = start + Math.ceil(size / BLOCK) * BLOCK;
  }
  throw fail('tar archive ends before its end-of-archive blocks (truncated)');
}
