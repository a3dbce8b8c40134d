import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type DownloadFile, downloadDataset, TABLE_ENV } from '../../src/data/download/index.js';
import { loadDataset } from '../../src/data/formats/index.js';
import { type Misbehaviour, serveFiles, type TestServer } from './download-server.js';
import { counts, EXPECTED, FIXTURES } from './formats-helpers.js';

let work: string;
let archives: Record<string, Buffer>;
let server: TestServer | undefined;
let case_ = 0;
const logs: string[] = [];
const quiet = { quiet: true, log: (line: string) => logs.push(line) };
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

before(() => {
  work = mkdtempSync(join(tmpdir(), 'download-'));
  const pack = (name: string, command: string[], dir: string, entry: string) => {
    const out = join(work, name);
    execFileSync(command[0]!, [...command.slice(1), out, entry], { cwd: join(FIXTURES, dir) });
    return readFileSync(out);
  };
  archives = {
    'CUB_200_2011.tgz': pack('cub.tgz', ['tar', '-czf'], 'cub', 'CUB_200_2011'),
    'car_ims.tgz': pack('car_ims.tgz', ['tar', '-czf'], 'cars196', 'car_ims'),
    'Stanford_Online_Products.zip': pack('sop.zip', ['zip', '-q', '-r'], 'sop', 'Stanford_Online_Products'),
    'cars_annos.mat': readFileSync(join(FIXTURES, 'cars196', 'cars_annos.mat')),
  };
});

after(() => rmSync(work, { recursive: true, force: true }));

afterEach(async () => {
  await server?.close();
  server = undefined;
  delete process.env[TABLE_ENV];
  logs.length = 0;
});

/** Serves the archives and points the download table at the server; returns a fresh --root. */
async function setUp(
  how: Misbehaviour = {},
  table?: (s: TestServer) => Record<string, DownloadFile[]>,
): Promise<string> {
  server = await serveFiles(archives, how);
  const s = server;
  const entry = (file: string, provides: string, extract?: 'tar.gz' | 'zip'): DownloadFile => ({
    url: s.url(file),
    file,
    md5: md5(archives[file]!),
    provides,
    ...(extract ? { extract } : {}),
  });
  const defaults = {
    cub: [entry('CUB_200_2011.tgz', 'CUB_200_2011', 'tar.gz')],
    cars196: [entry('car_ims.tgz', 'car_ims', 'tar.gz'), entry('cars_annos.mat', 'cars_annos.mat')],
    sop: [entry('Stanford_Online_Products.zip', 'Stanford_Online_Products', 'zip')],
  };
  const tablePath = join(work, `table-${++case_}.json`);
  writeFileSync(tablePath, JSON.stringify(table ? table(s) : defaults));
  process.env[TABLE_ENV] = tablePath;
  const root = join(work, `root-${case_}`);
  mkdirSync(root);
  return root;
}

test('download cub: fetched, verified, unpacked; the archive and temporaries are gone', async () => {
  const root = await setUp();
  const result = await downloadDataset('cub', root, quiet);
  assert.deepEqual(result, { added: [join(root, 'CUB_200_2011')], present: [] });
  assert.deepEqual(counts(loadDataset('cub', root)), { train: EXPECTED.cub.train, test: EXPECTED.cub.test });
  assert.deepEqual(readdirSync(root), ['CUB_200_2011']);
  assert.deepEqual(server!.ranges, [undefined]);
  // A second run finds it there and fetches nothing.
  assert.deepEqual(await downloadDataset('cub', root, quiet), { added: [], present: [join(root, 'CUB_200_2011')] });
  assert.equal(server!.ranges.length, 1);
});

test('download cars196 (a tar.gz and a bare .mat) and sop (a zip), keeping the archives when asked', async () => {
  const root = await setUp();
  await downloadDataset('cars196', root, { ...quiet, keepArchive: true });
  const cars = loadDataset('cars196', root);
  assert.deepEqual(counts(cars), { train: EXPECTED.cars196.train, test: EXPECTED.cars196.test });
  assert.deepEqual(readdirSync(root).sort(), ['car_ims', 'car_ims.tgz', 'cars_annos.mat']);
  await downloadDataset('sop', root, quiet);
  assert.deepEqual(counts(loadDataset('sop', root)), { train: EXPECTED.sop.train, test: EXPECTED.sop.test });
});

test('a partial download left by an earlier run is resumed with a Range request', async () => {
  const root = await setUp();
  const whole = archives['CUB_200_2011.tgz']!;
  writeFileSync(join(root, 'CUB_200_2011.tgz.part'), whole.subarray(0, 1000));
  await downloadDataset('cub', root, quiet);
  assert.deepEqual(server!.ranges, ['bytes=1000-']);
  assert.equal(counts(loadDataset('cub', root)).train?.images, EXPECTED.cub.train.images);
  assert.match(logs[0]!, /^resuming http:\/\/127.0.0.1:\d+\/CUB_200_2011.tgz$/);
});

