// Micro-batching of image queries: requests arriving close together share one embed call. The first
// image of a batch waits at most `windowMs` for company; a full batch goes at once. One embed call runs at
// a time (the embedder is one model in one worker), so while it runs the next batch fills up.
import type { QueryEmbedder } from '../types.js';

/** An embedder that answers per image (src/search/query-embedder.ts): no second pass after a bad one. */
interface SettledEmbedder {
  embedSettled(images: readonly Uint8Array[]): Promise<(Float32Array | Error)[]>;
}

interface Pending {
  image: Uint8Array;
  resolve: (v: Float32Array) => void;
  reject: (e: unknown) => void;
}

export class EmbedBatcher {
  private pending: Pending[] = [];
  private timer: NodeJS.Timeout | null = null;
  private running = false;

  constructor(
    private readonly embedder: QueryEmbedder,
    private readonly batchSize: number,
    private readonly windowMs: number,
    private readonly onBatch: (size: number) => void = () => {},
  ) {}

  embed(image: Uint8Array): Promise<Float32Array> {
    return new Promise((resolve, reject) => {
      this.pending.push({ image, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.running || this.pending.length === 0) return;
    if (this.pending.length >= this.batchSize) {
      this.flush();
    } else if (this.timer === null) {
      this.timer = setTimeout(() => this.flush(), this.windowMs);
    }
  }

  private flush(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.running || this.pending.length === 0) return;
    const batch = this.pending.splice(0, this.batchSize);
    this.running = true;
    this.onBatch(batch.length);
    this.run(batch).finally(() => {
      this.running = false;
      this.schedule();
    });
  }

  private async run(batch: Pending[]): Promise<void> {
    const settled = (this.embedder as Partial<SettledEmbedder>).embedSettled;
    if (settled) {
      try {
        const results = await settled.call(
          this.embedder,
          batch.map((p) => p.image),
        );
        batch.forEach((p, i) => {
          const r = results[i];
          if (r instanceof Float32Array) p.resolve(r);
          else p.reject(r ?? new Error(`the embedder returned ${results.length} results for ${batch.length} images`));
        });
      } catch (e) {
        for (const p of batch) p.reject(e);
      }
      return;
    }
    try {
      const vectors = await this.embedder.embed(batch.map((p) => p.image));
      batch.forEach((p, i) => {
        const v = vectors[i];
        if (v) p.resolve(v);
        else p.reject(new Error(`the embedder returned ${vectors.length} vectors for ${batch.length} images`));
      });
    } catch (e) {
      if (batch.length === 1) {
        (batch[0] as Pending).reject(e);
        return;
      }
      // One bad image fails the whole call: embed one by one so only the bad one's request fails.
      for (const p of batch) {
        try {
          const [v] = await this.embedder.embed([p.image]);
          if (v) p.resolve(v);
          else p.reject(new Error('the embedder returned no vector'));
        } catch (e1) {
          p.reject(e1);
        }
      }
    }
  }
}
