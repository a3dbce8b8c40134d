// A bounded queue for searches: at most `limit` are admitted at once (running or waiting for the embedder
// or the index); one more is refused at once (503 + Retry-After) instead of queueing without limit.
import { HttpError } from './http-error.js';

export class Admission {
  private inFlight = 0;
  constructor(
    readonly limit: number,
    private readonly retryAfterS: number,
    private readonly onDepth: (depth: number) => void = () => {},
  ) {}

  get depth(): number {
    return this.inFlight;
  }

  /** Runs `work` once admitted; the slot is held until the work settles (even after a timeout answered). */
  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.inFlight >= this.limit) {
      throw new HttpError(503, `busy: ${this.limit} searches are already queued; retry shortly`, {
        'retry-after': String(this.retryAfterS),
      });
    }
    this.inFlight += 1;
    this.onDepth(this.inFlight);
    try {
      return await work();
    } finally {
      this.inFlight -= 1;
      this.onDepth(this.inFlight);
    }
  }
}

/** `promise`, or a 503 once `ms` have passed (the work itself goes on; its slot is freed when it ends). */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new HttpError(503, `${what} did not finish within ${ms} ms`, { 'retry-after': '1' })),
      ms,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
