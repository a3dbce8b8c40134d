// Digests of downloaded files, streamed so multi-gigabyte archives are not read into memory.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

export async function fileDigest(path: string, algorithm: 'md5' | 'sha256'): Promise<string> {
  const hash = createHash(algorithm);
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Undefined when the file matches every digest given; otherwise what was expected and what was found. */
export async function checksumMismatch(
  path: string,
  expected: { md5?: string; sha256?: string },
): Promise<string | undefined> {
  for (const algorithm of ['sha256', 'md5'] as const) {
    const want = expected[algorithm]?.toLowerCase();
    if (want === undefined) continue;
    const got = await fileDigest(path, algorithm);
    if (got !== want) return `${algorithm} ${got}, expected ${want}`;
  }
  return undefined;
}
