// Progress for long work: a cli-progress bar on a terminal, plain periodic lines otherwise (logs, CI).
import cliProgress from 'cli-progress';

export interface Progress {
  /** Advances to `value` (of total) with named values shown after the bar (loss, lr, images/s...). */
  update(value: number, fields?: Record<string, string | number>): void;
  stop(): void;
}

export interface ProgressOptions {
  label: string;
  total: number;
  /** Seconds between plain lines when not on a terminal. */
  plainEverySeconds?: number;
  stream?: NodeJS.WriteStream;
  /** Force plain lines (also when NORMSOFTMAX_PLAIN_PROGRESS=1 or CI is set). */
  plain?: boolean;
  /** Print nothing (tests). */
  silent?: boolean;
}

function formatFields(fields: Record<string, string | number>): string {
  return Object.entries(fields)
    .map(([k, v]) => `${k} ${typeof v === 'number' ? formatNumber(v) : v}`)
    .join('  ');
}

function formatNumber(v: number): string {
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(2) : v.toFixed(4);
}

function formatEta(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  return s >= 3600 ? `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m` : `${Math.floor(s / 60)}m${s % 60}s`;
}

export function createProgress(o: ProgressOptions): Progress {
  const stream = o.stream ?? process.stderr;
  if (o.silent) return { update() {}, stop() {} };
  const plain = o.plain || !stream.isTTY || process.env.NORMSOFTMAX_PLAIN_PROGRESS === '1' || !!process.env.CI;
  const started = Date.now();
  if (plain) {
    let lastLine = 0;
    let last = { value: 0, fields: {} as Record<string, string | number> };
    const line = () => {
      const elapsed = (Date.now() - started) / 1000;
      const rate = last.value / Math.max(elapsed, 1e-9);
      const eta = rate > 0 ? (o.total - last.value) / rate : Number.POSITIVE_INFINITY;
      const fields = formatFields(last.fields);
      stream.write(`${o.label} ${last.value}/${o.total}  ${fields}  eta ${formatEta(eta)}\n`);
    };
    return {
      update(value, fields = {}) {
        last = { value, fields };
        const now = Date.now();
        if (now - lastLine >= (o.plainEverySeconds ?? 10) * 1000 || value >= o.total) {
          lastLine = now;
          line();
        }
      },
      stop() {
        if (last.value < o.total && last.value > 0) line();
      },
    };
  }
  const bar = new cliProgress.SingleBar(
    {
      format: `${o.label} [{bar}] {value}/{total} {fields} eta {eta_formatted}`,
      stream,
      hideCursor: true,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(o.total, 0, { fields: '' });
  return {
    update(value, fields = {}) {
      bar.update(value, { fields: formatFields(fields) });
    },
    stop() {
      bar.stop();
    },
  };
}
