// The binary code of a unit vector, stored beside it by both backends: bit j = (x_j > 0), packed least
// significant bit first in ceil(dim / 8) bytes (numpy.packbits(..., bitorder='little'), as src/eval/binary.ts).

/** Packs bit = (x > 0) of row-major n x dim floats, LSB first in each byte. */
export function packCodes(x: Float32Array, dim: number): Uint8Array {
  const bytes = Math.ceil(dim / 8);
  const n = dim === 0 ? 0 : x.length / dim;
  const out = new Uint8Array(n * bytes);
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < dim; j++)
      if ((x[r * dim + j] as number) > 0)
        out[r * bytes + (j >> 3)] = (out[r * bytes + (j >> 3)] as number) | (1 << (j & 7));
  }
  return out;
}
