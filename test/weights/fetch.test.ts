// Weights by name through a loopback server and NORMSOFTMAX_WEIGHTS_TABLE: download into the cache, cache
// hits, resumed partial files, corrupted downloads and files refused (and deleted), the offline message, and
// name vs path resolution.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, beforeEach, test } from 'node:test';
import {
  cachedWeightsPath,
  fetchWeights,
  isUnpublished,
  pinPath,
  readPin,
  resolveWeights,
  resolveWeightsSync,
  WEIGHTS,
  WEIGHTS_TABLE_ENV,
  type WeightsEntry,
  weightsCacheDir,
  weightsEntry,
} from '../../src/data/weights/index.js';
import { loadWeights } from '../../src/io/weights.js';
import { VIT_ARCHS } from '../../src/nn/index.js';
import { FailureError, InputError } from '../../src/util/errors.js';
import { type Misbehaviour, serveFiles, type TestServer } from '../data/download-server.js';

const work = mkdtempSync(join(tmpdir(), 'weights-'));
after(() => rmSync(work, { recursive: true, force: true }));
// 200 kB of deterministic bytes standing for a weights file.
const FILE = Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 7919 + (i >> 8)) & 0xff));
const SHA = createHash('sha256').update(FILE).digest('hex');
const logs: string[] = [];
const opts = { quiet: true, log: (l: string) => logs.push(l) };
let server: TestServer | undefined;
let home: string;
let n = 0;

beforeEach(() => {
  home = join(work, `home${n++}`);
  process.env.NORMSOFTMAX_HOME = home;
});
afterEach(async () => {
  await server?.close();
  server = undefined;
  delete process.env[WEIGHTS_TABLE_ENV];
  delete process.env.NORMSOFTMAX_HOME;
  logs.length = 0;
});

/** Serves FILE as tiny-18.pth and points the table at it (sha256 = the given digest, default the right one; null: none). */
async function setUp(how: Misbehaviour = {}, sha256: string | null = SHA, url?: string): Promise<void> {
  server = await serveFiles({ 'tiny-18.pth': FILE }, how);
  const table = join(work, `table${n}.json`);
  const digest = sha256 === null ? {} : { sha256 };
  writeFileSync(
    table,
    JSON.stringify({ tiny: { url: url ?? server.url('tiny-18.pth'), ...digest, arch: 'resnet18' } }),
  );
  process.env[WEIGHTS_TABLE_ENV] = table;
}

const PAPER_WEIGHTS = ['bninception', 'resnet101', 'resnet18', 'resnet34', 'resnet50', 'resnet50-v2'];

test('the built-in table: every digest is a full SHA-256 that starts with the hex digits of its file name', () => {
  for (const name of PAPER_WEIGHTS) {
    const e = WEIGHTS[name] as WeightsEntry;
    assert.match(e.sha256 ?? '', /^[0-9a-f]{64}$/, name);
    const inName = /-([0-9a-f]{8,})\.pth$/.exec(e.url)?.[1];
    assert.ok(inName && e.sha256?.startsWith(inName), `${name}: ${e.url} vs ${e.sha256}`);
  }
  assert.equal(WEIGHTS.resnet50?.url, 'https://download.pytorch.org/models/resnet50-19c8e357.pth');
  assert.deepEqual(Object.keys(WEIGHTS).sort(), [...PAPER_WEIGHTS, ...VIT_ARCHS].sort());
});

test("the ViTs' weights: each publisher's URL, and only the digest it states", () => {
  for (const arch of VIT_ARCHS) {
    const e = WEIGHTS[arch] as WeightsEntry;
    assert.equal(e.arch, arch);
    const { host, pathname } = new URL(e.url);
    const file = pathname.split('/').pop() as string;
    if (arch.startsWith('vit_')) {
      // torchvision: the file name carries the first 8 hex digits of its SHA-256, all that is listed.
      assert.equal(host, 'download.pytorch.org');
      assert.equal(e.sha256, /-([0-9a-f]{8})\.pth$/.exec(file)?.[1], arch);
    } else if (arch.startsWith('clip_')) {
      // OpenAI: the URL's directory is the whole SHA-256 (clip.py's _download checks it).
      assert.equal(host, 'openaipublic.azureedge.net');
      assert.match(e.sha256 ?? '', /^[0-9a-f]{64}$/);
      assert.equal(pathname.split('/').at(-2), e.sha256, arch);
    } else {
      // DINO and DINOv2 publish none: pinned at the first download.
      assert.equal(host, 'dl.fbaipublicfiles.com');
      assert.equal(e.sha256, undefined, arch);
      assert.ok(isUnpublished(e));
    }
  }
  assert.equal(WEIGHTS.clip_vitb32?.url.endsWith('/ViT-B-32.pt'), true);
  assert.equal(WEIGHTS.dino_vits16?.url.endsWith('/dino_deitsmall16_pretrain.pth'), true);
  assert.equal(
    WEIGHTS.dinov2_vitl14_reg?.url,
    'https://dl.fbaipublicfiles.com/dinov2/dinov2_vitl14/dinov2_vitl14_reg4_pretrain.pth',
  );
  assert.equal(
    WEIGHTS.dinov2_vits14?.url,
    'https://dl.fbaipublicfiles.com/dinov2/dinov2_vits14/dinov2_vits14_pretrain.pth',
  );
  const names = Object.values(WEIGHTS).map((e) => cachedWeightsPath(e));
  assert.equal(new Set(names).size, names.length, 'every file has its own name in the cache');
});

