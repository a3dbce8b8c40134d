// Locates a libtorch installation: $LIBTORCH, then python3's torch package, then the system's
// (Debian/Ubuntu libtorch-dev). Returns include dirs, library dir, libraries and the C++11 ABI flag.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const HOW_TO_GET =
  'libtorch not found. Get it one of these ways, then run `npm ci` again:\n' +
  '  - Debian/Ubuntu: sudo apt-get install libtorch-dev\n' +
  '  - pip: python3 -m pip install torch   (CPU or CUDA wheels both work)\n' +
  '  - download a libtorch zip from pytorch.org, unpack it, and set LIBTORCH=/path/to/libtorch';

function hasCudaLibs(libDir) {
  return existsSync(join(libDir, 'libtorch_cuda.so'));
}

function abiFromCmake(root) {
  const candidates = [join(root, 'share/cmake/Torch/TorchConfig.cmake')];
  for (const file of candidates) {
    if (!existsSync(file)) continue;
    const m = /_GLIBCXX_USE_CXX11_ABI=([01])/.exec(readFileSync(file, 'utf8'));
    if (m) return Number(m[1]);
  }
  return 1;
}

function fromEnv() {
  const root = process.env.LIBTORCH;
  if (!root) return null;
  const header = join(root, 'include/torch/csrc/api/include/torch/torch.h');
  if (!existsSync(header)) {
    throw new Error(`LIBTORCH=${root} does not contain include/torch/csrc/api/include/torch/torch.h`);
  }
  const libDir = join(root, 'lib');
  return {
    source: `LIBTORCH=${root}`,
    includeDirs: [join(root, 'include'), join(root, 'include/torch/csrc/api/include')],
    libDir,
    cxx11Abi: abiFromCmake(root),
    cuda: hasCudaLibs(libDir),
  };
}

function fromPython() {
  const script = [
    'import json, os, torch',
    'root = os.path.dirname(torch.__file__)',
    'print(json.dumps({"root": root, "abi": int(torch._C._GLIBCXX_USE_CXX11_ABI), "version": torch.__version__}))',
  ].join('\n');
  for (const python of [process.env.PYTHON ?? 'python3']) {
    let out;
    try {
      out = execFileSync(python, ['-c', script], { stdio: ['ignore', 'pipe', 'ignore'], timeout: 60_000 });
    } catch {
      continue;
    }
    const info = JSON.parse(out.toString().trim().split('\n').pop());
    const libDir = join(info.root, 'lib');
    const include = join(info.root, 'include');
    if (!existsSync(join(include, 'torch/csrc/api/include/torch/torch.h'))) continue;
    return {
      source: `${python} torch ${info.version} (${info.root})`,
      includeDirs: [include, join(include, 'torch/csrc/api/include')],
      libDir,
      cxx11Abi: info.abi,
      cuda: hasCudaLibs(libDir),
    };
  }
  return null;
}

function fromSystem() {
  const header = '/usr/include/torch/csrc/api/include/torch/torch.h';
  if (!existsSync(header)) return null;
  const libDirs = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib'];
  for (const dir of libDirs) {
    if (!existsSync(dir)) continue;
    if (readdirSync(dir).some((f) => f === 'libtorch.so' || f === 'libtorch_cpu.so')) {
      return {
        source: `system (${dir})`,
        includeDirs: ['/usr/include', '/usr/include/torch/csrc/api/include'],
        libDir: dir,
        cxx11Abi: 1,
        cuda: hasCudaLibs(dir),
      };
    }
  }
  return null;
}

// c10d's Gloo backend (distributed training) needs libtorch's c10d headers and the Gloo headers of
// the same gloo that libtorch_cpu links (Debian: libgloo-dev; pip wheels ship neither). Returns the
// include dir that holds gloo/, or null with the reason (the addon then builds without it).
export function findGloo(includeDirs) {
  const c10d = includeDirs.find((d) => existsSync(join(d, 'torch/csrc/distributed/c10d/ProcessGroupGloo.hpp')));
  if (!c10d) return { includeDir: null, reason: "libtorch's c10d headers (ProcessGroupGloo.hpp) are missing" };
  const extra = process.env.GLOO_INCLUDE ? [process.env.GLOO_INCLUDE] : [];
  const gloo = [...extra, ...includeDirs, '/usr/include', '/usr/local/include'].find((d) =>
    existsSync(join(d, 'gloo/algorithm.h')),
  );
  if (!gloo) return { includeDir: null, reason: 'the Gloo headers are missing (Debian/Ubuntu: apt-get install libgloo-dev)' };
  return { includeDir: gloo, reason: null };
}

export function findLibtorch() {
  const found = fromEnv() ?? fromPython() ?? fromSystem();
  if (!found) throw new Error(HOW_TO_GET);
  const libs = ['c10', 'torch_cpu', 'torch'];
  if (found.cuda) libs.push('c10_cuda', 'torch_cuda');
  return { ...found, libs, gloo: findGloo(found.includeDirs) };
}

// `node native/find-libtorch.mjs`: what was found, as JSON. `--gloo`: the Gloo include dir (exit 0), or why
// distributed training will be unavailable (exit 1); scripts/install.sh asks it, so it decides as the build does.
if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    const found = findLibtorch();
    if (process.argv[2] === '--gloo') {
      console.log(found.gloo.includeDir ?? found.gloo.reason);
      process.exit(found.gloo.includeDir ? 0 : 1);
    }
    console.log(JSON.stringify(found, null, 2));
  } catch (e) {
    console.error(e.message);
    process.exit(1);
  }
}
