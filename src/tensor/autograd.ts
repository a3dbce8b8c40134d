// Grad mode switches.
import { native } from './native.js';

/** Runs fn with gradient recording off (as torch.no_grad()). */
export function noGrad<T>(fn: () => T): T {
  return withGradMode(false, fn);
}
/** Runs fn with gradient recording on, even inside noGrad. */
export function enableGrad<T>(fn: () => T): T {
  return withGradMode(true, fn);
}
export function isGradEnabled(): boolean {
  return native.isGradEnabled();
}

function withGradMode<T>(enabled: boolean, fn: () => T): T {
  const previous = native.setGradEnabled(enabled) as boolean;
  try {
    const result = fn();
    if (result instanceof Promise) throw new Error('noGrad()/enableGrad() take a synchronous function');
    return result;
  } finally {
    native.setGradEnabled(previous);
  }
}
