// normsoftmax/search: the visual-search layer under the library's openIndex, buildIndex and serve, for
// programs that need more than those: the raw index contract (many queries per call), the backends, the
// filter syntax, the fastify app to mount in a server of one's own.
export { BACKENDS, backendOf } from './backends.js';
export { type BuildOptions, type BuildReport, buildIndex as buildIndexFromSource } from './build/build-index.js';
export { type IndexBuildRun, listIndexSource, runIndexBuild } from './build/run-index-build.js';
export { compileWhere, parseWhere } from './filter.js';
export { GRAPH_BOUNDS, type GraphSettings } from './graph-settings.js';
export { type Manifest, readManifest } from './manifest.js';
export { openIndex } from './open-index.js';
export { createQueryEmbedder } from './query-embedder.js';
export { createSearchServer, type SearchServerSetup } from './server/app.js';
export { DEFAULT_SERVER_OPTIONS, type ServerOptions } from './server/options.js';
export { type RunningService, type ServiceStart, startSearchService } from './server/start-service.js';
export { mergeShardHits, type ShardHits } from './shard-merge.js';
export type * from './types.js';
