// Progress of an interrupted build, kept inside the index folder (IDX/.partial/): the vectors embedded so
// far (float32 rows appended to vectors.f32) and which items they are (done.jsonl, one {"id","hash"} per
// row, written after the row). A restart with the same embedder skips every item whose id and content hash
// are listed; a row without its line (interrupted between the two writes) is ignored.
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const PARTIAL_DIR = '.partial';

export interface PartialKey {
  checkpointSha256: string | null;
  dim: number;
  resize: number;
  crop: number;
  jpegDraft?: boolean;
}

export class PartialEmbeddings {
  readonly #dir: string;
  readonly #dim: number;
  readonly #done = new Map<string, Float32Array>();

  constructor(indexDir: string, key: PartialKey) {
    this.#dir = join(indexDir, PARTIAL_DIR);
    this.#dim = key.dim;
    const keyFile = join(this.#dir, 'key.json');
    const keyText = JSON.stringify(key);
    if (existsSync(keyFile) && readFileSync(keyFile, 'utf8') === keyText) this.#load();
    else {
      rmSync(this.#dir, { recursive: true, force: true });
      mkdirSync(this.#dir, { recursive: true });
      writeFileSync(keyFile, keyText);
    }
  }

  #load(): void {
    const vf = join(this.#dir, 'vectors.f32');
    const df = join(this.#dir, 'done.jsonl');
    if (!existsSync(vf) || !existsSync(df)) return;
    const bytes = readFileSync(vf);
    const rows = Math.floor(bytes.length / (4 * this.#dim));
    const vectors = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + rows * 4 * this.#dim));
    const lines = readFileSync(df, 'utf8').split('\n');
    let valid = 0;
    for (; valid < Math.min(rows, lines.length); valid++) {
      try {
        const { id, hash } = JSON.parse(lines[valid] as string) as { id: string; hash: string | null };
        this.#done.set(`${hash}\n${id}`, vectors.slice(valid * this.#dim, (valid + 1) * this.#dim));
      } catch {
        break;
      }
    }
    // Rewrite both files with their consistent prefix, so that later appends line up.
    writeFileSync(vf, new Uint8Array(vectors.buffer, 0, valid * this.#dim * 4));
    writeFileSync(
      df,
      lines
        .slice(0, valid)
        .map((l) => `${l}\n`)
        .join(''),
    );
  }

  get size(): number {
    return this.#done.size;
  }

  get(id: string, hash: string | null): Float32Array | undefined {
    return this.#done.get(`${hash}\n${id}`);
  }

  append(items: readonly { id: string; hash: string | null }[], vectors: Float32Array): void {
    appendFileSync(
      join(this.#dir, 'vectors.f32'),
      new Uint8Array(vectors.buffer, vectors.byteOffset, items.length * this.#dim * 4),
    );
    appendFileSync(
      join(this.#dir, 'done.jsonl'),
      items.map((it) => `${JSON.stringify({ id: it.id, hash: it.hash })}\n`).join(''),
    );
    items.forEach((it, i) => {
      this.#done.set(`${it.hash}\n${it.id}`, vectors.slice(i * this.#dim, (i + 1) * this.#dim));
    });
  }

  remove(): void {
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