test('a dropped connection keeps the partial file; the next run resumes where it stopped', async () => {
  const root = await setUp({ dropFirstAfter: 1500 });
  await assert.rejects(downloadDataset('cub', root, { ...quiet, retries: 0 }), {
    name: 'DownloadError',
    message: /CUB_200_2011.tgz: .*; the partial download is kept, run again to resume$/,
  });
  const kept = statSync(join(root, 'CUB_200_2011.tgz.part')).size;
  assert.ok(kept <= 1500);
  assert.equal(existsSync(join(root, 'CUB_200_2011')), false);
  await downloadDataset('cub', root, quiet);
  assert.deepEqual(server!.ranges, [undefined, kept > 0 ? `bytes=${kept}-` : undefined]);
  assert.equal(counts(loadDataset('cub', root)).test?.images, EXPECTED.cub.test.images);
});

test('within one run, a dropped connection is retried from where it stopped', async () => {
  const root = await setUp({ dropFirstAfter: 700 });
  await downloadDataset('cub', root, { ...quiet, retries: 2 });
  assert.equal(server!.ranges.length, 2);
  assert.match(server!.ranges[1] ?? 'bytes=0-', /^bytes=([1-9]\d*|0)-$/);
  assert.ok(Number(/\d+/.exec(server!.ranges[1] ?? '0')![0]) <= 700);
  assert.ok(logs.some((l) => /resuming \(attempt 2 of 3\)$/.test(l)));
  assert.ok(existsSync(join(root, 'CUB_200_2011', 'images.txt')));
});

test('a server that ignores Range gets the whole file again, not a doubled one', async () => {
  const root = await setUp({ ignoreRange: true });
  writeFileSync(join(root, 'CUB_200_2011.tgz.part'), archives['CUB_200_2011.tgz']!.subarray(0, 1000));
  await downloadDataset('cub', root, quiet);
  assert.deepEqual(server!.ranges, ['bytes=1000-']);
  assert.ok(existsSync(join(root, 'CUB_200_2011', 'images.txt')));
  assert.ok(logs.some((l) => l.endsWith('the server does not resume downloads; starting over')));
});

test('a corrupted download fails its checksum, is deleted and never unpacked', async () => {
  const root = await setUp({ corruptByte: 2000 });
  const want = md5(archives['CUB_200_2011.tgz']!);
  await assert.rejects(downloadDataset('cub', root, quiet), {
    name: 'DownloadError',
    message: new RegExp(
      `^CUB_200_2011.tgz: checksum mismatch \\(md5 [0-9a-f]{32}, expected ${want}\\); the download was deleted and nothing was unpacked`,
    ),
  });
  assert.deepEqual(readdirSync(root), []);
});

test('an archive already in --root that fails its checksum is left alone and not unpacked', async () => {
  const root = await setUp();
  writeFileSync(join(root, 'CUB_200_2011.tgz'), 'not the archive');
  await assert.rejects(
    downloadDataset('cub', root, quiet),
    /CUB_200_2011.tgz: checksum mismatch .*left as is and not unpacked/,
  );
  assert.deepEqual(readdirSync(root), ['CUB_200_2011.tgz']);
  assert.deepEqual(server!.ranges, []);
});

test('HTTP errors and archives without the expected folder are one-line errors', async () => {
  let root = await setUp({}, (s) => ({
    cub: [{ url: s.url('missing.tgz'), file: 'missing.tgz', md5: '0'.repeat(32), provides: 'x', extract: 'tar.gz' }],
  }));
  await assert.rejects(downloadDataset('cub', root, quiet), { message: /missing.tgz: HTTP 404 Not Found$/ });
  await server!.close();
  root = await setUp({}, (s) => ({
    cub: [
      {
        url: s.url('car_ims.tgz'),
        file: 'car_ims.tgz',
        md5: md5(archives['car_ims.tgz']!),
        provides: 'CUB_200_2011',
        extract: 'tar.gz',
      },
    ],
  }));
  await assert.rejects(
    downloadDataset('cub', root, quiet),
    /car_ims.tgz does not contain CUB_200_2011; nothing was unpacked/,
  );
  assert.deepEqual(readdirSync(root), ['car_ims.tgz']);
  await assert.rejects(downloadDataset('inshop', root, quiet), {
    message: 'cannot download "inshop"; downloadable: cub, cars196, sop',
  });
});

test('normsoftmax data download: a corrupted download exits non-zero with one line', async () => {
  const root = await setUp({ corruptByte: 10 });
  const bin = fileURLToPath(new URL('../../bin/normsoftmax.mjs', import.meta.url));
  // Asynchronously: the server runs in this process and must keep answering.
  const child = await run(process.execPath, [bin, 'data', 'download', 'cub', '--root', root]);
  assert.equal(child.status, 1);
  const lines = child.stderr.trim().split('\n');
  assert.match(lines.at(-1)!, /^normsoftmax: CUB_200_2011.tgz: checksum mismatch \(md5 /);
  assert.deepEqual(readdirSync(root), []);
});

function run(program: string, args: string[]): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, CI: '1' } });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stderr }));
  });
}
