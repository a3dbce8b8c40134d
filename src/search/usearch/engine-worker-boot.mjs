// Entry of an engine worker thread. Loader hooks registered through tsx's API are not inherited by worker
// threads, so the worker registers them itself (harmless when the parent ran with --import tsx).
import { register } from 'tsx/esm/api';

register();
await import('./engine-worker.ts');
