// Builds the two addons from native/src/*.cpp: native/build/normsoftmax.node (everything, against the
// libtorch that find-libtorch.mjs locates) and native/build/normsoftmax_search.node (the exact search
// kernels alone, without libtorch: SEARCH_SOURCES and the search_*.cpp files, which must not include
// libtorch's headers or common.h; loading libtorch costs a process that only searches ~0.7 s). Objects
// are compiled once, with the same flags, and linked into either addon or both. Runs during `npm ci`;
// incremental (an object is rebuilt when its source or a header it includes, directly or not, is newer).
// Usage: node native/build.mjs [--force] [--debug]
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findLibtorch } from './find-libtorch.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const srcDir = join(here, 'src');
const buildDir = join(here, 'build');
const objDir = join(buildDir, 'obj');
const target = join(buildDir, 'normsoftmax.node');
const searchTarget = join(buildDir, 'normsoftmax_search.node');
// Linked into the search addon as well as the libtorch addon; the search_*.cpp files into the search addon only.
const SEARCH_SOURCES = [
  'hamming.cpp',
  'napi_common.cpp',
  'scan.cpp',
  'scan_avx2.cpp',
  'scan_avx512.cpp',
  'scan_scalar.cpp',
  'scan_vnni.cpp',
  'simd.cpp',
];
const isSearchOnly = (file) => file.startsWith('search_');
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