test('the cache is $NORMSOFTMAX_HOME/weights and files keep their official names', () => {
  assert.equal(weightsCacheDir(), join(home, 'weights'));
  assert.equal(cachedWeightsPath(WEIGHTS.resnet50!), join(home, 'weights', 'resnet50-19c8e357.pth'));
});

test('download into the cache, then a cache hit makes no second request', async () => {
  await setUp();
  const entry = weightsEntry('tiny')!;
  const path = await fetchWeights('tiny', entry, opts);
  assert.equal(path, join(home, 'weights', 'tiny-18.pth'));
  assert.deepEqual(readFileSync(path), FILE);
  assert.ok(!existsSync(`${path}.part`));
  assert.equal(server!.ranges.length, 1);
  assert.equal(await fetchWeights('tiny', entry, opts), path);
  assert.equal((await resolveWeights('tiny', opts)).path, path);
  assert.equal(server!.ranges.length, 1, 'no request for a cached file');
});

test('a partial download is resumed with a Range request', async () => {
  await setUp();
  const entry = weightsEntry('tiny')!;
  const part = `${cachedWeightsPath(entry)}.part`;
  mkdirSync(join(home, 'weights'), { recursive: true });
  writeFileSync(part, FILE.subarray(0, 123_456));
  await fetchWeights('tiny', entry, opts);
  assert.deepEqual(server!.ranges, ['bytes=123456-']);
  assert.deepEqual(readFileSync(cachedWeightsPath(entry)), FILE);
  assert.ok(logs.some((l) => l.startsWith('resuming tiny')));
});

test('a corrupted download is refused and deleted (exit 1)', async () => {
  await setUp({ corruptByte: 1000 });
  const entry = weightsEntry('tiny')!;
  await assert.rejects(fetchWeights('tiny', entry, opts), (e: Error) => {
    assert.ok(e instanceof FailureError);
    assert.match(e.message, /does not match the weights table \(sha256 [0-9a-f]{64}, expected [0-9a-f]{64}\)/);
    assert.match(e.message, /partial file .*tiny-18\.pth\.part was deleted/);
    return true;
  });
  assert.ok(!existsSync(`${cachedWeightsPath(entry)}.part`));
  assert.ok(!existsSync(cachedWeightsPath(entry)));
});

test('a cached file that no longer matches is refused and deleted before use', async () => {
  await setUp();
  const entry = weightsEntry('tiny')!;
  mkdirSync(join(home, 'weights'), { recursive: true });
  const bad = Buffer.from(FILE);
  bad[5] = bad[5]! ^ 1;
  writeFileSync(cachedWeightsPath(entry), bad);
  assert.throws(() => resolveWeightsSync('tiny'), /does not match the weights table.*it was deleted/);
  assert.ok(!existsSync(cachedWeightsPath(entry)));
  assert.equal(server!.ranges.length, 0);
});

test('a digest given only as a prefix is checked as a prefix, with a warning', async () => {
  await setUp({}, SHA.slice(0, 8));
  await fetchWeights('tiny', weightsEntry('tiny')!, opts);
  assert.ok(logs.some((l) => /warning: tiny: only the first 8 hex digits/.test(l)));
  await server?.close();
  await setUp({ corruptByte: 3 }, SHA.slice(0, 8));
  rmSync(join(home, 'weights'), { recursive: true });
  await assert.rejects(fetchWeights('tiny', weightsEntry('tiny')!, opts), /expected [0-9a-f]{8}\.\.\./);
});

test('without a published digest: the first download is pinned with a warning, later uses are checked against it', async () => {
  await setUp({}, null);
  const entry = weightsEntry('tiny')!;
  const path = await fetchWeights('tiny', entry, opts);
  assert.equal(readPin(path), SHA);
  assert.equal(readFileSync(pinPath(path), 'utf8'), `${SHA}\n`);
  assert.ok(
    logs.some((l) =>
      l.includes(`warning: tiny: its publisher states no SHA-256, so it was not verified; pinned this file's (${SHA})`),
    ),
  );
  logs.length = 0;
  assert.equal((await resolveWeights('tiny', opts)).path, path);
  assert.equal(logs.length, 0, 'pinned once');
  // The file changed since: refused and deleted, the pin kept; the next download is checked against it.
  const bad = Buffer.from(FILE);
  bad[9] = bad[9]! ^ 1;
  writeFileSync(path, bad);
  assert.throws(
    () => resolveWeightsSync('tiny'),
    (e: Error) =>
      e instanceof FailureError &&
      e.message.includes(`expected ${SHA} (pinned at its first download in ${pinPath(path)})`) &&
      /it was deleted/.test(e.message),
  );
  assert.ok(!existsSync(path));
  assert.equal(readPin(path), SHA);
  // A download is checked against the pin too (here a pin that the served file does not match).
  const other = SHA.replace(/^./, (c) => (c === '0' ? '1' : '0'));
  writeFileSync(pinPath(path), `${other}\n`);
  await assert.rejects(fetchWeights('tiny', entry, opts), (e: Error) =>
    e.message.includes(`expected ${other} (pinned`),
  );
  assert.ok(!existsSync(path) && !existsSync(`${path}.part`));
});

