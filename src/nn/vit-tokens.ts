// What the three ViT families share around their blocks: patches as tokens, the size checks, the class
// token's and the patch tokens' read-out, and the blocks applied in turn.
import { scope, type Tensor } from '../tensor/index.js';
import type { Sequential } from './sequential.js';
import type { TransformerBlock } from './transformer-block.js';

/** [N, D, gh, gw] (a patch convolution's output) -> [N, gh * gw, D]. */
export function patchTokens(map: Tensor): Tensor {
  return map.flatten(2).transpose(1, 2);
}

/** The patch grid of an image [N, C, H, W], after checking that the patches tile it. */
export function patchGrid(x: Tensor, patch: number, who: string): [number, number] {
  const [h, w] = [x.shape[2] as number, x.shape[3] as number];
  if (h % patch !== 0 || w % patch !== 0) {
    throw new RangeError(`${who}: image ${h} x ${w} is not a whole number of ${patch} x ${patch} patches`);
  }
  return [h / patch, w / patch];
}

/** Throws unless the image is the one size a model's position embeddings were made for. */
export function checkFixedSize(x: Tensor, size: number, patch: number, who: string): void {
  const [h, w] = [x.shape[2] as number, x.shape[3] as number];
  if (h !== size || w !== size) {
    const grid = size / patch;
    throw new RangeError(
      `${who}: takes ${size} x ${size} images (position embeddings for ${grid} x ${grid} patches), got ${h} x ${w}`,
    );
  }
}

/** Each block in turn, freeing each input once the next block has it. */
export function runBlocks(blocks: Sequential, tokens: Tensor): Tensor {
  let h = tokens;
  for (let i = 0; i < blocks.length; i++) {
    const next = (blocks.at(i) as TransformerBlock).forward(h);
    if (h !== tokens) h.dispose();
    h = next;
  }
  return h;
}

/** Tokens [N, T, D] past `prefix` leading ones (class, registers) as a map [N, D, gh, gw]. */
export function tokenMap(tokens: Tensor, prefix: number, grid: [number, number]): Tensor {
  return scope(() => {
    const [n, t, d] = tokens.shape as [number, number, number];
    return tokens
      .narrow(1, prefix, t - prefix)
      .transpose(1, 2)
      .reshape(n, d, grid[0], grid[1]);
  });
}