// The local headers a file includes (#include "x.h"), directly or through other headers.
function localHeaders(file, memo = new Map()) {
  const known = memo.get(file);
  if (known) return known;
  const found = new Set();
  memo.set(file, found);
  const text = readFileSync(join(srcDir, file), 'utf8');
  for (const [, header] of text.matchAll(/^\s*#\s*include\s+"([^"]+)"/gm)) {
    if (!existsSync(join(srcDir, header))) continue;
    found.add(header);
    for (const h of localHeaders(header, memo)) found.add(h);
  }
  return found;
}

// The search addon must not need libtorch: none of its sources may include libtorch's headers or common.h.
function checkTorchFree(files, memo) {
  for (const file of files) {
    for (const f of [file, ...localHeaders(file, memo)]) {
      const text = readFileSync(join(srcDir, f), 'utf8');
      const bad = f === 'common.h' ? 'common.h' : text.match(/^\s*#\s*include\s+<((?:torch|ATen|c10)\/[^>]+)>/m)?.[1];
      if (bad) throw new Error(`${file} is linked into the search addon but includes ${bad} (through ${f}): it must not need libtorch`);
    }
  }
}

// Whether a source sees libtorch's headers (through common.h or directly): those compile far faster
// with libtorch's headers precompiled once.
function includesLibtorch(file, memo) {
  return [file, ...localHeaders(file, memo)].some((f) => {
    if (f === 'common.h') return true;
    return /^\s*#\s*include\s+<(?:torch|ATen|c10)\//m.test(readFileSync(join(srcDir, f), 'utf8'));
  });
}

// Parsing <torch/torch.h> takes most of each file's compile (15 s of 19 with GCC -O2 here): with GCC,
// when enough such files are stale, the headers are precompiled once (30 s, 600 MB, removed after the
// build) and each file includes the result (4 s). Returns the flags that use it, or none: another
// compiler, a failure to precompile or few files compile as before (GCC falls back to the text of the
// header where the precompiled one does not apply, e.g. the dist*.cpp files' extra definitions).
const pchHeader = join(objDir, 'libtorch-pch.h');
const PCH_MIN_FILES = 4;
async function precompileLibtorch(cxx, cflags, torchFiles) {
  if (torchFiles < PCH_MIN_FILES || !(await isGcc(cxx))) return [];
  writeFileSync(pchHeader, '#include <napi.h>\n#include <torch/torch.h>\n');
  try {
    console.log('[normsoftmax native] precompiling libtorch headers');
    await run(cxx, [...cflags, '-x', 'c++-header', pchHeader, '-o', `${pchHeader}.gch`]);
    return ['-Winvalid-pch', '-include', pchHeader];
  } catch {
    rmSync(`${pchHeader}.gch`, { force: true });
    console.log('[normsoftmax native] precompiling failed: compiling without it');
    return [];
  }
}

function isGcc(cxx) {
  return new Promise((resolve) => {
    execFile(cxx, ['--version'], (error, stdout) => resolve(!error && /Free Software Foundation/.test(stdout)));
  });
}

function newer(path, than) {
  return !existsSync(than) || statSync(path).mtimeMs > statSync(than).mtimeMs;
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

  const sources = readdirSync(srcDir)
    .filter((f) => f.endsWith('.cpp'))
    .sort();
  const missing = SEARCH_SOURCES.filter((f) => !sources.includes(f));
  if (missing.length > 0) throw new Error(`search addon sources missing: ${missing.join(', ')}`);
  const memo = new Map();
  const searchSources = sources.filter((f) => SEARCH_SOURCES.includes(f) || isSearchOnly(f));
  checkTorchFree(searchSources, memo);
  const objectOf = (file) => join(objDir, file.replace(/\.cpp$/, '.o'));
  const jobs = [];
  for (const file of sources) {
    const src = join(srcDir, file);
    const obj = objectOf(file);
    const isDist = file.startsWith('dist');
    const newestInput = Math.max(
      statSync(src).mtimeMs,
      ...[...localHeaders(file, memo)].map((h) => statSync(join(srcDir, h)).mtimeMs),
    );
    const stale =
      rebuildAll || (isDist && rebuildDist) || !existsSync(obj) || statSync(obj).mtimeMs < newestInput;
    if (stale) {
      const torchFile = !isDist && includesLibtorch(file, memo);
      jobs.push({
        torchFile,
        run: async (pchFlags) => {
          console.log(`[normsoftmax native] compiling ${file}`);
          await run(cxx, [...cflags, ...(isDist ? distFlags : []), ...(torchFile ? pchFlags : []), '-c', src, '-o', obj]);
        },
      });
    }
  }
  const mainObjects = sources.filter((f) => !isSearchOnly(f)).map(objectOf);
  const searchObjects = searchSources.map(objectOf);
  if (jobs.length === 0 && !rebuildAll && !rebuildDist) {
    const mainCurrent = existsSync(target) && !mainObjects.some((o) => newer(o, target));
    const searchCurrent = existsSync(searchTarget) && !searchObjects.some((o) => newer(o, searchTarget));
    if (mainCurrent && searchCurrent) {
      console.log('[normsoftmax native] up to date');
      return;
    }
  }
  console.log(`[normsoftmax native] libtorch: ${torch.source}, C++11 ABI ${torch.cxx11Abi}`);
  console.log(
    torch.gloo.includeDir
      ? `[normsoftmax native] distributed: c10d Gloo (headers in ${torch.gloo.includeDir})`
      : `[normsoftmax native] distributed: unavailable, ${torch.gloo.reason}`,
  );
  // The files that do not use the precompiled headers compile while they are made.
  const parallel = Math.max(1, availableParallelism());
  const torchJobs = jobs.filter((j) => j.torchFile);
  let pchFlags = [];
  const makePch = async () => {
    pchFlags = await precompileLibtorch(cxx, cflags, torchJobs.length);
  };
  await runPool([makePch, ...jobs.filter((j) => !j.torchFile).map((j) => () => j.run([]))], parallel);
  await runPool(
    torchJobs.map((j) => () => j.run(pchFlags)),
    parallel,
  );
  if (pchFlags.length > 0) rmSync(`${pchHeader}.gch`, { force: true });
  const link = async (out, objects, flags) => {
    if (!rebuildAll && !rebuildDist && existsSync(out) && !objects.some((o) => newer(o, out))) return;
    const tmp = `${out}.tmp`;
    await run(cxx, [...objects, '-o', tmp, ...flags]);
    renameSync(tmp, out);
    console.log(`[normsoftmax native] built ${out}`);
  };
  await link(target, mainObjects, ldflags);
  await link(searchTarget, searchObjects, ['-shared', '-pthread']);
  writeFileSync(stampFile, `${JSON.stringify({ configHash, distHash, libtorch: torch }, null, 2)}\n`);
}

main().catch((e) => {
  console.error(`[normsoftmax native] ${e.message}`);
  process.exit(1);
});