test('a file put in the cache by hand without a published digest is pinned at its first use (sync too)', async () => {
  await setUp({}, null);
  const entry = weightsEntry('tiny')!;
  mkdirSync(join(home, 'weights'), { recursive: true });
  writeFileSync(cachedWeightsPath(entry), FILE);
  assert.equal(resolveWeightsSync('tiny').path, cachedWeightsPath(entry));
  assert.equal(readPin(cachedWeightsPath(entry)), SHA);
  assert.equal(server!.ranges.length, 0);
});

test('offline (connection refused): the message names the URL and where to put the file', async () => {
  // A port that was just free: nothing listens on it.
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((r) => probe.close(() => r()));
  const url = `http://127.0.0.1:${port}/tiny-18.pth`;
  await setUp({}, SHA, url);
  const target = join(home, 'weights', 'tiny-18.pth');
  await assert.rejects(resolveWeights('tiny', { ...opts, retries: 0 }), (e: Error) => {
    assert.ok(e instanceof FailureError);
    assert.match(e.message, /ECONNREFUSED/);
    assert.ok(e.message.includes(`fetch ${url} by hand and put it at ${target}`), e.message);
    return true;
  });
});

test('name vs path: an existing file wins; unknown names are bad input; a name gives its arch', async () => {
  await setUp();
  const local = join(work, 'tiny');
  writeFileSync(local, 'not weights');
  const cwd = process.cwd();
  process.chdir(work);
  try {
    assert.deepEqual(await resolveWeights('tiny', opts), { path: 'tiny' }, 'the file ./tiny wins over the name');
  } finally {
    process.chdir(cwd);
  }
  assert.equal(server!.ranges.length, 0);
  const named = await resolveWeights('tiny', opts);
  assert.deepEqual(named, { path: join(home, 'weights', 'tiny-18.pth'), arch: 'resnet18', name: 'tiny' });
  assert.deepEqual(resolveWeightsSync('tiny'), named);
  assert.throws(
    () => resolveWeightsSync('nope.pth', { flag: '--pretrained' }),
    (e: Error) => e instanceof InputError && /^--pretrained nope\.pth: file not found.*known: tiny/.test(e.message),
  );
  rmSync(join(home, 'weights'), { recursive: true });
  assert.throws(
    () => resolveWeightsSync('tiny'),
    /--checkpoint tiny: not downloaded yet; run `normsoftmax weights download tiny`/,
  );
});

test('a named file in a pre-1.6 torch.save format (tar, or pickled magic number) resolves and loads as it is', async () => {
  const legacy = join(import.meta.dirname, '..', 'fixtures', 'legacy-pth');
  const tar = readFileSync(join(legacy, 'tar-plain-dict.pth'));
  const pickle = readFileSync(join(legacy, 'pickle-plain-dict.pth'));
  server = await serveFiles({ 'old-tar.pth': tar, 'old-pickle.pth': pickle });
  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
  const table = join(work, 'legacy-table.json');
  writeFileSync(
    table,
    JSON.stringify({
      oldtar: { url: server.url('old-tar.pth'), sha256: sha(tar), arch: 'resnet50' },
      oldpickle: { url: server.url('old-pickle.pth'), sha256: sha(pickle), arch: 'bninception' },
    }),
  );
  process.env[WEIGHTS_TABLE_ENV] = table;
  const want = JSON.parse(readFileSync(join(legacy, 'expected.json'), 'utf8')) as Record<
    string,
    Record<string, { values: (number | string)[] }>
  >;
  const cache = join(home, 'weights');
  const fromTar = await resolveWeights('oldtar', { ...opts, flag: '--pretrained' });
  assert.deepEqual(fromTar, { path: join(cache, 'old-tar.pth'), arch: 'resnet50', name: 'oldtar' });
  assert.equal(resolveWeightsSync('oldtar').path, fromTar.path);
  const fromPickle = await resolveWeights('oldpickle', opts);
  for (const [path, file] of [
    [fromTar.path, 'tar-plain-dict.pth'],
    [fromPickle.path, 'pickle-plain-dict.pth'],
  ] as const) {
    const tensors = loadWeights(path);
    try {
      assert.deepEqual(Object.keys(tensors), ['w', 'steps']);
      assert.deepEqual(tensors.w?.toArray().flat(), want[file]?.w?.values);
      assert.deepEqual(tensors.steps?.toTypedArray(), BigInt64Array.from(want[file]?.steps?.values ?? [], BigInt));
    } finally {
      for (const t of Object.values(tensors)) t.dispose();
    }
  }
});
