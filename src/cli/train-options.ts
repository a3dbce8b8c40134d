// The training flags of `train`, `experiment` and `demo`, generated from the schema
// (src/train/config-schema.ts): commander's options, and the parsing and checking of their values.
import { Option } from 'commander';
import {
  commandLineFlag,
  fieldOf,
  flagOf,
  helpOf,
  problemOf,
  TRAIN_KEYS,
  type TrainConfig,
  type TrainKey,
} from '../train/config-schema.js';
import { UsageError } from '../util/errors.js';
import { parseKList, parseNumber } from './parse-flags.js';

type Raw = Record<string, string | boolean | undefined>;

export interface OptionOverride {
  /** Another flag for the key (the demo's --max-batches; commander names its value after the flag). */
  flag?: string;
  help?: string;
}

/** The commander option of a training key (no commander default: unset flags leave the lower layers). */
export function trainOption(key: TrainKey, o: OptionOverride = {}): Option {
  const f = fieldOf(key);
  const flag = o.flag ?? commandLineFlag(key);
  const spec = f.type === 'boolean' ? flag : `${flag} <${f.arg ?? 'value'}>`;
  return new Option(spec, o.help ?? helpOf(key));
}

/** The commander options of the training keys, in the schema's order, leaving out `except`. */
export function trainOptions(except: readonly TrainKey[] = []): Option[] {
  return TRAIN_KEYS.filter((k) => !except.includes(k)).map((k) => trainOption(k));
}

/**
 * One flag's value (commander hands over strings, and booleans for switches) as the key's value, checked
 * against the schema; errors name `flag`. Numbers are first parsed ("expected a number"), then bounded.
 */
export function parseTrainFlag<K extends TrainKey>(
  key: K,
  value: string | boolean,
  flag = flagOf(key),
): TrainConfig[K] {
  const f = fieldOf(key);
  let parsed: unknown = value;
  if (f.type === 'number' || f.type === 'integer') parsed = parseNumber(flag, String(value));
  else if (f.type === 'integer-list') parsed = parseKList(String(value), flag);
  const problem = problemOf(key, parsed);
  if (problem !== null) throw new UsageError(`${flag}: expected ${problem}, got ${JSON.stringify(parsed)}`);
  return parsed as TrainConfig[K];
}

/**
 * The training flags given on the command line, as config keys. A switch counts only when it was given:
 * --nmi sets nmi, --no-layer-norm sets layerNorm to false (commander's true otherwise means "not given").
 */
export function flagsToConfig(raw: Raw): Partial<TrainConfig> {
  const out: Partial<Record<TrainKey, unknown>> = {};
  for (const key of TRAIN_KEYS) {
    const value = raw[key];
    if (value === undefined) continue;
    const f = fieldOf(key);
    if (f.type === 'boolean') {
      if (value === !f.default) out[key] = value;
      continue;
    }
    if (typeof value === 'boolean') continue;
    out[key] = parseTrainFlag(key, value);
  }
  return out as Partial<TrainConfig>;
}
