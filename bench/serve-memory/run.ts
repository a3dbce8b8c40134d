// Serve memory benchmark (issue 17 point 4, bounded decoding): the peak resident memory of a real
// `normsoftmax serve` process while 8 uploads of a 7000 x 7000 JPEG (49 Mpx, 2.7 MB on the wire) arrive
// at once, for an index whose embedder decodes JPEG queries whole and for one built with --jpeg-draft;
// and how long the server takes to refuse a 20000 x 20000 PNG (400 Mpx, 48 KB on the wire). Target: a
// peak under 1.5 GiB, the refusal under a second. Prints one JSON object.
// Usage: node --import tsx bench/serve-memory/run.ts [--threads N] [--quick]   (--quick: the whole-decode index only)
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseBenchArgs, runBenchMain } from '../common/args.js';
import { cpuFlags, machineInfo } from '../common/machine.js';
import { median, round } from '../common/timing.js';
import { flatPng, smoothJpeg } from './images.js';
import { concurrentUploads, memoryIndex, residentMiB, startServe, upload } from './measure.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const UPLOADS = 8;
const SIDE = 7000;
const HUGE = 20000;
const LIMIT_MIB = 1536;
const REFUSAL_LIMIT_MS = 1000;

function progress(message: string): void {
  process.stderr.write(`[bench/serve-memory] ${message}\n`);
}

async function measure(jpegDraft: boolean, threads: number, jpeg: Buffer, png: Buffer) {
  const idx = await memoryIndex(join(ROOT, '.cache', 'bench-serve-memory'), jpegDraft);
  progress(`serve (${jpegDraft ? 'a --jpeg-draft index' : 'whole decoding'}): starting`);
  const serve = await startServe(idx, threads);
  try {
    const pid = serve.child.pid as number;
    const idle = residentMiB(pid);
    progress(`${UPLOADS} concurrent ${SIDE} x ${SIDE} JPEG uploads`);
    const run = await concurrentUploads(serve.url, jpeg, 'image/jpeg', UPLOADS);
    const after = residentMiB(pid);
    progress(`a ${HUGE} x ${HUGE} PNG, 5 times`);
    const refusals = [];
    for (let i = 0; i < 5; i++) refusals.push(await upload(serve.url, png, 'image/png'));
    const refusalMs = refusals.map((r) => round(r.ms, 1));
    return {
      index: jpegDraft ? 'built with --jpeg-draft (queries drafted to 1/8 here)' : 'whole decoding',
      idleRssMiB: idle.rss,
      peakBeforeUploadsMiB: idle.peak,
      peakRssMiB: after.peak,
      rssAfterMiB: after.rss,
      uploads: {
        statuses: run.answers.map((a) => a.status),
        errors: [...new Set(run.answers.flatMap((a) => (a.error ? [a.error] : [])))],
        wallMs: round(run.ms, 0),
      },
      refusal: {
        status: refusals[0]?.status,
        message: refusals[0]?.error,
        medianMs: round(median(refusalMs), 1),
        maxMs: Math.max(...refusalMs),
      },
      targets: {
        peakUnderLimit: after.peak < LIMIT_MIB,
        allAnswered200: run.answers.every((a) => a.status === 200),
        refusedUnderASecond: refusals.every((r) => r.status >= 400 && r.status < 500 && r.ms < REFUSAL_LIMIT_MS),
      },
    };
  } finally {
    await serve.stop();
  }
}

async function main(): Promise<void> {
  const args = parseBenchArgs(process.argv.slice(2));
  const machine = machineInfo();
  progress(`making a ${SIDE} x ${SIDE} JPEG and a ${HUGE} x ${HUGE} PNG`);
  const jpeg = await smoothJpeg(SIDE, SIDE);
  const png = flatPng(HUGE, HUGE);
  const runs = [await measure(false, args.threads, jpeg, png)];
  if (!args.quick) runs.push(await measure(true, args.threads, jpeg, png));
  console.log(
    JSON.stringify(
      {
        benchmark: 'serve-memory',
        quick: args.quick,
        threads: args.threads,
        embedder: 'bare resnet18, resize 256, crop 224',
        uploads: { count: UPLOADS, image: `${SIDE} x ${SIDE} JPEG`, bytes: jpeg.length },
        huge: { image: `${HUGE} x ${HUGE} 1-bit grey PNG`, bytes: png.length },
        limitMiB: LIMIT_MIB,
        runs,
        machine: { ...machine, cpuFlags: cpuFlags() },
      },
      null,
      2,
    ),
  );
  if (!runs.every((r) => Object.values(r.targets).every(Boolean))) process.exitCode = 1;
}

await runBenchMain(main);
