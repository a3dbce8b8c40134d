// Regenerates src/tensor/native-names.ts from the built addon's exports. Run after adding a native function.
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const names = Object.keys(require('../native/build/normsoftmax.node')).sort();
const body = names.map((n) => `  '${n}',`).join('\n');
writeFileSync(
  new URL('../src/tensor/native-names.ts', import.meta.url),
  `// Names of the functions the addon exports (regenerate with scripts/gen-native-names.mjs).\nexport const NATIVE_NAMES = [\n${body}\n] as const;\n\nexport type NativeName = (typeof NATIVE_NAMES)[number];\n`,
);
console.log(`${names.length} native functions`);
