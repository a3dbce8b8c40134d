// Compiles src/ into dist/ (JavaScript, .d.ts and source maps, with tsc -p tsconfig.build.json; incremental),
// copies what tsc does not (the worker entry .mjs files, the search page under search/web/), and removes
// outputs whose source is gone, so that dist/ mirrors src/. Runs in `npm ci` / `npm install` (prepare)
// and before the tests; `npm run build` after editing src/.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');
const dist = join(root, 'dist');

function files(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
if (r.status !== 0) {
  console.error('[normsoftmax build] tsc failed: dist/ is not up to date');
  process.exit(r.status ?? 1);
}

// What tsc does not compile: copied when newer.
for (const from of files(src).filter((f) => !f.endsWith('.ts'))) {
  const to = join(dist, relative(src, from));
  if (existsSync(to) && statSync(to).mtimeMs >= statSync(from).mtimeMs) continue;
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(from, to);
}

// Outputs of sources that were moved or deleted.
const sourceOf = (out) => {
  const rel = relative(dist, out);
  const m = /^(.*)\.(?:js|d\.ts)(?:\.map)?$/.exec(rel);
  return m && !existsSync(join(src, rel)) ? join(src, `${m[1]}.ts`) : join(src, rel);
};
for (const out of files(dist)) {
  if (out.endsWith('.tsbuildinfo')) continue;
  if (!existsSync(sourceOf(out))) rmSync(out);
}
