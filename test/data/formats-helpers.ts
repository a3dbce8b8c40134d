// Shared by the dataset format, check and download tests: where the fixtures are and what they hold.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Dataset, SplitName } from '../../src/data/types.js';

export const FIXTURES = fileURLToPath(new URL('../fixtures/datasets/', import.meta.url));

export interface SplitCounts {
  images: number;
  classes: number;
}

// biome-ignore lint/suspicious/noExplicitAny: the fixture script's facts, shaped per format
export const EXPECTED: Record<string, any> = JSON.parse(readFileSync(`${FIXTURES}expected.json`, 'utf8'));

/** Images and distinct labels per split, and checks that labels are exactly 0..C-1. */
export function counts(dataset: Dataset): Partial<Record<SplitName, SplitCounts>> {
  const out: Partial<Record<SplitName, SplitCounts>> = {};
  for (const [split, samples] of Object.entries(dataset.splits) as [SplitName, { label: number }[]][]) {
    const labels = new Set(samples.map((s) => s.label));
    const max = Math.max(-1, ...labels);
    if (max !== labels.size - 1) throw new Error(`${split}: labels are not 0..C-1 (${[...labels].join(',')})`);
    out[split] = { images: samples.length, classes: labels.size };
  }
  return out;
}

/** Labels in the order samples list them, each distinct label once. */
export function firstSeen(labels: number[]): number[] {
  return [...new Set(labels)];
}
