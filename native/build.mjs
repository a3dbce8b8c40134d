// Builds native/build/normsoftmax.node from native/src/*.cpp against the libtorch that
// find-libtorch.mjs locates. Runs during `npm ci`; incremental (skips up-to-date objects).
// Usage: node native/build.mjs [--force] [--debug]
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findLibtorch } from './find-libtorch.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const srcDir = join(here, 'src');
const buildDir = join(here, 'build');
const objDir = join(buildDir, 'obj');
const target = join(buildDir, 'normsoftmax.node');
const force = process.argv.includes('--force');
const debug = process.argv.includes('--debug');

function nodeIncludeDir() {
  const candidates = [
    join(dirname(process.execPath), '..', 'include', 'node'),
    process.env.npm_config_nodedir && join(process.env.npm_config_nodedir, 'include', 'node'),
    '/usr/include/node',
  ].filter(Boolean);
  const found = candidates.find((d) => existsSync(join(d, 'node_api.h')));
  if (!found) throw new Error(`Node headers (node_api.h) not found; looked in ${candidates.join(', ')}`);
  return found;
}

function addonApiIncludeDir() {
  const dir = join(here, '..', 'node_modules', 'node-addon-api');
  if (!existsSync(join(dir, 'napi.h'))) throw new Error('node-addon-api is missing: run `npm ci` first');
  return dir;
}

function run(cmd, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} exited with ${code}`))));
  });
}

async function runPool(jobs, parallel) {
  const queue = [...jobs];
  const workers = Array.from({ length: parallel }, async () => {
    while (queue.length > 0) await queue.shift()();
  });
  await Promise.all(workers);
}

async function main() {
  const torch = findLibtorch();
  const cxx = process.env.CXX ?? 'g++';
  const cflags = [
    '-std=c++17',
    debug ? '-O0' : '-O2',
    '-g0',
    '-fPIC',
    '-fvisibility=hidden',
    '-Wno-deprecated-declarations',
    '-Wno-unused-parameter',
    `-D_GLIBCXX_USE_CXX11_ABI=${torch.cxx11Abi}`,
    '-DNAPI_VERSION=8',
    '-DNAPI_CPP_EXCEPTIONS',
    '-DNODE_ADDON_API_DISABLE_DEPRECATED',
    ...(torch.cuda ? ['-DNS_WITH_CUDA'] : []),
    `-I${nodeIncludeDir()}`,
    `-I${addonApiIncludeDir()}`,
    ...torch.includeDirs.map((d) => `-I${d}`),
  ];
  const ldflags = [
    '-shared',
    `-L${torch.libDir}`,
    `-Wl,-rpath,${torch.libDir}`,
    '-Wl,--no-as-needed',
    ...torch.libs.map((l) => `-l${l}`),
    '-Wl,--as-needed',
  ];
  // Only dist*.cpp see c10d's Gloo flags, so finding (or losing) the Gloo headers rebuilds those alone.
  const glooDir = torch.gloo.includeDir;
  const distFlags = glooDir
    ? ['-DUSE_C10D_GLOO', '-DNS_WITH_C10D_GLOO', ...(torch.includeDirs.includes(glooDir) ? [] : [`-I${glooDir}`])]
    : [];
  const configHash = createHash('sha256')
    .update(JSON.stringify({ cxx, cflags, ldflags }))
    .digest('hex')
    .slice(0, 16);
  const distHash = createHash('sha256').update(JSON.stringify(distFlags)).digest('hex').slice(0, 16);
  mkdirSync(objDir, { recursive: true });
  const stampFile = join(buildDir, 'config.json');
  const previous = existsSync(stampFile) ? JSON.parse(readFileSync(stampFile, 'utf8')) : null;
  const rebuildAll = force || previous?.configHash !== configHash;
  const rebuildDist = rebuildAll || previous?.distHash !== distHash;

  const headers = readdirSync(srcDir).filter((f) => f.endsWith('.h'));
  const newestHeader = Math.max(0, ...headers.map((h) => statSync(join(srcDir, h)).mtimeMs));
  const sources = readdirSync(srcDir)
    .filter((f) => f.endsWith('.cpp'))
    .sort();
  const objects = [];
  const jobs = [];
  for (const file of sources) {
    const src = join(srcDir, file);
    const obj = join(objDir, file.replace(/\.cpp$/, '.o'));
    objects.push(obj);
    const isDist = file.startsWith('dist');
    const stale =
      rebuildAll ||
      (isDist && rebuildDist) ||
      !existsSync(obj) ||
      statSync(obj).mtimeMs < Math.max(statSync(src).mtimeMs, newestHeader);
    if (stale) {
      jobs.push(async () => {
        console.log(`[normsoftmax native] compiling ${file}`);
        await run(cxx, [...cflags, ...(isDist ? distFlags : []), '-c', src, '-o', obj]);
      });
    }
  }
  if (jobs.length === 0 && existsSync(target) && !rebuildAll && !rebuildDist) {
    console.log('[normsoftmax native] up to date');
    return;
  }
  console.log(`[normsoftmax native] libtorch: ${torch.source}, C++11 ABI ${torch.cxx11Abi}`);
  console.log(
    torch.gloo.includeDir
      ? `[normsoftmax native] distributed: c10d Gloo (headers in ${torch.gloo.includeDir})`
      : `[normsoftmax native] distributed: unavailable, ${torch.gloo.reason}`,
  );
  await runPool(jobs, Math.max(1, availableParallelism()));
  const tmp = `${target}.tmp`;
  await run(cxx, [...objects, '-o', tmp, ...ldflags]);
  renameSync(tmp, target);
  writeFileSync(stampFile, `${JSON.stringify({ configHash, distHash, libtorch: torch }, null, 2)}\n`);
  console.log(`[normsoftmax native] built ${target}`);
}

main().catch((e) => {
  console.error(`[normsoftmax native] ${e.message}`);
  process.exit(1);
});
