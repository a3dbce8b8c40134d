// Unpacking with the system's tar and unzip (both refuse absolute paths and ".." members by default).
import { spawn } from 'node:child_process';
import { DownloadError } from './errors.js';

const COMMANDS: Record<'tar.gz' | 'zip', (archive: string, dir: string) => [string, string[]]> = {
  'tar.gz': (archive, dir) => ['tar', ['-xzf', archive, '-C', dir]],
  zip: (archive, dir) => ['unzip', ['-q', '-o', archive, '-d', dir]],
};

export async function extractArchive(archive: string, kind: 'tar.gz' | 'zip', dir: string): Promise<void> {
  const [program, args] = COMMANDS[kind](archive, dir);
  const stderr: Buffer[] = [];
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(program, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr.on('data', (d: Buffer) => stderr.push(d));
    child.on('error', (e: NodeJS.ErrnoException) =>
      reject(
        new DownloadError(
          e.code === 'ENOENT' ? `unpacking ${archive} needs the "${program}" program; please install it` : e.message,
        ),
      ),
    );
    child.on('close', resolve);
  });
  if (code !== 0) {
    const message = Buffer.concat(stderr).toString().trim().split('\n')[0] ?? '';
    throw new DownloadError(`${program} could not unpack ${archive} (exit ${code}): ${message}`);
  }
}
