// Argument checks for the coarse native kernels: a bad value is a clear JS error here, never a read
// out of bounds or a silently truncated number in C++.

/** Throws a RangeError unless `value` is an integer in [lo, hi]. */
export function checkInteger(fn: string, what: string, value: unknown, lo: number, hi: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new RangeError(`${fn}: ${what} must be an integer in [${lo}, ${hi}], got ${describe(value)}`);
  }
  if (value < lo || value > hi) throw new RangeError(`${fn}: ${what} = ${value} is out of range [${lo}, ${hi}]`);
  return value;
}

export function checkBoolean(fn: string, what: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new TypeError(`${fn}: ${what} must be a boolean, got ${describe(value)}`);
  return value;
}

type ArrayConstructor = Uint8ArrayConstructor | Float32ArrayConstructor | Float64ArrayConstructor;

/** Throws a TypeError unless `value` is an instance of `Ctor` (a Buffer counts as a Uint8Array). */
export function checkArray<C extends ArrayConstructor>(
  fn: string,
  what: string,
  value: unknown,
  Ctor: C,
): InstanceType<C> {
  if (!(value instanceof Ctor)) throw new TypeError(`${fn}: ${what} must be a ${Ctor.name}, got ${describe(value)}`);
  return value as InstanceType<C>;
}

export function describe(value: unknown): string {
  if (typeof value === 'number') return String(value);
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name}`;
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? `a ${value.constructor?.name ?? 'object'}` : `${typeof value} ${String(value)}`;
}
