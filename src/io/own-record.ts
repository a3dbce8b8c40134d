// Records keyed by names from files: '__proto__' or 'constructor' must become plain entries, never
// touch the prototype.
export function setOwn<T>(record: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
}
