// Hand-made archives and pickles for the reader tests: a STORED zip writer (optionally zip64) and a
// tiny pickle assembler.

const enc = new TextEncoder();

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Little-endian fields; `sizes` gives each field's width in bytes, e.g. le('42', 0x04034b50, 20). */
function le(sizes: string, ...values: number[]): Uint8Array {
  const widths = [...sizes].map(Number);
  const out = new Uint8Array(widths.reduce((n, w) => n + w, 0));
  const view = new DataView(out.buffer);
  let at = 0;
  widths.forEach((w, i) => {
    const v = values[i] as number;
    if (w === 2) view.setUint16(at, v, true);
    else if (w === 4) view.setUint32(at, v, true);
    else view.setBigUint64(at, BigInt(v), true);
    at += w;
  });
  return out;
}

/** A zip of STORED entries; with zip64, sizes and offsets live only in zip64 records and extra fields. */
export function zipStored(entries: Record<string, Uint8Array | string>, zip64 = false): Uint8Array {
  const locals: Uint8Array[] = [];
  const centrals: Uint8Array[] = [];
  let offset = 0;
  const M = 0xffffffff;
  for (const [name, content] of Object.entries(entries)) {
    const data = typeof content === 'string' ? enc.encode(content) : content;
    const nameBytes = enc.encode(name);
    // signature, version, flags, method, time, date, crc, sizes, name and extra lengths
    const local = concat([
      le('42222244422', 0x04034b50, 20, 0, 0, 0, 0, 0, data.length, data.length, nameBytes.length, 0),
      nameBytes,
      data,
    ]);
    const extra = zip64 ? le('22888', 1, 24, data.length, data.length, offset) : new Uint8Array(0);
    const size = zip64 ? M : data.length;
    // signature, versions, flags, method, time, date, crc, sizes, lengths, disk, attributes, local offset
    const head = le(
      '422222244422222',
      0x02014b50,
      45,
      45,
      0,
      0,
      0,
      0,
      0,
      size,
      size,
      nameBytes.length,
      extra.length,
      0,
      0,
      0,
    );
    centrals.push(concat([head, le('44', 0, zip64 ? M : offset), nameBytes, extra]));
    locals.push(local);
    offset += local.length;
  }
  const directory = concat(centrals);
  const count = centrals.length;
  const tail: Uint8Array[] = [];
  if (zip64) {
    const recordAt = offset + directory.length;
    tail.push(le('48224488', 0x06064b50, 44, 45, 45, 0, 0, count, count), le('88', directory.length, offset));
    tail.push(le('4484', 0x07064b50, 0, recordAt, 1));
  }
  const small = (v: number, max: number) => (zip64 ? max : v);
  tail.push(
    le(
      '4222244',
      0x06054b50,
      0,
      0,
      small(count, 0xffff),
      small(count, 0xffff),
      small(directory.length, M),
      small(offset, M),
    ),
  );
  tail.push(le('2', 0));
  return concat([...locals, directory, ...tail]);
}

/** Pickle opcodes as bytes: strings are BINUNICODE, numbers BININT, arrays are spliced in. */
export function pickle(...parts: (string | number | number[] | Uint8Array)[]): Uint8Array {
  const out: Uint8Array[] = [];
  for (const p of parts) {
    if (typeof p === 'number') out.push(concat([Uint8Array.of(0x4a), le('4', p >>> 0)]));
    else if (typeof p === 'string') {
      const s = enc.encode(p);
      out.push(concat([Uint8Array.of(0x58), le('4', s.length), s]));
    } else out.push(Uint8Array.from(p));
  }
  return concat(out);
}

export const op = (text: string): number[] => Array.from(enc.encode(text));

/**
 * A torch.save-like archive whose data.pkl is a dict {name: tensor}, each tensor a
 * _rebuild_tensor_v2(storage(key, numel), offset, size, stride) over a FloatStorage.
 */
export function torchZip(
  tensors: Record<string, { key: string; numel: number; offset: number; size: number[]; stride: number[] }>,
  storages: Record<string, Uint8Array>,
): Uint8Array {
  const items: (string | number | number[])[] = [];
  for (const [name, t] of Object.entries(tensors)) {
    items.push(name, op('ctorch._utils\n_rebuild_tensor_v2\n('));
    items.push(op('('), 'storage', op('ctorch\nFloatStorage\n'), t.key, 'cpu', t.numel, op('tQ'));
    items.push(t.offset, op('('), ...t.size, op('t('), ...t.stride, op('t'), [0x89], op('}tR'));
  }
  const data = pickle([0x80, 0x02], op('}('), ...items, op('u.'));
  const files: Record<string, Uint8Array | string> = { 'archive/data.pkl': data };
  for (const [key, bytes] of Object.entries(storages)) files[`archive/data/${key}`] = bytes;
  files['archive/version'] = '3\n';
  return zipStored(files);
}
