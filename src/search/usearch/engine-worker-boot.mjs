// Entry of an engine worker thread. In the compiled package (dist/) it loads the compiled worker; over the TypeScript
// sources (tests, development) it first registers tsx's loader hooks, which worker threads do not inherit.
import { existsSync } from 'node:fs';

const source = new URL('./engine-worker.ts', import.meta.url);
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(source.href);
} else {
  await import('./engine-worker.js');
}
