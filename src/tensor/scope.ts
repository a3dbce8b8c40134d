// Deterministic freeing: scope(fn) disposes every tensor created while fn runs, except those
// it returns (they move to the enclosing scope) and those passed to keep().
export interface Disposable {
  dispose(): void;
  readonly isDisposed: boolean;
  /** @internal set by keep() or when a tensor leaves its scope */
  _scopeFrame: object[] | null;
  /**
   * @internal called once, when no scope owns the object any more (created outside every scope,
   * kept, or returned from the outermost scope): from then on only dispose() or the garbage
   * collector frees it. Objects that die inside their scope never pay for a GC finalizer.
   */
  _unscoped(): void;
}

const frames: Disposable[][] = [];

// frames[-1] on an empty stack is a slow named-property lookup ("-1"), on every op outside scopes.
function currentFrame(): Disposable[] | null {
  return frames.length > 0 ? (frames[frames.length - 1] as Disposable[]) : null;
}

/** Called by every new tensor. */
export function track(t: Disposable): void {
  const frame = currentFrame();
  if (frame !== null) {
    frame.push(t);
    t._scopeFrame = frame;
  } else {
    t._unscoped();
  }
}

/** Excludes tensors from scope cleanup: they live until dispose() or garbage collection. */
export function keep<T>(value: T): T {
  visitDisposables(value, (t) => {
    if (t._scopeFrame === null) return;
    t._scopeFrame = null;
    t._unscoped();
  });
  return value;
}

function isDisposable(v: unknown): v is Disposable {
  return typeof v === 'object' && v !== null && '_scopeFrame' in v && typeof (v as Disposable).dispose === 'function';
}

/** Applies fn to each tensor in a value: a tensor, or arrays/plain objects/Maps holding tensors. */
export function visitDisposables(value: unknown, fn: (t: Disposable) => void, depth = 0): void {
  if (depth > 8 || value === null || typeof value !== 'object') return;
  if (isDisposable(value)) {
    fn(value);
    return;
  }
  if (Array.isArray(value)) {
    for (const v of value) visitDisposables(v, fn, depth + 1);
  } else if (value instanceof Map) {
    for (const v of value.values()) visitDisposables(v, fn, depth + 1);
  } else if (Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) visitDisposables(v, fn, depth + 1);
  }
}

export function scope<T>(fn: () => T): T {
  const frame: Disposable[] = [];
  frames.push(frame);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    frames.pop();
    disposeFrame(frame);
    throw e;
  }
  frames.pop();
  if (result instanceof Promise) {
    disposeFrame(frame);
    throw new Error('scope() takes a synchronous function; dispose tensors explicitly in async code');
  }
  const parent = currentFrame();
  visitDisposables(result, (t) => {
    if (t._scopeFrame === frame) {
      t._scopeFrame = parent;
      if (parent) parent.push(t);
      else t._unscoped();
    }
  });
  disposeFrame(frame);
  return result;
}

// Unlinks each freed tensor from the frame rather than emptying it (a length store is a runtime
// call): a disposed tensor someone still holds then does not keep its siblings reachable.
function disposeFrame(frame: Disposable[]): void {
  for (let i = 0; i < frame.length; i++) {
    const t = frame[i] as Disposable;
    if (t._scopeFrame !== frame) continue;
    t._scopeFrame = null;
    t.dispose();
  }
}

export function scopeDepth(): number {
  return frames.length;
}
