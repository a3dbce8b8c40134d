#!/usr/bin/env node
// Entry point of the `normsoftmax` command: the compiled CLI (dist/, built by `npm ci` or `npm run build`).
// A checkout without dist/ runs the TypeScript sources through tsx instead (slower to start).
import { existsSync } from 'node:fs';

const compiled = new URL('../dist/cli/main.js', import.meta.url);
if (existsSync(compiled)) {
  await import(compiled.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}
