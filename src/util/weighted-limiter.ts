// Runs async tasks whose weights (decoded pixels, bytes) add up to at most `capacity` at once; a task
// heavier than the capacity runs alone. Waiting tasks start in arrival order, so a stream of light tasks
// cannot starve a heavy one.
export class WeightedLimiter {
  private used = 0;
  private readonly waiting: { weight: number; start: () => void }[] = [];

  constructor(readonly capacity: number) {
    if (!(Number.isFinite(capacity) && capacity > 0)) {
      throw new RangeError(`weighted limiter: capacity must be a positive number, got ${capacity}`);
    }
  }

  /** The weight of the tasks running now. */
  get inUse(): number {
    return this.used;
  }

  async run<T>(weight: number, task: () => Promise<T> | T): Promise<T> {
    if (!(Number.isFinite(weight) && weight >= 0)) {
      throw new RangeError(`weighted limiter: weight must be a finite number >= 0, got ${weight}`);
    }
    if (this.waiting.length > 0 || !this.fits(weight)) {
      await new Promise<void>((start) => this.waiting.push({ weight, start }));
    } else {
      this.used += weight;
    }
    try {
      return await task();
    } finally {
      this.used -= weight;
      this.startWaiting();
    }
  }

  private fits(weight: number): boolean {
    return this.used === 0 || this.used + weight <= this.capacity;
  }

  // A waiter's weight is counted when it is started, so a newcomer cannot take its room meanwhile.
  private startWaiting(): void {
    for (let next = this.waiting[0]; next && this.fits(next.weight); next = this.waiting[0]) {
      this.waiting.shift();
      this.used += next.weight;
      next.start();
    }
  }
}
