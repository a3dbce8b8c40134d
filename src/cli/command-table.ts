// The commands of `normsoftmax`, each in its own module, loaded only when it runs (or its help is asked for):
// `--version`, `--help` and a quick `search` do not pay for libtorch, onnxruntime, LanceDB or fastify. The root
// help lists every command from this table, without loading any.
import { Command } from 'commander';
import { packageVersion } from '../util/version.js';

export interface CommandModule {
  register(program: Command): void;
}

/** Every command, in the order of the root help: its one-line description and its module. */
export const COMMANDS: Record<string, { description: string; load: () => Promise<CommandModule> }> = {
  info: {
    description: 'show the libtorch build, thread count and CUDA devices',
    load: () => import('./commands/info.js'),
  },
  selfcheck: {
    description: 'check that the engine trains a small model (autograd, SGD, memory)',
    load: () => import('./commands/selfcheck.js'),
  },
  data: { description: 'check and download datasets', load: () => import('./commands/data.js') },
  demo: {
    description: 'train NormSoftmax on Fashion-MNIST classes 0-4 and evaluate zero-shot retrieval on classes 5-9',
    load: () => import('./commands/demo.js'),
  },
  train: {
    description: 'train an embedder with NormSoftmax (or a baseline loss) and evaluate it zero-shot',
    load: () => import('./commands/train.js'),
  },
  embed: {
    description: 'embed images with a trained checkpoint (or bare backbone weights) into an N x D .npy',
    load: () => import('./commands/embed.js'),
  },
  eval: {
    description: 'Recall@K (float and binary), NMI and MAP@R of embeddings or of a checkpoint',
    load: () => import('./commands/eval.js'),
  },
  export: {
    description: 'export a trained embedder (or bare backbone weights) as an ONNX model for onnxruntime',
    load: () => import('./commands/export.js'),
  },
  index: { description: 'build and inspect visual-search indexes', load: () => import('./commands/index-cmd.js') },
  search: {
    description: 'find the nearest indexed items of query images, items or vectors',
    load: () => import('./commands/search.js'),
  },
  serve: {
    description: 'serve an index over HTTP: search API, thumbnails, metrics and a web page',
    load: () => import('./commands/serve.js'),
  },
  weights: {
    description: 'pretrained ImageNet weights by name, cached in $NORMSOFTMAX_HOME/weights',
    load: () => import('./commands/weights.js'),
  },
  experiment: {
    description: "run one of the paper's studies (a grid of trainings) and write OUT/results.{json,md,svg}",
    load: () => import('./commands/experiment.js'),
  },
};

/** The command named on the command line (the first argument that is not an option), if it is one of ours. */
export function commandOf(argv: readonly string[]): string | undefined {
  const first = argv.find((a) => !a.startsWith('-'));
  return first !== undefined && Object.hasOwn(COMMANDS, first) ? first : undefined;
}

/** The program with the named command loaded, or with every command as a help entry when none is named. */
export async function buildProgram(argv: readonly string[]): Promise<Command> {
  const program = new Command('normsoftmax')
    .description('Train, evaluate and serve NormSoftmax image embedders on libtorch')
    .version(packageVersion(), '-V, --version', 'print the version')
    // Commander's own errors (unknown option, missing argument) as one line, like every other error.
    .configureOutput({
      outputError: (message, write) =>
        write(`normsoftmax: ${message.trim().replace(/^error: /, '')} (add --help for usage)\n`),
    })
    .exitOverride();
  const name = commandOf(argv);
  if (name !== undefined) (await (COMMANDS[name] as (typeof COMMANDS)[string]).load()).register(program);
  else for (const [n, c] of Object.entries(COMMANDS)) program.command(n).description(c.description);
  return program;
}
