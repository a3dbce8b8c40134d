// Messages between the loader and its decode workers.
import type { Pixels } from '../image/pixels.js';
import type { ImageJob } from './process-image.js';

export interface WorkerRequest extends ImageJob {
  id: number;
  path: string;
}

export type WorkerReply =
  | { id: number; ok: true; chw: Float32Array; shape: [number, number, number]; resized?: Pixels }
  | { id: number; ok: false; bad: boolean; path: string; message: string };
