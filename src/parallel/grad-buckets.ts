// Gradient averaging as PyTorch DDP does it: gradients packed into flat buckets of about 25 MB (in
// reverse order of the parameters, as DDP fills them during backward), one allreduce (sum) per bucket,
// then divided by the world size and copied back. Few large collectives cost far less than one per
// tensor. (DDP also overlaps the buckets' allreduces with backward; without autograd hooks this
// runs after backward.)
import { cat, ELEMENT_SIZE, noGrad, scope, type Tensor, tensor } from '../tensor/index.js';
import type { ProcessGroup } from '../tensor/process-group.js';

/** DDP's default bucket_cap_mb. */
export const DEFAULT_BUCKET_BYTES = 25 * 1024 * 1024;

/** Groups tensor indices into buckets of at most `capBytes` (a larger tensor gets a bucket of its own). */
export function planBuckets(sizes: readonly { bytes: number; dtype: string }[], capBytes: number): number[][] {
  const buckets: number[][] = [];
  let current: number[] = [];
  let bytes = 0;
  let dtype = '';
  for (let i = sizes.length - 1; i >= 0; i--) {
    const s = sizes[i] as { bytes: number; dtype: string };
    if (current.length > 0 && (bytes + s.bytes > capBytes || s.dtype !== dtype)) {
      buckets.push(current);
      current = [];
      bytes = 0;
    }
    current.push(i);
    bytes += s.bytes;
    dtype = s.dtype;
  }
  if (current.length > 0) buckets.push(current);
  return buckets;
}

/**
 * Replaces each tensor by its mean over the ranks (in place), plus `extra` scalars (the loss) summed
 * in the last bucket's allreduce and returned averaged.
 */
export async function averageInBuckets(
  pg: ProcessGroup,
  tensors: readonly Tensor[],
  extra: readonly number[] = [],
  capBytes = DEFAULT_BUCKET_BYTES,
): Promise<number[]> {
  const plan = planBuckets(
    tensors.map((t) => ({ bytes: t.numel * ELEMENT_SIZE[t.dtype], dtype: t.dtype })),
    capBytes,
  );
  const flats = noGrad(() =>
    plan.map((bucket) => scope(() => cat(bucket.map((i) => (tensors[i] as Tensor).detach().reshape(-1))))),
  );
  const extraTensor = extra.length > 0 ? tensor(Float64Array.from(extra)) : null;
  try {
    await pg.allreduce(extraTensor ? [...flats, extraTensor] : flats, 'sum');
    const w = pg.worldSize;
    noGrad(() => {
      plan.forEach((bucket, k) => {
        scope(() => {
          const flat = (flats[k] as Tensor).div(w);
          let offset = 0;
          for (const i of bucket) {
            const t = tensors[i] as Tensor;
            const n = t.numel;
            t.copy_(flat.slice(0, offset, offset + n).reshape(...t.shape));
            offset += n;
          }
        });
      });
    });
    return extraTensor ? extraTensor.toArray().map((v) => v / w) : [];
  } finally {
    for (const f of flats) f.dispose();
    extraTensor?.dispose();
  }
}
