// The library's public API: `import { openIndex, evaluate, ... } from 'normsoftmax'`. Everything here is
// documented in docs/library.md; deeper modules are `normsoftmax/tensor`, `normsoftmax/nn` and
// `normsoftmax/search`.

export type { IndexStats, ItemMeta, SearchHit, SearchMode } from '../search/types.js';
export { type BuildIndexOptions, type BuildIndexResult, buildIndex } from './build-index.js';
export { type Embedder, embedImages, type LoadEmbedderOptions, loadEmbedder } from './embedder.js';
export { type Embeddings, type EvalResult, type EvaluateOptions, evaluate } from './evaluate.js';
export {
  type OpenIndexOptions,
  openIndex,
  type SearchIndex,
  type SearchQuery,
  type SearchResults,
} from './search-index.js';
export { type SearchService, type ServeOptions, serve } from './serve.js';
export { type TrainConfig, type TrainOptions, type TrainResult, train } from './train.js';
