// `normsoftmax serve` stops gracefully: after SIGTERM it accepts no new connection, lets a request that is
// still arriving finish with its answer, then exits 0 within 10 s. SIGINT on an idle server exits 0 too.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CLI, REPO_ROOT } from '../helpers/cli.js';
import { randomUnit, write } from '../search/helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'normsoftmax-serve-sigterm-'));
const idx = join(dir, 'idx');
after(() => rmSync(dir, { recursive: true, force: true }));
before(async () => {
  await write(idx, randomUnit(50, 8, 3), 8);
});

interface Server {
  child: ChildProcess;
  port: number;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

async function startServer(): Promise<Server> {
  const child = spawn(process.execPath, [CLI, 'serve', '--index', idx, '--port', '0'], {
    cwd: REPO_ROOT,
    env: { ...process.env, NORMSOFTMAX_THREADS: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  child.stdout?.resume();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
  );
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setInterval(() => {
      const m = err.match(/on http:\/\/127\.0\.0\.1:(\d+)/);
      if (m) {
        clearInterval(timer);
        resolve(Number(m[1]));
      }
    }, 50);
    exited.then(({ code }) => {
      clearInterval(timer);
      reject(new Error(`serve exited with ${code} before listening: ${err}`));
    });
  });
  return { child, port, stderr: () => err, exited };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('SIGTERM: a request still arriving completes with its answer, new connections are refused, exit 0 within 10 s', async () => {
  const s = await startServer();
  const body = JSON.stringify({ id: 'item7', k: 3 });
  const socket = connect(s.port, '127.0.0.1');
  let response = '';
  socket.on('data', (d) => {
    response += d.toString();
  });
  const ended = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  await new Promise<void>((resolve) => socket.on('connect', () => resolve()));
  socket.write(
    `POST /api/search HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`,
  );
  socket.write(body.slice(0, 10));
  await sleep(300);
  const signalledAt = Date.now();
  s.child.kill('SIGTERM');
  for (let i = 0; i < 100 && !s.stderr().includes('SIGTERM'); i++) await sleep(50);
  assert.match(s.stderr(), /SIGTERM: finishing in-flight requests/);
  await sleep(300);
  assert.equal(s.child.exitCode, null, 'the server must wait for the request in flight');
  // the listening socket is closed: a new connection is refused
  const refused = await new Promise<boolean>((resolve) => {
    const c = connect(s.port, '127.0.0.1');
    c.on('connect', () => {
      c.destroy();
      resolve(false);
    });
    c.on('error', () => resolve(true));
  });
  assert.ok(refused, 'a new connection after SIGTERM must be refused');
  socket.write(body.slice(10));
  await ended;
  const [head, payload] = response.split('\r\n\r\n');
  assert.match(head as string, /^HTTP\/1\.1 200 /);
  const answer = JSON.parse(payload as string);
  assert.equal(answer.results.length, 3);
  assert.equal(answer.results[0].id, 'item7');
  const { code, at } = await s.exited;
  assert.equal(code, 0, s.stderr());
  assert.ok(at - signalledAt < 10_000, `exited ${at - signalledAt} ms after SIGTERM`);
  assert.match(s.stderr(), /serve: stopped/);
});

test('SIGINT on an idle server: exit 0 at once', async () => {
  const s = await startServer();
  const health = await fetch(`http://127.0.0.1:${s.port}/health`);
  assert.equal(health.status, 200);
  const signalledAt = Date.now();
  s.child.kill('SIGINT');
  const { code, at } = await s.exited;
  assert.equal(code, 0, s.stderr());
  assert.ok(at - signalledAt < 5000, `exited ${at - signalledAt} ms after SIGINT`);
});
