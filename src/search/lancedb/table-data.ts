// The Lance table of an index: one row per item with its metadata (id, path, label, size, hash), its unit
// float vector and its packed binary code (bit = x > 0, LSB first, as src/search/binary-codes.ts); a live
// index's table also has `meta` (the item's fields, Lance's JSON type, which `where` reads with
// json_extract) and `stored` (its image is in the index folder). Built column by column from the typed
// arrays (no per-value JavaScript objects: 100,000 x 512 floats stay one buffer).
import { createRequire } from 'node:module';
import type {
  Data,
  Field as FieldT,
  FixedSizeList as FixedSizeListT,
  Float32 as Float32T,
  Float64 as Float64T,
  Schema as SchemaT,
  Table as TableT,
  Uint8 as Uint8T,
  Utf8 as Utf8T,
} from 'apache-arrow';
import type { ItemMeta } from '../types.js';

// LanceDB is CommonJS and checks `instanceof Table` against the CommonJS build of apache-arrow; an ESM
// import would load the package's second (ESM) build, whose classes fail that check. Load the same one.
const arrow = createRequire(import.meta.url)('apache-arrow') as typeof import('apache-arrow');
const {
  Bool,
  Field,
  FixedSizeList,
  Float32,
  Float64,
  makeData,
  RecordBatch,
  Schema,
  Struct,
  Table,
  Uint8,
  Utf8,
  vectorFromArray,
} = arrow;

export const VECTOR_COLUMN = 'vector';
export const CODE_COLUMN = 'code';
export const META_COLUMN = 'meta';
export const STORED_COLUMN = 'stored';

/** The columns a live index adds: `meta` as Lance's JSON type (Arrow's arrow.json extension), `stored`. */
export function liveFields(): FieldT[] {
  return [
    new Field(META_COLUMN, new Utf8(), true, new Map([['ARROW:extension:name', 'arrow.json']])),
    new Field(STORED_COLUMN, new Bool(), true),
  ];
}

export function tableSchema(dim: number, live = false): SchemaT {
  const codeBytes = Math.ceil(dim / 8);
  return new Schema([
    new Field('id', new Utf8(), false),
    new Field('path', new Utf8(), true),
    new Field('label', new Utf8(), true),
    new Field('size', new Float64(), true),
    new Field('hash', new Utf8(), true),
    new Field(VECTOR_COLUMN, new FixedSizeList(dim, new Field('item', new Float32(), true)), false),
    new Field(CODE_COLUMN, new FixedSizeList(codeBytes, new Field('item', new Uint8(), true)), false),
    ...(live ? liveFields() : []),
  ]);
}

function strings(values: (string | null)[]): Data<Utf8T> {
  return vectorFromArray(values, new Utf8()).data[0] as Data<Utf8T>;
}

/**
 * An Arrow table of items (vectors: n x dim row-major; codes: n x ceil(dim / 8)); `live`: with the meta and
 * stored columns (for a table that has them).
 */
export function itemsTable(
  items: readonly ItemMeta[],
  dim: number,
  vectors: Float32Array,
  codes: Uint8Array,
  live = false,
): TableT {
  const n = items.length;
  const codeBytes = Math.ceil(dim / 8);
  if (vectors.length !== n * dim) throw new Error(`itemsTable: ${vectors.length} values for ${n} items of dim ${dim}`);
  if (codes.length !== n * codeBytes) throw new Error(`itemsTable: ${codes.length} code bytes for ${n} items`);
  const schema = tableSchema(dim, live);
  const [, , , , , vf, cf] = schema.fields as FieldT[];
  const vectorData = makeData({
    type: (vf as FieldT<FixedSizeListT<Float32T>>).type,
    length: n,
    nullCount: 0,
    child: makeData({ type: new Float32(), length: n * dim, data: vectors }),
  });
  const codeData = makeData({
    type: (cf as FieldT<FixedSizeListT<Uint8T>>).type,
    length: n,
    nullCount: 0,
    child: makeData({ type: new Uint8(), length: n * codeBytes, data: codes }),
  });
  const sizes = vectorFromArray(
    items.map((it) => it.size),
    new Float64(),
  ).data[0] as Data<Float64T>;
  const struct = makeData({
    type: new Struct(schema.fields),
    length: n,
    nullCount: 0,
    children: [
      strings(items.map((it) => it.id)),
      strings(items.map((it) => it.path)),
      strings(items.map((it) => it.label)),
      sizes,
      strings(items.map((it) => it.hash)),
      vectorData,
      codeData,
      ...(live
        ? [
            strings(items.map((it) => (it.meta === undefined ? null : JSON.stringify(it.meta)))),
            // false, not null, where an item's image is not stored: Arrow's JS builder leaves an all-null
            // boolean column without its values buffer, which Lance then refuses.
            vectorFromArray(
              items.map((it) => it.stored === true),
              new Bool(),
            ).data[0] as Data,
          ]
        : []),
    ],
  });
  return new Table([new RecordBatch(schema, struct)]);
}
